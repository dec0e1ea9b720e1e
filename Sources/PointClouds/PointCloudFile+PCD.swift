import Formats
import Foundation
import PCLBridge
import SemanticKITTI

extension PointCloudFile {
    /// Writes a scan as a PCD file with PCL's writer, atomically: fields `x y z`, the remission
    /// field, and with labels `label` (uint32) and, with colours too, `rgb`. ASCII files carry
    /// nine significant digits, so every encoding reads back exactly.
    public static func write(pcd url: URL, scan: Scan, labels: ScanLabels? = nil, colors: [Int: LabelColor]? = nil,
                             encoding: PointCloudEncoding = .binary, remissionField: String = "remission") throws(FormatError) {
        let rgb = try prepare(url, scan: scan, labels: labels, colors: colors, remissionField: remissionField)
        guard scan.count > 0 else { throw FormatError(file: url, reason: "cannot write an empty scan (0 points)") }
        let pcdEncoding: RSPCDEncoding = switch encoding {
        case .ascii: RS_PCD_ASCII
        case .binary: RS_PCD_BINARY
        case .binaryCompressed: RS_PCD_BINARY_COMPRESSED
        }
        try writeByPath(url) { temporary throws(FormatError) in
            let (status, message) = scan.values.withUnsafeBufferPointer { xyzr in
                withOptionalBuffer(labels?.raw) { labelPointer in
                    withOptionalBuffer(rgb) { rgbPointer in
                        withBridgeError {
                            rs_pcd_write(temporary.path, pcdEncoding, xyzr.baseAddress!, scan.count, remissionField,
                                         labelPointer, rgbPointer, $0, $1)
                        }
                    }
                }
            }
            if status != 0 { throw FormatError(file: url, reason: message) }
        }
    }
}

/// Calls `body` with a pointer to the array's elements, or nil without an array.
func withOptionalBuffer<T, R>(_ array: [T]?, _ body: (UnsafePointer<T>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}

import Formats
import Foundation
import SemanticKITTI

extension PointCloudFile {
    /// Writes a scan as a PLY file (one `vertex` element), atomically: properties `x y z` and
    /// the remission field (float), and with labels `label` (uint) and, with colours too,
    /// `red green blue` (uchar). ASCII values are written in the shortest form that reads back
    /// as the same float, so both encodings are lossless.
    public static func write(ply url: URL, scan: Scan, labels: ScanLabels? = nil, colors: [Int: LabelColor]? = nil,
                             encoding: PointCloudEncoding = .binary, remissionField: String = "remission") throws(FormatError) {
        let rgb = try prepare(url, scan: scan, labels: labels, colors: colors, remissionField: remissionField)
        if encoding == .binaryCompressed {
            throw FormatError(file: url, reason: "PLY has no compressed encoding: use ascii or binary")
        }
        var header = "ply\nformat \(encoding == .ascii ? "ascii" : "binary_little_endian") 1.0\n"
        header += "comment written by RangeSeg\nelement vertex \(scan.count)\n"
        header += "property float x\nproperty float y\nproperty float z\nproperty float \(remissionField)\n"
        if labels != nil { header += "property uint label\n" }
        if rgb != nil { header += "property uchar red\nproperty uchar green\nproperty uchar blue\n" }
        header += "end_header\n"
        let body = encoding == .ascii ? asciiBody(scan, labels, rgb) : binaryBody(scan, labels, rgb)
        try AtomicFile.write(to: url) { handle in
            try handle.write(contentsOf: Data(header.utf8))
            try handle.write(contentsOf: body)
        }
    }

    private static func binaryBody(_ scan: Scan, _ labels: ScanLabels?, _ rgb: [UInt32]?) -> Data {
        let stride = 16 + (labels == nil ? 0 : 4) + (rgb == nil ? 0 : 3)
        var data = Data(count: stride * scan.count)
        data.withUnsafeMutableBytes { out in
            scan.values.withUnsafeBytes { values in
                for i in 0 ..< scan.count {
                    let base = i * stride
                    out.baseAddress!.advanced(by: base).copyMemory(from: values.baseAddress! + 16 * i, byteCount: 16)
                    var offset = base + 16
                    if let labels {
                        out.storeBytes(of: labels.raw[i].littleEndian, toByteOffset: offset, as: UInt32.self)
                        offset += 4
                    }
                    if let rgb {
                        out[offset] = UInt8(truncatingIfNeeded: rgb[i] >> 16)
                        out[offset + 1] = UInt8(truncatingIfNeeded: rgb[i] >> 8)
                        out[offset + 2] = UInt8(truncatingIfNeeded: rgb[i])
                    }
                }
            }
        }
        return data
    }

    private static func asciiBody(_ scan: Scan, _ labels: ScanLabels?, _ rgb: [UInt32]?) -> Data {
        var text = ""
        text.reserveCapacity(scan.count * 64)
        let v = scan.values
        for i in 0 ..< scan.count {
            text += "\(v[4 * i]) \(v[4 * i + 1]) \(v[4 * i + 2]) \(v[4 * i + 3])"
            if let labels { text += " \(labels.raw[i])" }
            if let rgb { text += " \((rgb[i] >> 16) & 0xFF) \((rgb[i] >> 8) & 0xFF) \(rgb[i] & 0xFF)" }
            text += "\n"
        }
        return Data(text.utf8)
    }
}

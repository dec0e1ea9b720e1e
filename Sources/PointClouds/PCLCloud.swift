import Formats
import Foundation
import PCLBridge

/// A PCD or PLY file as PCL read it, with all of its fields: owns the bridge's handle and frees
/// it. Errors name the file.
final class PCLCloud {
    private let handle: OpaquePointer
    let file: URL

    init(pcd url: URL) throws(FormatError) {
        let (handle, message) = withBridgeError { rs_cloud_read_pcd(url.path, $0, $1) }
        guard let handle else { throw FormatError(file: url, reason: message) }
        self.handle = handle
        file = url
    }

    init(ply url: URL) throws(FormatError) {
        let (handle, message) = withBridgeError { rs_cloud_read_ply(url.path, $0, $1) }
        guard let handle else { throw FormatError(file: url, reason: message) }
        self.handle = handle
        file = url
    }

    deinit { rs_cloud_free(handle) }

    var count: Int { rs_cloud_point_count(handle) }
    var width: Int { Int(rs_cloud_width(handle)) }
    var height: Int { Int(rs_cloud_height(handle)) }

    var fieldNames: [String] {
        (0 ..< rs_cloud_field_count(handle)).map { String(cString: rs_cloud_field_name(handle, $0)) }
    }

    /// The index of the field called `name`, if the file has one.
    func field(_ name: String) -> Int32? {
        let index = rs_cloud_find_field(handle, name)
        return index >= 0 ? index : nil
    }

    /// Copies a numeric field, as floats, to `values[i * stride + offset]`.
    func copyFloats(field: Int32, into values: inout [Float], stride: Int, offset: Int) throws(FormatError) {
        precondition(values.count >= count * stride)
        let (status, message) = values.withUnsafeMutableBufferPointer { out in
            withBridgeError { rs_cloud_copy_float(handle, field, out.baseAddress! + offset, stride, $0, $1) }
        }
        if status != 0 { throw FormatError(file: file, reason: message) }
    }

    /// A label field's values as unsigned 32-bit integers.
    func uint32s(field: Int32) throws(FormatError) -> [UInt32] {
        try copyUInt32s(field: field, with: rs_cloud_copy_uint32)
    }

    /// A packed colour field (`rgb`/`rgba`) as 0xAARRGGBB.
    func packedColors(field: Int32) throws(FormatError) -> [UInt32] {
        try copyUInt32s(field: field, with: rs_cloud_copy_rgb)
    }

    /// A field's values as `copy` (the bridge's `rs_cloud_copy_uint32` or `rs_cloud_copy_rgb`)
    /// writes them, one per point.
    private func copyUInt32s(
        field: Int32,
        with copy: (OpaquePointer, Int32, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<CChar>, Int) -> Int32
    ) throws(FormatError) -> [UInt32] {
        var out = [UInt32](repeating: 0, count: count)
        let (status, message) = out.withUnsafeMutableBufferPointer { out in
            withBridgeError { copy(handle, field, out.baseAddress!, $0, $1) }
        }
        if status != 0 { throw FormatError(file: file, reason: message) }
        return out
    }
}

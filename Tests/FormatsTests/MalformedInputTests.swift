import Foundation
import Testing
@testable import Formats

/// Inputs that used to stop the process (integer overflow traps) now give errors naming the file.
@Suite struct MalformedInputTests {
    /// A `.npy` file of `header` (version 1.0) and `body`.
    private func npy(_ header: String, body: Data = Data()) -> Data {
        let text = Array((header + "\n").utf8)
        return Data(NumPyArray.magic + [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text) + body
    }

    /// A safetensors file of a JSON header and `body`.
    private func safetensors(_ header: String, body: Data = Data()) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        return data + Data(header.utf8) + body
    }

    @Test func aMissingFileIsNamedAsMissing() {
        // Every reader says it the same way, whatever Foundation's wording.
        let url = URL(fileURLWithPath: "/nonexistent/arrays")
        let errors: [FormatError?] = [
            #expect(throws: FormatError.self) { _ = try NumPyArray(npy: url.appendingPathExtension("npy")) },
            #expect(throws: FormatError.self) { _ = try NumPyArchive(npz: url.appendingPathExtension("npz")) },
            #expect(throws: FormatError.self) { _ = try SafeTensors.read(from: url.appendingPathExtension("safetensors")) },
        ]
        for (error, suffix) in zip(errors, ["npy", "npz", "safetensors"]) {
            #expect(error?.description == "/nonexistent/arrays.\(suffix): no such file", "\(String(describing: error))")
        }
    }

    @Test func npyShapeWhoseSizeOverflowsIsAnError() throws {
        let data = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }")
        let error = #expect(throws: FormatError.self) { try NumPyArray(npyData: data) }
        #expect(error?.file == "<npy>")
        #expect(error?.reason == "shape [4294967296, 4294967296] of <f4 has more bytes than any file holds")
        let bytes = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }")
        #expect(throws: FormatError.self) { try NumPyArray(npyData: bytes) }
        // Zero elements stay zero however large the other dimensions.
        let empty = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296), }")
        #expect(try NumPyArray(npyData: empty).elementCount == 0)
    }

    /// A header past 65,535 bytes does not fit version 1.0's length field: written as 2.0, as NumPy does.
    @Test func npyHeadersPastVersionOneAreWrittenAsVersionTwo() throws {
        let array = NumPyArray([7] as [Float], shape: [Int](repeating: 1, count: 30_000))
        let data = array.npyData()
        #expect(data[6] == 2)
        let length = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        #expect(length > 65_535 && (12 + length) % 64 == 0)
        #expect(try NumPyArray(npyData: data) == array)
        #expect(NumPyArray([7] as [Float], shape: [1]).npyData()[6] == 1)
    }

    @Test func safetensorsNegativeDimensionsAreAnError() {
        let data = safetensors(#"{"a":{"dtype":"F32","shape":[-2,-3],"data_offsets":[0,24]}}"#, body: Data(count: 24))
        let error = #expect(throws: FormatError.self) { try SafeTensors(data: data, file: "negative.safetensors") }
        #expect(error?.file == "negative.safetensors")
        #expect(error?.reason == "tensor a: shape [-2, -3] has a negative dimension")
    }

    @Test func safetensorsShapeWhoseSizeOverflowsIsAnError() {
        let data = safetensors(#"{"a":{"dtype":"I64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#)
        let error = #expect(throws: FormatError.self) { try SafeTensors(data: data, file: "huge.safetensors") }
        #expect(error?.file == "huge.safetensors")
        #expect(error?.reason == "tensor a: shape [4294967296, 4294967296] has more elements than any file holds")
    }

    @Test func safetensorsOffsetsNearIntMaxAreAnError() {
        let data = safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775800,9223372036854775804]}}"#)
        let error = #expect(throws: FormatError.self) { try SafeTensors(data: data, file: "far.safetensors") }
        #expect(error?.file == "far.safetensors")
        #expect(error?.reason.contains("do not fit shape [1] or the file") == true, "\(String(describing: error))")
    }

    /// A member whose central-directory size says 4 GB from a few deflated bytes: refused before
    /// 4 GB are set aside (deflate makes at most 1032 bytes of one).
    @Test func npzMemberAnnouncingMoreThanDeflateCanMakeIsAnError() throws {
        var archive = NumPyArchive()
        archive["a"] = NumPyArray([1, 2, 3] as [Float], shape: [3])
        var data = try archive.npzData()
        let signature: [UInt8] = [0x50, 0x4B, 1, 2]
        let bytes = [UInt8](data)
        let found: Int? = (0 ..< bytes.count - 4).first { (i: Int) -> Bool in Array(bytes[i ..< i + 4]) == signature }
        let central = try #require(found)
        let compressed = Int(data[central + 20]) | Int(data[central + 21]) << 8
        withUnsafeBytes(of: UInt32(4_000_000_000).littleEndian) { data.replaceSubrange(central + 24 ..< central + 28, with: $0) }
        let error = #expect(throws: FormatError.self) { try NumPyArchive(npzData: data) }
        #expect(error?.file == "<npz>")
        #expect(error?.reason == "entry a.npy: corrupt: \(compressed) bytes of deflate data cannot inflate to the 4000000000 bytes announced",
                "\(String(describing: error))")
    }
}

import Foundation
import Testing
import TestSupport
@testable import Formats

@Suite struct NumPyTests {
    @Test func npyHeaderIsAlignedAndParsesBack() throws {
        let array = NumPyArray([1.5, -2, 3.25, 0, 7, 8] as [Float], shape: [2, 3])
        let data = array.npyData()
        #expect(Array(data.prefix(6)) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: data[10 ..< 10 + headerLength], as: UTF8.self)
        #expect(header.contains("'descr': '<f4'"))
        #expect(header.contains("'shape': (2, 3)"))
        #expect(header.hasSuffix("\n"))
        let back = try NumPyArray(npyData: data)
        #expect(back == array)
        #expect(back.floats() == [1.5, -2, 3.25, 0, 7, 8])
    }

    @Test func oneDimensionalShapeHasTrailingComma() {
        let data = NumPyArray([1, 2, 3] as [Int32], shape: [3]).npyData()
        #expect(String(decoding: data, as: UTF8.self).contains("'shape': (3,)"))
    }

    @Test func everyElementTypeRoundTrips() throws {
        let arrays: [NumPyArray] = [
            NumPyArray([1, 2] as [Float], shape: [2]), NumPyArray([1, 2] as [Double], shape: [2, 1]),
            NumPyArray([-1, 2] as [Int32], shape: [2]), NumPyArray([1, 4_000_000_000] as [UInt32], shape: [2]),
            NumPyArray([-5, 9] as [Int64], shape: [1, 2]), NumPyArray([0, 255] as [UInt8], shape: [2]),
            NumPyArray([true, false, true], shape: [3]),
        ]
        for array in arrays {
            #expect(try NumPyArray(npyData: array.npyData()) == array)
        }
        #expect(arrays[3].integers() == [1, 4_000_000_000])
        #expect(arrays[6].integers() == [1, 0, 1])
    }

    @Test func rejectsBadFilesWithReasons() throws {
        #expect(throws: FormatError.self) { try NumPyArray(npyData: Data("not numpy".utf8)) }
        var truncated = NumPyArray([1, 2, 3, 4] as [Float], shape: [4]).npyData()
        truncated.removeLast(3)
        do {
            _ = try NumPyArray(npyData: truncated)
            Issue.record("a truncated .npy was accepted")
        } catch {
            #expect(error.reason.contains("needs 16"))
        }
        let fortran = String(decoding: NumPyArray([1] as [Float], shape: [1]).npyData(), as: UTF8.self)
            .replacingOccurrences(of: "False", with: "True ")
        #expect(throws: FormatError.self) { try NumPyArray(npyData: Data(fortran.utf8)) }
    }

    @Test func npzRoundTripsAndIsDeterministic() throws {
        var archive = NumPyArchive()
        archive["range"] = NumPyArray((0 ..< 1000).map { Float($0) * 0.5 }, shape: [10, 100])
        archive["idx"] = NumPyArray((0 ..< 50).map { Int32($0) - 1 }, shape: [50])
        let data = try archive.npzData()
        #expect(try data == archive.npzData())
        #expect(data.count < 1000 * 4) // deflate did something
        let back = try NumPyArchive(npzData: data)
        #expect(back.names == ["range", "idx"])
        #expect(back == archive)
    }

    @Test func npzDetectsCorruption() throws {
        var archive = NumPyArchive()
        archive["a"] = NumPyArray([Float](repeating: 1, count: 64), shape: [64])
        var data = try archive.npzData()
        data[40] ^= 0xFF // inside the deflated payload
        #expect(throws: FormatError.self) { try NumPyArchive(npzData: data) }
        #expect(throws: FormatError.self) { try NumPyArchive(npzData: Data(repeating: 0, count: 100)) }
    }

    /// NumPy itself reads what RangeSeg writes (when python3 with numpy is installed).
    @Test(.enabled(if: Python.shouldRun, Comment(rawValue: Python.skipReason)))
    func numpyLoadsTheArchive() throws {
        try Python.require()
        let dir = SampleData.temporaryDirectory()
        var archive = NumPyArchive()
        archive["proj_range"] = NumPyArray([1, -1, 2.5, 4] as [Float], shape: [2, 2])
        archive["proj_mask"] = NumPyArray([true, false, true, true], shape: [2, 2])
        let url = dir.appendingPathComponent("a.npz")
        try archive.write(npz: url)
        let output = try Python.run("""
        import numpy as np
        d = np.load('\(url.path)')
        print(d['proj_range'].dtype, d['proj_range'].shape, d['proj_range'].sum(), d['proj_mask'].dtype, int(d['proj_mask'].sum()))
        """)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "float32 (2, 2) 6.5 bool 3")
    }
}


import Foundation
import Testing
@testable import Formats

/// `.npz` archives are ZIP files without ZIP64: past 65,535 arrays or 4 GiB, writing is an error
/// that names the limit instead of a trap in an integer conversion.
@Suite struct NPZLimitTests {
    /// One more array than the 16-bit member count holds.
    @Test func moreArraysThanAZIPHoldsAreAnError() throws {
        var archive = NumPyArchive()
        let tiny = NumPyArray([1] as [UInt8], shape: [1])
        for i in 0 ..< 65_536 { archive["a\(i)"] = tiny }
        let error = #expect(throws: FormatError.self) { try archive.npzData() }
        #expect(error?.file == "<npz>")
        #expect(error?.reason.contains("65536 arrays are more than a .npz archive holds: at most 65535") == true, "\(String(describing: error))")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("npz-limit-\(UUID().uuidString).npz")
        let written = #expect(throws: FormatError.self) { try archive.write(npz: url) }
        #expect(written?.file == url.path && written?.reason == error?.reason)
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    /// The 4 GiB checks, against limits small enough to test: an array, its compressed form or
    /// the archive past `bytes` is an error naming the array and the limit; at the limits the
    /// archive is written.
    @Test func sizesPastTheLimitAreErrorsNamingThem() throws {
        var archive = NumPyArchive()
        archive["small"] = NumPyArray([1, 2] as [Float], shape: [2])     // 136 bytes as .npy
        archive["large"] = NumPyArray([Float](repeating: 3, count: 100), shape: [100])  // 528 bytes
        let npy = try #require(archive["large"]).npyData().count
        let tooSmall = ZIPLimits(members: 2, nameBytes: 100, bytes: npy - 1)
        let error = #expect(throws: FormatError.self) { try archive.npzData(level: 6, limits: tooSmall) }
        #expect(error?.reason.hasPrefix("array 'large' (\(npy) bytes as .npy) is past the \(npy - 1)-byte limit") == true, "\(String(describing: error))")
        #expect(error?.reason.contains("4 GiB") == true)

        let archiveTooLarge = ZIPLimits(members: 2, nameBytes: 100, bytes: npy + 50)
        let total = #expect(throws: FormatError.self) { try archive.npzData(level: 0, limits: archiveTooLarge) }
        #expect(total?.reason.contains("past the \(npy + 50)-byte limit") == true, "\(String(describing: total))")

        let tooMany = ZIPLimits(members: 1, nameBytes: 100, bytes: 1 << 20)
        #expect(throws: FormatError.self) { try archive.npzData(level: 6, limits: tooMany) }
        let shortNames = ZIPLimits(members: 2, nameBytes: 8, bytes: 1 << 20)
        let name = #expect(throws: FormatError.self) { try archive.npzData(level: 6, limits: shortNames) }
        #expect(name?.reason.contains("is 9 bytes as a .npz member; at most 8") == true, "\(String(describing: name))")

        let exact = ZIPLimits(members: 2, nameBytes: 10, bytes: 1 << 20)
        #expect(try archive.npzData(level: 6, limits: exact) == archive.npzData())
        #expect(try NumPyArchive(npzData: archive.npzData()) == archive)
    }
}

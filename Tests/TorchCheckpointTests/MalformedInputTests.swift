import Foundation
import Formats
import TestSupport
import Testing
@testable import TorchCheckpoint

/// Files that are not checkpoints, or broken ones: errors that name the file and the problem.
@Suite struct MalformedInputTests {
    private func error(reading data: Data, file: String = "bad.pt") -> FormatError? {
        #expect(throws: FormatError.self) { try TorchCheckpoint(data: data, file: file) }
    }

    @Test func aCutLegacyFileNamesTheTruncatedStorage() throws {
        let data = try Data(contentsOf: FixtureTests.url("mixed-legacy.pt"))
        let error = error(reading: data.prefix(data.count - 1), file: "cut.pt")
        #expect(error?.file == "cut.pt")
        #expect(error?.reason.contains("is truncated: it needs") == true, "\(String(describing: error))")
    }

    @Test func aStorageShorterThanItsTensorIsAnError() throws {
        let url = FixtureTests.url("short-storage-zip.pt")
        let checkpoint = try TorchCheckpoint(contentsOf: url)
        let error = #expect(throws: FormatError.self) { try checkpoint.stateDict() }
        #expect(error?.file == url.path)
        #expect(error?.reason == "tensor 'w' of size [6] (stride [1], offset 0) needs 6 elements, its storage '0' holds 4: a truncated storage")
        let tensor = try #require(checkpoint.root["w"]?.tensor)
        #expect(throws: FormatError.self) { try tensor.floats() }
    }

    @Test func unknownAndUnsupportedOpcodesAreNamedWithTheirOffset() {
        let unknown = #expect(throws: FormatError.self) { try PickleValue(pickle: Data([0x80, 0x02, 0x4E, 0xFF, 0x2E]), file: "op.pkl") }
        #expect(unknown?.description == "op.pkl: unknown pickle opcode 0xff, at byte 3 of the pickle")
        let ext = #expect(throws: FormatError.self) { try PickleValue(pickle: Data([0x80, 0x02, 0x82, 0x01, 0x2E]), file: "op.pkl") }
        #expect(ext?.description == "op.pkl: unsupported pickle opcode 0x82 (EXT1), at byte 2 of the pickle")
    }

    @Test func aListAtTheTopLevelIsNotAStateDict() throws {
        let url = FixtureTests.url("list-zip.pt")
        let checkpoint = try TorchCheckpoint(contentsOf: url)
        #expect(checkpoint.format == .zip)
        let error = #expect(throws: FormatError.self) { try checkpoint.stateDict() }
        #expect(error?.description == "\(url.path): is not a state dict: the top level is a list")
    }

    @Test func pathsThatLeadNowhereAreNamed() throws {
        let checkpoint = try FixtureTests.load("mixed-zip.pt")
        let missing = #expect(throws: FormatError.self) { try checkpoint.stateDict(at: ["nested", "outer"]) }
        #expect(missing?.reason == "is not a state dict: ['nested'] has no key 'outer'")
        let scalar = #expect(throws: FormatError.self) { try checkpoint.stateDict(at: ["epoch"]) }
        #expect(scalar?.reason == "is not a state dict: ['epoch'] is an int")
        let float = try #require(checkpoint.root["model"]?["f32"]?.tensor)
        #expect(throws: FormatError.self) { try float.int64s() }
    }

    @Test func anEmptyFileIsNamed() throws {
        let directory = SampleData.temporaryDirectory("rangeseg-torch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("empty.pt")
        try Data().write(to: url)
        let error = #expect(throws: FormatError.self) { try TorchCheckpoint(contentsOf: url) }
        #expect(error?.description == "\(url.path): an empty file, not a PyTorch checkpoint")
        let missing = #expect(throws: FormatError.self) { try TorchCheckpoint(contentsOf: directory.appendingPathComponent("none.pt")) }
        #expect(missing?.reason == "no such file")
    }

    @Test func aZIPWithoutDataPklIsNotACheckpoint() throws {
        let url = FixtureTests.url("no-data-pkl.zip")
        let error = #expect(throws: FormatError.self) { try TorchCheckpoint(contentsOf: url) }
        #expect(error?.description == "\(url.path): a ZIP archive without <folder>/data.pkl: not a PyTorch checkpoint")
    }

    @Test func otherFilesSayWhatTheyAre() throws {
        let list = error(reading: try Data(contentsOf: FixtureTests.url("plain-list.pkl")), file: "list.pkl")
        #expect(list?.reason == "not a PyTorch checkpoint: a pickle of a list, where a legacy torch file has torch's magic number")
        let safetensors = SafeTensors(tensors: ["a": .init(floats: [1, 2], shape: [2])]).encoded()
        #expect(error(reading: safetensors)?.reason == "a safetensors file (a JSON header), not a PyTorch checkpoint")
        let random = error(reading: Data((0 ..< 64).map { UInt8(($0 * 37 + 11) & 0x7F) }))
        #expect(random?.reason.hasPrefix("not a PyTorch checkpoint: neither a ZIP archive") == true, "\(String(describing: random))")
        let zipOfNothing = error(reading: Data([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 40)))
        #expect(zipOfNothing?.reason == "not a ZIP archive (no end-of-central-directory record)")
    }
}

import Foundation
import Formats
import TestSupport
import Testing
@testable import TorchCheckpoint

/// Hostile pickles are refused with an error naming the global, and nothing they ask for runs:
/// each would create a marker file if it were unpickled by Python.
@Suite struct SafetyTests {
    static let marker = "/tmp/rangeseg-pickle-marker-"

    /// Reads `file` as a checkpoint (".pt") or a plain pickle and returns the error, checking
    /// that the marker the file would create exists neither before nor after.
    private func refusal(_ file: String, marker name: String) throws -> FormatError? {
        let marker = Self.marker + name
        #expect(!FileManager.default.fileExists(atPath: marker), "\(marker) exists before the test")
        let url = FixtureTests.url(file)
        let error: FormatError? = if file.hasSuffix(".pt") {
            #expect(throws: FormatError.self) { try TorchCheckpoint(contentsOf: url) }
        } else {
            #expect(throws: FormatError.self) { try PickleValue(pickle: try Data(contentsOf: url), file: url.path) }
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "\(marker) was created")
        #expect(error?.file == url.path)
        return error
    }

    @Test(arguments: [
        ("hostile-os-system.pkl", "os-system", "os.system"),
        ("hostile-posix-system.pkl", "posix-system", "posix.system"),
        ("hostile-eval.pkl", "eval", "builtins.eval"),
        ("hostile-exec.pkl", "exec", "builtins.exec"),
        ("hostile-popen.pkl", "popen", "subprocess.Popen"),
        ("hostile-getattr-os.pkl", "getattr-os", "os.path"),
        ("hostile-zip.pt", "zip", "posix.system"),
        ("hostile-legacy.pt", "legacy", "posix.system"),
    ])
    func hostileGlobalIsRefusedByName(_ file: String, _ marker: String, _ global: String) throws {
        let error = try refusal(file, marker: marker)
        #expect(error?.reason.contains("refuses global '\(global)': loading it with pickle would run code") == true, "\(String(describing: error))")
    }

    @Test func callingWhatGetattrReturnsIsRefused() throws {
        let error = try refusal("hostile-call-getattr-result.pkl", marker: "none")
        #expect(error?.reason.hasPrefix("refuses to call the result of builtins.getattr (REDUCE)") == true, "\(String(describing: error))")
    }

    /// The classic payload, aimed at a marker in a directory of this test's own, in a plain
    /// pickle and in a legacy checkpoint's first pickle.
    @Test func osSystemPayloadRunsNothing() throws {
        let directory = SampleData.temporaryDirectory("rangeseg-pickle")
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("marker").path
        let protocol0 = Data("cos\nsystem\n(S'touch \(marker)'\ntR.".utf8)
        let command = Array("touch \(marker)".utf8)
        let protocol2 = Data([0x80, 0x02] + Array("cposix\nsystem\n".utf8) + [0x58] + le32(command.count) + command + [0x85, 0x52, 0x2E])
        let plain = #expect(throws: FormatError.self) { try PickleValue(pickle: protocol0, file: "payload.pkl") }
        #expect(plain?.reason == "refuses global 'os.system': loading it with pickle would run code (module 'os' runs code or reaches the system; "
            + "this reader never imports or calls a global), at byte 0 of the pickle")
        let legacy = #expect(throws: FormatError.self) { try TorchCheckpoint(data: protocol2, file: "payload.pt") }
        #expect(legacy?.file == "payload.pt")
        #expect(legacy?.reason.contains("refuses global 'posix.system'") == true, "\(String(describing: legacy))")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test(arguments: ["eval", "exec", "__import__", "open", "compile", "setattr", "globals"])
    func builtinsThatRunCodeAreRefused(_ name: String) {
        for module in ["builtins", "__builtin__"] {
            let pickle = Data([0x80, 0x02] + Array("c\(module)\n\(name)\n.".utf8))
            let error = #expect(throws: FormatError.self) { try PickleValue(pickle: pickle, file: "b.pkl") }
            #expect(error?.reason.hasPrefix("refuses global 'builtins.\(name)'") == true, "\(String(describing: error))")
        }
    }

    /// Protocol 4 names attributes with dots, which Python follows: through a refused module
    /// (torch.serialization imports os) or into builtins, they are refused.
    @Test(arguments: [("torch", "serialization.os.system", "module 'os'"), ("builtins", "object.__subclasses__", "builtins is read only")])
    func dottedNamesThroughRefusedModulesAreRefused(_ module: String, _ name: String, _ why: String) {
        let short = { (text: String) in [0x8C, UInt8(text.utf8.count)] + Array(text.utf8) }
        let pickle = Data([0x80, 0x04] + short(module) + short(name) + [0x93, 0x2E])
        let error = #expect(throws: FormatError.self) { try PickleValue(pickle: pickle, file: "dotted.pkl") }
        #expect(error?.reason.hasPrefix("refuses global '\(module).\(name)': loading it with pickle would run code (\(why)") == true,
                "\(String(describing: error))")
    }

    @Test func getattrAndContainersOfBuiltinsAreInertNames() throws {
        let pickle = Data([0x80, 0x02] + Array("c__builtin__\ngetattr\nccollections\nOrderedDict\n".utf8)
            + [0x58] + le32(4) + Array("keys".utf8) + [0x86, 0x52, 0x2E])
        let value = try PickleValue(pickle: pickle, file: "g.pkl")
        #expect(value.object?.global == "builtins.getattr" && value.object?.arguments.last?.string == "keys")
    }

    @Test func valuesNestAtMostAThousandDeep() {
        let deep = Data([0x80, 0x02] + [UInt8](repeating: 0x5D, count: 1001) + [UInt8](repeating: 0x61, count: 1000) + [0x2E])
        let error = #expect(throws: FormatError.self) { try PickleValue(pickle: deep, file: "deep.pkl") }
        #expect(error?.reason.hasPrefix("values nest deeper than 1000 levels") == true, "\(String(describing: error))")
        let fine = Data([0x80, 0x02] + [UInt8](repeating: 0x5D, count: 999) + [UInt8](repeating: 0x61, count: 998) + [0x2E])
        #expect(throws: Never.self) { try PickleValue(pickle: fine, file: "deep.pkl") }
    }

    /// A list of 1,000 items duplicated 5,000 times would hold five million values.
    @Test func duplicatingValuesStopsAtTheLimit() {
        var bytes: [UInt8] = [0x80, 0x02, 0x5D, 0x28]
        bytes += [UInt8](repeating: 0x4E, count: 1000) + [0x65]
        bytes += [UInt8](repeating: 0x32, count: 5000) + [0x2E]
        let error = #expect(throws: FormatError.self) { try PickleValue(pickle: Data(bytes), file: "dup.pkl") }
        #expect(error?.reason.hasPrefix("more than 4194304 values at once") == true, "\(String(describing: error))")
    }

    @Test func lengthsPastTheEndAreErrorsBeforeAllocation() {
        let huge = Data([0x80, 0x04, 0x8D] + [UInt8](repeating: 0xFF, count: 8) + [0x2E])
        let error = #expect(throws: FormatError.self) { try PickleValue(pickle: huge, file: "long.pkl") }
        #expect(error?.reason.hasPrefix("a length of 18446744073709551615 bytes runs past the end of the data") == true, "\(String(describing: error))")
    }

    /// A value stored in the memo and fetched while still on the stack is the finished value.
    @Test func memoizedValuesAreSharedFinished() throws {
        var bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x58] + le32(1) + [0x61]
        bytes += [0x5D, 0x71, 0x01, 0x28, 0x4B, 0x01, 0x4B, 0x02, 0x65, 0x58] + le32(1) + [0x62, 0x68, 0x01, 0x75, 0x2E]
        let value = try PickleValue(pickle: Data(bytes), file: "shared.pkl")
        for key in ["a", "b"] {
            guard case .list(let items)? = value[key] else { Issue.record("\(key) is not a list"); continue }
            #expect(items.compactMap(\.int) == [1, 2])
        }
    }
}

func le32(_ value: Int) -> [UInt8] { (0 ..< 4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

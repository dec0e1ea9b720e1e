import Foundation
import Formats
import Testing
@testable import TorchCheckpoint

/// The checkpoints tools/torch_checkpoint_fixtures.py wrote with PyTorch, against what PyTorch
/// itself said of them (expected.json): every tensor's name, order, dtype, shape, location and
/// values.
@Suite struct FixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TorchCheckpointFixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func load(_ name: String) throws -> TorchCheckpoint { try TorchCheckpoint(contentsOf: url(name)) }

    struct Expected: Decodable {
        let format: String
        let states: [String: [Tensor]]
    }

    struct Tensor: Decodable {
        let name: String, dtype: String, shape: [Int], location: String
        let values: [Number]
    }

    /// A JSON number, exact when it is an integer.
    enum Number: Decodable {
        case int(Int64), double(Double)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let i = try? container.decode(Int64.self) { self = .int(i) } else { self = .double(try container.decode(Double.self)) }
        }
        var double: Double { switch self { case .int(let i): Double(i); case .double(let d): d } }
        var int: Int64? { if case .int(let i) = self { i } else { nil } }
    }

    static let expected: [String: Expected] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("expected.json"))
        return try! JSONDecoder().decode([String: Expected].self, from: data)
    }()

    @Test(arguments: ["mixed-zip.pt", "mixed-legacy.pt", "big-endian-zip.pt", "big-endian-legacy.pt", "salsanext-zip.pt", "salsanext-legacy.pt"])
    func tensorsMatchPyTorch(_ name: String) throws {
        let expected = try #require(Self.expected[name])
        let checkpoint = try Self.load(name)
        #expect(checkpoint.format.rawValue == expected.format)
        for (path, tensors) in expected.states {
            let state = try checkpoint.stateDict(at: path.split(separator: ".").map(String.init))
            #expect(state.map(\.name) == tensors.map(\.name), "\(name) \(path)")
            for (read, want) in zip(state, tensors) {
                let tensor = read.tensor
                #expect(tensor.dtype.rawValue == want.dtype, "\(name) \(want.name)")
                #expect(tensor.shape == want.shape, "\(name) \(want.name)")
                #expect(tensor.location == want.location, "\(name) \(want.name)")
                #expect(try tensor.floats() == want.values.map { Float($0.double) }, "\(name) \(want.name)")
                if ["float32", "float16", "bfloat16", "float64"].contains(want.dtype) { continue }
                #expect(try tensor.int64s() == want.values.map { $0.int ?? .min }, "\(name) \(want.name)")
            }
        }
    }

    @Test(arguments: ["mixed-zip.pt", "mixed-legacy.pt"])
    func viewsKeepTheirStridesOffsetsAndSharedStorages(_ name: String) throws {
        let checkpoint = try Self.load(name)
        let model = Dictionary(uniqueKeysWithValues: try checkpoint.stateDict(at: ["model"]).map { ($0.name, $0.tensor) })
        let base = try #require(model["base"]), transposed = try #require(model["transposed"])
        #expect(transposed.strides == [1, 4] && transposed.storage.key == base.storage.key)
        #expect(model["narrowed"]?.storageOffset == 7 && model["narrowed"]?.strides == [5, 1])
        #expect(model["row1"]?.storageOffset == 3 && model["row1"]?.storage.key == model["row0"]?.storage.key)
        #expect(model["expanded"]?.strides == [0, 1])
        #expect(model["scalar"]?.shape == [] && model["scalar"]?.elementCount == 1)
        #expect(try model["empty"]?.shape == [0, 3] && model["empty"]?.floats() == [])
        #expect(checkpoint.root["epoch"]?.int == 3 && checkpoint.root["note"]?.string == "fixture")
        #expect(try checkpoint.stateDict(at: ["nested", "inner"]).map(\.name) == ["w", "steps"])
    }

    /// SalsaNext's checkpoint shape: the optimizer, numpy scalars and a scheduler holding a
    /// CyclicLR whose scale functions pickle through builtins.getattr (read as inert objects).
    @Test(arguments: ["salsanext-zip.pt", "salsanext-legacy.pt"])
    func salsaNextShapedCheckpointReadsWhole(_ name: String) throws {
        let root = try Self.load(name).root
        #expect(root["epoch"]?.int == 3)
        let group = try #require(root["optimizer"]?["param_groups"].flatMap { if case .list(let g) = $0 { g.first } else { nil } })
        #expect(group["lr"]?.double == 0.01 && group["momentum"]?.double == 0.9)
        let momentum = try #require(root["optimizer"]?["state"]?[0]?["momentum_buffer"]?.tensor)
        #expect(momentum.shape == [3, 2, 1, 1])

        let update = try #require(root["info"]?["train_update"]?.object)
        #expect(update.global.hasSuffix("multiarray.scalar"))
        #expect(update.arguments.first?.object?.global == "numpy.dtype")
        guard case .bytes(let raw)? = update.arguments.last else { Issue.record("numpy scalar without bytes"); return }
        #expect(raw == [7, 0, 0, 0, 0, 0, 0, 0])

        let cyclic = try #require(root["scheduler"]?["initial_scheduler"]?.object)
        #expect(cyclic.global == "torch.optim.lr_scheduler.CyclicLR")
        let staticFunction = try #require(cyclic["_scale_fn_ref"]?.object)
        #expect(staticFunction.global == "builtins.getattr")
        #expect(staticFunction.arguments.first.flatMap { if case .global(let g) = $0 { g } else { nil } } == "torch.optim.lr_scheduler.CyclicLR")
        #expect(staticFunction.arguments.last?.string == "_triangular_scale_fn")
        let boundMethod = try #require(cyclic["scale_fn"]?.object)
        #expect(boundMethod.global == "builtins.getattr" && boundMethod.arguments.first?.object?.global == "torch.optim.lr_scheduler.CyclicLR")
        #expect(cyclic["optimizer"]?.object?.global == "torch.optim.sgd.SGD")
    }

    @Test func bigEndianLegacyFileReadsViewsAndCounts() throws {
        let checkpoint = try Self.load("big-endian-legacy.pt")
        let state = try checkpoint.stateDict()
        #expect(state.map(\.tensor.storage.key) == ["1001", "1001-view", "2002", "3003"])
        #expect(try state[2].tensor.int64s() == [-(1 << 33), 5, 123_456_789])
    }

    /// A dimension of size 1 may have any stride (torch does not look at it).
    @Test func strideOfASizeOneDimensionIsNeverFollowed() throws {
        let bytes = [Float](arrayLiteral: 1, 2, 3).withUnsafeBytes { Data($0) }
        let storage = TorchStorage(key: "s", dtype: .float32, location: "cpu", bytes: bytes, bigEndian: false, source: "s.pt")
        let tensor = try TorchTensor.make(storage, dtype: .float32, offset: 1, shape: [1, 2], strides: [Int.max, 1]) {
            FormatError(file: "s.pt", reason: $0)
        }
        #expect(try tensor.floats() == [2, 3])
    }

    @Test func halfPrecisionConversionIsExact() {
        #expect(TorchTensor.half(0x3C00) == 1 && TorchTensor.half(0xC000) == -2 && TorchTensor.half(0x7BFF) == 65504)
        #expect(TorchTensor.half(0x0001) == 0x1p-24 && TorchTensor.half(0x8000).sign == .minus)
        #expect(TorchTensor.half(0x7C00) == .infinity && TorchTensor.half(0x7E00).isNaN)
    }
}

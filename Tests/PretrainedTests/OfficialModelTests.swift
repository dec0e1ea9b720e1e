import Formats
import Foundation
import Inference
import Pretrained
import Projection
import SemanticKITTI
import Testing
import TestSupport

/// Official-layout model folders, written by `tools/official_folder.py` (Python's pickle and
/// NumPy, the structure `torch.save` writes), against the labels PyTorch's reference pipeline
/// (`tools/pretrained_reference.py labels`, the folder read by the real `torch.load`) gave for
/// the same weights and scans: `Tests/PretrainedFixtures/*.npz`.
enum OfficialFolders {
    static let tools = SampleData.packageRoot.appendingPathComponent("tools")
    static let fixtures = SampleData.packageRoot.appendingPathComponent("Tests/PretrainedFixtures")

    /// Writes a folder with `tools/official_folder.py`.
    static func write(_ network: String, _ arguments: [String], into directory: URL) throws -> URL {
        let folder = directory.appendingPathComponent(network)
        _ = try Python.run([tools.appendingPathComponent("official_folder.py").path, network, folder.path] + arguments)
        return folder
    }

    /// The expected raw labels per scan name.
    static func expected(_ name: String) throws -> NumPyArchive {
        try NumPyArchive(npz: fixtures.appendingPathComponent("\(name).npz"))
    }

    /// The fraction of equal entries.
    static func agreement(_ a: [Int], _ b: [Int]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        return Double(zip(a, b).filter { $0 == $1 }.count) / Double(a.count)
    }
}

@Suite(.serialized, .enabled(if: SampleData.shouldRun && Python.shouldRun, Comment(rawValue: SampleData.skipReason)))
struct OfficialModelTests {
    /// Labels of the sample's scans `000000`, `000001` from a folder, as raw SemanticKITTI ids.
    func labels(of model: OfficialModel, cleanup: Bool = true) throws -> [String: [Int]] {
        let segmenter = try model.segmenter()
        let lookup = model.labels.lookup()
        var out: [String: [Int]] = [:]
        for frame in [0, 1] {
            let scan = try Scan(bin: SampleData.scan(frame))
            let points = segmenter.predict(scan, knn: cleanup ? model.knn : nil).points
            out[String(format: "%06d", frame)] = lookup.rawLabels(learning: points).semantic.map { Int($0) }
        }
        return out
    }

    /// At least 99.9% of every scan's points get the label PyTorch gave them (`fixture`).
    func expectPyTorchLabels(of model: OfficialModel, fixture: String) throws {
        let expected = try OfficialFolders.expected(fixture)
        for (name, ours) in try labels(of: model) {
            let theirs = try #require(expected[name]).integers()
            let agreement = OfficialFolders.agreement(ours, theirs)
            #expect(agreement >= 0.999, "scan \(name): \(agreement * 100)% of points agree with PyTorch")
        }
    }

    /// RangeNet++'s three files in the legacy serialization of torch 1.1, storages tagged
    /// `cuda:0`, with the k-NN clean-up on.
    @Test func aRangeNetFolderLabelsLikePyTorch() throws {
        try SampleData.require()
        try Python.require()
        let dir = SampleData.temporaryDirectory("official-darknet")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try OfficialFolders.write("darknet21", ["--format", "legacy", "--width", "512", "--knn", "--location", "cuda:0"], into: dir)
        let model = try OfficialModel(folder: folder)
        #expect(model.origin == .rangeNet)
        #expect(model.config.architecture.name == "darknet21")
        #expect(model.config.sensor.width == 512 && model.config.sensor.height == 64)
        var knn = RangeKNN(k: 5, window: 5, sigma: 1, cutoff: 1)
        knn.withoutVotes = .firstClass
        #expect(model.knn == knn)
        try expectPyTorchLabels(of: model, fixture: "darknet21-512-knn")
    }

    /// SalsaNext's one file in the zip serialization: a dict with the DataParallel state dict,
    /// the optimizer, NumPy scalars in `info` and the scheduler; no clean-up.
    @Test func aSalsaNextFolderLabelsLikePyTorch() throws {
        try SampleData.require()
        try Python.require()
        let dir = SampleData.temporaryDirectory("official-salsanext")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try OfficialFolders.write("salsanext", ["--format", "zip", "--width", "512"], into: dir)
        let model = try OfficialModel(folder: folder)
        #expect(model.origin == .salsaNext)
        #expect(model.config.architecture.kind == "salsanext")
        #expect(model.knn == nil)
        try expectPyTorchLabels(of: model, fixture: "salsanext-512")
        // The same file as a .pth: its state dict is found under 'state_dict', without 'module.'.
        let stateDict = try TorchStateDict.read(folder.appendingPathComponent("SalsaNext"))
        #expect(stateDict.tensors.keys.sorted() == model.stateDict.tensors.keys.sorted())
        #expect(stateDict.tensors["downCntx.conv1.weight"]?.shape == [32, 5, 1, 1])
    }

    /// What is wrong with a folder is said, with the file.
    @Test func brokenFoldersAreNamed() throws {
        try Python.require()
        let dir = SampleData.temporaryDirectory("official-broken")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = try OfficialFolders.write("darknet21", ["--format", "zip", "--width", "64"], into: dir)
        let arch = folder.appendingPathComponent("arch_cfg.yaml")
        let original = try String(contentsOf: arch, encoding: .utf8)

        func reason(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        // Another backbone, another output stride, CRF post-processing.
        try original.replacingOccurrences(of: "name: \"darknet\"  ", with: "name: \"squeezeseg\"  ")
            .replacingOccurrences(of: "backbone:\n  name: \"darknet\"", with: "backbone:\n  name: \"squeezeseg\"")
            .write(to: arch, atomically: true, encoding: .utf8)
        var message = reason { _ = try OfficialModel(folder: folder) }
        #expect(message.contains("arch_cfg.yaml") && message.contains("squeezeseg"), "\(message)")
        try original.replacingOccurrences(of: "OS: 32", with: "OS: 8").write(to: arch, atomically: true, encoding: .utf8)
        message = reason { _ = try OfficialModel(folder: folder) }
        #expect(message.contains("backbone.OS 8"), "\(message)")
        try original.replacingOccurrences(of: "CRF:\n    use: False", with: "CRF:\n    use: True").write(to: arch, atomically: true, encoding: .utf8)
        message = reason { _ = try OfficialModel(folder: folder) }
        #expect(message.contains("CRF"), "\(message)")
        try original.write(to: arch, atomically: true, encoding: .utf8)

        // Four input channels where the weights read five: the first mismatches are listed.
        try original.replacingOccurrences(of: "remission: True", with: "remission: False").write(to: arch, atomically: true, encoding: .utf8)
        message = reason { _ = try OfficialModel(folder: folder).network() }
        #expect(message.contains("do not fit darknet21 with 20 classes (data_cfg.yaml) and 4 input channels")
            && message.contains("backbone.conv1.weight: shape [32, 5, 3, 3], expected [32, 4, 3, 3]"), "\(message)")
        try original.write(to: arch, atomically: true, encoding: .utf8)

        // A missing file, a truncated one.
        let head = folder.appendingPathComponent("segmentation_head")
        let headBytes = try Data(contentsOf: head)
        try FileManager.default.removeItem(at: head)
        message = reason { _ = try OfficialModel(folder: folder) }
        #expect(message.contains("segmentation_head"), "\(message)")
        try headBytes.prefix(headBytes.count - 100).write(to: head)
        message = reason { _ = try OfficialModel(folder: folder) }
        #expect(message.contains("segmentation_head:"), "\(message)")
        // Not a folder of either kind.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("arch_cfg.yaml"))
        message = reason { _ = try OfficialModel(folder: folder) }
        #expect(message.contains("arch_cfg.yaml missing"), "\(message)")
    }
}

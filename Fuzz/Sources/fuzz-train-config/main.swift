// Training files through `TrainingConfig(yamlText:file:)` and the checks a run makes before it
// starts (`problems`), and architecture files (what `network:` names) through the decoding
// `TrainingConfig(yaml:)` gives them.
import BundledData
import Configuration
import Engine
import Formats
import Foundation
import FuzzSupport
import Losses
import Training

let source = "fuzz-train.yaml"

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    Seeds.writeIfRequested { _ in
        // A run directory's config.yaml: the resolved configuration with how the run was launched.
        var recorded = TrainingConfig()
        recorded.distributed = .init(ranks: 2, batchPerRank: 2, accumulate: 3)
        recorded.loss.terms = try LossSpec(parsing: "subclassified:0.2,ce:0.5,dice:0.3")
        recorded.loss.subclassCounts = ["car": 3, "1": 2]
        return [
            "train.yaml": Data(BundledData.trainingConfig.utf8),
            "run-config.yaml": Data(try recorded.yamlText().utf8),
            "override.yaml": Data("epochs: 30\nloss:\n  tau: 0.95\n  terms: centroid\narchitecture:\n  widths: [8, 16]\n  blocks: [1, 0]\n".utf8),
            "rangenet-lite.yaml": Data(BundledData.architecture.utf8),
        ]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    if let config = Contract.read(naming: [source], { try TrainingConfig(yamlText: text, file: source) }) {
        _ = config.problems
    }
    if let architecture = Contract.read(naming: [source], { try YAMLFile.decode(ArchitectureConfig.self, yaml: text, file: source) }) {
        _ = architecture.problems
    }
    return 0
}

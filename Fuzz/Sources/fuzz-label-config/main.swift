// Label configs (the schema of SemanticKITTI's semantic-kitti.yaml) through
// `LabelConfig(yamlText:file:)`, then the lookup tables every consumer builds from them.
import Formats
import Foundation
import FuzzSupport
import BundledData
import SemanticKITTI

let source = "fuzz-labels.yaml"

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    Seeds.writeIfRequested { _ in
        // Three classes, every section of the schema, as `LabelConfig.yamlText()` writes them.
        let small = try LabelConfig(yamlText: """
            labels: {0: unlabeled, 10: car, 40: road}
            color_map: {0: [0, 0, 0], 10: [245, 150, 100], 40: [255, 0, 255]}
            content: {0: 0.1, 10: 0.3, 40: 0.6}
            learning_map: {0: 0, 10: 1, 40: 2, 52: 0}
            learning_map_inv: {0: 0, 1: 10, 2: 40}
            learning_ignore: {0: true, 1: false, 2: false}
            split: {train: [0, 1], valid: [8], test: [11]}
            """, file: "three classes")
        return [
            "semantic-kitti.yaml": Data(BundledData.labelConfig.utf8),
            "three-classes.yaml": Data(small.yamlText().utf8),
            "flow-style.yaml": Data("labels: {0: unlabeled, 1: car}\ncolor_map: {0: [0, 0, 0], 1: [245, 150, 100]}\nlearning_map: {0: 0, 1: 1}\nlearning_map_inv: {0: 0, 1: 1}\n".utf8),
        ]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    guard let config = Contract.read(naming: [source], { try LabelConfig(yamlText: text, file: source) }) else { return 0 }
    let lookup = config.lookup()
    Contract.require(lookup.classCount == config.classCount, "the lookup has \(lookup.classCount) classes, the config \(config.classCount)")
    for (raw, learning) in config.learningMap {
        Contract.require(lookup.learning(raw: UInt16(raw)) == Int32(learning), "raw id \(raw) does not map to learning id \(learning)")
    }
    _ = config.learningContent()
    for id in 0 ..< config.classCount { _ = (config.className(learning: id), config.color(learning: id)) }
    return 0
}

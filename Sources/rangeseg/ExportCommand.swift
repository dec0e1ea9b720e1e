import ArgumentParser
import CommandOptions
import Foundation
import Inference
import ONNXExport

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained network as an ONNX model, for ONNX Runtime, TensorRT or a ROS node.",
        discussion: """
        The model (ONNX opset 17) takes range_image, float32 [N, 5, H, W] with a dynamic batch N, \
        and gives logits, float32 [N, C, H, W]. Batch norm is folded into the convolutions before \
        it unless --keep-batch-norm is given. The model's metadata_props hold what a deployer needs \
        to make the input and read the output: height, width, fov_up, fov_down, the projection, \
        channels, means and stds (JSON arrays), class_names and learning_map_inv. The network's \
        settings come from config.yaml beside the checkpoint. The file is written whole or not at all.

        Examples:
          rangeseg export --checkpoint out/runs/sub/best.safetensors --onnx model.onnx
          rangeseg export --checkpoint out/runs/sub/best.safetensors \\
            --onnx model-1024.onnx --width 1024 --keep-batch-norm
        """
    )

    @Option(help: "Model checkpoint (.safetensors) written by rangeseg train.", transform: { URL(fileURLWithPath: $0) })
    var checkpoint: URL

    @Option(help: "The ONNX file to write.", transform: { URL(fileURLWithPath: $0) })
    var onnx: URL

    @Option(help: "Training configuration of the checkpoint (default: config.yaml beside it).", transform: { URL(fileURLWithPath: $0) })
    var trainConfig: URL?

    @Flag(help: "Keep batch norm as BatchNormalization nodes with the running statistics instead of folding it into the convolutions.")
    var keepBatchNorm = false

    @OptionGroup var labelConfig: LabelConfigOption
    @OptionGroup var sensor: SettingFlags<SensorSettings>

    func run() throws {
        let labels = try labelConfig.load()
        var config = try TrainingConfig(checkpoint: checkpoint, trainConfig: trainConfig)
        try sensor.apply(to: &config.sensor)
        if let problem = config.sensor.problem() { throw ConfigurationProblem(source: "sensor", problems: [problem]) }
        let exporter = ONNXExporter(batchNorm: keepBatchNorm ? .kept : .folded)
        let summary = try exporter.export(checkpoint: checkpoint, config: config, labels: labels, to: onnx)
        let operators = summary.operators.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("""
            Wrote \(summary.file.path) (\(String(format: "%.1f", Double(summary.bytes) / 1_000_000)) MB, ONNX opset \(ONNXExporter.opset)): \
            \(ONNXExporter.inputName) [\(summary.inputShape.joined(separator: ", "))] -> \
            \(ONNXExporter.outputName) [\(summary.outputShape.joined(separator: ", "))]
            \(summary.operators.values.reduce(0, +)) nodes (\(operators)), \(summary.weights) weights; \
            batch norm \(summary.batchNorm == .folded ? "folded into the convolutions" : "kept as BatchNormalization nodes")
            """)
    }
}

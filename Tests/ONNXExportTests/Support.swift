import Engine
import Formats
import Foundation
import Inference
import Random
import SemanticKITTI
import TestSupport
import Testing

/// A two-stage RangeNet-lite (widths 8 and 16) small enough to export in a debug build, for
/// images `sensorWidth` wide (nil: the default sensor's).
func twoStageConfig(sensorWidth: Int? = nil, blocks: [Int] = [1, 1]) -> TrainingConfig {
    var config = TrainingConfig()
    if let sensorWidth { config.sensor.width = sensorWidth }
    config.architecture.widths = [8, 16]
    config.architecture.blocks = blocks
    return config
}

/// ONNX Runtime and the `onnx` package for `python3`, which check what the exporter writes
/// (tools/setup.sh installs them). Like NumPy and the sample: required under `CI=true`,
/// optional elsewhere.
enum ONNXRuntime {
    static let isInstalled: Bool = (try? Python.run("import numpy, onnx, onnxruntime")) != nil

    static var shouldRun: Bool { isInstalled || SampleData.isCI }

    static let skipReason = "python3 with numpy, onnx and onnxruntime is not installed (tools/setup.sh installs them) or the SemanticKITTI sample is missing; skipped outside CI"

    static func require() throws {
        guard isInstalled else { throw Missing() }
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "CI=true but python3 cannot import numpy, onnx and onnxruntime (run tools/setup.sh)" }
    }

    /// What `check.py` reports about an exported model and one run of it.
    struct Report: Decodable {
        /// Largest |ONNX Runtime - RangeSeg| over all logits, and the largest |RangeSeg logit|.
        var maxAbsDifference: Double
        var largestLogit: Double
        /// Fraction of pixels whose argmax class agrees.
        var argmaxAgreement: Double
        var outputShape: [Int]
        var input: ValueInfo
        var output: ValueInfo
        var operators: [String]
        var metadata: [String: String]
        var onnxVersion: String
        var onnxRuntimeVersion: String

        struct ValueInfo: Decodable, Equatable {
            var name: String
            var shape: [String]
        }
    }

    /// Checks `model` with `onnx.checker.check_model(full_check=True)`, runs it in ONNX Runtime
    /// (CPU; without and with graph optimisations) on the `.npy` input and compares with
    /// RangeSeg's logits in `expected` (`.npy`): the worst difference and agreement of the two runs.
    static func check(model: URL, input: URL, expected: URL) throws -> Report {
        let output = try Python.run(["-c", script, model.path, input.path, expected.path])
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Report.self, from: Data(output.utf8))
    }

    private static let script = """
        import json, sys
        import numpy as np, onnx, onnxruntime as ort
        model, inputs, expected = sys.argv[1:4]
        onnx.checker.check_model(model, full_check=True)
        x, want = np.load(inputs), np.load(expected)
        worst, agreement = 0.0, 1.0
        # As written (every node run as it is) and as ONNX Runtime optimises it (which folds
        # batch norm itself).
        for level in (ort.GraphOptimizationLevel.ORT_DISABLE_ALL, ort.GraphOptimizationLevel.ORT_ENABLE_ALL):
            options = ort.SessionOptions()
            options.graph_optimization_level = level
            session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
            (got,) = session.run(["logits"], {"range_image": x})
            worst = max(worst, float(np.abs(got - want).max()))
            agreement = min(agreement, float((got.argmax(1) == want.argmax(1)).mean()))
        info = lambda v: {"name": v.name, "shape": [str(d) for d in v.shape]}
        print(json.dumps({
            "max_abs_difference": worst,
            "largest_logit": float(np.abs(want).max()),
            "argmax_agreement": agreement,
            "output_shape": list(got.shape),
            "input": info(session.get_inputs()[0]), "output": info(session.get_outputs()[0]),
            "operators": sorted({n.op_type for n in onnx.load(model).graph.node}),
            "metadata": session.get_modelmeta().custom_metadata_map,
            "onnx_version": onnx.__version__, "onnx_runtime_version": ort.__version__,
        }))
        """
}

/// A network (RangeNet-lite unless the configuration names another) with non-trivial batch norm: scale and shift drawn at random, running
/// statistics those of a real scan (as precise batch norm computes them), so that folding has
/// something to fold.
func networkWithStatistics(_ config: TrainingConfig, labels: LabelConfig, seed: UInt64 = 11) throws -> any SegmentationNetwork {
    var generator = RandomGenerator(seed: seed)
    let network = Networks.make(config.architecture, generator: &generator)
    let norms = network.modules().compactMap { $0 as? BatchNorm2d }
    for norm in norms {
        let c = norm.weight.scalarCount
        norm.weight.assign(Tensor(uniformShape: [c], low: 0.5, high: 1.5, generator: &generator))
        norm.bias.assign(Tensor(uniformShape: [c], low: -0.3, high: 0.3, generator: &generator))
        norm.momentum = 1
    }
    let builder = SampleBuilder(config: config, lookup: labels.lookup())
    var unused = RandomGenerator(seed: 0)
    let sample = builder.sample(scan: try Scan(bin: SampleData.scan(1)), labels: nil, augmentation: .none, generator: &unused)
    network.train()
    _ = withoutGradient { network(Tensor(shape: [1, config.architecture.inputChannels, config.sensor.height, config.sensor.width],
                                         scalars: sample.input)) }
    for norm in norms { norm.momentum = config.architecture.batchNormMomentum }
    network.eval()
    return network
}

/// RangeSeg's own input and logits for scans of the sample, as `.npy` files in `directory`:
/// the inputs [N, 5, H, W] exactly as `Segmenter` prepares them, the logits [N, C, H, W] of
/// `segmenter.model` in evaluation mode (the fused inference path).
func rangeSegArrays(_ segmenter: Segmenter, frames: [Int], in directory: URL) throws -> (input: URL, logits: URL) {
    let (h, w, c) = (segmenter.config.sensor.height, segmenter.config.sensor.width, segmenter.config.architecture.classes)
    var inputs: [Float] = []
    for frame in frames {
        var generator = RandomGenerator(seed: 0)
        inputs += segmenter.builder.sample(scan: try Scan(bin: SampleData.scan(frame)), labels: nil, augmentation: .none,
                                           generator: &generator).input
    }
    let channels = segmenter.config.architecture.inputChannels
    let logits = withoutGradient { segmenter.model(Tensor(shape: [frames.count, channels, h, w], scalars: inputs)) }.scalars
    let input = directory.appendingPathComponent("input.npy"), expected = directory.appendingPathComponent("rangeseg-logits.npy")
    try NumPyArray(inputs, shape: [frames.count, channels, h, w]).write(npy: input)
    try NumPyArray(logits, shape: [frames.count, c, h, w]).write(npy: expected)
    return (input, expected)
}

/// The files in `directory`, hidden ones (such as an atomic write's temporary file) included.
func files(in directory: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
}


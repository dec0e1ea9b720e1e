import CKernels
import Engine
import Evaluation
import Formats
import Foundation
import Projection
import Random
import SemanticKITTI

/// A trained network ready to label scans: projection, forward pass, per-pixel argmax and
/// reprojection to every point, with RangeNet++'s k-NN clean-up as an option.
///
/// One segmenter may label scans from several threads at once (`predict`, `logits`,
/// `pixelClasses`): in evaluation mode without gradients the forward pass only reads the
/// network, and the engine is thread-safe. Do not change `model` (its mode, weights or
/// statistics) while another thread is labelling.
public final class Segmenter: @unchecked Sendable {
    public let config: TrainingConfig
    public let model: any SegmentationNetwork
    public let builder: SampleBuilder

    /// Loads `checkpoint` into the network `config` describes (names and shapes checked).
    public init(checkpoint: URL, config: TrainingConfig, labels: LabelConfig) throws(FormatError) {
        self.config = config
        var generator = RandomGenerator(seed: 0)
        model = Networks.make(config.architecture, generator: &generator)
        try Checkpoint.load(into: model, from: checkpoint)
        model.eval()
        builder = SampleBuilder(config: config, lookup: labels.lookup())
    }

    /// Wraps a model in memory (for validation during training).
    public init(model: any SegmentationNetwork, config: TrainingConfig, builder: SampleBuilder) {
        self.config = config
        self.model = model
        self.builder = builder
    }

    /// The network's logits [C, H, W] for a prepared sample.
    public func logits(_ sample: RangeSample) -> [Float] {
        output(sample).scalars
    }

    /// The network's logits `[B, C, H, W]` (row-major) for inputs `[B, C, H, W]`: `output`, copied.
    public func logits(_ input: Tensor) -> [Float] {
        output(input).scalars
    }

    /// The network's output `[B, classes, H, W]` for inputs `[B, C, H, W]`, as the network leaves
    /// it: evaluation mode (set by the initialiser), no gradients: the fused inference path, in
    /// the configuration's precision (float32 logits either way) and convolution algorithm.
    public func output(_ input: Tensor) -> Tensor {
        withWinograd(config.winograd) { withPrecision(config.precision) { withoutGradient { model(input) } } }
    }

    /// `output` for a prepared sample.
    public func output(_ sample: RangeSample) -> Tensor {
        output(Tensor(shape: [1, config.architecture.inputChannels, config.sensor.height, config.sensor.width], scalars: sample.input))
    }

    /// Per-pixel class ids [H, W] (learning ids) of a prepared sample.
    public func pixelClasses(_ sample: RangeSample) -> [Int32] {
        argmaxClasses(logits(sample), classes: config.architecture.classes, pixels: config.sensor.height * config.sensor.width)
    }

    /// What the network made of a scan.
    public struct Prediction: Sendable {
        /// Learning ids of every point.
        public var points: [Int32]
        /// Learning ids of every pixel [H, W].
        public var pixels: [Int32]
        /// Logits [C, H, W]; empty where the caller did not keep them (`keepingLogits`).
        public var logits: [Float]
        public var image: RangeImage
    }

    /// Learning ids for every point of `scan`, from the pixel classes, optionally cleaned up by
    /// RangeNet++'s range-image k-NN.
    public func predict(_ scan: Scan, knn: RangeKNN? = nil) -> Prediction {
        let sample = prepare(scan)
        return prediction(of: sample, logits: logits(sample), knn: knn)
    }

    /// The network's input for `scan` (projection and normalisation, no augmentation): the
    /// first of `predict`'s three steps, which a labelling pipeline runs ahead of the network.
    public func prepare(_ scan: Scan) -> RangeSample {
        var generator = RandomGenerator(seed: 0)
        return builder.sample(scan: scan, labels: nil, augmentation: .none, generator: &generator)
    }

    /// What the network's `logits` for a prepared `sample` say about every point: the last of
    /// `predict`'s steps (argmax, reprojection, the optional k-NN).
    public func prediction(of sample: RangeSample, logits: [Float], knn: RangeKNN? = nil) -> Prediction {
        logits.withUnsafeBufferPointer { prediction(of: sample, pixelClasses: pixelClasses(logits: $0), logits: logits, knn: knn) }
    }

    /// `prediction(of:logits:knn:)` from the network's `output` for the sample, read where and
    /// as the network left it (channel-blocked: a 10 MB reorder and a 10 MB copy fewer per
    /// 64 x 2048 scan of 20 classes); the logits are copied into the prediction only when
    /// `keepingLogits`.
    public func prediction(of sample: RangeSample, output: Tensor, knn: RangeKNN? = nil, keepingLogits: Bool) -> Prediction {
        let pixels = output.withChannelBlocks { blockedArgmaxClasses($0, block: $1) } ?? output.withUnsafeScalars { pixelClasses(logits: $0) }
        return prediction(of: sample, pixelClasses: pixels, logits: keepingLogits ? output.scalars : [], knn: knn)
    }

    /// The classes of the first image of channel-blocked logits (`Tensor.withChannelBlocks`).
    private func blockedArgmaxClasses(_ logits: UnsafeBufferPointer<Float>, block: Int) -> [Int32] {
        let (classes, pixels) = (config.architecture.classes, config.sensor.height * config.sensor.width)
        precondition(logits.count >= (classes + block - 1) / block * block * pixels, "argmax: \(logits.count) blocked logits for \(classes) x \(pixels)")
        return [Int32](unsafeUninitializedCapacity: pixels) { out, initialised in
            rs_argmax_channel_blocks(logits.baseAddress!, Int64(classes), Int64(pixels), Int64(block), out.baseAddress!)
            initialised = pixels
        }
    }

    private func pixelClasses(logits: UnsafeBufferPointer<Float>) -> [Int32] {
        argmaxClasses(logits, classes: config.architecture.classes, pixels: config.sensor.height * config.sensor.width)
    }

    private func prediction(of sample: RangeSample, pixelClasses pixels: [Int32], logits: [Float], knn: RangeKNN?) -> Prediction {
        let points = knn.map { $0.apply(to: sample.image, pixelClasses: pixels, classCount: config.architecture.classes) }
            ?? sample.image.pointClasses(fromPixels: pixels)
        return Prediction(points: points, pixels: pixels, logits: logits, image: sample.image)
    }
}

/// The class of largest logit per pixel (the lower class on a tie), from logits [C, pixels]
/// (image `image` of a batch), by the C kernel `rs_argmax_classes` (1.5 ms per 64 x 2048 image of
/// 20 classes on the AVX512-BF16 EPYC; `perf` put the Swift loop it replaced at about 2.3 ms).
func argmaxClasses(_ logits: [Float], classes: Int, pixels: Int, image: Int = 0) -> [Int32] {
    logits.withUnsafeBufferPointer { argmaxClasses($0, classes: classes, pixels: pixels, image: image) }
}

func argmaxClasses(_ logits: UnsafeBufferPointer<Float>, classes: Int, pixels: Int, image: Int = 0) -> [Int32] {
    precondition(logits.count >= (image + 1) * classes * pixels, "argmax: \(logits.count) logits for \(classes) x \(pixels)")
    return [Int32](unsafeUninitializedCapacity: pixels) { out, initialised in
        rs_argmax_classes(logits.baseAddress! + image * classes * pixels, Int64(classes), Int64(pixels), out.baseAddress!)
        initialised = pixels
    }
}

extension Segmenter {
    /// mIoU and per-class IoU over every point of labelled frames of `dataset` (official semantics).
    public func evaluate(_ frames: [DatasetFrame], of dataset: any Dataset, labels: LabelConfig) throws -> EvaluationReport {
        try evaluate(frames, of: dataset, labels: labels, kinds: nil).report
    }

    /// `evaluate`, and the recall of each kind of appearance over the frames that have subclass
    /// labels (`DatasetFrame.subclasses`), counted against `kinds`, the catalog of their
    /// sequences (`SubclassCatalog.common(of:)`); nil without a catalog.
    public func evaluate(_ frames: [DatasetFrame], of dataset: any Dataset, labels: LabelConfig,
                         kinds catalog: SubclassCatalog?) throws -> (report: EvaluationReport, kinds: KindRecall?) {
        var matrix = SemanticEvaluator(config: labels).emptyMatrix()
        var recall = catalog.map { KindRecall(catalog: $0, labels: labels) }
        for frame in frames {
            var generator = RandomGenerator(seed: 0)
            let sample = try builder.load(frame, from: dataset, augmentation: .none, generator: &generator)
            guard let truth = sample.pointLabels else { throw FormatError(file: frame.scan, reason: "has no labels to evaluate against") }
            let predicted = sample.image.pointClasses(fromPixels: pixelClasses(sample))
            matrix.add(predictions: predicted, truth: truth)
            if recall != nil, let file = frame.subclasses {
                recall!.add(kinds: try ScanLabels(label: file, pointCount: predicted.count).raw, predictions: predicted)
            }
        }
        return (EvaluationReport(confusion: matrix, config: labels, scans: frames.count), recall)
    }
}

import CKernels
import Configuration
import Engine
import Formats
import Parallel
import Pretrained
import Foundation
import Inference
import PointClouds
import Projection
import SemanticKITTI

/// How predictions are cleaned up after reprojection to the points.
public enum Cleanup: String, Sendable, CaseIterable {
    /// The network's pixel classes, carried back to every point of the pixel.
    case none
    /// RangeNet++'s range-image k-NN.
    case range
    /// A vote among each point's nearest neighbours in 3-D (PCL k-d tree).
    case threeD = "3d"
}

/// What `Labelling` writes for each scan.
public struct PredictionOutputs: Sendable, Equatable {
    /// `.label` with raw SemanticKITTI ids (through `learning_map_inv`).
    public var label = true
    /// Coloured point clouds.
    public var pcd = false
    public var ply = false
    /// A PNG of the range image and the predicted classes.
    public var picture = false
    /// The logits `[1, C, H, W]` (`.logits.npy`) and, for labelled scans, the pixel labels
    /// `[1, H, W]` (`.labels.npy`): the inputs of `rangeseg loss`.
    public var arrays = false

    public init() {}
}

/// `rangeseg infer` as a library call: labels scans with a trained network and writes the
/// predictions where the dataset's layout puts them for dataset scans (SemanticKITTI:
/// `<out>/sequences/NN/predictions/NNNNNN.label`, what the official evaluator reads; a folder
/// of point clouds: `<out>/NAME/<frame>.label`) and as `<out>/<name>.label` for scan files.
///
/// ```swift
/// let labelling = Labelling(segmenter: try Segmenter(checkpoint: best, config: config, labels: labels), labels: labels)
/// let summary = try labelling.run(try ScanSource.items(dataset: try DatasetLayouts.open(root: root), sequences: ["08"]),
///                                 out: predictions)
/// ```
public struct Labelling: Sendable {
    public let segmenter: Segmenter
    public let labels: LabelConfig
    public var outputs = PredictionOutputs()
    public var cleanup = Cleanup.none
    /// What `run` does beside the network (the outputs are the same either way); by default
    /// everything where a core is free (`overlapPays`), else only the writing.
    public var overlap: Overlap = Labelling.overlapPays ? .all : .writing
    /// The settings of the `range` clean-up (RangeNet++'s defaults, or an official folder's).
    public var rangeKNN = RangeKNN()
    /// The official model folder the segmenter came from, if it did (`init(checkpoint:...)`).
    public private(set) var officialModel: OfficialModel?

    /// The clean-up in words, e.g. "range k-NN clean-up (k 5, window 5, sigma 1, cutoff 1)".
    public var cleanupSummary: String {
        switch cleanup {
        case .range:
            let k = rangeKNN
            return "range k-NN clean-up (k \(k.k), window \(k.window), sigma \(YAMLFile.shortest(k.sigma)), cutoff \(YAMLFile.shortest(k.cutoff)))"
        case .threeD: return "3-D k-NN clean-up"
        case .none: return "no clean-up"
        }
    }

    /// What of a scan's labelling runs on other threads while the network runs on the next one.
    public enum Overlap: String, Sendable, CaseIterable {
        /// Writing the outputs (`AtomicFile` syncs each file, so this is mostly a wait for the
        /// disk); reading, projecting and the clean-up run on the network's thread, between
        /// passes, and their kernels share the network's threads.
        case writing
        /// Reading and projecting the next scan, and the clean-up and writing of the previous
        /// one (`orderedPipeline`).
        case all
    }

    /// Whether overlapping the work around the network with the network can make labelling
    /// faster: only where the network's threads (oneDNN's OpenMP team, `OMP_NUM_THREADS`) leave
    /// a core free. Where they take every core, work beside the network takes cycles from it,
    /// and costs it more than its own time: the network's threads wait for each other at every
    /// primitive, so one thread held up holds up all. The kernels called beside the network run
    /// on one thread (`rs_parallel_share_here`).
    public static var overlapPays: Bool { ProcessInfo.processInfo.activeProcessorCount > Int(rs_parallel_threads()) }

    public init(segmenter: Segmenter, labels: LabelConfig) {
        self.segmenter = segmenter
        self.labels = labels
    }

    /// What a run did.
    public struct Summary: Sendable {
        public var scans: Int
        public var points: Int
        public var seconds: Double
        public var scansPerSecond: Double { Double(scans) / max(seconds, 1e-9) }
    }

    /// Where an item's outputs go, without extension: `<out>/<item.prediction>` for dataset
    /// scans (`<out>/sequences/NN/predictions/NNNNNN`), `<out>/<name>` for files.
    public static func stem(of item: ScanItem, under out: URL) -> URL {
        if let prediction = item.prediction {
            return out.appendingPathComponent(prediction).deletingPathExtension()
        }
        return out.appendingPathComponent(item.name)
    }

    /// Labels every item, in order; `progress` after each scan's network pass. What runs beside
    /// the network is `overlap`'s choice.
    public func run(_ items: [ScanItem], out: URL, progress: () -> Void = {}) throws -> Summary {
        try ScanSource.checkDistinctOutputs(items.map { Self.stem(of: $0, under: out) })
        // The network runs on this thread, so the kernels called here share its threads.
        let sharing = rs_parallel_share_here(1)
        defer { rs_parallel_share_here(sharing) }
        let started = Date()
        let points = PointCounter()
        let labelling = self
        switch overlap {
        case .all:
            try orderedPipeline(items.count, prepare: { i in try labelling.prepare(items[i]) },
                                process: { _, input in (input, labelling.segmenter.logits(input.sample)) },
                                finish: { _, done in points.add(try labelling.write(labelling.predict(done.0, logits: done.1), out: out)) },
                                afterEach: { _ in progress() })
        case .writing:
            try orderedPipeline(items.count, depth: 1, prepare: { i in items[i] },
                                process: { _, item in try labelling.predict(labelling.prepare(item)) },
                                finish: { _, labelled in points.add(try labelling.write(labelled, out: out)) },
                                afterEach: { _ in progress() })
        }
        return Summary(scans: items.count, points: points.total, seconds: Date().timeIntervalSince(started))
    }

    /// Labels one scan and writes its outputs; returns its number of points.
    public func label(_ item: ScanItem, out: URL) throws -> Int {
        let sharing = rs_parallel_share_here(1)
        defer { rs_parallel_share_here(sharing) }
        return try write(predict(prepare(item)), out: out)
    }

    /// A scan read and made into the network's input.
    struct Input: Sendable {
        var item: ScanItem
        var scan: Scan
        var sample: RangeSample
    }

    func prepare(_ item: ScanItem) throws -> Input {
        let scan = try PointCloudFile.readScan(item.scan)
        return Input(item: item, scan: scan, sample: segmenter.prepare(scan))
    }

    /// A scan with what the network made of it, cleaned up: ready to write.
    struct Labelled: Sendable {
        var input: Input
        var prediction: Segmenter.Prediction
        /// Learning ids of every point, after the clean-up.
        var classes: [Int32]
    }

    /// The network's pass over `input`, and what it says about every point, cleaned up (the
    /// logits are read where the network left them, and kept only for `outputs.arrays`).
    func predict(_ input: Input) -> Labelled {
        labelled(input, segmenter.prediction(of: input.sample, output: segmenter.output(input.sample),
                                             knn: cleanup == .range ? rangeKNN : nil, keepingLogits: outputs.arrays))
    }

    /// What the network's `logits` for `input` say about every point, cleaned up.
    func predict(_ input: Input, logits: [Float]) -> Labelled {
        labelled(input, segmenter.prediction(of: input.sample, logits: logits, knn: cleanup == .range ? rangeKNN : nil))
    }

    private func labelled(_ input: Input, _ prediction: Segmenter.Prediction) -> Labelled {
        var classes = prediction.points
        if cleanup == .threeD {
            classes = KNNCleanup3D()(classes.map { UInt32($0) }, scan: input.scan).map { Int32($0) }
        }
        return Labelled(input: input, prediction: prediction, classes: classes)
    }

    /// Writes the outputs of a labelled scan; returns its number of points.
    func write(_ labelled: Labelled, out: URL) throws -> Int {
        let (item, scan, prediction, classes) = (labelled.input.item, labelled.input.scan, labelled.prediction, labelled.classes)
        let lookup = labels.lookup()
        let stem = Self.stem(of: item, under: out)
        let raw = lookup.rawLabels(learning: classes)
        if outputs.label { try raw.write(label: stem.appendingPathExtension("label")) }
        if outputs.pcd {
            try PointCloudFile.write(pcd: stem.appendingPathExtension("pcd"), scan: scan, labels: raw, colors: labels.colors)
        }
        if outputs.ply {
            try PointCloudFile.write(ply: stem.appendingPathExtension("ply"), scan: scan, labels: raw, colors: labels.colors)
        }
        if outputs.picture {
            let image = prediction.image
            let rawPixels = prediction.pixels.map { Int32(lookup.toRaw[Int($0)]) }
            try RGBImage.stacked([image.rangePicture(), image.labelPicture(rawIDs: rawPixels, config: labels)]
                .map { $0.stretchedVertically(by: 2) }, gap: 4)
                .write(png: stem.appendingPathExtension("png"))
        }
        if outputs.arrays {
            let (c, h, w) = (segmenter.config.architecture.classes, segmenter.config.sensor.height, segmenter.config.sensor.width)
            try NumPyArray(prediction.logits, shape: [1, c, h, w]).write(npy: stem.appendingPathExtension("logits.npy"))
            var truth: (labels: ScanLabels, file: URL)?
            if let file = item.labels {
                truth = (try ScanLabels(label: file, pointCount: scan.count), file)
            } else if item.labelsInScan, let labels = try PointCloudFile.read(item.scan).labels {
                truth = (labels, item.scan)
            }
            if let truth {
                let ids = try lookup.learningIDs(of: truth.labels, file: truth.file)
                try NumPyArray(prediction.image.pixels(from: ids, empty: 0), shape: [1, h, w])
                    .write(npy: stem.appendingPathExtension("labels.npy"))
            }
        }
        return scan.count
    }
}

/// Points labelled so far, added to from the pipeline's writing thread.
private final class PointCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    var total: Int { lock.withLock { value } }
    func add(_ count: Int) { lock.withLock { value += count } }
}

extension Labelling {
    /// The labelling by the model `checkpoint` names (`rangeseg infer --checkpoint`): an official
    /// RangeNet++ or SalsaNext folder (its labels unless `labelConfig` is given; its range k-NN
    /// clean-up, `post.KNN`, unless `cleanup` is), or a checkpoint file with its training
    /// configuration (`trainConfig`, else the `config.yaml` beside it) and `labelConfig` (else
    /// the built-in SemanticKITTI one). `precision` overrides the model's (an official folder's
    /// default is `auto`).
    public init(checkpoint: URL, trainConfig: URL?, labelConfig: URL?, precision: Precision?, cleanup: Cleanup?) throws {
        if OfficialModel.isFolder(checkpoint) {
            guard trainConfig == nil else {
                throw InputError("--train-config goes with a checkpoint file; an official folder's settings come from its arch_cfg.yaml")
            }
            let model = try OfficialModel(folder: checkpoint)
            let labels = try labelConfig.map { try LabelConfig(yaml: $0) } ?? model.labels
            self.init(segmenter: try model.segmenter(precision: precision ?? .auto), labels: labels)
            self.cleanup = cleanup ?? (model.knn == nil ? .none : .range)
            rangeKNN = model.knn ?? RangeKNN()
            officialModel = model
        } else {
            let labels = try labelConfig.map { try LabelConfig(yaml: $0) } ?? LabelConfig.semanticKITTI
            var config = try TrainingConfig(checkpoint: checkpoint, trainConfig: trainConfig)
            if let precision { config.precision = precision }
            self.init(segmenter: try Segmenter(checkpoint: checkpoint, config: config, labels: labels), labels: labels)
            self.cleanup = cleanup ?? .none
        }
    }
}

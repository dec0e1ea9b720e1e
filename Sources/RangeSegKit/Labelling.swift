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
    /// Whether `run` overlaps reading and writing with the network (the outputs are the same).
    public var pipelined = true
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

    /// Labels every item, in order; `progress` after each scan's network pass. With `pipelined`
    /// (the default) the next scan is read and projected, and the previous one's labels cleaned
    /// up and written, while the network runs on the current one (`orderedPipeline`).
    public func run(_ items: [ScanItem], out: URL, progress: () -> Void = {}) throws -> Summary {
        try ScanSource.checkDistinctOutputs(items.map { Self.stem(of: $0, under: out) })
        let started = Date()
        let points = PointCounter()
        let labelling = self
        if pipelined {
            try orderedPipeline(items.count, prepare: { i in try labelling.prepare(items[i]) },
                                process: { _, input in (input, labelling.segmenter.logits(input.sample)) },
                                finish: { _, done in points.add(try labelling.finish(done.0, logits: done.1, out: out)) },
                                afterEach: { _ in progress() })
        } else {
            for item in items {
                points.add(try label(item, out: out))
                progress()
            }
        }
        return Summary(scans: items.count, points: points.total, seconds: Date().timeIntervalSince(started))
    }

    /// Labels one scan and writes its outputs; returns its number of points.
    public func label(_ item: ScanItem, out: URL) throws -> Int {
        let input = try prepare(item)
        return try finish(input, logits: segmenter.logits(input.sample), out: out)
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

    /// Cleans up and writes what the network made of `input`; returns its number of points.
    func finish(_ input: Input, logits: [Float], out: URL) throws -> Int {
        let (item, scan) = (input.item, input.scan)
        let lookup = labels.lookup()
        let stem = Self.stem(of: item, under: out)
        let prediction = segmenter.prediction(of: input.sample, logits: logits, knn: cleanup == .range ? rangeKNN : nil)
        var classes = prediction.points
        if cleanup == .threeD {
            classes = KNNCleanup3D()(classes.map { UInt32($0) }, scan: scan).map { Int32($0) }
        }
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
    /// `rangeseg infer`'s labelling of `items` timed four ways: without and with the range k-NN,
    /// one scan after another and pipelined, after an untimed warm-up; the label files go to a
    /// scratch folder that is removed afterwards (`rangeseg bench infer --pipeline`).
    public static func timings(of items: [ScanItem], segmenter: Segmenter, labels: LabelConfig) throws
        -> [(cleanup: Cleanup, pipelined: Bool, summary: Summary)] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rangeseg-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var warmup = Labelling(segmenter: segmenter, labels: labels)
        warmup.pipelined = false
        _ = try warmup.run(items, out: scratch.appendingPathComponent("warm-up"))
        var out: [(cleanup: Cleanup, pipelined: Bool, summary: Summary)] = []
        for cleanup in [Cleanup.none, .range] {
            for pipelined in [false, true] {
                var labelling = Labelling(segmenter: segmenter, labels: labels)
                labelling.cleanup = cleanup
                labelling.pipelined = pipelined
                out.append((cleanup, pipelined, try labelling.run(items, out: scratch.appendingPathComponent("\(cleanup)-\(pipelined)"))))
            }
        }
        return out
    }
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

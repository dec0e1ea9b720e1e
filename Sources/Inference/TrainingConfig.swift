import BundledData
import Configuration
import Engine
import Formats
import Foundation
import Losses
import Projection

/// Everything a training run needs: one typed model, decoded once from a YAML file
/// (`data/train.yaml`) and overridden field by field by command-line flags.
///
/// Every key is optional; a missing key keeps the default written in the property initialiser
/// below (`data/train.yaml` lists the same values, and a test keeps the two equal). A key this
/// type does not know is an error that names the file, the key and the nearest valid key.
///
/// ```swift
/// var config = try TrainingConfig(yaml: URL(fileURLWithPath: "my-run.yaml"))  // e.g. just "epochs: 30"
/// config.loss.subclassified.threshold = 0.95
/// ```
public struct TrainingConfig: Sendable, Equatable, Codable {
    /// The range image and the normalisation of its five input channels.
    public struct Sensor: Sendable, Equatable, Codable {
        public var height = ProjectionConfig().height
        public var width = ProjectionConfig().width
        public var fovUp = ProjectionConfig().fovUp
        public var fovDown = ProjectionConfig().fovDown
        /// Means of range, x, y, z, remission (RangeNet++'s values for SemanticKITTI).
        public var means: [Float] = [12.12, 10.88, 0.23, -1.04, 0.21]
        /// Standard deviations of range, x, y, z, remission.
        public var stds: [Float] = [12.32, 11.47, 6.91, 0.86, 0.16]

        public init() {}

        public var projection: ProjectionConfig { ProjectionConfig(height: height, width: width, fovUp: fovUp, fovDown: fovDown) }

        enum CodingKeys: String, CodingKey, CaseIterable { case height, width, fovUp = "fov_up", fovDown = "fov_down", means, stds }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            let d = Sensor()
            height = try c.value(.height, or: d.height)
            width = try c.value(.width, or: d.width)
            fovUp = try c.value(.fovUp, or: d.fovUp)
            fovDown = try c.value(.fovDown, or: d.fovDown)
            means = try c.value(.means, or: d.means)
            stds = try c.value(.stds, or: d.stds)
        }
    }

    public enum OptimizerKind: String, Sendable, Equatable, Codable, CaseIterable { case sgd, adam, adamw }

    public struct Optimizer: Sendable, Equatable, Codable {
        public var kind = OptimizerKind.sgd
        public var learningRate: Float = 0.01
        public var momentum: Float = 0.9
        public var weightDecay: Float = 0.0001
        public var nesterov = false

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, learningRate = "learning_rate", momentum, weightDecay = "weight_decay", nesterov
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            let d = Optimizer()
            kind = try c.value(.kind, or: d.kind)
            learningRate = try c.value(.learningRate, or: d.learningRate)
            momentum = try c.value(.momentum, or: d.momentum)
            weightDecay = try c.value(.weightDecay, or: d.weightDecay)
            nesterov = try c.value(.nesterov, or: d.nesterov)
        }
    }

    public enum ScheduleKind: String, Sendable, Equatable, Codable, CaseIterable {
        /// Linear warm-up, then the rate times `decay_per_epoch` every epoch, smoothly (RangeNet++).
        case warmupExponential = "warmup-exponential"
        /// Linear warm-up, then half a cosine down to `minimum_learning_rate`.
        case cosine
    }

    public struct Schedule: Sendable, Equatable, Codable {
        public var kind = ScheduleKind.warmupExponential
        public var warmupEpochs: Float = 1
        public var decayPerEpoch: Float = 0.99
        public var minimumLearningRate: Float = 0

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, warmupEpochs = "warmup_epochs", decayPerEpoch = "decay_per_epoch", minimumLearningRate = "minimum_learning_rate"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            let d = Schedule()
            kind = try c.value(.kind, or: d.kind)
            warmupEpochs = try c.value(.warmupEpochs, or: d.warmupEpochs)
            decayPerEpoch = try c.value(.decayPerEpoch, or: d.decayPerEpoch)
            minimumLearningRate = try c.value(.minimumLearningRate, or: d.minimumLearningRate)
        }
    }

    public struct Augmentation: Sendable, Equatable, Codable {
        /// Random rotation about z, any angle.
        public var rotate = true
        /// Mirror across the x axis (y -> -y) half of the time.
        public var flip = true
        /// Standard deviation of Gaussian noise added to x, y, z, in metres.
        public var jitter: Float = 0.01
        /// Fraction of points dropped at random.
        public var drop: Float = 0.05

        public init() {}

        /// No augmentation at all.
        public static let none: Augmentation = { var a = Augmentation(); a.rotate = false; a.flip = false; a.jitter = 0; a.drop = 0; return a }()

        enum CodingKeys: String, CodingKey, CaseIterable { case rotate, flip, jitter, drop }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            let d = Augmentation()
            rotate = try c.value(.rotate, or: d.rotate)
            flip = try c.value(.flip, or: d.flip)
            jitter = try c.value(.jitter, or: d.jitter)
            drop = try c.value(.drop, or: d.drop)
        }
    }

    /// How a run was launched, as its `config.yaml` records it: written by the trainer for the
    /// record, never read back into the run (the training state holds what a resume needs).
    public struct Launch: Sendable, Equatable, Codable {
        /// Processes that trained together (`mpirun -np`); 1 without `mpirun`.
        public var ranks: Int
        /// Scans of one forward pass on one rank (`batch_size`).
        public var batchPerRank: Int
        /// Micro-batches each rank accumulates per step.
        public var accumulate: Int
        /// Scans per optimiser step: ranks x accumulate x batch per rank.
        public var globalBatch: Int

        public init(ranks: Int, batchPerRank: Int, accumulate: Int) {
            self.ranks = ranks
            self.batchPerRank = batchPerRank
            self.accumulate = accumulate
            globalBatch = ranks * accumulate * batchPerRank
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case ranks, batchPerRank = "batch_per_rank", accumulate, globalBatch = "global_batch"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            ranks = try c.value(.ranks, or: 1)
            batchPerRank = try c.value(.batchPerRank, or: 1)
            accumulate = try c.value(.accumulate, or: 1)
            if let given = try c.decodeIfPresent(Int.self, forKey: .globalBatch) {
                globalBatch = given
            } else if let product = Self.globalBatch(ranks: ranks, accumulate: accumulate, batchPerRank: batchPerRank) {
                globalBatch = product
            } else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [CodingKeys.globalBatch],
                                                        debugDescription: "ranks x accumulate x batch_per_rank (\(ranks) x \(accumulate) x \(batchPerRank)) is too large"))
            }
        }

        /// `ranks` x `accumulate` x `batchPerRank`, or nil when the product overflows `Int`.
        package static func globalBatch(ranks: Int, accumulate: Int, batchPerRank: Int) -> Int? {
            let (partial, first) = ranks.multipliedReportingOverflow(by: accumulate)
            let (product, second) = partial.multipliedReportingOverflow(by: batchPerRank)
            return first || second ? nil : product
        }
    }

    public var sensor = Sensor()
    /// The network the training file named (`network:`): a built-in name (`darknet53`) or an
    /// architecture file relative to that file; nil for an `architecture:` block or the
    /// built-in RangeNet-lite. Provenance only: the
    /// resolved `architecture` is what runs, and what the run's `config.yaml` records.
    public var network: String?
    /// The network's kind and shape: from `architecture:`, else `network:`, else RangeNet-lite
    /// (`data/networks/rangenet-lite.yaml`).
    public var architecture = ArchitectureConfig.rangeNetLite
    public var loss = LossConfig()
    public var optimizer = Optimizer()
    public var schedule = Schedule()
    public var augmentation = Augmentation()
    /// Scans per forward pass (per rank when training on several).
    public var batchSize = 2
    /// Micro-batches of `batchSize` scans per optimiser step: their gradients, each scaled by
    /// 1/K, are summed before the update, so a step sees K x `batchSize` scans in the memory of
    /// one batch. On N ranks each rank accumulates K, and one process with `accumulate: N` runs
    /// exactly the steps of N ranks (batch norm normalises each micro-batch by itself in both).
    public var accumulate = 1
    public var epochs = 10
    /// Before each validation, batch norm's running statistics are recomputed as exact averages
    /// over this many training scans (0: keep the running averages of training).
    public var preciseBatchNormScans = 16
    /// Training and validation sequences; empty: the label config's `split`.
    public var trainSequences: [String] = []
    public var validSequences: [String] = []
    public var seed: UInt64 = 0
    /// In a run's `config.yaml`: how the run was launched (ranks, batch per rank, accumulate,
    /// global batch). Read without effect, so that the file can serve as a training file.
    public var distributed: Launch?
    /// The arithmetic of the network's convolutions in training, validation and inference:
    /// `fp32`, or `bf16` mixed precision (see `Precision`; checkpoints are float32 either way).
    public var precision = Precision.fp32

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sensor, network, architecture, loss, optimizer, schedule, augmentation, batchSize = "batch_size", accumulate, epochs,
             preciseBatchNormScans = "precise_batch_norm_scans",
             trainSequences = "train_sequences", validSequences = "valid_sequences", seed, precision, distributed
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = TrainingConfig()
        sensor = try c.value(.sensor, or: d.sensor)
        network = try c.decodeIfPresent(String.self, forKey: .network)
        architecture = try c.value(.architecture, or: d.architecture)
        if network != nil, c.contains(.architecture) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [CodingKeys.network],
                                                    debugDescription: "give network (a file) or an architecture block, not both"))
        }
        loss = try c.value(.loss, or: d.loss)
        optimizer = try c.value(.optimizer, or: d.optimizer)
        schedule = try c.value(.schedule, or: d.schedule)
        augmentation = try c.value(.augmentation, or: d.augmentation)
        batchSize = try c.value(.batchSize, or: d.batchSize)
        accumulate = try c.value(.accumulate, or: d.accumulate)
        epochs = try c.value(.epochs, or: d.epochs)
        preciseBatchNormScans = try c.value(.preciseBatchNormScans, or: d.preciseBatchNormScans)
        trainSequences = try c.value(.trainSequences, or: d.trainSequences)
        validSequences = try c.value(.validSequences, or: d.validSequences)
        seed = try c.value(.seed, or: d.seed)
        precision = try c.value(.precision, or: d.precision)
        distributed = try c.decodeIfPresent(Launch.self, forKey: .distributed)
    }

    /// Writes the resolved configuration: the architecture inline (never `network`), so that a
    /// run directory's `config.yaml` is complete by itself.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sensor, forKey: .sensor)
        try c.encode(architecture, forKey: .architecture)
        try c.encode(loss, forKey: .loss)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(augmentation, forKey: .augmentation)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(accumulate, forKey: .accumulate)
        try c.encode(epochs, forKey: .epochs)
        try c.encode(preciseBatchNormScans, forKey: .preciseBatchNormScans)
        try c.encode(trainSequences, forKey: .trainSequences)
        try c.encode(validSequences, forKey: .validSequences)
        try c.encode(seed, forKey: .seed)
        try c.encode(precision, forKey: .precision)
        try c.encodeIfPresent(distributed, forKey: .distributed)
    }

    /// The defaults: `data/train.yaml` as compiled into the binary (equal to `TrainingConfig()`).
    public static var defaults: TrainingConfig {
        get throws(FormatError) { try TrainingConfig(yamlText: BundledData.trainingConfig, file: "data/train.yaml (built in)") }
    }

    /// Reads a training file, and the network it names with `network:` (a built-in name such as
    /// `darknet53`, or an architecture file relative to the training file). Errors name the file
    /// and the key path.
    public init(yaml url: URL) throws(FormatError) {
        try self.init(yamlText: YAMLFile.read(url), file: url.path)
        if let network {
            architecture = try Self.architecture(named: network, relativeTo: url.deletingLastPathComponent(), from: url.path)
        }
    }

    /// The architecture of a network name (`Self.networkNames`: `rangenet-lite`, `darknet21`,
    /// `darknet53`, ...) or of an architecture file (relative to `directory` unless absolute).
    /// `source` is the file (or flag) that named it, and `key` the key there, for the messages.
    public static func architecture(named network: String, relativeTo directory: URL, from source: String,
                                    key: String? = "network") throws(FormatError) -> ArchitectureConfig {
        let result: ArchitectureConfig
        if let text = BundledData.networks[network] {
            result = try YAMLFile.decode(ArchitectureConfig.self, yaml: text, file: "data/networks/\(network).yaml (built in)")
        } else {
            let networkURL = network.hasPrefix("/") ? URL(fileURLWithPath: network) : directory.appendingPathComponent(network)
            guard FileManager.default.fileExists(atPath: networkURL.path) else {
                throw FormatError(file: source, reason: (key.map { "\($0): " } ?? "") + "'\(network)' is neither a network (\(networkNames.joined(separator: ", "))) nor an architecture file (\(networkURL.path) does not exist)")
            }
            result = try YAMLFile.decode(ArchitectureConfig.self, from: networkURL)
            if let problem = result.problems.first { throw FormatError(file: networkURL, reason: problem) }
        }
        return result
    }

    /// The networks one can name, each an architecture file in `data/networks/`.
    public static var networkNames: [String] { BundledData.networks.keys.sorted() }

    /// Decodes training-file text (a `network:` naming a file stays unresolved: there is no file
    /// to be relative to; a built-in name resolves).
    public init(yamlText: String, file: String) throws(FormatError) {
        self = try YAMLFile.decode(TrainingConfig.self, yaml: yamlText, file: file)
        if let network, BundledData.networks[network] != nil {
            architecture = try Self.architecture(named: network, relativeTo: URL(fileURLWithPath: "."), from: file)
        }
    }

    /// Everything wrong with the settings, one message each; empty when the run can start.
    public var problems: [String] {
        var out = architecture.problems.map { "architecture: \($0)" }
        if let p = sensor.projection.problem() { out.append("sensor: \(p)") }
        if sensor.means.count != 5 || sensor.stds.count != 5 { out.append("sensor: means and stds need 5 values (range, x, y, z, remission)") }
        if sensor.stds.contains(where: { !($0 > 0) }) { out.append("sensor: stds must be positive") }
        if architecture.problems.isEmpty {
            let divisor = architecture.sizeDivisor
            if sensor.width % divisor.width != 0 {
                out.append("sensor: width \(sensor.width) must be divisible by \(divisor.width) for \(architecture.kind) with \(architecture.widths.count) encoder stages")
            }
            if sensor.height % divisor.height != 0 {
                out.append("sensor: height \(sensor.height) must be divisible by \(divisor.height) for \(architecture.kind)")
            }
        }
        if batchSize < 1 { out.append("batch_size must be at least 1") }
        if accumulate < 1 { out.append("accumulate must be at least 1") }
        if epochs < 1 { out.append("epochs must be at least 1") }
        if preciseBatchNormScans < 0 { out.append("precise_batch_norm_scans cannot be negative") }
        if !(optimizer.learningRate > 0) { out.append("optimizer.learning_rate must be positive") }
        if augmentation.drop < 0 || augmentation.drop >= 1 { out.append("augmentation.drop must be in [0, 1)") }
        out += loss.problems.map { "loss: \($0)" }
        if loss.terms.contains(.subclassified) {
            for (name, grid) in [("reference_factor", loss.subclassified.referenceFactor), ("query_factor", loss.subclassified.queryFactor)]
            where grid.rows > 0 && grid.columns > 0 && (sensor.height % grid.rows != 0 || sensor.width % grid.columns != 0) {
                out.append("loss: \(name) \(grid) does not divide the \(sensor.height)x\(sensor.width) range image")
            }
        }
        return out
    }

    /// The configuration as YAML, for the run directory (numbers as people write them).
    public func yamlText() throws -> String { try YAMLFile.encode(self) }
}

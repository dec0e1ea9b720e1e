import BundledData
import Configuration
import Engine
import Formats
import Foundation
import Losses
import Projection
import SemanticKITTI

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
    public enum OptimizerKind: String, Sendable, Equatable, Codable, CaseIterable, SettingValue { case sgd, adam, adamw }

    public struct Optimizer: Sendable, Equatable, Codable {
        public var kind = OptimizerKind.sgd
        public var learningRate: Float = 0.01
        public var momentum: Float = 0.9
        public var weightDecay: Float = 0.0001
        public var nesterov = false

        public init() {}

        /// Every key of the `optimizer:` block, once.
        public static let settings: [Setting<Optimizer>] = [
            Setting("kind", \.kind, flag: "optimizer", "The optimiser: sgd, adam or adamw"),
            Setting("learning_rate", \.learningRate, "Peak learning rate"),
            Setting("momentum", \.momentum, "SGD momentum (Adam's beta1)"),
            Setting("weight_decay", \.weightDecay, "Weight decay (decoupled for adamw)"),
            Setting("nesterov", \.nesterov, "SGD with Nesterov momentum"),
        ]

        public init(from decoder: any Decoder) throws { self.init(); try Self.settings.decode(into: &self, from: decoder) }
        public func encode(to encoder: any Encoder) throws { try Self.settings.encode(self, to: encoder) }
    }

    public enum ScheduleKind: String, Sendable, Equatable, Codable, CaseIterable, SettingValue {
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

        /// Every key of the `schedule:` block, once.
        public static let settings: [Setting<Schedule>] = [
            Setting("kind", \.kind, flag: "schedule", "The learning-rate schedule: warmup-exponential (RangeNet++'s) or cosine"),
            Setting("warmup_epochs", \.warmupEpochs, "Epochs of linear warm-up to the peak learning rate"),
            Setting("decay_per_epoch", \.decayPerEpoch, "warmup-exponential: the rate's factor per epoch"),
            Setting("minimum_learning_rate", \.minimumLearningRate, "cosine: the rate at the end"),
        ]

        public init(from decoder: any Decoder) throws { self.init(); try Self.settings.decode(into: &self, from: decoder) }
        public func encode(to encoder: any Encoder) throws { try Self.settings.encode(self, to: encoder) }
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
        /// Rare-class instances, cut from other training scans (the `InstanceBank`), pasted into
        /// each training scan at a random azimuth, occlusion respected (0: off).
        public var paste = 0
        /// Probability that a training scan is mixed with another training scan, PolarMix-style
        /// (`SceneMix`): a sector swapped, and rotated copies of the other's rare instances pasted.
        public var mix: Float = 0
        /// Degrees of azimuth of the sector a mix swaps.
        public var mixSector: Float = 180
        /// Rotated copies of each of the other scan's rare-class instances that a mix pastes
        /// (0: the sector swap only).
        public var mixCopies = 2
        /// The learning classes (names) that paste and mix treat as rare; empty: every included
        /// class whose share of points in the label config's `content` is under `rareShare`.
        public var rareClasses: [String] = []
        /// With `rareClasses` empty: the share of points under which a class is rare.
        public var rareShare: Float = 0.005
        /// Points the instance bank of `paste` may hold (16 bytes each), checked before each
        /// instance is stored.
        public var pasteBudget = 2_000_000

        public init() {}

        /// Whether paste or mix is on (they need the training scans beside the one being built).
        public var usesOtherScans: Bool { paste > 0 || mix > 0 }

        /// What is wrong with the keys of paste and mix, one message each.
        public var remedyProblems: [String] {
            var out: [String] = []
            if paste < 0 { out.append("paste cannot be negative") }
            if !(mix >= 0 && mix <= 1) { out.append("mix must be in [0, 1]") }
            if !(mixSector > 0 && mixSector <= 360) { out.append("mix_sector must be in (0, 360] degrees") }
            if mixCopies < 0 { out.append("mix_copies cannot be negative") }
            if !(rareShare >= 0 && rareShare <= 1) { out.append("rare_share must be in [0, 1]") }
            if pasteBudget < 0 { out.append("paste_budget cannot be negative") }
            return out
        }

        /// No augmentation at all.
        public static let none: Augmentation = { var a = Augmentation(); a.rotate = false; a.flip = false; a.jitter = 0; a.drop = 0; return a }()

        /// Every key of the `augmentation:` block, once.
        public static let settings: [Setting<Augmentation>] = [
            Setting("rotate", \.rotate, "Augmentation: random rotation about z"),
            Setting("flip", \.flip, "Augmentation: mirror across the x axis half of the time"),
            Setting("jitter", \.jitter, "Augmentation: metres of Gaussian noise on x, y, z"),
            Setting("drop", \.drop, "Augmentation: fraction of points dropped"),
            Setting("paste", \.paste, "Augmentation: rare-class instances from other training scans pasted into each scan, occlusion respected (0: off)"),
            Setting("mix", \.mix, "Augmentation: probability that a scan swaps a sector with another training scan and gets rotated copies of its rare instances (PolarMix; 0: off)"),
            Setting("mix_sector", \.mixSector, "Augmentation: degrees of azimuth of the sector a mix swaps"),
            Setting("mix_copies", \.mixCopies, "Augmentation: rotated copies of each rare-class instance of the other scan that a mix pastes (0: sector swap only)"),
            Setting("rare_classes", \.rareClasses, "Augmentation: the classes paste and mix treat as rare, e.g. bicycle,person (empty: those under rare_share of the label config's content)"),
            Setting("rare_share", \.rareShare, "Augmentation: with rare_classes empty, the share of points under which a class is rare"),
            Setting("paste_budget", \.pasteBudget, "Augmentation: points the instance bank of paste may hold (16 bytes each)"),
        ]

        public init(from decoder: any Decoder) throws { self.init(); try Self.settings.decode(into: &self, from: decoder) }
        public func encode(to encoder: any Encoder) throws { try Self.settings.encode(self, to: encoder) }
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
        /// The precision that ran and why, e.g. "bf16 (probe: bf16 convolutions took 0.52x the
        /// time of fp32)": what `precision: auto` became on the machine.
        public var precision: String?

        public init(ranks: Int, batchPerRank: Int, accumulate: Int, precision: String? = nil) {
            self.ranks = ranks
            self.batchPerRank = batchPerRank
            self.accumulate = accumulate
            globalBatch = ranks * accumulate * batchPerRank
            self.precision = precision
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case ranks, batchPerRank = "batch_per_rank", accumulate, globalBatch = "global_batch", precision
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            ranks = try c.value(.ranks, or: 1)
            precision = try c.decodeIfPresent(String.self, forKey: .precision)
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

    /// The range image and the normalisation of its five input channels.
    public var sensor = ProjectionConfig()
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
    /// `auto`, `fp32` or `bf16` mixed precision (see `Precision`; checkpoints are float32 either way).
    public var precision = Precision.auto
    /// Which Winograd algorithm the 3 x 3 stride-1 convolutions run (see `Winograd`): by default
    /// F(4, 3) along the width, with oneDNN's in fp32 training's backward passes on AVX-512.
    public var winograd = Winograd.auto

    public init() {}

    /// Every key of a training file, once: the blocks (each with its own table) and the
    /// top-level keys. `network` (exclusive with `architecture`) and `distributed` are read by hand below.
    public static let settings: [Setting<TrainingConfig>] = [
        .block("sensor", \.sensor, "The range image and the normalisation of its five input channels"),
        .block("architecture", \.architecture, "The network's kind and shape (a run's config.yaml holds it inline)"),
        .block("loss", \.loss, "The loss and its parameters"),
        .block("optimizer", \.optimizer, "The optimiser"),
        .block("schedule", \.schedule, "The learning-rate schedule"),
        .block("augmentation", \.augmentation, "Augmentation of training scans"),
        Setting("batch_size", \.batchSize, "Scans per forward pass, per rank under mpirun"),
        Setting("accumulate", \.accumulate, "Micro-batches of batch_size scans whose gradients make one optimiser step (per rank under mpirun)"),
        Setting("epochs", \.epochs, "Epochs to train"),
        Setting("precise_batch_norm_scans", \.preciseBatchNormScans,
                "Training scans over which batch norm's statistics are recomputed before each validation (0: keep the running averages)"),
        Setting("train_sequences", \.trainSequences,
                "Training sequences, e.g. 00,01, or the folders of a point-cloud folder dataset (empty: the label config's split, SemanticKITTI only)"),
        Setting("valid_sequences", \.validSequences,
                "Validation sequences (empty: the label config's split for SemanticKITTI; none for a point-cloud folder dataset)"),
        Setting("seed", \.seed, "Seed of initialisation, shuffling and augmentation"),
        Setting("precision", \.precision,
                "Arithmetic of the network: fp32, bf16 mixed precision (convolutions in bfloat16; statistics, losses and weights in float32), or auto (bf16 where this CPU runs it faster, probed once)"),
        Setting("winograd", \.winograd,
                "Winograd algorithm of the 3x3 stride-1 convolutions: auto (mixed in fp32 training on AVX-512, else width), width (RangeSeg's F(4,3) along the width, every pass, any CPU, fp32 or bf16), mixed (width forward, oneDNN's backward), backward or always (oneDNN's F(4x4,3x3) in training's backward passes or all three; fp32 on AVX-512 only), never (direct)"),
    ]

    /// Every key that has a command-line flag, the blocks' keys included, for `train`,
    /// `compare` and `bench train`: the flag is the key with dashes (`--focal-gamma`,
    /// `--learning-rate`, `--fov-up`), except the optimiser's and the schedule's `kind`
    /// (`--optimizer`, `--schedule`) and the loss's `terms` (`--loss`).
    public static let flagSettings: [Setting<TrainingConfig>] =
        settings.filter { $0.flag != nil }
            + ProjectionConfig.settings.map { $0.within("sensor", \.sensor) }
            + LossConfig.settings.map { $0.within("loss", \.loss) }
            + Optimizer.settings.map { $0.within("optimizer", \.optimizer) }
            + Schedule.settings.map { $0.within("schedule", \.schedule) }
            + Augmentation.settings.map { $0.within("augmentation", \.augmentation) }

    public init(from decoder: any Decoder) throws {
        self.init()
        try Self.settings.decode(into: &self, from: decoder, extraKeys: ["network", "distributed"])
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let networkKey = AnyCodingKey(stringValue: "network"), architectureKey = AnyCodingKey(stringValue: "architecture")
        network = try c.decodeIfPresent(String.self, forKey: networkKey)
        if network != nil, c.contains(architectureKey) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [networkKey],
                                                    debugDescription: "give network (a file) or an architecture block, not both"))
        }
        distributed = try c.decodeIfPresent(Launch.self, forKey: AnyCodingKey(stringValue: "distributed"))
    }

    /// Writes the resolved configuration: the architecture inline (never `network`), so that a
    /// run directory's `config.yaml` is complete by itself.
    public func encode(to encoder: any Encoder) throws {
        try Self.settings.encode(self, to: encoder)
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        try c.encodeIfPresent(distributed, forKey: AnyCodingKey(stringValue: "distributed"))
    }

    /// For start lines and benchmark titles: which Winograd algorithm runs in which passes, or
    /// that one was asked for where only the direct kernels run.
    public var winogradNote: String {
        let type = precision.onThisCPU.elementType
        let runs = winogradAvailable && type == .f32
        switch (winograd.onThisCPU(training: true, type: type), runs) {
        case (.never, _): return ", direct convolutions (winograd: never)"
        case (.width, _), (.mixed, false): return ", Winograd F(4,3) along the width"
        case (.mixed, true): return ", Winograd F(4,3) along the width forward, oneDNN's in backward passes"
        case (.auto, _): return ""
        case (.backward, true): return ", oneDNN's Winograd in backward passes"
        case (.always, true): return ", oneDNN's Winograd in forward and backward passes"
        case (.backward, false), (.always, false):
            return ", winograd: \(winograd) asked, direct kernels run ("
                + (winogradAvailable ? "no Winograd kernels in bf16" : "oneDNN has no Winograd kernels without AVX-512") + ")"
        }
    }

    /// `winogradNote` for inference (`bench infer`'s title): F(4, 3) along the width where it
    /// runs, else the direct kernels, said only when asked for.
    public var inferenceWinogradNote: String {
        // `auto` is `width` in inference, so any other resolution was asked for.
        guard winograd.forInferenceOnThisCPU == .width else { return ", direct convolutions (winograd: \(winograd))" }
        return ", Winograd F(4,3) along the width"
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

    /// The training configuration of a checkpoint: `trainConfig`, else the `config.yaml` that
    /// `rangeseg train` writes beside its checkpoints. A checkpoint path that names no file is
    /// the error, rather than the configuration that is then missing too; `flag` is the option
    /// that points elsewhere, for the message.
    public init(checkpoint: URL, trainConfig: URL? = nil, flag: String? = "--train-config") throws(FormatError) {
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw FormatError(file: checkpoint, reason: "no such checkpoint")
        }
        if let trainConfig { try self.init(yaml: trainConfig); return }
        let beside = checkpoint.deletingLastPathComponent().appendingPathComponent("config.yaml")
        guard FileManager.default.fileExists(atPath: beside.path) else {
            throw FormatError(file: beside, reason: "no such file: the checkpoint's training configuration, which rangeseg train writes "
                                                   + "beside its checkpoints" + (flag.map { "; for a checkpoint from elsewhere pass \($0)" } ?? ""))
        }
        try self.init(yaml: beside)
    }

    /// Decodes training-file text (a `network:` naming a file stays unresolved: there is no file
    /// to be relative to; a built-in name resolves).
    public init(yamlText: String, file: String) throws(FormatError) {
        self = try YAMLFile.decode(TrainingConfig.self, yaml: yamlText, file: file)
        if let network, BundledData.networks[network] != nil {
            architecture = try Self.architecture(named: network, relativeTo: URL(fileURLWithPath: "."), from: file)
        }
    }

    /// The sequences a run trains and validates on in `dataset`: those configured, else the label
    /// config's split where the layout uses it (SemanticKITTI's), else none (no validation).
    public func sequences(in dataset: any Dataset, labels: LabelConfig) -> (train: [String], valid: [String]) {
        let split = dataset.usesLabelConfigSplit ? labels.split : nil
        return (trainSequences.isEmpty ? split?.trainNames ?? [] : trainSequences,
                validSequences.isEmpty ? split?.validNames ?? [] : validSequences)
    }

    /// Everything wrong with the settings, one message each; empty when the run can start.
    public var problems: [String] {
        var out = architecture.problems.map { "architecture: \($0)" }
        if let p = sensor.problem() { out.append("sensor: \(p)") }
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
        out += augmentation.remedyProblems.map { "augmentation.\($0)" }
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

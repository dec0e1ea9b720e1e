import Engine
import Foundation
import Losses
import Projection
import Yams
import Formats

/// Everything a training run needs, decoded once from a YAML file (`data/train.yaml`) and
/// overridden by command-line flags. Missing keys take the defaults shown in that file.
public struct TrainingConfig: Sendable, Equatable, Codable {
    /// The range image and the normalisation of its five input channels.
    public struct Sensor: Sendable, Equatable, Codable {
        public var height = 64
        public var width = 2048
        public var fovUp: Float = 3
        public var fovDown: Float = -25
        /// Means of range, x, y, z, remission (RangeNet++'s defaults).
        public var means: [Float] = [12.12, 10.88, 0.23, -1.04, 0.21]
        /// Standard deviations of range, x, y, z, remission.
        public var stds: [Float] = [12.32, 11.47, 6.91, 0.86, 0.16]

        public init() {}

        public var projection: ProjectionConfig { ProjectionConfig(height: height, width: width, fovUp: fovUp, fovDown: fovDown) }

        enum CodingKeys: String, CodingKey { case height, width, fovUp = "fov_up", fovDown = "fov_down", means, stds }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Sensor()
            height = try c.decodeIfPresent(Int.self, forKey: .height) ?? d.height
            width = try c.decodeIfPresent(Int.self, forKey: .width) ?? d.width
            fovUp = try c.decodeIfPresent(Float.self, forKey: .fovUp) ?? d.fovUp
            fovDown = try c.decodeIfPresent(Float.self, forKey: .fovDown) ?? d.fovDown
            means = try c.decodeIfPresent([Float].self, forKey: .means) ?? d.means
            stds = try c.decodeIfPresent([Float].self, forKey: .stds) ?? d.stds
        }
    }

    public enum OptimizerKind: String, Sendable, Equatable, Codable, CaseIterable { case sgd, adam, adamw }
    public enum ScheduleKind: String, Sendable, Equatable, Codable, CaseIterable {
        /// Linear warm-up, then the rate times `decay` after every epoch (RangeNet++).
        case warmupExponential = "warmup-exponential"
        /// Linear warm-up, then half a cosine down to `minimum_learning_rate`.
        case cosine
    }

    public struct Optimizer: Sendable, Equatable, Codable {
        public var kind = OptimizerKind.sgd
        public var learningRate: Float = 0.01
        public var momentum: Float = 0.9
        public var weightDecay: Float = 0.0001
        public var nesterov = false

        public init() {}

        enum CodingKeys: String, CodingKey { case kind, learningRate = "learning_rate", momentum, weightDecay = "weight_decay", nesterov }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Optimizer()
            kind = try c.decodeIfPresent(OptimizerKind.self, forKey: .kind) ?? d.kind
            learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
            momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? d.momentum
            weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
            nesterov = try c.decodeIfPresent(Bool.self, forKey: .nesterov) ?? d.nesterov
        }
    }

    public struct Schedule: Sendable, Equatable, Codable {
        public var kind = ScheduleKind.warmupExponential
        public var warmupEpochs: Float = 1
        public var decayPerEpoch: Float = 0.99
        public var minimumLearningRate: Float = 0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case kind, warmupEpochs = "warmup_epochs", decayPerEpoch = "decay_per_epoch", minimumLearningRate = "minimum_learning_rate"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Schedule()
            kind = try c.decodeIfPresent(ScheduleKind.self, forKey: .kind) ?? d.kind
            warmupEpochs = try c.decodeIfPresent(Float.self, forKey: .warmupEpochs) ?? d.warmupEpochs
            decayPerEpoch = try c.decodeIfPresent(Float.self, forKey: .decayPerEpoch) ?? d.decayPerEpoch
            minimumLearningRate = try c.decodeIfPresent(Float.self, forKey: .minimumLearningRate) ?? d.minimumLearningRate
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

        public static let none: Augmentation = { var a = Augmentation(); a.rotate = false; a.flip = false; a.jitter = 0; a.drop = 0; return a }()

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Augmentation()
            rotate = try c.decodeIfPresent(Bool.self, forKey: .rotate) ?? d.rotate
            flip = try c.decodeIfPresent(Bool.self, forKey: .flip) ?? d.flip
            jitter = try c.decodeIfPresent(Float.self, forKey: .jitter) ?? d.jitter
            drop = try c.decodeIfPresent(Float.self, forKey: .drop) ?? d.drop
        }
    }

    public var sensor = Sensor()
    /// The network's architecture file, relative to the training file (or absolute).
    public var network = "rangenet-lite.yaml"
    /// The architecture, read from `network` when the file is loaded.
    public var architecture = ArchitectureConfig.rangeNetLite
    public var loss = LossConfig()
    public var optimizer = Optimizer()
    public var schedule = Schedule()
    public var augmentation = Augmentation()
    public var batchSize = 2
    public var epochs = 10
    /// Before each validation, batch norm's running statistics are recomputed as exact averages
    /// over this many training scans (0: keep the running averages of training).
    public var preciseBatchNormScans = 16
    /// Training and validation sequences; empty: the label config's `split`.
    public var trainSequences: [String] = []
    public var validSequences: [String] = []
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case sensor, network, architecture, loss, optimizer, schedule, augmentation, batchSize = "batch_size", epochs,
             preciseBatchNormScans = "precise_batch_norm_scans",
             trainSequences = "train_sequences", validSequences = "valid_sequences", seed
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingConfig()
        sensor = try c.decodeIfPresent(Sensor.self, forKey: .sensor) ?? d.sensor
        network = try c.decodeIfPresent(String.self, forKey: .network) ?? d.network
        architecture = try c.decodeIfPresent(ArchitectureConfig.self, forKey: .architecture) ?? d.architecture
        loss = try c.decodeIfPresent(LossConfig.self, forKey: .loss) ?? d.loss
        optimizer = try c.decodeIfPresent(Optimizer.self, forKey: .optimizer) ?? d.optimizer
        schedule = try c.decodeIfPresent(Schedule.self, forKey: .schedule) ?? d.schedule
        augmentation = try c.decodeIfPresent(Augmentation.self, forKey: .augmentation) ?? d.augmentation
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        preciseBatchNormScans = try c.decodeIfPresent(Int.self, forKey: .preciseBatchNormScans) ?? d.preciseBatchNormScans
        trainSequences = try c.decodeIfPresent([String].self, forKey: .trainSequences) ?? d.trainSequences
        validSequences = try c.decodeIfPresent([String].self, forKey: .validSequences) ?? d.validSequences
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
    }

    /// Reads a training file and the architecture file it names (unless the file holds an
    /// `architecture` block itself). Errors name the file and the key path.
    public init(yaml url: URL) throws(FormatError) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw FormatError(file: url, reason: "cannot read: \(error.localizedDescription)")
        }
        do {
            self = try YAMLDecoder().decode(TrainingConfig.self, from: text)
        } catch let error as DecodingError {
            throw FormatError(file: url, reason: describe(error))
        } catch {
            throw FormatError(file: url, reason: "not valid YAML: \(error)")
        }
        if !text.contains("\narchitecture:") && !text.hasPrefix("architecture:") {
            let networkURL = network.hasPrefix("/") ? URL(fileURLWithPath: network)
                : url.deletingLastPathComponent().appendingPathComponent(network)
            let networkText: String
            do { networkText = try String(contentsOf: networkURL, encoding: .utf8) } catch {
                throw FormatError(file: url, reason: "network: cannot read the architecture file \(networkURL.path)")
            }
            architecture = try ArchitectureConfig.decode(yaml: networkText, file: networkURL.path)
        }
    }

    /// Everything wrong with the settings, one message each; empty when the run can start.
    public var problems: [String] {
        var out = architecture.problems.map { "architecture: \($0)" }
        if let p = sensor.projection.problem() { out.append("sensor: \(p)") }
        if sensor.means.count != 5 || sensor.stds.count != 5 { out.append("sensor: means and stds need 5 values (range, x, y, z, remission)") }
        if sensor.stds.contains(where: { !($0 > 0) }) { out.append("sensor: stds must be positive") }
        if architecture.inputChannels != 5 { out.append("architecture: input_channels must be 5 (range, x, y, z, remission)") }
        if sensor.width % architecture.widthDivisor != 0 {
            out.append("sensor: width \(sensor.width) must be divisible by \(architecture.widthDivisor) for \(architecture.widths.count) encoder stages")
        }
        if batchSize < 1 { out.append("batch_size must be at least 1") }
        if epochs < 1 { out.append("epochs must be at least 1") }
        if preciseBatchNormScans < 0 { out.append("precise_batch_norm_scans cannot be negative") }
        if !(optimizer.learningRate > 0) { out.append("optimizer.learning_rate must be positive") }
        if augmentation.drop < 0 || augmentation.drop >= 1 { out.append("augmentation.drop must be in [0, 1)") }
        do { _ = try loss.settings(classWeights: nil) } catch { out.append("loss: \(error.description)") }
        return out
    }

    /// The configuration as YAML, for the run directory.
    public func yamlText() throws -> String { try YAMLEncoder().encode(self) }
}

private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        return keys.isEmpty ? "top level" : keys.joined(separator: ".")
    }
    switch error {
    case let .keyNotFound(key, context): return "\(path(context)): missing key '\(key.stringValue)'"
    case let .typeMismatch(type, context): return "\(path(context)): expected \(type)"
    case let .valueNotFound(type, context): return "\(path(context)): missing \(type)"
    case let .dataCorrupted(context): return "\(path(context)): \(context.debugDescription)"
    @unknown default: return "\(error)"
    }
}

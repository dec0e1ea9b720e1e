import ArgumentParser
import Engine
import Foundation
import Inference
import SemanticKITTI

/// The flags that choose a network and what it reads: the training file, the network, the
/// image width and the arithmetic. Shared by `train`, `compare`, `bench train` (inside
/// `TrainingOptions`) and `bench infer` (alone: it uses no other training flag).
struct NetworkOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Training configuration (YAML; every key optional; default: the built-in data/train.yaml).", valueName: "yaml"),
            transform: { URL(fileURLWithPath: $0) })
    var trainConfig: URL?

    @Option(help: ArgumentHelp("The network: \(TrainingConfig.networkNames.joined(separator: ", ")), or an architecture file (overrides the file's).",
                               valueName: "name|yaml"))
    var network: String?

    @Option(help: "Range-image width (overrides the file; divisible by 32 for RangeNet-lite and DarkNet, 16 for SalsaNext).")
    var width: Int?

    @Option(help: "Arithmetic of the network: fp32, or bf16 mixed precision (convolutions in bfloat16, statistics, losses and weights in float32; overrides the file's precision, default fp32).")
    var precision: Precision?

    /// The training file (or the built-in defaults) with these flags applied, unchecked. A run
    /// that starts from `initialWeights` takes its network and sensor from the `config.yaml`
    /// beside them (where `train` and `import` write it); `--network` and `--width` still apply.
    func config(initialWeights: URL? = nil) throws -> TrainingConfig {
        var config = try trainConfig.map { try TrainingConfig(yaml: $0) } ?? TrainingConfig.defaults
        if let initialWeights {
            let beside = initialWeights.deletingLastPathComponent().appendingPathComponent("config.yaml")
            if FileManager.default.fileExists(atPath: beside.path) {
                let base = try TrainingConfig(yaml: beside)
                config.architecture = base.architecture
                config.network = base.network
                config.sensor = base.sensor
            }
        }
        if let network {
            let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            config.architecture = try TrainingConfig.architecture(named: network, relativeTo: here, from: "--network", key: nil)
            config.network = network
        }
        if let width { config.sensor.width = width }
        if let precision { config.precision = precision }
        return config
    }

    /// `config()`, checked, with the precision notice printed.
    func resolvedConfig() throws -> TrainingConfig {
        try check(config())
    }

    /// Throws the problems of `config`, naming where it came from; prints the precision notice.
    func check(_ config: TrainingConfig) throws -> TrainingConfig {
        printPrecisionNotice(config.precision)
        let problems = config.problems
        guard problems.isEmpty else {
            throw ConfigurationProblem(source: trainConfig?.path ?? "the built-in data/train.yaml with the flags", problems: problems)
        }
        return config
    }
}

/// Training flags shared by `train`, `compare` and `bench train`: the training file and the
/// flags that override its fields.
struct TrainingOptions: ParsableArguments {
    @OptionGroup var networkOptions: NetworkOptions

    @Option(help: "Epochs to train (overrides the file).")
    var epochs: Int?

    @Option(help: "Scans per forward pass, per rank under mpirun (overrides the file).")
    var batchSize: Int?

    @Option(help: "Micro-batches of --batch-size scans whose gradients make one optimiser step (overrides the file; default 1). Under mpirun, per rank.")
    var accumulate: Int?

    @Option(help: "Peak learning rate (overrides the file).")
    var learningRate: Float?

    @Option(help: ArgumentHelp("Training sequences, e.g. 00,01, or the folder names of a point-cloud folder dataset (default: the file's, else the label config's split for SemanticKITTI).", valueName: "list"))
    var trainSequences: NameList?

    @Option(help: ArgumentHelp("Validation sequences (default: the file's, else the label config's split for SemanticKITTI; none for a point-cloud folder dataset).", valueName: "list"))
    var validSequences: NameList?

    @Option(help: "Seed of initialisation, shuffling and augmentation (overrides the file).")
    var seed: UInt64?

    @Flag(help: "Turn augmentation off.")
    var noAugmentation = false

    @Option(help: "Stop every epoch after this many steps (for quick trials).")
    var maxStepsPerEpoch: Int?

    @OptionGroup var lossParameters: LossParameterOptions

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let accumulate, accumulate < 1 { throw ValidationError("--accumulate must be at least 1") }
        if let maxStepsPerEpoch, maxStepsPerEpoch < 1 { throw ValidationError("--max-steps-per-epoch must be at least 1") }
    }

    /// The training file (or the built-in defaults) with the flags applied, checked; see
    /// `NetworkOptions.config(initialWeights:)`.
    func resolvedConfig(initialWeights: URL? = nil) throws -> TrainingConfig {
        var config = try networkOptions.config(initialWeights: initialWeights)
        if let epochs { config.epochs = epochs }
        if let batchSize { config.batchSize = batchSize }
        if let accumulate { config.accumulate = accumulate }
        if let learningRate { config.optimizer.learningRate = learningRate }
        // Names as given: the dataset's layout says what they stand for (SemanticKITTI: 8 is 08).
        if let trainSequences { config.trainSequences = trainSequences.names }
        if let validSequences { config.validSequences = validSequences.names }
        if let seed { config.seed = seed }
        if noAugmentation { config.augmentation = .none }
        try lossParameters.apply(to: &config.loss)
        return try networkOptions.check(config)
    }
}

/// Settings that cannot run together; names where they came from.
struct ConfigurationProblem: Error, CustomStringConvertible {
    var source: String
    var problems: [String]
    var description: String { "\(source): " + problems.joined(separator: "; ") }
}

import ArgumentParser
import Engine
import Foundation
import Inference
import SemanticKITTI

/// The flags that choose a network: the training file and the network. Shared by `train`,
/// `compare`, `bench train` (inside `TrainingOptions`) and `bench infer`; each of those adds
/// the settings it uses as flags (`SettingFlags`).
package struct NetworkOptions: ParsableArguments {
    package init() {}

    @Option(help: ArgumentHelp("Training configuration (YAML; every key optional; default: the built-in data/train.yaml).", valueName: "yaml"),
            transform: { URL(fileURLWithPath: $0) })
    package var trainConfig: URL?

    @Option(help: ArgumentHelp("The network: \(TrainingConfig.networkNames.joined(separator: ", ")), or an architecture file (overrides the file's).",
                               valueName: "name|yaml"))
    package var network: String?

    /// The training file (or the built-in defaults) with `--network` applied, unchecked. A run
    /// that starts from `initialWeights` takes its network and sensor from the `config.yaml`
    /// beside them (where `train` and `import` write it); `--network` still applies.
    package func config(initialWeights: URL? = nil) throws -> TrainingConfig {
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
        return config
    }

    /// Throws the problems of `config`, naming where it came from; prints the precision notice.
    package func check(_ config: TrainingConfig) throws -> TrainingConfig {
        printPrecisionNotice(config.precision)
        let problems = config.problems
        guard problems.isEmpty else {
            throw ConfigurationProblem(source: trainConfig?.path ?? "the built-in data/train.yaml with the flags", problems: problems)
        }
        return config
    }
}

/// The flags of `train`, `compare` and `bench train`: the training file, the network, and every
/// key of the training file as a flag (`--epochs 5`, `--learning-rate 0.005`, `--focal-gamma 1`).
package struct TrainingOptions: ParsableArguments {
    package init() {}

    @OptionGroup package var networkOptions: NetworkOptions

    @Flag(help: "Turn augmentation off (every augmentation key at its 'none' value).")
    package var noAugmentation = false

    @Option(help: "Stop every epoch after this many steps (for quick trials).")
    package var maxStepsPerEpoch: Int?

    @OptionGroup package var settings: SettingFlags<TrainingSettings>

    package func validate() throws {
        if let maxStepsPerEpoch, maxStepsPerEpoch < 1 { throw ValidationError("--max-steps-per-epoch must be at least 1") }
    }

    /// The training file (or the built-in defaults) with the flags applied, checked; see
    /// `NetworkOptions.config(initialWeights:)`.
    package func resolvedConfig(initialWeights: URL? = nil) throws -> TrainingConfig {
        var config = try networkOptions.config(initialWeights: initialWeights)
        try settings.apply(to: &config)  // sequence names as given: the dataset's layout says what they stand for
        if noAugmentation { config.augmentation = .none }
        return try networkOptions.check(config)
    }
}

/// Settings that cannot run together; names where they came from.
package struct ConfigurationProblem: Error, CustomStringConvertible {
    package var source: String
    package var problems: [String]
    package var description: String { "\(source): " + problems.joined(separator: "; ") }

    package init(source: String, problems: [String]) {
        self.source = source
        self.problems = problems
    }
}

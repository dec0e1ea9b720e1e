import ArgumentParser
import Formats
import Inference
import Losses
import Projection

/// A set of settings that a command offers as flags: a table of `Setting`s and the defaults
/// its help shows.
package protocol SettingScope {
    associatedtype Root
    static var settings: [Setting<Root>] { get }
    static var defaults: Root { get }
    /// What the flags set, for the help: "any key of the training file".
    static var what: String { get }
}

/// Every key of a training file with a flag (`train`, `compare`, `bench train`).
package enum TrainingSettings: SettingScope {
    package static var settings: [Setting<TrainingConfig>] { TrainingConfig.flagSettings }
    package static var defaults: TrainingConfig { TrainingConfig() }
    package static var what: String { "any key of the training file (data/train.yaml), its blocks' keys included" }
}

/// What inference reads of a training file: the sensor, the precision and the convolution
/// algorithm (`bench infer`).
package enum InferenceSettings: SettingScope {
    package static var settings: [Setting<TrainingConfig>] {
        ProjectionConfig.settings.map { $0.within("sensor", \.sensor) } + TrainingConfig.settings.filter { ["precision", "winograd"].contains($0.key) }
    }
    package static var defaults: TrainingConfig { TrainingConfig() }
    package static var what: String { "the sensor: block's keys, precision and winograd" }
}

/// The keys of a training file's `loss:` block (`rangeseg loss`).
package enum LossSettings: SettingScope {
    package static var settings: [Setting<LossConfig>] { LossConfig.settings }
    package static var defaults: LossConfig { LossConfig() }
    package static var what: String { "any key of a training file's loss: block" }
}

/// The keys of the `sensor:` block (`export`).
package enum SensorSettings: SettingScope {
    package static var settings: [Setting<ProjectionConfig>] { ProjectionConfig.settings }
    package static var defaults: ProjectionConfig { ProjectionConfig() }
    package static var what: String { "any key of a training file's sensor: block" }
}

/// The settings of `Scope` as flags, derived from its table: `--KEY VALUE` with dashes for
/// underscores (`--focal-gamma 1.5`, `--reference-factor 4x8`, `--train-sequences 00,01`),
/// switches alone or negated (`--nesterov`, `--no-rotate`). Each overrides the same key of the
/// training file. The flags are collected as the arguments no other option of the command
/// took, so a command that uses this takes no positional arguments.
package struct SettingFlags<Scope: SettingScope>: ParsableArguments {
    package init() {}

    @Argument(parsing: .allUnrecognized,
              help: ArgumentHelp("Settings as flags: \(Scope.what), as --KEY VALUE with dashes for underscores; each overrides the file.",
                                 discussion: Scope.settings.flagHelp(defaults: Scope.defaults), valueName: "--setting value"))
    package var given: [String] = []

    package func validate() throws {
        var scratch = Scope.defaults
        do { try Scope.settings.apply(flags: given, to: &scratch) } catch { throw ValidationError(error.description) }
    }

    /// Applies the flags given to `root`.
    package func apply(to root: inout Scope.Root) throws {
        do { try Scope.settings.apply(flags: given, to: &root) } catch { throw ValidationError(error.description) }
    }

    /// Whether the flag `--name` was given.
    package func contains(_ name: String) -> Bool {
        given.contains { $0 == "--\(name)" || $0.hasPrefix("--\(name)=") || $0 == "--no-\(name)" }
    }
}

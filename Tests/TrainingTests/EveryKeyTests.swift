import BundledData
import Configuration
import Formats
import Engine
import Foundation
import Inference
import Losses
import Testing
import Yams

/// Every key of a training file and of an architecture file, each set to a value other than its
/// default, read back: a key that decoding forgets (it would silently keep the default) or that
/// encoding leaves out of `config.yaml` fails here.
struct EveryKeyTests {
    /// Every leaf of a YAML document as "a.b.c" -> its value's text.
    func leaves(_ yaml: String) throws -> [String: String] {
        var out: [String: String] = [:]
        func walk(_ node: Node, _ path: String) {
            switch node {
            case .mapping(let mapping) where !mapping.isEmpty:
                for (key, value) in mapping { walk(value, path.isEmpty ? key.string ?? "?" : "\(path).\(key.string ?? "?")") }
            case .mapping:
                out[path] = "{}"
            default:
                out[path] = (try? Yams.serialize(node: node))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            }
        }
        walk(try #require(try Yams.compose(yaml: yaml)), "")
        return out
    }

    static let everyTrainingKey = """
    sensor: {height: 32, width: 1024, fov_up: 2, fov_down: -24, means: [1, 2, 3, 4, 5], stds: [2, 3, 4, 5, 6]}
    loss:
      terms: subclassified:0.5+ce:0.5
      reduction: mean
      tau: 0.9
      kappa: 5
      power: 0.25
      max_weight: 5
      reference_factor: 4x4
      query_factor: 2x2
      batch_averaged_weights: true
      subclass_reduction: sum
      focal_gamma: 1
      dice_smooth: 0.5
      subclasses: {car: 3}
      default_subclasses: 2
      centroid_update: recluster
      update_every: 50
      centroid_momentum: 0.5
      centroid_warmup_steps: 10
      centroid_ce_warmup_steps: 5
      subclass_features: logits
      centroid_normalisation: all
    optimizer: {kind: adamw, learning_rate: 0.001, momentum: 0.8, weight_decay: 0.001, nesterov: true}
    schedule: {kind: cosine, warmup_epochs: 2, decay_per_epoch: 0.9, minimum_learning_rate: 0.0001}
    augmentation: {rotate: false, flip: false, jitter: 0.02, drop: 0.1, paste: 3, mix: 0.5, mix_sector: 90, mix_copies: 1,
                   rare_classes: [bicycle, person], rare_share: 0.01, paste_budget: 1000}
    batch_size: 4
    accumulate: 2
    epochs: 3
    precise_batch_norm_scans: 8
    train_sequences: ["00", "01"]
    valid_sequences: ["08"]
    seed: 7
    precision: bf16
    winograd: always
    distributed: {ranks: 2, batch_per_rank: 2, accumulate: 2, global_batch: 8}
    """

    @Test func everyTrainingKeyReadsBackAndDiffersFromItsDefault() throws {
        let config = try TrainingConfig(yamlText: Self.everyTrainingKey, file: "every-key.yaml")
        let written = try config.yamlText()
        #expect(try TrainingConfig(yamlText: written, file: "written") == config)
        let defaults = try leaves(TrainingConfig().yamlText())
        let changed = try leaves(written)
        let given = try leaves(Self.everyTrainingKey)
        // The architecture is the network's (its keys are checked below); the rest is every key.
        let keys = defaults.keys.filter { !$0.hasPrefix("architecture") }
        // (An empty mapping by default, such as `subclasses: {}`, is set by giving it keys.)
        let unset = keys.filter { key in given[key] == nil && !given.keys.contains { $0.hasPrefix(key + ".") } }
        #expect(unset.isEmpty, "keys config.yaml writes that this test does not set: \(unset.sorted())")
        #expect(Set(given.keys).subtracting(changed.keys).isEmpty, "keys read but not written: \(Set(given.keys).subtracting(changed.keys).sorted())")
        for key in keys.sorted() {
            #expect(changed[key] != defaults[key], "\(key) kept its default \(defaults[key] ?? "?"): decoding ignored it")
        }
    }

    /// Every flag of `train` (derived from the key tables) sets its key: each key's non-default
    /// value above, given as a flag to the defaults, reads back as that value, and no other key moves.
    @Test func everyKeyIsAFlagThatSetsIt() throws {
        let target = try TrainingConfig(yamlText: Self.everyTrainingKey, file: "every-key.yaml")
        let defaults = TrainingConfig()
        let settings = TrainingConfig.flagSettings
        let flags = settings.compactMap(\.flag)
        #expect(Set(flags).count == flags.count, "two keys share a flag: \(flags.sorted())")
        // Every key the file holds (but the architecture, chosen by --network) has a flag.
        let fileKeys = try leaves(TrainingConfig().yamlText()).keys.filter { !$0.hasPrefix("architecture") }
        let flagged = Set(settings.map(\.key))
        let missing = fileKeys.filter { key in !flagged.contains(key) && !flagged.contains { key.hasPrefix($0 + ".") } }
        #expect(missing.isEmpty, "keys without a flag: \(missing.sorted())")
        for setting in settings {
            let value = setting.text(in: target)
            #expect(value != setting.text(in: defaults), "\(setting.key): the every-key value equals the default")
            var config = defaults
            try settings.apply(flags: ["--\(setting.flag!)", value], to: &config)
            #expect(setting.text(in: config) == value, "--\(setting.flag!) \(value) did not set \(setting.key)")
            let moved = settings.filter { $0.key != setting.key && $0.text(in: config) != $0.text(in: defaults) }
            // subclass_reduction sets both subclass losses' reduction; nothing else moves another key.
            #expect(moved.isEmpty, "--\(setting.flag!) also moved \(moved.map(\.key))")
        }
    }

    @Test func flagsTakeSwitchesEqualsAndNegativeNumbersAndNameTheNearestFlag() throws {
        var config = TrainingConfig()
        try TrainingConfig.flagSettings.apply(flags: ["--no-rotate", "--nesterov", "--fov-down", "-24", "--focal-gamma=1.5",
                                                      "--train-sequences", "00,01", "--loss", "lovasz+wce"], to: &config)
        #expect(!config.augmentation.rotate && config.optimizer.nesterov && config.sensor.fovDown == -24)
        let lovaszWCE = try LossSpec(parsing: "lovasz+wce")
        #expect(config.loss.focalGamma == 1.5 && config.trainSequences == ["00", "01"] && config.loss.terms == lovaszWCE)
        #expect(throws: SettingFlagError.self) { try TrainingConfig.flagSettings.apply(flags: ["--epoch", "3"], to: &config) }
        do {
            try TrainingConfig.flagSettings.apply(flags: ["--focal-gama", "1"], to: &config)
        } catch {
            #expect(error.description == "unknown option --focal-gama (did you mean --focal-gamma?)")
        }
        do {
            try TrainingConfig.flagSettings.apply(flags: ["--loss", "cee"], to: &config)
            Issue.record("--loss cee was accepted")
        } catch {
            #expect(error.description.hasPrefix("--loss: 'cee' is not a loss"), "\(error.description)")
        }
        #expect(throws: SettingFlagError.self) { try TrainingConfig.flagSettings.apply(flags: ["--epochs"], to: &config) }
        #expect(throws: SettingFlagError.self) { try TrainingConfig.flagSettings.apply(flags: ["--epochs", "many"], to: &config) }
    }

    /// data/train.yaml documents every key: each table's keys appear in it.
    @Test func trainYAMLListsEveryKey() throws {
        let text = BundledData.trainingConfig
        let documented = try leaves(text).keys
        for setting in TrainingConfig.flagSettings {
            #expect(documented.contains(setting.key), "data/train.yaml does not list \(setting.key)")
        }
    }

    static let everyArchitectureKey = """
    kind: darknet
    input_depth: {range: false, xyz: true, remission: false}
    classes: 7
    stem_width: 8
    widths: [16, 32]
    blocks: [2, 1]
    leaky_slope: 0.2
    batch_norm_momentum: 0.1
    batch_norm_epsilon: 0.001
    dropout: 0.1
    decoder_dropout: 0.2
    head_dropout: 0.3
    """

    @Test func everyArchitectureKeyReadsBackAndDiffersFromItsDefault() throws {
        let architecture = try YAMLFile.decode(ArchitectureConfig.self, yaml: Self.everyArchitectureKey, file: "every-key.yaml")
        let written = try YAMLFile.encode(architecture)
        #expect(try YAMLFile.decode(ArchitectureConfig.self, yaml: written, file: "written") == architecture)
        let defaults = try leaves(YAMLFile.encode(ArchitectureConfig.rangeNetLite))
        let changed = try leaves(written)
        #expect(Set(defaults.keys).subtracting(try leaves(Self.everyArchitectureKey).keys).isEmpty)
        for key in defaults.keys.sorted() where key != "input_depth.xyz" {
            #expect(changed[key] != defaults[key], "\(key) kept its default \(defaults[key] ?? "?")")
        }
    }
}

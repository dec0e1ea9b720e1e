import BundledData
import Configuration
import Engine
import Formats
import Foundation
import Losses
import Testing
import TestSupport
@testable import Inference
@testable import Training

/// The configuration model: one source of defaults, strict keys, files that work anywhere.
struct TrainingConfigTests {
    let data = SampleData.packageRoot.appendingPathComponent("data")

    @Test func theShippedFilesHoldExactlyTheDefaults() throws {
        // data/train.yaml lists every default; the structs hold the same values.
        #expect(try TrainingConfig(yaml: data.appendingPathComponent("train.yaml")) == TrainingConfig())
        #expect(try TrainingConfig.defaults == TrainingConfig())
        #expect(try YAMLFile.decode(ArchitectureConfig.self, from: data.appendingPathComponent("networks/rangenet-lite.yaml")) == .rangeNetLite)
        #expect(BundledData.trainingConfig == (try String(contentsOf: data.appendingPathComponent("train.yaml"), encoding: .utf8)))
        #expect(TrainingConfig().problems.isEmpty)
    }

    @Test func aMisspeltKeyIsAnErrorNamingFileKeyAndNearestKey() throws {
        let dir = SampleData.temporaryDirectory("config-typo")
        for (text, expected) in [("optimizer:\n  learning_rat: 0.1\n", "optimizer.learning_rat: unknown key (did you mean learning_rate?)"),
                                 ("learning_rate: 0.1\n", "learning_rate: unknown key"),
                                 ("loss:\n  tua: 0.9\n", "loss.tua: unknown key (did you mean tau?)"),
                                 ("sensor:\n  widht: 1024\n", "sensor.widht: unknown key (did you mean width?)"),
                                 ("architecture:\n  block: [1]\n", "architecture.block: unknown key (did you mean blocks?)"),
                                 ("epoch: 3\n", "epoch: unknown key (did you mean epochs?)")] {
            let url = dir.appendingPathComponent("t.yaml")
            try Data(text.utf8).write(to: url)
            let error = #expect(throws: FormatError.self) { try TrainingConfig(yaml: url) }
            #expect(error?.file == url.path)
            #expect(error?.reason.hasPrefix(expected) == true, "\(String(describing: error))")
        }
    }

    @Test func aPartialFileWorksFromAnyDirectory() throws {
        let dir = SampleData.temporaryDirectory("config-partial")
        let url = dir.appendingPathComponent("mine.yaml")
        try Data("epochs: 30\nloss:\n  tau: 0.95\n".utf8).write(to: url)
        let config = try TrainingConfig(yaml: url)
        var expected = TrainingConfig()
        expected.epochs = 30
        expected.loss.subclassified.threshold = 0.95
        #expect(config == expected)
        // An empty file is every default.
        try Data().write(to: url)
        #expect(try TrainingConfig(yaml: url) == TrainingConfig())
    }

    @Test func aNetworkFileIsReadBesideTheTrainingFile() throws {
        let dir = SampleData.temporaryDirectory("config-network")
        try Data("widths: [8, 16]\nblocks: [1, 2]\n".utf8).write(to: dir.appendingPathComponent("small.yaml"))
        let url = dir.appendingPathComponent("t.yaml")
        try Data("network: small.yaml\n".utf8).write(to: url)
        let config = try TrainingConfig(yaml: url)
        #expect(config.architecture.widths == [8, 16] && config.architecture.blocks == [1, 2])
        try Data("network: missing.yaml\n".utf8).write(to: url)
        let missing = #expect(throws: FormatError.self) { try TrainingConfig(yaml: url) }
        #expect(missing?.reason.contains("missing.yaml does not exist") == true)
        try Data("network: small.yaml\narchitecture:\n  classes: 4\n".utf8).write(to: url)
        let both = #expect(throws: FormatError.self) { try TrainingConfig(yaml: url) }
        #expect(both?.reason.contains("not both") == true)
    }

    @Test func theWrittenConfigReadsBackAndShowsNumbersAsPeopleWriteThem() throws {
        var config = TrainingConfig()
        config.loss.subclassified.threshold = 0.97
        config.loss.terms = try LossSpec(parsing: "subclassified:0.2,ce:0.8")
        config.sensor.width = 1024
        config.trainSequences = ["00", "01"]
        let text = try config.yamlText()
        for line in ["  tau: 0.97", "  fov_up: 3", "  fov_down: -25", "  means: [12.12, 10.88, 0.23, -1.04, 0.21]",
                     "  learning_rate: 0.01", "  weight_decay: 0.0001", "  batch_norm_epsilon: 1.0e-05",
                     "  terms: subclassified:0.2+ce:0.8"] {
            #expect(text.contains(line + "\n"), "missing '\(line)' in\n\(text)")
        }
        #expect(!text.contains("e+0") && !text.contains("e+1"))
        #expect(try TrainingConfig(yamlText: text, file: "written") == config)
    }

    /// A launch record whose global batch overflows, and a network of 64 stages (whose width
    /// divisor 2^64 is 0 in an Int), used to stop the process; now they are errors and problems.
    @Test func impossibleLaunchesAndStageCountsAreErrors() throws {
        let launch = "distributed: {ranks: 4294967296, batch_per_rank: 4294967296}\n"
        let error = #expect(throws: FormatError.self) { try TrainingConfig(yamlText: launch, file: "run.yaml") }
        #expect(error?.file == "run.yaml")
        #expect(error?.reason == "distributed.global_batch: ranks x accumulate x batch_per_rank (4294967296 x 1 x 4294967296) is too large",
                "\(String(describing: error))")
        let recorded = try TrainingConfig(yamlText: "distributed: {ranks: 4294967296, batch_per_rank: 4294967296, global_batch: 3}\n", file: "run.yaml")
        #expect(recorded.distributed?.globalBatch == 3)
        #expect(TrainingConfig.Launch(progressEntries: ["ranks": "4294967296", "accumulate": "1", "batch_size": "4294967296"]) == nil)

        for stages in [17, 64, 65] {
            let widths = Array(repeating: "2", count: stages).joined(separator: ", ")
            let blocks = Array(repeating: "1", count: stages).joined(separator: ", ")
            let config = try TrainingConfig(yamlText: "architecture:\n  widths: [\(widths)]\n  blocks: [\(blocks)]\n", file: "deep.yaml")
            #expect(config.problems.contains("architecture: at most 16 encoder stages (widths), found \(stages): each halves the image width"),
                    "\(config.problems)")
        }
    }

    @Test func accumulationAndTheLaunchRecord() throws {
        #expect(TrainingConfig().accumulate == 1)
        var config = try TrainingConfig(yamlText: "accumulate: 4\nbatch_size: 3\n", file: "t")
        #expect(config.accumulate == 4 && config.batchSize == 3 && config.problems.isEmpty)
        config.accumulate = 0
        #expect(config.problems.contains("accumulate must be at least 1"))
        // A run's config.yaml records the launch; read back, it changes nothing of the training.
        config.accumulate = 2
        config.distributed = TrainingConfig.Launch(ranks: 8, batchPerRank: 3, accumulate: 2)
        let text = try config.yamlText()
        #expect(text.hasSuffix("distributed:\n  ranks: 8\n  batch_per_rank: 3\n  accumulate: 2\n  global_batch: 48\n"), "\(text)")
        #expect(try TrainingConfig(yamlText: text, file: "written") == config)
        let typo = #expect(throws: FormatError.self) { try TrainingConfig(yamlText: "distributed:\n  rank: 2\n", file: "t") }
        #expect(typo?.reason.hasPrefix("distributed.rank: unknown key (did you mean ranks?)") == true, "\(String(describing: typo))")
    }

    @Test func lossParametersHaveOneHome() throws {
        // The loss block's keys land in the options the loss functions take.
        let config = try YAMLFile.decode(LossConfig.self, yaml: "terms: centroid\ntau: 0.5\nsubclasses: {1: 3, car: 5}\nsubclass_reduction: sum\ncentroid_normalisation: all\n",
                                         file: "loss")
        #expect(config.terms == LossSpec(.centroid))
        #expect(config.subclassified.threshold == 0.5)
        // Subclass counts by learning id or class name.
        #expect(try config.subclassesByID(classNames: ["unlabeled", "bicycle", "car"]) == [1: 3, 2: 5])
        let unknown = #expect(throws: LossError.self) { try config.subclassesByID(classNames: ["unlabeled", "bicycle"]) }
        #expect(unknown?.description.hasPrefix("subclasses: 'car' is not a learning id or class name") == true)
        #expect(config.subclassified.reduction == .sum && config.centroid.reduction == .sum)
        #expect(config.centroid.normalisation == .all && LossConfig().centroid.normalisation == .present)
        let wrong = #expect(throws: (any Error).self) { try YAMLFile.decode(LossConfig.self, yaml: "centroid_normalisation: some\n", file: "loss") }
        #expect(String(describing: wrong).contains("centroid_normalisation"), "\(String(describing: wrong))")
        #expect(LossConfig().subclassified == SubclassifiedOptions())
        #expect(LossConfig().centroid == CentroidSubclassOptions())
    }
}

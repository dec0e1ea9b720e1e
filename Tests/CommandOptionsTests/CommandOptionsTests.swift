import ArgumentParser
import CommandOptions
import Engine
import Inference
import Losses
import Projection
import Testing

/// The option groups the commands share, parsed in process: what a flag sets, and the message a
/// user sees for a bad one.
@Suite struct CommandOptionsTests {
    @Test func trainingFlagsOverrideTheBuiltInFile() throws {
        let options = try TrainingOptions.parse(["--epochs", "3", "--learning-rate", "0.005", "--focal-gamma", "1.5", "--no-rotate",
                                                 "--train-sequences", "00,01", "--loss", "lovasz+wce", "--network", "darknet21",
                                                 "--width", "1024", "--precision", "fp32", "--max-steps-per-epoch", "2"])
        let config = try options.resolvedConfig()
        #expect(config.epochs == 3 && config.optimizer.learningRate == 0.005 && config.loss.focalGamma == 1.5)
        #expect(!config.augmentation.rotate && config.augmentation.flip)
        let lovaszWCE = try LossSpec(parsing: "lovasz+wce")
        #expect(config.trainSequences == ["00", "01"] && config.loss.terms == lovaszWCE)
        #expect(config.architecture.kind == "darknet" && config.sensor.width == 1024 && config.precision == .fp32)
        #expect(options.maxStepsPerEpoch == 2)
        // Untouched keys keep the file's values.
        #expect(config.batchSize == TrainingConfig().batchSize && config.loss.subclassified == TrainingConfig().loss.subclassified)
    }

    @Test func badFlagsGetMessagesThatNameThem() {
        func message(_ arguments: [String]) -> String {
            do {
                _ = try TrainingOptions.parse(arguments)
                return "accepted"
            } catch {
                return TrainingOptions.message(for: error)
            }
        }
        #expect(message(["--epoch", "3"]) == "unknown option --epoch (did you mean --epochs?)")
        #expect(message(["--focal-gamma", "much"]) == "--focal-gamma: 'much' is not a valid value (number)")
        #expect(message(["--loss", "cee"]).hasPrefix("--loss: 'cee' is not a loss"))
        #expect(message(["--epochs"]) == "--epochs needs a value (integer)")
        #expect(message(["--max-steps-per-epoch", "0"]) == "--max-steps-per-epoch must be at least 1")
    }

    @Test func settingsAreCheckedTogetherAfterTheFlags() throws {
        let options = try TrainingOptions.parse(["--width", "1000"])
        #expect(throws: ConfigurationProblem.self) { try options.resolvedConfig() }
        do { _ = try options.resolvedConfig() } catch {
            #expect("\(error)".contains("sensor: width 1000 must be divisible by 32"), "\(error)")
        }
    }

    @Test func eachGroupOffersOnlyItsKeys() throws {
        var sensor = ProjectionConfig()
        try SettingFlags<SensorSettings>.parse(["--height", "32", "--fov-down", "-24"]).apply(to: &sensor)
        #expect(sensor.height == 32 && sensor.fovDown == -24)
        #expect(throws: (any Error).self) { try SettingFlags<SensorSettings>.parse(["--epochs", "3"]) }
        #expect(throws: (any Error).self) { try SettingFlags<InferenceSettings>.parse(["--tau", "0.9"]) }
        var loss = LossConfig()
        try SettingFlags<LossSettings>.parse(["--tau", "0.9", "--subclasses", "car:4,person:3"]).apply(to: &loss)
        #expect(loss.subclassified.threshold == 0.9 && loss.subclassCounts == ["car": 4, "person": 3])
    }

    @Test func namesAndGeometry() throws {
        #expect(NameList(argument: "00, 08")?.names == ["00", "08"])
        #expect(NameList(argument: "00,,08") == nil)
        let projection = try ProjectionOptions.parse(["--height", "32", "--fov-up", "2"])
        #expect(projection.config.height == 32 && projection.config.fovUp == 2 && projection.config.width == ProjectionConfig().width)
        #expect(throws: (any Error).self) { try ProjectionOptions.parse(["--fov-up", "-30"]) }
    }
}

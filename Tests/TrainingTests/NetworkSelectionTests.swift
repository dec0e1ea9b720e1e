import BundledData
import Configuration
import Engine
import Formats
import Foundation
import Inference
import Random
import SemanticKITTI
import Testing
import TestSupport

/// Networks chosen by name: the shipped architecture files, their sizes, and what a run records.
struct NetworkSelectionTests {
    let networks = SampleData.packageRoot.appendingPathComponent("data/networks")

    @Test func everyShippedFileIsBuiltInAndNamesItsNetwork() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: networks.path).filter { $0.hasSuffix(".yaml") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == Set(TrainingConfig.networkNames))
        for file in files {
            let name = String(file.dropLast(5))
            let architecture = try YAMLFile.decode(ArchitectureConfig.self, from: networks.appendingPathComponent(file))
            #expect(architecture.problems.isEmpty, "\(file): \(architecture.problems)")
            #expect(architecture.name == name, "\(file) builds \(architecture.name)")
            #expect(BundledData.networks[name] == (try String(contentsOf: networks.appendingPathComponent(file), encoding: .utf8)))
        }
    }

    /// Parameters as the official PyTorch classes count them (tools/reference_networks.py
    /// printed 24,712,980, 50,377,364 and 6,711,572; shared/reference/rangenet_lite.py 1,226,036), and the FLOPs of a 5 x 64 x 2048 scan.
    @Test(arguments: [("rangenet-lite", 1_226_036, 18.0), ("darknet21", 24_712_980, 392.0),
                      ("darknet53", 50_377_364, 719.0), ("salsanext", 6_711_572, 125.0)])
    func sizesAreTheOfficialOnes(name: String, parameters: Int, gigaFLOPs: Double) throws {
        let config = try TrainingConfig(yamlText: "network: \(name)\n", file: "t.yaml")
        var generator = RandomGenerator(seed: 0)
        let network = Networks.make(config.architecture, generator: &generator)
        #expect(network.parameterCount == parameters)
        let flops = network.forwardFLOPs(batch: 1, height: 64, width: 2048) / 1e9
        #expect(abs(flops - gigaFLOPs) / gigaFLOPs < 0.02, "\(name): \(flops) GFLOP")
    }

    @Test func aNetworkIsNamedInTheFileOrByAFileAndRecordedInTheRun() throws {
        let dir = SampleData.temporaryDirectory("network-name")
        let file = dir.appendingPathComponent("train.yaml")
        try Data("network: darknet53\nepochs: 1\n".utf8).write(to: file)
        let config = try TrainingConfig(yaml: file)
        #expect(config.architecture.kind == "darknet" && config.architecture.blocks == DarkNet.blocks53)
        #expect(config.architecture.name == "darknet53")
        // The run's config.yaml writes the architecture inline, and reads back the same.
        let again = try TrainingConfig(yamlText: config.yamlText(), file: "config.yaml")
        #expect(again.architecture == config.architecture)

        // A name that is neither a network nor a file is an error naming both possibilities.
        try Data("network: darknet54\n".utf8).write(to: file)
        let error = #expect(throws: FormatError.self) { try TrainingConfig(yaml: file) }
        #expect(error?.reason.contains("darknet53") == true && error?.reason.contains("does not exist") == true, "\(String(describing: error))")

        // An unknown kind in an architecture file names the known ones.
        let arch = dir.appendingPathComponent("mine.yaml")
        try Data("kind: resnet\n".utf8).write(to: arch)
        try Data("network: mine.yaml\n".utf8).write(to: file)
        let kindError = #expect(throws: FormatError.self) { try TrainingConfig(yaml: file) }
        #expect(kindError?.reason.contains("unknown network 'resnet'") == true, "\(String(describing: kindError))")
    }

    @Test func inputChannelsFollowTheArchitecture() throws {
        var config = try TrainingConfig(yamlText: "network: darknet21\n", file: "t.yaml")
        config.architecture.inputs = .init(range: true, xyz: false, remission: true)
        #expect(config.architecture.inputChannels == 2)
        let builder = SampleBuilder(config: config, lookup: try LabelConfig.semanticKITTI.lookup())
        let all = SampleBuilder(sensor: config.sensor, lookup: try LabelConfig.semanticKITTI.lookup())
        let scan = Scan(values: [10, 0, 0, 0.5, 0, 10, 1, 0.25])
        var g = RandomGenerator(seed: 0), h = RandomGenerator(seed: 0)
        let two = builder.sample(scan: scan, labels: nil, augmentation: .none, generator: &g)
        let five = all.sample(scan: scan, labels: nil, augmentation: .none, generator: &h)
        let hw = config.sensor.height * config.sensor.width
        #expect(two.input.count == 2 * hw)
        #expect(Array(two.input[0 ..< hw]) == Array(five.input[0 ..< hw]))            // range
        #expect(Array(two.input[hw ..< 2 * hw]) == Array(five.input[4 * hw ..< 5 * hw]))  // remission
        // The legacy key must agree with input_depth.
        #expect(throws: FormatError.self) {
            try TrainingConfig(yamlText: "architecture:\n  input_channels: 5\n  input_depth: {xyz: false}\n", file: "t.yaml")
        }
    }

    /// The network's input is each pixel's range, x, y, z and remission, less the sensor's mean,
    /// over its standard deviation, and 0 in empty pixels, on every pixel of a real scan.
    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func inputIsTheNormalisedRangeImage() throws {
        let config = TrainingConfig()
        let builder = SampleBuilder(config: config, lookup: try LabelConfig.semanticKITTI.lookup())
        var g = RandomGenerator(seed: 0)
        let sample = builder.sample(scan: try Scan(bin: SampleData.scan(0)), labels: nil, augmentation: .none, generator: &g)
        let image = sample.image, hw = image.height * image.width
        let (means, stds) = (config.sensor.means, config.sensor.stds)
        var wrong = 0, empty = 0
        for p in 0 ..< hw {
            let values = [image.range[p], image.xyz[3 * p], image.xyz[3 * p + 1], image.xyz[3 * p + 2], image.remission[p]]
            if image.index[p] < 0 { empty += 1 }
            for k in 0 ..< 5 {
                let expected = image.index[p] < 0 ? 0 : (values[k] - means[k]) * (1 / stds[k])
                if sample.input[k * hw + p] != expected { wrong += 1 }
            }
        }
        #expect(wrong == 0)
        #expect(empty > 0 && empty < hw, "the scan should have both empty and filled pixels")
    }
}

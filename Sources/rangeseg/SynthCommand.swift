import ArgumentParser
import CommandOptions
import Foundation
import SemanticKITTI
import Synth

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Simulate a Velodyne HDL-64E driving through generated streets; write SemanticKITTI sequences.",
        discussion: """
        Writes OUT/sequences/NN/velodyne/NNNNNN.bin, labels/NNNNNN.label (raw SemanticKITTI ids, \
        instance ids for vehicles, people and bicycles), calib.txt, poses.txt and times.txt in \
        the KITTI odometry format, and each point's kind of appearance within its class \
        (subclasses/NNNNNN.label; the kinds' names, classes and shares in subclasses.yaml: \
        sedan or van, walking or sitting person, far car, tree crown or hedge, ...), which \
        `rangeseg evaluate` scores per kind. The output depends on the seed only (the same seed writes the \
        same bytes, on any number of cores); scans are simulated on all cores. Prints the class \
        histogram of what was written.

        Examples:
          rangeseg synth --out out/synth --sequences 00,01,08 --scans 50 --seed 7
          rangeseg synth --out out/synth --sequences 08 --scans 10 --staged
          rangeseg synth --out out/synth --sequences 00,01 --scans 12 --interval 1
          rangeseg synth --out out/synth --scans 200 --config-out \\
            out/synth/semantic-kitti-synth.yaml
        """
    )

    @Option(help: "Output directory (the dataset root: sequences/NN go under it).")
    var out: String

    @Option(help: "Comma-separated sequence numbers.")
    var sequences: String = "00"

    @Option(help: "Scans per sequence (10 per second of driving unless --interval says otherwise).")
    var scans: Int = 50

    @Option(help: ArgumentHelp("Seconds of driving between scans (default: every scan the sensor makes, 0.1 s). Scans 0.1 s apart show nearly the same street; 1 s apart, a training set of a few scans per sequence covers a longer one.", valueName: "seconds"))
    var interval: Double?

    @Option(help: "Random seed: the same seed writes the same files.")
    var seed: UInt64 = 0

    @Option(help: "Firings (azimuth steps) per revolution; fewer makes sparser scans faster.")
    var firings: Int = SensorModel.hdl64e.firings

    @Flag(help: "Place every class and kind beside the drive on purpose (validation sequences: 10 scans hold >= 2,000 points of each class and >= 300 of each kind).")
    var staged = false

    @Option(help: "Worker threads (default: one per core).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("content-out"), help: ArgumentHelp("Also write the histogram as a YAML 'content:' block (raw id: fraction) to this file.", valueName: "yaml"))
    var contentOut: String?

    @Option(name: .customLong("config-out"), help: ArgumentHelp("Also write a full label config: the --config one with its 'content' replaced by the histogram.", valueName: "yaml"))
    var configOut: String?

    @OptionGroup var labelConfig: LabelConfigOption

    var sequenceList: [String] {
        sequences.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    var synthConfiguration: SynthConfiguration {
        SynthConfiguration(seed: seed, sequences: sequenceList, scans: scans, interval: interval,
                           sensor: SensorModel.hdl64e.withFirings(firings), workers: workers, staged: staged)
    }

    func validate() throws {
        if sequenceList.contains(where: \.isEmpty) { throw ValidationError("--sequences: empty sequence name in '\(sequences)'") }
        if firings < 1 { throw ValidationError("--firings must be at least 1") }
        if let problem = synthConfiguration.problem() { throw ValidationError(problem) }
    }

    func run() throws {
        // Read the config first, so a bad --config fails before anything is simulated.
        let config = try configOut.map { _ in try labelConfig.load() }
        let root = URL(fileURLWithPath: out)
        let configuration = synthConfiguration
        let names = configuration.sequences.map(SemanticKITTIDataset.normalise)
        let bar = ProgressBar("synth", total: names.count * scans, unit: "scans")
        let start = Date()
        let report: SynthReport
        do {
            report = try Synthesizer.run(configuration, root: root) { _ in bar.advance() }
        } catch {
            bar.finish()
            throw error
        }
        bar.finish()
        let seconds = Date().timeIntervalSince(start)

        print("wrote \(report.scans) scans (\(report.points) points) of sequence\(names.count == 1 ? "" : "s") \(names.joined(separator: ", ")) to \(root.appendingPathComponent("sequences").path)")
        print(String(format: "%.1f s, %.0f ms per scan on %d workers, %.0f points per scan", seconds, seconds * 1000 / Double(report.scans), min(workers, report.scans), Double(report.points) / Double(report.scans)))
        print()
        print(report.histogram.table)
        print()
        print(report.kindTable)

        if let contentOut {
            try report.histogram.writeContent(yaml: URL(fileURLWithPath: contentOut))
            print("wrote content block to \(contentOut)")
        }
        if let configOut, let config {
            try report.histogram.replacingContent(of: config).write(yaml: URL(fileURLWithPath: configOut))
            print("wrote label config with synthetic content to \(configOut)")
        }
    }
}

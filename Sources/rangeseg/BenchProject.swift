import ArgumentParser
import CommandOptions
import Formats
import Foundation
import Projection
import SemanticKITTI

struct BenchProject: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Time the spherical projection of scans, single-threaded.",
        discussion: """
        Reads the scans once, then projects each of them --repeat times on one thread and prints \
        the median time per scan. tools/bench runs this beside the NumPy reference.

        Example:
          rangeseg bench project \\
            ../shared/data/semantickitti/sequences/00/velodyne/*.bin
        """
    )

    @Argument(help: "Scans (.bin) to project.")
    var scans: [String]

    @Option(name: .customLong("repeat"), help: "Timed projections of each scan.")
    var repetitions: Int = 20

    @OptionGroup var projection: ProjectionOptions

    func validate() throws {
        if repetitions < 1 { throw ValidationError("--repeat must be at least 1") }
    }

    func run() throws {
        let timing = try ProjectionTiming(scans: scans.map { try Scan(bin: URL(fileURLWithPath: $0)) }, config: projection.config,
                                          repetitions: repetitions)
        print(String(format: "rangeseg: median %.3f ms per scan (min %.3f, max %.3f) over %d projections, %d points per scan, %.1f ns per point",
                     timing.median, timing.milliseconds.first!, timing.milliseconds.last!, timing.milliseconds.count,
                     timing.pointsPerScan, timing.median * 1e6 / Double(timing.pointsPerScan)))
    }
}

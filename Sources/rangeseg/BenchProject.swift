import ArgumentParser
import CommandOptions
import Formats
import Foundation
import Projection
import SemanticKITTI

struct BenchProject: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Time the spherical projection of scans, single-threaded by default.",
        discussion: """
        Reads the scans once, then projects each of them --repeat times on --threads threads \
        (default 1, as the NumPy reference runs; rangeseg infer uses OpenMP's threads) and prints \
        the median time per scan. tools/bench runs this beside the NumPy reference.

        Examples:
          rangeseg bench project \\
            ../shared/data/semantickitti/sequences/00/velodyne/*.bin
          rangeseg bench project --threads 2 \\
            ../shared/data/semantickitti/sequences/00/velodyne/*.bin
        """
    )

    @Argument(help: "Scans (.bin) to project.")
    var scans: [String]

    @Option(name: .customLong("repeat"), help: "Timed projections of each scan.")
    var repetitions: Int = 20

    @Option(help: "Threads the projection's kernels share the work among (at most OpenMP's number, OMP_NUM_THREADS).")
    var threads: Int = 1

    @OptionGroup var projection: ProjectionOptions

    func validate() throws {
        if repetitions < 1 { throw ValidationError("--repeat must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let timing = try ProjectionTiming(scans: scans.map { try Scan(bin: URL(fileURLWithPath: $0)) }, config: projection.config,
                                          repetitions: repetitions, threads: threads)
        print(String(format: "rangeseg: median %.3f ms per scan (min %.3f, max %.3f) over %d projections, %d points per scan, %.1f ns per point, %d thread%@",
                     timing.median, timing.milliseconds.first!, timing.milliseconds.last!, timing.milliseconds.count,
                     timing.pointsPerScan, timing.median * 1e6 / Double(timing.pointsPerScan), timing.threads, timing.threads == 1 ? "" : "s"))
    }
}

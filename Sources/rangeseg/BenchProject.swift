import ArgumentParser
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
        let loaded = try scans.map { try Scan(bin: URL(fileURLWithPath: $0)) }
        let projector = SphericalProjection(projection.config)
        var checksum = 0
        for scan in loaded { checksum += projector.project(scan).filledPixels } // warm-up
        var times: [Double] = []
        for _ in 0 ..< repetitions {
            for scan in loaded {
                let start = DispatchTime.now().uptimeNanoseconds
                let image = projector.project(scan)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                checksum &+= image.filledPixels
            }
        }
        times.sort()
        let points = loaded.map(\.count).reduce(0, +) / loaded.count
        let median = times.median() ?? 0
        print(String(format: "rangeseg: median %.3f ms per scan (min %.3f, max %.3f) over %d projections, %d points per scan, %.1f ns per point",
                     median, times.first!, times.last!, times.count, points, median * 1e6 / Double(points)))
        _ = checksum
    }
}

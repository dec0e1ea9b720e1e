import CKernels
import Dispatch
import Formats
import SemanticKITTI

/// Projects scans onto range images (RangeNet++ / semantic-kitti-api convention).
///
/// For a point at (x, y, z) with r = |(x, y, z)|:
///
///     yaw   = -atan2(y, x)               pitch = asin(z / r)
///     u     = 0.5 * (yaw / pi + 1) * W   v     = (1 - (pitch + |fov_down|) / fov) * H
///     column = clamp(floor(u), 0, W - 1)  row  = clamp(floor(v), 0, H - 1)
///
/// with fov = |fov_up| + |fov_down| in radians. When several points fall into one pixel the
/// nearest wins. Arithmetic is in float32, as in the NumPy reference.
public struct SphericalProjection: Sendable {
    public let config: ProjectionConfig

    public init(_ config: ProjectionConfig = ProjectionConfig()) {
        precondition(config.problem() == nil, config.problem() ?? "")
        self.config = config
    }

    /// Projects `scan`. Points with a NaN or infinite coordinate or at range 0 are left out
    /// (row and column -1) and listed in `skippedPoints`.
    public func project(_ scan: Scan) -> RangeImage {
        let n = scan.count
        let width = config.width, pixels = config.height * config.width
        // Every output is written exactly once, so none is filled beforehand.
        var rows = [Int32](unsafeUninitializedCapacity: n) { _, count in count = n }
        var columns = [Int32](unsafeUninitializedCapacity: n) { _, count in count = n }
        var ranges = [Float](unsafeUninitializedCapacity: n) { _, count in count = n }
        scan.values.withUnsafeBufferPointer { values in
            rows.withUnsafeMutableBufferPointer { rows in
                columns.withUnsafeMutableBufferPointer { columns in
                    ranges.withUnsafeMutableBufferPointer { ranges in
                        placePoints(values, rows: rows, columns: columns, ranges: ranges)
                    }
                }
            }
        }

        var index = [Int32](unsafeUninitializedCapacity: pixels) { _, count in count = pixels }
        var range = [Float](unsafeUninitializedCapacity: pixels) { _, count in count = pixels }
        var xyz = [Float](unsafeUninitializedCapacity: pixels * 3) { _, count in count = pixels * 3 }
        var remission = [Float](unsafeUninitializedCapacity: pixels) { _, count in count = pixels }
        let skippedCount = rs_fill_pixels(scan.values, Int64(n), rows, columns, ranges, Int32(width), Int64(pixels),
                                          &index, &range, &xyz, &remission)
        var skipped: [RangeImage.SkippedPoint] = []
        if skippedCount > 0 {
            for i in 0 ..< n where rows[i] < 0 {
                skipped.append(.init(index: i, problem: scan.problem(ofPoint: i) ?? .nonFinite))
            }
        }
        return RangeImage(config: config, range: range, xyz: xyz, remission: remission, index: index,
                          pointRow: rows, pointColumn: columns, pointRange: ranges, skippedPoints: skipped)
    }

    /// Row, column and range of every point (points that cannot be placed get -1), by the C
    /// kernel `rs_place_points`. The per-point loops live in C because Swift's SIMD types did
    /// not compile to vector code here: the same loop in Swift ran 3 to 8 times more
    /// instructions than the C compiler's vectorised one (measured with callgrind).
    private func placePoints(_ values: UnsafeBufferPointer<Float>, rows: UnsafeMutableBufferPointer<Int32>,
                             columns: UnsafeMutableBufferPointer<Int32>, ranges: UnsafeMutableBufferPointer<Float>) {
        guard let base = values.baseAddress, values.count >= 4 else { return }
        rs_place_points(base, Int64(values.count / 4), Int32(config.height), Int32(config.width),
                        Double(config.fovUp) / 180 * Double.pi, Double(config.fovDown) / 180 * Double.pi,
                        rows.baseAddress!, columns.baseAddress!, ranges.baseAddress!)
    }
}

/// The time the spherical projection takes (`rangeseg bench project`) on `threads` threads
/// (1 by default, as the NumPy reference runs; at most OpenMP's number): each scan projected
/// once to warm up, then `repetitions` times, each projection timed.
public struct ProjectionTiming: Sendable {
    /// Milliseconds of each timed projection, sorted.
    public let milliseconds: [Double]
    /// Mean points per scan.
    public let pointsPerScan: Int
    /// The threads the kernels shared the work among.
    public let threads: Int
    /// The median time per projection, in milliseconds.
    public var median: Double { milliseconds.median() ?? 0 }

    public init(scans: [Scan], config: ProjectionConfig, repetitions: Int, threads: Int = 1) {
        precondition(!scans.isEmpty && repetitions > 0 && threads > 0, "time at least one scan once, on at least one thread")
        rs_parallel_limit_threads(Int32(threads))
        let sharing = rs_parallel_share_here(1)
        defer {
            rs_parallel_limit_threads(0)
            rs_parallel_share_here(sharing)
        }
        self.threads = Int(rs_parallel_threads())
        let projector = SphericalProjection(config)
        var checksum = 0
        for scan in scans { checksum &+= projector.project(scan).filledPixels } // warm-up
        var times: [Double] = []
        for _ in 0 ..< repetitions {
            for scan in scans {
                let start = DispatchTime.now().uptimeNanoseconds
                let image = projector.project(scan)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                checksum &+= image.filledPixels
            }
        }
        withExtendedLifetime(checksum) {}
        milliseconds = times.sorted()
        pointsPerScan = scans.map(\.count).reduce(0, +) / scans.count
    }
}

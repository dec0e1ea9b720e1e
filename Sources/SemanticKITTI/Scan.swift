import CKernels
import Formats
import Foundation

/// One LiDAR sweep: x, y, z (metres, sensor frame) and remission (0-1) per point.
///
/// Stored as in the `.bin` file, four `Float`s per point, so reading is one copy and the
/// projection walks a flat buffer.
public struct Scan: Sendable, Equatable {
    /// x, y, z, remission of point `i` at `values[4*i ..< 4*i + 4]`.
    public var values: [Float]

    public var count: Int { values.count / 4 }

    public init(values: [Float]) {
        precondition(values.count % 4 == 0, "a scan holds four values per point")
        self.values = values
    }

    public init(points: [SIMD4<Float>]) {
        values = points.flatMap { [$0.x, $0.y, $0.z, $0.w] }
    }

    public subscript(point i: Int) -> SIMD4<Float> {
        SIMD4(values[4 * i], values[4 * i + 1], values[4 * i + 2], values[4 * i + 3])
    }

    /// What is wrong with a point, if anything: the projection cannot place it.
    public enum PointProblem: String, Sendable, CaseIterable {
        case nonFinite = "a NaN or infinite coordinate"
        case zeroRange = "range 0 (x = y = z = 0)"
    }

    /// The problem of point `i`, or nil when it is fine.
    @inline(__always)
    public func problem(ofPoint i: Int) -> PointProblem? {
        let x = values[4 * i], y = values[4 * i + 1], z = values[4 * i + 2]
        guard x.isFinite, y.isFinite, z.isFinite else { return .nonFinite }
        if x == 0, y == 0, z == 0 { return .zeroRange }
        return nil
    }

    /// Whether every point has finite coordinates and a non-zero range: one vectorised pass
    /// (`rs_any_unplaceable`, shared among the network's threads on the thread that runs it).
    public var allPointsPlaceable: Bool {
        values.withUnsafeBufferPointer { rs_any_unplaceable($0.baseAddress, Int64(count)) == 0 }
    }

    /// The first point the projection cannot place, its problem and how many more such points
    /// follow it; nil when every point can be placed. Readers call it on every scan: the
    /// per-point search runs only after `allPointsPlaceable` has said no.
    public func firstUnplaceablePoint() -> (index: Int, problem: PointProblem, more: Int)? {
        guard !allPointsPlaceable, let first = (0 ..< count).first(where: { problem(ofPoint: $0) != nil }) else { return nil }
        let more = (first + 1 ..< count).reduce(0) { $0 + (problem(ofPoint: $1) == nil ? 0 : 1) }
        return (first, problem(ofPoint: first)!, more)
    }

    /// Indices and problems of the points the projection cannot place.
    public func invalidPoints() -> [(index: Int, problem: PointProblem)] {
        (0 ..< count).compactMap { i in problem(ofPoint: i).map { (i, $0) } }
    }
}

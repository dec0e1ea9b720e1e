import SemanticKITTI

/// A scan projected onto a spherical range image, with everything needed to go back to points.
///
/// The arrays carry the names and conventions of the reference implementation
/// (`auxiliary/laserscan.py` of semantic-kitti-api), so Python users find what they expect;
/// images are row-major `[height, width]`, row 0 at the top of the field of view.
public struct RangeImage: Sendable, Equatable {
    public let config: ProjectionConfig
    public var height: Int { config.height }
    public var width: Int { config.width }

    /// `proj_range` [H, W]: range of the nearest point in each pixel, -1 where empty.
    public var range: [Float]
    /// `proj_xyz` [H, W, 3]: x, y, z of that point, -1 where empty.
    public var xyz: [Float]
    /// `proj_remission` [H, W]: its remission, -1 where empty.
    public var remission: [Float]
    /// `proj_idx` [H, W]: its index in the scan, -1 where empty.
    public var index: [Int32]

    /// `proj_y` [N]: the row of each point; -1 for a point that could not be placed.
    public var pointRow: [Int32]
    /// `proj_x` [N]: the column of each point; -1 for a point that could not be placed.
    public var pointColumn: [Int32]
    /// `unproj_range` [N]: the range of each point (NaN where it has a NaN coordinate).
    public var pointRange: [Float]
    /// Indices of the points left out (NaN or infinite coordinates, range 0), with the reason.
    public var skippedPoints: [SkippedPoint]

    public struct SkippedPoint: Sendable, Equatable {
        public var index: Int
        public var problem: Scan.PointProblem
    }

    /// `proj_mask` [H, W]: true where a point landed (`proj_idx >= 0`; the reference's
    /// `proj_idx > 0` drops point 0).
    public var mask: [Bool] { index.map { $0 >= 0 } }

    /// Number of pixels holding a point.
    public var filledPixels: Int { index.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// Number of points in the projected scan.
    public var pointCount: Int { pointRow.count }

    /// `proj_sem_label` [H, W]: the raw semantic id of each pixel's point, 0 where empty.
    public func semanticImage(_ labels: ScanLabels) -> [Int32] {
        precondition(labels.count == pointCount, "labels and scan differ in length")
        return index.map { $0 >= 0 ? Int32(labels.semantic(Int($0))) : 0 }
    }

    /// `proj_inst_label` [H, W]: the instance id of each pixel's point, 0 where empty.
    public func instanceImage(_ labels: ScanLabels) -> [Int32] {
        precondition(labels.count == pointCount, "labels and scan differ in length")
        return index.map { $0 >= 0 ? Int32(labels.instance(Int($0))) : 0 }
    }

    /// Per-pixel values gathered from per-point values, `empty` where no point landed.
    public func pixels<T>(from perPoint: [T], empty: T) -> [T] {
        precondition(perPoint.count == pointCount, "per-point values and scan differ in length")
        return index.map { $0 >= 0 ? perPoint[Int($0)] : empty }
    }
}

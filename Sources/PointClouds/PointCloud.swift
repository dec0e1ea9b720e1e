import SemanticKITTI

/// A scan read from a point cloud file, with what the file carried besides x, y, z, remission.
public struct PointCloud: Sendable, Equatable {
    /// x, y, z and remission of every point (remission 0 when the file had no such field).
    public var scan: Scan
    /// Per-point labels, when the file has a label field (PCD/PLY) or one was given.
    public var labels: ScanLabels?
    /// Per-point colours, when the file has an `rgb`/`rgba` field (PCD) or red/green/blue (PLY).
    public var colors: [LabelColor]?
    /// Columns of an organised cloud (a range-image-shaped grid); the point count otherwise.
    public var width: Int
    /// Rows of an organised cloud; 1 otherwise.
    public var height: Int
    /// The field remission was read from; nil when the file had none of the names asked for.
    public var remissionField: String?
    /// Points left out because they had a NaN or infinite coordinate or range 0 (with
    /// `InvalidPoints.drop`).
    public var droppedPoints: Int

    public init(scan: Scan, labels: ScanLabels? = nil, colors: [LabelColor]? = nil,
                width: Int? = nil, height: Int = 1, remissionField: String? = "remission", droppedPoints: Int = 0) {
        self.scan = scan
        self.labels = labels
        self.colors = colors
        self.width = width ?? scan.count
        self.height = height
        self.remissionField = remissionField
        self.droppedPoints = droppedPoints
    }

    /// Whether the points form a grid of `height` rows and `width` columns.
    public var isOrganised: Bool { height > 1 }
}

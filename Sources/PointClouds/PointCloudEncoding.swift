/// How a PCD or PLY file stores its points.
public enum PointCloudEncoding: String, Sendable, CaseIterable {
    /// One text line per point (PCD `DATA ascii`, PLY `format ascii 1.0`).
    case ascii
    /// Raw little-endian values (PCD `DATA binary`, PLY `format binary_little_endian 1.0`).
    case binary
    /// PCD only: values grouped by field and LZF-compressed (`DATA binary_compressed`).
    case binaryCompressed = "binary_compressed"
}

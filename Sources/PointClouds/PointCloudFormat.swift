import Foundation

/// The scan file formats RangeSeg reads, told apart by their extension.
public enum PointCloudFormat: String, Sendable, CaseIterable {
    /// KITTI's `.bin`: float32 x, y, z, remission per point (labels in a separate `.label`).
    case bin
    /// PCL's Point Cloud Data format.
    case pcd
    /// The Polygon File Format (Stanford), vertices only.
    case ply

    /// The format of a file with this extension (case-insensitive), or nil.
    public init?(url: URL) {
        self.init(rawValue: url.pathExtension.lowercased())
    }

    /// The extension RangeSeg writes.
    public var fileExtension: String { rawValue }
}

import Formats
import Foundation
import PointClouds
import SemanticKITTI

/// The dataset layouts RangeSeg reads, in the order a root is tried: the one table that maps
/// a dataset root to a `Dataset`. Every command that takes `--dataset` opens it here.
public enum DatasetLayouts {
    /// SemanticKITTI's layout (a root with `sequences/`), then folders of PCD or PLY files.
    public static let all: [any Dataset.Type] = [SemanticKITTIDataset.self, PointCloudFolderDataset.self]

    /// The dataset at `root`, in the first layout of `all` that recognises it. The error names
    /// the root and what each layout looks for.
    public static func open(root: URL) throws -> any Dataset {
        guard root.isExistingDirectory else {
            throw InputError("\(root.path): no such dataset directory")
        }
        guard let layout = all.first(where: { $0.recognises(root: root) }) else {
            throw InputError("\(root.path): not a dataset in a layout RangeSeg reads: neither SemanticKITTI's (sequences/NN/velodyne/*.bin) "
                + "nor a folder of point-cloud sequences (NAME/*.pcd or NAME/*.ply)")
        }
        return try layout.init(root: root)
    }
}

import Foundation
import PointClouds

/// The reading every point cloud target does: `PointCloudFile.read` with invalid points
/// rejected, then dropped, and the invariants of what it returns.
public enum PointCloudChecks {
    public static func read(_ file: ScratchFile) {
        for invalid in [InvalidPoints.reject, .drop] {
            let options = PointCloudFile.ReadOptions(invalidPoints: invalid)
            guard let cloud = Contract.read(naming: [file.path], { try PointCloudFile.read(file.url, options: options) }) else { continue }
            let points = cloud.scan.count
            Contract.require(cloud.labels == nil || cloud.labels!.count == points, "\(cloud.labels!.count) labels for \(points) points")
            Contract.require(cloud.colors == nil || cloud.colors!.count == points, "\(cloud.colors!.count) colours for \(points) points")
            Contract.require(cloud.width * cloud.height == points, "a \(cloud.width) x \(cloud.height) cloud of \(points) points")
            Contract.require(cloud.scan.invalidPoints().isEmpty, "an invalid point passed \(invalid)")
            if invalid == .reject { Contract.require(points > 0, "an empty cloud was read") }
        }
    }
}

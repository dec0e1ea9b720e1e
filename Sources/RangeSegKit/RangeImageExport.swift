import Formats
import Foundation
import Parallel
import PointClouds
import Projection
import SemanticKITTI

/// `rangeseg project` as a library call: scans to range images, one `.npz` per scan with the
/// arrays of semantic-kitti-api's `LaserScan`, and optionally a PNG (range, remission, classes).
public struct RangeImageExport: Sendable {
    public var projection: ProjectionConfig
    /// Needed for scans that carry labels (every id must be known; colours for pictures).
    public var labels: LabelConfig?
    /// Also write `<name>.png`.
    public var pictures = false
    /// Repeat each image row this many times in pictures, for legibility.
    public var pictureStretch = 2
    /// Leave out points with NaN/infinite coordinates or at range 0 (counted) instead of failing.
    public var skipInvalidPoints = false

    public init(projection: ProjectionConfig = ProjectionConfig(), labels: LabelConfig? = nil) {
        self.projection = projection
        self.labels = labels
    }

    /// What a run did.
    public struct Summary: Sendable {
        public var scans: Int
        /// Points left out as invalid (with `skipInvalidPoints`).
        public var skippedPoints: Int
        public var seconds: Double
    }

    /// Projects every item on all cores; writes `<out>/<group>/<name>.npz` (and `.png`).
    /// `progress` is called from worker threads after each scan.
    public func run(_ items: [ScanItem], out: URL, progress: @escaping @Sendable () -> Void = {}) throws -> Summary {
        let projector = SphericalProjection(projection)
        let lookup = labels?.lookup()
        let started = Date()
        let skipped = try parallelMap(items.count) { i -> Int in
            let item = items[i]
            let cloud = try PointCloudFile.read(item.scan, labels: item.labels,
                                                options: .init(invalidPoints: skipInvalidPoints ? .keep : .reject))
            if let scanLabels = cloud.labels {
                guard let lookup else { throw InputError("\(item.scan.path) carries labels: give a label config") }
                _ = try lookup.learningIDs(of: scanLabels, file: item.labels ?? item.scan) // every id must be known
            }
            let image = projector.project(cloud.scan)
            try image.archive(labels: cloud.labels).write(npz: item.output(under: out, extension: "npz"))
            if pictures {
                var images = [image.rangePicture(), image.remissionPicture()]
                if let scanLabels = cloud.labels, let labels {
                    images.append(image.labelPicture(rawIDs: image.semanticImage(scanLabels), config: labels))
                }
                try RGBImage.stacked(images.map { $0.stretchedVertically(by: pictureStretch) }, gap: 4)
                    .write(png: item.output(under: out, extension: "png"))
            }
            progress()
            return image.skippedPoints.count
        }
        return Summary(scans: items.count, skippedPoints: skipped.reduce(0, +), seconds: Date().timeIntervalSince(started))
    }
}

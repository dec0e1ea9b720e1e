import Formats
import Foundation
import Parallel
import PointClouds
import SemanticKITTI

/// `rangeseg convert` as a library call: scans (and labels) between KITTI `.bin`/`.label` and
/// PCD or PLY, optionally cleaning labels by a 3-D k-NN vote on the way. A SemanticKITTI
/// sequence converted to PCD or PLY becomes `OUT/NN/*.pcd`, a sequence of the point-cloud
/// folder layout (`PointCloudFolderDataset`) that `train`, `infer` and `evaluate` read.
public struct PointCloudConversion: Sendable {
    public var format: PointCloudFormat
    /// How PCD/PLY files store their points.
    public var encoding: PointCloudEncoding = .binary
    /// The remission field to read (default: remission, else intensity) and to write (default: remission).
    public var remissionField: String?
    public var invalidPoints: InvalidPoints = .reject
    /// Clean labels with this 3-D k-NN vote before writing them.
    public var cleanup: KNNCleanup3D?
    /// Colours for labelled PCD/PLY output (`color_map` of a label config).
    public var colors: [Int: LabelColor]?

    public init(format: PointCloudFormat) { self.format = format }

    /// What converting one scan found.
    public struct Outcome: Sendable {
        public var points = 0
        public var dropped = 0
        public var hadLabels = false
        public var remissionMissing = false
        public var relabelled = 0
        public var cleanSeconds = 0.0
    }

    /// What a run did.
    public struct Summary: Sendable {
        public var outcomes: [Outcome]
        public var seconds: Double
        public var points: Int { outcomes.reduce(0) { $0 + $1.points } }
        public var labelledScans: Int { outcomes.filter(\.hadLabels).count }
        public var scansWithoutRemission: Int { outcomes.filter(\.remissionMissing).count }
        public var droppedPoints: Int { outcomes.reduce(0) { $0 + $1.dropped } }
        /// Labels changed by the clean-up, of how many labelled points, and seconds per scan.
        public var cleanup: (changed: Int, of: Int, secondsPerScan: Double)? {
            let cleaned = outcomes.filter(\.hadLabels)
            guard !cleaned.isEmpty else { return nil }
            return (cleaned.reduce(0) { $0 + $1.relabelled }, cleaned.reduce(0) { $0 + $1.points },
                    cleaned.reduce(0) { $0 + $1.cleanSeconds } / Double(cleaned.count))
        }
    }

    /// The files an item becomes: the scan, and for `bin` its label file.
    public func outputs(of item: ScanItem, under root: URL) -> [URL] {
        let directory = item.group.map { root.appendingPathComponent($0) } ?? root
        switch format {
        case .bin:
            return [SemanticKITTIDataset.scanDirectory(sequence: directory).appendingPathComponent(item.name + ".bin"),
                    SemanticKITTIDataset.labelDirectory(sequence: directory).appendingPathComponent(item.name + ".label")]
        case .pcd, .ply:
            return [directory.appendingPathComponent(item.name + "." + format.fileExtension)]
        }
    }

    /// Converts every item on all cores (one scan's clean-up alone uses all cores).
    public func run(_ items: [ScanItem], out: URL, progress: @escaping @Sendable () -> Void = {}) throws -> Summary {
        try ScanSource.checkDistinctOutputs(items.flatMap { outputs(of: $0, under: out) })
        var cleanup = self.cleanup
        if items.count == 1 { cleanup?.threads = ProcessInfo.processInfo.activeProcessorCount }
        let options = PointCloudFile.ReadOptions(remissionField: remissionField, invalidPoints: invalidPoints)
        let started = Date()
        let outcomes = try parallelMap(items.count) { [cleanup] i -> Outcome in
            let item = items[i]
            var cloud = try PointCloudFile.read(item.scan, labels: item.labels, options: options)
            var outcome = Outcome(points: cloud.scan.count, dropped: cloud.droppedPoints, hadLabels: cloud.labels != nil,
                                  remissionMissing: cloud.remissionField == nil)
            if let cleanup, let labels = cloud.labels {
                let start = DispatchTime.now().uptimeNanoseconds
                let cleaned = cleanup(labels, scan: cloud.scan)
                outcome.cleanSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                outcome.relabelled = zip(labels.raw, cleaned.raw).filter { $0 != $1 }.count
                cloud.labels = cleaned
            }
            let files = outputs(of: item, under: out)
            if format == .bin {
                try cloud.scan.write(bin: files[0])
                try cloud.labels?.write(label: files[1])
            } else {
                try PointCloudFile.write(files[0], scan: cloud.scan, labels: cloud.labels, colors: colors,
                                         encoding: encoding, remissionField: remissionField ?? "remission")
            }
            progress()
            return outcome
        }
        return Summary(outcomes: outcomes, seconds: Date().timeIntervalSince(started))
    }
}

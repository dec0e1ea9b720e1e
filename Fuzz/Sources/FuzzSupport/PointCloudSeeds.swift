import Foundation
import SemanticKITTI

/// Small scans for point cloud seeds: the first points of a real scan with their labels and the
/// label config's colours.
public enum PointCloudSeeds {
    public static func realScan(points: Int) throws -> (scan: Scan, labels: ScanLabels, colors: [Int: LabelColor]) {
        let sequence = Seeds.sample.appendingPathComponent("sequences/00")
        let scanBytes = try Seeds.prefix(of: sequence.appendingPathComponent("velodyne/000000.bin"), bytes: points * 16)
        let labelBytes = try Seeds.prefix(of: sequence.appendingPathComponent("labels/000000.label"), bytes: points * 4)
        var values = [Float](repeating: 0, count: scanBytes.count / 4)
        values.withUnsafeMutableBytes { _ = scanBytes.copyBytes(to: $0) }
        var raw = [UInt32](repeating: 0, count: labelBytes.count / 4)
        raw.withUnsafeMutableBytes { _ = labelBytes.copyBytes(to: $0) }
        return (Scan(values: values), ScanLabels(raw: raw), try LabelConfig.semanticKITTI.colors)
    }
}

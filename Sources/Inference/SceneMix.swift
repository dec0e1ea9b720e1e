import Foundation
import Random
import SemanticKITTI

/// PolarMix-style mixing of a training scan with another training scan (`augmentation.mix`).
///
/// Two steps, after Xiao et al., "PolarMix: A General Data Augmentation Technique for LiDAR
/// Point Clouds" (NeurIPS 2022):
/// 1. **Sector swap**: the points of the scan whose azimuth `atan2(y, x)` lies in a sector of
///    `sector` radians starting at a random angle are replaced by the other scan's points in
///    the same sector, with their labels. Both scans are in their sensor's frame, so the seams
///    join ground to ground at the same height.
/// 2. **Rotate-paste**: each rare-class instance of the other scan is pasted `copies` times,
///    copy k turned about z by 2π(k + 1)/(copies + 1) plus up to a quarter of that spacing
///    either way, with occlusion (`InstancePaste`), unlike the paper, which only concatenates.
public struct SceneMix: Sendable {
    public let paste: InstancePaste
    /// Radians of azimuth swapped.
    public let sector: Float
    /// Rotated copies of each rare instance of the other scan.
    public let copies: Int

    public init(paste: InstancePaste, sectorDegrees: Float, copies: Int) {
        precondition(sectorDegrees > 0 && sectorDegrees <= 360 && copies >= 0, "a sector in (0, 360] degrees and copies >= 0")
        self.paste = paste
        sector = sectorDegrees / 180 * .pi
        self.copies = copies
    }

    /// Whether (x, y) lies in the sector `[start, start + width)` of azimuth (radians, wrapping).
    @inline(__always)
    public static func inSector(x: Float, y: Float, start: Float, width: Float) -> Bool {
        var offset = atan2f(y, x) - start
        offset -= 2 * .pi * (offset / (2 * .pi)).rounded(.down)
        return offset < width
    }

    /// `scan` with its points in the sector replaced by `other`'s points there; labels follow
    /// their points (the scan's kept points first, then the other's).
    public static func swapSector(_ scan: Scan, labels: [Int32], with other: Scan, otherLabels: [Int32],
                                  start: Float, width: Float) -> (scan: Scan, labels: [Int32]) {
        precondition(labels.count == scan.count && otherLabels.count == other.count, "one label per point")
        var values: [Float] = [], kept: [Int32] = []
        values.reserveCapacity(scan.values.count)
        kept.reserveCapacity(scan.count)
        for i in 0 ..< scan.count where !inSector(x: scan.values[4 * i], y: scan.values[4 * i + 1], start: start, width: width) {
            values += scan.values[(4 * i) ..< (4 * i + 4)]
            kept.append(labels[i])
        }
        for i in 0 ..< other.count where inSector(x: other.values[4 * i], y: other.values[4 * i + 1], start: start, width: width) {
            values += other.values[(4 * i) ..< (4 * i + 4)]
            kept.append(otherLabels[i])
        }
        return (Scan(values: values), kept)
    }

    /// Mixes `other` (learning ids `otherLabels`, rare instances `instances`, as
    /// `InstanceBank.instances(in:...)` finds them) into `scan`; every angle is drawn from
    /// `generator`, in a fixed order.
    public func mix(_ scan: Scan, labels: [Int32], with other: Scan, otherLabels: [Int32],
                    instances: [(learningID: Int32, points: [Float])], generator: inout RandomGenerator) -> (scan: Scan, labels: [Int32]) {
        let start = Float(generator.uniform() * 2 * .pi)
        let swapped = Self.swapSector(scan, labels: labels, with: other, otherLabels: otherLabels, start: start, width: sector)
        guard copies > 0, !instances.isEmpty else { return swapped }
        let spacing = 2 * Float.pi / Float(copies + 1)
        var objects: [(points: [Float], learningID: Int32)] = []
        for instance in instances {
            for k in 0 ..< copies {
                let angle = spacing * Float(k + 1) + Float(generator.uniform(-0.25, 0.25)) * spacing
                objects.append((InstancePaste.rotated(instance.points, by: angle), instance.learningID))
            }
        }
        return paste.paste(objects, into: swapped.scan, labels: swapped.labels)
    }
}

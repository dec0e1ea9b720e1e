import CKernels
import Engine
import Formats
import Foundation
import Projection
import Random
import SemanticKITTI

/// One scan ready for the network: the normalised input image, the target classes, and the
/// projection to carry predictions back to the points.
public struct RangeSample: Sendable {
    /// [C, H, W]: the channels the network reads, of range, x, y, z, remission (all five by
    /// default), each `(value - mean) / std`, 0 where empty.
    public var input: [Float]
    /// [H, W] learning ids of each pixel's point; 0 (ignored) where empty or unlabelled.
    public var target: [Int32]
    public var image: RangeImage
    /// Learning ids of the scan's points (after augmentation), when the scan has labels.
    public var pointLabels: [Int32]?
}

/// Turns scans into `RangeSample`s: augmentation, projection, normalisation, label mapping.
public struct SampleBuilder: Sendable {
    public let sensor: ProjectionConfig
    public let projector: SphericalProjection
    public let lookup: LabelLookup
    /// The range image's channels the samples carry, as indices into range, x, y, z, remission.
    public let channels: [Int]

    public init(sensor: ProjectionConfig, lookup: LabelLookup,
                channels: [Int] = ArchitectureConfig.InputChannels().indices) {
        precondition(!channels.isEmpty && channels.allSatisfy { (0 ..< 5).contains($0) }, "channels index range, x, y, z, remission")
        self.sensor = sensor
        projector = SphericalProjection(sensor)
        self.lookup = lookup
        self.channels = channels
    }

    /// The builder for a run's network: its sensor and the input channels its architecture reads.
    public init(config: TrainingConfig, lookup: LabelLookup) {
        self.init(sensor: config.sensor, lookup: lookup, channels: config.architecture.inputs.indices)
    }

    /// Reads a dataset's scan (with its labels, when the frame has them) and prepares it;
    /// `generator` drives the augmentation.
    public func load(_ frame: DatasetFrame, from dataset: any Dataset, augmentation: TrainingConfig.Augmentation,
                     generator: inout RandomGenerator) throws(FormatError) -> RangeSample {
        let read = try dataset.read(frame, labels: frame.labels != nil)
        var labels: [Int32]?
        if let raw = read.labels, let file = frame.labels {
            labels = try lookup.learningIDs(of: raw, file: file)
        }
        return sample(scan: read.scan, labels: labels, augmentation: augmentation, generator: &generator)
    }

    /// Prepares a scan with optional per-point learning ids.
    public func sample(scan original: Scan, labels originalLabels: [Int32]?, augmentation: TrainingConfig.Augmentation,
                       generator: inout RandomGenerator) -> RangeSample {
        let (scan, labels) = augment(original, originalLabels, augmentation, &generator)
        let image = projector.project(scan)
        let hw = image.height * image.width
        let inverse = sensor.stds.map { 1 / $0 }
        let all = [Float](unsafeUninitializedCapacity: 5 * hw) { all, initialised in
            rs_normalise_channels(image.index, image.range, image.xyz, image.remission, Int64(hw), sensor.means, inverse, all.baseAddress!)
            initialised = 5 * hw
        }
        let input = channels.count == 5 ? all : channels.flatMap { all[($0 * hw) ..< ($0 + 1) * hw] }
        let target = labels.map { image.pixels(from: $0, empty: 0) } ?? [Int32](repeating: 0, count: hw)
        return RangeSample(input: input, target: target, image: image, pointLabels: labels)
    }

    /// Random point drop, rotation about z, mirroring across the x axis and jitter.
    func augment(_ scan: Scan, _ labels: [Int32]?, _ a: TrainingConfig.Augmentation,
                 _ g: inout RandomGenerator) -> (Scan, [Int32]?) {
        guard a.rotate || a.flip || a.jitter > 0 || a.drop > 0 else { return (scan, labels) }
        let angle = a.rotate ? Float(g.uniform() * 2 * .pi) : 0
        let (c, s) = (cosf(angle), sinf(angle))
        let mirror: Float = a.flip && g.uniform() < 0.5 ? -1 : 1
        var values: [Float] = []
        values.reserveCapacity(scan.values.count)
        var kept: [Int32]? = labels == nil ? nil : []
        for i in 0 ..< scan.count {
            if a.drop > 0, g.uniform() < Double(a.drop) { continue }
            var x = scan.values[4 * i], y = scan.values[4 * i + 1] * mirror, z = scan.values[4 * i + 2]
            (x, y) = (c * x - s * y, s * x + c * y)
            if a.jitter > 0 {
                x += a.jitter * Float(g.gaussian()); y += a.jitter * Float(g.gaussian()); z += a.jitter * Float(g.gaussian())
            }
            values += [x, y, z, scan.values[4 * i + 3]]
            if let labels { kept!.append(labels[i]) }
        }
        return (Scan(values: values), kept)
    }
}

import Formats
import Foundation
import Projection
import Random
import SemanticKITTI

/// The data-side remedies for rare classes, `augmentation.paste` and `augmentation.mix`, wired
/// to a run's training scans: they load a training scan, mix another training scan into it
/// (`SceneMix`), paste instances from the `InstanceBank` (`InstancePaste`), then build the
/// sample with the point-level augmentation (`SampleBuilder`).
///
/// Every choice (whether to mix, with which scan, the sector, the instances, the angles) is
/// drawn from the generator the caller passes for that scan, in a fixed order, so a sample
/// depends only on the seed, the epoch and the scan, and resumed runs stay exact.
public struct DataRemedies: Sendable {
    public let augmentation: TrainingConfig.Augmentation
    /// The training scans: the scans a remedy draws from, indexed as the trainer indexes them.
    public let frames: [DatasetFrame]
    public let dataset: any Dataset
    public let lookup: LabelLookup
    /// The learning ids paste and mix treat as rare (`RareClasses`).
    public let rareClasses: Set<Int32>
    /// The instances `paste` draws from; nil when `paste` is 0.
    public let bank: InstanceBank?
    public let paste: InstancePaste
    public let mixer: SceneMix

    /// - Parameters:
    ///   - frames: the run's labelled training scans.
    ///   - seed: the run's seed (orders the scans the bank is built from).
    public init(augmentation: TrainingConfig.Augmentation, frames: [DatasetFrame], dataset: any Dataset, labels: LabelConfig,
                sensor: ProjectionConfig, seed: UInt64) throws {
        if let problem = augmentation.remedyProblems.first { throw FormatError(file: "augmentation", reason: problem) }
        self.augmentation = augmentation
        self.frames = frames
        self.dataset = dataset
        lookup = labels.lookup()
        rareClasses = try RareClasses.resolve(augmentation, labels: labels)
        bank = augmentation.paste > 0
            ? try InstanceBank(frames: frames, dataset: dataset, lookup: lookup, classes: rareClasses,
                               pointBudget: augmentation.pasteBudget, seed: seed)
            : nil
        paste = InstancePaste(projector: SphericalProjection(sensor))
        mixer = SceneMix(paste: paste, sectorDegrees: augmentation.mixSector, copies: augmentation.mixCopies)
    }

    /// Training scan `index` with the remedies applied: its points and learning ids, before the
    /// point-level augmentation.
    public func remedied(_ index: Int, generator: inout RandomGenerator) throws -> (scan: Scan, labels: [Int32]) {
        var (scan, labels) = try read(index)
        if augmentation.mix > 0, generator.uniform() < Double(augmentation.mix), frames.count > 1 {
            let drawn = generator.int(0 ..< frames.count - 1)
            let partner = drawn < index ? drawn : drawn + 1
            let read = try dataset.read(frames[partner], labels: true)
            let raw = read.labels ?? ScanLabels(raw: [UInt32](repeating: 0, count: read.scan.count))
            let partnerLabels = try lookup.learningIDs(of: raw, file: frames[partner].labels)
            let instances = InstanceBank.instances(in: read.scan, labels: raw, lookup: lookup, classes: rareClasses)
            (scan, labels) = mixer.mix(scan, labels: labels, with: read.scan, otherLabels: partnerLabels,
                                       instances: instances, generator: &generator)
        }
        if let bank, augmentation.paste > 0 {
            (scan, labels) = paste.pasteFromBank(bank, count: augmentation.paste, into: scan, labels: labels,
                                                 frame: index, generator: &generator)
        }
        return (scan, labels)
    }

    /// Training scan `index` as a sample: the remedies, then `builder`'s augmentation.
    public func load(_ index: Int, builder: SampleBuilder, generator: inout RandomGenerator) throws -> RangeSample {
        let (scan, labels) = try remedied(index, generator: &generator)
        return builder.sample(scan: scan, labels: labels, augmentation: augmentation, generator: &generator)
    }

    /// A line for the start of a run: what is pasted and mixed, the rare classes, the bank, e.g.
    /// "paste 4 instances per scan from a bank of 812 instances (95,310 points: bicycle 40, person
    /// 502, ...); mix half the scans ...".
    public func summary(labels: LabelConfig) -> String {
        let names = rareClasses.sorted().map { labels.className(learning: Int($0)) }
        var parts: [String] = []
        if let bank {
            let counts = Dictionary(grouping: bank.instances, by: \.learningID).mapValues(\.count)
            let held = counts.keys.sorted().map { "\(labels.className(learning: Int($0))) \(counts[$0]!)" }
            parts.append("paste \(augmentation.paste) instance\(augmentation.paste == 1 ? "" : "s") per scan from a bank of "
                         + "\(bank.instances.count) instances (\(bank.pointCount) points\(held.isEmpty ? "" : ": " + held.joined(separator: ", ")))")
        }
        if augmentation.mix > 0 {
            parts.append(String(format: "mix %.0f%% of the scans (%.0f-degree sector, %d rotated copies of each rare instance)",
                                augmentation.mix * 100, augmentation.mixSector, augmentation.mixCopies))
        }
        return parts.joined(separator: "; ") + "; rare classes: " + (names.isEmpty ? "none" : names.joined(separator: ", "))
    }

    /// The scan of training frame `index` and its learning ids.
    func read(_ index: Int) throws -> (Scan, [Int32]) {
        let frame = frames[index]
        let read = try dataset.read(frame, labels: true)
        guard let raw = read.labels else { throw FormatError(file: frame.scan.path, reason: "a training scan without labels") }
        return (read.scan, try lookup.learningIDs(of: raw, file: frame.labels))
    }
}

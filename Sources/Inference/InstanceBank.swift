import Formats
import Foundation
import Parallel
import Random
import SemanticKITTI

/// Objects of rare classes cut out of training scans, for `augmentation.paste` (`InstancePaste`).
///
/// An instance is the points of one (class, instance id) pair of a scan's raw labels (class in
/// the lower 16 bits, instance id in the upper; id 0 is "no instance" and never banked). Only
/// the rare learning classes are kept, and only instances of at least `minimumPoints` points.
///
/// Building reads the training scans in an order drawn from the seed, several at a time, and
/// stores their instances in that order until the next one would pass the point budget: the
/// content depends on the frames, the seed and the budget only, never on thread scheduling, so
/// every rank and every resume builds the same bank.
///
/// ```swift
/// let rare = try RareClasses.resolve(augmentation, labels: labels)
/// let bank = try InstanceBank(frames: frames, dataset: dataset, lookup: labels.lookup(), classes: rare,
///                             pointBudget: 2_000_000, seed: 7)
/// ```
public struct InstanceBank: Sendable {
    /// One object: its learning class, the frame (index into the bank's frames) it was cut
    /// from, and its points (x, y, z, remission, four floats each) in that scan's sensor frame.
    public struct Instance: Sendable, Equatable {
        public var learningID: Int32
        public var frame: Int
        public var points: [Float]
        public var count: Int { points.count / 4 }

        public init(learningID: Int32, frame: Int, points: [Float]) {
            precondition(points.count % 4 == 0, "four values per point")
            self.learningID = learningID
            self.frame = frame
            self.points = points
        }
    }

    public let instances: [Instance]
    /// Points held by all instances.
    public var pointCount: Int { instances.reduce(0) { $0 + $1.count } }

    /// Instances smaller than this are not kept (a handful of points is rarely a whole object).
    public static let minimumPoints = 16

    public init(instances: [Instance]) { self.instances = instances }

    /// Builds the bank from the labelled `frames` of `dataset`.
    /// - Parameters:
    ///   - classes: the rare learning ids to keep.
    ///   - pointBudget: the most points the bank holds (16 bytes each); an instance that would
    ///     pass it is skipped, and reading stops once the bank is within `minimumPoints` of it.
    ///   - seed: orders the frames, so that a budget smaller than the rare points of all scans
    ///     still samples the whole set.
    ///   - workers: scans read at once (the content does not depend on it).
    public init(frames: [DatasetFrame], dataset: any Dataset, lookup: LabelLookup, classes: Set<Int32>,
                pointBudget: Int, seed: UInt64, workers: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        guard !classes.isEmpty, pointBudget >= Self.minimumPoints else { self.init(instances: []); return }
        var order = Array(frames.indices)
        var generator = RandomGenerator(seed: RandomGenerator.derive(seed, 3))
        order.shuffle(using: &generator)
        var kept: [Instance] = []
        var points = 0
        // Scans read at once: a few per worker, so that memory stays a few scans' instances.
        let chunk = max(1, workers) * 4
        var start = 0
        while start < order.count, pointBudget - points >= Self.minimumPoints {
            let part = Array(order[start ..< min(order.count, start + chunk)])
            let found = try parallelMap(part.count, workers: max(1, workers)) { k in
                let frame = frames[part[k]]
                let read = try dataset.read(frame, labels: true)
                guard let labels = read.labels else { return [Instance]() }
                return Self.instances(in: read.scan, labels: labels, lookup: lookup, classes: classes).map {
                    Instance(learningID: $0.learningID, frame: part[k], points: $0.points)
                }
            }
            for instance in found.joined() where points + instance.count <= pointBudget {
                kept.append(instance)
                points += instance.count
            }
            start += chunk
        }
        self.init(instances: kept)
    }

    /// The instances of rare `classes` in one scan, ordered by (raw class, instance id), each of
    /// at least `minimumPoints` points. Points whose raw class has no learning id are skipped.
    public static func instances(in scan: Scan, labels: ScanLabels, lookup: LabelLookup, classes: Set<Int32>,
                                 minimumPoints: Int = minimumPoints) -> [(learningID: Int32, points: [Float])] {
        precondition(labels.count == scan.count, "one label per point")
        var groups: [UInt32: [Int]] = [:]
        for i in 0 ..< scan.count where labels.instance(i) != 0 {
            guard let id = lookup.learning(raw: labels.semantic(i)), classes.contains(id) else { continue }
            groups[labels.raw[i], default: []].append(i)
        }
        return groups.keys.sorted().compactMap { key in
            let members = groups[key]!
            guard members.count >= minimumPoints else { return nil }
            var points: [Float] = []
            points.reserveCapacity(4 * members.count)
            for i in members { points += scan.values[(4 * i) ..< (4 * i + 4)] }
            return (lookup.learning(raw: UInt16(truncatingIfNeeded: key))!, points)
        }
    }
}

/// The learning classes that paste and mix treat as rare.
public enum RareClasses {
    /// `augmentation.rareClasses` as learning ids (a name the label config lacks is an error
    /// listing the names), or, when empty, every included class whose share of the label
    /// config's `content` is under `augmentation.rareShare`.
    public static func resolve(_ augmentation: TrainingConfig.Augmentation, labels: LabelConfig) throws(FormatError) -> Set<Int32> {
        let included = (0 ..< labels.classCount).filter { !labels.ignoredClasses.contains($0) }
        if augmentation.rareClasses.isEmpty {
            let content = labels.learningContent()
            return Set(included.filter { content[$0] < Double(augmentation.rareShare) }.map(Int32.init))
        }
        let byName = Dictionary(included.map { (labels.className(learning: $0), Int32($0)) }, uniquingKeysWith: { a, _ in a })
        var out: Set<Int32> = []
        for name in augmentation.rareClasses {
            guard let id = byName[name] else {
                throw FormatError(file: "augmentation.rare_classes",
                                  reason: "'\(name)' is not a class of the label config (\(included.map { labels.className(learning: $0) }.joined(separator: ", ")))")
            }
            out.insert(id)
        }
        return out
    }
}

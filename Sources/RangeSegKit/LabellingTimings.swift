import Engine
import Foundation
import Inference
import SemanticKITTI

/// `rangeseg infer`'s labelling timed against the network alone (`rangeseg bench infer
/// --pipeline`), in rounds.
///
/// This machine's speed drifts by 10-40% from one second to the next, so a network timed once
/// and a labelling timed later are not comparable. Each round therefore takes the scans in
/// groups of `group`, and for each group and each way of labelling times the network alone
/// (one pass on `input` per scan of the group) and then `Labelling.run` over the group; the
/// sums of both are compared. Both sides see the same seconds, and the labelling is the code
/// `rangeseg infer` runs, overlap and all.
public struct LabellingTimings: Sendable {
    /// One way of labelling in one round.
    public struct Run: Sendable {
        public var cleanup: Cleanup
        public var overlap: Labelling.Overlap
        /// Milliseconds per scan, labelling and the network alone.
        public var labellingMilliseconds: Double
        public var networkMilliseconds: Double
        /// Scans per second over the network's passes per second.
        public var ratio: Double { networkMilliseconds / labellingMilliseconds }
    }

    /// The runs of each round: every clean-up of `cleanups` with every overlap, in that order.
    public var rounds: [[Run]] = []

    /// Times `items` in `rounds` rounds, after an untimed labelling of each scan; the label files
    /// go to a scratch folder that is removed afterwards. `input` is a network input of one image.
    public static func measure(_ items: [ScanItem], segmenter: Segmenter, labels: LabelConfig, input: Tensor, rounds: Int,
                               cleanups: [Cleanup] = [.none, .range], group: Int = 3) throws -> LabellingTimings {
        precondition(input.shape[0] == 1, "the network is timed on one image at a time, as labelling runs it")
        precondition(group > 0 && !items.isEmpty)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rangeseg-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let ways = cleanups.flatMap { cleanup in
            Labelling.Overlap.allCases.map { overlap in
                var labelling = Labelling(segmenter: segmenter, labels: labels)
                labelling.cleanup = cleanup
                labelling.overlap = overlap
                return labelling
            }
        }
        func milliseconds(_ work: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try work()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        _ = try ways[0].run(items, out: scratch)
        var timings = LabellingTimings()
        for _ in 0 ..< rounds {
            var network = [Double](repeating: 0, count: ways.count), labelled = network
            for start in stride(from: 0, to: items.count, by: group) {
                let scans = Array(items[start ..< min(start + group, items.count)])
                for (i, labelling) in ways.enumerated() {
                    for _ in scans { network[i] += milliseconds { withExtendedLifetime(segmenter.output(input)) {} } }
                    labelled[i] += try milliseconds { _ = try labelling.run(scans, out: scratch) }
                }
            }
            let count = Double(items.count)
            timings.rounds.append(ways.indices.map {
                Run(cleanup: ways[$0].cleanup, overlap: ways[$0].overlap, labellingMilliseconds: labelled[$0] / count,
                    networkMilliseconds: network[$0] / count)
            })
        }
        return timings
    }
}

import PCLBridge
import SemanticKITTI

/// A clean-up of per-point labels by a vote among each point's nearest neighbours in 3-D,
/// found with PCL's k-d tree: the 3-D counterpart of RangeNet++'s k-NN post-processing, which
/// searches a window of the range image instead.
///
/// For every point, the voters are its `k` nearest points in space (the point itself, at
/// distance 0, is one of them) that lie within `radius` metres. Each voter counts once.
/// The rules:
/// - Label 0 (unlabeled in both raw SemanticKITTI ids and learning ids) is never chosen:
///   voters labelled 0 do not vote.
/// - The label with the most votes wins. On a tie, the point keeps its own label if it is
///   among the tied ones, else the smallest tied label wins (so the result is deterministic).
/// - A point with no voter (all within reach are labelled 0) keeps its own label, and so do
///   points with a NaN or infinite coordinate, which are neither searched nor found.
///
/// With `ScanLabels`, the vote is on semantic ids (the low 16 bits); a point whose semantic id
/// changes gets instance 0, the others keep their raw label unchanged.
public struct KNNCleanup3D: Sendable, Equatable {
    /// Neighbours searched per point, the point itself included (RangeNet++'s `knn`: 5).
    public var k: Int
    /// Farthest a voter may be, in metres (RangeNet++'s `cutoff`: 1 m).
    public var radius: Float
    /// Threads sharing the neighbour queries.
    public var threads: Int

    public init(k: Int = 5, radius: Float = 1, threads: Int = 1) {
        precondition(k >= 1, "k must be at least 1")
        precondition(radius > 0 && radius.isFinite, "the radius must be a positive number of metres")
        precondition(threads >= 1, "at least one thread")
        self.k = k
        self.radius = radius
        self.threads = threads
    }

    /// Indices of each point's voters, nearest first: `k` per point, padded with -1.
    public func neighbours(of scan: Scan) -> [Int32] {
        var indices = [Int32](repeating: -1, count: scan.count * k)
        guard scan.count > 0 else { return indices }
        let (status, message) = scan.values.withUnsafeBufferPointer { points in
            indices.withUnsafeMutableBufferPointer { out in
                withBridgeError {
                    rs_knn_search(points.baseAddress!, scan.count, Int32(k), radius, Int32(threads), out.baseAddress!, $0, $1)
                }
            }
        }
        // The arguments were checked at init, so only an allocation can fail.
        precondition(status == 0, "k-d tree search failed: \(message)")
        return indices
    }

    /// Cleaned labels (raw or learning ids, one per point of `scan`).
    public func callAsFunction(_ labels: [UInt32], scan: Scan) -> [UInt32] {
        precondition(labels.count == scan.count, "one label per point")
        return Self.vote(labels, neighbours: neighbours(of: scan), k: k)
    }

    /// Cleaned SemanticKITTI labels: the vote is on semantic ids; see the type's rules.
    public func callAsFunction(_ labels: ScanLabels, scan: Scan) -> ScanLabels {
        let semantic = labels.raw.map { $0 & 0xFFFF }
        let cleaned = self(semantic, scan: scan)
        return ScanLabels(raw: labels.raw.indices.map { cleaned[$0] == semantic[$0] ? labels.raw[$0] : cleaned[$0] })
    }

    /// The vote, given each point's voters (`k` indices per point, -1 for none).
    public static func vote(_ labels: [UInt32], neighbours: [Int32], k: Int) -> [UInt32] {
        precondition(neighbours.count == labels.count * k)
        var out = labels
        withUnsafeTemporaryAllocation(of: (label: UInt32, votes: Int).self, capacity: k) { tally in
            labels.withUnsafeBufferPointer { labels in
                neighbours.withUnsafeBufferPointer { neighbours in
                    for i in 0 ..< labels.count {
                        var kinds = 0
                        for j in 0 ..< k {
                            let n = Int(neighbours[i * k + j])
                            if n < 0 { break }
                            let label = labels[n]
                            if label == 0 { continue }
                            if let slot = (0 ..< kinds).first(where: { tally[$0].label == label }) {
                                tally[slot].votes += 1
                            } else {
                                tally[kinds] = (label, 1)
                                kinds += 1
                            }
                        }
                        guard kinds > 0 else { continue }
                        let own = labels[i]
                        var best = tally[0]
                        for slot in 1 ..< kinds {
                            let candidate = tally[slot]
                            if candidate.votes > best.votes
                                || (candidate.votes == best.votes && best.label != own
                                    && (candidate.label == own || candidate.label < best.label)) {
                                best = candidate
                            }
                        }
                        out[i] = best.label
                    }
                }
            }
        }
        return out
    }
}

import Foundation
import SemanticKITTI
import Testing
import TestSupport
@testable import PointClouds

@Suite struct KNNCleanup3DTests {
    /// Small clusters on the x axis, each with a known answer for k = 5, radius 1 m.
    static let cloud: [(x: Float, label: UInt32, expected: UInt32)] = [
        // A noisy point among four of another class takes the majority.
        (0.0, 10, 10), (0.1, 10, 10), (0.2, 40, 10), (0.3, 10, 10), (0.4, 10, 10),
        // An unlabeled point (0) among labelled ones is labelled; 0 never wins.
        (10.0, 40, 40), (10.1, 0, 40), (10.2, 40, 40),
        // Three-way ties: a point keeps its own label; an unlabeled one takes the smallest.
        (20.0, 11, 11), (20.1, 20, 20), (20.2, 30, 30), (20.3, 0, 11),
        // Too far to vote (1.5 m): with only itself and one neighbour of each class, ties keep their own.
        (30.0, 13, 13), (30.5, 14, 14), (32.0, 14, 14),
        // Alone within the radius: keeps its label, also when it is 0.
        (100.0, 30, 30), (200.0, 0, 0),
    ]

    var scan: Scan { Scan(points: Self.cloud.map { SIMD4($0.x, 0, 0, 0.5) }) }
    var labels: [UInt32] { Self.cloud.map(\.label) }

    @Test func handMadeCloudGivesTheKnownAnswer() {
        let cleaned = KNNCleanup3D(k: 5, radius: 1)(labels, scan: scan)
        #expect(cleaned == Self.cloud.map(\.expected))
    }

    @Test func radiusAndKLimitTheVoters() {
        // With 2 m, the point at 32 m reaches the one at 30.5 m: 30.0 sees 13, 14, 14 and turns 14.
        let wide = KNNCleanup3D(k: 5, radius: 2)(labels, scan: scan)
        #expect(wide[12] == 14)
        // k = 1: each point votes alone and keeps its label.
        #expect(KNNCleanup3D(k: 1, radius: 1)(labels, scan: scan) == labels)
        // Neighbours come nearest first, padded with -1.
        let neighbours = KNNCleanup3D(k: 5, radius: 1).neighbours(of: scan)
        #expect(Array(neighbours[0 ..< 5]) == [0, 1, 2, 3, 4])
        #expect(Array(neighbours[5 * 15 ..< 5 * 16]) == [15, -1, -1, -1, -1])
    }

    @Test func invalidPointsKeepTheirLabelsAndDoNotVote() {
        var points = Self.cloud.map { SIMD4($0.x, 0, 0, 0.5) }
        points[1] = SIMD4(.nan, 0, 0, 0.5)
        var labels = self.labels
        labels[1] = 40
        let cleaned = KNNCleanup3D(k: 5, radius: 1)(labels, scan: Scan(points: points))
        #expect(cleaned[1] == 40)
        #expect(Array(cleaned[0 ..< 5]) == [10, 40, 10, 10, 10])
    }

    @Test func scanLabelsVoteOnSemanticIDsAndKeepInstances() {
        let raw = labels.enumerated().map { $0.element | UInt32($0.offset == 0 ? 5 : 0) << 16 }
        let cleaned = KNNCleanup3D(k: 5, radius: 1)(ScanLabels(raw: raw), scan: scan)
        #expect(cleaned.raw[0] == 10 | 5 << 16) // unchanged: instance kept
        #expect(cleaned.raw[2] == 10) // changed: instance 0
        #expect(cleaned.semantic == Self.cloud.map { UInt16($0.expected) })
    }

    @Test func threadsGiveTheSameAnswer() throws {
        var generator = SplitMix64(seed: 7)
        let points = (0 ..< 20_000).map { _ in
            SIMD4<Float>(.random(in: -20 ... 20, using: &generator), .random(in: -20 ... 20, using: &generator), .random(in: -2 ... 2, using: &generator), 0)
        }
        let labels = (0 ..< points.count).map { _ in UInt32.random(in: 0 ... 4, using: &generator) }
        let scan = Scan(points: points)
        #expect(KNNCleanup3D(k: 7, radius: 2, threads: 2).neighbours(of: scan) == KNNCleanup3D(k: 7, radius: 2).neighbours(of: scan))
        #expect(KNNCleanup3D(k: 7, radius: 2, threads: 2)(labels, scan: scan) == KNNCleanup3D(k: 7, radius: 2)(labels, scan: scan))
    }

    /// On the real scan: the clean-up changes few ground-truth labels and repairs most labels
    /// flipped at random.
    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func realScanChangesFewPointsAndFixesInjectedNoise() throws {
        let frame = try Sample.require()
        let cleanup = KNNCleanup3D(k: 5, radius: 1, threads: 2)
        let truth = frame.labels.semantic.map(UInt32.init)
        let cleaned = cleanup(truth, scan: frame.scan)
        let changed = zip(truth, cleaned).filter { $0 != $1 }.count
        #expect(Double(changed) / Double(truth.count) < 0.02, "changed \(changed) of \(truth.count)")
        #expect(!cleaned.contains(0) || truth.contains(0))

        var generator = SplitMix64(seed: 42)
        var noisy = truth
        let flipped = Set((0 ..< 2000).map { _ in Int.random(in: 0 ..< truth.count, using: &generator) })
        for i in flipped { noisy[i] = truth[i] == 40 ? 70 : 40 }
        let repaired = cleanup(noisy, scan: frame.scan)
        let fixed = flipped.filter { repaired[$0] == truth[$0] }.count
        #expect(Double(fixed) / Double(flipped.count) > 0.9, "fixed \(fixed) of \(flipped.count)")
        let damaged = (0 ..< truth.count).filter { !flipped.contains($0) && repaired[$0] != cleaned[$0] }.count
        #expect(damaged < flipped.count / 10, "\(damaged) clean points changed by the noise")
    }
}

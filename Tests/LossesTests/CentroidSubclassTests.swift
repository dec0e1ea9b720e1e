import Engine
import Foundation
import Random
import Testing
@testable import Losses

@Suite struct CentroidSubclassTests {
    /// Two-class logits `[1, 2, hw]` whose features show class 1's two looks: every
    /// `period`-th pixel at `(rare, 0)`, pixel `p` of the others at `(0, common(p))`.
    func twoLooks(pixels hw: Int, rareEvery period: Int, rare: Float, common: (Int) -> Float) -> [Float] {
        var logits = [Float](repeating: 0, count: 2 * hw)
        for p in 0 ..< hw {
            if p % period == 0 { logits[p] = rare } else { logits[hw + p] = common(p) }
        }
        return logits
    }

    @Test func oneSubclassPerClassIsCrossEntropy() throws {
        let batch = randomBatch(seed: 31)
        var weighting = try CentroidSubclassWeighting(options: CentroidSubclassOptions(), classes: batch.classes, seed: 1)
        let loss = try centroidSubclassLoss(batch, weighting: &weighting)
        let ce = try crossEntropy(batch, reduction: .mean)
        #expect(abs(loss.value - ce.value) < 1e-6)
        // ... and with class weights, class-weighted cross-entropy.
        let weighted = try centroidSubclassLoss(batch, weighting: &weighting, classWeights: [0, 2, 1, 0.5])
        #expect(abs(weighted.value - (try crossEntropy(batch, classWeights: [0, 2, 1, 0.5], reduction: .mean).value)) < 1e-6)
    }

    @Test func smallSubclassWeighsMore() throws {
        // Class 1 has two looks: 90% of its pixels near (0, 5), easy; 10% near (3, 0), hard.
        let hw = 100
        let logits = twoLooks(pixels: hw, rareEvery: 10, rare: 3) { 5 + Float($0 % 3) * 0.01 }
        let batch = LossInput(logits: logits, labels: [Int32](repeating: 1, count: hw), batch: 1, classes: 2, height: 10, width: 10)
        var options = CentroidSubclassOptions()
        options.subclasses = [1: 2]
        var weighting = try CentroidSubclassWeighting(options: options, classes: 2, seed: 7)
        let loss = try centroidSubclassLoss(batch, weighting: &weighting, ignoreIndex: -1)
        let w = try #require(loss.pixelWeights)
        // Frequency term 1/0.9 vs 1/0.1, difficulty: the rare look is also the harder one here.
        #expect(w[0] > 5 * w[1])
        #expect(abs(w[0] + w[1] - 2) < 1e-4) // the class's two weights sum to K_c = 2
        #expect(weighting.centroids[1].count == 2)
    }

    /// Class 1's three subclasses as after 500 steps in which the third lost its pixels: centroids
    /// at (0, 4), (4, 0) and far away, shares 0.75, 0.25 and 1e-19, equal mean losses.
    func abandonThirdSubclass(ofClassOne weighting: inout CentroidSubclassWeighting) throws {
        var state = weighting.state
        state.centroids[1] = [[0, 4], [4, 0], [-50, -50]]
        state.frequency[1] = [0.75, 0.25, 1e-19]
        state.meanLoss[1] = [1, 1, 1]
        state.step = 500
        try weighting.restore(state)
    }

    /// A subclass whose centroid no pixel is nearest any more keeps a moving-average frequency
    /// that decays towards 0 (1e-19 after a few hundred steps in the loss study). Normalised over
    /// all K_c, its weight 1/f takes nearly all of the class's K_c and the pixels the class has
    /// weigh almost nothing; normalised over the subclasses present, they keep their weights.
    @Test func anAbandonedSubclassDoesNotStarveItsClass() throws {
        // Class 1: 30 pixels near (0, 4), 10 near (4, 0); a third centroid far away owns none.
        let hw = 40
        let logits = twoLooks(pixels: hw, rareEvery: 4, rare: 4) { _ in 4 }
        let labels = [Int32](repeating: 1, count: hw)
        func weights(_ normalisation: CentroidSubclassOptions.Normalisation) throws -> [Float] {
            var options = CentroidSubclassOptions()
            options.subclasses = [1: 3]
            options.normalisation = normalisation
            var weighting = try CentroidSubclassWeighting(options: options, classes: 2, seed: 1)
            try abandonThirdSubclass(ofClassOne: &weighting)
            return try weighting.weights(features: logits, channels: 2, labels: labels, pixelLoss: [Float](repeating: 1, count: hw),
                                         batch: 1, pixelsPerImage: hw, ignoreIndex: -1)
        }
        let present = try weights(.present)
        let common = present[1], rare = present[0]
        // Over the two present subclasses: 1/0.75 and 1/0.25, summing to 2.
        #expect(abs(common - 0.5) < 1e-3 && abs(rare - 1.5) < 1e-3, "weights \(common), \(rare)")
        #expect(present.enumerated().allSatisfy { $0.element == ($0.offset % 4 == 0 ? rare : common) })
        // The literal reading starves the class: the frequency floor 1e-6 gives the abandoned
        // subclass the weight 10^6, and every pixel's weight is near 0 (at most 3 x 4 / 10^6).
        let all = try weights(.all)
        #expect(all.allSatisfy { $0 < 2e-5 }, "largest weight \(all.max()!)")
    }

    @Test func subclassesInUseLeaveOutTheAbandoned() throws {
        var options = CentroidSubclassOptions()
        options.subclasses = [1: 3, 2: 2]
        var weighting = try CentroidSubclassWeighting(options: options, classes: 4, seed: 1)
        #expect(weighting.subclassesInUse().isEmpty) // nothing seen yet
        try abandonThirdSubclass(ofClassOne: &weighting)
        var state = weighting.state
        state.centroids[2] = [[1, 1], [2, 2]]
        state.frequency[2] = [0.5, 0.5]
        try weighting.restore(state)
        let usage = weighting.subclassesInUse()
        #expect(usage.map(\.classID) == [1, 2])
        #expect(usage.map(\.inUse) == [2, 2] && usage.map(\.of) == [3, 2])
    }

    @Test func warmupStartsFromFrequencyAlone() throws {
        let batch = randomBatch(batch: 1, classes: 3, height: 8, width: 32, seed: 33, prototypes: 2, noise: 0.1)
        var options = CentroidSubclassOptions()
        options.defaultSubclasses = 2
        options.warmupSteps = 10
        var weighting = try CentroidSubclassWeighting(options: options, classes: 3, seed: 3)
        _ = try centroidSubclassLoss(batch, weighting: &weighting)
        // At step 0 the blend is 0: weights are 1/f normalised, whatever the losses.
        let f = weighting.frequency[1]
        let expected = f.map { 1 / $0 }
        let norm = expected.reduce(0, +)
        var fresh = try CentroidSubclassWeighting(options: options, classes: 3, seed: 3)
        let w = try fresh.weights(features: batch.logits, channels: 3, labels: batch.labels, pixelLoss: [Float](repeating: 1, count: batch.pixelCount),
                                  batch: 1, pixelsPerImage: batch.pixelsPerImage, ignoreIndex: 0)
        let classOne = Set(zip(batch.labels, w).filter { $0.0 == 1 }.map { $1 })
        #expect(classOne.allSatisfy { v in expected.contains { abs($0 * 2 / norm - v) < 1e-4 } })
        #expect(weighting.step == 1)
    }

    @Test func reclusterAndAdaptiveBothRun() throws {
        for update in CentroidSubclassOptions.Update.allCases {
            var options = CentroidSubclassOptions()
            options.defaultSubclasses = 3
            options.update = update
            options.updateEvery = 2
            var weighting = try CentroidSubclassWeighting(options: options, classes: 4, seed: 5)
            for s in 0 ..< 4 {
                let batch = randomBatch(batch: 2, classes: 4, height: 8, width: 32, seed: 40 + UInt64(s), prototypes: 3)
                let loss = try centroidSubclassLoss(batch, weighting: &weighting)
                #expect(loss.value.isFinite && loss.value > 0)
            }
            #expect(weighting.step == 4)
            #expect(weighting.centroids[1].count == 3)
        }
    }

    @Test func invalidOptionsAreExplained() {
        var options = CentroidSubclassOptions()
        options.subclasses = [3: 0]
        #expect(throws: LossError.self) { try CentroidSubclassWeighting(options: options, classes: 4, seed: 1) }
        options = CentroidSubclassOptions()
        options.momentum = 1
        #expect(throws: LossError.self) { try CentroidSubclassWeighting(options: options, classes: 4, seed: 1) }
    }
}

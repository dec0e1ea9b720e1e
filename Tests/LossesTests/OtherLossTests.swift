import Engine
import Foundation
import Random
import Testing
@testable import Losses

@Suite struct OtherLossTests {
    /// One pixel of class 1 whose softmax gives class 1 probability 3/4, beside an ignored pixel.
    func threeQuarters() throws -> LossInput {
        LossInput(logits: [0, 0, logf(3), 5], labels: [1, 0], batch: 1, classes: 2, height: 1, width: 2)
    }

    @Test func focalKnownValueAndCrossEntropyLimit() throws {
        let value = try focalLoss(threeQuarters(), gamma: 2).value
        #expect(abs(value - -0.0625 * logf(0.75)) < 1e-6)
        let batch = randomBatch(seed: 21)
        let focal0 = try focalLoss(batch, gamma: 0)
        let ce = try crossEntropy(batch)
        #expect(abs(focal0.value - ce.value) < 1e-5)
        #expect(zip(focal0.gradient, ce.gradient).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func focalGradient() throws {
        let batch = randomBatch(batch: 1, classes: 4, height: 4, width: 8, seed: 22)
        let value = try focalLoss(batch, gamma: 2, classWeights: [0, 1, 2, 3])
        let error = try maxGradientError(batch, analytic: value.gradient, indices: Array(stride(from: 0, to: batch.logits.count, by: 5))) {
            try focalLoss($0, gamma: 2, classWeights: [0, 1, 2, 3]).value
        }
        #expect(error < 2e-3)
    }

    @Test func diceKnownValueAndGradient() throws {
        // I = 0.75, P = 0.75, G = 1, s = 1: loss = 1 - 2.5 / 2.75.
        #expect(abs(try diceLoss(threeQuarters()).value - (1 - 2.5 / 2.75)) < 1e-6)
        let batch = randomBatch(batch: 2, classes: 4, height: 4, width: 8, seed: 23)
        let value = try diceLoss(batch)
        let error = try maxGradientError(batch, analytic: value.gradient, indices: Array(stride(from: 0, to: batch.logits.count, by: 5))) {
            try diceLoss($0).value
        }
        #expect(error < 2e-3)
        #expect(value.value > 0 && value.value < 1)
    }

    @Test func lovaszKnownValueAndGradient() throws {
        // Both pixels of class 1 at probability 3/4: the Lovász extension is the mean error.
        let batch = LossInput(logits: [0, 0, logf(3), logf(3)], labels: [1, 1], batch: 1, classes: 2, height: 1, width: 2)
        #expect(abs(try lovaszSoftmax(batch, ignoreIndex: -1).value - 0.25) < 1e-6)
        let random = randomBatch(batch: 1, classes: 3, height: 4, width: 8, seed: 24)
        let value = try lovaszSoftmax(random)
        let error = try maxGradientError(random, analytic: value.gradient, indices: Array(stride(from: 0, to: random.logits.count, by: 3)), step: 1e-3) {
            try lovaszSoftmax($0).value
        }
        #expect(error < 5e-3)
    }

    @Test func perfectPredictionsCostNearlyNothing() throws {
        let labels: [Int32] = [1, 2, 2, 1]
        var logits = [Float](repeating: -20, count: 3 * 4)
        for (p, y) in labels.enumerated() { logits[Int(y) * 4 + p] = 20 }
        let batch = LossInput(logits: logits, labels: labels, batch: 1, classes: 3, height: 2, width: 2)
        #expect(try lovaszSoftmax(batch).value < 1e-6)
        #expect(try focalLoss(batch).value < 1e-6)
        #expect(try crossEntropy(batch).value < 1e-6)
        #expect(try diceLoss(batch, smooth: 0).value < 1e-5)
    }
}

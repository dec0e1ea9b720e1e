import Engine
import Foundation
import Random
import Testing
@testable import Losses

@Suite struct CrossEntropyTests {
    @Test func knownValue() throws {
        // Two classes, logits (0, ln 3): softmax (1/4, 3/4).
        let batch = LossInput(logits: [0, 0, logf(3), logf(3)], labels: [1, 0], batch: 1, classes: 2, height: 1, width: 2)
        let valid = try crossEntropy(batch, ignoreIndex: 0, reduction: .validMean)
        #expect(abs(valid.value - -logf(0.75)) < 1e-6)
        let mean = try crossEntropy(batch, ignoreIndex: 0, reduction: .mean)
        #expect(abs(mean.value - -logf(0.75) / 2) < 1e-6)
        // d/dz = p - onehot at the labelled pixel, 0 at the ignored one.
        #expect(abs(valid.gradient[0] - 0.25) < 1e-6 && abs(valid.gradient[2] - -0.25) < 1e-6)
        #expect(valid.gradient[1] == 0 && valid.gradient[3] == 0)
    }

    @Test func classWeightsFollowPyTorchsWeightedMean() throws {
        let batch = LossInput(logits: [0, 0, 0, 0, 0, 0], labels: [1, 2], batch: 1, classes: 3, height: 1, width: 2)
        let value = try crossEntropy(batch, classWeights: [0, 1, 3], ignoreIndex: 0, reduction: .validMean).value
        #expect(abs(value - logf(3)) < 1e-6) // (1 * ln3 + 3 * ln3) / (1 + 3)
        let sum = try crossEntropy(batch, classWeights: [0, 1, 3], ignoreIndex: 0, reduction: .sum).value
        #expect(abs(sum - 4 * logf(3)) < 1e-5)
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        let batch = randomBatch(batch: 2, classes: 4, height: 4, width: 8, seed: 3)
        let pixelWeights = (0 ..< batch.pixelCount).map { Float(1 + $0 % 3) }
        for reduction in Reduction.allCases {
            let value = try crossEntropy(batch, classWeights: [0, 1, 2, 0.5], pixelWeights: pixelWeights, reduction: reduction)
            let error = try maxGradientError(batch, analytic: value.gradient, indices: Array(stride(from: 0, to: batch.logits.count, by: 7))) {
                try crossEntropy($0, classWeights: [0, 1, 2, 0.5], pixelWeights: pixelWeights, reduction: reduction).value
            }
            #expect(error < 2e-3, "\(reduction): \(error)")
        }
    }

    @Test func largeLogitsStayFinite() throws {
        let batch = LossInput(logits: [1000, -1000], labels: [1], batch: 1, classes: 2, height: 1, width: 1)
        let value = try crossEntropy(batch, ignoreIndex: -1)
        #expect(abs(value.value - 2000) < 1e-2)
        #expect(value.gradient.allSatisfy { $0.isFinite })
    }

    @Test func badInputsAreExplained() throws {
        // Labels that do not fill the logits' image, and logits that are not [B, C, H, W].
        let shapeError = #expect(throws: LossError.self) {
            try crossEntropy(logits: Tensor(shape: [1, 2, 1, 1], scalars: [0, 0]), labels: [1, 1])
        }
        #expect(shapeError?.description == "2 labels do not fill [1, 1, 1] for logits [1, 2, 1, 1]")
        #expect(throws: LossError.self) { try crossEntropy(logits: Tensor(shape: [2, 1], scalars: [0, 0]), labels: [1]) }
        let batch = LossInput(logits: [0, 0], labels: [5], batch: 1, classes: 2, height: 1, width: 1)
        let error = #expect(throws: LossError.self) { try crossEntropy(batch) }
        #expect(error?.description.contains("label 5") == true)
        let ok = LossInput(logits: [0, 0], labels: [1], batch: 1, classes: 2, height: 1, width: 1)
        #expect(throws: LossError.self) { try crossEntropy(ok, classWeights: [1]) }
    }

    @Test func inverseFrequencyWeightsAreRangeNets() {
        let w = inverseFrequencyWeights(content: [0.5, 0.3, 0.0], ignored: [0])
        #expect(w[0] == 0)
        #expect(abs(w[1] - 1 / 0.301) < 1e-4)
        #expect(abs(w[2] - 1000) < 1e-2)
    }
}

import Engine
import Foundation
import Random
import Testing
@testable import Losses

@Suite struct CombinedLossTests {
    @Test func parsesWeightedTerms() throws {
        let spec = try LossSpec(parsing: "subclassified:0.2,ce:0.5,dice:0.3")
        #expect(spec.terms == [LossTerm(.subclassified, weight: 0.2), LossTerm(.ce, weight: 0.5), LossTerm(.dice, weight: 0.3)])
        #expect(try LossSpec(parsing: "wce").terms == [LossTerm(.wce)])
        #expect(spec.description == "subclassified:0.2+ce:0.5+dice:0.3")
        // The first releases' comma still reads, the same sum.
        #expect(try LossSpec(parsing: "subclassified:0.2+ce:0.5+dice:0.3") == spec)
    }

    @Test func rejectsBadSpecs() {
        for bad in ["", "ce:", "ce:-1", "bogus", "ce,ce", "ce:0", "ce:x"] {
            #expect(throws: LossError.self, "\(bad)") { try LossSpec(parsing: bad) }
        }
        let error = #expect(throws: LossError.self) { try LossSpec(parsing: "cross") }
        #expect(error?.description.contains("ce, wce, focal, dice, lovasz, subclassified, centroid") == true)
    }

    @Test func sumIsTheWeightedSumOfItsTerms() throws {
        let batch = randomBatch(seed: 51, prototypes: 2)
        var combined = try CombinedLoss(LossConfig(terms: LossSpec(parsing: "subclassified:0.2,ce:0.5,dice:0.3,wce:0.1")), classes: 4,
                                        classWeights: [0, 1, 2, 3])
        let x = batch.tensor()
        let evaluation = try combined(logits: x, labels: batch.labels)
        evaluation.loss.backward()
        let total = LossResult(value: evaluation.loss.scalar, gradient: x.grad!.scalars, pixelWeights: evaluation.pixelWeights)
        let parts: [(Float, LossResult)] = [
            (0.2, try subclassifiedLoss(batch)), (0.5, try crossEntropy(batch)), (0.3, try diceLoss(batch)),
            (0.1, try crossEntropy(batch, classWeights: [0, 1, 2, 3])),
        ]
        #expect(abs(total.value - parts.reduce(0) { $0 + $1.0 * $1.1.value }) < 1e-5)
        for i in stride(from: 0, to: batch.logits.count, by: 11) {
            #expect(abs(total.gradient[i] - parts.reduce(0) { $0 + $1.0 * $1.1.gradient[i] }) < 1e-6)
        }
        #expect(total.pixelWeights != nil)
    }

    @Test func weightedCrossEntropyNeedsWeights() {
        #expect(throws: LossError.self) { try CombinedLoss(LossConfig(terms: LossSpec(.wce)), classes: 4) }
    }

    @Test func everyKindRunsThroughTheCombination() throws {
        let batch = randomBatch(seed: 52, prototypes: 2)
        for kind in LossKind.allCases {
            var loss = try CombinedLoss(LossConfig(terms: LossSpec(kind)), classes: 4, classWeights: [0, 1, 1, 1])
            let x = batch.tensor()
            let value = try loss(logits: x, labels: batch.labels).loss
            value.backward()
            #expect(value.scalar.isFinite && value.scalar > 0, "\(kind)")
            #expect(x.grad!.scalars.contains { $0 != 0 }, "\(kind)")
        }
    }
}

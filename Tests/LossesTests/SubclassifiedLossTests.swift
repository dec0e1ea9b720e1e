import Engine
import Foundation
import Random
import Testing
@testable import Losses

@Suite struct SubclassifiedLossTests {
    @Test func bilinearResamplingUsesHalfPixelCentres() {
        let row: [Float] = [0, 1, 2, 3, 4, 5, 6, 7]
        // Downsampling by 4 reads positions 1.5 and 5.5.
        let down = row.withUnsafeBufferPointer { resampleBilinear($0, planes: 1, inHeight: 1, inWidth: 8, outHeight: 1, outWidth: 2) }
        #expect(down == [1.5, 5.5])
        // Upsampling 2 -> 8: positions -0.375 (clamped to 0), -0.125, 0.125, ..., 1.375.
        let up = [Float(0), 8].withUnsafeBufferPointer { resampleBilinear($0, planes: 1, inHeight: 1, inWidth: 2, outHeight: 1, outWidth: 8) }
        #expect(up == [0, 0, 1, 3, 5, 7, 8, 8])
        let labels: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(labels.withUnsafeBufferPointer { resampleNearest($0, height: 1, width: 8, outHeight: 1, outWidth: 2) } == [1, 5])
    }

    @Test func groupedCountsEqualTheAllPairsDefinition() throws {
        for seed: UInt64 in [1, 2, 3] {
            let batch = randomBatch(batch: 1, classes: 5, height: 16, width: 64, seed: seed, prototypes: 3, noise: 0.15)
            let (q, r) = (batch.pixelsPerImage / 16, batch.pixelsPerImage / 64)
            let (query, reference, ql, rl) = batch.logits.withUnsafeBufferPointer { z in
                batch.labels.withUnsafeBufferPointer { y in
                    (resampleBilinear(z, planes: 5, inHeight: 16, inWidth: 64, outHeight: 4, outWidth: 16),
                     resampleBilinear(z, planes: 5, inHeight: 16, inWidth: 64, outHeight: 2, outWidth: 8),
                     resampleNearest(y, height: 16, width: 64, outHeight: 4, outWidth: 16),
                     resampleNearest(y, height: 16, width: 64, outHeight: 2, outWidth: 8))
                }
            }
            for tau: Float in [0.5, 0.9, 0.98] {
                let grouped = similarityCounts(query: query, queryLabels: ql, reference: reference, referenceLabels: rl, channels: 5, threshold: tau)
                // Every query against every reference, in double precision.
                var direct = [Int](repeating: 0, count: q)
                for i in 0 ..< q {
                    for j in 0 ..< r where ql[i] == rl[j] {
                        var dot = 0.0, fi = 0.0, gj = 0.0
                        for k in 0 ..< 5 {
                            let a = Double(query[k * q + i]), b = Double(reference[k * r + j])
                            dot += a * b; fi += a * a; gj += b * b
                        }
                        if dot / (max(fi, gj) + 1e-5) > Double(tau) { direct[i] += 1 }
                    }
                }
                #expect(grouped == direct, "seed \(seed), tau \(tau)")
                if tau == 0.9 { #expect(direct.contains { $0 > 0 }) } // the test has something to count
            }
        }
    }

    @Test func tauAboveOneGivesCrossEntropy() throws {
        let batch = randomBatch(batch: 2, classes: 4, height: 8, width: 32, seed: 5)
        var options = SubclassifiedOptions()
        options.threshold = 1.01
        let weights = try subclassWeights(batch, options: options)
        #expect(weights.allSatisfy { abs($0 - 1) < 1e-6 })
        let sub = try subclassifiedLoss(batch, options: options)
        let ce = try crossEntropy(batch, reduction: .mean)
        #expect(abs(sub.value - ce.value) < 1e-5 * ce.value)
        #expect(zip(sub.gradient, ce.gradient).allSatisfy { abs($0 - $1) < 1e-6 * max(1, abs($1)) })
    }

    @Test func tauAtMinusOneGivesInverseSquareRootClassWeights() throws {
        // 8 x 32 image; class 1 in columns 0-23, class 2 in 24-31. Reference grid (r = 8) 1 x 4
        // reads columns 0, 8, 16, 24: three pixels of class 1, one of class 2.
        var labels = [Int32](repeating: 1, count: 8 * 32)
        for row in 0 ..< 8 { for column in 24 ..< 32 { labels[row * 32 + column] = 2 } }
        var random = RandomGenerator(seed: 9)
        let logits = (0 ..< 3 * 8 * 32).map { _ in random.normalFloat() }
        let batch = LossInput(logits: logits, labels: labels, batch: 1, classes: 3, height: 8, width: 32)
        var options = SubclassifiedOptions()
        options.threshold = -1
        options.kappa = 0
        let weights = try subclassWeights(batch, options: options)
        // Away from the border every class-1 pixel weighs sqrt(3) times less than a class-2 pixel.
        let w1 = weights[3 * 32 + 5], w2 = weights[3 * 32 + 30]
        #expect(abs(w2 / w1 - Float(3).squareRoot()) < 1e-5)
        #expect(abs(weights.reduce(0, +) / Float(weights.count) - 1) < 1e-5) // normalised to mean 1
    }

    @Test func rareAppearancesWeighMore() throws {
        // Class 1 everywhere with one look, except one query cell that looks different.
        let h = 8, w = 32, c = 3
        var logits = [Float](repeating: 0, count: c * h * w)
        for p in 0 ..< h * w { logits[p] = 1; logits[h * w + p] = 4; logits[2 * h * w + p] = 0 }
        for row in 0 ..< 4 { for column in 8 ..< 12 { logits[row * w + column] = 6; logits[h * w + row * w + column] = -2 } }
        let batch = LossInput(logits: logits, labels: [Int32](repeating: 1, count: h * w), batch: 1, classes: c, height: h, width: w)
        var options = SubclassifiedOptions()
        options.kappa = 1 // the image is tiny: 4 reference pixels
        let weights = try subclassWeights(batch, options: options)
        #expect(weights[1 * w + 9] > 1.5 * weights[6 * w + 25])
        #expect(weights.allSatisfy { $0 <= 10 })
    }

    @Test func batchAveragedCompatibilityOption() throws {
        let batch = randomBatch(batch: 2, classes: 4, height: 8, width: 32, seed: 11, prototypes: 2)
        let own = try subclassWeights(batch)
        var options = SubclassifiedOptions()
        options.batchAveragedWeights = true
        let averaged = try subclassWeights(batch, options: options)
        let hw = batch.pixelsPerImage
        for p in 0 ..< hw {
            #expect(averaged[p] == averaged[hw + p])
            #expect(abs(averaged[p] - (own[p] + own[hw + p]) / 2) < 1e-6)
        }
        #expect(own[0 ..< hw] != own[hw ..< 2 * hw])
        // With one image the two agree.
        let single = randomBatch(batch: 1, classes: 4, height: 8, width: 32, seed: 11, prototypes: 2)
        #expect(try subclassWeights(single) == (try subclassWeights(single, options: options)))
    }

    @Test func gradientTreatsWeightsAsConstants() throws {
        let batch = randomBatch(batch: 1, classes: 3, height: 8, width: 32, seed: 4, prototypes: 2)
        let value = try subclassifiedLoss(batch)
        let weights = try #require(value.pixelWeights)
        let error = try maxGradientError(batch, analytic: value.gradient, indices: Array(stride(from: 0, to: batch.logits.count, by: 13))) {
            try crossEntropy($0, pixelWeights: weights, reduction: .mean).value
        }
        #expect(error < 2e-3)
    }

    @Test func invalidParametersAreExplained() throws {
        let batch = randomBatch(batch: 1, classes: 3, height: 8, width: 32)
        var options = SubclassifiedOptions()
        options.referenceFactor = GridFactor(rows: 3, columns: 8)
        let notDividing = #expect(throws: LossError.self) { try subclassWeights(batch, options: options) }
        #expect(notDividing?.description == "the reference grid factor 3x8 does not divide the 8x32 image")
        options.referenceFactor = GridFactor(0)
        #expect(throws: LossError.self) { try subclassWeights(batch, options: options) }
        options = SubclassifiedOptions()
        options.kappa = -1
        #expect(throws: LossError.self) { try subclassWeights(batch, options: options) }
    }
}

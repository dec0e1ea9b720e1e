import Foundation
import Testing
@testable import Engine

@Suite struct OptimizerTests {
    /// One parameter `[1, -2]` with a fixed gradient, stepped `n` times.
    func run(_ optimizer: any Optimizer, gradient: [Float] = [0.5, -1], steps: Int) -> [Float] {
        let w = Tensor(shape: [2], scalars: [1, -2], requiresGrad: true)
        for _ in 0..<steps {
            (w * Tensor(shape: [2], scalars: gradient)).sum().backward()
            optimizer.step([NamedTensor(name: "w", tensor: w)])
            w.zeroGrad()
        }
        return w.scalars
    }

    @Test func sgdMomentumAndNesterov() {
        // Plain momentum 0.9, lr 0.1, weight decay 0: b1 = g, b2 = 1.9 g → w - 0.1 (1 + 1.9) g.
        #expect(maxDifference(run(SGD(learningRate: 0.1, momentum: 0.9), steps: 2), [1 - 0.29 * 0.5, -2 + 0.29]) < 1e-6)
        // Nesterov: step 1 uses g + 0.9 g, step 2 uses g + 0.9 · 1.9 g → total (1.9 + 2.71) g.
        #expect(maxDifference(run(SGD(learningRate: 0.1, momentum: 0.9, nesterov: true), steps: 2),
                              [1 - 0.461 * 0.5, -2 + 0.461]) < 1e-6)
        // Weight decay adds wd · w to the gradient.
        #expect(maxDifference(run(SGD(learningRate: 0.1, weightDecay: 0.1), gradient: [0, 0], steps: 1), [0.99, -1.98]) < 1e-6)
    }

    @Test func adamAndAdamW() {
        // Adam's first step moves each weight by lr against the gradient's sign.
        #expect(maxDifference(run(Adam(learningRate: 0.01), steps: 1), [0.99, -1.99]) < 1e-5)
        // AdamW decays the weight by lr · wd before the Adam step; Adam with L2 does not.
        let adamW = run(Adam.adamW(learningRate: 0.01, weightDecay: 0.5), steps: 1)
        #expect(maxDifference(adamW, [1 * 0.995 - 0.01, -2 * 0.995 + 0.01]) < 1e-5)
        // With a constant gradient Adam keeps moving by lr per step.
        #expect(maxDifference(run(Adam(learningRate: 0.01), steps: 3), [0.97, -1.97]) < 1e-4)
    }

    @Test func schedules() {
        let s = WarmupExponentialDecay(peak: 0.01, warmupSteps: 10, stepsPerEpoch: 100, decayPerEpoch: 0.99)
        #expect(s.learningRate(atStep: 0) == 0)
        #expect(abs(s.learningRate(atStep: 5) - 0.005) < 1e-9)
        #expect(abs(s.learningRate(atStep: 10) - 0.01) < 1e-9)
        #expect(abs(s.learningRate(atStep: 210) - 0.01 * 0.99 * 0.99) < 1e-8)
        let c = CosineDecay(peak: 1, totalSteps: 110, minimum: 0.1, warmupSteps: 10)
        #expect(abs(c.learningRate(atStep: 10) - 1) < 1e-6)
        #expect(abs(c.learningRate(atStep: 60) - 0.55) < 1e-6)
        #expect(abs(c.learningRate(atStep: 110) - 0.1) < 1e-6)
        #expect(abs(c.learningRate(atStep: 500) - 0.1) < 1e-6)
    }
}

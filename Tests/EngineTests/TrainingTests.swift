import Random
import Testing
@testable import Engine

/// A few fixed inputs and labels that a small network can fit.
struct TinyTask {
    let inputs: Tensor
    let labels: IndexTensor
    let config = ArchitectureConfig(inputChannels: 5, classes: 4, widths: [8, 16], blocks: [1, 1])

    init(seed: UInt64) {
        inputs = random([2, 5, 4, 32], seed: seed)
        // Labels depend on the input so that they are learnable: the arg-max of 4 channels.
        let x = inputs.scalars
        var labels = [Int32](repeating: 0, count: 2 * 4 * 32)
        for b in 0..<2 { for p in 0..<(4 * 32) {
            var best = 0
            for c in 1..<4 where x[(b * 5 + c) * 128 + p] > x[(b * 5 + best) * 128 + p] { best = c }
            labels[b * 128 + p] = Int32(best)
        } }
        self.labels = IndexTensor(shape: [2, 4, 32], indices: labels)
    }

    /// Cross-entropy from engine ops alone: the log-softmax of each pixel's label, averaged.
    func loss(_ model: RangeNetLite) -> Tensor {
        let picked = IndexTensor(shape: [2, 1, 4, 32], indices: labels.indices)
        return -gather(logSoftmax(model(inputs)), alongAxis: 1, indices: picked).mean()
    }
}

@Suite struct TrainingTests {
    func train(_ optimizer: any Optimizer, steps: Int) -> (first: Float, last: Float) {
        var g = RandomGenerator(seed: 3)
        let task = TinyTask(seed: 4)
        let model = RangeNetLite(config: task.config, generator: &g)
        var losses: [Float] = []
        for _ in 0..<steps {
            let loss = task.loss(model)
            losses.append(loss.scalar)
            loss.backward()
            optimizer.step(model)
        }
        return (losses[0], losses[losses.count - 1])
    }

    @Test func lossFallsWithAdam() {
        let (first, last) = train(Adam(learningRate: 1e-2), steps: 25)
        #expect(last < 0.5 * first, "loss \(first) → \(last)")
    }

    @Test func lossFallsWithNesterovSGD() {
        let (first, last) = train(SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4, nesterov: true), steps: 25)
        #expect(last < 0.7 * first, "loss \(first) → \(last)")
    }

    @Test func backwardFreesTheGraph() {
        var g = RandomGenerator(seed: 5)
        let task = TinyTask(seed: 6)
        let model = RangeNetLite(config: task.config, generator: &g)
        let loss = task.loss(model)
        #expect(loss.node != nil)
        loss.backward()
        #expect(loss.node == nil)
        #expect(model.namedParameters().allSatisfy { $0.tensor.grad?.shape == $0.tensor.shape })
        model.zeroGradients()
        #expect(model.namedParameters().allSatisfy { $0.tensor.grad == nil })
    }
}

import Foundation

/// Batch normalisation over channels, as PyTorch's `nn.BatchNorm2d` (affine, tracking
/// running statistics). See `batchNorm(_:scale:shift:runningMean:runningVariance:training:momentum:epsilon:)`.
///
/// Parameters `weight` (ones) and `bias` (zeros), buffers `running_mean` (zeros),
/// `running_var` (ones) and `num_batches_tracked`, all `[channels]` but the counter.
public final class BatchNorm2d: Layer {
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVariance: Tensor
    public let batchesTracked = CounterBuffer()
    /// Weight of the current batch in the running statistics; training code may change it, e.g.
    /// to `1 / (k + 1)` for an exact average over k + 1 batches.
    public var momentum: Float
    public let epsilon: Float
    public var isTraining = true

    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Tensor(repeating: 1, shape: [channels], requiresGrad: true)
        bias = Tensor(zeros: [channels], requiresGrad: true)
        runningMean = Tensor(zeros: [channels])
        runningVariance = Tensor(repeating: 1, shape: [channels])
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

    public var ownBuffers: [(name: String, buffer: Buffer)] {
        [("running_mean", .float(runningMean)), ("running_var", .float(runningVariance)),
         ("num_batches_tracked", .count(batchesTracked))]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if isTraining { batchesTracked.value += 1 }
        return batchNorm(x, scale: weight, shift: bias, runningMean: runningMean, runningVariance: runningVariance,
                         training: isTraining, momentum: momentum, epsilon: epsilon)
    }

    /// This layer, then a leaky ReLU of `slope`, then (with `residual`) `residual +` the result: in
    /// training, one fused operation (`batchNormLeakyReLU`); in evaluation, the ones in turn.
    public func callAsFunction(_ x: Tensor, thenLeakyReLU slope: Float, adding residual: Tensor? = nil) -> Tensor {
        guard isTraining else {
            let y = leakyReLU(self(x), slope: slope)
            return residual.map { $0 + y } ?? y
        }
        batchesTracked.value += 1
        return batchNormLeakyReLU(x, scale: weight, shift: bias, runningMean: runningMean,
                                  runningVariance: runningVariance, momentum: momentum, epsilon: epsilon, slope: slope,
                                  adding: residual)
    }
}

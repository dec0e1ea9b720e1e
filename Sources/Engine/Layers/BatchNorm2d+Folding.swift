/// Batch norm in evaluation mode folded into the convolution before it.
extension BatchNorm2d {
    /// The weight and bias of one convolution that computes convolution-then-this-batch-norm
    /// in evaluation mode (running statistics).
    ///
    /// Per output channel `o`: `s = γ_o / sqrt(runningVar_o + ε)`, `w'_o = s · w_o`,
    /// `b'_o = β_o + s · (b_o − runningMean_o)` (`b = 0` without a bias). Used by the fused
    /// inference path and by the ONNX export, so both compute the same numbers.
    ///
    /// - Parameters:
    ///   - weight: The convolution's weight: `[O, I, kh, kw]` for `Conv2d`, `[I, O, kh, kw]`
    ///     for `ConvTranspose2d`.
    ///   - bias: The convolution's bias `[O]`, if it has one.
    ///   - outputAxis: The axis of `weight` that indexes output channels: 0 for `Conv2d`, 1 for
    ///     `ConvTranspose2d`. Its size must be this layer's channel count.
    /// - Returns: The folded weight (same shape as `weight`) and bias `[O]`.
    public func folded(intoWeight weight: Tensor, bias: Tensor?, outputAxis: Int = 0) -> (weight: Tensor, bias: Tensor) {
        let shape = weight.shape
        let outputs = shape[outputAxis]
        precondition(outputs == runningMean.scalarCount,
                     "weight \(shape) has \(outputs) outputs on axis \(outputAxis), batch norm has \(runningMean.scalarCount) channels")
        let gamma = self.weight.scalars, beta = self.bias.scalars
        let mean = runningMean.scalars, variance = runningVariance.scalars
        let scale = (0..<outputs).map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let b = bias?.scalars ?? [Float](repeating: 0, count: outputs)
        let foldedBias = (0..<outputs).map { beta[$0] + scale[$0] * (b[$0] - mean[$0]) }
        var w = weight.scalars
        let inner = shape[(outputAxis + 1)...].reduce(1, *)
        let outer = shape[..<outputAxis].reduce(1, *)
        for a in 0..<outer {
            for o in 0..<outputs {
                let start = (a * outputs + o) * inner
                for j in start ..< start + inner { w[j] *= scale[o] }
            }
        }
        return (Tensor(shape: shape, scalars: w), Tensor(shape: [outputs], scalars: foldedBias))
    }
}

extension BatchNorm2d {
    /// Evaluation-mode batch norm as a per-channel scale and shift, `y = scale · x + shift` with
    /// `scale = γ / sqrt(runningVar + ε)` and `shift = β − runningMean · scale`: for a batch norm
    /// that cannot be folded into the convolution before it (one that follows an activation).
    public var evaluationAffine: (scale: Tensor, shift: Tensor) {
        let gamma = weight.scalars, beta = bias.scalars
        let mean = runningMean.scalars, variance = runningVariance.scalars
        let scale = gamma.indices.map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
        let shift = beta.indices.map { beta[$0] - mean[$0] * scale[$0] }
        return (Tensor(shape: [scale.count], scalars: scale), Tensor(shape: [shift.count], scalars: shift))
    }
}

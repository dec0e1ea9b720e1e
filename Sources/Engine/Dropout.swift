import Random

/// Channel dropout on `[N, C, H, W]` (any layout): multiplies each `(n, c)` map by
/// `0` (probability `probability`) or `1 / (1 - probability)`. The gradient is masked the
/// same way.
public func channelDropout(_ x: Tensor, probability: Float, generator: inout RandomGenerator) -> Tensor {
    precondition(x.rank == 4, "channelDropout expects [N, C, H, W]")
    let keep = 1 / (1 - probability)
    var mask = [Float](repeating: 0, count: x.shape[0] * x.shape[1])
    for i in mask.indices { mask[i] = Float.unitInterval(using: &generator) < probability ? 0 : keep }
    return x * Tensor(shape: [x.shape[0], x.shape[1], 1, 1], scalars: mask)
}

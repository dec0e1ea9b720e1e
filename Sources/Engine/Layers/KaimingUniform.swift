import Random

/// PyTorch's default initialisation of a convolution's parameters (`reset_parameters` of
/// `nn.Conv2d` and `nn.ConvTranspose2d`): the weight, then the bias if any, uniform in
/// `±1/sqrt(fanIn)`, drawn from `generator` in that order.
///
/// - Parameters:
///   - weightShape: The weight's shape, e.g. `[out, in, kh, kw]`.
///   - fanIn: PyTorch's fan-in of the weight tensor (its dimension 1 times the kernel's area).
///   - biasCount: The bias's length, or nil for no bias.
func kaimingUniformParameters(weightShape: [Int], fanIn: Int, biasCount: Int?,
                              generator: inout RandomGenerator) -> (weight: Tensor, bias: Tensor?) {
    let bound = 1 / Float(fanIn).squareRoot()
    let weight = Tensor(uniformShape: weightShape, low: -bound, high: bound, generator: &generator, requiresGrad: true)
    let bias = biasCount.map {
        Tensor(uniformShape: [$0], low: -bound, high: bound, generator: &generator, requiresGrad: true)
    }
    return (weight, bias)
}

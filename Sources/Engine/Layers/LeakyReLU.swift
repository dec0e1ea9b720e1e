/// Leaky ReLU: `y = x` for `x > 0`, else `slope * x`. No parameters.
public final class LeakyReLU: Layer {
    public let slope: Float
    public var isTraining = true
    public init(slope: Float = 0.01) { self.slope = slope }
    public func callAsFunction(_ x: Tensor) -> Tensor { leakyReLU(x, slope: slope) }
}

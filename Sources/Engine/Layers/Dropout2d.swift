import Random

/// Channel dropout, as PyTorch's `nn.Dropout2d`: in training, each `(sample, channel)` map is
/// zeroed with probability `probability` and the others scaled by `1 / (1 - probability)`;
/// the identity in evaluation.
///
/// The layer owns a generator seeded from the one passed at construction.
public final class Dropout2d: Layer {
    public let probability: Float
    public var generator: RandomGenerator
    public var isTraining = true

    public init(probability: Float, generator: inout RandomGenerator) {
        precondition((0..<1).contains(probability), "dropout probability must be in [0, 1)")
        self.probability = probability
        self.generator = RandomGenerator(seed: generator.next())
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining, probability > 0 else { return x }
        return channelDropout(x, probability: probability, generator: &generator)
    }
}

/// Channels to space, as PyTorch's `nn.PixelShuffle(upscale_factor)`:
/// `[N, C·r², H, W]` to `[N, C, H·r, W·r]` (see `pixelShuffle(_:upscale:)`). No parameters.
public final class PixelShuffle: Layer {
    public let upscale: Int
    public var isTraining = true

    /// - Parameter upscale: the factor `r` by which height and width grow.
    public init(upscale: Int) {
        precondition(upscale >= 1, "PixelShuffle: upscale factor \(upscale) must be at least 1")
        self.upscale = upscale
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { pixelShuffle(x, upscale: upscale) }
}

import Foundation
import Random

/// A 2-D transposed convolution layer, as PyTorch's `nn.ConvTranspose2d` (no groups, no
/// output padding).
///
/// Input `[N, inputChannels, H, W]`, output `[N, outputChannels, H', W']` with
/// `H' = (H - 1) stride.h - 2 padding.h + dilation.h (kernel.h - 1) + 1`.
/// Parameters: `weight` `[inputChannels, outputChannels, kh, kw]`, `bias` `[outputChannels]`.
public final class ConvTranspose2d: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Size2D
    public let padding: Size2D
    public let dilation: Size2D
    public var isTraining = true

    /// Kaiming-uniform as PyTorch: bound `1/sqrt(fanIn)` with PyTorch's fan-in of the weight
    /// tensor, `outputChannels * kh * kw`.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
                padding: Size2D = 0, dilation: Size2D = 1, bias: Bool = true, generator: inout RandomGenerator) {
        let parameters = kaimingUniformParameters(
            weightShape: [inputChannels, outputChannels, kernelSize.height, kernelSize.width],
            fanIn: outputChannels * kernelSize.height * kernelSize.width, biasCount: bias ? outputChannels : nil,
            generator: &generator)
        weight = parameters.weight
        self.bias = parameters.bias
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    public var ownParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        convTranspose2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation)
    }
}

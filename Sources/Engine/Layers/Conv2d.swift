import Foundation
import Random

/// A 2-D convolution layer, as PyTorch's `nn.Conv2d` (no groups).
///
/// Input `[N, inputChannels, H, W]`, output `[N, outputChannels, H', W']` with
/// `H' = floor((H + 2 padding.h - dilation.h (kernel.h - 1) - 1) / stride.h) + 1`.
/// Parameters: `weight` `[outputChannels, inputChannels, kh, kw]`, `bias` `[outputChannels]`.
public final class Conv2d: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Size2D
    public let padding: Size2D
    public let dilation: Size2D
    public var isTraining = true

    /// Kaiming-uniform initialisation as PyTorch's default: weight and bias uniform in
    /// `±1/sqrt(fanIn)`, `fanIn = inputChannels * kh * kw`.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
                padding: Size2D = 0, dilation: Size2D = 1, bias: Bool = true, generator: inout RandomGenerator) {
        let parameters = kaimingUniformParameters(
            weightShape: [outputChannels, inputChannels, kernelSize.height, kernelSize.width],
            fanIn: inputChannels * kernelSize.height * kernelSize.width, biasCount: bias ? outputChannels : nil,
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
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation)
    }
}

extension Conv2d {
    /// The layer as a network's head: float32 output in either precision (a bf16 convolution
    /// writes float32 logits, so the losses and softmax always read float32).
    public func logits(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, outputType: .f32)
    }
}

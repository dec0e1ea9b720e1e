import Foundation

/// The fused inference path: in evaluation mode without gradients, conv → batch norm →
/// leaky ReLU runs as one oneDNN convolution with batch norm folded into its weights and
/// leaky ReLU as a post-op.
///
/// Not fused, because oneDNN 2.6 runs them slower fused than apart on this CPU: transposed
/// convolutions with post-ops (its deconvolution applies them in a slow pass) and the
/// residual addition as a sum post-op after the activation (only the NHWC `brgconv` kernels
/// accept that order, and the layout change costs more than the addition).
///
/// Folding, per output channel `o` (`BatchNorm2d.folded(intoWeight:bias:outputAxis:)`):
/// `s = γ_o / sqrt(runningVar_o + ε)`, `w'_o = s · w_o`, `b'_o = β_o + s · (b_o − runningMean_o)`.
/// The result equals the unfused layers up to rounding. Layers this does not recognise run as usual.
enum InferenceFusion {
    /// Runs `layers` on `x`, fusing each convolution + batch norm (+ leaky ReLU) triple.
    static func run(_ layers: [any Layer], _ x: Tensor) -> Tensor {
        var x = x
        var i = 0
        while i < layers.count {
            if let (conv, weight, bias) = folded(layers, at: i) {
                var used = 2
                var slope: Float? = nil
                if i + 2 < layers.count, let leaky = layers[i + 2] as? LeakyReLU { slope = leaky.slope; used = 3 }
                x = fusedConvolutionForInference(x, weight: weight, bias: bias, stride: conv.stride, padding: conv.padding,
                                                 dilation: conv.dilation, leakySlope: slope)
                i += used
            } else if let residual = layers[i] as? Residual {
                x = x + run(residual.body.layers, x)
                i += 1
            } else if let sequential = layers[i] as? Sequential {
                x = run(sequential.layers, x)
                i += 1
            } else {
                x = layers[i](x)
                i += 1
            }
        }
        return x
    }

    /// The convolution with batch norm folded into its weights and bias, when `layers[i]`
    /// is a convolution followed by an evaluation-mode batch norm.
    private static func folded(_ layers: [any Layer], at i: Int) -> (Conv2d, Tensor, Tensor)? {
        guard i + 1 < layers.count, let conv = layers[i] as? Conv2d, let bn = layers[i + 1] as? BatchNorm2d,
              !bn.isTraining else { return nil }
        let (weight, bias) = bn.folded(intoWeight: conv.weight, bias: conv.bias)
        return (conv, weight, bias)
    }
}

extension RangeNetLite {
    /// Whether `callAsFunction` takes the fused inference path.
    var usesFusedInference: Bool { !isTraining && !GradientMode.isEnabled }

    /// The fused-inference forward pass (see `InferenceFusion`).
    func fusedForward(_ input: Tensor) -> Tensor {
        var x = InferenceFusion.run(stem.layers, input)
        var skips = [x]
        for stage in enc.elements {
            x = InferenceFusion.run(stage.layers, x)
            skips.append(x)
        }
        skips.removeLast()
        for stage in dec.elements {
            x = InferenceFusion.run(stage.layers, x) + skips.removeLast()
        }
        return logits(x)
    }
}

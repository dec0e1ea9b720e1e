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
/// Folding, per output channel `o`: `s = γ_o / sqrt(runningVar_o + ε)`,
/// `w'_o = s · w_o`, `b'_o = β_o + s · (b_o − runningMean_o)`. The result equals the unfused
/// layers up to rounding. Layers this does not recognise run as usual.
enum InferenceFusion {
    /// Runs `layers` on `x`, fusing conv/transposed conv + batch norm (+ leaky ReLU); when
    /// `residual` is given it is added to the last fused convolution's output.
    static func run(_ layers: [any Layer], _ x: Tensor, residual: Tensor? = nil) -> Tensor {
        var x = x
        var i = 0
        while i < layers.count {
            if let (weight, bias, transposed, geometry) = foldable(layers, at: i) {
                var used = 2
                var slope: Float? = nil
                if i + 2 < layers.count, let leaky = layers[i + 2] as? LeakyReLU { slope = leaky.slope; used = 3 }
                let last = i + used == layers.count
                x = fusedConvolutionForInference(x, weight: weight, bias: bias, transposed: transposed,
                                                 stride: geometry.stride, padding: geometry.padding,
                                                 dilation: geometry.dilation, leakySlope: slope,
                                                 residual: last ? residual : nil)
                if last, residual != nil { return x }
                i += used
            } else if let residualBlock = layers[i] as? Residual {
                x = x + run(residualBlock.body.layers, x)
                i += 1
            } else if let sequential = layers[i] as? Sequential {
                x = run(sequential.layers, x)
                i += 1
            } else {
                x = layers[i](x)
                i += 1
            }
        }
        if let residual { return x + residual }
        return x
    }

    /// Folded weights and bias when `layers[i]` is a (transposed) convolution followed by an
    /// evaluation-mode batch norm.
    private static func foldable(_ layers: [any Layer], at i: Int)
        -> (Tensor, Tensor, Bool, ConvolutionSettings)? {
        guard i + 1 < layers.count, let bn = layers[i + 1] as? BatchNorm2d, !bn.isTraining else { return nil }
        let weight: Tensor, bias: Tensor?, transposed: Bool, settings: ConvolutionSettings
        if let conv = layers[i] as? Conv2d {
            (weight, bias, transposed) = (conv.weight, conv.bias, false)
            settings = ConvolutionSettings(stride: conv.stride, padding: conv.padding, dilation: conv.dilation, transposed: false)
        } else {
            return nil
        }
        let outputs = transposed ? weight.shape[1] : weight.shape[0]
        let gamma = bn.weight.scalars, beta = bn.bias.scalars
        let mean = bn.runningMean.scalars, variance = bn.runningVariance.scalars
        let scale = (0..<outputs).map { gamma[$0] / (variance[$0] + bn.epsilon).squareRoot() }
        let b = bias?.scalars ?? [Float](repeating: 0, count: outputs)
        let foldedBias = (0..<outputs).map { beta[$0] + scale[$0] * (b[$0] - mean[$0]) }
        var w = weight.scalars
        let kernel = weight.shape[2] * weight.shape[3]
        if transposed {  // [I, O, kh, kw]
            let inputs = weight.shape[0]
            for ci in 0..<inputs { for o in 0..<outputs { for k in 0..<kernel { w[(ci * outputs + o) * kernel + k] *= scale[o] } } }
        } else {  // [O, I, kh, kw]
            let perOutput = w.count / outputs
            for o in 0..<outputs { for j in 0..<perOutput { w[o * perOutput + j] *= scale[o] } }
        }
        return (Tensor(shape: weight.shape, scalars: w), Tensor(shape: [outputs], scalars: foldedBias), transposed, settings)
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
        return conv2d(x, weight: head.weight, bias: head.bias, stride: head.stride, padding: head.padding,
                      dilation: head.dilation)
    }
}

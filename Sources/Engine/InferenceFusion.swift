import Foundation

/// The fused inference path: in evaluation mode without gradients, conv → batch norm →
/// leaky ReLU runs as one oneDNN convolution with batch norm folded into its weights and
/// leaky ReLU as a post-op.
///
/// The folded weights are made once per layer (in the primitive's layout and element type) and
/// kept until the parameters or statistics they come from change (`InferenceCache`).
///
/// A residual block's sum and a decoder stage's skip connection are added in the block's last
/// convolution, after its leaky ReLU, as binary post-ops (oneDNN 2.6's jit kernels take these in
/// the blocked layout; a sum post-op in that order they do not).
///
/// A transposed convolution → batch norm (→ leaky ReLU) runs as the transposed convolution with
/// batch norm's scale folded into its weights, then one binary pass that adds the folded bias and
/// applies the leaky ReLU as a post-op: oneDNN 2.6's deconvolution applies a bias or post-ops of
/// its own in a slow reference loop (with batch norm folded into the bias, the five bf16 decoder
/// deconvolutions of a 64 x 2048 image took 333 ms instead of 17 ms, single-threaded).
///
/// Folding, per output channel `o` (`BatchNorm2d.folded(intoWeight:bias:outputAxis:)`):
/// `s = γ_o / sqrt(runningVar_o + ε)`, `w'_o = s · w_o`, `b'_o = β_o + s · (b_o − runningMean_o)`.
/// The result equals the unfused layers up to rounding. Layers this does not recognise run as usual.
enum InferenceFusion {
    /// Runs `layers` on `x` and adds `addends` to the result, fusing each convolution + batch
    /// norm (+ leaky ReLU), and the additions into the last convolution when the layers end with
    /// one (a residual block's sum, then a decoder stage's skip connection, as binary post-ops).
    static func run(_ layers: [any Layer], _ x: Tensor, cache: InferenceCache, addends: [Tensor] = []) -> Tensor {
        var x = x
        var pending = addends
        var i = 0
        while i < layers.count {
            let next = i + 1 < layers.count ? layers[i + 1] as? BatchNorm2d : nil
            let leaky = i + 2 < layers.count ? layers[i + 2] as? LeakyReLU : nil
            if let conv = layers[i] as? Conv2d, let bn = next, !bn.isTraining {
                let used = leaky == nil ? 2 : 3
                let last = i + used == layers.count
                x = fusedConvolutionForInference(
                    x, layer: conv, weightShape: conv.weight.shape, transposed: false, stride: conv.stride,
                    padding: conv.padding, dilation: conv.dilation, leakySlope: leaky?.slope,
                    addends: last && conv.weight.shape[0] >= 16 ? pending : [],
                    versions: versions(conv.weight, conv.bias, bn), cache: cache
                ) { bn.folded(intoWeight: conv.weight, bias: conv.bias) }
                if last && conv.weight.shape[0] >= 16 { pending = [] }
                i += used
            } else if let deconv = layers[i] as? ConvTranspose2d, let bn = next, !bn.isTraining {
                let used = leaky == nil ? 2 : 3
                x = fusedConvolutionForInference(
                    x, layer: deconv, weightShape: deconv.weight.shape, transposed: true, stride: deconv.stride,
                    padding: deconv.padding, dilation: deconv.dilation, leakySlope: leaky?.slope,
                    versions: versions(deconv.weight, deconv.bias, bn), cache: cache
                ) { bn.folded(intoWeight: deconv.weight, bias: deconv.bias, outputAxis: 1) }
                i += used
            } else if let residual = layers[i] as? Residual {
                let last = i + 1 == layers.count
                x = run(residual.body.layers, x, cache: cache, addends: [x] + (last ? pending : []))
                if last { pending = [] }
                i += 1
            } else if let sequential = layers[i] as? Sequential {
                let last = i + 1 == layers.count
                x = run(sequential.layers, x, cache: cache, addends: last ? pending : [])
                if last { pending = [] }
                i += 1
            } else {
                x = layers[i](x)
                i += 1
            }
        }
        for addend in pending { x = x + addend }
        return x
    }

    /// The versions of everything a folded weight derives from.
    private static func versions(_ weight: Tensor, _ bias: Tensor?, _ bn: BatchNorm2d) -> [Int] {
        [weight.version, bias?.version ?? -1, bn.weight.version, bn.bias.version, bn.runningMean.version,
         bn.runningVariance.version]
    }
}

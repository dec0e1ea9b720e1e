import CDNNL
import Foundation

/// Batch normalisation over the channels of `[N, C, H, W]` (any layout), on oneDNN.
///
/// `y = scale[c] * (x - mean[c]) / sqrt(var[c] + epsilon) + shift[c]`.
///
/// - Training (`training == true`): `mean` and `var` are the batch's (biased) statistics,
///   and the running statistics are updated in place with PyTorch's convention
///   `running = (1 - momentum) * running + momentum * batch`, using the *unbiased*
///   variance `var * n / (n - 1)` with `n = N H W`.
/// - Inference: `mean` and `var` are `runningMean` and `runningVariance`.
///
/// Gradients flow to `x`, `scale` and `shift`; the running statistics are buffers.
public func batchNorm(_ x: Tensor, scale: Tensor, shift: Tensor, runningMean: Tensor, runningVariance: Tensor,
                      training: Bool, momentum: Float, epsilon: Float) -> Tensor {
    let y = unrecordedBatchNorm(x, scale: scale, shift: shift, runningMean: runningMean, runningVariance: runningVariance,
                                training: training, momentum: momentum, epsilon: epsilon)
    if training { GraphRecording.noteUnsupported("batch norm with batch statistics") }
    GraphRecording.note(.batchNorm(scale: scale, shift: shift, mean: runningMean, variance: runningVariance, epsilon: epsilon),
                        inputs: [x], output: y)
    return y
}

private func unrecordedBatchNorm(_ x: Tensor, scale: Tensor, shift: Tensor, runningMean: Tensor, runningVariance: Tensor,
                                 training: Bool, momentum: Float, epsilon: Float) -> Tensor {
    precondition(x.rank == 4, "batchNorm expects [N, C, H, W], got \(x.shape)")
    let c = x.shape[1]
    precondition(scale.shape == [c] && shift.shape == [c] && runningMean.shape == [c] && runningVariance.shape == [c],
                 "batchNorm parameters must have shape [\(c)]")
    // oneDNN's batch norm on plain NCHW is a slow reference loop; give it the blocked layout.
    let x = x.isContiguous && c >= 8 ? x.inLayout(MemoryDescriptor.blocked(x.shape)) : x
    let desc = x.storage.descriptor
    var flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue
    if !training { flags |= dnnl_use_global_stats.rawValue }
    let needsGrad = GradientMode.isEnabled && [x, scale, shift].contains { $0.requiresGrad }
    let propagateTraining = training || needsGrad
    let key = "bn_f|\(flags)|\(propagateTraining)|\(epsilon)|\(desc.key)"
    let forward = DNNLContext.shared.cached(key) { () -> Primitive in
        var d = dnnl_batch_normalization_desc_t()
        var data = desc.raw
        dnnlCheck(dnnl_batch_normalization_forward_desc_init(
            &d, propagateTraining ? dnnl_forward_training : dnnl_forward_inference, &data, epsilon, UInt32(flags)),
                  "batch norm forward \(x.shape)")
        return Primitive(&d, what: "batch norm forward")
    }
    let out = Storage(desc)
    let scaleStorage = scale.plainStorage, shiftStorage = shift.plainStorage
    let mean: Storage, variance: Storage
    if training {
        mean = Storage(.plain([c]))
        variance = Storage(.plain([c]))
    } else {
        mean = runningMean.plainStorage
        variance = runningVariance.plainStorage
    }
    forward.execute([(DNNL_ARG_SRC, x.storage), (DNNL_ARG_DST, out), (DNNL_ARG_SCALE, scaleStorage),
                     (DNNL_ARG_SHIFT, shiftStorage), (DNNL_ARG_MEAN, mean), (DNNL_ARG_VARIANCE, variance)])
    if training {
        let n = Float(x.shape[0] * x.shape[2] * x.shape[3])
        let unbias = n > 1 ? n / (n - 1) : 1
        runningMean.withUnsafeMutableScalars { rm in
            runningVariance.withUnsafeMutableScalars { rv in
                for i in 0..<c {
                    rm[i] = (1 - momentum) * rm[i] + momentum * mean.floats[i]
                    rv[i] = (1 - momentum) * rv[i] + momentum * variance.floats[i] * unbias
                }
            }
        }
    }
    return Tensor.result(shape: x.shape, storage: out, inputs: [x, scale, shift]) { g in
        let backward = DNNLContext.shared.cached("bn_b|\(flags)|\(epsilon)|\(desc.key)") { () -> Primitive in
            var d = dnnl_batch_normalization_desc_t()
            var data = desc.raw
            dnnlCheck(dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward,
                                                                  &data, &data, epsilon, UInt32(flags)),
                      "batch norm backward")
            return Primitive(&d, hint: forward, what: "batch norm backward")
        }
        let dx = Storage(desc)
        let dScale = Storage(.plain([c])), dShift = Storage(.plain([c]))
        backward.execute([(DNNL_ARG_SRC, x.storage), (DNNL_ARG_MEAN, mean), (DNNL_ARG_VARIANCE, variance),
                          (DNNL_ARG_DIFF_DST, g.storage(in: desc)), (DNNL_ARG_SCALE, scaleStorage),
                          (DNNL_ARG_SHIFT, shiftStorage), (DNNL_ARG_DIFF_SRC, dx),
                          (DNNL_ARG_DIFF_SCALE, dScale), (DNNL_ARG_DIFF_SHIFT, dShift)])
        return [Tensor(shape: x.shape, storage: dx), Tensor(shape: [c], storage: dScale), Tensor(shape: [c], storage: dShift)]
    }
}

import CDNNL
import CKernels
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
        updateRunningStatistics(runningMean, runningVariance, batchMean: mean, batchVariance: variance,
                                count: x.shape[0] * x.shape[2] * x.shape[3], momentum: momentum)
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

/// PyTorch's update of the running statistics from a batch's mean and biased variance over
/// `count` values: `running = (1 - momentum) running + momentum batch`, the variance unbiased.
private func updateRunningStatistics(_ runningMean: Tensor, _ runningVariance: Tensor, batchMean: Storage,
                                     batchVariance: Storage, count: Int, momentum: Float) {
    let n = Float(count)
    let unbias = n > 1 ? n / (n - 1) : 1
    runningMean.withUnsafeMutableScalars { rm in
        runningVariance.withUnsafeMutableScalars { rv in
            for i in rm.indices {
                rm[i] = (1 - momentum) * rm[i] + momentum * batchMean.floats[i]
                rv[i] = (1 - momentum) * rv[i] + momentum * batchVariance.floats[i] * unbias
            }
        }
    }
}

/// Training-mode batch norm (batch statistics, running statistics updated) followed by leaky
/// ReLU: `leakyReLU(batchNorm(x, ..., training: true), slope:)` up to rounding, in one pass each
/// way (`rs_batch_norm_leaky_relu_forward` and `_backward`).
///
/// Run separately, oneDNN's batch norm writes its output, the leaky ReLU reads it and writes its
/// own, and backward writes and rereads the gradient between them; fused, neither intermediate
/// exists, and the backward pass recomputes the leaky ReLU's mask from `x`. Activations stay in
/// their element type (bf16 ones, from bf16 convolutions, are read and written as bf16, computed in
/// float). Where the kernel does not apply (fewer than 8 channels, not four dimensions) this runs
/// the two operations.
///
/// With `residual` (a tensor of `x`'s shape), returns `residual + leakyReLU(batchNorm(x))`, the
/// end of a residual block: the forward pass adds it while writing the output instead of in an
/// addition of its own (one read and one write of a whole tensor fewer), and the backward pass
/// hands the output's gradient to `residual` unchanged.
public func batchNormLeakyReLU(_ x: Tensor, scale: Tensor, shift: Tensor, runningMean: Tensor,
                               runningVariance: Tensor, momentum: Float, epsilon: Float, slope: Float,
                               adding residual: Tensor? = nil) -> Tensor {
    let type = x.storage.descriptor.elementType
    guard x.rank == 4, x.shape[1] >= 8,
          residual.map({ $0.shape == x.shape && $0.storage.descriptor.elementType == type }) ?? true else {
        let y = leakyReLU(batchNorm(x, scale: scale, shift: shift, runningMean: runningMean,
                                    runningVariance: runningVariance, training: true, momentum: momentum,
                                    epsilon: epsilon), slope: slope)
        return residual.map { $0 + y } ?? y
    }
    GraphRecording.noteUnsupported("batch norm with batch statistics")
    let (samples, c) = (x.shape[0], x.shape[1])
    precondition(scale.shape == [c] && shift.shape == [c] && runningMean.shape == [c] && runningVariance.shape == [c],
                 "batchNorm parameters must have shape [\(c)]")
    let pixels = x.shape[2] * x.shape[3]
    let desc = MemoryDescriptor.blocked(x.shape, type: type)
    let x = x.inLayout(desc)
    let residualStorage = residual.map { $0.storage(in: desc) }
    let bf16: Int32 = type == .bf16 ? 1 : 0
    let out = Storage(desc)
    let mean = Storage(.plain([c])), variance = Storage(.plain([c]))
    let scaleStorage = scale.plainStorage, shiftStorage = shift.plainStorage
    let block = Int32(ChannelBlock.size)
    let done = withExtendedLifetime((x.storage, residualStorage)) {
        onNetworkThreads {
            rs_batch_norm_leaky_relu_forward(x.storage.pointer, residualStorage?.pointer, Int64(samples), Int64(c),
                                             Int64(pixels), block, bf16, scaleStorage.floats, shiftStorage.floats,
                                             epsilon, slope, out.pointer, mean.floats, variance.floats)
        }
    }
    precondition(done != 0, "batch norm + leaky ReLU: no memory for \(x.shape)")
    updateRunningStatistics(runningMean, runningVariance, batchMean: mean, batchVariance: variance,
                            count: samples * pixels, momentum: momentum)
    return Tensor.result(shape: x.shape, storage: out, inputs: [x, scale, shift] + (residual.map { [$0] } ?? [])) { g in
        let gs = g.storage(in: desc)
        let dx = Storage(desc)
        let dScale = Storage(.plain([c])), dShift = Storage(.plain([c]))
        let done = withExtendedLifetime((x.storage, gs)) {
            onNetworkThreads {
                rs_batch_norm_leaky_relu_backward(x.storage.pointer, gs.pointer, Int64(samples), Int64(c), Int64(pixels),
                                                  block, bf16, scaleStorage.floats, shiftStorage.floats, mean.floats,
                                                  variance.floats, epsilon, slope, dx.pointer, dScale.floats,
                                                  dShift.floats)
            }
        }
        precondition(done != 0, "batch norm + leaky ReLU backward: no memory for \(x.shape)")
        return [Tensor(shape: x.shape, storage: dx), Tensor(shape: [c], storage: dScale), Tensor(shape: [c], storage: dShift)]
            + (residual == nil ? [] : [g])
    }
}

/// Runs `body` with the C kernels sharing their work among the OpenMP threads oneDNN runs on this
/// thread (`rs_parallel_share_here`): the engine's callers are the threads that run its network.
func onNetworkThreads<R>(_ body: () -> R) -> R {
    let sharing = rs_parallel_share_here(1)
    defer { rs_parallel_share_here(sharing) }
    return body()
}

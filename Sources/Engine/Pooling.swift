import CDNNL
import Foundation

/// Average pooling of `[N, C, H, W]` (any layout), as PyTorch's
/// `nn.AvgPool2d(kernel_size, stride, padding)` with its defaults `count_include_pad=True` and
/// `ceil_mode=False`.
///
/// Output `[N, C, H', W']` with `H' = floor((H + 2 padding.h − kernel.h) / stride.h) + 1` (same
/// for W). Each output is the sum of its `kernel.h × kernel.w` window, zeros in the padding
/// included, divided by `kernel.h · kernel.w`:
/// `y[n, c, i, j] = Σ_{u, v} x[n, c, i·s.h − p.h + u, j·s.w − p.w + v] / (k.h · k.w)`.
/// (Without `ceil_mode` no window reaches past the padding, so every divisor is the full
/// window, as in PyTorch.) The gradient spreads each output's gradient evenly over its window.
///
/// Runs on oneDNN's pooling primitive (`dnnl_pooling_avg_include_padding`), forward and
/// backward, in the input's layout and element type (plain float32 inputs with at least 8
/// channels are first put in the activations' blocked layout, as batch norm does).
public func averagePool2d(_ x: Tensor, kernel: Size2D, stride: Size2D, padding: Size2D = 0) -> Tensor {
    let y = unrecordedAveragePool2d(x, kernel: kernel, stride: stride, padding: padding)
    GraphRecording.note(.averagePool(kernel: kernel, stride: stride, padding: padding), inputs: [x], output: y)
    return y
}

private func unrecordedAveragePool2d(_ x: Tensor, kernel: Size2D, stride: Size2D, padding: Size2D) -> Tensor {
    precondition(x.rank == 4, "averagePool2d expects [N, C, H, W], got \(x.shape)")
    precondition(kernel.height > 0 && kernel.width > 0 && stride.height > 0 && stride.width > 0,
                 "averagePool2d: kernel \(kernel) and stride \(stride) must be positive")
    precondition(padding.height >= 0 && padding.width >= 0
                 && 2 * padding.height <= kernel.height && 2 * padding.width <= kernel.width,
                 "averagePool2d: padding \(padding) must be at most half the kernel \(kernel)")
    precondition(x.shape[2] + 2 * padding.height >= kernel.height && x.shape[3] + 2 * padding.width >= kernel.width,
                 "averagePool2d: kernel \(kernel) larger than the padded input \(x.shape)")
    let h = (x.shape[2] + 2 * padding.height - kernel.height) / stride.height + 1
    let w = (x.shape[3] + 2 * padding.width - kernel.width) / stride.width + 1
    let x = x.isContiguous && x.shape[1] >= 8 ? x.inLayout(MemoryDescriptor.blocked(x.shape)) : x
    let source = x.storage.descriptor
    let output = [x.shape[0], x.shape[1], h, w]
    let geometry = PoolingGeometry(kernel: kernel, stride: stride, padding: padding)
    let training = GradientMode.isEnabled && x.requiresGrad
    let forward = poolingForward(source, output: output, geometry, training: training)
    let out = Storage(forward.dst)
    forward.execute([(DNNL_ARG_SRC, x.storage), (DNNL_ARG_DST, out)])
    let inputShape = x.shape
    return Tensor.result(shape: output, storage: out, inputs: [x]) { g in
        let backward = poolingBackward(source, output: output, geometry, forward: forward)
        let dx = Storage(backward.diffSrc)
        backward.execute([(DNNL_ARG_DIFF_DST, g.storage(in: backward.diffDst)), (DNNL_ARG_DIFF_SRC, dx)])
        return [Tensor(shape: inputShape, storage: dx)]
    }
}

/// Kernel, stride and padding of a pooling, as oneDNN's arrays. The padding is symmetric:
/// oneDNN checks `H' = (H + padL + padR − k) / s + 1` with truncating division, which is
/// PyTorch's floor for the sizes `averagePool2d` accepts.
private struct PoolingGeometry: CustomStringConvertible {
    var kernel: Size2D, stride: Size2D, padding: Size2D
    var kernels: [Int64] { [Int64(kernel.height), Int64(kernel.width)] }
    var strides: [Int64] { [Int64(stride.height), Int64(stride.width)] }
    var paddings: [Int64] { [Int64(padding.height), Int64(padding.width)] }
    var description: String { "k\(kernel)s\(stride)p\(padding)" }
}

/// The forward primitive; the output's layout is oneDNN's choice for the input's (the same).
private func poolingForward(_ source: MemoryDescriptor, output: [Int], _ p: PoolingGeometry, training: Bool) -> Primitive {
    DNNLContext.shared.cached("avgpool_f|\(p)|\(training)|\(source.key)") { () -> Primitive in
        var d = dnnl_pooling_desc_t()
        var src = source.raw, dst = MemoryDescriptor.any(output, type: source.elementType).raw
        dnnlCheck(dnnl_pooling_forward_desc_init(&d, training ? dnnl_forward_training : dnnl_forward_inference,
                                                 dnnl_pooling_avg_include_padding, &src, &dst,
                                                 p.strides, p.kernels, p.paddings, p.paddings),
                  "average pooling forward \(source.dims) \(p)")
        return Primitive(&d, what: "average pooling forward")
    }
}

/// The backward-data primitive matching a training forward's layouts.
private func poolingBackward(_ source: MemoryDescriptor, output: [Int], _ p: PoolingGeometry, forward: Primitive) -> Primitive {
    DNNLContext.shared.cached("avgpool_b|\(p)|\(source.key)") { () -> Primitive in
        var d = dnnl_pooling_desc_t()
        var diffSrc = source.raw, diffDst = forward.dst.raw
        dnnlCheck(dnnl_pooling_backward_desc_init(&d, dnnl_pooling_avg_include_padding, &diffSrc, &diffDst,
                                                  p.strides, p.kernels, p.paddings, p.paddings),
                  "average pooling backward \(source.dims) \(p)")
        return Primitive(&d, hint: forward, what: "average pooling backward")
    }
}

import CDNNL
import Foundation

/// Iterates `[N, C, S]` views of a contiguous `[N, C, …]` tensor: `body(n, s, stride)` sees
/// channel `c` of position `(n, s)` at offset `(n * C + c) * S + s`.
private func channelGeometry(_ shape: [Int]) -> (n: Int, c: Int, s: Int) {
    precondition(shape.count >= 2, "softmax ops need [N, C, …], got \(shape)")
    return (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
}

/// Softmax over the channel axis (1) of `[N, C, …]`: `y_c = exp(x_c) / Σ_k exp(x_k)`.
/// `[N, C, H, W]` runs on oneDNN in `nChw16c`; other ranks in Swift.
public func softmax(_ x: Tensor) -> Tensor {
    if x.rank == 4 { return oneDNNSoftmax(x, log: false) }
    let (n, c, s) = channelGeometry(x.shape)
    let out = Tensor(zeros: x.shape)
    x.withUnsafeScalars { xv in out.withUnsafeMutableScalars { yv in
        for b in 0..<n { for p in 0..<s {
            let base = b * c * s + p
            var m = -Float.infinity
            for k in 0..<c { m = max(m, xv[base + k * s]) }
            var total: Float = 0
            for k in 0..<c { let e = exp(xv[base + k * s] - m); yv[base + k * s] = e; total += e }
            for k in 0..<c { yv[base + k * s] /= total }
        } }
    } }
    let y = out.storage
    return Tensor.result(shape: x.shape, storage: y, inputs: [x]) { g in
        // dx_c = y_c (g_c - Σ_k g_k y_k)
        let dx = Tensor(zeros: x.shape)
        g.withUnsafeScalars { gv in dx.withUnsafeMutableScalars { d in
            for b in 0..<n { for p in 0..<s {
                let base = b * c * s + p
                var dot: Float = 0
                for k in 0..<c { dot += gv[base + k * s] * y.floats[base + k * s] }
                for k in 0..<c { d[base + k * s] = y.floats[base + k * s] * (gv[base + k * s] - dot) }
            } }
        } }
        return [dx]
    }
}

/// Log-softmax over the channel axis (1): `y_c = x_c - log Σ_k exp(x_k)` (max-shifted).
/// `[N, C, H, W]` runs on oneDNN in `nChw16c`; other ranks in Swift.
public func logSoftmax(_ x: Tensor) -> Tensor {
    if x.rank == 4 { return oneDNNSoftmax(x, log: true) }
    let (n, c, s) = channelGeometry(x.shape)
    let out = Tensor(zeros: x.shape)
    x.withUnsafeScalars { xv in out.withUnsafeMutableScalars { yv in
        for b in 0..<n { for p in 0..<s {
            let base = b * c * s + p
            var m = -Float.infinity
            for k in 0..<c { m = max(m, xv[base + k * s]) }
            var total: Float = 0
            for k in 0..<c { total += exp(xv[base + k * s] - m) }
            let lse = m + log(total)
            for k in 0..<c { yv[base + k * s] = xv[base + k * s] - lse }
        } }
    } }
    let y = out.storage
    return Tensor.result(shape: x.shape, storage: y, inputs: [x]) { g in
        // dx_c = g_c - softmax_c Σ_k g_k
        let dx = Tensor(zeros: x.shape)
        g.withUnsafeScalars { gv in dx.withUnsafeMutableScalars { d in
            for b in 0..<n { for p in 0..<s {
                let base = b * c * s + p
                var total: Float = 0
                for k in 0..<c { total += gv[base + k * s] }
                for k in 0..<c { d[base + k * s] = gv[base + k * s] - exp(y.floats[base + k * s]) * total }
            } }
        } }
        return [dx]
    }
}

/// (Log-)softmax over channels of `[N, C, H, W]` with oneDNN's vectorised primitives,
/// forward and backward, in the `nChw16c` layout.
private func oneDNNSoftmax(_ x: Tensor, log: Bool) -> Tensor {
    let layout = MemoryDescriptor.blocked(x.shape)
    let alg = log ? dnnl_softmax_log : dnnl_softmax_accurate
    let forward = DNNLContext.shared.cached("softmax_f|\(log)|\(layout.key)") { () -> Primitive in
        var d = dnnl_softmax_v2_desc_t()
        var src = layout.raw, dst = layout.raw
        dnnlCheck(dnnl_softmax_v2_forward_desc_init(&d, dnnl_forward_training, alg, &src, &dst, 1), "softmax forward")
        return Primitive(&d, what: "softmax forward")
    }
    let out = Storage(layout)
    forward.execute([(DNNL_ARG_SRC, x.storage(in: layout)), (DNNL_ARG_DST, out)])
    return Tensor.result(shape: x.shape, storage: out, inputs: [x]) { g in
        let backward = DNNLContext.shared.cached("softmax_b|\(log)|\(layout.key)") { () -> Primitive in
            var d = dnnl_softmax_v2_desc_t()
            var diffSrc = layout.raw, diffDst = layout.raw, dst = layout.raw
            dnnlCheck(dnnl_softmax_v2_backward_desc_init(&d, alg, &diffSrc, &diffDst, &dst, 1), "softmax backward")
            return Primitive(&d, hint: forward, what: "softmax backward")
        }
        let dx = Storage(layout)
        backward.execute([(DNNL_ARG_DST, out), (DNNL_ARG_DIFF_DST, g.storage(in: layout)), (DNNL_ARG_DIFF_SRC, dx)])
        return [Tensor(shape: x.shape, storage: dx)]
    }
}

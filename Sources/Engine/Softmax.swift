import CDNNL
import Foundation

/// A contiguous `[N, C, …]` tensor seen as `[N, C, S]`: channel `k` of position `(n, s)` stands
/// at offset `(n * C + k) * S + s`.
private struct ChannelGeometry {
    let n: Int
    let c: Int
    let s: Int

    init(_ shape: [Int]) {
        precondition(shape.count >= 2, "softmax ops need [N, C, …], got \(shape)")
        (n, c, s) = (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
    }

    /// A new tensor of `input`'s shape, filled position by position (in order) by
    /// `row(input, output, base)`; the position's channel `k` is at `base + k * S`.
    func map(_ input: Tensor,
             _ row: (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>, Int) -> Void) -> Tensor {
        let out = Tensor(zeros: input.shape)
        input.withUnsafeScalars { iv in out.withUnsafeMutableScalars { ov in
            for b in 0..<n { for p in 0..<s { row(iv, ov, b * c * s + p) } }
        } }
        return out
    }

    /// The largest of the channels of the position at `base`.
    func maximum(_ v: UnsafeBufferPointer<Float>, at base: Int) -> Float {
        var m = -Float.infinity
        for k in 0..<c { m = max(m, v[base + k * s]) }
        return m
    }
}

/// Softmax over the channel axis (1) of `[N, C, …]`: `y_c = exp(x_c) / Σ_k exp(x_k)`.
/// `[N, C, H, W]` runs on oneDNN in `nChw16c`; other ranks in Swift.
public func softmax(_ x: Tensor) -> Tensor {
    x.rank == 4 ? oneDNNSoftmax(x, log: false) : swiftSoftmax(x, log: false)
}

/// Log-softmax over the channel axis (1): `y_c = x_c - log Σ_k exp(x_k)` (max-shifted).
/// `[N, C, H, W]` runs on oneDNN in `nChw16c`; other ranks in Swift.
public func logSoftmax(_ x: Tensor) -> Tensor {
    x.rank == 4 ? oneDNNSoftmax(x, log: true) : swiftSoftmax(x, log: true)
}

/// (Log-)softmax over the channels of `[N, C, …]` in Swift, forward and backward, both
/// shifted by each position's largest input.
private func swiftSoftmax(_ x: Tensor, log takeLog: Bool) -> Tensor {
    let geometry = ChannelGeometry(x.shape)
    let (c, s) = (geometry.c, geometry.s)
    let y = geometry.map(x) { xv, yv, base in
        let m = geometry.maximum(xv, at: base)
        var total: Float = 0
        if takeLog {
            for k in 0..<c { total += exp(xv[base + k * s] - m) }
            let lse = m + log(total)
            for k in 0..<c { yv[base + k * s] = xv[base + k * s] - lse }
        } else {
            for k in 0..<c { let e = exp(xv[base + k * s] - m); yv[base + k * s] = e; total += e }
            for k in 0..<c { yv[base + k * s] /= total }
        }
    }.storage
    return Tensor.result(shape: x.shape, storage: y, inputs: [x]) { g in
        [geometry.map(g) { gv, d, base in
            if takeLog {
                // dx_c = g_c - softmax_c Σ_k g_k
                var total: Float = 0
                for k in 0..<c { total += gv[base + k * s] }
                for k in 0..<c { d[base + k * s] = gv[base + k * s] - exp(y.floats[base + k * s]) * total }
            } else {
                // dx_c = y_c (g_c - Σ_k g_k y_k)
                var dot: Float = 0
                for k in 0..<c { dot += gv[base + k * s] * y.floats[base + k * s] }
                for k in 0..<c { d[base + k * s] = y.floats[base + k * s] * (gv[base + k * s] - dot) }
            }
        }]
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

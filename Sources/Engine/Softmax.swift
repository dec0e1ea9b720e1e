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

/// Weighted negative log-likelihood of the softmax, per pixel, fused with its gradient.
///
/// For logits `x` `[N, C, …]` and labels `y` `[N, …]`, the loss at position `p` is
/// `ℓ_p = -w_p · cw[y_p] · log softmax(x_p)[y_p]`, and `0` where `y_p == ignoreIndex`.
/// The gradient is `∂ℓ_p/∂x_{p,c} = w_p · cw[y_p] · (softmax(x_p)_c - [c == y_p])`, computed
/// from the softmax saved in the forward pass (no `log(clamp(softmax))`).
///
/// - Parameters:
///   - classWeights: `cw`, one per class (all ones when `nil`).
///   - pixelWeights: `w`, shape `[N, …]` (ones when `nil`). Treated as constants: no gradient.
/// - Returns: per-position losses `[N, …]`; reduce them with `sum()`, or divide by
///   `weightSum(...)` for PyTorch's weighted mean.
public func softmaxCrossEntropy(logits: Tensor, labels: IndexTensor, classWeights: [Float]? = nil,
                                pixelWeights: Tensor? = nil, ignoreIndex: Int? = nil) -> Tensor {
    let (n, c, s) = channelGeometry(logits.shape)
    let lossShape = [n] + Array(logits.shape.dropFirst(2))
    precondition(labels.shape == lossShape, "labels \(labels.shape) for logits \(logits.shape)")
    if let classWeights { precondition(classWeights.count == c, "\(classWeights.count) class weights for \(c) classes") }
    if let pixelWeights { precondition(pixelWeights.shape == lossShape, "pixel weights \(pixelWeights.shape), expected \(lossShape)") }
    let weights = effectiveWeights(labels: labels, classes: c, classWeights: classWeights, pixelWeights: pixelWeights,
                                   ignoreIndex: ignoreIndex)
    if logits.rank == 4 {
        return blockedSoftmaxCrossEntropy(logits: logits, labels: labels, weights: weights)
    }
    let probabilities = Storage(.plain(logits.shape))
    let loss = Tensor(zeros: lossShape)
    let maxima = Storage(.plain([s])), sums = Storage(.plain([s]))
    logits.withUnsafeScalars { xv in loss.withUnsafeMutableScalars { lv in
        let pv = probabilities.floats, m = maxima.floats, total = sums.floats
        let x = xv.baseAddress!
        for b in 0..<n {
            let base = b * c * s
            // Channel-major passes over contiguous pixel rows: 16 pixels at a time.
            let vectorEnd = s - s % 16
            for p in stride(from: 0, to: vectorEnd, by: 16) {
                var mv = x.lanes(at: base + p)
                for k in 1..<c { mv = pointwiseMax(mv, x.lanes(at: base + k * s + p)) }
                var sv = Float16Lanes(repeating: 0)
                for k in 0..<c {
                    let e = fastExp(x.lanes(at: base + k * s + p) - mv)
                    pv.store(e, at: base + k * s + p)
                    sv += e
                }
                let inverse = 1 / sv
                for k in 0..<c { pv.store(pv.lanes(at: base + k * s + p) * inverse, at: base + k * s + p) }
                m.store(mv, at: p)
                total.store(sv, at: p)
            }
            for p in vectorEnd..<s {
                var mx = -Float.infinity
                for k in 0..<c { mx = max(mx, x[base + k * s + p]) }
                var sum: Float = 0
                for k in 0..<c { let e = Foundation.exp(x[base + k * s + p] - mx); pv[base + k * s + p] = e; sum += e }
                for k in 0..<c { pv[base + k * s + p] /= sum }
                m[p] = mx
                total[p] = sum
            }
            labels.indices.withUnsafeBufferPointer { y in weights.withUnsafeBufferPointer { wv in
                for p in 0..<s where wv[b * s + p] != 0 {
                    let label = Int(y[b * s + p])
                    lv[b * s + p] = -wv[b * s + p] * (x[base + label * s + p] - m[p] - log(total[p]))
                }
            } }
        }
    } }
    return Tensor.result(shape: lossShape, storage: loss.storage, inputs: [logits]) { g in
        let dx = Storage(.plain(logits.shape))
        g.withUnsafeScalars { gv in weights.withUnsafeBufferPointer { wv in
            let pv = probabilities.floats, d = dx.floats, gw = maxima.floats
            for b in 0..<n {
                let base = b * c * s
                for p in 0..<s { gw[p] = wv[b * s + p] * gv[b * s + p] }
                let vectorEnd = s - s % 16
                for k in 0..<c {
                    for p in stride(from: 0, to: vectorEnd, by: 16) {
                        d.store(pv.lanes(at: base + k * s + p) * gw.lanes(at: p), at: base + k * s + p)
                    }
                    for p in vectorEnd..<s { d[base + k * s + p] = pv[base + k * s + p] * gw[p] }
                }
                labels.indices.withUnsafeBufferPointer { y in
                    for p in 0..<s where gw[p] != 0 { d[base + Int(y[b * s + p]) * s + p] -= gw[p] }
                }
            }
        } }
        return [Tensor(shape: logits.shape, storage: dx)]
    }
}

/// `w_p · cw[y_p]` per position, `0` where ignored; checks label range.
private func effectiveWeights(labels: IndexTensor, classes c: Int, classWeights: [Float]?, pixelWeights: Tensor?,
                              ignoreIndex: Int?) -> [Float] {
    let pixel = pixelWeights?.scalars
    var weights = [Float](repeating: 0, count: labels.count)
    for i in 0..<labels.count {
        let label = Int(labels.indices[i])
        if label == ignoreIndex { continue }
        precondition(label >= 0 && label < c, "label \(label) outside 0..<\(c)")
        weights[i] = (classWeights?[label] ?? 1) * (pixel?[i] ?? 1)
    }
    return weights
}

/// `Σ_p w_p · cw[y_p]` over non-ignored positions: the denominator of PyTorch's weighted
/// mean cross-entropy (`reduction="mean"`). A constant (no gradient).
public func crossEntropyWeightSum(labels: IndexTensor, classes: Int, classWeights: [Float]? = nil,
                                  pixelWeights: Tensor? = nil, ignoreIndex: Int? = nil) -> Float {
    effectiveWeights(labels: labels, classes: classes, classWeights: classWeights, pixelWeights: pixelWeights,
                     ignoreIndex: ignoreIndex).reduce(0, +)
}

/// `softmaxCrossEntropy` for `[N, C, H, W]` logits on oneDNN: log-softmax (a vectorised,
/// threaded primitive) runs on the `nChw16c` layout the network's head produces, so the
/// logits are never reordered; Swift only gathers the labelled entries and forms the
/// gradient `w_p (exp(logsoftmax) − onehot)` in the same layout.
private func blockedSoftmaxCrossEntropy(logits: Tensor, labels: IndexTensor, weights: [Float]) -> Tensor {
    let (n, c, h, w) = (logits.shape[0], logits.shape[1], logits.shape[2], logits.shape[3])
    let s = h * w
    let blocks = (c + 15) / 16
    let layout = MemoryDescriptor(shape: logits.shape, tag: dnnl_aBcd16b)
    let x = logits.storage(in: layout)
    func eltwise(_ key: String, _ make: (inout dnnl_memory_desc_t) -> Primitive) -> Primitive {
        DNNLContext.shared.cached("\(key)|\(layout.key)") { var data = layout.raw; return make(&data) }
    }
    let logSoftmax = eltwise("logsoftmax") { data in
        var d = dnnl_softmax_v2_desc_t()
        var out = data
        dnnlCheck(dnnl_softmax_v2_forward_desc_init(&d, dnnl_forward_inference, dnnl_softmax_log, &data, &out, 1), "log-softmax")
        return Primitive(&d, what: "log-softmax")
    }
    let logProbabilities = Storage(layout)
    logSoftmax.execute([(DNNL_ARG_SRC, x), (DNNL_ARG_DST, logProbabilities)])
    @inline(__always) func offset(_ b: Int, _ k: Int, _ p: Int) -> Int { ((b * blocks + k / 16) * s + p) * 16 + k % 16 }
    let loss = Tensor(zeros: [n, h, w])
    loss.withUnsafeMutableScalars { lv in labels.indices.withUnsafeBufferPointer { y in
        let ls = logProbabilities.floats
        for i in 0..<(n * s) where weights[i] != 0 {
            lv[i] = -weights[i] * ls[offset(i / s, Int(y[i]), i % s)]
        }
    } }
    return Tensor.result(shape: [n, h, w], storage: loss.storage, inputs: [logits]) { g in
        // exp over the whole padded buffer seen as one flat vector (oneDNN's vectorised
        // kernel does not take padded blocked layouts); the padding is zeroed below.
        let flat = MemoryDescriptor.plain([layout.byteCount / 4])
        let exp = DNNLContext.shared.cached("exp|\(flat.key)") { () -> Primitive in
            var d = dnnl_eltwise_desc_t()
            var data = flat.raw
            dnnlCheck(dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, dnnl_eltwise_exp, &data, 0, 0), "exp")
            return Primitive(&d, what: "exp")
        }
        let dx = Storage(layout)
        exp.execute([(DNNL_ARG_SRC, Storage(viewing: logProbabilities, as: flat)), (DNNL_ARG_DST, Storage(viewing: dx, as: flat))])
        g.withUnsafeScalars { gv in labels.indices.withUnsafeBufferPointer { y in
            let d = dx.floats
            for b in 0..<n {
                for k in 0..<blocks {
                    let lanes = min(16, c - k * 16)
                    for p in 0..<s {
                        let scale = weights[b * s + p] * gv[b * s + p]
                        let row = ((b * blocks + k) * s + p) * 16
                        for l in 0..<lanes { d[row + l] *= scale }
                        for l in lanes..<16 { d[row + l] = 0 }
                    }
                }
                for p in 0..<s {
                    let scale = weights[b * s + p] * gv[b * s + p]
                    if scale != 0 { d[offset(b, Int(y[b * s + p]), p)] -= scale }
                }
            }
        } }
        return [Tensor(shape: logits.shape, storage: dx)]
    }
}

/// (Log-)softmax over channels of `[N, C, H, W]` with oneDNN's vectorised primitives,
/// forward and backward, in the `nChw16c` layout.
private func oneDNNSoftmax(_ x: Tensor, log: Bool) -> Tensor {
    let layout = MemoryDescriptor(shape: x.shape, tag: dnnl_aBcd16b)
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

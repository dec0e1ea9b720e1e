import Foundation

/// Bilinear resampling of `[N, C, H, W]` to `[N, C, height, width]` with half-pixel centres,
/// as PyTorch's `interpolate(mode="bilinear", align_corners=False)`.
///
/// Output pixel `i` reads the input at `s = (i + 0.5) · H / height − 0.5`, clamped below at
/// 0, interpolating between `floor(s)` and `min(floor(s) + 1, H − 1)`.
public func resizeBilinear(_ x: Tensor, height: Int, width: Int) -> Tensor {
    precondition(x.rank == 4 && height > 0 && width > 0, "resizeBilinear expects [N, C, H, W]")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    struct Tap { var i0: Int; var i1: Int; var l0: Float; var l1: Float }
    func taps(_ input: Int, _ output: Int) -> [Tap] {
        let scale = Float(input) / Float(output)
        return (0..<output).map { i in
            let s = max(scale * (Float(i) + 0.5) - 0.5, 0)
            let i0 = min(Int(s), input - 1)
            let l1 = s - Float(i0)
            return Tap(i0: i0, i1: i0 < input - 1 ? i0 + 1 : i0, l0: 1 - l1, l1: l1)
        }
    }
    let rows = taps(h, height), cols = taps(w, width)
    let out = Tensor(zeros: [n, c, height, width])
    x.withUnsafeScalars { xv in out.withUnsafeMutableScalars { o in
        for plane in 0..<(n * c) {
            let src = plane * h * w, dst = plane * height * width
            for (i, r) in rows.enumerated() { for (j, q) in cols.enumerated() {
                o[dst + i * width + j] = r.l0 * (q.l0 * xv[src + r.i0 * w + q.i0] + q.l1 * xv[src + r.i0 * w + q.i1])
                    + r.l1 * (q.l0 * xv[src + r.i1 * w + q.i0] + q.l1 * xv[src + r.i1 * w + q.i1])
            } }
        }
    } }
    let shape = x.shape
    return Tensor.result(shape: out.shape, storage: out.storage, inputs: [x]) { g in
        let dx = Tensor(zeros: shape)
        g.withUnsafeScalars { gv in dx.withUnsafeMutableScalars { d in
            for plane in 0..<(n * c) {
                let src = plane * h * w, dst = plane * height * width
                for (i, r) in rows.enumerated() { for (j, q) in cols.enumerated() {
                    let v = gv[dst + i * width + j]
                    d[src + r.i0 * w + q.i0] += r.l0 * q.l0 * v
                    d[src + r.i0 * w + q.i1] += r.l0 * q.l1 * v
                    d[src + r.i1 * w + q.i0] += r.l1 * q.l0 * v
                    d[src + r.i1 * w + q.i1] += r.l1 * q.l1 * v
                } }
            }
        } }
        return [dx]
    }
}

import Random
import Testing
@testable import Engine

/// Naive reference loops and a finite-difference gradient checker for the engine tests.
enum Reference {
    /// Direct-loop cross-correlation. x [N,C,H,W], w [O,C,kh,kw].
    static func conv2d(x: [Float], xShape: [Int], w: [Float], wShape: [Int], bias: [Float]?,
                       stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)) -> ([Float], [Int]) {
        let (n, c, h, wd) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (o, kh, kw) = (wShape[0], wShape[2], wShape[3])
        let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
        let ow = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
        var y = [Float](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var s = Double(bias?[oc] ?? 0)
            for ic in 0..<c { for u in 0..<kh { for v in 0..<kw {
                let ii = i * stride.0 - padding.0 + u * dilation.0
                let jj = j * stride.1 - padding.1 + v * dilation.1
                if ii < 0 || ii >= h || jj < 0 || jj >= wd { continue }
                s += Double(x[((b * c + ic) * h + ii) * wd + jj]) * Double(w[((oc * c + ic) * kh + u) * kw + v])
            } } }
            y[((b * o + oc) * oh + i) * ow + j] = Float(s)
        } } } }
        return (y, [n, o, oh, ow])
    }

    /// The input gradient of a 3x3 convolution with stride 1x2 and padding 1 (x [N,C,H,W],
    /// w [O,C,3,3]) for the output gradient r [N,O,H',W']:
    /// `dx[n, ci, i - 1 + u, 2j - 1 + v] += r[n, co, i, j] w[co, ci, u, v]`.
    static func stride1x2BackwardData(r: [Float], rShape: [Int], w: [Float], xShape: [Int]) -> [Float] {
        let (batch, cin, h, wd) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (cout, oh, ow) = (rShape[1], rShape[2], rShape[3])
        var dx = [Double](repeating: 0, count: batch * cin * h * wd)
        for n in 0 ..< batch { for co in 0 ..< cout { for i in 0 ..< oh { for j in 0 ..< ow {
            let g = Double(r[((n * cout + co) * oh + i) * ow + j])
            for ci in 0 ..< cin { for u in 0 ..< 3 { for v in 0 ..< 3 {
                let ii = i - 1 + u, jj = 2 * j - 1 + v
                if ii < 0 || ii >= h || jj < 0 || jj >= wd { continue }
                dx[((n * cin + ci) * h + ii) * wd + jj] += g * Double(w[((co * cin + ci) * 3 + u) * 3 + v])
            } } }
        } } } }
        return dx.map(Float.init)
    }

    /// Direct-loop transposed convolution (scatter form, PyTorch semantics). w [C,O,kh,kw].
    static func convTranspose2d(x: [Float], xShape: [Int], w: [Float], wShape: [Int],
                                stride: (Int, Int), padding: (Int, Int)) -> ([Float], [Int]) {
        let (n, c, h, wd) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (o, kh, kw) = (wShape[1], wShape[2], wShape[3])
        let oh = (h - 1) * stride.0 - 2 * padding.0 + kh
        let ow = (wd - 1) * stride.1 - 2 * padding.1 + kw
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for ic in 0..<c { for i in 0..<h { for j in 0..<wd {
            let xv = Double(x[((b * c + ic) * h + i) * wd + j])
            for oc in 0..<o { for u in 0..<kh { for v in 0..<kw {
                let ii = i * stride.0 - padding.0 + u, jj = j * stride.1 - padding.1 + v
                if ii < 0 || ii >= oh || jj < 0 || jj >= ow { continue }
                y[((b * o + oc) * oh + ii) * ow + jj] += xv * Double(w[((ic * o + oc) * kh + u) * kw + v])
            } } }
        } } } }
        return (y.map(Float.init), [n, o, oh, ow])
    }
}

/// Checks the analytic gradients of `f` against central differences.
///
/// The scalar checked is `L = sum(f(inputs) * R)` for a fixed random `R`, so every output
/// element contributes. Each input gets `samples` randomly chosen elements checked.
func checkGradients(_ inputs: [Tensor], samples: Int = 12, epsilon: Float = 1e-2, tolerance: Float = 2e-2,
                    sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) {
    var generator = RandomGenerator(seed: 99)
    for t in inputs { t.requiresGrad = true; t.zeroGrad() }
    let out = f(inputs)
    let r = Tensor(uniformShape: out.shape, low: -1, high: 1, generator: &generator)
    let rValues = r.scalars
    func loss() -> Double {
        let y = withoutGradient { f(inputs) }.scalars
        return zip(y, rValues).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    out.backward(seed: r)
    for (k, t) in inputs.enumerated() {
        guard let grad = t.grad?.scalars else {
            Issue.record("input \(k) got no gradient", sourceLocation: sourceLocation)
            continue
        }
        for _ in 0..<min(samples, t.scalarCount) {
            let i = Int(generator.next() % UInt64(t.scalarCount))
            let original = t.withUnsafeScalars { $0[i] }
            t.withUnsafeMutableScalars { $0[i] = original + epsilon }
            let plus = loss()
            t.withUnsafeMutableScalars { $0[i] = original - epsilon }
            let minus = loss()
            t.withUnsafeMutableScalars { $0[i] = original }
            let numeric = Float((plus - minus) / Double(2 * epsilon))
            let scale = max(1, abs(numeric), abs(grad[i]))
            #expect(abs(numeric - grad[i]) <= tolerance * scale,
                    "input \(k) element \(i): numeric \(numeric) vs analytic \(grad[i])", sourceLocation: sourceLocation)
        }
    }
}

func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor(uniformShape: shape, low: low, high: high, generator: &g)
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Runs the backward pass of a stride-1x2, padding-1 convolution of `xShape` by `wShape`, checks
/// its data gradient against `Reference.stride1x2BackwardData`, and returns the primitives the
/// engine cached for it (whose kernels the callers check).
func checkStride1x2BackwardData(xShape: [Int], wShape: [Int], seed: UInt64) -> ConvolutionPrimitives {
    let x = random(xShape, seed: seed), w = random(wShape, seed: seed + 1)
    x.requiresGrad = true
    let y = conv2d(x, weight: w, stride: Size2D(1, 2), padding: 1)
    let r = random(y.shape, seed: seed + 2)
    y.backward(seed: r)
    // ∂/∂x of Σ R ⊙ conv(x, w), by the loop.
    let expected = Reference.stride1x2BackwardData(r: r.scalars, rShape: y.shape, w: w.scalars, xShape: xShape)
    #expect(maxDifference(x.grad!.scalars, expected) < 1e-4)
    let key = "conv|convs1x2p1x1d1x1|\(xShape)|\(wShape)|false|true|f32>f32"
    return DNNLContext.shared.cached(key) { () -> ConvolutionPrimitives in
        Issue.record("no cached primitives under \(key)")
        return ConvolutionPrimitives(input: xShape, weights: wShape, output: y.shape, bias: false,
                                     settings: ConvolutionSettings(stride: Size2D(1, 2), padding: 1, dilation: 1,
                                                                   transposed: false), training: true)
    }
}

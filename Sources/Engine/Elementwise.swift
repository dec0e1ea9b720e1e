import CDNNL
import Foundation

// Element-wise ops on oneDNN: they work on any layout, so activations stay blocked.

/// `dnnl_eltwise` forward for `descriptor`'s layout.
private func eltwiseForward(_ alg: dnnl_alg_kind_t, _ descriptor: MemoryDescriptor, alpha: Float, beta: Float,
                            training: Bool) -> Primitive {
    DNNLContext.shared.cached("eltwise_f|\(alg.rawValue)|\(alpha)|\(beta)|\(training)|\(descriptor.key)") {
        var d = dnnl_eltwise_desc_t()
        var data = descriptor.raw
        dnnlCheck(dnnl_eltwise_forward_desc_init(&d, training ? dnnl_forward_training : dnnl_forward_inference,
                                                 alg, &data, alpha, beta), "eltwise forward")
        return Primitive(&d, what: "eltwise \(alg.rawValue)")
    }
}

private func eltwiseBackward(_ alg: dnnl_alg_kind_t, _ descriptor: MemoryDescriptor, alpha: Float, beta: Float) -> Primitive {
    DNNLContext.shared.cached("eltwise_b|\(alg.rawValue)|\(alpha)|\(beta)|\(descriptor.key)") {
        let forward = eltwiseForward(alg, descriptor, alpha: alpha, beta: beta, training: true)
        var d = dnnl_eltwise_desc_t()
        var data = descriptor.raw
        dnnlCheck(dnnl_eltwise_backward_desc_init(&d, alg, &data, &data, alpha, beta), "eltwise backward")
        return Primitive(&d, hint: forward, what: "eltwise backward \(alg.rawValue)")
    }
}

/// Leaky ReLU: `y = x` for `x > 0`, `y = slope * x` otherwise. Any shape and layout.
///
/// Backward uses the output (`dy/dx = 1` where `y > 0`, else `slope`), so the input can be
/// freed after the forward pass.
public func leakyReLU(_ x: Tensor, slope: Float = 0.01) -> Tensor {
    let alg = dnnl_eltwise_relu_use_dst_for_bwd
    let desc = x.storage.descriptor
    let training = GradientMode.isEnabled && x.requiresGrad
    let out = Storage(desc)
    eltwiseForward(alg, desc, alpha: slope, beta: 0, training: training).execute([(DNNL_ARG_SRC, x.storage), (DNNL_ARG_DST, out)])
    let y = Tensor.result(shape: x.shape, storage: out, inputs: [x]) { g in
        let gs = g.storage(in: desc)
        let dx = Storage(desc)
        eltwiseBackward(alg, desc, alpha: slope, beta: 0).execute([(DNNL_ARG_DST, out), (DNNL_ARG_DIFF_DST, gs), (DNNL_ARG_DIFF_SRC, dx)])
        return [Tensor(shape: x.shape, storage: dx)]
    }
    GraphRecording.note(.leakyReLU(slope: slope), inputs: [x], output: y)
    return y
}

/// `alpha * x + beta`, element-wise.
public func affine(_ x: Tensor, scale alpha: Float, offset beta: Float = 0) -> Tensor {
    let desc = x.storage.descriptor
    let out = Storage(desc)
    eltwiseForward(dnnl_eltwise_linear, desc, alpha: alpha, beta: beta, training: false)
        .execute([(DNNL_ARG_SRC, x.storage), (DNNL_ARG_DST, out)])
    return Tensor.result(shape: x.shape, storage: out, inputs: [x]) { g in [affine(g, scale: alpha)] }
}

/// `dnnl_binary` with `dst` in `a`'s layout and `b` either in `a`'s layout (same shape) or
/// plain and broadcast (size-1 dimensions).
private func binary(_ alg: dnnl_alg_kind_t, _ a: Tensor, _ b: Tensor) -> Storage {
    precondition(a.rank == b.rank && zip(a.shape, b.shape).allSatisfy { $0 == $1 || $1 == 1 },
                 "binary op: shape \(b.shape) does not broadcast to \(a.shape)")
    let desc = a.storage.descriptor
    let bStorage = a.shape == b.shape ? b.storage(in: desc) : b.plainStorage
    let bDesc = bStorage.descriptor
    let primitive = DNNLContext.shared.cached("binary|\(alg.rawValue)|\(desc.key)|\(bDesc.key)") { () -> Primitive in
        var d = dnnl_binary_desc_t()
        var s0 = desc.raw, s1 = bDesc.raw, dst = desc.raw
        dnnlCheck(dnnl_binary_desc_init(&d, alg, &s0, &s1, &dst), "binary")
        return Primitive(&d, what: "binary \(alg.rawValue)")
    }
    let out = Storage(desc)
    primitive.execute([(DNNL_ARG_SRC_0, a.storage), (DNNL_ARG_SRC_1, bStorage), (DNNL_ARG_DST, out)])
    return out
}

extension Tensor {
    /// Sums `self` down to `shape` over the dimensions where `shape` has size 1 (the
    /// gradient of a broadcast). Plain output.
    public func sum(toShape target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(target.count == rank, "sum(toShape:) keeps the rank")
        let src = storage.descriptor
        let dst = MemoryDescriptor.plain(target)
        let primitive = DNNLContext.shared.cached("reduce_sum|\(src.key)|\(dst.key)") { () -> Primitive in
            var d = dnnl_reduction_desc_t()
            var s = src.raw, t = dst.raw
            dnnlCheck(dnnl_reduction_desc_init(&d, dnnl_reduction_sum, &s, &t, 0, 0), "reduction")
            return Primitive(&d, what: "reduction")
        }
        let out = Storage(dst)
        primitive.execute([(DNNL_ARG_SRC, storage), (DNNL_ARG_DST, out)])
        let original = shape
        return Tensor.result(shape: target, storage: out, inputs: [self]) { g in [g.broadcast(to: original)] }
    }

    /// This tensor repeated along its size-1 dimensions to `shape`.
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        return Tensor(zeros: target) + self
    }
}

/// Element-wise sum; `rhs` may broadcast along size-1 dimensions. Output in `lhs`'s layout.
public func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = binary(dnnl_binary_add, lhs, rhs)
    let rhsShape = rhs.shape
    let y = Tensor.result(shape: lhs.shape, storage: out, inputs: [lhs, rhs]) { g in
        [g, rhs.requiresGrad ? g.sum(toShape: rhsShape) : nil]
    }
    GraphRecording.note(.add, inputs: [lhs, rhs], output: y)
    return y
}

/// Element-wise difference; `rhs` may broadcast.
public func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = binary(dnnl_binary_sub, lhs, rhs)
    let rhsShape = rhs.shape
    return Tensor.result(shape: lhs.shape, storage: out, inputs: [lhs, rhs]) { g in
        [g, rhs.requiresGrad ? affine(g.sum(toShape: rhsShape), scale: -1) : nil]
    }
}

/// Element-wise product; `rhs` may broadcast (e.g. a `[N, C, 1, 1]` channel mask).
public func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = binary(dnnl_binary_mul, lhs, rhs)
    let rhsShape = rhs.shape
    return Tensor.result(shape: lhs.shape, storage: out, inputs: [lhs, rhs]) { g in
        [lhs.requiresGrad ? g * rhs : nil,
         rhs.requiresGrad ? (g * lhs).sum(toShape: rhsShape) : nil]
    }
}

public func * (lhs: Tensor, rhs: Float) -> Tensor { affine(lhs, scale: rhs) }
public func * (lhs: Float, rhs: Tensor) -> Tensor { affine(rhs, scale: lhs) }
public func + (lhs: Tensor, rhs: Float) -> Tensor { affine(lhs, scale: 1, offset: rhs) }
public func - (lhs: Tensor, rhs: Float) -> Tensor { affine(lhs, scale: 1, offset: -rhs) }
public prefix func - (x: Tensor) -> Tensor { affine(x, scale: -1) }

/// A unary `dnnl_eltwise` op `y = f(x; α, β)` whose backward uses the source.
private func unary(_ alg: dnnl_alg_kind_t, _ x: Tensor, alpha: Float = 0, beta: Float = 0) -> Tensor {
    let desc = x.storage.descriptor
    let out = Storage(desc)
    let training = GradientMode.isEnabled && x.requiresGrad
    eltwiseForward(alg, desc, alpha: alpha, beta: beta, training: training).execute([(DNNL_ARG_SRC, x.storage), (DNNL_ARG_DST, out)])
    return Tensor.result(shape: x.shape, storage: out, inputs: [x]) { g in
        let dx = Storage(desc)
        eltwiseBackward(alg, desc, alpha: alpha, beta: beta)
            .execute([(DNNL_ARG_SRC, x.storage), (DNNL_ARG_DIFF_DST, g.storage(in: desc)), (DNNL_ARG_DIFF_SRC, dx)])
        return [Tensor(shape: x.shape, storage: dx)]
    }
}

extension Tensor {
    // Unary maths as methods (not global functions) so that they do not add overloads to
    // `exp`, `log`, … for code that works on plain floats.

    /// `e^x`, element-wise.
    public func exp() -> Tensor { unary(dnnl_eltwise_exp, self) }
    /// Natural logarithm, element-wise (`x > 0`).
    public func log() -> Tensor { unary(dnnl_eltwise_log, self) }
    /// Square root, element-wise (`x ≥ 0`).
    public func squareRoot() -> Tensor { unary(dnnl_eltwise_sqrt, self) }
    /// `x²`, element-wise.
    public func squared() -> Tensor { unary(dnnl_eltwise_square, self) }
    /// `|x|`, element-wise (gradient 0 at 0).
    public func magnitude() -> Tensor { unary(dnnl_eltwise_abs, self) }
    /// `x^exponent`, element-wise (`x > 0` for non-integer exponents).
    public func raised(to exponent: Float) -> Tensor { unary(dnnl_eltwise_pow, self, alpha: 1, beta: exponent) }
    /// The logistic sigmoid `1 / (1 + e^{−x})`, element-wise.
    public func sigmoid() -> Tensor { unary(dnnl_eltwise_logistic, self) }
    /// Values clamped to `[minimum, maximum]` (gradient 1 inside, 0 outside).
    public func clamped(min minimum: Float, max maximum: Float) -> Tensor {
        unary(dnnl_eltwise_clip_v2, self, alpha: minimum, beta: maximum)
    }
}

/// Element-wise quotient; `rhs` may broadcast.
public func / (lhs: Tensor, rhs: Tensor) -> Tensor {
    let out = binary(dnnl_binary_div, lhs, rhs)
    let rhsShape = rhs.shape
    return Tensor.result(shape: lhs.shape, storage: out, inputs: [lhs, rhs]) { g in
        // d/da = g / b,  d/db = −g a / b²
        [lhs.requiresGrad ? g / rhs : nil,
         rhs.requiresGrad ? (-(g * lhs) / rhs.broadcast(to: lhs.shape).squared()).sum(toShape: rhsShape) : nil]
    }
}

public func / (lhs: Tensor, rhs: Float) -> Tensor { affine(lhs, scale: 1 / rhs) }

extension Tensor {
    /// A differentiable op written in Swift: `scalars` are its output values (row-major, in
    /// `shape`) and `backward` maps the output's gradient to one gradient per input (`nil`
    /// where none is needed). For losses and other ops outside the engine.
    public static func differentiable(shape: [Int], scalars: [Float], inputs: [Tensor],
                                      backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        let values = Tensor(shape: shape, scalars: scalars)
        return result(shape: shape, storage: values.storage, inputs: inputs, backward: backward)
    }

    /// The mean over `axis`, removing it.
    public func mean(alongAxis axis: Int) -> Tensor { sum(alongAxis: axis) * (1 / Float(shape[axis])) }
}

import CDNNL
import Foundation

/// A float32 tensor whose buffer oneDNN uses directly.
///
/// A tensor has a logical `shape` (row-major, e.g. `[N, C, H, W]`) and a physical layout:
/// plain row-major, or the blocked layout (e.g. `nChw16c`) a oneDNN primitive chose for its
/// output. Activations stay in the blocked layout from layer to layer; reading elements from
/// Swift (`scalars`, `contiguous()`) reorders to plain once.
///
/// Tensors are references, as in PyTorch: an op never changes its inputs, and optimisers
/// update parameter tensors in place. A tensor with `requiresGrad` that was made by an op
/// remembers how to send gradients back to its inputs (see `backward()`).
public final class Tensor {
    /// Logical dimensions, outermost first.
    public let shape: [Int]
    let storage: Storage
    /// Whether gradients flow to (or through) this tensor.
    public var requiresGrad: Bool
    /// The accumulated gradient of a leaf tensor after `backward()` (plain layout).
    public internal(set) var grad: Tensor?
    /// How this tensor was made, while the graph is alive.
    var node: GradNode?
    /// Counts in-place changes of the values (`withUnsafeMutableScalars`, `assign`), so that
    /// values derived from a parameter (the fused inference path's folded weights) are remade
    /// only when it changed.
    public private(set) var version = 0

    init(shape: [Int], storage: Storage, requiresGrad: Bool = false) {
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A plain tensor holding `scalars` in row-major order.
    public convenience init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
        let storage = Storage(.plain(shape))
        scalars.withUnsafeBufferPointer { storage.floats.update(from: $0.baseAddress!, count: $0.count) }
        self.init(shape: shape, storage: storage, requiresGrad: requiresGrad)
    }

    /// A plain tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        let storage = Storage(.plain(shape))
        storage.floats.update(repeating: value, count: shape.reduce(1, *))
        self.init(shape: shape, storage: storage, requiresGrad: requiresGrad)
    }

    /// A plain tensor of zeros.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(repeating: 0, shape: shape, requiresGrad: requiresGrad)
    }

    /// Values drawn uniformly from `[low, high)` with the given generator.
    public convenience init<G: RandomNumberGenerator>(
        uniformShape shape: [Int], low: Float, high: Float, generator: inout G, requiresGrad: Bool = false
    ) {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = low + (high - low) * Float.unitInterval(using: &generator) }
        self.init(shape: shape, scalars: values, requiresGrad: requiresGrad)
    }

    /// Values from a standard normal distribution times `standardDeviation` (Box–Muller).
    public convenience init<G: RandomNumberGenerator>(
        normalShape shape: [Int], standardDeviation: Float = 1, generator: inout G, requiresGrad: Bool = false
    ) {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        var i = 0
        while i < count {
            let u1 = max(Float.unitInterval(using: &generator), 1e-12), u2 = Float.unitInterval(using: &generator)
            let r = (-2 * Foundation.log(u1)).squareRoot()
            values[i] = standardDeviation * r * cos(2 * .pi * u2)
            if i + 1 < count { values[i + 1] = standardDeviation * r * sin(2 * .pi * u2) }
            i += 2
        }
        self.init(shape: shape, scalars: values, requiresGrad: requiresGrad)
    }

    /// Number of elements.
    public var scalarCount: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    /// The type of the elements in memory: `f32`, or `bf16` for activations of a bf16 network.
    /// Swift always reads float32 (`scalars`).
    public var elementType: ElementType { storage.descriptor.elementType }

    /// Whether the buffer is plain row-major float32.
    public var isContiguous: Bool { shape.isEmpty || storage.descriptor == .plain(shape) }

    /// All elements in row-major order (reordered from a blocked layout if needed).
    public var scalars: [Float] {
        let plain = plainStorage
        return Array(UnsafeBufferPointer(start: plain.floats, count: scalarCount))
    }

    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(scalarCount == 1, "scalar of a tensor with shape \(shape)")
        return plainStorage.floats[0]
    }

    var plainStorage: Storage { isContiguous ? storage : storage.reordered(to: .plain(shape)) }

    /// Read access to the plain row-major elements; the tensor must be contiguous.
    public func withUnsafeScalars<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let plain = plainStorage
        return try withExtendedLifetime(plain) { try body(UnsafeBufferPointer(start: plain.floats, count: scalarCount)) }
    }

    /// Read access to a float32 `[N, C, H, W]` tensor in the channel-blocked layout activations
    /// have between layers (`nChw16c` with AVX-512, `nChw8c` otherwise), without a reorder:
    /// `body` gets the buffer and the block size; channel c of image n at pixel p (h x W + w) is
    /// at ((n x blocks + c / block) x H x W + p) x block + c % block, with blocks = C / block
    /// rounded up. Nil when the tensor is in another layout or type.
    public func withChannelBlocks<R>(_ body: (UnsafeBufferPointer<Float>, _ block: Int) throws -> R) rethrows -> R? {
        guard shape.count == 4, storage.descriptor == .blocked(shape) else { return nil }
        let buffer = UnsafeBufferPointer(start: storage.floats, count: storage.byteCount / MemoryLayout<Float>.stride)
        return try withExtendedLifetime(storage) { try body(buffer, ChannelBlock.size) }
    }

    /// Write access to the elements of a contiguous tensor, in place (for parameters,
    /// optimisers and checkpoint loading; never on a tensor that is part of a live graph).
    public func withUnsafeMutableScalars<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(isContiguous, "in-place access needs a contiguous tensor")
        version += 1
        return try body(UnsafeMutableBufferPointer(start: storage.floats, count: scalarCount))
    }

    /// Copies `other`'s values into this tensor's buffer (same shape; any layout).
    public func assign(_ other: Tensor) {
        precondition(other.shape == shape, "assign: shape \(other.shape) into \(shape)")
        let source = other.storage.reordered(to: storage.descriptor)
        memcpy(storage.pointer, source.pointer, storage.byteCount)
        version += 1
    }

    /// The same values in plain row-major layout; gradients pass straight through.
    public func contiguous() -> Tensor {
        inLayout(.plain(shape))
    }

    /// The same values in another physical layout; gradients pass straight through.
    func inLayout(_ descriptor: MemoryDescriptor) -> Tensor {
        if storage.descriptor == descriptor { return self }
        return Tensor.result(shape: shape, storage: storage.reordered(to: descriptor), inputs: [self]) { g in [g] }
    }

    /// A tensor sharing no graph with this one (same values, no gradient).
    public func detached() -> Tensor {
        let copy = Tensor(shape: shape, storage: storage)
        GraphRecording.noteAlias(copy, of: self)
        return copy
    }

    /// This tensor's values in the layout `descriptor` (itself when it already is).
    func storage(in descriptor: MemoryDescriptor) -> Storage { storage.reordered(to: descriptor) }

    /// The same logical tensor with a new shape of equal element count (contiguous only).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == scalarCount, "reshape \(shape) to \(newShape)")
        let plain = contiguous()
        let storage = Storage(.plain(newShape))
        memcpy(storage.pointer, plain.storage.pointer, scalarCount * 4)
        let oldShape = shape
        return Tensor.result(shape: newShape, storage: storage, inputs: [plain]) { g in [g.reshaped(oldShape)] }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars
        let head = values.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape): [\(head)\(values.count > 8 ? ", …" : "")])"
    }
}

extension Float {
    /// A uniform value in [0, 1) with 24 random bits.
    static func unitInterval<G: RandomNumberGenerator>(using generator: inout G) -> Float {
        Float(generator.next() >> 40) * (1.0 / Float(1 << 24))
    }
}

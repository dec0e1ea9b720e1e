import Foundation

/// How a tensor was made: the inputs it came from and the function that turns the gradient
/// of the output into gradients of the inputs (`nil` where an input needs none).
///
/// The closure holds exactly what its backward needs (saved inputs, outputs, statistics);
/// after `backward()` the node is dropped and that memory with it.
final class GradNode {
    let inputs: [Tensor]
    let backward: (Tensor) -> [Tensor?]

    init(inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether ops record a graph. Off inside `withoutGradient`.
enum GradientMode {
    @TaskLocal static var isEnabled = true
}

/// Runs `body` without recording gradients: for inference, metrics and loss weights.
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$isEnabled.withValue(false) { try body() }
}

/// Whether ops currently record gradients.
public var isGradientEnabled: Bool { GradientMode.isEnabled }

extension Tensor {
    /// The output of an op: records `backward` when gradients are on and any input needs one.
    static func result(shape: [Int], storage: Storage, inputs: [Tensor],
                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        let needs = GradientMode.isEnabled && inputs.contains { $0.requiresGrad }
        let out = Tensor(shape: shape, storage: storage, requiresGrad: needs)
        if needs { out.node = GradNode(inputs: inputs, backward: backward) }
        return out
    }

    /// Reverse-mode differentiation from this tensor.
    ///
    /// Walks the graph once in reverse topological order, accumulates each tensor's
    /// gradient, adds the gradients of leaf tensors to their `grad`, and frees the graph.
    /// - Parameter seed: d(result)/d(self); ones (of this shape) when omitted, so a scalar
    ///   loss needs none.
    public func backward(seed: Tensor? = nil) {
        precondition(requiresGrad, "backward() on a tensor that does not require gradients")
        if let seed { precondition(seed.shape == shape, "backward seed \(seed.shape) for a tensor of shape \(shape)") }
        // Topological order by iterative depth-first search.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            if !visited.insert(ObjectIdentifier(tensor)).inserted { continue }
            stack.append((tensor, true))
            for input in tensor.node?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        // Optional so that each tensor can be let go once processed: with its consumers'
        // nodes already freed, its activation memory returns during the walk.
        var pending: [Tensor?] = order
        order = []
        withoutGradient {
            var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed ?? Tensor(repeating: 1, shape: shape)]
            for index in pending.indices.reversed() {
                guard let tensor = pending[index] else { continue }
                pending[index] = nil
                guard let g = grads.removeValue(forKey: ObjectIdentifier(tensor)) else { tensor.node = nil; continue }
                if let node = tensor.node {
                    let inputGrads = node.backward(g)
                    for (input, inputGrad) in zip(node.inputs, inputGrads) {
                        guard input.requiresGrad, let inputGrad else { continue }
                        precondition(inputGrad.shape == input.shape, "gradient shape \(inputGrad.shape) for \(input.shape)")
                        let key = ObjectIdentifier(input)
                        grads[key] = grads[key].map { $0 + inputGrad } ?? inputGrad
                    }
                    tensor.node = nil
                } else {
                    let plain = g.contiguous()
                    tensor.grad = tensor.grad.map { $0 + plain } ?? plain.ownedCopy()
                }
            }
        }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// A copy with its own plain storage (so later in-place updates of one leave the other).
    func ownedCopy() -> Tensor {
        let out = Storage(.plain(shape))
        let source = plainStorage
        memcpy(out.pointer, source.pointer, scalarCount * 4)
        return Tensor(shape: shape, storage: out)
    }
}

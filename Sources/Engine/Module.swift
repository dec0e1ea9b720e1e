/// A named tensor of a module's state, e.g. `("enc.0.3.body.0.weight", tensor)`.
public struct NamedTensor {
    public let name: String
    public let tensor: Tensor
    public init(name: String, tensor: Tensor) { self.name = name; self.tensor = tensor }
}

/// A 64-bit integer buffer, such as BatchNorm's `num_batches_tracked`.
public final class CounterBuffer {
    public var value: Int64
    public init(_ value: Int64 = 0) { self.value = value }
}

/// A non-trainable piece of module state saved in checkpoints.
public enum Buffer {
    /// Float32 state such as running statistics.
    case float(Tensor)
    /// Integer state such as a batch counter.
    case count(CounterBuffer)
}

/// A part of a network: it owns parameters and buffers directly and through named children.
///
/// Names are dotted paths as in PyTorch's `state_dict()`: a child named `enc` holding a
/// child `0` holding a parameter `weight` gives `enc.0.weight`. The one list of named
/// parameters from `namedParameters()` is what optimisers, checkpoints and counting walk.
public protocol Module: AnyObject {
    /// Direct children with their names (attribute names, or indices for lists).
    var children: [(name: String, module: any Module)] { get }
    /// Trainable tensors held directly by this module, e.g. `weight`, `bias`.
    var ownParameters: [(name: String, tensor: Tensor)] { get }
    /// Non-trainable state held directly, e.g. `running_mean`.
    var ownBuffers: [(name: String, buffer: Buffer)] { get }
    /// Training (batch statistics, dropout on) or evaluation mode.
    var isTraining: Bool { get set }
}

/// A module that maps one tensor to another.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

extension Module {
    public var children: [(name: String, module: any Module)] { [] }
    public var ownParameters: [(name: String, tensor: Tensor)] { [] }
    public var ownBuffers: [(name: String, buffer: Buffer)] { [] }

    /// Every trainable tensor, depth first, with its dotted name.
    public func namedParameters() -> [NamedTensor] {
        var result = ownParameters.map { NamedTensor(name: $0.name, tensor: $0.tensor) }
        for (childName, child) in children {
            result += child.namedParameters().map { NamedTensor(name: "\(childName).\($0.name)", tensor: $0.tensor) }
        }
        return result
    }

    /// Every buffer, depth first, with its dotted name.
    public func namedBuffers() -> [(name: String, buffer: Buffer)] {
        var result = ownBuffers
        for (childName, child) in children {
            result += child.namedBuffers().map { (name: "\(childName).\($0.name)", buffer: $0.buffer) }
        }
        return result
    }

    /// This module and all its descendants, depth first.
    public func modules() -> [any Module] {
        [self] + children.flatMap { $0.module.modules() }
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.scalarCount } }

    /// Sets training mode on this module and all its descendants.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, child) in children { child.train(on) }
    }

    /// Evaluation mode: running statistics, no dropout.
    public func eval() { train(false) }

    /// Clears every parameter's gradient.
    public func zeroGradients() { for p in namedParameters() { p.tensor.zeroGrad() } }
}

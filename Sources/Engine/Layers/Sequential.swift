/// Layers applied in order; children are named `0`, `1`, … as in PyTorch's `nn.Sequential`.
public final class Sequential: Layer {
    public let layers: [any Layer]
    public var isTraining = true

    public init(_ layers: [any Layer]) { self.layers = layers }

    public var children: [(name: String, module: any Module)] {
        layers.enumerated().map { (name: String($0.offset), module: $0.element as any Module) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }
}

/// A list of modules named `0`, `1`, … (PyTorch's `nn.ModuleList`); the owner decides how
/// to call them.
public final class ModuleList<Element: Module>: Module {
    public let elements: [Element]
    public var isTraining = true

    public init(_ elements: [Element]) { self.elements = elements }

    public var children: [(name: String, module: any Module)] {
        elements.enumerated().map { (name: String($0.offset), module: $0.element as any Module) }
    }
}

/// Layers applied in order; children are named `0`, `1`, … as in PyTorch's `nn.Sequential`,
/// or by the names given (`nn.Sequential(OrderedDict(...))`).
public final class Sequential: Layer {
    public let layers: [any Layer]
    /// The children's names, one per layer.
    public let names: [String]
    public var isTraining = true

    public init(_ layers: [any Layer]) {
        self.layers = layers
        names = layers.indices.map(String.init)
    }

    /// Layers with the names PyTorch's `state_dict()` gives them, e.g. `("conv", ...)`.
    public init(named layers: [(String, any Layer)]) {
        self.layers = layers.map(\.1)
        names = layers.map(\.0)
    }

    public var children: [(name: String, module: any Module)] {
        zip(names, layers).map { (name: $0, module: $1 as any Module) }
    }

    /// The layers in turn; a batch norm followed by a leaky ReLU runs as one fused operation
    /// (`BatchNorm2d.callAsFunction(_:thenLeakyReLU:)`).
    public func callAsFunction(_ x: Tensor) -> Tensor { run(x, adding: nil) }

    /// `residual + self(x)`: where the layers end with a batch norm and a leaky ReLU, the addition
    /// is part of their fused operation (a residual block's end).
    public func callAsFunction(_ x: Tensor, adding residual: Tensor) -> Tensor { run(x, adding: residual) }

    private func run(_ x: Tensor, adding residual: Tensor?) -> Tensor {
        var x = x
        var i = layers.startIndex
        while i < layers.endIndex {
            if let norm = layers[i] as? BatchNorm2d, i + 1 < layers.endIndex, let activation = layers[i + 1] as? LeakyReLU {
                let last = i + 2 == layers.endIndex
                x = norm(x, thenLeakyReLU: activation.slope, adding: last ? residual : nil)
                if last { return x }
                i += 2
            } else {
                x = layers[i](x)
                i += 1
            }
        }
        return residual.map { $0 + x } ?? x
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

/// Named children with no forward pass of their own, for networks whose PyTorch modules hold
/// submodules as attributes (`backbone.enc1`, `decoder.dec5`): the owner calls them.
public final class ModuleGroup: Module {
    public let named: [(name: String, module: any Module)]
    public var isTraining = true

    public init(_ named: [(name: String, module: any Module)]) { self.named = named }

    public var children: [(name: String, module: any Module)] { named }
}

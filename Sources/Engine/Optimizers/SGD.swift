/// Stochastic gradient descent with momentum, weight decay and Nesterov, as PyTorch's
/// `torch.optim.SGD`:
///
/// ```
/// d = g + weightDecay · w
/// b = d (first step), else b = momentum · b + (1 − dampening) · d
/// d = d + momentum · b (Nesterov) or d = b (momentum ≠ 0)
/// w = w − lr · d
/// ```
/// Slot: `momentum_buffer`.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool
    public var stepCount = 0
    public var state: [String: [String: [Float]]] = [:]
    public var kind: String { "sgd" }

    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0,
                nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov needs momentum and no dampening")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func update(parameter w: UnsafeMutableBufferPointer<Float>, gradient g: UnsafeBufferPointer<Float>,
                       slots: inout [String: [Float]], step: Int) {
        let lr = learningRate, wd = weightDecay, m = momentum
        guard m != 0 else {
            for i in 0..<w.count { w[i] -= lr * (g[i] + wd * w[i]) }
            return
        }
        var buffer = slots["momentum_buffer"] ?? []
        let first = buffer.isEmpty
        if first { buffer = [Float](repeating: 0, count: w.count) }
        buffer.withUnsafeMutableBufferPointer { b in
            for i in 0..<w.count {
                let d = g[i] + wd * w[i]
                b[i] = first ? d : m * b[i] + (1 - dampening) * d
                w[i] -= lr * (nesterov ? d + m * b[i] : b[i])
            }
        }
        slots["momentum_buffer"] = buffer
    }
}

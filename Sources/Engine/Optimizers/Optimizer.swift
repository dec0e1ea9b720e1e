/// An optimiser: one per-tensor update rule plus the shared walk over named parameters.
///
/// State lives in named slots per parameter (e.g. `momentum_buffer`, `exp_avg`), keyed by
/// the parameter's dotted name, so checkpoints store it as `<slot>.<parameter name>`.
public protocol Optimizer: AnyObject {
    /// The learning rate of the next step (set it from a schedule before each step).
    var learningRate: Float { get set }
    /// Steps taken so far.
    var stepCount: Int { get set }
    /// Per parameter name, per slot name, the slot's values (same size as the parameter).
    var state: [String: [String: [Float]]] { get set }
    /// A short name stored in checkpoints, e.g. `sgd`, `adam`, `adamw`.
    var kind: String { get }

    /// The rule for one tensor: update `parameter` in place from `gradient`.
    /// - Parameters:
    ///   - slots: this tensor's state (empty on its first step).
    ///   - step: the 1-based index of this step.
    func update(parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                slots: inout [String: [Float]], step: Int)
}

extension Optimizer {
    /// One step over every parameter that has a gradient (the shared walk).
    public func step(_ parameters: [NamedTensor]) {
        stepCount += 1
        for p in parameters {
            guard let grad = p.tensor.grad else { continue }
            precondition(grad.shape == p.tensor.shape, "gradient of \(p.name) has shape \(grad.shape)")
            var slots = state[p.name] ?? [:]
            state[p.name] = nil  // unique ownership while updating
            grad.withUnsafeScalars { g in
                p.tensor.withUnsafeMutableScalars { w in update(parameter: w, gradient: g, slots: &slots, step: stepCount) }
            }
            state[p.name] = slots
        }
    }

    /// Steps on all of `model`'s parameters, then clears their gradients.
    public func step(_ model: any Module) {
        let parameters = model.namedParameters()
        step(parameters)
        for p in parameters { p.tensor.zeroGrad() }
    }
}

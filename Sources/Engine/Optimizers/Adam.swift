import Foundation

/// Adam and AdamW, as PyTorch's `torch.optim.Adam` / `AdamW`:
///
/// ```
/// Adam:  g = g + weightDecay · w          AdamW: w = w − lr · weightDecay · w
/// m = β1 m + (1 − β1) g,  v = β2 v + (1 − β2) g²
/// w = w − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε)
/// ```
/// Slots: `exp_avg`, `exp_avg_sq`.
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// AdamW's decoupled weight decay instead of an L2 term in the gradient.
    public let decoupledWeightDecay: Bool
    public var stepCount = 0
    public var state: [String: [String: [Float]]] = [:]
    public var kind: String { decoupledWeightDecay ? "adamw" : "adam" }

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with PyTorch's default weight decay 0.01.
    public static func adamW(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
             decoupledWeightDecay: true)
    }

    public func update(parameter w: UnsafeMutableBufferPointer<Float>, gradient g: UnsafeBufferPointer<Float>,
                       slots: inout [String: [Float]], step: Int) {
        var m = slots["exp_avg"] ?? [Float](repeating: 0, count: w.count)
        var v = slots["exp_avg_sq"] ?? [Float](repeating: 0, count: w.count)
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay
        let correction1 = 1 - pow(b1, Float(step)), correction2 = 1 - pow(b2, Float(step))
        let stepSize = lr / correction1
        let decay = decoupledWeightDecay ? 1 - lr * wd : 1
        let l2 = decoupledWeightDecay ? 0 : wd
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                for i in 0..<w.count {
                    let gi = g[i] + l2 * w[i]
                    m[i] = b1 * m[i] + (1 - b1) * gi
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                    w[i] = w[i] * decay - stepSize * m[i] / ((v[i] / correction2).squareRoot() + eps)
                }
            }
        }
        slots["exp_avg"] = m
        slots["exp_avg_sq"] = v
    }
}

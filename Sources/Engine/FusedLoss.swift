import Foundation

extension Tensor {
    /// A scalar loss of `input` whose gradient is computed together with its value by one fused
    /// kernel: how losses written outside the engine (the Losses library) enter the graph as a
    /// single node.
    ///
    /// `compute` receives `input`'s values in plain row-major layout (reordered once if the
    /// producing primitive chose a blocked layout) and a zeroed buffer of the same size that the
    /// engine owns. It adds `∂loss/∂input` into that buffer and returns the loss. `backward()`
    /// hands the buffer on, scaled by the gradient of the loss (1 for a loss that is the root),
    /// so the gradient is neither recomputed nor copied.
    ///
    /// ```swift
    /// let loss = Tensor.fusedLoss(of: logits) { z, gradient in
    ///     // value and gradient of 0.5 Σ z², in one pass
    ///     var total: Float = 0
    ///     for i in z.indices { total += 0.5 * z[i] * z[i]; gradient[i] += z[i] }
    ///     return total
    /// }
    /// loss.backward()
    /// ```
    /// - Returns: a tensor of shape `[]`.
    public static func fusedLoss<Failure: Error>(
        of input: Tensor,
        _ compute: (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) throws(Failure) -> Float
    ) throws(Failure) -> Tensor {
        let count = input.scalarCount
        let values = input.plainStorage
        let gradient = Storage(.plain(input.shape), zeroed: true)
        let value: Float
        do {
            value = try compute(UnsafeBufferPointer(start: values.floats, count: count),
                                UnsafeMutableBufferPointer(start: gradient.floats, count: count))
        }
        withExtendedLifetime(values) {}
        let shape = input.shape
        return result(shape: [], storage: Tensor(shape: [], scalars: [value]).storage, inputs: [input]) { g in
            let scale = g.scalar
            let grad = Tensor(shape: shape, storage: gradient)
            return [scale == 1 ? grad : grad * scale]
        }
    }
}

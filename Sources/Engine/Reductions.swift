import Foundation

extension Tensor {
    /// The sum of all elements, as a scalar tensor (shape `[]`). Accumulates in double.
    public func sum() -> Tensor {
        let total = withUnsafeScalars { values in values.reduce(0.0) { $0 + Double($1) } }
        let shape = self.shape
        return Tensor.result(shape: [], storage: Tensor(shape: [], scalars: [Float(total)]).storage, inputs: [self]) { g in
            [Tensor(repeating: g.scalar, shape: shape)]
        }
    }

    /// The mean of all elements, as a scalar tensor.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(scalarCount, 1))) }

    /// Sums over `axis`, removing it: `[…, d, …] → […, …]`.
    public func sum(alongAxis axis: Int) -> Tensor {
        precondition(axis >= 0 && axis < rank, "axis \(axis) out of range for \(shape)")
        var kept = shape
        kept[axis] = 1
        var squeezed = shape
        squeezed.remove(at: axis)
        return sum(toShape: kept).reshaped(squeezed)
    }
}

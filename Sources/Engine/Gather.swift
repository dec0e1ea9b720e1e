/// PyTorch's `torch.gather(x, dim=axis, index)`: `out[i…, j, k…] = x[i…, index[i…, j, k…], k…]`.
///
/// `indices` has the rank of `x` and, except along `axis`, sizes no larger than `x`'s;
/// the output has `indices`' shape. The gradient scatters back with addition.
public func gather(_ x: Tensor, alongAxis axis: Int, indices: IndexTensor) -> Tensor {
    precondition(indices.shape.count == x.rank && axis >= 0 && axis < x.rank, "gather: rank or axis mismatch")
    for d in 0..<x.rank where d != axis {
        precondition(indices.shape[d] <= x.shape[d], "gather: index size \(indices.shape) exceeds \(x.shape)")
    }
    // Offsets into x for every output element.
    let rank = x.rank
    var xStrides = [Int](repeating: 1, count: rank)
    for d in stride(from: rank - 2, through: 0, by: -1) { xStrides[d] = xStrides[d + 1] * x.shape[d + 1] }
    var offsets = [Int](repeating: 0, count: indices.count)
    var coordinate = [Int](repeating: 0, count: rank)
    for i in 0..<indices.count {
        var offset = 0
        for d in 0..<rank {
            let index = d == axis ? Int(indices.indices[i]) : coordinate[d]
            if d == axis { precondition(index >= 0 && index < x.shape[axis], "gather: index \(index) out of range") }
            offset += index * xStrides[d]
        }
        offsets[i] = offset
        var d = rank - 1
        while d >= 0 { coordinate[d] += 1; if coordinate[d] < indices.shape[d] { break }; coordinate[d] = 0; d -= 1 }
    }
    let out = Tensor(zeros: indices.shape)
    x.withUnsafeScalars { xv in out.withUnsafeMutableScalars { o in for i in offsets.indices { o[i] = xv[offsets[i]] } } }
    let shape = x.shape
    return Tensor.result(shape: indices.shape, storage: out.storage, inputs: [x]) { g in
        let dx = Tensor(zeros: shape)
        g.withUnsafeScalars { gv in dx.withUnsafeMutableScalars { d in for i in offsets.indices { d[offsets[i]] += gv[i] } } }
        return [dx]
    }
}

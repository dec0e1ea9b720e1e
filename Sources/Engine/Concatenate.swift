import Foundation

/// The tensors joined along `axis`, as PyTorch's `torch.cat(tensors, dim: axis)`: for
/// `[N, C_i, H, W]` inputs and `axis == 1`, `[N, ΣC_i, H, W]` with input `i`'s channels at
/// `out[:, C_0 + … + C_{i-1} ..< … + C_i]`. The gradient of input `i` is its slice of the
/// output's gradient.
///
/// A copy of runs of memory (inputs first reordered where they arrive in another layout). The
/// output is in the activations' channel-blocked layout (`nChw16c` or `nChw8c`) when it
/// is `[N, C, H, W]` joined along the channels and every `C_i` is a multiple of the channel
/// block (so each input's slice is whole blocks); otherwise plain row-major.
///
/// Element types: inputs of one type give that type (bf16 activations stay bf16); mixed
/// inputs give float32, as PyTorch's autocast promotes `cat` to the widest type.
///
/// - Parameters:
///   - tensors: one or more tensors of equal rank whose shapes agree except along `axis`.
///   - axis: the dimension to join along.
public func concatenate(_ tensors: [Tensor], alongAxis axis: Int = 1) -> Tensor {
    let y = unrecordedConcatenate(tensors, alongAxis: axis)
    if tensors.count > 1 { GraphRecording.note(.concatenate(axis: axis), inputs: tensors, output: y) }
    return y
}

private func unrecordedConcatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
    precondition(!tensors.isEmpty, "concatenate: no tensors")
    let first = tensors[0].shape
    precondition(axis >= 0 && axis < first.count, "concatenate: axis \(axis) for rank \(first.count)")
    for t in tensors {
        precondition(t.rank == first.count && t.shape.indices.allSatisfy { $0 == axis || t.shape[$0] == first[$0] },
                     "concatenate: shapes \(tensors.map(\.shape)) differ outside axis \(axis)")
    }
    if tensors.count == 1 { return tensors[0] }
    let types = Set(tensors.map(\.elementType))
    let type: ElementType = types.count == 1 ? types.first! : .f32
    var shape = first
    shape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
    let block = ChannelBlock.size
    let isBlocked = shape.count == 4 && axis == 1 && tensors.allSatisfy { $0.shape[1] % block == 0 }
    func layout(_ shape: [Int]) -> MemoryDescriptor {
        isBlocked ? MemoryDescriptor.blocked(shape, type: type) : MemoryDescriptor.plain(shape, type: type)
    }
    let out = Storage(layout(shape))
    // In plain row-major and in `nChw{b}c` with whole channel blocks per input alike, input `i`'s
    // part of each outer index `o` (a sample, for axis 1) is one run of `C_i · inner` elements
    // from `(o · C + offset_i) · inner`: the join is a copy of runs (oneDNN 2.6's concat of
    // blocked bf16 tensors, `simple:any`, moved about 2 GB/s: 92 of SalsaNext's 430 ms per image).
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    let size = type.size
    let sizes = tensors.map { $0.shape[axis] }
    let offsets = sizes.reduce(into: [0]) { $0.append($0.last! + $1) }
    let sources = tensors.map { $0.storage(in: layout($0.shape)) }
    let total = shape[axis]
    for (k, source) in sources.enumerated() {
        let run = sizes[k] * inner * size
        for o in 0 ..< outer {
            memcpy(out.pointer + (o * total + offsets[k]) * inner * size, source.pointer + o * run, run)
        }
    }
    let needs = tensors.map(\.requiresGrad)
    let outputLayout = out.descriptor
    return Tensor.result(shape: shape, storage: out, inputs: tensors) { g in
        let gs = g.storage(in: outputLayout)
        var offset = 0
        var grads: [Tensor?] = []
        for (k, c) in sizes.enumerated() {
            defer { offset += c }
            guard needs[k] else { grads.append(nil); continue }
            var sliceShape = shape
            sliceShape[axis] = c
            let dx = Storage(layout(sliceShape))
            let run = c * inner * size
            for o in 0 ..< outer {
                memcpy(dx.pointer + o * run, gs.pointer + (o * shape[axis] + offset) * inner * size, run)
            }
            grads.append(Tensor(shape: sliceShape, storage: dx))
        }
        return grads
    }
}

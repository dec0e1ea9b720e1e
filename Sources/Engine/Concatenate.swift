import CDNNL
import Foundation

/// The tensors joined along `axis`, as PyTorch's `torch.cat(tensors, dim: axis)`: for
/// `[N, C_i, H, W]` inputs and `axis == 1`, `[N, ΣC_i, H, W]` with input `i`'s channels at
/// `out[:, C_0 + … + C_{i-1} ..< … + C_i]`. The gradient of input `i` is its slice of the
/// output's gradient.
///
/// Runs on oneDNN's concat primitive, which reads each input in the layout it arrives in.
/// The output is in the activations' channel-blocked layout (`nChw16c` or `nChw8c`) when it
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
    let sources = tensors.map { $0.storage(in: $0.storage.descriptor.with(type)) }
    var shape = first
    shape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
    let primitive = concatPrimitive(sources.map(\.descriptor), output: shape, axis: axis, type: type)
    let layout = primitive.dst
    let out = Storage(layout)
    primitive.execute(sources.enumerated().map { (Int32(DNNL_ARG_MULTIPLE_SRC) + Int32($0.offset), $0.element) }
                      + [(DNNL_ARG_DST, out)])
    let sizes = tensors.map { $0.shape[axis] }
    let needs = tensors.map(\.requiresGrad)
    let isBlocked = layout != MemoryDescriptor.plain(shape, type: type)
    return Tensor.result(shape: shape, storage: out, inputs: tensors) { g in
        let gs = g.storage(in: layout)
        // In plain row-major and in `nChw{b}c` with whole channel blocks per input alike, input
        // `i`'s part of each outer index `o` (a sample, for axis 1) is one run of
        // `C_i · inner` elements from `(o · C + offset_i) · inner`.
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let size = type.size
        var offset = 0
        var grads: [Tensor?] = []
        for (k, c) in sizes.enumerated() {
            defer { offset += c }
            guard needs[k] else { grads.append(nil); continue }
            var sliceShape = shape
            sliceShape[axis] = c
            let dx = Storage(isBlocked ? MemoryDescriptor.blocked(sliceShape, type: type) : MemoryDescriptor.plain(sliceShape, type: type))
            let run = c * inner * size
            for o in 0 ..< outer {
                memcpy(dx.pointer + o * run, gs.pointer + (o * shape[axis] + offset) * inner * size, run)
            }
            grads.append(Tensor(shape: sliceShape, storage: dx))
        }
        return grads
    }
}

/// oneDNN's concat of `sources` along `axis` into `output`, in the channel-blocked layout
/// where every input's channels are whole blocks (see `concatenate`), else plain.
private func concatPrimitive(_ sources: [MemoryDescriptor], output: [Int], axis: Int, type: ElementType) -> Primitive {
    let key = "concat|\(axis)|\(sources.map(\.key).joined(separator: "|"))"
    return DNNLContext.shared.cached(key) { () -> Primitive in
        let block = ChannelBlock.size
        let wholeBlocks = output.count == 4 && axis == 1 && sources.allSatisfy { $0.dims[1] % block == 0 }
        var layouts = [MemoryDescriptor.plain(output, type: type)]
        if wholeBlocks { layouts.insert(MemoryDescriptor.blocked(output, type: type), at: 0) }
        let raws = sources.map(\.raw)
        for layout in layouts {
            var dst = layout.raw
            var pd: dnnl_primitive_desc_t?
            let status = withPrimitiveAttributes { attributes in
                raws.withUnsafeBufferPointer { srcs in
                    dnnl_concat_primitive_desc_create(&pd, &dst, Int32(srcs.count), Int32(axis), srcs.baseAddress,
                                                      attributes, DNNLContext.shared.engine)
                }
            }
            if status == dnnl_success, let pd { return Primitive(descriptor: pd, what: "concat \(output)") }
        }
        fatalError("oneDNN: no concat implementation for \(sources.map(\.dims)) along axis \(axis)")
    }
}

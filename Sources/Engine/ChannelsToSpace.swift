import CDNNL
import Foundation

/// Moves channels into space, as PyTorch's `nn.PixelShuffle(r)`: `[N, C·r², H, W]` becomes
/// `[N, C, H·r, W·r]` with
/// `out[n, c, h·r + i, w·r + j] = in[n, c·r² + i·r + j, h, w]`.
/// The gradient is the inverse rearrangement (PyTorch's `pixel_unshuffle`).
///
/// A pure permutation, so it is exact in either element type (bf16 activations stay bf16). It
/// runs as one oneDNN reorder between two six-dimensional views with logical dimensions
/// `[N, C, r, r, H, W]`, one of the input's buffer and one of the output's:
/// - an input in a channel-blocked layout `nChw{b}c` (`b` = 8 or 16) with `r²` dividing `b` and
///   `b` dividing `C` (SalsaNext's decoder: `r = 2`, channels in multiples of 16) is read in
///   place and the output is written in the same blocked layout;
/// - any other input is made plain first, and the output is plain.
///
/// - Parameters:
///   - x: `[N, C·r², H, W]`.
///   - r: the upscale factor, at least 1.
public func pixelShuffle(_ x: Tensor, upscale r: Int) -> Tensor {
    let y = unrecordedPixelShuffle(x, upscale: r)
    GraphRecording.note(.pixelShuffle(upscale: r), inputs: [x], output: y)
    return y
}

private func unrecordedPixelShuffle(_ x: Tensor, upscale r: Int) -> Tensor {
    precondition(x.rank == 4, "pixelShuffle expects [N, C, H, W], got \(x.shape)")
    precondition(r >= 1 && x.shape[1] % (r * r) == 0, "pixelShuffle: \(x.shape[1]) channels do not split into \(r)x\(r) blocks")
    let views = PixelShuffleViews(batch: x.shape[0], channels: x.shape[1] / (r * r), height: x.shape[2], width: x.shape[3],
                                  upscale: r, type: x.elementType, block: PixelShuffleViews.block(of: x, upscale: r))
    let out = Storage(views.outputLayout)
    Storage(viewing: x.storage(in: views.inputLayout), as: views.input)
        .reorder(into: Storage(viewing: out, as: views.output))
    let inputShape = x.shape
    return Tensor.result(shape: views.outputShape, storage: out, inputs: [x]) { g in
        // The inverse: the gradient read through the output's view into the input's.
        let back = views.of(g.elementType)
        let dx = Storage(back.inputLayout)
        Storage(viewing: g.storage(in: back.outputLayout), as: back.output)
            .reorder(into: Storage(viewing: dx, as: back.input))
        return [Tensor(shape: inputShape, storage: dx)]
    }
}

/// The layouts and six-dimensional views of one pixel shuffle. Both views index
/// `(n, c, i, j, h, w)`, the input element `(n, c·r² + i·r + j, h, w)` and the output element
/// `(n, c, h·r + i, w·r + j)`.
private struct PixelShuffleViews {
    let batch: Int, channels: Int, height: Int, width: Int, upscale: Int
    let type: ElementType
    /// The channel block `b` of both tensors' `nChw{b}c` layouts, or `nil` for plain.
    let block: Int?

    /// The channel block of `x`'s layout when the shuffle can run on it in place (see
    /// `pixelShuffle`), else `nil`.
    static func block(of x: Tensor, upscale r: Int) -> Int? {
        for (b, tag) in [(8, dnnl_aBcd8b), (16, dnnl_aBcd16b)]
        where b % (r * r) == 0 && (x.shape[1] / (r * r)) % b == 0
            && x.storage.descriptor == MemoryDescriptor(shape: x.shape, tag: tag, type: x.elementType) {
            return b
        }
        return nil
    }

    var outputShape: [Int] { [batch, channels, height * upscale, width * upscale] }
    private var inputShape: [Int] { [batch, channels * upscale * upscale, height, width] }
    private var dims: [Int] { [batch, channels, upscale, upscale, height, width] }

    /// The same shuffle for gradients of another element type.
    func of(_ type: ElementType) -> PixelShuffleViews {
        PixelShuffleViews(batch: batch, channels: channels, height: height, width: width, upscale: upscale,
                          type: type, block: block)
    }

    var inputLayout: MemoryDescriptor { layout(inputShape) }
    var outputLayout: MemoryDescriptor { layout(outputShape) }

    private func layout(_ shape: [Int]) -> MemoryDescriptor {
        guard let block else { return .plain(shape, type: type) }
        return MemoryDescriptor(shape: shape, tag: block == 8 ? dnnl_aBcd8b : dnnl_aBcd16b, type: type)
    }

    /// The input's buffer as `[N, C, r, r, H, W]`.
    var input: MemoryDescriptor {
        let r = upscale, plane = height * width
        guard let block else { return .plain(dims, type: type) }
        // nChw{b}c: channel `c·r² + i·r + j` lies in block `c / (b / r²)` at position
        // `(c mod (b / r²))·r² + i·r + j`, so `c` splits into an outer index and an inner block
        // of `b / r²`, and `i`, `j` are inner blocks of `r` (innermost fastest).
        let blockStride = plane * block
        return view(strides: [channels * r * r * plane, blockStride, blockStride, blockStride, width * block, block],
                    innerBlocks: [(block / (r * r), 1), (r, 2), (r, 3)])
    }

    /// The output's buffer as `[N, C, r, r, H, W]`: element `(n, c, i, j, h, w)` is output
    /// `(n, c, h·r + i, w·r + j)`.
    var output: MemoryDescriptor {
        let r = upscale, row = width * r, plane = height * r * row
        guard let block else {
            return view(strides: [channels * plane, plane, row, 1, r * row, r], innerBlocks: [])
        }
        // nChw{b}c: channel blocks of `b` with rows of `W·r` positions of `b` channels.
        return view(strides: [channels * plane, plane * block, row * block, block, r * row * block, r * block],
                    innerBlocks: [(block, 1)])
    }

    /// A blocked descriptor of `dims` with outer `strides` (elements) and inner blocks
    /// `(size, dimension)`, outermost first.
    private func view(strides: [Int], innerBlocks: [(size: Int, dimension: Int)]) -> MemoryDescriptor {
        // oneDNN's `init_by_strides` rejects outer strides that overlap without the inner blocks,
        // so the plain descriptor's blocking is replaced instead.
        var raw = MemoryDescriptor.plain(dims, type: type).raw
        var blocking = raw.format_desc.blocking
        withUnsafeMutableBytes(of: &blocking.strides) { outer in
            for (d, stride) in strides.enumerated() { outer.storeBytes(of: Int64(stride), toByteOffset: d * 8, as: Int64.self) }
        }
        blocking.inner_nblks = Int32(innerBlocks.count)
        withUnsafeMutableBytes(of: &blocking.inner_blks) { sizes in
            for (k, inner) in innerBlocks.enumerated() { sizes.storeBytes(of: Int64(inner.size), toByteOffset: k * 8, as: Int64.self) }
        }
        withUnsafeMutableBytes(of: &blocking.inner_idxs) { dimensions in
            for (k, inner) in innerBlocks.enumerated() { dimensions.storeBytes(of: Int64(inner.dimension), toByteOffset: k * 8, as: Int64.self) }
        }
        raw.format_desc.blocking = blocking
        return MemoryDescriptor(raw: raw)
    }
}

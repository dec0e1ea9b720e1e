import Random

/// Channel dropout on `[N, C, H, W]` (any layout): multiplies each `(n, c)` map by
/// `0` (probability `probability`) or `1 / (1 - probability)`. The gradient is masked the
/// same way.
public func channelDropout(_ x: Tensor, probability: Float, generator: inout RandomGenerator) -> Tensor {
    precondition(x.rank == 4, "channelDropout expects [N, C, H, W]")
    let keep = 1 / (1 - probability)
    var mask = [Float](repeating: 0, count: x.shape[0] * x.shape[1])
    for i in mask.indices { mask[i] = Float.unitInterval(using: &generator) < probability ? 0 : keep }
    let shape = x.shape
    let out = scaleChannels(x.storage, shape: shape, by: mask)
    return Tensor.result(shape: shape, storage: out, inputs: [x]) { g in
        [Tensor(shape: shape, storage: scaleChannels(g.storage, shape: shape, by: mask))]
    }
}

/// `source` with plane `(n, c)` multiplied by `scales[n * C + c]`, in `source`'s layout when
/// that is plain or the activations' blocked one (else in the blocked one), float32 or
/// bfloat16 (multiplied in float32 and rounded, as oneDNN does).
///
/// A loop in Swift: oneDNN 2.6 has no jit kernel for a per-channel binary on the blocked
/// layout, and its reference loop took up to 470 ms for one SalsaNext activation.
private func scaleChannels(_ source: Storage, shape: [Int], by scales: [Float]) -> Storage {
    let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
    let type = source.descriptor.elementType
    let isPlain = source.descriptor == .plain(shape, type: type)
    let input = isPlain ? source : source.reordered(to: .blocked(shape, type: type))
    // Element (sample i, channel block b, pixel s, lane l) at ((i·B + b)·hw + s)·block + l;
    // plain is the case block = 1.
    let block = isPlain ? 1 : ChannelBlock.size
    let blocks = (c + block - 1) / block
    let out = Storage(input.descriptor)
    var lanes = [Float](repeating: 0, count: block)
    for i in 0 ..< n {
        for b in 0 ..< blocks {
            for l in 0 ..< block { lanes[l] = b * block + l < c ? scales[i * c + b * block + l] : 0 }
            let start = (i * blocks + b) * hw * block
            switch type {
            case .f32:
                let src = input.pointer.assumingMemoryBound(to: Float.self) + start
                let dst = out.pointer.assumingMemoryBound(to: Float.self) + start
                lanes.withUnsafeBufferPointer { f in
                    for s in 0 ..< hw { for l in 0 ..< block { dst[s * block + l] = src[s * block + l] * f[l] } }
                }
            case .bf16:
                let src = input.pointer.assumingMemoryBound(to: UInt16.self) + start
                let dst = out.pointer.assumingMemoryBound(to: UInt16.self) + start
                lanes.withUnsafeBufferPointer { f in
                    for s in 0 ..< hw {
                        for l in 0 ..< block { dst[s * block + l] = BFloat16.bits(BFloat16.float(src[s * block + l]) * f[l]) }
                    }
                }
            }
        }
    }
    return out
}

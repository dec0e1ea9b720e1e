import CDNNL
import Foundation

/// Layout conversion of small tensors (weights, biases) in Swift.
///
/// oneDNN runs every reorder as an OpenMP parallel region; for a few thousand weights that
/// costs more in thread hand-offs than in copying, and on a shared, busy CPU each region
/// waits for both threads to be scheduled. A training step reorders every weight tensor
/// about three times, so small tensors are converted here, on the calling thread, through
/// offset tables computed once per layout.
enum SmallReorder {
    /// Tensors up to this many elements are reordered in Swift.
    static let maximumElements = 1 << 18

    private static let lock = NSLock()
    nonisolated(unsafe) private static var tables: [String: [Int32]] = [:]

    /// Whether `from → to` can be done here: small, both plain or blocked layouts (float32 or
    /// bfloat16, converting between them as oneDNN does: round to nearest even).
    static func handles(_ from: MemoryDescriptor, _ to: MemoryDescriptor) -> Bool {
        let count = from.dims.reduce(1, *)
        return count <= maximumElements && from.dims == to.dims
            && from.raw.format_kind == dnnl_blocked && to.raw.format_kind == dnnl_blocked
    }

    /// Copies `source` into `destination` (same logical shape), zeroing any padding.
    static func reorder(_ source: Storage, into destination: Storage) {
        let from = offsets(source.descriptor), to = offsets(destination.descriptor)
        let elementSize = destination.descriptor.elementType.size
        if destination.byteCount > to.count * elementSize { memset(destination.pointer, 0, destination.byteCount) }
        from.withUnsafeBufferPointer { f in
            to.withUnsafeBufferPointer { t in
                switch (source.descriptor.elementType, destination.descriptor.elementType) {
                case (.f32, .f32):
                    let s = source.floats, d = destination.floats
                    for i in 0..<f.count { d[Int(t[i])] = s[Int(f[i])] }
                case (.bf16, .bf16):
                    let s = source.bf16Bits, d = destination.bf16Bits
                    for i in 0..<f.count { d[Int(t[i])] = s[Int(f[i])] }
                case (.f32, .bf16):
                    let s = source.floats, d = destination.bf16Bits
                    for i in 0..<f.count { d[Int(t[i])] = BFloat16.bits(s[Int(f[i])]) }
                case (.bf16, .f32):
                    let s = source.bf16Bits, d = destination.floats
                    for i in 0..<f.count { d[Int(t[i])] = BFloat16.float(s[Int(f[i])]) }
                }
            }
        }
    }

    /// The physical offset (in elements) of every logical element, in row-major order.
    static func offsets(_ descriptor: MemoryDescriptor) -> [Int32] {
        let key = descriptor.key
        lock.lock()
        if let table = tables[key] { lock.unlock(); return table }
        lock.unlock()
        let table = computeOffsets(descriptor)
        lock.lock()
        tables[key] = table
        lock.unlock()
        return table
    }

    /// oneDNN's blocked layout: each logical index splits into an outer part (times the
    /// outer stride) and digits for the inner blocks, innermost block fastest.
    private static func computeOffsets(_ descriptor: MemoryDescriptor) -> [Int32] {
        let dims = descriptor.dims
        let rank = dims.count
        let blocking = descriptor.raw.format_desc.blocking
        let strides = withUnsafeBytes(of: blocking.strides) { Array($0.bindMemory(to: Int64.self).prefix(rank)).map(Int.init) }
        let blockCount = Int(blocking.inner_nblks)
        let blocks = withUnsafeBytes(of: blocking.inner_blks) { Array($0.bindMemory(to: Int64.self).prefix(blockCount)).map(Int.init) }
        let blockDims = withUnsafeBytes(of: blocking.inner_idxs) { Array($0.bindMemory(to: Int64.self).prefix(blockCount)).map(Int.init) }
        let base = Int(descriptor.raw.offset0)
        let count = dims.reduce(1, *)
        var table = [Int32](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: rank)
        var remaining = [Int](repeating: 0, count: rank)
        for i in 0..<count {
            for d in 0..<rank { remaining[d] = index[d] }
            var offset = base
            var innerStride = 1
            for k in stride(from: blockCount - 1, through: 0, by: -1) {
                let d = blockDims[k]
                offset += (remaining[d] % blocks[k]) * innerStride
                remaining[d] /= blocks[k]
                innerStride *= blocks[k]
            }
            for d in 0..<rank { offset += remaining[d] * strides[d] }
            table[i] = Int32(offset)
            var d = rank - 1
            while d >= 0 { index[d] += 1; if index[d] < dims[d] { break }; index[d] = 0; d -= 1 }
        }
        return table
    }
}

import CDNNL
import Foundation

// The thin layer between Swift and the oneDNN 2.6 C API: descriptors, memory, primitives,
// one engine and stream, and a cache of primitives keyed by operation and shape.
//
// Threads: everything here may be used from several threads at once. Objects are immutable
// once made (memory objects and primitives are created eagerly, in their initialisers); the
// primitive cache and the execution of primitives are guarded by `DNNLContext`'s locks.

/// Stops on a oneDNN failure. Every call that can fail here fails only for a programming
/// error (an unsupported shape or layout), so there is nothing for a caller to recover.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) {
    if status != dnnl_success {
        fatalError("oneDNN: \(what()) failed with status \(status.rawValue)")
    }
}

/// The type of a tensor's elements in memory.
///
/// Parameters, gradients of parameters, batch-norm statistics and everything Swift reads are
/// `f32`; under `Precision.bf16` the convolutions' activations (and the gradients flowing
/// through them) are `bf16`: the upper 16 bits of a float32 (8 exponent bits, 7 mantissa bits).
public enum ElementType: Sendable, Hashable, CustomStringConvertible {
    case f32, bf16

    var dnnl: dnnl_data_type_t { self == .f32 ? dnnl_f32 : dnnl_bf16 }

    /// Bytes per element.
    public var size: Int { self == .f32 ? 4 : 2 }

    public var description: String { self == .f32 ? "f32" : "bf16" }
}

/// A oneDNN memory descriptor: logical dimensions, an element type (`f32` or `bf16`) and a
/// physical layout (plain row-major, or blocked such as `nChw16c`).
/// The channel block of the activations' layout on this CPU (see `MemoryDescriptor.blocked`).
enum ChannelBlock {
    /// 16 with AVX-512, else 8.
    static let size: Int = {
        let avx512 = dnnl_cpu_isa_avx512_core.rawValue
        return dnnl_get_effective_cpu_isa().rawValue & avx512 == avx512 ? 16 : 8
    }()
    static var tag: dnnl_format_tag_t { size == 16 ? dnnl_aBcd16b : dnnl_aBcd8b }
}

struct MemoryDescriptor: Equatable {
    var raw: dnnl_memory_desc_t

    init(raw: dnnl_memory_desc_t) { self.raw = raw }

    /// A descriptor with the given dimensions, a format tag (`dnnl_format_tag_any` lets a
    /// primitive choose) and an element type.
    init(shape: [Int], tag: dnnl_format_tag_t, type: ElementType = .f32) {
        var desc = dnnl_memory_desc_t()
        let dims = shape.map(Int64.init)
        dnnlCheck(dnnl_memory_desc_init_by_tag(&desc, Int32(shape.count), dims, type.dnnl, tag),
                  "memory descriptor \(shape)")
        raw = desc
    }

    /// Row-major contiguous (NCHW for four dimensions).
    static func plain(_ shape: [Int], type: ElementType = .f32) -> MemoryDescriptor {
        let tags = [dnnl_a, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde, dnnl_abcdef]
        precondition(shape.count <= 6, "at most 6 dimensions")
        return MemoryDescriptor(shape: shape.isEmpty ? [1] : shape, tag: tags[shape.count], type: type)
    }

    /// The channel-blocked layout activations live in between layers: `nChw16c` where oneDNN
    /// has AVX-512 kernels (16 floats a vector register), `nChw8c` on AVX2 machines (8 floats),
    /// whose jit kernels take only that blocking and fall back to gemm or reference loops for
    /// 16. Chosen once per process from the ISA oneDNN uses (`ONEDNN_MAX_CPU_ISA` honoured).
    static func blocked(_ shape: [Int], type: ElementType = .f32) -> MemoryDescriptor {
        MemoryDescriptor(shape: shape, tag: ChannelBlock.tag, type: type)
    }

    /// "Let the primitive choose."
    static func any(_ shape: [Int], type: ElementType = .f32) -> MemoryDescriptor {
        MemoryDescriptor(shape: shape, tag: dnnl_format_tag_any, type: type)
    }

    /// The element type.
    var elementType: ElementType { raw.data_type == dnnl_bf16 ? .bf16 : .f32 }

    /// The same dimensions and layout (strides count elements) with another element type.
    func with(_ type: ElementType) -> MemoryDescriptor {
        if elementType == type { return self }
        var copy = raw
        copy.data_type = type.dnnl
        return MemoryDescriptor(raw: copy)
    }

    /// Bytes needed, including any padding of blocked layouts.
    var byteCount: Int { withUnsafePointer(to: raw) { dnnl_memory_desc_get_size($0) } }

    var rank: Int { Int(raw.ndims) }

    var dims: [Int] {
        withUnsafeBytes(of: raw.dims) { Array($0.bindMemory(to: Int64.self).prefix(rank)).map(Int.init) }
    }

    /// A string that identifies dimensions and layout, for primitive cache keys.
    var key: String {
        let n = rank
        let blocking = raw.format_desc.blocking
        let strides = withUnsafeBytes(of: blocking.strides) { Array($0.bindMemory(to: Int64.self).prefix(n)) }
        let nblks = Int(blocking.inner_nblks)
        let blks = withUnsafeBytes(of: blocking.inner_blks) { Array($0.bindMemory(to: Int64.self).prefix(nblks)) }
        let idxs = withUnsafeBytes(of: blocking.inner_idxs) { Array($0.bindMemory(to: Int64.self).prefix(nblks)) }
        return "\(elementType)\(dims)k\(raw.format_kind.rawValue)s\(strides)b\(blks)i\(idxs)"
    }

    static func == (lhs: MemoryDescriptor, rhs: MemoryDescriptor) -> Bool {
        withUnsafePointer(to: lhs.raw) { l in withUnsafePointer(to: rhs.raw) { r in dnnl_memory_desc_equal(l, r) != 0 } }
    }
}

/// A buffer that oneDNN reads and writes directly, with the layout it is in.
/// 64-byte aligned; freed (with its oneDNN memory object) when the last tensor lets go.
///
/// Immutable after `init` (the oneDNN memory object is made there, not on first use), so a
/// storage may be read by several threads at once, e.g. the weights of one shared network.
final class Storage {
    let descriptor: MemoryDescriptor
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int
    /// The oneDNN memory object over this buffer.
    let memory: dnnl_memory_t
    /// For a view: the storage that owns the buffer (kept alive; not freed here).
    private let base: Storage?

    /// A view of `base`'s buffer under another descriptor of the same size, e.g. a PyTorch
    /// `[I, O, kh, kw]` transposed-convolution weight seen as oneDNN's `iohw` weights.
    init(viewing base: Storage, as descriptor: MemoryDescriptor) {
        precondition(descriptor.byteCount == base.byteCount, "a view must have the same size")
        self.descriptor = descriptor
        byteCount = base.byteCount
        pointer = base.pointer
        self.base = base
        memory = Storage.makeMemory(descriptor, over: pointer)
    }

    /// A view of part of `base`'s buffer, from `offset` bytes on, under `descriptor` (e.g. one
    /// sample of a batch).
    init(viewing base: Storage, offset: Int, as descriptor: MemoryDescriptor) {
        precondition(offset >= 0 && offset + descriptor.byteCount <= base.byteCount, "a view must lie inside its base")
        self.descriptor = descriptor
        byteCount = descriptor.byteCount
        pointer = base.pointer + offset
        self.base = base
        memory = Storage.makeMemory(descriptor, over: pointer)
    }

    init(_ descriptor: MemoryDescriptor, zeroed: Bool = false) {
        self.descriptor = descriptor
        base = nil
        byteCount = descriptor.byteCount
        pointer = BufferPool.shared.take(max(byteCount, 64))
        if zeroed { memset(pointer, 0, max(byteCount, 64)) }
        memory = Storage.makeMemory(descriptor, over: pointer)
    }

    private static func makeMemory(_ descriptor: MemoryDescriptor, over pointer: UnsafeMutableRawPointer) -> dnnl_memory_t {
        var m: dnnl_memory_t?
        withUnsafePointer(to: descriptor.raw) { desc in
            dnnlCheck(dnnl_memory_create(&m, desc, DNNLContext.shared.engine, pointer), "memory create")
        }
        return m!
    }

    /// The elements of an `f32` storage.
    var floats: UnsafeMutablePointer<Float> {
        assert(descriptor.elementType == .f32, "floats of a \(descriptor.elementType) storage")
        return pointer.assumingMemoryBound(to: Float.self)
    }

    /// The elements of a `bf16` storage, as their bit patterns.
    var bf16Bits: UnsafeMutablePointer<UInt16> {
        assert(descriptor.elementType == .bf16, "bf16 bits of a \(descriptor.elementType) storage")
        return pointer.assumingMemoryBound(to: UInt16.self)
    }

    deinit {
        dnnl_memory_destroy(memory)
        if base == nil { BufferPool.shared.give(pointer, size: max(byteCount, 64)) }
    }
}

/// Recycles freed buffers by exact size.
///
/// A training step allocates the same activation sizes every time; reusing them avoids
/// returning memory to the system and page-faulting it back in (which costs as much as a
/// batch norm pass for a 16 MB activation). Small buffers are cached too; the pool only
/// holds what was once live at the same time, so peak memory does not grow.
/// Shared by all threads: the free lists are only touched under `lock`.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private let lock = NSLock()

    func take(_ size: Int) -> UnsafeMutableRawPointer {
        lock.lock()
        if let p = free[size]?.popLast() { lock.unlock(); return p }
        lock.unlock()
        var p: UnsafeMutableRawPointer?
        let status = posix_memalign(&p, 64, size)
        precondition(status == 0 && p != nil, "out of memory allocating \(size) bytes")
        return p!
    }

    func give(_ pointer: UnsafeMutableRawPointer, size: Int) {
        lock.lock()
        free[size, default: []].append(pointer)
        lock.unlock()
    }

    /// Returns every cached buffer to the system.
    func drain() {
        lock.lock()
        for (_, list) in free { for p in list { Foundation.free(p) } }
        free = [:]
        lock.unlock()
    }
}

/// Operations fused onto a forward convolution's output (inference only): a leaky ReLU, then a
/// per-channel scale and shift (batch norm after the activation, as SalsaNext orders them), then
/// additions of whole tensors of the output's shape (residual and skip connections). The scale,
/// shift and additions are binary post-ops; the addends are read in the output's blocked layout
/// and element type, the scale and shift as float32 vectors.
struct PostOps: Hashable, CustomStringConvertible {
    /// Leaky ReLU slope, or `nil` for none.
    var leakySlope: Float?
    /// Whether a per-channel scale and shift follow the activation.
    var channelAffine = false
    /// Number of tensors added after the activation.
    var addends = 0
    /// The output's shape and element type (for the addends' descriptors).
    var output: [Int] = []
    var outputType = ElementType.f32

    var description: String {
        "post(\(leakySlope.map { "leaky\($0)" } ?? "-")\(channelAffine ? "*s+t" : "")+\(addends))"
    }

    /// The addends' layout: the output's channel-blocked layout.
    var addendDescriptor: MemoryDescriptor { MemoryDescriptor.blocked(output, type: outputType) }

    /// The scale's and the shift's layout: `[1, C, 1, 1]`, float32.
    var channelDescriptor: MemoryDescriptor { MemoryDescriptor.plain([1, output[1], 1, 1]) }

    private static func argument(_ index: Int) -> Int32 {
        Int32(DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE) * Int32(index + 1) | Int32(DNNL_ARG_SRC_1)
    }

    private var firstBinary: Int { leakySlope == nil ? 0 : 1 }

    /// The execution arguments of the scale and the shift (with `channelAffine`).
    var scaleArgument: Int32 { Self.argument(firstBinary) }
    var shiftArgument: Int32 { Self.argument(firstBinary + 1) }

    /// The execution argument of addend `k`.
    func addendArgument(_ k: Int) -> Int32 { Self.argument(firstBinary + (channelAffine ? 2 : 0) + k) }

    /// Adds these post-ops to `attributes`.
    func add(to attributes: dnnl_primitive_attr_t) {
        var ops: dnnl_post_ops_t?
        dnnlCheck(dnnl_post_ops_create(&ops), "post-ops")
        if let leakySlope { dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, leakySlope, 0), "eltwise post-op") }
        if channelAffine {
            for alg in [dnnl_binary_mul, dnnl_binary_add] {
                var md = channelDescriptor.raw
                dnnlCheck(dnnl_post_ops_append_binary(ops, alg, &md), "per-channel binary post-op")
            }
        }
        for _ in 0 ..< addends {
            var md = addendDescriptor.raw
            dnnlCheck(dnnl_post_ops_append_binary(ops, dnnl_binary_add, &md), "binary post-op")
        }
        dnnlCheck(dnnl_primitive_attr_set_post_ops(attributes, ops), "set post-ops")
        dnnl_post_ops_destroy(ops)
    }
}

/// Runs `body` with the attributes every primitive is made with: the scratchpad in user mode
/// (the engine passes it at execution; see `DNNLContext`), and `postOps` if any.
func withPrimitiveAttributes<R>(postOps: PostOps? = nil, _ body: (dnnl_primitive_attr_t) -> R) -> R {
    var created: dnnl_primitive_attr_t?
    dnnlCheck(dnnl_primitive_attr_create(&created), "attributes")
    let attributes = created!
    defer { dnnl_primitive_attr_destroy(attributes) }
    dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "scratchpad mode")
    postOps?.add(to: attributes)
    return body(attributes)
}

/// Returns the engine's recycled activation buffers to the system (for example after
/// training, before a long evaluation). Buffers in use are not affected.
public func releaseCachedBuffers() { BufferPool.shared.drain() }

/// A primitive descriptor and its primitive, created once and reused (from any thread).
final class Primitive {
    let descriptor: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    /// A memory object for the primitive's scratchpad (its buffer is `DNNLContext`'s, set at each
    /// execution under the execution lock), or `nil` when the primitive needs none.
    let scratchpad: dnnl_memory_t?
    /// Bytes of scratchpad the primitive needs.
    let scratchpadBytes: Int

    /// - Parameters:
    ///   - opDescriptor: pointer to an initialised `dnnl_*_desc_t`.
    ///   - hint: the forward primitive descriptor, for backward primitives.
    convenience init(_ opDescriptor: UnsafeRawPointer, hint: Primitive? = nil, what: String) {
        var pd: dnnl_primitive_desc_t?
        withPrimitiveAttributes { attributes in
            dnnlCheck(dnnl_primitive_desc_create(&pd, opDescriptor, attributes, DNNLContext.shared.engine, hint?.descriptor),
                      "primitive descriptor for \(what)")
        }
        self.init(descriptor: pd!, what: what)
    }

    /// A primitive, or `nil` when oneDNN has no implementation for these descriptors.
    static func ifSupported(_ opDescriptor: UnsafeRawPointer, hint: Primitive? = nil, postOps: PostOps? = nil,
                            what: String) -> Primitive? {
        var pd: dnnl_primitive_desc_t?
        let status = withPrimitiveAttributes(postOps: postOps) { attributes in
            dnnl_primitive_desc_create(&pd, opDescriptor, attributes, DNNLContext.shared.engine, hint?.descriptor)
        }
        guard status == dnnl_success, let pd else { return nil }
        return Primitive(descriptor: pd, what: what)
    }

    /// What the primitive does, as the profile groups it, e.g. `convolution backward data`.
    let kind: String

    /// Takes ownership of an already created primitive descriptor, which must have been made
    /// with `withPrimitiveAttributes` (user-managed scratchpad).
    init(descriptor pd: dnnl_primitive_desc_t, what: String) {
        descriptor = pd
        kind = Primitive.kindName(pd)
        var p: dnnl_primitive_t?
        dnnlCheck(dnnl_primitive_create(&p, pd), "primitive for \(what)")
        primitive = p!
        let scratchpadDescriptor = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)!
        scratchpadBytes = dnnl_memory_desc_get_size(scratchpadDescriptor)
        if scratchpadBytes > 0 {
            var m: dnnl_memory_t?
            dnnlCheck(dnnl_memory_create(&m, scratchpadDescriptor, DNNLContext.shared.engine, nil), "scratchpad memory")
            scratchpad = m
        } else {
            scratchpad = nil
        }
    }

    /// The primitive kind and, where it has one, the direction of propagation.
    private static func kindName(_ pd: dnnl_primitive_desc_t) -> String {
        var kind = dnnl_undefined_primitive
        _ = dnnl_primitive_desc_query(pd, dnnl_query_primitive_kind, 0, &kind)
        let name: String
        switch kind {
        case dnnl_convolution: name = "convolution"
        case dnnl_deconvolution: name = "deconvolution"
        case dnnl_batch_normalization: name = "batch norm"
        case dnnl_eltwise: name = "eltwise"
        case dnnl_binary: name = "binary"
        case dnnl_reorder: return "reorder"
        case dnnl_softmax_v2, dnnl_softmax, dnnl_logsoftmax: name = "softmax"
        case dnnl_reduction: return "reduction"
        case dnnl_matmul: return "matmul"
        case dnnl_sum: return "sum"
        case dnnl_concat: return "concat"
        case dnnl_pooling_v2, dnnl_pooling: name = "pooling"
        default: return "primitive kind \(kind.rawValue)"
        }
        var prop = dnnl_prop_kind_undef
        guard dnnl_primitive_desc_query(pd, dnnl_query_prop_kind, 0, &prop) == dnnl_success else { return name }
        switch prop {
        case dnnl_forward_training, dnnl_forward_inference: return name + " forward"
        case dnnl_backward_data: return name + " backward data"
        case dnnl_backward_weights: return name + " backward weights"
        case dnnl_backward: return name + " backward"
        default: return name
        }
    }

    /// oneDNN's name for the chosen implementation, e.g. `jit:avx512_core` or `ref:any`.
    var implementation: String {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return "" }
        return String(cString: name)
    }

    /// Whether the primitive takes its scratchpad from the caller (as every primitive here does).
    var hasUserScratchpad: Bool {
        var attributes: const_dnnl_primitive_attr_t?
        var mode = dnnl_scratchpad_mode_library
        guard dnnl_primitive_desc_get_attr(descriptor, &attributes) == dnnl_success,
              dnnl_primitive_attr_get_scratchpad_mode(attributes, &mode) == dnnl_success else { return false }
        return mode == dnnl_scratchpad_mode_user
    }

    func memoryDescriptor(_ query: dnnl_query_t, _ index: Int32 = 0) -> MemoryDescriptor {
        MemoryDescriptor(raw: dnnl_primitive_desc_query_md(descriptor, query, index)!.pointee)
    }

    var src: MemoryDescriptor { memoryDescriptor(dnnl_query_src_md) }
    var dst: MemoryDescriptor { memoryDescriptor(dnnl_query_dst_md) }
    var weights: MemoryDescriptor { memoryDescriptor(dnnl_query_weights_md) }
    var diffSrc: MemoryDescriptor { memoryDescriptor(dnnl_query_diff_src_md) }
    var diffDst: MemoryDescriptor { memoryDescriptor(dnnl_query_diff_dst_md) }
    var diffWeights: MemoryDescriptor { memoryDescriptor(dnnl_query_diff_weights_md) }
    var workspace: MemoryDescriptor { memoryDescriptor(dnnl_query_workspace_md) }

    /// Runs the primitive to completion on the shared stream.
    func execute(_ args: [(Int32, Storage)]) {
        DNNLContext.shared.execute(self, args)
    }

    deinit {
        if let scratchpad { dnnl_memory_destroy(scratchpad) }
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }
}

/// The CPU engine, its stream, the primitive cache and the scratchpad: the engine's only shared
/// mutable state, each part under a lock.
///
/// - The cache (`cached`) is guarded by `cacheLock`, which is recursive because making one
///   cached object may look up another (a backward primitive needs its forward one as a hint).
///   Cached objects are immutable once made, so callers use them without a lock.
/// - Executions (`execute`) are serialised by `executionLock`, one primitive call at a time in
///   the process, for three reasons: the stream is shared; every primitive uses the one
///   scratchpad buffer below; and each call already runs on all of oneDNN's OpenMP threads
///   (`OMP_NUM_THREADS`), so concurrent calls would only oversubscribe the cores. Swift work
///   between calls (losses, projection, small reorders, optimisers) still runs in parallel.
/// - Scratchpads are user-managed (`dnnl_scratchpad_mode_user`). oneDNN's default "library"
///   mode keeps the scratchpad of some implementations (`gemm:jit` convolutions) in
///   thread-local storage of the thread that *created* the primitive; run from another thread,
///   such a primitive finds no scratchpad and fails with `invalid_arguments` (status 2), or
///   overruns a smaller one. Cached primitives are made on one thread and run on others, so
///   the engine hands every primitive its scratchpad at each execution instead.
final class DNNLContext: @unchecked Sendable {
    static let shared = DNNLContext()

    let engine: dnnl_engine_t
    /// Used only under `executionLock`.
    private let stream: dnnl_stream_t
    private let cacheLock = NSRecursiveLock()
    private var cache: [String: AnyObject] = [:]
    private let executionLock = NSLock()
    /// The scratchpad every primitive uses, grown to the largest need so far; under `executionLock`.
    private var scratchpadBuffer: UnsafeMutableRawPointer?
    private var scratchpadCapacity = 0

    private init() {
        var e: dnnl_engine_t?
        dnnlCheck(dnnl_engine_create(&e, dnnl_cpu, 0), "engine create")
        engine = e!
        var s: dnnl_stream_t?
        dnnlCheck(dnnl_stream_create(&s, e, UInt32(dnnl_stream_default_flags.rawValue)), "stream create")
        stream = s!
    }

    /// The cached object for `key`, made by `make` the first time. The object must not change
    /// after `make` returns: callers on any thread use it without a lock.
    func cached<T: AnyObject>(_ key: String, _ make: () -> T) -> T {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let hit = cache[key] { return hit as! T }
        let made = make()
        cache[key] = made
        return made
    }

    /// Runs `primitive` to completion with `args` (and its scratchpad), one call at a time.
    func execute(_ primitive: Primitive, _ args: [(Int32, Storage)]) {
        var cArgs = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.memory) }
        executionLock.lock()
        defer { executionLock.unlock() }
        if let scratchpad = primitive.scratchpad {
            dnnlCheck(dnnl_memory_set_data_handle(scratchpad, sharedScratchpad(atLeast: primitive.scratchpadBytes)), "scratchpad")
            cArgs.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad))
        }
        let start = profiling ? DispatchTime.now().uptimeNanoseconds : 0
        dnnlCheck(dnnl_primitive_execute(primitive.primitive, stream, Int32(cArgs.count), cArgs), "execute")
        dnnlCheck(dnnl_stream_wait(stream), "stream wait")
        if profiling {
            profile.add(primitive.kind, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
        }
    }

    // MARK: Profiling (off by default; when off, `execute` only tests a flag)

    /// Whether executions are being timed; under `executionLock`.
    private var profiling = false
    private var profile = EngineProfile()

    /// Starts timing every primitive execution by kind, from zero.
    func startProfiling() {
        executionLock.lock()
        defer { executionLock.unlock() }
        profile = EngineProfile()
        profiling = true
    }

    /// Stops timing and returns what was timed since `startProfiling()`.
    func stopProfiling() -> EngineProfile {
        executionLock.lock()
        defer { executionLock.unlock() }
        profiling = false
        defer { profile = EngineProfile() }
        return profile
    }

    /// Adds Swift-side work (e.g. a small reorder done in Swift) to the profile when profiling.
    func recordSwiftWork(_ kind: String, since start: UInt64) {
        executionLock.lock()
        defer { executionLock.unlock() }
        if profiling { profile.add(kind, nanoseconds: DispatchTime.now().uptimeNanoseconds - start) }
    }

    /// The shared scratchpad, grown to at least `bytes`. Call under `executionLock`.
    private func sharedScratchpad(atLeast bytes: Int) -> UnsafeMutableRawPointer {
        if let scratchpadBuffer, scratchpadCapacity >= bytes { return scratchpadBuffer }
        free(scratchpadBuffer)
        var p: UnsafeMutableRawPointer?
        precondition(posix_memalign(&p, 64, bytes) == 0 && p != nil, "out of memory allocating a \(bytes)-byte scratchpad")
        scratchpadBuffer = p
        scratchpadCapacity = bytes
        return p!
    }

    /// Number of cached objects (for tests).
    var cachedCount: Int { cacheLock.lock(); defer { cacheLock.unlock() }; return cache.count }

    /// Every cached primitive, including those inside cached groups (for tests).
    var cachedPrimitives: [Primitive] {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return cache.values.flatMap { object -> [Primitive] in
            if let primitive = object as? Primitive { return [primitive] }
            if let group = object as? ConvolutionPrimitives { return group.all }
            return []
        }
    }
}

extension Storage {
    /// This buffer in another layout (the same storage when the layouts already agree).
    func reordered(to target: MemoryDescriptor) -> Storage {
        if descriptor == target { return self }
        let out = Storage(target)
        reorder(into: out)
        return out
    }

    /// Copies this buffer's values into `out`, converting the layout.
    func reorder(into out: Storage) {
        let target = out.descriptor
        if descriptor == target { memcpy(out.pointer, pointer, byteCount); return }
        if SmallReorder.handles(descriptor, target) {
            let start = DispatchTime.now().uptimeNanoseconds
            SmallReorder.reorder(self, into: out)
            DNNLContext.shared.recordSwiftWork("reorder (small, in Swift)", since: start)
            return
        }
        let key = "reorder|\(descriptor.key)|\(target.key)"
        let engine = DNNLContext.shared.engine
        let primitive = DNNLContext.shared.cached(key) { () -> Primitive in
            var pd: dnnl_primitive_desc_t?
            withUnsafePointer(to: descriptor.raw) { s in
                withUnsafePointer(to: target.raw) { d in
                    withPrimitiveAttributes { attributes in
                        dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, s, engine, d, engine, attributes), "reorder")
                    }
                }
            }
            return Primitive(descriptor: pd!, what: "reorder")
        }
        primitive.execute([(DNNL_ARG_FROM, self), (DNNL_ARG_TO, out)])
    }
}

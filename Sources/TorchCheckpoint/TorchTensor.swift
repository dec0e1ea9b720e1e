import Foundation
import Formats

/// The element types of the tensors this reader converts.
public enum TorchDType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    public var elementSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// The dtype of torch's typed storage class ("torch.FloatStorage", "torch.cuda.HalfStorage");
    /// an untyped storage holds bytes.
    init?(storageType name: String) {
        let short = name.split(separator: ".").last.map(String.init) ?? name
        let types: [String: TorchDType] = [
            "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16, "DoubleStorage": .float64,
            "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
            "ByteStorage": .uint8, "BoolStorage": .bool, "UntypedStorage": .uint8,
        ]
        guard name.hasPrefix("torch."), let dtype = types[short] else { return nil }
        self = dtype
    }

    /// The dtype of a pickled `torch.<dtype>` global ("torch.float32", "torch.half").
    init?(global name: String) {
        guard name.hasPrefix("torch.") else { return nil }
        let aliases: [String: TorchDType] = ["float": .float32, "half": .float16, "double": .float64, "long": .int64,
                                             "int": .int32, "short": .int16]
        let short = String(name.dropFirst(6))
        guard let dtype = TorchDType(rawValue: short) ?? aliases[short] else { return nil }
        self = dtype
    }
}

/// A storage of a checkpoint: its bytes are a slice of the file's bytes, shared by every tensor
/// of the storage and copied only by `TorchTensor.floats()` and `int64s()`.
public struct TorchStorage: Sendable {
    /// The storage's key in the file (`data/<key>` in a ZIP checkpoint).
    public let key: String
    /// The element type the file declares for the storage.
    public let dtype: TorchDType
    /// Where torch kept the storage when saving ("cpu", "cuda:0").
    public let location: String
    let bytes: Data
    /// Elements stored big-endian (a ZIP checkpoint whose `byteorder` says big).
    let bigEndian: Bool
    /// The file, for errors.
    let source: String
}

/// A tensor of a checkpoint: a strided view of a storage, as torch rebuilds it.
public struct TorchTensor: Sendable {
    public let dtype: TorchDType
    public let shape: [Int]
    /// Strides in elements (0 for an expanded dimension).
    public let strides: [Int]
    /// The first element's index in the storage, in elements of `dtype`.
    public let storageOffset: Int
    public let storage: TorchStorage

    /// Where torch kept the tensor's storage when saving ("cpu", "cuda:0").
    public var location: String { storage.location }
    /// The number of elements (1 for a 0-d tensor).
    public var elementCount: Int { shape.reduce(1, *) }

    /// A tensor whose sizes, strides and offset are non-negative and whose extent in its
    /// storage is a representable number; else `fail` of the reason.
    static func make(_ storage: TorchStorage, dtype: TorchDType, offset: Int, shape: [Int], strides: [Int],
                     fail: (String) -> FormatError) throws(FormatError) -> TorchTensor {
        guard shape.count == strides.count else { throw fail("\(shape.count) sizes but \(strides.count) strides") }
        guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw fail("negative size, stride or offset (size \(shape), stride \(strides), offset \(offset))")
        }
        var count = 1  // multiplied in `elementCount`'s order, which must not overflow
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("size \(shape) has more elements than any storage") }
            count = product
        }
        let tensor = TorchTensor(dtype: dtype, shape: shape, strides: strides, storageOffset: offset, storage: storage)
        guard tensor.elementsNeeded != nil else { throw fail("size \(shape) with stride \(strides) reaches past any storage") }
        return tensor
    }

    /// The elements of the storage the tensor reaches (its last element's index + 1; 0 when it
    /// has none); nil when that overflows.
    var elementsNeeded: Int? {
        if shape.contains(0) { return 0 }
        var last = storageOffset
        for (size, stride) in zip(shape, strides) {
            let (step, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
            guard !overflow else { return nil }
            let (sum, overflow2) = last.addingReportingOverflow(step)
            guard !overflow2 else { return nil }
            last = sum
        }
        return last == Int.max ? nil : last + 1
    }

    /// The storage's length in elements of this tensor's dtype.
    var storageElements: Int { storage.bytes.count / dtype.elementSize }

    /// The most elements `floats()` makes of a storage with fewer (a view with stride 0).
    static let maximumExpansion = 1 << 24

    /// Checks that the storage holds every element the tensor reaches and that a view with
    /// stride 0 does not expand past `maximumExpansion`; `name` names the tensor.
    func checkExtent(name: String?) throws(FormatError) {
        let which = name.map { "tensor '\($0)'" } ?? "a tensor"
        let needed = elementsNeeded ?? Int.max
        guard needed <= storageElements else {
            throw FormatError(file: storage.source, reason: "\(which) of size \(shape) (stride \(strides), offset \(storageOffset)) "
                + "needs \(needed) elements, its storage '\(storage.key)' holds \(storageElements): a truncated storage")
        }
        guard elementCount <= max(storageElements, Self.maximumExpansion) else {
            throw FormatError(file: storage.source, reason: "\(which) of size \(shape) has \(elementCount) elements from a storage of "
                + "\(storageElements); this reader expands a storage to at most \(Self.maximumExpansion)")
        }
    }

    /// The elements in row-major order as `Float` (float16, bfloat16, float64 and integers
    /// converted), honouring strides, offset and the storage's byte order.
    public func floats() throws(FormatError) -> [Float] {
        try checkExtent(name: nil)
        let dtype = self.dtype
        return gather { raw in Self.float(raw, dtype) }
    }

    /// The elements in row-major order as `Int64`, for integer and bool tensors.
    public func int64s() throws(FormatError) -> [Int64] {
        guard ![.float32, .float16, .bfloat16, .float64].contains(dtype) else {
            throw FormatError(file: storage.source, reason: "int64s() reads integer and bool tensors, not \(dtype.rawValue) ones (storage '\(storage.key)')")
        }
        try checkExtent(name: nil)
        let dtype = self.dtype
        return gather { raw in Self.integer(raw, dtype) }
    }

    /// `convert` of each element's raw bits (in the host's order), in row-major order.
    private func gather<T>(_ convert: (UInt64) -> T) -> [T] {
        var result: [T] = []
        result.reserveCapacity(elementCount)
        let size = dtype.elementSize, bigEndian = storage.bigEndian
        storage.bytes.withUnsafeBytes { buffer in
            forEachIndex { index in result.append(convert(Self.load(buffer, at: index * size, size: size, bigEndian: bigEndian))) }
        }
        return result
    }

    /// Calls `body` with each element's storage index in row-major order. The steps wrap: a
    /// dimension of size 1 may have any stride, which the last step adds and takes back.
    private func forEachIndex(_ body: (Int) -> Void) {
        let count = elementCount
        guard count > 0 else { return }
        var counter = [Int](repeating: 0, count: shape.count)
        var index = storageOffset
        for _ in 0 ..< count {
            body(index)
            var d = shape.count - 1
            while d >= 0 {
                counter[d] += 1
                index &+= strides[d]
                if counter[d] < shape[d] { break }
                index &-= strides[d] &* shape[d]
                counter[d] = 0
                d -= 1
            }
        }
    }

    /// The `size`-byte element at `offset` as an unsigned integer.
    private static func load(_ buffer: UnsafeRawBufferPointer, at offset: Int, size: Int, bigEndian: Bool) -> UInt64 {
        var value: UInt64 = 0
        for i in 0 ..< size { value |= UInt64(buffer[offset + (bigEndian ? size - 1 - i : i)]) << (8 * i) }
        return value
    }

    private static func float(_ raw: UInt64, _ dtype: TorchDType) -> Float {
        switch dtype {
        case .float32: Float(bitPattern: UInt32(truncatingIfNeeded: raw))
        case .float16: half(UInt16(truncatingIfNeeded: raw))
        case .bfloat16: Float(bitPattern: UInt32(truncatingIfNeeded: raw) << 16)
        case .float64: Float(Double(bitPattern: raw))
        default: Float(integer(raw, dtype))
        }
    }

    private static func integer(_ raw: UInt64, _ dtype: TorchDType) -> Int64 {
        switch dtype {
        case .int32: Int64(Int32(truncatingIfNeeded: raw))
        case .int16: Int64(Int16(truncatingIfNeeded: raw))
        case .int8: Int64(Int8(truncatingIfNeeded: raw))
        case .bool: raw == 0 ? 0 : 1
        default: Int64(bitPattern: raw)
        }
    }

    /// An IEEE half's value (Float16 is not available on every platform Swift targets).
    static func half(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 == 0 ? 1 : -1
        let exponent = Int(bits >> 10 & 0x1F), mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0: return sign * Float(mantissa) * 0x1p-24
        case 31: return Float(bitPattern: UInt32(bits & 0x8000) << 16 | 0x7F80_0000 | mantissa << 13)
        default: return Float(bitPattern: UInt32(bits & 0x8000) << 16 | UInt32(exponent + 112) << 23 | mantissa << 13)
        }
    }
}

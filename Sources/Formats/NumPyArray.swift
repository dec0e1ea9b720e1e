import Foundation

/// An n-dimensional array in NumPy's `.npy` format: element type, shape and little-endian
/// bytes in C (row-major) order. The common currency for range images, weight maps and logits
/// exchanged with Python (`np.load` reads what this writes and the other way round).
public struct NumPyArray: Sendable, Equatable {
    /// The element types RangeSeg reads and writes, with NumPy's `descr` strings.
    public enum ElementType: String, Sendable, CaseIterable {
        case float32 = "<f4"
        case float64 = "<f8"
        case int8 = "|i1"
        case uint8 = "|u1"
        case int16 = "<i2"
        case uint16 = "<u2"
        case int32 = "<i4"
        case uint32 = "<u4"
        case int64 = "<i8"
        case uint64 = "<u8"
        case bool = "|b1"

        public var byteCount: Int {
            switch self {
            case .int8, .uint8, .bool: 1
            case .int16, .uint16: 2
            case .float32, .int32, .uint32: 4
            case .float64, .int64, .uint64: 8
            }
        }

        /// Alternative spellings NumPy accepts in headers (`<f4` may be written `float32` by
        /// other writers; `=` and `<` mean the same on little-endian machines).
        init?(descr: String) {
            var d = descr
            if d.hasPrefix("=") { d = "<" + d.dropFirst() }
            if d == "<u1" || d == "<i1" || d == "<b1" { d = "|" + d.dropFirst() }
            self.init(rawValue: d)
        }
    }

    public var elementType: ElementType
    public var shape: [Int]
    /// The elements, little-endian, C order; `bytes.count == elementCount * elementType.byteCount`.
    public var bytes: Data

    public var elementCount: Int { shape.reduce(1, *) }

    public init(elementType: ElementType, shape: [Int], bytes: Data) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(bytes.count == shape.reduce(1, *) * elementType.byteCount,
                     "\(bytes.count) bytes do not fill shape \(shape) of \(elementType)")
        self.elementType = elementType
        self.shape = shape
        self.bytes = bytes
    }

    public init(_ values: [Float], shape: [Int]) { self.init(values, type: .float32, shape: shape) }
    public init(_ values: [Double], shape: [Int]) { self.init(values, type: .float64, shape: shape) }
    public init(_ values: [Int32], shape: [Int]) { self.init(values, type: .int32, shape: shape) }
    public init(_ values: [UInt32], shape: [Int]) { self.init(values, type: .uint32, shape: shape) }
    public init(_ values: [Int64], shape: [Int]) { self.init(values, type: .int64, shape: shape) }
    public init(_ values: [UInt8], shape: [Int]) { self.init(values, type: .uint8, shape: shape) }
    public init(_ values: [Bool], shape: [Int]) {
        self.init(values.map { $0 ? UInt8(1) : 0 }, type: .bool, shape: shape)
    }

    private init<T>(_ values: [T], type: ElementType, shape: [Int]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
        precondition(MemoryLayout<T>.size == type.byteCount)
        // All supported hosts are little-endian, as the format asks.
        self.init(elementType: type, shape: shape, bytes: values.withUnsafeBytes { Data($0) })
    }

    /// The elements as `Float`, converting from any numeric element type.
    public func floats() -> [Float] { converted { Float($0) } }

    /// The elements as `Int`, converting from any integer or boolean element type (floats are truncated).
    public func integers() -> [Int] { converted { Int(exactly: $0.rounded(.towardZero)) ?? 0 } }

    private func converted<T>(_ convert: (Double) -> T) -> [T] {
        bytes.withUnsafeBytes { raw -> [T] in
            let n = elementCount
            func map<S>(_: S.Type, _ toDouble: (S) -> Double) -> [T] {
                (0 ..< n).map { convert(toDouble(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<S>.size, as: S.self))) }
            }
            switch elementType {
            case .float32: return map(Float.self) { Double($0) }
            case .float64: return map(Double.self) { $0 }
            case .int8: return map(Int8.self) { Double($0) }
            case .uint8, .bool: return map(UInt8.self) { Double($0) }
            case .int16: return map(Int16.self) { Double($0) }
            case .uint16: return map(UInt16.self) { Double($0) }
            case .int32: return map(Int32.self) { Double($0) }
            case .uint32: return map(UInt32.self) { Double($0) }
            case .int64: return map(Int64.self) { Double($0) }
            case .uint64: return map(UInt64.self) { Double($0) }
            }
        }
    }
}

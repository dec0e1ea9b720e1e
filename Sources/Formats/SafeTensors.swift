import Foundation

/// A safetensors file (https://github.com/huggingface/safetensors) in memory.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, …,
/// "__metadata__": {string: string}}` (padded with spaces to a multiple of 8), then the
/// little-endian tensor bytes, tensors in name order, offsets relative to the byte after
/// the header.
public struct SafeTensors: Sendable {
    /// Element types used here.
    public enum DType: String, Sendable {
        case float32 = "F32"
        case int64 = "I64"

        var size: Int { self == .float32 ? 4 : 8 }
    }

    /// One tensor's type, shape and raw little-endian bytes.
    public struct Entry: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        public var bytes: Data

        public init(dtype: DType, shape: [Int], bytes: Data) {
            precondition(bytes.count == shape.reduce(1, *) * dtype.size, "safetensors entry size does not match its shape")
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        public init(floats: [Float], shape: [Int]) {
            self.init(dtype: .float32, shape: shape, bytes: floats.withUnsafeBytes { Data($0) })
        }

        public init(int64: [Int64], shape: [Int]) {
            self.init(dtype: .int64, shape: shape, bytes: int64.withUnsafeBytes { Data($0) })
        }

        public var floats: [Float] {
            precondition(dtype == .float32, "not a float32 tensor")
            return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }

        public var int64: [Int64] {
            precondition(dtype == .int64, "not an int64 tensor")
            return bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        }
    }

    public var tensors: [String: Entry]
    public var metadata: [String: String]

    public init(tensors: [String: Entry] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The file's bytes.
    public func encoded() -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let entry = tensors[name]!
            header[name] = ["dtype": entry.dtype.rawValue, "shape": entry.shape,
                            "data_offsets": [offset, offset + entry.bytes.count]] as [String: Any]
            offset += entry.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names { data.append(tensors[name]!.bytes) }
        return data
    }

    /// Parses a file's bytes; `file` names it in errors.
    public init(data: Data, file: String) throws(FormatError) {
        guard data.count >= 8 else { throw FormatError(file: file, reason: "too short for a safetensors file") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw FormatError(file: file, reason: "header length \(headerLength) exceeds the file size")
        }
        let bodyStart = 8 + Int(headerLength)
        let json = data.subdata(in: data.startIndex + 8 ..< data.startIndex + bodyStart)
        guard let header = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw FormatError(file: file, reason: "header is not a JSON object")
        }
        var tensors: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else {
                    throw FormatError(file: file, reason: "__metadata__ must map strings to strings")
                }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw FormatError(file: file, reason: "tensor \(name): malformed header entry") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw FormatError(file: file, reason: "tensor \(name): unsupported dtype \(dtypeName)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw FormatError(file: file, reason: "tensor \(name): shape \(shape) has a negative dimension")
            }
            guard let size = ArrayShape.byteCount(shape, elementBytes: dtype.size) else {
                throw FormatError(file: file, reason: "tensor \(name): shape \(shape) has more elements than any file holds")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= data.count - bodyStart, end - begin == size else {
                throw FormatError(file: file, reason: "tensor \(name): data offsets \(offsets) do not fit shape \(shape) or the file")
            }
            let bytes = data.subdata(in: data.startIndex + bodyStart + begin ..< data.startIndex + bodyStart + end)
            tensors[name] = Entry(dtype: dtype, shape: shape, bytes: bytes)
        }
        self.init(tensors: tensors, metadata: metadata)
    }

    /// Writes the file atomically (temporary file, then rename).
    public func write(to url: URL) throws(FormatError) {
        try AtomicFile.write(encoded(), to: url)
    }

    /// Reads a file.
    public static func read(from url: URL) throws(FormatError) -> SafeTensors {
        let data: Data
        do { data = try Data(readingFile: url) } catch {
            throw FormatError.cannotRead(url, error)
        }
        return try SafeTensors(data: data, file: url.path)
    }
}

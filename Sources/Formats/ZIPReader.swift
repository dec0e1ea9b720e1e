import Foundation

/// The members of a ZIP archive in memory (without the ZIP64 extensions), as `.npz` files and
/// PyTorch checkpoints hold them: names, sizes and where each member's bytes are. Stored
/// members are slices of the archive's bytes, never copies; deflated ones are inflated on request.
public struct ZIPReader: Sendable {
    /// One member as the central directory describes it.
    public struct Entry: Sendable {
        public let name: String
        /// 0 (stored) or 8 (deflate); other methods are refused when the contents are asked for.
        public let method: Int
        public let crc: UInt32
        public let compressedSize: Int
        /// The size of the member's contents.
        public let size: Int
        /// Where the member's (possibly compressed) bytes start in the archive.
        public let start: Int
    }

    /// The members in central-directory order.
    public let entries: [Entry]
    private let data: Data
    private let file: String

    /// Reads the central directory of `data`; errors name `file`.
    public init(data: Data, file: String) throws(FormatError) {
        self.data = data
        self.file = file
        let bytes = Bytes(data: data)
        guard bytes.count >= 22 else { throw FormatError(file: file, reason: "too short to be a ZIP archive") }
        // The end record is in the last 22 bytes plus at most a 65,535-byte comment.
        var eocd = bytes.count - 22
        let lowest = max(0, eocd - 65_535)
        while eocd >= lowest, bytes.u32(eocd) != 0x0605_4B50 { eocd -= 1 }
        guard eocd >= lowest else {
            throw FormatError(file: file, reason: "not a ZIP archive (no end-of-central-directory record)")
        }
        let count = bytes.u16(eocd + 10)
        var at = bytes.u32(eocd + 16)
        guard count != 0xFFFF, at != 0xFFFF_FFFF else {
            throw FormatError(file: file, reason: "a ZIP64 archive, which is not supported")
        }
        var entries: [Entry] = []
        for _ in 0 ..< count {
            let (entry, next) = try Self.entry(bytes, at: at, file: file)
            entries.append(entry)
            at = next
        }
        self.entries = entries
    }

    /// The central-directory record at `at` and the offset of the next one.
    private static func entry(_ bytes: Bytes, at: Int, file: String) throws(FormatError) -> (Entry, Int) {
        func fail(_ reason: String) -> FormatError { FormatError(file: file, reason: reason) }
        guard at >= 0, at <= bytes.count - 46, bytes.u32(at) == 0x0201_4B50 else { throw fail("corrupt central directory") }
        let nameLength = bytes.u16(at + 28)
        guard at + 46 + nameLength <= bytes.count else { throw fail("corrupt central directory") }
        let name = String(decoding: bytes.data[bytes.data.startIndex + at + 46 ..< bytes.data.startIndex + at + 46 + nameLength],
                          as: UTF8.self)
        let compressedSize = bytes.u32(at + 20), size = bytes.u32(at + 24), local = bytes.u32(at + 42)
        guard compressedSize != 0xFFFF_FFFF, size != 0xFFFF_FFFF, local != 0xFFFF_FFFF else {
            throw fail("entry \(name) uses ZIP64, which is not supported")
        }
        guard local <= bytes.count - 30, bytes.u32(local) == 0x0403_4B50 else { throw fail("corrupt local header for \(name)") }
        let start = local + 30 + bytes.u16(local + 26) + bytes.u16(local + 28)
        guard start <= bytes.count, compressedSize <= bytes.count - start else { throw fail("entry \(name) is truncated") }
        let entry = Entry(name: name, method: bytes.u16(at + 10), crc: UInt32(bytes.u32(at + 16)), compressedSize: compressedSize,
                          size: size, start: start)
        return (entry, at + 46 + nameLength + bytes.u16(at + 30) + bytes.u16(at + 32))
    }

    /// The first member named `name`.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// A member's contents, checked against its CRC: a slice of the archive when stored,
    /// inflated when deflated.
    public func contents(of entry: Entry) throws(FormatError) -> Data {
        func fail(_ reason: String) -> FormatError { FormatError(file: file, reason: "entry \(entry.name): \(reason)") }
        let stored = data[data.startIndex + entry.start ..< data.startIndex + entry.start + entry.compressedSize]
        let payload: Data
        switch entry.method {
        case 0:
            guard entry.size == entry.compressedSize else { throw fail("stored with \(entry.compressedSize) bytes for \(entry.size)") }
            payload = stored
        case 8:
            do { payload = try Zlib.inflate(stored, wrapper: .raw, expectedSize: entry.size) } catch { throw fail(error.reason) }
        default: throw fail("unsupported compression method \(entry.method)")
        }
        guard Zlib.crc32(payload) == entry.crc else { throw fail("fails its CRC check") }
        return payload
    }
}

/// Little-endian fields of a byte buffer; callers check the bounds.
private struct Bytes {
    let data: Data
    var count: Int { data.count }
    func u16(_ at: Int) -> Int { Int(data[data.startIndex + at]) | Int(data[data.startIndex + at + 1]) << 8 }
    func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
}

import Foundation

/// A NumPy `.npz` archive: a ZIP file of named `.npy` arrays, as `np.savez_compressed` writes
/// and `np.load` reads. Entries keep their order. Written with deflate (through zlib) and a
/// fixed timestamp, so the same arrays always give the same bytes.
public struct NumPyArchive: Sendable, Equatable {
    public private(set) var names: [String] = []
    private var arrays: [String: NumPyArray] = [:]

    public init() {}

    /// The array stored as `name` (without the `.npy` suffix).
    public subscript(name: String) -> NumPyArray? {
        get { arrays[name] }
        set {
            if arrays[name] == nil, newValue != nil { names.append(name) }
            if newValue == nil { names.removeAll { $0 == name } }
            arrays[name] = newValue
        }
    }

    // MARK: Writing

    /// The complete `.npz` file; `level` is the deflate level (0 stores uncompressed data in deflate blocks).
    ///
    /// The archive is a plain ZIP file without the ZIP64 extensions, so it holds at most 65,535
    /// arrays, each stored in less than 4 GiB, in an archive of less than 4 GiB; past any of these
    /// limits writing is an error that names the limit.
    public func npzData(level: Int32 = 6) throws(FormatError) -> Data {
        try npzData(level: level, limits: .zip32)
    }

    /// `npzData(level:)` against `limits` (smaller ones in tests).
    func npzData(level: Int32, limits: ZIPLimits) throws(FormatError) -> Data {
        try limits.check(memberCount: names.count)
        var file = Data()
        var central = Data()
        for name in names {
            let payload = arrays[name]!.npyData()
            let entryName = Array((name + ".npy").utf8)
            try limits.check(nameBytes: entryName.count, of: name)
            try limits.check(bytes: payload.count, "array '\(name)' (\(payload.count) bytes as .npy)")
            try limits.check(bytes: file.count, "the archive before array '\(name)' (\(file.count) bytes)")
            let compressed = Zlib.deflate(payload, wrapper: .raw, level: level)
            try limits.check(bytes: compressed.count, "array '\(name)' compressed (\(compressed.count) bytes)")
            let crc = Zlib.crc32(payload)
            let offset = UInt32(file.count)

            var local = ByteWriter()
            local.u32(0x0403_4B50)
            local.u16(20); local.u16(0); local.u16(8)           // version, flags, deflate
            local.u16(0); local.u16(0x21)                        // 1980-01-01 00:00
            local.u32(crc); local.u32(UInt32(compressed.count)); local.u32(UInt32(payload.count))
            local.u16(UInt16(entryName.count)); local.u16(0)
            local.bytes(entryName)
            file.append(local.data)
            file.append(compressed)

            var header = ByteWriter()
            header.u32(0x0201_4B50)
            header.u16(20); header.u16(20); header.u16(0); header.u16(8)
            header.u16(0); header.u16(0x21)
            header.u32(crc); header.u32(UInt32(compressed.count)); header.u32(UInt32(payload.count))
            header.u16(UInt16(entryName.count)); header.u16(0); header.u16(0)
            header.u16(0); header.u16(0); header.u32(0)
            header.u32(offset)
            header.bytes(entryName)
            central.append(header.data)
        }
        try limits.check(bytes: file.count, "the archive's arrays (\(file.count) bytes)")
        try limits.check(bytes: central.count, "the archive's central directory (\(central.count) bytes)")
        var end = ByteWriter()
        end.u32(0x0605_4B50)
        end.u16(0); end.u16(0)
        end.u16(UInt16(names.count)); end.u16(UInt16(names.count))
        end.u32(UInt32(central.count)); end.u32(UInt32(file.count))
        end.u16(0)
        file.append(central)
        file.append(end.data)
        return file
    }

    /// Writes the archive to `url`, atomically; errors (an archive past the format's limits, a
    /// failed write) name `url`.
    public func write(npz url: URL, level: Int32 = 6) throws(FormatError) {
        let data: Data
        do { data = try npzData(level: level) } catch { throw FormatError(file: url, reason: error.reason) }
        try AtomicFile.write(data, to: url)
    }

    // MARK: Reading

    /// Reads a `.npz` file (deflated or stored entries).
    public init(npz url: URL) throws(FormatError) {
        self = try FormatError.parse(file: url, with: NumPyArchive.init(npzData:))
    }

    /// Reads a `.npz` archive in memory (deflated or stored entries); errors name `<npz>`.
    public init(npzData data: Data) throws(FormatError) {
        let zip = try ZIPReader(data: data, file: "<npz>")
        for entry in zip.entries {
            let payload = try zip.contents(of: entry)
            let array: NumPyArray
            do { array = try NumPyArray(npyData: payload) } catch {
                throw FormatError(file: "<npz>", reason: "entry \(entry.name): \(error.reason)")
            }
            self[entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name] = array
        }
    }
}

/// What a ZIP archive without the ZIP64 extensions can describe, which bounds what `.npz`
/// writing produces: member counts in 16-bit fields, name lengths in 16-bit fields, sizes and
/// offsets in 32-bit fields.
struct ZIPLimits: Sendable {
    /// Members of one archive (the end record's 16-bit count).
    var members: Int
    /// Bytes of one member's name.
    var nameBytes: Int
    /// Bytes of a member, compressed or not, and offsets into the archive (32-bit fields).
    var bytes: Int

    /// The limits of every ZIP reader: 65,535 members, names of 65,535 bytes, 4 GiB - 1.
    static let zip32 = ZIPLimits(members: 65_535, nameBytes: 65_535, bytes: Int(UInt32.max))

    private func fail(_ reason: String) -> FormatError { FormatError(file: "<npz>", reason: reason) }

    func check(memberCount: Int) throws(FormatError) {
        guard memberCount <= members else {
            throw fail("\(memberCount) arrays are more than a .npz archive holds: at most \(members) (a ZIP file without ZIP64)")
        }
    }

    func check(nameBytes count: Int, of name: String) throws(FormatError) {
        guard count <= nameBytes else {
            let shown = name.count > 40 ? name.prefix(40) + "..." : name
            throw fail("the name of array '\(shown)' is \(count) bytes as a .npz member; at most \(nameBytes) (a ZIP file without ZIP64)")
        }
    }

    /// `what` (a size or an offset) fits a 32-bit field of the archive.
    func check(bytes count: Int, _ what: @autoclosure () -> String) throws(FormatError) {
        guard count <= bytes else {
            throw fail("\(what()) is past the \(bytes)-byte limit of a .npz archive (a ZIP file without ZIP64 holds less than 4 GiB per array and in all)")
        }
    }
}

/// Little-endian byte assembly for binary headers.
struct ByteWriter {
    var data = Data()
    mutating func u16(_ v: UInt16) { data.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8)]) }
    mutating func u32(_ v: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { data.append(UInt8((v >> UInt32(shift)) & 0xFF)) } }
    mutating func u32BigEndian(_ v: UInt32) { for shift in stride(from: 24, through: 0, by: -8) { data.append(UInt8((v >> UInt32(shift)) & 0xFF)) } }
    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
}

import Foundation

/// The `.npy` file format, version 1.0 (2.0 for headers past 65,535 bytes; reading 3.0 too):
/// magic `\x93NUMPY`, version, header length, a Python-literal dictionary
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (64, 2048), }` padded with spaces to a
/// multiple of 64 bytes and ended by a newline, then the raw elements.
extension NumPyArray {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// The complete `.npy` file.
    public func npyData() -> Data {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dictionary = "{'descr': '\(elementType.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Version 1.0 gives the header length in 2 bytes; a longer header (an array of thousands
        // of dimensions) takes version 2.0 and 4 bytes, as NumPy writes it.
        func padded(lengthBytes: Int) -> String {
            let unpadded = Self.magic.count + 2 + lengthBytes + dictionary.utf8.count + 1
            return dictionary + String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        }
        var header = padded(lengthBytes: 2)
        let version: UInt8 = header.utf8.count <= Int(UInt16.max) ? 1 : 2
        if version == 2 { header = padded(lengthBytes: 4) }
        var data = Data(Self.magic)
        data.append(contentsOf: [version, 0])
        let length = UInt32(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF)])
        if version == 2 { data.append(contentsOf: [UInt8(length >> 16 & 0xFF), UInt8(length >> 24)]) }
        data.append(contentsOf: Array(header.utf8))
        data.append(bytes)
        return data
    }

    /// Writes the array to `url` as a `.npy` file, atomically.
    public func write(npy url: URL) throws(FormatError) {
        try AtomicFile.write(npyData(), to: url)
    }

    /// Reads a `.npy` file.
    public init(npy url: URL) throws(FormatError) {
        self = try FormatError.parse(file: url, with: NumPyArray.init(npyData:))
    }

    /// Parses the bytes of a `.npy` file.
    public init(npyData data: Data) throws(FormatError) {
        let bytes = [UInt8](data.prefix(12))
        func fail(_ reason: String) -> FormatError { FormatError(file: "<npy>", reason: reason) }
        guard bytes.count >= 10, Array(bytes[0 ..< 6]) == Self.magic else { throw fail("not a NumPy .npy file (bad magic)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported .npy version \(major)")
        }
        guard data.count >= headerStart + headerLength else { throw fail("truncated header") }
        let start = data.startIndex
        guard let header = String(data: data[(start + headerStart) ..< (start + headerStart + headerLength)], encoding: .utf8) else {
            throw fail("header is not text")
        }
        guard let descr = Self.value(of: "descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) else {
            throw fail("header has no 'descr'")
        }
        guard let type = ElementType(descr: descr) else {
            throw fail("unsupported element type '\(descr)' (supported: \(ElementType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let fortran = Self.value(of: "fortran_order", in: header), fortran.hasPrefix("True") {
            throw fail("Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        guard let shapeText = Self.value(of: "shape", in: header) else { throw fail("header has no 'shape'") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for dim in dims {
            guard let value = Int(dim.hasSuffix("L") ? String(dim.dropLast()) : dim), value >= 0 else {
                throw fail("bad shape \(shapeText)")
            }
            shape.append(value)
        }
        let payloadStart = start + headerStart + headerLength
        guard let expected = ArrayShape.byteCount(shape, elementBytes: type.byteCount) else {
            throw fail("shape \(shape) of \(descr) has more bytes than any file holds")
        }
        guard data.count - headerStart - headerLength == expected else {
            throw fail("holds \(data.count - headerStart - headerLength) data bytes, shape \(shape) of \(descr) needs \(expected)")
        }
        self.init(elementType: type, shape: shape, bytes: Data(data[payloadStart ..< payloadStart + expected]))
    }

    /// The text after `'key':` up to the next top-level comma (a tuple counts as one value).
    private static func value(of key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
        var rest = header[keyRange.upperBound...].drop { $0 == " " || $0 == ":" }
        rest = rest.drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .whitespaces)
    }
}

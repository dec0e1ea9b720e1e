import CZlib
import Foundation

/// The two zlib services the file formats need.
public enum Zlib {
    /// CRC-32 (as used by ZIP and PNG) of `bytes`, continuing from `crc`.
    public static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        var value = UInt(crc)
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, Int(Int32.max))
            value = CZlib.crc32(value, base.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(chunk))
            offset += chunk
        }
        return UInt32(truncatingIfNeeded: value)
    }

    public static func crc32(_ data: Data, continuing crc: UInt32 = 0) -> UInt32 {
        data.withUnsafeBytes { crc32($0, continuing: crc) }
    }

    /// Container around the deflate stream.
    public enum Wrapper: Sendable {
        /// zlib header and Adler-32 trailer (PNG's IDAT).
        case zlib
        /// A bare deflate stream (ZIP's method 8).
        case raw

        var windowBits: Int32 { self == .zlib ? 15 : -15 }
    }

    /// Deflates `input` at `level` (0 to 9).
    public static func deflate(_ input: Data, wrapper: Wrapper, level: Int32 = 6) -> Data {
        var stream = z_stream()
        let initStatus = deflateInit2_(&stream, level, Z_DEFLATED, wrapper.windowBits, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "zlib deflateInit2 failed with \(initStatus)")
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = Data(count: bound)
        let (status, produced) = finish(&stream, input: input, output: &output) { CZlib.deflate(&$0, Z_FINISH) }
        precondition(status == Z_STREAM_END, "zlib deflate did not finish (status \(status))")
        output.count = produced
        return output
    }

    /// The most bytes deflate can make of one input byte (a run of 258-byte matches).
    static let maximumExpansion = 1032

    /// Inflates `input`, which must expand to exactly `expectedSize` bytes. A size no deflate
    /// stream of `input`'s length can reach is an error before any memory is set aside for it.
    public static func inflate(_ input: Data, wrapper: Wrapper, expectedSize: Int) throws(FormatError) -> Data {
        guard expectedSize >= 0, expectedSize / maximumExpansion <= input.count else {
            throw FormatError(file: "<memory>", reason: "corrupt: \(input.count) bytes of deflate data cannot inflate to the \(expectedSize) bytes announced")
        }
        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, wrapper.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw FormatError(file: "<memory>", reason: "zlib inflateInit2 failed (\(initStatus))") }
        defer { inflateEnd(&stream) }
        var output = Data(count: expectedSize)
        let (status, produced) = finish(&stream, input: input, output: &output) { CZlib.inflate(&$0, Z_FINISH) }
        guard status == Z_STREAM_END, produced == expectedSize else {
            throw FormatError(file: "<memory>", reason: "corrupt deflate stream (zlib status \(status), \(produced) of \(expectedSize) bytes)")
        }
        return output
    }

    /// Points `stream` at all of `input` and all of `output`, makes the one `step` call that
    /// (de)compresses the whole input, and returns its status and the bytes written.
    private static func finish(_ stream: inout z_stream, input: Data, output: inout Data,
                               step: (inout z_stream) -> Int32) -> (status: Int32, produced: Int) {
        input.withUnsafeBytes { inBuffer in
            output.withUnsafeMutableBytes { outBuffer in
                stream.next_in = UnsafeMutablePointer(mutating: inBuffer.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(outBuffer.count)
                let status = step(&stream)
                return (status, Int(stream.total_out))
            }
        }
    }
}

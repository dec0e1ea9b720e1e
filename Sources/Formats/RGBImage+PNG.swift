import Foundation

/// PNG output: 8-bit truecolour, no interlace, each row filtered with "Sub" (good for the
/// flat runs of range images and label maps), deflated by zlib.
extension RGBImage {
    public func pngData() -> Data {
        var raw = Data(capacity: height * (1 + width * 3))
        let rowBytes = width * 3
        pixels.withUnsafeBufferPointer { p in
            var row = [UInt8](repeating: 0, count: rowBytes + 1)
            for y in 0 ..< height {
                row[0] = 1 // filter type Sub: each byte minus the byte of the pixel to its left
                let base = y * rowBytes
                for x in 0 ..< rowBytes {
                    let left: UInt8 = x >= 3 ? p[base + x - 3] : 0
                    row[x + 1] = p[base + x] &- left
                }
                raw.append(contentsOf: row)
            }
        }
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = ByteWriter()
        header.u32BigEndian(UInt32(width)); header.u32BigEndian(UInt32(height))
        header.bytes([8, 2, 0, 0, 0]) // bit depth 8, colour type RGB, deflate, adaptive filtering, no interlace
        Self.appendChunk("IHDR", header.data, to: &png)
        Self.appendChunk("IDAT", Zlib.deflate(raw, wrapper: .zlib, level: 6), to: &png)
        Self.appendChunk("IEND", Data(), to: &png)
        return png
    }

    /// Writes the picture to `url` as PNG, atomically.
    public func write(png url: URL) throws(FormatError) {
        try AtomicFile.write(pngData(), to: url)
    }

    private static func appendChunk(_ type: String, _ body: Data, to png: inout Data) {
        var length = ByteWriter()
        length.u32BigEndian(UInt32(body.count))
        png.append(length.data)
        var typed = Data(type.utf8)
        typed.append(body)
        png.append(typed)
        var crc = ByteWriter()
        crc.u32BigEndian(Zlib.crc32(typed))
        png.append(crc.data)
    }
}

import Formats
import Foundation
import SemanticKITTI
import Testing
import TestSupport
@testable import PointClouds

/// PCD files whose points hold `_` padding fields (bytes a writer left between fields, as in
/// `FIELDS x y z _ intensity _`), read in every encoding to the same points.
final class PaddingFieldTests {
    let directory = SampleData.temporaryDirectory("rangeseg-pointclouds-padding")

    deinit { try? FileManager.default.removeItem(at: directory) }

    let points: [SIMD4<Float>] = (0 ..< 40).map { i in
        let f = Float(i)
        return SIMD4(f + 1.5, 20 - f * 0.75, 0.125 * f - 2, 0.0125 * f)
    }
    /// 4 bytes of padding after z, 12 after intensity: a 32-byte point.
    let header = "VERSION 0.7\nFIELDS x y z _ intensity _\nSIZE 4 4 4 1 4 1\nTYPE F F F U F U\nCOUNT 1 1 1 4 1 12\n"

    func bytes(_ value: Float) -> [UInt8] { withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }

    func write(_ name: String, data kind: String, body: [UInt8]) throws -> URL {
        let url = directory.appendingPathComponent(name)
        let text = header + "WIDTH \(points.count)\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS \(points.count)\nDATA \(kind)\n"
        try (Data(text.utf8) + Data(body)).write(to: url)
        return url
    }

    /// LZF data made of literal runs only (a control byte n < 32, then n + 1 bytes): valid LZF
    /// that any decompressor reads, with the 8-byte size prefix of binary_compressed PCD.
    func lzfLiterals(_ raw: [UInt8]) -> [UInt8] {
        var packed: [UInt8] = []
        for start in stride(from: 0, to: raw.count, by: 32) {
            let chunk = raw[start ..< min(start + 32, raw.count)]
            packed.append(UInt8(chunk.count - 1))
            packed += chunk
        }
        let sizes = [UInt32(packed.count), UInt32(raw.count)].flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        return sizes + packed
    }

    /// The x, y, z and intensity arrays of binary_compressed data, one after the other.
    func fieldArrays() -> [UInt8] {
        var arrays: [UInt8] = []
        for component in 0 ..< 4 { for p in points { arrays += bytes(p[component]) } }
        return arrays
    }

    @Test func binaryAndCompressedPCDWithPaddingReadTheSamePoints() throws {
        // binary: point after point, the padding bytes in place.
        var interleaved: [UInt8] = []
        for p in points {
            interleaved += bytes(p.x) + bytes(p.y) + bytes(p.z)
            interleaved += [UInt8](repeating: 0xAA, count: 4)
            interleaved += bytes(p.w)
            interleaved += [UInt8](repeating: 0xBB, count: 12)
        }
        let binary = try write("padded-binary.pcd", data: "binary", body: interleaved)
        // binary_compressed: one array per field in header order, the padding's included, so
        // that the data unpacks to POINTS x 32 bytes as the header requires.
        var arrays = fieldArrays()
        arrays.insert(contentsOf: [UInt8](repeating: 0xAA, count: 4 * points.count), at: 12 * points.count)
        arrays += [UInt8](repeating: 0xBB, count: 12 * points.count)
        let compressed = try write("padded-compressed.pcd", data: "binary_compressed", body: lzfLiterals(arrays))
        for url in [binary, compressed] {
            let cloud = try PointCloudFile.read(url)
            let name = url.lastPathComponent
            #expect(cloud.remissionField == "intensity", "\(name)")
            let first = Array(cloud.scan.values.prefix(8))
            #expect(cloud.scan == Scan(points: points), "\(name): first points \(first)")
        }
    }

    @Test func compressedArraysWithoutThePaddingAreAClearError() throws {
        // Arrays for the real fields alone unpack to 16 bytes a point, not the header's 32.
        let arrays = fieldArrays()
        let url = try write("padding-missing.pcd", data: "binary_compressed", body: lzfLiterals(arrays))
        let error = #expect(throws: FormatError.self) { _ = try PointCloudFile.read(url) }
        #expect(error?.file == url.path)
        #expect(error?.reason.contains("unpacks to 640 bytes but the header's 40 points of 32 bytes need 1280") == true,
                "\(String(describing: error))")
    }
}

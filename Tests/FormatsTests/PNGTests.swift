import Foundation
import Testing
@testable import Formats

@Suite struct PNGTests {
    @Test func pngHasSignatureChunksAndValidCRCs() throws {
        var image = RGBImage(width: 5, height: 3)
        image[1, 2] = (255, 10, 20)
        let png = [UInt8](image.pngData())
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var at = 8
        var types: [String] = []
        var idat = Data()
        while at < png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            let type = String(decoding: png[at + 4 ..< at + 8], as: UTF8.self)
            let body = Data(png[at + 8 ..< at + 8 + length])
            let crc = UInt32(png[at + 8 + length]) << 24 | UInt32(png[at + 9 + length]) << 16
                | UInt32(png[at + 10 + length]) << 8 | UInt32(png[at + 11 + length])
            #expect(crc == Zlib.crc32(Data(png[at + 4 ..< at + 8 + length])), "bad CRC in \(type)")
            if type == "IDAT" { idat.append(body) }
            if type == "IHDR" { #expect(body == Data([0, 0, 0, 5, 0, 0, 0, 3, 8, 2, 0, 0, 0])) }
            types.append(type)
            at += 12 + length
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])
        // Undo the Sub filter and compare with the pixels.
        let raw = [UInt8](try Zlib.inflate(idat, wrapper: .zlib, expectedSize: 3 * (1 + 15)))
        var pixels: [UInt8] = []
        for y in 0 ..< 3 {
            #expect(raw[y * 16] == 1)
            var row = Array(raw[y * 16 + 1 ..< y * 16 + 16])
            for x in 3 ..< 15 { row[x] = row[x] &+ row[x - 3] }
            pixels += row
        }
        #expect(pixels == image.pixels)
    }

    @Test func stretchingAndStackingKeepPixels() {
        var a = RGBImage(width: 2, height: 1)
        a[0, 1] = (1, 2, 3)
        let b = RGBImage(width: 2, height: 2, fill: (9, 9, 9))
        let tall = a.stretchedVertically(by: 3)
        #expect(tall.height == 3 && tall[2, 1] == (1, 2, 3))
        let stack = RGBImage.stacked([a, b], gap: 1)
        #expect(stack.height == 4)
        #expect(stack[0, 1] == (1, 2, 3))
        #expect(stack[1, 0] == (0, 0, 0))
        #expect(stack[3, 1] == (9, 9, 9))
    }

    @Test func turboRunsFromBlueToRed() {
        let low = ColorMap.turbo.color(0.1), high = ColorMap.turbo.color(0.9), mid = ColorMap.turbo.color(0.5)
        #expect(low.2 > low.0)   // blue-ish at 0
        #expect(high.0 > high.2) // red-ish at 1
        #expect(mid.1 > 150)     // green-yellow in the middle
        #expect(ColorMap.gray.color(2) == (255, 255, 255))
        #expect(ColorMap.turbo.color(.nan) == ColorMap.turbo.color(0))
    }
}

@Suite struct AtomicFileTests {
    @Test func writesReplaceAndLeaveNoTemporaryFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID())")
        let url = dir.appendingPathComponent("nested/file.bin")
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        try AtomicFile.write(Data([4, 5]), to: url)
        #expect(try Data(contentsOf: url) == Data([4, 5]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["file.bin"])
    }

    @Test func aFailedWriteKeepsTheOldFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID())")
        let url = dir.appendingPathComponent("file.bin")
        try AtomicFile.write(Data([7, 7, 7]), to: url)
        struct Interrupted: Error {}
        #expect(throws: FormatError.self) {
            try AtomicFile.write(to: url) { handle in
                try handle.write(contentsOf: Data([1]))
                throw Interrupted()
            }
        }
        #expect(try Data(contentsOf: url) == Data([7, 7, 7]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["file.bin"])
    }

    @Test func unwritableDestinationNamesTheFile() {
        do {
            try AtomicFile.write(Data([1]), to: URL(fileURLWithPath: "/proc/rangeseg-cannot/x.bin"))
            Issue.record("writing under /proc succeeded")
        } catch {
            #expect(error.file == "/proc/rangeseg-cannot/x.bin")
        }
    }
}

import Foundation
import SemanticKITTI
import Testing
import TestSupport
@testable import PointClouds

/// Clear errors, naming the file, for truncated and malformed files; and the reading options.
final class BadFileTests {
    let directory = SampleData.temporaryDirectory("rangeseg-pointclouds-bad")

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// A small unorganised cloud of 6 points with an intensity field.
    let points: [SIMD4<Float>] = (0 ..< 6).map { SIMD4(Float($0) + 1, -2.5, 0.125 * Float($0), 0.01 * Float($0)) }
    var scan: Scan { Scan(points: points) }
    var labels: ScanLabels { ScanLabels(raw: [10, 40, 40, 0, 10 | 7 << 16, 81]) }

    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func truncated(_ url: URL, by bytes: Int) throws -> URL {
        let data = try Data(contentsOf: url)
        let out = directory.appendingPathComponent("cut-" + url.lastPathComponent)
        try data.prefix(data.count - bytes).write(to: out)
        return out
    }

    /// `url` reads back whole; cut by `bytes`, it is an error that names the file and says
    /// "truncated".
    func expectTruncationIsAClearError(_ url: URL, cutBy bytes: Int) throws {
        #expect(try PointCloudFile.read(url).labels == labels)
        let cut = try truncated(url, by: bytes)
        let text = message { _ = try PointCloudFile.read(cut) }
        #expect(text.hasPrefix(cut.path + ": "), "\(text)")
        #expect(text.contains("truncated"), "\(text)")
    }

    @Test(arguments: [PointCloudEncoding.ascii, .binary, .binaryCompressed])
    func truncatedPCDIsAClearError(encoding: PointCloudEncoding) throws {
        let url = directory.appendingPathComponent("small-\(encoding.rawValue).pcd")
        try PointCloudFile.write(pcd: url, scan: scan, labels: labels, encoding: encoding)
        try expectTruncationIsAClearError(url, cutBy: encoding == .ascii ? 30 : 10)
    }

    @Test(arguments: [PointCloudEncoding.ascii, .binary])
    func truncatedPLYIsAClearError(encoding: PointCloudEncoding) throws {
        let url = directory.appendingPathComponent("small-\(encoding.rawValue).ply")
        try PointCloudFile.write(ply: url, scan: scan, labels: labels, encoding: encoding)
        try expectTruncationIsAClearError(url, cutBy: encoding == .ascii ? 12 : 10)
    }

    @Test func missingCoordinateIsAClearError() throws {
        let url = try writeText("""
        VERSION .7
        FIELDS x y intensity
        SIZE 4 4 4
        TYPE F F F
        COUNT 1 1 1
        WIDTH 2
        HEIGHT 1
        VIEWPOINT 0 0 0 1 0 0 0
        POINTS 2
        DATA ascii
        1 2 0.5
        3 4 0.25

        """, "no-z.pcd", in: directory)
        let text = message { _ = try PointCloudFile.read(url) }
        #expect(text == "\(url.path): has no 'z' field (its fields: x y intensity); a scan needs x, y and z")

        let ply = try writeText("ply\nformat ascii 1.0\nelement vertex 1\nproperty float y\nproperty float z\nend_header\n1 2\n", "no-x.ply", in: directory)
        #expect(message { _ = try PointCloudFile.read(ply) }.contains("has no 'x' field"))
    }

    @Test func nanInAnOrganisedCloudIsAClearErrorOrDropped() throws {
        let url = try writeText("""
        # .PCD v0.7 - an organised cloud with a missing return
        VERSION 0.7
        FIELDS x y z intensity label
        SIZE 4 4 4 4 4
        TYPE F F F F U
        COUNT 1 1 1 1 1
        WIDTH 3
        HEIGHT 2
        VIEWPOINT 0 0 0 1 0 0 0
        POINTS 6
        DATA ascii
        1 0 0 0.5 10
        2 0 0 0.5 10
        3 0 0 0.5 40
        4 0 0 0.5 40
        nan nan nan 0 0
        6 0 0 0.5 48

        """, "organised.pcd", in: directory)
        let text = message { _ = try PointCloudFile.read(url) }
        #expect(text.hasPrefix("\(url.path): organised cloud (2 rows x 3 columns): point 4 (row 1, column 1) has a NaN or infinite coordinate"), "\(text)")

        let kept = try PointCloudFile.read(url, options: .init(invalidPoints: .keep))
        #expect(kept.isOrganised && kept.width == 3 && kept.height == 2 && kept.scan[point: 4].x.isNaN)

        let dropped = try PointCloudFile.read(url, options: .init(invalidPoints: .drop))
        #expect(!dropped.isOrganised && dropped.scan.count == 5 && dropped.droppedPoints == 1)
        #expect(dropped.labels == ScanLabels(raw: [10, 10, 40, 40, 48]))
        #expect(dropped.scan[point: 4] == SIMD4(6, 0, 0, 0.5))
        #expect(dropped.remissionField == "intensity")
    }

    @Test func binWithLabelFileDropsInvalidPointsWithTheirLabels() throws {
        var points = self.points
        points[2] = SIMD4(0, 0, 0, 0.5) // range 0
        let bin = directory.appendingPathComponent("scan.bin"), label = directory.appendingPathComponent("scan.label")
        try Scan(points: points).write(bin: bin)
        try labels.write(label: label)
        let text = message { _ = try PointCloudFile.read(bin, labels: label) }
        #expect(text == "\(bin.path): point 2 has range 0 (x = y = z = 0)")
        let dropped = try PointCloudFile.read(bin, labels: label, options: .init(invalidPoints: .drop))
        #expect(dropped.scan.count == 5 && dropped.droppedPoints == 1)
        #expect(dropped.labels == ScanLabels(raw: [10, 40, 0, 10 | 7 << 16, 81]))
        let short = directory.appendingPathComponent("short.label")
        try ScanLabels(raw: [1, 2]).write(label: short)
        #expect(message { _ = try PointCloudFile.read(bin, labels: short) } == "\(short.path): holds 2 labels but its scan has 6 points")
    }

    @Test func malformedFilesAreClearErrors() throws {
        let notPCD = try writeText("hello\nworld\n", "text.pcd", in: directory)
        #expect(message { _ = try PointCloudFile.read(notPCD) }.contains("header has no DATA line"))

        let badLine = try writeText("""
        VERSION .7
        FIELDS x y z
        SIZE 4 4 4
        TYPE F F F
        COUNT 1 1 1
        WIDTH 3
        HEIGHT 1
        POINTS 3
        DATA ascii
        1 2 3
        4 5
        7 8 9

        """, "bad-line.pcd", in: directory)
        #expect(message { _ = try PointCloudFile.read(badLine) } == "\(badLine.path): line 11 (point 1): 2 values where the header's FIELDS call for 3")

        let notANumber = try writeText("VERSION .7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 1\nHEIGHT 1\nPOINTS 1\nDATA ascii\n1 two 3\n", "nan-text.pcd", in: directory)
        #expect(message { _ = try PointCloudFile.read(notANumber) }.contains("'two' is not a number"))

        let notPLY = try writeText("PLY?\n", "x.ply", in: directory)
        #expect(message { _ = try PointCloudFile.read(notPLY) }.contains("not a PLY file"))

        let missing = directory.appendingPathComponent("missing.pcd")
        #expect(message { _ = try PointCloudFile.read(missing) } == "\(missing.path): no such file")

        let unknown = directory.appendingPathComponent("scan.xyz")
        #expect(message { _ = try PointCloudFile.read(unknown) }.contains("unknown scan format '.xyz'"))
    }

    @Test func labelFieldMustHoldLabels() throws {
        let url = try writeText("VERSION .7\nFIELDS x y z label\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\nWIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA ascii\n1 2 3 40\n1 2 4 -1.5\n", "float-label.pcd", in: directory)
        #expect(message { _ = try PointCloudFile.read(url) }.contains("point 1 holds -1.5, not a label"))
    }

    @Test func remissionFieldIsConfigurableAndDefaultsToZero() throws {
        let url = directory.appendingPathComponent("intensity.pcd")
        try PointCloudFile.write(pcd: url, scan: scan, encoding: .ascii, remissionField: "intensity")
        let auto = try PointCloudFile.read(url)
        #expect(auto.remissionField == "intensity" && auto.scan == scan)

        let named = try PointCloudFile.read(url, options: .init(remissionField: "reflectivity"))
        #expect(named.remissionField == nil)
        #expect(named.scan.values.enumerated().allSatisfy { $0.offset % 4 != 3 || $0.element == 0 })
        #expect(named.scan.values.enumerated().allSatisfy { $0.offset % 4 == 3 || $0.element == scan.values[$0.offset] })

        let ply = directory.appendingPathComponent("intensity.ply")
        try PointCloudFile.write(ply: ply, scan: scan, encoding: .ascii, remissionField: "intensity")
        #expect(try PointCloudFile.read(ply).scan == scan)
    }

    @Test func writerRefusesWhatItCannotWrite() throws {
        let url = directory.appendingPathComponent("refused.ply")
        #expect(message { try PointCloudFile.write(ply: url, scan: scan, encoding: .binaryCompressed) }.contains("PLY has no compressed encoding"))
        #expect(message { try PointCloudFile.write(url, scan: scan, labels: ScanLabels(raw: [1])) }.contains("cannot write 1 labels for a scan of 6 points"))
        #expect(message { try PointCloudFile.write(url, scan: scan, remissionField: "label") }.contains("cannot name the remission field"))
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }
}

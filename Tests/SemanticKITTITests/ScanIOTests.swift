import Foundation
import Testing
import TestSupport
@testable import SemanticKITTI
import Formats

@Suite struct ScanIOTests {
    let dir = SampleData.temporaryDirectory("scan-io")

    func write(_ bytes: Data, _ name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try bytes.write(to: url)
        return url
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func readsTheRealSample() throws {
        try SampleData.require()
        let scan = try Scan(bin: SampleData.scan(0))
        #expect(scan.count == 124_668)
        let labels = try ScanLabels(label: SampleData.labels(0), pointCount: scan.count)
        #expect(labels.count == scan.count)
        let ids = Set(labels.semantic)
        #expect(ids.isSuperset(of: [10, 40, 44, 48, 50, 70]))
        // remission in [0, 1), ranges within the sensor's reach
        for i in stride(from: 0, to: scan.count, by: 97) {
            let p = scan[point: i]
            #expect(p.w >= 0 && p.w < 1)
            let r = (p.x * p.x + p.y * p.y + p.z * p.z).squareRoot()
            #expect(r > 0.5 && r < 100)
        }
    }

    @Test func binAndLabelRoundTrip() throws {
        let scan = Scan(values: [1, 2, 3, 0.5, -4, 5.5, -6, 0.25])
        let url = dir.appendingPathComponent("a.bin")
        try scan.write(bin: url)
        #expect(try Data(contentsOf: url).count == 32)
        #expect(try Scan(bin: url) == scan)
        let labels = ScanLabels(semantic: [10, 40], instance: [3, 0])
        #expect(labels.raw == [10 | 3 << 16, 40])
        #expect(labels.instance(0) == 3 && labels.semantic(1) == 40)
        let labelURL = dir.appendingPathComponent("a.label")
        try labels.write(label: labelURL)
        #expect(try ScanLabels(label: labelURL, pointCount: 2) == labels)
    }

    @Test func sizeNotAMultipleOf16IsAnError() throws {
        let url = try write(Data(count: 20), "bad.bin")
        let error = #expect(throws: FormatError.self) { try Scan(bin: url) }
        #expect(error?.file == url.path)
        #expect(error?.reason.contains("not a multiple of 16") == true)
    }

    @Test func emptyScanIsAnError() throws {
        let url = try write(Data(), "empty.bin")
        let error = #expect(throws: FormatError.self) { try Scan(bin: url) }
        #expect(error?.description.contains("empty.bin") == true)
        #expect(error?.reason.contains("empty scan") == true)
    }

    @Test func nanAndInfiniteCoordinatesAreErrors() throws {
        let url = dir.appendingPathComponent("nan.bin")
        try Scan(values: [1, 1, 1, 0, .nan, 2, 3, 0, 4, .infinity, 1, 0]).write(bin: url)
        let error = #expect(throws: FormatError.self) { try Scan(bin: url) }
        #expect(error?.reason == "point 1 has a NaN or infinite coordinate (and 1 more invalid points)")
        // The permissive reader keeps them for the projection to report.
        #expect(try Scan(bin: url, validation: .permissive).count == 3)
    }

    @Test func zeroRangePointIsAnError() throws {
        let url = dir.appendingPathComponent("zero.bin")
        try Scan(values: [0, 0, 0, 0.3, 1, 2, 3, 0]).write(bin: url)
        let error = #expect(throws: FormatError.self) { try Scan(bin: url) }
        #expect(error?.reason == "point 0 has range 0 (x = y = z = 0)")
    }

    /// Empty files are read without Foundation's Data(contentsOf:), which leaks 4 KB for each
    /// (found by the bin-label fuzz target under LeakSanitizer; the leak itself shows only there).
    @Test func emptyFilesReadAsEmpty() throws {
        let labels = try write(Data(), "empty.label")
        #expect(try ScanLabels(label: labels).count == 0)
        let scan = try write(Data(), "empty.bin")
        let error = #expect(throws: FormatError.self) { try Scan(bin: scan) }
        #expect(error?.description == "\(scan.path): empty scan (0 points)")
        #expect(try Data(readingFile: scan).isEmpty)
        #expect(try Data(readingFile: try write(Data([1, 2, 3]), "three.bin")) == Data([1, 2, 3]))
    }

    /// The readers' one-pass check agrees with the per-point problems, wherever the bad point is
    /// (also in the last point, and in a scan of one point).
    @Test func allPointsPlaceableAgreesWithTheProblems() {
        let bad: [[Float]] = [[.nan, 1, 1], [1, -.infinity, 1], [1, 1, .nan], [0, 0, 0]]
        for count in [1, 9, 1_000] {
            var values = (0 ..< 4 * count).map { Float($0 % 7) + 0.5 }
            #expect(Scan(values: values).allPointsPlaceable)
            for (k, point) in bad.enumerated() {
                let i = [0, count / 2, count - 1][k % 3]
                var broken = values
                broken.replaceSubrange(4 * i ..< 4 * i + 3, with: point)
                let scan = Scan(values: broken)
                #expect(!scan.allPointsPlaceable && scan.invalidPoints().map(\.index) == [i], "point \(i) of \(count): \(point)")
            }
            values[3] = .nan // remission is not checked
            #expect(Scan(values: values).allPointsPlaceable)
        }
    }

    @Test func directoryIsAnError() {
        let error = #expect(throws: FormatError.self) { try Scan(bin: dir) }
        #expect(error?.description.hasPrefix(dir.path) == true && error?.reason.contains("cannot read") == true, "\(String(describing: error))")
    }

    @Test func missingFileIsNamed() {
        let url = dir.appendingPathComponent("missing.bin")
        let error = #expect(throws: FormatError.self) { try Scan(bin: url) }
        #expect(error?.description == "\(url.path): no such file")
    }

    @Test func labelCountMustMatchTheScan() throws {
        let url = try write(Data(count: 12), "three.label")
        let error = #expect(throws: FormatError.self) { try ScanLabels(label: url, pointCount: 4) }
        #expect(error?.reason == "holds 3 labels but its scan has 4 points")
        let odd = try write(Data(count: 7), "odd.label")
        #expect(throws: FormatError.self) { try ScanLabels(label: odd) }
    }

    @Test func outputsAreWrittenAtomically() throws {
        let url = dir.appendingPathComponent("out/x.label")
        try ScanLabels(raw: [1, 2, 3]).write(label: url)
        let names = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(names == ["x.label"])
    }
}

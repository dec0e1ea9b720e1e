import Foundation
import SemanticKITTI
import Testing
import TestSupport
@testable import PointClouds

/// Lossless round trips of the real sample: .bin/.label -> PCD/PLY -> .bin/.label.
@Suite(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
final class RoundTripTests {
    let directory = SampleData.temporaryDirectory("rangeseg-pointclouds")

    deinit { try? FileManager.default.removeItem(at: directory) }

    @Test(arguments: [PointCloudEncoding.ascii, .binary, .binaryCompressed])
    func pcdRoundTripIsLossless(encoding: PointCloudEncoding) throws {
        let frame = try Sample.require()
        let pcd = directory.appendingPathComponent("000000-\(encoding.rawValue).pcd")
        try PointCloudFile.write(pcd: pcd, scan: frame.scan, labels: frame.labels, colors: frame.config.colors, encoding: encoding)
        let header = try #require(String(data: try Data(contentsOf: pcd).prefix(400), encoding: .isoLatin1))
        #expect(header.contains("FIELDS x y z remission label rgb"))
        #expect(header.contains("DATA \(encoding.rawValue)"))
        try expectSameAsSample(try PointCloudFile.read(pcd), frame)
        try expectBinAndLabelRoundTrip(try PointCloudFile.read(pcd), frame, name: encoding.rawValue)
    }

    @Test(arguments: [PointCloudEncoding.ascii, .binary])
    func plyRoundTripIsLossless(encoding: PointCloudEncoding) throws {
        let frame = try Sample.require()
        let ply = directory.appendingPathComponent("000000-\(encoding.rawValue).ply")
        try PointCloudFile.write(ply: ply, scan: frame.scan, labels: frame.labels, colors: frame.config.colors, encoding: encoding)
        try expectSameAsSample(try PointCloudFile.read(ply), frame)
    }

    @Test func scanWithoutLabelsWritesNoLabelOrColour() throws {
        let frame = try Sample.require()
        for name in ["plain.pcd", "plain.ply"] {
            let url = directory.appendingPathComponent(name)
            try PointCloudFile.write(url, scan: frame.scan, colors: frame.config.colors)
            let cloud = try PointCloudFile.read(url)
            #expect(cloud.labels == nil && cloud.colors == nil)
            #expect(bits(cloud.scan.values) == bits(frame.scan.values))
        }
    }

    @Test func binReadsThroughTheSameEntryPoint() throws {
        let frame = try Sample.require()
        let cloud = try PointCloudFile.read(SampleData.scan(0))
        #expect(cloud.scan == frame.scan && cloud.labels == nil && !cloud.isOrganised)
        #expect(try PointCloudFile.readScan(SampleData.scan(0)) == frame.scan)
    }

    @Test func writesAreAtomicAndLeaveNoTemporaryFiles() throws {
        let frame = try Sample.require()
        let url = directory.appendingPathComponent("atomic.pcd")
        try PointCloudFile.write(url, scan: frame.scan, labels: frame.labels)
        try PointCloudFile.write(url, scan: frame.scan, labels: frame.labels, encoding: .binaryCompressed)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!names.contains { $0.contains(".tmp-") })
        #expect(try PointCloudFile.read(url).labels == frame.labels)
    }

    /// The cloud holds the sample's points bit for bit, its labels, and each point's colour
    /// from the config's `color_map`.
    func expectSameAsSample(_ cloud: PointCloud, _ frame: Sample.Frame) throws {
        #expect(cloud.scan.count == frame.scan.count)
        #expect(bits(cloud.scan.values) == bits(frame.scan.values))
        #expect(cloud.remissionField == "remission")
        #expect(cloud.labels == frame.labels)
        let colors = try #require(cloud.colors)
        let expected = frame.labels.raw.map { frame.config.colors[Int($0 & 0xFFFF)] ?? LabelColor(r: 0, g: 0, b: 0) }
        #expect(colors == expected)
        // Spot-check one class against the official YAML (car: bgr [245, 150, 100]).
        if let car = frame.labels.raw.firstIndex(where: { $0 & 0xFFFF == 10 }) {
            #expect(colors[car] == LabelColor(r: 100, g: 150, b: 245))
        }
    }

    func expectBinAndLabelRoundTrip(_ cloud: PointCloud, _ frame: Sample.Frame, name: String) throws {
        let bin = directory.appendingPathComponent("\(name).bin"), label = directory.appendingPathComponent("\(name).label")
        try cloud.scan.write(bin: bin)
        try #require(cloud.labels).write(label: label)
        #expect(try Data(contentsOf: bin) == Data(contentsOf: SampleData.scan(0)))
        #expect(try Data(contentsOf: label) == Data(contentsOf: SampleData.labels(0)))
    }
}

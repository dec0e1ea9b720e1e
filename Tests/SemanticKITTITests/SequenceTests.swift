import Foundation
import Testing
import TestSupport
@testable import SemanticKITTI
import Formats

@Suite struct SequenceTests {
    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func readsTheSampleSequence() throws {
        try SampleData.require()
        let sequence = try Sequence(directory: SampleData.sequence00)
        #expect(sequence.name == "00")
        #expect(sequence.frames.map(\.id) == ["000000", "000001", "000002", "000003", "000004", "000005"])
        #expect(sequence.labelledFrames.map(\.id) == ["000000", "000001", "000002"])
        let calibration = try #require(sequence.calibration)
        #expect(abs(calibration.projections[0][0, 0] - 718.856) < 1e-9)
        #expect(abs(calibration.velodyneToCamera[2, 3] - -0.2921968648686) < 1e-12)
        #expect(sequence.poses == nil && sequence.times == nil)
    }

    @Test func textFilesRoundTrip() throws {
        let dir = SampleData.temporaryDirectory("sequence")
        let seq = dir.appendingPathComponent("sequences/03")
        let scan = Scan(values: [1, 2, 3, 0.1])
        for frame in ["000000", "000001"] {
            try scan.write(bin: seq.appendingPathComponent("velodyne/\(frame).bin"))
        }
        try ScanLabels(raw: [40]).write(label: seq.appendingPathComponent("labels/000001.label"))
        let poses = [Matrix3x4.identity, Matrix3x4([1, 0, 0, 1.5, 0, 1, 0, -0.25, 0, 0, 1, 1e-3])]
        try writePoses(poses, to: seq.appendingPathComponent("poses.txt"))
        try writeTimes([0, 0.103_731], to: seq.appendingPathComponent("times.txt"))
        let calibration = Calibration(projections: Array(repeating: Matrix3x4.identity, count: 4), velodyneToCamera: poses[1])
        try calibration.write(calib: seq.appendingPathComponent("calib.txt"))

        let sequence = try Sequence(directory: seq)
        #expect(sequence.frames.count == 2)
        #expect(sequence.frames[0].labels == nil && sequence.frames[1].labels != nil)
        #expect(sequence.poses == poses)
        #expect(sequence.times == [0, 0.103_731])
        #expect(sequence.calibration == calibration)
        #expect(try SemanticKITTIDataset.sequences(root: dir) == ["03"])
        let text = try String(contentsOf: seq.appendingPathComponent("poses.txt"), encoding: .utf8)
        #expect(text.hasPrefix("1.000000000000e+00 0.000000000000e+00"))
    }

    @Test func missingDirectoryIsAnError() {
        let url = URL(fileURLWithPath: "/nonexistent/sequences/00")
        let error = #expect(throws: FormatError.self) { try Sequence(directory: url) }
        #expect(error?.description == "/nonexistent/sequences/00: no such directory")
    }

    @Test func directoryWithoutScansIsAnError() throws {
        let dir = SampleData.temporaryDirectory("noscans")
        let error = #expect(throws: FormatError.self) { try Sequence(directory: dir) }
        #expect(error?.reason.contains("no velodyne/ directory") == true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("velodyne"), withIntermediateDirectories: true)
        let empty = #expect(throws: FormatError.self) { try Sequence(directory: dir) }
        #expect(empty?.reason == "holds no .bin scans")
    }

    @Test func miscountedPosesAreAnError() throws {
        let dir = SampleData.temporaryDirectory("poses")
        try Scan(values: [1, 2, 3, 0]).write(bin: dir.appendingPathComponent("velodyne/000000.bin"))
        try writePoses([.identity, .identity], to: dir.appendingPathComponent("poses.txt"))
        let error = #expect(throws: FormatError.self) { try Sequence(directory: dir) }
        #expect(error?.reason == "has 2 poses for 1 scans")
        try Data("1 2 3\n".utf8).write(to: dir.appendingPathComponent("poses.txt"))
        let malformed = #expect(throws: FormatError.self) { try Sequence(directory: dir) }
        #expect(malformed?.reason == "line 1: expected 12 finite numbers")
    }

    @Test func predictionPathsFollowTheOfficialLayout() {
        let url = SemanticKITTIDataset.predictionFile(root: URL(fileURLWithPath: "/out"), sequence: "8", frame: "000123")
        #expect(url.path == "/out/sequences/08/predictions/000123.label")
    }
}

import Foundation
import Testing
import TestSupport
import Formats
@testable import SemanticKITTI

@Suite struct SemanticKITTIDatasetTests {
    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func framesOfTheSample() throws {
        try SampleData.require()
        #expect(SemanticKITTIDataset.recognises(root: SampleData.root))
        #expect(!SemanticKITTIDataset.recognises(root: SampleData.sequence00))
        let dataset = try SemanticKITTIDataset(root: SampleData.root)
        #expect(try dataset.sequences().contains("00"))
        let frames = try dataset.frames(sequences: ["0"])
        #expect(frames.map(\.id) == ["000000", "000001", "000002", "000003", "000004", "000005"])
        #expect(frames.allSatisfy { $0.sequence == "00" && $0.subclasses == nil && $0.pose == nil })
        #expect(frames[1].scan == SampleData.scan(1) && frames[1].labels == SampleData.labels(1))
        #expect(try dataset.labelledFrames(sequences: ["00"]).map(\.id) == ["000000", "000001", "000002"])
        #expect(dataset.predictionPath(of: frames[2]) == "sequences/00/predictions/000002.label")

        let read = try dataset.read(frames[0], labels: true)
        #expect(read.scan == (try Scan(bin: SampleData.scan(0))))
        #expect(read.labels == (try ScanLabels(label: SampleData.labels(0))))
        #expect(try dataset.read(frames[0], labels: false).labels == nil)
        #expect(try dataset.read(frames[4], labels: true).labels == nil)
    }

    @Test func subclassLabelsAndPosesAreFound() throws {
        let root = SampleData.temporaryDirectory("kitti-subclasses")
        let sequence = SemanticKITTIDataset.sequenceDirectory(root: root, sequence: "3")
        for frame in ["000000", "000001"] {
            try Scan(values: [1, 2, 3, 0.1]).write(bin: SemanticKITTIDataset.scanDirectory(sequence: sequence).appendingPathComponent(frame + ".bin"))
        }
        let subclasses = SemanticKITTIDataset.subclassDirectory(sequence: sequence).appendingPathComponent("000001.label")
        try ScanLabels(raw: [2]).write(label: subclasses)
        let poses = [Matrix3x4.identity, Matrix3x4([1, 0, 0, 1.5, 0, 1, 0, 0, 0, 0, 1, 0])]
        try writePoses(poses, to: sequence.appendingPathComponent("poses.txt"))
        let frames = try SemanticKITTIDataset(root: root).frames(sequence: "03")
        #expect(frames.map(\.subclasses) == [nil, subclasses])
        #expect(frames.map(\.pose) == poses)
        #expect(frames.allSatisfy { $0.labels == nil })
    }

    @Test func aRootWithoutSequencesIsAnError() {
        let root = SampleData.temporaryDirectory("kitti-none")
        let error = #expect(throws: FormatError.self) { try SemanticKITTIDataset(root: root) }
        #expect(error?.description.hasPrefix("\(root.path): not a SemanticKITTI dataset") == true)
    }
}

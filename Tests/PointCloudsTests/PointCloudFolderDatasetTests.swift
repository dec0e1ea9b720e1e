import Foundation
import Testing
import TestSupport
import Formats
@testable import PointClouds
import SemanticKITTI

@Suite struct PointCloudFolderDatasetTests {
    @Test func headersTellWhichFilesHoldLabels() throws {
        let dir = SampleData.temporaryDirectory("cloud-headers")
        let scan = Scan(values: [1, 2, 3, 0.5, 4, 5, 6, 0.25])
        for encoding in [PointCloudEncoding.ascii, .binary] {
            for ext in ["pcd", "ply"] {
                let labelled = dir.appendingPathComponent("l-\(encoding.rawValue).\(ext)"), bare = dir.appendingPathComponent("b-\(encoding.rawValue).\(ext)")
                try PointCloudFile.write(labelled, scan: scan, labels: ScanLabels(raw: [1, 40]), encoding: encoding)
                try PointCloudFile.write(bare, scan: scan, encoding: encoding)
                #expect(PointCloudHeader.fieldNames(of: labelled)?.contains("label") == true, "\(labelled.lastPathComponent)")
                #expect(PointCloudHeader.fieldNames(of: bare)?.contains("x") == true, "\(bare.lastPathComponent)")
                #expect(PointCloudHeader.fieldNames(of: bare)?.contains("label") == false, "\(bare.lastPathComponent)")
            }
        }
        #expect(PointCloudHeader.fieldNames(of: dir.appendingPathComponent("missing.pcd")) == nil)
    }

    /// The sample's labelled scans as PCD (sequence `scene-a`) and PLY (`scene-b`), and an
    /// unlabelled PCD in `scene-b`.
    static func folder(_ name: String) throws -> URL {
        let root = SampleData.temporaryDirectory(name)
        for frame in 0 ..< 3 {
            let scan = try Scan(bin: SampleData.scan(frame)), labels = try ScanLabels(label: SampleData.labels(frame))
            let id = String(format: "%06d", frame)
            try PointCloudFile.write(root.appendingPathComponent("scene-a/\(id).pcd"), scan: scan, labels: labels)
            if frame == 0 { try PointCloudFile.write(root.appendingPathComponent("scene-b/\(id).ply"), scan: scan, labels: labels) }
        }
        try PointCloudFile.write(root.appendingPathComponent("scene-b/000001.pcd"), scan: try Scan(bin: SampleData.scan(3)))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("empty"), withIntermediateDirectories: true)
        return root
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func framesAndTheirPointsAndLabels() throws {
        try SampleData.require()
        let root = try Self.folder("cloud-folder")
        #expect(PointCloudFolderDataset.recognises(root: root))
        #expect(!PointCloudFolderDataset.recognises(root: root.appendingPathComponent("scene-a")))
        #expect(!PointCloudFolderDataset.recognises(root: SampleData.root))
        let dataset = try PointCloudFolderDataset(root: root)
        #expect(try dataset.sequences() == ["scene-a", "scene-b"])
        #expect(dataset.sequenceName("8") == "8")
        let frames = try dataset.frames(sequences: ["scene-a", "scene-b"])
        #expect(frames.map { "\($0.sequence)/\($0.id)" } == ["scene-a/000000", "scene-a/000001", "scene-a/000002", "scene-b/000000", "scene-b/000001"])
        // Labelled where the header declares a label field.
        #expect(frames.map { $0.labels == $0.scan } == [true, true, true, true, false])
        #expect(frames.allSatisfy { $0.pose == nil && $0.subclasses == nil })
        #expect(try dataset.labelledFrames(sequences: ["scene-b"]).map(\.id) == ["000000"])
        #expect(dataset.predictionPath(of: frames[1]) == "scene-a/000001.label")

        // A PCD and a PLY read back as the .bin and .label they came from.
        for (frame, index) in [(frames[1], 1), (frames[3], 0)] {
            let read = try dataset.read(frame, labels: true)
            #expect(read.scan == (try Scan(bin: SampleData.scan(index))))
            #expect(read.labels == (try ScanLabels(label: SampleData.labels(index))))
        }
        // Without a label field: an unlabelled frame, fine for inference; a frame said to be
        // labelled whose file has no label field is an error naming the file.
        #expect(try dataset.read(frames[4], labels: true) == LabelledScan(scan: try Scan(bin: SampleData.scan(3))))
        var claimed = frames[4]
        claimed.labels = claimed.scan
        let error = #expect(throws: FormatError.self) { try dataset.read(claimed, labels: true) }
        #expect(error?.description.hasPrefix("\(frames[4].scan.path): has no 'label' field") == true)

        let missing = #expect(throws: FormatError.self) { try dataset.frames(sequence: "scene-c") }
        #expect(missing?.description == "\(root.appendingPathComponent("scene-c").path): no such sequence folder")
        let empty = #expect(throws: FormatError.self) { try dataset.frames(sequence: "empty") }
        #expect(empty?.description.contains("holds no .pcd or .ply files (sequences of \(root.path): scene-a, scene-b)") == true)
    }

    @Test func aFolderWithoutCloudsIsNotThisLayout() throws {
        let root = SampleData.temporaryDirectory("cloud-none")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a"), withIntermediateDirectories: true)
        #expect(!PointCloudFolderDataset.recognises(root: root))
        let error = #expect(throws: FormatError.self) { try PointCloudFolderDataset(root: root) }
        #expect(error?.description.hasPrefix(root.path) == true)
    }
}

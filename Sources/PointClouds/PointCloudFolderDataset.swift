import Formats
import Foundation
import SemanticKITTI

/// A dataset as labelling tools export it: a folder of sub-folders of PCD or PLY files, each
/// with a per-point `label` field (raw SemanticKITTI ids):
///
///     ROOT/NAME/*.pcd | *.ply          one sub-folder per sequence, any name (`scene-a`)
///     OUT/NAME/<frame>.label           predictions
///
/// Any sensor: its projection comes from the training configuration. A file whose header
/// declares a `label` field is a labelled frame (`labels` is the file itself); the others are
/// unlabelled frames, which training and evaluation leave out and inference labels, as
/// SemanticKITTI's scans without a `.label` file.
public struct PointCloudFolderDataset: Dataset {
    public static let layoutName = "point-cloud folders"
    public let root: URL
    /// The label config's split names SemanticKITTI's sequences, not these folders.
    public var usesLabelConfigSplit: Bool { false }

    /// A root with at least one sub-folder holding `.pcd` or `.ply` files.
    public static func recognises(root: URL) -> Bool { !((try? sequences(root: root)) ?? []).isEmpty }

    public init(root: URL) throws(FormatError) {
        guard try !Self.sequences(root: root).isEmpty else {
            throw FormatError(file: root, reason: "not a folder of point-cloud sequences: no sub-folder holds .pcd or .ply files")
        }
        self.root = root
    }

    public func sequences() throws(FormatError) -> [String] { try Self.sequences(root: root) }

    /// Folder names are used as given.
    public func sequenceName(_ given: String) -> String { given }

    public func frames(sequence: String) throws(FormatError) -> [DatasetFrame] {
        let directory = root.appendingPathComponent(sequence)
        let files = try Self.cloudFiles(in: directory)
        guard !files.isEmpty else {
            let present = (try? sequences()) ?? []
            throw FormatError(file: directory, reason: "holds no .pcd or .ply files (sequences of \(root.path): \(present.joined(separator: ", ")))")
        }
        var frames: [DatasetFrame] = []
        var seen: [String: String] = [:]
        for name in files {
            let file = directory.appendingPathComponent(name)
            let id = file.deletingPathExtension().lastPathComponent
            if let other = seen.updateValue(name, forKey: id) {
                throw FormatError(file: directory, reason: "holds both \(other) and \(name): a frame is one file")
            }
            // A header that cannot be read here counts as labelled: reading the file then says what is wrong.
            let labelled = PointCloudHeader.fieldNames(of: file)?.contains(Self.labelField) ?? true
            frames.append(DatasetFrame(sequence: sequence, id: id, scan: file, labels: labelled ? file : nil))
        }
        return frames
    }

    /// The per-point field holding raw labels.
    public static let labelField = PointCloudFile.ReadOptions().labelField

    public func read(_ frame: DatasetFrame, labels: Bool) throws(FormatError) -> LabelledScan {
        let cloud = try PointCloudFile.read(frame.scan)
        guard labels, frame.labels != nil else { return LabelledScan(scan: cloud.scan) }
        guard let read = cloud.labels else {
            throw FormatError(file: frame.scan, reason: "has no 'label' field, and its labels are needed (training and evaluation read one raw label per point)")
        }
        return LabelledScan(scan: cloud.scan, labels: read)
    }

    /// `NAME/<frame>.label`.
    public func predictionPath(of frame: DatasetFrame) -> String { "\(frame.sequence)/\(frame.id).label" }

    /// Sub-folders of `root` that hold `.pcd` or `.ply` files, sorted.
    static func sequences(root: URL) throws(FormatError) -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: root.path) } catch {
            throw FormatError(file: root, reason: "cannot list: \(error.localizedDescription)")
        }
        return names.filter { name in
            let url = root.appendingPathComponent(name)
            guard !name.hasPrefix("."), url.isExistingDirectory else { return false }
            return !((try? cloudFiles(in: url)) ?? []).isEmpty
        }.sorted()
    }

    /// The `.pcd` and `.ply` file names in a folder, sorted.
    static func cloudFiles(in directory: URL) throws(FormatError) -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw FormatError(file: directory, reason: "no such sequence folder")
        }
        return names.filter { !$0.hasPrefix(".") && [.pcd, .ply].contains(PointCloudFormat(url: URL(fileURLWithPath: $0))) }.sorted()
    }
}

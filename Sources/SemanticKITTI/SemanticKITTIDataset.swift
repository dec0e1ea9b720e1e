import Formats
import Foundation

/// A dataset root in the SemanticKITTI layout, the one place its paths are spelt:
///
///     ROOT/sequences/NN/velodyne/NNNNNN.bin        scans
///     ROOT/sequences/NN/labels/NNNNNN.label        labels (optional, per scan)
///     ROOT/sequences/NN/subclasses/NNNNNN.label    subclass labels (optional, per scan)
///     ROOT/sequences/NN/calib.txt, poses.txt, times.txt   (each optional)
///     OUT/sequences/NN/predictions/NNNNNN.label    predictions, where the official evaluator looks
public struct SemanticKITTIDataset: Dataset {
    public static let layoutName = "SemanticKITTI"
    public let root: URL
    public var usesLabelConfigSplit: Bool { true }

    /// A root with a `sequences/` directory.
    public static func recognises(root: URL) -> Bool {
        root.appendingPathComponent(sequencesFolder).isExistingDirectory
    }

    public init(root: URL) throws(FormatError) {
        guard Self.recognises(root: root) else {
            throw FormatError(file: root, reason: "not a SemanticKITTI dataset: it has no sequences/ directory (a dataset root holds sequences/NN/velodyne)")
        }
        self.root = root
    }

    public func sequences() throws(FormatError) -> [String] { try Self.sequences(root: root) }

    public func sequenceName(_ given: String) -> String { Self.normalise(given) }

    public func frames(sequence name: String) throws(FormatError) -> [DatasetFrame] {
        let sequence = try Sequence(directory: Self.sequenceDirectory(root: root, sequence: name))
        let subclassDirectory = Self.subclassDirectory(sequence: sequence.directory)
        return sequence.frames.enumerated().map { i, frame in
            let subclasses = subclassDirectory.appendingPathComponent(frame.id).appendingPathExtension("label")
            return DatasetFrame(sequence: sequence.name, id: frame.id, scan: frame.scan, labels: frame.labels,
                                subclasses: FileManager.default.fileExists(atPath: subclasses.path) ? subclasses : nil,
                                pose: sequence.poses?[i])
        }
    }

    public func read(_ frame: DatasetFrame, labels: Bool) throws(FormatError) -> LabelledScan {
        let scan = try Scan(bin: frame.scan)
        guard labels, let file = frame.labels else { return LabelledScan(scan: scan) }
        return LabelledScan(scan: scan, labels: try ScanLabels(label: file, pointCount: scan.count))
    }

    public func predictionPath(of frame: DatasetFrame) -> String {
        Self.predictionPath(sequence: frame.sequence, frame: frame.id)
    }

    // MARK: - Paths

    static let sequencesFolder = "sequences"

    /// `<root>/sequences/NN`, with the sequence number written with two digits.
    public static func sequenceDirectory(root: URL, sequence: String) -> URL {
        root.appendingPathComponent(sequencesFolder).appendingPathComponent(normalise(sequence))
    }

    /// A sequence directory's `velodyne/`, which holds its `.bin` scans.
    public static func scanDirectory(sequence directory: URL) -> URL { directory.appendingPathComponent("velodyne") }

    /// A sequence directory's `labels/`, which holds its `.label` files.
    public static func labelDirectory(sequence directory: URL) -> URL { directory.appendingPathComponent("labels") }

    /// A sequence directory's `subclasses/`, which holds per-point subclass `.label` files.
    public static func subclassDirectory(sequence directory: URL) -> URL { directory.appendingPathComponent("subclasses") }

    /// Whether a directory is a sequence: it has a `velodyne/` directory.
    public static func isSequenceDirectory(_ directory: URL) -> Bool {
        scanDirectory(sequence: directory).isExistingDirectory
    }

    /// `sequences/NN/predictions/NNNNNN.label`, relative to an output root.
    public static func predictionPath(sequence: String, frame: String) -> String {
        "\(sequencesFolder)/\(normalise(sequence))/predictions/\(frame).label"
    }

    /// `<root>/sequences/NN/predictions/NNNNNN.label`, where the official evaluator looks.
    public static func predictionFile(root: URL, sequence: String, frame: String) -> URL {
        root.appendingPathComponent(predictionPath(sequence: sequence, frame: frame))
    }

    /// `8` and `08` both name sequence `08`.
    public static func normalise(_ sequence: String) -> String {
        if let n = Int(sequence), n >= 0, sequence.count < 2 { return String(format: "%02d", n) }
        return sequence
    }

    /// Sequences present under `<root>/sequences`, sorted.
    public static func sequences(root: URL) throws(FormatError) -> [String] {
        let dir = root.appendingPathComponent(sequencesFolder)
        do {
            return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { dir.appendingPathComponent($0).isExistingDirectory }.sorted()
        } catch {
            throw FormatError(file: dir, reason: "no such directory (a dataset root holds sequences/NN/velodyne)")
        }
    }
}

import Foundation
import PointClouds
import SemanticKITTI

/// One scan a job reads, with its labels if any, and the names its outputs take.
public struct ScanItem: Sendable, Equatable {
    /// The scan file (`.bin`, `.pcd` or `.ply`).
    public var scan: URL
    /// Its `.label` file, when it has one.
    public var labels: URL?
    /// The folder its outputs go to under the output root: the sequence or folder name, or
    /// nothing for a scan given by itself.
    public var group: String?
    /// The output file name without extension (the frame id, or the scan's file name).
    public var name: String
    /// The dataset sequence it belongs to.
    public var sequence: String?
    /// For a dataset's scan: where its `.label` prediction goes relative to an output root, as
    /// its layout says (`sequences/08/predictions/000042.label`, `scene-a/000042.label`), and
    /// where `evaluate` looks for it.
    public var prediction: String?
    /// Whether the scan file itself holds the labels (a PCD or PLY of a labelled dataset).
    public var labelsInScan: Bool
    /// Its per-point subclass (kind) labels, when the dataset has them (`subclasses/NNNNNN.label`).
    public var subclasses: URL?

    public init(scan: URL, labels: URL? = nil, group: String? = nil, name: String, sequence: String? = nil,
                prediction: String? = nil, labelsInScan: Bool = false) {
        self.scan = scan
        self.labels = labels
        self.group = group
        self.name = name
        self.sequence = sequence
        self.prediction = prediction
        self.labelsInScan = labelsInScan
    }

    /// A dataset's scan: outputs grouped by sequence, the prediction where its layout puts it.
    public init(frame: DatasetFrame, of dataset: any Dataset) {
        let inScan = frame.labels == frame.scan
        self.init(scan: frame.scan, labels: inScan ? nil : frame.labels, group: frame.sequence, name: frame.id,
                  sequence: frame.sequence, prediction: dataset.predictionPath(of: frame), labelsInScan: inScan)
        subclasses = frame.subclasses
    }

    /// `root/group/name.ext` (or `root/name.ext`).
    public func output(under root: URL, extension ext: String) -> URL {
        let directory = group.map { root.appendingPathComponent($0) } ?? root
        return directory.appendingPathComponent(name).appendingPathExtension(ext)
    }
}

/// Collects the scans that command-line inputs name.
public enum ScanSource {
    /// Scans from paths: a scan file (with `labels` when exactly one `.bin` is given), a sequence
    /// directory (holding `velodyne/`, with its `labels/`), or a folder of scan files.
    public static func items(_ inputs: [URL], labels: URL? = nil) throws -> [ScanItem] {
        let fileManager = FileManager.default
        if labels != nil, inputs.count != 1 || PointCloudFormat(url: inputs[0]) == nil {
            throw InputError("labels go with exactly one scan file")
        }
        var items: [ScanItem] = []
        for url in inputs {
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw InputError("\(url.path): no such file or directory")
            }
            if !isDirectory.boolValue {
                guard PointCloudFormat(url: url) != nil else {
                    throw InputError("\(url.path): not a scan (expected .bin, .pcd or .ply)")
                }
                items.append(ScanItem(scan: url, labels: labels, name: url.deletingPathExtension().lastPathComponent))
            } else if SemanticKITTIDataset.isSequenceDirectory(url) {
                let sequence = try Sequence(directory: url)
                items += sequence.frames.map {
                    ScanItem(scan: $0.scan, labels: $0.labels, group: sequence.name, name: $0.id, sequence: sequence.name,
                             prediction: SemanticKITTIDataset.predictionPath(sequence: sequence.name, frame: $0.id))
                }
            } else {
                let names: [String]
                do { names = try fileManager.contentsOfDirectory(atPath: url.path) } catch {
                    throw InputError("\(url.path): cannot list: \(error.localizedDescription)")
                }
                let scans = names.filter { PointCloudFormat(url: URL(fileURLWithPath: $0)) != nil }.sorted()
                guard !scans.isEmpty else {
                    throw InputError("\(url.path): holds no .bin, .pcd or .ply scans and no velodyne/ directory")
                }
                items += scans.map { name in
                    let file = url.appendingPathComponent(name)
                    return ScanItem(scan: file, group: url.lastPathComponent, name: file.deletingPathExtension().lastPathComponent)
                }
            }
        }
        return items
    }

    /// Every scan of `sequences` (names as users give them) of a dataset, in order.
    /// - Parameter labelledOnly: only the scans that have labels.
    public static func items(dataset: any Dataset, sequences: [String], labelledOnly: Bool = false) throws -> [ScanItem] {
        let frames = labelledOnly ? try dataset.labelledFrames(sequences: sequences) : try dataset.frames(sequences: sequences)
        return frames.map { ScanItem(frame: $0, of: dataset) }
    }

    /// The sequences a job on `dataset` works on: those given, else the label config's
    /// validation split where it applies (SemanticKITTI), else every sequence of the dataset.
    public static func sequences(_ given: [String]?, of dataset: any Dataset, labels: LabelConfig) throws -> [String] {
        if let given { return given }
        return dataset.usesLabelConfigSplit ? labels.split.validNames : try dataset.sequences()
    }

    /// The labelled scans of the dataset at `root` (its layout found from the root) in the
    /// `given` sequences (default as `sequences(_:of:labels:)`), for scoring; none is an error
    /// that names the sequences and the root.
    public static func labelledItems(root: URL, sequences given: [String]?, labels: LabelConfig) throws -> [ScanItem] {
        let dataset = try DatasetLayouts.open(root: root)
        let names = try sequences(given, of: dataset, labels: labels)
        let items = try items(dataset: dataset, sequences: names, labelledOnly: true)
        guard !items.isEmpty else {
            throw InputError("no labelled scans in sequences \(names.joined(separator: ", ")) of \(root.path)")
        }
        return items
    }

    /// Fails when two items would write the same output file.
    public static func checkDistinctOutputs(_ files: [URL]) throws {
        var seen = Set<String>()
        for file in files where !seen.insert(file.standardizedFileURL.path).inserted {
            throw InputError("two inputs would both be written to \(file.path)")
        }
    }
}

/// A problem with what a job was asked to do (inputs, options that contradict the data); the
/// message says what and where.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

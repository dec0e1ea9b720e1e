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
    /// The dataset sequence it belongs to (for outputs in the SemanticKITTI layout).
    public var sequence: String?

    public init(scan: URL, labels: URL? = nil, group: String? = nil, name: String, sequence: String? = nil) {
        self.scan = scan
        self.labels = labels
        self.group = group
        self.name = name
        self.sequence = sequence
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
            } else if fileManager.fileExists(atPath: url.appendingPathComponent("velodyne").path) {
                let sequence = try Sequence(directory: url)
                items += sequence.frames.map {
                    ScanItem(scan: $0.scan, labels: $0.labels, group: sequence.name, name: $0.id, sequence: sequence.name)
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

    /// Every scan of `sequences` under a dataset root in the SemanticKITTI layout.
    /// - Parameter labelledOnly: only the scans that have a `.label` file.
    public static func items(dataset root: URL, sequences: [String], labelledOnly: Bool = false) throws -> [ScanItem] {
        var items: [ScanItem] = []
        for name in sequences {
            let sequence = try Sequence(directory: DatasetLayout.sequenceDirectory(root: root, sequence: name))
            items += (labelledOnly ? sequence.labelledFrames : sequence.frames).map {
                ScanItem(scan: $0.scan, labels: $0.labels, group: sequence.name, name: $0.id, sequence: sequence.name)
            }
        }
        return items
    }

    /// Sequence names as given (`0,8` or `00,08`), in the dataset's two-digit form.
    public static func sequenceNames(_ list: [String]) -> [String] { list.map(DatasetLayout.normalise) }

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

import Formats
import Foundation

/// One sequence of a dataset in the SemanticKITTI layout:
///
///     sequences/NN/velodyne/NNNNNN.bin      scans
///     sequences/NN/labels/NNNNNN.label      labels (optional, per scan)
///     sequences/NN/calib.txt, poses.txt, times.txt   (each optional)
public struct Sequence: Sendable {
    /// A scan of the sequence and where its files are.
    public struct Frame: Sendable, Equatable {
        /// The file stem, e.g. `000042`.
        public var id: String
        public var scan: URL
        /// The `.label` file, when the sequence has one for this scan.
        public var labels: URL?
    }

    public let directory: URL
    /// The sequence's name, e.g. `00` (the directory's name).
    public let name: String
    public let frames: [Frame]
    public let calibration: Calibration?
    public let poses: [Matrix3x4]?
    public let times: [Double]?

    /// Reads the listing and the text files of a sequence directory. Errors name the file: a
    /// missing directory, no `velodyne/` folder, no scans, or a malformed or miscounted text file.
    public init(directory: URL) throws(FormatError) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FormatError(file: directory, reason: "no such directory")
        }
        let velodyne = SemanticKITTIDataset.scanDirectory(sequence: directory)
        guard fm.fileExists(atPath: velodyne.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FormatError(file: directory, reason: "not a SemanticKITTI sequence: it has no velodyne/ directory of .bin scans")
        }
        let names: [String]
        do { names = try fm.contentsOfDirectory(atPath: velodyne.path) } catch {
            throw FormatError(file: velodyne, reason: "cannot list: \(error.localizedDescription)")
        }
        let labelDirectory = SemanticKITTIDataset.labelDirectory(sequence: directory)
        let stems = names.filter { $0.hasSuffix(".bin") }.map { String($0.dropLast(4)) }.sorted()
        guard !stems.isEmpty else { throw FormatError(file: velodyne, reason: "holds no .bin scans") }
        frames = stems.map { stem in
            let label = labelDirectory.appendingPathComponent(stem).appendingPathExtension("label")
            return Frame(id: stem, scan: velodyne.appendingPathComponent(stem).appendingPathExtension("bin"),
                         labels: fm.fileExists(atPath: label.path) ? label : nil)
        }
        self.directory = directory
        name = directory.lastPathComponent

        func optional<T>(_ file: String, _ read: (URL) throws(FormatError) -> T) throws(FormatError) -> T? {
            let url = directory.appendingPathComponent(file)
            return fm.fileExists(atPath: url.path) ? try read(url) : nil
        }
        calibration = try optional("calib.txt") { url throws(FormatError) in try Calibration(calib: url) }
        poses = try optional("poses.txt") { url throws(FormatError) in try readPoses(url) }
        times = try optional("times.txt") { url throws(FormatError) in try readTimes(url) }
        if let poses, poses.count != frames.count {
            throw FormatError(file: directory.appendingPathComponent("poses.txt"), reason: "has \(poses.count) poses for \(frames.count) scans")
        }
        if let times, times.count != frames.count {
            throw FormatError(file: directory.appendingPathComponent("times.txt"), reason: "has \(times.count) times for \(frames.count) scans")
        }
    }

    /// Frames that have labels.
    public var labelledFrames: [Frame] { frames.filter { $0.labels != nil } }
}

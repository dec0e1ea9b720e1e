import Formats
import Foundation

/// A dataset layout opened at a root: the scans it holds, grouped in sequences, and how to read
/// them. Training, inference, evaluation, `compare`, `convert` and `synth` see a dataset only
/// through this protocol; `SemanticKITTIDataset` and (in `PointClouds`) `PointCloudFolderDataset`
/// conform, and `DatasetLayouts` (in `RangeSegKit`) picks one from what a root holds.
///
/// ```swift
/// let dataset = try SemanticKITTIDataset(root: URL(fileURLWithPath: "/data/kitti"))
/// for frame in try dataset.labelledFrames(sequences: ["08"]) {
///     let scan = try dataset.read(frame, labels: true)
/// }
/// ```
public protocol Dataset: Sendable {
    /// The layout's name in messages (`SemanticKITTI`, `point-cloud folders`).
    static var layoutName: String { get }
    /// Whether `root` holds a dataset in this layout (a look at the directory, nothing read).
    static func recognises(root: URL) -> Bool
    /// Opens a root in this layout. Errors name the root.
    init(root: URL) throws(FormatError)

    /// The root it was opened at.
    var root: URL { get }
    /// Whether the label config's split (`split.train`, `split.valid`) names this dataset's
    /// sequences, so that training may fall back on it when no sequences are given.
    var usesLabelConfigSplit: Bool { get }
    /// The sequences present, sorted.
    func sequences() throws(FormatError) -> [String]
    /// The sequence a name given by a user stands for (SemanticKITTI: `8` is `08`).
    func sequenceName(_ given: String) -> String
    /// The scans of a sequence, in order. Errors name the sequence's directory.
    func frames(sequence: String) throws(FormatError) -> [DatasetFrame]
    /// The points of a frame and, with `labels`, its raw labels (nil when the frame has none).
    /// Errors name the file: a malformed scan, labels of another length, and a file that should
    /// hold labels and does not.
    func read(_ frame: DatasetFrame, labels: Bool) throws(FormatError) -> LabelledScan
    /// Where a frame's `.label` prediction goes, relative to an output root (SemanticKITTI:
    /// `sequences/NN/predictions/NNNNNN.label`, where the official evaluator looks).
    func predictionPath(of frame: DatasetFrame) -> String
}

extension Dataset {
    /// Every scan of `sequences` (names as users give them), in order.
    public func frames(sequences: [String]) throws(FormatError) -> [DatasetFrame] {
        var frames: [DatasetFrame] = []
        for name in sequences { frames += try self.frames(sequence: sequenceName(name)) }
        return frames
    }

    /// The scans of `sequences` that have labels, in order.
    public func labelledFrames(sequences: [String]) throws(FormatError) -> [DatasetFrame] {
        try frames(sequences: sequences).filter { $0.labels != nil }
    }

    /// `root/<predictionPath(of:)>`.
    public func predictionFile(under root: URL, of frame: DatasetFrame) -> URL {
        root.appendingPathComponent(predictionPath(of: frame))
    }
}

/// One scan of a dataset and where its files are.
public struct DatasetFrame: Sendable, Equatable {
    /// The sequence's name (a folder name: `08`, `scene-a`).
    public var sequence: String
    /// The file stem, e.g. `000042`.
    public var id: String
    /// The scan file.
    public var scan: URL
    /// The file that holds the frame's labels, when it has them: a `.label` file, or the scan
    /// file itself for a PCD or PLY with a label field.
    public var labels: URL?
    /// Per-point subclass labels (`subclasses/NNNNNN.label` beside `labels/` in SemanticKITTI's
    /// layout), when present. Not read by training yet.
    public var subclasses: URL?
    /// The scan's pose in the sequence's first frame, when the layout records one.
    public var pose: Matrix3x4?

    public init(sequence: String, id: String, scan: URL, labels: URL? = nil, subclasses: URL? = nil, pose: Matrix3x4? = nil) {
        self.sequence = sequence
        self.id = id
        self.scan = scan
        self.labels = labels
        self.subclasses = subclasses
        self.pose = pose
    }
}

/// A scan's points with its raw labels, as a dataset reads them.
public struct LabelledScan: Sendable, Equatable {
    public var scan: Scan
    /// One raw label per point, when read and present.
    public var labels: ScanLabels?

    public init(scan: Scan, labels: ScanLabels? = nil) {
        self.scan = scan
        self.labels = labels
    }
}

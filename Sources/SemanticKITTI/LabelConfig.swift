import Formats
import Foundation

/// A label configuration in the schema of SemanticKITTI's official `semantic-kitti.yaml`:
/// class names, colours, class frequencies, the map between raw ids and the contiguous
/// learning ids the network predicts, and the sequence split.
public struct LabelConfig: Sendable, Equatable {
    /// Raw id to class name (`labels`).
    public var names: [Int: String]
    /// Raw id to colour (`color_map`, stored in the file as BGR, here as RGB).
    public var colors: [Int: LabelColor]
    /// Raw id to fraction of all points (`content`).
    public var content: [Int: Double]
    /// Raw id to learning id (`learning_map`).
    public var learningMap: [Int: Int]
    /// Learning id to raw id (`learning_map_inv`).
    public var learningMapInverse: [Int: Int]
    /// Learning ids left out of training and evaluation (`learning_ignore`).
    public var learningIgnore: [Int: Bool]
    /// Sequence numbers of each split (`split`).
    public var split: Split

    public struct Split: Codable, Sendable, Equatable {
        public var train: [Int]
        public var valid: [Int]
        public var test: [Int]

        public init(train: [Int], valid: [Int], test: [Int]) {
            self.train = train
            self.valid = valid
            self.test = test
        }

        /// The training sequences' names as directories spell them (`00`, `01`, ...).
        public var trainNames: [String] { train.map(Self.name) }
        /// The validation sequences' names as directories spell them (`08`).
        public var validNames: [String] { valid.map(Self.name) }

        private static func name(_ sequence: Int) -> String { String(format: "%02d", sequence) }
    }

    /// Number of learning classes, the ignored class 0 included (20 for SemanticKITTI).
    public var classCount: Int { learningMapInverse.count }

    /// The learning ids left out of the loss and of IoU, mIoU and accuracy: those whose
    /// `learning_ignore` is true (`[0]`, unlabeled, for SemanticKITTI).
    public var ignoredClasses: Set<Int> { Set(learningIgnore.filter(\.value).map(\.key)) }

    /// Name of learning class `id` (the name of the raw id it maps back to).
    public func className(learning id: Int) -> String {
        learningMapInverse[id].flatMap { names[$0] } ?? "class \(id)"
    }

    /// Colour of learning class `id`, for label pictures.
    public func color(learning id: Int) -> LabelColor {
        learningMapInverse[id].flatMap { colors[$0] } ?? LabelColor(r: 0, g: 0, b: 0)
    }

    /// Fraction of points per learning class, summed over the raw ids that map to it.
    public func learningContent() -> [Double] {
        var out = [Double](repeating: 0, count: classCount)
        for (raw, fraction) in content {
            if let id = learningMap[raw], id < out.count { out[id] += fraction }
        }
        return out
    }

    /// The dense lookup table between raw and learning ids, built once per run.
    public func lookup() -> LabelLookup { LabelLookup(self) }
}

/// An RGB colour of a class.
public struct LabelColor: Sendable, Equatable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(r: UInt8, g: UInt8, b: UInt8) { self.r = r; self.g = g; self.b = b }
}

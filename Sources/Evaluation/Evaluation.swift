import Formats
import Foundation
import SemanticKITTI

/// The result of evaluating predictions against labels, ready to print or save as JSON.
public struct EvaluationReport: Sendable, Codable {
    public struct ClassResult: Sendable, Codable {
        public var id: Int
        public var name: String
        public var iou: Double
        /// Points of this class in the labels.
        public var support: Int
    }

    public var scans: Int
    public var points: Int
    public var meanIoU: Double
    public var meanIoUOfPresentClasses: Double
    public var accuracy: Double
    public var classes: [ClassResult]
    public var confusion: ConfusionMatrix

    public init(confusion: ConfusionMatrix, config: LabelConfig, scans: Int) {
        let iou = confusion.iou()
        self.scans = scans
        points = confusion.counts.reduce(0, +)
        meanIoU = confusion.meanIoU()
        meanIoUOfPresentClasses = confusion.meanIoUOfPresentClasses()
        accuracy = confusion.accuracy()
        classes = confusion.included.map {
            ClassResult(id: $0, name: config.className(learning: $0), iou: iou[$0], support: confusion.support(of: $0))
        }
        self.confusion = confusion
    }

    /// The report as pretty-printed JSON.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// Evaluates `.label` predictions of scans against their labels, as the official evaluator does:
/// both are read as raw ids (lower 16 bits) and mapped through `learning_map`.
public struct SemanticEvaluator: Sendable {
    public let config: LabelConfig
    private let lookup: LabelLookup

    public init(config: LabelConfig) {
        self.config = config
        lookup = config.lookup()
    }

    public func emptyMatrix() -> ConfusionMatrix { ConfusionMatrix(classCount: config.classCount, ignored: config.ignoredClasses) }

    /// The confusion of one scan's prediction file against its label file. Errors name the
    /// file: a missing prediction, a count mismatch, an id missing from `learning_map`.
    public func confusion(prediction: URL, labels: URL) throws(FormatError) -> ConfusionMatrix {
        let truth = try ScanLabels(label: labels)
        let predicted = try ScanLabels(label: prediction, pointCount: truth.count)
        var matrix = emptyMatrix()
        matrix.add(predictions: try lookup.learningIDs(of: predicted, file: prediction),
                   truth: try lookup.learningIDs(of: truth, file: labels))
        return matrix
    }
}

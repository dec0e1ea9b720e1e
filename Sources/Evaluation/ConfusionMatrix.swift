/// A confusion matrix over learning classes with the semantics of SemanticKITTI's official
/// evaluator (`evaluate_semantics.py` / `iouEval` of semantic-kitti-api):
///
/// - `counts[prediction][truth]` counts points;
/// - points whose true class is ignored (e.g. 0, unlabeled) are left out of every figure;
/// - per class: IoU = TP / (TP + FP + FN), where a point of class c predicted as an ignored
///   class counts as a false negative of c;
/// - mIoU is the mean over the classes that are not ignored, all of them, also those absent
///   from the data (their IoU is 0), exactly as the official script averages;
/// - accuracy is TP over all points whose true class is not ignored.
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    public let classCount: Int
    /// Learning ids left out (the config's `learning_ignore`).
    public let ignored: Set<Int>
    /// Row-major [prediction][truth].
    public private(set) var counts: [Int]

    public init(classCount: Int, ignored: Set<Int>) {
        self.classCount = classCount
        self.ignored = ignored
        counts = [Int](repeating: 0, count: classCount * classCount)
    }

    /// A matrix of given counts, row-major `[prediction][truth]` (e.g. matrices of several
    /// processes summed element-wise).
    public init(classCount: Int, ignored: Set<Int>, counts: [Int]) {
        precondition(counts.count == classCount * classCount, "\(counts.count) counts for \(classCount) classes")
        self.classCount = classCount
        self.ignored = ignored
        self.counts = counts
    }

    public subscript(prediction: Int, truth: Int) -> Int { counts[prediction * classCount + truth] }

    /// Adds one scan's points: `predictions` and `truth` are learning ids, one per point.
    public mutating func add(predictions: [Int32], truth: [Int32]) {
        precondition(predictions.count == truth.count, "predictions and labels differ in length")
        for i in predictions.indices {
            counts[Int(predictions[i]) * classCount + Int(truth[i])] += 1
        }
    }

    public mutating func merge(_ other: ConfusionMatrix) {
        precondition(other.classCount == classCount)
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// The classes that count: every learning id but the ignored ones.
    public var included: [Int] { (0 ..< classCount).filter { !ignored.contains($0) } }

    /// True positives, false positives and false negatives of each class, with the columns of
    /// ignored true classes removed.
    public func totals() -> (tp: [Int], fp: [Int], fn: [Int]) {
        var tp = [Int](repeating: 0, count: classCount), fp = tp, fn = tp
        for p in 0 ..< classCount {
            for t in 0 ..< classCount where !ignored.contains(t) {
                let n = self[p, t]
                if p == t { tp[p] += n } else { fp[p] += n; fn[t] += n }
            }
        }
        return (tp, fp, fn)
    }

    /// IoU per class (0 for ignored classes and for classes with an empty union).
    public func iou() -> [Double] {
        let (tp, fp, fn) = totals()
        return (0 ..< classCount).map { c in
            let union = tp[c] + fp[c] + fn[c]
            return ignored.contains(c) || union == 0 ? 0 : Double(tp[c]) / Double(union)
        }
    }

    /// Mean IoU over the included classes, as the official evaluator reports it.
    public func meanIoU() -> Double {
        let values = iou()
        return included.map { values[$0] }.reduce(0, +) / Double(max(included.count, 1))
    }

    /// Mean IoU over the included classes that occur in the labels or the predictions.
    public func meanIoUOfPresentClasses() -> Double {
        let (tp, fp, fn) = totals()
        let present = included.filter { tp[$0] + fp[$0] + fn[$0] > 0 }
        let values = iou()
        return present.isEmpty ? 0 : present.map { values[$0] }.reduce(0, +) / Double(present.count)
    }

    /// Point accuracy over points whose true class is included.
    public func accuracy() -> Double {
        let (tp, fp, _) = totals()
        let correct = tp.reduce(0, +)
        let total = included.map { tp[$0] + fp[$0] }.reduce(0, +)
        return total == 0 ? 0 : Double(correct) / Double(total)
    }

    /// Points whose true class is class c (ignored classes included).
    public func support(of c: Int) -> Int { (0 ..< classCount).reduce(0) { $0 + self[$1, c] } }
}

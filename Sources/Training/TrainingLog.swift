import Evaluation
import Formats
import Foundation

/// One row of a run's `epochs.csv`: an epoch's mean training loss and, when the epoch was
/// validated, its mIoU, accuracy and the IoU of every learning class. The file's one writer
/// (`csv`, through the trainer's log) and one reader (`read`), for resuming, comparisons and tests.
public struct EpochRow: Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Float
    public var mIoU: Double?
    public var accuracy: Double?
    /// The IoU of each learning class (empty when the epoch was not validated).
    public var classIoU: [Double]

    public init(epoch: Int, trainLoss: Float, mIoU: Double?, accuracy: Double?, classIoU: [Double]) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.mIoU = mIoU
        self.accuracy = accuracy
        self.classIoU = classIoU
    }

    init(epoch: Int, trainLoss: Float, validation: EvaluationReport?) {
        self.init(epoch: epoch, trainLoss: trainLoss, mIoU: validation?.meanIoU, accuracy: validation?.accuracy,
                  classIoU: validation?.confusion.iou() ?? [])
    }

    /// The rows of `run`'s `epochs.csv` in the file's order (rows that do not parse are passed over).
    public static func read(_ run: RunDirectory) throws(FormatError) -> [EpochRow] {
        try csvRows(run.epochs).compactMap { row in
            guard row.count >= 4, let e = Int(row[0]), let l = Float(row[1]) else { return nil }
            return EpochRow(epoch: e, trainLoss: l, mIoU: Double(row[2]), accuracy: Double(row[3]),
                            classIoU: row.dropFirst(4).compactMap { Double($0) })
        }
    }

    /// The text of `epochs.csv`: the header (`epoch,train_loss,valid_miou,valid_accuracy,iou_<class>...`)
    /// and one line per row, empty cells where an epoch was not validated.
    static func csv(_ rows: [EpochRow], classNames: [String]) -> String {
        var text = "epoch,train_loss,valid_miou,valid_accuracy," + classNames.map { "iou_\($0)" }.joined(separator: ",") + "\n"
        for e in rows {
            text += "\(e.epoch),\(e.trainLoss),\(e.mIoU.map { String($0) } ?? ""),\(e.accuracy.map { String($0) } ?? "")"
            text += e.classIoU.isEmpty ? "\n" : "," + e.classIoU.map { String($0) }.joined(separator: ",") + "\n"
        }
        return text
    }
}

/// The cells of each line of a CSV file after its header.
private func csvRows(_ url: URL) throws(FormatError) -> [[Substring]] {
    let text: String
    do { text = try String(contentsOf: url, encoding: .utf8) } catch {
        throw FormatError.cannotRead(url, error)
    }
    return text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
}

/// The CSV logs of a run (every step, every epoch) and their plots.
struct TrainingLog {
    struct Step { var epoch: Int; var step: Int; var loss: Float; var learningRate: Float }

    var steps: [Step] = []
    var epochs: [EpochRow] = []

    init() {}

    /// The rows of finished epochs `0 ..< throughEpoch` from an earlier run's files (none for a
    /// file that does not exist).
    init(reading run: RunDirectory, throughEpoch: Int) throws(FormatError) {
        let manager = FileManager.default
        if manager.fileExists(atPath: run.steps.path) {
            for row in try csvRows(run.steps) where row.count >= 4 {
                guard let e = Int(row[0]), let s = Int(row[1]), let l = Float(row[2]), let r = Float(row[3]) else { continue }
                if e < throughEpoch { steps.append(Step(epoch: e, step: s, loss: l, learningRate: r)) }
            }
        }
        if manager.fileExists(atPath: run.epochs.path) {
            epochs = try EpochRow.read(run).filter { $0.epoch < throughEpoch }
        }
    }

    /// Writes both CSV files, each atomically.
    func writeTables(to run: RunDirectory, classNames: [String]) throws(FormatError) {
        var stepText = "epoch,step,loss,learning_rate\n"
        for s in steps { stepText += "\(s.epoch),\(s.step),\(s.loss),\(s.learningRate)\n" }
        try AtomicFile.write(Data(stepText.utf8), to: run.steps)
        try AtomicFile.write(Data(EpochRow.csv(epochs, classNames: classNames).utf8), to: run.epochs)
    }

    /// The loss chart (step loss and epoch mean against steps) and, once an epoch was
    /// validated, the validation chart (mIoU and accuracy in % against epochs).
    func plots() -> (loss: Chart.Figure, validation: Chart.Figure?) {
        let lossSeries = Chart.Series(name: "step loss", points: steps.map { (Double($0.step), Double($0.loss)) }, color: Chart.palette[0])
        let stepsPerEpoch = Double(steps.count) / Double(max(epochs.count, 1))
        let epochSeries = Chart.Series(name: "epoch mean", points: epochs.map { (Double($0.epoch + 1) * stepsPerEpoch, Double($0.trainLoss)) },
                                       color: Chart.palette[1])
        let loss = Chart.lines([lossSeries, epochSeries], title: "Training loss", xTitle: "step", yTitle: "loss")
        let validated = epochs.filter { $0.mIoU != nil }
        guard !validated.isEmpty else { return (loss, nil) }
        let mIoU = Chart.Series(name: "mIoU", points: validated.map { (Double($0.epoch + 1), $0.mIoU! * 100) }, color: Chart.palette[2])
        let accuracy = Chart.Series(name: "accuracy", points: validated.map { (Double($0.epoch + 1), $0.accuracy! * 100) }, color: Chart.palette[3])
        let validation = Chart.lines([mIoU, accuracy], title: "Validation", xTitle: "epoch", yTitle: "mIoU, accuracy (%)", integerX: true)
        return (loss, validation)
    }

    /// Writes the plots as PNG and SVG (loss.png, loss.svg, miou.png, miou.svg), each atomically.
    func writePlots(to run: RunDirectory) throws(FormatError) {
        let (loss, validation) = plots()
        try loss.write(png: run.lossPlot, svg: run.lossPlotSVG)
        try validation?.write(png: run.mIoUPlot, svg: run.mIoUPlotSVG)
    }
}

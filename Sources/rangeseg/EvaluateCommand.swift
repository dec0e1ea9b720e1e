import ArgumentParser
import CommandOptions
import Formats
import Foundation
import RangeSegKit
import SemanticKITTI

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score .label predictions against labels: per-class IoU, mIoU and accuracy.",
        discussion: """
        The semantics of SemanticKITTI's official evaluate_semantics.py: raw ids are mapped through \
        the config's learning_map, points labelled with an ignored class (unlabeled) are left out, \
        and the mean IoU averages every class that is not ignored, absent ones included (the mean \
        over classes present is printed beside it). Predictions are read where infer writes them: \
        PREDICTIONS/sequences/NN/predictions/NNNNNN.label with labels from DATASET/sequences/NN/labels \
        (SemanticKITTI), PREDICTIONS/NAME/<frame>.label with labels from the label field of \
        DATASET/NAME/<frame>.pcd or .ply (a point-cloud folder dataset).

        With --compare-cleanup the predictions are also cleaned up by RangeNet++'s range-image \
        k-NN and by the 3-D k-NN (PCL k-d tree) and all three are scored. Where a sequence has \
        subclasses/NNNNNN.label and subclasses.yaml, the recall of each kind of appearance follows, \
        and the mean recall of the rare kinds (under 10% of their class).

        Examples:
          rangeseg evaluate --dataset out/synthetic --predictions out/pred \\
            --sequences 08
          rangeseg evaluate --dataset ../shared/data/semantickitti --predictions \\
            out/pred --sequences 00 --json scores.json
        """
    )

    @Option(help: "Dataset root: SemanticKITTI's layout (sequences/NN/labels) or a folder of point-cloud sequences with label fields.", transform: { URL(fileURLWithPath: $0) })
    var dataset: URL

    @Option(help: "Root of infer's predictions, e.g. holding sequences/NN/predictions (default: the dataset root).", transform: { URL(fileURLWithPath: $0) })
    var predictions: URL?

    @Option(help: ArgumentHelp("Sequences to score, e.g. 08 (default: the label config's valid split for SemanticKITTI, every folder of a point-cloud folder dataset).", valueName: "list"))
    var sequences: NameList?

    @Option(help: "Write the report (confusion matrices included) as JSON here.", transform: { URL(fileURLWithPath: $0) })
    var json: URL?

    @Flag(help: "Also score the predictions after range-image k-NN and after 3-D k-NN clean-up.")
    var compareCleanup = false

    @OptionGroup var projection: ProjectionOptions
    @OptionGroup var labelConfig: LabelConfigOption

    func run() throws {
        let labels = try labelConfig.load()
        let items = try ScanSource.labelledItems(root: dataset, sequences: sequences?.names, labels: labels)
        var scoring = PredictionScoring(labels: labels)
        scoring.projection = projection.config
        scoring.variants = compareCleanup ? PredictionScoring.Variant.allCases : [.asWritten]
        let bar = ProgressBar("evaluate", total: items.count, unit: "scans")
        let reports = try scoring.run(items, predictions: predictions ?? dataset) { bar.advance() }
        bar.finish()
        print(PredictionScoring.table(reports, kinds: try scoring.kindRecall(items, predictions: predictions ?? dataset)))
        if let json {
            try AtomicFile.write(PredictionScoring.json(reports), to: json)
            print("Report: \(json.path)")
        }
    }
}

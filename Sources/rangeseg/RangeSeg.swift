import ArgumentParser

@main
struct RangeSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rangeseg",
        abstract: "LiDAR range-image semantic segmentation for SemanticKITTI data.",
        subcommands: [SynthCommand.self, ProjectCommand.self, TrainCommand.self, InferCommand.self, ExportCommand.self, EvaluateCommand.self, CompareCommand.self, ConvertCommand.self, LossCommand.self, BenchCommand.self]
    )
}

import ArgumentParser
import CommandOptions

/// `rangeseg bench ...`: benchmarks that print figures (never timed tests).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed and memory; prints figures for the README.",
        subcommands: [BenchProject.self, BenchLoss.self, BenchTrain.self, BenchInfer.self]
    )
}

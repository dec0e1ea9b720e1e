import ArgumentParser
import Engine
import Foundation

/// `rangeseg bench train`: times RangeNet-lite training steps on random data.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time RangeNet-lite training steps (forward, loss, backward, SGD) on random data.",
        discussion: "Threads follow OMP_NUM_THREADS. FLOPs count convolutions only: 2 x MACs forward, twice that backward."
    )

    @Option(help: "Images per step (default 2).")
    var batch = 2
    @Option(help: "Range-image height in pixels (default 64).")
    var height = 64
    @Option(help: "Range-image width in pixels, divisible by 32 (default 2048).")
    var width = 2048
    @Option(help: "Untimed warm-up steps (default 2).")
    var warmup = 2
    @Option(help: "Timed steps (default 5).")
    var steps = 5
    @Option(help: "Architecture YAML file (default: the built-in RangeNet-lite).")
    var architecture: String?
    @Option(help: "Random seed for weights and data (default 0).")
    var seed: UInt64 = 0

    func validate() throws {
        guard batch > 0, height > 0, width > 0, steps > 0, warmup >= 0 else {
            throw ValidationError("batch, height, width and steps must be positive, warm-up not negative")
        }
    }

    func run() throws {
        let config = try architecture.map { try ArchitectureConfig.load(from: URL(fileURLWithPath: $0)) } ?? .rangeNetLite
        guard width % config.widthDivisor == 0 else {
            throw ValidationError("width must be divisible by \(config.widthDivisor)")
        }
        let report = NetworkBenchmark.train(config: config, batch: batch, height: height, width: width, warmup: warmup,
                                            steps: steps, seed: seed)
        report.printFigures(title: "train: batch \(batch), \(config.inputChannels) x \(height) x \(width), \(config.classes) classes")
    }
}

extension BenchmarkReport {
    /// Prints the figures of a network benchmark (shared by `bench train` and `bench infer`).
    func printFigures(title: String) {
        print(title)
        print("  parameters      \(parameterCount)")
        print("  threads         \(ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? "OpenMP default") (OMP_NUM_THREADS)")
        print("  steps (ms)      " + stepMilliseconds.map { String(format: "%.1f", $0) }.joined(separator: " "))
        print(String(format: "  median          %.1f ms per step (mean %.1f, best %.1f)", medianMilliseconds, meanMilliseconds,
                     stepMilliseconds.min() ?? 0))
        print(String(format: "  work            %.1f GFLOP per step (convolutions)", flopsPerStep / 1e9))
        print(String(format: "  achieved        %.1f GFLOP/s at the median", gigaflopsPerSecond))
        print(String(format: "  peak memory     %.2f GB (VmHWM)", Double(peakResidentBytes) / 1e9))
    }
}

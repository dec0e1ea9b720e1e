import ArgumentParser
import Engine
import Foundation

/// `rangeseg bench infer`: times RangeNet-lite inference on random data.
struct BenchInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Time RangeNet-lite inference (evaluation mode, no gradients) on random data.",
        discussion: "Threads follow OMP_NUM_THREADS. FLOPs count convolutions only (2 x MACs)."
    )

    @Option(help: "Images per forward pass (default 1).")
    var batch = 1
    @Option(help: "Range-image height in pixels (default 64).")
    var height = 64
    @Option(help: "Range-image width in pixels, divisible by 32 (default 2048).")
    var width = 2048
    @Option(help: "Untimed warm-up passes (default 2).")
    var warmup = 2
    @Option(help: "Timed passes (default 10).")
    var steps = 10
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
        let report = NetworkBenchmark.infer(config: config, batch: batch, height: height, width: width, warmup: warmup,
                                            steps: steps, seed: seed)
        report.printFigures(title: "infer: batch \(batch), \(config.inputChannels) x \(height) x \(width), \(config.classes) classes")
    }
}

import Engine
import Formats
import Foundation
import Inference
import Random
import SemanticKITTI

/// Benchmarks of the training step and of inference that time the code the commands run:
/// `train` times `TrainingStep` (the configured loss and optimiser), `infer` times `Segmenter`'s
/// forward pass. Data is held in memory so that only the step is timed.
public enum Benchmarks {
    /// Training steps of `config` (network, loss, optimiser) on `batches`, used in turn.
    /// With `profile`, the timed steps also record oneDNN's time per primitive kind (which
    /// itself costs a little: every primitive call reads the clock twice).
    public static func train(config: TrainingConfig, labels: LabelConfig, batches: [TrainingBatch], warmup: Int = 2,
                             steps: Int = 5, profile: Bool = false) throws -> BenchmarkReport {
        precondition(!batches.isEmpty, "the benchmark needs a batch")
        let step = try TrainingStep(config: config, labels: labels)
        let learningRate = config.optimizer.learningRate
        var times: [Double] = [], cpu: [Double] = []
        var phases: [TrainingStep.Phases] = []
        for i in 0 ..< (warmup + steps) {
            let batch = batches[i % batches.count]
            if profile && i == warmup { EngineProfile.start() }
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUMilliseconds()
            try step(batch, learningRate: learningRate)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            if i >= warmup {
                times.append(elapsed)
                cpu.append(processCPUMilliseconds() - cpuStart)
                phases.append(step.lastPhases)
            }
        }
        let engineProfile = profile ? EngineProfile.stop().scaled(by: steps) : nil
        let shape = batches[0].input.shape
        return BenchmarkReport(stepMilliseconds: times, cpuMilliseconds: cpu, phases: phases,
                               flopsPerStep: 3 * step.model.forwardFLOPs(batch: shape[0], height: shape[2], width: shape[3]),
                               peakResidentBytes: peakResidentMemoryBytes(), parameterCount: step.model.parameterCount,
                               precision: config.precision.onThisCPU, profile: engineProfile)
    }

    /// Inference passes of `segmenter` (evaluation mode, fused, the output left where the
    /// network writes it, from which `rangeseg infer` reads the classes) on `input` `[B, C, H, W]`.
    public static func infer(_ segmenter: Segmenter, input: Tensor, warmup: Int = 2, steps: Int = 10,
                             profile: Bool = false) -> BenchmarkReport {
        var times: [Double] = [], cpu: [Double] = []
        for i in 0 ..< (warmup + steps) {
            if profile && i == warmup { EngineProfile.start() }
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUMilliseconds()
            withExtendedLifetime(segmenter.output(input)) {}
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            if i >= warmup {
                times.append(elapsed)
                cpu.append(processCPUMilliseconds() - cpuStart)
            }
        }
        let engineProfile = profile ? EngineProfile.stop().scaled(by: steps) : nil
        return BenchmarkReport(stepMilliseconds: times, cpuMilliseconds: cpu,
                               flopsPerStep: segmenter.model.forwardFLOPs(batch: input.shape[0], height: input.shape[2], width: input.shape[3]),
                               peakResidentBytes: peakResidentMemoryBytes(), parameterCount: segmenter.model.parameterCount,
                               precision: segmenter.config.precision.onThisCPU, profile: engineProfile)
    }

    /// Batches of the labelled scans of `sequences` under `dataset`, prepared as training
    /// prepares them (projection, normalisation, learning ids) but without augmentation.
    public static func datasetBatches(dataset: any Dataset, sequences: [String], config: TrainingConfig, labels: LabelConfig,
                                      batch: Int) throws -> [TrainingBatch] {
        let frames = try dataset.labelledFrames(sequences: sequences)
        guard !frames.isEmpty else { throw TrainingError.noTrainingScans(sequences: sequences) }
        let builder = SampleBuilder(config: config, lookup: labels.lookup())
        var generator = RandomGenerator(seed: 0)
        let samples = try frames.map { try builder.load($0, from: dataset, augmentation: .none, generator: &generator) }
        return stride(from: 0, to: samples.count - batch + 1, by: batch).map {
            TrainingBatch(Array(samples[$0 ..< $0 + batch]), height: config.sensor.height, width: config.sensor.width)
        }
    }

    /// `count` batches of random inputs (uniform in [-1, 1)) and labels (uniform over the
    /// classes, the ignore id included), deterministic for `seed`.
    public static func randomBatches(count: Int, batch: Int, channels: Int = 5, classes: Int, height: Int, width: Int,
                                     seed: UInt64) -> [TrainingBatch] {
        var generator = RandomGenerator(seed: seed)
        return (0 ..< count).map { _ in
            TrainingBatch(input: Tensor(uniformShape: [batch, channels, height, width], low: -1, high: 1, generator: &generator),
                          labels: (0 ..< batch * height * width).map { _ in Int32(generator.int(0 ..< classes)) })
        }
    }
}

/// Timings of a network benchmark (`Benchmarks` makes them, `rangeseg bench` prints them).
public struct BenchmarkReport: Sendable {
    public init(stepMilliseconds: [Double], cpuMilliseconds: [Double] = [], phases: [TrainingStep.Phases] = [], flopsPerStep: Double, peakResidentBytes: Int,
                parameterCount: Int, precision: Precision = .fp32, profile: EngineProfile? = nil) {
        self.precision = precision
        self.profile = profile
        self.stepMilliseconds = stepMilliseconds
        self.cpuMilliseconds = cpuMilliseconds
        self.phases = phases
        self.flopsPerStep = flopsPerStep
        self.peakResidentBytes = peakResidentBytes
        self.parameterCount = parameterCount
    }

    /// Wall-clock milliseconds of each timed step, in order.
    public var stepMilliseconds: [Double]
    /// CPU milliseconds of the process (all threads, spinning included) for each timed step: on a
    /// busy machine, with OMP_NUM_THREADS=1, a steadier measure of the work than the wall clock.
    public var cpuMilliseconds: [Double]
    /// The phases of each timed training step (empty for inference).
    public var phases: [TrainingStep.Phases]
    /// Floating-point operations of one step (convolutions only, `2 · MACs` per pass).
    public var flopsPerStep: Double
    /// The process's peak resident memory (`VmHWM`) after the run, in bytes.
    public var peakResidentBytes: Int
    /// Trainable parameters of the network.
    public var parameterCount: Int
    /// The arithmetic of the network.
    public var precision: Precision
    /// oneDNN's time per primitive kind, per timed step (with `profile` only).
    public var profile: EngineProfile?

    /// The median of `stepMilliseconds` (0 for none).
    public var medianMilliseconds: Double { stepMilliseconds.median() ?? 0 }
    /// The median of `cpuMilliseconds` (0 for none).
    public var medianCPUMilliseconds: Double { cpuMilliseconds.median() ?? 0 }
    public var meanMilliseconds: Double { stepMilliseconds.reduce(0, +) / Double(max(stepMilliseconds.count, 1)) }
    /// Achieved GFLOP/s at the median step time.
    public var gigaflopsPerSecond: Double { flopsPerStep / (medianMilliseconds * 1e6) }
}

/// The peak resident set size of this process (`VmHWM` in `/proc/self/status`), in bytes;
/// 0 where that file does not exist.
public func peakResidentMemoryBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes * 1024
    }
    return 0
}

/// CPU time of this process so far (user and system, all threads), in milliseconds.
func processCPUMilliseconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
}

extension BenchmarkReport {
    /// The figures of a network benchmark as lines of text under `title` (`rangeseg bench train`
    /// and `bench infer` print them; tools/bench reads the median line).
    public func figures(title: String) -> [String] {
        var out = [title]
        out.append("  parameters      \(parameterCount)")
        out.append("  threads         \(ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? "OpenMP default") (OMP_NUM_THREADS)")
        out.append("  steps (ms)      " + stepMilliseconds.map { String(format: "%.1f", $0) }.joined(separator: " "))
        out.append(String(format: "  median          %.1f ms per step (mean %.1f, best %.1f)", medianMilliseconds, meanMilliseconds,
                          stepMilliseconds.min() ?? 0))
        if !cpuMilliseconds.isEmpty {
            out.append(String(format: "  CPU time        %.1f ms per step (median; all threads, OpenMP spinning included)", medianCPUMilliseconds))
        }
        if !phases.isEmpty {
            func median(_ values: [Double]) -> Double { values.median() ?? 0 }
            out.append(String(format: "  phases (median) forward %.1f, loss %.1f, backward %.1f, update %.1f ms",
                              median(phases.map(\.forward)), median(phases.map(\.loss)), median(phases.map(\.backward)),
                              median(phases.map(\.update))))
        }
        out.append(String(format: "  work            %.1f GFLOP per step (convolutions)", flopsPerStep / 1e9))
        out.append(String(format: "  achieved        %.1f GFLOP/s at the median", gigaflopsPerSecond))
        out.append(String(format: "  peak memory     %.2f GB (VmHWM)", Double(peakResidentBytes) / 1e9))
        if let profile { out += profileLines(profile) }
        return out
    }

    /// oneDNN's time per primitive kind per step, and what the step spent outside oneDNN.
    private func profileLines(_ profile: EngineProfile) -> [String] {
        func padded(_ text: String) -> String { "    " + text.padding(toLength: 32, withPad: " ", startingAt: 0) }
        var out = ["  profile (ms per step; oneDNN primitives by kind, then the rest)"]
        let step = meanMilliseconds
        for (kind, entry) in profile.byTime {
            out.append(padded(kind) + String(format: " %7.1f  %4.1f%%  %5d calls", entry.milliseconds, 100 * entry.milliseconds / step, entry.count))
        }
        let engine = profile.totalMilliseconds
        out.append(padded("all oneDNN") + String(format: " %7.1f  %4.1f%%", engine, 100 * engine / step))
        if !phases.isEmpty {
            let n = Double(phases.count)
            let loss = phases.map(\.loss).reduce(0, +) / n, update = phases.map(\.update).reduce(0, +) / n
            out.append(padded("loss phase") + String(format: " %7.1f  (Swift kernels; its oneDNN calls are counted above)", loss))
            out.append(padded("optimiser update (Swift)") + String(format: " %7.1f", update))
        }
        out.append(padded("not in oneDNN") + String(format: " %7.1f  (mean step %.1f ms)", step - engine, step))
        return out
    }
}

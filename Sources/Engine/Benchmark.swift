import Foundation

/// Timings of a network benchmark (the `rangeseg bench` commands print them).
public struct BenchmarkReport: Sendable {
    /// Wall-clock milliseconds of each timed step, in order.
    public var stepMilliseconds: [Double]
    /// Floating-point operations of one step (convolutions only, `2 · MACs` per pass).
    public var flopsPerStep: Double
    /// The process's peak resident memory (`VmHWM`) after the run, in bytes.
    public var peakResidentBytes: Int
    /// Trainable parameters of the network.
    public var parameterCount: Int

    public var medianMilliseconds: Double {
        let sorted = stepMilliseconds.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
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

extension RangeNetLite {
    /// Floating-point operations of one forward pass over `[batch, inputChannels, height, width]`:
    /// `2 · MACs` of every convolution and transposed convolution (batch norm, activations and
    /// additions are not counted).
    public func forwardFLOPs(batch: Int, height: Int, width: Int) -> Double {
        var macs = 0.0
        func conv(_ cin: Int, _ cout: Int, _ k: Int, outputWidth: Int) {
            macs += Double(batch * height * outputWidth) * Double(cin * cout * k * k)
        }
        let widths = config.widths
        func residual(_ c: Int, _ w: Int) { conv(c, c / 2, 1, outputWidth: w); conv(c / 2, c, 3, outputWidth: w) }
        conv(config.inputChannels, widths[0], 3, outputWidth: width)
        var cin = widths[0], w = width
        for (c, b) in zip(widths, config.blocks) {
            w /= 2
            conv(cin, c, 3, outputWidth: w)
            for _ in 0..<b { residual(c, w) }
            cin = c
        }
        for c in widths.dropLast().reversed() + [widths[0]] {
            // Transposed 1x4: every input pixel meets every weight once.
            macs += Double(batch * height * w) * Double(cin * c * 4)
            w *= 2
            residual(c, w)
            cin = c
        }
        conv(cin, config.classes, 3, outputWidth: w)
        return 2 * macs
    }
}

/// Synthetic-data benchmarks of RangeNet-lite.
public enum NetworkBenchmark {
    /// Training steps (forward, fused softmax cross-entropy, backward, SGD with Nesterov
    /// momentum) on random inputs and labels. FLOPs: 3 × forward (forward, backward data,
    /// backward weights).
    public static func train(config: ArchitectureConfig = .rangeNetLite, batch: Int = 2, height: Int = 64,
                             width: Int = 2048, warmup: Int = 2, steps: Int = 5, seed: UInt64 = 0) -> BenchmarkReport {
        var generator = RandomGenerator(seed: seed)
        let model = RangeNetLite(config: config, generator: &generator)
        let input = Tensor(uniformShape: [batch, config.inputChannels, height, width], low: -1, high: 1, generator: &generator)
        let labels = IndexTensor(shape: [batch, height, width],
                                 indices: (0..<(batch * height * width)).map { _ in Int32(generator.next() % UInt64(config.classes)) })
        let optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4, nesterov: true)
        var times: [Double] = []
        for i in 0..<(warmup + steps) {
            let start = DispatchTime.now().uptimeNanoseconds
            let loss = softmaxCrossEntropy(logits: model(input), labels: labels, ignoreIndex: 0).mean()
            loss.backward()
            optimizer.step(model)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            if i >= warmup { times.append(elapsed) }
        }
        return BenchmarkReport(stepMilliseconds: times, flopsPerStep: 3 * model.forwardFLOPs(batch: batch, height: height, width: width),
                               peakResidentBytes: peakResidentMemoryBytes(), parameterCount: model.parameterCount)
    }

    /// Inference (evaluation mode, no gradients) on random inputs, logits read back as plain NCHW.
    public static func infer(config: ArchitectureConfig = .rangeNetLite, batch: Int = 1, height: Int = 64,
                             width: Int = 2048, warmup: Int = 2, steps: Int = 10, seed: UInt64 = 0) -> BenchmarkReport {
        var generator = RandomGenerator(seed: seed)
        let model = RangeNetLite(config: config, generator: &generator)
        model.eval()
        let input = Tensor(uniformShape: [batch, config.inputChannels, height, width], low: -1, high: 1, generator: &generator)
        var times: [Double] = []
        for i in 0..<(warmup + steps) {
            let start = DispatchTime.now().uptimeNanoseconds
            let logits = withoutGradient { model(input).contiguous() }
            withExtendedLifetime(logits) {}
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            if i >= warmup { times.append(elapsed) }
        }
        return BenchmarkReport(stepMilliseconds: times, flopsPerStep: model.forwardFLOPs(batch: batch, height: height, width: width),
                               peakResidentBytes: peakResidentMemoryBytes(), parameterCount: model.parameterCount)
    }
}

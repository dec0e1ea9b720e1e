import Random

/// DarkNet residual block: 1x1 conv to `c/2`, 3x3 conv back to `c` (each with batch norm and
/// leaky ReLU), added to the input. Children: `body` (a `Sequential` of six layers), or with
/// `flattened`, the body's own children (DarkNet's `conv1`, `bn1`, `conv2`, `bn2`).
public final class Residual: Layer {
    public let body: Sequential
    /// Whether the body's children are this block's own (no `body.` in their names).
    public let flattened: Bool
    public var isTraining = true

    public init(channels c: Int, config: ArchitectureConfig, generator: inout RandomGenerator) {
        body = Sequential(convBN(c, c / 2, kernel: 1, config: config, generator: &generator)
                          + convBN(c / 2, c, kernel: 3, config: config, generator: &generator))
        flattened = false
    }

    /// `x + body(x)`; `body` must keep the shape of its input.
    public init(body: Sequential, flattened: Bool) {
        self.body = body
        self.flattened = flattened
    }

    public var children: [(name: String, module: any Module)] { flattened ? body.children : [("body", body)] }

    /// `x + body(x)`, the addition fused into the body's last batch norm + leaky ReLU.
    public func callAsFunction(_ x: Tensor) -> Tensor { body(x, adding: x) }
}

/// conv (no bias, "same" padding) → batch norm → leaky ReLU.
func convBN(_ cin: Int, _ cout: Int, kernel: Int, stride: Size2D = 1, config: ArchitectureConfig,
            generator: inout RandomGenerator) -> [any Layer] {
    [Conv2d(inputChannels: cin, outputChannels: cout, kernelSize: Size2D(square: kernel), stride: stride,
            padding: Size2D(square: kernel / 2), bias: false, generator: &generator),
     BatchNorm2d(channels: cout, momentum: config.batchNormMomentum, epsilon: config.batchNormEpsilon),
     LeakyReLU(slope: config.leakySlope)]
}

/// RangeNet-lite, exactly as `shared/reference/rangenet_lite.py`: a DarkNet-style
/// encoder–decoder for range images that downsamples only the width.
///
/// - `stem`: conv-bn-leaky 3x3, `in → widths[0]`.
/// - `enc.i`: conv-bn-leaky 3x3 with stride 1x2 (`→ widths[i]`), then `blocks[i]` residual blocks.
/// - `dec.j`: transposed conv 1x4, stride 1x2, padding 0x1 (no bias), bn, leaky, one residual
///   block; widths `widths[..<last]` reversed, then `widths[0]`. Its output is added to the
///   encoder feature of the same size.
/// - `head`: conv 3x3 with bias, `→ classes`.
///
/// Input `[B, inputChannels, H, W]` with `W` divisible by `2^stages`; output logits
/// `[B, classes, H, W]`.
public final class RangeNetLite: SegmentationNetwork {
    public static let kind = "rangenet-lite"
    public static let summary = "RangeNet-lite: RangeNet++'s DarkNet-21 at a quarter of its widths, no biases or dropout (1.2 M parameters)"
    public static let defaultArchitecture = ArchitectureConfig.rangeNetLite

    public static func problems(_ architecture: ArchitectureConfig) -> [String] { architecture.encoderProblems() }

    /// Every encoder stage halves the width only.
    public static func sizeDivisor(_ architecture: ArchitectureConfig) -> (height: Int, width: Int) {
        architecture.encoderSizeDivisor()
    }

    public let architecture: ArchitectureConfig
    public let stem: Sequential
    public let enc: ModuleList<Sequential>
    public let dec: ModuleList<Sequential>
    public let head: Conv2d
    public var isTraining = true
    /// The fused inference path's folded weights (InferenceFusion.swift).
    let inferenceCache = InferenceCache()

    public convenience init(config: ArchitectureConfig = .rangeNetLite, generator: inout RandomGenerator) {
        self.init(architecture: config, generator: &generator)
    }

    public init(architecture config: ArchitectureConfig, generator: inout RandomGenerator) {
        precondition(config.problems.isEmpty, "invalid architecture: \(config.problems.joined(separator: "; "))")
        self.architecture = config
        let widths = config.widths
        stem = Sequential(convBN(config.inputChannels, widths[0], kernel: 3, config: config, generator: &generator))
        var stages: [Sequential] = []
        var cin = widths[0]
        for (w, b) in zip(widths, config.blocks) {
            var layers = convBN(cin, w, kernel: 3, stride: Size2D(1, 2), config: config, generator: &generator)
            for _ in 0..<b { layers.append(Residual(channels: w, config: config, generator: &generator)) }
            stages.append(Sequential(layers))
            cin = w
        }
        enc = ModuleList(stages)
        var decoder: [Sequential] = []
        for w in widths.dropLast().reversed() + [widths[0]] {
            decoder.append(Sequential([
                ConvTranspose2d(inputChannels: cin, outputChannels: w, kernelSize: Size2D(1, 4), stride: Size2D(1, 2),
                                padding: Size2D(0, 1), bias: false, generator: &generator),
                BatchNorm2d(channels: w, momentum: config.batchNormMomentum, epsilon: config.batchNormEpsilon),
                LeakyReLU(slope: config.leakySlope),
                Residual(channels: w, config: config, generator: &generator),
            ]))
            cin = w
        }
        dec = ModuleList(decoder)
        head = Conv2d(inputChannels: cin, outputChannels: config.classes, kernelSize: 3, padding: 1, bias: true,
                      generator: &generator)
    }

    public var children: [(name: String, module: any Module)] {
        [("stem", stem), ("enc", enc), ("dec", dec), ("head", head)]
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        if usesFusedInference {
            checkInput(input)
            return fusedForward(input)
        }
        return forward(input, keeping: []).logits
    }

    /// The names of the feature maps `forward(_:keeping:)` can keep: `stem`, each encoder stage's
    /// output `enc.i`, each decoder stage's output `dec.j` (after its skip connection). The last,
    /// `dec.<n-1>`, is the decoder's full-resolution feature map (`widths[0]` channels).
    public var featureNames: [String] {
        ["stem"] + enc.elements.indices.map { "enc.\($0)" } + dec.elements.indices.map { "dec.\($0)" }
    }

    /// The logits and the named intermediate feature maps of one forward pass (no second
    /// pass): e.g. `forward(x, keeping: ["dec.4"])` for the last decoder stage, which the
    /// centroid subclass loss can cluster. Feature maps stay in the graph; detach them to use
    /// them as constants. Always the layer-by-layer path (not the fused inference one).
    public func forward(_ input: Tensor, keeping names: Set<String>) -> (logits: Tensor, features: [String: Tensor]) {
        checkInput(input)
        var features: [String: Tensor] = [:]
        func keep(_ name: String, _ x: Tensor) { if names.contains(name) { features[name] = x } }
        var x = stem(input)
        keep("stem", x)
        var skips = [x]
        for (i, stage) in enc.elements.enumerated() {
            x = stage(x)
            keep("enc.\(i)", x)
            skips.append(x)
        }
        skips.removeLast()  // the deepest feature is x itself
        for (j, stage) in dec.elements.enumerated() {
            x = stage(x) + skips.removeLast()
            keep("dec.\(j)", x)
        }
        return (logits(x), features)
    }

    /// The head: float32 logits in either precision (a bf16 convolution writes them as float32,
    /// so the losses and softmax always read float32).
    func logits(_ x: Tensor) -> Tensor {
        head.logits(x)
    }
}

extension RangeNetLite {
    /// The fused-inference forward pass (see `InferenceFusion`).
    func fusedForward(_ input: Tensor) -> Tensor {
        var x = InferenceFusion.run(stem.layers, input, cache: inferenceCache)
        var skips = [x]
        for stage in enc.elements {
            x = InferenceFusion.run(stage.layers, x, cache: inferenceCache)
            skips.append(x)
        }
        skips.removeLast()
        for stage in dec.elements {
            x = InferenceFusion.run(stage.layers, x, cache: inferenceCache, addends: [skips.removeLast()])
        }
        return logits(x)
    }
}

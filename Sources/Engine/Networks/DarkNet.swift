import Random

/// RangeNet++'s DarkNet-21 and DarkNet-53 segmentation networks (Milioto et al., IROS 2019),
/// layer for layer and name for name as PRBonn/lidar-bonnetal's `backbones/darknet.py`,
/// `decoders/darknet.py` and the head of `modules/segmentator.py` at output stride 32.
///
/// - `backbone`: `conv1` 3x3 (no bias) to `stem_width` (32), `bn1`, leaky ReLU; five stages
///   `enc1`...`enc5`, each `conv` 3x3 with stride 1x2 (no bias), `bn`, leaky ReLU, then
///   `residual_0`... blocks (`conv1` 1x1 to half, `bn1`, leaky, `conv2` 3x3 back, `bn2`, leaky,
///   plus the input); one channel dropout (`dropout`) after every stage.
/// - `decoder`: five stages `dec5`...`dec1`, each `upconv` (transposed 1x4, stride 1x2,
///   padding 0x1, **with bias**), `bn`, leaky ReLU and one `residual` block that widens to the
///   stage's input width and back; each stage's output plus the encoder feature of its size,
///   **detached** (no gradient flows through the skips, as in the official code); channel
///   dropout (`decoder_dropout`) at the end.
/// - `head`: channel dropout (`head_dropout`, `head.0`) and a 3x3 convolution with bias
///   (`head.1`) to the classes.
///
/// Parameter names are the official files' keys with the prefixes `backbone.`, `decoder.` and
/// `head.`: a RangeNet++ model's three files, merged, load strictly. The official network ends
/// in a softmax; this one returns the logits before it (the same argmax).
public final class DarkNet: SegmentationNetwork {
    public static let kind = "darknet"
    public static let summary = "RangeNet++'s DarkNet-21 / DarkNet-53 (PRBonn/lidar-bonnetal), blocks [1,1,2,2,1] / [1,2,8,8,4]"
    /// DarkNet-21 as `darknet21.yaml`: stem 32, widths 64-1024, dropout 0.01 everywhere.
    public static let defaultArchitecture = ArchitectureConfig(
        kind: kind, stemWidth: 32, widths: [64, 128, 256, 512, 1024], blocks: [1, 1, 2, 2, 1], leakySlope: 0.1,
        batchNormMomentum: 0.01, batchNormEpsilon: 1e-5, dropout: 0.01, decoderDropout: 0.01, headDropout: 0.01)
    /// The residual blocks per stage of DarkNet-21 and DarkNet-53 (the official `model_blocks`).
    public static let blocks21 = [1, 1, 2, 2, 1], blocks53 = [1, 2, 8, 8, 4]

    public static func problems(_ architecture: ArchitectureConfig) -> [String] { architecture.encoderProblems() }

    /// `darknet21` or `darknet53` for the official widths and blocks, else `darknet`.
    public static func name(_ architecture: ArchitectureConfig) -> String {
        guard architecture.stem == 32, architecture.widths == [64, 128, 256, 512, 1024] else { return kind }
        switch architecture.blocks {
        case blocks21: return "darknet21"
        case blocks53: return "darknet53"
        default: return kind
        }
    }

    /// Every encoder stage halves the width only.
    public static func sizeDivisor(_ architecture: ArchitectureConfig) -> (height: Int, width: Int) {
        architecture.encoderSizeDivisor()
    }

    public let architecture: ArchitectureConfig
    /// `conv1`, `bn1`, `enc1`...`enc5` and the dropout after each stage (no state).
    public let backbone: ModuleGroup
    /// `dec5`...`dec1`, deepest first, and the dropout after the last.
    public let decoder: ModuleGroup
    /// `0`: dropout, `1`: the classifying convolution.
    public let head: Sequential
    public var isTraining = true

    /// The stem's layers (conv1, bn1, leaky ReLU), as run.
    let stem: [any Layer]
    let encoder: [Sequential]
    let decoderStages: [Sequential]
    let encoderDropout: Dropout2d
    let decoderDropout: Dropout2d
    let classifier: Conv2d
    /// The fused inference path's folded weights (InferenceFusion.swift).
    let inferenceCache = InferenceCache()

    public init(architecture a: ArchitectureConfig, generator: inout RandomGenerator) {
        precondition(a.problems.isEmpty, "invalid architecture: \(a.problems.joined(separator: "; "))")
        architecture = a
        func bn(_ c: Int) -> BatchNorm2d { BatchNorm2d(channels: c, momentum: a.batchNormMomentum, epsilon: a.batchNormEpsilon) }
        func leaky() -> LeakyReLU { LeakyReLU(slope: a.leakySlope) }
        /// The official BasicBlock(inplanes, planes): 1x1 inplanes -> planes[0], 3x3 -> planes[1].
        func block(_ channels: Int, hidden: Int) -> Residual {
            Residual(body: Sequential(named: [
                ("conv1", Conv2d(inputChannels: channels, outputChannels: hidden, kernelSize: 1, bias: false, generator: &generator)),
                ("bn1", bn(hidden)), ("relu1", leaky()),
                ("conv2", Conv2d(inputChannels: hidden, outputChannels: channels, kernelSize: 3, padding: 1, bias: false,
                                 generator: &generator)),
                ("bn2", bn(channels)), ("relu2", leaky()),
            ]), flattened: true)
        }

        let conv1 = Conv2d(inputChannels: a.inputChannels, outputChannels: a.stem, kernelSize: 3, padding: 1, bias: false,
                           generator: &generator)
        let bn1 = bn(a.stem)
        stem = [conv1, bn1, leaky()]
        var stages: [Sequential] = []
        var cin = a.stem
        for (w, count) in zip(a.widths, a.blocks) {
            var layers: [(String, any Layer)] = [
                ("conv", Conv2d(inputChannels: cin, outputChannels: w, kernelSize: 3, stride: Size2D(1, 2), padding: 1,
                                bias: false, generator: &generator)),
                ("bn", bn(w)), ("relu", leaky()),
            ]
            for i in 0 ..< count { layers.append(("residual_\(i)", block(w, hidden: cin))) }
            stages.append(Sequential(named: layers))
            cin = w
        }
        encoder = stages
        encoderDropout = Dropout2d(probability: a.dropout, generator: &generator)
        // The dropouts have no state but are children, so that eval() switches them off.
        backbone = ModuleGroup([("conv1", conv1), ("bn1", bn1)]
                               + stages.enumerated().map { (name: "enc\($0.offset + 1)", module: $0.element as any Module) }
                               + [("dropout", encoderDropout)])

        var upStages: [Sequential] = []
        for cout in a.widths.dropLast().reversed() + [a.stem] {
            upStages.append(Sequential(named: [
                ("upconv", ConvTranspose2d(inputChannels: cin, outputChannels: cout, kernelSize: Size2D(1, 4), stride: Size2D(1, 2),
                                           padding: Size2D(0, 1), bias: true, generator: &generator)),
                ("bn", bn(cout)), ("relu", leaky()),
                ("residual", block(cout, hidden: cin)),
            ]))
            cin = cout
        }
        decoderStages = upStages
        decoderDropout = Dropout2d(probability: a.decoderDropout, generator: &generator)
        let count = upStages.count
        decoder = ModuleGroup(upStages.enumerated().map { (name: "dec\(count - $0.offset)", module: $0.element as any Module) }
                              + [("dropout", decoderDropout)])

        classifier = Conv2d(inputChannels: cin, outputChannels: a.classes, kernelSize: 3, padding: 1, bias: true, generator: &generator)
        head = Sequential([Dropout2d(probability: a.headDropout, generator: &generator), classifier])
    }

    public var children: [(name: String, module: any Module)] {
        [("backbone", backbone), ("decoder", decoder), ("head", head)]
    }

    /// `stem`, `enc1`...`enc5` (after their dropout), `dec5`...`dec1` (after their skip).
    public var featureNames: [String] {
        ["stem"] + encoder.indices.map { "enc\($0 + 1)" } + decoderStages.indices.map { "dec\(decoderStages.count - $0)" }
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        if usesFusedInference {
            checkInput(input)
            return fusedForward(input)
        }
        return forward(input, keeping: []).logits
    }

    public func forward(_ input: Tensor, keeping names: Set<String>) -> (logits: Tensor, features: [String: Tensor]) {
        checkInput(input)
        var features: [String: Tensor] = [:]
        func keep(_ name: String, _ x: Tensor) { if names.contains(name) { features[name] = x } }
        var x = stem.reduce(input) { $1($0) }
        keep("stem", x)
        var skips = [x]
        for (i, stage) in encoder.enumerated() {
            x = encoderDropout(stage(x))
            keep("enc\(i + 1)", x)
            skips.append(x)
        }
        skips.removeLast()  // the deepest feature is x itself
        for (j, stage) in decoderStages.enumerated() {
            x = stage(x) + skips.removeLast().detached()
            keep("dec\(decoderStages.count - j)", x)
        }
        x = head.layers[0](decoderDropout(x))
        return (classifier.logits(x), features)
    }

    /// Evaluation without gradients: batch norm folded into the convolutions, leaky ReLU and the
    /// residual and skip additions as post-ops; dropout is the identity.
    func fusedForward(_ input: Tensor) -> Tensor {
        var x = InferenceFusion.run(stem, input, cache: inferenceCache)
        var skips = [x]
        for stage in encoder {
            x = InferenceFusion.run(stage.layers, x, cache: inferenceCache)
            skips.append(x)
        }
        skips.removeLast()
        for stage in decoderStages {
            x = InferenceFusion.run(stage.layers, x, cache: inferenceCache, addends: [skips.removeLast()])
        }
        return classifier.logits(x)
    }

    public func forwardFLOPs(batch: Int, height: Int, width: Int) -> Double {
        let a = architecture
        var macs = 0.0
        func conv(_ cin: Int, _ cout: Int, _ k: Int, outputWidth: Int) {
            macs += Double(batch * height * outputWidth) * Double(cin * cout * k * k)
        }
        func block(_ c: Int, hidden: Int, _ w: Int) { conv(c, hidden, 1, outputWidth: w); conv(hidden, c, 3, outputWidth: w) }
        conv(a.inputChannels, a.stem, 3, outputWidth: width)
        var cin = a.stem, w = width
        for (c, b) in zip(a.widths, a.blocks) {
            w /= 2
            conv(cin, c, 3, outputWidth: w)
            for _ in 0 ..< b { block(c, hidden: cin, w) }
            cin = c
        }
        for c in a.widths.dropLast().reversed() + [a.stem] {
            macs += Double(batch * height * w) * Double(cin * c * 4)  // transposed 1x4: each input pixel meets each weight once
            w *= 2
            block(c, hidden: cin, w)
            cin = c
        }
        conv(cin, a.classes, 3, outputWidth: w)
        return 2 * macs
    }
}

import Random

/// SalsaNext (Cortinhal et al., 2020), layer for layer and name for name as
/// TiagoCortinhal/SalsaNext's `train/tasks/semantic/modules/SalsaNext.py`: 59.5 mIoU on the
/// SemanticKITTI test set.
///
/// Every block is convolution (with bias) → leaky ReLU (slope 0.01) → batch norm, in that order.
/// - `downCntx`, `downCntx2`, `downCntx3`: context blocks (`ResContextBlock`) at full size.
/// - `resBlock1`...`resBlock5`: residual blocks of a 1x1 shortcut and three convolutions
///   (3x3, 3x3 dilated 2, 2x2 dilated 2) whose outputs are concatenated and fused by a 1x1
///   convolution; the first four end in channel dropout and 3x3 average pooling with stride 2
///   (halving height and width), and hand their unpooled output to the decoder as a skip.
/// - `upBlock1`...`upBlock4`: pixel shuffle (x2), concatenation with the skip, three
///   convolutions concatenated and fused as above; channel dropout in the first three.
/// - `logits`: a 1x1 convolution to the classes.
///
/// Widths: `stem_width` (32) for the context blocks, `widths` ([64, 128, 256, 256, 256]) for the
/// residual blocks; up block `j` writes `widths[n - 1 - j] / 2` channels. The official network
/// ends in a softmax; this one returns the logits before it (the same argmax).
public final class SalsaNext: SegmentationNetwork {
    public static let kind = "salsanext"
    public static let summary = "SalsaNext (TiagoCortinhal/SalsaNext): context and dilated residual blocks, average pooling, pixel-shuffle decoder (6.7 M parameters)"
    public static let defaultArchitecture = ArchitectureConfig(
        kind: kind, stemWidth: 32, widths: [64, 128, 256, 256, 256], blocks: [], leakySlope: 0.01,
        batchNormMomentum: 0.1, batchNormEpsilon: 1e-5, dropout: 0.2)

    public static func problems(_ a: ArchitectureConfig) -> [String] {
        var result: [String] = []
        if a.widths.count < 2 { result.append("salsanext needs at least 2 widths (residual blocks)") }
        if !a.blocks.isEmpty { result.append("salsanext has no blocks setting (leave blocks out or empty)") }
        if a.stem < 1 { result.append("stem_width must be at least 1") }
        if a.widths.contains(where: { $0 < 2 || $0 % 2 != 0 }) { result.append("widths must be even and at least 2") }
        if a.widths.count > 1, a.widths.last! % 4 != 0 || a.widths.dropFirst().dropLast().contains(where: { ($0 / 2) % 4 != 0 }) {
            result.append("pixel shuffle needs each up block's input channels divisible by 4")
        }
        if a.widths.count > ArchitectureConfig.maximumStages { result.append("at most \(ArchitectureConfig.maximumStages) widths") }
        return result
    }

    /// Each pooling halves height and width.
    public static func sizeDivisor(_ a: ArchitectureConfig) -> (height: Int, width: Int) {
        let d = a.widths.count >= 1 && a.widths.count <= ArchitectureConfig.maximumStages ? 1 << (a.widths.count - 1) : 1
        return (d, d)
    }

    public let architecture: ArchitectureConfig
    public let context: [ContextBlock]
    public let down: [ResidualBlock]
    public let up: [UpBlock]
    public let classifier: Conv2d
    public var isTraining = true
    /// The fused inference path's converted weights (see `fusedForward`).
    let inferenceCache = InferenceCache()

    public init(architecture a: ArchitectureConfig, generator: inout RandomGenerator) {
        precondition(a.problems.isEmpty, "invalid architecture: \(a.problems.joined(separator: "; "))")
        architecture = a
        context = [ContextBlock(a.inputChannels, a.stem, a, &generator), ContextBlock(a.stem, a.stem, a, &generator),
                   ContextBlock(a.stem, a.stem, a, &generator)]
        var blocks: [ResidualBlock] = []
        var cin = a.stem
        for (i, w) in a.widths.enumerated() {
            let last = i == a.widths.count - 1
            blocks.append(ResidualBlock(cin, w, pooling: !last, dropout: i > 0, a, &generator))
            cin = w
        }
        down = blocks
        var ups: [UpBlock] = []
        for j in 0 ..< a.widths.count - 1 {
            let skip = a.widths[a.widths.count - 2 - j]
            ups.append(UpBlock(cin, skip / 2, skipChannels: skip, dropout: j < a.widths.count - 2, a, &generator))
            cin = skip / 2
        }
        up = ups
        classifier = Conv2d(inputChannels: cin, outputChannels: a.classes, kernelSize: 1, generator: &generator)
    }

    public var children: [(name: String, module: any Module)] {
        let contextNames = ["downCntx", "downCntx2", "downCntx3"]
        return zip(contextNames, context).map { ($0, $1 as any Module) }
            + down.enumerated().map { ("resBlock\($0.offset + 1)", $0.element as any Module) }
            + up.enumerated().map { ("upBlock\($0.offset + 1)", $0.element as any Module) }
            + [("logits", classifier)]
    }

    /// `context`, `res1`...`res5` (the blocks' pooled outputs; the last unpooled), `up1`...`up4`.
    public var featureNames: [String] {
        ["context"] + down.indices.map { "res\($0 + 1)" } + up.indices.map { "up\($0 + 1)" }
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        if usesFusedInference {
            checkInput(input)
            return fusedForward(input)
        }
        return forward(input, keeping: []).logits
    }

    /// The fused-inference forward pass: each unit's convolution, leaky ReLU, batch norm (as a
    /// per-channel scale and shift: it follows the activation, so it cannot be folded into the
    /// weights) and a block's residual sum in one oneDNN convolution with post-ops.
    func fusedForward(_ input: Tensor) -> Tensor {
        let cache = inferenceCache
        var x = context.reduce(input) { $1($0, cache: cache) }
        var skips: [Tensor] = []
        for (i, block) in down.enumerated() {
            let (next, skip) = block.forward(x, cache: cache)
            if i < down.count - 1 { skips.append(skip) }
            x = next
        }
        for block in up { x = block(x, skip: skips.removeLast(), cache: cache) }
        return classifier.logits(x)
    }

    public func forward(_ input: Tensor, keeping names: Set<String>) -> (logits: Tensor, features: [String: Tensor]) {
        checkInput(input)
        var features: [String: Tensor] = [:]
        func keep(_ name: String, _ x: Tensor) { if names.contains(name) { features[name] = x } }
        var x = context.reduce(input) { $1($0) }
        keep("context", x)
        var skips: [Tensor] = []
        for (i, block) in down.enumerated() {
            let (next, skip) = block.forward(x)
            if i < down.count - 1 { skips.append(skip) }
            x = next
            keep("res\(i + 1)", x)
        }
        for (j, block) in up.enumerated() {
            x = block(x, skip: skips.removeLast())
            keep("up\(j + 1)", x)
        }
        return (classifier.logits(x), features)
    }

    public func forwardFLOPs(batch: Int, height: Int, width: Int) -> Double {
        let a = architecture
        var macs = 0.0
        var (h, w) = (height, width)
        func conv(_ cin: Int, _ cout: Int, _ k: Int) { macs += Double(batch * h * w) * Double(cin * cout * k * k) }
        var cin = a.inputChannels
        for _ in 0 ..< 3 {
            conv(cin, a.stem, 1); conv(a.stem, a.stem, 3); conv(a.stem, a.stem, 3)
            cin = a.stem
        }
        var sizes: [(Int, Int)] = []
        for (i, c) in a.widths.enumerated() {
            conv(cin, c, 1); conv(cin, c, 3); conv(c, c, 3); conv(c, c, 2); conv(3 * c, c, 1)
            cin = c
            if i < a.widths.count - 1 { sizes.append((h, w)); h = (h + 1) / 2; w = (w + 1) / 2 }
        }
        for j in 0 ..< a.widths.count - 1 {
            let skip = a.widths[a.widths.count - 2 - j], c = skip / 2
            (h, w) = sizes.removeLast()
            conv(cin / 4 + skip, c, 3); conv(c, c, 3); conv(c, c, 2); conv(3 * c, c, 1)
            cin = c
        }
        conv(cin, a.classes, 1)
        return 2 * macs
    }
}

extension SalsaNext {
    /// conv (bias) → leaky ReLU → batch norm, the order of every SalsaNext block.
    struct Unit {
        let conv: Conv2d
        let bn: BatchNorm2d?
        let slope: Float

        func callAsFunction(_ x: Tensor) -> Tensor {
            let y = leakyReLU(conv(x), slope: slope)
            return bn.map { $0(y) } ?? y
        }

        /// `addend + unit(x)`; with `cache` (evaluation mode, no gradients) as one convolution
        /// with post-ops (see `fusedConvolutionForInference`), where the output channels fill
        /// whole channel blocks (oneDNN 2.6's binary post-ops go wrong on a partly filled one).
        func callAsFunction(_ x: Tensor, adding addend: Tensor? = nil, cache: InferenceCache?) -> Tensor {
            let channels = conv.weight.shape[0]
            guard let cache, channels % ChannelBlock.size == 0 else {
                let y = self(x)
                return addend.map { $0 + y } ?? y
            }
            let conv = self.conv
            return fusedConvolutionForInference(
                x, layer: conv, weightShape: conv.weight.shape, transposed: false, stride: conv.stride,
                padding: conv.padding, dilation: conv.dilation, leakySlope: slope, channelAffine: bn?.evaluationAffine,
                addends: addend.map { [$0] } ?? [], versions: [conv.weight.version, conv.bias?.version ?? -1], cache: cache
            ) { (conv.weight, conv.bias ?? Tensor(zeros: [channels])) }
        }
    }

    static func unit(_ cin: Int, _ cout: Int, kernel: Int, dilation: Int = 1, padding: Int = 0, norm: Bool = true,
                     _ a: ArchitectureConfig, _ g: inout RandomGenerator) -> Unit {
        Unit(conv: Conv2d(inputChannels: cin, outputChannels: cout, kernelSize: Size2D(square: kernel),
                          padding: Size2D(square: padding), dilation: Size2D(square: dilation), bias: true, generator: &g),
             bn: norm ? BatchNorm2d(channels: cout, momentum: a.batchNormMomentum, epsilon: a.batchNormEpsilon) : nil,
             slope: a.leakySlope)
    }

    /// `ResContextBlock`: shortcut = leaky(conv1 1x1); a = bn1(leaky(conv2 3x3 (shortcut)));
    /// shortcut + bn2(leaky(conv3 3x3 dilated 2 (a))).
    public final class ContextBlock: Layer {
        let units: [Unit]
        public var isTraining = true

        init(_ cin: Int, _ cout: Int, _ a: ArchitectureConfig, _ g: inout RandomGenerator) {
            units = [SalsaNext.unit(cin, cout, kernel: 1, norm: false, a, &g),
                     SalsaNext.unit(cout, cout, kernel: 3, padding: 1, a, &g),
                     SalsaNext.unit(cout, cout, kernel: 3, dilation: 2, padding: 2, a, &g)]
        }

        public var children: [(name: String, module: any Module)] { SalsaNext.names(units) }

        public func callAsFunction(_ x: Tensor) -> Tensor { self(x, cache: nil) }

        /// With `cache`, the fused inference path.
        func callAsFunction(_ x: Tensor, cache: InferenceCache?) -> Tensor {
            let shortcut = units[0](x, cache: cache)
            return units[2](units[1](shortcut, cache: cache), adding: shortcut, cache: cache)
        }
    }

    /// `ResBlock`: shortcut = leaky(conv1 1x1 (x)); a1, a2, a3 = the 3x3, 3x3 dilated 2 and 2x2
    /// dilated 2 units in a chain from x; a = shortcut + bn4(leaky(conv5 1x1 (cat(a1, a2, a3)))).
    /// Returns (pool(dropout(a)), a) with pooling, else (dropout(a), a).
    public final class ResidualBlock: Module {
        let units: [Unit]
        let dropout: Dropout2d?
        let pooling: Bool
        public var isTraining = true

        init(_ cin: Int, _ cout: Int, pooling: Bool, dropout: Bool, _ a: ArchitectureConfig, _ g: inout RandomGenerator) {
            units = [SalsaNext.unit(cin, cout, kernel: 1, norm: false, a, &g),
                     SalsaNext.unit(cin, cout, kernel: 3, padding: 1, a, &g),
                     SalsaNext.unit(cout, cout, kernel: 3, dilation: 2, padding: 2, a, &g),
                     SalsaNext.unit(cout, cout, kernel: 2, dilation: 2, padding: 1, a, &g),
                     SalsaNext.unit(3 * cout, cout, kernel: 1, a, &g)]
            self.pooling = pooling
            self.dropout = dropout ? Dropout2d(probability: a.dropout, generator: &g) : nil
        }

        public var children: [(name: String, module: any Module)] {
            SalsaNext.names(units) + (dropout.map { [("dropout", $0 as any Module)] } ?? [])
        }

        /// With `cache`, the fused inference path.
        func forward(_ x: Tensor, cache: InferenceCache? = nil) -> (next: Tensor, skip: Tensor) {
            let shortcut = units[0](x, cache: cache)
            let a1 = units[1](x, cache: cache), a2 = units[2](a1, cache: cache), a3 = units[3](a2, cache: cache)
            let a = units[4](concatenate([a1, a2, a3]), adding: shortcut, cache: cache)
            let b = dropout.map { $0(a) } ?? a
            return (pooling ? averagePool2d(b, kernel: Size2D(square: 3), stride: Size2D(square: 2), padding: Size2D(square: 1)) : b, a)
        }
    }

    /// `UpBlock`: pixel shuffle (x2) of x, concatenated with the skip; e1, e2, e3 = the 3x3,
    /// 3x3 dilated 2 and 2x2 dilated 2 units in a chain; bn4(leaky(conv4 1x1 (cat(e1, e2, e3)))),
    /// with dropout after the shuffle, the concatenation and at the end when `dropout`.
    public final class UpBlock: Module {
        let units: [Unit]
        let dropouts: [Dropout2d]
        public var isTraining = true

        init(_ cin: Int, _ cout: Int, skipChannels: Int, dropout: Bool, _ a: ArchitectureConfig, _ g: inout RandomGenerator) {
            dropouts = dropout ? (0 ..< 3).map { _ in Dropout2d(probability: a.dropout, generator: &g) } : []
            units = [SalsaNext.unit(cin / 4 + skipChannels, cout, kernel: 3, padding: 1, a, &g),
                     SalsaNext.unit(cout, cout, kernel: 3, dilation: 2, padding: 2, a, &g),
                     SalsaNext.unit(cout, cout, kernel: 2, dilation: 2, padding: 1, a, &g),
                     SalsaNext.unit(3 * cout, cout, kernel: 1, a, &g)]
        }

        public var children: [(name: String, module: any Module)] {
            SalsaNext.names(units) + dropouts.enumerated().map { ("dropout\($0.offset + 1)", $0.element as any Module) }
        }

        /// With `cache`, the fused inference path.
        func callAsFunction(_ x: Tensor, skip: Tensor, cache: InferenceCache? = nil) -> Tensor {
            func drop(_ i: Int, _ t: Tensor) -> Tensor { dropouts.isEmpty ? t : dropouts[i](t) }
            let joined = drop(1, concatenate([drop(0, pixelShuffle(x, upscale: 2)), skip]))
            let e1 = units[0](joined, cache: cache), e2 = units[1](e1, cache: cache), e3 = units[2](e2, cache: cache)
            return drop(2, units[3](concatenate([e1, e2, e3]), cache: cache))
        }
    }

    /// The official names: `conv1`, `conv2`, ... for the convolutions and `bn1`, `bn2`, ... for
    /// the batch norms in order (a unit without one skips its number).
    static func names(_ units: [Unit]) -> [(name: String, module: any Module)] {
        var result: [(name: String, module: any Module)] = []
        var norms = 0
        for (i, unit) in units.enumerated() {
            result.append(("conv\(i + 1)", unit.conv))
            if let bn = unit.bn {
                norms += 1
                result.append(("bn\(norms)", bn))
            }
        }
        return result
    }
}

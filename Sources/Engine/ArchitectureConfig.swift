import Formats

/// The shape of a network, as an architecture file (`data/networks/*.yaml`, read by the
/// Training library) writes it. One type for every network; each network reads the keys it
/// has and ignores the others (`kind` says which network it is).
///
/// ```yaml
/// kind: darknet              # rangenet-lite (the default), darknet or salsanext
/// input_depth: {range: true, xyz: true, remission: true}   # the range image's channels used
/// classes: 20
/// stem_width: 32             # the stem's channels (default: widths[0])
/// widths: [64, 128, 256, 512, 1024]  # one per encoder stage; each halves the image width
/// blocks: [1, 1, 2, 2, 1]            # residual blocks per encoder stage
/// dropout: 0.01              # backbone (DarkNet) or every block's (SalsaNext) channel dropout
/// decoder_dropout: 0.01
/// head_dropout: 0.01
/// ```
/// A missing key takes the default of the named `kind` (`Networks.type(of:)`'s
/// `defaultArchitecture`); an unknown key is an error that names the nearest valid one.
public struct ArchitectureConfig: Codable, Sendable, Equatable {
    /// Which network: a `SegmentationNetwork.kind` (`rangenet-lite`, `darknet`, `salsanext`).
    public var kind: String
    /// The range image's channels the network reads (RangeNet++'s `input_depth`).
    public var inputs: InputChannels
    public var classes: Int
    /// Channels of the stem (the first convolution); nil: `widths[0]`.
    public var stemWidth: Int?
    public var widths: [Int]
    public var blocks: [Int]
    public var leakySlope: Float
    public var batchNormMomentum: Float
    public var batchNormEpsilon: Float
    /// Channel dropout in the encoder (DarkNet's backbone), or in every block (SalsaNext).
    public var dropout: Float
    /// Channel dropout after the decoder (DarkNet).
    public var decoderDropout: Float
    /// Channel dropout before the head's convolution (DarkNet).
    public var headDropout: Float

    /// The range image's five channels, each on or off, as RangeNet++'s `input_depth`.
    public struct InputChannels: Codable, Sendable, Equatable {
        public var range = true
        public var xyz = true
        public var remission = true

        public init(range: Bool = true, xyz: Bool = true, remission: Bool = true) {
            self.range = range
            self.xyz = xyz
            self.remission = remission
        }

        /// Indices into the range image's channels (range, x, y, z, remission) that are on.
        public var indices: [Int] {
            (range ? [0] : []) + (xyz ? [1, 2, 3] : []) + (remission ? [4] : [])
        }

        /// Names of the channels that are on, in order.
        public var names: [String] { indices.map { Self.all[$0] } }

        /// The five channels of a range image, in order.
        public static let all = ["range", "x", "y", "z", "remission"]

        enum CodingKeys: String, CodingKey, CaseIterable { case range, xyz, remission }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            range = try c.value(.range, or: true)
            xyz = try c.value(.xyz, or: true)
            remission = try c.value(.remission, or: true)
        }
    }

    /// RangeNet-lite: widths 16-32-64-128-256, blocks 1-1-2-2-1, all 5 inputs, 20 classes.
    public static let rangeNetLite = ArchitectureConfig()

    public init(kind: String = "rangenet-lite", inputs: InputChannels = InputChannels(), classes: Int = 20,
                stemWidth: Int? = nil, widths: [Int] = [16, 32, 64, 128, 256], blocks: [Int] = [1, 1, 2, 2, 1],
                leakySlope: Float = 0.1, batchNormMomentum: Float = 0.01, batchNormEpsilon: Float = 1e-5,
                dropout: Float = 0, decoderDropout: Float = 0, headDropout: Float = 0) {
        self.kind = kind
        self.inputs = inputs
        self.classes = classes
        self.stemWidth = stemWidth
        self.widths = widths
        self.blocks = blocks
        self.leakySlope = leakySlope
        self.batchNormMomentum = batchNormMomentum
        self.batchNormEpsilon = batchNormEpsilon
        self.dropout = dropout
        self.decoderDropout = decoderDropout
        self.headDropout = headDropout
    }

    /// RangeNet-lite with another number of input channels (the first `inputChannels` of
    /// range, x, y, z, remission), for tests and small networks.
    public init(inputChannels: Int, classes: Int = 20, widths: [Int] = [16, 32, 64, 128, 256],
                blocks: [Int] = [1, 1, 2, 2, 1], leakySlope: Float = 0.1, batchNormMomentum: Float = 0.01,
                batchNormEpsilon: Float = 1e-5) {
        self.init(classes: classes, widths: widths, blocks: blocks, leakySlope: leakySlope,
                  batchNormMomentum: batchNormMomentum, batchNormEpsilon: batchNormEpsilon)
        explicitInputChannels = inputChannels == 5 ? nil : inputChannels
    }

    /// Set only by `init(inputChannels:...)` for networks that read other than the range
    /// image's channels (engine tests); never decoded or encoded.
    private var explicitInputChannels: Int?

    /// Channels of the network's input: those `inputs` selects.
    public var inputChannels: Int { explicitInputChannels ?? inputs.indices.count }

    /// The stem's channels.
    public var stem: Int { stemWidth ?? widths.first ?? 0 }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, inputDepth = "input_depth", inputChannels = "input_channels", classes, stemWidth = "stem_width",
             widths, blocks, leakySlope = "leaky_slope", batchNormMomentum = "batch_norm_momentum",
             batchNormEpsilon = "batch_norm_epsilon", dropout, decoderDropout = "decoder_dropout", headDropout = "head_dropout"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        kind = try c.value(.kind, or: "rangenet-lite")
        guard let network = Networks.type(of: kind) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [CodingKeys.kind],
                                                    debugDescription: "unknown network '\(kind)' (known: \(Networks.kinds.joined(separator: ", ")))"))
        }
        let d = network.defaultArchitecture
        inputs = try c.value(.inputDepth, or: d.inputs)
        // Files written before input_depth said `input_channels: 5`: accepted when it agrees.
        if let legacy = try c.decodeIfPresent(Int.self, forKey: .inputChannels), legacy != inputs.indices.count {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [CodingKeys.inputChannels],
                                                    debugDescription: "input_channels \(legacy) does not match input_depth's \(inputs.indices.count) channels (\(inputs.names.joined(separator: ", ")))"))
        }
        classes = try c.value(.classes, or: d.classes)
        stemWidth = try c.decodeIfPresent(Int.self, forKey: .stemWidth) ?? d.stemWidth
        widths = try c.value(.widths, or: d.widths)
        blocks = try c.value(.blocks, or: d.blocks)
        leakySlope = try c.value(.leakySlope, or: d.leakySlope)
        batchNormMomentum = try c.value(.batchNormMomentum, or: d.batchNormMomentum)
        batchNormEpsilon = try c.value(.batchNormEpsilon, or: d.batchNormEpsilon)
        dropout = try c.value(.dropout, or: d.dropout)
        decoderDropout = try c.value(.decoderDropout, or: d.decoderDropout)
        headDropout = try c.value(.headDropout, or: d.headDropout)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(inputs, forKey: .inputDepth)
        try c.encode(classes, forKey: .classes)
        try c.encodeIfPresent(stemWidth, forKey: .stemWidth)
        try c.encode(widths, forKey: .widths)
        try c.encode(blocks, forKey: .blocks)
        try c.encode(leakySlope, forKey: .leakySlope)
        try c.encode(batchNormMomentum, forKey: .batchNormMomentum)
        try c.encode(batchNormEpsilon, forKey: .batchNormEpsilon)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(decoderDropout, forKey: .decoderDropout)
        try c.encode(headDropout, forKey: .headDropout)
    }

    /// Problems that make the network impossible to build; empty when valid.
    public var problems: [String] {
        guard let network = Networks.type(of: kind) else {
            return ["unknown network '\(kind)' (known: \(Networks.kinds.joined(separator: ", ")))"]
        }
        var result: [String] = []
        if inputChannels < 1 { result.append("input_depth must switch on at least one channel") }
        if classes < 1 { result.append("classes must be at least 1") }
        for (name, p) in [("dropout", dropout), ("decoder_dropout", decoderDropout), ("head_dropout", headDropout)]
        where !(0 ..< 1).contains(p) {
            result.append("\(name) must be in [0, 1)")
        }
        return result + network.problems(self)
    }

    /// The name people know this network by (`rangenet-lite`, `darknet53`, `salsanext`).
    public var name: String { Networks.type(of: kind)?.name(self) ?? kind }

    /// The image height and width must be multiples of these.
    public var sizeDivisor: (height: Int, width: Int) {
        Networks.type(of: kind)?.sizeDivisor(self) ?? (1, 1)
    }

    /// The image width must be divisible by this.
    public var widthDivisor: Int { sizeDivisor.width }

    /// The most encoder stages a DarkNet-style network can have: each halves the image width,
    /// and range images are at most 65,536 = 2^16 pixels wide.
    public static let maximumStages = 16

    /// The size divisor of a DarkNet-style encoder (RangeNet-lite, DarkNet): each stage halves
    /// the width only (`2^stages`; meaningful for at most `maximumStages` stages).
    func encoderSizeDivisor() -> (height: Int, width: Int) {
        (1, widths.count <= Self.maximumStages ? 1 << widths.count : 1)
    }

    /// Problems of `widths` and `blocks` for a DarkNet-style encoder (RangeNet-lite, DarkNet).
    func encoderProblems() -> [String] {
        var result: [String] = []
        if widths.isEmpty { result.append("widths must not be empty") }
        if widths.count != blocks.count { result.append("widths and blocks must have the same length") }
        if widths.contains(where: { $0 < 2 || $0 % 2 != 0 }) { result.append("widths must be even and at least 2") }
        if let stemWidth, stemWidth < 1 { result.append("stem_width must be at least 1") }
        if blocks.contains(where: { $0 < 0 }) { result.append("blocks must not be negative") }
        if widths.count > Self.maximumStages {
            result.append("at most \(Self.maximumStages) encoder stages (widths), found \(widths.count): each halves the image width")
        }
        return result
    }
}

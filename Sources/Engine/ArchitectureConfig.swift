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

        /// Every key of `input_depth:`, once.
        public static let settings: [Setting<InputChannels>] = [
            Setting("range", \.range, "The range channel"),
            Setting("xyz", \.xyz, "The x, y and z channels"),
            Setting("remission", \.remission, "The remission channel"),
        ]

        public init(from decoder: any Decoder) throws { self.init(); try Self.settings.decode(into: &self, from: decoder) }
        public func encode(to encoder: any Encoder) throws { try Self.settings.encode(self, to: encoder) }
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

    /// Every key of an architecture file, once (`kind` first: the others default to that
    /// network's `defaultArchitecture`). `input_channels`, the key of files written before
    /// `input_depth`, is read by hand below.
    public static let settings: [Setting<ArchitectureConfig>] = [
        Setting("kind", \.kind, "The network: rangenet-lite, darknet, salsanext"),
        .block("input_depth", \.inputs, "The input channels the network reads"),
        Setting("classes", \.classes, "Learning classes (the label config's)"),
        Setting("stem_width", optional: \.stemWidth, "Channels of the stem (default: the first stage's)"),
        Setting("widths", \.widths, "Channels of each encoder stage"),
        Setting("blocks", \.blocks, "Residual blocks of each encoder stage"),
        Setting("leaky_slope", \.leakySlope, "Negative slope of the leaky ReLUs"),
        Setting("batch_norm_momentum", \.batchNormMomentum, "Batch norm's momentum of the running statistics (PyTorch's convention)"),
        Setting("batch_norm_epsilon", \.batchNormEpsilon, "Batch norm's epsilon"),
        Setting("dropout", \.dropout, "Channel dropout in the encoder"),
        Setting("decoder_dropout", \.decoderDropout, "Channel dropout in the decoder"),
        Setting("head_dropout", \.headDropout, "Channel dropout before the head"),
    ]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keys: Self.settings.map(\.key) + ["input_channels"])
        let kind = try c.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "kind")) ?? "rangenet-lite"
        guard let network = Networks.type(of: kind) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [AnyCodingKey(stringValue: "kind")],
                                                    debugDescription: "unknown network '\(kind)' (known: \(Networks.kinds.joined(separator: ", ")))"))
        }
        self = network.defaultArchitecture
        try Self.settings.decode(into: &self, from: decoder, extraKeys: ["input_channels"])
        // Files written before input_depth said `input_channels: 5`: accepted when it agrees.
        let legacyKey = AnyCodingKey(stringValue: "input_channels")
        if let legacy = try c.decodeIfPresent(Int.self, forKey: legacyKey), legacy != inputs.indices.count {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [legacyKey],
                                                    debugDescription: "input_channels \(legacy) does not match input_depth's \(inputs.indices.count) channels (\(inputs.names.joined(separator: ", ")))"))
        }
    }

    public func encode(to encoder: any Encoder) throws { try Self.settings.encode(self, to: encoder) }

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

import Formats

/// The shape of a RangeNet-lite network, as an architecture file (`data/rangenet-lite.yaml`,
/// read by the Training library) writes it.
///
/// ```yaml
/// input_channels: 5          # range, x, y, z, remission
/// classes: 20
/// widths: [16, 32, 64, 128, 256]   # one per encoder stage; each halves the image width
/// blocks: [1, 1, 2, 2, 1]          # residual blocks per encoder stage
/// ```
/// Missing keys take the defaults above (RangeNet-lite as in the PyTorch reference); an unknown
/// key is an error that names the nearest valid one.
public struct ArchitectureConfig: Codable, Sendable, Equatable {
    public var inputChannels: Int
    public var classes: Int
    public var widths: [Int]
    public var blocks: [Int]
    public var leakySlope: Float
    public var batchNormMomentum: Float
    public var batchNormEpsilon: Float

    /// The reference network: widths 16-32-64-128-256, blocks 1-1-2-2-1, 5 inputs, 20 classes.
    public static let rangeNetLite = ArchitectureConfig()

    public init(inputChannels: Int = 5, classes: Int = 20, widths: [Int] = [16, 32, 64, 128, 256],
                blocks: [Int] = [1, 1, 2, 2, 1], leakySlope: Float = 0.1, batchNormMomentum: Float = 0.01,
                batchNormEpsilon: Float = 1e-5) {
        self.inputChannels = inputChannels
        self.classes = classes
        self.widths = widths
        self.blocks = blocks
        self.leakySlope = leakySlope
        self.batchNormMomentum = batchNormMomentum
        self.batchNormEpsilon = batchNormEpsilon
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case inputChannels = "input_channels", classes, widths, blocks
        case leakySlope = "leaky_slope", batchNormMomentum = "batch_norm_momentum", batchNormEpsilon = "batch_norm_epsilon"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = ArchitectureConfig()
        inputChannels = try c.value(.inputChannels, or: d.inputChannels)
        classes = try c.value(.classes, or: d.classes)
        widths = try c.value(.widths, or: d.widths)
        blocks = try c.value(.blocks, or: d.blocks)
        leakySlope = try c.value(.leakySlope, or: d.leakySlope)
        batchNormMomentum = try c.value(.batchNormMomentum, or: d.batchNormMomentum)
        batchNormEpsilon = try c.value(.batchNormEpsilon, or: d.batchNormEpsilon)
    }

    /// Problems that make the network impossible to build; empty when valid.
    public var problems: [String] {
        var result: [String] = []
        if inputChannels < 1 { result.append("input_channels must be at least 1") }
        if classes < 1 { result.append("classes must be at least 1") }
        if widths.isEmpty { result.append("widths must not be empty") }
        if widths.count != blocks.count { result.append("widths and blocks must have the same length") }
        if widths.contains(where: { $0 < 2 || $0 % 2 != 0 }) { result.append("widths must be even and at least 2") }
        if blocks.contains(where: { $0 < 0 }) { result.append("blocks must not be negative") }
        if widths.count > Self.maximumStages {
            result.append("at most \(Self.maximumStages) encoder stages (widths), found \(widths.count): each halves the image width")
        }
        return result
    }

    /// The most encoder stages a network can have: each halves the image width, and range
    /// images are at most 65,536 = 2^16 pixels wide.
    public static let maximumStages = 16

    /// The image width must be divisible by this (`2^stages`; meaningful for at most
    /// `maximumStages` stages).
    public var widthDivisor: Int { 1 << widths.count }
}

import Foundation
import Formats
import Yams

/// The shape of a RangeNet-lite network, read from a YAML architecture file
/// (`data/rangenet-lite.yaml`).
///
/// ```yaml
/// input_channels: 5          # range, x, y, z, remission
/// classes: 20
/// widths: [16, 32, 64, 128, 256]   # one per encoder stage; each halves the image width
/// blocks: [1, 1, 2, 2, 1]          # residual blocks per encoder stage
/// ```
/// Missing keys take the defaults above (RangeNet-lite as in the PyTorch reference).
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

    enum CodingKeys: String, CodingKey {
        case inputChannels = "input_channels", classes, widths, blocks
        case leakySlope = "leaky_slope", batchNormMomentum = "batch_norm_momentum", batchNormEpsilon = "batch_norm_epsilon"
    }

    public init(from decoder: any Decoder) throws {
        let d = ArchitectureConfig()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inputChannels = try c.decodeIfPresent(Int.self, forKey: .inputChannels) ?? d.inputChannels
        classes = try c.decodeIfPresent(Int.self, forKey: .classes) ?? d.classes
        widths = try c.decodeIfPresent([Int].self, forKey: .widths) ?? d.widths
        blocks = try c.decodeIfPresent([Int].self, forKey: .blocks) ?? d.blocks
        leakySlope = try c.decodeIfPresent(Float.self, forKey: .leakySlope) ?? d.leakySlope
        batchNormMomentum = try c.decodeIfPresent(Float.self, forKey: .batchNormMomentum) ?? d.batchNormMomentum
        batchNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .batchNormEpsilon) ?? d.batchNormEpsilon
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
        return result
    }

    /// The image width must be divisible by this (`2^stages`).
    public var widthDivisor: Int { 1 << widths.count }

    /// Decodes YAML text.
    public static func decode(yaml: String, file: String = "<yaml>") throws(FormatError) -> ArchitectureConfig {
        let config: ArchitectureConfig
        // Unknown keys are mistakes (a misspelt `widths` would otherwise fall back silently).
        if let mapping = (try? Yams.load(yaml: yaml)) as? [String: Any] {
            let known = Set(["input_channels", "classes", "widths", "blocks", "leaky_slope", "batch_norm_momentum",
                             "batch_norm_epsilon"])
            if let unknown = mapping.keys.sorted().first(where: { !known.contains($0) }) {
                throw FormatError(file: file, reason: "\(unknown): unknown key (expected one of \(known.sorted().joined(separator: ", ")))")
            }
        }
        do {
            config = try YAMLDecoder().decode(ArchitectureConfig.self, from: yaml)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw FormatError(file: file, reason: "\(path.isEmpty ? "" : path + ": ")\(context.debugDescription)")
        } catch {
            throw FormatError(file: file, reason: "not a valid architecture file: \(error)")
        }
        if let problem = config.problems.first { throw FormatError(file: file, reason: problem) }
        return config
    }

    /// Reads a YAML architecture file.
    public static func load(from url: URL) throws(FormatError) -> ArchitectureConfig {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw FormatError(file: url, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(yaml: text, file: url.path)
    }
}

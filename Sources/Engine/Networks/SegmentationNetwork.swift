import Random

/// A range-image segmentation network: what training, inference, evaluation, benchmarks and
/// export need of one, whichever network it is.
///
/// A network maps a normalised range image `[B, architecture.inputChannels, H, W]` to float32
/// logits `[B, architecture.classes, H, W]`, exposes its parameters and buffers under the
/// names of the official PyTorch code's `state_dict()` (so checkpoints load both ways), and
/// can keep named intermediate feature maps for the centroid loss.
///
/// To add a network: one file with a type conforming to this protocol, one line in
/// `Networks.all`, an architecture file in `data/networks/`, and its tests (docs/extending.md).
public protocol SegmentationNetwork: Layer {
    /// The name in architecture files (`kind: darknet`).
    static var kind: String { get }
    /// One line for `--help` and the README: what the network is and where it comes from.
    static var summary: String { get }
    /// The architecture a file with only `kind:` gets.
    static var defaultArchitecture: ArchitectureConfig { get }
    /// What makes `architecture` impossible to build, beyond the common checks; empty when fine.
    static func problems(_ architecture: ArchitectureConfig) -> [String]
    /// The name people know `architecture` by (`darknet53`); by default `kind`.
    static func name(_ architecture: ArchitectureConfig) -> String
    /// Image height and width must be multiples of these.
    static func sizeDivisor(_ architecture: ArchitectureConfig) -> (height: Int, width: Int)

    /// A network with PyTorch's default initialisation drawn from `generator`.
    init(architecture: ArchitectureConfig, generator: inout RandomGenerator)

    var architecture: ArchitectureConfig { get }
    /// The feature maps `forward(_:keeping:)` can keep, shallow to deep; the last is the
    /// decoder's full-resolution output (what the centroid loss clusters by default).
    var featureNames: [String] { get }
    /// The logits and the named feature maps of one forward pass (layer by layer, recording
    /// gradients when they are on). Feature maps stay in the graph; detach them to use them as
    /// constants.
    func forward(_ input: Tensor, keeping names: Set<String>) -> (logits: Tensor, features: [String: Tensor])
    /// Floating-point operations of one forward pass: `2 · MACs` of every convolution and
    /// transposed convolution (batch norm, activations, pooling and additions not counted).
    func forwardFLOPs(batch: Int, height: Int, width: Int) -> Double
}

extension SegmentationNetwork {
    public var kind: String { Self.kind }

    public static func name(_ architecture: ArchitectureConfig) -> String { kind }

    /// Whether a network with a fused inference path takes it: evaluation mode, no gradients.
    var usesFusedInference: Bool { !isTraining && !GradientMode.isEnabled }

    /// Checks an input before a forward pass: rank 4, the network's channels, a size it can take.
    func checkInput(_ input: Tensor) {
        let divisor = Self.sizeDivisor(architecture)
        precondition(input.rank == 4 && input.shape[1] == architecture.inputChannels
                     && input.shape[2] % divisor.height == 0 && input.shape[3] % divisor.width == 0,
                     "\(Self.kind) expects [B, \(architecture.inputChannels), H, W] with H divisible by \(divisor.height) and W by \(divisor.width), got \(input.shape)")
    }
}

/// The networks RangeSeg knows, by `kind`.
public enum Networks {
    /// Every network type. A new network is one line here.
    public static let all: [any SegmentationNetwork.Type] = [RangeNetLite.self, DarkNet.self, SalsaNext.self]

    /// The kinds, as architecture files name them.
    public static var kinds: [String] { all.map { $0.kind } }

    /// The network type of `kind`, or nil.
    public static func type(of kind: String) -> (any SegmentationNetwork.Type)? {
        all.first { $0.kind == kind }
    }

    /// A new network of `architecture` (which must be valid: see `ArchitectureConfig.problems`).
    public static func make(_ architecture: ArchitectureConfig, generator: inout RandomGenerator) -> any SegmentationNetwork {
        precondition(architecture.problems.isEmpty, "invalid architecture: \(architecture.problems.joined(separator: "; "))")
        guard let type = type(of: architecture.kind) else { preconditionFailure("unknown network \(architecture.kind)") }
        return type.init(architecture: architecture, generator: &generator)
    }
}

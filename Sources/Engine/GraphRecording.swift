/// The operations one forward pass ran, in order, with the tensors they read and wrote: what an
/// exporter (ONNX) needs to write any network built from the engine's operations, without
/// knowing the network.
///
/// ```swift
/// let (logits, recording) = GraphRecording.record(input: x) { network.forward(x, keeping: []).logits }
/// for step in recording.steps { ... step.operation, step.inputs, step.output ... }
/// ```
/// Values are numbered: the input is 0, each step's output the next number. A tensor that only
/// renames another (`detached()`, dropout in evaluation) keeps its number. Parameters are not
/// values: an operation holds them (`Operation.convolution(weight:...)`).
public final class GraphRecording: @unchecked Sendable {
    /// One operation of the forward pass.
    public enum Operation {
        /// `conv2d` (or with `transposed`, `convTranspose2d`, weight `[Cin, Cout, kh, kw]`).
        case convolution(weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D, dilation: Size2D, transposed: Bool)
        /// `batchNorm` with running statistics.
        case batchNorm(scale: Tensor, shift: Tensor, mean: Tensor, variance: Tensor, epsilon: Float)
        case leakyReLU(slope: Float)
        /// Element-wise sum of the two inputs.
        case add
        /// Concatenation of the inputs along `axis`.
        case concatenate(axis: Int)
        /// Average pooling with zero padding counted (PyTorch's `count_include_pad=True`).
        case averagePool(kernel: Size2D, stride: Size2D, padding: Size2D)
        /// `[N, C r², H, W] -> [N, C, H r, W r]` (PyTorch's PixelShuffle, ONNX DepthToSpace CRD).
        case pixelShuffle(upscale: Int)
    }

    /// An operation with the numbers of its input values and of its output value.
    public struct Step {
        public let operation: Operation
        public let inputs: [Int]
        public let output: Int
    }

    public private(set) var steps: [Step] = []
    private var numbers: [ObjectIdentifier: Int] = [:]
    /// Every tensor seen, kept alive so that no identifier is reused during the recording.
    private var kept: [Tensor] = []
    /// What was recorded that has no operation above (its name), if anything.
    public private(set) var unsupported: [String] = []

    @TaskLocal static var current: GraphRecording?

    /// Runs `body` (a forward pass from `input`) and records its operations.
    public static func record<R>(input: Tensor, _ body: () throws -> R) rethrows -> (R, GraphRecording) {
        let recording = GraphRecording()
        recording.number(input)
        let result = try $current.withValue(recording) { try body() }
        return (result, recording)
    }

    /// The value number of `tensor`, or nil when the recording never saw it.
    public func number(of tensor: Tensor) -> Int? { numbers[ObjectIdentifier(tensor)] }

    @discardableResult
    private func number(_ tensor: Tensor) -> Int {
        if let n = numbers[ObjectIdentifier(tensor)] { return n }
        let n = numbers.count
        numbers[ObjectIdentifier(tensor)] = n
        kept.append(tensor)
        return n
    }

    /// Records `operation` from `inputs` to `output` when a recording is running.
    static func note(_ operation: @autoclosure () -> Operation, inputs: [Tensor], output: Tensor) {
        guard let recording = current else { return }
        let numbers = inputs.map { recording.number($0) }
        recording.steps.append(Step(operation: operation(), inputs: numbers, output: recording.number(output)))
    }

    /// Records that `alias` holds the same values as `original` (a detached copy).
    static func noteAlias(_ alias: Tensor, of original: Tensor) {
        guard let recording = current, let n = recording.numbers[ObjectIdentifier(original)] else { return }
        recording.numbers[ObjectIdentifier(alias)] = n
        recording.kept.append(alias)
    }

    /// Records an operation an exporter cannot write.
    static func noteUnsupported(_ name: String) {
        current?.unsupported.append(name)
    }
}

import Engine
import Foundation

/// Collects the nodes and initializers of an ONNX graph from the operations of a recorded
/// forward pass (`GraphRecording`).
///
/// Names follow the checkpoint's `state_dict()`: the convolution whose weight is
/// `enc.1.3.body.0.weight` becomes the node `enc.1.3.body.0` with initializers
/// `enc.1.3.body.0.weight` (and `.bias`); a batch norm is named by its module likewise. Nodes
/// without parameters are named after the node they read (`enc.1.3.body.0.relu`) or numbered
/// (`Add_3`, `Concat_1`). Each node's output value carries the node's name.
struct GraphBuilder {
    let foldBatchNorm: Bool
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    /// The state-dict name of each parameter and buffer tensor.
    private let names: [ObjectIdentifier: String]
    private var counts: [String: Int] = [:]

    init(foldBatchNorm: Bool, parameterNames: [NamedTensor], bufferNames: [(name: String, buffer: Buffer)]) {
        self.foldBatchNorm = foldBatchNorm
        var names: [ObjectIdentifier: String] = [:]
        for p in parameterNames { names[ObjectIdentifier(p.tensor)] = p.name }
        for (name, buffer) in bufferNames { if case .float(let t) = buffer { names[ObjectIdentifier(t)] = name } }
        self.names = names
    }

    /// The module a parameter belongs to: `enc.0.0` for `enc.0.0.weight`.
    private func module(of tensor: Tensor) -> String {
        let name = names[ObjectIdentifier(tensor)] ?? "unnamed"
        return name.split(separator: ".").dropLast().joined(separator: ".")
    }

    private mutating func numbered(_ op: String) -> String {
        counts[op, default: 0] += 1
        return "\(op)_\(counts[op]!)"
    }

    /// Adds a node per recorded operation, reading the graph input `input` (value 0) and writing
    /// the value `output.number` as `output.name`. With `foldBatchNorm`, a batch norm that is the
    /// only reader of a convolution's output is folded into that convolution.
    mutating func add(_ recording: GraphRecording, input: String, output: (number: Int, name: String)) {
        var values = [0: input]
        var readers: [Int: Int] = [:]
        for step in recording.steps { for i in step.inputs { readers[i, default: 0] += 1 } }
        let steps = recording.steps
        var i = 0
        while i < steps.count {
            let step = steps[i]
            let inputs = step.inputs.map { values[$0]! }
            let isOutput = step.output == output.number
            var result: String
            switch step.operation {
            case let .convolution(weight, bias, stride, padding, dilation, transposed):
                let name = module(of: weight)
                var folding: (BatchNorm2d, String)?
                var produced = step.output
                if foldBatchNorm, i + 1 < steps.count, case let .batchNorm(scale, shift, mean, variance, epsilon) = steps[i + 1].operation,
                   steps[i + 1].inputs == [step.output], readers[step.output] == 1 {
                    let norm = BatchNorm2d(channels: scale.scalarCount, epsilon: epsilon)
                    for (to, from) in [(norm.weight, scale), (norm.bias, shift), (norm.runningMean, mean), (norm.runningVariance, variance)] {
                        to.assign(from)
                    }
                    folding = (norm, module(of: scale))
                    produced = steps[i + 1].output
                    i += 1
                }
                result = convolution(transposed ? "ConvTranspose" : "Conv", name: name, input: inputs[0], weight: weight, bias: bias,
                                     outputAxis: transposed ? 1 : 0, kernel: weight.shape, stride: stride, padding: padding,
                                     dilation: dilation, folding: folding, output: produced == output.number ? output.name : nil)
                values[produced] = result
                i += 1
                continue
            case let .batchNorm(scale, shift, mean, variance, epsilon):
                let name = module(of: scale)
                result = node("BatchNormalization", name: name,
                              inputs: [inputs[0], initializer(names[ObjectIdentifier(scale)] ?? "\(name).weight", scale),
                                       initializer(names[ObjectIdentifier(shift)] ?? "\(name).bias", shift),
                                       initializer(names[ObjectIdentifier(mean)] ?? "\(name).running_mean", mean),
                                       initializer(names[ObjectIdentifier(variance)] ?? "\(name).running_var", variance)],
                              attributes: [.float("epsilon", epsilon)], output: isOutput ? output.name : nil)
            case let .leakyReLU(slope):
                result = node("LeakyRelu", name: "\(inputs[0]).relu", inputs: inputs, attributes: [.float("alpha", slope)],
                              output: isOutput ? output.name : nil)
            case .add:
                result = node("Add", name: numbered("Add"), inputs: inputs, doc: "\(inputs[0]) + \(inputs[1])",
                              output: isOutput ? output.name : nil)
            case let .concatenate(axis):
                result = node("Concat", name: numbered("Concat"), inputs: inputs, attributes: [.int("axis", axis)],
                              output: isOutput ? output.name : nil)
            case let .averagePool(kernel, stride, padding):
                result = node("AveragePool", name: numbered("AveragePool"), inputs: inputs, attributes: [
                    .ints("kernel_shape", [kernel.height, kernel.width]), .ints("strides", [stride.height, stride.width]),
                    .ints("pads", [padding.height, padding.width, padding.height, padding.width]), .int("count_include_pad", 1),
                ], output: isOutput ? output.name : nil)
            case let .pixelShuffle(upscale):
                result = node("DepthToSpace", name: numbered("DepthToSpace"), inputs: inputs,
                              attributes: [.int("blocksize", upscale), .string("mode", "CRD")], output: isOutput ? output.name : nil)
            }
            values[step.output] = result
            i += 1
        }
    }

    /// A `Conv` or `ConvTranspose` node; with `folding`, the batch norm after it is folded into
    /// its weight and bias (`BatchNorm2d.folded(intoWeight:bias:outputAxis:)`).
    mutating func convolution(_ op: String, name: String, input: String, weight: Tensor, bias: Tensor?, outputAxis: Int,
                              kernel: [Int], stride: Size2D, padding: Size2D, dilation: Size2D,
                              folding: (norm: BatchNorm2d, name: String)?, output: String? = nil) -> String {
        var (w, b) = (weight, bias)
        var doc: String?
        if let folding {
            (w, b) = folding.norm.folded(intoWeight: weight, bias: bias, outputAxis: outputAxis)
            doc = "\(name) with the batch norm \(folding.name) folded into its weight and bias"
        }
        var inputs = [input, initializer("\(name).weight", w, doc: doc)]
        if let b { inputs.append(initializer("\(name).bias", b, doc: doc)) }
        let attributes: [Onnx_AttributeProto] = [
            .ints("kernel_shape", [kernel[2], kernel[3]]),
            .ints("strides", [stride.height, stride.width]),
            .ints("pads", [padding.height, padding.width, padding.height, padding.width]),
            .ints("dilations", [dilation.height, dilation.width]),
        ]
        return node(op, name: name, inputs: inputs, attributes: attributes, doc: doc, output: output)
    }

    /// Adds a node whose one output is named `output` (default: the node's name); returns that name.
    mutating func node(_ op: String, name: String, inputs: [String], attributes: [Onnx_AttributeProto] = [],
                       doc: String? = nil, output: String? = nil) -> String {
        var node = Onnx_NodeProto()
        node.opType = op
        node.domain = ""
        node.name = name
        node.input = inputs
        node.output = [output ?? name]
        node.attribute = attributes
        if let doc { node.docString = doc }
        nodes.append(node)
        return output ?? name
    }

    /// Adds a float32 initializer and returns its name.
    mutating func initializer(_ name: String, _ tensor: Tensor, doc: String? = nil) -> String {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map(Int64.init)
        proto.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        proto.rawData = tensor.scalars.map(\.bitPattern.littleEndian).withUnsafeBytes { Data($0) }
        if let doc { proto.docString = doc }
        initializers.append(proto)
        return name
    }
}

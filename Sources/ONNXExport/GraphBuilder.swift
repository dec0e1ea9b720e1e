import Engine
import Foundation

/// Collects the nodes and initializers of an ONNX graph while walking a network's layers.
///
/// Names follow the checkpoint's `state_dict()`: the convolution `enc.1.3.body.0` becomes the
/// node `enc.1.3.body.0` with initializers `enc.1.3.body.0.weight` (and `.bias`), and each
/// node's output value carries the node's name.
struct GraphBuilder {
    let foldBatchNorm: Bool
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []

    init(foldBatchNorm: Bool) { self.foldBatchNorm = foldBatchNorm }

    /// Adds the nodes of `layers` (the children of the module called `prefix`) applied to the
    /// value `input`, and returns the name of the value they compute.
    mutating func add(_ layers: [any Layer], prefix: String, input: String) -> String {
        var x = input
        var i = 0
        while i < layers.count {
            let name = "\(prefix).\(i)"
            let next = i + 1 < layers.count ? layers[i + 1] as? BatchNorm2d : nil
            let folded = foldBatchNorm ? next : nil
            switch layers[i] {
            case let conv as Conv2d:
                x = convolution("Conv", name: name, input: x, weight: conv.weight, bias: conv.bias, outputAxis: 0,
                                kernel: conv.weight.shape, stride: conv.stride, padding: conv.padding,
                                dilation: conv.dilation, folding: folded.map { ($0, "\(prefix).\(i + 1)") })
                i += folded == nil ? 1 : 2
            case let conv as ConvTranspose2d:
                x = convolution("ConvTranspose", name: name, input: x, weight: conv.weight, bias: conv.bias, outputAxis: 1,
                                kernel: conv.weight.shape, stride: conv.stride, padding: conv.padding,
                                dilation: conv.dilation, folding: folded.map { ($0, "\(prefix).\(i + 1)") })
                i += folded == nil ? 1 : 2
            case let norm as BatchNorm2d:
                let inputs = [x,
                              initializer("\(name).weight", norm.weight),
                              initializer("\(name).bias", norm.bias),
                              initializer("\(name).running_mean", norm.runningMean),
                              initializer("\(name).running_var", norm.runningVariance)]
                x = node("BatchNormalization", name: name, inputs: inputs, attributes: [.float("epsilon", norm.epsilon)])
                i += 1
            case let leaky as LeakyReLU:
                x = node("LeakyRelu", name: name, inputs: [x], attributes: [.float("alpha", leaky.slope)])
                i += 1
            case let residual as Residual:
                let body = add(residual.body.layers, prefix: "\(name).body", input: x)
                x = node("Add", name: name, inputs: [x, body], doc: "residual: the block's input plus \(name).body")
                i += 1
            case let sequential as Sequential:
                x = add(sequential.layers, prefix: name, input: x)
                i += 1
            case is Dropout2d:
                i += 1  // the identity in evaluation
            default:
                preconditionFailure("the ONNX export does not know the layer \(name) (\(type(of: layers[i])))")
            }
        }
        return x
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

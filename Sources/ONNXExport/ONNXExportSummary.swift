import Foundation

/// What `ONNXExporter` wrote, for the command to report.
public struct ONNXExportSummary: Sendable {
    public var file: URL
    /// Size of the file in bytes.
    public var bytes: Int
    /// Shapes of the input and output, `N` for the dynamic batch.
    public var inputShape: [String]
    public var outputShape: [String]
    /// Number of nodes per operator, e.g. `["Conv": 31, ...]`.
    public var operators: [String: Int]
    /// Number of weights (scalars of all initializers).
    public var weights: Int
    public var batchNorm: ONNXExporter.BatchNormHandling

    init(model: Onnx_ModelProto, file: URL, bytes: Int, batchNorm: ONNXExporter.BatchNormHandling) {
        self.file = file
        self.bytes = bytes
        func shape(_ info: Onnx_ValueInfoProto) -> [String] {
            info.type.tensorType.shape.dim.map { dim in
                switch dim.value {
                case .dimParam(let name): name
                case .dimValue(let size): String(size)
                case nil: "?"
                }
            }
        }
        inputShape = shape(model.graph.input[0])
        outputShape = shape(model.graph.output[0])
        operators = model.graph.node.reduce(into: [:]) { $0[$1.opType, default: 0] += 1 }
        weights = model.graph.initializer.reduce(0) { $0 + Int($1.dims.reduce(1, *)) }
        self.batchNorm = batchNorm
    }
}

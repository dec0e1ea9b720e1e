/// Integer indices with a shape: class labels `[N, H, W]`, gather indices.
public struct IndexTensor: Sendable, Equatable {
    public let shape: [Int]
    public let indices: [Int32]

    public init(shape: [Int], indices: [Int32]) {
        precondition(shape.reduce(1, *) == indices.count, "shape \(shape) needs \(shape.reduce(1, *)) indices")
        self.shape = shape
        self.indices = indices
    }

    public var count: Int { indices.count }
}

import Cluster
import Engine
import Foundation

/// Sums every parameter's gradient over the ranks of a job, with one all-reduce per step.
///
/// The gradients are copied into one flat buffer, in `namedParameters()` order, followed by
/// one more value (the rank's summed loss, so that every rank learns the step's loss, and a
/// non-finite loss on any rank, in the same call); the buffer is summed over the ranks in
/// place and copied back into the gradients. For RangeNet-lite the buffer holds 1,226,036
/// gradient values, 4.9 MB. A parameter without a gradient on this rank (a rank without
/// micro-batches in an epoch's short last step) contributes zeros and receives the sum.
final class GradientAllReduce {
    let communicator: any Communicator
    private let parameters: [NamedTensor]
    private var buffer: [Float]
    /// Milliseconds of the last all-reduce call (the copies excluded).
    private(set) var lastMilliseconds = 0.0

    init(model: any Module, communicator: any Communicator) {
        self.communicator = communicator
        parameters = model.namedParameters()
        buffer = [Float](repeating: 0, count: parameters.reduce(0) { $0 + $1.tensor.scalarCount } + 1)
    }

    /// Replaces every parameter's gradient by its sum over the ranks and returns the sum of
    /// `loss` over the ranks.
    func callAsFunction(loss: Float) -> Float {
        buffer.withUnsafeMutableBufferPointer { flat in
            var offset = 0
            for p in parameters {
                let n = p.tensor.scalarCount
                let slice = UnsafeMutableBufferPointer(rebasing: flat[offset ..< offset + n])
                if let grad = p.tensor.grad {
                    grad.withUnsafeScalars { _ = slice.update(fromContentsOf: $0) }
                } else {
                    slice.update(repeating: 0)
                }
                offset += n
            }
            flat[offset] = loss
            let start = DispatchTime.now().uptimeNanoseconds
            communicator.allReduceSum(flat)
            lastMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            offset = 0
            for p in parameters {
                let n = p.tensor.scalarCount
                let slice = UnsafeBufferPointer(rebasing: flat[offset ..< offset + n])
                if let grad = p.tensor.grad {
                    grad.withUnsafeMutableScalars { _ = $0.update(fromContentsOf: slice) }
                } else {
                    // A leaf's backward adds the seed to its (empty) gradient: dθ/dθ = 1.
                    p.tensor.backward(seed: Tensor(shape: p.tensor.shape, scalars: Array(slice)))
                }
                offset += n
            }
            return flat[offset]
        }
    }
}

import Foundation

/// The processes ("ranks") of one job and the collective operations among them.
///
/// Every rank must call the collective operations in the same order with buffers of the same
/// size; each returns when all ranks have taken part. A single process is a job of one rank
/// whose operations do nothing (`SingleProcess`); `mpirun` starts jobs of several
/// (`MessagePassingWorld`, over Open MPI).
///
/// ```swift
/// let world = Cluster.world                 // MPI only when launched by mpirun
/// var gradient: [Float] = ...               // this rank's
/// world.allReduceSum(&gradient)             // now every rank holds the sum over all ranks
/// if world.rank == 0 { print("mean of \(world.size) ranks: \(gradient.map { $0 / Float(world.size) })") }
/// ```
///
/// A communication failure ends the whole job (Open MPI's default error handler), so the
/// operations do not throw.
public protocol Communicator: AnyObject, Sendable {
    /// This process's number, `0 ..< size`; rank 0 leads (writes files, prints).
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }

    /// Replaces `values` on every rank by their element-wise sum over all ranks.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>)
    /// Replaces `values` on every rank by their element-wise sum over all ranks (exact).
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Int64>)
    /// Copies `root`'s `values` into every rank's `values` (same count on every rank).
    func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int)
    /// `root`'s bytes, on every rank (the other ranks' `data` is ignored).
    func broadcast(_ data: Data, from root: Int) -> Data
    /// Returns when every rank has called it.
    func barrier()
    /// Stops every rank of the job at once with exit status `code`.
    func abort(code: Int32) -> Never
    /// Ends the job's communication (MPI_Finalize); call once, at the end of a successful run.
    func finish()
}

extension Communicator {
    /// Whether this rank leads the job: rank 0, which alone writes files and reports.
    public var isLeader: Bool { rank == 0 }

    /// Replaces `values` by their element-wise sum over all ranks.
    public func allReduceSum(_ values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { allReduceSum($0) }
    }

    /// Replaces `values` by their element-wise sum over all ranks.
    public func allReduceSum(_ values: inout [Int64]) {
        values.withUnsafeMutableBufferPointer { allReduceSum($0) }
    }

    /// Replaces `values` by `root`'s.
    public func broadcast(_ values: inout [Float], from root: Int) {
        values.withUnsafeMutableBufferPointer { broadcast($0, from: root) }
    }
}

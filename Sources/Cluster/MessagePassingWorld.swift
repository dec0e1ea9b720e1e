import CMPI
import Foundation

/// The ranks `mpirun` started, as Open MPI's `MPI_COMM_WORLD`.
///
/// Created once per process (`Cluster.world`): `init` calls `MPI_Init_thread` asking for
/// `MPI_THREAD_SERIALIZED`, and every operation takes a lock, so any thread may call, one at
/// a time; that is the promise behind `@unchecked Sendable`. `finish()` calls `MPI_Finalize`.
/// Counts are MPI's 32-bit `int`s: at most 2^31 - 1 elements per call.
public final class MessagePassingWorld: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let lock = NSLock()
    private var finished = false

    /// Initialises MPI. Call once per process (MPI cannot be initialised twice).
    init() {
        var provided: Int32 = 0
        check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_SERIALIZED), &provided), "MPI_Init_thread")
        precondition(provided >= Int32(MPI_THREAD_SERIALIZED), "Open MPI gives thread level \(provided), below MPI_THREAD_SERIALIZED")
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(rs_mpi_comm_world(), &rank)
        MPI_Comm_size(rs_mpi_comm_world(), &size)
        self.rank = Int(rank)
        self.size = Int(size)
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
        guard let base = values.baseAddress else { return }
        lock.withLock {
            check(MPI_Allreduce(rs_mpi_in_place(), base, count(values.count), rs_mpi_float(), rs_mpi_sum(), rs_mpi_comm_world()),
                  "MPI_Allreduce")
        }
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Int64>) {
        guard let base = values.baseAddress else { return }
        lock.withLock {
            check(MPI_Allreduce(rs_mpi_in_place(), base, count(values.count), rs_mpi_int64(), rs_mpi_sum(), rs_mpi_comm_world()),
                  "MPI_Allreduce")
        }
    }

    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) {
        guard let base = values.baseAddress else { return }
        lock.withLock {
            check(MPI_Bcast(base, count(values.count), rs_mpi_float(), Int32(root), rs_mpi_comm_world()), "MPI_Bcast")
        }
    }

    public func broadcast(_ data: Data, from root: Int) -> Data {
        var length = [Int64(rank == root ? data.count : 0)]
        lock.withLock {
            length.withUnsafeMutableBufferPointer {
                check(MPI_Bcast($0.baseAddress, 1, rs_mpi_int64(), Int32(root), rs_mpi_comm_world()), "MPI_Bcast")
            }
        }
        var bytes = rank == root ? [UInt8](data) : [UInt8](repeating: 0, count: Int(length[0]))
        lock.withLock {
            bytes.withUnsafeMutableBufferPointer {
                guard let base = $0.baseAddress else { return }
                check(MPI_Bcast(base, count($0.count), rs_mpi_byte(), Int32(root), rs_mpi_comm_world()), "MPI_Bcast")
            }
        }
        return Data(bytes)
    }

    public func barrier() {
        lock.withLock { check(MPI_Barrier(rs_mpi_comm_world()), "MPI_Barrier") }
    }

    public func abort(code: Int32) -> Never {
        // No lock: another thread may be inside a collective that will never complete.
        MPI_Abort(rs_mpi_comm_world(), code)
        exit(code)
    }

    public func finish() {
        lock.withLock {
            guard !finished else { return }
            finished = true
            check(MPI_Finalize(), "MPI_Finalize")
        }
    }

    private func count(_ n: Int) -> Int32 {
        precondition(n <= Int(Int32.max), "\(n) elements in one MPI call; at most \(Int32.max)")
        return Int32(n)
    }
}

/// MPI's default error handler ends the job on any error, so a failure code here means a
/// broken installation; stop with its name.
private func check(_ status: Int32, _ call: String) {
    precondition(status == MPI_SUCCESS, "\(call) failed with MPI error \(status)")
}

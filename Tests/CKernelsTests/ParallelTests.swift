import CKernels
import Foundation
import Testing

/// `rs_parallel_for`: the kernels' work shared among oneDNN's OpenMP threads. Serialized: the
/// thread limit one test sets holds for the whole process.
@Suite(.serialized) struct ParallelForTests {
    /// The test binary links oneDNN and with it GNU libgomp, so the kernels find its threads:
    /// as many as OpenMP's default, the usable cores (or OMP_NUM_THREADS).
    @Test func findsOpenMPsThreads() {
        let expected = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"].flatMap { Int($0) }
            ?? ProcessInfo.processInfo.activeProcessorCount
        #expect(Int(rs_parallel_threads()) == expected)
        rs_parallel_limit_threads(1)
        #expect(rs_parallel_threads() == 1)
        rs_parallel_limit_threads(0)
        #expect(Int(rs_parallel_threads()) == expected)
    }

    /// Every item is visited exactly once, for counts that do not split evenly and for work
    /// too small to share.
    @Test(arguments: [(count: 100_003, share: 1_000), (count: 7, share: 1), (count: 5, share: 1_000), (count: 0, share: 1)])
    func visitsEveryItemOnce(count: Int, share: Int) {
        let sharing = rs_parallel_share_here(1)
        defer { rs_parallel_share_here(sharing) }
        var visits = [Int32](repeating: 0, count: count)
        visits.withUnsafeMutableBufferPointer { buffer in
            rs_parallel_for(Int64(count), Int64(share), { context, begin, end in
                let visits = context!.assumingMemoryBound(to: Int32.self)
                for i in Int(begin) ..< Int(end) { visits[i] += 1 }
            }, buffer.baseAddress)
        }
        #expect(visits.allSatisfy { $0 == 1 })
    }

    /// Work is shared only where the calling thread opted in; elsewhere (a data loader beside
    /// the network) the whole loop runs in one call on the calling thread.
    @Test func sharesOnlyWhereTheThreadOptedIn() {
        func calls(sharing: Int32) -> Int {
            let previous = rs_parallel_share_here(sharing)
            defer { rs_parallel_share_here(previous) }
            var starts = [Int32](repeating: 0, count: 100_000)
            starts.withUnsafeMutableBufferPointer { buffer in
                rs_parallel_for(Int64(buffer.count), 1_000, { context, begin, _ in
                    context!.assumingMemoryBound(to: Int32.self)[Int(begin)] = 1
                }, buffer.baseAddress)
            }
            return starts.filter { $0 != 0 }.count
        }
        #expect(calls(sharing: 0) == 1)
        #expect(calls(sharing: 1) == Int(rs_parallel_threads()))
    }
}

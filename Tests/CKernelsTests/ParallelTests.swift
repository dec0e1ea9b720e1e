import CKernels
import Foundation
import Testing

/// `rs_parallel_for`: the kernels' work shared among oneDNN's OpenMP threads.
@Suite struct ParallelForTests {
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
        var visits = [Int32](repeating: 0, count: count)
        visits.withUnsafeMutableBufferPointer { buffer in
            rs_parallel_for(Int64(count), Int64(share), { context, begin, end in
                let visits = context!.assumingMemoryBound(to: Int32.self)
                for i in Int(begin) ..< Int(end) { visits[i] += 1 }
            }, buffer.baseAddress)
        }
        #expect(visits.allSatisfy { $0 == 1 })
    }
}

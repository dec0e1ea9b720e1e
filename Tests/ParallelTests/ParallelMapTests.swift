import Foundation
import Parallel
import Testing

@Suite struct ParallelMapTests {
    @Test func resultsAreInIndexOrderWhateverTheWorkers() throws {
        for workers in [1, 2, 5] {
            let squares = try parallelMap(100, workers: workers) { i -> Int in
                if i % 7 == 0 { usleep(200) } // uneven jobs
                return i * i
            }
            #expect(squares == (0 ..< 100).map { $0 * $0 })
        }
        #expect(try parallelMap(0) { $0 }.isEmpty)
    }

    @Test func theFirstFailingIndexWins() {
        struct Failure: Error, Equatable { let index: Int }
        let error = #expect(throws: Failure.self) {
            try parallelMap(50, workers: 1) { i -> Int in
                if i == 20 || i == 30 { throw Failure(index: i) }
                return i
            }
        }
        #expect(error == Failure(index: 20))
    }
}

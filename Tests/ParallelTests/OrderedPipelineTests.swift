import Foundation
import Parallel
import Testing

@Suite struct OrderedPipelineTests {
    /// Collects what the background stages saw.
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [Int] = []
        func add(_ i: Int) { lock.withLock { entries.append(i) } }
        var values: [Int] { lock.withLock { entries } }
    }

    struct Failure: Error, Equatable { let index: Int }

    @Test func everyItemGoesThroughTheStagesInOrder() throws {
        let finished = Log()
        var processed: [Int] = []
        try orderedPipeline(100, depth: 3, prepare: { $0 * 10 }, process: { i, value in
            processed.append(i)
            return value + 1
        }, finish: { i, value in
            #expect(value == i * 10 + 1)
            finished.add(i)
        })
        #expect(processed == Array(0 ..< 100))
        #expect(finished.values == Array(0 ..< 100))
    }

    /// A failing preparation stops the pipeline: the items before it are finished, none after.
    @Test func theItemsBeforeAFailureAreFinishedAndNoneAfter() {
        for failing in [0, 3, 9] {
            let finished = Log()
            let error = #expect(throws: Failure.self) {
                try orderedPipeline(10, prepare: { i in
                    if i == failing { throw Failure(index: i) }
                    return i
                }, process: { _, value in value }, finish: { i, _ in finished.add(i) })
            }
            #expect(error == Failure(index: failing))
            #expect(finished.values == Array(0 ..< failing))
        }
    }

    /// An error while finishing stops the pipeline too, and is the one thrown.
    @Test func aFailureWhileFinishingStopsIt() {
        let finished = Log()
        let error = #expect(throws: Failure.self) {
            try orderedPipeline(50, prepare: { $0 }, process: { _, value in value }, finish: { i, _ in
                if i == 5 { throw Failure(index: i) }
                finished.add(i)
            })
        }
        #expect(error == Failure(index: 5))
        #expect(finished.values == Array(0 ..< 5))
    }
}

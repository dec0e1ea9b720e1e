import Foundation

/// Runs `body` for every index in `0 ..< count` on up to `workers` threads and returns the
/// results in index order.
///
/// Workers take the next index from a shared counter, so uneven jobs balance themselves. After
/// the first error no new index is started and that error is thrown (the one of the lowest
/// index among those that failed). The results do not depend on the number of workers or on
/// their scheduling as long as `body(i)` depends on `i` only.
///
/// ```swift
/// let images = try parallelMap(scans.count) { i in projector.project(try Scan(bin: scans[i])) }
/// ```
public func parallelMap<T: Sendable>(_ count: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                                     _ body: @Sendable (Int) throws -> T) throws -> [T] {
    precondition(workers >= 1, "parallelMap needs at least one worker")
    guard count > 0 else { return [] }
    let state = ParallelState<T>(count)
    DispatchQueue.concurrentPerform(iterations: min(workers, count)) { _ in
        while let i = state.take() {
            do {
                state.finish(i, try body(i))
            } catch {
                state.fail(i, error)
            }
        }
    }
    return try state.results()
}

/// The work queue, results and errors of one `parallelMap`, guarded by a lock.
private final class ParallelState<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var values: [T?]
    private var errors: [(index: Int, error: any Error)] = []

    init(_ count: Int) { values = Array(repeating: nil, count: count) }

    /// The next index to run, or nil when all are taken or one has failed.
    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard errors.isEmpty, next < values.count else { return nil }
        defer { next += 1 }
        return next
    }

    func finish(_ i: Int, _ value: T) {
        lock.lock()
        values[i] = value
        lock.unlock()
    }

    func fail(_ i: Int, _ error: any Error) {
        lock.lock()
        errors.append((i, error))
        lock.unlock()
    }

    func results() throws -> [T] {
        lock.lock()
        defer { lock.unlock() }
        if let first = errors.min(by: { $0.index < $1.index }) { throw first.error }
        return values.map { $0! }
    }
}

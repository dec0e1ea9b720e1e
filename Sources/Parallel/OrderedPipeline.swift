import Foundation

/// Runs three stages over `0 ..< count` so that they overlap: `prepare(i)` on a background
/// thread, up to `depth` items ahead; `process(i, prepared)` on the calling thread, in order;
/// `finish(i, processed)` on a second background thread, in order, up to `depth` items behind.
///
/// For labelling: reading and projecting the next scan and writing the previous one's labels
/// while the network (which uses every core) runs on the current one. The first error stops all
/// three stages and is thrown: the items before it are finished, as one after another would,
/// the items after it are not.
///
/// ```swift
/// try orderedPipeline(files.count, prepare: { try read(files[$0]) }, process: { _, scan in network(scan) },
///                     finish: { i, labels in try write(labels, for: files[i]) })
/// ```
public func orderedPipeline<Prepared: Sendable, Processed: Sendable>(
    _ count: Int, depth: Int = 2,
    prepare: @escaping @Sendable (Int) throws -> Prepared,
    process: (Int, Prepared) throws -> Processed,
    finish: @escaping @Sendable (Int, Processed) throws -> Void,
    afterEach: (Int) -> Void = { _ in }
) throws {
    precondition(depth >= 1, "the pipeline needs a depth of at least 1")
    guard count > 0 else { return }
    let failure = FirstError()
    let prepared = BoundedChannel<(Int, Result<Prepared, any Error>)>(capacity: depth)
    let processed = BoundedChannel<(Int, Processed)>(capacity: depth)
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
        // An error goes down the channel in its place, so that the items before it are still
        // processed and finished, as one after another would.
        for i in 0 ..< count where !failure.isSet {
            let result = Result { try prepare(i) }
            guard prepared.put((i, result)) else { break }
            if case .failure = result { break }
        }
        prepared.close()
    }
    DispatchQueue.global().async(group: group) {
        while let (i, value) = processed.take() {
            // After an error, items from its index on are drained unfinished (so that the caller
            // never blocks); those before it are finished.
            guard !failure.isSet(atOrBefore: i) else { continue }
            do { try finish(i, value) } catch { failure.record(error, at: i) }
        }
    }
    while !failure.isSet, let (i, input) = prepared.take() {
        do {
            let result = try process(i, try input.get())
            guard processed.put((i, result)) else { break }
            afterEach(i)
        } catch {
            failure.record(error, at: i)
        }
    }
    processed.close()
    prepared.close() // a producer blocked on a full channel returns
    group.wait()
    if let error = failure.error { throw error }
}

/// The error of the lowest item index of any stage.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var first: (index: Int, error: any Error)?

    var isSet: Bool { lock.withLock { first != nil } }
    var error: (any Error)? { lock.withLock { first?.error } }

    /// Whether an item at or before `index` failed.
    func isSet(atOrBefore index: Int) -> Bool { lock.withLock { first.map { $0.index <= index } ?? false } }

    func record(_ error: any Error, at index: Int) {
        lock.withLock { if first == nil || index < first!.index { first = (index, error) } }
    }
}

/// A first-in first-out queue of at most `capacity` values between two threads.
private final class BoundedChannel<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var values: [Value] = []
    private var closed = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Appends `value`, waiting while the channel is full; false (and nothing appended) once closed.
    func put(_ value: Value) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while values.count >= capacity, !closed { condition.wait() }
        guard !closed else { return false }
        values.append(value)
        condition.broadcast()
        return true
    }

    /// The oldest value, waiting while the channel is empty; nil once it is closed and empty.
    func take() -> Value? {
        condition.lock()
        defer { condition.unlock() }
        while values.isEmpty, !closed { condition.wait() }
        guard !values.isEmpty else { return nil }
        condition.broadcast()
        return values.removeFirst()
    }

    /// No more values; waiting `put`s return false, `take` drains what is left.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

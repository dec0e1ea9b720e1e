import Foundation

/// One value per thread, written by that thread and read after all have finished.
public final class ThreadResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Value?]

    public init(count: Int) { values = Array(repeating: nil, count: count) }

    public subscript(index: Int) -> Value? {
        get { lock.withLock { values[index] } }
        set { lock.withLock { values[index] = newValue } }
    }

    public var all: [Value?] { lock.withLock { values } }
}

/// Runs `body(0)`, …, `body(count - 1)` on `count` new threads that start together (each
/// waits until all exist) and returns when every one has finished. Real threads rather than
/// the cooperative pool, whose width is the number of cores (2 here), so that all `count`
/// bodies really are in flight at the same time.
public func onSeparateThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let started = NSCondition()
    nonisolated(unsafe) var waiting = count
    let finished = DispatchGroup()
    for index in 0 ..< count {
        finished.enter()
        let thread = Thread {
            started.lock()
            waiting -= 1
            if waiting == 0 { started.broadcast() }
            while waiting > 0 { started.wait() }
            started.unlock()
            body(index)
            finished.leave()
        }
        thread.stackSize = 16 << 20
        thread.start()
    }
    finished.wait()
}

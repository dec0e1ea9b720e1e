import Foundation

/// Where oneDNN's time went: wall-clock time and number of executions per primitive kind
/// (`convolution forward`, `convolution backward data`, `batch norm forward`, `reorder`, …),
/// summed over everything run between `start()` and `stop()`.
///
/// Off by default; while off, the engine only tests one flag per primitive call.
///
/// ```swift
/// EngineProfile.start()
/// try step(batch, learningRate: 0.01)
/// let profile = EngineProfile.stop()
/// for (kind, entry) in profile.byTime { print(kind, entry.milliseconds) }
/// ```
public struct EngineProfile: Sendable, Equatable {
    /// One kind's total.
    public struct Entry: Sendable, Equatable {
        public var count = 0
        public var nanoseconds: UInt64 = 0
        public var milliseconds: Double { Double(nanoseconds) / 1e6 }
    }

    /// Totals per kind.
    public private(set) var entries: [String: Entry] = [:]

    public init() {}

    mutating func add(_ kind: String, nanoseconds: UInt64) {
        entries[kind, default: Entry()].count += 1
        entries[kind, default: Entry()].nanoseconds += nanoseconds
    }

    /// The kinds, most time first.
    public var byTime: [(kind: String, entry: Entry)] {
        entries.map { (kind: $0.key, entry: $0.value) }.sorted { $0.entry.nanoseconds > $1.entry.nanoseconds }
    }

    /// Everything timed, in milliseconds.
    public var totalMilliseconds: Double { entries.values.reduce(0) { $0 + $1.milliseconds } }

    /// Each kind's time divided by `runs` (e.g. per training step).
    public func scaled(by runs: Int) -> EngineProfile {
        var out = self
        for key in out.entries.keys {
            out.entries[key]!.nanoseconds /= UInt64(max(runs, 1))
            out.entries[key]!.count /= max(runs, 1)
        }
        return out
    }

    /// Starts timing every oneDNN primitive the process runs (and reorders done in Swift).
    public static func start() { DNNLContext.shared.startProfiling() }

    /// Stops timing and returns the totals since `start()`.
    public static func stop() -> EngineProfile { DNNLContext.shared.stopProfiling() }
}

import Foundation

/// A one-line progress bar on standard error:
/// `project  [#####-------------------]  12/50  4.1 scans/s  eta 9s`.
///
/// On a terminal it redraws in place, at most ten times a second. Elsewhere (CI logs, pipes) it
/// prints a line at most every `logInterval` seconds and once at the end, so a log file gets a
/// handful of lines, not one per step. A rate appears only once it can be measured (a second
/// of work and at least one item). Thread-safe: workers on several threads may call `advance`.
package final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let unit: String
    /// Also shows the rate in a second unit, e.g. scans per second for steps of 2 scans.
    private let secondary: (factor: Double, unit: String)?
    private let logInterval: TimeInterval
    private let lock = NSLock()
    private var done = 0
    private var status = ""
    private let start = Date()
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var finished = false

    package init(_ label: String, total: Int, unit: String = "items", secondary: (factor: Double, unit: String)? = nil,
         logInterval: TimeInterval = 5) {
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
        self.secondary = secondary
        self.logInterval = logInterval
        lock.lock()
        draw(force: interactive)
        lock.unlock()
    }

    /// Counts `n` more items done; `status` (e.g. "loss 0.83") is shown after the rate.
    package func advance(by n: Int = 1, status: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        done += n
        if let status { self.status = status }
        draw(force: done >= total)
    }

    /// Ends the bar's line (draws the final state if it was not drawn).
    package func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        if !interactive, lastDraw == .distantPast || done < total { draw(force: true) }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        finished = true
    }

    private func draw(force: Bool) {
        let now = Date()
        let interval = interactive ? 0.1 : logInterval
        guard force || now.timeIntervalSince(lastDraw) >= interval else { return }
        if !interactive, lastDraw == .distantPast, !force, now.timeIntervalSince(start) < logInterval { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let fraction = min(1, Double(done) / Double(total))
        let width = 24
        let filled = Int(fraction * Double(width))
        var line = "\(label)  [\(String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled))]  \(done)/\(total)"
        if done > 0, elapsed >= 1 {
            let rate = Double(done) / elapsed
            line += String(format: "  %.2f %@/s", rate, unit)
            if let secondary { line += String(format: "  %.2f %@/s", rate * secondary.factor, secondary.unit) }
            if done < total { line += "  eta \(Int((Double(total - done) / rate).rounded()))s" }
        }
        if !status.isEmpty { line += "  \(status)" }
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }
}

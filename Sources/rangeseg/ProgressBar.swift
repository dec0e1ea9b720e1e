import Foundation

/// A one-line progress bar on standard error: `project  [#####-----]  12/50  4.1 scans/s  eta 9s`.
///
/// Redraws in place on a terminal; elsewhere (CI logs, pipes) prints a line at every 10%.
/// Thread-safe: workers on several threads may call `advance()`.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let unit: String
    private let lock = NSLock()
    private var done = 0
    private var lastDecile = -1
    private var extra = ""
    private let start = Date()
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast

    init(_ label: String, total: Int, unit: String = "items") {
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
        draw(force: true)
    }

    /// Counts `n` more items done; `status` (e.g. "loss 0.83") is shown after the rate.
    func advance(by n: Int = 1, status: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        done += n
        if let status { extra = status }
        draw(force: done >= total)
    }

    /// Ends the bar's line.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func draw(force: Bool) {
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        let fraction = Double(done) / Double(total)
        if interactive {
            guard force || now.timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = now
        } else {
            let decile = Int(fraction * 10)
            guard decile != lastDecile else { return }
            lastDecile = decile
        }
        let width = 24
        let filled = min(width, Int(fraction * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        var line = "\(label)  [\(bar)]  \(done)/\(total)  \(String(format: "%.1f", rate)) \(unit)/s"
        if done < total, done > 0 { line += "  eta \(Int(eta.rounded()))s" }
        if !extra.isEmpty { line += "  \(extra)" }
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }
}

import Foundation

/// Runs Python with NumPy for cross-checks against NumPy itself and the NumPy projection
/// reference (`tools/reference_projection.py`). Like the sample, NumPy is required under
/// `CI=true` (tools/setup.sh installs it) and optional elsewhere.
public enum Python {
    public static let hasNumPy: Bool = (try? run(["-c", "import numpy"])) != nil

    public static var shouldRun: Bool { hasNumPy || SampleData.isCI }

    public static let skipReason = "python3 with numpy is not installed; skipped outside CI"

    public static func require() throws {
        guard hasNumPy else { throw MissingNumPy() }
    }

    public struct MissingNumPy: Error, CustomStringConvertible {
        public var description: String { "CI=true but python3 cannot import numpy" }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let status: Int32
        public let stderr: String
        public var description: String { "python3 exited with \(status): \(stderr)" }
    }

    /// Runs `python3 -c code` and returns its standard output.
    public static func run(_ code: String) throws -> String { try run(["-c", code]) }

    /// Runs `python3 arguments...` and returns its standard output.
    public static func run(_ arguments: [String]) throws -> String {
        let result = try ChildProcess.run(program: "python3", arguments)
        guard result.status == 0 else { throw Failure(status: result.status, stderr: result.stderr) }
        return result.stdout
    }
}

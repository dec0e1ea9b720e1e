import Foundation

/// The real SemanticKITTI sample the tests read: sequence 00, six scans, three labelled.
///
/// Found at `$RANGESEG_SAMPLE`, or at `../shared/data/semantickitti` beside the package.
/// Outside CI a missing sample disables the tests that need it (Swift Testing reports them as
/// skipped, with the reason); under `CI=true` those tests run and fail with the reason, so a
/// CI machine without the sample can never pass by skipping.
public enum SampleData {
    /// The package's root directory (three levels above this file).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The dataset root holding `sequences/00`.
    public static let root: URL = {
        if let path = ProcessInfo.processInfo.environment["RANGESEG_SAMPLE"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/semantickitti")
    }()

    public static var sequence00: URL { root.appendingPathComponent("sequences/00") }

    public static func scan(_ frame: Int) -> URL {
        sequence00.appendingPathComponent("velodyne").appendingPathComponent(String(format: "%06d.bin", frame))
    }

    public static func labels(_ frame: Int) -> URL {
        sequence00.appendingPathComponent("labels").appendingPathComponent(String(format: "%06d.label", frame))
    }

    /// The official label config (`semantic-kitti.yaml`) shipped beside the sample.
    public static var officialConfig: URL {
        root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("reference/semantic-kitti.yaml")
    }

    /// The project's own label config in `data/`.
    public static var projectConfig: URL { packageRoot.appendingPathComponent("data/semantic-kitti.yaml") }

    public static var isPresent: Bool {
        FileManager.default.fileExists(atPath: scan(0).path) && FileManager.default.fileExists(atPath: labels(0).path)
    }

    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether tests that need the sample should run: when it is present, and always under CI.
    public static var shouldRun: Bool { isPresent || isCI }

    /// Why such tests are skipped, for the trait's comment.
    public static let skipReason = "the SemanticKITTI sample is not at ../shared/data/semantickitti (set RANGESEG_SAMPLE); skipped outside CI"

    /// Throws a clear error when the sample is missing (reached only under CI).
    public static func require() throws {
        guard isPresent else {
            throw MissingSample(path: root.path)
        }
    }

    public struct MissingSample: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "CI=true but the SemanticKITTI sample is missing at \(path)" }
    }

    /// A fresh empty directory under the system's temporary directory.
    public static func temporaryDirectory(_ name: String = "rangeseg-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

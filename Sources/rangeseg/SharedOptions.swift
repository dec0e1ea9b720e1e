import ArgumentParser
import Foundation
import Projection
import SemanticKITTI

/// Range-image geometry flags shared by every command that projects scans.
struct ProjectionOptions: ParsableArguments {
    @Option(help: "Range-image height in pixels (rows).")
    var height: Int = 64

    @Option(help: "Range-image width in pixels (columns, covering 360 degrees).")
    var width: Int = 2048

    @Option(name: .customLong("fov-up"), help: "Upper edge of the vertical field of view, in degrees.")
    var fovUp: Float = 3

    @Option(name: .customLong("fov-down"), help: ArgumentHelp("Lower edge of the vertical field of view, in degrees.", valueName: "degrees"))
    var fovDown: Float = -25

    var config: ProjectionConfig {
        ProjectionConfig(height: height, width: width, fovUp: fovUp, fovDown: fovDown)
    }

    func validate() throws {
        if let problem = config.problem() { throw ValidationError(problem) }
    }
}

/// The label configuration flag: any file in the schema of the official `semantic-kitti.yaml`.
struct LabelConfigOption: ParsableArguments {
    @Option(name: .customLong("config"),
            help: ArgumentHelp("Label configuration in the schema of SemanticKITTI's semantic-kitti.yaml (default: the project's data/semantic-kitti.yaml).", valueName: "yaml"))
    var path: String?

    init() {}

    init(path: String?) { self.path = path }

    /// The config file to read: the flag's, else `data/semantic-kitti.yaml` of the checkout
    /// that built this executable.
    func url() throws -> URL {
        if let path { return URL(fileURLWithPath: path) }
        if let found = ProjectFiles.find("data/semantic-kitti.yaml") { return found }
        throw ValidationError("no label config found beside the executable; pass --config path/to/semantic-kitti.yaml")
    }

    func load() throws -> LabelConfig { try LabelConfig(yaml: url()) }
}

/// Files of the RangeSeg checkout that built the running executable.
enum ProjectFiles {
    /// Looks for `relativePath` in the current directory and in each parent of the executable's
    /// directory (the binary lives in `<checkout>/.build/<triple>/<configuration>/`).
    static func find(_ relativePath: String) -> URL? {
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0 ..< 6 {
            candidates.append(dir)
            dir = dir.deletingLastPathComponent()
        }
        return candidates.map { $0.appendingPathComponent(relativePath) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }
}

/// Runs `body` for every index on all cores, collecting results in order; the first error wins.
func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
    let box = ParallelResults<T>(count)
    DispatchQueue.concurrentPerform(iterations: count) { i in
        box.lock.lock()
        let failed = box.error != nil
        box.lock.unlock()
        if failed { return }
        do {
            let value = try body(i)
            box.lock.lock(); box.results[i] = value; box.lock.unlock()
        } catch {
            box.lock.lock(); if box.error == nil { box.error = error }; box.lock.unlock()
        }
    }
    if let error = box.error { throw error }
    return box.results.map { $0! }
}

/// Results and the first error of `parallelMap`, guarded by a lock.
private final class ParallelResults<T>: @unchecked Sendable {
    var results: [T?]
    var error: (any Error)?
    let lock = NSLock()
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}

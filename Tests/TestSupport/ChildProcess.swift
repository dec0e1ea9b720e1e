import Foundation

/// What a child process left: its exit status and everything it wrote to each stream.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// The one way the tests run a program and collect its output.
public enum ChildProcess {
    /// Runs `executable arguments...` (in `directory`, with `environment` when given; else this
    /// process's) and waits for it to exit. Both pipes are read at the same time, standard error
    /// on a thread of its own: a child that fills one pipe (64 KiB) while the other is being
    /// read to its end would otherwise block for ever, and the test with it.
    public static func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String]? = nil) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = ThreadResults<Data>(count: 1), errorsRead = DispatchSemaphore(value: 0)
        let errorHandle = err.fileHandleForReading
        Thread {
            errors[0] = errorHandle.readDataToEndOfFile()
            errorsRead.signal()
        }.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        return ProcessOutput(status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
                             stderr: String(decoding: errors[0] ?? Data(), as: UTF8.self))
    }

    /// Runs `program` found on the PATH (through `/usr/bin/env`).
    public static func run(program: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String]? = nil) throws -> ProcessOutput {
        try run(URL(fileURLWithPath: "/usr/bin/env"), [program] + arguments, in: directory, environment: environment)
    }
}

/// The `rangeseg` executable built beside the test bundle, run as a user would.
public enum RangeSegTool {
    public static let url: URL? = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0 ..< 4 {
            let candidate = dir.appendingPathComponent("rangeseg")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    public struct NotBuilt: Error, CustomStringConvertible {
        public var description: String { "rangeseg was not built beside the tests (swift build --build-tests builds it)" }
    }

    /// Runs `rangeseg arguments...` (or `binary`, a copy of it) in `directory`.
    public static func run(_ arguments: [String], binary: URL? = nil, in directory: URL? = nil) throws -> ProcessOutput {
        guard let binary = binary ?? url else { throw NotBuilt() }
        return try ChildProcess.run(binary, arguments, in: directory)
    }
}

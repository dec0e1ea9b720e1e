import Foundation
import Formats

/// What every fuzz target asserts about a reader: it returns a value or throws the project's
/// `FormatError`, naming the input it was given and saying what is wrong. Anything else (another
/// error type, an error naming something else or nothing, a broken invariant of the value read)
/// ends the process with a message, which libFuzzer reports as a crash with the input. Traps,
/// sanitizer reports, uncaught C++ exceptions and hangs end it without any help from here.
public enum Contract {
    /// Runs `read`; returns its value, or nil when it threw a `FormatError` naming one of `files`
    /// with a reason.
    public static func read<T>(naming files: [String], _ read: () throws -> T) -> T? {
        do {
            let value = try read()
            if verbose { FileHandle.standardError.write(Data("read: \(T.self)\n".utf8)) }
            return value
        } catch let error as FormatError {
            if verbose { FileHandle.standardError.write(Data("error: \(error)\n".utf8)) }
            require(files.contains(error.file), "the error names '\(error.file)', not one of \(files): \(error)")
            require(!error.reason.isEmpty, "an error without a reason for \(error.file)")
            return nil
        } catch {
            violated("threw \(type(of: error)), not FormatError: \(error)")
        }
    }

    /// `RANGESEG_FUZZ_VERBOSE=1`: every result on standard error, to see what a given input does
    /// (`tools/fuzz.sh run TARGET FILE`).
    static let verbose = ProcessInfo.processInfo.environment["RANGESEG_FUZZ_VERBOSE"] == "1"

    /// Ends the process with `message` unless `condition` holds.
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { violated(message()) }
    }

    /// Ends the process: libFuzzer saves the input as a crash.
    public static func violated(_ message: String) -> Never {
        FileHandle.standardError.write(Data("fuzz contract violated: \(message)\n".utf8))
        abort()
    }
}

/// A file with a fixed path for this process under /tmp (`/tmp/rangeseg-fuzz-<pid>-<name>`), for
/// readers that take only URLs: every execution overwrites it, and the process removes it on exit.
public final class ScratchFile {
    public let url: URL
    public var path: String { url.path }

    public init(name: String) {
        url = URL(fileURLWithPath: "/tmp/rangeseg-fuzz-\(getpid())-\(name)")
        ScratchFile.register(url.path)
    }

    /// Replaces the file's contents with `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        do { try Data(bytes).write(to: url) } catch { Contract.violated("cannot write scratch file \(path): \(error)") }
    }

    private static var paths: [String] = []

    private static func register(_ path: String) {
        if paths.isEmpty { atexit { for path in ScratchFile.paths { unlink(path) } } }
        paths.append(path)
    }
}

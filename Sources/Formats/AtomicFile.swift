import Foundation

/// Writes files so that a reader never sees a half-written one.
///
/// The bytes go to a hidden temporary file in the destination's directory, which is then
/// renamed over the destination (an atomic operation on POSIX file systems). If the process
/// dies mid-write, only the temporary file (`.name.tmp-XXXX`) is left behind.
public enum AtomicFile {
    /// Writes `data` to `url` atomically, creating the parent directory if needed.
    public static func write(_ data: Data, to url: URL) throws(FormatError) {
        try write(to: url) { handle in try handle.write(contentsOf: data) }
    }

    /// Streams a file into place: `body` writes to a handle on a temporary file, which is
    /// renamed to `url` only when `body` returns without throwing.
    public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws(FormatError) {
        let directory = url.deletingLastPathComponent()
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw FormatError(file: url, reason: "cannot create directory \(directory.path): \(error.localizedDescription)")
        }
        let suffix = String(UInt32.random(in: 0 ... UInt32.max), radix: 16)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(suffix)")
        guard fm.createFile(atPath: temporary.path, contents: nil) else {
            throw FormatError(file: url, reason: "cannot create a temporary file in \(directory.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            if rename(temporary.path, url.path) != 0 {
                let message = String(cString: strerror(errno))
                throw FormatError(file: url, reason: "cannot rename the temporary file into place: \(message)")
            }
        } catch let error as FormatError {
            try? fm.removeItem(at: temporary)
            throw error
        } catch {
            try? fm.removeItem(at: temporary)
            throw FormatError(file: url, reason: "write failed: \(error.localizedDescription)")
        }
    }
}

import Foundation

/// A file could not be read or written; the message names the file and the problem.
public struct FormatError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let reason: String

    public init(file: URL, reason: String) {
        self.file = file.path
        self.reason = reason
    }

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

extension FormatError {
    /// A file that could not be read: "no such file", or the system's reason.
    public static func cannotRead(_ url: URL, _ error: any Error) -> FormatError {
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError {
            return FormatError(file: url, reason: "no such file")
        }
        return FormatError(file: url, reason: "cannot read: \(error.localizedDescription)")
    }

    /// Reads the file at `url` and parses its bytes with `parse`, a reader of bytes in memory
    /// whose errors name a placeholder such as `<npy>`: both a file that cannot be read and
    /// bytes `parse` rejects throw an error naming `url`.
    static func parse<T>(file url: URL, with parse: (Data) throws(FormatError) -> T) throws(FormatError) -> T {
        let data: Data
        do { data = try Data(readingFile: url) } catch {
            throw FormatError.cannotRead(url, error)
        }
        do { return try parse(data) } catch { throw FormatError(file: url, reason: error.reason) }
    }
}

import Foundation

extension Data {
    /// The bytes of the file at `url`, as `Data(contentsOf:)` reads them, for the readers of
    /// scans, labels, arrays and checkpoints.
    ///
    /// An empty regular file is answered here: Foundation's `Data(contentsOf:)` in the Swift 6.3
    /// toolchain leaks a 4 KB buffer for every empty file it reads (LeakSanitizer under the
    /// bin-label fuzz target).
    public init(readingFile url: URL) throws {
        var info = stat()
        if stat(url.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size == 0 {
            self.init()
            return
        }
        try self.init(contentsOf: url)
    }
}

import Formats
import Foundation

/// The KITTI `.bin` format: little-endian float32 x, y, z, remission per point, nothing else.
extension Scan {
    /// How strictly `Scan(bin:)` treats points the projection cannot place.
    public enum Validation: Sendable {
        /// A NaN or infinite coordinate or a point at range 0 is an error naming the file and the point.
        case strict
        /// Such points are kept; the projection reports and leaves them out.
        case permissive
    }

    /// Reads a `.bin` scan. Errors name the file: a size that is not a multiple of 16 bytes, an
    /// empty file, and (when `validation` is `.strict`) NaN, infinite or zero-range points.
    public init(bin url: URL, validation: Validation = .strict) throws(FormatError) {
        let values = try Self.readFloats(bin: url)
        self.init(values: values)
        if validation == .strict, let bad = firstUnplaceablePoint() {
            let more = bad.more > 0 ? " (and \(bad.more) more invalid points)" : ""
            throw FormatError(file: url, reason: "point \(bad.index) has \(bad.problem.rawValue)\(more)")
        }
    }

    /// The float32 values of a `.bin`, read straight into the array (one copy from the page
    /// cache, where reading into `Data` and converting made three), its size checked first.
    private static func readFloats(bin url: URL) throws(FormatError) -> [Float] {
        func sizeProblem(_ size: Int) -> FormatError? {
            if size % 16 != 0 {
                return FormatError(file: url, reason: "size \(size) bytes is not a multiple of 16 (x, y, z, remission as float32 per point); the file is truncated or not a KITTI scan")
            }
            return size == 0 ? FormatError(file: url, reason: "empty scan (0 points)") : nil
        }
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        var info = stat()
        guard descriptor >= 0, fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            // Not a regular file, or no such file: Foundation's reader gives the error or the bytes.
            if descriptor >= 0 { close(descriptor) }
            let data: Data
            do { data = try Data(readingFile: url) } catch { throw FormatError.cannotRead(url, error) }
            if let problem = sizeProblem(data.count) { throw problem }
            return [Float](unsafeUninitializedCapacity: data.count / 4) { out, initialised in
                initialised = data.copyBytes(to: out) / 4
            }
        }
        defer { close(descriptor) }
        let size = Int(info.st_size)
        if let problem = sizeProblem(size) { throw problem }
        var failure: Int32 = 0, done = 0
        let values = [Float](unsafeUninitializedCapacity: size / 4) { out, initialised in
            let bytes = UnsafeMutableRawPointer(out.baseAddress!)
            while done < size {
                let count = read(descriptor, bytes + done, size - done)
                if count < 0 && errno == EINTR { continue }
                if count < 0 { failure = errno }
                if count <= 0 { break }
                done += count
            }
            initialised = done / 4
        }
        if failure != 0 {
            throw FormatError(file: url, reason: "cannot read: \(String(cString: strerror(failure)))")
        }
        guard done == size else { throw FormatError(file: url, reason: "changed size while being read (\(done) of \(size) bytes)") }
        return values
    }

    /// The `.bin` bytes of the scan.
    public func binData() -> Data { values.withUnsafeBytes { Data($0) } }

    /// Writes the scan as a `.bin` file, atomically.
    public func write(bin url: URL) throws(FormatError) {
        try AtomicFile.write(binData(), to: url)
    }
}

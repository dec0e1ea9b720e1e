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
        let data: Data
        do { data = try Data(readingFile: url) } catch {
            throw FormatError.cannotRead(url, error)
        }
        guard data.count % 16 == 0 else {
            throw FormatError(file: url, reason: "size \(data.count) bytes is not a multiple of 16 (x, y, z, remission as float32 per point); the file is truncated or not a KITTI scan")
        }
        guard !data.isEmpty else { throw FormatError(file: url, reason: "empty scan (0 points)") }
        var values = [Float](repeating: 0, count: data.count / 4)
        values.withUnsafeMutableBytes { out in _ = data.copyBytes(to: out) }
        self.init(values: values)
        if validation == .strict {
            for i in 0 ..< count {
                if let problem = problem(ofPoint: i) {
                    let others = (i + 1 ..< count).reduce(0) { $0 + (self.problem(ofPoint: $1) == nil ? 0 : 1) }
                    let more = others > 0 ? " (and \(others) more invalid points)" : ""
                    throw FormatError(file: url, reason: "point \(i) has \(problem.rawValue)\(more)")
                }
            }
        }
    }

    /// The `.bin` bytes of the scan.
    public func binData() -> Data { values.withUnsafeBytes { Data($0) } }

    /// Writes the scan as a `.bin` file, atomically.
    public func write(bin url: URL) throws(FormatError) {
        try AtomicFile.write(binData(), to: url)
    }
}

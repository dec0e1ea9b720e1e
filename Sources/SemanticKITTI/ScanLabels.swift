import Formats
import Foundation

/// Per-point labels of a scan in SemanticKITTI's `.label` format: one little-endian uint32 per
/// point, the semantic id (raw SemanticKITTI id, e.g. 10 car, 40 road) in the lower 16 bits and
/// the instance id in the upper 16.
public struct ScanLabels: Sendable, Equatable {
    public var raw: [UInt32]

    public var count: Int { raw.count }

    public init(raw: [UInt32]) { self.raw = raw }

    public init(semantic: [UInt16], instance: [UInt16]? = nil) {
        precondition(instance == nil || instance!.count == semantic.count)
        raw = semantic.indices.map { UInt32(semantic[$0]) | UInt32(instance?[$0] ?? 0) << 16 }
    }

    @inline(__always) public func semantic(_ i: Int) -> UInt16 { UInt16(truncatingIfNeeded: raw[i]) }
    @inline(__always) public func instance(_ i: Int) -> UInt16 { UInt16(truncatingIfNeeded: raw[i] >> 16) }

    public var semantic: [UInt16] { raw.map { UInt16(truncatingIfNeeded: $0) } }

    /// Reads a `.label` file. With `pointCount`, a label count that differs from the scan's
    /// is an error naming the file and both counts.
    public init(label url: URL, pointCount: Int? = nil) throws(FormatError) {
        let data: Data
        do { data = try Data(readingFile: url) } catch {
            throw FormatError.cannotRead(url, error)
        }
        guard data.count % 4 == 0 else {
            throw FormatError(file: url, reason: "size \(data.count) bytes is not a multiple of 4 (one uint32 per point); the file is truncated or not a SemanticKITTI label file")
        }
        if let pointCount, data.count / 4 != pointCount {
            throw FormatError(file: url, reason: "holds \(data.count / 4) labels but its scan has \(pointCount) points")
        }
        var raw = [UInt32](repeating: 0, count: data.count / 4)
        raw.withUnsafeMutableBytes { out in _ = data.copyBytes(to: out) }
        self.init(raw: raw)
    }

    public func labelData() -> Data { raw.withUnsafeBytes { Data($0) } }

    /// Writes the labels as a `.label` file, atomically.
    public func write(label url: URL) throws(FormatError) {
        try AtomicFile.write(labelData(), to: url)
    }
}

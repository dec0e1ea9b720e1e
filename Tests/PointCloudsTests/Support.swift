import Foundation
import SemanticKITTI
import TestSupport

/// The real sample's first scan with its labels and the official colours, read once.
enum Sample {
    struct Frame: Sendable {
        let scan: Scan
        let labels: ScanLabels
        let config: LabelConfig
    }

    static let frame0: Frame? = {
        guard SampleData.isPresent else { return nil }
        do {
            let scan = try Scan(bin: SampleData.scan(0))
            let labels = try ScanLabels(label: SampleData.labels(0), pointCount: scan.count)
            let configURL = FileManager.default.fileExists(atPath: SampleData.officialConfig.path)
                ? SampleData.officialConfig : SampleData.projectConfig
            return Frame(scan: scan, labels: labels, config: try LabelConfig(yaml: configURL))
        } catch {
            return nil
        }
    }()

    /// The sample's frame 0, or a clear failure (under CI the sample must be there).
    static func require() throws -> Frame {
        try SampleData.require()
        guard let frame0 else { throw SampleUnreadable() }
        return frame0
    }

    struct SampleUnreadable: Error, CustomStringConvertible {
        var description: String { "the SemanticKITTI sample's frame 0 could not be read" }
    }
}

/// Bit patterns of floats, to compare without -0 == 0 or NaN != NaN.
func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// A deterministic generator for the tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes `text` to a new file in `directory`.
@discardableResult
func writeText(_ text: String, _ name: String, in directory: URL) throws -> URL {
    let url = directory.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url
}

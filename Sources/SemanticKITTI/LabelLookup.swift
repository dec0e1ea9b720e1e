import Formats
import Foundation

/// Dense tables between raw SemanticKITTI ids and learning ids, built once from a `LabelConfig`
/// so that mapping a scan's labels is one array read per point.
public struct LabelLookup: Sendable {
    /// Learning id of each raw id, -1 where the config has none.
    private let toLearning: [Int32]
    /// Raw id of each learning id.
    public let toRaw: [UInt32]

    public init(_ config: LabelConfig) {
        var table = [Int32](repeating: -1, count: (config.learningMap.keys.max() ?? 0) + 1)
        for (raw, learning) in config.learningMap { table[raw] = Int32(learning) }
        toLearning = table
        toRaw = (0 ..< config.classCount).map { UInt32(config.learningMapInverse[$0]!) }
    }

    public var classCount: Int { toRaw.count }

    /// The learning id of a raw semantic id, or nil if `learning_map` lacks it.
    @inline(__always)
    public func learning(raw: UInt16) -> Int32? {
        let id = Int(raw)
        guard id < toLearning.count, toLearning[id] >= 0 else { return nil }
        return toLearning[id]
    }

    /// Learning ids of all points. An id missing from `learning_map` is an error that names
    /// `file`, the id and the first point carrying it.
    public func learningIDs(of labels: ScanLabels, file: URL? = nil) throws(FormatError) -> [Int32] {
        var out = [Int32](repeating: 0, count: labels.count)
        for i in 0 ..< labels.count {
            let raw = labels.semantic(i)
            guard let id = learning(raw: raw) else {
                let count = labels.raw.reduce(0) { $0 + (UInt16(truncatingIfNeeded: $1) == raw ? 1 : 0) }
                throw FormatError(file: file?.path ?? "<labels>",
                                  reason: "label id \(raw) (first at point \(i), \(count) points in all) is not in the config's learning_map")
            }
            out[i] = id
        }
        return out
    }

    /// Raw SemanticKITTI labels (instance 0) for per-point learning ids, through `learning_map_inv`.
    public func rawLabels(learning ids: [Int32]) -> ScanLabels {
        ScanLabels(raw: ids.map { toRaw[Int($0)] })
    }
}

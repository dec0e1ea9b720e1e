import Foundation
import SemanticKITTI

/// Points per raw SemanticKITTI label id.
public struct ClassHistogram: Sendable, Equatable {
    /// Points per raw id (ids 0-65535).
    public private(set) var counts: [UInt16: Int] = [:]

    public init() {}

    public init(labels: [UInt32]) {
        var dense = [Int](repeating: 0, count: 260)
        for raw in labels {
            let id = Int(raw & 0xFFFF)
            if id < dense.count { dense[id] += 1 } else { counts[UInt16(id), default: 0] += 1 }
        }
        for (id, n) in dense.enumerated() where n > 0 { counts[UInt16(id), default: 0] += n }
    }

    public var total: Int { counts.values.reduce(0, +) }

    public mutating func add(_ other: ClassHistogram) {
        for (id, n) in other.counts { counts[id, default: 0] += n }
    }

    /// Fraction of all points with raw id `id`.
    public func fraction(_ id: UInt16) -> Double {
        let total = total
        return total == 0 ? 0 : Double(counts[id] ?? 0) / Double(total)
    }

    /// Raw ids by descending point count (ties by id).
    public var byCount: [(id: UInt16, count: Int)] {
        counts.map { (id: $0.key, count: $0.value) }.sorted { ($0.count, -Int($0.id)) > ($1.count, -Int($1.id)) }
    }

    /// Fractions per raw id, in the form of a label config's `content` block. Ids in `allIDs`
    /// that the histogram lacks get 0.
    public func content(allIDs: [Int] = []) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for id in allIDs { out[id] = 0 }
        for (id, _) in counts { out[Int(id)] = fraction(id) }
        return out
    }

    /// A YAML `content:` block (raw id: fraction), as in `semantic-kitti.yaml`.
    public func contentYAML(allIDs: [Int] = []) -> String {
        let content = content(allIDs: allIDs)
        var out = "content: # as a ratio with the total number of points\n"
        for id in content.keys.sorted() { out += "  \(id): \(content[id]!)\n" }
        return out
    }
}

extension ClassHistogram {
    /// The histogram as a table: class, raw id, points, percent and a bar (log-free, so rare
    /// classes show as a thin bar or none).
    public var table: String {
        let rows = byCount
        let top = Double(rows.first?.count ?? 1)
        var out = "class           id      points        %\n"
        for (id, count) in rows {
            let name = SynthClass(rawValue: id)?.name ?? "id \(id)"
            let percent = self.fraction(id) * 100
            let bar = String(repeating: "#", count: Int((Double(count) / top * 40).rounded(.up)))
            out += name.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: "%4d %11d %8.3f  ", Int(id), count, percent) + bar + "\n"
        }
        out += "total".padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: "     %11d  100.000", total)
        return out
    }
}

extension ClassHistogram {
    /// Writes the histogram as a YAML `content:` block (raw id: fraction), atomically.
    public func writeContent(yaml url: URL) throws {
        try Data(contentYAML().utf8).write(to: url, options: .atomic)
    }

    /// `config` with its `content` replaced by this histogram's fractions (over all its raw ids).
    public func replacingContent(of config: LabelConfig) -> LabelConfig {
        var config = config
        config.content = content(allIDs: Array(config.names.keys))
        return config
    }
}

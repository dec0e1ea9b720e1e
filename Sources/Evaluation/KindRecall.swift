import Foundation
import SemanticKITTI

/// How many points of each kind of appearance (`SubclassCatalog`) were predicted as their class:
/// the recall of a kind is hits / points, and the rare kinds' mean recall is the mean over the
/// kinds under `SubclassCatalog.rareShare` of their class that have points.
public struct KindRecall: Sendable, Equatable, Codable {
    public struct Row: Sendable, Equatable, Codable {
        public var kind: String
        public var className: String
        public var share: Double
        public var points: Int
        public var hits: Int
        public var recall: Double { points == 0 ? 0 : Double(hits) / Double(points) }
        public var isRare: Bool { share < SubclassCatalog.rareShare }
    }

    /// One row per kind of the catalog, in its order.
    public private(set) var rows: [Row]
    private let ids: [UInt32: Int]
    private let learningClass: [Int32]

    public init(catalog: SubclassCatalog, labels: LabelConfig) {
        rows = catalog.kinds.map {
            Row(kind: $0.name, className: labels.names[Int($0.rawClass)] ?? "id \($0.rawClass)", share: $0.share, points: 0, hits: 0)
        }
        ids = Dictionary(catalog.kinds.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })
        let lookup = labels.lookup()
        // A class outside learning_map can never be predicted: -1 matches no prediction.
        learningClass = catalog.kinds.map { lookup.learning(raw: UInt16(truncatingIfNeeded: $0.rawClass)) ?? -1 }
    }

    /// Counts one scan: each point's kind (ids outside the catalog, such as 0 for "no kind",
    /// are left out) against its predicted learning id.
    public mutating func add(kinds: [UInt32], predictions: [Int32]) {
        precondition(kinds.count == predictions.count, "one kind per predicted point")
        for (kind, predicted) in zip(kinds, predictions) {
            guard let row = ids[kind] else { continue }
            rows[row].points += 1
            if predicted == learningClass[row] { rows[row].hits += 1 }
        }
    }

    /// Adds another scan set's counts (the same catalog).
    public mutating func merge(_ other: KindRecall) {
        for i in rows.indices {
            rows[i].points += other.rows[i].points
            rows[i].hits += other.rows[i].hits
        }
    }

    /// The mean recall of the rare kinds that have points; nil when none has.
    public var rareMeanRecall: Double? {
        let rare = rows.filter { $0.isRare && $0.points > 0 }
        return rare.isEmpty ? nil : rare.map(\.recall).reduce(0, +) / Double(rare.count)
    }

    /// The rows as a table, then the rare kinds' mean recall.
    public var table: String {
        var lines = ["kind            class           share    points   recall"]
        for row in rows {
            lines.append(row.kind.padding(toLength: 16, withPad: " ", startingAt: 0) + row.className.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: "%6.1f%% %9d %7.1f%%%@", row.share * 100, row.points, row.recall * 100, row.isRare ? "  rare" : ""))
        }
        lines.append(rareMeanRecall.map { String(format: "mean recall of the rare kinds (under %.0f%% of their class): %.1f%%", SubclassCatalog.rareShare * 100, $0 * 100) }
            ?? "no points of a rare kind (under \(Int(SubclassCatalog.rareShare * 100))% of its class)")
        return lines.joined(separator: "\n")
    }
}

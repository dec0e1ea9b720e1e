import Configuration
import Formats
import Foundation

/// The kinds of appearance a sequence's subclass labels name (`subclasses.yaml` beside the
/// sequence's `subclasses/` folder): per kind its id (the uint32 of `subclasses/NNNNNN.label`),
/// its name, the raw label id of its class, and its share of that class's points.
///
/// ```yaml
/// kinds:
///   - {id: 1, name: sedan, class: 10, share: 0.55}
///   - {id: 4, name: van, class: 10, share: 0.06}
/// ```
public struct SubclassCatalog: Sendable, Equatable, Codable {
    public struct Kind: Sendable, Equatable, Codable {
        public var id: UInt32
        public var name: String
        /// The raw label id of the kind's class (a key of the label config's `labels`).
        public var rawClass: UInt32
        /// The kind's share of its class's points, in [0, 1].
        public var share: Double

        public init(id: UInt32, name: String, rawClass: UInt32, share: Double) {
            self.id = id
            self.name = name
            self.rawClass = rawClass
            self.share = share
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case id, name, rawClass = "class", share }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            id = try c.decode(UInt32.self, forKey: .id)
            name = try c.decode(String.self, forKey: .name)
            rawClass = try c.decode(UInt32.self, forKey: .rawClass)
            share = try c.decode(Double.self, forKey: .share)
        }
    }

    public var kinds: [Kind]

    /// Kinds under this share of their class are rare.
    public static let rareShare = 0.1

    public init(kinds: [Kind]) { self.kinds = kinds }

    enum CodingKeys: String, CodingKey, CaseIterable { case kinds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        kinds = try c.decode([Kind].self, forKey: .kinds)
    }

    /// Reads `subclasses.yaml`; errors name the file and the problem (a repeated id, a share
    /// outside [0, 1]).
    public init(yaml url: URL) throws(FormatError) {
        self = try YAMLFile.decode(SubclassCatalog.self, yaml: YAMLFile.read(url), file: url.path)
        var seen = Set<UInt32>()
        for kind in kinds {
            guard seen.insert(kind.id).inserted else { throw FormatError(file: url, reason: "kind id \(kind.id) appears twice") }
            guard (0 ... 1).contains(kind.share) else {
                throw FormatError(file: url, reason: "kind \(kind.name): share \(kind.share) is not in [0, 1]")
            }
        }
    }

    /// The catalog as `subclasses.yaml` text: one flow mapping per kind, in the catalog's order.
    public func yamlText(comment: String? = nil) -> String {
        var out = comment.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)\n" }.joined() } ?? ""
        out += "kinds:\n"
        for kind in kinds {
            let name = kind.name.allSatisfy { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" } ? kind.name : "\"\(kind.name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\""
            out += "  - {id: \(kind.id), name: \(name), class: \(kind.rawClass), share: \(String(format: "%.4f", kind.share))}\n"
        }
        return out
    }

    /// Writes `subclasses.yaml`, atomically.
    public func write(yaml url: URL, comment: String? = nil) throws(FormatError) {
        try AtomicFile.write(Data(yamlText(comment: comment).utf8), to: url)
    }

    /// A sequence directory's `subclasses.yaml`.
    public static func file(sequence directory: URL) -> URL { directory.appendingPathComponent("subclasses.yaml") }

    /// The `subclasses.yaml` that names the kinds of a per-point subclass `.label` file
    /// (`SEQUENCE/subclasses/NNNNNN.label`).
    public static func file(ofLabels subclasses: URL) -> URL {
        file(sequence: subclasses.deletingLastPathComponent().deletingLastPathComponent())
    }

    /// The kinds the catalogs of `frames` name (by id; the first catalog naming an id gives its
    /// name and class), each with its share of its class's points counted over those frames'
    /// subclass labels: how common a kind is in the scans a model learns from, whatever each
    /// sequence's own shares say. A kind named but absent from the frames gets share 0. Nil when
    /// no frame has subclass labels.
    public static func pooled(over frames: [DatasetFrame]) throws(FormatError) -> SubclassCatalog? {
        var kinds: [Kind] = []
        var catalogs = Set<URL>()
        var points: [UInt32: Int] = [:]
        for frame in frames {
            guard let subclasses = frame.subclasses else { continue }
            let file = Self.file(ofLabels: subclasses)
            if catalogs.insert(file).inserted {
                let named = Set(kinds.map(\.id))
                kinds += try SubclassCatalog(yaml: file).kinds.filter { !named.contains($0.id) }
            }
            for id in try ScanLabels(label: subclasses).raw { points[id, default: 0] += 1 }
        }
        guard !catalogs.isEmpty else { return nil }
        var classPoints: [UInt32: Int] = [:]
        for kind in kinds { classPoints[kind.rawClass, default: 0] += points[kind.id] ?? 0 }
        for i in kinds.indices {
            let total = classPoints[kinds[i].rawClass] ?? 0
            kinds[i].share = total == 0 ? 0 : Double(points[kinds[i].id] ?? 0) / Double(total)
        }
        return SubclassCatalog(kinds: kinds)
    }

    /// This catalog's kinds with the shares `other` gives them (by id; 0 for a kind `other`
    /// does not name): for instance a validation sequence's kinds judged rare or common by
    /// the training scans' shares (`pooled(over:)`).
    public func sharing(_ other: SubclassCatalog) -> SubclassCatalog {
        let shares = Dictionary(other.kinds.map { ($0.id, $0.share) }, uniquingKeysWith: { first, _ in first })
        return SubclassCatalog(kinds: kinds.map { var kind = $0; kind.share = shares[kind.id] ?? 0; return kind })
    }

    /// The catalog of the sequences of `frames` that have subclass labels, when they all have
    /// the same one (the kinds and their shares: `rangeseg synth` writes the shares of each
    /// sequence); nil when no frame has subclass labels or the catalogs differ.
    public static func common(of frames: [DatasetFrame]) throws(FormatError) -> SubclassCatalog? {
        var catalogs: [URL: SubclassCatalog] = [:]
        for frame in frames {
            guard let subclasses = frame.subclasses else { continue }
            let file = Self.file(ofLabels: subclasses)
            if catalogs[file] == nil { catalogs[file] = try SubclassCatalog(yaml: file) }
        }
        guard let first = catalogs.values.first, catalogs.values.allSatisfy({ $0 == first }) else { return nil }
        return first
    }
}

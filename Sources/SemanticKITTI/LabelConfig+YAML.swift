import BundledData
import Configuration
import Formats
import Foundation

extension LabelConfig {
    /// The file's keys exactly as the official schema spells them; any other key is an error.
    private struct File: Decodable {
        var labels: [Int: String]
        var color_map: [Int: [Int]]
        var content: [Int: Double]?
        var learning_map: [Int: Int]
        var learning_map_inv: [Int: Int]
        var learning_ignore: [Int: Bool]?
        var split: Split?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case labels, color_map, content, learning_map, learning_map_inv, learning_ignore, split
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
            labels = try c.decode([Int: String].self, forKey: .labels)
            color_map = try c.decode([Int: [Int]].self, forKey: .color_map)
            content = try c.decodeIfPresent([Int: Double].self, forKey: .content)
            learning_map = try c.decode([Int: Int].self, forKey: .learning_map)
            learning_map_inv = try c.decode([Int: Int].self, forKey: .learning_map_inv)
            learning_ignore = try c.decodeIfPresent([Int: Bool].self, forKey: .learning_ignore)
            split = try c.decodeIfPresent(Split.self, forKey: .split)
        }
    }

    /// SemanticKITTI's label config, `data/semantic-kitti.yaml` as compiled into the binary:
    /// the default wherever a command takes `--label-config`.
    public static var semanticKITTI: LabelConfig {
        get throws(FormatError) { try LabelConfig(yamlText: BundledData.labelConfig, file: "data/semantic-kitti.yaml (built in)") }
    }

    /// Reads a label config in the official `semantic-kitti.yaml` schema. Errors name the file
    /// and the key path of the problem.
    public init(yaml url: URL) throws(FormatError) {
        try self.init(yamlText: YAMLFile.read(url), file: url.path)
    }

    /// Reads label-config text; `file` names its source in errors.
    public init(yamlText text: String, file source: String = "<yaml>") throws(FormatError) {
        func fail(_ reason: String) -> FormatError { FormatError(file: source, reason: reason) }
        let file = try YAMLFile.decode(File.self, yaml: text, file: source)
        var colors: [Int: LabelColor] = [:]
        for (id, bgr) in file.color_map {
            guard bgr.count == 3, bgr.allSatisfy({ (0 ... 255).contains($0) }) else {
                throw fail("color_map.\(id): expected [b, g, r] with values 0-255, found \(bgr)")
            }
            colors[id] = LabelColor(r: UInt8(bgr[2]), g: UInt8(bgr[1]), b: UInt8(bgr[0]))
        }
        let classCount = file.learning_map_inv.count
        guard classCount > 0 else { throw fail("learning_map_inv is empty") }
        guard Set(file.learning_map_inv.keys) == Set(0 ..< classCount) else {
            throw fail("learning_map_inv: learning ids must be 0 to \(classCount - 1) without gaps, found \(file.learning_map_inv.keys.sorted())")
        }
        for (raw, learning) in file.learning_map.sorted(by: { $0.key < $1.key }) where !(0 ..< classCount).contains(learning) {
            throw fail("learning_map.\(raw): learning id \(learning) is not a key of learning_map_inv (0-\(classCount - 1))")
        }
        for (raw, id) in file.learning_map where raw < 0 || raw > Int(UInt16.max) || id < 0 {
            throw fail("learning_map.\(raw): raw ids must be 0-65535")
        }
        for (learning, raw) in file.learning_map_inv.sorted(by: { $0.key < $1.key }) where !(0 ... Int(UInt16.max)).contains(raw) {
            throw fail("learning_map_inv.\(learning): raw id \(raw) is not a semantic id (0-65535)")
        }
        self.init(
            names: file.labels, colors: colors, content: file.content ?? [:],
            learningMap: file.learning_map, learningMapInverse: file.learning_map_inv,
            learningIgnore: file.learning_ignore ?? [:],
            split: file.split ?? Split(train: [], valid: [], test: [])
        )
    }
}

extension LabelConfig {
    /// Writes the config in the official schema (colours back in BGR), atomically.
    public func write(yaml url: URL) throws(FormatError) {
        try AtomicFile.write(Data(yamlText().utf8), to: url)
    }

    /// The config as YAML in the official schema, keys in ascending order.
    public func yamlText() -> String {
        var out = "# SemanticKITTI label configuration (schema of semantic-kitti.yaml)\n"
        func section<V>(_ name: String, _ dict: [Int: V], comment: String = "", _ show: (V) -> String) {
            out += "\(name):\(comment)\n"
            for key in dict.keys.sorted() { out += "  \(key): \(show(dict[key]!))\n" }
        }
        section("labels", names) { Self.quoted($0) }
        section("color_map", colors, comment: " # bgr") { "[\($0.b), \($0.g), \($0.r)]" }
        section("content", content) { String($0) }
        section("learning_map", learningMap) { String($0) }
        section("learning_map_inv", learningMapInverse) { String($0) }
        section("learning_ignore", learningIgnore) { $0 ? "True" : "False" }
        out += "split:\n"
        for (name, ids) in [("train", split.train), ("valid", split.valid), ("test", split.test)] {
            out += "  \(name):\n" + ids.map { "    - \($0)\n" }.joined()
        }
        return out
    }

    /// A name as a YAML double-quoted scalar: backslash, quote and control characters escaped,
    /// so that any name reads back as itself.
    static func quoted(_ name: String) -> String {
        var out = "\""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16, uppercase: true)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

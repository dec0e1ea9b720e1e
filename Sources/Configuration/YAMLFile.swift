import Formats
import Foundation
import Yams

/// YAML configuration files: read into `Decodable` types with errors that name the file and the
/// key path, and written with numbers as people write them (`0.98`, `3`, `[12.12, 10.88]`).
///
/// The types decide what is valid: together with `Decoder.strictContainer(keyedBy:)` (Formats),
/// a misspelt key fails as `train.yaml: optimizer.learning_rat: unknown key (did you mean
/// learning_rate?)`.
public enum YAMLFile {
    /// Reads and decodes `url`. An empty file decodes as an empty mapping (every key at its default).
    public static func decode<T: Decodable>(_ type: T.Type, from url: URL) throws(FormatError) -> T {
        try decode(type, yaml: read(url), file: url.path)
    }

    /// Decodes YAML text; `file` names the source in errors.
    public static func decode<T: Decodable>(_ type: T.Type, yaml text: String, file: String) throws(FormatError) -> T {
        if nestingBound(of: text) > maximumNesting {
            throw FormatError(file: file, reason: "nested more than \(maximumNesting) levels deep; configuration files need a few")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw FormatError(file: file, reason: "not valid YAML: \(error)")
        }
        if let root, let found = baseSixtyNumber(in: root, path: []) {
            let path = found.path.isEmpty ? "top level" : found.path.joined(separator: ".")
            throw FormatError(file: file, reason: "\(path): '\(found.value)' is a base-60 number (YAML 1.1's 1:30), which configuration files do not take; quote it if it is text")
        }
        do {
            return try YAMLDecoder().decode(type, from: root == nil ? "{}" : text)
        } catch let error as DecodingError {
            throw FormatError(file: file, reason: describe(error))
        } catch {
            throw FormatError(file: file, reason: "not valid YAML: \(error)")
        }
    }

    /// The deepest nesting a file may have. Yams composes and decodes recursively, so a file of
    /// `[[[[...` or `- - - - ...` some thousands deep overflows the stack and ends the process;
    /// real configuration files nest three or four levels.
    static let maximumNesting = 64

    /// An upper bound on how deeply `text` nests, found without parsing it: the open flow
    /// brackets (`[`, `{`) outside quotes and comments, plus on each line the block levels
    /// (distinct indentations still open) and the compact indicators (`- `, `? `, `: `).
    static func nestingBound(of text: String) -> Int {
        var deepest = 0, flow = 0
        var indents: [Int] = []
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let characters = Array(line.unicodeScalars)
            let indent = characters.prefix { $0 == " " || $0 == "\t" }.count
            if indent == characters.count || characters[indent] == "#" { continue }
            while let last = indents.last, last >= indent { indents.removeLast() }
            indents.append(indent)
            var compact = 0, quote: Unicode.Scalar? = nil, escaped = false
            scan: for index in indent..<characters.count {
                let character = characters[index]
                if let open = quote {
                    if escaped { escaped = false } else if open == "\"" && character == "\\" { escaped = true } else if character == open { quote = nil }
                    continue
                }
                let previous = index > indent ? characters[index - 1] : " "
                let next = index + 1 < characters.count ? characters[index + 1] : " "
                let afterSpace = previous == " " || previous == "\t"
                switch character {
                case "\"" where afterSpace || "[{,:-?".unicodeScalars.contains(previous),
                     "'" where afterSpace || "[{,:-?".unicodeScalars.contains(previous):
                    quote = character
                case "#" where afterSpace: break scan
                case "[", "{": flow += 1
                case "]", "}": flow = max(0, flow - 1)
                case "-" where next == " " || next == "\t",
                     "?" where next == " " || next == "\t",
                     ":" where next == " " || next == "\t":
                    compact += 1
                default: break
                }
                deepest = max(deepest, indents.count + compact + flow)
            }
        }
        return deepest
    }

    /// The key path and text of the first unquoted scalar that Yams would read as a base-60
    /// integer (`1:30` is 90). Yams multiplies the digits without overflow checks, so a value
    /// such as `epochs: 1:0:0:0:0:0:0:0:0:0:0` stops the process; configuration files never
    /// need such numbers, so decoding refuses them first.
    static func baseSixtyNumber(in node: Node, path: [String]) -> (path: [String], value: String)? {
        switch node {
        case let .scalar(scalar):
            guard scalar.style == .plain || scalar.style == .any else { return nil }
            var text = Substring(scalar.string)
            if text.first == "-" || text.first == "+" { text = text.dropFirst() }
            guard let first = text.first, first.isASCII, first.isNumber, text.contains(":"),
                  text.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == ":" || $0 == "_" || $0 == "." }) else { return nil }
            return (path, scalar.string)
        case let .mapping(mapping):
            for (key, value) in mapping {
                if let found = baseSixtyNumber(in: value, path: path + [key.string ?? "?"]) { return found }
            }
            return nil
        case let .sequence(sequence):
            for (index, item) in sequence.enumerated() {
                if let found = baseSixtyNumber(in: item, path: path + [String(index)]) { return found }
            }
            return nil
        }
    }

    /// The text of `url`, or an error naming it.
    public static func read(_ url: URL) throws(FormatError) -> String {
        do { return try String(contentsOf: url, encoding: .utf8) } catch {
            throw FormatError.cannotRead(url, error)
        }
    }

    /// `value` as YAML: keys in the order the type encodes them, floats with the shortest text
    /// that reads back as the same `Float` (`0.98`, not `9.80000019073486e-1`; `3`, not `3e+0`),
    /// and lists of numbers on one line.
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let text = try YAMLEncoder().encode(value)
        guard let node = try Yams.compose(yaml: text) else { return text }
        return try Yams.serialize(node: humanised(node))
    }

    /// A decoding error as one line: the key path, then what is wrong.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ last: CodingKey? = nil) -> String {
            let keys = (context.codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "top level" : keys.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context): return "\(path(context, key)): missing"
        case let .typeMismatch(type, context): return "\(path(context)): expected \(typeName(type))"
        case let .valueNotFound(type, context): return "\(path(context)): expected \(typeName(type))"
        case let .dataCorrupted(context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Float.Type, is Double.Type: "a number"
        case is Int.Type, is Int64.Type, is UInt64.Type, is Int32.Type: "a whole number"
        case is Bool.Type: "true or false"
        case is String.Type: "text"
        default: "\(type)"
        }
    }

    /// Rewrites float scalars and puts sequences of scalars in flow style.
    private static func humanised(_ node: Node) -> Node {
        switch node {
        case let .scalar(scalar):
            // A plain (unquoted) scalar in a float's notation; text that merely looks like a
            // number is quoted by the encoder and left alone.
            guard scalar.style == .plain, scalar.string.contains(where: { $0 == "." || $0 == "e" }),
                  let value = Double(scalar.string) else { return node }
            return .scalar(.init(shortest(Float(value)), scalar.tag, scalar.style))
        case let .mapping(mapping):
            return .mapping(.init(mapping.map { ($0.key, humanised($0.value)) }, mapping.tag, mapping.style))
        case let .sequence(sequence):
            let items = sequence.map(humanised)
            let flat = items.allSatisfy { if case .scalar = $0 { true } else { false } }
            return .sequence(.init(items, sequence.tag, flat ? .flow : sequence.style))
        }
    }

    /// `0.98`, `3`, `-25`, `1.0e-05`: Swift's shortest round-trip text, without a trailing `.0`
    /// and with a decimal point before any exponent (so that YAML reads it as a float).
    public static func shortest(_ value: Float) -> String {
        guard value.isFinite else { return value.isNaN ? ".nan" : (value > 0 ? ".inf" : "-.inf") }
        var text = "\(value)"
        if text.hasSuffix(".0") { text.removeLast(2) }
        if let e = text.firstIndex(of: "e"), !text[..<e].contains(".") { text.insert(contentsOf: ".0", at: e) }
        return text
    }
}

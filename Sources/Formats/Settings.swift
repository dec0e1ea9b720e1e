// One declaration per configuration key.
//
// A configuration type lists its keys once, as a table of `Setting`s: the YAML key, the property
// it fills, and its documentation. Decoding (strict: unknown keys are errors with "did you
// mean"), encoding (the run's `config.yaml`), the command-line flag (the key with dashes for
// underscores) and its help all come from that table:
//
//     public struct Optimizer: Codable {
//         public var learningRate: Float = 0.01
//         public static let settings: [Setting<Optimizer>] = [
//             Setting("learning_rate", \.learningRate, "Peak learning rate."),
//         ]
//         public init(from decoder: any Decoder) throws { self.init(); try Self.settings.decode(into: &self, from: decoder) }
//         public func encode(to encoder: any Encoder) throws { try Self.settings.encode(self, to: encoder) }
//     }

/// A value a setting can hold: read from and written to YAML, and written on a command line as
/// text (`0.5`, `true`, `00,01`, `car:5,person:4`).
public protocol SettingValue: Codable, Sendable, Equatable {
    /// The value a flag's text gives, or nil when the text is not one.
    init?(flagText: String)
    /// The value as a flag writes it.
    var flagText: String { get }
    /// A word for the value in help text (`number`, `list`, ...).
    static var valueName: String { get }
    /// Why `text` is not a value, when there is more to say than "not a valid value".
    static func problem(ofFlagText text: String) -> String?
}

extension SettingValue {
    public static func problem(ofFlagText text: String) -> String? { nil }
}

extension SettingValue where Self: RawRepresentable, RawValue == String, Self: CaseIterable {
    public init?(flagText: String) { self.init(rawValue: flagText) }
    public var flagText: String { rawValue }
    public static var valueName: String { allCases.map(\.rawValue).joined(separator: "|") }
}

extension Int: SettingValue {
    public init?(flagText: String) { self.init(flagText) }
    public var flagText: String { String(self) }
    public static var valueName: String { "integer" }
}

extension UInt64: SettingValue {
    public init?(flagText: String) { self.init(flagText) }
    public var flagText: String { String(self) }
    public static var valueName: String { "integer" }
}

extension Float: SettingValue {
    public init?(flagText: String) { self.init(flagText) }
    public var flagText: String { description }
    public static var valueName: String { "number" }
}

extension Bool: SettingValue {
    public init?(flagText: String) {
        switch flagText.lowercased() {
        case "true", "yes", "on", "1": self = true
        case "false", "no", "off", "0": self = false
        default: return nil
        }
    }
    public var flagText: String { self ? "true" : "false" }
    public static var valueName: String { "true|false" }
}

extension String: SettingValue {
    public init?(flagText: String) { self = flagText }
    public var flagText: String { self }
    public static var valueName: String { "text" }
}

extension Array: SettingValue where Element: SettingValue {
    /// Comma-separated elements (`00,01`, `1,2,3`); an empty text is the empty list.
    public init?(flagText: String) {
        if flagText.isEmpty { self = []; return }
        var out: [Element] = []
        for part in flagText.split(separator: ",", omittingEmptySubsequences: false) {
            guard let element = Element(flagText: part.trimmingCharacters(in: .whitespaces)) else { return nil }
            out.append(element)
        }
        self = out
    }
    public var flagText: String { map(\.flagText).joined(separator: ",") }
    public static var valueName: String { "list" }
}

extension Dictionary: SettingValue where Key == String, Value: SettingValue {
    /// `key:value` pairs separated by commas (`car:5,person:4,9:2`).
    public init?(flagText: String) {
        var out: [String: Value] = [:]
        for pair in flagText.split(separator: ",") {
            let parts = pair.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, let value = Value(flagText: parts[1]) else { return nil }
            out[parts[0]] = value
        }
        self = out
    }
    public var flagText: String { sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.flagText)" }.joined(separator: ",") }
    public static var valueName: String { "KEY:VALUE,..." }
}

/// One key of a configuration block: where its value lives in `Root`, how it is read and
/// written, and what it means. A table of them (`[Setting<Root>]`) is the block's whole schema.
public struct Setting<Root>: Sendable {
    /// The YAML key within its block, e.g. `focal_gamma`.
    public let key: String
    /// The command-line flag without its dashes (`focal-gamma`), or nil for a key that has none
    /// (a nested block).
    public let flag: String?
    /// One line of documentation, for help text.
    public let help: String
    /// A word for the value in help text.
    public let valueName: String
    /// Whether the flag may be given alone (`--nesterov`) or negated (`--no-nesterov`).
    public let isSwitch: Bool
    let decodeInto: @Sendable (KeyedDecodingContainer<AnyCodingKey>, inout Root) throws -> Void
    let encodeFrom: @Sendable (Root, inout KeyedEncodingContainer<AnyCodingKey>) throws -> Void
    let assign: @Sendable (String, inout Root) -> Bool
    let problem: @Sendable (String) -> String?
    let show: @Sendable (Root) -> String

    /// A key whose value is written by `set` and read by `get`, for a value stored in more
    /// than one place.
    public init<V: SettingValue>(_ key: String, get: @escaping @Sendable (Root) -> V, set: @escaping @Sendable (inout Root, V) -> Void,
                                 flag: String? = nil, _ help: String) {
        let codingKey = AnyCodingKey(stringValue: key)
        self.key = key
        self.flag = flag ?? key.replacingOccurrences(of: "_", with: "-")
        self.help = help
        valueName = V.valueName
        isSwitch = V.self == Bool.self
        decodeInto = { container, root in
            if let value = try container.decodeIfPresent(V.self, forKey: codingKey) { set(&root, value) }
        }
        encodeFrom = { root, container in try container.encode(get(root), forKey: codingKey) }
        assign = { text, root in
            guard let value = V(flagText: text) else { return false }
            set(&root, value)
            return true
        }
        problem = { V.problem(ofFlagText: $0) }
        show = { get($0).flagText }
    }

    /// A key stored in one property.
    public init<V: SettingValue>(_ key: String, _ path: WritableKeyPath<Root, V> & Sendable, flag: String? = nil, _ help: String) {
        self.init(key, get: { $0[keyPath: path] }, set: { $0[keyPath: path] = $1 }, flag: flag, help)
    }

    /// A key whose value may be absent (`stem_width`): read when present, written when set;
    /// its flag's text is empty for nil.
    public init<V: SettingValue>(_ key: String, optional path: WritableKeyPath<Root, V?> & Sendable, flag: String? = nil, _ help: String) {
        let codingKey = AnyCodingKey(stringValue: key)
        self.init(key: key, flag: flag ?? key.replacingOccurrences(of: "_", with: "-"), help: help, valueName: V.valueName, isSwitch: false,
                  decodeInto: { container, root in
                      if let value = try container.decodeIfPresent(V.self, forKey: codingKey) { root[keyPath: path] = value }
                  },
                  encodeFrom: { root, container in try container.encodeIfPresent(root[keyPath: path], forKey: codingKey) },
                  assign: { text, root in
                      guard let value = V(flagText: text) else { return false }
                      root[keyPath: path] = value
                      return true
                  },
                  problem: { V.problem(ofFlagText: $0) }, show: { $0[keyPath: path]?.flagText ?? "" })
    }

    /// A nested block (`optimizer:`), decoded and encoded by its own type; no flag of its own
    /// (its keys' flags come from its own table, `within(_:)`).
    public static func block<V: Codable & Sendable>(_ key: String, _ path: WritableKeyPath<Root, V> & Sendable, _ help: String) -> Setting {
        let codingKey = AnyCodingKey(stringValue: key)
        return Setting(key: key, flag: nil, help: help, valueName: "block", isSwitch: false,
                       decodeInto: { container, root in
                           if let value = try container.decodeIfPresent(V.self, forKey: codingKey) { root[keyPath: path] = value }
                       },
                       encodeFrom: { root, container in try container.encode(root[keyPath: path], forKey: codingKey) },
                       assign: { _, _ in false }, problem: { _ in nil }, show: { _ in "" })
    }

    private init(key: String, flag: String?, help: String, valueName: String, isSwitch: Bool,
                 decodeInto: @escaping @Sendable (KeyedDecodingContainer<AnyCodingKey>, inout Root) throws -> Void,
                 encodeFrom: @escaping @Sendable (Root, inout KeyedEncodingContainer<AnyCodingKey>) throws -> Void,
                 assign: @escaping @Sendable (String, inout Root) -> Bool, problem: @escaping @Sendable (String) -> String?,
                 show: @escaping @Sendable (Root) -> String) {
        self.key = key
        self.flag = flag
        self.help = help
        self.valueName = valueName
        self.isSwitch = isSwitch
        self.decodeInto = decodeInto
        self.encodeFrom = encodeFrom
        self.assign = assign
        self.problem = problem
        self.show = show
    }

    /// The same setting seen from a configuration that holds this block at `path`; its key
    /// becomes `block.key` (its flag stays as it is).
    public func within<Parent>(_ block: String, _ path: WritableKeyPath<Parent, Root> & Sendable) -> Setting<Parent> {
        let decodeInto = decodeInto, encodeFrom = encodeFrom, assign = assign, problem = problem, show = show
        return Setting<Parent>(key: "\(block).\(key)", flag: flag, help: help, valueName: valueName, isSwitch: isSwitch,
                               decodeInto: { container, parent in try decodeInto(container, &parent[keyPath: path]) },
                               encodeFrom: { parent, container in try encodeFrom(parent[keyPath: path], &container) },
                               assign: { text, parent in assign(text, &parent[keyPath: path]) }, problem: problem,
                               show: { show($0[keyPath: path]) })
    }

    /// Sets the value from a flag's text; false when the text is not a value of this key.
    public func assign(_ text: String, to root: inout Root) -> Bool { assign(text, &root) }

    /// The value in `root` as a flag writes it.
    public func text(in root: Root) -> String { show(root) }
}

extension Array {
    /// Decodes the keys of this table from `decoder` into `root`: a missing key keeps the value
    /// `root` has; a key outside the table and `extraKeys` is an error naming the nearest one.
    public func decode<Root>(into root: inout Root, from decoder: any Decoder, extraKeys: [String] = []) throws
        where Element == Setting<Root> {
        let container = try decoder.strictContainer(keys: map(\.key) + extraKeys)
        for setting in self { try setting.decodeInto(container, &root) }
    }

    /// Encodes every key of this table.
    public func encode<Root>(_ root: Root, to encoder: any Encoder) throws where Element == Setting<Root> {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for setting in self { try setting.encodeFrom(root, &container) }
    }

    /// Applies command-line arguments such as `["--tau", "0.9", "--no-nesterov", "--loss=ce"]`
    /// to `root`. Flags are the settings' (dashes for underscores); a switch may stand alone
    /// (`--rotate`) or be negated (`--no-rotate`). Throws a `SettingFlagError` that names the
    /// flag (and the nearest one for a misspelling).
    public func apply<Root>(flags arguments: [String], to root: inout Root) throws(SettingFlagError) where Element == Setting<Root> {
        let flagged = filter { $0.flag != nil }
        var index = 0
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            guard token.hasPrefix("--"), token.count > 2 else {
                throw SettingFlagError("unexpected argument '\(token)'")
            }
            var name = String(token.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if let setting = flagged.first(where: { $0.flag == name }) {
                if value == nil {
                    if index < arguments.count, !(setting.isSwitch && arguments[index].hasPrefix("--")) {
                        value = arguments[index]
                        index += 1
                    } else if setting.isSwitch {
                        value = "true"
                    } else {
                        throw SettingFlagError("--\(name) needs a value (\(setting.valueName))")
                    }
                }
                guard setting.assign(value!, &root) else {
                    throw SettingFlagError("--\(name): " + (setting.problem(value!) ?? "'\(value!)' is not a valid value (\(setting.valueName))"))
                }
            } else if name.hasPrefix("no-"), value == nil, let setting = flagged.first(where: { $0.flag == String(name.dropFirst(3)) && $0.isSwitch }) {
                _ = setting.assign("false", &root)
            } else {
                let known = flagged.compactMap(\.flag)
                let nearest = nearestKey(to: name, in: known).map { " (did you mean --\($0)?)" } ?? ""
                throw SettingFlagError("unknown option --\(name)\(nearest)")
            }
        }
    }

    /// Help text listing every flag of this table with its value and its default in `defaults`,
    /// each description wrapped to `width` columns under its flag.
    public func flagHelp<Root>(defaults: Root, width: Int = 68) -> String where Element == Setting<Root> {
        compactMap { setting -> String? in
            guard let flag = setting.flag else { return nil }
            let value = setting.isSwitch ? "--[no-]\(flag)" : "--\(flag) <\(setting.valueName)>"
            let shown = setting.text(in: defaults)
            let text = "\(setting.help) (default \(shown.isEmpty ? "none" : shown))"
            var lines: [String] = [], line = ""
            for word in text.split(separator: " ") {
                if !line.isEmpty, line.count + 1 + word.count > width - 4 { lines.append(line); line = "" }
                line += (line.isEmpty ? "" : " ") + word
            }
            lines.append(line)
            return ([value] + lines.map { "    " + $0 }).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// A command-line flag that names no setting or gives it a value it cannot take.
public struct SettingFlagError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

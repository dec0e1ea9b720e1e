// Decoding of configuration files in which every key is optional (a missing key keeps its
// default) and no key is unknown (a misspelt key is an error that names the nearest valid one).
//
// A configuration type decodes itself like this:
//
//     public init(from decoder: any Decoder) throws {
//         let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
//         let defaults = Self()
//         learningRate = try c.value(.learningRate, or: defaults.learningRate)
//     }

/// Any key: the keys a file actually holds, and the keys of a `Setting` table.
public struct AnyCodingKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int?
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

extension Decoder {
    /// The keyed container of this level, after checking that it holds no key outside `Keys`.
    ///
    /// An unknown key throws `DecodingError.dataCorrupted` whose coding path ends at the key and
    /// whose description names the nearest valid key, e.g.
    /// `optimizer.learning_rat: unknown key (did you mean learning_rate?)`.
    public func strictContainer<Keys: CodingKey & CaseIterable>(keyedBy keys: Keys.Type) throws -> KeyedDecodingContainer<Keys> {
        try checkKeys(Keys.allCases.map(\.stringValue))
        return try container(keyedBy: Keys.self)
    }

    /// The keyed container of this level, after checking that it holds no key outside `known`.
    public func strictContainer(keys known: [String]) throws -> KeyedDecodingContainer<AnyCodingKey> {
        try checkKeys(known)
        return try container(keyedBy: AnyCodingKey.self)
    }

    private func checkKeys(_ known: [String]) throws {
        let present = try container(keyedBy: AnyCodingKey.self)
        for key in present.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where !known.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [key],
                                                    debugDescription: unknownKeyMessage(key.stringValue, known: known)))
        }
    }
}

extension KeyedDecodingContainer {
    /// The value under `key`, or `fallback` when the key is absent.
    public func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}

/// "unknown key (did you mean X?)", or the list of valid keys when none is close.
public func unknownKeyMessage(_ key: String, known: [String]) -> String {
    if let nearest = nearestKey(to: key, in: known) { return "unknown key (did you mean \(nearest)?)" }
    return "unknown key (valid keys: \(known.sorted().joined(separator: ", ")))"
}

/// The candidate closest to `key` by edit distance, when it is close enough to be a likely
/// misspelling: at most a third of the key's length in edits, and at least 1 and at most 3.
public func nearestKey(to key: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    let allowed = min(3, max(1, key.count / 3))
    return best.1 <= allowed ? best.0 : nil
}

/// Edit distance counting insertions, deletions, substitutions and swaps of two neighbouring
/// characters (`widht` is one edit from `width`): the optimal string alignment distance.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0 ... a.count { d[i][0] = i }
    for j in 0 ... b.count { d[0][j] = j }
    for i in 1 ... a.count {
        for j in 1 ... b.count {
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
        }
    }
    return d[a.count][b.count]
}

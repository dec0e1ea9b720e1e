import Foundation

/// The field names a PCD or PLY header declares, read from the start of the file without
/// loading its points: how a dataset tells which files carry labels when it lists them.
enum PointCloudHeader {
    /// How much of a file is looked at; a header longer than this is not read here.
    static let limit = 65_536

    /// The point fields of a PCD (`FIELDS`) or of a PLY's `vertex` element (its scalar
    /// properties), or nil when the start of the file does not show them (unreadable, not
    /// PCD or PLY, or a header beyond `limit`); the full reader then says what is wrong.
    static func fieldNames(of url: URL) -> [String]? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: limit) else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        switch PointCloudFormat(url: url) {
        case .pcd:
            for words in lines {
                guard let key = words.first else { continue }
                if key == "FIELDS" { return words.dropFirst().map(String.init) }
                if key == "DATA" { return nil }
            }
            return nil
        case .ply:
            var inVertex = false
            var names: [String] = []
            for words in lines {
                guard let key = words.first else { continue }
                if key == "end_header" { return names }
                if key == "element" { inVertex = words.count > 1 && words[1] == "vertex" }
                if key == "property", inVertex, words.count == 3 { names.append(String(words[2])) }
            }
            return nil
        default:
            return nil
        }
    }
}

import Formats
import Foundation

/// The text files beside a sequence's scans in the KITTI odometry layout.
public struct Calibration: Sendable, Equatable {
    /// Camera projection matrices P0-P3.
    public var projections: [Matrix3x4]
    /// Velodyne-to-camera-0 transform (`Tr`).
    public var velodyneToCamera: Matrix3x4

    public init(projections: [Matrix3x4], velodyneToCamera: Matrix3x4) {
        self.projections = projections
        self.velodyneToCamera = velodyneToCamera
    }

    /// Reads `calib.txt`: lines `P0: 12 numbers` to `P3`, and `Tr: 12 numbers`.
    public init(calib url: URL) throws(FormatError) {
        var rows: [String: Matrix3x4] = [:]
        for (number, line) in try readLines(url) {
            guard let colon = line.firstIndex(of: ":") else {
                throw FormatError(file: url, reason: "line \(number): expected 'KEY: 12 numbers'")
            }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            rows[key] = try parseMatrix(line[line.index(after: colon)...], url: url, line: number)
        }
        let keys = ["P0", "P1", "P2", "P3", "Tr"]
        for key in keys where rows[key] == nil {
            throw FormatError(file: url, reason: "missing \(key)")
        }
        self.init(projections: keys.prefix(4).map { rows[$0]! }, velodyneToCamera: rows["Tr"]!)
    }

    public func write(calib url: URL) throws(FormatError) {
        var text = ""
        for (i, p) in projections.enumerated() { text += "P\(i): \(p.kittiText)\n" }
        text += "Tr: \(velodyneToCamera.kittiText)\n"
        try AtomicFile.write(Data(text.utf8), to: url)
    }
}

/// Reads `poses.txt`: one 3x4 pose (camera 0 of frame i in the frame of camera 0 of frame 0) per line.
public func readPoses(_ url: URL) throws(FormatError) -> [Matrix3x4] {
    var poses: [Matrix3x4] = []
    for (number, line) in try readLines(url) { poses.append(try parseMatrix(Substring(line), url: url, line: number)) }
    return poses
}

public func writePoses(_ poses: [Matrix3x4], to url: URL) throws(FormatError) {
    try AtomicFile.write(Data(poses.map { $0.kittiText + "\n" }.joined().utf8), to: url)
}

/// Reads `times.txt`: one timestamp in seconds per line.
public func readTimes(_ url: URL) throws(FormatError) -> [Double] {
    var times: [Double] = []
    for (number, line) in try readLines(url) {
        guard let t = Double(line.trimmingCharacters(in: .whitespaces)), t.isFinite else {
            throw FormatError(file: url, reason: "line \(number): '\(line)' is not a time in seconds")
        }
        times.append(t)
    }
    return times
}

public func writeTimes(_ times: [Double], to url: URL) throws(FormatError) {
    try AtomicFile.write(Data(times.map { formatScientific($0) + "\n" }.joined().utf8), to: url)
}

/// Non-empty lines of a text file with their 1-based numbers.
private func readLines(_ url: URL) throws(FormatError) -> [(Int, String)] {
    let text: String
    do { text = try String(contentsOf: url, encoding: .utf8) } catch {
        throw FormatError.cannotRead(url, error)
    }
    return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { i, line in
        line.trimmingCharacters(in: .whitespaces).isEmpty ? nil : (i + 1, String(line))
    }
}

private func parseMatrix(_ text: Substring, url: URL, line: Int) throws(FormatError) -> Matrix3x4 {
    let numbers = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map { Double($0) }
    guard numbers.count == 12, numbers.allSatisfy({ $0 != nil && $0!.isFinite }) else {
        throw FormatError(file: url, reason: "line \(line): expected 12 finite numbers")
    }
    return Matrix3x4(numbers.map { $0! })
}

import Foundation

/// The seed corpus of a target, written by the target itself: `RANGESEG_FUZZ_SEEDS=DIR fuzz-X`
/// writes the target's seeds into DIR and exits instead of fuzzing (`tools/fuzz.sh seeds`).
/// Seeds are small files the project writes or ships (a few KB each), never full scans.
public enum Seeds {
    /// The directory asked for, if any.
    public static var requestedDirectory: URL? {
        ProcessInfo.processInfo.environment["RANGESEG_FUZZ_SEEDS"].map { URL(fileURLWithPath: $0) }
    }

    /// When seeds are asked for, writes the files `make` returns (name to bytes) and exits.
    public static func writeIfRequested(_ make: (URL) throws -> [String: Data]) {
        guard let directory = requestedDirectory else { return }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rangeseg-fuzz-seeds-\(getpid())")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let seeds = try make(scratch)
            try FileManager.default.removeItem(at: scratch)
            for (name, data) in seeds.sorted(by: { $0.key < $1.key }) {
                try data.write(to: directory.appendingPathComponent(name))
                print("\(directory.lastPathComponent)/\(name)  \(data.count) bytes")
            }
            // Without exit handlers: LeakSanitizer's check at exit would count what the
            // process still holds (the model, caches) as leaks.
            fflush(stdout)
            _exit(0)
        } catch {
            FileHandle.standardError.write(Data("cannot write seeds into \(directory.path): \(error)\n".utf8))
            exit(1)
        }
    }

    /// The real SemanticKITTI sample (holding `sequences/00`): `$RANGESEG_SAMPLE`, else
    /// `../shared/data/semantickitti` from the working directory (the repository's root, where
    /// `tools/fuzz.sh` runs), as the tests find it.
    public static var sample: URL {
        let path = ProcessInfo.processInfo.environment["RANGESEG_SAMPLE"].flatMap { $0.isEmpty ? nil : $0 }
        return URL(fileURLWithPath: path ?? "../shared/data/semantickitti")
    }

    /// The first `count` bytes of a file.
    public static func prefix(of url: URL, bytes count: Int) throws -> Data {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        return try handle.read(upToCount: count) ?? Data()
    }
}

/// Reads a little-endian `UInt32` at `offset` of a raw buffer (0 past its end).
public func littleEndianUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
    var value: UInt32 = 0
    for i in 0 ..< 4 where offset + i < bytes.count { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
    return value
}

import Foundation
import Formats

/// A PyTorch checkpoint (what `torch.save` writes) read without running anything: the pickle is
/// read by a restricted unpickler that never imports or calls a global (see `PickleGlobals` for
/// which globals are interpreted, kept as inert objects or refused), and tensors refer to their
/// storages' bytes in the file until `floats()` or `int64s()` converts them.
///
/// Both serializations are read:
/// - `zip` (torch 1.6 and later): a ZIP archive of stored members under one top-level folder,
///   `<folder>/data.pkl` the pickle, `<folder>/data/<key>` each storage's bytes, in the byte
///   order `<folder>/byteorder` names (little when absent);
/// - `legacy` (older torch, or `_use_new_zipfile_serialization=False`): pickles of torch's magic
///   number, the protocol version 1001 and the writer's sys_info, the object, the list of storage
///   keys, then each storage in that order as an 8-byte element count and the elements. Torch
///   writes the elements little-endian on every machine; the count is little-endian, or in the
///   machine's order when sys_info says big-endian (torch before 1.5 wrote it so).
public struct TorchCheckpoint: Sendable {
    /// The serialization of a file.
    public enum Format: String, Sendable {
        case zip, legacy
    }

    /// The pickled object (for a training checkpoint, a dict with `state_dict`, `optimizer`, ...).
    public let root: PickleValue
    public let format: Format
    /// The file's name in errors.
    public let file: String

    /// The largest file read: files are read whole into memory.
    public static let maximumFileSize = 1 << 31

    /// Reads the checkpoint at `url`; errors name the file.
    public init(contentsOf url: URL) throws(FormatError) {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int
        if let size, size > Self.maximumFileSize {
            throw FormatError(file: url, reason: "\(size) bytes, more than the \(Self.maximumFileSize) bytes this reader reads into memory")
        }
        let data: Data
        do { data = try Data(readingFile: url) } catch { throw FormatError.cannotRead(url, error) }
        try self.init(data: data, file: url.path)
    }

    /// Reads a checkpoint from its bytes; `file` names it in errors.
    public init(data: Data, file: String) throws(FormatError) {
        self.file = file
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            root = try ZIPCheckpoint(data: data, file: file).read()
            format = .zip
        } else if data.first == 0x80 {
            root = try LegacyCheckpoint(data: data, file: file).read()
            format = .legacy
        } else {
            throw FormatError(file: file, reason: Self.notACheckpoint(data))
        }
    }

    /// Why `data` is not read as a checkpoint, by what it looks like.
    private static func notACheckpoint(_ data: Data) -> String {
        let bytes = [UInt8](data.prefix(262))
        if bytes.isEmpty { return "an empty file, not a PyTorch checkpoint" }
        if bytes.count >= 262, bytes[257 ..< 262] == [0x75, 0x73, 0x74, 0x61, 0x72] {
            return "a tar archive: PyTorch's serialization before 0.4 (a tar of pickles) is not supported"
        }
        if bytes.count >= 9, bytes[8] == 0x7B { return "a safetensors file (a JSON header), not a PyTorch checkpoint" }
        return "not a PyTorch checkpoint: neither a ZIP archive (torch.save since PyTorch 1.6) nor a legacy torch file "
            + "(pickles that start with torch's magic number)"
    }

    /// The tensors of the state dict at `path` (`[]` for the top level, `["state_dict"]` for a
    /// training checkpoint such as SalsaNext's), in the file's order: every entry whose value is a
    /// tensor (a BatchNorm's `num_batches_tracked` is one); other values (an `_extra_state`) are
    /// left out. An error when the value at `path` is not a dict with string keys, when an entry
    /// is a tensor this reader does not convert (sparse, quantized), or when a tensor needs more
    /// elements than its storage holds.
    public func stateDict(at path: [String] = []) throws(FormatError) -> [(name: String, tensor: TorchTensor)] {
        let place = path.isEmpty ? "the top level" : path.map { "['\($0)']" }.joined()
        var value = root
        for (depth, key) in path.enumerated() {
            let parent = depth == 0 ? "the top level" : path[..<depth].map { "['\($0)']" }.joined()
            guard case .dict = value else { throw FormatError(file: file, reason: "is not a state dict: \(parent) is \(value.kind), not a dict") }
            guard let next = value[key] else { throw FormatError(file: file, reason: "is not a state dict: \(parent) has no key '\(key)'") }
            value = next
        }
        guard case .dict(let items) = value else { throw FormatError(file: file, reason: "is not a state dict: \(place) is \(value.kind)") }
        var tensors: [(name: String, tensor: TorchTensor)] = []
        for (key, item) in items {
            guard case .string(let name) = key else { throw FormatError(file: file, reason: "is not a state dict: \(place) has \(key.kind) for a key") }
            switch item {
            case .tensor(let tensor):
                try tensor.checkExtent(name: name)
                tensors.append((name, tensor))
            case .object(let object) where object.global.hasPrefix("torch._utils._rebuild"):
                throw FormatError(file: file, reason: "tensor '\(name)' is of a kind this reader does not convert (\(object.global))")
            default: continue
            }
        }
        return tensors
    }
}

// MARK: - The ZIP serialization

private struct ZIPCheckpoint {
    let zip: ZIPReader
    let file: String

    init(data: Data, file: String) throws(FormatError) {
        zip = try ZIPReader(data: data, file: file)
        self.file = file
    }

    func read() throws(FormatError) -> PickleValue {
        guard let pickle = zip.entries.first(where: { $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/").count == 2 }) else {
            throw FormatError(file: file, reason: "a ZIP archive without <folder>/data.pkl: not a PyTorch checkpoint")
        }
        let folder = String(pickle.name.dropLast("data.pkl".count))
        let bigEndian = try byteOrder(folder)
        var members: [String: ZIPReader.Entry] = [:]
        for entry in zip.entries where entry.name.hasPrefix(folder + "data/") { members[entry.name] = entry }
        let bytes = try zip.contents(of: pickle)
        var storages: [String: Data] = [:]
        let (zip, file) = (zip, file)
        var unpickler = Unpickler(bytes, at: bytes.startIndex, origin: bytes.startIndex, context: pickle.name, source: file) { id throws(FormatError) in
            let (dtype, key, location) = try Self.storageID(id, file: file)
            if storages[key] == nil {
                guard let member = members[folder + "data/" + key] else {
                    throw FormatError(file: file, reason: "storage '\(key)' is missing: the archive has no \(folder)data/\(key)")
                }
                storages[key] = try zip.contents(of: member)
            }
            return .storage(TorchStorage(key: key, dtype: dtype, location: location, bytes: storages[key]!, bigEndian: bigEndian, source: file))
        }
        return try unpickler.load()
    }

    /// Whether `<folder>/byteorder` says big-endian.
    private func byteOrder(_ folder: String) throws(FormatError) -> Bool {
        guard let entry = zip.entry(named: folder + "byteorder") else { return false }
        let order = String(decoding: try zip.contents(of: entry), as: UTF8.self)
        guard order == "little" || order == "big" else {
            throw FormatError(file: file, reason: "\(entry.name) says '\(order.prefix(20))', neither little nor big")
        }
        return order == "big"
    }

    /// ('storage', StorageType, key, location, numel) of a ZIP checkpoint.
    static func storageID(_ id: PickleValue, file: String) throws(FormatError) -> (TorchDType, String, String) {
        guard case .tuple(let parts) = id, parts.count == 5, text(parts[0]) == "storage", case .global(let type) = parts[1],
              let key = text(parts[2]), let location = text(parts[3]), case .int = parts[4] else {
            throw FormatError(file: file, reason: "a persistent id that is not ('storage', type, key, location, size)")
        }
        guard let dtype = TorchDType(storageType: type) else { throw FormatError(file: file, reason: "storage type '\(type)' is not supported") }
        return (dtype, key, location)
    }
}

/// A string of a persistent id (Python 2 files may hold bytes).
private func text(_ value: PickleValue) -> String? {
    switch value {
    case .string(let s): s
    case .bytes(let b): String(decoding: b, as: UTF8.self)
    default: nil
    }
}

// MARK: - The legacy serialization

private struct LegacyCheckpoint {
    let data: Data
    let file: String
    /// torch's magic number 0x1950a86a20f9469cfc6c, little-endian as LONG1 holds it.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// A storage's persistent id: ('storage', StorageType, root_key, location, numel, view),
    /// view None or (view_key, offset, numel).
    struct StorageID {
        let dtype: TorchDType, root: String, location: String, count: Int
        let view: (key: String, offset: Int, count: Int)?

        init(_ id: PickleValue, file: String) throws(FormatError) {
            guard case .tuple(let parts) = id, parts.count == 6, text(parts[0]) == "storage", case .global(let type) = parts[1],
                  let root = text(parts[2]), let location = text(parts[3]), case .int(let count) = parts[4], count >= 0 else {
                throw FormatError(file: file, reason: "a persistent id that is not ('storage', type, key, location, size, view)")
            }
            guard let dtype = TorchDType(storageType: type) else { throw FormatError(file: file, reason: "storage type '\(type)' is not supported") }
            (self.dtype, self.root, self.location, self.count) = (dtype, root, location, Int(count))
            if case .none = parts[5] {
                view = nil
            } else if case .tuple(let v) = parts[5], v.count == 3, let key = text(v[0]), case .int(let offset) = v[1],
                      case .int(let size) = v[2], offset >= 0, size >= 0 {
                view = (key, Int(offset), Int(size))
            } else {
                throw FormatError(file: file, reason: "storage '\(root)' has a view that is not (key, offset, size)")
            }
        }
    }

    func read() throws(FormatError) -> PickleValue {
        var position = data.startIndex
        let magic: PickleValue
        do { magic = try load(&position) } catch { throw FormatError(file: file, reason: "not a PyTorch checkpoint: \(error.reason)") }
        guard case .bigInt(Self.magic) = magic else {
            throw FormatError(file: file, reason: "not a PyTorch checkpoint: a pickle of \(magic.kind), where a legacy torch file has torch's magic number")
        }
        let version = try load(&position)
        guard case .int(1001) = version else { throw FormatError(file: file, reason: "legacy protocol version \(version.kind) is not 1001, the one torch writes") }
        let info = try load(&position)
        guard case .dict = info else { throw FormatError(file: file, reason: "the sys_info pickle is \(info.kind), not a dict") }
        let littleEndian: Bool = if case .bool(let b)? = info["little_endian"] { b } else { true }

        // The object is read twice: first for its storages' types and sizes (the bytes follow it), then for good.
        let objectStart = position
        var declared: [String: StorageID] = [:]
        _ = try load(&position) { id throws(FormatError) in
            if let module = Self.module(id) { return module }
            let storage = try StorageID(id, file: file)
            declared[storage.root] = declared[storage.root] ?? storage
            return .storage(TorchStorage(key: storage.root, dtype: storage.dtype, location: storage.location, bytes: Data(), bigEndian: false, source: file))
        }
        let keys = try load(&position)
        let storages = try readStorages(keys, declared: declared, littleEndian: littleEndian, from: &position)
        var again = objectStart
        return try load(&again) { id throws(FormatError) in
            if let module = Self.module(id) { return module }
            return .storage(try storage(StorageID(id, file: file), in: storages))
        }
    }

    /// The pickle at `position`, which then moves past it.
    private func load(_ position: inout Int, _ persistentLoad: @escaping Unpickler.PersistentLoad = { _ throws(FormatError) in .none })
        throws(FormatError) -> PickleValue {
        var unpickler = Unpickler(data, at: position, origin: data.startIndex, context: "the file", source: file, persistentLoad: persistentLoad)
        let value = try unpickler.load()
        position = unpickler.position
        return value
    }

    /// ('module', type, source file, source) of a pickled nn.Module's class: the type.
    private static func module(_ id: PickleValue) -> PickleValue? {
        guard case .tuple(let parts) = id, parts.count >= 2, text(parts[0]) == "module" else { return nil }
        return parts[1]
    }

    /// The storages' bytes after the list of keys: for each key, its element count and elements.
    private func readStorages(_ keys: PickleValue, declared: [String: StorageID], littleEndian: Bool, from position: inout Int)
        throws(FormatError) -> [String: Data] {
        guard case .list(let list) = keys else { throw FormatError(file: file, reason: "the list of storage keys is \(keys.kind), not a list") }
        var storages: [String: Data] = [:]
        for item in list {
            guard let key = text(item), let storage = declared[key] else {
                throw FormatError(file: file, reason: "the list of storage keys names \(text(item).map { "'\($0)'" } ?? item.kind), which no tensor uses")
            }
            guard data.endIndex - position >= 8 else { throw FormatError(file: file, reason: "storage '\(key)' is truncated: the file ends before its size") }
            let raw = data[position ..< position + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            position += 8
            guard raw == UInt64(storage.count) || (!littleEndian && raw.byteSwapped == UInt64(storage.count)) else {
                throw FormatError(file: file, reason: "storage '\(key)' has \(raw) elements by the file's count but \(storage.count) by its persistent id")
            }
            let (size, overflow) = storage.count.multipliedReportingOverflow(by: storage.dtype.elementSize)
            guard !overflow, size <= data.endIndex - position else {
                throw FormatError(file: file, reason: "storage '\(key)' is truncated: it needs \(storage.count) elements of \(storage.dtype.rawValue), "
                    + "the file ends \(data.endIndex - position) bytes later")
            }
            storages[key] = data[position ..< position + size]
            position += size
        }
        return storages
    }

    /// The storage a persistent id names: its root's bytes, or the view's part of them.
    private func storage(_ id: StorageID, in storages: [String: Data]) throws(FormatError) -> TorchStorage {
        guard let root = storages[id.root] else { throw FormatError(file: file, reason: "storage '\(id.root)' is not among the file's storages") }
        guard let view = id.view else {
            return TorchStorage(key: id.root, dtype: id.dtype, location: id.location, bytes: root, bigEndian: false, source: file)
        }
        let size = id.dtype.elementSize, elements = root.count / size
        guard view.offset <= elements, view.count <= elements - view.offset else {
            throw FormatError(file: file, reason: "view '\(view.key)' of storage '\(id.root)' (offset \(view.offset), \(view.count) elements) "
                + "runs past its \(elements) elements")
        }
        let start = root.startIndex + view.offset * size
        return TorchStorage(key: view.key, dtype: id.dtype, location: id.location, bytes: root[start ..< start + view.count * size],
                            bigEndian: false, source: file)
    }
}

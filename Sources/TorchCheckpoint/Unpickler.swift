import Foundation
import Formats

extension PickleValue {
    /// Reads a plain pickle (one object, without persistent ids) with the restricted unpickler
    /// of `TorchCheckpoint`, which runs nothing; errors name `file`.
    public init(pickle data: Data, file: String) throws(FormatError) {
        var unpickler = Unpickler(data, at: data.startIndex, origin: data.startIndex, context: "the pickle", source: file) { _ throws(FormatError) in
            throw FormatError(file: file, reason: "a persistent id, which a plain pickle does not have")
        }
        self = try unpickler.load()
    }
}

/// A restricted unpickler: reads one pickle (protocols 0 to 5) into `PickleValue`s and never
/// imports or calls anything. Globals are names (see `PickleGlobals`), persistent ids go to
/// `persistentLoad`.
///
/// Limits against files that would exhaust memory: values nest at most `maximumDepth` deep, and
/// the values on the stack and in the memo, counted as trees (a value shared twice counts
/// twice), number at most `maximumValues`; every length read is checked against the bytes that
/// remain before anything is allocated for it.
struct Unpickler {
    static let maximumDepth = 1000
    static let maximumValues = 1 << 22

    typealias PersistentLoad = (PickleValue) throws(FormatError) -> PickleValue

    /// A value with its size as a tree and its depth, and the memo keys it was stored under
    /// while on the stack (written back when it leaves the stack).
    struct Item {
        var value: PickleValue
        var size = 1
        var depth = 1
        var memoKeys: [Int] = []
    }

    /// A memo entry: a finished value, or the stack position of a value still being built.
    enum Slot { case value(Item), live(Int) }

    let data: Data
    /// Where positions in errors count from, and what they are positions of ("archive/data.pkl").
    let origin: Int, context: String, source: String
    let persistentLoad: PersistentLoad
    private(set) var position: Int
    private var opcodeStart = 0
    private var stack: [Item] = []
    private var marks: [Int] = []
    private var memo: [Int: Slot] = [:]
    private var liveValues = 0

    /// An unpickler of the pickle at `start` of `data`; positions in errors count from `origin`.
    init(_ data: Data, at start: Int, origin: Int, context: String, source: String, persistentLoad: @escaping PersistentLoad) {
        self.data = data
        self.position = start
        self.origin = origin
        self.context = context
        self.source = source
        self.persistentLoad = persistentLoad
    }

    /// Reads the pickle up to its STOP; `position` is then the byte after it.
    mutating func load() throws(FormatError) -> PickleValue {
        while true {
            opcodeStart = position
            let opcode = try byte()
            if opcode == 0x2E { return try pop().value }  // STOP
            try execute(opcode)
        }
    }

    func fail(_ reason: String) -> FormatError {
        FormatError(file: source, reason: "\(reason), at byte \(opcodeStart - origin) of \(context)")
    }

    // MARK: Reading bytes

    private var remaining: Int { data.endIndex - position }

    private mutating func byte() throws(FormatError) -> UInt8 {
        guard remaining >= 1 else { throw fail("the pickle ends without STOP") }
        defer { position += 1 }
        return data[position]
    }

    private mutating func bytes(_ count: Int) throws(FormatError) -> Data {
        guard count >= 0, count <= remaining else { throw fail("a length of \(count) bytes runs past the end of the data") }
        defer { position += count }
        return data[position ..< position + count]
    }

    /// An unsigned little-endian integer of `width` bytes.
    private mutating func unsigned(_ width: Int) throws(FormatError) -> UInt64 {
        let raw = try bytes(width)
        return raw.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A length field of `width` bytes, checked against what remains.
    private mutating func length(_ width: Int) throws(FormatError) -> Int {
        let value = try unsigned(width)
        guard value <= UInt64(remaining) else { throw fail("a length of \(value) bytes runs past the end of the data") }
        return Int(value)
    }

    /// A protocol-0 argument: the bytes up to the next newline.
    private mutating func lineBytes() throws(FormatError) -> [UInt8] {
        guard let end = data[position...].firstIndex(of: 0x0A) else { throw fail("a text argument without its newline") }
        defer { position = end + 1 }
        return [UInt8](data[position ..< end])
    }

    mutating func textLine() throws(FormatError) -> String { String(decoding: try lineBytes(), as: UTF8.self) }

    private mutating func lineInt() throws(FormatError) -> Int {
        let text = try textLine()
        guard let value = Int(text.hasSuffix("L") ? String(text.dropLast()) : text) else { throw fail("'\(text)' is not an integer") }
        return value
    }

    // MARK: The stack, marks and memo

    mutating func push(_ item: Item) throws(FormatError) {
        guard item.depth <= Self.maximumDepth else { throw fail("values nest deeper than \(Self.maximumDepth) levels") }
        liveValues += item.size
        guard liveValues <= Self.maximumValues else {
            throw fail("more than \(Self.maximumValues) values at once (a limit against files that exhaust memory)")
        }
        stack.append(item)
    }

    mutating func push(_ value: PickleValue) throws(FormatError) { try push(Item(value: value)) }

    /// A value built of `parts`: its size and depth from theirs.
    mutating func push(_ value: PickleValue, of parts: [Item]) throws(FormatError) {
        try push(Item(value: value, size: 1 + parts.reduce(0) { $0 + $1.size }, depth: 1 + (parts.map(\.depth).max() ?? 0)))
    }

    /// The top item; an item below the last MARK is not for popping (as in Python's unpickler).
    mutating func pop() throws(FormatError) -> Item {
        if let mark = marks.last, mark >= stack.count { throw fail("pops from below a MARK") }
        return try popItem()
    }

    /// The top item, written back to the memo keys it was stored under.
    private mutating func popItem() throws(FormatError) -> Item {
        guard var item = stack.popLast() else { throw fail("the stack is empty") }
        liveValues -= item.size
        for key in item.memoKeys {
            if case .live(stack.count) = memo[key] {
                memo[key] = .value(Item(value: item.value, size: item.size, depth: item.depth))
                liveValues += item.size
            }
        }
        item.memoKeys = []
        return item
    }

    mutating func pop(_ count: Int) throws(FormatError) -> [Item] {
        var items: [Item] = []
        for _ in 0 ..< count { items.append(try pop()) }
        return items.reversed()
    }

    /// The items above the last MARK, and the mark removed.
    mutating func popToMark() throws(FormatError) -> [Item] {
        guard let mark = marks.popLast() else { throw fail("no MARK on the stack") }
        liveValues -= 1
        var items: [Item] = []
        while stack.count > mark { items.append(try popItem()) }
        return items.reversed()
    }

    private mutating func mark() throws(FormatError) {
        liveValues += 1
        guard liveValues <= Self.maximumValues else { throw fail("more than \(Self.maximumValues) values at once") }
        marks.append(stack.count)
    }

    private mutating func put(_ key: Int) throws(FormatError) {
        guard !stack.isEmpty else { throw fail("memoizes from an empty stack") }
        guard key >= 0, memo.count < Self.maximumValues || memo[key] != nil else { throw fail("memo key \(key) is out of range") }
        if case .value(let old) = memo[key] { liveValues -= old.size }
        memo[key] = .live(stack.count - 1)
        stack[stack.count - 1].memoKeys.append(key)
    }

    private mutating func get(_ key: Int) throws(FormatError) {
        switch memo[key] {
        case nil: throw fail("memo key \(key) is not defined")
        case .live(let index):
            let item = stack[index]
            try push(Item(value: item.value, size: item.size, depth: item.depth))
        case .value(var item):
            // Taken out of the memo while on the stack, so that changes to it (BUILD) are made in
            // place and written back when it leaves the stack.
            liveValues -= item.size
            item.memoKeys = [key]
            memo[key] = .live(stack.count)
            try push(item)
        }
    }

    /// Changes the value on top of the stack (a container being filled) by `change`, which gets
    /// the value uniquely referenced and returns why it cannot be changed, if it cannot; `parts`
    /// are the items added to it.
    mutating func modifyTop(adding parts: [Item], _ change: (inout PickleValue) -> String?) throws(FormatError) {
        let top = stack.count - 1
        guard top >= 0, top >= (marks.last ?? 0) else { throw fail("no value to change on the stack") }
        var value = stack[top].value
        stack[top].value = .none
        if let problem = change(&value) { throw fail(problem) }
        stack[top].value = value
        let added = parts.reduce(0) { $0 + $1.size }
        stack[top].size += added
        liveValues += added
        stack[top].depth = max(stack[top].depth, 1 + (parts.map(\.depth).max() ?? 0))
        guard stack[top].depth <= Self.maximumDepth else { throw fail("values nest deeper than \(Self.maximumDepth) levels") }
    }
}

// MARK: - Opcodes

extension Unpickler {
    private mutating func execute(_ opcode: UInt8) throws(FormatError) {
        switch opcode {
        case 0x80: let proto = try byte(); guard proto <= 5 else { throw fail("pickle protocol \(proto) is not supported") }
        case 0x95: _ = try unsigned(8)                                        // FRAME
        case 0x28: try mark()                                                 // MARK
        case 0x30: _ = try pop()                                              // POP
        case 0x31: _ = try popToMark()                                        // POP_MARK
        case 0x32:                                                            // DUP
            guard let top = stack.last else { throw fail("the stack is empty") }
            try push(Item(value: top.value, size: top.size, depth: top.depth))
        case 0x70: try put(try lineInt())                                     // PUT
        case 0x71: try put(Int(try byte()))                                   // BINPUT
        case 0x72: try put(Int(try unsigned(4)))                              // LONG_BINPUT
        case 0x94: try put(memo.count)                                        // MEMOIZE
        case 0x67: try get(try lineInt())                                     // GET
        case 0x68: try get(Int(try byte()))                                   // BINGET
        case 0x6A: try get(Int(try unsigned(4)))                              // LONG_BINGET
        case 0x63, 0x93, 0x52, 0x81, 0x92, 0x69, 0x6F, 0x62: try executeObject(opcode)
        case 0x50: try push(try persistent(.string(try textLine())))             // PERSID
        case 0x51: try push(try persistent(try pop().value))                  // BINPERSID
        default:
            if try executeScalar(opcode) { return }
            try executeContainer(opcode)
        }
    }

    /// What `persistentLoad` makes of a persistent id; its errors say where the id is.
    private func persistent(_ id: PickleValue) throws(FormatError) -> PickleValue {
        do { return try persistentLoad(id) } catch { throw fail(error.reason) }
    }

    /// Scalars: None, booleans, integers, floats, strings and bytes; false for other opcodes.
    private mutating func executeScalar(_ opcode: UInt8) throws(FormatError) -> Bool {
        switch opcode {
        case 0x4E: try push(.none)                                            // NONE
        case 0x88: try push(.bool(true))                                      // NEWTRUE
        case 0x89: try push(.bool(false))                                     // NEWFALSE
        case 0x4B: try push(.int(Int64(try byte())))                          // BININT1
        case 0x4D: try push(.int(Int64(try unsigned(2))))                     // BININT2
        case 0x4A: try push(.int(Int64(Int32(truncatingIfNeeded: try unsigned(4)))))   // BININT
        case 0x8A: try push(Self.long(try bytes(Int(try byte()))))            // LONG1
        case 0x8B:                                                            // LONG4
            let count = Int32(truncatingIfNeeded: try unsigned(4))
            try push(Self.long(try bytes(Int(count))))
        case 0x49:                                                            // INT
            let text = try textLine()
            if text == "00" || text == "01" { try push(.bool(text == "01")); break }
            guard let value = Int64(text) else { throw fail("INT '\(text)' is not a 64-bit integer") }
            try push(.int(value))
        case 0x4C:                                                            // LONG
            let text = try textLine()
            guard let value = Int64(text.hasSuffix("L") ? String(text.dropLast()) : text) else {
                throw fail("LONG '\(text)' is not a 64-bit integer")
            }
            try push(.int(value))
        case 0x47: try push(.float(Double(bitPattern: try unsigned(8).byteSwapped)))  // BINFLOAT (big-endian)
        case 0x46:                                                            // FLOAT
            let text = try textLine()
            guard let value = Double(text) else { throw fail("FLOAT '\(text)' is not a number") }
            try push(.float(value))
        case 0x58: try push(.string(Self.utf8(try bytes(try length(4)))))    // BINUNICODE
        case 0x8C: try push(.string(Self.utf8(try bytes(Int(try byte())))))  // SHORT_BINUNICODE
        case 0x8D: try push(.string(Self.utf8(try bytes(try length(8)))))    // BINUNICODE8
        case 0x56: try push(.string(Self.rawUnicodeEscape(try lineBytes()))) // UNICODE
        case 0x42: try push(.bytes([UInt8](try bytes(try length(4)))))       // BINBYTES
        case 0x43: try push(.bytes([UInt8](try bytes(Int(try byte())))))     // SHORT_BINBYTES
        case 0x8E, 0x96: try push(.bytes([UInt8](try bytes(try length(8))))) // BINBYTES8, BYTEARRAY8
        case 0x54:                                                            // BINSTRING
            let count = Int32(truncatingIfNeeded: try unsigned(4))
            try push(Self.pythonTwoString(try bytes(Int(count))))
        case 0x55: try push(Self.pythonTwoString(try bytes(Int(try byte())))) // SHORT_BINSTRING
        case 0x53: try push(Self.pythonTwoString(try quoted(try lineBytes()))) // STRING
        default: return false
        }
        return true
    }

    /// Lists, tuples, dicts and sets.
    private mutating func executeContainer(_ opcode: UInt8) throws(FormatError) {
        switch opcode {
        case 0x5D: try push(.list([]))                                        // EMPTY_LIST
        case 0x29: try push(.tuple([]))                                       // EMPTY_TUPLE
        case 0x7D: try push(.dict([]))                                        // EMPTY_DICT
        case 0x8F: try push(.set([]))                                         // EMPTY_SET
        case 0x6C: let items = try popToMark(); try push(.list(items.map(\.value)), of: items)    // LIST
        case 0x74: let items = try popToMark(); try push(.tuple(items.map(\.value)), of: items)   // TUPLE
        case 0x85, 0x86, 0x87:                                                // TUPLE1, TUPLE2, TUPLE3
            let items = try pop(Int(opcode) - 0x84)
            try push(.tuple(items.map(\.value)), of: items)
        case 0x91: let items = try popToMark(); try push(.set(items.map(\.value)), of: items)     // FROZENSET
        case 0x64:                                                            // DICT
            let items = try popToMark()
            try push(.dict(try pairs(items)), of: items)
        case 0x61: try append(try pop(1))                                     // APPEND
        case 0x65: try append(try popToMark())                                // APPENDS
        case 0x90: try append(try popToMark())                                // ADDITEMS
        case 0x73: try setItems(try pop(2))                                   // SETITEM
        case 0x75: try setItems(try popToMark())                              // SETITEMS
        default:
            let hex = "0x" + String(opcode, radix: 16)
            guard let name = Self.opcodeNames[opcode] else { throw fail("unknown pickle opcode \(hex)") }
            throw fail("unsupported pickle opcode \(hex) (\(name))")
        }
    }

    private func pairs(_ items: [Item]) throws(FormatError) -> [(key: PickleValue, value: PickleValue)] {
        guard items.count % 2 == 0 else { throw fail("a dict of an odd number of items") }
        return stride(from: 0, to: items.count, by: 2).map { (key: items[$0].value, value: items[$0 + 1].value) }
    }

    private mutating func append(_ items: [Item]) throws(FormatError) {
        try modifyTop(adding: items) { value in
            switch value {
            case .list(var list): value = .none; list += items.map(\.value); value = .list(list)
            case .set(var set): value = .none; set += items.map(\.value); value = .set(set)
            case .object(var object): value = .none; object.listItems += items.map(\.value); value = .object(object)
            default: return "appends to \(value.kind)"
            }
            return nil
        }
    }

    private mutating func setItems(_ items: [Item]) throws(FormatError) {
        let pairs = try pairs(items)
        try modifyTop(adding: items) { value in
            switch value {
            case .dict(var dict): value = .none; dict += pairs; value = .dict(dict)
            case .object(var object): value = .none; object.dictItems += pairs; value = .object(object)
            default: return "sets items of \(value.kind)"
            }
            return nil
        }
    }

    /// BUILD's state: an inert object keeps it; a dict (an OrderedDict's attributes, such as
    /// torch's `_metadata`) and a tensor drop it.
    mutating func build() throws(FormatError) {
        let state = try pop()
        try modifyTop(adding: [state]) { value in
            switch value {
            case .object(var object): value = .none; object.state = state.value; value = .object(object)
            case .dict, .tensor, .list, .set: break
            default: return "BUILD of \(value.kind)"
            }
            return nil
        }
    }
}

// MARK: - Decoding

extension Unpickler {
    /// LONG1/LONG4's little-endian two's complement: Int64 when it fits in 8 bytes.
    static func long(_ bytes: Data) -> PickleValue {
        let raw = [UInt8](bytes)
        guard raw.count <= 8 else { return .bigInt(raw) }
        guard let last = raw.last else { return .int(0) }
        var value: UInt64 = last & 0x80 != 0 ? ~0 : 0
        for byte in raw.reversed() { value = value << 8 | UInt64(byte) }
        return .int(Int64(bitPattern: value))
    }

    static func utf8(_ bytes: Data) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A Python 2 `str`: text when it is UTF-8 (as torch.load decodes it), else bytes.
    static func pythonTwoString(_ bytes: Data) -> PickleValue {
        String(data: bytes, encoding: .utf8).map { .string($0) } ?? .bytes([UInt8](bytes))
    }

    /// STRING's argument: a Python literal in quotes with backslash escapes.
    private func quoted(_ text: [UInt8]) throws(FormatError) -> Data {
        guard text.count >= 2, let quote = text.first, quote == 0x27 || quote == 0x22, text.last == quote else {
            throw fail("STRING argument is not quoted")
        }
        var out: [UInt8] = [], i = 1
        while i < text.count - 1 {
            defer { i += 1 }
            guard text[i] == 0x5C, i + 1 < text.count - 1 else { out.append(text[i]); continue }
            i += 1
            let escapes: [UInt8: UInt8] = [0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09, 0x5C: 0x5C, 0x27: 0x27, 0x22: 0x22]
            if let plain = escapes[text[i]] { out.append(plain); continue }
            if text[i] == 0x78, i + 2 < text.count - 1, let v = UInt8(String(decoding: text[i + 1 ... i + 2], as: UTF8.self), radix: 16) {
                out.append(v); i += 2; continue
            }
            out += [0x5C, text[i]]
        }
        return Data(out)
    }

    /// UNICODE's raw-unicode-escape: Latin-1 with \uXXXX and \UXXXXXXXX escapes.
    static func rawUnicodeEscape(_ text: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView(), i = 0
        while i < text.count {
            if text[i] == 0x5C, i + 1 < text.count, text[i + 1] == 0x75 || text[i + 1] == 0x55 {
                let digits = text[i + 1] == 0x75 ? 4 : 8
                if i + 2 + digits <= text.count, let code = UInt32(String(decoding: text[i + 2 ..< i + 2 + digits], as: UTF8.self), radix: 16),
                   let scalar = Unicode.Scalar(code) {
                    scalars.append(scalar); i += 2 + digits; continue
                }
            }
            scalars.append(Unicode.Scalar(text[i]))
            i += 1
        }
        return String(scalars)
    }

    /// Every opcode of protocols 0 to 5, for errors.
    static let opcodeNames: [UInt8: String] = [
        0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT", 0x49: "INT",
        0x4A: "BININT", 0x4B: "BININT1", 0x4C: "LONG", 0x4D: "BININT2", 0x4E: "NONE", 0x50: "PERSID",
        0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING",
        0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD", 0x63: "GLOBAL", 0x64: "DICT",
        0x7D: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET", 0x69: "INST", 0x6A: "LONG_BINGET",
        0x6C: "LIST", 0x5D: "EMPTY_LIST", 0x6F: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
        0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT", 0x80: "PROTO",
        0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3",
        0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8A: "LONG1", 0x8B: "LONG4", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES",
        0x8C: "SHORT_BINUNICODE", 0x8D: "BINUNICODE8", 0x8E: "BINBYTES8", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS",
        0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
        0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]
}

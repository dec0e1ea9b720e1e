import Formats

/// The rule for globals. A global is only ever a name: this reader never imports a module and
/// never calls anything. When the GLOBAL (or STACK_GLOBAL, INST) opcode is read:
///
/// - refused, with an error naming it, is every global of a module that runs code or reaches
///   the system (`refusedModules`, matched on the first component of the module and on the
///   attributes a dotted name passes through: `os`, `posix`, `subprocess`, `sys`, `importlib`,
///   `pickle`, `operator`, ...; and `numpy.testing`, `torch.hub`), and every name of `builtins`
///   (`__builtin__` in Python 2 pickles) except `inertBuiltins`: `eval`, `exec`, `__import__`,
///   `open`, `compile`, `setattr` are refused;
/// - interpreted, without calling anything, are torch's tensor and parameter rebuilders, torch's
///   storage classes and dtypes, `collections.OrderedDict` and `defaultdict`, `builtins.dict`,
///   `set`, `frozenset`, `bytearray`, `_codecs.encode` (bytes of Python 2 strings) and
///   `copyreg._reconstructor`;
/// - every other global (an optimizer class, a scheduler, `numpy.dtype`, numpy scalars,
///   `torch.device`, `builtins.getattr`) becomes an `InertObject` when the pickle calls it.
///
/// `builtins.getattr` is allowed because pickle writes bound methods and nested functions with it
/// (torch's CyclicLR keeps its scale function so, and SalsaNext's checkpoints pickle a CyclicLR):
/// `getattr(obj, 'name')` is read as an inert object. Calling the result of a call (REDUCE or
/// NEWOBJ of anything that is not a global name) is refused, so a getattr result is never called.
enum PickleGlobals {
    /// Modules whose globals run code, start processes, load code or touch files and sockets.
    static let refusedModules: Set<String> = [
        "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "_posixsubprocess", "sys", "shutil", "socket",
        "importlib", "imp", "zipimport", "pkgutil", "runpy", "pty", "commands", "webbrowser", "ctypes", "_ctypes",
        "code", "codeop", "pickle", "_pickle", "cPickle", "marshal", "types", "io", "_io", "pdb", "bdb", "timeit",
        "multiprocessing", "threading", "_thread", "signal", "operator", "_operator", "asyncio", "platform",
        "tempfile", "glob", "pathlib", "inspect", "gc", "site", "cProfile", "profile", "trace", "urllib", "http",
        "ftplib", "smtplib", "telnetlib", "ssl", "select", "fcntl", "mmap", "resource", "sqlite3", "distutils",
        "setuptools", "pip",
    ]
    /// Submodules of allowed packages that run code (numpy.testing's runstring) or fetch it.
    static let refusedSubmodules = ["numpy.testing", "torch.hub"]
    /// The names of builtins a pickle may hold: containers and types, and getattr (see above).
    static let inertBuiltins: Set<String> = [
        "set", "frozenset", "bytearray", "bytes", "dict", "list", "tuple", "object", "int", "float", "complex",
        "str", "bool", "slice", "range", "getattr",
    ]

    /// Python 2's names of modules that Python 3's unpickler maps (`fix_imports`), among those
    /// this rule names.
    static let python2Modules = ["__builtin__": "builtins", "exceptions": "builtins", "copy_reg": "copyreg",
                                 "commands": "subprocess", "cPickle": "pickle", "UserDict": "collections"]

    /// Why the rule refuses the global `name` of `module` (Python 3's module name), or nil.
    /// A dotted name (protocol 4 reaches attributes so: 'torch' 'serialization.os.system') is
    /// refused when it passes through a refused module's name, and in builtins always.
    static func refusal(module: String, name: String) -> String? {
        let why: String
        let passes = [String(module.prefix { $0 != "." })] + name.split(separator: ".").dropLast().map(String.init)
        if module == "builtins" {
            guard !inertBuiltins.contains(name) else { return nil }
            why = "builtins is read only for its container types and getattr"
        } else if let refused = passes.first(where: refusedModules.contains) {
            why = "module '\(refused)' runs code or reaches the system"
        } else if refusedSubmodules.contains(where: { module == $0 || module.hasPrefix($0 + ".") }) {
            why = "module '\(module)' runs code or reaches the system"
        } else {
            return nil
        }
        return "refuses global '\(module).\(name)': loading it with pickle would run code (\(why); this reader never imports or calls a global)"
    }
}

// MARK: - Opcodes of globals and objects

extension Unpickler {
    mutating func executeObject(_ opcode: UInt8) throws(FormatError) {
        switch opcode {
        case 0x63: try push(.global(try global(module: try textLine(), name: try textLine())))  // GLOBAL
        case 0x93:                                                                      // STACK_GLOBAL
            let parts = try pop(2)
            guard let module = parts[0].value.string, let name = parts[1].value.string else { throw fail("STACK_GLOBAL of values that are not strings") }
            try push(.global(try global(module: module, name: name)))
        case 0x52:                                                                      // REDUCE
            let parts = try pop(2)
            try push(try call(try callee(parts[0].value, "REDUCE"), try tuple(parts[1].value, "REDUCE")), of: parts)
        case 0x81:                                                                      // NEWOBJ
            let parts = try pop(2)
            try push(instantiate(try callee(parts[0].value, "NEWOBJ"), try tuple(parts[1].value, "NEWOBJ")), of: parts)
        case 0x92:                                                                      // NEWOBJ_EX
            let parts = try pop(3)
            var arguments = try tuple(parts[1].value, "NEWOBJ_EX")
            if case .dict(let keywords) = parts[2].value, !keywords.isEmpty { arguments.append(parts[2].value) }
            try push(instantiate(try callee(parts[0].value, "NEWOBJ_EX"), arguments), of: parts)
        case 0x69:                                                                      // INST
            let name = try global(module: try textLine(), name: try textLine())
            let parts = try popToMark()
            try push(instantiate(name, parts.map(\.value)), of: parts)
        case 0x6F:                                                                      // OBJ
            let parts = try popToMark()
            guard let first = parts.first else { throw fail("OBJ without a class") }
            try push(instantiate(try callee(first.value, "OBJ"), parts.dropFirst().map(\.value)), of: parts)
        default: try build()                                                            // BUILD
        }
    }

    /// The global's name, unless the rule refuses it.
    private func global(module: String, name: String) throws(FormatError) -> String {
        let module = PickleGlobals.python2Modules[module] ?? module
        if let refusal = PickleGlobals.refusal(module: module, name: name) { throw fail(refusal) }
        return "\(module).\(name)"
    }

    /// The name of what `opcode` calls: only a global name is ever a callee.
    private func callee(_ value: PickleValue, _ opcode: String) throws(FormatError) -> String {
        switch value {
        case .global(let name): return name
        case .object(let object):
            throw fail("refuses to call the result of \(object.global) (\(opcode)): a global is read as an inert name and what it returns is never called")
        default: throw fail("\(opcode) calls \(value.kind), not a global")
        }
    }

    private func tuple(_ value: PickleValue, _ opcode: String) throws(FormatError) -> [PickleValue] {
        guard case .tuple(let items) = value else { throw fail("\(opcode) with \(value.kind) for its arguments, not a tuple") }
        return items
    }

    /// What calling `name` with `arguments` stands for, computed without calling anything.
    private func call(_ name: String, _ arguments: [PickleValue]) throws(FormatError) -> PickleValue {
        switch name {
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3":
            return .tensor(try tensor(name, arguments))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard case .tensor? = arguments.first else { throw fail("\(name) of \(arguments.first?.kind ?? "nothing"), not a tensor") }
            return arguments[0]
        case "collections.OrderedDict", "builtins.dict": return .dict(try dictionary(name, arguments))
        case "collections.defaultdict": return .dict([])
        case "builtins.set", "builtins.frozenset": return .set(Self.elements(arguments.first))
        case "builtins.bytearray", "_codecs.encode":
            if let bytes = Self.encoded(arguments) { return .bytes(bytes) }
        case "copyreg._reconstructor":
            if case .global(let type)? = arguments.first { return .object(InertObject(global: type, arguments: Array(arguments.dropFirst(2)))) }
        default: break
        }
        return .object(InertObject(global: name, arguments: arguments))
    }

    /// A new object of class `name` (NEWOBJ, INST, OBJ): containers for the container classes.
    private func instantiate(_ name: String, _ arguments: [PickleValue]) -> PickleValue {
        switch name {
        case "collections.OrderedDict", "collections.defaultdict", "builtins.dict": .dict([])
        case "builtins.set", "builtins.frozenset": .set(Self.elements(arguments.first))
        case "builtins.list": .list([])
        default: .object(InertObject(global: name, arguments: arguments))
        }
    }

    /// OrderedDict's and dict's argument: nothing, a dict, or (key, value) pairs (as Python 2 pickled an OrderedDict).
    private func dictionary(_ name: String, _ arguments: [PickleValue]) throws(FormatError) -> [(key: PickleValue, value: PickleValue)] {
        guard let first = arguments.first else { return [] }
        if case .dict(let items) = first { return items }
        var items: [(key: PickleValue, value: PickleValue)] = []
        for pair in Self.elements(first) {
            switch pair {
            case .list(let kv) where kv.count == 2, .tuple(let kv) where kv.count == 2: items.append((key: kv[0], value: kv[1]))
            default: throw fail("\(name) of \(pair.kind) where a (key, value) pair belongs")
            }
        }
        return items
    }

    private static func elements(_ value: PickleValue?) -> [PickleValue] {
        switch value {
        case .list(let items)?, .tuple(let items)?, .set(let items)?: items
        default: []
        }
    }

    /// `_codecs.encode(text, 'latin1')` and `bytearray(text, 'latin-1')` as Python 3 pickles
    /// bytes in protocol 2; nil for anything else.
    private static func encoded(_ arguments: [PickleValue]) -> [UInt8]? {
        if arguments.isEmpty { return [] }
        if case .bytes(let bytes) = arguments[0] { return bytes }
        guard arguments.count == 2, case .string(let text) = arguments[0], case .string(let encoding) = arguments[1] else { return nil }
        switch encoding.lowercased() {
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1":
            let scalars = text.unicodeScalars.map(\.value)
            return scalars.allSatisfy { $0 <= 0xFF } ? scalars.map { UInt8($0) } : nil
        case "utf-8", "utf8": return Array(text.utf8)
        default: return nil
        }
    }

    /// `_rebuild_tensor(storage, offset, size, stride)`, `_v2` (then requires_grad, hooks,
    /// metadata) and `_v3` (then requires_grad, hooks, dtype, metadata).
    private func tensor(_ name: String, _ arguments: [PickleValue]) throws(FormatError) -> TorchTensor {
        guard arguments.count >= 4, case .storage(let storage) = arguments[0], case .int(let offset) = arguments[1],
              let shape = Self.integers(arguments[2]), let strides = Self.integers(arguments[3]) else {
            throw fail("\(name) of arguments that are not (storage, offset, size, stride, ...)")
        }
        var dtype = storage.dtype
        if name.hasSuffix("_v3") {
            guard arguments.count >= 7, case .global(let type) = arguments[6], let given = TorchDType(global: type) else {
                throw fail("\(name) of a dtype this reader does not convert (\(arguments.count >= 7 ? arguments[6].kind : "none"))")
            }
            dtype = given
        }
        return try TorchTensor.make(storage, dtype: dtype, offset: Int(offset), shape: shape, strides: strides) { fail("\(name): \($0)") }
    }

    /// A size or stride: a tuple or list of ints, or a `torch.Size` of one.
    private static func integers(_ value: PickleValue) -> [Int]? {
        switch value {
        case .object(let size) where size.global == "torch.Size": return size.arguments.first.flatMap(integers)
        case .list(let items), .tuple(let items):
            var result: [Int] = []
            for item in items {
                guard case .int(let i) = item else { return nil }
                result.append(Int(i))
            }
            return result
        default: return nil
        }
    }
}

/// A value read from a pickle without running anything: Python's containers and scalars as
/// data, tensors and storages as torch built them, names of globals as strings and every other
/// object as the inert record of how it would have been built.
public indirect enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer outside Int64: its little-endian two's-complement bytes, as LONG1/LONG4 hold them.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    /// A dict (also an OrderedDict or a defaultdict) in the pickle's order.
    case dict([(key: PickleValue, value: PickleValue)])
    case set([PickleValue])
    case tensor(TorchTensor)
    case storage(TorchStorage)
    /// A global by name ("module.name"), never imported.
    case global(String)
    case object(InertObject)

    /// The value of `key` in a dict with string keys.
    public subscript(key: String) -> PickleValue? {
        guard case .dict(let items) = self else { return nil }
        return items.first { if case .string(key) = $0.key { true } else { false } }?.value
    }

    /// The value of `key` in a dict with integer keys (an optimizer's `state`).
    public subscript(key: Int) -> PickleValue? {
        guard case .dict(let items) = self else { return nil }
        return items.first { if case .int(Int64(key)) = $0.key { true } else { false } }?.value
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var int: Int64? { if case .int(let i) = self { i } else { nil } }
    public var double: Double? { if case .float(let d) = self { d } else { nil } }
    public var tensor: TorchTensor? { if case .tensor(let t) = self { t } else { nil } }
    public var object: InertObject? { if case .object(let o) = self { o } else { nil } }

    /// What kind of value this is, for messages ("a list", "a dict", "torch.optim.sgd.SGD").
    public var kind: String {
        switch self {
        case .none: "None"
        case .bool: "a bool"
        case .int, .bigInt: "an int"
        case .float: "a float"
        case .string: "a string"
        case .bytes: "bytes"
        case .list: "a list"
        case .tuple: "a tuple"
        case .dict: "a dict"
        case .set: "a set"
        case .tensor: "a tensor"
        case .storage: "a storage"
        case .global(let name): "the global \(name)"
        case .object(let object): "a \(object.global) object"
        }
    }
}

/// An object the pickle would have built by calling a global (REDUCE, NEWOBJ, INST, OBJ) that
/// this reader does not interpret: the global's name, the arguments and what the pickle would
/// then have given it. Nothing is ever called.
public struct InertObject: Sendable {
    /// "module.name" of the callable or class.
    public let global: String
    public let arguments: [PickleValue]
    /// The state of BUILD (usually the object's `__dict__`), if any.
    public var state: PickleValue?
    /// Items APPEND gave it (an object of a list subclass).
    public var listItems: [PickleValue] = []
    /// Items SETITEM gave it (an object of a dict subclass), in order.
    public var dictItems: [(key: PickleValue, value: PickleValue)] = []

    public init(global: String, arguments: [PickleValue], state: PickleValue? = nil) {
        self.global = global
        self.arguments = arguments
        self.state = state
    }

    /// The value of `key` in a dict state (an object's attribute).
    public subscript(key: String) -> PickleValue? { state?[key] }
}

import Foundation
import Formats

/// Where training stands, saved with the optimiser so a run can resume exactly.
public struct TrainingProgress: Codable, Sendable, Equatable {
    /// Completed epochs.
    public var epoch: Int
    /// Completed optimisation steps.
    public var step: Int
    /// Anything else the trainer wants back (best metric, generator state, …).
    public var extra: [String: String]

    public init(epoch: Int = 0, step: Int = 0, extra: [String: String] = [:]) {
        self.epoch = epoch
        self.step = step
        self.extra = extra
    }
}

/// Model and optimiser checkpoints in safetensors.
///
/// - The model file (e.g. `last.safetensors`) holds exactly the PyTorch reference module's
///   `state_dict()`: every parameter and buffer under its dotted name, float32 in PyTorch's
///   layout (conv weights `O,I,H,W`, transposed-conv weights `I,O,H,W`), and BatchNorm's
///   `num_batches_tracked` as an int64 scalar (shape `[]`). It loads into the reference with
///   `load_state_dict(..., strict=True)` and back.
/// - A training state (`trainingState`, the run directory's `resume.safetensors`) holds the
///   model under `model.`, the optimiser's slots under `optimizer.`, a loss's state and the
///   progress, in one file written atomically.
/// - The older optimiser file (`last.optimizer.safetensors`, beside the model; still read to
///   resume runs of earlier releases) holds each state slot as
///   `<slot>.<parameter name>` (e.g. `momentum_buffer.stem.0.weight`, `exp_avg.head.bias`),
///   and in its metadata the optimiser kind, its step count, the learning rate and the
///   training progress (`epoch`, `step`, `extra.<key>`).
///
/// Loading checks every name, type and shape and fails with the full list of problems; it
/// changes nothing unless everything matches. Writes are atomic.
public enum Checkpoint {
    /// The model's state as a safetensors file.
    /// The metadata says `format: pt`, as files written by `safetensors.torch` do.
    public static func stateDict(of model: any Module, metadata: [String: String] = [:]) -> SafeTensors {
        var file = SafeTensors(metadata: metadata.merging(["format": "pt"]) { given, _ in given })
        for p in model.namedParameters() {
            file.tensors[p.name] = .init(floats: p.tensor.scalars, shape: p.tensor.shape)
        }
        for (name, buffer) in model.namedBuffers() {
            switch buffer {
            case .float(let t): file.tensors[name] = .init(floats: t.scalars, shape: t.shape)
            case .count(let c): file.tensors[name] = .init(int64: [c.value], shape: [])
            }
        }
        return file
    }

    /// Loads a state dict into `model`, strictly: same names, types and shapes, or nothing changes.
    public static func load(_ file: SafeTensors, into model: any Module, source: String) throws(FormatError) {
        let parameters = model.namedParameters()
        let buffers = model.namedBuffers()
        var expected: [String: (SafeTensors.DType, [Int])] = [:]
        for p in parameters { expected[p.name] = (.float32, p.tensor.shape) }
        for (name, buffer) in buffers {
            switch buffer {
            case .float(let t): expected[name] = (.float32, t.shape)
            case .count: expected[name] = (.int64, [])
            }
        }
        var problems: [String] = []
        let missing = Set(expected.keys).subtracting(file.tensors.keys).sorted()
        let unexpected = Set(file.tensors.keys).subtracting(expected.keys).sorted()
        if !missing.isEmpty { problems.append("missing \(firstFew(missing))") }
        if !unexpected.isEmpty { problems.append("unexpected \(firstFew(unexpected))") }
        for (name, (dtype, shape)) in expected.sorted(by: { $0.key < $1.key }) {
            guard let entry = file.tensors[name] else { continue }
            if entry.dtype != dtype { problems.append("\(name): dtype \(entry.dtype.rawValue), expected \(dtype.rawValue)") }
            // PyTorch saves num_batches_tracked as a 0-d tensor; accept [1] too.
            let shapeMatches = entry.shape == shape || (dtype == .int64 && entry.shape.reduce(1, *) == 1)
            if !shapeMatches { problems.append("\(name): shape \(entry.shape), expected \(shape)") }
        }
        guard problems.isEmpty else {
            let shown = problems.count > 8 ? problems.prefix(8) + ["and \(problems.count - 8) more"] : problems[...]
            throw FormatError(file: source, reason: "checkpoint does not match the model: \(shown.joined(separator: "; "))")
        }
        for p in parameters {
            p.tensor.assign(Tensor(shape: p.tensor.shape, scalars: file.tensors[p.name]!.floats))
        }
        for (name, buffer) in buffers {
            switch buffer {
            case .float(let t): t.assign(Tensor(shape: t.shape, scalars: file.tensors[name]!.floats))
            case .count(let c): c.value = file.tensors[name]!.int64[0]
            }
        }
    }

    /// The first names of a list, and how many more there are.
    static func firstFew(_ names: [String], count: Int = 5) -> String {
        names.count <= count ? names.joined(separator: ", ")
            : names.prefix(count).joined(separator: ", ") + " and \(names.count - count) more"
    }

    /// Writes the model's state dict to `url` atomically.
    public static func save(_ model: any Module, to url: URL, metadata: [String: String] = [:]) throws(FormatError) {
        try stateDict(of: model, metadata: metadata).write(to: url)
    }

    /// Reads `url` and loads it into `model` strictly.
    public static func load(into model: any Module, from url: URL) throws(FormatError) {
        try load(SafeTensors.read(from: url), into: model, source: url.path)
    }

    /// The optimiser file that goes beside a model file: `x.safetensors` → `x.optimizer.safetensors`.
    public static func optimizerURL(besides modelURL: URL) -> URL {
        modelURL.deletingPathExtension().appendingPathExtension("optimizer.safetensors")
    }

    /// The optimiser's state and the training progress as a safetensors file.
    public static func optimizerState(of optimizer: any Optimizer, progress: TrainingProgress) -> SafeTensors {
        var file = SafeTensors()
        for (parameter, slots) in optimizer.state {
            for (slot, values) in slots { file.tensors["\(slot).\(parameter)"] = .init(floats: values, shape: [values.count]) }
        }
        file.metadata = ["optimizer": optimizer.kind, "optimizer_step": String(optimizer.stepCount),
                         "learning_rate": String(optimizer.learningRate),
                         "epoch": String(progress.epoch), "step": String(progress.step)]
        for (key, value) in progress.extra { file.metadata["extra.\(key)"] = value }
        return file
    }

    /// Restores optimiser state saved by `optimizerState`; checks the optimiser kind and that
    /// every slot names a parameter of `model` with its size.
    public static func restore(_ file: SafeTensors, into optimizer: any Optimizer, model: any Module,
                               source: String) throws(FormatError) -> TrainingProgress {
        guard file.metadata["optimizer"] == optimizer.kind else {
            throw FormatError(file: source, reason: "optimizer state is for \(file.metadata["optimizer"] ?? "nothing"), not \(optimizer.kind)")
        }
        guard let stepCount = file.metadata["optimizer_step"].flatMap(Int.init),
              let epoch = file.metadata["epoch"].flatMap(Int.init), let step = file.metadata["step"].flatMap(Int.init) else {
            throw FormatError(file: source, reason: "optimizer metadata lacks optimizer_step, epoch or step")
        }
        let sizes = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor.scalarCount) })
        var state: [String: [String: [Float]]] = [:]
        var problems: [String] = []
        for (key, entry) in file.tensors {
            // Slot names have no dots: the slot is the text before the first one.
            guard let dot = key.firstIndex(of: "."), let size = sizes[String(key[key.index(after: dot)...])] else {
                problems.append("\(key) names no parameter"); continue
            }
            let slot = String(key[..<dot]), split = String(key[key.index(after: dot)...])
            guard entry.dtype == .float32, entry.shape.reduce(1, *) == size else {
                problems.append("\(key): shape \(entry.shape) for a parameter of \(size) values"); continue
            }
            state[split, default: [:]][slot] = entry.floats
        }
        guard problems.isEmpty else {
            throw FormatError(file: source, reason: "optimizer state does not match the model: \(problems.sorted().joined(separator: "; "))")
        }
        optimizer.state = state
        optimizer.stepCount = stepCount
        if let lr = file.metadata["learning_rate"].flatMap(Float.init) { optimizer.learningRate = lr }
        var extra: [String: String] = [:]
        for (key, value) in file.metadata where key.hasPrefix("extra.") { extra[String(key.dropFirst(6))] = value }
        return TrainingProgress(epoch: epoch, step: step, extra: extra)
    }

    /// Saves model, optimiser and progress: `url` and the optimiser file beside it.
    public static func save(_ model: any Module, optimizer: any Optimizer, progress: TrainingProgress,
                            to url: URL) throws(FormatError) {
        try save(model, to: url)
        try optimizerState(of: optimizer, progress: progress).write(to: optimizerURL(besides: url))
    }

    /// Restores model, optimiser and progress saved by `save(_:optimizer:progress:to:)`.
    public static func resume(_ model: any Module, optimizer: any Optimizer, from url: URL) throws(FormatError) -> TrainingProgress {
        let optimizerFile = optimizerURL(besides: url)
        let state = try SafeTensors.read(from: optimizerFile)
        try load(into: model, from: url)
        return try restore(state, into: optimizer, model: model, source: optimizerFile.path)
    }
}

extension Checkpoint {
    /// Everything a run needs to resume, in one file so that it is written atomically: the
    /// model's state dict under `model.`, the optimiser's slots under `optimizer.`, and `extra`
    /// entries (a loss's state, say) under names of their own; the optimiser's kind and step
    /// and the progress in the metadata. A run stopped at any moment resumes from one epoch,
    /// never from a model of one epoch and an optimiser of another.
    public static func trainingState(model: any Module, optimizer: any Optimizer, progress: TrainingProgress,
                                     extra: SafeTensors = SafeTensors()) -> SafeTensors {
        let weights = stateDict(of: model)
        var file = optimizerState(of: optimizer, progress: progress)
        file.tensors = Dictionary(uniqueKeysWithValues: file.tensors.map { ("optimizer.\($0.key)", $0.value) })
        for (name, entry) in weights.tensors { file.tensors["model.\(name)"] = entry }
        for (name, entry) in extra.tensors {
            precondition(!name.hasPrefix("model.") && !name.hasPrefix("optimizer."), "extra entry \(name) would shadow the model or optimiser")
            file.tensors[name] = entry
        }
        for (key, value) in extra.metadata { file.metadata[key] = value }
        return file
    }

    /// Restores what `trainingState` saved into `model` and `optimizer` (all or nothing for the
    /// model) and returns the progress and the extra entries.
    public static func restore(trainingState file: SafeTensors, model: any Module, optimizer: any Optimizer,
                               source: String) throws(FormatError) -> (progress: TrainingProgress, extra: SafeTensors) {
        func part(_ prefix: String) -> [String: SafeTensors.Entry] {
            Dictionary(uniqueKeysWithValues: file.tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        guard file.tensors.keys.contains(where: { $0.hasPrefix("model.") }) else {
            throw FormatError(file: source, reason: "not a training state: it holds no model.* tensors")
        }
        try load(SafeTensors(tensors: part("model."), metadata: file.metadata), into: model, source: source)
        let progress = try restore(SafeTensors(tensors: part("optimizer."), metadata: file.metadata), into: optimizer, model: model,
                                   source: source)
        let extra = SafeTensors(tensors: file.tensors.filter { !$0.key.hasPrefix("model.") && !$0.key.hasPrefix("optimizer.") },
                                metadata: file.metadata)
        return (progress, extra)
    }
}

import Formats
import Foundation
import TorchCheckpoint

/// The state dict of a PyTorch `.pth`/`.pt` file (either serialization): the file's top level
/// when that is a dict of tensors, else its `state_dict` or `model` entry, as training scripts
/// save them. Names lose `nn.DataParallel`'s `module.` when every one has it.
public enum TorchStateDict {
    /// Where training scripts keep the state dict, tried in turn.
    static let places: [[String]] = [[], ["state_dict"], ["model"], ["model_state_dict"]]

    public static func read(_ url: URL) throws(FormatError) -> SafeTensors {
        let checkpoint = try TorchCheckpoint(contentsOf: url)
        var firstError: FormatError?
        for path in places {
            do {
                let entries = try checkpoint.stateDict(at: path)
                guard !entries.isEmpty else { continue }
                return try safeTensors(
                    withoutPrefix("module.", entries).map { ($0.name, $0.tensor, url.path) },
                    metadata: ["source": url.path])
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        throw FormatError(file: url, reason: "holds no state dict (a dict of tensors) at its top level or under 'state_dict' or 'model'"
            + (firstError.map { " (\($0.reason))" } ?? ""))
    }

    /// `entries` without `prefix` when every name has it (`nn.DataParallel`'s `module.`).
    static func withoutPrefix(_ prefix: String, _ entries: [(name: String, tensor: TorchTensor)]) -> [(name: String, tensor: TorchTensor)] {
        guard !entries.isEmpty, entries.allSatisfy({ $0.name.hasPrefix(prefix) }) else { return entries }
        return entries.map { (String($0.name.dropFirst(prefix.count)), $0.tensor) }
    }

    /// The tensors as a safetensors state dict: floating point as float32, integers (batch
    /// norm's `num_batches_tracked`) as int64.
    static func safeTensors(_ entries: [(name: String, tensor: TorchTensor, file: String)],
                            metadata: [String: String]) throws(FormatError) -> SafeTensors {
        var file = SafeTensors(metadata: metadata.merging(["format": "pt"]) { given, _ in given })
        for entry in entries {
            if file.tensors[entry.name] != nil {
                throw FormatError(file: entry.file, reason: "holds '\(entry.name)' twice")
            }
            switch entry.tensor.dtype {
            case .float32, .float16, .bfloat16, .float64:
                file.tensors[entry.name] = .init(floats: try entry.tensor.floats(), shape: entry.tensor.shape)
            case .int64, .int32, .int16, .int8, .uint8:
                file.tensors[entry.name] = .init(int64: try entry.tensor.int64s(), shape: entry.tensor.shape)
            case .bool:
                throw FormatError(file: entry.file, reason: "'\(entry.name)' is a bool tensor; a network's state dict has none")
            }
        }
        return file
    }
}

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
                return try OfficialModel.safeTensors(
                    OfficialModel.withoutPrefix("module.", entries).map { ($0.name, $0.tensor, url.path) },
                    metadata: ["source": url.path])
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        throw FormatError(file: url, reason: "holds no state dict (a dict of tensors) at its top level or under 'state_dict' or 'model'"
            + (firstError.map { " (\($0.reason))" } ?? ""))
    }
}

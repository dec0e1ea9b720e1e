import Formats
import Losses

extension CombinedLoss {
    /// The loss's state as checkpoint entries: for a centroid term, per class `c`,
    /// `loss.centroid.<c>.centroids` `[K, F]`, `.frequency` and `.mean_loss` `[K]`, and the step
    /// and generator state in the metadata. Empty for losses without state.
    func checkpointEntries() -> SafeTensors {
        var file = SafeTensors()
        guard let state = centroidState else { return file }
        for c in state.frequency.indices {
            let prefix = "loss.centroid.\(c)"
            if let first = state.centroids[c].first {
                file.tensors["\(prefix).centroids"] = .init(floats: state.centroids[c].flatMap { $0 }, shape: [state.centroids[c].count, first.count])
            }
            file.tensors["\(prefix).frequency"] = .init(floats: state.frequency[c], shape: [state.frequency[c].count])
            file.tensors["\(prefix).mean_loss"] = .init(floats: state.meanLoss[c], shape: [state.meanLoss[c].count])
        }
        file.metadata["loss.centroid.step"] = String(state.step)
        file.metadata["loss.centroid.random"] = state.random.map(String.init).joined(separator: ",")
        return file
    }

    /// Continues from entries written by `checkpointEntries()`; `source` names the file in errors.
    mutating func restore(checkpointEntries file: SafeTensors, source: String) throws(FormatError) {
        guard let step = file.metadata["loss.centroid.step"].flatMap(Int.init) else {
            if centroidState != nil { throw FormatError(file: source, reason: "the loss has a centroid term but the checkpoint holds no centroid state") }
            return
        }
        let random = (file.metadata["loss.centroid.random"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        var centroids: [[[Float]]] = [], frequency: [[Float]] = [], meanLoss: [[Float]] = []
        var c = 0
        while let f = file.tensors["loss.centroid.\(c).frequency"], let m = file.tensors["loss.centroid.\(c).mean_loss"] {
            frequency.append(f.floats)
            meanLoss.append(m.floats)
            if let entry = file.tensors["loss.centroid.\(c).centroids"], entry.shape.count == 2 {
                let values = entry.floats, width = entry.shape[1]
                centroids.append((0 ..< entry.shape[0]).map { Array(values[$0 * width ..< ($0 + 1) * width]) })
            } else {
                centroids.append([])
            }
            c += 1
        }
        do {
            try restoreCentroids(.init(centroids: centroids, frequency: frequency, meanLoss: meanLoss, step: step, random: random))
        } catch {
            throw FormatError(file: source, reason: error.description)
        }
    }
}

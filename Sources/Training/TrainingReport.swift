import Foundation

extension Trainer {
    /// The lines a training event is reported with (`rangeseg train` prints them): the run's
    /// start and batch plan, and after each epoch its loss, time, validation and, when
    /// `verbose`, each present class's IoU and the centroid subclasses in use. Steps and epoch
    /// starts have no line (the command shows a progress bar).
    public func report(_ event: TrainingEvent, verbose: Bool = true) -> [String] {
        switch event {
        case let .started(trainScans, validScans, steps, parameters, firstEpoch):
            guard verbose else { return [] }
            var lines = ["Training \(config.architecture.name) (\(parameters) parameters) on \(trainScans) scans, validating on \(validScans); "
                + "\(steps) steps per epoch, loss \(config.loss.terms), precision \(config.precision.choiceOnThisCPU)\(config.winogradNote)"
                + "\(firstEpoch > 0 ? ", resuming at epoch \(firstEpoch + 1)" : "")."]
            if plan.ranks > 1 || plan.accumulate > 1 {
                lines.append("\(plan.ranks) rank\(plan.ranks == 1 ? "" : "s") x \(plan.accumulate) micro-batch\(plan.accumulate == 1 ? "" : "es") "
                    + "x \(plan.batchSize) scan\(plan.batchSize == 1 ? "" : "s"): \(plan.globalBatch) scans per step"
                    + (plan.accumulate != config.accumulate ? " (accumulating \(plan.accumulate), not \(config.accumulate), to keep the run's global batch)" : "")
                    + ".")
            }
            return lines
        case .epochStarted, .step:
            return []
        case let .epochFinished(epoch, trainLoss, validation, isBest, seconds):
            var line = String(format: "epoch %d: train loss %.4f, %.0f s", epoch + 1, trainLoss, seconds)
            if let timings = lastEpochTimings {
                line += String(format: " (%.2f s per step", timings.medianStepSeconds)
                if let allReduce = timings.medianAllReduceMilliseconds { line += String(format: ", all-reduce %.1f ms", allReduce) }
                line += ")"
            }
            if let validation {
                line += String(format: ", valid mIoU %.1f%% (present classes %.1f%%), accuracy %.1f%%%@",
                               validation.meanIoU * 100, validation.meanIoUOfPresentClasses * 100, validation.accuracy * 100,
                               isBest ? " - best so far" : "")
            }
            var lines = [line]
            guard verbose else { return lines }
            if let validation {
                let present = validation.classes.filter { $0.support > 0 }
                lines.append("  " + present.map { "\($0.name) \(String(format: "%.1f", $0.iou * 100))" }.joined(separator: ", "))
            }
            if let usage = centroidSubclassesInUse?.filter({ $0.inUse < $0.of }), !usage.isEmpty {
                lines.append("  centroid subclasses in use: "
                    + usage.map { "\(labels.className(learning: $0.classID)) \($0.inUse) of \($0.of)" }.joined(separator: ", ")
                    + " (the others hold under 0.1% of their class's pixels)")
            }
            return lines
        }
    }
}

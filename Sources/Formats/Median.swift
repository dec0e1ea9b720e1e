/// The one median of the project (benchmarks, epoch timings, the command's figures).
extension Collection where Element: BinaryFloatingPoint {
    /// The middle value; for an even count the mean of the middle pair (as Python's
    /// `statistics.median` and NumPy's `median`). nil when empty.
    public func median() -> Element? {
        guard !isEmpty else { return nil }
        let sorted = self.sorted(), middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Sizes of n-dimensional arrays read from files, where a shape is whatever the file says.
enum ArrayShape {
    /// The bytes of an array of `shape` (non-negative dimensions) with elements of
    /// `elementBytes` each, or nil when the element count (multiplied in `shape`'s order, as
    /// `reduce(1, *)` does) or the byte count overflows `Int`.
    static func byteCount(_ shape: [Int], elementBytes: Int) -> Int? {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementBytes)
        return overflow ? nil : bytes
    }
}

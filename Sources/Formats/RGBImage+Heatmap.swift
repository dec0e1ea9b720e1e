extension RGBImage {
    /// Values `[height, width]` (row-major) in a colour map from 0 to `maximum` (default: the
    /// largest shown value); pixels where `shown` is false are black and left out of the scale.
    /// Used for the subclassified loss's weight maps.
    public static func heatmap(_ values: [Float], width: Int, height: Int, shown: [Bool]? = nil, maximum: Float? = nil,
                               colorMap: ColorMap = .turbo) -> RGBImage {
        precondition(values.count == width * height && (shown?.count ?? values.count) == values.count,
                     "heatmap: \(values.count) values for \(height) x \(width)")
        let isShown = { (p: Int) in shown?[p] ?? true }
        let top = max(maximum ?? values.indices.filter(isShown).map { values[$0] }.max() ?? 0, 1e-12)
        var image = RGBImage(width: width, height: height)
        for p in values.indices where isShown(p) {
            image[p / width, p % width] = colorMap.color(values[p] / top)
        }
        return image
    }
}

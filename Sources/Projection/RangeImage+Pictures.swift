import Formats
import SemanticKITTI

extension RangeImage {
    /// The range channel in a colour map: near is dark blue, far is red, on a square-root scale
    /// up to `maxRange` metres; empty pixels are black.
    public func rangePicture(maxRange: Float = 80, colorMap: ColorMap = .turbo) -> RGBImage {
        picture(range, colorMap: colorMap) { ($0 / maxRange).squareRoot() }
    }

    /// The remission channel (0 to 1) in a colour map; empty pixels are black.
    public func remissionPicture(colorMap: ColorMap = .turbo) -> RGBImage {
        picture(remission, colorMap: colorMap) { $0 }
    }

    /// Raw semantic ids per pixel (e.g. `semanticImage(labels)`) in the config's `color_map`.
    public func labelPicture(rawIDs: [Int32], config: LabelConfig) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for p in 0 ..< rawIDs.count where index[p] >= 0 {
            let c = config.colors[Int(rawIDs[p])] ?? LabelColor(r: 0, g: 0, b: 0)
            image[p / width, p % width] = (c.r, c.g, c.b)
        }
        return image
    }

    private func picture(_ values: [Float], colorMap: ColorMap, _ normalise: (Float) -> Float) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        for p in 0 ..< values.count where index[p] >= 0 {
            image[p / width, p % width] = colorMap.color(normalise(values[p]))
        }
        return image
    }
}

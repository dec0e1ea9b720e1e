import Formats

/// The sensor as the network sees it: the range image's size and vertical field of view, and the
/// normalisation of its five input channels. The one sensor type of RangeSeg: the `sensor:`
/// block of a training file, the geometry of `project`, `convert` and `export`, and their flags.
///
/// Defaults are RangeNet++'s for the Velodyne HDL-64E of SemanticKITTI: 64 x 2048 pixels,
/// +3 to -25 degrees, and its channel means and standard deviations.
public struct ProjectionConfig: Sendable, Equatable, Codable {
    /// Rows (one per laser ring, ideally).
    public var height: Int
    /// Columns, covering 360 degrees of azimuth.
    public var width: Int
    /// Upper edge of the vertical field of view, degrees (above the horizon is positive).
    public var fovUp: Float
    /// Lower edge of the vertical field of view, degrees.
    public var fovDown: Float
    /// Means of range, x, y, z, remission (RangeNet++'s values for SemanticKITTI).
    public var means: [Float]
    /// Standard deviations of range, x, y, z, remission.
    public var stds: [Float]

    public init(height: Int = 64, width: Int = 2048, fovUp: Float = 3, fovDown: Float = -25,
                means: [Float] = [12.12, 10.88, 0.23, -1.04, 0.21], stds: [Float] = [12.32, 11.47, 6.91, 0.86, 0.16]) {
        self.height = height
        self.width = width
        self.fovUp = fovUp
        self.fovDown = fovDown
        self.means = means
        self.stds = stds
    }

    /// Every key of the `sensor:` block, once (flags: `--height`, `--fov-up`, ...).
    public static let settings: [Setting<ProjectionConfig>] = [
        Setting("height", \.height, "Range-image height in pixels (rows, one per laser ring ideally)"),
        Setting("width", \.width, "Range-image width in pixels (columns, covering 360 degrees)"),
        Setting("fov_up", \.fovUp, "Upper edge of the vertical field of view, degrees"),
        Setting("fov_down", \.fovDown, "Lower edge of the vertical field of view, degrees"),
        Setting("means", \.means, "Means of the input channels range, x, y, z, remission"),
        Setting("stds", \.stds, "Standard deviations of the input channels range, x, y, z, remission"),
    ]

    public init(from decoder: any Decoder) throws {
        self.init()
        try Self.settings.decode(into: &self, from: decoder)
    }

    public func encode(to encoder: any Encoder) throws { try Self.settings.encode(self, to: encoder) }

    /// What is wrong with the settings, if anything.
    public func problem() -> String? {
        if height < 1 || width < 1 { return "image size \(height) x \(width) must be at least 1 x 1" }
        if height > 4096 || width > 65536 { return "image size \(height) x \(width) is implausibly large" }
        if !fovUp.isFinite || !fovDown.isFinite { return "field of view must be finite" }
        if fovUp <= fovDown { return "fov-up (\(fovUp)) must be above fov-down (\(fovDown))" }
        if fovUp > 90 || fovDown < -90 { return "field of view must lie within -90 to 90 degrees" }
        if means.count != 5 || stds.count != 5 { return "means and stds need 5 values (range, x, y, z, remission)" }
        if stds.contains(where: { !($0 > 0) }) { return "stds must be positive" }
        return nil
    }
}

/// The sensor geometry of a range image: its size and vertical field of view.
///
/// Defaults are RangeNet++'s for the Velodyne HDL-64E of SemanticKITTI: 64 x 2048 pixels,
/// +3 to -25 degrees.
public struct ProjectionConfig: Sendable, Equatable, Codable {
    /// Rows (one per laser ring, ideally).
    public var height: Int
    /// Columns, covering 360 degrees of azimuth.
    public var width: Int
    /// Upper edge of the vertical field of view, degrees (above the horizon is positive).
    public var fovUp: Float
    /// Lower edge of the vertical field of view, degrees.
    public var fovDown: Float

    public init(height: Int = 64, width: Int = 2048, fovUp: Float = 3, fovDown: Float = -25) {
        self.height = height
        self.width = width
        self.fovUp = fovUp
        self.fovDown = fovDown
    }

    /// What is wrong with the settings, if anything.
    public func problem() -> String? {
        if height < 1 || width < 1 { return "image size \(height) x \(width) must be at least 1 x 1" }
        if height > 4096 || width > 65536 { return "image size \(height) x \(width) is implausibly large" }
        if !fovUp.isFinite || !fovDown.isFinite { return "field of view must be finite" }
        if fovUp <= fovDown { return "fov-up (\(fovUp)) must be above fov-down (\(fovDown))" }
        if fovUp > 90 || fovDown < -90 { return "field of view must lie within -90 to 90 degrees" }
        return nil
    }
}

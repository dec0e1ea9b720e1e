import Foundation
import SemanticKITTI

/// A spinning multi-beam LiDAR: by default the Velodyne HDL-64E S2 of the KITTI car.
public struct SensorModel: Sendable, Equatable {
    /// Elevation of each beam in degrees, top beam first (the order of the output points).
    public var elevations: [Double]
    /// Firings (azimuth steps) per revolution.
    public var firings: Int
    /// Height of the optical centre above the road, metres.
    public var mountHeight: Double
    /// Standard deviation of the range noise, metres.
    public var rangeNoise: Double
    /// Returns farther than this are lost, metres.
    public var maxRange: Double
    /// Returns nearer than this are discarded (the sensor's blind zone), metres.
    public var minRange: Double
    /// Fraction of returns lost at random.
    public var dropRate: Double
    /// Revolutions per second (KITTI records at 10 Hz).
    public var frameRate: Double

    public init(elevations: [Double], firings: Int, mountHeight: Double, rangeNoise: Double,
                maxRange: Double, minRange: Double, dropRate: Double, frameRate: Double) {
        self.elevations = elevations
        self.firings = firings
        self.mountHeight = mountHeight
        self.rangeNoise = rangeNoise
        self.maxRange = maxRange
        self.minRange = minRange
        self.dropRate = dropRate
        self.frameRate = frameRate
    }

    public var beams: Int { elevations.count }
    public var raysPerScan: Int { beams * firings }

    /// The HDL-64E's 64 elevations: an upper block of 32 lasers about 1/3 degree apart from +2.0
    /// to -8.33 and a lower block of 32 about 1/2 degree apart from -8.83 to -24.8, with the small
    /// irregular offsets of a real unit's calibration (the beams are not evenly spaced).
    public static let hdl64eElevations: [Double] = [
        2.000, 1.665, 1.345, 0.992, 0.705, 0.290, 0.045, -0.314, -0.638, -0.972, -1.359, -1.637,
        -1.985, -2.364, -2.633, -3.004, -3.312, -3.702, -3.982, -4.376, -4.704, -5.033, -5.372,
        -5.656, -6.023, -6.358, -6.636, -6.973, -7.340, -7.689, -7.975, -8.330,
        -8.830, -9.341, -9.873, -10.393, -10.903, -11.407, -11.950, -12.481, -12.954, -13.492,
        -14.022, -14.517, -14.996, -15.497, -16.085, -16.530, -17.090, -17.556, -18.068, -18.636,
        -19.120, -19.642, -20.187, -20.637, -21.180, -21.669, -22.256, -22.761, -23.217, -23.788,
        -24.296, -24.800,
    ]

    /// The KITTI Velodyne HDL-64E: 64 beams, 2083 firings (0.1728 degrees apart at 10 Hz, as the
    /// S2 at 600 rpm; the real scans hold about 2080 points per beam), 1.73 m above the road, 2 cm range
    /// noise, returns up to 80 m (the farthest in SemanticKITTI's scans), 1% random loss.
    public static let hdl64e = SensorModel(
        elevations: hdl64eElevations, firings: 2083, mountHeight: 1.73, rangeNoise: 0.02,
        maxRange: 80, minRange: 0.9, dropRate: 0.01, frameRate: 10
    )

    /// The same sensor with fewer firings per revolution, for quick tests and previews.
    public func withFirings(_ n: Int) -> SensorModel {
        var copy = self
        copy.firings = n
        return copy
    }
}

/// The KITTI odometry calibration of sequences 00-02 (`calib.txt`): camera projections P0-P3
/// and `Tr`, the Velodyne-to-left-camera transform.
public enum KITTICalibration {
    public static let sequences00to02 = Calibration(
        projections: [
            Matrix3x4([718.856, 0, 607.1928, 0, 0, 718.856, 185.2157, 0, 0, 0, 1, 0]),
            Matrix3x4([718.856, 0, 607.1928, -386.1448, 0, 718.856, 185.2157, 0, 0, 0, 1, 0]),
            Matrix3x4([718.856, 0, 607.1928, 45.38225, 0, 718.856, 185.2157, -0.1130887, 0, 0, 1, 0.003779761]),
            Matrix3x4([718.856, 0, 607.1928, -337.2877, 0, 718.856, 185.2157, 2.369057, 0, 0, 1, 0.004915215]),
        ],
        velodyneToCamera: Matrix3x4([
            4.276802385584e-04, -9.999672484946e-01, -8.084491683471e-03, -1.198459927713e-02,
            -7.210626507497e-03, 8.081198471645e-03, -9.999413164504e-01, -5.403984729748e-02,
            9.999738645903e-01, 4.859485810390e-04, -7.206933692422e-03, -2.921968648686e-01,
        ])
    )
}

extension Matrix3x4 {
    /// The inverse of the affine transform (a general 3x3 inverse, so `Tr`, whose rotation is
    /// orthonormal only to its printed digits, round-trips exactly as `numpy.linalg.inv` would).
    func affineInverse() -> Matrix3x4 {
        let a = self[0, 0], b = self[0, 1], c = self[0, 2]
        let d = self[1, 0], e = self[1, 1], f = self[1, 2]
        let g = self[2, 0], h = self[2, 1], i = self[2, 2]
        let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        let m = [
            (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
            (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
            (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det,
        ]
        let t = (self[0, 3], self[1, 3], self[2, 3])
        var out = [Double](repeating: 0, count: 12)
        for r in 0 ..< 3 {
            out[r * 4] = m[r * 3]; out[r * 4 + 1] = m[r * 3 + 1]; out[r * 4 + 2] = m[r * 3 + 2]
            out[r * 4 + 3] = -(m[r * 3] * t.0 + m[r * 3 + 1] * t.1 + m[r * 3 + 2] * t.2)
        }
        return Matrix3x4(out)
    }
}

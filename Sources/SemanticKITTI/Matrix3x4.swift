/// A 3x4 row-major matrix, the form KITTI stores camera projections and rigid poses in
/// (`r00 r01 r02 t0 r10 ... t2`).
public struct Matrix3x4: Sendable, Equatable {
    public var values: [Double]

    public init(_ values: [Double]) {
        precondition(values.count == 12, "a 3x4 matrix has 12 values")
        self.values = values
    }

    public static let identity = Matrix3x4([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])

    public subscript(row: Int, column: Int) -> Double { values[row * 4 + column] }

    /// `self * other`, both read as 4x4 matrices with last row (0, 0, 0, 1).
    public func composed(with other: Matrix3x4) -> Matrix3x4 {
        var out = [Double](repeating: 0, count: 12)
        for r in 0 ..< 3 {
            for c in 0 ..< 4 {
                var sum = c == 3 ? self[r, 3] : 0
                for k in 0 ..< 3 { sum += self[r, k] * other[k, c] }
                out[r * 4 + c] = sum
            }
        }
        return Matrix3x4(out)
    }

    /// Applies the transform to a point.
    public func apply(_ p: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(self[0, 0] * p.x + self[0, 1] * p.y + self[0, 2] * p.z + self[0, 3],
              self[1, 0] * p.x + self[1, 1] * p.y + self[1, 2] * p.z + self[1, 3],
              self[2, 0] * p.x + self[2, 1] * p.y + self[2, 2] * p.z + self[2, 3])
    }

    /// The twelve values as KITTI writes them, in scientific notation.
    public var kittiText: String {
        values.map { formatScientific($0) }.joined(separator: " ")
    }
}

/// `1.234567890000e+02`, as in KITTI's text files.
func formatScientific(_ value: Double) -> String {
    if value == 0 { return "0.000000000000e+00" }
    var exponent = Int(floor(log10(abs(value))))
    var mantissa = value / pow(10, Double(exponent))
    if abs(mantissa) >= 9.9999999999995 { mantissa /= 10; exponent += 1 }
    let digits = String(format: "%.12f", mantissa)
    let sign = exponent < 0 ? "-" : "+"
    return "\(digits)e\(sign)\(abs(exponent) < 10 ? "0" : "")\(abs(exponent))"
}

import Foundation

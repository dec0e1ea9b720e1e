/// Sixteen-lane float helpers for the Swift-side loops (losses).
typealias Float16Lanes = SIMD16<Float>

extension UnsafePointer where Pointee == Float {
    @inline(__always) func lanes(at i: Int) -> Float16Lanes {
        UnsafeRawPointer(self + i).loadUnaligned(as: Float16Lanes.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) func lanes(at i: Int) -> Float16Lanes {
        UnsafeRawPointer(self + i).loadUnaligned(as: Float16Lanes.self)
    }
    @inline(__always) func store(_ value: Float16Lanes, at i: Int) {
        UnsafeMutableRawPointer(self + i).storeBytes(of: value, as: Float16Lanes.self)
    }
}

/// `exp(x)` on sixteen lanes (Cephes' `expf`: range reduction by `ln 2`, degree-6
/// polynomial; relative error about 2e-7). Inputs are clamped to `[-87.3, 88.3]`.
///
/// Rounding and the float-to-integer step use the `1.5 · 2^23` trick so that everything
/// stays in vector registers.
@inline(__always) func fastExp(_ x: Float16Lanes) -> Float16Lanes {
    let x = pointwiseMin(pointwiseMax(x, Float16Lanes(repeating: -87.3)), Float16Lanes(repeating: 88.3))
    let magic: Float = 12_582_912  // 1.5 · 2^23: adding it rounds to an integer in the low mantissa bits
    let shifted = x * 1.442_695_04 + magic
    let k = shifted - magic
    let r = x - k * 0.693_359_375 + k * 2.121_944_40e-4
    var p = Float16Lanes(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let y = p * r * r + r + 1
    let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
    return y * unsafeBitCast((integer &+ 127) &<< 23, to: Float16Lanes.self)
}

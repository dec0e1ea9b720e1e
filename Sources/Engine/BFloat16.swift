/// Conversions between float32 and bfloat16 bit patterns, as oneDNN converts (round to nearest,
/// ties to even; NaN stays NaN).
enum BFloat16 {
    /// The bfloat16 nearest to `value`.
    @inline(__always)
    static func bits(_ value: Float) -> UInt16 {
        let b = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: b >> 16) | 0x40 }
        let rounding: UInt32 = 0x7FFF + ((b >> 16) & 1)
        return UInt16(truncatingIfNeeded: (b &+ rounding) >> 16)
    }

    /// The float32 value of a bfloat16 bit pattern (exact).
    @inline(__always)
    static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// `value` rounded to bfloat16 and back.
    static func rounded(_ value: Float) -> Float { float(bits(value)) }
}

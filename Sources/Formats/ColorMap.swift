/// Colour maps for pictures of range images.
public enum ColorMap: String, Sendable, CaseIterable {
    /// Google's Turbo (Mikhailov, 2019), through its published degree-5 polynomial fit:
    /// dark blue for 0 through green and yellow to dark red for 1.
    case turbo
    /// Grey levels from black (0) to white (1).
    case gray

    /// The colour of `value`, clamped to [0, 1].
    public func color(_ value: Float) -> (UInt8, UInt8, UInt8) {
        let x = value.isNaN ? 0 : min(max(value, 0), 1)
        switch self {
        case .gray:
            let g = UInt8((x * 255).rounded())
            return (g, g, g)
        case .turbo:
            let x2 = x * x, x3 = x2 * x, x4 = x3 * x, x5 = x4 * x
            let r = 0.13572138 + 4.61539260 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5
            let g = 0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5
            let b = 0.10667330 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5
            func byte(_ c: Float) -> UInt8 { UInt8((min(max(c, 0), 1) * 255).rounded()) }
            return (byte(r), byte(g), byte(b))
        }
    }
}

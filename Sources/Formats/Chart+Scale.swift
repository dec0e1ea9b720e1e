import Foundation

extension Chart {
    /// The value range of an axis and its ticks: round values 1, 2 or 5 times a power of ten
    /// apart (0, 0.2, 0.4 ... or 0, 20, 40 ...), labelled with as many decimals as the step needs.
    public struct Scale: Sendable, Equatable {
        /// The ends of the axis; they contain the data.
        public let lower: Double, upper: Double
        /// The distance between ticks: 1, 2 or 5 times a power of ten (at least 1 for integer axes).
        public let step: Double

        /// A scale for data from `low` to `high` with about `count` ticks. The ends move
        /// outwards to the neighbouring multiples of the step when that grows the range by at
        /// most `maxGrowth` of the data's span at each end (`.infinity`: always, as value axes
        /// do; 0: never, the axis ends at the data). `integer` keeps ticks on whole numbers
        /// (epochs). Equal ends are widened around their value; non-finite ends give 0 ... 1.
        ///
        /// - Parameters:
        ///   - low: The least value to show, in data units.
        ///   - high: The greatest value to show.
        ///   - count: About how many ticks; the result has between about `count / 2` and `2 count - 1`.
        ///   - integer: Whether the step must be a whole number.
        ///   - maxGrowth: How far, as a fraction of `high - low`, each end may move out to a round value.
        public init(low: Double, high: Double, count: Int = 5, integer: Bool = false, maxGrowth: Double = .infinity) {
            var (low, high) = low.isFinite && high.isFinite ? (min(low, high), max(low, high)) : (0, 1)
            if high == low {
                let half = integer ? 1 : (low == 0 ? 1 : abs(low) * 0.1)
                (low, high) = (low - half, high + half)
            }
            let step = Self.niceStep(span: high - low, low: low, high: high, count: count, integer: integer)
            let span = high - low
            let roundLow = (low / step).rounded(.down) * step, roundHigh = (high / step).rounded(.up) * step
            lower = low - roundLow <= maxGrowth * span ? Self.clean(roundLow, step: step) : low
            upper = roundHigh - high <= maxGrowth * span ? Self.clean(roundHigh, step: step) : high
            self.step = step
        }

        /// The multiples of `step` from `lower` to `upper`.
        public var ticks: [Double] {
            let first = (lower / step - 1e-9).rounded(.up), last = (upper / step + 1e-9).rounded(.down)
            guard first <= last else { return [] }
            return (Int(first) ... Int(last)).map { Self.clean(Double($0) * step, step: step) }
        }

        /// `value` written with the decimals the step needs: "0.5", "20", "-0.02"; no "-0".
        public func label(_ value: Double) -> String {
            let digits = max(0, Int((-log10(step) - 1e-9).rounded(.up)))
            let largest = max(abs(lower), abs(upper))
            if step < 1e-4 || largest >= 1e7 {
                // Exponent notation, with the significant digits that tell the ticks apart.
                let significant = max(0, Int(log10(largest).rounded(.down)) - Int((log10(step) + 1e-9).rounded(.down)))
                return value == 0 ? "0" : String(format: "%.\(significant)e", value)
            }
            let text = String(format: "%.\(digits)f", value)
            return Double(text) == 0 ? String(format: "%.\(digits)f", 0.0) : text
        }

        /// Where `value` lies between the ends, 0 at `lower` and 1 at `upper`.
        func fraction(_ value: Double) -> Double { (value - lower) / (upper - lower) }

        /// The round step (1, 2 or 5 times a power of ten) nearest to `span / (count - 1)`, or
        /// the next smaller one when that wastes less of the axis (the round ends of the data
        /// from `low` to `high` lie at least 15 % closer together) with at most `2 count - 1` ticks.
        static func niceStep(span: Double, low: Double, high: Double, count: Int, integer: Bool) -> Double {
            let raw = span / Double(max(count - 1, 1))
            let power = pow(10, (log10(raw)).rounded(.down))
            let fraction = raw / power
            let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
            var step = nice * power
            let smaller = nice == 1 || nice == 10 ? step / 2 : nice == 5 ? step * 0.4 : step / 2
            func extent(_ s: Double) -> Double { ((high / s).rounded(.up) - (low / s).rounded(.down)) * s }
            if !integer || smaller >= 1, extent(smaller) / smaller + 1 <= Double(2 * count - 1) + 1e-9,
               extent(smaller) <= 0.85 * extent(step) {
                step = smaller
            }
            return integer ? max(1, step.rounded()) : step
        }

        /// A multiple of `step` without the floating-point dust of the multiplication.
        private static func clean(_ value: Double, step: Double) -> Double {
            let scale = pow(10, max(0, (-log10(step)).rounded(.up) + 2))
            let cleaned = (value * scale).rounded() / scale
            return cleaned == 0 ? 0 : cleaned
        }
    }
}

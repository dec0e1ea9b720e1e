/// The one seeded, reproducible random number generator of RangeSeg: xoshiro256**
/// (Blackman and Vigna 2018) with its state filled by SplitMix64 from a 64-bit seed.
///
/// Nothing in RangeSeg uses a global or system generator. Each purpose owns a generator seeded
/// from the run's seed and numbers that name the purpose (`derive`), so results depend on the
/// seed only, never on thread scheduling or the platform:
///
/// ```swift
/// var shuffle = RandomGenerator(seed: RandomGenerator.derive(seed, 1, UInt64(epoch)))
/// order.shuffle(using: &shuffle)
/// ```
public struct RandomGenerator: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var state = seed
        s0 = Self.splitMix(&state)
        s1 = Self.splitMix(&state)
        s2 = Self.splitMix(&state)
        s3 = Self.splitMix(&state)
    }

    /// The generator's state (four words), to save and restore it exactly.
    public var state: [UInt64] { [s0, s1, s2, s3] }

    /// A generator that continues from a saved `state`.
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "a xoshiro256** state is four words, not all zero")
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [a, b).
    @inline(__always)
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// Uniform integer in `range` (which must not be empty).
    public mutating func int(_ range: Range<Int>) -> Int {
        precondition(!range.isEmpty, "int(_:) of an empty range")
        return range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// Uniform integer in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { int(range.lowerBound ..< range.upperBound + 1) }

    /// True with probability `p`.
    @inline(__always)
    public mutating func chance(_ p: Double) -> Bool { uniform() < p }

    /// A standard normal number by the Box-Muller transform (two uniforms, one value).
    public mutating func gaussian() -> Double {
        let u1 = max(uniform(), 1e-12), u2 = uniform()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * .pi * u2)
    }

    /// An approximately standard normal number: the Irwin-Hall sum of four uniforms, scaled to
    /// variance 1 (tails cut at ±3.46). No transcendental functions, so it is the same on every
    /// platform, which keeps `rangeseg synth`'s files byte-identical everywhere.
    @inline(__always)
    public mutating func approximateGaussian() -> Double {
        (uniform() + uniform() + uniform() + uniform() - 2) * 1.7320508075688772
    }

    /// One element of `items`, picked with probability proportional to its weight.
    public mutating func pick<T>(_ items: [(T, Double)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var x = uniform() * total
        for (item, weight) in items {
            if x < weight { return item }
            x -= weight
        }
        return items[items.count - 1].0
    }

    /// A seed mixed from several parts, e.g. `(seed, sequence, scan, purpose)`: different parts
    /// (or the same parts in another order) give unrelated seeds.
    public static func derive(_ parts: UInt64...) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        for part in parts {
            var x = h ^ part
            h = splitMix(&x)
        }
        return h
    }

    /// A stable 64-bit hash of a string (FNV-1a), for seeding from names: Swift's `Hasher` is
    /// seeded anew in every process.
    public static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// SplitMix64 (Steele, Lea and Flood 2014): advances `state` and returns a well-mixed value.
    @inline(__always)
    public static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix(state)
    }

    /// The SplitMix64 finaliser: a bijective scramble of 64 bits (a good hash of an integer).
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@inline(__always)
private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif

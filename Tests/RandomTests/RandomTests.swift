import Foundation
import Random
import Testing

@Suite struct RandomGeneratorTests {
    @Test func streamsAreExplicitAndReproducible() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let xs = (0 ..< 100).map { _ in a.uniform() }
        #expect(xs == (0 ..< 100).map { _ in b.uniform() })
        #expect(xs != (0 ..< 100).map { _ in c.uniform() })
        #expect(xs.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(RandomGenerator.derive(1, 2, 3) != RandomGenerator.derive(1, 3, 2))
        // FNV-1a of "00", the same in every process (Swift's Hasher is seeded per process).
        #expect(RandomGenerator.hash("00") == 0x07FC_1807_B4BD_222D)
    }

    @Test func xoshiroMatchesAnIndependentImplementation() {
        // xoshiro256** seeded by SplitMix64, written out here from the published algorithm.
        var s: [UInt64] = []
        var state: UInt64 = 7
        for _ in 0 ..< 4 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            s.append(z ^ (z >> 31))
        }
        func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
        var generator = RandomGenerator(seed: 7)
        for _ in 0 ..< 16 {
            let expected = rotl(s[1] &* 5, 7) &* 9
            let t = s[1] << 17
            s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
            #expect(generator.next() == expected)
        }
    }

    @Test func distributionsHaveTheirMoments() {
        var g = RandomGenerator(seed: 1)
        let n = 20_000
        let gaussian = (0 ..< n).map { _ in g.gaussian() }
        let approximate = (0 ..< n).map { _ in g.approximateGaussian() }
        for values in [gaussian, approximate] {
            let mean = values.reduce(0, +) / Double(n)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        }
        let ints = (0 ..< n).map { _ in g.int(3 ..< 7) }
        #expect(Set(ints) == [3, 4, 5, 6])
        #expect(abs(Double((0 ..< n).filter { _ in g.chance(0.25) }.count) / Double(n) - 0.25) < 0.02)
    }
}

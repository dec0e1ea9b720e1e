import CKernels
import Testing

/// `rs_argmax_classes` against the plain loop it replaced: the largest logit's class per pixel,
/// the lower class on a tie, for pixel counts that do not fill its 1,024-pixel chunks.
@Suite struct ArgmaxTests {
    static func reference(_ logits: [Float], classes: Int, pixels: Int) -> [Int32] {
        var best = [Int32](repeating: 0, count: pixels)
        var value = Array(logits[0 ..< pixels])
        for c in 1 ..< classes {
            for p in 0 ..< pixels where logits[c * pixels + p] > value[p] {
                value[p] = logits[c * pixels + p]
                best[p] = Int32(c)
            }
        }
        return best
    }

    @Test(arguments: [(classes: 20, pixels: 64 * 2048), (classes: 3, pixels: 1_500), (classes: 1, pixels: 7), (classes: 5, pixels: 2_049)])
    func matchesTheLoop(classes: Int, pixels: Int) {
        var state: UInt64 = 0x5EED
        // Values from a small set, so that many pixels have ties between classes.
        let logits = (0 ..< classes * pixels).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 59)) - 8
        }
        var out = [Int32](repeating: -1, count: pixels)
        rs_argmax_classes(logits, Int64(classes), Int64(pixels), &out)
        let expected = Self.reference(logits, classes: classes, pixels: pixels)
        #expect(out == expected)
        if classes > 1 { #expect(Set(out).count > 1, "the data should not be one class everywhere") }
    }

    /// The channel-blocked kernel agrees with the plain one on the same logits laid out in
    /// blocks of 16 and 8; the padding lanes (here larger than every logit) are never read.
    @Test(arguments: [(classes: 20, pixels: 64 * 2048, block: 16), (classes: 20, pixels: 3_001, block: 8),
                      (classes: 16, pixels: 40_000, block: 16), (classes: 3, pixels: 17, block: 8)])
    func channelBlocksMatchThePlainLayout(classes: Int, pixels: Int, block: Int) {
        var state: UInt64 = 0xB10C
        let logits = (0 ..< classes * pixels).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 59)) - 8
        }
        let blocks = (classes + block - 1) / block
        var blocked = [Float](repeating: 1e9, count: blocks * block * pixels)
        for c in 0 ..< classes {
            for p in 0 ..< pixels { blocked[(c / block * pixels + p) * block + c % block] = logits[c * pixels + p] }
        }
        var out = [Int32](repeating: -1, count: pixels)
        rs_argmax_channel_blocks(blocked, Int64(classes), Int64(pixels), Int64(block), &out)
        #expect(out == Self.reference(logits, classes: classes, pixels: pixels))
    }
}

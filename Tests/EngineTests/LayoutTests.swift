import CDNNL
import Foundation
import Testing
@testable import Engine

@Suite struct LayoutTests {
    /// Swift's small-tensor reorder agrees with oneDNN's for blocked weight and activation
    /// layouts, including padded ones, both ways.
    @Test(arguments: [([20, 8, 3, 3], dnnl_ABcd16b16a), ([16, 5, 3, 3], dnnl_ABcd8b8a), ([32, 16, 1, 4], dnnl_BAcd16a16b),
                      ([16, 8, 3, 3], dnnl_Acdb16a), ([2, 20, 3, 5], dnnl_aBcd16b), ([2, 3, 4, 5], dnnl_acdb),
                      ([4, 6, 1, 4], dnnl_iohw)])
    func smallReorderMatchesOneDNN(shape: [Int], tag: dnnl_format_tag_t) {
        let plain = MemoryDescriptor.plain(shape)
        let blocked = MemoryDescriptor(shape: shape, tag: tag)
        #expect(SmallReorder.handles(plain, blocked))
        let x = random(shape, seed: 1).storage
        // oneDNN's reorder, called directly.
        let reference = Storage(blocked, zeroed: true)
        let engine = DNNLContext.shared.engine
        var pd: dnnl_primitive_desc_t?
        withUnsafePointer(to: plain.raw) { s in withUnsafePointer(to: blocked.raw) { d in
            _ = dnnl_reorder_primitive_desc_create(&pd, s, engine, d, engine, nil)
        } }
        Primitive(descriptor: pd!, what: "reorder").execute([(DNNL_ARG_FROM, x), (DNNL_ARG_TO, reference)])
        let mine = Storage(blocked)
        memset(mine.pointer, 0x7f, mine.byteCount)  // padding must be overwritten with zeros
        SmallReorder.reorder(x, into: mine)
        #expect(memcmp(mine.pointer, reference.pointer, blocked.byteCount) == 0)
        let back = Storage(plain)
        SmallReorder.reorder(mine, into: back)
        #expect(memcmp(back.pointer, x.pointer, plain.byteCount) == 0)
    }

    /// `withChannelBlocks` hands out a channel-blocked tensor's buffer with the offsets it
    /// documents (padding channels included in the count), and nothing for other layouts.
    @Test(arguments: [[1, 20, 3, 5], [2, 16, 2, 3], [1, 5, 4, 4]])
    func channelBlocksAreReadWhereTheyLie(shape: [Int]) {
        let x = random(shape, seed: 3)
        #expect(x.withChannelBlocks { _, _ in 0 } == nil, "a plain tensor has no channel blocks")
        let blocked = Tensor(shape: shape, storage: x.storage.reordered(to: .blocked(shape)))
        let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
        let plain = x.scalars
        let mismatches = blocked.withChannelBlocks { buffer, block -> Int in
            #expect(block == ChannelBlock.size)
            let blocks = (c + block - 1) / block
            #expect(buffer.count == n * blocks * block * hw)
            var wrong = 0
            for image in 0 ..< n {
                for channel in 0 ..< c {
                    for p in 0 ..< hw where buffer[((image * blocks + channel / block) * hw + p) * block + channel % block] != plain[(image * c + channel) * hw + p] {
                        wrong += 1
                    }
                }
            }
            return wrong
        }
        #expect(mismatches == 0)
    }
}

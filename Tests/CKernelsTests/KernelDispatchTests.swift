import CKernels
import Foundation
import Testing
import TestSupport

// The C kernels are compiled for AVX2 and for the x86-64 baseline and chosen once per process
// (Sources/CKernels/dispatch.c). These tests pin the choice and the variants' agreement, so that
// a dispatch change cannot silently fall back to the slow path or let the two drift apart.

/// Whether the processor advertises AVX2, read independently of the compiler's runtime.
private func cpuinfoHasAVX2() -> Bool? {
    #if os(Linux)
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    return flags.split(whereSeparator: { $0 == " " || $0 == "\t" }).contains("avx2")
    #else
    return nil
    #endif
}

/// Deterministic pseudo-random floats in [low, high).
private func values(_ count: Int, seed: UInt64, low: Float, high: Float) -> [Float] {
    var state = seed
    return (0 ..< count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return low + (high - low) * Float(state >> 40) / Float(1 << 24)
    }
}

private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

@Suite struct KernelDispatchTests {
    @Test func theAVX2VariantIsChosenWhereTheProcessorHasIt() throws {
        let baseline = try #require(rs_kernel_table_for(RS_KERNELS_BASELINE))
        #expect(String(cString: baseline.pointee.name) == "baseline")
        let active = rs_active_kernel_variant()
        #if arch(x86_64) && os(Linux)
        let hasAVX2 = try #require(cpuinfoHasAVX2(), "no flags line in /proc/cpuinfo")
        #expect(active == (hasAVX2 ? RS_KERNELS_AVX2 : RS_KERNELS_BASELINE))
        #expect((rs_kernel_table_for(RS_KERNELS_AVX2) != nil) == hasAVX2)
        #else
        #expect(active == RS_KERNELS_BASELINE || rs_kernel_table_for(RS_KERNELS_AVX2) != nil)
        #endif
        // The same answer from every thread asking at once.
        let answers = ThreadResults<UInt32>(count: 8)
        onSeparateThreads(8) { answers[$0] = rs_active_kernel_variant().rawValue }
        #expect(answers.all.allSatisfy { $0 == active.rawValue })
    }

    /// Every variant this processor runs, with the baseline first.
    private func tables() throws -> [rs_kernel_table] {
        let baseline = try #require(rs_kernel_table_for(RS_KERNELS_BASELINE)).pointee
        return [baseline] + (rs_kernel_table_for(RS_KERNELS_AVX2).map { [$0.pointee] } ?? [])
    }

    @Test func variantsPlacePointsIdentically() throws {
        let tables = try tables()
        // 1003 points: not a multiple of any vector width, so the loops' tails run too. Some
        // points are at the origin, NaN or infinite, which must come out unplaced.
        let n = 1003
        var xyzr = values(4 * n, seed: 1, low: -60, high: 60)
        for (i, bad) in [(0, Float.nan), (17, .infinity), (500, 0)] { xyzr[4 * i] = bad; xyzr[4 * i + 1] = bad == 0 ? 0 : 1; xyzr[4 * i + 2] = 0 }
        var results: [([Int32], [Int32], [UInt32])] = []
        for table in tables {
            var rows = [Int32](repeating: 0, count: n), columns = rows
            var ranges = [Float](repeating: 0, count: n)
            table.place_points(xyzr, Int64(n), 64, 2048, 3 * .pi / 180, -25 * .pi / 180, &rows, &columns, &ranges)
            results.append((rows, columns, bits(ranges)))
        }
        #expect(results[0].0[500] == -1 && results[0].0[0] == -1 && results[0].0[17] == -1)
        #expect(results[0].0.filter { $0 >= 0 }.count == n - 3)
        for other in results.dropFirst() {
            #expect(other.0 == results[0].0 && other.1 == results[0].1 && other.2 == results[0].2)
        }
    }

    @Test func variantsCountSimilarVectorsIdentically() throws {
        let tables = try tables()
        let n = 777
        let dots = values(n, seed: 2, low: -1, high: 1), norms = values(n, seed: 3, low: 0.2, high: 1.2)
        let counts = tables.map { table in
            [0.0, 0.3, 0.9].map { tau in table.count_similar(dots, norms, Int64(n), 0.8, Float(tau)) }
        }
        #expect(counts[0][0] > counts[0][1] && counts[0][1] > counts[0][2] && counts[0][2] >= 0)
        for other in counts.dropFirst() { #expect(other == counts[0]) }
    }

    @Test func variantsComputeCrossEntropyIdentically() throws {
        let tables = try tables()
        let classes = 20, pixels = 1021
        let logits = values(classes * pixels, seed: 4, low: -8, high: 8)
        let labels = values(pixels, seed: 5, low: 0, high: Float(classes)).map { Int32($0) }
        var factors = values(pixels, seed: 6, low: 0, high: 2)
        for p in stride(from: 0, to: pixels, by: 7) { factors[p] = 0 }
        var results: [(Double, [UInt32], [UInt32])] = []
        for table in tables {
            var gradient = [Float](repeating: 0, count: classes * pixels)
            var loss = [Float](repeating: 0, count: pixels)
            let total = table.softmax_cross_entropy(logits, labels, factors, Int64(classes), Int64(pixels), 0.5, &gradient, &loss)
            results.append((total, bits(gradient), bits(loss)))
        }
        #expect(results[0].0 > 0 && results[0].0.isFinite)
        for other in results.dropFirst() {
            #expect(other.0 == results[0].0)
            #expect(other.1 == results[0].1)
            #expect(other.2 == results[0].2)
        }
    }
}

@Suite struct BatchNormKernelVariantTests {
    /// The four per-block passes of batch norm + leaky ReLU give the same bits in every variant
    /// (each lane is summed in the same order; neither variant contracts to FMA), for both blocks
    /// and both element types.
    @Test(arguments: [false, true])
    func variantsAgreeBitForBit(bf16: Bool) throws {
        let baseline = try #require(rs_kernel_table_for(RS_KERNELS_BASELINE)).pointee
        let tables = [baseline] + (rs_kernel_table_for(RS_KERNELS_AVX2).map { [$0.pointee] } ?? [])
        // bf16 inputs: the values rounded to bf16 by truncation (exact in both types).
        func typed(_ v: [Float]) -> [UInt32] { bf16 ? v.map { $0.bitPattern >> 16 } : v.map(\.bitPattern) }
        func read(_ bits: [UInt32], _ i: Int) -> Float { Float(bitPattern: bf16 ? bits[i] << 16 : bits[i]) }
        for block in [8, 16] {
            let pixels = 611 // not a multiple of the float runs (256) or of a vector
            let x = typed(values(pixels * block, seed: 7, low: -3, high: 5))
            let dy = typed(values(pixels * block, seed: 8, low: -1, high: 1))
            let pivot = values(block, seed: 9, low: -1, high: 1), a = values(block, seed: 10, low: -2, high: 2)
            let b = values(block, seed: 11, low: -1, high: 1), mean = values(block, seed: 12, low: 0, high: 1)
            let factor = values(block, seed: 13, low: -0.1, high: 0.1), offset = values(block, seed: 14, low: -0.1, high: 0.1)
            let xBytes = bf16 ? x.map { UInt16($0) }.withUnsafeBytes { Array($0) } : x.withUnsafeBytes { Array($0) }
            let dyBytes = bf16 ? dy.map { UInt16($0) }.withUnsafeBytes { Array($0) } : dy.withUnsafeBytes { Array($0) }
            let flag: Int32 = bf16 ? 1 : 0
            var outputs: [[UInt64]] = []
            for table in tables {
                var s = [Double](repeating: 0, count: block), q = s, gs = s, gc = s
                var y = [UInt8](repeating: 0, count: xBytes.count), dx = y, yPlusR = y
                table.bn_sums(xBytes, Int64(pixels), Int32(block), flag, pivot, &s, &q)
                table.bn_leaky_apply(xBytes, nil, Int64(pixels), Int32(block), flag, a, b, 0.1, &y)
                // With a residual added (dy serves as one).
                table.bn_leaky_apply(xBytes, dyBytes, Int64(pixels), Int32(block), flag, a, b, 0.1, &yPlusR)
                table.bn_leaky_gradient_sums(xBytes, dyBytes, Int64(pixels), Int32(block), flag, a, b, mean, 0.1, &gs, &gc)
                table.bn_leaky_input_gradient(xBytes, dyBytes, Int64(pixels), Int32(block), flag, a, b, mean, 0.1,
                                              factor, offset, &dx)
                outputs.append((s + q + gs + gc).map(\.bitPattern) + (y + dx + yPlusR).map { UInt64($0) })
                // The sums are what they say: lane 0 against a plain loop in double.
                let lane0 = stride(from: 0, to: pixels * block, by: block).map { Double(read(x, $0) - pivot[0]) }
                #expect(abs(s[0] - lane0.reduce(0, +)) < 1e-3)
                let z0 = a[0] * read(x, 0) + b[0], y0 = z0 > 0 ? z0 : 0.1 * z0
                let written = bf16 ? Float(bitPattern: UInt32(y[0]) << 16 | UInt32(y[1]) << 24)
                                   : y.withUnsafeBytes { $0.load(as: Float.self) }
                #expect(bf16 ? abs(written - y0) <= abs(y0) / 128 : written == y0)
                let sum0 = y0 + read(dy, 0)
                let writtenSum = bf16 ? Float(bitPattern: UInt32(yPlusR[0]) << 16 | UInt32(yPlusR[1]) << 24)
                                      : yPlusR.withUnsafeBytes { $0.load(as: Float.self) }
                #expect(bf16 ? abs(writtenSum - sum0) <= abs(sum0) / 128 : writtenSum == sum0)
            }
            for other in outputs.dropFirst() { #expect(other == outputs[0], "block \(block)") }
        }
    }
}

/// Bilinear resampling with half-pixel centres, the convention of PyTorch's
/// `interpolate(mode="bilinear", align_corners=False)`: output index d reads input position
/// `src = (d + 0.5) * in / out - 0.5`, clamped below at 0; it blends `floor(src)` and the next
/// index (the last index blends with itself).
struct BilinearAxis {
    var lower: [Int]
    var upper: [Int]
    var upperWeight: [Float]

    init(from input: Int, to output: Int) {
        let scale = Float(input) / Float(output)
        lower = []; upper = []; upperWeight = []
        for d in 0 ..< output {
            let src = max((Float(d) + 0.5) * scale - 0.5, 0)
            let i0 = min(Int(src), input - 1)
            lower.append(i0)
            upper.append(i0 < input - 1 ? i0 + 1 : i0)
            upperWeight.append(src - Float(i0))
        }
    }
}

/// Resamples `planes` planes of `inHeight x inWidth` (consecutive in `input`) to
/// `outHeight x outWidth`.
func resampleBilinear(_ input: UnsafeBufferPointer<Float>, planes: Int, inHeight: Int, inWidth: Int,
                      outHeight: Int, outWidth: Int) -> [Float] {
    let rows = BilinearAxis(from: inHeight, to: outHeight)
    let columns = BilinearAxis(from: inWidth, to: outWidth)
    var out = [Float](repeating: 0, count: planes * outHeight * outWidth)
    for plane in 0 ..< planes {
        let src = plane * inHeight * inWidth, dst = plane * outHeight * outWidth
        for r in 0 ..< outHeight {
            let top = src + rows.lower[r] * inWidth, bottom = src + rows.upper[r] * inWidth
            let wy = rows.upperWeight[r]
            for c in 0 ..< outWidth {
                let x0 = columns.lower[c], x1 = columns.upper[c], wx = columns.upperWeight[c]
                let upperRow = (1 - wx) * input[top + x0] + wx * input[top + x1]
                let lowerRow = (1 - wx) * input[bottom + x0] + wx * input[bottom + x1]
                out[dst + r * outWidth + c] = (1 - wy) * upperRow + wy * lowerRow
            }
        }
    }
    return out
}

/// Nearest-neighbour label resampling with `src = floor(dst * in / out)`: the label of coarse
/// pixel (i, j) on a grid `factor` times coarser is `y[i * factor.rows, j * factor.columns]`.
func resampleNearest(_ labels: UnsafeBufferPointer<Int32>, height: Int, width: Int, outHeight: Int, outWidth: Int) -> [Int32] {
    var out = [Int32](repeating: 0, count: outHeight * outWidth)
    for r in 0 ..< outHeight {
        let sr = r * height / outHeight
        for c in 0 ..< outWidth { out[r * outWidth + c] = labels[sr * width + c * width / outWidth] }
    }
    return out
}

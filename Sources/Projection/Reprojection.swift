import CKernels
import Foundation

extension RangeImage {
    /// Per-point classes read from a per-pixel class image [H, W] through each point's
    /// (row, column): every point gets its pixel's class, also points hidden behind a nearer
    /// point of the same pixel. Points left out of the projection get `unplaced`.
    public func pointClasses(fromPixels classes: [Int32], unplaced: Int32 = 0) -> [Int32] {
        precondition(classes.count == height * width, "class image must be [\(height), \(width)]")
        var out = [Int32](repeating: unplaced, count: pointCount)
        for i in 0 ..< pointCount where pointRow[i] >= 0 {
            out[i] = classes[Int(pointRow[i]) * width + Int(pointColumn[i])]
        }
        return out
    }
}

/// RangeNet++'s k-nearest-neighbour clean-up of reprojected predictions.
///
/// For each point, look at the `window` x `window` pixels around its pixel, take the `k`
/// neighbours closest in range (ties to the lower pixel, row-major), where the distance is |range difference| times
/// (1 - g(offset)) with g a normalised Gaussian of the pixel offset (`sigma`) - the point's own
/// pixel counts at distance 0 - drop neighbours farther than `cutoff`, and vote among their
/// classes, never choosing class 0. Pixels outside the image count as range 0 and class 0, and
/// empty pixels as infinitely far, as in the reference. A point with no vote keeps its pixel's
/// class by default (`withoutVotes`).
public struct RangeKNN: Sendable, Equatable {
    public var k: Int
    public var window: Int
    public var sigma: Float
    public var cutoff: Float
    /// What a point gets when none of its neighbours votes (all class 0 or beyond the cutoff).
    public var withoutVotes = NoVote.pixelClass

    public enum NoVote: Sendable, Equatable {
        /// The class of the point's pixel.
        case pixelClass
        /// Class 1, as the official `postproc/KNN.py` gives (the argmax of zero votes over
        /// classes 1...): what an official model folder's predictions have.
        case firstClass
    }

    public init(k: Int = 5, window: Int = 5, sigma: Float = 1, cutoff: Float = 1) {
        self.k = k
        self.window = window
        self.sigma = sigma
        self.cutoff = cutoff
    }

    public func problem() -> String? {
        if k < 1 { return "k must be at least 1" }
        if window < 1 || window % 2 == 0 { return "the window must be an odd number of pixels, found \(window)" }
        if window > 15 { return "the window must be at most 15 pixels, found \(window)" }
        if k > window * window { return "k (\(k)) exceeds the window's \(window * window) pixels" }
        if !(sigma > 0) { return "sigma must be positive" }
        return nil
    }

    /// `1 - g` for each window offset, row-major, g the normalised Gaussian.
    func inverseGaussian() -> [Float] {
        let mean = Float(window - 1) / 2
        var g = [Float](repeating: 0, count: window * window)
        for r in 0 ..< window {
            for c in 0 ..< window {
                let dy: Float = Float(r) - mean, dx: Float = Float(c) - mean
                let d2: Float = dy * dy + dx * dx
                g[r * window + c] = exp(-d2 / (2 * sigma * sigma))
            }
        }
        let sum = g.reduce(0, +)
        return g.map { 1 - $0 / sum }
    }

    /// Cleaned per-point classes from the per-pixel predictions `classes` [H, W] (learning ids
    /// 0..<classCount) of `image`, by the C kernel `rs_range_knn` (7 ms for a 124,668-point
    /// real scan with a trained network's classes, 5 x 5 window, k 5; the Swift loop of
    /// `applyReference`, which tests compare it with, took 35-45 ms).
    public func apply(to image: RangeImage, pixelClasses classes: [Int32], classCount: Int) -> [Int32] {
        precondition(problem() == nil, problem() ?? "")
        precondition(classes.count == image.height * image.width)
        let weights = inverseGaussian()
        var out = [Int32](repeating: 0, count: image.pointCount)
        let status = rs_range_knn(image.range, classes, Int32(image.height), Int32(image.width), image.pointRow, image.pointColumn,
                                  image.pointRange, Int64(image.pointCount), Int32(k), Int32(window), weights, cutoff,
                                  Int32(classCount), withoutVotes == .pixelClass ? -1 : Int32(min(1, classCount - 1)), &out)
        precondition(status == 0, "out of memory in the range k-NN")
        return out
    }

    /// `apply` as a Swift loop: the definition the C kernel is checked against.
    func applyReference(to image: RangeImage, pixelClasses classes: [Int32], classCount: Int) -> [Int32] {
        precondition(problem() == nil, problem() ?? "")
        precondition(classes.count == image.height * image.width)
        let weights = inverseGaussian()
        let half = window / 2, center = (window * window) / 2
        let h = image.height, w = image.width
        var out = [Int32](repeating: 0, count: image.pointCount)
        var distances = [Float](repeating: 0, count: window * window)
        var neighbourClass = [Int32](repeating: 0, count: window * window)
        var order = [Int](repeating: 0, count: window * window)
        var votes = [Int](repeating: 0, count: classCount)
        for i in 0 ..< image.pointCount {
            let row = Int(image.pointRow[i]), column = Int(image.pointColumn[i])
            guard row >= 0 else { continue }
            let r = image.pointRange[i]
            for dr in 0 ..< window {
                for dc in 0 ..< window {
                    let slot = dr * window + dc
                    let y = row + dr - half, x = column + dc - half
                    var neighbourRange: Float = 0 // outside the image: the reference's zero padding
                    var cls: Int32 = 0
                    if y >= 0, y < h, x >= 0, x < w {
                        neighbourRange = image.range[y * w + x]
                        if neighbourRange < 0 { neighbourRange = .infinity }
                        cls = classes[y * w + x]
                    }
                    if slot == center { neighbourRange = r }
                    distances[slot] = abs(neighbourRange - r) * weights[slot]
                    neighbourClass[slot] = cls
                }
            }
            // The k smallest distances, ties to the lower slot (row-major in the window).
            for s in 0 ..< order.count { order[s] = s }
            order.sort { distances[$0] < distances[$1] || (distances[$0] == distances[$1] && $0 < $1) }
            for c in 0 ..< classCount { votes[c] = 0 }
            for j in 0 ..< k {
                let s = order[j]
                guard distances[s] <= cutoff || cutoff <= 0 else { continue }
                let cls = Int(neighbourClass[s])
                if cls > 0, cls < classCount { votes[cls] += 1 }
            }
            var winner = 0, most = 0
            for c in 1 ..< classCount where votes[c] > most { winner = c; most = votes[c] }
            if most > 0 {
                out[i] = Int32(winner)
            } else {
                out[i] = withoutVotes == .pixelClass ? classes[row * w + column] : Int32(min(1, classCount - 1))
            }
        }
        return out
    }
}

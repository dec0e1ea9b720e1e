import Engine

/// The sizes of a segmentation batch: logits `[batch, classes, height, width]` beside labels
/// `[batch, height, width]`.
struct SegmentationShape: Equatable {
    let batch: Int
    let classes: Int
    let height: Int
    let width: Int

    var pixelsPerImage: Int { height * width }
    var pixelCount: Int { batch * height * width }
}

extension SegmentationShape {
    /// The shape of `logits` after checking it against `labels` (`[B, H, W]`, flat).
    init(logits: Tensor, labels: [Int32]) throws(LossError) {
        guard logits.rank == 4 else { throw LossError("logits must be [B, C, H, W], found shape \(logits.shape)") }
        let (b, c, h, w) = (logits.shape[0], logits.shape[1], logits.shape[2], logits.shape[3])
        guard b > 0, c > 0, h > 0, w > 0 else { throw LossError("logits shape \(logits.shape) has an empty dimension") }
        guard labels.count == b * h * w else {
            throw LossError("\(labels.count) labels do not fill [\(b), \(h), \(w)] for logits \(logits.shape)")
        }
        self.init(batch: b, classes: c, height: h, width: w)
    }
}

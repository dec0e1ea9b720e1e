import Inference
import Losses

/// One arm of a comparison: a loss, and the data-side remedy it trains with (nil when the
/// comparison has no remedy axis: the augmentation as configured).
public struct ComparisonArm: Sendable, Equatable, CustomStringConvertible {
    public var loss: LossSpec
    public var remedy: DataRemedy?

    public init(loss: LossSpec, remedy: DataRemedy? = nil) {
        self.loss = loss
        self.remedy = remedy
    }

    /// The name in charts and messages: the loss as `--losses` writes it, then the remedy after
    /// a comma (`subclassified, paste`); the loss alone without a remedy axis.
    public var description: String {
        LossComparison.name(of: loss) + (remedy.map { ", \($0)" } ?? "")
    }
}

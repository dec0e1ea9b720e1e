import Losses
import SemanticKITTI

extension CombinedLoss {
    /// The loss of `config` for the learning classes of `labels`, as training builds it: `wce`
    /// weighs class c by RangeNet++'s `1 / (content_c + 0.001)` from the label config's
    /// `content` (unless `classWeights` are given), the unlabelled class carries no loss
    /// (unless `ignoreIndex` says otherwise), and subclass counts may name classes.
    public init(_ config: LossConfig, labels: LabelConfig, classWeights: [Float]? = nil, ignoreIndex: Int32? = nil,
                seed: UInt64 = 0) throws(LossError) {
        var config = config
        let ignored = labels.ignoredClasses
        config.ignoreIndex = ignoreIndex ?? Int32(ignored.min() ?? 0)
        try self.init(config, classes: labels.classCount,
                      classWeights: classWeights ?? inverseFrequencyWeights(content: labels.learningContent(), ignored: ignored),
                      classNames: (0 ..< labels.classCount).map { labels.className(learning: $0) }, seed: seed)
    }
}

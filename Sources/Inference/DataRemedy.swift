import Foundation

/// A data-side remedy for rare classes as `rangeseg compare --remedies` names it: which of
/// `augmentation.paste` and `augmentation.mix` a run of the comparison trains with.
public enum DataRemedy: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Neither paste nor mix.
    case none
    /// Rare-class instances pasted from the other training scans (`InstancePaste`), no mix.
    case paste
    /// PolarMix-style mixing with another training scan (`SceneMix`), no paste.
    case mix
    /// Both.
    case pasteAndMix = "paste+mix"

    /// Instances pasted per scan when the base configuration leaves `paste` at 0.
    public static let standardPaste = 4
    /// The probability of a mix when the base configuration leaves `mix` at 0 (PolarMix mixes
    /// every scan; half keeps unmixed scans in every batch).
    public static let standardMix: Float = 0.5

    public var description: String { rawValue }

    /// Whether the remedy pastes, and whether it mixes.
    public var pastes: Bool { self == .paste || self == .pasteAndMix }
    public var mixes: Bool { self == .mix || self == .pasteAndMix }

    /// `augmentation` with this remedy: paste and mix on or off as named, each at the value
    /// `augmentation` gives when that is not 0, else at `standardPaste` and `standardMix`; the
    /// other keys (rare classes, sector, copies, budget) as given.
    public func applied(to augmentation: TrainingConfig.Augmentation) -> TrainingConfig.Augmentation {
        var out = augmentation
        out.paste = pastes ? (augmentation.paste > 0 ? augmentation.paste : Self.standardPaste) : 0
        out.mix = mixes ? (augmentation.mix > 0 ? augmentation.mix : Self.standardMix) : 0
        return out
    }

    /// A name as `--remedies` gives it (`none`, `paste`, `mix`, `paste+mix`), spaces around it ignored.
    public init?(name: String) {
        self.init(rawValue: name.trimmingCharacters(in: .whitespaces))
    }
}

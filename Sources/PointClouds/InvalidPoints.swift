/// What reading does with points that have a NaN or infinite coordinate or lie at range 0 (the
/// projection cannot place them; organised clouds mark missing returns this way).
public enum InvalidPoints: String, Sendable, CaseIterable {
    /// An error naming the file, the first such point (with its row and column in an organised
    /// cloud) and how many there are.
    case reject
    /// Kept as they are; the projection reports and leaves them out.
    case keep
    /// Left out, with their labels and colours; the cloud becomes unorganised.
    case drop
}

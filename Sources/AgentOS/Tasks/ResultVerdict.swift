import Foundation

/// A person's word on a run: the `verdict` property of its result note, set in Obsidian
/// (`good`, `redo` or `wrong`). The OS writes it empty and never fills it; a run may not set it
/// (`RunWriteGuard`). `report` counts verdicts by lane and agent.
public enum ResultVerdict: String, Sendable, CaseIterable {
    /// The result was right as it is.
    case good
    /// The result needs another attempt.
    case redo
    /// The result was wrong.
    case wrong

    /// The property's name on result notes.
    public static let property = "verdict"

    /// The verdict a result note's property holds (`nil`: none yet, or a word that is not one of the three).
    public init?(property value: String?) {
        guard let word = value?.trimmingWhitespacesAndNewlines().lowercased(), let verdict = ResultVerdict(rawValue: word) else { return nil }
        self = verdict
    }
}

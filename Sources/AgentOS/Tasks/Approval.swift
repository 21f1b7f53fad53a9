import Foundation

/// A person's approval of a task or handoff that the OS showed in review, as the OS verified it.
///
/// `approved: true` in a note is only a claim. It counts as an approval when the OS itself put the
/// note into review (recorded in the run store with the hash of the bytes it wrote, which hold
/// `approved: false`) and `approved: true` arrived as a later change to that note. A note born
/// approved, a `status: new` note that says `approved: true`, or an approval left over from an
/// earlier run is not an approval.
public struct Approval: Sendable, Equatable {
    /// The run that put the task into review; the approval answers that review and no other.
    public let reviewRunID: String
    /// Who made the change: the owner of the note file after the change (the OS records this, not a
    /// name typed into the note, which nobody can verify).
    public let by: String
    /// When the change was made: the note file's modification time.
    public let at: Date

    /// An approval read from a change.
    public init(reviewRunID: String, by: String, at: Date) {
        self.reviewRunID = reviewRunID
        self.by = by
        self.at = at
    }
}

/// Decides whether a note's `approved: true` is a person's approval (see `Approval`).
public enum ApprovalCheck {
    /// What a note's `approved` property amounts to.
    public enum Verdict: Sendable, Equatable {
        /// The note does not say `approved: true`.
        case none
        /// A change made after the OS showed the note in review: it counts.
        case counted(Approval)
        /// The note says `approved: true`, but that does not count; one line says why.
        case notCounted(String)

        /// The approval, when it counts.
        public var approval: Approval? {
            if case .counted(let approval) = self { return approval }
            return nil
        }

        /// Why `approved: true` does not count (`nil` when it counts or is not claimed).
        public var refusal: String? {
            if case .notCounted(let why) = self { return why }
            return nil
        }
    }

    /// The verdict on `task`'s `approved` property. `runs` is the vault's run store (`nil` when the
    /// vault has none yet: then nothing was ever put in review).
    ///
    /// With `store`, the approval also answers for the notes the task carries to its agent (what it
    /// links, its `context`, what memory found): recorded with their hashes when the review was
    /// written, one changed since then (a run rewrote the plan the person read) means the person
    /// approved something else, and it does not count.
    public static func verify(_ task: TaskNote, runs: RunStore?, store: NoteStore? = nil) -> Verdict {
        guard task.isApproved else { return .none }
        guard task.status == .review else {
            return .notCounted(notCounted("it was written before the task was in review (a note born approved, or status: \(task.status?.rawValue ?? "unknown"), is routed like any other)"))
        }
        guard let runs, let latest = (try? runs.latestRun(taskPath: task.path)) ?? nil else {
            return .notCounted(notCounted("the task was never in review"))
        }
        guard latest.state == .review, let written = (try? runs.reviewHash(runID: latest.runID)) ?? nil else {
            let last = latest.state == .review ? "its review was not recorded" : "its last run ended \(latest.state.rawValue)"
            return .notCounted(notCounted("the task is not waiting in review (\(last)); an approval counts once, for the review it answers"))
        }
        // The OS wrote `approved: false` into the review bytes, so `approved: true` in exactly those
        // bytes cannot happen; checked anyway, so an approval is always a change the OS did not make.
        guard task.snapshot.hash != written else {
            return .notCounted(notCounted("it is in the note the OS wrote, not a later change"))
        }
        if let store {
            let inputs = (try? runs.reviewInputs(runID: latest.runID)) ?? [:]
            for (path, hash) in inputs.sorted(by: { $0.key < $1.key }) {
                let now = ((try? store.readIfPresent(path)) ?? nil)?.hash.hex ?? ""
                if now != hash {
                    return .notCounted(notCounted("\(path), which the task carries to its agent, changed after the review; the task goes back to review with it as it is now"))
                }
            }
        }
        let status = task.snapshot.status
        return .counted(Approval(reviewRunID: latest.runID, by: FileSystem.userName(status.ownerUID),
                                 at: Date(timeIntervalSince1970: Double(status.mtimeNanoseconds) / 1e9)))
    }

    /// The one-line refusal for `approved: true` that does not count.
    static func notCounted(_ why: String) -> String {
        "approved: true is not counted: \(why); set approved: true once the task is in review"
    }
}

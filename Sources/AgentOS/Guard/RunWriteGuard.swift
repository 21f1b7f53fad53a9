import Foundation

/// Writes made from within a run of the OS (an agent calling back into `fuckbigtech`) may not
/// approve anything nor move any note through its lifecycle: `approved`, `approved_by`,
/// `approved_at` and `status` belong to the person and to the OS. Nor may a run judge work:
/// `verdict` (good, redo, wrong on a result note) is a person's word on a run, so no run sets its own
/// or another's. Nor may they change `Rules/` (the
/// agents' flags, the routing and the guardrails), and a note waiting in review is frozen, so the
/// note a person approves is the note the OS showed.
///
/// A run is recognised by `FBT_RUN_ID` in the environment, which the engine sets for every agent
/// it starts. That is a convention, not a wall: an agent with a shell can unset the variable or
/// write the files directly. The wall is the read-only mode agents start in and the working folder
/// outside the vault (see docs/security.md); this guard stops a run that uses the documented tools.
public enum RunWriteGuard {
    /// The environment variable that marks a process as part of a run.
    public static let environmentKey = "FBT_RUN_ID"

    /// The properties no run may set, change or remove: a person's (`approved*`, `verdict`) and the
    /// OS's lifecycle (`status`), and the OS's records that guardrails count from — a task's
    /// `handoffs` (what `max_handoffs` counts), `created_by_run` (whose cap a spawned task spends),
    /// its costs, result, routing and error (a run that rewrote them could reset a limit or hide what
    /// it did).
    public static let protectedKeys = ["approved", "approved_by", "approved_at", "status", ResultVerdict.property] + bookkeepingKeys

    /// The OS's records on a task or result (see `protectedKeys`).
    static let bookkeepingKeys = ["handoffs", "created_by_run", "cost_usd", "cost_source", "tokens_in", "tokens_out", "result",
                                  "route_lane", "route_agent", "route_rule", "route_reason", "route_verdicts", "error", "failure",
                                  "failover_of", "failover_chain", "failover_tried", "failovers", "budget_overrun", "budget_overrun_usd",
                                  "context_truncated", "context_tokens_sent", "context_tokens_left_out", "changed_during_run",
                                  // What bounds a context-overflow retry to one, and where a failover went (an
                                  // outside attack: a run removed its own `context_retry`).
                                  "context_retry", "failover_to", "failover_note", "exit_code", "failure_reset"]

    /// The OS's records on a work note (a task, a handoff), protected there only (`to`, `from` and
    /// `task` are plain words a person's own notes use as keys): the task a handoff spends the cap
    /// and counts the handoffs of (`task`; a run that re-pointed it got a fresh cap and count each
    /// step), who it goes to and from, the record of its run, and the limits a person sets on it
    /// (`retries`, `timeout`, `budget_usd`, `context_tokens`: a run that set `retries: 100000` and
    /// `timeout: 1` on its own task ran itself again and again), and the `effects` that need a
    /// person's approval (an approved run cleared its task's, then handed off: the handoff, which
    /// carries the task's effects, ran unreviewed — an outside attack).
    static let workKeys = ["task", "from", "to", "attempts", "started", "finished", "duration_s", "run_id", "machine",
                           "retries", "timeout", "budget_usd", "context_tokens", "effects", "files"]

    /// The run id when `environment` belongs to a run (a non-empty `FBT_RUN_ID`).
    public static func runID(in environment: [String: String]) -> String? {
        guard let id = environment[environmentKey]?.trimmingWhitespacesAndNewlines(), !id.isEmpty else { return nil }
        return id
    }

    /// Whether a property key is protected. Compared trimmed and case-folded, so `Approved` or
    /// `status ` cannot slip past (YAML keys are case-sensitive, and the OS reads the exact keys,
    /// but a near-miss key is refused all the same: no run has a reason to write one).
    public static func isProtected(_ key: String) -> Bool {
        protectedKeys.contains(key.trimmingWhitespacesAndNewlines().lowercased())
    }

    /// A refused write: one line naming the run and what it may not do.
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        /// Why, in one line.
        public let description: String
    }

    /// Refuses reading `path` through the OS's tools from within run `runID` (`note show`, every
    /// MCP tool): an agent reads notes, not the OS's state nor the editor's or git's files. A folder
    /// or file whose name starts with "." (`.agentos/` holds the index, whose pages hold every note's
    /// text, private ones too, and the journal; `.obsidian/`, `.git/`, `.trash/`) and any file that
    /// is not a Markdown note (`.md`) are refused.
    public static func checkReadable(_ path: String, runID: String) throws(Refusal) {
        if path.split(separator: "/").contains(where: { $0.hasPrefix(".") || DiskName.fold(String($0)).hasPrefix(".") }) {
            throw Refusal(description: "\(path): refused from within run \(runID): folders and files whose name starts with '.' (the OS's state, the editor's settings, git) are not notes")
        }
        if !path.lowercased().hasSuffix(".md") {
            throw Refusal(description: "\(path): refused from within run \(runID): only Markdown notes (.md) are read and written through the OS's tools")
        }
    }

    /// The folders a run may not write, and what each holds: what routes and guards agents, what a
    /// harness loads as instructions, what new notes are made from, and the OS's own records.
    static let closedFolders: [(folder: String, holds: String)] = [
        (Vault.Layout.rules, "agents, routing, guardrails; ask a person"),
        (Vault.Layout.skills, "the skill harnesses load as instructions"),
        (Vault.Layout.templates, "what new notes are made from"),
        (Vault.Layout.results, "the OS's record of each run"),
        (Vault.Layout.telemetry, "the OS's log of runs"),
        (Vault.Layout.daily, "the OS's day log"),
        (Vault.Layout.privateFolder + "/" + Vault.Layout.telemetry, "the OS's log of private runs"),
        (Vault.Layout.privateFolder + "/" + Vault.Layout.daily, "the OS's day log of private work"),
        (Vault.Layout.memory + "/Conflicts", "the OS's copies of refused writes"),
    ]

    /// Refuses writing `path` at all from within run `runID`: what `checkReadable` refuses, and the
    /// `closedFolders` (compared ignoring case, as on a case-insensitive disk they are the same).
    public static func checkPath(_ path: String, runID: String) throws(Refusal) {
        try checkReadable(path, runID: runID)
        // A name a sync tool gives its conflicting copies: the watcher writes a conflict note for
        // each, and an agent made them by the dozen (round 48). Such copies come from sync tools.
        if let conflict = SyncConflict.parse(path) {
            throw Refusal(description: "\(path): refused from within run \(runID): that is how \(conflict.tool) names a conflicting copy, which only a sync tool makes")
        }
        let lowered = DiskName.fold(path)
        for (folder, holds) in closedFolders {
            let prefix = DiskName.fold(folder)
            if lowered == prefix || lowered.hasPrefix(prefix + "/") {
                throw Refusal(description: "\(path): refused from within run \(runID): a run may not change \(folder)/ (\(holds))")
            }
        }
    }

    /// Refuses a property edit that sets or removes a protected property.
    public static func checkProperties(set updates: [Property], unset removals: [String], path: String, runID: String) throws(Refusal) {
        let touched = updates.map(\.key).filter(isProtected) + removals.filter(isProtected)
        if let first = touched.first {
            throw refusal(path: path, key: first, runID: runID)
        }
    }

    /// Refuses a whole-text write whose protected properties differ from the note's current ones
    /// (`current` nil: a new note, which may hold none of them), or a change to a note in review.
    public static func checkText(_ new: [UInt8], replacing current: [UInt8]?, path: String, runID: String) throws(Refusal) {
        // A work note's records are protected when it is work before or after the change.
        let work = isWork(new, path: path) || current.map { isWork($0, path: path) } == true
        let newProtected = protectedProperties(new, work: work)
        let oldProtected = current.map { protectedProperties($0, work: work) } ?? []
        if newProtected != oldProtected {
            // Name a key that differs (the order changing alone is reported as the first key).
            let keys = Set(newProtected.map(\.key) + oldProtected.map(\.key)).sorted()
            let changed = keys.first { key in newProtected.filter { $0.key == key } != oldProtected.filter { $0.key == key } } ?? keys.first ?? "status"
            throw refusal(path: path, key: changed, runID: runID)
        }
        if let current { try checkNotInReview(current, path: path, runID: runID) }
        try checkNotNewWork(new, replacing: current, path: path, runID: runID)
        // Nor may work stop being work, or change kind: a run that set `type: note` on its own task
        // could then set its `retries` and `budget_usd` (protected on work notes only), and lost the
        // retry the watcher had queued (an outside attack).
        if let current, let was = TaskNote.kind(of: try? Note.parse(bytes: current), path: path),
           TaskNote.kind(of: try? Note.parse(bytes: new), path: path) != was {
            throw Refusal(description: "\(path): refused from within run \(runID): a run may not change what kind of note a \(was.rawValue) is ('type'); only a person does that")
        }
    }

    /// Refuses a write that would make a note work the OS runs (a task, a handoff: by its `type`, or
    /// by being new in `Tasks/` or `Handoffs/`) that was not work before. A run makes tasks with
    /// `task new` / `create_task` and handoffs with `handoff`, which record the run, mark what a
    /// private run makes private, and count against the task's budget and `max_handoffs`; a note
    /// written by hand would escape all three.
    /// The folder is judged in any case (`tasks/x.md` is `Tasks/x.md` on a case-insensitive disk,
    /// macOS's and Windows' default, where the watcher would run it as a task no run had made).
    public static func checkNotNewWork(_ new: [UInt8], replacing current: [UInt8]?, path: String, runID: String) throws(Refusal) {
        let path = workFolderSpelled(path)
        guard let kind = TaskNote.kind(of: try? Note.parse(bytes: new), path: path) else { return }
        if let current, TaskNote.kind(of: try? Note.parse(bytes: current), path: path) != nil { return }
        let tool = kind == .handoff ? "'fuckbigtech handoff' (MCP: handoff)" : "'fuckbigtech task new' (MCP: create_task)"
        throw Refusal(description: "\(path): refused from within run \(runID): a run makes a \(kind.rawValue) with \(tool), not by writing the note")
    }

    /// `path` with its top folder spelled as the vault's layout spells it when it is `Tasks`,
    /// `Handoffs` or `Templates` in another case.
    static func workFolderSpelled(_ path: String) -> String {
        guard let slash = path.firstIndex(of: "/") else { return path }
        let top = DiskName.fold(String(path[..<slash]))
        for folder in [Vault.Layout.tasks, Vault.Layout.handoffs, Vault.Layout.templates] where DiskName.fold(folder) == top {
            return folder + path[slash...]
        }
        return path
    }

    /// Refuses a write that would make a private note public: only a person declassifies. A run (a
    /// local agent, which may read private notes; a confused or prompt-injected one) that removed
    /// `privacy: private` or a private tag would hand the note to the next cloud packet. Judged by
    /// the note's own properties, tags and path before and after. A note whose frontmatter does not
    /// parse counts as private, before and after, as everywhere else: a run that rewrote
    /// `privacy: private` over a broken line into a clean public note would have declassified it.
    public static func checkStaysPrivate(_ new: [UInt8], replacing current: [UInt8]?, path: String, runID: String, guardrails: Guardrails) throws(Refusal) {
        guard let current else { return }
        let old = try? Note.parse(bytes: current)
        guard old.map({ Privacy.reason(note: $0, path: path, guardrails: guardrails) != nil }) ?? true else { return }
        guard let edited = try? Note.parse(bytes: new), Privacy.reason(note: edited, path: path, guardrails: guardrails) == nil else { return }
        let why = old == nil ? "the note's frontmatter does not parse, so it counts as private, and the change would make it public" : "the note is private and the change would make it public"
        throw Refusal(description: "\(path): refused from within run \(runID): \(why); only a person does that")
    }

    /// Refuses any change to a note that is waiting in review: what a person approves must be what
    /// the OS showed, not something a run rewrote in between. A work note a person approved is
    /// frozen the same way: its text is what was approved, and a handoff carries the effects its
    /// words ask for (an approved run rewrote "ship … to production" away, then handed off, and
    /// the handoff ran unreviewed — an outside attack).
    public static func checkNotInReview(_ current: [UInt8], path: String, runID: String) throws(Refusal) {
        guard let note = try? Note.parse(bytes: current), TaskNote.kind(of: note, path: path) != nil else { return }
        if TaskStatus(property: note.text("status")) == .review {
            throw Refusal(description: "\(path): refused from within run \(runID): the note is waiting for a person's review and may not be changed by a run")
        }
        if note["approved"]?.bool == true {
            throw Refusal(description: "\(path): refused from within run \(runID): a person approved this note as it is, and a run may not change it")
        }
    }

    /// The protected properties of a note's text in order (a note whose frontmatter does not parse
    /// has none the OS would read; the write itself is refused later for the bad frontmatter).
    static func protectedProperties(_ bytes: [UInt8], work: Bool = false) -> [Property] {
        guard let note = try? Note.parse(bytes: bytes) else { return [] }
        return note.properties.filter { isProtected($0.key) || (work && workKeys.contains(folded($0.key))) }
    }

    /// Whether a note's text makes it work the OS runs (a task or a handoff, as `TaskNote.kind` reads it).
    static func isWork(_ bytes: [UInt8], path: String) -> Bool {
        TaskNote.kind(of: try? Note.parse(bytes: bytes), path: path) != nil
    }

    /// A key as compared: trimmed and case-folded.
    static func folded(_ key: String) -> String { key.trimmingWhitespacesAndNewlines().lowercased() }

    static func refusal(path: String, key: String, runID: String) -> Refusal {
        let lowered = key.trimmingWhitespacesAndNewlines().lowercased()
        let what = lowered.hasPrefix("approved") ? "only a person approves"
            : lowered == ResultVerdict.property ? "only a person judges a run's result"
            : bookkeepingKeys.contains(lowered) || workKeys.contains(lowered) ? "the OS keeps it: guardrails count from it"
            : "only a person or the OS changes a note's status"
        return Refusal(description: "\(path): refused from within run \(runID): a run may not set or change '\(key)' (\(what))")
    }
}

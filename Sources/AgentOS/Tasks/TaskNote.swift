/// Where a task is in its lifecycle (DESIGN.md): `new → routed → running → done | failed | blocked | review`,
/// `review` + `approved: true` → runs, `status: new` re-runs, `status: cancelled` stops a running agent.
public enum TaskStatus: String, Sendable, CaseIterable {
    case new, routed, running, done, failed, blocked, review, cancelled
    /// Its agent hit a limit and the OS handed it to the next agent of its failover chain: the
    /// handoff note in `handoffs` carries it on, and this task ends as that handoff ends.
    case handedOff = "handed_off"
    /// Being written: the OS leaves it alone until a person sets `new` (or removes the status).
    case draft

    /// Reads a status property; absent or empty means `new`. Unknown words give `nil`.
    public init?(property: String?) {
        guard let text = property?.trimmingSpaces.lowercased(), !text.isEmpty else {
            self = .new
            return
        }
        self.init(rawValue: text)
    }
}

/// What kind of work note a note is.
public enum WorkKind: String, Sendable {
    case task, handoff
}

/// A task (or handoff) note as the OS reads it.
public struct TaskNote: Sendable {
    public let path: String
    public let snapshot: NoteSnapshot
    public let note: Note
    public let kind: WorkKind

    /// The status; `nil` when the note holds a word the lifecycle does not know, or a status it
    /// cannot read (`statusProblem`).
    public var status: TaskStatus? { statusProblem == nil ? TaskStatus(property: note.text("status")) : nil }
    /// Why the note's status cannot be read, or `nil`: a key written in another case or with spaces
    /// (`Status: draft`, read as no status, ran a half-written task: an outside attack), or a value
    /// that is not one word (`status: [draft]`).
    public var statusProblem: String? {
        if let other = note.properties.first(where: { $0.key != "status" && $0.key.trimmingWhitespaces().lowercased() == "status" }) {
            return "the status is written '\(other.key.trimmingWhitespaces()):'; write 'status:' in lower case"
        }
        if let value = note["status"], value != .null, value.text == nil {
            return "the status is not one word; write status: new, draft, review or cancelled"
        }
        // Read as the last of them, `status: new` above `status: draft` sat as a draft with no word
        // (round 148).
        // (JSON frontmatter is left out: the OS's own members go in front of a broken object's, a
        // `status` of its own among them, and the person's fix of their line is read after them.)
        if !note.isJSONFrontmatter, note.properties.filter({ $0.key == "status" }).count > 1 {
            return "the status is written twice; YAML allows a key once: keep one status: line"
        }
        return nil
    }
    /// The prompt: the body without Obsidian comments (`%% … %%`, which Obsidian hides when reading
    /// and the templates use for their instructions), trimmed.
    public var prompt: String { TaskNote.removingComments(note.body).trimmingWhitespacesAndNewlines() }
    /// Obsidian's title: the file name without `.md`.
    public var title: String { TaskNote.title(of: path) }
    /// Whether the note *says* `approved: true`. That is a claim, not an approval: see `approval`.
    public var isApproved: Bool { note["approved"]?.bool ?? false }
    /// The approval the OS verified for this run (`ApprovalCheck.verify`), if any; routing and the
    /// agent's write permissions follow this, never the note's own `approved` property.
    public var approval: Approval? = nil

    /// A work note read from `snapshot` at `path`, of `kind`.
    public init(path: String, snapshot: NoteSnapshot, note: Note, kind: WorkKind, approval: Approval? = nil) {
        self.path = path
        self.snapshot = snapshot
        self.note = note
        self.kind = kind
        self.approval = approval
    }

    public var attempts: Int { note["attempts"]?.wholeNumber ?? 0 }
    /// How many times an interrupted run may be retried (`retries` property, default 0).
    public var retries: Int { max(0, note["retries"]?.wholeNumber ?? 0) }
    /// Why the note is not ready to run yet, if it is not: an empty prompt (a note just made from
    /// the template), or a handoff that names no agent in `to`.
    public var notReadyReason: String? {
        if prompt.isEmpty { return "no prompt yet" }
        // A template's empty sections (`## Done`, `## Left to do`) are not a prompt.
        if prompt.split(whereSeparator: \.isNewline).allSatisfy(TaskNote.isHeading) {
            return "no prompt yet (only empty headings)"
        }
        if kind == .handoff, note.text("to") == nil { return "the handoff names no agent in 'to'" }
        return nil
    }

    /// The task's own timeout in seconds, if set.
    public var timeout: Double? { note["timeout"]?.number }

    /// Why the note's `timeout` or `retries` cannot be used, or `nil`. Read as nothing, `timeout:
    /// soon` was dropped without a word, and `timeout: -5` started the agent, stopped it at once
    /// and ran it again (a new user's check, round 50). The task does not run until it is fixed.
    public var propertyProblem: String? {
        if let value = note["timeout"], value != .null {
            guard let seconds = value.number, seconds.isFinite, seconds >= 1 else {
                return "timeout: \(value.text.map { "'\($0)'" } ?? "(a list)") is not a number of seconds of 1 or more; write a number such as timeout: 600, or remove it"
            }
        }
        if let value = note["retries"], value != .null {
            guard let count = value.wholeNumber, count >= 0, count <= 100, value.number == Double(count) else {
                return "retries: \(value.text.map { "'\($0)'" } ?? "(a list)") is not a whole number from 0 to 100; write a number such as retries: 1, or remove it"
            }
        }
        // A key written twice was read as its last line: `effects: [delete]` above `effects: [read]`
        // ran with no review (round 148). YAML allows a key once; neither line is taken. In JSON
        // frontmatter the OS's own keys are let be (see `statusProblem`); the person's are not
        // (round 149: `"effects"` twice ran unreviewed).
        var seen = Set<String>()
        for property in note.properties where !seen.insert(property.key).inserted && !(note.isJSONFrontmatter && TaskEngine.lifecycleKeys.contains(property.key)) {
            return "'\(property.key):' is written twice; a key counts once: keep one"
        }
        // A list or a map where one name belongs (`agent: [claude]`, as Obsidian writes a list
        // property) was read as no agent, and routing chose another without a word (round 148).
        for key in ["agent", "lane", "model"] {
            if let value = note[key], value != .null, value.text == nil {
                return "\(key): (a list or a map) is not one name; write it as \(key): NAME"
            }
        }
        // Written in another case (`Timeout: 5`), the property was read as none.
        for key in ["timeout", "retries", "agent", "lane", "model", "effects", "budget_usd", "context", "project", "to", "task", "context_tokens"] {
            if let other = note.properties.first(where: { $0.key != key && $0.key.trimmingWhitespaces().lowercased() == key }) {
                return "'\(other.key.trimmingWhitespaces()):' is read as no \(key); write '\(key):' in lower case"
            }
        }
        return nil
    }

    /// Decides whether a note is work for the OS: `type: task` / `type: handoff`, or a note without a
    /// `type` under `Tasks/` / `Handoffs/` (folder READMEs carry another type and are left alone).
    public static func kind(of note: Note?, path: String) -> WorkKind? {
        // Templates carry `type: task` for Obsidian's Templates plugin; they are never work.
        if path.hasPrefix(Vault.Layout.templates + "/") { return nil }
        // A sync tool's conflicting copy repeats a task's text: running it would run the task twice.
        if SyncConflict.isCopy(path) { return nil }
        if let type = note?.text("type")?.lowercased() {
            return WorkKind(rawValue: type)
        }
        if path.hasPrefix(Vault.Layout.tasks + "/") { return .task }
        if path.hasPrefix(Vault.Layout.handoffs + "/") { return .handoff }
        return nil
    }

    /// Why a note is not work the OS runs (in words that say what to change), or `nil` when it is.
    public static func notWorkReason(of note: Note?, path: String) -> String? {
        if path.hasPrefix(Vault.Layout.templates + "/") { return "it is a template (notes under \(Vault.Layout.templates)/ never run)" }
        if let conflict = SyncConflict.parse(path) {
            return "it is a \(conflict.toolName) conflicting copy of \(conflict.original) (copies never run; see \(conflict.notePath))"
        }
        if let type = note?.text("type"), WorkKind(rawValue: type.lowercased()) == nil {
            return "its type is \(type); only notes with type: task or type: handoff (or no type, under \(Vault.Layout.tasks)/ or \(Vault.Layout.handoffs)/) run"
        }
        if kind(of: note, path: path) == nil {
            return "it is not under \(Vault.Layout.tasks)/ or \(Vault.Layout.handoffs)/ and has no type: task; move it there or add type: task"
        }
        return nil
    }

    /// Why the OS will not run a work note now (a draft, waiting for review, already running or done),
    /// or `nil` when it would run it. `runs` (when there is a run store) tells a running one.
    public static func notRunnableReason(path: String, snapshot: NoteSnapshot, note: Note, runs: RunStore?) -> String? {
        if let why = notWorkReason(of: note, path: path) { return why }
        let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: kind(of: note, path: path) ?? .task)
        if let active = (try? runs?.activeRun(taskPath: path)) ?? nil {
            return "it is already running (run id \(active.runID)); set status: cancelled to stop it"
        }
        switch task.status {
        case .draft?: return "its status is draft; set status: new to run it"
        case .review?: return "it waits for review; a person sets approved: true to run it"
        case .done?: return "it is already done; set status: new to run it again"
        case .new?: return task.notReadyReason.map { "it is not ready: \($0)" } ?? task.propertyProblem
        case nil: return task.statusProblem ?? "it has an unknown status '\(TaskNote.visible(note.text("status") ?? ""))'; use new, draft, review or cancelled"
        case let status?: return "its status is \(status.rawValue); set status: new to run it again"
        }
    }

    /// Whether a path could hold work without reading it (for malformed notes, where the type is unreadable).
    public static func isInWorkFolder(_ path: String) -> Bool {
        !path.hasPrefix(Vault.Layout.templates + "/") && path.hasPrefix(Vault.Layout.tasks + "/") || path.hasPrefix(Vault.Layout.handoffs + "/")
    }

    /// A value as an error quotes it, with the characters a reader cannot see named: `status:
    /// draft` with a no-break space before `draft` was quoted as `' draft'`, which looks right
    /// (round 148). Spaces other than U+0020, format characters (zero-width, bidirectional
    /// marks) and controls are shown as `<U+00A0>`.
    public static func visible(_ value: String) -> String {
        var shown = ""
        for scalar in value.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .spaceSeparator where scalar != " ", .format, .control, .lineSeparator, .paragraphSeparator:
                shown += String(format: "<U+%04X>", scalar.value)
            default:
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

    /// Whether a line is a Markdown heading (`## Done`), not text (`#tag` is a tag, not a heading).
    static func isHeading(_ line: Substring) -> Bool {
        let hashes = line.prefix { $0 == "#" }
        return (1...6).contains(hashes.count) && line.dropFirst(hashes.count).first == " "
    }

    /// `text` without Obsidian comments (`ObsidianComments`: not inside code; an unclosed `%%` hides
    /// the rest, as in Obsidian).
    public static func removingComments(_ text: String) -> String {
        ObsidianComments.removing(from: text)
    }

    public static func title(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return name.hasSuffix(".md") ? String(name.dropLast(3)) : name
    }
}

import Foundation

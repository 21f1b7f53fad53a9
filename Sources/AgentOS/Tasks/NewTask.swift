import Foundation

/// A task note asked for from outside the vault's editor (`task new`, an agent calling back): the
/// prompt and the properties to give it. `write` makes `Tasks/TITLE.md`, born `status: new`.
public struct NewTask: Sendable {
    /// The task's prompt, its body.
    public var prompt: String
    /// The note's title; `nil` takes the prompt's first words.
    public var title: String?
    /// `agent`, `lane` and `model` properties, when given.
    public var agent: String?
    public var lane: String?
    public var model: String?
    /// Marks the task `privacy: private`.
    public var isPrivate = false
    /// The `effects` list, when given.
    public var effects: [String]?
    /// Notes for the `context` list: links (`[[Note]]`) or names, which become links.
    public var context: [String] = []
    /// The agent run asking for it (`FBT_RUN_ID`, or the run an MCP server serves), if any: a task
    /// made in a private run is private (`Privacy.reason(ofRun:vault:)`).
    public var madeInRun: String?

    /// A task with this prompt and nothing else set.
    public init(prompt: String) {
        self.prompt = prompt
    }

    /// The title a task gets when none is given: the prompt's first eight words, at most 60 characters.
    public static func defaultTitle(_ prompt: String) -> String {
        let words = prompt.split(whereSeparator: { $0.isWhitespace }).prefix(8).joined(separator: " ")
        return words.count > 60 ? String(words.prefix(60)) : words
    }

    /// Writes the note (a second task with the same title gets " 2", " 3"…) and returns its path.
    /// `environment` tells whether an agent run asks (`FBT_RUN_ID`): the note then says so.
    public func write(vault: Vault, environment: [String: String]) throws -> String {
        // An agent no note defines fails now, as a handoff to one does, not later in the watcher.
        if let agent, let routing = try? VaultRouting(vault: vault), routing.ruleBook.agent(named: agent) == nil {
            throw NewTaskError.noSuchAgent(agent)
        }
        // So does a lane that is none of the four (the note was written, and the watcher blocked it).
        if let lane, Lane(note: lane) == nil { throw NewTaskError.noSuchLane(lane) }
        let trimmed = prompt.trimmingWhitespacesAndNewlines()
        // `created`: when it was made, as Obsidian's templates write it; an editor's old copy of an
        // earlier task of the same text keeps that task's, so the watcher tells the two apart.
        var props: [Property] = [Property("type", .string("task")), Property("status", .string("new")), Property("created", .datetime(LocalTime.dateTime(Date())))]
        for (key, value) in [("agent", agent), ("lane", lane), ("model", model)] {
            if let value { props.append(Property(key, .string(value))) }
        }
        if isPrivate || madeInRun.flatMap({ Privacy.reason(ofRun: $0, vault: vault) }) != nil { props.append(Property("privacy", .string("private"))) }
        if let effects { props.append(Property("effects", .list(effects.map { .string($0) }))) }
        if let runID = RunWriteGuard.runID(in: environment) {
            // Made by an agent: said so in the note. It is born `status: new` and never approved,
            // like every task; what it may do is decided by routing and a person, not by its author.
            props.append(Property("created_by_run", .string(runID)))
        }
        if !context.isEmpty {
            props.append(Property("context", .list(context.map { .string($0.hasPrefix("[[") ? $0 : "[[\($0)]]") })))
        }
        // Work agents make is bounded in number as well as depth (`SpawnLimit`).
        let madeBy = madeInRun ?? RunWriteGuard.runID(in: environment)
        let madeByAgent = madeBy != nil
        if let runID = madeBy { try SpawnLimit.count(madeBy: runID, vault: vault) }
        let store = NoteStore(vault: vault)
        let text = try FrontmatterEditor.apply(set: props, to: "") + trimmed + "\n"
        let base = NoteName.sanitize(title ?? NewTask.defaultTitle(trimmed))
        var path = Vault.Layout.tasks + "/" + base + ".md"
        // A name a sync tool gives its conflicting copies is never run, and the watcher writes a
        // conflict note for it (round 49: a run made them by the dozen with `task new`).
        // So is a title that a next free name (` 2`) makes one (round 50: `Foo.sync-conflict-…-123456-`).
        if let conflict = SyncConflict.parse(path) ?? SyncConflict.parse(Vault.Layout.tasks + "/" + base + " 2.md") {
            throw NewTaskError.conflictName(base, tool: conflict.tool)
        }
        // The next free name, taken by creating it: another `task new` or `create_task` of the same
        // title at the same moment takes a name between a look and the write, and this one then
        // goes on to the next (it was refused with "already exists", and 16 of 20 prompts made at
        // once were lost: round 46).
        // An agent's task does not take a name links already open elsewhere by (`Tasks/Plan.md` took
        // `[[Plan]]` in `Tasks/Use.md` from `Memory/Plan.md`: round 130); it goes on to the next.
        let takes = madeByAgent ? NewTask.takesLinks(vault: vault, environment: environment) : { _ in false }
        var n = 2
        while true {
            do {
                if takes(path) { throw NoteWriteError.conflict(path: path, expected: .absent, found: nil) }
                try store.create(text, at: path, refusingTwins: true)
                return path
            } catch {
                guard case .conflict? = error as? NoteWriteError else { throw error }
                path = Vault.Layout.tasks + "/" + base + " \(n).md"
                n += 1
                if let conflict = SyncConflict.parse(path) { throw NewTaskError.conflictName(base, tool: conflict.tool) }
            }
        }
    }
}

extension NewTask {
    /// Whether a note made at a path would change what a link opens (`MemoryIndex.linksTaken`), for
    /// links between notes the maker may see (`NoteVisibility`: a private one is not told).
    static func takesLinks(vault: Vault, environment: [String: String]) -> (String) -> Bool {
        guard let index = (try? MemoryIndex.openForReading(vault: vault)) ?? nil else { return { _ in false } }
        let visibility = NoteVisibility(vault: vault, environment: environment)
        let visible: ((String) -> Bool)? = visibility.hiddenBecause == nil ? nil : { visibility.shows($0) }
        return { path in !((try? index.linksTaken(byNewNoteAt: path, visible: visible)) ?? []).isEmpty }
    }
}

/// Why `task new` wrote no note.
public enum NewTaskError: Error, CustomStringConvertible, Equatable {
    /// `--agent` names no agent note.
    case noSuchAgent(String)
    /// `--lane` names no lane.
    case noSuchLane(String)
    /// The title is named as a sync tool names a conflicting copy.
    case conflictName(String, tool: String)

    public var description: String {
        switch self {
        case .noSuchAgent(let name): return "no agent note in Rules/ defines an agent named '\(name)'; 'fuckbigtech agent list' shows the agents"
        case .noSuchLane(let name): return "'\(name)' is not a lane; the lanes are \(Lane.spelledOut)"
        case .conflictName(let title, let tool): return "'\(title)' is how \(tool) names a conflicting copy, which the watcher never runs; choose another --title"
        }
    }
}

import Foundation

/// A handoff asked for from outside the watcher (`fuckbigtech handoff`, an agent calling back):
/// who hands off to whom, for which task, with what message and context notes.
public struct HandoffRequest: Sendable {
    /// Who hands off (an agent's name, or a person).
    public var from: String
    /// The agent that takes over.
    public var to: String
    /// The original task as the caller named it (a path, with or without `.md`); `nil` for none.
    public var task: String?
    /// What was done and what is left: the handoff note's body.
    public var message: String
    /// Notes for the `context` list (links or paths).
    public var context: [String]
    /// The agent run asking for it, if any: a handoff made in a private run is private
    /// (`Privacy.reason(ofRun:vault:)`), whichever task it names or none.
    public var madeInRun: String?
    /// Why the caller may not see private notes (`NoteVisibility.hiddenBecause`), or `nil`: the
    /// results of the task's chain it is handed are then only those it may see.
    public var hidingPrivate: String?

    /// A request with these fields.
    public init(from: String, to: String, task: String? = nil, message: String, context: [String] = [], madeInRun: String? = nil) {
        self.madeInRun = madeInRun
        self.from = from
        self.to = to
        self.task = task
        self.message = message
        self.context = context
    }

    /// Writes the handoff note (see `Handoffs.create`) and routes it at once, as the watcher will:
    /// when the guardrails forbid it (private work to a cloud agent) the note is set `blocked` with
    /// the reason here, so it never waits for a watcher that would refuse it.
    public func submit(vault: Vault) throws -> HandoffSubmission {
        var taskPath: String?
        let store = NoteStore(vault: vault)
        if let task {
            let (_, relative) = try vault.resolveUserPath(task.hasSuffix(".md") ? task : task + ".md")
            guard (try store.readIfPresent(relative)) != nil else {
                // Inside a run, a missing note is no more the run's task than another: the answer a
                // note the run may not name gets (a different one told a private note from a missing one).
                if let runID = madeInRun { throw HandoffError.notThisRunsTask(relative, run: runID) }
                // A person is shown a close name; a caller that may not see private notes is not.
                if hidingPrivate == nil, let close = HandoffRequest.closeName(to: relative, vault: vault) { throw HandoffError.noSuchTaskButClose(relative, close) }
                throw HandoffError.noSuchTask(relative)
            }
            // A template, an agent note, a result: no task for a handoff to continue.
            if let read = try store.readIfPresent(relative), let why = TaskNote.notWorkReason(of: try? Note.parse(bytes: read.bytes), path: relative) {
                if let runID = madeInRun { throw HandoffError.notThisRunsTask(relative, run: runID) }
                throw HandoffError.notATask(relative, why)
            }
            taskPath = relative
        } else if let runID = madeInRun, let record = RunStore.known(runID, vault: vault), (try? store.readIfPresent(record.taskPath)) ?? nil != nil {
            // Made in a run without naming a task: it continues the run's task.
            taskPath = record.taskPath
        }
        // A handoff of a handoff continues the original task: one chain, one budget, one count.
        func note(_ path: String) -> Note? { (try? store.readIfPresent(path)).flatMap { $0 }.flatMap { try? Note.parse(bytes: $0.bytes) } }
        if let given = taskPath, let read = note(given), TaskNote.kind(of: read, path: given) == .handoff,
           let original = Handoffs.taskPath(of: read, vault: vault, from: given) {
            taskPath = original
        }
        // A run the vault does not know (an `FBT_RUN_ID` made up) has no work of its own to hand on:
        // naming a person's task would spend its budget and its handoffs (fail closed).
        if let runID = madeInRun, let given = taskPath, RunStore.known(runID, vault: vault) == nil {
            throw HandoffError.notThisRunsTask(given, run: runID)
        }
        // Inside a run, a handoff continues the run's own work: naming some other note as its task
        // (one the agent just wrote, say) would start a fresh budget and a fresh count.
        if let runID = madeInRun, let record = RunStore.known(runID, vault: vault), let given = taskPath,
           let ran = note(record.taskPath), let named = note(given),
           !Vault.samePath(Handoffs.lineageTask(of: ran, at: record.taskPath, vault: vault), Handoffs.lineageTask(of: named, at: given, vault: vault)) {
            throw HandoffError.notThisRunsTask(given, run: runID)
        }
        guard (try? FileSystem.status(vault.root)) ?? nil != nil else { throw HandoffError.noVault(vault.root) }
        // Who hands off and to whom go into the handoff's name, the task's `handoffs` list and the
        // day's log, which every agent reads: inside a run they are agent names the vault defines,
        // never an agent's free text (a private run's agent wrote a private note's words there).
        // Checked before anything is written, with the rule book the routing below judges by.
        let routing = try VaultRouting(vault: vault)
        let agents = routing.ruleBook
        // Written as the agent note names it: the letters' case as typed was a channel of its own.
        guard let to = agents.agent(named: to)?.name else { throw HandoffError.noSuchAgent(to) }
        if let runID = madeInRun {
            let runAgent = RunStore.known(runID, vault: vault)?.agent
            if let runAgent, from != runAgent { throw HandoffError.notThisRunsAgent(from, run: runID, agent: runAgent) }
            if runAgent == nil, agents.agent(named: from) == nil { throw HandoffError.noSuchAgent(from) }
        }
        // Work agents make is bounded in number as well as depth (`SpawnLimit`).
        if let runID = madeInRun { try SpawnLimit.count(madeBy: runID, vault: vault) }
        // The next agent continues from what was answered: the results of the task's chain go in
        // its context (a handoff's packet held the task's text and the handoff's message only, and
        // the first agent's answer was a name in a day line: a tour). A private one makes the
        // handoff private, as any context note does; a caller that may not see private notes is not
        // handed one (its handoff would be named private for it).
        var context = self.context
        if let taskPath {
            let store = NoteStore(vault: vault)
            let guardrails = agents.guardrails
            for result in Handoffs.chainResults(of: taskPath, vault: vault) where !context.contains(result) && !context.contains(TelemetryWriter.link(result)) {
                if hidingPrivate != nil, Privacy.reason(ofNoteAt: result, store: store, guardrails: guardrails) != nil { continue }
                context.append(result)
            }
        }
        let path = try Handoffs.create(vault: vault, from: from, to: to, taskPath: taskPath, message: message, context: context, madeInRun: madeInRun)

        // The same judgement the watcher makes: the handoff's own facts, plus every private note its
        // context packet would carry.
        let snapshot = try store.read(path)
        let note = try Note.parse(bytes: snapshot.bytes)
        let book = routing.ruleBook
        var facts = TaskFacts.from(note: note, path: path, vault: vault, ruleBook: book)
        facts.agent = to
        let packet = routing.contextPacket(for: TaskNote(path: path, snapshot: snapshot, note: note, kind: .handoff), book: book)
        for source in packet.privateSources where source != path && !facts.privateSources.contains(source) { facts.privateSources.append(source) }
        var decision = Router(book: book).decide(facts, prompt: packet.text, spend: nil)
        // Agents handing a task to each other, or one to itself, must not loop for ever: past the
        // guardrails' `max_handoffs`, a person hands it on.
        if let why = Handoffs.pastMaxHandoffs(of: note, at: path, vault: vault, max: book.guardrails.maxHandoffs) {
            decision.action = .blocked(why)
        }
        if case .blocked(let why) = decision.action {
            try store.updateProperties(path, set: [Property("status", .string("blocked")), Property("error", .string(why))] + decision.properties)
        }
        // The agent it goes to is cooling down: the watcher moves it along that agent's chain,
        // never back to its sender, or holds it in review. Said now, not left to the log (a tour:
        // `handoff` exited 0 and the work went back to the agent that handed it off).
        var cooling: String?
        if case .run = decision.action, let cooldown = routing.cooldownsByAgent()[to.lowercased()] {
            cooling = "\(cooldown.summary); the watcher gives the handoff to the next agent of its failover chain other than \(from), or holds it in review until then"
        }
        return HandoffSubmission(path: path, decision: decision, note: cooling)
    }
}

extension HandoffRequest {
    /// The one note in the folder of `path` whose name begins the name given, or that the name
    /// given begins (letter case aside): "Tasks/Review the design of the retry logic in the sync
    /// client.md" for the note `task new` named "Tasks/Review the design of the retry logic in.md".
    static func closeName(to path: String, vault: Vault) -> String? {
        let folder = LinkResolver.folder(of: path)
        let given = NoteScanner.title(ofPath: path).lowercased()
        guard given.count >= 8, let entries = try? FileSystem.list(vault.root + (folder.isEmpty ? "" : "/" + folder)) else { return nil }
        let close = entries.filter { $0.kind == .file && $0.name.hasSuffix(".md") }.map { String($0.name.dropLast(3)) }.filter { name in
            let lowered = name.lowercased()
            return lowered.count >= 8 && (given.hasPrefix(lowered) || lowered.hasPrefix(given))
        }
        guard close.count == 1 else { return nil }
        return (folder.isEmpty ? "" : folder + "/") + close[0] + ".md"
    }
}

/// A handoff note written by `HandoffRequest.submit`, and how routing judged it.
public struct HandoffSubmission: Sendable {
    /// The new note's vault path.
    public let path: String
    /// The routing decision; a blocked one has already been recorded on the note.
    public let decision: RoutingDecision
    /// What the person should know that does not stop the handoff (the agent it goes to is
    /// cooling down), or `nil`.
    public var note: String? = nil

    /// Why the guardrails block the handoff, or `nil` when a watcher will run it.
    public var blockedReason: String? {
        if case .blocked(let why) = decision.action { return why }
        return nil
    }
}

/// Why a handoff could not be written.
public enum HandoffError: Error, CustomStringConvertible, Equatable {
    /// The task named does not exist (its vault path).
    case noSuchTask(String)
    /// The note named is no task or handoff note (its vault path, and why).
    case notATask(String, String)
    /// The task named does not exist, and one note of its folder has a name that begins the one
    /// given, or that the one given begins (`task new` shortens a long prompt to a name).
    case noSuchTaskButClose(String, String)
    /// The vault folder does not exist (its root).
    case noVault(String)
    /// Inside run `run`, the task named is not the run's (nor of its chain).
    case notThisRunsTask(String, run: String)
    /// No agent note defines the agent named (`--to`, or `--from` in a run the vault does not know).
    case noSuchAgent(String)
    /// Inside run `run`, `--from` names another agent than the run's.
    case notThisRunsAgent(String, run: String, agent: String)

    /// One line, as `handoff` prints it.
    public var description: String {
        switch self {
        case .noSuchTask(let path): return "\(path): no such task note"
        case .notATask(let path, let why): return "\(path): not a task or handoff note, so no handoff continues it: \(why)"
        case .noSuchTaskButClose(let path, let close): return "\(path): no such task note; did you mean '\(close)'? (task new names a note after the first words of its prompt)"
        case .noVault(let root): return "no vault at \(root); run 'fuckbigtech init' first"
        case .notThisRunsTask(let path, let runID): return "\(path) is not the task of run \(runID): a handoff made in a run continues the run's task (leave out --task); start other work with 'task new'"
        case .noSuchAgent(let name): return "no agent note in Rules/ defines an agent named '\(name)'; 'fuckbigtech agent list' shows the agents"
        case .notThisRunsAgent(let name, let runID, let agent): return "run \(runID) is \(agent)'s: a handoff made in it is from \(agent), not '\(name)'"
        }
    }
}

import Foundation

/// Handoff notes: one agent (or person) passes a job to another with what was done and what is left.
public enum Handoffs {
    /// Creates `Handoffs/<date> <from> to <to> — <task title>.md` from the Handoff template's fields,
    /// records it on the original task's `handoffs` list, and logs it in the daily note.
    /// Returns the new note's path. `madeInRun` is the agent run that asks for it, if any: a handoff
    /// made in a private run is private.
    ///
    /// `exactPath` writes it there instead, once: when a note is there already (an earlier attempt
    /// that stopped half-way) that note is kept and recorded, and no second daily line is written —
    /// the failover's handoff is named after its run so that a restart can never make two.
    /// `extra` properties go into its frontmatter (a failover's chain and reason).
    /// The result notes of a task's chain that exist, as vault paths: the task's own latest result,
    /// then those of its handoffs (`handoffs`, in order); at most the last `limit`.
    static func chainResults(of taskPath: String, vault: Vault, limit: Int = 6) -> [String] {
        let store = NoteStore(vault: vault)
        func note(_ path: String) -> Note? { (try? store.readIfPresent(path)).flatMap { $0 }.flatMap { try? Note.parse(bytes: $0.bytes) } }
        guard let task = note(taskPath) else { return [] }
        let links = LinkResolver(vault: vault)
        func path(_ written: String, from source: String) -> String? {
            guard let link = WikiLink.parse(written) ?? WikiLink.parse("[[" + written + "]]") else { return nil }
            return links.resolve(link, from: source).path
        }
        var results: [String] = []
        func add(_ written: String?, from source: String) {
            guard let written, let found = path(written, from: source), found.hasPrefix(Vault.Layout.results + "/"), !results.contains(found) else { return }
            results.append(found)
        }
        add(task.text("result"), from: taskPath)
        for handoff in task.texts("handoffs") {
            guard let handoffPath = path(handoff, from: taskPath), let read = note(handoffPath) else { continue }
            add(read.text("result"), from: handoffPath)
        }
        return Array(results.suffix(limit))
    }

    public static func create(vault: Vault, from: String, to: String, taskPath: String?, message: String, context: [String], now: Date = Date(),
                              exactPath: String? = nil, extra: [Property] = [], madeInRun: String? = nil) throws -> String {
        let store = NoteStore(vault: vault)
        var props: [Property] = [
            Property("type", .string("handoff")),
            Property("from", .string(from)),
            Property("to", .string(to)),
        ]
        if let taskPath { props.append(Property("task", .string(TelemetryWriter.link(taskPath)))) }
        props.append(Property("status", .string("new")))
        props.append(Property("context", .list(context.map { .string($0.hasPrefix("[[") ? $0 : TelemetryWriter.link($0)) })))
        props.append(Property("created", .datetime(LocalTime.dateTime(now))))
        // Taint follows the data: a handoff of private work (a private task, a private note in its
        // context, a private tag in the message) is private itself, and its name, the task's `handoffs`
        // list aside, carries no private title.
        let isPrivate = privacyReason(vault: vault, taskPath: taskPath, context: context, message: message) != nil
            || madeInRun.flatMap { Privacy.reason(ofRun: $0, vault: vault) } != nil
        if isPrivate { props.append(Property("privacy", .string("private"))) }
        // The task's effects go with it, as on a failover — those it declares and those its words
        // ask for (`EffectsInference`): work that waits for a person's approval does not run
        // unreviewed by being handed on with a message that avoids the words (an outside attack).
        if let taskPath, !extra.contains(where: { $0.key == "effects" }),
           let original = (try? store.readIfPresent(taskPath)).flatMap({ $0 }).flatMap({ try? Note.parse(bytes: $0.bytes) }) {
            var effects = original.texts("effects")
            let words = (original.text("title") ?? TaskNote.title(of: taskPath)) + "\n" + original.body
            for found in EffectsInference.infer(words) where !effects.contains(found.effect) { effects.append(found.effect) }
            if !effects.isEmpty { props.append(Property("effects", .list(effects.map { .string($0) }))) }
        }
        props += extra
        let body = message.trimmingWhitespacesAndNewlines() + "\n"
        let text = try FrontmatterEditor.apply(set: props, to: "") + body

        let subject = isPrivate ? "" : (taskPath.map { " — " + TaskNote.title(of: $0) } ?? "")
        let stamp = LocalTime.dateTime(now).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "T", with: " ")
        // A private handoff's name is linked from its task's `handoffs`, which may be public: it
        // holds the time and the agent it goes to only (`to` names an agent note; `from` may be a
        // person's words).
        let base = NoteName.sanitize(isPrivate ? "\(stamp) private handoff to \(to)" : "\(stamp) \(from) to \(to)\(subject)")
        var path = exactPath ?? (Vault.Layout.handoffs + "/" + base + ".md")
        if exactPath != nil {
            do {
                try store.create(text, at: path)
            } catch {
                guard case .conflict? = error as? NoteWriteError, try store.readIfPresent(path) != nil else { throw error }
                if let taskPath { try recordOnTask(vault: vault, taskPath: taskPath, handoffPath: path) }
                return path
            }
        }
        var n = 2
        while exactPath == nil {
            do {
                try store.create(text, at: path, refusingTwins: true)
                break
            } catch {
                guard case .conflict? = error as? NoteWriteError else { throw error }
                path = Vault.Layout.handoffs + "/" + base + " \(n).md"
                n += 1
            }
        }
        if let taskPath { try recordOnTask(vault: vault, taskPath: taskPath, handoffPath: path) }
        let telemetry = TelemetryWriter(store: store)
        let time = String(LocalTime.time(now).prefix(5))
        let fullLine = "- \(time) handoff \(TelemetryWriter.link(path)): \(from) → \(to)" + (taskPath.map { " for \(TelemetryWriter.link($0))" } ?? "")
        if isPrivate {
            // The public daily log (sent to agents) gets no title, link or name; the full line is kept privately.
            try telemetry.appendDaily("- \(time) private handoff", at: now)
            try telemetry.appendPrivateDaily(fullLine, at: now)
        } else {
            try telemetry.appendDaily(fullLine, at: now)
        }
        return path
    }

    /// Why a handoff made from this task, context and message would be private, or `nil`: the task is
    /// private (itself or a private note it pulls in), a context note is private, or the message holds
    /// a private tag. Unreadable notes count as private.
    public static func privacyReason(vault: Vault, taskPath: String?, context: [String], message: String) -> String? {
        let book = RuleBook.load(vault: vault)
        let guardrails = book.guardrails
        let store = NoteStore(vault: vault)
        let links = LinkResolver(vault: vault)
        if let tagged = Privacy.reason(path: nil, privacy: nil, tags: TaskFacts.inlineTags(in: message), guardrails: guardrails) { return tagged }
        if let taskPath {
            if let why = Privacy.reason(ofNoteAt: taskPath, store: store, guardrails: guardrails) { return why }
            if let snapshot = try? store.readIfPresent(taskPath), let note = try? Note.parse(bytes: snapshot.bytes) {
                let facts = TaskFacts.from(note: note, path: taskPath, vault: vault, ruleBook: book, links: links)
                if let why = Privacy.reason(for: facts, guardrails: guardrails) { return why }
            }
        }
        for link in context.compactMap(WikiLink.parse) {
            for candidate in links.resolve(link, from: taskPath).judged {
                if let why = Privacy.reason(ofNoteAt: candidate, store: store, guardrails: guardrails) { return "context \(candidate): \(why)" }
            }
        }
        for link in WikiLink.links(in: message) {
            for candidate in links.resolve(link, from: taskPath).judged {
                if let why = Privacy.reason(ofNoteAt: candidate, store: store, guardrails: guardrails) { return "links \(candidate): \(why)" }
            }
        }
        return nil
    }

    /// Adds a handoff to the task's `handoffs` list (once), by `update`: an append, which a lost
    /// race never makes wrong, so it is retried 32 times, not 8 (a run that handed off 12 parts
    /// at once had 7 of them lose eight races in a row to the others, and go unlisted: an outside
    /// test). A task that is gone, or that kept changing through every retry, is left as it is.
    public static func recordOnTask(vault: Vault, taskPath: String, handoffPath: String) throws {
        // Only a work note records its chain, never the handoff itself: a handoff whose `task` named
        // a template, an agent note or a result had the OS write `handoffs:` into it (every note made
        // from that template then carried the line: an outside attack).
        guard !Vault.samePath(taskPath, handoffPath) else { return }
        let store = NoteStore(vault: vault)
        let link = TelemetryWriter.link(handoffPath)
        do {
            try store.update(taskPath, attempts: 32, waitingForWriters: 30) { snapshot in
                guard let snapshot else { return .keep }
                let note = try Note.parse(bytes: snapshot.bytes)
                guard TaskNote.notWorkReason(of: note, path: taskPath) == nil else { return .keep }
                var chain = note.texts("handoffs")
                if chain.contains(link) { return .keep }
                chain.append(link)
                return .write(try FrontmatterEditor.apply(set: [Property("handoffs", .list(chain.map { .string($0) }))], to: snapshot.bytes))
            }
        } catch let error as NoteWriteError {
            guard case .conflict = error else { throw error }
        }
    }

    /// The task whose `budget_task_usd` a run of the note at `path` counts against: for a handoff,
    /// its original task (`task:`), so that handing a task on — to another agent, or to the same one
    /// again and again — spends from the one cap the task has; else the note itself. A failover the
    /// OS wrote (its agent hit a limit, a rate, a bad key) has a cap of its own: the failed run was
    /// charged its whole reservation when its cost was unknown, and counting that against the task
    /// would stop the work moving. Only the OS writes one: the failed run's record names this very
    /// note (`isFailover`), which a note written by hand cannot make so.
    /// A task an agent made from inside a run (`created_by_run`) counts against the cap of the task
    /// that run was for, as a handoff does: spawning a new task from every run is no way round it.
    public static func budgetTask(of note: Note, at path: String, vault: Vault) -> String {
        switch TaskNote.kind(of: note, path: path) {
        case .handoff?:
            guard !isFailover(note, at: path, vault: vault), let original = taskPath(of: note, vault: vault, from: path) else { return path }
            return rootTask(of: original, vault: vault)
        case .task?:
            return spawnedFrom(note, at: path, vault: vault).last ?? path
        case nil:
            return path
        }
    }

    /// The task a work note belongs to, for what agents make of it (`SpawnLimit`) and what a run
    /// may hand on: `budgetTask`, but an OS failover's handoff belongs to its original task too (it
    /// keeps a cap of its own, not a count of its own).
    public static func lineageTask(of note: Note, at path: String, vault: Vault) -> String {
        if TaskNote.kind(of: note, path: path) == .handoff, let original = taskPath(of: note, vault: vault, from: path) { return rootTask(of: original, vault: vault) }
        return budgetTask(of: note, at: path, vault: vault)
    }

    /// The task a handoff's original task counts against: the task itself, or — one an agent made
    /// from a run — the task it was made from (`spawnedFrom`). A handoff of a spawned task was
    /// charged to the spawned task, which had spent nothing: an agent that spawned free local tasks,
    /// each handing off to a paid agent, got a fresh cap per task (an outside attack: a $0.03 tree
    /// spent $0.07).
    static func rootTask(of original: String, vault: Vault) -> String {
        guard let note = (try? NoteStore(vault: vault).readIfPresent(original)).flatMap({ $0 }).flatMap({ try? Note.parse(bytes: $0.bytes) }),
              TaskNote.kind(of: note, path: original) == .task else { return original }
        return spawnedFrom(note, at: original, vault: vault).last ?? original
    }

    /// The tasks a task note was made from by agents' runs, nearest first: the task of the run its
    /// `created_by_run` names (through a handoff, its original task), then the one that task was
    /// made from, and so on — at most `limit` deep, and never round a loop.
    static func spawnedFrom(_ note: Note, at path: String, vault: Vault, limit: Int = 64) -> [String] {
        var chain: [String] = []
        var seen: Set<String> = [path]
        var current = note
        let store = NoteStore(vault: vault)
        while chain.count < limit, let runID = current.text("created_by_run"), let record = RunStore.known(runID, vault: vault),
              let snapshot = try? store.readIfPresent(record.taskPath), let parent = try? Note.parse(bytes: snapshot.bytes) {
            var parentPath = record.taskPath
            var parentNote = parent
            if TaskNote.kind(of: parent, path: parentPath) == .handoff, let original = taskPath(of: parent, vault: vault, from: parentPath),
               let originalNote = (try? store.readIfPresent(original)).flatMap({ $0 }).flatMap({ try? Note.parse(bytes: $0.bytes) }) {
                parentPath = original
                parentNote = originalNote
            }
            guard seen.insert(parentPath).inserted else { break }
            chain.append(parentPath)
            current = parentNote
        }
        return chain
    }

    /// Why the handoff at `path` may not run: it is past the guardrails' `max_handoffs` of its
    /// original task — its place in the task's `handoffs` list, or (a handoff the list does not hold)
    /// one past its end. `nil` when it may, or when it continues no task. Agents handing a task to
    /// each other, or one to itself, must not loop for ever; a person hands it on.
    public static func pastMaxHandoffs(of note: Note, at path: String, vault: Vault, max: Int) -> String? {
        if TaskNote.kind(of: note, path: path) == .task {
            // A task an agent made from a run of a task an agent made from a run…: as deep a chain
            // is as far as handoffs go.
            let depth = spawnedFrom(note, at: path, vault: vault, limit: max + 1).count
            return depth > max ? "made by agents' runs \(depth) tasks deep (created_by_run), past max_handoffs (\(max)) in Rules/Guardrails.md; a person starts it" : nil
        }
        guard TaskNote.kind(of: note, path: path) == .handoff, let original = taskPath(of: note, vault: vault, from: path), original != path else { return nil }
        // Its task gone (a person deleted it to stop the work) or unreadable, nothing counts the
        // handoffs: a chain handing itself on ran to `max_spawned_tasks` (fail closed).
        guard let snapshot = try? NoteStore(vault: vault).readIfPresent(original), let task = try? Note.parse(bytes: snapshot.bytes) else {
            return "its task \(original) is gone or cannot be read, so its handoffs cannot be counted against max_handoffs; a person hands it on"
        }
        let chain = task.texts("handoffs")
        let place = (chain.firstIndex(of: TelemetryWriter.link(path)) ?? chain.count) + 1
        guard place > max else { return nil }
        return "handoff \(place) of \(original), past max_handoffs (\(max)) in Rules/Guardrails.md; a person hands it on"
    }

    /// Whether the handoff at `path` is a failover the OS wrote: its `failover_of` run failed over,
    /// and the handoff of that failover is at `path`.
    static func isFailover(_ note: Note, at path: String, vault: Vault) -> Bool {
        guard let runID = note.text("failover_of"), let record = RunStore.known(runID, vault: vault),
              let agent = record.agent, let next = record.failoverTo else { return false }
        return TaskEngine.failoverHandoffPath(runID: runID, from: agent, to: next) == path
    }

    /// The vault path of a handoff's original task, from its `task` link.
    public static func taskPath(of handoff: Note, vault: Vault, from path: String) -> String? {
        guard let link = handoff.text("task").flatMap(WikiLink.parse) else { return nil }
        return LinkResolver(vault: vault).resolve(link, from: path).path ?? LinkResolver.literalPath(link.target, from: path)
    }
}

/// How much work agents' runs may make for one task: `max_spawned_tasks` tasks and handoffs for a
/// task and everything made from it (`Handoffs.budgetTask`: a handoff's original task, the task a
/// spawned task was made from). `max_handoffs` bounds how deep such a tree goes, and the task's cap
/// what its paid runs spend; this bounds how wide it grows: one run that makes three tasks, each of
/// whose runs makes three, filled a vault with a thousand notes in 45 seconds on free agents.
public enum SpawnLimit {
    /// Why a run may make no more work, in one line.
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Counts one more task or handoff made by run `runID`; throws, counting nothing, past the limit.
    public static func count(madeBy runID: String, vault: Vault) throws {
        let limit = RuleBook.load(vault: vault).guardrails.maxSpawnedTasks
        guard try RunStore(vault: vault).countSpawn(root: root(of: runID, vault: vault), limit: limit) else {
            throw Refusal(description: "refused from within run \(runID): agents' runs have made \(limit) tasks and handoffs for the task this run belongs to (max_spawned_tasks: \(limit) in Rules/Guardrails.md); a person starts more")
        }
    }

    /// The task whose tree run `runID` belongs to: its task's `budgetTask`; a run the vault does not
    /// know counts on its own.
    static func root(of runID: String, vault: Vault) -> String {
        guard let record = RunStore.known(runID, vault: vault),
              let note = (try? NoteStore(vault: vault).readIfPresent(record.taskPath)).flatMap({ $0 }).flatMap({ try? Note.parse(bytes: $0.bytes) }) else {
            return "run " + runID
        }
        return Handoffs.lineageTask(of: note, at: record.taskPath, vault: vault)
    }
}

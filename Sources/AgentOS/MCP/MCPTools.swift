import Foundation

/// Who an MCP server serves: the agent it was started for (`--agent NAME`) and the run it belongs
/// to (`FBT_RUN_ID`), and what follows from the vault's rules — judged again before every call
/// (`reloaded`), as a person may change the agent's lane while the server runs. An MCP client is
/// always an agent, so every write goes through `RunWriteGuard` under `writer` whether or not a
/// run is set.
public struct MCPScope: Sendable {
    /// The agent named with `--agent`, if any.
    public let agent: String?
    /// The run the server belongs to (`FBT_RUN_ID`), if any.
    public let runID: String?
    /// Why private notes are withheld from this client ("served to agent claude on the premium
    /// lane"), or `nil` when it may read them (a local agent, or a person's own client).
    public let hidesPrivateBecause: String?

    /// The label writes are recorded and refused under: the run, else `mcp:<agent>`.
    public var writer: String { runID ?? "mcp:" + (agent ?? "client") }

    /// The scope for a server started with `--agent agent` in `environment` on `vault`. An agent
    /// the catalogue does not know, or a run the vault does not know, withholds private notes
    /// (fail closed).
    public init(vault: Vault, agent: String?, environment: [String: String]) {
        self.agent = agent
        self.environment = environment
        runID = RunWriteGuard.runID(in: environment)
        var reasons: [String] = []
        if let why = Privacy.hidesPrivateNotes(environment: environment, vault: vault) { reasons.append(why) }
        if let agent {
            let book = RuleBook.load(vault: vault)
            if let definition = book.agents.first(where: { $0.name.lowercased() == agent.lowercased() }) {
                if !definition.lane.keepsWorkLocal { reasons.append("served to agent \(definition.name) on the \(definition.lane) lane") }
            } else {
                reasons.append("served to agent '\(agent)', which this vault's agent catalogue does not know")
            }
        }
        hidesPrivateBecause = reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    /// What the server was started with.
    private let environment: [String: String]

    /// The scope judged again from the vault's rules as they are now.
    public func reloaded(vault: Vault) -> MCPScope { MCPScope(vault: vault, agent: agent, environment: environment) }
}

/// The tools `fuckbigtech mcp` offers, in a stable order, each a thin call of the library entry
/// point the CLI uses (docs/architecture.md, "Jobs any front end needs"). A tool that fails
/// answers `isError: true` with one line saying why (the agent can read it and correct itself).
public final class MCPTools {
    /// The largest `limit` (or other count) a tool call may ask for.
    static let largestNumber = 100_000

    /// The vault served.
    public let vault: Vault
    /// Who is served, as last judged (`reload`).
    public var scope: MCPScope { state.withLock { $0.scope } }
    private let store: NoteStore
    /// What this client may read, by the rules as last judged.
    private var visibility: NoteVisibility { state.withLock { $0.visibility } }
    private let state: Locked<(scope: MCPScope, visibility: NoteVisibility)>

    /// Tools for `vault`, scoped by `scope`.
    public init(vault: Vault, scope: MCPScope) {
        self.vault = vault
        store = NoteStore(vault: vault)
        state = Locked((scope, MCPTools.visibility(vault, scope)))
    }

    private static func visibility(_ vault: Vault, _ scope: MCPScope) -> NoteVisibility {
        NoteVisibility(vault: vault, hiddenBecause: scope.hidesPrivateBecause, isAgent: scope.agent != nil || scope.runID != nil)
    }

    /// Judges the scope and the guardrails again from the rules as they are now. A server lives as
    /// long as the agent's session (hours): with what it read at its start, notes a person made
    /// private since (a new private tag or folder) were served in full, a local agent moved to a
    /// cloud lane still read private notes, and new secret patterns were not applied (an outside
    /// attack). Done before every call; a few milliseconds against a model's turn.
    func reload() {
        let scope = self.scope.reloaded(vault: vault)
        let visibility = MCPTools.visibility(vault, scope)
        state.withLock { $0 = (scope, visibility) }
    }

    /// Guidance for the client's model (the `instructions` of `initialize` and `server/discover`).
    public var instructions: String {
        """
        Shared memory and task system of a fuckbigtech vault (Obsidian notes). Search and read before \
        you write; pass the hash read_note returned to write_note or set_properties, so your change \
        never lands on an edit you did not see. Create tasks and hand work off instead of doing work \
        another agent is set up for. Agents cannot approve work or change a task's status.
        """
    }

    /// One tool: its declaration and what it does.
    struct Tool: Sendable {
        let name: String
        let title: String
        let description: String
        let properties: [(String, JSON)]
        let required: [String]
        let readOnly: Bool
        let destructive: Bool
        let idempotent: Bool
        let run: @Sendable (MCPTools, JSON) throws -> Outcome
    }

    /// A tool's answer: a line of text for the model and the same as structured content.
    struct Outcome {
        let text: String
        let structured: [(String, JSON)]
    }

    /// A tool call that failed in a way the agent should see (isError), in one line.
    struct Refused: Error, CustomStringConvertible {
        let description: String
        /// The one answer for a note the caller may not see (`NoteVisibility.unseenLine`).
        var unseen = false
    }

    /// Whether a tool of this name exists.
    public func has(_ name: String) -> Bool { MCPTools.all.contains { $0.name == name } }

    /// The `tools/list` entries, in their stable order.
    public var definitions: [JSON] {
        MCPTools.all.map { tool in
            .object([
                ("name", .string(tool.name)),
                ("title", .string(tool.title)),
                ("description", .string(tool.description)),
                ("inputSchema", .object([
                    ("type", .string("object")),
                    ("properties", .object(tool.properties)),
                    ("required", .array(tool.required.map { .string($0) })),
                    ("additionalProperties", .bool(false)),
                ])),
                ("outputSchema", .object([("type", .string("object"))])),
                ("annotations", .object([
                    ("title", .string(tool.title)),
                    ("readOnlyHint", .bool(tool.readOnly)),
                    ("destructiveHint", .bool(tool.destructive)),
                    ("idempotentHint", .bool(tool.idempotent)),
                    ("openWorldHint", .bool(false)),
                ])),
            ])
        }
    }

    /// Runs tool `name` (known to exist) and returns the `CallToolResult` fields.
    public func call(_ name: String, arguments: JSON) -> [(String, JSON)] {
        guard let tool = MCPTools.all.first(where: { $0.name == name }) else { return failure("unknown tool \(name)") }
        // An argument the tool does not take is named, with the ones it does: `write_note` given
        // `body` (what `read_note` answers with) said only "'text' is required" (a tour).
        if case .object(let given) = arguments, let unknown = given.map(\.0).first(where: { key in !key.hasPrefix("_") && !tool.properties.contains { $0.0 == key } }) {
            return failure("\(name) takes no argument '\(unknown)'; its arguments are " + tool.properties.map(\.0).joined(separator: ", ")
                           + (name == "write_note" && unknown == "body" ? " (the whole text, frontmatter included, goes in 'text')" : ""))
        }
        reload()
        do {
            let outcome = try tool.run(self, arguments)
            return [
                ("content", .array([.object([("type", .string("text")), ("text", .string(outcome.text))])])),
                ("structuredContent", .object(outcome.structured)),
                ("isError", .bool(false)),
            ]
        } catch {
            return failure(ErrorText.oneLine(error))
        }
    }

    private func failure(_ line: String) -> [(String, JSON)] {
        [
            ("content", .array([.object([("type", .string("text")), ("text", .string(line))])])),
            ("structuredContent", .object([("error", .string(line))])),
            ("isError", .bool(true)),
        ]
    }

    // MARK: - The tools

    static func string(_ description: String) -> JSON { .object([("type", .string("string")), ("description", .string(description))]) }
    static func integer(_ description: String) -> JSON { .object([("type", .string("integer")), ("minimum", .int(1)), ("description", .string(description))]) }
    static func strings(_ description: String) -> JSON {
        .object([("type", .string("array")), ("items", .object([("type", .string("string"))])), ("description", .string(description))])
    }
    static func boolean(_ description: String) -> JSON { .object([("type", .string("boolean")), ("description", .string(description))]) }

    static let all: [Tool] = [
        Tool(name: "search", title: "Search memory",
             description: "Full-text search of the vault's notes (ranked; words, \"phrases\", prefix*, -exclude, OR). Returns path, line, title, heading and a snippet per hit.",
             properties: [("query", string("the search query")), ("limit", integer("at most this many hits (default 10)")),
                          ("type", string("only notes with this type")), ("tag", string("only notes with this tag")),
                          ("folder", string("only notes under this folder")), ("status", string("only notes with this status"))],
             required: ["query"], readOnly: true, destructive: false, idempotent: true, run: { try $0.search($1) }),
        Tool(name: "read_note", title: "Read a note",
             description: "A note's properties, body and hash. Pass the hash to write_note or set_properties.",
             properties: [("path", string("vault-relative path, e.g. Memory/Decisions.md"))],
             required: ["path"], readOnly: true, destructive: false, idempotent: true, run: { try $0.readNote($1) }),
        Tool(name: "write_note", title: "Write a note",
             description: "Replace a note's whole text (give expect_hash: the hash read_note returned) or create a new one (create: true). If the note changed since it was read, nothing is overwritten: the refused text is kept in a conflict note under Memory/Conflicts/ and the call says where.",
             properties: [("path", string("vault-relative path")), ("text", string("the whole new text, frontmatter included")),
                          ("expect_hash", string("the hash read_note returned")), ("create", boolean("create a new note; refused if it exists"))],
             required: ["path", "text"], readOnly: false, destructive: true, idempotent: true, run: { try $0.writeNote($1) }),
        Tool(name: "set_properties", title: "Set note properties",
             description: "Set or remove frontmatter properties, leaving every other byte as it was. Give expect_hash (the hash read_note returned): the edit is merged over a newer version only when the other writer left these properties alone; otherwise it is refused and kept in a conflict note. approved, approved_by, approved_at and status cannot be changed by an agent.",
             properties: [("path", string("vault-relative path")),
                          ("set", .object([("type", .string("object")), ("description", .string("properties to set: name → value"))])),
                          ("unset", strings("property names to remove")), ("expect_hash", string("the hash read_note returned"))],
             required: ["path", "expect_hash"], readOnly: false, destructive: true, idempotent: true, run: { try $0.setProperties($1) }),
        Tool(name: "create_task", title: "Create a task",
             description: "Write a task note (status: new) under Tasks/; a running watcher routes and runs it.",
             properties: [("prompt", string("what to do")), ("title", string("the note's title")), ("agent", string("the agent to run it")),
                          ("lane", string("premium, local, tool or human")), ("model", string("the model to ask for")),
                          ("private", boolean("keep it on local agents")), ("effects", strings("what it may do (deploy, delete, …)")),
                          ("context", strings("notes to give it as context"))],
             required: ["prompt"], readOnly: false, destructive: false, idempotent: false, run: { try $0.createTask($1) }),
        Tool(name: "handoff", title: "Hand work off",
             description: "Write a handoff note from one agent to another and route it at once; blocked on the spot when the guardrails forbid it.",
             properties: [("from", string("the agent handing off")), ("to", string("the agent to take over")), ("message", string("what to do next")),
                          ("task", string("the task note it continues")), ("context", strings("notes to pass along"))],
             required: ["from", "to", "message"], readOnly: false, destructive: false, idempotent: false, run: { try $0.handoff($1) }),
        Tool(name: "route", title: "Preview routing",
             description: "The lane, agent, rule and every guardrail verdict a task would get (a note path, or a prompt). A dry run: nothing runs, nothing is written.",
             properties: [("path", string("a task or handoff note")), ("text", string("a prompt, routed as a new task"))],
             required: [], readOnly: true, destructive: false, idempotent: true, run: { try $0.route($1) }),
        Tool(name: "context", title: "Context packet",
             description: "The context packet an agent would get for a task or handoff note: its text, linked notes, memory matches and the daily log, each labelled with its source.",
             properties: [("path", string("a task or handoff note")), ("tokens", integer("the token budget"))],
             required: ["path"], readOnly: true, destructive: false, idempotent: true, run: { try $0.context($1) }),
        Tool(name: "status", title: "Task status",
             description: "Whether a watcher serves the vault, and the tasks queued, running, waiting for review and recently finished.",
             properties: [("limit", integer("list this many finished tasks (default 10)"))],
             required: [], readOnly: true, destructive: false, idempotent: true, run: { try $0.status($1) }),
        Tool(name: "backlinks", title: "Backlinks",
             description: "The notes linking to a note (a path, a file name or an alias), with the line of each link.",
             properties: [("note", string("the note"))],
             required: ["note"], readOnly: true, destructive: false, idempotent: true, run: { try $0.backlinks($1) }),
        Tool(name: "recent", title: "Recently changed notes",
             description: "The notes changed most recently, newest first, from the index.",
             properties: [("limit", integer("at most this many (default 20)")), ("folder", string("only notes under this folder"))],
             required: [], readOnly: true, destructive: false, idempotent: true, run: { try $0.recent($1) }),
    ]

    // MARK: - Arguments

    private func text(_ args: JSON, _ key: String) throws -> String? {
        guard let value = args[key], value != .null else { return nil }
        guard let text = value.stringValue else { throw Refused(description: "'\(key)' must be a string") }
        return text
    }

    private func required(_ args: JSON, _ key: String) throws -> String {
        guard let value = try text(args, key), !value.trimmingWhitespacesAndNewlines().isEmpty else {
            throw Refused(description: "'\(key)' is required")
        }
        return value
    }

    private func number(_ args: JSON, _ key: String, default fallback: Int) throws -> Int {
        guard let value = args[key], value != .null else { return fallback }
        // Bounded: a limit of 9e18 overflowed the pool arithmetic and stopped the server (an outside attack).
        guard let n = value.intValue, n > 0, n <= MCPTools.largestNumber else { throw Refused(description: "'\(key)' must be a positive integer up to \(MCPTools.largestNumber)") }
        return n
    }

    private func list(_ args: JSON, _ key: String) throws -> [String] {
        guard let value = args[key], value != .null else { return [] }
        guard let items = value.arrayValue, let texts = Optional(items.compactMap(\.stringValue)), texts.count == items.count else {
            throw Refused(description: "'\(key)' must be a list of strings")
        }
        return texts
    }

    /// A vault path, confined to the vault (no `..`, no absolute path, no symlink on the way) and
    /// to its notes: an MCP client is an agent, and reads no `.agentos/` state nor any file that is
    /// not a note (`RunWriteGuard.checkReadable`).
    private func path(_ args: JSON, _ key: String = "path") throws -> String {
        let given = try required(args, key)
        let normalized = try Vault.normalize(given)
        // Judged by its name first, which tells nothing of what is on disk: judged after the
        // symlink check, a name without `.md` answered "no such note" for a symlink and "only
        // Markdown notes" for anything else, and so confirmed a symlinked folder in a private one
        // (round 147).
        do { try RunWriteGuard.checkReadable(normalized, runID: scope.writer) } catch { throw Refused(description: error.description) }
        do { _ = try vault.resolve(normalized) } catch {
            // A symlink on the way is told as a missing or private note is, to a client private
            // notes are withheld from: "passes through a symlink" confirmed a name (round 140).
            if case .symlink = error, let why = visibility.hiddenBecause { throw Refused(description: NoteVisibility.unseenLine(normalized, why), unseen: true) }
            throw error
        }
        return normalized
    }

    /// Refuses a path whose note this client may not see, naming why (never its text).
    /// The note `args` names (`path`), once this caller may see it: its path, bytes and parse.
    private func visibleNote(_ args: JSON) throws -> (path: String, snapshot: NoteSnapshot, note: Note) {
        let path = try path(args)
        // Read once and judged on those bytes: a second read may find others (a note saved in place
        // is empty for a moment, and an empty note is public).
        guard let snapshot = visibility.shown(path) else { throw Refused(description: visibility.notShown(path)) }
        // Off this machine, a note holding a secret is not shown (a packet would leave it out).
        if let line = visibility.secretRefusal(path, text: snapshot.text) { throw Refused(description: line) }
        // A local run shown a private note counts as private from now on (`RunTaint`).
        try RunTaint.recordIfPrivate([path], runID: scope.runID, vault: vault)
        return (path, snapshot, try Note.parse(bytes: snapshot.bytes))
    }

    /// Refuses a path this client may not see: a private note and a missing one alike
    /// (`NoteVisibility.unseen`).
    private func checkVisible(_ path: String) throws {
        if let line = visibility.unseen(path) { throw Refused(description: line) }
    }

    /// Refuses a write where this client may not read: a private note, or a path under a private
    /// folder. A new note elsewhere may be made.
    /// Refuses a write to a note this client may not see; with `mustExist` (a change of a note, not
    /// a creation), a missing note gets the same line, so that the answer confirms no guessed name.
    private func checkWritable(_ path: String, mustExist: Bool = false) throws {
        if mustExist, let line = visibility.unchangeable(path) { throw Refused(description: line) }
        if let why = scope.hidesPrivateBecause, visibility.withholding(path) != nil {
            throw Refused(description: NoteVisibility.unseenLine(path, why))
        }
    }

    /// Refuses text that holds a secret (kinds and lines only, never the secret).
    private func refuseSecrets(_ text: String, what: String) throws {
        let patterns = RuleBook.load(vault: vault).guardrails.secretPatterns
        let findings = SecretScanner(extraPatterns: patterns).scan(text)
        if !findings.isEmpty {
            throw Refused(description: "\(what) holds a secret (\(SecretScanner.describe(findings))); not written: keep secrets out of notes")
        }
    }

    private func openIndex() throws -> MemoryIndex {
        if let index = try MemoryIndex.openForReading(vault: vault) { return index }
        let index = try MemoryIndex(vault: vault)
        _ = try index.reconcile()
        return index
    }

    /// Makes a note written here searchable at once, and records the write.
    private func written(_ tool: String, path: String, hash: ContentHash?, outcome: String) {
        if let index = try? MemoryIndex(vault: vault) { _ = try? index.update(path: path) }
        MCPWriteLog.record(vault: vault, tool: tool, path: path, hash: hash, outcome: outcome, scope: scope)
    }

    // MARK: - Read tools

    func search(_ args: JSON) throws -> Outcome {
        let query = try required(args, "query")
        let limit = try number(args, "limit", default: 10)
        let filters = SearchFilters(type: try text(args, "type"), tag: try text(args, "tag"), folder: try text(args, "folder"), status: try text(args, "status"))
        let index = try openIndex()
        // Private hits are left out without a word: not counted, and never making the list shorter.
        let hits = try visibility.search(query, in: index, limit: limit, filters: filters)
        try RunTaint.recordIfPrivate(hits.map(\.path), runID: scope.runID, vault: vault)
        // Off this machine: secrets redacted from headings and snippets, and no score (with notes of
        // its own, an agent could read word counts over the private notes off it).
        let shown = visibility.redactingSecrets
        let scored = scope.hidesPrivateBecause == nil
        var lines = hits.map { "\($0.path):\($0.line)  \($0.title)\($0.heading.isEmpty ? "" : " › " + shown($0.heading))  \(shown($0.snippet(open: "**", close: "**")))" }
        if hits.isEmpty { lines.append("no notes match '\(query)'") }
        let structured: [(String, JSON)] = [("hits", .array(hits.map { hit in
            .object([("path", .string(hit.path)), ("line", .int(hit.line)), ("title", .string(hit.title)), ("heading", .string(shown(hit.heading))),
                     ("snippet", .string(shown(hit.snippet(open: "**", close: "**"))))] + (scored ? [("score", .double((hit.score * 1000).rounded() / 1000))] : []))
        }))]
        return Outcome(text: lines.joined(separator: "\n"), structured: structured)
    }

    func readNote(_ args: JSON) throws -> Outcome {
        let (path, snapshot, note) = try visibleNote(args)
        // Remembered so that a later set_properties naming this hash can merge over a newer version.
        StaleMemoryGuard.remember(snapshot, store: store)
        return Outcome(text: "hash: \(snapshot.hash.hex)\n\n" + snapshot.text, structured: [
            ("path", .string(path)), ("hash", .string(snapshot.hash.hex)),
            ("properties", note.propertiesJSON), ("body", .string(note.body)),
        ])
    }

    func route(_ args: JSON) throws -> Outcome {
        let preview: RoutePreview
        if let given = try text(args, "path"), !given.isEmpty {
            let path = try path(args)
            try checkVisible(path)
            preview = try RoutePreview.note(at: path, vault: vault, readingNames: visibility.hiddenBecause == nil)
            if let line = visibility.unseenLink(in: preview.facts) { throw Refused(description: "\(path): \(line)") }
        } else {
            // A name written without a link is not read for a caller private notes are withheld
            // from: a guess at a private note's name routed as private and one at a missing note's
            // as public, one read-only call a guess (round 127).
            preview = RoutePreview.text(try required(args, "text"), vault: vault, readingNames: visibility.hiddenBecause == nil)
            // A link to a private note and a link to none are refused alike (`NoteVisibility.unseenLink`).
            if let line = visibility.unseenLink(in: preview.facts) { throw Refused(description: line) }
        }
        let decision = preview.decision
        // A server that withholds private notes names none of those that make the task private.
        let shown = visibility.withholdingNames(of: preview.facts.privateSources)
        if visibility.hiddenBecause == nil, !preview.facts.privateSources.isEmpty, let runID = scope.runID { try RunTaint.record(runID, vault: vault) }
        var pairs: [(String, JSON)] = [("task", preview.facts.path.map { .string($0) } ?? .null)]
        if case .object(let rest) = decision.json { pairs += rest }
        if let why = preview.approval.refusal { pairs.append(("approval_not_counted", .string(why))) }
        if let wontRun = preview.wontRun { pairs.append(("will_not_run", .string(wontRun))) }
        var lines = ["lane: \(decision.lane.rawValue)", "agent: \(decision.agent ?? "none")", "rule: \(decision.rule)",
                     "reason: \(decision.reason)", "action: \(decision.action.name)" + (decision.action.reason.map { " — \($0)" } ?? "")]
        for verdict in decision.verdicts { lines.append("\(verdict.name): \(verdict.passed ? "ok" : "STOP") \(verdict.detail)") }
        if let wontRun = preview.wontRun { lines.append("will not run: \(wontRun)") }
        return Outcome(text: shown(lines.joined(separator: "\n")), structured: pairs.map { ($0.0, $0.1.mappingStrings(shown)) })
    }

    func context(_ args: JSON) throws -> Outcome {
        let (path, snapshot, note) = try visibleNote(args)
        if let line = visibility.unseenLink(ofNote: note, at: path) { throw Refused(description: "\(path): \(line)") }
        let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: TaskNote.kind(of: note, path: path) ?? .task)
        let routing = try VaultRouting(vault: vault)
        let tokens = args["tokens"] == nil ? nil : try number(args, "tokens", default: 1)
        var packet = routing.contextPacket(for: task, budgetTokens: tokens)
        if scope.hidesPrivateBecause != nil { packet = packet.withoutPrivateLeftOut() }
        if let why = scope.hidesPrivateBecause, !packet.privateSources.isEmpty {
            throw Refused(description: "\(path): the context packet holds private notes; withheld: this server is \(why)")
        }
        if let line = visibility.secretRefusal("the context packet of \(path)", text: packet.text) { throw Refused(description: line) }
        if !packet.privateSources.isEmpty, let runID = scope.runID { try RunTaint.record(runID, vault: vault) }
        guard case .object(let pairs) = packet.json else { return Outcome(text: packet.text, structured: []) }
        return Outcome(text: packet.text, structured: pairs)
    }

    func status(_ args: JSON) throws -> Outcome {
        let limit = try number(args, "limit", default: 10)
        let status = try VaultStatus.read(vault: vault, limit: limit, shows: visibility.listsTask)
        func entry(_ r: RunRecord) -> JSON {
            .object([("run_id", .string(r.runID)), ("task", .string(r.taskPath)), ("state", .string(r.state.rawValue)),
                     ("agent", r.agent.map { .string($0) } ?? .null), ("lane", r.lane.map { .string($0) } ?? .null),
                     ("reason", r.reason.map { .string($0) } ?? .null), ("error", r.error.map { .string($0) } ?? .null)])
        }
        var watcherRunning = false
        if case .running = status.watcher { watcherRunning = true }
        let lines = ["watcher: " + WatcherHeartbeat.describe(status.watcher, countingQueue: scope.hidesPrivateBecause == nil),
                     "waiting for a watcher: \(status.waiting.count)", "queued: \(status.queued.count)", "running: \(status.running.count)",
                     "waiting for review: \(status.review.count)" + status.review.map { "\n  \($0.taskPath)" }.joined(),
                     "recently finished: \(status.finished.count)" + status.finished.map { "\n  \($0.state.rawValue)  \($0.taskPath)" }.joined()]
        return Outcome(text: lines.joined(separator: "\n"), structured: [
            ("watcher_running", .bool(watcherRunning)),
            ("waiting_for_watcher", .array(status.waiting.map { .string($0) })),
            ("queued", .array(status.queued.map(entry))), ("running", .array(status.running.map(entry))),
            ("review", .array(status.review.map(entry))), ("finished", .array(status.finished.map(entry))),
        ])
    }

    func backlinks(_ args: JSON) throws -> Outcome {
        let name = try required(args, "note")
        let hidden = scope.hidesPrivateBecause != nil
        // A private note is answered as a missing one (an answer for it would confirm its name).
        let index = try openIndex()
        var links = try index.backlinks(to: name, visible: hidden ? visibility.shows : nil)
        // Each line comes from the index: the source note as indexed must be the one judged.
        if hidden { links = links.filter { visibility.showsHit($0.sourcePath, indexedHash: try? index.indexedHash(of: $0.sourcePath)) } }
        try RunTaint.recordIfPrivate(links.map(\.sourcePath), runID: scope.runID, vault: vault)
        let lines = links.isEmpty ? ["no notes link to '\(name)'"] : links.map { "\($0.sourcePath):\($0.line)  [[\($0.target)]]" }
        return Outcome(text: lines.joined(separator: "\n"), structured: [("links", .array(links.map { link in
            .object([("path", .string(link.sourcePath)), ("line", .int(link.line)), ("title", .string(link.sourceTitle)),
                     ("target", .string(link.target)), ("embed", .bool(link.isEmbed))])
        }))])
    }

    func recent(_ args: JSON) throws -> Outcome {
        let limit = try number(args, "limit", default: 20)
        let folder = try text(args, "folder")
        let index = try openIndex()
        let notes = try visibility.visible(limit: limit, path: \.path) { try index.recentlyChanged(limit: $0, under: folder) }
        try RunTaint.recordIfPrivate(notes.map(\.path), runID: scope.runID, vault: vault)
        let formatter = ISO8601DateFormatter()
        let lines = notes.map { "\(formatter.string(from: $0.modified))  \($0.path)" }
        return Outcome(text: lines.isEmpty ? "no notes indexed" : lines.joined(separator: "\n"), structured: [("notes", .array(notes.map { note in
            .object([("path", .string(note.path)), ("title", .string(note.title)), ("modified", .string(formatter.string(from: note.modified))),
                     ("type", note.type.map { .string($0) } ?? .null), ("status", note.status.map { .string($0) } ?? .null)])
        }))])
    }

    // MARK: - Write tools

    func writeNote(_ args: JSON) throws -> Outcome {
        let creating = args["create"]?.boolValue ?? false
        let path: String
        do { path = try self.path(args) } catch let refused as Refused where !creating && refused.unseen {
            // A name through a symlink: answered as a missing or private one is, below (round 144).
            throw Refused(description: refused.description + "; to make a new note, pass create: true")
        }
        guard let text = args["text"]?.stringValue else { throw Refused(description: "'text' is required (a string)") }
        // Before the answers below tell an existing note from a missing one. The hint about
        // `create` reveals nothing: `create: true` on a name taken is refused as well.
        do { try checkWritable(path, mustExist: !creating) } catch let refused as Refused where !creating {
            throw Refused(description: refused.description + "; to make a new note, pass create: true")
        }
        let expectation: WriteExpectation
        if let hex = try self.text(args, "expect_hash") {
            if creating { throw Refused(description: "give expect_hash to replace a note or create: true to make one, not both") }
            guard let hash = ContentHash(hex: hex.lowercased()) else { throw Refused(description: "expect_hash takes the 16 hex digits read_note returned") }
            expectation = .hash(hash)
        } else if creating {
            expectation = .absent
        } else if try store.readIfPresent(path) != nil {
            throw Refused(description: "\(path) exists; pass expect_hash with the hash read_note returned")
        } else {
            throw Refused(description: "\(path) does not exist; pass create: true to create it")
        }
        try checkWritable(path)
        try refuseSecrets(text, what: "the new text of \(path)")
        let verdict = try StaleMemoryGuard.write(.text(text), to: path, expecting: expectation, store: store, runID: scope.writer, hidingPrivate: scope.hidesPrivateBecause)
        return try report(verdict, tool: "write_note", path: path)
    }

    func setProperties(_ args: JSON) throws -> Outcome {
        let path = try path(args)
        var updates: [Property] = []
        if let set = args["set"], set != .null {
            guard case .object(let pairs) = set else { throw Refused(description: "'set' must be an object of name → value") }
            updates = pairs.map { Property($0.0, MCPTools.propertyValue($0.1)) }
        }
        let removals = try list(args, "unset")
        if updates.isEmpty && removals.isEmpty { throw Refused(description: "nothing to change: give 'set' or 'unset'") }
        try checkWritable(path, mustExist: true)
        let shown: String = try FrontmatterEditor.apply(set: updates, to: "")
        try refuseSecrets(shown, what: "the properties for \(path)")
        // Only on what the agent read, as write_note: without a hash, a property a person changed
        // after the agent's read was overwritten, one they added removed, and no conflict note
        // kept (an outside attack).
        var expectation = WriteExpectation.any
        if let hex = try text(args, "expect_hash") {
            guard let hash = ContentHash(hex: hex.lowercased()) else { throw Refused(description: "expect_hash takes the 16 hex digits read_note returned") }
            expectation = .hash(hash)
        } else if try store.readIfPresent(path) == nil {
            throw Refused(description: "\(path): no such note")
        }
        let unread = "\(path): set_properties takes expect_hash: read the note with read_note and pass the hash it returned, so that an edit made since is not overwritten"
        let verdict = try StaleMemoryGuard.write(.properties(set: updates, unset: removals), to: path, expecting: expectation, store: store, runID: scope.writer,
                                                 hidingPrivate: scope.hidesPrivateBecause, unread: unread)
        return try report(verdict, tool: "set_properties", path: path)
    }

    func createTask(_ args: JSON) throws -> Outcome {
        var task = NewTask(prompt: try required(args, "prompt"))
        task.title = try text(args, "title")
        task.agent = try text(args, "agent")
        task.lane = try text(args, "lane")
        task.model = try text(args, "model")
        task.isPrivate = args["private"]?.boolValue ?? false
        if args["effects"] != nil { task.effects = try list(args, "effects") }
        task.context = try list(args, "context")
        task.madeInRun = scope.runID
        try refuseSecrets(task.prompt + "\n" + (task.title ?? ""), what: "the task")
        if let line = visibility.unseenInWork(text: task.prompt, title: task.title, context: task.context) { throw Refused(description: line) }
        let path = try task.write(vault: vault, environment: [RunWriteGuard.environmentKey: scope.writer])
        written("create_task", path: path, hash: (try? store.read(path))?.hash, outcome: "created")
        return Outcome(text: "created \(path) (status: new); a running watcher picks it up", structured: [("path", .string(path))])
    }

    func handoff(_ args: JSON) throws -> Outcome {
        var request = HandoffRequest(from: try required(args, "from"), to: try required(args, "to"), task: try text(args, "task"),
                                     message: try required(args, "message"), context: try list(args, "context"), madeInRun: scope.runID)
        request.hidingPrivate = scope.hidesPrivateBecause
        // Outside a run, a server registered for an agent hands off as that agent: `from` goes into
        // the handoff's name and the day's log, and must not be the client's free text.
        if scope.runID == nil, let agent = scope.agent, request.from != agent {
            throw Refused(description: "this server is \(agent)'s: a handoff made through it is from \(agent), not '\(request.from)'")
        }
        if let task = request.task {
            // Resolved as `HandoffRequest.submit` resolves it (an absolute path inside the vault too):
            // a path it takes must not skip the checks here.
            guard let (_, normalized) = try? vault.resolveUserPath(task.hasSuffix(".md") ? task : task + ".md") else {
                throw Refused(description: "\(task): not a note in this vault")
            }
            try checkVisible(normalized)
            // Outside a run (a server `mcp install` registers), an agent has no work of its own but
            // the tasks it made: naming another — a person's draft, or one waiting for review — would
            // run it at once, spend its budget and its handoffs (an outside attack). Inside a run,
            // `HandoffRequest` keeps the handoff to the run's own work.
            if scope.runID == nil, scope.agent != nil {
                let made = (try? store.readIfPresent(normalized)).flatMap { $0 }.flatMap { try? Note.parse(bytes: $0.bytes) }?.text("created_by_run")
                if made != scope.writer {
                    throw Refused(description: "\(normalized) is not a task this agent made: outside a run, an agent hands on only the tasks it made with create_task (leave out task, or make one)")
                }
            }
        }
        if let line = visibility.unseenInWork(text: request.message, title: nil, context: request.context) { throw Refused(description: line) }
        try refuseSecrets(request.message, what: "the handoff message")
        let submission = try request.submit(vault: vault)
        written("handoff", path: submission.path, hash: (try? store.read(submission.path))?.hash, outcome: submission.blockedReason == nil ? "created" : "blocked")
        // What routing says now, not a promise: the watcher routes the note when it sees it, and a
        // cap used up by then or a person's review holds it (the answer said "routed to" for a
        // handoff the watcher put in review: round 46).
        let target = "\(submission.decision.lane.rawValue) / \(submission.decision.agent ?? "none")"
        var text: String
        if case .review(let why) = submission.decision.action {
            text = "wrote \(submission.path): it waits for a person's review (\(why)); \(target) once approved"
        } else {
            text = "wrote \(submission.path): the watcher routes it to \(target) unless a cap or a review holds it; its note's status says which"
        }
        if let why = submission.blockedReason { text = "wrote \(submission.path), blocked: \(why)" }
        return Outcome(text: text, structured: [
            ("path", .string(submission.path)), ("lane", .string(submission.decision.lane.rawValue)),
            ("agent", submission.decision.agent.map { .string($0) } ?? .null),
            ("blocked", submission.blockedReason.map { .string($0) } ?? .null),
        ])
    }

    /// The answer to a guarded write; a conflict is an error the agent sees, naming the conflict note.
    private func report(_ verdict: StaleMemoryGuard.WriteVerdict, tool: String, path: String) throws -> Outcome {
        switch verdict {
        case .written(let hash, let merged):
            written(tool, path: path, hash: hash, outcome: merged ? "merged" : "written")
            return Outcome(text: "wrote \(path); new hash \(hash.hex)" + (merged ? " (merged over a newer version)" : ""),
                           structured: [("path", .string(path)), ("hash", .string(hash.hex)), ("merged", .bool(merged))])
        case .unchanged(let hash, let changed):
            return Outcome(text: "\(path) already holds that" + (changed ? ", but it changed since you read it: read it again before writing its text" : "") + "; hash \(hash.hex)",
                           structured: [("path", .string(path)), ("hash", .string(hash.hex)), ("unchanged", .bool(true)), ("changed_since_read", .bool(changed))])
        case .conflict(let conflict):
            written(tool, path: conflict.conflictNotePath, hash: nil, outcome: "conflict on \(path)")
            throw Refused(description: conflict.description)
        }
    }

    /// A JSON argument as a note property (strings stay strings: no YAML reading of agent text).
    static func propertyValue(_ json: JSON) -> PropertyValue {
        switch json {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let items): return .list(items.map(propertyValue))
        case .object(let pairs): return .map(pairs.map { Property($0.0, propertyValue($0.1)) })
        }
    }
}

/// The record of every write made through MCP: one JSON line per write in
/// `.agentos/mcp-writes.jsonl` (tool, path, new hash, outcome, agent, run), appended and fsynced.
/// Kept apart from `telemetry.jsonl`, whose lines are runs the watcher rebuilds telemetry rows from.
public enum MCPWriteLog {
    /// The file, under the vault's state folder.
    public static func path(_ vault: Vault) -> String { vault.stateDirectory + "/mcp-writes.jsonl" }

    /// Appends one line; a failure is not the write's failure (the note is written), so it is ignored.
    static func record(vault: Vault, tool: String, path: String, hash: ContentHash?, outcome: String, scope: MCPScope) {
        let line = JSON.object([
            ("time", .string(ISO8601DateFormatter().string(from: Date()))), ("tool", .string(tool)), ("path", .string(path)),
            ("hash", hash.map { .string($0.hex) } ?? .null), ("outcome", .string(outcome)),
            ("agent", scope.agent.map { .string($0) } ?? .null), ("run_id", scope.runID.map { .string($0) } ?? .null),
        ]).compact + "\n"
        try? FileSystem.append(Array(line.utf8), to: MCPWriteLog.path(vault), sync: true)
    }
}

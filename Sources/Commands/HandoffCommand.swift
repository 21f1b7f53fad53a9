import AgentOS
import Foundation

enum HandoffCommand {
    static let spec = CommandSpec(
        name: "handoff",
        summary: "pass a job to another agent with what was done and what is left",
        forms: [CommandForm(arguments: "MESSAGE", max: nil)],
        options: [
            .option("--from", "AGENT", "who hands off", required: true),
            .option("--to", "AGENT", "who takes over", required: true),
            .option("--task", "NOTE", "the original task note"),
            .option("--context", "NOTE", "a note for the handoff's context list", repeats: true),
            .json("print the note's path, status, lane and agent as JSON"),
        ],
        description: """
        Writes a handoff note in Handoffs/ (type: handoff, from, to, task, context; the message is its
        body), adds it to the task's `handoffs` list and to today's daily note. A running watcher then
        runs AGENT with a context packet: the message, the task and linked notes, the best matches from
        memory and the recent daily log (see 'fuckbigtech context NOTE'). The routing guardrails apply:
        a handoff of private work to a cloud agent is blocked, with the reason, and exits 1.
        The message may also come on standard input.
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        guard let from = context.arguments.value("--from"), !from.isEmpty else { throw CLIError.usage("--from AGENT is required (who hands off)") }
        guard let to = context.arguments.value("--to"), !to.isEmpty else { throw CLIError.usage("--to AGENT is required (who takes over)") }
        var message = context.arguments.positionals.joined(separator: " ")
        if message.isEmpty, isatty(0) == 0, let data = try? FileHandle.standardInput.readToEnd() {
            message = String(decoding: data, as: UTF8.self)
        }
        guard !message.trimmingWhitespacesAndNewlines().isEmpty else {
            throw CLIError.usage("say what was done and what is left (as the last argument or on stdin)")
        }
        var request = HandoffRequest(from: from, to: to, task: context.arguments.value("--task"), message: message, context: context.arguments.values("--context"),
                                     madeInRun: RunWriteGuard.runID(in: context.environment))
        // Its context and its message alike: a message linking a private note made a private
        // handoff, named so, and one linking a missing note a public one (an outside attack).
        let visibility = NoteVisibility(vault: context.vault, environment: context.environment)
        if let line = visibility.unseenInWork(text: request.message, title: nil, context: request.context) {
            throw CLIError.failure(line)
        }
        request.hidingPrivate = visibility.hiddenBecause
        let submission = try request.submit(vault: context.vault)
        let path = submission.path
        let decision = submission.decision
        if let why = submission.blockedReason {
            if context.json {
                context.console.print(JSON.object([("path", .string(path)), ("status", .string("blocked")), ("reason", .string(why))]).compact)
            } else {
                context.console.print(path)
            }
            throw CLIError.failure("handoff blocked: \(why)")
        }
        if context.json {
            context.console.print(JSON.object([("path", .string(path)), ("status", .string("new")), ("lane", .string(decision.lane.rawValue)), ("agent", decision.agent.map { .string($0) } ?? .null)]
                                              + (submission.note.map { [("note", JSON.string($0))] } ?? [])).compact)
        } else {
            context.console.print(path)
        }
        if let note = submission.note { context.console.error("note: " + note) }
        context.console.warnIfNobodyRuns(path, vault: context.vault)
        return 0
    }
}

enum ContextCommand {
    static let spec = CommandSpec(
        name: "context",
        summary: "print the context packet an agent would get for a note",
        forms: [CommandForm(arguments: "NOTE", max: 1)],
        options: [
            .option("--tokens", "N", "the token budget (default: the agent's context_tokens)"),
            .json("print the packet as JSON"),
        ],
        description: """
        Builds the packet the watcher would send for a task or handoff note: its text, the notes it
        links or lists in `context`, the best matches from memory and the recent daily log, each piece
        labelled with its source path and line, within the token budget of the agent it names (or N).
        Nothing is run or written.
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        guard let given = context.arguments.positionals.first else { throw CLIError.usage("'context' needs a note path") }
        let (_, path) = try context.vault.resolveUserPath(given)
        let store = NoteStore(vault: context.vault)
        let visibility = NoteVisibility(vault: context.vault, environment: context.environment)
        if let line = visibility.unseen(path) { throw CLIError.failure(line) }
        guard let snapshot = try store.readIfPresent(path) else { throw CLIError.failure("\(path): no such note") }
        let note = try Note.parse(bytes: snapshot.bytes)
        if let line = visibility.unseenLink(ofNote: note, at: path) { throw CLIError.failure("\(path): \(line)") }
        let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: TaskNote.kind(of: note, path: path) ?? .task)
        let routing = try VaultRouting(vault: context.vault)
        var packet: ContextPacket
        if let tokens = context.arguments.value("--tokens") {
            guard let n = Int(tokens), n > 0, n <= 1_000_000_000 else { throw CLIError.usage("--tokens expects a number of tokens from 1 to 1000000000") }
            packet = routing.contextPacket(for: task, budgetTokens: n)
        } else if task.note.text(task.kind == .handoff ? "to" : "agent") == nil, task.note["context_tokens"] == nil,
                  let routed = (try? RoutePreview.note(at: path, vault: context.vault))?.decision.agent,
                  let tokens = (try? routing.agents.definition(named: routed))?.contextTokens {
            // A task that names no agent gets the budget of the agent routing picks for it, as the
            // watcher gives it (a tour: 4,000 tokens shown for a task the rules send to claude, 16,000).
            packet = routing.contextPacket(for: task, budgetTokens: tokens)
        } else {
            packet = routing.contextPacket(for: task)
        }
        // A caller that may not read private notes is not told how many private pieces were left out.
        if visibility.hiddenBecause != nil { packet = packet.withoutPrivateLeftOut() }
        // An agent off this machine may not read a private packet through the CLI either.
        if let why = visibility.hiddenBecause, !packet.privateSources.isEmpty {
            throw CLIError.failure("\(path): the context packet holds private notes and this command was \(why); private text stays on this machine")
        }
        if let line = visibility.secretRefusal("the context packet of \(path)", text: packet.text) { throw CLIError.failure(line) }
        if !packet.privateSources.isEmpty, let runID = RunWriteGuard.runID(in: context.environment) { try RunTaint.record(runID, vault: context.vault) }
        if context.json {
            context.console.print(packet.json.pretty)
        } else {
            context.console.print(packet.text)
            context.console.error("\(packet.pieces.count) pieces, ~\(ContextPacket.estimateTokens(packet.text)) of \(packet.budgetTokens) tokens" + (packet.privateSources.isEmpty ? "" : "; PRIVATE (from \(packet.privateSources.joined(separator: ", "))): stays on local agents"))
            if let leftOut = LeftOutPiece.describe(packet.leftOut) { context.console.error(leftOut) }
            if let cut = packet.truncation { context.console.error("truncated: ~\(cut.tokensLeftOut) tokens of the task's text and linked notes do not fit") }
        }
        return 0
    }
}

import AgentOS
import Foundation

/// `fuckbigtech related NOTE|TEXT`: the notes a context packet would retrieve from memory, with scores.
enum RelatedCommand {
    static let spec = CommandSpec(
        name: "related",
        summary: "show the notes a context packet would retrieve for a note or a text, with scores",
        forms: [CommandForm(arguments: "NOTE|TEXT", max: nil)],
        options: [
            .json("print the hits as JSON"),
        ],
        description: """
        Given a note (a path, or a name as a link would write it), shows the notes retrieval finds
        for that note's packet, best first, up to 12; the packet takes the first 6 of them that the
        guardrails let through (for a task that is not private, none that is private; for a packet
        that may leave the machine, none whose piece holds a secret). The note's title and text are
        searched with stemming ("creating" finds "create") and stop words left out, every other word
        joined with OR; in a large vault only notes holding one of the rarer words are scored. A
        note's score is its whole-note bm25 (title x2, headings x2, body x1, property values x0.2),
        lifted by up to 40 % by its best section's, plus a share for the lines of other notes that
        link to it; one hit a note, hits under 40 % of the best left out (docs/memory.md). The note
        itself, the notes it links or lists in `context` and the folders in the guardrails'
        memory_exclude are never retrieved. Anything else is taken as the text of a task. Reads the
        index only; nothing is run or written.
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        let given = context.arguments.positionals.joined(separator: " ")
        guard !given.trimmingWhitespaces().isEmpty else { throw CLIError.usage("give a note or a text: fuckbigtech related NOTE|TEXT") }
        let index = try SearchCommand.openIndex(context)
        let routing = try VaultRouting(vault: context.vault)
        // An agent off this machine that asks through the CLI gets no private note back, and cannot
        // ask about one either: which notes relate to a private note says what it is about.
        let visibility = NoteVisibility(vault: context.vault, environment: context.environment)
        // Judged inside retrieval, as a packet judges its hits: a withheld note does not set the
        // relevance floor, so what such an agent is shown does not change with the private notes.
        let admit: (RelatedHit) -> Bool = { visibility.hiddenBecause == nil || visibility.shows($0.path) }
        // Nor do the lines private notes write next to their links (they are private text).
        let anchorsFrom: ((String) -> Bool)? = visibility.hiddenBecause == nil ? nil : { visibility.shows($0) }
        let hits: [RelatedHit]
        var source = "text"
        // To a caller that may not see private notes, a private note is as good as absent: the words
        // are taken as a task's text, as for a name no note has (a refusal would confirm the name).
        // The note is read once and judged on those bytes (`NoteVisibility.shown`).
        if let path = notePath(given, vault: context.vault), visibility.unseen(path) == nil {
            guard let snapshot = visibility.shown(path) else { throw CLIError.failure(visibility.notShown(path)) }
            let note = try Note.parse(bytes: snapshot.bytes)
            let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: TaskNote.kind(of: note, path: path) ?? .task)
            hits = routing.related(for: task, index: index, anchorsFrom: anchorsFrom, admit: admit)
            source = path
        } else {
            hits = routing.related(toText: given, index: index, anchorsFrom: anchorsFrom, admit: admit)
        }
        let shown = visibility.hiddenBecause == nil ? hits : hits.filter { visibility.showsHit($0.path, indexedHash: try? index.indexedHash(of: $0.path)) }
        try RunTaint.recordIfPrivate(shown.map(\.path), runID: RunWriteGuard.runID(in: context.environment), vault: context.vault)
        // Inside a cloud run, no score: word counts over the private notes shape it.
        let scored = visibility.hiddenBecause == nil
        let console = context.console
        if context.json {
            console.print(JSON.object([
                ("for", .string(source)),
                ("hits", .array(shown.map { hit in
                    JSON.object([
                        ("path", .string(hit.path)), ("line", .int(hit.line)), ("end_line", .int(hit.endLine)),
                        ("title", .string(hit.title)), ("heading", .string(visibility.redactingSecrets(hit.heading))),
                    ] + (scored ? [("score", .double((hit.score * 1000).rounded() / 1000))] : []))
                })),
            ]).pretty)
            return 0
        }
        if shown.isEmpty {
            console.error("nothing in memory is related to \(source == "text" ? "'\(given)'" : source)")
            return 0
        }
        for hit in shown {
            let location = console.color("\(hit.path):\(hit.line)", .magenta)
            let where_ = hit.heading.isEmpty ? hit.title : "\(hit.title) › \(visibility.redactingSecrets(hit.heading))"
            console.print((scored ? console.color(String(format: "%6.2f", hit.score), .dim) + "  " : "") + "\(location)  " + console.color(where_, .bold))
        }
        return 0
    }

    /// The note `given` names — a vault path (with or without `.md`) or a name a link would resolve —
    /// or `nil` when it names none (then it is a task's text).
    static func notePath(_ given: String, vault: Vault) -> String? {
        if let (_, relative) = try? vault.resolveUserPath(given), relative.hasSuffix(".md"),
           let status = try? FileSystem.status(vault.root + "/" + relative), status.kind == .file {
            return relative
        }
        guard !given.contains("\n") else { return nil }
        return LinkResolver(vault: vault).resolve(given, from: nil).path.flatMap { $0.hasSuffix(".md") ? $0 : nil }
    }
}

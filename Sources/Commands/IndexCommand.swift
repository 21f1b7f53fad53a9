import AgentOS
import Foundation

/// `fuckbigtech index [--rebuild]`: brings the full-text index up to date with the vault.
enum IndexCommand {
    static let spec = CommandSpec(
        name: "index",
        summary: "update the full-text index of the vault (only what changed)",
        forms: [CommandForm(max: 0)],
        options: [
            .flag("--rebuild", "empty the index and index every note again"),
            .json("print the summary as JSON"),
        ],
        description: """
        Walks the vault and indexes new and changed notes, removes deleted ones, and leaves the rest
        alone (modification time and size first, content hash only when they differ). A folder whose
        stamp has not moved since it was last listed is not listed again; its notes are still checked
        one by one (docs/search.md, "The re-scan"). Notes are only
        read, never changed. Files that cannot be indexed (binary, over 20 MB, unreadable) are skipped
        and listed with the reason.
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        let console = context.console
        let index = try MemoryIndex(vault: context.vault)
        for warning in index.warnings { console.error("fuckbigtech index: warning: \(warning)") }
        let progress: (Int, Int) -> Void = { done, total in
            console.progress("indexing \(done)/\(total) notes")
        }
        let summary = context.arguments.has("--rebuild") ? try index.rebuild(progress: progress) : try index.reconcile(progress: progress)
        console.clearProgress()
        for warning in index.warnings { console.error("fuckbigtech index: warning: \(warning)") }
        // Inside a cloud agent's run, a note it skipped is counted, not named: a private one's name is
        // private text, and one that cannot be read as text counts as private.
        let visibility = NoteVisibility(vault: context.vault, environment: context.environment)
        let skipped = summary.skipped.map { visibility.hiddenBecause == nil ? $0.path : "(a note not shown)" }
        if context.json {
            console.print(JSON.object([
                ("vault", .string(context.vault.root)),
                ("notes_on_disk", .int(summary.notesOnDisk)),
                ("indexed", .int(summary.indexed)),
                ("added", .int(summary.added)),
                ("changed", .int(summary.changed)),
                ("unchanged", .int(summary.unchanged)),
                ("removed", .int(summary.removed)),
                ("skipped", .array(zip(skipped, summary.skipped).map { JSON.object([("path", .string($0.0)), ("reason", .string($0.1.reason.description))]) })),
                ("folders_listed", .int(summary.foldersListed)),
                ("folders_from_record", .int(summary.foldersFromRecord)),
                ("seconds", .double(summary.seconds)),
            ]).pretty)
        } else {
            for (path, skip) in zip(skipped, summary.skipped) { console.error("skipped \(path): \(skip.reason)") }
            console.print(summaryLine(summary))
        }
        return 0
    }

    static func summaryLine(_ s: ReconcileSummary) -> String { s.oneLine }
}

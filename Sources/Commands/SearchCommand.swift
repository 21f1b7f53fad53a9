import AgentOS
import Foundation

/// `fuckbigtech search QUERY`: ranked full-text search of the vault's index.
enum SearchCommand {
    static let spec = CommandSpec(
        name: "search",
        summary: "search the vault's notes (ranked, with path:line and a snippet)",
        forms: [CommandForm(arguments: "QUERY", max: nil)],
        options: [
            .option("--limit", "N", "at most N hits (default 10)", short: "-n"),
            .option("--type", "T", "only notes with type T (notes under Tasks/ are type task)"),
            .option("--tag", "T", "only notes tagged T (also T/sub-tags)"),
            .option("--folder", "F", "only notes under folder F"),
            .option("--status", "S", "only notes with status S"),
            .json("print hits as JSON"),
        ],
        description: """
        Query syntax:
          login timeout      notes with both words (accents ignored: resume finds résumé)
          "login timeout"    the exact phrase
          time*              words starting with "time"
          login -oauth       login, but not notes mentioning oauth (also -"a phrase")
          login OR signin    either word (OR in capitals; AND is the same as a space, NOT the
                             same as -)
          検索               Chinese, Japanese, Korean and Thai text is matched character by character
        A query that starts with '-' goes after '--' (search -- -draft notes) or in one quoted
        argument with a space in it (search "-draft notes").
        A note whose title equals the query comes first. Reads the index only; run 'fuckbigtech
        index' (or keep 'fuckbigtech watch' running) to pick up changes.
        """,
        run: run
    )

    /// Whether `folder` (as `--folder` takes it: leading `./` and `/`, trailing `/` ignored) is a
    /// folder of the vault.
    static func folderExists(_ folder: String, in vault: Vault) -> Bool {
        let f = SearchFilters.trimmed(folder: folder)
        guard !f.isEmpty else { return true }
        guard let absolute = try? vault.resolve(f), let status = (try? FileSystem.status(absolute)) ?? nil else { return false }
        return status.kind == .directory
    }

    static func run(_ context: CommandContext) throws -> Int32 {
        let text = context.arguments.positionals.joined(separator: " ")
        guard !text.trimmingWhitespaces().isEmpty else { throw CLIError.usage("give a query: fuckbigtech search QUERY") }
        let limit = try context.arguments.int("--limit", default: 10)
        guard limit > 0 else { throw CLIError.usage("-n expects a positive number") }
        let filters = SearchFilters(type: context.arguments.value("--type"), tag: context.arguments.value("--tag"), folder: context.arguments.value("--folder"), status: context.arguments.value("--status"))
        let index = try openIndex(context)
        // An agent off this machine that searches through the CLI gets no private note back, and a
        // list as long as it would be without them.
        let visibility = NoteVisibility(vault: context.vault, environment: context.environment)
        let hits: [SearchHit]
        do {
            hits = try visibility.search(text, in: index, limit: limit, filters: filters)
        } catch let problem as SearchQuery.Problem {
            throw CLIError.usage(problem.description)
        }
        try RunTaint.recordIfPrivate(hits.map(\.path), runID: RunWriteGuard.runID(in: context.environment), vault: context.vault)
        let console = context.console
        // Inside a cloud run: secrets redacted from headings and snippets, and no score (with notes
        // of its own, an agent could read word counts over the private notes off it).
        let shown = visibility.redactingSecrets
        let scored = visibility.hiddenBecause == nil
        if context.json {
            console.print(JSON.array(hits.map { hit in
                JSON.object([
                    ("path", .string(hit.path)),
                    ("line", .int(hit.line)),
                    ("end_line", .int(hit.endLine)),
                    ("title", .string(hit.title)),
                    ("heading", .string(shown(hit.heading))),
                    ("snippet", .string(shown(hit.snippet(open: "**", close: "**")))),
                ] + (scored ? [("score", .double((hit.score * 1000).rounded() / 1000))] : []) + [
                    ("title_match", .bool(hit.isTitleMatch)),
                ])
            }).pretty)
            return 0
        }
        if hits.isEmpty {
            // A folder the vault does not have is named: "no notes match" alone read as if the
            // words were not there (not said inside a run that hides notes: it would tell which
            // private folders exist).
            if let folder = filters.folder, scored, !folderExists(folder, in: context.vault) {
                console.error("no notes match '\(text)': the vault has no folder '\(folder)' (folders are written as in the vault, letter case included)")
                return 0
            }
            console.error("no notes match '\(text)'")
            return 0
        }
        for hit in hits {
            let location = console.color("\(hit.path):\(hit.line)", .magenta)
            let where_ = hit.heading.isEmpty ? hit.title : "\(hit.title) › \(shown(hit.heading))"
            console.print("\(location)  \(console.color(where_, .bold))" + (scored ? "  " + console.color(String(format: "%.2f", hit.score), .dim) : ""))
            let snippet = shown(console.useColor ? hit.snippet(open: "\u{1B}[1;33m", close: "\u{1B}[0m") : hit.snippet(open: "[", close: "]"))
            if !snippet.isEmpty { console.print("    " + snippet) }
        }
        return 0
    }

    /// The index read-only; built first (once) when the vault has none yet.
    static func openIndex(_ context: CommandContext) throws -> MemoryIndex {
        if let index = try? MemoryIndex.openForReading(vault: context.vault) { return index }
        guard let status = try? FileSystem.status(context.vault.root), status.kind == .directory else {
            throw CLIError.failure("no vault at \(context.vault.root); give --vault PATH or run 'fuckbigtech init'")
        }
        context.console.error("fuckbigtech: no usable index yet; indexing \(context.vault.root) first")
        let index = try MemoryIndex(vault: context.vault)
        for warning in index.warnings { context.console.error("fuckbigtech: warning: \(warning)") }
        _ = try index.reconcile(progress: { done, total in context.console.progress("indexing \(done)/\(total) notes") })
        context.console.clearProgress()
        return index
    }
}

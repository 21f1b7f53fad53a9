import AgentOS
import Foundation

/// `fuckbigtech note`: show a note, change its properties, or rewrite it, never over an edit it did not see.
enum NoteCommand {
    /// The command's name, help and options.
    static let spec = CommandSpec(
        name: "note",
        summary: "show, change or rewrite a note safely",
        forms: [
            CommandForm(["show"], arguments: "PATH", max: 1),
            CommandForm(["set"], arguments: "PATH KEY=VALUE...", max: nil),
            CommandForm(["write"], arguments: "PATH", max: 1),
        ],
        options: [
            .option("--unset", "KEY", "remove the property KEY", repeats: true, actions: ["set"]),
            .option("--expect", "HASH", """
            the hash 'note show --json' printed: the change lands only on that version.
            If the note changed since, 'write' is refused and 'set' is re-applied only when
            the other writer left the same properties alone; a refused change is kept in a
            conflict note under Memory/Conflicts/ (named on stderr; exit 1)
            """, actions: ["set", "write"]),
            .flag("--create", "'write' a new note; refused if the note exists", actions: ["write"]),
            .option("--from", "FILE", "read the new content from FILE instead of stdin", actions: ["write"]),
            .json("print the note (show) or the new hash (set, write) as JSON"),
        ],
        description: """
        show   prints the note's properties and body (typed JSON with --json, plus its "hash" and
               whole "text": edit that text and pass the hash back to 'write --expect')
        set    changes properties, leaving every other byte of the note as it was; values are read
               like YAML (true, 3, 2026-01-02, [a, b], "text"); the write is refused, not clobbered,
               if the note changes on disk at the same moment
        write  replaces the whole note with the text on stdin (or in FILE); give --expect HASH to
               replace a note, or --create to make a new one
        """,
        run: run
    )

    /// Runs `note show|set|write`.
    static func run(_ context: CommandContext) throws -> Int32 {
        let args = context.arguments.positionals
        let action = args[0] // an action: `CommandSpec.check` made sure it is one
        guard args.count >= 2 else { throw CLIError.usage("'note \(action)' needs a note path") }
        var (_, relative) = try context.vault.resolveUserPath(args[1])
        let store = NoteStore(vault: context.vault)
        // From within a run (an agent calling back), approvals, statuses, Rules/ and notes in review
        // are off limits; `show` stays open.
        let runID = RunWriteGuard.runID(in: context.environment)
        switch action {
        case "show":
            // `note show Plan` or `People/Anna Schmidt`: the note's path without `.md`, when no
            // file has the name as given (it printed errno's text for the missing file).
            if !relative.lowercased().hasSuffix(".md"), (try? store.readIfPresent(relative)) ?? nil == nil {
                relative += ".md"
            }
            // A run reads notes, not the OS's state (`.agentos/`) nor other files of the vault.
            if let runID {
                do { try RunWriteGuard.checkReadable(relative, runID: runID) } catch { throw CLIError.failure(error.description) }
            }
            // An agent off this machine reading through the CLI gets no private note (as `search`
            // and `context`); the refusal names the reason, never the text.
            let visibility = NoteVisibility(vault: context.vault, environment: context.environment)
            // Read once and judged on those bytes (`NoteVisibility.shown`).
            let snapshot: NoteSnapshot
            if visibility.hiddenBecause == nil {
                guard let read = try store.readIfPresent(relative) else {
                    throw CLIError.failure("no note at \(relative); give its path from the vault's root ('fuckbigtech search' finds it by its words)")
                }
                snapshot = read
            } else {
                guard let shown = visibility.shown(relative) else { throw CLIError.failure(visibility.notShown(relative)) }
                snapshot = shown
            }
            // Off this machine, a note holding a secret is not shown (a packet would leave it out).
            if let line = visibility.secretRefusal(relative, text: snapshot.text) { throw CLIError.failure(line) }
            // A local run shown a private note counts as private from now on (`RunTaint`).
            try RunTaint.recordIfPrivate([relative], runID: runID, vault: context.vault)
            let note = try Note.parse(bytes: snapshot.bytes)
            if context.json {
                // An agent passes this hash back with --expect; remembering the version lets a later
                // property edit be merged over someone else's change without losing it.
                StaleMemoryGuard.remember(snapshot, store: store)
                context.console.print(JSON.object([
                    ("path", .string(relative)),
                    ("hash", .string(snapshot.hash.hex)),
                    ("properties", note.propertiesJSON),
                    ("body", .string(note.body)),
                    // The whole text of exactly the version `hash` names, for a read-then-write.
                    ("text", .string(snapshot.text)),
                ]).pretty)
            } else {
                for property in note.properties {
                    context.console.print("\(property.key): \(FrontmatterEditor.flow(property.value))")
                }
                if !note.properties.isEmpty { context.console.print("") }
                context.console.print(note.body)
            }
            return 0
        case "set":
            // An agent that may not read private notes gets one line for a private note and a
            // missing one, as `show` does: a different refusal confirmed a guessed name.
            if let line = NoteVisibility(vault: context.vault, environment: context.environment).unchangeable(relative) { throw CLIError.failure(line) }
            var updates: [Property] = []
            for assignment in args.dropFirst(2) {
                guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
                    throw CLIError.usage("expected KEY=VALUE, got '\(assignment)'")
                }
                let key = String(assignment[..<eq])
                let value = try PropertyValue.parseInput(String(assignment[assignment.index(after: eq)...]))
                updates.append(Property(key, value))
            }
            let removals = context.arguments.values("--unset")
            if updates.isEmpty && removals.isEmpty { throw CLIError.usage("nothing to change: give KEY=VALUE or --unset KEY") }
            if let expected = try expectedHash(context) {
                let verdict = try StaleMemoryGuard.write(.properties(set: updates, unset: removals), to: relative, expecting: .hash(expected), store: store, runID: runID)
                return try report(verdict, path: relative, context: context)
            }
            if let runID {
                // Checked against exactly the version on disk the edit replaces; refused when every
                // check passes but the agent gave no hash: its edit lands only on the version it read
                // (blind, a property a person changed after the agent's read was overwritten, as
                // through MCP's set_properties: an outside attack).
                let unread = "\(relative): from within a run, 'note set' takes --expect HASH (the hash 'note show --json' printed), so that an edit made since is not overwritten"
                let verdict = try StaleMemoryGuard.write(.properties(set: updates, unset: removals), to: relative, expecting: .any, store: store, runID: runID, unread: unread)
                return try report(verdict, path: relative, context: context)
            }
            let hash = try store.updateProperties(relative, set: updates, unset: removals)
            if context.json {
                context.console.print(JSON.object([("path", .string(relative)), ("hash", .string(hash.hex))]).compact)
            }
            return 0
        case "write":
            let expected = try expectedHash(context)
            let creating = context.arguments.has("--create")
            if expected != nil && creating { throw CLIError.usage("give --expect HASH to replace a note or --create to make a new one, not both") }
            if !creating, let line = NoteVisibility(vault: context.vault, environment: context.environment).unchangeable(relative) { throw CLIError.failure(line) }
            let text = try newContent(context)
            let expectation: WriteExpectation
            if let expected {
                expectation = .hash(expected)
            } else if creating {
                expectation = .absent
            } else if try store.readIfPresent(relative) != nil {
                // An agent must say which version it read; otherwise it could overwrite an edit it never saw.
                throw CLIError.failure("\(relative) exists; pass --expect HASH with the hash 'note show --json' printed when you read it")
            } else {
                throw CLIError.failure("\(relative) does not exist; pass --create to create it")
            }
            let verdict = try StaleMemoryGuard.write(.text(text), to: relative, expecting: expectation, store: store, runID: runID)
            return try report(verdict, path: relative, context: context)
        default:
            preconditionFailure("CommandSpec.check admits only the declared actions")
        }
    }

    /// The `--expect` hash, checked to be 16 hex digits.
    static func expectedHash(_ context: CommandContext) throws -> ContentHash? {
        guard let text = context.arguments.value("--expect") else { return nil }
        guard let hash = ContentHash(hex: text.lowercased()) else {
            throw CLIError.usage("--expect takes the 16 hex digits 'note show --json' prints as \"hash\", got '\(text)'")
        }
        return hash
    }

    /// The new note text, from `--from FILE` or stdin.
    static func newContent(_ context: CommandContext) throws -> String {
        let data: Data
        if let file = context.arguments.value("--from"), file != "-" {
            guard let contents = FileManager.default.contents(atPath: file) else { throw CLIError.failure("cannot read \(file)") }
            data = contents
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError.failure("the new content is not UTF-8 text") }
        return text
    }

    /// Prints the outcome of a guarded write; a conflict exits 1 naming the conflict note.
    static func report(_ verdict: StaleMemoryGuard.WriteVerdict, path: String, context: CommandContext) throws -> Int32 {
        switch verdict {
        case .written(let hash, let merged):
            if context.json {
                context.console.print(JSON.object([("path", .string(path)), ("hash", .string(hash.hex)), ("merged", .bool(merged))]).compact)
            }
            return 0
        case .unchanged(let hash, let changed):
            if context.json {
                context.console.print(JSON.object([("path", .string(path)), ("hash", .string(hash.hex)), ("unchanged", .bool(true)), ("changed_since_read", .bool(changed))]).compact)
            } else if changed {
                context.console.error("\(path) already holds that, but it changed since it was read: read it again before writing its text")
            }
            return 0
        case .conflict(let conflict):
            if context.json {
                context.console.print(JSON.object([
                    ("path", .string(path)),
                    ("conflict", .string(conflict.conflictNotePath)),
                    ("found_hash", conflict.found.map { .string($0.hex) } ?? .null),
                ]).compact)
            }
            throw CLIError.failure(conflict.description)
        }
    }
}

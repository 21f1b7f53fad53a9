enum NoteCommand {
    static let spec = CommandSpec(
        name: "note",
        summary: "show or change a note's properties safely",
        help: """
        Usage: fuckbigtech note show PATH [--json]
               fuckbigtech note set PATH KEY=VALUE... [--unset KEY]...

        show   prints the note's properties and body (typed JSON with --json)
        set    changes properties, leaving every other byte of the note as it was; values are read
               like YAML (true, 3, 2026-01-02, [a, b], "text"); the write is refused, not clobbered,
               if the note changes on disk at the same moment
        """,
        flags: [],
        options: ["--unset"],
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        let args = context.arguments.positionals
        guard let action = args.first else { throw CLIError.usage("say 'show' or 'set'; see 'fuckbigtech note --help'") }
        guard args.count >= 2 else { throw CLIError.usage("'note \(action)' needs a note path") }
        let (_, relative) = try context.vault.resolveUserPath(args[1])
        let store = NoteStore(vault: context.vault)
        switch action {
        case "show":
            let snapshot = try store.read(relative)
            let note = try Note.parse(bytes: snapshot.bytes)
            if context.json {
                context.console.print(JSON.object([
                    ("path", .string(relative)),
                    ("hash", .string(snapshot.hash.hex)),
                    ("properties", note.propertiesJSON),
                    ("body", .string(note.body)),
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
            let hash = try store.updateProperties(relative, set: updates, unset: removals)
            if context.json {
                context.console.print(JSON.object([("path", .string(relative)), ("hash", .string(hash.hex))]).compact)
            }
            return 0
        default:
            throw CLIError.usage("unknown action '\(action)'; use 'show' or 'set'")
        }
    }
}

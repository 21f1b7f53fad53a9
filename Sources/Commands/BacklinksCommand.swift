import AgentOS

/// `fuckbigtech backlinks NOTE`: the notes that link to a note.
enum BacklinksCommand {
    static let spec = CommandSpec(
        name: "backlinks",
        summary: "list the notes linking to a note",
        forms: [CommandForm(arguments: "NOTE", max: 1)],
        options: [.json("print the links as JSON")],
        description: """
        NOTE is a path (with or without .md), a file name or an alias. Links are [[wikilinks]] and
        ![[embeds]] outside code, resolved as Obsidian does: the exact path, then a unique file name,
        then an alias.
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        guard let name = context.arguments.positionals.first else { throw CLIError.usage("give a note: fuckbigtech backlinks NOTE") }
        let index = try SearchCommand.openIndex(context)
        // As `search`: an agent off this machine asking through the CLI learns nothing of private
        // notes, not even that one links here (their titles and lines are private text too), nor
        // whether a private note of that name exists (it is answered as a missing one).
        let visibility = NoteVisibility(vault: context.vault, environment: context.environment)
        let hidden = visibility.hiddenBecause != nil
        var links = try index.backlinks(to: name, visible: hidden ? visibility.shows : nil)
        // Each line comes from the index: the source note as indexed must be the one judged.
        if hidden { links = links.filter { visibility.showsHit($0.sourcePath, indexedHash: try? index.indexedHash(of: $0.sourcePath)) } }
        try RunTaint.recordIfPrivate(links.map(\.sourcePath), runID: RunWriteGuard.runID(in: context.environment), vault: context.vault)
        if context.json {
            context.console.print(JSON.array(links.map { link in
                JSON.object([
                    ("path", .string(link.sourcePath)),
                    ("line", .int(link.line)),
                    ("title", .string(link.sourceTitle)),
                    ("target", .string(link.target)),
                    ("heading", link.heading.map { .string($0) } ?? .null),
                    ("alias", link.alias.map { .string($0) } ?? .null),
                    ("embed", .bool(link.isEmbed)),
                ])
            }).pretty)
            return 0
        }
        if links.isEmpty { context.console.error("no notes link to '\(name)'") }
        for link in links {
            var written = link.target
            if let heading = link.heading { written += "#" + heading }
            if let alias = link.alias { written += "|" + alias }
            let shown = (link.isEmbed ? "![[" : "[[") + written + "]]"
            context.console.print("\(context.console.color("\(link.sourcePath):\(link.line)", .magenta))  \(shown)")
        }
        return 0
    }
}

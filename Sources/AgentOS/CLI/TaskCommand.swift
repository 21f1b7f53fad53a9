import Foundation

enum TaskCommand {
    static let spec = CommandSpec(
        name: "task",
        summary: "create a task note from the command line",
        help: """
        Usage: fuckbigtech task new PROMPT [--title TITLE] [--agent NAME] [--lane LANE] [--model M]
                                    [--private] [--effects a,b] [--context NOTE]... [--json]

        Writes Tasks/TITLE.md (the title defaults to the prompt's first words) with the prompt as its
        body. A running watcher picks it up; 'fuckbigtech run Tasks/TITLE.md' runs it in the foreground.
        """,
        flags: ["--private"],
        options: ["--title", "--agent", "--lane", "--model", "--effects", "--context"],
        actions: ["new"],
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        let args = context.arguments.positionals
        guard args.first == "new" else { throw CLIError.usage("say 'task new PROMPT'") }
        let prompt = args.dropFirst().joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !prompt.isEmpty else { throw CLIError.usage("'task new' needs a prompt") }
        let title = context.arguments.value("--title") ?? defaultTitle(prompt)
        var props: [Property] = [Property("type", .string("task")), Property("status", .string("new"))]
        for (option, key) in [("--agent", "agent"), ("--lane", "lane"), ("--model", "model")] {
            if let v = context.arguments.value(option) { props.append(Property(key, .string(v))) }
        }
        if context.arguments.has("--private") { props.append(Property("privacy", .string("private"))) }
        if let effects = context.arguments.value("--effects") {
            props.append(Property("effects", .list(effects.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })))
        }
        if let runID = RunWriteGuard.runID(in: context.environment) {
            // Made by an agent: said so in the note. It is born `status: new` and never approved,
            // like every task; what it may do is decided by routing and a person, not by its author.
            props.append(Property("created_by_run", .string(runID)))
        }
        let contextLinks = context.arguments.values("--context")
        if !contextLinks.isEmpty {
            props.append(Property("context", .list(contextLinks.map { .string($0.hasPrefix("[[") ? $0 : "[[\($0)]]") })))
        }
        let store = NoteStore(vault: context.vault)
        let text = try FrontmatterEditor.apply(set: props, to: "") + prompt + "\n"
        var path = Vault.Layout.tasks + "/" + sanitize(title) + ".md"
        var n = 2
        while (try? store.readIfPresent(path)) ?? nil != nil {
            path = Vault.Layout.tasks + "/" + sanitize(title) + " \(n).md"
            n += 1
        }
        try store.create(text, at: path)
        if context.json {
            context.console.print(JSON.object([("path", .string(path))]).compact)
        } else {
            context.console.print(path)
        }
        WatcherHeartbeat.warnIfNobodyRuns(path, vault: context.vault, console: context.console)
        return 0
    }

    static func defaultTitle(_ prompt: String) -> String {
        let words = prompt.split(whereSeparator: { $0.isWhitespace }).prefix(8).joined(separator: " ")
        return words.count > 60 ? String(words.prefix(60)) : words
    }

    /// A file name Obsidian accepts and links to cleanly.
    static func sanitize(_ title: String) -> String {
        let forbidden = Set("[]#^|\\/:*?\"<>")
        let cleaned = String(title.map { forbidden.contains($0) || $0.isNewline ? " " : $0 }).trimmingCharacters(in: .whitespaces)
        let trimmed = cleaned.drop { $0 == "." }
        return trimmed.isEmpty ? "Task" : String(trimmed)
    }
}

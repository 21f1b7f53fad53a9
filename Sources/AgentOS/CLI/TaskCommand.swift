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
        var task = NewTask(prompt: prompt)
        task.title = context.arguments.value("--title")
        task.agent = context.arguments.value("--agent")
        task.lane = context.arguments.value("--lane")
        task.model = context.arguments.value("--model")
        task.isPrivate = context.arguments.has("--private")
        task.effects = context.arguments.value("--effects").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        task.context = context.arguments.values("--context")
        let path = try task.write(vault: context.vault, environment: context.environment)
        if context.json {
            context.console.print(JSON.object([("path", .string(path))]).compact)
        } else {
            context.console.print(path)
        }
        context.console.warnIfNobodyRuns(path, vault: context.vault)
        return 0
    }
}

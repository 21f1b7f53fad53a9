import AgentOS
import Foundation

enum TaskCommand {
    static let spec = CommandSpec(
        name: "task",
        summary: "create a task note from the command line",
        forms: [CommandForm(["new"], arguments: "PROMPT", max: nil)],
        options: [
            .option("--title", "TITLE", "the note's title (default: the prompt's first words)"),
            .option("--agent", "NAME", "the agent to run it"),
            .option("--lane", "LANE", "the lane: premium, local, tool or human"),
            .option("--model", "M", "the model to ask the agent for"),
            .flag("--private", "mark it private: it stays on local agents"),
            .option("--effects", "a,b", "what it may do (its effects list), comma-separated"),
            .option("--context", "NOTE", "a note for its context list", repeats: true),
            .json("print the new note's path as JSON"),
        ],
        description: """
        Writes Tasks/TITLE.md (the title defaults to the prompt's first words) with the prompt as its
        body. A running watcher picks it up; 'fuckbigtech run Tasks/TITLE.md' runs it in the foreground.
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        let args = context.arguments.positionals
        let prompt = args.dropFirst().joined(separator: " ").trimmingWhitespacesAndNewlines()
        guard !prompt.isEmpty else { throw CLIError.usage("'task new' needs a prompt") }
        var task = NewTask(prompt: prompt)
        task.title = context.arguments.value("--title")
        task.agent = context.arguments.value("--agent")
        task.lane = context.arguments.value("--lane")
        task.model = context.arguments.value("--model")
        task.isPrivate = context.arguments.has("--private")
        task.effects = context.arguments.value("--effects").map { $0.split(separator: ",").map { $0.trimmingWhitespaces() } }
        task.context = context.arguments.values("--context")
        task.madeInRun = RunWriteGuard.runID(in: context.environment)
        if let line = NoteVisibility(vault: context.vault, environment: context.environment).unseenInWork(text: task.prompt, title: task.title, context: task.context) {
            throw CLIError.failure(line)
        }
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

import AgentOS
import Foundation

enum RunCommand {
    static let spec = CommandSpec(
        name: "run",
        summary: "run one task or handoff note now, in the foreground",
        forms: [CommandForm(arguments: "NOTE", max: 1)],
        options: [.json("print the run as JSON (as in 'status --json')")],
        description: """
        Routes the note, runs its agent and writes the result note, the task's properties, telemetry
        and the daily log — exactly what the watcher does, but for one note and in the foreground.
        A finished note is run again. Exit 0 when the run ends done, 1 otherwise.
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        guard let given = context.arguments.positionals.first else { throw CLIError.usage("'run' needs a note path") }
        let console = context.console
        let json = context.json
        let record = try ForegroundRun.run(given, vault: context.vault, environment: context.environment, warn: { problem in
            if !json { console.error("warning: \(problem)") }
        }, log: { event in
            if !json || event.level == .error { console.error(EngineEvent.printable(event.message)) }
        })
        if json {
            console.print(StatusCommand.json(record).pretty)
        } else {
            let path = record.taskPath
            console.print("\(record.state.rawValue): \(path) → \(record.agent ?? "?") (\(record.lane ?? "?"))" + (record.failure.map { " (\($0))" } ?? "") + (record.resultPath.map { "\nresult: \($0)" } ?? "") + (record.error.map { "\nerror: \($0)" } ?? ""))
            if let next = record.failoverTo, let from = record.agent {
                // The task goes on as a handoff, which a watcher runs (or 'run' does, given its path).
                let handoff = TaskEngine.failoverHandoffPath(runID: record.runID, from: from, to: next)
                console.print("handed off to \(next): \(handoff) (a running watcher runs it; or 'fuckbigtech run \"\(handoff)\"')")
            }
        }
        return record.state == .done ? 0 : 1
    }
}

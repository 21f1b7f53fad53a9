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
        // Ctrl-C (SIGTERM, a closed terminal) stops the run's agent with it (it runs in a process group of its own,
        // which the terminal's signal does not reach: round 157, it ran on, unwatched, and spent);
        // the run is left as a crash leaves it, and the next start recovers it.
        let stopper = AtOnceStopper(console: console)
        defer { withExtendedLifetime(stopper) {} }
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


/// Turns SIGINT, SIGTERM, SIGHUP (the terminal closed, ssh dropped: round 158) and SIGQUIT into
/// stopping the agents this process started, then exiting (130).
final class AtOnceStopper: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(console: Console) {
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                console.error("stopping: its agent is stopped, and the run is recovered at the next start ('fuckbigtech watch' or 'run')")
                Spawn.stopAllAtOnce()
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }
}

import Foundation

enum RunCommand {
    static let spec = CommandSpec(
        name: "run",
        summary: "run one task or handoff note now, in the foreground",
        help: """
        Usage: fuckbigtech run NOTE [--json]

        Routes the note, runs its agent and writes the result note, the task's properties, telemetry
        and the daily log — exactly what the watcher does, but for one note and in the foreground.
        A finished note is run again. Exit 0 when the run ends done, 1 otherwise.
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        guard let given = context.arguments.positionals.first else { throw CLIError.usage("'run' needs a note path") }
        if let runID = RunWriteGuard.runID(in: context.environment) {
            // `run` resets a finished note's status and starts an agent: neither is a run's to do.
            throw CLIError.failure("refused from within run \(runID): a run may not start or re-run notes; write a task ('task new') or a handoff and the watcher routes it")
        }
        let (_, path) = try context.vault.resolveUserPath(given)
        let store = NoteStore(vault: context.vault)
        guard let snapshot = try store.readIfPresent(path) else { throw CLIError.failure("\(path): no such note") }
        let runs = try RunStore(vault: context.vault)
        let console = context.console
        let json = context.json
        let routing = try VaultRouting(vault: context.vault)
        for problem in routing.problems where !json { console.error("warning: \(problem)") }
        let engine = TaskEngine(vault: context.vault, runs: runs, routing: routing, executor: routing.agents) { event in
            if !json || event.level == .error { console.error(EngineEvent.printable(event.message)) }
        }
        engine.recover()
        // A finished or failed note is run again: that is what asking for it in the foreground means.
        if let note = try? Note.parse(bytes: snapshot.bytes), let status = TaskStatus(property: note.text("status")),
           ([TaskStatus.done, .failed, .blocked, .cancelled, .routed, .running] as [TaskStatus]).contains(status), try runs.activeRun(taskPath: path) == nil {
            try store.updateProperties(path, set: [Property("status", .string("new"))])
        }
        let outcome = engine.consider(path: path, wait: true, force: true)
        switch outcome {
        case .alreadyActive:
            throw CLIError.failure("\(path) is already running (see 'fuckbigtech status')")
        case .rejected(let why):
            throw CLIError.failure("\(path): \(why)")
        case .ignored, .ownWrite, .cancelling:
            throw CLIError.failure("\(path): " + whyNotRun(path: path, store: store, runs: runs))
        case .started(let runID):
            engine.waitUntilIdle()
            if let index = try? MemoryIndex(vault: context.vault) {
                _ = try? index.update(path: path)
                if let result = try runs.run(id: runID)?.resultPath { _ = try? index.update(path: result) }
            }
            guard let record = try runs.run(id: runID) else { throw CLIError.failure("run \(runID) vanished from the run store") }
            if json {
                console.print(StatusCommand.json(record).pretty)
            } else {
                console.print("\(record.state.rawValue): \(path) → \(record.agent ?? "?") (\(record.lane ?? "?"))" + (record.resultPath.map { "\nresult: \($0)" } ?? "") + (record.error.map { "\nerror: \($0)" } ?? ""))
            }
            return record.state == .done ? 0 : 1
        }
    }

    /// Why `run` will not run a note, in words a person can act on.
    static func whyNotRun(path: String, store: NoteStore, runs: RunStore) -> String {
        guard let snapshot = try? store.readIfPresent(path) else { return "cannot be read" }
        guard let note = try? Note.parse(bytes: snapshot.bytes) else { return "its frontmatter does not parse" }
        return "will not run: " + (TaskNote.notRunnableReason(path: path, snapshot: snapshot, note: note, runs: runs) ?? "it was not started (see 'fuckbigtech status')")
    }
}

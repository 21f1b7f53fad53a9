import Foundation

/// One task or handoff note run now, to its end, exactly as the watcher would run it: claimed,
/// routed, run, its result note, properties, telemetry and daily line written, and the note and its
/// result re-indexed so search finds them at once. A finished note is run again.
public enum ForegroundRun {
    /// Runs the note the caller named (`given`: a path inside the vault, as `Vault.resolveUserPath`
    /// reads it) and returns its finished run. `warn` gets each problem in the rule notes; `log`
    /// gets the engine's events. Refused from within an agent's run (`FBT_RUN_ID` in `environment`).
    public static func run(_ given: String, vault: Vault, environment: [String: String], warn: (String) -> Void, log: @escaping @Sendable (EngineEvent) -> Void) throws -> RunRecord {
        if let runID = RunWriteGuard.runID(in: environment) {
            // `run` resets a finished note's status and starts an agent: neither is a run's to do.
            throw ForegroundRunError.insideRun(runID)
        }
        let (_, path) = try vault.resolveUserPath(given)
        let store = NoteStore(vault: vault)
        guard let snapshot = try store.readIfPresent(path) else { throw ForegroundRunError.noSuchNote(path) }
        let runs = try RunStore(vault: vault)
        let routing = try VaultRouting(vault: vault)
        for problem in routing.problems { warn(problem) }
        let engine = TaskEngine(vault: vault, runs: runs, routing: routing, executor: routing.agents, log: log)
        engine.recover()
        // A finished or failed note is run again: that is what asking for it in the foreground means.
        if let note = try? Note.parse(bytes: snapshot.bytes), let status = TaskStatus(property: note.text("status")),
           ([TaskStatus.done, .failed, .blocked, .cancelled, .routed, .running] as [TaskStatus]).contains(status), try runs.activeRun(taskPath: path) == nil {
            try store.updateProperties(path, set: [Property("status", .string("new"))])
        }
        switch engine.consider(path: path, wait: true, force: true) {
        case .alreadyActive:
            throw ForegroundRunError.alreadyActive(path)
        case .rejected(let why):
            throw ForegroundRunError.notRun(path, why)
        case .ignored, .ownWrite, .cancelling, .beingWritten:
            throw ForegroundRunError.notRun(path, whyNotRun(path: path, store: store, runs: runs))
        case .started(let runID):
            engine.waitUntilIdle()
            // No watcher may be running to index what the run wrote: do it here.
            if let index = try? MemoryIndex(vault: vault) {
                _ = try? index.update(path: path)
                if let result = try runs.run(id: runID)?.resultPath { _ = try? index.update(path: result) }
            }
            guard let record = try runs.run(id: runID) else { throw ForegroundRunError.vanished(runID) }
            return record
        }
    }

    /// Why a note was not run, in words a person can act on.
    static func whyNotRun(path: String, store: NoteStore, runs: RunStore) -> String {
        guard let snapshot = try? store.readIfPresent(path) else { return "cannot be read" }
        guard let note = try? Note.parse(bytes: snapshot.bytes) else { return "its frontmatter does not parse" }
        return "will not run: " + (TaskNote.notRunnableReason(path: path, snapshot: snapshot, note: note, runs: runs) ?? "it was not started (see 'fuckbigtech status')")
    }
}

/// Why `ForegroundRun` did not run a note to its end.
public enum ForegroundRunError: Error, CustomStringConvertible, Equatable {
    /// Asked from within an agent's run (its id).
    case insideRun(String)
    /// No note at this vault path.
    case noSuchNote(String)
    /// The note is running already (elsewhere).
    case alreadyActive(String)
    /// The note was not started: its path and why.
    case notRun(String, String)
    /// The run's record is gone from the run store (its id).
    case vanished(String)

    /// One line, as `run` prints it.
    public var description: String {
        switch self {
        case .insideRun(let runID): return "refused from within run \(runID): a run may not start or re-run notes; write a task ('task new') or a handoff and the watcher routes it"
        case .noSuchNote(let path): return "\(path): no such note"
        case .alreadyActive(let path): return "\(path) is already running (see 'fuckbigtech status')"
        case .notRun(let path, let why): return "\(path): \(why)"
        case .vanished(let runID): return "run \(runID) vanished from the run store"
        }
    }
}

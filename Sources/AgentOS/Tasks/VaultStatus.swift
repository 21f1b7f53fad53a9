import Foundation

/// What `status` shows, read once for any front end (the CLI's `status`, the MCP `status` tool):
/// whether a watcher serves the vault, and each task once, in its current state.
public struct VaultStatus: Sendable {
    /// The watcher's liveness (its lock and heartbeat).
    public let watcher: WatcherHeartbeat.Liveness
    /// Notes ready to run that no watcher has picked up.
    public let waiting: [String]
    /// Work notes a watcher never runs as they stand, with why (`TaskNote.survey`).
    public let notRun: [(path: String, reason: String)]
    /// Claimed runs not started yet (routing, or waiting for a lane).
    public let queued: [RunRecord]
    /// Runs whose agent is running.
    public let running: [RunRecord]
    /// Tasks waiting for a person's review (their latest run).
    public let review: [RunRecord]
    /// The most recently finished tasks, each once (its latest run).
    public let finished: [RunRecord]

    /// Reads the status of `vault`, listing only tasks `shows` admits (a cloud agent's caller sees
    /// no private task: its path is its title) and at most `limit` finished ones.
    public static func read(vault: Vault, limit: Int, shows: (String) -> Bool) throws -> VaultStatus {
        let runs = try RunStore(vault: vault)
        let active = try runs.runs(in: [.claimed, .running], limit: 1000).filter { shows($0.taskPath) }
        // A task is shown once, as its latest run says: a review that was approved (and ran), or
        // a task re-run since, is no longer waiting.
        func isLatest(_ record: RunRecord) -> Bool {
            ((try? runs.latestRun(taskPath: record.taskPath)) ?? nil)?.runID == record.runID
        }
        let review = try runs.runs(in: [.review], limit: 1000).filter { shows($0.taskPath) && isLatest($0) }
        var seenFinished = Set<String>()
        let finished = try runs.runs(in: [.done, .failed, .blocked, .cancelled], limit: 1000)
            .filter { shows($0.taskPath) && isLatest($0) && seenFinished.insert($0.taskPath).inserted }.prefix(max(0, limit))
        let survey = TaskNote.survey(in: vault, runs: runs)
        return VaultStatus(
            watcher: WatcherHeartbeat.liveness(of: vault),
            waiting: survey.waiting.filter(shows),
            notRun: survey.notRun.filter { shows($0.path) },
            queued: active.filter { $0.state == .claimed || $0.startedAt == nil },
            running: active.filter { $0.state == .running && $0.startedAt != nil },
            review: review,
            finished: Array(finished)
        )
    }
}

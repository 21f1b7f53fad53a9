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

    /// A task's run that failed over, as its chain ended: the state, error and time of the last
    /// failover handoff's run, the agents in turn (`claude → codex`), and the cost they reported
    /// together. A task that failed over and was then done was listed as its first run's
    /// "failed — usage limit reached" (a tour). Other runs are returned as they are.
    /// A handoff the caller may not see (`shows`: a private failover) gives its state only, as
    /// the public task's note does, never its error (the private run's words).
    static func asItsChainEnded(_ record: RunRecord, runs: RunStore, shows: (String) -> Bool) -> RunRecord {
        guard record.failoverTo != nil else { return record }
        var end = record
        var agents = [record.agent ?? "?"]
        var cost = record.costUSD
        var hidden = false
        for _ in 0..<20 {
            guard !hidden, let to = end.failoverTo, let from = end.agent else { break }
            let path = TaskEngine.failoverHandoffPath(runID: end.runID, from: from, to: to)
            guard let next = (try? runs.latestRun(taskPath: path)) ?? nil else { break }
            hidden = !shows(path)
            end = next
            agents.append(next.agent ?? to)
            if let spent = next.costUSD { cost = (cost ?? 0) + spent }
        }
        var shown = record
        shown.state = end.state
        shown.error = hidden ? nil : end.error
        shown.finishedAt = end.finishedAt ?? record.finishedAt
        shown.resultPath = hidden ? record.resultPath : (end.resultPath ?? record.resultPath)
        shown.agent = agents.joined(separator: " → ")
        shown.costUSD = cost
        return shown
    }

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
            .map { VaultStatus.asItsChainEnded($0, runs: runs, shows: shows) }
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

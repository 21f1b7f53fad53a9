import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The state of one run in the run store.
public enum RunState: String, Sendable, CaseIterable {
    /// Claimed by a watcher or `run`; routing not finished.
    case claimed
    /// The agent is running.
    case running
    case done
    case failed
    case blocked
    /// Waiting for a person (`approved: true` resumes it).
    case review
    case cancelled

    /// States in which a run is in flight and owns its task.
    public var isActive: Bool { self == .claimed || self == .running }
}

/// One row of the run store.
public struct RunRecord: Sendable, Equatable {
    public var runID: String
    public var taskPath: String
    public var kind: String
    public var state: RunState
    public var attempt: Int
    public var lane: String?
    public var agent: String?
    public var model: String?
    public var rule: String?
    public var reason: String?
    public var ownerPID: Int32
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    public var resultPath: String?
    public var error: String?
    public var costUSD: Double?
    public var tokensIn: Int?
    public var tokensOut: Int?
    public var exitCode: Int?
    /// The failure class of a failed run (`FailureClass` raw value), when it has one.
    public var failure: String?
    /// The agent the task was handed to after this run failed (its failover); set before the
    /// handoff note is written, so a restart writes a handoff still missing (`pendingFailovers`).
    public var failoverTo: String?
}

/// The run ledger in `.agentos/runs.sqlite`: which task runs are claimed, running and finished.
///
/// Exactly-once claiming lives here, not in the note: a partial unique index allows at most one
/// active (claimed or running) run per task path, across threads and processes, so a watcher and a
/// foreground `run` can never start the same task twice.
public final class RunStore: @unchecked Sendable {
    /// The store's connection; every use holds its lock.
    private let connection: Locked<Database>

    /// Makes run ids (`newRunID`; tests draw colliding ones).
    var runIDSource: @Sendable (Date) -> String = { RunStore.newRunID(now: $0) }

    /// The schema version of the run store.
    public static let schemaVersion = 1

    public init(vault: Vault) throws {
        try FileSystem.makeDirectories(vault.stateDirectory)
        connection = Locked(try Database(path: vault.stateDirectory + "/runs.sqlite"))
        try migrate()
    }

    /// Runs `body` with the store's connection while holding its lock (for raw SQL in tools and tests).
    public func withDatabase<R>(_ body: (Database) throws -> R) rethrows -> R {
        try connection.withLock { try body($0) }
    }

    private func migrate() throws {
        try connection.withLock { database in
            try database.execute("""
            CREATE TABLE IF NOT EXISTS runs(
                run_id TEXT PRIMARY KEY,
                task_path TEXT NOT NULL,
                kind TEXT NOT NULL DEFAULT 'task',
                state TEXT NOT NULL,
                attempt INTEGER NOT NULL DEFAULT 1,
                lane TEXT, agent TEXT, model TEXT, rule TEXT, reason TEXT,
                owner_pid INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL,
                started_at REAL, finished_at REAL,
                result_path TEXT, error TEXT,
                cost_usd REAL, tokens_in INTEGER, tokens_out INTEGER, exit_code INTEGER,
                task_hash TEXT,
                agent_pid INTEGER, agent_start INTEGER,
                review_hash TEXT, approved_from TEXT, review_inputs TEXT
            );
            CREATE UNIQUE INDEX IF NOT EXISTS runs_one_active ON runs(task_path) WHERE state IN ('claimed','running');
            CREATE INDEX IF NOT EXISTS runs_by_task ON runs(task_path, created_at);
            CREATE INDEX IF NOT EXISTS runs_by_state ON runs(state, finished_at);
            CREATE TABLE IF NOT EXISTS rejected_notes(
                task_path TEXT PRIMARY KEY,
                task_hash TEXT NOT NULL,
                error TEXT NOT NULL,
                at REAL NOT NULL
            );
            PRAGMA user_version = \(RunStore.schemaVersion);
            """)
            // Files made before the agent-process columns existed get them added.
            for column in ["agent_pid", "agent_start"] {
                try database.addColumnIfMissing("runs", column, "INTEGER")
            }
            // Files made before approvals were bound to reviews get the review columns (NULL: a task
            // such a store shows in review was never shown by this code, so it is reviewed again).
            for column in ["review_hash", "approved_from", "review_inputs"] {
                try database.addColumnIfMissing("runs", column, "TEXT")
            }
            // Failover (older files get the columns; NULL: no failure class, no failover).
            for column in ["failure", "failover_to", "handoff_path"] {
                try database.addColumnIfMissing("runs", column, "TEXT")
            }
            // A person's word the run started with (`update(_:startedWith:)`; NULL: not known).
            try database.addColumnIfMissing("runs", "started_with", "TEXT")
            try database.execute("""
            CREATE TABLE IF NOT EXISTS spawns(
                root TEXT PRIMARY KEY,
                made INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS held_copies(
                task_path TEXT PRIMARY KEY,
                identity TEXT NOT NULL,
                at REAL NOT NULL
            );
            CREATE TABLE IF NOT EXISTS cooldowns(
                agent TEXT PRIMARY KEY COLLATE NOCASE,
                until REAL NOT NULL,
                failure TEXT NOT NULL,
                reason TEXT NOT NULL,
                strikes INTEGER NOT NULL DEFAULT 1,
                since REAL NOT NULL
            );
            """)
        }
    }

    /// A new run id: time-ordered and unique (`20261126-074512-3f9a1c`).
    public static func newRunID(now: Date = Date()) -> String {
        var t = time_t(now.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&t, &parts)
        let stamp = String(format: "%04d%02d%02d-%02d%02d%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
        let random = String(UInt32.random(in: 0...0xFFFFFF), radix: 16)
        return stamp + "-" + String(repeating: "0", count: 6 - random.count) + random
    }

    /// Claims a task for a new run. Returns `nil` when another run of that task is already active.
    public func claim(taskPath: String, kind: String = "task", taskHash: ContentHash?, attempt: Int, now: Date = Date()) throws -> RunRecord? {
        try connection.withLock { database in
            // A run id is the second plus 24 random bits: hundreds of claims in one second can draw the
            // same id. That collision is not "already active" (the task would silently never run):
            // draw again.
            for _ in 0..<16 {
                let runID = runIDSource(now)
                do {
                    try database.run("INSERT INTO runs(run_id, task_path, kind, state, attempt, owner_pid, created_at, task_hash) VALUES(?,?,?,?,?,?,?,?)", [
                        .text(runID), .text(taskPath), .text(kind), .text(RunState.claimed.rawValue), .int(Int64(attempt)), .int(Int64(getpid())),
                        .double(now.timeIntervalSince1970), SQLValue(taskHash?.hex),
                    ])
                    return RunRecord(runID: runID, taskPath: taskPath, kind: kind, state: .claimed, attempt: attempt, ownerPID: getpid(), createdAt: now.timeIntervalSince1970)
                } catch let error as DatabaseError where error.code & 0xff == 19 /* SQLITE_CONSTRAINT */ {
                    let active = try database.scalarInt("SELECT 1 FROM runs WHERE task_path=? AND state IN ('claimed','running')", [.text(taskPath)]) != nil
                    if active { return nil }
                    let taken = try database.scalarInt("SELECT 1 FROM runs WHERE run_id=?", [.text(runID)]) != nil
                    if !taken { throw error }
                }
            }
            return nil
        }
    }

    /// Drops a claim whose agent never started (the task was left for another machine): the task is
    /// as if never claimed here. Returns whether a claim was dropped.
    @discardableResult
    public func release(runID: String) throws -> Bool {
        try connection.withLock { database in
            try database.run("DELETE FROM runs WHERE run_id=? AND state=?", [.text(runID), .text(RunState.claimed.rawValue)])
            return try database.scalarInt("SELECT changes()") ?? 0 > 0
        }
    }

    /// Records routing and start details, or a new state, for a run. `startedWith` (given when its
    /// agent is about to start) is what its task held of a person's word then (`approved`, who and
    /// when, `verdict`), as JSON: recovery, finishing a run a dead watcher left, puts back what
    /// appeared since as `complete` does (round 136: a killed run kept its agent's approval).
    public func update(_ record: RunRecord, startedWith: JSON? = nil) throws {
        try connection.withLock { database in
            try database.run("""
            UPDATE runs SET state=?, lane=?, agent=?, model=?, rule=?, reason=?, started_at=?, finished_at=?, result_path=?, error=?,
                cost_usd=?, tokens_in=?, tokens_out=?, exit_code=?, attempt=?, failure=?, failover_to=?, started_with=COALESCE(?, started_with) WHERE run_id=?
            """, [
                .text(record.state.rawValue), SQLValue(record.lane), SQLValue(record.agent), SQLValue(record.model), SQLValue(record.rule), SQLValue(record.reason),
                record.startedAt.map { .double($0) } ?? .null, record.finishedAt.map { .double($0) } ?? .null,
                SQLValue(record.resultPath), SQLValue(record.error), record.costUSD.map { .double($0) } ?? .null,
                record.tokensIn.map { .int(Int64($0)) } ?? .null, record.tokensOut.map { .int(Int64($0)) } ?? .null,
                record.exitCode.map { .int(Int64($0)) } ?? .null, .int(Int64(record.attempt)),
                SQLValue(record.failure), SQLValue(record.failoverTo), SQLValue(startedWith?.compact), .text(record.runID),
            ])
        }
    }

    private static let columns = "run_id, task_path, kind, state, attempt, lane, agent, model, rule, reason, owner_pid, created_at, started_at, finished_at, result_path, error, cost_usd, tokens_in, tokens_out, exit_code, failure, failover_to"

    private static func record(_ s: Statement) -> RunRecord {
        RunRecord(
            runID: s.text(0), taskPath: s.text(1), kind: s.text(2), state: RunState(rawValue: s.text(3)) ?? .failed, attempt: s.int(4),
            lane: s.optionalText(5), agent: s.optionalText(6), model: s.optionalText(7), rule: s.optionalText(8), reason: s.optionalText(9),
            ownerPID: Int32(truncatingIfNeeded: s.int64(10)), createdAt: s.double(11), startedAt: s.isNull(12) ? nil : s.double(12),
            finishedAt: s.isNull(13) ? nil : s.double(13), resultPath: s.optionalText(14), error: s.optionalText(15),
            costUSD: s.isNull(16) ? nil : s.double(16), tokensIn: s.isNull(17) ? nil : s.int(17), tokensOut: s.isNull(18) ? nil : s.int(18),
            exitCode: s.isNull(19) ? nil : s.int(19), failure: s.optionalText(20), failoverTo: s.optionalText(21)
        )
    }

    /// The active run of a task, if any.
    public func activeRun(taskPath: String) throws -> RunRecord? {
        try connection.withLock { database in
            try database.query("SELECT \(RunStore.columns) FROM runs WHERE task_path=? AND state IN ('claimed','running')", [.text(taskPath)], row: RunStore.record).first
        }
    }

    /// The most recent run of a task, if any.
    public func latestRun(taskPath: String) throws -> RunRecord? {
        try connection.withLock { database in
            try database.query("SELECT \(RunStore.columns) FROM runs WHERE task_path=? ORDER BY created_at DESC, rowid DESC LIMIT 1", [.text(taskPath)], row: RunStore.record).first
        }
    }

    /// The latest run of `taskPath` claimed from exactly the note `hash` (`nil`: none).
    public func latestRun(taskPath: String, claimedFrom hash: ContentHash) throws -> RunRecord? {
        try connection.withLock { database in
            try database.query("SELECT \(RunStore.columns) FROM runs WHERE task_path=? AND task_hash=? ORDER BY created_at DESC, rowid DESC LIMIT 1",
                               [.text(taskPath), .text(hash.hex)], row: RunStore.record).first
        }
    }

    /// The run `id` of `vault`, or `nil` when the vault has no run store or no such run (the store
    /// is not created to look).
    public static func known(_ id: String, vault: Vault) -> RunRecord? {
        guard (try? FileSystem.status(vault.stateDirectory + "/runs.sqlite")) ?? nil != nil, let runs = try? RunStore(vault: vault) else { return nil }
        return (try? runs.run(id: id)) ?? nil
    }

    /// A run by id.
    public func run(id: String) throws -> RunRecord? {
        try connection.withLock { database in
            try database.query("SELECT \(RunStore.columns) FROM runs WHERE run_id=?", [.text(id)], row: RunStore.record).first
        }
    }

    /// Runs in the given states, newest first.
    public func runs(in states: [RunState], limit: Int = 50) throws -> [RunRecord] {
        let placeholders = states.map { _ in "?" }.joined(separator: ",")
        return try connection.withLock { database in
            try database.query("SELECT \(RunStore.columns) FROM runs WHERE state IN (\(placeholders)) ORDER BY COALESCE(finished_at, started_at, created_at) DESC LIMIT ?",
                               states.map { .text($0.rawValue) } + [.int(Int64(limit))], row: RunStore.record)
        }
    }

    /// Runs that ended at `since` or later having cost something (`cost_usd` above 0).
    public func endedWithCost(since: Double) throws -> [RunRecord] {
        try connection.withLock { database in
            try database.query("SELECT \(RunStore.columns) FROM runs WHERE finished_at >= ? AND cost_usd > 0 AND state NOT IN ('claimed','running')",
                               [.double(since)], row: RunStore.record)
        }
    }

    /// Counts of runs per state.
    public func counts() throws -> [RunState: Int] {
        try connection.withLock { database in
            var result: [RunState: Int] = [:]
            for (state, count) in try database.query("SELECT state, COUNT(*) FROM runs GROUP BY state", row: { ($0.text(0), $0.int(1)) }) {
                if let s = RunState(rawValue: state) { result[s] = count }
            }
            return result
        }
    }

    /// Whether the note at `taskPath` with this exact content was already rejected (bad frontmatter),
    /// so the watcher does not report it again on every event.
    public func wasRejected(taskPath: String, hash: ContentHash) throws -> Bool {
        try connection.withLock { database in
            try database.scalarInt("SELECT 1 FROM rejected_notes WHERE task_path=? AND task_hash=?", [.text(taskPath), .text(hash.hex)]) != nil
        }
    }

    /// The error the OS last recorded when it rejected the note at this path, if any.
    public func rejectionError(taskPath: String) throws -> String? {
        try connection.withLock { database in
            try database.query("SELECT error FROM rejected_notes WHERE task_path=?", [.text(taskPath)]) { $0.text(0) }.first
        }
    }

    /// Remembers that a note's content was rejected.
    public func recordRejection(taskPath: String, hash: ContentHash, error: String) throws {
        try connection.withLock { database in
            try database.run("INSERT INTO rejected_notes(task_path, task_hash, error, at) VALUES(?,?,?,?) ON CONFLICT(task_path) DO UPDATE SET task_hash=excluded.task_hash, error=excluded.error, at=excluded.at",
                             [.text(taskPath), .text(hash.hex), .text(error), .double(Date().timeIntervalSince1970)])
        }
    }

    /// Whether the note at `taskPath` was held as a put-back copy with these very bytes (`identity`:
    /// the run and the bytes' hash).
    public func wasHeld(taskPath: String, identity: String) throws -> Bool {
        try connection.withLock { database in
            try database.scalarInt("SELECT 1 FROM held_copies WHERE task_path=? AND identity=?", [.text(taskPath), .text(identity)]) != nil
        }
    }

    /// Remembers that the note at `taskPath` is held as a put-back copy (one verdict per path, the latest).
    public func recordHeld(taskPath: String, identity: String) throws {
        try connection.withLock { database in
            try database.run("INSERT INTO held_copies(task_path, identity, at) VALUES(?,?,?) ON CONFLICT(task_path) DO UPDATE SET identity=excluded.identity, at=excluded.at",
                             [.text(taskPath), .text(identity), .double(Date().timeIntervalSince1970)])
        }
    }

    /// Records the agent process of a run (pid and start time, so a reused pid is never mistaken for it).
    public func recordAgentProcess(runID: String, pid: Int32, startTime: UInt64) throws {
        try connection.withLock { database in
            try database.run("UPDATE runs SET agent_pid=?, agent_start=? WHERE run_id=?", [.int(Int64(pid)), .int(Int64(bitPattern: startTime)), .text(runID)])
        }
    }

    /// What `update(_:startedWith:)` recorded for a run, if anything.
    public func startedWith(runID: String) throws -> JSON? {
        try connection.withLock { database in
            try database.query("SELECT started_with FROM runs WHERE run_id=? AND started_with IS NOT NULL", [.text(runID)]) { $0.text(0) }.first
        }.flatMap { try? JSON.parse($0) }
    }

    /// The agent process recorded for a run, if any.
    public func agentProcess(runID: String) throws -> (pid: Int32, startTime: UInt64)? {
        try connection.withLock { database in
            try database.query("SELECT agent_pid, agent_start FROM runs WHERE run_id=? AND agent_pid IS NOT NULL", [.text(runID)]) {
                (Int32(truncatingIfNeeded: $0.int64(0)), UInt64(bitPattern: $0.int64(1)))
            }.first
        }
    }

    // MARK: Work agents make

    /// Counts one more task or handoff made by agents' runs for the task `root` (`SpawnLimit`), when
    /// fewer than `limit` were; `false` (nothing counted) when `limit` are made already. One
    /// conditional `UPDATE`, so that runs asking at once from several processes never pass the limit.
    public func countSpawn(root: String, limit: Int) throws -> Bool {
        try connection.withLock { database in
            try database.run("INSERT OR IGNORE INTO spawns(root, made) VALUES(?, 0)", [.text(root)])
            try database.run("UPDATE spawns SET made = made + 1 WHERE root = ? AND made < ?", [.text(root), .int(Int64(limit))])
            return database.changes == 1
        }
    }

    // MARK: Reviews and approvals

    /// Remembers that run `runID` put its task into review by writing exactly the bytes with `hash`
    /// (which hold `approved: false`). Only a later change to that note can approve it.
    ///
    /// `inputs`: the notes the task's packet was made from and the hash of each as the review saw it
    /// (empty hash: missing). An approval answers what a person could read then; a note changed since
    /// (`reviewInputs`) sends the task back to review.
    public func recordReview(runID: String, hash: ContentHash, inputs: [String: String] = [:]) throws {
        let json = JSON.object(inputs.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }).compact
        try connection.withLock { database in
            try database.run("UPDATE runs SET review_hash=?, review_inputs=? WHERE run_id=?", [.text(hash.hex), .text(json), .text(runID)])
        }
    }

    /// The notes run `runID`'s review was made from, each with its hash then (see `recordReview`).
    public func reviewInputs(runID: String) throws -> [String: String] {
        let text = try connection.withLock { database in
            try database.query("SELECT review_inputs FROM runs WHERE run_id=? AND review_inputs IS NOT NULL", [.text(runID)]) { $0.text(0) }.first
        }
        guard let text, case .object(let fields)? = try? JSON.parse(text) else { return [:] }
        var inputs: [String: String] = [:]
        for (key, value) in fields { if let hash = value.stringValue { inputs[key] = hash } }
        return inputs
    }

    /// The hash of the note the OS wrote when run `runID` put its task into review, if it did.
    public func reviewHash(runID: String) throws -> ContentHash? {
        try connection.withLock { database in
            try database.query("SELECT review_hash FROM runs WHERE run_id=? AND state='review' AND review_hash IS NOT NULL", [.text(runID)]) {
                ContentHash(hex: $0.text(0))
            }.first ?? nil
        }
    }

    /// Records that run `runID` runs on the approval a person gave in review run `reviewRunID`
    /// (the approval is spent: the review run is no longer the task's latest run).
    public func recordApproval(runID: String, reviewRunID: String) throws {
        try connection.withLock { database in
            try database.run("UPDATE runs SET approved_from=? WHERE run_id=?", [.text(reviewRunID), .text(runID)])
        }
    }

    /// The review run whose approval run `runID` ran on, if any.
    public func approvedFrom(runID: String) throws -> String? {
        try connection.withLock { database in
            try database.query("SELECT approved_from FROM runs WHERE run_id=? AND approved_from IS NOT NULL", [.text(runID)]) { $0.text(0) }.first
        }
    }

    /// Moves a task path's runs to a new path (the task note was renamed).
    public func renameTask(from old: String, to new: String) throws {
        try connection.withLock { database in
            try database.run("UPDATE runs SET task_path=? WHERE task_path=?", [.text(new), .text(old)])
        }
    }
}

import Foundation

/// The watcher's index writes, on one serial queue of their own, so that the loop that reads events
/// and claims tasks never waits for them (`Daemon.handle`).
///
/// After the start-up reconcile the watcher's writable `MemoryIndex` is used only here, one job at
/// a time, in the order the loop handed them over. The OS's own writes to its telemetry and daily
/// notes and to task notes are collected in `State.deferred` and indexed by `housekeeping`, the task
/// notes in one transaction. The day notes grow by a row per run and cost more to index
/// as they grow (50–150 ms at 180 KB): under a steady stream of changes they are indexed only when
/// the time since their last indexing is 20 times what that indexing took, so that a burst spends
/// at most about a twentieth of the queue's time on them; when the watcher is quiet, at once.
final class Indexer: @unchecked Sendable {
    /// What the queue's jobs share; touched only on `queue` (the jobs run one at a time).
    struct State {
        /// The watcher's writable index connection.
        var index: MemoryIndex
        /// The inode of the index file `index` opened (`MemoryIndex.fileInode`): another one (or
        /// none) at the index's path means the file was removed or replaced under the watcher
        /// (`reopenIfReplaced`). Taken when the file was opened, not when the watcher got round to
        /// it: a file removed in between (just after start-up) went unnoticed for good.
        var inode: UInt64?
        /// After a failed attempt to open a replaced index file, the next is not made before this time.
        var nextReopen = Date.distantPast
        /// The OS's own writes waiting to be indexed.
        var deferred = Set<String>()
        /// Index writes since the last checkpoint.
        var writesSinceCheckpoint = 0
        /// Under a steady stream, the day notes are not indexed again before this time.
        var nextLogIndex = Date.distantPast
        /// The connection's total changes when its small full-text segments were last all merged:
        /// any other count means writes since, whose segments a quiet moment merges.
        var changesAtLastMerge = -1

        /// The connection's total changes when the heap's free pages were last handed back
        /// (`releaseFreePagesIfDue`), and the time before which they are not again.
        var changesAtLastRelease = -1
        var nextRelease = Date.distantPast

        /// Whether the index was written since its small segments were last merged.
        var segmentsToMerge: Bool { index.database.totalChanges != changesAtLastMerge }
    }

    /// Under a stream, a re-index of the day notes waits this many times what the last one took.
    static let logIndexSpacing = 20.0

    private let queue = DispatchQueue(label: "fbt.index")
    // Confined to `queue` (see `State`); `@unchecked Sendable` because `MemoryIndex` is not.
    private var state: State
    /// What the loop may know without waiting for the queue: jobs queued or running, whether a
    /// housekeeping job is among them, and whether the last job left nothing to index or checkpoint.
    private let pending = Locked((jobs: 0, housekeeping: false, settled: true))

    /// An indexer owning `index` from now on.
    init(index: MemoryIndex) {
        state = State(index: index, inode: index.fileInode)
    }

    /// The inode of the index file the indexer writes (`State.inode`), once the jobs before have run.
    var fileInode: UInt64? { queue.sync { state.inode } }

    /// Whether no job is queued and nothing waits to be indexed (the loop may then wait longer).
    var isIdle: Bool { pending.withLock { $0.jobs == 0 && $0.settled } }

    /// Runs `job` on the queue after the jobs before it.
    func async(_ job: @escaping @Sendable (inout State) -> Void) {
        pending.withLock { $0.jobs += 1 }
        queue.async { [self] in
            job(&state)
            let settled = state.deferred.isEmpty && state.writesSinceCheckpoint == 0 && !state.segmentsToMerge
            pending.withLock {
                $0.jobs -= 1
                $0.settled = settled
            }
        }
    }

    /// Indexes the OS's own writes (the day notes only when due, see the type's comment) and, when
    /// the watcher is quiet, merges the index's small full-text segments and checkpoints the write-ahead log. At most one such job waits at a time.
    func housekeeping(quiet: Bool, log: @escaping @Sendable (EngineEvent) -> Void) {
        let queued: Bool = pending.withLock {
            if $0.housekeeping { return false }
            $0.housekeeping = true
            return true
        }
        guard queued else { return }
        async { state in
            Indexer.reopenIfReplaced(&state, log: log)
            Indexer.flush(&state, includeLogs: quiet, log: log)
            // Small FTS5 segments, one per write, slow every query down; a quiet moment merges them,
            // two bounded steps per table at a time, so a job queued meanwhile waits for little.
            if quiet && state.segmentsToMerge {
                do {
                    if try state.index.mergeSmallSegments() { state.changesAtLastMerge = state.index.database.totalChanges }
                } catch {
                    state.changesAtLastMerge = state.index.database.totalChanges
                    log(EngineEvent(level: .warning, message: "index: merging full-text segments failed: \(error)"))
                }
            }
            if quiet && state.writesSinceCheckpoint >= 100 {
                try? state.index.database.execute("PRAGMA wal_checkpoint(PASSIVE)")
                state.writesSinceCheckpoint = 0
            }
            Indexer.releaseFreePagesIfDue(&state)
            self.pending.withLock { $0.housekeeping = false }
        }
    }

    /// Seconds between two hand-backs of the heap's free pages under a steady stream of work.
    static let releaseSpacing = 2.0

    /// Hands the heap's free pages back to the system (`ProcessMemory.releaseFreePages`) when the
    /// watcher did work since the last time (its index changed: every run writes notes) and
    /// `releaseSpacing` has passed. glibc keeps what a run frees for reuse, spread over one arena
    /// per thread and holed by what stays alive; measured on bursts of 500 echo tasks, the
    /// watcher's private memory grew by 5–10 MB a burst, to three times the heap in use, and never
    /// came back. Takes a few milliseconds, on this queue, never on the loop that claims tasks.
    static func releaseFreePagesIfDue(_ state: inout State, now: Date = Date()) {
        let changes = state.index.database.totalChanges
        guard changes != state.changesAtLastRelease, now >= state.nextRelease else { return }
        ProcessMemory.releaseFreePages()
        state.changesAtLastRelease = changes
        state.nextRelease = now.addingTimeInterval(releaseSpacing)
    }

    /// Brings the watcher's writable connection up to date with the vault (`reconcile`), at start-up
    /// and after the index file was replaced, and sets it up for the watcher:
    /// - a small cache: single-note updates need little, the reconcile writes in batches (`Rescan`)
    ///   which a small cache serves too, and the watcher runs for days, so its peak memory does not
    ///   grow with the vault;
    /// - the write-ahead log bounded (`walCheckpointBytes`, `walKeptBytes`).
    static func catchUp(_ index: MemoryIndex, checkpointBytes: Int = walCheckpointBytes, keptBytes: Int = walKeptBytes) throws -> ReconcileSummary {
        try? index.database.execute("PRAGMA cache_size = -2048")
        let summary = try index.reconcile(progress: nil)
        let pageSize = max(512, Int(try index.database.scalarInt("PRAGMA page_size") ?? 4096))
        try? index.database.execute("PRAGMA wal_autocheckpoint = \(max(1, checkpointBytes / pageSize))")
        try? index.database.execute("PRAGMA journal_size_limit = \(keptBytes)")
        return summary
    }

    /// The write-ahead log is copied into the index file (a passive checkpoint, on this queue, after
    /// the commit that takes it past this size) and then written again from its start. Without it,
    /// under a stream of work with no quiet moment, the log only grew: each run's notes touch about
    /// 30 pages of 16 KB per commit, and a burst of 1,000 echo tasks on the 20,000-note bench vault
    /// left a 1.25 GB log beside the index, every frame of it a new page the kernel had to allocate.
    static let walCheckpointBytes = 8 << 20

    /// What is left of the log file when it starts again (SQLite's `journal_size_limit`): a big
    /// transaction (a re-scan's batch, a merge) does not leave its size on disk.
    static let walKeptBytes = 16 << 20

    /// Seconds between attempts to open a replaced index file after one failed.
    static let reopenRetry = 30.0

    /// When the index file was deleted or replaced while the watcher ran (a user removing
    /// `.agentos/index.sqlite`, a damaged file moved aside by another command), the watcher's
    /// connection still writes to the old, unlinked file, and every later note would be missing
    /// from what `search` and the packets read. A new connection is opened (making the file when
    /// there is none) and brought up to date with a re-scan. One `lstat` per housekeeping job.
    static func reopenIfReplaced(_ state: inout State, log: @Sendable (EngineEvent) -> Void, now: Date = Date()) {
        let vault = state.index.vault
        let inode = FileSystem.identity(vault.databasePath)?.inode
        guard inode != state.inode, now >= state.nextReopen else { return }
        log(EngineEvent(level: .warning, message: "index: \(vault.databasePath) was \(inode == nil ? "removed" : "replaced") while watching; opening it again and catching up"))
        do {
            let fresh = try MemoryIndex(vault: vault)
            for warning in fresh.warnings { log(EngineEvent(level: .warning, message: warning)) }
            let summary = try Indexer.catchUp(fresh)
            state.index = fresh
            state.inode = fresh.fileInode
            state.writesSinceCheckpoint = 0
            state.changesAtLastMerge = -1
            log(EngineEvent(level: .info, message: "index: \(summary.oneLine)"))
        } catch {
            // Tried again in a while (not at every housekeeping, which would fill the log); the old
            // connection serves meanwhile.
            state.nextReopen = now.addingTimeInterval(Indexer.reopenRetry)
            log(EngineEvent(level: .warning, message: "index: could not open the index again (trying again in \(Int(Indexer.reopenRetry)) s): \(error)"))
        }
    }

    /// Waits for every queued job, then indexes everything deferred (the watcher is stopping).
    func finish(log: @escaping @Sendable (EngineEvent) -> Void) {
        queue.sync { Indexer.flush(&state, includeLogs: true, log: log) }
    }

    /// Indexes the deferred notes: the task notes in one transaction, the day notes in another when
    /// `includeLogs` or when they are due.
    static func flush(_ state: inout State, includeLogs: Bool, log: @Sendable (EngineEvent) -> Void, now: Date = Date()) {
        guard !state.deferred.isEmpty else { return }
        let logsDue = includeLogs || now >= state.nextLogIndex
        let logs = state.deferred.filter(Daemon.isOSLog).sorted()
        let others = state.deferred.filter { !Daemon.isOSLog($0) }.sorted()
        write(others, to: state.index, log: log)
        state.writesSinceCheckpoint += others.count
        state.deferred.subtract(others)
        guard logsDue, !logs.isEmpty else { return }
        let started = Date()
        write(logs, to: state.index, log: log)
        let took = Date().timeIntervalSince(started)
        state.nextLogIndex = Date().addingTimeInterval(took * logIndexSpacing)
        state.writesSinceCheckpoint += logs.count
        state.deferred.subtract(logs)
    }

    /// One transaction for `paths`; if it fails, each note on its own, so the failing one is named.
    private static func write(_ paths: [String], to index: MemoryIndex, log: @Sendable (EngineEvent) -> Void) {
        guard !paths.isEmpty else { return }
        do {
            try index.update(paths: paths)
        } catch {
            for path in paths {
                do { _ = try index.update(path: path) } catch { log(EngineEvent(level: .error, message: "\(path): \(error)")) }
            }
        }
    }
}

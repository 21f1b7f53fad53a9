import Foundation

/// `fuckbigtech watch`: keeps the index current and turns task and handoff notes into runs.
///
/// Start-up: take the vault's watcher lock, recover runs a crash left in flight, reconcile the index
/// with the disk (catching up with everything that changed while the watcher was down), start
/// watching, then consider every work note that was already there, a few at a time between events
/// (a task written meanwhile is claimed first). Each change the file watcher reports updates the index
/// and is handed to the task engine; an overflow triggers a full reconcile.
public final class Daemon: @unchecked Sendable {
    public struct Options: Sendable {
        /// Use the polling watcher instead of inotify, with this interval in seconds.
        public var pollInterval: Double?
        /// Per-path debounce in seconds.
        public var debounce: Double = 0.02
        /// Seconds to wait for running agents on a clean stop before cancelling them.
        public var shutdownGrace: Double = 5
        /// This machine's name (`--machine`; default `FBT_MACHINE`, else the host name): which
        /// `Rules/Machines/` note it follows and which `Telemetry/Machines/` note it writes.
        public var machine: String?

        public init(pollInterval: Double? = nil, debounce: Double = 0.02, shutdownGrace: Double = 5) {
            self.pollInterval = pollInterval
            self.debounce = debounce
            self.shutdownGrace = shutdownGrace
        }
    }

    public let vault: Vault
    let options: Options
    /// The names not UTF-8 the watcher has warned about (the event loop's only).
    private var lossyNamesSaid = Set<String>()
    /// Where the watcher's events go (`watch` prints each as a timestamped line).
    let log: @Sendable (EngineEvent) -> Void
    let stopToken = CancelToken()

    public init(vault: Vault, options: Options, log: @escaping @Sendable (EngineEvent) -> Void) {
        self.vault = vault
        self.options = options
        self.log = log
    }

    /// Asks the loop to stop (from a signal handler's queue or a test).
    public func stop() { stopToken.cancel() }

    /// Runs until `stop()`; returns the exit code.
    public func run() throws -> Int32 {
        let machine = options.machine ?? Machine.currentName()
        if let why = Machine.invalidNameReason(machine) { throw DaemonError.badMachineName(machine, why) }
        try FileSystem.makeDirectories(vault.stateDirectory)
        // `status` and `doctor` test the lock by taking it for an instant: try again before giving up.
        // Those are other processes and flock(2) has no timed wait, so a short sleep between tries.
        var taken = try FileLock(path: vault.stateDirectory + "/watch.lock")
        for _ in 0..<3 where taken == nil {
            usleep(30_000)
            taken = try FileLock(path: vault.stateDirectory + "/watch.lock")
        }
        guard let lock = taken else {
            throw DaemonError.alreadyRunning(vault: vault.root, pid: FileLock.holder(path: vault.stateDirectory + "/watch.lock"))
        }
        defer { withExtendedLifetime(lock) {} }

        removeStaleTempFiles(log: log)
        GitNotes.excludeState(vaultRoot: vault.root)

        let index = try MemoryIndex(vault: vault)
        for warning in index.warnings { log(EngineEvent(level: .warning, message: warning)) }
        let runs = try RunStore(vault: vault)
        // The files claims, caps, cooldowns and this watcher's lock live in, as they are now.
        let stateFiles = Daemon.StateFiles(vault: vault)
        let routing = try VaultRouting(vault: vault)
        for problem in routing.problems { log(EngineEvent(level: .warning, message: problem)) }
        let engine = TaskEngine(vault: vault, runs: runs, routing: routing, executor: routing.agents, machine: machine, log: log)

        engine.recover()
        let summary = try Indexer.catchUp(index)
        log(EngineEvent(level: .info, message: "index: \(summary.oneLine)"))
        try? index.database.execute("PRAGMA shrink_memory")
        ProcessMemory.releaseFreePages()

        // The work notes there before watching begins: of these, the ones changed in the last minute
        // may be half-typed (below), as may a note made while the watches were being set up (its
        // time is before they were all set). A note written after watching began is seen by the
        // watcher's events, begun empty or written whole; held as well, a task a script wrote just
        // after the watcher said it was watching waited 5 s as one being typed (the watch bench's
        // first pick-up, ~5,000 ms, every run).
        let beforeWatching = Set(Daemon.workNotes(vault: vault, index: index))
        let watcher: FileWatcher = options.pollInterval.map { PollingWatcher(root: vault.root, interval: $0) as FileWatcher }
            ?? InotifyWatcher(root: vault.root, debounce: options.debounce)
        try watcher.start()
        defer { watcher.stop() }
        let watchingSince = Date().timeIntervalSince1970
        log(EngineEvent(level: .info, message: "watching \(vault.root) (\(options.pollInterval == nil ? "inotify" : "polling")); Ctrl-C stops"))

        var heartbeat = WatcherHeartbeat(pid: getpid(), version: AgentOSVersion.current, mode: options.pollInterval == nil ? "inotify" : "polling",
                                         started: Date().timeIntervalSince1970, updated: 0, lastEvent: nil, lastEventPath: nil, queue: 0)
        // Both heartbeats are durable writes (fsync): on a busy disk one takes 100 ms or more, so the
        // loop hands them to a queue of their own and a claim never waits for them. One write of
        // each kind waits at a time (a newer one replaces nothing the file needs).
        let beats = DispatchQueue(label: "fbt.heartbeat")
        let beatsQueued = Locked((watcher: false, machine: false))
        func beat() {
            heartbeat.updated = Date().timeIntervalSince1970
            heartbeat.queue = engine.inFlightCount
            let now = heartbeat, vault = vault
            guard beatsQueued.withLock({ queued in defer { queued.watcher = true }; return !queued.watcher }) else { return }
            beats.async { [log] in
                beatsQueued.withLock { $0.watcher = false }
                do { try now.write(to: vault) } catch { log(EngineEvent(level: .warning, message: "heartbeat: \(error)")) }
            }
        }
        beat()
        // The fleet's view of this machine, through the synced vault (at most once a minute).
        var fleetBeat = 0.0
        func fleetBeatNow(state: String = "watching") {
            fleetBeat = Date().timeIntervalSince1970
            let write: @Sendable () -> Void = { [log] in
                let note = MachineHeartbeat.current(machine: machine, state: state, book: routing.ruleBook, runs: runs, store: engine.store)
                do { try note.write(store: engine.store) } catch { log(EngineEvent(level: .warning, message: "machine heartbeat: \(error)")) }
            }
            // The last one (`stopped`) is written after any still queued, before the watcher exits.
            if state != "watching" { return beats.sync(execute: write) }
            guard beatsQueued.withLock({ queued in defer { queued.machine = true }; return !queued.machine }) else { return }
            beats.async {
                beatsQueued.withLock { $0.machine = false }
                write()
            }
        }
        fleetBeatNow()
        log(EngineEvent(level: .info, message: "machine \(machine): serves \(MachineHeartbeat.current(machine: machine, state: "watching", book: routing.ruleBook, runs: runs, store: engine.store).serves)"))

        // With `sync: git`: this machine's lease, finished claims, and taking over expired claims.
        let leases = GitLeases(engine: engine, machine: machine, log: log)
        leases.start()
        // With `sync: files`: renewing this machine's claim files, and taking over expired ones.
        let fileLeases = FileLeases(engine: engine, machine: machine, log: log)
        fileLeases.start()

        // Conflicting copies a sync tool made while the watcher was down.
        SyncConflict.surfaceAll(index: index, store: engine.store, guardrails: routing.ruleBook.guardrails, log: log)
        // The work notes that were there before the watcher started are looked at a few at a time
        // between events, in the loop below: a vault of thousands of old tasks took seconds to go
        // through, and a task written meanwhile waited for all of them (pick-up after a start on the
        // 20,000-note bench vault: 140-680 ms for the first tasks).
        var startupSweep = Daemon.workNotes(vault: vault, index: index) { path in
            if self.lossyNamesSaid.insert(path).inserted { log(EngineEvent(level: .warning, message: "\(path): \(SkipReason.nameNotUTF8)")) }
        }[...]
        // A note changed in the last minute may be one a person is typing: a watcher started (or
        // restarted) meanwhile never saw it begin empty, and ran its half-typed text (an outside attack).
        engine.holdRecentlyChanged(Array(startupSweep), listedBefore: beforeWatching, watchingSince: watchingSince)
        // Tests only: a pause after each chunk, so that a test can show a task is not kept waiting.
        let sweepPause = ProcessInfo.processInfo.environment["FBT_TEST_SWEEP_PAUSE_MS"].flatMap(Double.init).map { $0 / 1000 }

        // From here on the index belongs to the indexer queue: the loop below only reads events and
        // claims tasks, so a claim never waits for indexing (a re-index of a 180 KB day note takes
        // 50–150 ms). The loop asks a read-only connection whether a touched note is new.
        let indexer = Indexer(index: index)
        var lastDeferredFlush = Date()
        var idleSince = Date()
        var stateChecked = Date()
        var exitCode: Int32 = 0
        while !stopToken.isCancelled {
            // Removed or replaced under the watcher (`rm -rf .agentos`, `git clean -fdX`), the run
            // store and the lock would stay on deleted files: a second watcher would start, and each
            // would claim every task and count spend in a ledger of its own (an outside attack ran
            // tasks twice and spent twice a cap). The watcher stops, and says why.
            if Date().timeIntervalSince(stateChecked) >= Daemon.stateCheckInterval {
                stateChecked = Date()
                if let changed = stateFiles.changed() {
                    log(EngineEvent(level: .error, message: "stopping: \(changed) was removed or replaced while watching; claims, caps, cooldowns and the watcher's lock live there, and another watcher or command would not see this one's. Start the watcher again."))
                    exitCode = 1
                    break
                }
            }
            let changes = watcher.next(timeout: !startupSweep.isEmpty ? 0 : indexer.isIdle ? 0.2 : 0.1)
            for warning in watcher.takeWarnings() { log(EngineEvent(level: .warning, message: warning)) }
            if !changes.isEmpty {
                handle(changes, indexer: indexer, engine: engine, routing: routing, log: log)
                idleSince = Date()
                heartbeat.lastEvent = idleSince.timeIntervalSince1970
                heartbeat.lastEventPath = changes.last?.path
            }
            if !startupSweep.isEmpty {
                for path in startupSweep.prefix(Daemon.startupSweepChunk) { engine.consider(path: path) }
                startupSweep = startupSweep.dropFirst(Daemon.startupSweepChunk)
                if let sweepPause { Thread.sleep(forTimeInterval: sweepPause) }
            }
            if Date().timeIntervalSince1970 - heartbeat.updated >= WatcherHeartbeat.interval { beat() }
            if Date().timeIntervalSince1970 - fleetBeat >= MachineHeartbeat.interval { fleetBeatNow() }
            // Housekeeping waits for a quiet moment (or, under a steady stream, runs every 2 s), on
            // the indexer queue, so a task written meanwhile is never held up by it.
            let quiet = changes.isEmpty && startupSweep.isEmpty && Date().timeIntervalSince(idleSince) >= 0.3
            if quiet || Date().timeIntervalSince(lastDeferredFlush) > 2 {
                indexer.housekeeping(quiet: quiet, log: log)
                lastDeferredFlush = Date()
            }
        }
        indexer.finish(log: log)
        // A run ending as the watcher stops may wait longer for the run store (another process
        // holding it locked: round 152 took 22 s), which the message says rather than promise 5 s.
        log(EngineEvent(level: .info, message: "stopping: waiting up to \(Int(options.shutdownGrace)) s for running agents (and for the run store, should another process hold it locked)"))
        watcher.stop()
        engine.shutdown(grace: options.shutdownGrace)
        engine.recover()
        leases.stop()
        fileLeases.stop()
        fleetBeatNow(state: "stopped")
        log(EngineEvent(level: .info, message: "stopped"))
        return exitCode
    }

    /// How often the loop checks that its state files are still the ones it opened.
    static let stateCheckInterval: TimeInterval = 0.5

    /// The run store and the watcher's lock, by the inode each had when the watcher opened it.
    struct StateFiles {
        let files: [(path: String, inode: UInt64?)]

        init(vault: Vault) {
            files = ["runs.sqlite", "watch.lock"].map { name in
                let path = vault.stateDirectory + "/" + name
                return (path, FileSystem.identity(path)?.inode)
            }
        }

        /// The first file that is gone or another file now, or `nil`.
        func changed() -> String? {
            files.first { FileSystem.identity($0.path)?.inode != $0.inode }?.path
        }
    }

    /// Old work notes looked at between two reads of events at start-up (about 0.5 ms each).
    static let startupSweepChunk = 16

    /// Whether `path` is one of the OS's day notes (telemetry rows, daily log), indexed in batches.
    static func isOSLog(_ path: String) -> Bool {
        path.hasPrefix(Vault.Layout.telemetry + "/") || path.hasPrefix(Vault.Layout.daily + "/")
    }

    /// Claims first, on the loop's thread; everything that needs the index afterwards, in order, on
    /// the indexer queue.
    private func handle(_ changes: [FileChange], indexer: Indexer, engine: TaskEngine, routing: VaultRouting, log: @escaping @Sendable (EngineEvent) -> Void) {
        // Notes an agent may have written, taken before `consider` forgets the OS's own writes.
        let touched = engine.runTouchCandidates(changes)
        // Work notes are claimed first, before any indexing, so pick-up never waits for the index.
        // The engine's own writes to them (running, done: each a rename the watcher sees) are
        // indexed with the OS's logs, in a batch, not once per write mid-burst.
        var ownWrites = Set<String>()
        // The run store follows a renamed task first, in event order, so that a later claim of its new
        // path sees the run in flight (the index follows on the indexer queue), and so that a new
        // note saved at the old path is claimed after the move: claimed first, its run was moved with
        // the renamed task's (Obsidian's "Untitled.md", renamed while it ran and made again at once:
        // the renamed task ran twice and the new one never, an outside attack).
        // A run in flight follows its renamed note; a renamed note with no run is considered at its
        // new path (a task moved into a subfolder, or renamed, in Obsidian is still a task).
        for change in changes {
            guard case .renamed(let from) = change.kind else { continue }
            if !engine.noteRenamed(from: from, to: change.path), TaskNote.isInWorkFolder(change.path) {
                if engine.consider(path: change.path) == .ownWrite { ownWrites.insert(change.path) }
            }
        }
        // A note whose file name is not UTF-8 reaches us with U+FFFD for its bytes and no file has
        // that name: it can neither run nor be indexed. Said once per name, not silently dropped
        // (an outside attack: a Latin-1 `Tasks/café.md` never ran and nothing said why).
        for change in changes where FileSystem.isLossyName(change.path) && change.path.lowercased().hasSuffix(".md") && !change.wasRemoved {
            guard lossyNamesSaid.insert(change.path).inserted, ((try? FileSystem.status(vault.root + "/" + change.path)) ?? nil) == nil else { continue }
            log(EngineEvent(level: .warning, message: "\(change.path): \(SkipReason.nameNotUTF8)"))
        }
        for change in changes where change.kind == .changed && TaskNote.isInWorkFolder(change.path) {
            if change.wasRemoved { engine.noteRemoved(change.path) }
            if engine.consider(path: change.path) == .ownWrite { ownWrites.insert(change.path) }
        }
        if !touched.isEmpty {
            // Created rather than changed: the index has no row for it yet (asked read-only, so the
            // loop does not wait for the indexer; the packets' reader, which follows a replaced index file).
            let added = routing.withIndexReader { reader in
                Set(touched.compactMap { candidate -> String? in
                    guard candidate.change == .changed, let reader else { return nil }
                    let known = (try? reader.database.scalarInt("SELECT count(*) FROM notes WHERE path = ?", [.text(candidate.path)])) ?? nil
                    return known == 0 ? candidate.path : nil
                })
            }
            engine.recordRunTouches(touched, added: added)
        }
        let engineWrites = ownWrites
        indexer.async { state in
            Daemon.index(changes, ownWrites: engineWrites, state: &state, vault: self.vault, engine: engine, routing: routing, log: log)
        }
    }

    /// The index's side of `handle` (on the indexer queue): each change indexed, removed or renamed;
    /// conflicting copies surfaced; rules reloaded; notes outside the work folders considered once
    /// indexed. The OS's logs and its writes to task notes are only noted, for
    /// `Indexer.housekeeping` to index in a batch.
    private static func index(_ changes: [FileChange], ownWrites: Set<String>, state: inout Indexer.State, vault: Vault, engine: TaskEngine, routing: VaultRouting, log: @Sendable (EngineEvent) -> Void) {
        let index = state.index
        var rulesChanged = false
        var considered: [String] = []
        state.writesSinceCheckpoint += changes.count
        // A result note is indexed at once like any new note (its answer is searchable, and
        // `backlinks` finds it, as soon as the run ends); only the OS's logs and its writes to task
        // notes wait for `Indexer.housekeeping`, which indexes them in one transaction when the
        // watcher is quiet (0.3 s without events) or every 2 s under a stream.
        let own = ownWrites
        // A batch of plain changes (a burst of new notes) is indexed in one transaction first; each
        // note's own steps below then find it up to date. With a rename or removal among them, each
        // change is applied on its own, in order.
        if changes.allSatisfy({ $0.kind == .changed }) {
            let plain = changes.map(\.path).filter { !Daemon.isOSLog($0) && !own.contains($0) }
            if plain.count > 1 { _ = try? index.update(paths: plain) }
        }
        for change in changes {
            do {
                switch change.kind {
                case .overflow:
                    log(EngineEvent(level: .warning, message: "the kernel's event queue overflowed; reconciling everything"))
                    let summary = try index.reconcile(progress: nil)
                    log(EngineEvent(level: .info, message: "index: \(summary.oneLine)"))
                    ProcessMemory.releaseFreePages()
                    rulesChanged = true
                    considered += Daemon.workNotes(vault: vault, index: index)
                case .removed:
                    if change.path.hasSuffix(".md") {
                        try index.remove(path: change.path)
                        considered.append(change.path)
                    } else {
                        // A folder: everything indexed under it is gone (and any task in it stops).
                        let gone = try index.paths(under: change.path)
                        for path in gone { try index.remove(path: path) }
                        considered += gone
                    }
                    if change.path.hasPrefix(Vault.Layout.rules + "/") || change.path == Vault.Layout.rules { rulesChanged = true }
                case .renamed(let from):
                    try index.rename(from: from, to: change.path)
                    SyncConflict.surface(change.path, store: engine.store, guardrails: routing.ruleBook.guardrails, log: log)
                    if change.path.hasPrefix(Vault.Layout.rules + "/") || from.hasPrefix(Vault.Layout.rules + "/") { rulesChanged = true }
                    considered.append(change.path)
                case .changed:
                    if Daemon.isOSLog(change.path) || own.contains(change.path) {
                        state.deferred.insert(change.path)
                        continue
                    }
                    _ = try index.update(path: change.path)
                    SyncConflict.surface(change.path, store: engine.store, guardrails: routing.ruleBook.guardrails, log: log)
                    SyncConflict.surfaceMarkers(change.path, store: engine.store, guardrails: routing.ruleBook.guardrails, log: log)
                    if change.path.hasPrefix(Vault.Layout.rules + "/") { rulesChanged = true }
                    // Work folders were considered on the loop; typed tasks elsewhere are found after indexing.
                    if !TaskNote.isInWorkFolder(change.path) { considered.append(change.path) }
                case .directoryAdded:
                    break
                }
            } catch {
                log(EngineEvent(level: .error, message: "\(change.path): \(error)"))
            }
        }
        if rulesChanged {
            routing.reload()
            log(EngineEvent(level: .info, message: "rules reloaded" + (routing.problems.isEmpty ? "" : " (\(routing.problems.count) problem(s): \(routing.problems.joined(separator: "; ")))")))
        }
        for path in considered where path.hasSuffix(".md") {
            engine.consider(path: path)
        }
    }

    /// Every note that may hold work: notes under `Tasks/` and `Handoffs/`, and notes typed task or handoff.
    static func workNotes(vault: Vault, index: MemoryIndex, lossyName: (String) -> Void = { _ in }) -> [String] {
        var paths = Set<String>()
        for folder in [Vault.Layout.tasks, Vault.Layout.handoffs] {
            let walk = VaultWalker.walk(vault, under: folder)
            paths.formUnion(walk.files.map(\.path))
            for skipped in walk.skipped where skipped.reason == .nameNotUTF8 { lossyName(skipped.path) }
        }
        paths.formUnion((try? index.paths(ofTypes: ["task", "handoff"])) ?? [])
        return paths.sorted()
    }
}

extension Daemon {
    /// Removes the OS's own temp files (`.fbt-*.tmp`) that a killed process left in the vault's folders
    /// and in `.agentos/`: those made by a process that is gone, or before this one started.
    func removeStaleTempFiles(log: @Sendable (EngineEvent) -> Void) {
        // Runs before this watcher writes anything: every temp file older than now is someone else's.
        let started = Date().timeIntervalSince1970
        var removed = 0
        var folders = [vault.root]
        while let folder = folders.popLast() {
            guard let entries = try? FileSystem.list(folder) else { continue }
            for (name, kind) in entries {
                let path = folder + "/" + name
                let resolved = kind ?? ((try? FileSystem.status(path)) ?? nil)?.kind
                if resolved == .directory {
                    // Dot-folders are not the vault's, except the OS's own state folder.
                    if !name.hasPrefix(".") || path == vault.stateDirectory { folders.append(path) }
                    continue
                }
                guard resolved == .file, name.hasPrefix(NoteStore.tempPrefix), name.hasSuffix(".tmp") else { continue }
                // `.fbt-<hash>.<pid>.<n>.tmp`: a file of a live process other than this one is in use.
                let parts = name.split(separator: ".")
                if parts.count >= 4, let pid = Int32(parts[parts.count - 3]), pid != getpid(), ProcessLiveness.isAlive(pid) { continue }
                guard let st = (try? FileSystem.status(path)) ?? nil, Double(st.mtimeNanoseconds) / 1e9 < started else { continue }
                if (try? FileSystem.remove(path)) != nil { removed += 1 }
            }
        }
        if removed > 0 { log(EngineEvent(level: .info, message: "removed \(removed) temp file(s) left by an earlier run")) }
    }
}

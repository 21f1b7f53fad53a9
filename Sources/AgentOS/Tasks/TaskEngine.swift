import Foundation

/// The task lifecycle: claims a task exactly once, routes it, runs its agent, and writes the result,
/// the task's properties, telemetry and the daily log back — every note write through `NoteStore.update`.
public final class TaskEngine: Sendable {
    /// The vault whose task notes the engine runs.
    public let vault: Vault
    /// Where every note the engine writes goes (`NoteStore.update`).
    public let store: NoteStore
    /// Runs, claims and approvals (`.agentos/runs.sqlite`).
    public let runs: RunStore
    /// Rows, daily lines and the journal.
    public let telemetry: TelemetryWriter
    /// Plans routes and holds budgets.
    let routing: TaskRouting
    /// Runs agents.
    let executor: AgentExecuting
    /// Where events for the operator go.
    let log: @Sendable (EngineEvent) -> Void

    /// What the engine's threads share.
    struct Shared {
        /// Cancel tokens of runs in flight, by task path.
        var inFlight: [String: CancelToken] = [:]
        /// Where a task renamed or moved during its run now is (old path → new), until the run ends.
        var moved: [String: String] = [:]
        /// New notes saved at a path a run in flight was claimed at and moved away from: claimed once
        /// that run has ended (`start`, `endRun`).
        var waitingForPath: Set<String> = []
        /// One queue per lane, as wide as the lane's concurrency, and one per agent whose note sets
        /// `concurrency` (keyed `agent:NAME`).
        var laneQueues: [String: OperationQueue] = [:]
        /// Runs queued or running per queue (whether a new run would start at once).
        var laneLoad: [String: Int] = [:]
        /// Whether new work is taken (false once `shutdown` began).
        var accepting = true
        /// Notes that looked like work when the OS adopted the vault (`AdoptedNotes`), read once,
        /// and the paths already logged as left alone (once each).
        var adopted: [ContentHash: String]?
        var warnedAdopted: Set<String> = []
        /// Work notes with another name on disk already logged as not run (once each).
        var warnedShared: Set<String> = []
        /// Runs whose note was caught up with the run store, already logged (once each: an editor
        /// that keeps saving its stale buffer over the note has it caught up at every save).
        var caughtUp: Set<String> = []
        /// Runs a note saved at their path waits for, already logged (once each: a note saved in
        /// place every 40 ms logged "waits for run" 926 times in 6 s, round 46).
        var waitLogged: Set<String> = []
        /// Git claims (`sync: git`) this machine holds, by run id.
        var gitClaims: [String: GitClaim] = [:]
        /// Git claims of runs that ended, with the outcome, for the lease thread to push as finished.
        var endedClaims: [(claim: GitClaim, outcome: String)] = []
        /// Wakes the lease thread when a claim ended (its finish is pushed at once).
        var claimEndedHook: (@Sendable () -> Void)?
        /// Claim files (`sync: files`) of this machine's runs, settling or won, by run id.
        var fileClaims: [String: FileClaim] = [:]
        /// Work notes seen begun but without a prompt (Obsidian's new empty note), by path: a person
        /// is typing them, and each save is not yet the task (`stillBeingWritten`).
        var beingWritten: [String: BeingWritten] = [:]
        /// Work notes whose claim failed (the run store could not be written: a full disk), with
        /// the failures so far: each is looked at again later (`retryClaim`).
        var claimRetries: [String: Int] = [:]
        /// Work notes held open for writing when last looked at, with the looks so far: each is
        /// looked at again shortly (`recheckWhenWritten`).
        var writerRechecks: [String: Int] = [:]
        /// The text each run in flight was claimed for, by the path it was claimed at: the same
        /// note seen again (a second event of one save) waits for nothing and is not logged.
        var claimedHashes: [String: ContentHash] = [:]
        /// Work notes already logged as waiting for a prompt of more than headings (once each).
        var warnedNotReady: Set<String> = []
        /// The prompt each recent run was claimed with (its `PromptMark`), by the path it was
        /// claimed at, and the order it came in (`oldCopy`): at most `claimedPromptsKept`.
        var claimedPrompts: [String: ClaimedPrompt] = [:]
        var claimedOrder = 0
        /// The words of each run in flight's prompt, by the path it was claimed at (`isSavedOver`).
        var inFlightWords: [String: WordSketch] = [:]
        /// Tasks left for another machine, by path (`LeftTask`).
        var leftTasks: [String: LeftTask] = [:]
        /// Old copies already logged (once each run).
        var warnedOldCopy: Set<String> = []
        /// Task notes logged as held open for writing by another process (once until closed).
        var warnedOpen: Set<String> = []
    }

    /// How many runs' prompts are kept for `oldCopy`.
    static let claimedPromptsKept = 4096

    /// A work note a person is writing: when it last changed and to what, and when a look at it
    /// again is due (`nil`: none armed).
    struct BeingWritten {
        var hash: ContentHash
        var lastChange: Double
        var armed: Double?
        var logged = false
    }

    /// How long a note begun empty must stay unchanged before it runs: Obsidian saves the note a
    /// person types every two seconds or so, and each save would otherwise run a half-written task.
    public static let typingPause = 5.0

    /// Runs in flight, lane queues and `accepting`, shared by the engine's threads.
    let state = Locked(Shared())
    /// The OS's recent writes, so that the watcher never reacts to its own (`OwnWrites`).
    let ownWrites = Locked(OwnWrites())
    /// Notes the OS wrote and the hashes it wrote them with, for `GitNotes` to commit with
    /// `sync: git` (only while a note holds exactly bytes the OS wrote: `GitWrites`).
    let gitWritten = Locked(GitWrites())
    /// Broadcast whenever a run leaves `inFlight`, for `shutdown` and `waitUntilIdle` to wait on.
    private let runEnded = NSCondition()
    let routingQueue: OperationQueue
    /// `runCap` slots shared by every queue's runs.
    private let runSlots = DispatchSemaphore(value: TaskEngine.runCap)
    /// The run's journal line, rows and daily lines.
    let telemetryBatch: TelemetryBatcher
    /// What each running agent touched, as the watcher and the MCP server saw it.
    let touches: RunTouches

    /// An engine over `vault`; `log` receives what the operator should see.
    /// This machine's name when the engine is a watcher's: it runs only the lanes and agents its
    /// machine note serves (`Machine.refusal`) and stamps `machine:` on the tasks it routes.
    /// `nil` (a foreground `run`, tests): every task, as a person asked.
    public let machine: String?
    /// How long a note being written must stay unchanged (`TaskEngine.typingPause` unless the
    /// engine was made with another).
    let typingPause: Double
    /// How long a task's text saved at its name after a conflict-like rename counts as an old copy
    /// (`TaskEngine.conflictRenameWindow` unless the engine was made with another).
    let conflictWindow: Double
    /// The first wait before a failed claim is tried again, in seconds (`TaskEngine.claimRetryFirst`
    /// unless the engine was made with another).
    let claimRetryFirst: Double

    /// An engine over `vault`; `log` receives what the operator should see; `machine` names this
    /// machine for a watcher (see `machine`).
    public convenience init(vault: Vault, runs: RunStore, routing: TaskRouting, executor: AgentExecuting, machine: String? = nil, log: @escaping @Sendable (EngineEvent) -> Void) {
        self.init(vault: vault, runs: runs, routing: routing, executor: executor, machine: machine, store: NoteStore(vault: vault), log: log)
    }

    /// An engine writing through `store` (tests give one with hooks).
    init(vault: Vault, runs: RunStore, routing: TaskRouting, executor: AgentExecuting, machine: String? = nil, store: NoteStore, typingPause: Double = TaskEngine.typingPause, conflictWindow: Double = TaskEngine.conflictRenameWindow, claimRetryFirst: Double = TaskEngine.claimRetryFirst, log: @escaping @Sendable (EngineEvent) -> Void) {
        self.vault = vault
        self.typingPause = typingPause
        self.conflictWindow = conflictWindow
        self.claimRetryFirst = claimRetryFirst
        self.machine = machine
        self.store = store
        self.runs = runs
        self.telemetry = TelemetryWriter(store: store)
        self.routing = routing
        self.executor = executor
        self.log = log
        telemetryBatch = TelemetryBatcher(telemetry: telemetry, log: log) { [ownWrites, gitWritten, routing] path, hash in
            ownWrites.withLock { $0.record(path, hash) }
            TaskEngine.recordGitWrite(path, hash, in: gitWritten, routing: routing)
        }
        touches = RunTouches(vault: vault)
        routingQueue = OperationQueue()
        routingQueue.name = "fbt.route"
        routingQueue.maxConcurrentOperationCount = 2
    }

    /// The largest task or handoff note the engine reads: no agent takes a prompt of megabytes, and
    /// a 16 MB task (under the 20 MB this was) kept the watcher routing it for minutes (an outside
    /// attack). Notes are indexed up to 20 MB all the same.
    public static let maxTaskBytes: Int64 = 1_048_576

    /// `bytes` as megabytes with one decimal (`1.6 MB`).
    static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }

    // MARK: Own writes

    /// Whether the note's current bytes are exactly what the OS last wrote there, recently
    /// (`OwnWrites`: every event a write causes is recognised, not only the first).
    public func isOwnWrite(path: String, hash: ContentHash) -> Bool {
        ownWrites.withLock { $0.holds(path, hash) }
    }

    /// The changes among `changes` that may be a running agent's work, for its `files`: none when
    /// no agent runs; never the OS's own last write of a note (looked at without forgetting it, so
    /// `consider` still recognises it). Call before `consider` sees the same changes.
    public func runTouchCandidates(_ changes: [FileChange]) -> [(path: String, change: TouchedFile.Change)] {
        guard touches.isWatching else { return [] }
        var found: [(path: String, change: TouchedFile.Change)] = []
        for change in changes {
            switch change.kind {
            case .changed:
                guard RunTouches.mayBeAgentWrite(change.path) else { continue }
                let mine = ownWrites.withLock { $0.hash(at: change.path) }
                if let mine, ((try? store.readIfPresent(change.path)) ?? nil)?.hash == mine { continue }
                found.append((change.path, .changed))
            case .removed:
                found.append((change.path, .deleted))
            case .renamed(let from):
                found.append((from, .deleted))
                found.append((change.path, .created))
            case .directoryAdded, .overflow:
                break
            }
        }
        return found.filter { RunTouches.mayBeAgentWrite($0.path) }
    }

    /// Attributes changes the watcher saw (from `runTouchCandidates`) to the runs in flight;
    /// `added` holds the paths the index saw for the first time (created rather than changed).
    public func recordRunTouches(_ candidates: [(path: String, change: TouchedFile.Change)], added: Set<String>) {
        touches.saw(candidates.map { ($0.path, $0.change == .changed && added.contains($0.path) ? .created : $0.change) })
    }

    /// Records a write of the OS, so that its event is recognized (`isOwnWrite`).
    func remember(_ path: String, _ hash: ContentHash) {
        ownWrites.withLock { $0.record(path, hash) }
        recordGitWrite(path, hash)
    }

    /// Records a write of the OS before it lands: the watcher's loop reads the event of a rename
    /// while the writer is still syncing the folder, so a write recorded only once it returned was
    /// most often not recognised (on a burst, two of a run's three task-note events). Recorded
    /// again by `remember` once written; a write that does not land leaves an entry no file matches.
    func announce(_ path: String, _ bytes: [UInt8]) {
        let hash = ContentHash(of: bytes)
        ownWrites.withLock { $0.record(path, hash) }
    }

    /// Records a write of the OS for `GitNotes` to commit, only while the vault's sync note says
    /// `sync: git`: only its rounds empty the table, and without them it grew by a path for every
    /// task and result note a long-running watcher wrote. Turning git sync off forgets what waited.
    func recordGitWrite(_ path: String, _ hash: ContentHash) {
        TaskEngine.recordGitWrite(path, hash, in: gitWritten, routing: routing)
    }

    private static func recordGitWrite(_ path: String, _ hash: ContentHash, in written: Locked<GitWrites>, routing: any TaskRouting) {
        let git = routing.sync?.mode == "git"
        written.withLock {
            if git { $0.record(path, hash) } else if !$0.isEmpty { $0.removeAll() }
        }
    }

    /// Takes a run off `inFlight` and wakes whoever waits for runs to end.
    func endRun(_ path: String) {
        let freed: [String] = state.withLock { state in
            let current = TaskEngine.follow(path, state.moved)
            _ = state.inFlight.removeValue(forKey: current)
            state.claimedHashes[path] = nil
            state.claimedHashes[current] = nil
            state.inFlightWords[path] = nil
            state.moved = state.moved.filter { TaskEngine.follow($0.key, state.moved) != current }
            let freed = state.waitingForPath.filter { state.moved[$0] == nil }
            state.waitingForPath.subtract(freed)
            return Array(freed)
        }
        runEnded.lock()
        runEnded.broadcast()
        runEnded.unlock()
        // The new notes that waited for this run to leave their path.
        for waiting in freed.sorted() {
            routingQueue.addOperation { [self] in consider(path: waiting) }
        }
    }

    /// The note at `path` was deleted (or moved out of the vault), also when the watcher saw the
    /// delete and the new note together (`rm` then `task new` at once: an outside attack): a note
    /// saved there next is new work unless its `created` says it is the old one (`oldCopy`).
    public func noteRemoved(_ path: String) {
        state.withLock { $0.claimedPrompts[path]?.removed = true }
    }

    /// A note the watcher saw renamed from `old` to `new`: the run store and a run in flight follow
    /// it (`followRename`); `true` when a run in flight followed. A rename to a name that is no
    /// note (`x.md~`, `x.md.bak`) is not the task moving: Emacs saves by renaming the note to its
    /// backup and writing a new one, and vim can too; followed, the run wrote its end into the
    /// backup, and the note saved at the old name — the editor's copy — ran the paid task again
    /// (an outside attack). Nothing follows it; the note written at the old name is the task. Nor
    /// is a rename to a sync tool's conflicting copy (`x.sync-conflict-….md`, `x (conflicted
    /// copy).md`): Syncthing resolves a conflict by renaming this machine's version so and putting
    /// the other machine's — perhaps an editor's stale save — at the name (round 34).
    public func noteRenamed(from old: String, to new: String) -> Bool {
        guard !old.hasSuffix(".md") || (new.hasSuffix(".md") && !SyncConflict.isCopy(new)) else { return false }
        try? runs.renameTask(from: old, to: new)
        followLeft(from: old, to: new)
        return followRename(from: old, to: new)
    }

    /// A task note renamed or moved (in Obsidian, or `mv`) from `old` to `new`: a run in flight for
    /// it follows it (its writes, result, daily line and telemetry name the new path), and `true` is
    /// returned; without one, `false` (the note is then considered at its new path like any other).
    public func followRename(from old: String, to new: String) -> Bool {
        state.withLock { state in
            // Obsidian names a new note when its title is typed: still the note being written.
            // Its look, armed for the old path, is armed again for the new one when it is considered.
            if old != new, var writing = state.beingWritten.removeValue(forKey: old) {
                writing.armed = nil
                writing.logged = false
                state.beingWritten[new] = writing
            }
            // An editor's old copy of the task is saved under its new name, and a note saved at
            // the old one is new work (`oldCopy`) — unless the rename looks like a sync tool's
            // conflicting copy: then the claim stays at the old name for a while too.
            // A claim left at a renamed task's name (`movedTo`) moves as it is: the note renamed
            // is still the other machine's old copy (renamed, it ran as new work: an outside attack).
            if old != new, var claimed = state.claimedPrompts.removeValue(forKey: old) {
                state.claimedPrompts[new] = claimed
                if claimed.movedTo == nil, TaskEngine.mayBeConflictRename(from: old, to: new) {
                    // While its run goes on, the other machine's copy may come at any time; the
                    // name is looked at again when the run ends (a note there is judged then; with
                    // none, the claim goes as for a delete). After the run, for `conflictRenameWindow`.
                    let running = state.inFlight[old] != nil
                    claimed.movedTo = new
                    claimed.windowFrom = running ? nil : Date().timeIntervalSince1970
                    claimed.confirmed = false
                    state.claimedPrompts[old] = claimed
                    if running { state.waitingForPath.insert(old) }
                }
            }
            guard old != new, let token = state.inFlight.removeValue(forKey: old) else { return false }
            state.inFlight[new] = token
            state.claimedHashes[old] = nil
            // A note moved back where it was: drop the entry that pointed away from it.
            state.moved.removeValue(forKey: new)
            state.moved[old] = new
            return true
        }
    }

    /// Where the task first claimed at `path` is now (`followRename`).
    func currentPath(_ path: String) -> String {
        state.withLock { TaskEngine.follow(path, $0.moved) }
    }

    /// `path` followed through `moved`, a bounded number of steps (a chain of renames, never a loop).
    static func follow(_ path: String, _ moved: [String: String]) -> String {
        var current = path
        for _ in 0..<16 {
            guard let next = moved[current] else { break }
            current = next
        }
        return current
    }

    /// `task` at the path its note has now (`followRename`).
    func following(_ task: TaskNote) -> TaskNote {
        let path = currentPath(task.path)
        return path == task.path ? task : TaskNote(path: path, snapshot: task.snapshot, note: task.note, kind: task.kind, approval: task.approval)
    }

    /// Waits until no run is in flight or `deadline` passes; returns whether none is.
    private func waitForRunsToEnd(until deadline: Date) -> Bool {
        runEnded.lock()
        defer { runEnded.unlock() }
        // `endRun` broadcasts under `runEnded`, after the change: a wake-up cannot slip in between.
        while !state.withLock({ $0.inFlight.isEmpty }) {
            if !runEnded.wait(until: deadline) { return state.withLock { $0.inFlight.isEmpty } }
        }
        return true
    }

    // MARK: Considering a changed note

    /// What `consider` did with a note.
    public enum Consideration: Equatable, Sendable {
        /// Nothing to do (not a task, not ready, or a status that asks for nothing).
        case ignored
        /// The OS's own write.
        case ownWrite
        /// A run was claimed and started.
        case started(runID: String)
        /// A run of the task is already in flight.
        case alreadyActive
        /// A person cancelled: its agent is being stopped.
        case cancelling
        /// Not runnable as it stands (too large, binary, bad frontmatter), with the reason.
        case rejected(String)
        /// Begun empty and changed within `typingPause`: a person is typing it; looked at again once
        /// it has been left alone that long.
        case beingWritten
    }

    /// Looks at a note that changed and starts, resumes or cancels work as its status asks.
    /// Runs in the background unless `wait` is set (the foreground `run` command).
    @discardableResult
    public func consider(path: String, wait: Bool = false, force: Bool = false) -> Consideration {
        guard path.hasSuffix(".md"), !Vault.isIgnored(path) else { return .ignored }
        // A sync tool's conflicting copy is surfaced as a conflict note by the watcher, never run.
        if SyncConflict.isCopy(path) { return .ignored }
        // A prompt is never megabytes: a huge file in a work folder is reported once, not read.
        if TaskNote.isInWorkFolder(path), let absolute = try? vault.resolve(path), let st = (try? FileSystem.status(absolute)) ?? nil,
           st.size > TaskEngine.maxTaskBytes {
            let stamp = ContentHash(value: UInt64(bitPattern: st.size) &* 31 &+ UInt64(bitPattern: st.mtimeNanoseconds))
            if (try? runs.wasRejected(taskPath: path, hash: stamp)) != true {
                let message = "\(TaskEngine.megabytes(st.size)) is too large for a task note (the limit is \(TaskEngine.megabytes(TaskEngine.maxTaskBytes))); it is left alone"
                log(EngineEvent(level: .error, message: "\(path): \(message)"))
                try? runs.recordRejection(taskPath: path, hash: stamp, error: message)
            }
            return .rejected("too large")
        }
        let snapshot: NoteSnapshot
        do {
            guard let s = try store.readIfPresent(path) else {
                cancelIfRunning(path, reason: "the task note was deleted")
                // What is saved at the path next is new work, not an old copy of this task (an
                // editor's rename to its backup is not followed, and leaves no consider of the path).
                noteRemoved(path)
                return .ignored
            }
            snapshot = s
        } catch {
            log(EngineEvent(level: .warning, message: "\(path): cannot read: \(error)"))
            return .ignored
        }
        // The OS's own write, come back as an event, is nothing to do — unless it says `routed` or
        // `running` and no run of it is in flight: a note moved to `.trash/` (its run cancelled)
        // and restored holds the OS's own bytes, and said `running` for ever (an outside tour).
        if !force && isOwnWrite(path: path, hash: snapshot.hash) && !isStaleInFlight(path: path, bytes: snapshot.bytes) { return .ownWrite }
        // A note that looked like work before the OS adopted the vault, unedited since: the
        // person's own, left exactly as it is (`AdoptedNotes`); `run` asks for it by name.
        if !wait, let found = state.withLock({ state -> String?? in
            if state.adopted == nil { state.adopted = AdoptedNotes.load(vault: vault) }
            guard let found = state.adopted?[snapshot.hash] else { return nil }
            return state.warnedAdopted.insert(path).inserted ? .some(found) : .some(nil)
        }) {
            if found != nil {
                log(EngineEvent(level: .info, message: "\(path): left alone: it was in the vault before the OS adopted it; edit it (or 'fuckbigtech run' it) to run it"))
            }
            return .ignored
        }
        if !TaskEngine.isText(snapshot.bytes) { return leaveBinary(path: path, snapshot: snapshot) }
        // A git merge left two versions in it (the watcher writes its conflict note): never run.
        if TaskNote.isInWorkFolder(path) && SyncConflict.hasMergeMarkers(snapshot.bytes) { return .rejected("merge-conflict markers") }

        let note: Note
        do {
            note = try Note.parse(bytes: snapshot.bytes)
        } catch {
            guard TaskNote.isInWorkFolder(path) else { return .ignored }
            return reject(path: path, snapshot: snapshot, error: error)
        }
        guard let kind = TaskNote.kind(of: note, path: path) else { return .ignored }
        // A note typed task or handoff outside the work folders, with a merge in it: never run either.
        if SyncConflict.hasMergeMarkers(snapshot.bytes) { return .rejected("merge-conflict markers") }
        // A work note with another name on disk (a hard link into `Private/`, say) is left alone,
        // unwritten: judged by one name it could go off the machine, and any write of the OS's (a new
        // file renamed over the name) would part the two names and leave the other one to run.
        if let shared = Privacy.sharedFile(snapshot.status) {
            if state.withLock({ $0.warnedShared.insert(path).inserted }) {
                log(EngineEvent(level: .warning, message: "\(path): not run: \(shared); give it one name"))
            }
            return .rejected("another name on disk")
        }
        let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: kind)
        guard let status = task.status else {
            return reject(path: path, snapshot: snapshot, error: task.statusProblem ?? "unknown status '\(TaskNote.visible(note.text("status") ?? ""))'; use new, draft, review (with approved: true) or cancelled", keepStatus: true)
        }
        switch status {
        case .new:
            // The very text a run was claimed from, put back (git restore, checkout, stash, reset;
            // or while the watcher was stopped): not new work.
            let restored = !wait && !force && TaskEngine.mayBeOldCopy(note) ? runClaimed(from: task.snapshot.bytes, at: task.path) : nil
            // A note git tracks is judged so before the old-copy rule below: that rule writes the
            // run's end back, and a `task new` note (its `created:` makes it one an old copy may
            // be) put back by git and written again stood in the way of the person's next
            // `stash pop` and checkout, each time they cleared it (round 125).
            if let restored, GitNotes.tracks(task.path, vaultRoot: vault.root), let kept = keepRestoredCopy(task, of: restored) { return kept }
            // An editor's old copy of a task that ran here, saved over the OS's lines: not new work.
            if TaskEngine.mayBeOldCopy(note), let runID = oldCopy(task), let kept = keepOldCopy(task, of: runID) { return kept }
            if let restored, let kept = keepRestoredCopy(task, of: restored) { return kept }
            // A process still has the note open for writing: what is there may be half of it, and
            // the OS's write would swap the writer's file away. It is looked at again when the
            // writer closes it (an outside attack: a script pausing 3 s mid-write had its half task
            // run, and the rest of the note lost).
            let beingWrittenNow = !wait && !force && hasWriters(path)
            if beingWrittenNow && task.notReadyReason == nil {
                if state.withLock({ $0.warnedOpen.insert(path).inserted }) {
                    log(EngineEvent(level: .info, message: "\(path): another process has it open for writing; it runs when that process closes it"))
                }
                recheckWhenWritten(path)
                return .beingWritten
            }
            state.withLock { state in
                _ = state.warnedOpen.remove(path)
                state.writerRechecks[path] = nil
            }
            if let why = task.notReadyReason {
                // An empty note closed (Obsidian's new note) is begun; one a script still has open,
                // its text on the way, is not (a task written whole waited 5 s: an outside tour).
                // Read again first: a writer that finished its save between the read above and the
                // look for writers left an empty note read and no writer seen, and the task it wrote
                // waited 5 s as one being typed (the bench's pick-up maximum of ~5,000 ms).
                if !wait && !beingWrittenNow, ((try? store.readIfPresent(path)) ?? nil)?.hash == snapshot.hash { noteBegun(path, hash: snapshot.hash) }
                // Said once: a prompt of headings only waits, and nothing else would say why.
                if why.contains("headings"), state.withLock({ $0.warnedNotReady.insert(path).inserted }) {
                    log(EngineEvent(level: .info, message: "\(path): waits: \(why); write the task as text below them"))
                }
                return .ignored
            }
            // A note that is work by its `type` outside the work folders was typed as a note first:
            // it is held as one begun empty is (its first version as work may be half-written).
            if !wait && !force, !TaskNote.isInWorkFolder(path) { noteBegun(path, hash: snapshot.hash, onlyIfNew: true) }
            if !wait && !force, stillBeingWritten(path, hash: snapshot.hash) { return .beingWritten }
            if let problem = task.propertyProblem { return reject(path: path, snapshot: snapshot, error: problem, keepStatus: true) }
            return start(task, wait: wait, approval: ApprovalCheck.verify(task, runs: runs, store: store))
        case .review where task.isApproved:
            // `approved: true` counts only as a change after the OS showed this task in review; a
            // note born in review and approved is routed like a new one (and waits for a person).
            let verdict = ApprovalCheck.verify(task, runs: runs, store: store)
            if verdict.approval == nil && task.notReadyReason != nil { return .ignored }
            return start(task, wait: wait, approval: verdict)
        case .cancelled:
            return cancelIfRunning(path, reason: "cancelled by a person") ? .cancelling : .ignored
        case .routed, .running:
            return catchUp(task)
        case .failed where isFixedAfterRejection(task):
            // The person fixed the frontmatter the OS reported and left the `status: failed` and
            // `error` it wrote: the fix is the go-ahead (the routed write clears the old error).
            if task.notReadyReason != nil { return .ignored }
            // Fixed while it is typed: held like any note being written, whether or not this
            // watcher saw it begin (a restart, a first version with text: an outside attack).
            if !wait && !force { noteBegun(path, hash: snapshot.hash, onlyIfNew: true) }
            if !wait && !force, stillBeingWritten(path, hash: snapshot.hash) { return .beingWritten }
            log(EngineEvent(level: .info, message: "\(path): its frontmatter parses now; running it"))
            return start(task, wait: wait, approval: ApprovalCheck.verify(task, runs: runs, store: store))
        default:
            return .ignored
        }
    }

    /// Work notes among `paths` changed less than `within` seconds ago are held as notes being
    /// written (`stillBeingWritten`) when next considered: they run once unchanged for `typingPause`.
    ///
    /// With `watchingSince` (when the watcher's watches were all set): only the notes of
    /// `listedBefore` (listed before they were set) and those last changed before then; a note made
    /// after it is seen by the watcher, begun or written whole. (The file system's clock may lag
    /// the process's by a tick: a note changed up to 10 ms before counts as after.)
    public func holdRecentlyChanged(_ paths: [String], within: Double = 60, listedBefore: Set<String>? = nil, watchingSince: Double? = nil) {
        let now = Date().timeIntervalSince1970
        for path in paths where path.hasSuffix(".md") {
            guard let absolute = try? vault.resolve(path), let status = (try? FileSystem.status(absolute)) ?? nil,
                  now - Double(status.mtimeNanoseconds) / 1e9 < within else { continue }
            if let watchingSince, !(listedBefore?.contains(path) ?? false),
               Double(status.mtimeNanoseconds) / 1e9 >= watchingSince - 0.01 { continue }
            // A hash no note has: its first look finds it changed, and holds it from then.
            noteBegun(path, hash: ContentHash(value: 0), onlyIfNew: true)
        }
    }

    /// A work note with no prompt yet: a person began it (Obsidian's new note is an empty file,
    /// named when its title is typed), so its next versions are saves of a note being typed.
    /// `onlyIfNew`: record it only when nothing is recorded for the path yet.
    private func noteBegun(_ path: String, hash: ContentHash, onlyIfNew: Bool = false) {
        let now = ProcessInfo.processInfo.systemUptime
        state.withLock { state in
            if onlyIfNew, state.beingWritten[path] != nil { return }
            if state.beingWritten[path] == nil, state.beingWritten.count >= 4096 {
                // Begun and never written: forgotten after ten minutes, then the oldest, and never
                // more than 4,096 — but a note held now (a look armed for it) is never forgotten.
                state.beingWritten = state.beingWritten.filter { $0.value.armed != nil || now - $0.value.lastChange < 600 }
                while state.beingWritten.count >= 4096, let oldest = state.beingWritten.filter({ $0.value.armed == nil }).min(by: { $0.value.lastChange < $1.value.lastChange }) {
                    state.beingWritten[oldest.key] = nil
                }
            }
            var entry = state.beingWritten[path] ?? BeingWritten(hash: hash, lastChange: now)
            entry.hash = hash
            entry.lastChange = now
            state.beingWritten[path] = entry
        }
    }

    /// Whether a ready note begun empty (`noteBegun`) changed less than `typingPause` seconds ago:
    /// Obsidian saves what a person types every few seconds, and each save of "Fix the" ran as a
    /// task, paid, and one typed "… my salary is …" before its `#private` tag went to a cloud agent
    /// (an outside tour). It runs once it has stayed unchanged that long; a look is armed for then.
    /// A note written whole (a script, `task new`, an agent over MCP) is never held.
    private func stillBeingWritten(_ path: String, hash: ContentHash) -> Bool {
        let now = ProcessInfo.processInfo.systemUptime
        let (wait, arm, log): (Bool, Double?, Bool) = state.withLock { state in
            guard var entry = state.beingWritten[path] else { return (false, nil, false) }
            if entry.hash != hash {
                entry.hash = hash
                entry.lastChange = now
            }
            let due = entry.lastChange + typingPause
            guard now < due else {
                state.beingWritten[path] = nil
                return (false, nil, false)
            }
            let arm: Double? = entry.armed == nil ? due : nil
            if arm != nil { entry.armed = due }
            let log = !entry.logged
            entry.logged = true
            state.beingWritten[path] = entry
            return (true, arm, log)
        }
        if log {
            self.log(EngineEvent(level: .info, message: "\(path): still being written; it runs once it has not changed for \(Int(typingPause)) s"))
        }
        if let arm {
            DispatchQueue.global().asyncAfter(deadline: .now() + max(0, arm - now) + 0.01) { [self] in
                let stillHere = state.withLock { state -> Bool in
                    guard state.beingWritten[path] != nil else { return false }
                    state.beingWritten[path]?.armed = nil
                    return state.accepting
                }
                if stillHere { consider(path: path) }
            }
        }
        return wait
    }

    /// A note held open for writing is looked at again when its writer closes it — inotify says
    /// so, a polling watcher cannot (nothing of the file changes at the close): a task a poll caught
    /// mid-write never ran (the bench's polling burst, in CI). So it is also looked at again after
    /// 0.25 s, then twice as long each time up to 5 s, while a writer holds it.
    private func recheckWhenWritten(_ path: String) {
        let looks: Int? = state.withLock { state in
            guard state.accepting, (state.writerRechecks[path] ?? 0) >= 0 else { return nil }
            let looks = (state.writerRechecks[path] ?? 0) + 1
            // Negative while a look is pending: one at a time.
            state.writerRechecks[path] = -looks
            return looks
        }
        guard let looks else { return }
        let delay = min(5, 0.25 * pow(2, Double(min(looks - 1, 8))))
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
            let go = state.withLock { state -> Bool in
                guard let pending = state.writerRechecks[path], pending < 0 else { return false }
                state.writerRechecks[path] = -pending
                return state.accepting
            }
            if go { consider(path: path) }
        }
    }

    /// A claim that failed (the run store could not be written: a full disk, a read-only state
    /// folder) is tried again later — after 5 s, then twice as long each time up to 5 minutes —
    /// rather than the task waiting for the next edit or restart (an outside attack: tasks written
    /// while the disk was full never ran once it had room again).
    private func retryClaim(_ path: String, after error: Error) {
        let failures = state.withLock { state -> Int in
            let failures = (state.claimRetries[path] ?? 0) + 1
            state.claimRetries[path] = failures
            return failures
        }
        let delay = min(TaskEngine.claimRetryLongest, claimRetryFirst * pow(2, Double(min(failures - 1, 16))))
        log(EngineEvent(level: .error, message: "\(path): cannot claim: \(error); trying again in \(Int(delay)) s"))
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
            guard state.withLock({ $0.accepting && $0.claimRetries[path] == failures }) else { return }
            consider(path: path)
        }
    }

    /// Records the end of a run in the run store. When that cannot be written (a full disk), it is
    /// tried again as a failed claim is — after 5 s, then twice as long each time up to 5 minutes —
    /// and the note is looked at again once it is: the run stayed `claimed` in the store, and the
    /// task was skipped at every edit until the watcher restarted (an outside attack on a full disk).
    private func recordEnd(_ record: RunRecord, path: String, attempt: Int = 1) {
        do {
            try runs.update(record)
        } catch {
            let delay = min(TaskEngine.claimRetryLongest, claimRetryFirst * pow(2, Double(min(attempt - 1, 16))))
            log(EngineEvent(level: .error, message: "\(path): run store: cannot record the end of run \(record.runID): \(error); trying again in \(Int(delay.rounded(.up))) s"))
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
                guard state.withLock({ $0.accepting }) else { return }
                recordEnd(record, path: path, attempt: attempt + 1)
            }
            return
        }
        guard attempt > 1 else { return }
        log(EngineEvent(level: .info, message: "\(path): run store: recorded the end of run \(record.runID) (\(record.state.rawValue))"))
        let current = currentPath(path)
        DispatchQueue.global().async { [self] in _ = consider(path: current) }
    }

    /// Closes a run's budget reservation (`TaskRouting.closeReservation`). When the ledger cannot
    /// be written (another process holds it locked, a full disk), the run's end goes on with what
    /// the ledger will record — the reported cost, else the whole reservation for a started agent —
    /// and the close is tried again as a run's end is (`recordEnd`): before, the failure was
    /// dropped, and the reservation stayed open, counted against the caps, while the task said
    /// `done` with its cost, until the watcher restarted (round 147).
    /// `reserved: false`: the run reserved nothing and reported `cost`, recorded as spent
    /// (`TaskRouting.recordUnreservedSpend`), with the same retries.
    @discardableResult
    private func closeReservation(_ runID: String, of path: String, lane: Lane, reservedUSD: Double, cost: Double?, agentStarted: Bool, reserved: Bool = true, attempt: Int = 1) -> BudgetSettlement? {
        do {
            let settlement = reserved ? try routing.closeReservation(runID: runID, cost: cost, agentStarted: agentStarted)
                : try cost.flatMap { try routing.recordUnreservedSpend(runID: runID, task: path, lane: lane, cost: $0) }
            if attempt > 1 { log(EngineEvent(level: .info, message: "\(path): budget ledger: " + (reserved ? "closed the reservation of run \(runID)" : "recorded what run \(runID) reported spending"))) }
            return settlement
        } catch {
            let delay = min(TaskEngine.claimRetryLongest, claimRetryFirst * pow(2, Double(min(attempt - 1, 16))))
            let what = reserved ? "cannot close the reservation of run \(runID): \(error); it counts as reserved until it is" : "cannot record what run \(runID) reported spending: \(error); it is not counted until it is"
            log(EngineEvent(level: .error, message: "\(path): budget ledger: \(what); trying again in \(Int(delay.rounded(.up))) s"))
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
                guard state.withLock({ $0.accepting }) else { return }
                closeReservation(runID, of: path, lane: lane, reservedUSD: reservedUSD, cost: cost, agentStarted: agentStarted, reserved: reserved, attempt: attempt + 1)
            }
            guard attempt == 1 else { return nil }
            return BudgetSettlement.closing(runID: runID, task: path, lane: lane, reservedMicros: BudgetLedger.micros(reservedUSD), actualUSD: cost, agentStarted: agentStarted)
        }
    }

    /// Why a waiting task is withdrawn when its note is no work note any more (moved out of `Tasks/`).
    static let noLongerATask = "no longer a task"

    static let claimRetryFirst: Double = 5
    static let claimRetryLongest: Double = 300

    /// Whether a process has the note at `path` open for writing now (a read lease is refused
    /// then: `FileSystem.waitUntilNoWriters`). `false` where leases cannot tell.
    private func hasWriters(_ path: String) -> Bool { store.hasWriters(path) }

    /// Whether the note at `path` says its run is routed or running while no run of it is in
    /// flight here (read only then: during a run, every echo of its writes has one).
    private func isStaleInFlight(path: String, bytes: [UInt8]) -> Bool {
        guard state.withLock({ $0.inFlight[path] == nil }), let note = try? Note.parse(bytes: bytes),
              let status = TaskStatus(property: note.text("status")), status == .routed || status == .running else { return false }
        return true
    }

    @discardableResult
    private func cancelIfRunning(_ path: String, reason: String) -> Bool {
        guard let token = state.withLock({ $0.inFlight[path] }) else { return false }
        log(EngineEvent(level: .info, message: "\(path): stopping its agent (\(reason))"))
        token.cancel()
        return true
    }

    // MARK: Running

    private func start(_ given: TaskNote, wait: Bool, approval: ApprovalCheck.Verdict) -> Consideration {
        if !state.withLock({ $0.accepting }) { return .ignored }
        // A new note saved where a task was when its run began, the task since renamed (Obsidian's
        // "Untitled.md" renamed while it ran and made again at once): that run still answers to
        // this path until it ends, so this note is claimed then. Claimed at once, the renamed task's
        // run took it over: the renamed task ran twice and the new one never (an outside attack).
        if let movedTo = state.withLock({ state -> String? in
            guard let to = state.moved[given.path], TaskEngine.follow(given.path, state.moved) != given.path else { return nil }
            state.waitingForPath.insert(given.path)
            return to
        }) {
            log(EngineEvent(level: .info, message: "\(given.path): waits for the run of the task that was here (now \(movedTo)) to end"))
            return .alreadyActive
        }
        let task: TaskNote = {
            var task = given
            task.approval = approval.approval
            return task
        }()
        let claimed: RunRecord?
        do {
            claimed = try runs.claim(taskPath: task.path, kind: task.kind.rawValue, taskHash: task.snapshot.hash, attempt: ownAttempts(task) + 1)
        } catch {
            retryClaim(task.path, after: error)
            return .ignored
        }
        state.withLock { _ = $0.claimRetries.removeValue(forKey: task.path) }
        guard let record = claimed else {
            // Another note at the path of a run in flight here (it does not carry that run's id):
            // a new note saved under a running task's old name, the move not seen as one. Claimed
            // once that run has ended (`endRun`), not dropped.
            if let active = (try? runs.activeRun(taskPath: task.path)) ?? nil, task.note.text("run_id") != active.runID,
               state.withLock({ state -> Bool in
                   guard state.inFlight[task.path] != nil, state.claimedHashes[task.path] != task.snapshot.hash else { return false }
                   state.waitingForPath.insert(task.path)
                   return true
               }) {
                if state.withLock({ $0.waitLogged.insert(active.runID).inserted }) {
                    log(EngineEvent(level: .info, message: "\(task.path): waits for run \(active.runID), which has this path, to end"))
                }
            }
            return .alreadyActive
        }
        if let approved = task.approval {
            // The approval is spent on this run: the review run is no longer the task's latest.
            do { try runs.recordApproval(runID: record.runID, reviewRunID: approved.reviewRunID) } catch {
                log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)"))
            }
        }
        let token = CancelToken()
        let mark = PromptMark(task.prompt)
        state.withLock { state in
            state.inFlight[task.path] = token
            state.claimedHashes[task.path] = task.snapshot.hash
            state.claimedOrder += 1
            state.claimedPrompts[task.path] = ClaimedPrompt(runID: record.runID, prompt: mark, order: state.claimedOrder, at: Date().timeIntervalSince1970)
            state.inFlightWords[task.path] = TaskEngine.words(of: task.prompt)
            if state.claimedPrompts.count > TaskEngine.claimedPromptsKept {
                let cut = state.claimedOrder - TaskEngine.claimedPromptsKept * 3 / 4
                state.claimedPrompts = state.claimedPrompts.filter { $0.value.order > cut }
            }
        }
        if wait {
            route(task, record: record, token: token, unapproved: approval.refusal, waitForRun: true)
        } else {
            routingQueue.addOperation { [self] in
                route(task, record: record, token: token, unapproved: approval.refusal, waitForRun: false)
            }
        }
        return .started(runID: record.runID)
    }

    /// Runs at once across all lanes and agents: four per core (agents mostly wait — on a model, the
    /// network or the disk — but a burst of local ones must not starve the watcher's own thread).
    public static let runCap = max(2, 4 * ProcessInfo.processInfo.activeProcessorCount)

    /// The queue a planned run waits in: its agent's own when the agent note sets `concurrency`
    /// (as wide as that, within `runCap`), else its lane's (2/2/1/1, as before).
    private func queue(for plan: RoutePlan) -> (key: String, queue: OperationQueue) {
        let own = plan.agent.isEmpty ? nil : routing.concurrency(agent: plan.agent)
        let key = own == nil ? plan.lane : "agent:" + plan.agent
        let width = min(TaskEngine.runCap, max(1, own ?? routing.concurrency(lane: plan.lane)))
        let queue: OperationQueue = state.withLock {
            if let queue = $0.laneQueues[key] { return queue }
            let queue = OperationQueue()
            queue.name = "fbt.lane." + key
            $0.laneQueues[key] = queue
            return queue
        }
        // An agent note edited while the watcher runs changes the width of its queue from now on.
        if queue.maxConcurrentOperationCount != width { queue.maxConcurrentOperationCount = width }
        return (key, queue)
    }

    /// `unapproved` says why the note's `approved: true` does not count, when it does not;
    /// `takeover` is the expired claim (git or claim file) of another machine this run takes over (`takeOver`).
    func route(_ task: TaskNote, record initial: RunRecord, token: CancelToken, unapproved: String?, waitForRun: Bool, takeover: (any TakenOverClaim)? = nil) {
        // An approval answers for the packet the person could read in review: a note that came into
        // it since (a link filled in or shadowed by a new note, a new memory match) or changed means
        // they approved something else; the task goes back to review.
        if let approval = task.approval, let outdated = approvalOutdated(task, approval: approval, runID: initial.runID) {
            var withdrawn = task
            withdrawn.approval = nil
            let why = ApprovalCheck.notCounted(outdated)
            route(withdrawn, record: initial, token: token, unapproved: unapproved.map { $0 + "; " + why } ?? why, waitForRun: waitForRun, takeover: takeover)
            return
        }
        var record = initial
        let planned: RoutePlan = {
            var plan = routing.plan(task, runID: record.runID)
            // Write permissions follow the verified approval only, and only an approval of what the
            // run may do (the router's `writesApproved`), whatever a router says — given for the
            // agent the review named: one cooling down meanwhile moved the task to the next agent of
            // its chain, which got write permissions no person gave it (round 47). That agent runs
            // it read-only. (A review in the human lane that named no agent — "the default agent
            // runs it" — answers for the one that runs it.)
            let reviewedAgent = task.approval.flatMap { (try? runs.run(id: $0.reviewRunID)) ?? nil }?.agent ?? ""
            plan.approved = plan.approved && task.approval != nil && (reviewedAgent.isEmpty || reviewedAgent == plan.agent)
            if let unapproved {
                plan.reason += "; " + unapproved
                if case .review(let why) = plan.action { plan.action = .review(why + "; " + unapproved) }
            }
            return plan
        }()
        if let machine, let refusal = Machine.refusal(machine: machine, lane: planned.lane, agent: planned.agent, machines: routing.machines) {
            // Another machine's work: forget the claim (nothing was written or started) and say so.
            routing.settle(planned, cost: nil)
            do { try runs.release(runID: record.runID) } catch { log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)")) }
            endRun(task.path)
            log(EngineEvent(level: .info, message: "\(task.path): not for this machine: \(refusal)"))
            return
        }
        // The shared claim (`sync: git`): one machine's push creates the claim ref, every other one is
        // refused; `sync: files`: a claim file, decided after the settle window (the run is routed again then).
        if !takeSharedClaim(task, record: record, plan: planned, takeover: takeover, token: token, waitForRun: waitForRun, again: { [self] in
            route(task, record: initial, token: token, unapproved: unapproved, waitForRun: waitForRun, takeover: takeover)
        }) { return }
        let plan: RoutePlan = {
            var plan = takeover.map { TaskEngine.takeoverPlan(planned, task: task, from: $0) } ?? planned
            if case .run = plan.action { plan.inputStamps = TaskEngine.stamps(of: plan.sources, vault: vault) }
            return plan
        }()
        record.lane = plan.lane
        record.agent = plan.agent
        record.model = plan.recordedModel
        record.rule = plan.rule
        record.reason = plan.reason

        var routeProperties = [
            Property("route_lane", .string(plan.lane)),
            Property("route_agent", .string(plan.agent)),
            Property("route_rule", .string(plan.rule)),
            Property("route_reason", .string(plan.reason)),
        ] + plan.extraProperties
        routeProperties.append(Property("run_id", .string(record.runID)))
        // Which machine took it: another machine's watcher leaves its in-flight status alone.
        if let machine { routeProperties.append(Property("machine", .string(machine))) }
        var approvalUnset: [String] = []
        if let approval = task.approval {
            // Who approved and when, read from the change that set `approved: true`.
            routeProperties.append(Property("approved_by", .string(approval.by)))
            routeProperties.append(Property("approved_at", .datetime(LocalTime.dateTime(approval.at))))
        } else if task.isApproved {
            // An approval that does not count is taken back, so the note says what the OS believes.
            routeProperties.append(Property("approved", .bool(false)))
            approvalUnset = ["approved_by", "approved_at"]
        }

        switch plan.action {
        case .review(let why), .blocked(let why), .failed(let why):
            let isReview: Bool = { if case .review = plan.action { return true }; return false }()
            let isFailure: Bool = { if case .failed = plan.action { return true }; return false }()
            record.state = isReview ? .review : (isFailure ? .failed : .blocked)
            record.error = isReview ? nil : why
            // `status` reads what a review asks for in the run's reason: a review decided after the
            // router (a lane that cannot run here, an agent cooling down) was not in it, and
            // `status` asked for an approval where the note said `set status: new` (round 47).
            if isReview, !(record.reason ?? "").contains(why) { record.reason = (record.reason.map { $0 + "; " } ?? "") + "review: " + why }
            record.finishedAt = Date().timeIntervalSince1970
            var props = routeProperties + [Property("status", .string(record.state.rawValue))]
            if isReview {
                props.append(Property("route_reason", .string(why)))
                props.append(Property("approved", .bool(false)))
            } else {
                props.append(Property("error", .string(why)))
            }
            routing.settle(plan, cost: nil)
            finishWithoutRun(task, record: record, properties: props, unset: approvalUnset + (plan.contextTruncation == nil ? ContextTruncation.propertyNames : []),
                             reviewInputs: isReview ? plan.sources : [])
            return
        case .run:
            break
        }

        let routeUnset = ["error", "result"] + approvalUnset + (plan.contextTruncation == nil ? ContextTruncation.propertyNames : [])
        // Routed and running in one write: a run that reserves no money, in a lane with room now,
        // starts at once, so `execute` writes the route together with `status: running`. `routed` is
        // written on its own only when the run waits (a full lane, or a budget reservation first).
        let target = waitForRun ? nil : queue(for: plan)
        let startsNow = plan.reservationUSD <= 0 && (target.map { takeSlot($0.key, width: $0.queue.maxConcurrentOperationCount) } ?? true)
        if !startsNow {
            let routed = updateTask(task.path, set: routeProperties + [Property("status", .string(TaskStatus.routed.rawValue))], unset: routeUnset) { status in
                status == .cancelled ? "cancelled before it was routed" : nil
            }
            if case .stopped(let why) = routed {
                routing.settle(plan, cost: nil)
                record.state = .cancelled
                record.error = why
                record.finishedAt = Date().timeIntervalSince1970
                finishWithoutRun(task, record: record, properties: nil)
                return
            }
            do { try runs.update(record) } catch { log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)")) }
        }
        if task.kind == .handoff, let original = Handoffs.taskPath(of: task.note, vault: vault, from: task.path) {
            // The original task records the chain, also for handoffs written by hand from the template.
            do { try Handoffs.recordOnTask(vault: vault, taskPath: original, handoffPath: task.path) } catch {
                log(EngineEvent(level: .warning, message: "\(original): could not record the handoff: \(error)"))
            }
        }
        log(EngineEvent(level: .info, message: "\(task.path): routed to \(plan.agent) (\(plan.lane)) by \(plan.rule)"))

        let routedRecord = record
        let routeWrite = startsNow ? RouteWrite(set: routeProperties, unset: routeUnset) : nil
        guard let target else {
            execute(task, record: routedRecord, plan: plan, token: token, approved: task.approval != nil, waitForRun: true, routeWrite: routeWrite)
            return
        }
        if !startsNow { state.withLock { $0.laneLoad[target.key, default: 0] += 1 } }
        target.queue.addOperation { [self] in
            defer { state.withLock { $0.laneLoad[target.key, default: 1] -= 1 } }
            // The global cap: a queue thread waits here for a run slot (released as any run ends).
            runSlots.wait()
            defer { runSlots.signal() }
            execute(task, record: routedRecord, plan: plan, token: token, approved: task.approval != nil, waitForRun: false, routeWrite: routeWrite)
        }
    }

    /// The route's properties when they are written together with `status: running` (see `route`).
    struct RouteWrite {
        var set: [Property]
        var unset: [String]
    }

    /// Counts a run into its queue when the queue can start it at once; `false` (nothing counted) when
    /// the queue's runs already fill it and this one would wait.
    private func takeSlot(_ name: String, width: Int) -> Bool {
        state.withLock {
            let load = $0.laneLoad[name, default: 0]
            guard load < width else { return false }
            $0.laneLoad[name] = load + 1
            return true
        }
    }

    private func execute(_ task: TaskNote, record initial: RunRecord, plan routedPlan: RoutePlan, token: CancelToken, approved: Bool, waitForRun: Bool = false, routeWrite: RouteWrite? = nil) {
        var plan = routedPlan
        // The watcher is stopping: a run that waited in its lane's queue does not start now (its
        // agent would be stopped with the watcher a moment later and charged its whole reservation,
        // an outside tour). Still `claimed`, it runs at the next start (`recover`), as after a crash.
        if !state.withLock({ $0.accepting }) {
            endRun(task.path)
            return
        }
        // Edited while it waited for its turn: the run takes the note as it is now, not as it was
        // routed (set back to draft: it does not run; a new prompt or routing property: routed anew).
        func editedMeanwhile() -> Bool {
            switch editedWhileWaiting(task, plan: plan) {
            case .unchanged: return false
            case .withdrawn(let why):
                // Nothing is written: the note stays as the person left it (a draft, or emptied) —
                // but a note that is no longer a task (moved out of `Tasks/`) said `status: routed`,
                // the OS's word, and went on claiming to wait for a turn that never came (an outside
                // attack): that status becomes `cancelled`, with the reason.
                routing.settle(plan, cost: nil)
                var ended = initial
                ended.state = .cancelled
                ended.error = why + " before it started"
                ended.finishedAt = Date().timeIntervalSince1970
                if why == TaskEngine.noLongerATask {
                    _ = updateTask(task.path, set: [Property("status", .string(TaskStatus.cancelled.rawValue)),
                                                    Property("error", .string("\(why) before it started; set status: new where it runs to run it"))],
                                   unset: [], ofRun: initial.runID) { $0 == .routed ? nil : "its status is not the OS's routed" }
                }
                log(EngineEvent(level: .info, message: "\(currentPath(task.path)): \(why) before it started; it runs when it says status: new again"))
                finishWithoutRun(task, record: ended, properties: nil)
                return true
            case .edited(let fresh, let what):
                routing.settle(plan, cost: nil)
                log(EngineEvent(level: .info, message: "\(fresh.path): \(what) while it waited; routed again"))
                route(fresh, record: initial, token: token, unapproved: nil, waitForRun: waitForRun)
                return true
            }
        }
        if editedMeanwhile() { return }
        // An agent that began cooling down while this task waited for its turn is not called: the
        // task is routed again, past it, before any budget is held for it (round 54: claude
        // started 18 ms after its usage limit was recorded, for a task routed to it just before;
        // round 55: checked after the reservation, the re-route found its run id spent and sent
        // the task to review).
        if !token.isCancelled, let cooling = coolingDown(plan.agent) {
            log(EngineEvent(level: .info, message: "\(task.path): \(plan.agent) began cooling down while the task waited (\(cooling.failure.rawValue)); routed again"))
            route(task, record: initial, token: token, unapproved: nil, waitForRun: waitForRun)
            return
        }
        // Budget: the reservation is taken now, right before the agent starts, not while queued.
        switch holdBudget(task, runID: initial.runID, plan: &plan, token: token) {
        case .proceed: break
        case .proceedAfterWaiting:
            // It waited for budget room: the note and the notes its packet holds are judged again
            // (round 158: a task made private, or a note it links, while it waited went to a cloud
            // agent with the private note's text in its packet). Edited, its reservation is given back.
            if editedMeanwhile() { return }
        case .reroute:
            route(task, record: initial, token: token, unapproved: nil, waitForRun: waitForRun)
            return
        case .stopped:
            // The watcher is stopping: the run is still `claimed`, so recovery re-queues it.
            endRun(task.path)
            return
        }
        var record = initial
        let started = Date()
        record.state = .running
        record.startedAt = started.timeIntervalSince1970
        let running = updateTask(task.path, set: (routeWrite?.set ?? []) + [
            Property("status", .string(TaskStatus.running.rawValue)),
            Property("attempts", .int(record.attempt)),
            Property("started", .datetime(LocalTime.dateTime(started))),
        ], unset: (routeWrite?.unset ?? []) + ["finished", "duration_s"]) { status in
            status == .cancelled ? (routeWrite == nil ? "cancelled before it started" : "cancelled before it was routed") : nil
        }
        if case .stopped(let why) = running, routeWrite != nil {
            // Cancelled before anything was written: ends as a cancel before routing does.
            routing.settle(plan, cost: nil)
            var cancelled = initial
            cancelled.state = .cancelled
            cancelled.error = why
            cancelled.finishedAt = Date().timeIntervalSince1970
            finishWithoutRun(task, record: cancelled, properties: nil)
            return
        }
        if case .stopped = running { token.cancel() }
        if case .written = running, case let file = vault.root + "/" + currentPath(task.path), let inode = FileSystem.identity(file)?.inode {
            // The file the run's task is now: saved over in place, it is still its task (`isSavedOver`).
            let generation = FileSystem.generation(file)
            state.withLock {
                $0.claimedPrompts[task.path]?.inode = inode
                $0.claimedPrompts[task.path]?.generation = generation
            }
        }
        if case .failed = running {
            // The note is gone or cannot be written (read-only, a full disk): the agent is not
            // started. Run unseen, it would run again at every start, paid again each time, since
            // the note would still say `new`.
            routing.settle(plan, cost: nil)
            var ended = initial
            let gone = (try? store.readIfPresent(currentPath(task.path))) == nil
            ended.state = gone ? .cancelled : .failed
            ended.error = gone ? "the task note was removed before its agent started" : "the task note could not be marked running (see the watcher's log); its agent was not started"
            ended.finishedAt = Date().timeIntervalSince1970
            finishWithoutRun(task, record: ended, properties: nil)
            return
        }
        do { try runs.update(record, startedWith: TaskEngine.startFacts(of: task, plan: plan)) } catch { log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)")) }

        // A private run is recorded as one before its agent starts: what it makes through the OS's
        // tools is private whatever the task note is called by then (`Privacy.reason(ofRun:)` judged
        // the note at its path, and a rename mid-run made the run public).
        if plan.privacy != nil {
            do { try RunTaint.record(record.runID, vault: vault) } catch {
                log(EngineEvent(level: .error, message: "\(task.path): cannot record run \(record.runID) as private (\(error)); what it makes is judged by its task note"))
            }
        }
        var outcome: AgentExecution
        let agentStart = StartMark()
        touches.begin(runID: record.runID, taskPath: task.path)
        if token.isCancelled {
            outcome = AgentExecution(succeeded: false, answer: "", error: "cancelled by a person", cancelled: true)
        } else {
            log(EngineEvent(level: .info, message: "\(task.path): running \(plan.agent)"))
            let runID = record.runID
            var runEnvironment = ["FBT_VAULT": vault.root, "FBT_TASK": task.path, "FBT_RUN_ID": runID]
            // The run's own cap, for agents whose CLI can stop itself there (`budget_args`).
            if plan.reservationID != nil { runEnvironment[AgentDefinition.budgetVariable] = AgentDefinition.budgetText(plan.reservationUSD) }
            outcome = executor.execute(agent: plan.agent, prompt: plan.prompt, model: plan.model, approved: plan.approved && approved, timeout: limitingTimeout(task), cancel: token,
                                       runEnvironment: runEnvironment) { [runs] pid in
                agentStart.mark()
                // Recorded so that a watcher restarted after a crash can stop an agent left running.
                try? runs.recordAgentProcess(runID: runID, pid: pid, startTime: ProcessLiveness.startTime(pid) ?? 0)
            }
        }
        // What it touched: its own report, its MCP writes, and what the watcher saw meanwhile.
        outcome.files = TouchedFile.merged(RunTouches.reported(outcome.files, vault: vault, workingDirectory: nil), touches.end(runID: record.runID))
        // An agent shown a private note through the OS's tools during the run (a local agent may
        // read them) may have put it in its answer: the run's result and telemetry are private.
        if plan.privacy == nil, RunTaint.isTainted(record.runID, vault: vault) { plan.privacy = "its agent was shown a private note" }
        // The model a private run's agent reports is its own free text, written into telemetry and
        // reports others read: the configured model stands instead.
        if plan.privacy != nil { outcome.model = nil }
        if plan.privacy == nil {
            // A public run's result and telemetry row name no private note (taint follows the data).
            let shared = RunTouches.shareable(outcome.files, vault: vault)
            outcome.files = shared.files
            // Said as it is: "private or deleted" on a public run in a vault with no private note
            // read as if it had touched one (round 148).
            let counts = [(shared.privateNotes, "private"), (shared.deletedNotes, "deleted")].filter { $0.0 > 0 }
            if !counts.isEmpty {
                let words = counts.map { "\($0.0) \($0.1) \($0.0 == 1 ? "note" : "notes")" }.joined(separator: " and ")
                log(EngineEvent(level: .info, message: "\(task.path): \(words) left out of the files it shows: changed in the vault while it ran, by it or by anyone (the watcher cannot tell)"))
            }
        }
        // Whether money may have been spent: the agent process started, or it answered at all.
        let agentStarted = agentStart.marked || outcome.costUSD != nil || outcome.exitCode != nil || outcome.succeeded
        if outcome.cancelled && outcome.answeredBeforeStop && state.withLock({ !$0.accepting }) {
            // Its agent had printed its whole answer and lingered (on hooks, MCP servers) as the
            // watcher stopped: the answer was paid for, so the run ends from it like any other;
            // before, it was dropped and the task ran (and paid) again (round 154).
            outcome.cancelled = false
            outcome.succeeded = true
            outcome.error = nil
            outcome.failure = nil
            log(EngineEvent(level: .info, message: "\(task.path): \(plan.agent) had printed its whole answer when the watcher stopped it; the run ends from that answer"))
        }
        if outcome.cancelled && state.withLock({ !$0.accepting }) {
            // Stopped by the watcher's own shutdown, not by a person: recovery decides (interrupted,
            // or re-queued when the task allows retries), exactly as after a crash. A started agent
            // is charged its reservation (its cost is unknown), never given it back.
            if let id = plan.reservationID { closeReservation(id, of: task.path, lane: Lane(rawValue: plan.lane) ?? .premium, reservedUSD: plan.reservationUSD, cost: outcome.costUSD, agentStarted: agentStarted) }
            // A run that reserved nothing and whose agent had printed what it spent before the stop
            // (a CLI lingering after its result: round 153): recorded now, and kept on the run for
            // the next start's sweep (`recordUnrecordedSpend`) should the ledger be locked.
            if plan.reservationID == nil, let cost = outcome.costUSD, cost > 0, outcome.costSource == .reported {
                var kept = record
                kept.costUSD = cost
                try? runs.update(kept)
                closeReservation(record.runID, of: plan.budgetTask ?? task.path, lane: Lane(rawValue: plan.lane) ?? .premium, reservedUSD: 0, cost: cost, agentStarted: true, reserved: false)
            }
            endRun(task.path)
            log(EngineEvent(level: .warning, message: "\(task.path): stopped with the watcher"))
            return
        }
        let finished = Date()
        // A limit the agent hit cools it down before its room is given back (a waiting task would
        // start it in between).
        let cooldown = recordCooldown(task, plan: plan, outcome: outcome)
        // Settled as soon as the cost is known; a run that reports no cost is charged its reservation.
        // Telemetry, the result note and the task then show exactly the figure the ledger counts.
        if let id = plan.reservationID, let settlement = closeReservation(id, of: task.path, lane: Lane(rawValue: plan.lane) ?? .premium, reservedUSD: plan.reservationUSD, cost: outcome.costUSD, agentStarted: agentStarted) {
            // A settled cost is the agent's own figure (the ledger keeps it to the millionth of a
            // dollar); a charged run costs what the ledger kept.
            if settlement.kind == .charged {
                outcome.costUSD = settlement.actualUSD
                outcome.costSource = .reserved
            }
            if settlement.overrunUSD > 0 { recordOverrun(task, settlement) }
        } else if plan.reservationID == nil, let cost = outcome.costUSD, cost > 0, outcome.costSource == .reported,
                  let settlement = closeReservation(record.runID, of: plan.budgetTask ?? task.path, lane: Lane(rawValue: plan.lane) ?? .premium, reservedUSD: 0, cost: cost, agentStarted: true, reserved: false) {
            // Routed as free (no prices, no max_cost_usd, not premium), yet its CLI reported a cost:
            // the money was spent, and counts against every cap from now on (round 151).
            recordOverrun(task, settlement, unreserved: plan.agent)
        }
        if outcome.costUSD == nil { outcome.costSource = nil }
        // A failure class that fails over (a limit, a rate, an overload, a key, a timeout) cools the
        // agent down and picks the next agent of the chain before anything is written.
        let step = failoverStep(task, plan: plan, outcome: outcome, cooldown: cooldown)
        complete(task, record: record, plan: plan, outcome: outcome, started: started, finished: finished, failover: step)
    }

    private enum BudgetHold { case proceed, proceedAfterWaiting, reroute, stopped }

    /// What a person did to a routed task before its run started.
    private enum WaitingEdit {
        case unchanged
        /// Set back to draft, emptied, or no longer a task: it does not run, and nothing is written.
        case withdrawn(String)
        /// Routed again as it is now; `what` changed, for the log.
        case edited(TaskNote, what: String)
    }

    /// The properties the OS writes into a work note as it routes and runs it (never a privacy
    /// or routing key a person sets).
    static let lifecycleKeys: Set<String> = [
        "status", "error", "run_id", "started", "finished", "duration_s", "attempts", "machine", "result",
        "route_reason", "route_rule", "route_lane", "route_agent", "route_verdicts", "tokens_in", "tokens_out",
        "cost_usd", "cost_source", "exit_code", "failure", "failure_reset", "changed_during_run",
        "context_truncated", "context_tokens_sent", "context_tokens_left_out", "budget_overrun", "budget_overrun_usd",
        "handoffs", "failovers", "failover_tried", "failover_to", "failover_note", "context_retry", "files",
    ]

    /// Whether the task note changed, as a person changes it, since it was routed: its text
    /// (comments too) or a property a person sets (`personsProperties`), or its status set back to
    /// `draft`. The OS's own writes (`routed`, `route_*`) change neither.
    ///
    /// Nor may what the plan was made from have changed: the note moved (into `Private/`, say), or a
    /// note its packet carries was edited, moved or made private (a tag added) — a packet built
    /// before would go out as it was, to the lane routed before. Then it is routed again too.
    private func editedWhileWaiting(_ task: TaskNote, plan: RoutePlan) -> WaitingEdit {
        let path = currentPath(task.path)
        let moved = path != task.path
        let changedInput = moved ? nil : TaskEngine.changedInput(plan.inputStamps, vault: vault)
        // Read once its writers are done: an editor saving in place (open with truncate, then
        // write) caught between the two showed an empty note, and the task was cancelled as
        // "emptied" (round 52).
        var read = (try? store.readSettled(path)) ?? nil
        var patience = 15 // × up to 2 s, as long as the watcher's own writes wait
        while patience > 0, store.hasWriters(path) {
            read = (try? store.readSettled(path)) ?? nil
            patience -= 1
        }
        // A writer that truncates, closes, and opens again to write (round 53: more than 0.2 s
        // later, the task was still cancelled as emptied) gets up to 2 s.
        var looks = 0
        while read?.bytes.isEmpty == true, looks < 10 {
            Thread.sleep(forTimeInterval: 0.2)
            read = (try? store.readSettled(path)) ?? nil
            looks += 1
        }
        guard let snapshot = read else { return .unchanged }
        // Given another name on disk meanwhile (hard-linked into `Private/`): not run, nothing written.
        if let shared = Privacy.sharedFile(snapshot.status) { return .withdrawn(shared) }
        guard snapshot.hash != task.snapshot.hash || moved || changedInput != nil,
              let note = try? Note.parse(bytes: snapshot.bytes) else { return .unchanged }
        guard let kind = TaskNote.kind(of: note, path: path) else { return .withdrawn(TaskEngine.noLongerATask) }
        var fresh = TaskNote(path: path, snapshot: snapshot, note: note, kind: kind)
        if fresh.status == .draft { return .withdrawn("set back to draft") }
        if fresh.notReadyReason != nil { return .withdrawn("its prompt was emptied") }
        let what: String
        if moved {
            what = "moved from \(task.path)"
        } else if let changedInput {
            what = "\(changedInput), which its packet holds, changed"
        } else if note.body != task.note.body || TaskEngine.personsProperties(note) != TaskEngine.personsProperties(task.note) {
            // The whole body, comments included: a tag in a comment (`%% #private %%`, hidden in
            // reading view) makes a task private though its prompt is the same (round 159). Every
            // property a person sets, not only those routing reads by name: privacy is read from a
            // merge key (`<<: {privacy: private}`) and a padded key (`"privacy ": private`) too,
            // which a comparison of named keys took for no change (round 160).
            what = "changed"
        } else {
            return .unchanged
        }
        // An approval counts only for the bytes a person approved after the review.
        fresh.approval = ApprovalCheck.verify(fresh, runs: runs, store: store).approval
        return .edited(fresh, what: what)
    }

    /// Why an approval does not cover what the task would carry now: a note of its packet (the day's
    /// logs aside) that was not in it when the review was written, or whose bytes changed since.
    /// `nil` when the packet is made of the notes the review recorded, as they were.
    private func approvalOutdated(_ task: TaskNote, approval: Approval, runID: String) -> String? {
        let inputs = (try? runs.reviewInputs(runID: approval.reviewRunID)) ?? [:]
        let plan = routing.plan(task, runID: runID)
        routing.settle(plan, cost: nil)
        for path in plan.sources where !Privacy.isDailyLog(path) {
            guard let recorded = inputs[path] else {
                return "\(path), which the task carries to its agent, was not in it when the task was reviewed; the task goes back to review with it"
            }
            if ((try? store.readIfPresent(path)) ?? nil)?.hash.hex ?? "" != recorded {
                return "\(path), which the task carries to its agent, changed after the review; the task goes back to review with it as it is now"
            }
        }
        // A note the review's packet held that is gone from it (a case-variant note made its link
        // ambiguous, say): the person approved with it in view.
        let now = Set(plan.sources)
        if let gone = inputs.keys.sorted().first(where: { !now.contains($0) && !Privacy.isDailyLog($0) }) {
            return "\(gone), which the task carried to its agent when it was reviewed, is no longer in its packet; the task goes back to review without it"
        }
        return nil
    }

    /// The stamp of each of `paths` (empty for a note that is gone) and of the guardrails note; a
    /// day's log is stamped by the bytes it had (`logStamp`).
    static func stamps(of paths: [String], vault: Vault) -> [String: [Int64]] {
        var stamps: [String: [Int64]] = [:]
        for path in paths + [Vault.Layout.rules + "/Guardrails.md"] {
            stamps[path] = Privacy.isDailyLog(path) ? logStamp(path, vault: vault, length: nil) : stamp(path, vault: vault)
        }
        return stamps
    }

    /// One note's stamp (see `stamps`): size, modification and change times, inode and how many names
    /// the file has (a hard link made into `Private/` changes neither size nor modification time; an
    /// edit with the old modification time restored still moves the change time). A work note (a task or handoff the packet holds: linked, or a `type: task` note outside
    /// `Tasks/` found as memory) changes at every route and run of its own — the OS's lines. It is
    /// stamped by what a person changes in it instead (`workStamp`): stamped by its bytes, waiting
    /// tasks that held one another were routed again without end, each route changing the others'
    /// inputs, and nothing ran (an outside attack).
    static func stamp(_ path: String, vault: Vault) -> [Int64] {
        let status = (try? FileSystem.status(vault.root + "/" + path)) ?? nil
        if let status, let work = workStamp(path, status: status, vault: vault) { return work }
        return status.map { [$0.size, $0.mtimeNanoseconds, $0.ctimeNanoseconds, Int64(truncatingIfNeeded: $0.inode), Int64(truncatingIfNeeded: $0.linkCount)] } ?? []
    }

    /// A work note's stamp: its names on disk, and a hash of its body (comments too: a `#private`
    /// in one counts) and of every property but those the OS writes as the note is routed and run
    /// (`lifecycleKeys`); `nil` for a note that is no work note (or cannot be read as one). Stamped
    /// by its prompt and routing keys only, a `sources:` naming a private note, a merge key's tags or
    /// a comment turned `#private` — each making it private — went unseen (an outside attack).
    static func workStamp(_ path: String, status: FileStatus, vault: Vault) -> [Int64]? {
        guard status.kind == .file, status.size <= TaskEngine.maxTaskBytes,
              let bytes = try? FileSystem.read(vault.root + "/" + path, limit: Int(TaskEngine.maxTaskBytes)).bytes,
              let note = try? Note.parse(bytes: bytes), TaskNote.kind(of: note, path: path) != nil else { return nil }
        var said = note.body
        for property in note.properties where !TaskEngine.lifecycleKeys.contains(property.key.trimmingWhitespaces().lowercased()) {
            said += "\n\(property.key): \(String(describing: property.value))"
        }
        // Not its inode: the OS writes a note whole, as a new file renamed over it.
        return [-1, Int64(truncatingIfNeeded: status.linkCount), Int64(bitPattern: ContentHash(of: said).value)]
    }

    /// A day's log's stamp: its length and a hash of the bytes a packet may have read from it, of
    /// its first `length` bytes (all of them when `nil`): the head (its properties and headings,
    /// `Privacy.frontmatterBytes`) and the end (`logStampTail`, twice what `DailyLog` reads, so the
    /// lines a packet took are in it though runs appended some since). Every run appends to the log,
    /// which changes nothing a packet took from it; a line edited there (marked `#private`) or the
    /// log's properties changed do. (Hashing the whole log, 475 KB on a busy day, twice a task, was
    /// 5–7 % of a burst.)
    static func logStamp(_ path: String, vault: Vault, length: Int64?) -> [Int64] {
        let head = Privacy.frontmatterBytes
        guard let read = try? FileSystem.read(vault.root + "/" + path, ranges: { size in
            let count = length.map { Int($0) } ?? size
            guard count <= size else { return [] }
            let headRange = 0..<min(head, count)
            return [headRange, max(headRange.upperBound, count - logStampTail)..<count, count..<size]
        }), read.parts.count == 3 else { return [] }
        let (headBytes, tailBytes, appended) = (read.parts[0], read.parts[1], read.parts[2])
        let stamped = length ?? Int64(read.status.size)
        // Only whole new lines count as appended: text added to the last line (` #private` typed at
        // its end, no line break after it) or an indented line continuing the last item changes
        // what that item says, and is an edit.
        if length != nil, !appended.isEmpty {
            let lastLineEnded = stamped == 0 || (tailBytes.last ?? headBytes.last) == 0x0A
            guard lastLineEnded, appendsOnlyNewItems(appended[...]) else { return [] }
        }
        // FNV-1a's steps over eight bytes at a time (a stamp, not a content hash kept anywhere).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in [headBytes, tailBytes] {
            part.withUnsafeBytes { buffer in
                var at = 0
                while at + 8 <= buffer.count {
                    hash = (hash ^ buffer.loadUnaligned(fromByteOffset: at, as: UInt64.self)) &* 0x100_0000_01b3
                    at += 8
                }
                while at < buffer.count {
                    hash = (hash ^ UInt64(buffer[at])) &* 0x100_0000_01b3
                    at += 1
                }
            }
        }
        return [stamped, Int64(bitPattern: hash)]
    }

    /// How much of a day's log's end its stamp covers (`logStamp`).
    static let logStampTail = 2 * DailyLog.tailBytes

    /// Whether text appended to a day's log only starts new items: every line empty, a list item
    /// (`- `, `* `, `+ `, `1. `) or a heading (`## `). Anything else — an indented line, a bare
    /// `#private` or other text — continues the item above it, and changes what that item says.
    static func appendsOnlyNewItems(_ appended: ArraySlice<UInt8>) -> Bool {
        for line in appended.split(separator: 0x0A, omittingEmptySubsequences: true) {
            var body = line[...]
            if body.last == 0x0D { body = body.dropLast() }
            if body.isEmpty { continue }
            let first = body.first!
            if [0x2D, 0x2A, 0x2B].contains(first), body.dropFirst().first == 0x20 { continue }
            let digits = body.prefix { (0x30...0x39).contains($0) }
            if !digits.isEmpty, body.dropFirst(digits.count).starts(with: [0x2E, 0x20]) || body.dropFirst(digits.count).starts(with: [0x29, 0x20]) { continue }
            let hashes = body.prefix { $0 == 0x23 }
            if (1...6).contains(hashes.count), body.dropFirst(hashes.count).first == 0x20 { continue }
            return false
        }
        return true
    }

    /// The first of the notes `stamps` were taken of that is not as it was then, if any.
    static func changedInput(_ stamps: [String: [Int64]], vault: Vault) -> String? {
        stamps.keys.sorted().first { path in
            let was = stamps[path] ?? []
            if Privacy.isDailyLog(path) { return logStamp(path, vault: vault, length: was.first) != was }
            return stamp(path, vault: vault) != was
        }
    }

    /// Takes the run's budget reservation right before its agent starts. While the room is held only
    /// by runs in flight the run waits here, in its lane's queue; when settled spend leaves no room
    /// it is routed again (fallback lane or review). The ledger's atomic reservation decides.
    /// The run's time limit: the note's own `timeout`, and for a handoff never more than its task's
    /// (round 55: an agent's handoff, and the failover of a person's handoff, ran 6 s of a task
    /// limited to 3 s).
    private func limitingTimeout(_ task: TaskNote) -> Double? {
        guard task.kind == .handoff, let original = Handoffs.taskPath(of: task.note, vault: vault, from: task.path), original != task.path,
              let snapshot = (try? store.readIfPresent(original)) ?? nil, let limit = (try? Note.parse(bytes: snapshot.bytes))?["timeout"]?.number, limit >= 1 else { return task.timeout }
        return min(task.timeout ?? limit, limit)
    }

    /// The cooldown `agent` is in now, if any (read from the run store, which every process writes).
    private func coolingDown(_ agent: String) -> Cooldown? {
        (try? runs.cooldown(agent: agent)) ?? nil
    }

    private func holdBudget(_ task: TaskNote, runID: String, plan: inout RoutePlan, token: CancelToken) -> BudgetHold {
        guard plan.reservationID == nil else { return .proceed }
        // A free run holds nothing; routing says whether its plan still stands (`reserve`).
        guard plan.reservationUSD > 0 else {
            switch routing.reserve(plan, task: plan.budgetTask ?? task.path, runID: runID) {
            case .refused(let why), .replan(let why):
                log(EngineEvent(level: .info, message: "\(task.path): \(why); routing again"))
                return .reroute
            case .go, .wait:
                return .proceed
            }
        }
        var announced = false
        var rounds = 0
        while true {
            // Before each try for room: an agent that began cooling down while the task waited is
            // passed over, with nothing held (round 57: woken by the room a failed run gave back,
            // a waiting task started that run's agent).
            if !token.isCancelled, coolingDown(plan.agent) != nil {
                log(EngineEvent(level: .info, message: "\(task.path): \(plan.agent) began cooling down while the task waited; routing again"))
                return .reroute
            }
            switch routing.reserve(plan, task: plan.budgetTask ?? task.path, runID: runID) {
            case .go(let reserved):
                plan.reservationID = runID
                plan.reservationUSD = reserved
                guard announced else { return .proceed }
                log(EngineEvent(level: .info, message: "\(task.path): budget room is free again; starting"))
                return .proceedAfterWaiting
            case .refused(let why):
                log(EngineEvent(level: .warning, message: "\(task.path): budget: \(why); routing again"))
                return .reroute
            case .replan(let why):
                log(EngineEvent(level: .info, message: "\(task.path): \(why); routing again"))
                return .reroute
            case .wait(let why):
                if !state.withLock({ $0.accepting }) { return .stopped }
                // A person cancelled: the usual path records it; no agent starts and nothing is held.
                if token.isCancelled { return .proceed }
                if !announced {
                    announced = true
                    log(EngineEvent(level: .info, message: "\(task.path): waiting in the queue for runs in flight to settle (\(why))"))
                }
                routing.waitForBudgetChange(timeout: 0.25)
                rounds += 1
                if rounds % 20 == 0 {
                    // Reservations of processes that died meanwhile (a killed `run`) would hold the
                    // room for ever; they are closed here as at start-up (charged, or released when
                    // their agent never started). Runs of live processes are left alone.
                    let live = ((try? runs.runs(in: [.claimed, .running], limit: 100_000)) ?? []).filter {
                        $0.ownerPID == getpid() || $0.ownerPID == 0 || ProcessLiveness.isAlive($0.ownerPID)
                    }
                    routing.releaseAbandonedReservations(activeRunIDs: Set(live.map(\.runID)))
                }
            }
        }
    }

    /// The error a failed run leaves where others read it: the task note's `error`, the run store
    /// (`status`), a failover handoff. A private run's agent may have put private text in its own
    /// words (it was shown a private note, or its task pulls one in): unless the task note is private
    /// itself (then `status` and the task note are not shown to agents' runs), only the failure's
    /// class is said there, and the words go to the result note, which is private.
    static func shareableError(_ outcome: AgentExecution, plan: RoutePlan, task: TaskNote, vault: Vault) -> String {
        let words = outcome.error ?? "the agent failed"
        // A person's cancel is said in the OS's own words.
        guard plan.privacy != nil, !outcome.cancelled else { return words }
        if Privacy.reason(note: task.note, path: task.path, guardrails: RuleBook.load(vault: vault).guardrails) != nil { return words }
        return privateRunError(outcome)
    }

    /// A private run's failure without the agent's words (`shareableError`).
    static func privateRunError(_ outcome: AgentExecution) -> String {
        privateRunError(failure: outcome.failureClass, exitCode: outcome.exitCode)
    }

    /// `privateRunError(_:)` from a run's failure class and exit code.
    static func privateRunError(failure: FailureClass?, exitCode: Int?) -> String {
        let what = failure.map { "the agent failed (\($0.words))" } ?? exitCode.map { "the agent exited with status \($0)" } ?? "the agent failed"
        return what + "; a private run, so its own words are only in its result note"
    }

    /// A run reported more than it reserved: the ledger already holds the real cost; the task says
    /// so, and the log says which caps now stop paid runs.
    /// `unreserved`: the agent that ran as free (no prices, no `max_cost_usd`) and reported a cost.
    func recordOverrun(_ task: TaskNote, _ settlement: BudgetSettlement, unreserved agent: String? = nil) {
        let reported = agent.map { "reported \(BudgetLedger.dollars(settlement.actualUSD)), but agent '\($0)' ran as free (its note declared no prices and no max_cost_usd as the run started), so nothing was reserved (set max_cost_usd in its note)" }
            ?? "reported \(BudgetLedger.dollars(settlement.actualUSD)) against a reservation of \(BudgetLedger.dollars(settlement.reservedUSD)): \(BudgetLedger.dollars(settlement.overrunUSD)) over"
        let line = reported + "; the ledger counts the real cost, and a cap it went over stops paid runs until a person raises it (see 'fuckbigtech status')"
        _ = updateTask(task.path, set: [Property("budget_overrun_usd", .double(settlement.overrunUSD)), Property("budget_overrun", .string(line))], unset: []) { _ in nil }
        log(EngineEvent(level: .warning, message: "\(task.path): budget overrun: \(line)"))
    }

    /// Writes the result note, the task's final properties, the run store and telemetry.
    ///
    /// Recovery, ending a cut-off run from the answer its agent printed (`finishFromPrintedAnswer`),
    /// passes what changed since the run started (`alsoChanged`: the note it has is today's) and
    /// `keepStatus` when a person set the task's status since (`cancelled`, `new`): theirs stands.
    func complete(_ claimed: TaskNote, record initial: RunRecord, plan: RoutePlan, outcome: AgentExecution, started: Date, finished: Date, failover: FailoverStep? = nil,
                  alsoChanged: [String] = [], keepStatus: Bool = false) {
        // Renamed or moved during the run: the result, the daily line and telemetry name it where it is.
        let task = following(claimed)
        var record = initial
        record.taskPath = task.path
        var status: TaskStatus = outcome.cancelled ? .cancelled : (outcome.succeeded ? .done : .failed)
        record.state = RunState(rawValue: status.rawValue) ?? .failed
        record.failure = failover?.report.failureClass.rawValue
        record.failoverTo = failover?.target
        record.finishedAt = finished.timeIntervalSince1970
        record.costUSD = outcome.costUSD
        record.tokensIn = outcome.tokensIn
        record.tokensOut = outcome.tokensOut
        record.exitCode = outcome.exitCode
        record.error = outcome.succeeded ? nil : TaskEngine.shareableError(outcome, plan: plan, task: task, vault: vault)
        if let model = outcome.model { record.model = model }
        let duration = finished.timeIntervalSince(started)

        let resultPath = TaskEngine.resultPath(for: task, runID: record.runID)
        let resultText = TaskEngine.resultNote(task: task, record: record, plan: plan, outcome: outcome, status: status, started: started, finished: finished)
        do {
            record.resultPath = try createResultNote(Array(resultText.utf8), at: resultPath)
        } catch {
            // The answer must not be lost, nor the run called done: it ends failed with the reason,
            // and the answer waits in `.agentos/results/` until a restart can write the note.
            status = .failed
            record.state = .failed
            let kept = keepResult(TaskEngine.resultNote(task: task, record: record, plan: plan, outcome: outcome, status: .failed, started: started, finished: finished), runID: record.runID)
            let why = "the result note \(resultPath) could not be written: \(error)"
                + (kept.map { "; the answer is kept in \($0) and is written there on the next start" } ?? "; the answer could not be kept either")
            record.error = record.error.map { $0 + "; " + why } ?? why
        }

        var props: [Property] = [
            Property("status", .string(status.rawValue)),
            Property("finished", .datetime(LocalTime.dateTime(finished))),
            Property("duration_s", .double((duration * 1000).rounded() / 1000)),
        ]
        // A person changed the task while its agent ran: the answer is to the text as it was. Said
        // on the note and in the log (a tour: a changed prompt, or `privacy: private` added, ended
        // `done` with no trace that the result answers the older text).
        let current = ((try? store.readSettled(currentPath(task.path))) ?? nil).flatMap { try? Note.parse(bytes: $0.bytes) }
        var changed = current.map { TaskEngine.changedDuringRun(from: task.note, to: $0) } ?? []
        changed += alsoChanged.filter { !changed.contains($0) }
        // A person's word the run did not start with (`approved`, who and when, a `verdict`) that
        // appeared while it went on is taken back: the agent's process can write the note itself
        // (round 134: `approved: true` and `verdict: good` it wrote stayed on the finished task).
        let claims = current.map { TaskEngine.approvalWrittenDuringRun(started: task, now: $0) } ?? (set: [], unset: [], changed: [])
        changed += claims.changed
        // An editor's old copy saved over the note while the run went on took the run's first lines
        // away: its `run_id` (which `status: new` keeps to run it again), route, `attempts` and
        // `started` are written again with its end (attack123 F6).
        if let current, current.text("run_id") != record.runID {
            props += [Property("route_lane", .string(plan.lane)), Property("route_agent", .string(plan.agent)), Property("route_rule", .string(plan.rule)),
                      Property("route_reason", .string(plan.reason)), Property("run_id", .string(record.runID)), Property("attempts", .int(record.attempt)),
                      Property("started", .datetime(LocalTime.dateTime(started)))]
            if let machine { props.append(Property("machine", .string(machine))) }
        }
        if !changed.isEmpty {
            props.append(Property("changed_during_run", .list(changed.map { .string($0) })))
            let putBack = claims.changed.isEmpty ? "" : "; \(claims.changed.joined(separator: ", ")) put back as the run started (a person approves a task in review, not a running one)"
            log(EngineEvent(level: .warning, message: "\(task.path): changed while \(plan.agent) ran (\(changed.joined(separator: ", "))); the result answers the task as it was when the run started: set status: new to run it again" + putBack))
        }
        if let cost = outcome.costUSD {
            props.append(Property("cost_usd", .double(cost)))
            if let source = outcome.costSource { props.append(Property("cost_source", .string(source.rawValue))) }
        }
        if let t = outcome.tokensIn { props.append(Property("tokens_in", .int(t))) }
        if let t = outcome.tokensOut { props.append(Property("tokens_out", .int(t))) }
        if let resultPath = record.resultPath { props.append(Property("result", .string(TelemetryWriter.link(resultPath)))) }
        var unset: [String] = claims.unset
        props += claims.set
        if let error = record.error { props.append(Property("error", .string(TaskEngine.oneLine(error)))) } else { unset.append("error") }
        if changed.isEmpty, task.note["changed_during_run"] != nil { unset.append("changed_during_run") }
        // `failure` stays after a later success: it says why the task moved on (or was retried).
        if let failover { props += failover.taskProperties(task: task, runID: record.runID, agent: plan.agent, runStatus: status) }
        // A retry is written in the same update (`status: new`), so the task never shows `failed`
        // in between; its run has ended before that write, so the watcher picks it up as a new run.
        let retry = retryProperties(task, record: record, plan: plan, failover: failover)
        if let retry {
            let keys = Set(retry.map(\.key))
            props = props.filter { !keys.contains($0.key) } + retry
        }
        if keepStatus {
            props.removeAll { $0.key == "status" }
            log(EngineEvent(level: .info, message: "\(task.path): its status was set to \(current?.text("status") ?? "nothing") since run \(record.runID) started; it stays, and the run's answer is in \(record.resultPath ?? "no result note")"))
        }
        // The journal line first (fsynced), then the run store: a run the store calls finished always
        // has its telemetry; a kill between the two leaves a run that recovery finishes from its
        // result note, and the journal's run id keeps it from being recorded twice.
        let entry = telemetryBatch.journal(record, duration: duration, time: finished, contextTruncation: plan.contextTruncation, execution: outcome, isPrivate: plan.privacy != nil ? true : nil)
        // The run store before the note: if the process dies before the note is written, the note
        // catches up from the store; the other way round a finished run would look interrupted.
        recordEnd(record, path: task.path)
        gitClaimEnded(record)
        if retry != nil { endRun(task.path) }
        // A retry's write is not the OS's own to ignore: the watcher must see it and run the task again.
        var replaced = false
        if case .stopped(let why) = updateTask(task.path, set: props, unset: unset, remembering: retry == nil && !keepStatus, ofRun: record.runID, stop: { _ in nil }) {
            log(EngineEvent(level: .warning, message: "\(task.path): \(why)"))
            replaced = true
        }
        if status == .done { clearStrikes(agent: plan.agent) }
        log(EngineEvent(level: status == .done ? .info : .warning, message: "\(task.path): " + (keepStatus ? "run \(record.runID) ended \(status.rawValue); the task keeps the status a person set" : status.rawValue)
            + (record.failure.map { " (\($0))" } ?? "") + (record.error.map { " — \($0)" } ?? "")))
        // After the run store says which agent is next: a stop from here on is finished by
        // `resumeFailovers` at the next start, exactly once.
        if record.failoverTo != nil { handOver(record, chain: failover?.chain) }
        // A failover handoff that ended (and is not queued again) ends its original task the same way.
        if task.kind == .handoff, record.failoverTo == nil, retry == nil { finishFailedOverTask(task, record: record, status: status) }
        if retry == nil { endRun(task.path) }
        if let entry { telemetryBatch.queueNotes(entry) }
        // The note there is not this run's any more (saved meanwhile without the OS's lines: a
        // stale editor buffer, an older synced copy): it is a note of its own, looked at now that
        // the run has left its path (it was never looked at again: an outside attack).
        if replaced, retry == nil, state.withLock({ $0.accepting }) {
            let path = task.path
            routingQueue.addOperation { [self] in consider(path: path) }
        }
    }

    /// What a person changed in a task between `started` (the note its run was given) and `now`:
    /// `text` for its body, and each property that routes or guards it. The OS's own keys (status,
    /// route, run) are not counted.
    static func changedDuringRun(from started: Note, to now: Note) -> [String] {
        changedDuringRun(from: runStartSummary(started), to: now)
    }

    /// The keys `changedDuringRun` names one by one.
    static let watchedKeys = ["title", "agent", "lane", "model", "privacy", "private", "tags", "context", "effects"]

    /// What `changedDuringRun` compares of a task, small enough to keep with its run
    /// (`startFacts`): a hash of its body's words, each of `watchedKeys` as texts, and a hash of the
    /// other properties a person sets (`personsProperties`).
    static func runStartSummary(_ note: Note) -> JSON {
        let words = note.body.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let others = personsProperties(note).filter { !watchedKeys.contains($0.key.trimmingWhitespaces().lowercased()) }
            .map { $0.key + "\u{0}" + $0.value.json.compact }.joined(separator: "\u{1}")
        return .object([
            ("text", .string(String(WordSketch.hash(words), radix: 16))),
            ("keys", .object(watchedKeys.map { ($0, .array(note.texts($0).map { .string($0) })) })),
            ("others", .string(String(WordSketch.hash(others), radix: 16))),
        ])
    }

    /// What a person changed in a task since `started` (`runStartSummary`): `text`, each of
    /// `watchedKeys`, and `properties` for any other property a person sets (a privacy written as
    /// a merge key `<<`, or under a padded key, is one: round 160).
    static func changedDuringRun(from started: JSON, to now: Note) -> [String] {
        let current = runStartSummary(now)
        var changed: [String] = []
        if started["text"] != current["text"] { changed.append("text") }
        for key in watchedKeys where started["keys"]?[key] != current["keys"]?[key] { changed.append(key) }
        if started["others"] != current["others"] { changed.append("properties") }
        return changed
    }

    /// The properties a person sets: all but the OS's lifecycle keys and a person's word (which
    /// is judged on its own: `approvalWrittenDuringRun`), keys read as privacy reads them (trimmed,
    /// any case).
    static func personsProperties(_ note: Note) -> [Property] {
        note.properties.filter { property in
            let key = property.key.trimmingWhitespaces().lowercased()
            return !lifecycleKeys.contains(key) && key != "approved" && !personsWordKeys.contains(key)
        }
    }

    /// A person's word written into a task while its run went on, which the run did not start with:
    /// `approved: true` (and `approved_by`, `approved_at`) on a run no person approved, or a
    /// `verdict` other than the one it started with. Nobody can tell the person's edit from the run's
    /// own (its process may write the file), and a person approves a task in review, not a running
    /// one: each is put back as the run started (`approved: false`, the rest unset or restored) and
    /// named in `changed_during_run`.
    static func approvalWrittenDuringRun(started task: TaskNote, now: Note) -> (set: [Property], unset: [String], changed: [String]) {
        approvalWrittenDuringRun(started: personsWord(of: task), now: now, startedNote: task.note)
    }

    /// The keys of a person's word a run's put-back compares (`approvalWrittenDuringRun`).
    static let personsWordKeys = ["approved_by", "approved_at", ResultVerdict.property]

    /// What of a person's word `task` holds as its run starts: whether a person approved the run
    /// (`approved`), and each of `personsWordKeys` as written (absent: JSON `null` is kept apart
    /// from a missing key by leaving the key out).
    static func personsWord(of task: TaskNote) -> JSON {
        var pairs: [(String, JSON)] = [("approved", .bool(task.approval != nil))]
        for key in personsWordKeys { if let value = task.note[key] { pairs.append((key, value.json)) } }
        return .object(pairs)
    }

    /// `approvalWrittenDuringRun(started:now:)` from what the run started with (`personsWord`).
    /// Values are compared as JSON (as recorded); one put back is `startedNote`'s when it is known.
    static func approvalWrittenDuringRun(started word: JSON, now: Note, startedNote: Note? = nil) -> (set: [Property], unset: [String], changed: [String]) {
        var set: [Property] = []
        var unset: [String] = []
        var changed: [String] = []
        func differs(_ key: String) -> Bool { now[key]?.json != word[key] }
        if word["approved"]?.boolValue != true {
            if now["approved"]?.bool == true {
                set.append(Property("approved", .bool(false)))
                changed.append("approved")
            }
            for key in ["approved_by", "approved_at"] where now[key] != nil && differs(key) {
                unset.append(key)
                changed.append(key)
            }
        }
        let verdict = ResultVerdict.property
        if differs(verdict) {
            if let was = startedNote?[verdict] ?? word[verdict].map(PropertyValue.init(json:)) { set.append(Property(verdict, was)) } else { unset.append(verdict) }
            changed.append(verdict)
        }
        return (set, unset, changed)
    }

    /// `reviewInputs`: for a task put in review, the notes its packet was made from (recorded with
    /// their hashes, so that the approval answers for them too: `ApprovalCheck.verify`).
    private func finishWithoutRun(_ task: TaskNote, record: RunRecord, properties: [Property]?, unset: [String] = [], reviewInputs: [String] = []) {
        var reviewHash: ContentHash?
        if let properties {
            if case .written(let hash) = updateTask(task.path, set: properties, unset: unset, stop: { _ in nil }) { reviewHash = hash }
        }
        // Journal first, as in `complete`: a finished run in the store always has its telemetry.
        let entry = telemetryBatch.journal(record, duration: 0, time: Date())
        recordEnd(record, path: task.path)
        gitClaimEnded(record)
        if record.state == .review, let reviewHash {
            // What the OS showed in review: only a later change to these bytes can approve the task.
            var inputs: [String: String] = [:]
            for path in reviewInputs where !Privacy.isDailyLog(path) {
                inputs[path] = ((try? store.readIfPresent(path)) ?? nil)?.hash.hex ?? ""
            }
            do { try runs.recordReview(runID: record.runID, hash: reviewHash, inputs: inputs) } catch {
                log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)"))
            }
        }
        endRun(task.path)
        if let entry { telemetryBatch.queueNotes(entry) }
        log(EngineEvent(level: .info, message: "\(task.path): \(record.state.rawValue)" + ((record.error ?? record.reason).map { " — \($0)" } ?? "")))
        if record.state == .review, let reviewHash, let now = (try? store.readIfPresent(task.path)) ?? nil, now.hash != reviewHash {
            // A person answered before the review was recorded (their event found the run still
            // claimed and was dropped): look at the note again now.
            ownWrites.withLock { $0.forget(task.path) }
            consider(path: task.path)
        }
    }

    /// What `updateTask` did: wrote the note, was stopped by its veto, or could not write.
    enum UpdateResult { case written(ContentHash), stopped(String), failed }

    /// Merges the OS's properties into a task note with compare-and-swap, re-reading on conflict so a
    /// person's concurrent edit survives. `stop` may veto the write after seeing the current status.
    /// `remembering: false` leaves the write for the watcher to see (a task queued again).
    func updateTask(_ claimed: String, set: [Property], unset: [String], remembering: Bool = true, ofRun runID: String? = nil, stop: (TaskStatus?) -> String?) -> UpdateResult {
        // The note where it is now: renamed during its run, it is followed (`followRename`).
        let path = currentPath(claimed)
        var stopped: String?
        do {
            let outcome = try store.update(path, waitingForWriters: 30) { snapshot in
                guard let snapshot else { return .keep }
                let current = try? Note.parse(bytes: snapshot.bytes)
                // A run's end is written only into the note its run was for: moved away while it ran
                // (and `run` follows no rename), another note saved at the path is not its task.
                // The very text the run was claimed from, put back by git while it ran, is its task;
                // so is the task saved from an editor's buffer opened before the run, edited or not
                // (`isSavedOver`).
                if let runID, current?.text("run_id") != runID,
                   !(current.map { isOldCopy($0, at: path, of: runID) || (path == claimed && isSavedOver($0, inode: snapshot.status.inode, at: path, of: runID)) } ?? false),
                   !(current.map(TaskEngine.mayBeOldCopy) == true && runClaimed(from: snapshot.bytes, at: path)?.runID == runID) {
                    stopped = "the note at \(path) is not run \(runID)'s task any more (another note was saved at its name, or the task moved away, while it ran); its result is kept in Results/"
                    return .keep
                }
                stopped = stop(current.flatMap { TaskStatus(property: $0.text("status")) })
                if stopped != nil { return .keep }
                let bytes = try FrontmatterEditor.apply(set: set, unset: unset, to: snapshot.bytes)
                if remembering { announce(path, bytes) }
                return .write(bytes)
            }
            if let stopped { return .stopped(stopped) }
            guard case .written(let hash, _) = outcome else {
                log(EngineEvent(level: .warning, message: "\(path): the task note is gone; its result is kept in Results/"))
                return .failed
            }
            if remembering { remember(path, hash) } else { recordGitWrite(path, hash) }
            return .written(hash)
        } catch let error as NoteWriteError {
            if case .conflict = error {
                log(EngineEvent(level: .error, message: hasWriters(path)
                    ? "\(path): another process keeps it open for writing; the task's properties were not updated (they are once it closes it)"
                    : "\(path): the note kept changing; the task's properties were not updated"))
            } else {
                log(EngineEvent(level: .error, message: "\(path): cannot update the task: \(error)"))
            }
            return .failed
        } catch {
            log(EngineEvent(level: .error, message: "\(path): cannot update the task: \(error)"))
            return .failed
        }
    }

    /// Stops accepting work; waits up to `grace` seconds for running agents, then cancels the rest.
    public func shutdown(grace: Double) {
        state.withLock { $0.accepting = false }
        routingQueue.cancelAllOperations()
        _ = waitForRunsToEnd(until: Date().addingTimeInterval(grace))
        let tokens = state.withLock { Array($0.inFlight.values) }
        tokens.forEach { $0.cancel() }
        // Routing has no way to stop half-way (a packet of a huge note, a slow disk), and a stop
        // must not wait on it for ever (an outside attack: a watcher ignored SIGTERM for minutes).
        // A task being routed is only claimed: left now, it goes back to `new` at the next start
        // (`recover`), as after a crash; nothing ran.
        let routingDeadline = Date().addingTimeInterval(max(grace, 1))
        while routingQueue.operationCount > 0 && Date() < routingDeadline { Thread.sleep(forTimeInterval: 0.02) }
        if routingQueue.operationCount > 0 {
            log(EngineEvent(level: .warning, message: "stopping without waiting for \(routingQueue.operationCount) task(s) still being routed; they run at the next start"))
        }
        for queue in state.withLock({ Array($0.laneQueues.values) }) { queue.waitUntilAllOperationsAreFinished() }
        flushTelemetry()
    }

    /// Waits until no run is queued or in flight (for tests and the bench).
    public func waitUntilIdle() {
        while true {
            routingQueue.waitUntilAllOperationsAreFinished()
            for queue in state.withLock({ Array($0.laneQueues.values) }) { queue.waitUntilAllOperationsAreFinished() }
            if state.withLock({ $0.inFlight.isEmpty }) && routingQueue.operationCount == 0 {
                flushTelemetry()
                return
            }
            // A run still in flight ends on its own thread (a foreground `run`, or one between the
            // queues): wait for it to end, then look at the queues again.
            _ = waitForRunsToEnd(until: Date().addingTimeInterval(0.05))
        }
    }

    /// Number of runs queued or in flight.
    public var inFlightCount: Int { state.withLock { $0.inFlight.count } }

    /// Writes pending telemetry now (at shutdown, and when a caller waits for the engine to be idle).
    public func flushTelemetry() { telemetryBatch.flush() }

    /// Writes the rows and daily lines of journal lines that lack them (after a crash), exactly once.
    public func rebuildTelemetry() { telemetryBatch.rebuild() }

    /// Whether the journal holds a line for this run.
    func isJournaled(_ runID: String) -> Bool { telemetryBatch.isJournaled(runID) }


}


/// Set once an agent process has started (from the runner's start callback, on another thread).
final class StartMark: Sendable {
    private let value = Locked(false)
    /// Records that the agent started.
    func mark() { value.withLock { $0 = true } }
    /// Whether the agent started.
    var marked: Bool { value.withLock { $0 } }
}

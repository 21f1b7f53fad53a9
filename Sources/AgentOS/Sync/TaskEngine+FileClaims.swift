import Foundation

/// The engine's side of claim files (`sync: files`, docs/sync.md): writing this machine's claim,
/// deciding after the settle window, marking it finished, and checking the claim files before
/// recovery runs a task again.
extension TaskEngine {
    /// The claim files of this vault as this machine, when `Rules/Sync.md` says `sync: files` and the
    /// engine is a watcher's (a foreground `run` takes no claim).
    var fileClaims: FileClaims? {
        guard let machine, let sync = routing.sync, sync.mode == "files" else { return nil }
        return FileClaims(vault: vault, machine: machine)
    }

    /// The shared claim of a routed run, after its machine note said this machine serves it: through
    /// git (`sync: git`) or claim files (`sync: files`); every run when neither. Returns whether the
    /// run goes on now. `again` routes the run again (a claim file decides after its window).
    func takeSharedClaim(_ task: TaskNote, record: RunRecord, plan: RoutePlan, takeover: (any TakenOverClaim)?, token: CancelToken,
                         waitForRun: Bool, again: @escaping @Sendable () -> Void) -> Bool {
        guard let claims = fileClaims, let sync = routing.sync else {
            return takeGitClaim(task, record: record, plan: plan, takeover: takeover as? GitClaim)
        }
        let takeover = takeover as? FileClaim
        let held = state.withLock { $0.fileClaims[record.runID] }
        // Routed again after a budget refusal: the claim is already this run's.
        if let held, held.state != .claiming { return true }
        if let held {
            // The window has passed: every machine's file that sync delivered is here now.
            let all = claims.claims(taskPath: task.path, attempt: record.attempt)
            if let other = FileClaims.holder(against: held, among: all) {
                FileClaims.oneAtATime.withLock { _ in claims.remove(taskPath: task.path, attempt: record.attempt) }
                rememberLeft(task, attempt: record.attempt)
                dropFileClaim(task, record: record, plan: plan, level: .info, "left for another machine: \(FileClaims.describe(other))")
                return false
            }
            var won = held
            won.state = .claimed
            won.renewed += 1
            if let error = FileClaims.oneAtATime.withLock({ _ in claims.write(won) }) {
                FileClaims.oneAtATime.withLock { _ in claims.remove(taskPath: task.path, attempt: record.attempt) }
                dropFileClaim(task, record: record, plan: plan, level: .error, "not run: the claim file could not be written (\(error)); status untouched")
                return false
            }
            state.withLock { $0.fileClaims[record.runID] = won }
            if let takeover {
                log(EngineEvent(level: .warning, message: "\(task.path): took over the claim of \(takeover.holder), " + (takeover.state == .claiming ? "which stopped before it decided" : "whose lease expired")))
            }
            return true
        }
        // First visit: another machine's claim already here holds the attempt (or is settling); no
        // file of ours is written, so nothing races it.
        // In milliseconds, as the file says it: every machine compares the very same number.
        let now = (Date().timeIntervalSince1970 * 1000).rounded() / 1000
        let mine = FileClaim(machine: claims.machine, runID: record.runID, session: GitClaims.session, task: task.path, attempt: record.attempt,
                             state: .claiming, claimedAt: now, takenOverFrom: takeover?.holder)
        // A task left for another machine, renamed here before that machine's status arrived: its
        // claim is under its old name.
        if takeover == nil, let renamed = renamedLeftTask(task, attempt: record.attempt),
           let other = FileClaims.others(than: mine, among: claims.claims(taskPath: renamed.left.key, attempt: record.attempt)).min(by: { $0.precedes($1) }) {
            rememberLeft(task, attempt: record.attempt, key: renamed.left.key)
            dropFileClaim(task, record: record, plan: plan, level: .info, "left for another machine: renamed from \(renamed.from), which is \(FileClaims.describe(other))")
            return false
        }
        if let other = FileClaims.others(than: mine, among: claims.claims(taskPath: task.path, attempt: record.attempt)).min(by: { $0.precedes($1) }) {
            rememberLeft(task, attempt: record.attempt)
            dropFileClaim(task, record: record, plan: plan, level: .info, "left for another machine: \(FileClaims.describe(other))")
            return false
        }
        if let error = FileClaims.oneAtATime.withLock({ _ in claims.write(mine) }) {
            dropFileClaim(task, record: record, plan: plan, level: .error, "not run: the claim file could not be written (\(error)); status untouched")
            return false
        }
        state.withLock { $0.fileClaims[record.runID] = mine }
        // Nothing is held while the window runs (a budget reservation is made again after it).
        routing.settle(plan, cost: nil)
        let decide: @Sendable (_ now: Bool) -> Void = { [self] now in
            guard state.withLock({ $0.accepting }), !token.isCancelled else {
                state.withLock { _ = $0.fileClaims.removeValue(forKey: record.runID) }
                FileClaims.oneAtATime.withLock { _ in claims.remove(taskPath: task.path, attempt: record.attempt) }
                do { try runs.release(runID: record.runID) } catch { log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)")) }
                endRun(task.path)
                log(EngineEvent(level: .info, message: "\(task.path): claim file given up before its window ended (\(state.withLock({ $0.accepting }) ? "the run was cancelled" : "the watcher is stopping")); status untouched"))
                return
            }
            if now { again() } else { routingQueue.addOperation(again) }
        }
        if waitForRun {
            // The caller waits for the run anyway: wait here.
            Thread.sleep(forTimeInterval: sync.claimWait)
            decide(true)
        } else {
            // Off the routing queue: the other tasks are routed (and claimed) while this one settles.
            // A cancel (a person, or the watcher stopping) gives the claim up at once.
            let fired = Locked(false)
            let fire: @Sendable () -> Void = {
                if fired.withLock({ done in defer { done = true }; return !done }) { decide(false) }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + sync.claimWait, execute: fire)
            token.onCancel(fire)
        }
        return false
    }

    /// Forgets a run whose claim file did not win (nothing was written to the note, nothing started).
    private func dropFileClaim(_ task: TaskNote, record: RunRecord, plan: RoutePlan, level: EngineEvent.Level, _ message: String) {
        state.withLock { _ = $0.fileClaims.removeValue(forKey: record.runID) }
        routing.settle(plan, cost: nil)
        do { try runs.release(runID: record.runID) } catch { log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)")) }
        endRun(task.path)
        log(EngineEvent(level: level, message: "\(task.path): \(message)"))
    }

    /// A run ended: its claim file (if any) says `finished`, so no machine takes it over.
    func fileClaimEnded(_ record: RunRecord) {
        guard let claims = fileClaims, let claim = state.withLock({ $0.fileClaims.removeValue(forKey: record.runID) }) else { return }
        var finished = claim
        finished.state = .finished
        finished.outcome = record.state.rawValue
        finished.finishedAt = Date().timeIntervalSince1970
        finished.renewed += 1
        if let error = FileClaims.oneAtATime.withLock({ _ in claims.write(finished) }) {
            log(EngineEvent(level: .error, message: "\(record.taskPath): the claim file could not be marked finished (\(error)); another machine may take the task over after the lease"))
        }
        if let rescuer = claims.claims(taskPath: claim.task, attempt: claim.attempt).first(where: { $0.takenOverFrom == claim.holder }) {
            log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) ended, but \(rescuer.machine) took its claim over meanwhile (this machine's lease had expired for it): the task ran on both"))
        }
    }

    /// Takes over `claim`, another machine's claim file that stopped changing for a whole lease: the
    /// task is run here as that attempt (or sent to review, `takeoverPlan`) if this machine's own
    /// claim file wins after the window. `.ignored` when the task note is not in this copy (yet).
    public func takeOver(_ claim: FileClaim) -> Consideration {
        takeOver(claim as any TakenOverClaim)
    }

    /// Before recovery decides about a run a dead watcher of this machine left, with `sync: files`:
    /// `true` when no other machine's claim file holds the attempt (this machine's own file is
    /// deleted, and recovery goes on as on one machine); `false` when another machine took it over
    /// or holds it — the run is closed here and the task note left alone.
    func recoverFileClaim(_ record: RunRecord, claims: FileClaims) -> Bool {
        let all = claims.claims(taskPath: record.taskPath, attempt: record.attempt)
        let me = FileClaim(machine: claims.machine, runID: record.runID, session: GitClaims.session, task: record.taskPath,
                           attempt: record.attempt, state: .claiming, claimedAt: 0)
        let holding = FileClaims.others(than: me, among: all)
        // This machine's file of the dead run goes either way: the run is over here.
        FileClaims.oneAtATime.withLock { _ in claims.remove(taskPath: record.taskPath, attempt: record.attempt) }
        if let other = holding.first(where: { $0.takenOverFrom == me.holder }) {
            leaveToFleet(record, why: "taken over by \(other.machine) (run \(other.runID)) through a claim file after this machine's lease expired")
            return false
        }
        if let other = holding.first(where: { $0.state != .claiming }) {
            leaveToFleet(record, why: "\(FileClaims.describe(other)); the task is left to the fleet")
            return false
        }
        return true
    }

    /// This machine's claims that won and run now (renewed by `FileLeases`).
    func heldFileClaims() -> [FileClaim] {
        state.withLock { Array($0.fileClaims.values.filter { $0.state == .claimed }) }
    }

    /// Rewrites `claim` with a new `renewed` count, unless its run ended meanwhile.
    func renewFileClaim(_ claim: FileClaim, claims: FileClaims) -> String? {
        FileClaims.oneAtATime.withLock { _ in
            guard var now = state.withLock({ $0.fileClaims[claim.runID] }), now.state == .claimed else { return nil }
            now.renewed += 1
            if let error = claims.write(now) { return error }
            state.withLock { $0.fileClaims[claim.runID] = now }
            return nil
        }
    }
}

extension FileClaims {
    /// Who holds a claim, for the log: `claimed by beta (run …) through a claim file`.
    static func describe(_ claim: FileClaim) -> String {
        let what: String = switch claim.state {
        case .claiming: "claimed"
        case .claimed: "claimed"
        case .finished: "finished"
        }
        return "\(what) by \(claim.machine) (run \(claim.runID)) through a claim file"
    }
}

import Foundation

/// The engine's side of claims through git (`sync: git`, docs/sync.md): taking the claim before a
/// run writes anything, marking it finished when the run ends, taking over another machine's expired
/// claim, and checking the remote before recovery runs a task again.
extension TaskEngine {
    /// The git claims of this vault as this machine, when `Rules/Sync.md` says `sync: git` and the
    /// engine is a watcher's (a foreground `run` takes no claim).
    var gitClaims: GitClaims? {
        guard let machine, let sync = routing.sync, sync.mode == "git" else { return nil }
        return GitClaims(vault: vault, remote: sync.remote, machine: machine)
    }

    /// Takes the shared claim of `record`'s attempt (or moves `takeover`'s to this run). Returns
    /// whether this machine runs it; when not, the local claim is dropped and the log says why.
    func takeGitClaim(_ task: TaskNote, record: RunRecord, plan: RoutePlan, takeover: GitClaim?) -> Bool {
        guard let claims = gitClaims else { return true }
        // Routed again after a budget refusal: the claim is already this run's.
        if state.withLock({ $0.gitClaims[record.runID] != nil }) { return true }
        let outcome: GitClaims.Outcome
        var held: GitClaim?
        var key = task.path
        if let takeover {
            var next = takeover
            next.machine = claims.machine
            next.runID = record.runID
            next.session = GitClaims.session
            next.state = .claimed
            next.outcome = nil
            next.takenOverFrom = "\(takeover.machine) (run \(takeover.runID))"
            (outcome, held) = claims.move(takeover, to: next)
        } else if let renamed = renamedLeftTask(task, attempt: record.attempt) {
            // A task left for another machine, renamed here before that machine's status arrived:
            // its claim is under its old name.
            switch claims.current(taskPath: renamed.left.key, attempt: record.attempt) {
            case .failure(let why): outcome = .failed(why.text)
            case .success(let standing?):
                outcome = .lost("renamed from \(renamed.from), which \(standing.machine) claimed (run \(standing.runID)) through git")
                key = renamed.left.key
            case .success(nil): (outcome, held) = claims.claimHeld(taskPath: task.path, attempt: record.attempt, runID: record.runID)
            }
        } else {
            (outcome, held) = claims.claimHeld(taskPath: task.path, attempt: record.attempt, runID: record.runID)
        }
        if outcome == .won {
            if let held { state.withLock { $0.gitClaims[record.runID] = held } }
            if let takeover {
                log(EngineEvent(level: .warning, message: "\(task.path): took over the claim of \(takeover.machine) (run \(takeover.runID)), whose lease expired"))
            }
            return true
        }
        routing.settle(plan, cost: nil)
        do { try runs.release(runID: record.runID) } catch { log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)")) }
        endRun(task.path)
        switch outcome {
        case .lost(let why):
            rememberLeft(task, attempt: record.attempt, key: key)
            // This machine's own earlier run holds the attempt: the note is an old copy of that run's
            // task (a person's `git rebase --abort` or `checkout` put back the text from before the
            // run, and the OS's status with it was gone for good: an outside attack).
            if let held, held.machine.lowercased() == claims.machine.lowercased(), setBackOwnRun(task, runID: held.runID) { break }
            log(EngineEvent(level: .info, message: "\(task.path): left for another machine: \(why)"))
        case .failed(let why): log(EngineEvent(level: .error, message: "\(task.path): not run: the git claim failed (\(why)); status untouched"))
        case .won: break
        }
        return false
    }

    /// The plan of a run that takes over another machine's claim. The dead machine's agent may have
    /// done part of the work: as after a crash (`recover`), a task with effects (declared, asked for
    /// in its words, or approved) is never run again without a person — it goes to review — and a
    /// task whose `retries` is 0 is not run again at all.
    static func takeoverPlan(_ plan: RoutePlan, task: TaskNote, from claim: any TakenOverClaim) -> RoutePlan {
        // A claim file still settling when its machine stopped: nothing was started there.
        guard case .run = plan.action, claim.agentMayHaveStarted else { return plan }
        var plan = plan
        let whose = "taken over from \(claim.machine) (run \(claim.runID)), whose lease expired while it held the task"
        if !TaskEngine.isReadOnly(task.note, path: task.path) {
            plan.action = .review("\(whose): its agent may have started, and a task with effects never runs again without a person; set approved: true to run it")
        } else if task.note["retries"] != nil, (task.note["retries"]?.wholeNumber ?? 0) <= 0 {
            plan.action = .failed("\(whose); retries: 0 says it does not run again")
        } else {
            plan.reason += "; " + whose
        }
        return plan
    }

    /// How the error of a run recovery closed because its claim is another machine's begins
    /// (`catchUp` then leaves the task note to that machine).
    static let leftToTheFleet = "interrupted; left to the fleet: "

    /// A run ended: its git claim (if any) is handed to the lease thread to be marked finished (and
    /// its claim file, with `sync: files`, says finished: `fileClaimEnded`).
    func gitClaimEnded(_ record: RunRecord) {
        fileClaimEnded(record)
        let hook: (@Sendable () -> Void)? = state.withLock { shared in
            guard let claim = shared.gitClaims.removeValue(forKey: record.runID) else { return nil }
            shared.endedClaims.append((claim, record.state.rawValue))
            return shared.claimEndedHook
        }
        // Pushed at once: until it is, a machine killed now would have its finished run taken over.
        hook?()
    }

    /// The claims of runs that ended, for `GitLeases` to push (given back when the push failed).
    func takeEndedClaims() -> [(claim: GitClaim, outcome: String)] {
        state.withLock { shared in
            defer { shared.endedClaims.removeAll() }
            return shared.endedClaims
        }
    }

    /// Claims `takeEndedClaims` returned whose push failed: tried again at the next renewal.
    func returnEndedClaims(_ claims: [(claim: GitClaim, outcome: String)]) {
        state.withLock { $0.endedClaims.insert(contentsOf: claims, at: 0) }
    }

    /// Takes over `claim`, another machine's claim whose lease expired: the task is run here as that
    /// attempt (or sent to review, `takeoverPlan`) if this machine's push moves the claim first.
    /// `.ignored` when the task note is not in this copy (yet) or the watcher is stopping.
    public func takeOver(_ claim: GitClaim) -> Consideration {
        takeOver(claim as any TakenOverClaim)
    }

    /// Takes over another machine's claim, git or file: claims the task's attempt in this machine's
    /// run store and routes it with `takeover` set (`takeSharedClaim` then moves the shared claim).
    func takeOver(_ claim: any TakenOverClaim) -> Consideration {
        guard state.withLock({ $0.accepting }), state.withLock({ $0.inFlight[claim.task] == nil }) else { return .alreadyActive }
        guard let snapshot = (try? store.readIfPresent(claim.task)) ?? nil, let note = try? Note.parse(bytes: snapshot.bytes),
              let kind = TaskNote.kind(of: note, path: claim.task) else { return .ignored }
        let task = TaskNote(path: claim.task, snapshot: snapshot, note: note, kind: kind)
        let record: RunRecord
        do {
            guard let claimed = try runs.claim(taskPath: task.path, kind: kind.rawValue, taskHash: snapshot.hash, attempt: claim.attempt) else { return .alreadyActive }
            record = claimed
        } catch {
            log(EngineEvent(level: .error, message: "\(task.path): cannot claim: \(error)"))
            return .ignored
        }
        let token = CancelToken()
        state.withLock { $0.inFlight[task.path] = token }
        routingQueue.addOperation { [self] in
            route(task, record: record, token: token, unapproved: nil, waitForRun: false, takeover: claim)
        }
        return .started(runID: record.runID)
    }

    /// Before recovery decides about a run a dead watcher of this machine left: what the remote says
    /// about its claim. `true`: recovery goes on as on one machine (the claim is let go first, so no
    /// other machine takes it over as well). `false`: another machine took it over, or the remote
    /// cannot be asked — the run is closed here as interrupted, and the task note is left alone (the
    /// machine that holds the claim writes it). With `sync: files`, the claim files decide
    /// (`recoverFileClaim`).
    func recoverGitClaim(_ record: RunRecord) -> Bool {
        if let files = fileClaims { return recoverFileClaim(record, claims: files) }
        guard let claims = gitClaims else { return true }
        let why: String
        switch claims.current(taskPath: record.taskPath, attempt: record.attempt) {
        case .success(nil):
            // Killed between its local claim and the push: no other machine ever saw it.
            return true
        case .success(let claim?) where claim.machine.lowercased() == claims.machine.lowercased() && claim.runID == record.runID:
            guard claim.state == .claimed else { return true }
            var released = claim
            released.state = .released
            released.session = GitClaims.session
            let (outcome, _) = claims.move(claim, to: released)
            if outcome == .won { return true }
            if case .lost(let text) = outcome { why = "taken over by another machine: \(text)" } else { why = "its git claim could not be released (\(outcome)); the task is left to the fleet" }
        case .success(let claim?):
            why = "taken over by \(claim.machine) (run \(claim.runID)) through git after this machine's lease expired"
        case .failure(let failure):
            why = "its git claim could not be checked (\(failure.text)); the task is left to the fleet"
        }
        leaveToFleet(record, why: why)
        return false
    }

    /// Closes a run a dead watcher of this machine left whose task another machine holds now: failed
    /// as interrupted here, counted in telemetry when its agent had started; the task note is left
    /// to the machine that holds the claim.
    func leaveToFleet(_ initial: RunRecord, why: String) {
        var record = initial
        let agentStarted = record.state == .running
        record.state = .failed
        record.error = TaskEngine.leftToTheFleet + why
        record.finishedAt = Date().timeIntervalSince1970
        if let settlement = (try? routing.closeReservation(runID: record.runID, cost: record.costUSD, agentStarted: agentStarted)) ?? nil, settlement.kind != .released {
            record.costUSD = settlement.actualUSD
        }
        try? runs.update(record)
        // A started agent was a run (it may have cost money and done work): it is counted, as
        // `interrupted`, in this machine's telemetry; the task note is the other machine's now.
        if agentStarted { telemetryBatch.record(record, duration: 0, time: Date(), execution: AgentExecution(succeeded: false, answer: "", error: "interrupted")) }
        log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) was interrupted and is not run again here: \(why)"))
        restoreClaimedCopy(of: record)
    }

    /// The keys a run's own writes (and what its agent may write into its task during the run: an
    /// approval, a verdict, which `complete` puts back) change in a task note.
    static let runWrittenKeys = lifecycleKeys.union(["approved", "approved_by", "approved_at", ResultVerdict.property])

    /// Whether `now` is `before` with only what a run that has not ended (and its agent) writes
    /// changed: the same text, other properties only among `runWrittenKeys`, and a status the run
    /// writes before it ends (`routed`, `running`); another (`cancelled`, `new`) is a person's word.
    static func differsOnlyByARun(_ now: Note, from before: Note, textAside: Bool = false) -> Bool {
        guard textAside || now.body == before.body else { return false }
        let keys = Set(now.properties.map(\.key)).union(before.properties.map(\.key))
        guard keys.allSatisfy({ runWrittenKeys.contains($0) || now[$0] == before[$0] }) else { return false }
        return now["status"] == before["status"] || [TaskStatus.routed, .running].contains(TaskStatus(property: now.text("status")))
    }

    /// The task of a run left to the fleet (`leaveToFleet`), as this machine's dead watcher left it:
    /// its routed and running writes, and whatever its agent wrote into it, uncommitted — the record
    /// of the OS's own writes died with the process, so no round commits them, and the note stood
    /// in the way of every merge (the machine that took the task over changed the same lines): the
    /// clones never converged, and the note kept the agent's `approved: true` (round 136). When the
    /// committed copy (`HEAD`) is the very text the run was claimed from, or a write of this run a
    /// round committed, and the note differs from it only by a run (`differsOnlyByARun`), the
    /// committed copy is put back, and the other machine's end of the task arrives with the next
    /// merge; when a person also changed its text here, the text stays and only the run's lines go
    /// back. Any other difference (a person's word) is left for the person.
    func restoreClaimedCopy(of record: RunRecord) {
        guard let claims = gitClaims, let current = (try? store.readIfPresent(record.taskPath)) ?? nil,
              let committed = claims.gitBytes(["show", "HEAD:./" + record.taskPath]), committed != current.bytes,
              let now = try? Note.parse(bytes: current.bytes), let before = try? Note.parse(bytes: committed),
              TaskEngine.differsOnlyByARun(now, from: before, textAside: true),
              // What the run was claimed from, or a write of this run's a round committed.
              before.text("run_id") == record.runID
                || ((try? runs.latestRun(taskPath: record.taskPath, claimedFrom: ContentHash(of: committed))) ?? nil)?.runID == record.runID else { return }
        let expected = current.hash
        if now.body == before.body {
            guard (try? store.update(record.taskPath) { $0?.hash == expected ? .write(committed) : .keep }) != nil else { return }
            log(EngineEvent(level: .info, message: "\(record.taskPath): put back as committed (the text run \(record.runID) was claimed from): the machine that took the task over writes its end, which the next merge brings"))
            return
        }
        // A person changed its text here meanwhile: that stays, and only the run's own lines go back
        // to the committed ones, so that committing the change merges with the other machine's end
        // (round 137: the dead run's `status: running`, `run_id` and `machine` stayed in it, and the
        // person's commit conflicted with the other machine's `done` in those very lines).
        let keys = TaskEngine.runWrittenKeys.filter { now[$0] != before[$0] }.sorted()
        let set = keys.compactMap { key in before[key].map { Property(key, $0) } }
        let unset = keys.filter { before[$0] == nil }
        guard !keys.isEmpty, let edited = try? FrontmatterEditor.apply(set: set, unset: unset, to: current.bytes),
              (try? store.update(record.taskPath) { $0?.hash == expected ? .write(edited) : .keep }) != nil else { return }
        log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID)'s own lines put back as committed; its text was changed here while it ran, which stays uncommitted: commit it, and the next merge brings the end the machine that took the task over writes"))
    }
}

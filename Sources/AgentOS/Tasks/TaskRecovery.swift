import Foundation

/// Crash recovery: runs a dead process left claimed or running end in exactly one state, notes that
/// say a run is in flight catch up with the run store, and answers kept aside are written.
extension TaskEngine {
    /// After a crash (or a stop that cut runs off): every run left claimed or running by a process
    /// that is gone ends in exactly one state, and nothing with effects runs twice unasked.
    ///
    /// - A run whose result note was written finishes from it (the answer is not lost).
    /// - A run that never started its agent (still `claimed`) goes back to `new`: nothing ran.
    /// - A run whose agent had printed its whole answer (its `AgentOutputCopy`) ends from that
    ///   answer, as it would have ended: result note, `done`.
    /// - A run whose agent had started is `failed` with error `interrupted`, or back to `new` when
    ///   the task allows `retries` (a read-only task, one retry by default; a task with effects,
    ///   none); an agent the dead watcher left running is stopped first.
    /// - Budget reservations of runs no longer in flight are released.
    public func recover() {
        let stale: [RunRecord]
        do { stale = try runs.runs(in: [.claimed, .running], limit: 100_000) } catch {
            log(EngineEvent(level: .error, message: "recovery: \(error)"))
            return
        }
        let ours = state.withLock { Set($0.inFlight.keys) }
        for record in stale {
            if ours.contains(record.taskPath) { continue }
            if record.ownerPID != getpid() && record.ownerPID != 0 && ProcessLiveness.isAlive(record.ownerPID) { continue }
            recoverRun(record)
        }
        let active = Set(((try? runs.runs(in: [.claimed, .running], limit: 100_000)) ?? []).map(\.runID))
        routing.releaseAbandonedReservations(activeRunIDs: active)
        // Output copies of runs no longer in flight were read above (or their run ended normally).
        AgentOutputCopy.removeAll(except: active, vault: vault)
        // What runs that reserved nothing reported spending and the ledger never heard of (locked
        // as they ended, the watcher stopped before a retry got through: round 152), these 31 days.
        let recorded = routing.recordUnrecordedSpend((try? runs.endedWithCost(since: Date().timeIntervalSince1970 - 31 * 86_400)) ?? [])
        if recorded > 0 { log(EngineEvent(level: .warning, message: "budget ledger: recorded what \(recorded) \(recorded == 1 ? "run" : "runs") that reserved nothing reported spending, which it had not heard of")) }
        // Failed runs that chose their next agent but were stopped before its handoff was written.
        resumeFailovers()
        recoverKeptResults()
        flushTelemetry()
        rebuildTelemetry()
    }

    private func recoverRun(_ initial: RunRecord) {
        var record = initial
        if let agent = try? runs.agentProcess(runID: record.runID), ProcessLiveness.stopOrphanedGroup(pid: agent.pid, startTime: agent.startTime) {
            log(EngineEvent(level: .warning, message: "\(record.taskPath): stopped agent process \(agent.pid) left running by run \(record.runID)"))
        }
        // The dead watcher could not remove the run's working folder; an empty one goes now (one
        // the agent wrote to stays, as after any run).
        RunWorkspace.removeLeftScratch(runID: record.runID, vault: vault)
        // With `sync: git`, another machine may have taken the task over while this one was down.
        if !recoverGitClaim(record) { return }
        // A kill after the run wrote its result note but before the store heard of it: the answer
        // exists, so finish from the result note instead of calling the run interrupted.
        let resultPath = Vault.Layout.results + "/" + TaskEngine.resultPath(forTitle: TaskNote.title(of: record.taskPath), runID: record.runID)
        if let result = (try? store.readIfPresent(resultPath)).flatMap({ $0 }).flatMap({ try? Note.parse(bytes: $0.bytes) }),
           result.text("run_id") == record.runID, let state = result.text("status").flatMap(RunState.init(rawValue:)), !state.isActive {
            record.state = state
            record.resultPath = resultPath
            record.finishedAt = Date().timeIntervalSince1970
            record.costUSD = result["cost_usd"]?.number
            record.tokensIn = result["tokens_in"]?.wholeNumber
            record.tokensOut = result["tokens_out"]?.wholeNumber
            // A failed run that had chosen its failover: `resumeFailovers` writes the handoff.
            record.failure = result.text("failure")
            record.failoverTo = result.text("failover_to")
            // The run finished and its result says what it cost: that is what the ledger counts.
            _ = try? routing.closeReservation(runID: record.runID, cost: record.costUSD, agentStarted: true)
            try? runs.update(record)
            var props = [Property("status", .string(record.failoverTo == nil ? state.rawValue : TaskStatus.handedOff.rawValue)), Property("result", .string(TelemetryWriter.link(resultPath)))]
            if let failure = record.failure { props.append(Property("failure", .string(failure))) }
            for key in ["finished", "duration_s", "cost_usd", "tokens_in", "tokens_out"] {
                if let value = result[key], value != .null { props.append(Property(key, value)) }
            }
            let word = personsWordPutBack(record)
            _ = updateTask(record.taskPath, set: props + word.set, unset: (state == .done ? ["error"] : []) + word.unset) { _ in nil }
            // The result note says how its cost is known; its files are kept as the note lists them.
            var execution = AgentExecution(succeeded: state == .done, answer: "", error: nil)
            execution.costSource = result.text("cost_source").flatMap(CostSource.init(rawValue:))
            execution.files = result.texts("files").map { shown in
                let isLink = shown.hasPrefix("[[") && shown.hasSuffix("]]")
                return TouchedFile(path: isLink ? String(shown.dropFirst(2).dropLast(2)) + ".md" : shown, change: .changed, attribution: .reported, inVault: isLink)
            }
            telemetryBatch.record(record, duration: result["duration_s"]?.number ?? 0, time: Date(), execution: execution)
            log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) was cut off after its result was written; finished from \(resultPath)"))
            return
        }
        // What its agent printed before the process that read it died (`AgentOutputCopy`): a cost
        // it reported is counted, and a whole answer it paid for is written, not bought again.
        let printed = leftOutput(of: record)
        let snapshot = (try? store.readIfPresent(record.taskPath)) ?? nil
        let note = snapshot.flatMap { try? Note.parse(bytes: $0.bytes) }
        // `retries` on the task decides; without it a read-only task (no effect declared or asked
        // for, not approved) runs again as often as its agent's note says (once by default), and a
        // task with effects never runs again unasked.
        let retries = printed?.answered == true ? 0 : note.map { note in
            if note["retries"] != nil { return note["retries"]?.wholeNumber ?? 0 }
            guard TaskEngine.isReadOnly(note, path: record.taskPath) else { return 0 }
            return max(0, record.agent.flatMap { routing.retries(agent: $0) } ?? 1)
        } ?? 0
        record.finishedAt = Date().timeIntervalSince1970
        if record.state == .claimed {
            // Claimed and perhaps routed, but its agent never started: nothing ran, so it runs later.
            record.state = .cancelled
            record.error = "stopped before its agent started; re-queued"
            try? runs.update(record)
            requeue(record.taskPath, set: [Property("status", .string("new"))], unset: ["run_id"])
            log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) never started its agent; re-queued"))
            return
        }
        record.state = .failed
        record.error = printed?.answered == true ? "interrupted after its agent had answered; the answer was lost when the process running it stopped" : "interrupted"
        // Its agent started and its cost is unknown: the ledger keeps the reservation, and the run's
        // telemetry shows that same figure — unless the agent printed its whole run's cost.
        var interrupted = AgentExecution(succeeded: false, answer: "", error: record.error)
        let reported = printed?.cost
        let closed = record.costUSD == nil && printed?.isFinal != true && (reported ?? 0) > 0
            ? try? routing.closeCutOffReservation(runID: record.runID, reported: reported ?? 0)
            : try? routing.closeReservation(runID: record.runID, cost: record.costUSD ?? (printed?.isFinal == true ? reported : nil), agentStarted: true)
        if let settlement = closed ?? nil, settlement.kind != .released {
            record.costUSD = settlement.actualUSD
            interrupted.costSource = settlement.kind == .charged ? .reserved : .reported
        } else if let counted = routing.closedCost(runID: record.runID) {
            // Closed before this start (by the watcher's stop, or by a sweep while another task
            // waited for room): the run shows the figure the ledger counts (round 159: the ledger
            // charged $3, the run, its task and telemetry showed no cost).
            record.costUSD = counted.usd
            interrupted.costSource = counted.charged ? .reserved : .reported
        } else if record.costUSD == nil, let reported, reported > 0 {
            // Reserved nothing (routed as free), yet its CLI reported spending: kept on the run,
            // which the sweep of `recover` records in the ledger (round 154).
            record.costUSD = reported
            interrupted.costSource = .reported
        }
        if let cost = reported, cost > 0 {
            let counted = record.costUSD.map { "; the ledger counts \(BudgetLedger.dollars($0))" } ?? ""
            log(EngineEvent(level: .warning, message: "\(record.taskPath): the agent of run \(record.runID) had reported spending \(BudgetLedger.dollars(cost)) before it was cut off\(counted)"))
        }
        if let printed, printed.answered {
            // Gone from its path (renamed, moved into `Private/`, deleted while nothing watched), the
            // answer is still written, as private (round 161: the paid answer was thrown away). The
            // note is not looked for by its `run_id`: a copy, or a note the agent wrote, holds it too
            // (round 162: the answer went to either, public).
            finishFromPrintedAnswer(record, outcome: printed.outcome, costSource: interrupted.costSource, settlement: (closed ?? nil).flatMap { $0.kind == .released ? nil : $0 })
            return
        }
        try? runs.update(record)
        // What its agent wrote of a person's word goes, as when a run ends (`complete`).
        let word = personsWordPutBack(record)
        if record.attempt <= retries {
            // The cut-off run happened (and may have cost its reservation): it gets its telemetry
            // line like any finished run, and the task runs again as a new run.
            telemetryBatch.record(record, duration: 0, time: Date(), execution: interrupted)
            requeue(record.taskPath, set: [Property("status", .string("new")), Property("attempts", .int(record.attempt)), Property("error", .string("interrupted; retrying (attempt \(record.attempt + 1) of \(retries + 1))"))] + word.set, unset: word.unset)
            log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) was interrupted; re-queued"))
        } else {
            let error = printed?.answered == true ? "interrupted after its agent had answered (the answer was lost when the process running it stopped); set status: new to run it again" : "interrupted"
            // What the run counts, as a run that ends writes it on its task.
            let cost = record.costUSD.map { [Property("cost_usd", .double($0))] + (interrupted.costSource.map { [Property("cost_source", .string($0.rawValue))] } ?? []) } ?? []
            _ = updateTask(record.taskPath, set: [Property("status", .string("failed")), Property("error", .string(error)), Property("finished", .datetime(LocalTime.dateTime(Date())))] + cost + word.set, unset: word.unset) { _ in nil }
            telemetryBatch.record(record, duration: 0, time: Date(), execution: interrupted)
            log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) was interrupted; marked failed"))
        }
    }

    /// What the agent of cut-off run `record` printed, from its `AgentOutputCopy` (removed by
    /// `recover` once every run is recovered: a start cut off in between reads it again): the cost
    /// it reported (taken within reason), whether it printed its run's end, and whether that end was
    /// a whole answer without error.
    private func leftOutput(of record: RunRecord) -> (cost: Double?, isFinal: Bool, answered: Bool, outcome: AgentOutcome)? {
        AgentOutputCopy.reported(runID: record.runID, vault: vault).map { ($0.cost, $0.isFinal, $0.isFinal && !$0.outcome.isError, $0.outcome) }
    }

    /// What a run starts with, recorded with it (`RunStore.update(_:startedWith:)`): a person's word
    /// in its task (`personsWord`), and what of its plan the run's store does not keep — the notes
    /// its packet carried and a cut to its agent's budget — for a run cut off after its agent
    /// answered, which recovery ends from that answer (`finishFromPrintedAnswer`).
    static func startFacts(of task: TaskNote, plan: RoutePlan) -> JSON {
        guard case .object(var pairs) = personsWord(of: task) else { return personsWord(of: task) }
        if !plan.sources.isEmpty { pairs.append(("sources", .array(plan.sources.map { .string($0) }))) }
        if let cut = plan.contextTruncation {
            pairs.append(("context_truncation", .array([.int(cut.tokensSent), .int(cut.tokensLeftOut), .bool(cut.ownTextCut)])))
        }
        if let budgetTask = plan.budgetTask { pairs.append(("budget_task", .string(budgetTask))) }
        // What a person may change of the task while it runs, to say what changed when it ends
        // after a crash (`changedDuringRun`).
        pairs.append(("summary", runStartSummary(task.note)))
        // Also kept by `RunTaint`, which a failed write leaves silent: the answer of private input
        // is private either way.
        if plan.privacy != nil { pairs.append(("private", .bool(true))) }
        return .object(pairs)
    }

    /// Ends cut-off run `record`, whose agent had printed its whole answer without error before the
    /// process reading it died (`AgentOutputCopy`), from that answer, as the run would have ended
    /// (`complete`: its result note, the task `done`, telemetry, the daily line). Its cost was
    /// settled by the caller (`record.costUSD`, `costSource`). The plan is made again from what the
    /// run store kept (agent, lane, model, rule, reason) and `startFacts`; a run recorded as
    /// private (`RunTaint`, written before its agent started) or whose task is private has a private
    /// result, as it would have had. Round 158: the answer was paid for and thrown away, the task
    /// `failed` with "the answer was lost".
    private func finishFromPrintedAnswer(_ record: RunRecord, outcome printed: AgentOutcome, costSource: CostSource?, settlement: BudgetSettlement?) {
        let facts = (try? runs.startedWith(runID: record.runID)) ?? nil
        var plan = RoutePlan(lane: record.lane ?? "", agent: record.agent ?? "", model: record.model, rule: record.rule ?? "", reason: record.reason ?? "",
                             action: .run, prompt: "", sources: facts?["sources"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        if let cut = facts?["context_truncation"]?.arrayValue, cut.count == 3, let sent = cut[0].intValue, let leftOut = cut[1].intValue {
            plan.contextTruncation = ContextTruncation(tokensSent: sent, tokensLeftOut: leftOut, ownTextCut: cut[2].boolValue ?? false)
        }
        plan.budgetTask = facts?["budget_task"]?.stringValue
        if facts?["private"]?.boolValue == true || RunTaint.isTainted(record.runID, vault: vault) { plan.privacy = "its run was private" }
        var outcome = AgentExecution(succeeded: true, answer: printed.answer, error: nil, costUSD: record.costUSD, tokensIn: printed.tokensIn,
                                     tokensOut: printed.tokensOut, model: printed.model)
        outcome.costSource = record.costUSD == nil ? nil : costSource
        outcome.files = RunTouches.reported(printed.files, vault: vault, workingDirectory: nil)
        if plan.privacy == nil { outcome.files = RunTouches.shareable(outcome.files, vault: vault).files }
        // What its agent wrote of a person's word goes first, as when a recovered run fails; the
        // run then ends from the note as put back (given the note as it was read before, `complete`
        // took the agent's `verdict: good` for what the run started with and wrote it back: round 160).
        let word = personsWordPutBack(record)
        if !word.set.isEmpty || !word.unset.isEmpty { _ = updateTask(record.taskPath, set: word.set, unset: word.unset) { _ in nil } }
        let task: TaskNote
        var changed: [String] = []
        var keepStatus = false
        // The run's task is the note at its path that holds its run id: another note saved at that
        // name since (the task renamed, a new `Untitled.md` made) is not it (round 163).
        if let snapshot = (try? store.readIfPresent(record.taskPath)) ?? nil, let note = try? Note.parse(bytes: snapshot.bytes), note.text("run_id") == record.runID {
            task = TaskNote(path: record.taskPath, snapshot: snapshot, note: note, kind: TaskNote.kind(of: note, path: record.taskPath) ?? .task)
            // What changed since the run started (the note at hand is today's), and a status set
            // since that asks for nothing to run (`cancelled`, `draft`): it stands (round 160: it
            // became `done`). No other does: nobody can tell a person's from the agent's own write.
            // An agent that rewrote its task (its privacy line taken out, a cloud agent named) and
            // set `new` had it run again, paid, with the private text (round 162); set `review`, one
            // approval did the same; `handed_off` left it stuck (round 163). The task ends `done`,
            // `changed_during_run` says what changed; a person sets `new` again.
            changed = (facts?["summary"].map { TaskEngine.changedDuringRun(from: $0, to: note) } ?? []) + word.changed
            keepStatus = [TaskStatus.cancelled, .draft].contains(task.status)
        } else {
            // Its note is not at its path any more: the answer is written all the same, private, as
            // nobody can judge the note it answers now.
            plan.privacy = plan.privacy ?? "its task note was not found when the run was recovered"
            guard let empty = try? Note.parse(bytes: []) else { return }
            task = TaskNote(path: record.taskPath, snapshot: NoteSnapshot(relativePath: record.taskPath, bytes: [], hash: ContentHash(value: 0),
                                                                              status: FileStatus(kind: .file, size: 0, mtimeNanoseconds: 0, mode: 0, ownerUID: 0)),
                            note: empty, kind: .task)
        }
        // A private result names the configured model, not one the agent reported (its free text).
        if plan.privacy != nil { outcome.model = nil }
        let started = Date(timeIntervalSince1970: record.startedAt ?? record.createdAt)
        log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) was cut off after its agent had printed its whole answer; the run ends from that answer"))
        complete(task, record: record, plan: plan, outcome: outcome, started: started, finished: Date(), alsoChanged: changed, keepStatus: keepStatus)
        // More than it reserved, or reserved nothing: said on the task, as when a run ends (round 160).
        if let settlement, settlement.overrunUSD > 0 {
            recordOverrun(task, settlement)
        } else if settlement == nil, routing.closedCost(runID: record.runID) == nil, let cost = record.costUSD, cost > 0,
                  let unreserved = try? routing.recordUnreservedSpend(runID: record.runID, task: plan.budgetTask ?? record.taskPath, lane: Lane(rawValue: plan.lane) ?? .tool, cost: cost) {
            recordOverrun(task, unreserved, unreserved: plan.agent)
        }
    }

    /// What the agent of a run a dead watcher left wrote of a person's word into its task
    /// (`approvalWrittenDuringRun`, from what the run started with: `RunStore.update(_:startedWith:)`),
    /// to put back with the run's end, listed in `changed_during_run` and the log (round 136: a
    /// killed run's task kept `approved: true`, `approved_by` and `verdict` its agent wrote).
    func personsWordPutBack(_ record: RunRecord) -> (set: [Property], unset: [String], changed: [String]) {
        guard let word = (try? runs.startedWith(runID: record.runID)) ?? nil,
              let note = ((try? store.readIfPresent(record.taskPath)) ?? nil).flatMap({ try? Note.parse(bytes: $0.bytes) }) else { return ([], [], []) }
        let found = TaskEngine.approvalWrittenDuringRun(started: word, now: note)
        guard !found.changed.isEmpty else { return ([], [], []) }
        log(EngineEvent(level: .warning, message: "\(record.taskPath): changed while run \(record.runID) ran (\(found.changed.joined(separator: ", "))); put back as the run started (a person approves a task in review, not a running one)"))
        return (found.set + [Property("changed_during_run", .list(found.changed.map { .string($0) }))], found.unset, found.changed)
    }

    /// Puts a task back to `new`; the OS wrote that status, yet the watcher must pick it up.
    private func requeue(_ path: String, set: [Property], unset: [String]) {
        _ = updateTask(path, set: set, unset: unset, remembering: false) { _ in nil }
        ownWrites.withLock { $0.forget(path) }
    }

    /// A note that says `routed` or `running` while no run of it is in flight: the process that ran it
    /// stopped between recording the run's end and writing the note. The note catches up with the
    /// run store (or, with no record at all, is marked interrupted).
    /// The run whose task a note at its path is an old copy of: a note without the OS's `status` and
    /// `run_id` (`mayBeOldCopy`) whose text is the prompt a recent run here was claimed with, or that prompt with
    /// lines added after it (a tour: an editor holding the note open saved its buffer — the task's
    /// text and a line more — over the OS's lines, during the run and after it; each save ran the
    /// paid task again). Line endings are not compared (an editor may save CRLF as LF). `nil` for a
    /// note of other text, or one whose first line goes on past the old prompt: a new task. Known
    /// for the runs this watcher claimed, not across a restart; a note made again since (`isNew`)
    /// is new work, a renamed one is known at its new name.
    func oldCopy(_ task: TaskNote) -> String? {
        let now = Date().timeIntervalSince1970
        guard let claimed = state.withLock({ state -> ClaimedPrompt? in
            guard var claimed = state.claimedPrompts[task.path] else { return nil }
            // Left at the name of a task renamed since (`mayBeConflictRename`): an old copy if it
            // came while the task's run went on or within `conflictRenameWindow` of the rename;
            // judged once so, it stays one. Another text there leaves it be until the window ends
            // (or a run claims the name): a copy written in place is first seen empty or half
            // written, and forgotten then, its whole text ran again (an outside attack).
            if claimed.movedTo != nil, !claimed.confirmed {
                guard now - (claimed.windowFrom ?? now) <= conflictWindow else {
                    state.claimedPrompts[task.path] = nil
                    return nil
                }
                guard claimed.prompt.begins(task.prompt), !TaskEngine.isNew(task.note, since: claimed) else { return nil }
                claimed.confirmed = true
                state.claimedPrompts[task.path] = claimed
            }
            return claimed
        }), claimed.prompt.begins(task.prompt), !TaskEngine.isNew(task.note, since: claimed) else { return nil }
        return claimed.runID
    }

    /// Whether the rename of a claimed task from `old` to `new` may be a sync tool's conflict
    /// resolution: same folder, the new name the old one with something added after a space, `.`,
    /// `-` or `_` (`x.md` → `x (SFConflict …).md`, `x_conflict-….md`, `x-LAPTOP.md`, `x 2.md`).
    /// Sync tools resolve a conflict by renaming this machine's version so and putting the other
    /// machine's — perhaps an editor's stale save of the task — at the name, at once. Known
    /// tools' names are never followed (`SyncConflict`); for the others, a note with the task's
    /// text saved at the old name within `conflictRenameWindow` is taken for an old copy of the
    /// task (an outside attack: Seafile's and ownCloud's conflicts ran the paid task again). A
    /// task moved to another folder (archived) leaves no claim behind: the next note at its old
    /// name is new work (round 29).
    static func mayBeConflictRename(from old: String, to new: String) -> Bool {
        let oldSlash = old.lastIndex(of: "/"), newSlash = new.lastIndex(of: "/")
        guard old.hasSuffix(".md"), new.hasSuffix(".md"), old[..<(oldSlash ?? old.startIndex)] == new[..<(newSlash ?? new.startIndex)] else { return false }
        let oldStem = old[(oldSlash.map { old.index(after: $0) } ?? old.startIndex)...].dropLast(3)
        let newStem = new[(newSlash.map { new.index(after: $0) } ?? new.startIndex)...].dropLast(3)
        guard newStem.count > oldStem.count, newStem.hasPrefix(oldStem) else { return false }
        return [" ", ".", "-", "_"].contains(newStem[newStem.index(newStem.startIndex, offsetBy: oldStem.count)])
    }

    /// How long after a rename that may be a sync tool's conflict resolution
    /// (`mayBeConflictRename`) a note with the task's text at the old name is taken for the other
    /// machine's old copy: the tools put it there at once.
    static let conflictRenameWindow = 30.0

    /// What the engine keeps of a task it claimed, to tell an editor's old copy of it (`oldCopy`).
    struct ClaimedPrompt: Sendable {
        var runID: String
        var prompt: PromptMark
        var order: Int
        /// When the run was claimed (seconds since 1970).
        var at: Double
        /// The note was deleted since (`noteRemoved`).
        var removed = false
        /// The inode of the file the OS wrote `status: running` into (`isSavedOver`), and its
        /// generation where the file system keeps one (`FileSystem.generation`).
        var inode: UInt64?
        var generation: UInt32?
        /// The claim left at the name of a task renamed since in a way a sync tool resolves a
        /// conflict (`mayBeConflictRename`): where the task went; when the window for its old copy
        /// began (the rename; `nil` when the task's run was in flight then: until that run ends);
        /// and whether a note here was judged an old copy of it (it stays one).
        var movedTo: String?
        var windowFrom: Double?
        var confirmed = false
    }

    /// Whether a note with the claimed prompt's text is new work after all: its `created` (as
    /// `task new`, handoffs and many templates write it) is in a later second than the claim — or,
    /// when it has no `created` this machine can read, the note was deleted since. `created`
    /// decides when it is there: git brings a changed note by deleting and writing it, so a stale
    /// save pulled from another machine looks deleted and made again (an outside attack), while
    /// a note made again keeps a newer `created` (and under polling, which never sees a delete
    /// between two looks, only `created` tells).
    static func isNew(_ note: Note, since claimed: ClaimedPrompt) -> Bool {
        guard let created = createdTime(note) else { return claimed.removed }
        return created > claimed.at.rounded(.down)
    }

    /// How far ahead of this machine's clock a `created` may be and still count: clocks of synced
    /// machines kept by NTP differ by milliseconds; one a minute fast made a stale save look new
    /// while 60 s were allowed (round 34).
    static let createdAheadAllowance = 2.0

    /// A note's `created` (seconds since 1970), when it is a date and time this machine reads
    /// truly: with a zone (`Z`, `+02:00`, `-0500`) or in local time, seconds and their fractions
    /// optional; never ahead of the clock (local time carries no zone, and a note made on a machine
    /// east of this one would make every stale save of it look new, and run its paid task again).
    static func createdTime(_ note: Note) -> Double? {
        guard let text = note.text("created"), let time = LocalTime.parseDateTime(text) else { return nil }
        return time <= Date().timeIntervalSince1970 + TaskEngine.createdAheadAllowance ? time : nil
    }

    /// Whether a note's properties are those an editor's buffer of a task has from before its run:
    /// no `run_id` (the OS writes one when it claims the task), and no `status` or `status: new` —
    /// what `task new`, MCP's `create_task`, a handoff and a person starting a task from the
    /// template write (an outside attack: the old-copy rule looked only at notes without a
    /// status, and a stale save of a task made with `task new` ran claude again). A person who
    /// runs a task again keeps its `run_id` and sets `status: new`.
    static func mayBeOldCopy(_ note: Note) -> Bool {
        guard note.text("run_id") == nil else { return false }
        return note["status"] == nil || TaskStatus(property: note.text("status")) == .new
    }

    /// Whether `prompt` is `original`, or `original` with lines after it (line endings aside).
    static func continues(_ prompt: String, _ original: String) -> Bool {
        PromptMark(original).begins(prompt)
    }

    /// What is kept of a claimed prompt to tell an old copy of it (`oldCopy`): its length and hash,
    /// line endings made `\n` — not its text, which may be long, for thousands of runs.
    struct PromptMark: Sendable {
        let length: Int
        let hash: ContentHash

        init(_ prompt: String) {
            let bytes = PromptMark.bytes(prompt)
            length = bytes.count
            hash = ContentHash(of: bytes)
        }

        /// Whether `prompt` is the marked one, or it with lines after it.
        func begins(_ prompt: String) -> Bool {
            let bytes = PromptMark.bytes(prompt)
            guard length > 0, bytes.count >= length, ContentHash(of: Array(bytes[..<length])) == hash else { return false }
            return bytes.count == length || bytes[length] == 0x0A
        }

        private static func bytes(_ prompt: String) -> [UInt8] {
            Array(prompt.replacingOccurrences(of: "\r\n", with: "\n").utf8)
        }
    }

    /// Whether `note`, at `path`, is an old copy of run `runID`'s task (`oldCopy`).
    func isOldCopy(_ note: Note, at path: String, of runID: String) -> Bool {
        guard TaskEngine.mayBeOldCopy(note), TaskNote.kind(of: note, path: path) != nil,
              let claimed = state.withLock({ $0.claimedPrompts[path] }), claimed.runID == runID, !TaskEngine.isNew(note, since: claimed) else { return false }
        return claimed.prompt.begins(TaskNote.removingComments(note.body).trimmingWhitespacesAndNewlines())
    }

    /// Whether `note`, at the path run `runID` was claimed at, is that task saved over while it ran
    /// from an editor's buffer opened before the run — without the OS's `run_id` and `status`
    /// (`mayBeOldCopy`) — rather than a new note: not deleted since, not made anew (`created` after
    /// the claim), and either written into the very file (`inode`) the OS wrote `status: running`
    /// into, as Obsidian and most editors save, whatever it now says (an edit of a running task's
    /// text in Obsidian is one too; round 150: a CJK sentence, an emoji, a typo or an emptied body
    /// ran twice or lost the run's end when judged by words), or, for a new file renamed over it
    /// (gedit, VS Code, Emacs: round 149), mostly the task's words (`isMostly`): a different task
    /// put there so (a task moved away and a new note saved at its name, round 20) is new work.
    /// Its run's end is written into it
    /// (`changed_during_run` says the text changed), and it does not run again unless a person sets
    /// `status: new`, as when the same edit is saved from Obsidian, which has the OS's lines (round
    /// 148: a stale buffer with one line edited ran the agent a second time, and the first result
    /// was detached; with only lines added it ran once).
    func isSavedOver(_ note: Note, inode: UInt64, at path: String, of runID: String) -> Bool {
        guard TaskEngine.mayBeOldCopy(note), TaskNote.kind(of: note, path: path) != nil,
              let claimed = state.withLock({ $0.claimedPrompts[path] }), claimed.runID == runID, claimed.movedTo == nil,
              !claimed.removed, !TaskEngine.isNew(note, since: claimed) else { return false }
        // The same inode number, and the same generation where the file system tells it: a file made
        // after a delete the watcher did not see (a polling one) may get the freed number.
        if claimed.inode == inode, claimed.generation == nil || FileSystem.generation(vault.root + "/" + path) == claimed.generation { return true }
        guard let words = state.withLock({ $0.inFlightWords[path] }) else { return false }
        return TaskEngine.isMostly(TaskEngine.words(of: TaskNote.removingComments(note.body)), words)
    }

    /// The words of a prompt (`WordSketch`): lower-cased runs of letters and digits, and each
    /// character outside ASCII that is not a space or a mark of punctuation on its own (a CJK
    /// sentence has no spaces, and an emoji is no letter: round 150).
    static func words(of text: String) -> WordSketch {
        var words = Set<String>()
        for word in text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }) { words.insert(String(word)) }
        for character in text where !character.isASCII && !character.isWhitespace && !character.isPunctuation { words.insert(String(character)) }
        return WordSketch(words)
    }

    /// Whether two texts' words are mostly the same: as many or more in common as apart (two
    /// texts without any are not). Exact while both have at most `WordSketch.size` words, else
    /// estimated from the smallest hashes of both together (`WordSketch`).
    static func isMostly(_ a: WordSketch, _ b: WordSketch) -> Bool {
        guard !a.hashes.isEmpty || !b.hashes.isEmpty else { return false }
        let (common, all) = a.overlap(b)
        return common * 2 >= all
    }

    /// The attempts a note's own runs made: none for a copy of another note (its `run_id` is a run
    /// of another path), whose count is that note's (round 149: a copy set to `status: new` ran as
    /// attempt 2).
    func ownAttempts(_ task: TaskNote) -> Int {
        guard task.attempts > 0, let runID = task.note.text("run_id"), let record = (try? runs.run(id: runID)) ?? nil,
              record.taskPath != task.path else { return task.attempts }
        return 0
    }

    /// How long after its run ended a status-less copy of a task counts as an editor's old copy:
    /// later, the same text saved again is new work (a script that writes a task at a fixed path
    /// every morning).
    static let oldCopyWindow = 3_600.0

    /// An old copy of run `runID`'s task (`oldCopy`) is not run again. While the run goes on, its
    /// end is written into the copy (the person's added text stays, and is listed in
    /// `changed_during_run`); after it, the OS's `status`, `run_id` and `result` are written back.
    /// `nil` when it is not one after all (the run is not this path's latest, or ended over
    /// `oldCopyWindow` ago): the note is new work.
    func keepOldCopy(_ task: TaskNote, of runID: String) -> Consideration? {
        // The very version the run was claimed from (a late event of the write that made it): the
        // run's own note, not a copy, and nothing to say.
        if state.withLock({ $0.inFlight[task.path] != nil && $0.claimedHashes[task.path] == task.snapshot.hash }) { return .alreadyActive }
        let first = state.withLock { $0.warnedOldCopy.insert(runID + "\u{0}" + String(task.snapshot.hash.value)).inserted }
        // Saved at the name of a task a sync tool may have renamed to its conflicting copy: the
        // task's run is there; this note waits for it to end, then is set back as below.
        // (Renamed since, it is still that copy: the claim moved with it, and the run is looked
        // up by its id, not by the path.)
        if let movedTo = state.withLock({ $0.claimedPrompts[task.path]?.movedTo }) {
            var record = (try? runs.run(id: runID)) ?? nil
            if record?.state.isActive == true || state.withLock({ $0.moved[task.path] != nil }) {
                // Looked at again when a run ends (this one's, or another's first: then it waits
                // again); the run read again after, so that an end in between is not missed.
                state.withLock { _ = $0.waitingForPath.insert(task.path) }
                record = (try? runs.run(id: runID)) ?? nil
            }
            if record?.state.isActive == true || state.withLock({ $0.moved[task.path] != nil }) {
                if first { log(EngineEvent(level: .info, message: "\(task.path): saved with its text from before run \(runID), whose task was renamed to \(currentPath(movedTo)) (a sync tool's conflicting copy?); it does not run again, and is set back when the run ends")) }
                return .alreadyActive
            }
            guard let record, Date().timeIntervalSince1970 - (record.finishedAt ?? 0) < TaskEngine.oldCopyWindow else {
                state.withLock { $0.claimedPrompts[task.path] = nil }
                return nil
            }
            return setBack(task, to: record, runID: runID, movedTo: movedTo)
        }
        if state.withLock({ $0.inFlight[task.path] != nil }) {
            if first { log(EngineEvent(level: .info, message: "\(task.path): saved with its text from before run \(runID), which runs (an editor's old copy?); the run's end is written into it, and it does not run again")) }
            return .alreadyActive
        }
        guard let record = (try? runs.latestRun(taskPath: task.path)) ?? nil, record.runID == runID, !record.state.isActive,
              Date().timeIntervalSince1970 - (record.finishedAt ?? 0) < TaskEngine.oldCopyWindow else {
            state.withLock { $0.claimedPrompts[task.path] = nil }
            return nil
        }
        return setBack(task, to: record, runID: runID, movedTo: nil)
    }

    /// A note that holds exactly the text a run of its path was claimed from, while that run goes on
    /// or within `oldCopyWindow` of its end: put back by a person's git (`restore`, `checkout --`,
    /// `reset --hard`, `stash`, a branch switch, `rebase --abort` — git deletes the file and writes
    /// it again, and a note saved after its task was deleted counts as new work), or while the
    /// watcher was stopped. Each ran the task again (an outside attack: one `git stash` ran four
    /// tasks again). It is not run: while the run goes on, its end is written into the note; after
    /// it, the note is left as git put it (written, it would stand in the way of the person's next
    /// `stash pop` or checkout) — unless the OS commits its own notes (`sync: git`): then the run's
    /// end is written back, and committed. `record` is the run claimed from the note's bytes
    /// (`runClaimed`). `nil` when it is not one.
    func keepRestoredCopy(_ task: TaskNote, of record: RunRecord) -> Consideration? {
        let first = state.withLock { $0.warnedOldCopy.insert(record.runID + "\u{0}" + String(task.snapshot.hash.value)).inserted }
        if record.state.isActive {
            if first { log(EngineEvent(level: .info, message: "\(task.path): put back to the text run \(record.runID) was claimed from while it runs (git restore, checkout or stash?); it does not run again, and the run's end is written into it")) }
            return .alreadyActive
        }
        // Put back within the hour after the run, by when the file was written (git sets it when it
        // puts a file back): judged by the clock instead, a note left as git put it ran again once
        // the hour had passed (round 125); a note written again later (a script's task of every
        // morning) is new work. Git writes the file when it puts it back, after the run was claimed:
        // a modification time from before the claim is a copy that kept an old one (`cp -p`, `rsync
        // -a`, `tar x` of a template: round 152, a recurring task never ran again), not git. (Not
        // the change time: a later `chmod` moves it, and a note held as put back ran again.)
        let written = Double(task.snapshot.status.mtimeNanoseconds) / 1e9
        // Judged once: a note held stays held while its path holds the same bytes, whatever writes
        // them — a `touch` or a save of the same text an hour later, in place (round 154) or by a
        // new file renamed over it as vim, `sed -i` and many editors save (round 155), ran it
        // again, unasked. Other text, or `status: new`, is new work.
        let identity = "\(record.runID):\(task.snapshot.hash.hex)"
        let heldBefore = (try? runs.wasHeld(taskPath: task.path, identity: identity)) == true
        guard heldBefore || (written >= record.createdAt - 2 && written - (record.finishedAt ?? 0) < TaskEngine.oldCopyWindow) else { return nil }
        // A run that was cancelled (its note deleted while it ran, then put back) did not do the
        // work: left as it is, the note said nothing and never ran (round 151); its end is written
        // back, so it says `cancelled` and why, and `status: new` runs it.
        if routing.sync?.mode == "git" || record.state == .cancelled { return setBack(task, to: record, runID: record.runID, movedTo: nil) }
        if !heldBefore { try? runs.recordHeld(taskPath: task.path, identity: identity) }
        if first {
            let result = record.resultPath.map { "; its result is \(TelemetryWriter.link($0))" } ?? ""
            log(EngineEvent(level: .info, message: "\(task.path): holds exactly the text run \(record.runID) was claimed from (put back by git restore, checkout, stash or reset?); it does not run again, and is left as it is\(result) — set status: new to run it again"))
        }
        return .ignored
    }

    /// The latest run of `path` claimed from `bytes`, or from them with other line endings: git with
    /// `core.autocrlf` puts a note saved with LF back with CRLF (round 125: it ran again).
    func runClaimed(from bytes: [UInt8], at path: String) -> RunRecord? {
        var forms = [bytes]
        if bytes.contains(0x0D) {
            forms.append(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").utf8.map { $0 })
        } else if bytes.contains(0x0A) {
            forms.append(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8.map { $0 })
        }
        for form in forms {
            if let record = (try? runs.latestRun(taskPath: path, claimedFrom: ContentHash(of: form))) ?? nil { return record }
        }
        return nil
    }

    /// Writes the end of run `runID` (`record`) back into an old copy of its task: its status (as
    /// its chain of failover handoffs ended), `run_id`, `result` and `handoffs`.
    func setBack(_ task: TaskNote, to record: RunRecord, runID: String, movedTo: String?) -> Consideration {
        // A run another machine took over: that machine writes the task's end (written here too,
        // the two conflicted, the merge stopped for good, and the note this machine committed kept
        // what the run's agent had written into it: round 136).
        if record.error?.hasPrefix(TaskEngine.leftToTheFleet) == true { return .ignored }
        // A run that failed over: the task ended as its chain of failover handoffs did (the OS
        // wrote that into the note; a stale save took it away — round 34).
        var last = record
        var handoffs: [String] = []
        while last.failoverTo != nil, handoffs.count < 16, let handoff = (try? runs.failoverHandoff(ofRun: last.runID)) ?? nil {
            handoffs.append(TelemetryWriter.link(handoff))
            guard let next = (try? runs.latestRun(taskPath: handoff)) ?? nil, !next.state.isActive else { break }
            last = next
        }
        let status = last.failoverTo != nil || last.state.isActive ? TaskStatus.handedOff.rawValue : last.state.rawValue
        var set = [Property("status", .string(status)), Property("run_id", .string(runID))]
        if let result = (last.failoverTo == nil ? last : record).resultPath { set.append(Property("result", .string(TelemetryWriter.link(result)))) }
        if last.state == .cancelled || last.state == .failed, let error = last.error { set.append(Property("error", .string(TaskEngine.oneLine(error)))) }
        if !handoffs.isEmpty, task.note.texts("handoffs").isEmpty { set.append(Property("handoffs", .list(handoffs.map { .string($0) }))) }
        if case .written = updateTask(task.path, set: set, unset: [], stop: { _ in nil }) {
            let why = movedTo.map { "whose task was renamed to \(currentPath($0)) (a sync tool's conflicting copy?)" } ?? "which has ended (an editor's old copy?)"
            log(EngineEvent(level: .info, message: "\(task.path): saved with its text from before run \(runID), \(why); set back to \(status) — set status: new to run it again"))
        }
        return .ignored
    }

    func catchUp(_ task: TaskNote) -> Consideration {
        if state.withLock({ $0.inFlight[task.path] != nil }) { return .ignored }
        // The note of a run in flight here, moved from the path the run has (a rename the watcher
        // saw as a new file: polling, or a re-scan after the kernel's queue overflowed): its
        // `run_id` names the run, and the note at the run's path is not it any more. The run
        // follows it, as it follows a rename (it was marked failed, and a new note saved at the old
        // name never ran: an outside attack, under `--poll`).
        if let runID = task.note.text("run_id"), let record = (try? runs.run(id: runID)) ?? nil, record.state.isActive,
           record.taskPath != task.path, state.withLock({ $0.inFlight[record.taskPath] != nil }),
           ((try? store.readIfPresent(record.taskPath)) ?? nil).flatMap({ try? Note.parse(bytes: $0.bytes) })?.text("run_id") != runID {
            try? runs.renameTask(from: record.taskPath, to: task.path)
            if followRename(from: record.taskPath, to: task.path) {
                log(EngineEvent(level: .info, message: "\(task.path): moved from \(record.taskPath) while run \(runID) ran; followed"))
                return .ignored
            }
        }
        // Routed or running on another machine (the vault is synced): its run is not in this store.
        if let machine, let owner = task.note.text("machine"), owner.lowercased() != machine.lowercased() { return .ignored }
        guard (try? runs.activeRun(taskPath: task.path)) ?? nil == nil else { return .ignored }
        let latest = (try? runs.latestRun(taskPath: task.path)) ?? nil
        // Its claim is another machine's (it took the task over): that machine writes the note.
        if latest?.error?.hasPrefix(TaskEngine.leftToTheFleet) == true { return .ignored }
        if let latest, task.note.text("run_id") == nil || task.note.text("run_id") == latest.runID {
            var props = [Property("status", .string(latest.state.rawValue))]
            if let result = latest.resultPath { props.append(Property("result", .string(TelemetryWriter.link(result)))) }
            let duration = (latest.finishedAt ?? 0) - (latest.startedAt ?? latest.finishedAt ?? 0)
            if let finished = latest.finishedAt {
                props.append(Property("finished", .datetime(LocalTime.dateTime(Date(timeIntervalSince1970: finished)))))
                // The figures the run's end wrote, as the run store kept them (a note saved over
                // with an older text had lost them too).
                props.append(Property("duration_s", .double((duration * 1000).rounded() / 1000)))
            }
            if let cost = latest.costUSD { props.append(Property("cost_usd", .double(cost))) }
            if let tokens = latest.tokensIn { props.append(Property("tokens_in", .int(tokens))) }
            if let tokens = latest.tokensOut { props.append(Property("tokens_out", .int(tokens))) }
            if let error = latest.error { props.append(Property("error", .string(TaskEngine.oneLine(error)))) }
            _ = updateTask(task.path, set: props, unset: latest.error == nil ? ["error"] : []) { _ in nil }
            telemetryBatch.record(latest, duration: duration, time: Date())
            // Said once a run: an editor saving its stale buffer again and again has the note caught
            // up at every save, and the log said so each time (45 lines in three seconds).
            if state.withLock({ $0.caughtUp.insert(latest.runID).inserted }) {
                log(EngineEvent(level: .warning, message: "\(task.path): caught up with run \(latest.runID), which ended \(latest.state.rawValue)"))
            }
        } else if let runID = task.note.text("run_id"), let run = (try? runs.run(id: runID)) ?? nil, run.taskPath != task.path {
            let original = run.taskPath
            // A copy of another task's note, made while that task ran (Obsidian's "Make a copy"):
            // its `run_id` is the other note's run. It never ran, and is not run unasked (a copy
            // may be a backup); the error says so (it said "interrupted", as if it had crashed).
            // With the other note gone, this may be it, renamed while nothing watched: said so, with
            // where the run's answer is (round 162: told it "has not run", a person paid again).
            let gone = ((try? store.readIfPresent(original)) ?? nil).flatMap { try? Note.parse(bytes: $0.bytes) }?.text("run_id") != runID
            let why = gone
                ? "holds the run_id of run \(runID) of \(original), which is gone: if this is that note renamed, its run " + (run.state.isActive ? "has not ended" : "ended \(run.state.rawValue)")
                    + (run.resultPath.map { " and its answer is in \($0)" } ?? "") + "; else it is a copy that has not run; set status: new to run it"
                : "a copy of \(original), made while its run \(runID) was in flight: this note has not run; set status: new to run it"
            // Nor is the other note's count of attempts its own (it ran as attempt 2: round 144).
            // A person who set `status: new` on the copy at once (before this look) asked for it to
            // run: their word is not written over with `failed` and an error asking for what they
            // did (round 147); the other note's run id and attempts go, and it runs as new work.
            let asked = updateTask(task.path, set: [Property("status", .string("failed")), Property("error", .string(why))], unset: ["attempts"]) { status in
                status == .new ? "asked to run" : nil
            }
            if case .stopped = asked {
                if case .written = updateTask(task.path, set: [], unset: ["attempts", "run_id"], stop: { $0 == .new ? nil : "changed again" }) {
                    log(EngineEvent(level: .info, message: "\(task.path): a copy of \(original), made while its run \(runID) was in flight, set to status: new: it runs as a task of its own"))
                    let path = task.path
                    // Forced: the note as it is now is the OS's own write, which is otherwise nothing to do.
                    DispatchQueue.global().async { [self] in _ = consider(path: path, force: true) }
                }
                return .ignored
            }
            log(EngineEvent(level: .warning, message: "\(task.path): \(why)"))
        } else {
            _ = updateTask(task.path, set: [Property("status", .string("failed")), Property("error", .string("interrupted (no record of its run)"))], unset: []) { _ in nil }
            log(EngineEvent(level: .warning, message: "\(task.path): says it is in flight but no run of it is; marked failed"))
        }
        return .ignored
    }

    // MARK: Results that could not be written

    /// Creates a result note at `path`, or, when a file is there already, beside it with ` 2`, ` 3`…
    /// before `.md`; returns the path written. The name is known to the run's agent (the task's
    /// title and `FBT_RUN_ID`), and a file it made there during its run left the answer in
    /// `.agentos/results/` for good, every start failing again (round 46).
    func createResultNote(_ bytes: [UInt8], at path: String) throws -> String {
        var candidate = path
        var n = 2
        while true {
            do {
                announce(candidate, bytes)
                remember(candidate, try store.create(bytes, at: candidate))
                return candidate
            } catch {
                guard case .conflict? = error as? NoteWriteError, n <= 100 else { throw error }
                candidate = String(path.dropLast(3)) + " \(n).md"
                n += 1
            }
        }
    }

    /// `.agentos/results`: answers whose result note could not be written, by run id.
    var keptResultsFolder: String { vault.stateDirectory + "/results" }

    /// Keeps a result note's text in `.agentos/results/<run id>.md`; returns the vault-relative path.
    func keepResult(_ text: String, runID: String) -> String? {
        let path = Vault.Layout.state + "/results/" + runID + ".md"
        do {
            try store.replace(path, with: Array(text.utf8))
            return path
        } catch {
            log(EngineEvent(level: .error, message: "run \(runID): cannot keep the answer in \(path): \(error)"))
            return nil
        }
    }

    /// Writes kept answers as their result notes where that works now, links them from their tasks,
    /// and removes them from `.agentos/results/`; the others stay for the next start.
    func recoverKeptResults() {
        guard let entries = try? FileSystem.list(keptResultsFolder) else { return }
        for (name, _) in entries where name.hasSuffix(".md") && !name.hasPrefix(".") {
            let runID = String(name.dropLast(3))
            guard var record = (try? runs.run(id: runID)) ?? nil, !record.state.isActive,
                  let text = try? FileSystem.read(keptResultsFolder + "/" + name) else { continue }
            var resultPath = Vault.Layout.results + "/" + TaskEngine.resultPath(forTitle: TaskNote.title(of: record.taskPath), runID: runID)
            // Already written by an earlier start that stopped before cleaning up: the very bytes.
            // (A note of the run's id with other text — which the run's agent may have made — is
            // not it: the answer goes beside it.)
            if ((try? store.readIfPresent(resultPath)) ?? nil)?.bytes != text.bytes {
                do { resultPath = try createResultNote(text.bytes, at: resultPath) } catch {
                    log(EngineEvent(level: .warning, message: "run \(runID): the kept answer still cannot be written to \(resultPath): \(error)"))
                    continue
                }
            }
            record.resultPath = resultPath
            record.error = "the result note could not be written when the run ended; it was recovered on restart"
            try? runs.update(record)
            _ = updateTask(record.taskPath, set: [Property("result", .string(TelemetryWriter.link(resultPath))), Property("error", .string(record.error!))], unset: []) { _ in nil }
            try? FileSystem.remove(keptResultsFolder + "/" + name)
            log(EngineEvent(level: .warning, message: "\(record.taskPath): recovered the answer of run \(runID) into \(resultPath)"))
        }
    }
}

/// A text's distinct words as a bounded sketch: the 64-bit FNV-1a hashes of its words, only the
/// `size` smallest kept (a bottom-k sketch). Two sketches tell how many words two texts share
/// among the smallest hashes of both together, a fair sample of all their words: the first 4,096
/// words in text order were kept before, and a long task edited by a save-by-rename that put new
/// words first shared almost none of them, was taken for new work and ran twice (round 151).
struct WordSketch: Sendable, Equatable {
    /// How many hashes are kept: the word sets of a running task stay a few dozen KB at most.
    static let size = 4096
    /// The smallest hashes of the words, ascending.
    let hashes: [UInt64]
    /// Whether every word's hash is kept (the text has at most `size` distinct words).
    let isComplete: Bool

    init(_ words: Set<String>) {
        let all = words.map(WordSketch.hash).sorted()
        hashes = Array(all.prefix(WordSketch.size))
        isComplete = all.count <= WordSketch.size
    }

    /// FNV-1a over the word's UTF-8: the same in every process and on every run.
    static func hash(_ word: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in word.utf8 { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return value
    }

    /// How many words the two share, out of how many looked at: all of both when both are
    /// complete; else the `size` smallest hashes of both together, each of which either sketch
    /// holds if its text has that word (each keeps its `size` smallest).
    func overlap(_ other: WordSketch) -> (common: Int, all: Int) {
        var i = 0, j = 0, common = 0, all = 0
        let limit = isComplete && other.isComplete ? Int.max : WordSketch.size
        while all < limit, i < hashes.count || j < other.hashes.count {
            let a = i < hashes.count ? hashes[i] : .max
            let b = j < other.hashes.count ? other.hashes[j] : .max
            if i < hashes.count, j < other.hashes.count, a == b {
                common += 1; i += 1; j += 1
            } else if j >= other.hashes.count || (i < hashes.count && a < b) {
                i += 1
            } else {
                j += 1
            }
            all += 1
        }
        return (common, all)
    }
}

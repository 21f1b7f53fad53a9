import Foundation

/// What the engine does about a failed run: its failure class, the cooldown it set on the agent,
/// and the next agent of the chain (nil when none can take the task).
struct FailoverStep: Sendable {
    /// The class, with the reset time the agent printed.
    var report: FailureReport
    /// The cooldown the failure set, if its class cools an agent down.
    var cooldown: Cooldown?
    /// The agent the task is handed to, or nil.
    var target: String?
    /// The chain, first agent first.
    var chain: [String]
    /// Agents tried so far, the one that just failed last.
    var tried: [String]
    /// Why no agent was found, or which were passed over.
    var note: String
    /// The agents passed over as cooling down or not able to run here (`FailoverTarget.unavailable`).
    var unavailable: [String] = []

    /// What the failed run's note records: the class, and for a failover `handed_off` with the
    /// list of failovers so far.
    func taskProperties(task: TaskNote, runID: String, agent: String, runStatus: TaskStatus) -> [Property] {
        var props = [Property("failure", .string(report.failureClass.rawValue))]
        if let cooldown { props.append(Property("failure_reset", .datetime(LocalTime.dateTime(cooldown.until)))) }
        if let target {
            props.append(Property("status", .string(TaskStatus.handedOff.rawValue)))
            // The agents passed over on the way (cooling down, not installed here) are said too.
            let line = "\(agent): \(report.failureClass.words) → \(target)" + (unavailable.isEmpty ? "" : " (passed over: \(unavailable.joined(separator: "; ")))")
            props.append(Property("failovers", .list((task.note.texts("failovers") + [line]).map { .string($0) })))
        } else if report.failureClass.failsOver {
            props.append(Property("failover_note", .string(note)))
        }
        return props
    }
}

extension TaskEngine {
    /// What a failover handoff says when the agent stopped before it answered.
    static let producedNothing = "Nothing: it stopped before it answered."

    /// The part of a failover handoff's text (`handOver`) that is the stopped agent's work: what
    /// follows "## What … produced before it stopped", without the OS's own lines. Empty when
    /// there is none.
    static func producedPart(of prompt: String) -> String {
        guard let heading = prompt.range(of: "\n## What "), let end = prompt[heading.upperBound...].range(of: " produced before it stopped\n") else { return "" }
        var produced = String(prompt[end.upperBound...])
        if let result = produced.range(of: "\nIts result note: ", options: .backwards) { produced = String(produced[..<result.lowerBound]) }
        produced = produced.trimmingWhitespacesAndNewlines()
        return produced == producedNothing ? "" : produced
    }

    /// The handoff note of a run's failover: named after the run, so a restart finds the one an
    /// earlier attempt wrote instead of writing a second.
    /// What a handoff asked of its agent: a person's or an agent's handoff, its body (comments
    /// left out); a failover handoff, the ask it carried on (its "What … was asked" part), if any.
    static func askedOfHandoff(_ handoff: Note) -> String? {
        let body = TaskNote.removingComments(handoff.body)
        guard handoff.text("failover_of") != nil else { return body.trimmingWhitespacesAndNewlines() }
        guard let start = body.range(of: #"(?m)^## What .* was asked\n"#, options: .regularExpression) else { return nil }
        let rest = body[start.upperBound...]
        // To the part this failover wrote after it (an ask may have headings of its own: round 56).
        let end = rest.range(of: #"\n## What [^\n]* produced before it stopped"#, options: .regularExpression)?.lowerBound ?? rest.endIndex
        return String(rest[..<end]).trimmingWhitespacesAndNewlines()
    }

    public static func failoverHandoffPath(runID: String, from: String, to: String) -> String {
        Vault.Layout.handoffs + "/" + NoteName.sanitize("Failover \(runID) \(from) to \(to)") + ".md"
    }

    /// Classifies a failed run; cools its agent down when the class says so (until the reset time
    /// it printed, else a doubling back-off) and, for a class that fails over, picks the next agent.
    func failoverStep(_ task: TaskNote, plan: RoutePlan, outcome: AgentExecution, cooldown: Cooldown?) -> FailoverStep? {
        guard let failureClass = outcome.failureClass else { return nil }
        let report = outcome.failure ?? FailureReport(failureClass)
        let tried = task.note.texts("failover_tried") + [plan.agent]
        guard failureClass.failsOver else {
            return FailoverStep(report: report, cooldown: cooldown, target: nil, chain: [plan.agent], tried: tried, note: "")
        }
        return failoverTarget(task, plan: plan, report: report, cooldown: cooldown, tried: tried)
    }

    /// Cools a failed run's agent down when its failure class says so; the cooldown set, if any.
    /// Recorded before the run's budget reservation is closed: a task waiting for that room would
    /// otherwise start the agent in between (round 56: claude called 90 ms after its limit).
    func recordCooldown(_ task: TaskNote, plan: RoutePlan, outcome: AgentExecution) -> Cooldown? {
        guard let failureClass = outcome.failureClass else { return nil }
        let report = outcome.failure ?? FailureReport(failureClass)
        var cooldown: Cooldown?
        if failureClass.coolsDown, !plan.agent.isEmpty {
            do {
                let set = try runs.coolDown(agent: plan.agent, failure: failureClass, reason: plan.privacy == nil ? TaskEngine.oneLine(outcome.error ?? failureClass.words) : TaskEngine.privateRunError(outcome),
                                             resetAt: report.resetAt)
                cooldown = set
                log(EngineEvent(level: .warning, message: "\(set.summary) (routing skips it until then; 'fuckbigtech agent reset \(plan.agent)' ends it)"))
            } catch {
                log(EngineEvent(level: .error, message: "\(task.path): run store: cannot record the cooldown of \(plan.agent): \(error)"))
            }
        }
        return cooldown
    }

    private func failoverTarget(_ task: TaskNote, plan: RoutePlan, report: FailureReport, cooldown: Cooldown?, tried: [String]) -> FailoverStep? {
        let target = routing.failoverTarget(task, failedAgent: plan.agent, rule: plan.rule, tried: tried, privateRun: plan.privacy != nil)
        return FailoverStep(report: report, cooldown: cooldown, target: target.agent, chain: target.chain, tried: tried, note: target.note, unavailable: target.unavailable)
    }

    /// Writes the handoff of a failed run to the agent its record names (`failoverTo`) and records it:
    /// on the original task's `handoffs`, and in the run store. Idempotent: the note is named after
    /// the run, and one found there already is the one recorded.
    func handOver(_ record: RunRecord, chain known: [String]? = nil) {
        guard let to = record.failoverTo, let from = record.agent else { return }
        let failing = (try? store.readIfPresent(record.taskPath)).flatMap { $0 }.flatMap { try? Note.parse(bytes: $0.bytes) }
        let original: String = {
            guard record.kind == WorkKind.handoff.rawValue, let failing else { return record.taskPath }
            return Handoffs.taskPath(of: failing, vault: vault, from: record.taskPath) ?? record.taskPath
        }()
        let tried = (failing?.texts("failover_tried") ?? []) + [from]
        let chain: [String] = known ?? {
            guard let failing, let kind = TaskNote.kind(of: failing, path: record.taskPath),
                  let snapshot = (try? store.readIfPresent(record.taskPath)) ?? nil else { return tried + [to] }
            let task = TaskNote(path: record.taskPath, snapshot: snapshot, note: failing, kind: kind)
            return routing.failoverTarget(task, failedAgent: from, rule: record.rule, tried: tried, privateRun: false).chain
        }()
        if let hold = ProcessInfo.processInfo.environment["FBT_TEST_HOLD_BEFORE_HANDOFF"], !hold.isEmpty, known != nil {
            // Tests only: a window between the recorded failure and the handoff, for a SIGKILL.
            _ = FileManager.default.createFile(atPath: hold, contents: Data(record.runID.utf8))
            Thread.sleep(forTimeInterval: 30)
        }
        let failure = record.failure.flatMap(FailureClass.init(rawValue:))
        let words = failure?.words ?? "failure"
        var partial = record.resultPath.flatMap { TaskEngine.partialAnswer(resultPath: $0, store: store) } ?? ""
        // An agent that stopped on its limit printed the limit's words only: they are its error,
        // not work (a tour: "Claude AI usage limit reached|…" went to codex as what claude produced).
        let printed = partial.trimmingWhitespacesAndNewlines()
        if !printed.isEmpty, let error = record.error, error.contains(printed) || printed.contains(error.trimmingWhitespacesAndNewlines()) { partial = "" }
        var message = "\(from) stopped on [[\(String(original.dropLast(3)))]]: \(words)"
        if let error = record.error { message += " (" + TaskEngine.oneLine(error) + ")" }
        message += ". Continue the task from where \(from) left off; do not start over.\n\n"
        // A handoff that fails over passes on what it asked (round 55: "Review t6" became a redo
        // of the task, the next agent never told of it). Its own words only, comments left out.
        if record.kind == WorkKind.handoff.rawValue, let failing, let asked = TaskEngine.askedOfHandoff(failing), !asked.isEmpty {
            message += "## What \(from) was asked\n\n" + asked + "\n\n"
        }
        message += "## What \(from) produced before it stopped\n\n"
        message += partial.isEmpty ? TaskEngine.producedNothing + "\n" : partial + (partial.hasSuffix("\n") ? "" : "\n")
        if let resultPath = record.resultPath { message += "\nIts result note: \(TelemetryWriter.link(resultPath))\n" }
        var extra: [Property] = [
            Property("failover_of", .string(record.runID)),
            Property("failure", .string(record.failure ?? "")),
            Property("failover_chain", .list(chain.map { .string($0) })),
            Property("failover_tried", .list(tried.map { .string($0) })),
        ]
        // The task's effects go with it: the next agent needs a person's approval for them again
        // (an approval is spent by the run it approved).
        let effects = failing?.texts("effects") ?? []
        if !effects.isEmpty { extra.append(Property("effects", .list(effects.map { .string($0) }))) }
        // And the limits a person set on it: the next agent spends at most the task's own
        // `budget_usd` and stops at its `timeout` (round 54: a $0.05 task's failover reserved the
        // next agent's whole $0.40 and spent $0.39; a 3 s task ran 6 s on the next agent).
        for key in ["budget_usd", "timeout"] {
            if let value = failing?[key], value != .null { extra.append(Property(key, value)) }
        }
        let path = TaskEngine.failoverHandoffPath(runID: record.runID, from: from, to: to)
        do {
            let written = try Handoffs.create(vault: vault, from: from, to: to, taskPath: original, message: message, context: [], exactPath: path, extra: extra)
            try runs.recordFailoverHandoff(runID: record.runID, path: written)
            if record.kind == WorkKind.handoff.rawValue {
                // A handoff that failed over again: the original task keeps the whole story.
                _ = updateTask(original, set: [Property("failovers", .list(((try? store.readIfPresent(original)).flatMap { $0 }.flatMap { try? Note.parse(bytes: $0.bytes) }?.texts("failovers") ?? []).map { .string($0) } + [.string("\(from): \(words) → \(to)")]))], unset: []) { _ in nil }
            }
            log(EngineEvent(level: .warning, message: "\(record.taskPath): \(from): \(words); handed to \(to) in \(written)"))
        } catch {
            // The run store still says which agent is next: the next start writes it.
            log(EngineEvent(level: .error, message: "\(record.taskPath): could not write the failover handoff to \(to): \(error); it is written on the next start"))
        }
    }

    /// The partial answer of a failed run, from its result note.
    static func partialAnswer(resultPath: String, store: NoteStore) -> String? {
        guard let snapshot = (try? store.readIfPresent(resultPath)) ?? nil, let note = try? Note.parse(bytes: snapshot.bytes),
              let range = note.body.range(of: "## Partial answer\n") else { return nil }
        return String(note.body[range.upperBound...]).trimmingWhitespacesAndNewlines()
    }

    /// Failovers a stopped process chose but did not write (`RunStore.pendingFailovers`): written
    /// now, once each.
    func resumeFailovers() {
        for record in (try? runs.pendingFailovers()) ?? [] {
            log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) failed over to \(record.failoverTo ?? "?") before a stop; writing its handoff now"))
            handOver(record)
        }
    }

    /// A failover handoff ended (and did not fail over again): its original task ends as it did.
    func finishFailedOverTask(_ handoff: TaskNote, record: RunRecord, status: TaskStatus) {
        guard handoff.note.text("failover_of") != nil, let original = Handoffs.taskPath(of: handoff.note, vault: vault, from: handoff.path) else { return }
        var props = [Property("status", .string(status.rawValue)), Property("finished", .datetime(LocalTime.dateTime(Date())))]
        if let result = record.resultPath { props.append(Property("result", .string(TelemetryWriter.link(result)))) }
        var unset: [String] = []
        if var error = record.error {
            // The handoff's run was private (the handoff of a private run is private itself, so its
            // agent's words were kept on it): a public original task is told the class only.
            let guardrails = RuleBook.load(vault: vault).guardrails
            let originalNote = ((try? store.readIfPresent(original)) ?? nil).flatMap { try? Note.parse(bytes: $0.bytes) }
            let handoffPrivate = Privacy.reason(note: handoff.note, path: handoff.path, guardrails: guardrails) != nil || RunTaint.isTainted(record.runID, vault: vault)
            if handoffPrivate, originalNote.map({ Privacy.reason(note: $0, path: original, guardrails: guardrails) == nil }) ?? true {
                error = TaskEngine.privateRunError(failure: record.failure.flatMap(FailureClass.init(rawValue:)), exitCode: record.exitCode)
            }
            props.append(Property("error", .string(TaskEngine.oneLine(error))))
        } else {
            unset.append("error")
        }
        if let failure = record.failure { props.append(Property("failure", .string(failure))) }
        // The reset time is the last agent's, as the error is: the first agent's stayed, next to
        // the second's error (an outside tour: codex's "try again in 2 days" beside claude's 1 h).
        // (A chain that ended done keeps the record of the first agent's failure.)
        if record.state == .failed {
            if let agent = record.agent, let cooling = (try? runs.cooldown(agent: agent)) ?? nil {
                props.append(Property("failure_reset", .datetime(LocalTime.dateTime(cooling.until))))
            } else {
                unset.append("failure_reset")
            }
        }
        _ = updateTask(original, set: props, unset: unset) { current in
            current == .handedOff ? nil : "no longer handed off"
        }
    }

    /// What follows a failure that did not fail over: a context overflow is queued again once with
    /// half the packet; a read-only task cut off by a timeout or an overload is queued again once
    /// (or `retries` times). Tasks with effects are never queued again without a person; an agent
    /// that crashed or reported a task error is not retried blindly. Returns the properties that
    /// queue it again (`status: new` among them), or nil when it stays failed.
    func retryProperties(_ task: TaskNote, record: RunRecord, plan: RoutePlan, failover: FailoverStep?) -> [Property]? {
        guard let failover, failover.target == nil, record.state == .failed else { return nil }
        switch failover.report.failureClass {
        case .contextOverflow:
            guard task.note["context_retry"] == nil else { return nil }
            let smaller = max(64, ContextPacket.estimateTokens(plan.prompt) / 2)
            log(EngineEvent(level: .warning, message: "\(task.path): context overflow; queued again once with a packet of \(smaller) tokens"))
            return [
                Property("status", .string(TaskStatus.new.rawValue)),
                Property("context_tokens", .int(smaller)), Property("context_retry", .bool(true)),
                Property("error", .string("context overflow on \(plan.agent); retrying once with a packet of \(smaller) tokens")),
            ]
        case .timeout, .overloaded:
            guard TaskEngine.isReadOnly(task.note, path: task.path), task.approval == nil, !task.isApproved else { return nil }
            let allowed = task.note["retries"] != nil ? task.retries : max(0, routing.retries(agent: plan.agent) ?? 1)
            guard record.attempt <= allowed else { return nil }
            log(EngineEvent(level: .warning, message: "\(task.path): \(failover.report.failureClass.words); read-only, queued again (attempt \(record.attempt + 1) of \(allowed + 1))"))
            return [
                Property("status", .string(TaskStatus.new.rawValue)),
                Property("error", .string("\(failover.report.failureClass.words) on \(plan.agent); read-only, so retrying (attempt \(record.attempt + 1) of \(allowed + 1))")),
            ]
        default:
            return nil
        }
    }

    /// Whether a task may be run again without a person: it declares no effect but `read`, its words
    /// ask for none (`EffectsInference`, as the router infers them), and it was not approved (an
    /// approval is spent by the run it approved).
    static func isReadOnly(_ note: Note, path: String) -> Bool {
        let declared = note.texts("effects").filter { $0.lowercased() != SideEffect.read }
        guard declared.isEmpty, note["approved"]?.bool != true else { return false }
        let title = NoteScanner.title(ofPath: path)
        return EffectsInference.infer(title + "\n" + note.body).isEmpty
    }

    /// An agent that answered is fine again: its failures in a row are forgotten.
    func clearStrikes(agent: String) {
        guard !agent.isEmpty, ((try? runs.withDatabase { try $0.scalarInt("SELECT 1 FROM cooldowns WHERE agent=? AND until <= ?", [.text(agent), .double(Date().timeIntervalSince1970)]) }) ?? nil) != nil else { return }
        _ = try? runs.resetCooldown(agent: agent)
    }
}

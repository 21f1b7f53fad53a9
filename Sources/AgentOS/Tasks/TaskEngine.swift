import Foundation

/// What the routing layer decided for one task: the single place where lanes, agents and guardrails
/// meet the lifecycle.
public struct RoutePlan: Sendable {
    public enum Action: Sendable, Equatable {
        case run
        case review(String)
        case blocked(String)
        /// Cannot run at all (an agent name nothing defines): the run ends `failed` with the reason.
        case failed(String)
    }

    public var lane: String
    public var agent: String
    public var model: String?
    public var rule: String
    public var reason: String
    public var action: Action
    /// The prompt to send (after redaction, with the context packet when there is one).
    public var prompt: String
    /// Paths that went into the prompt (the result note's `sources`).
    public var sources: [String]
    /// Extra properties to record on the task (guardrail verdicts and the like).
    public var extraProperties: [Property]
    /// A budget reservation to settle after the run, if one was made.
    public var reservationID: String?
    /// Whether a person approved the task (the agent then starts without its read-only flags).
    public var approved: Bool
    /// USD the run reserves right before its agent starts (0: not a paid run, nothing to reserve).
    public var reservationUSD: Double = 0
    /// The task's own `budget_usd`, which lowers the task cap when the reservation is taken.
    public var taskBudgetUSD: Double?
    /// Why the run's input is private (`nil`: public). Its result note is then private too, and its
    /// telemetry row and daily line name no title or link (taint follows the data).
    public var privacy: String?

    public init(lane: String, agent: String, model: String?, rule: String, reason: String, action: Action, prompt: String, sources: [String] = [], extraProperties: [Property] = [], reservationID: String? = nil, approved: Bool = false, reservationUSD: Double = 0, taskBudgetUSD: Double? = nil, privacy: String? = nil) {
        self.lane = lane
        self.agent = agent
        self.model = model
        self.rule = rule
        self.reason = reason
        self.action = action
        self.prompt = prompt
        self.sources = sources
        self.extraProperties = extraProperties
        self.reservationID = reservationID
        self.approved = approved
        self.reservationUSD = reservationUSD
        self.taskBudgetUSD = taskBudgetUSD
        self.privacy = privacy
    }
}

/// What the budget says about a planned paid run that is about to start.
public enum BudgetGate: Sendable, Equatable {
    /// The reservation is held (or there is nothing to reserve): start the agent.
    case go
    /// Only reservations of runs in flight hold the room: wait in the queue until they settle.
    case wait(String)
    /// Settled spend leaves no room (or the ledger cannot be used): route again, which falls back
    /// to the rule's fallback lane or sends the task to review.
    case refused(String)
}

/// Decides routes and settles budgets; implemented over the rules engine and guardrails.
public protocol TaskRouting: Sendable {
    /// Plans the run of a task (`runID` names any budget reservation made).
    func plan(_ task: TaskNote, runID: String) -> RoutePlan
    /// Settles the real cost of a run against its reservation (or releases it when `cost` is nil).
    func settle(_ plan: RoutePlan, cost: Double?)
    /// How many runs a lane may have at once.
    func concurrency(lane: String) -> Int
    /// Closes the budget reservations of runs that are no longer in flight (after a crash): a run
    /// whose agent started is charged its real cost when known, else its whole reservation; only a
    /// run whose agent never started gets its reservation back.
    func releaseAbandonedReservations(activeRunIDs: Set<String>)
    /// Takes the reservation of a planned paid run right before its agent starts (`plan.reservationUSD`
    /// against the caps as they are now); the ledger's atomic check decides.
    func reserve(_ plan: RoutePlan, task: String, runID: String) -> BudgetGate
    /// Closes a run's reservation: its real cost when known (even above the reservation), else its
    /// whole reservation if the agent started, else nothing. Returns what was recorded.
    func closeReservation(runID: String, cost: Double?, agentStarted: Bool) -> BudgetSettlement?
    /// Waits up to `timeout` seconds for a reservation to be closed (a waiting run then tries again).
    func waitForBudgetChange(timeout: Double)
}

extension TaskRouting {
    /// Routing without a budget ledger lets every run start.
    public func reserve(_ plan: RoutePlan, task: String, runID: String) -> BudgetGate { .go }
    /// Routing without a budget ledger has nothing to close.
    public func closeReservation(runID: String, cost: Double?, agentStarted: Bool) -> BudgetSettlement? { nil }
    /// Sleeps: routing without a ledger hears of no settlement.
    public func waitForBudgetChange(timeout: Double) { usleep(useconds_t(max(0, min(timeout, 1)) * 1_000_000)) }
}

/// What came back from an agent, in the lifecycle's terms.
public struct AgentExecution: Sendable {
    public var succeeded: Bool
    public var answer: String
    public var error: String?
    public var costUSD: Double?
    public var tokensIn: Int?
    public var tokensOut: Int?
    public var exitCode: Int?
    public var stderrTail: String
    public var model: String?
    public var cancelled: Bool

    public init(succeeded: Bool, answer: String, error: String?, costUSD: Double? = nil, tokensIn: Int? = nil, tokensOut: Int? = nil, exitCode: Int? = nil, stderrTail: String = "", model: String? = nil, cancelled: Bool = false) {
        self.succeeded = succeeded
        self.answer = answer
        self.error = error
        self.costUSD = costUSD
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.exitCode = exitCode
        self.stderrTail = stderrTail
        self.model = model
        self.cancelled = cancelled
    }
}

/// Runs an agent by name.
public protocol AgentExecuting: Sendable {
    /// Runs an agent; `runEnvironment` is set for it on top of its allow-list (`FBT_VAULT`,
    /// `FBT_TASK`, `FBT_RUN_ID`, so an agent can call back, e.g. `fuckbigtech handoff --task "$FBT_TASK"`);
    /// `onStart` gets the agent process's pid (its process group) as soon as it runs.
    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution
}

/// Something the engine wants the operator to see (the watcher prints these; tests collect them).
public struct EngineEvent: Sendable {
    public enum Level: String, Sendable { case info, warning, error }
    public let level: Level
    public let message: String
}

/// The task lifecycle: claims a task exactly once, routes it, runs its agent, and writes the result,
/// the task's properties, telemetry and the daily log back — every note write by compare-and-swap.
public final class TaskEngine: @unchecked Sendable {
    public let vault: Vault
    public let store: NoteStore
    public let runs: RunStore
    public let telemetry: TelemetryWriter
    let routing: TaskRouting
    let executor: AgentExecuting
    let log: @Sendable (EngineEvent) -> Void

    private let lock = NSLock()
    /// The hash of the OS's last write per path, so that the watcher never reacts to its own writes.
    private var ownWrites: [String: ContentHash] = [:]
    /// Cancel tokens of runs in flight, by task path.
    private var inFlight: [String: CancelToken] = [:]
    private var laneQueues: [String: OperationQueue] = [:]
    private let routingQueue: OperationQueue
    private var accepting = true

    public init(vault: Vault, runs: RunStore, routing: TaskRouting, executor: AgentExecuting, log: @escaping @Sendable (EngineEvent) -> Void) {
        self.vault = vault
        self.store = NoteStore(vault: vault)
        self.runs = runs
        self.telemetry = TelemetryWriter(store: store)
        self.routing = routing
        self.executor = executor
        self.log = log
        routingQueue = OperationQueue()
        routingQueue.name = "fbt.route"
        routingQueue.maxConcurrentOperationCount = 2
    }

    /// The largest task or handoff note the engine reads (the index skips notes over 20 MB too).
    public static let maxTaskBytes: Int64 = 20 * 1_048_576

    // MARK: Own writes

    /// Whether the note's current bytes are exactly what the OS last wrote there. A match is
    /// forgotten once seen (a write arrives as one rename event), so the table does not grow with
    /// every result note a long-running watcher writes.
    public func isOwnWrite(path: String, hash: ContentHash) -> Bool {
        lock.withLock {
            guard ownWrites[path] == hash else { return false }
            ownWrites.removeValue(forKey: path)
            return true
        }
    }

    private func remember(_ path: String, _ hash: ContentHash) {
        lock.withLock { ownWrites[path] = hash }
    }

    // MARK: Considering a changed note

    /// What `consider` did with a note.
    public enum Consideration: Equatable, Sendable {
        case ignored
        case ownWrite
        case started(runID: String)
        case alreadyActive
        case cancelling
        case rejected(String)
    }

    /// Looks at a note that changed and starts, resumes or cancels work as its status asks.
    /// Runs in the background unless `wait` is set (the foreground `run` command).
    @discardableResult
    public func consider(path: String, wait: Bool = false, force: Bool = false) -> Consideration {
        guard path.hasSuffix(".md"), !Vault.isIgnored(path) else { return .ignored }
        // A prompt is never megabytes: a huge file in a work folder is reported once, not read.
        if TaskNote.isInWorkFolder(path), let absolute = try? vault.resolve(path), let st = (try? FileSystem.status(absolute)) ?? nil,
           st.size > TaskEngine.maxTaskBytes {
            let stamp = ContentHash(value: UInt64(bitPattern: st.size) &* 31 &+ UInt64(bitPattern: st.mtimeNanoseconds))
            if (try? runs.wasRejected(taskPath: path, hash: stamp)) != true {
                let message = "\(st.size / 1_048_576) MB is too large for a task note (the limit is \(TaskEngine.maxTaskBytes / 1_048_576) MB); it is left alone"
                log(EngineEvent(level: .error, message: "\(path): \(message)"))
                try? runs.recordRejection(taskPath: path, hash: stamp, error: message)
            }
            return .rejected("too large")
        }
        let snapshot: NoteSnapshot
        do {
            guard let s = try store.readIfPresent(path) else {
                cancelIfRunning(path, reason: "the task note was deleted")
                return .ignored
            }
            snapshot = s
        } catch {
            log(EngineEvent(level: .warning, message: "\(path): cannot read: \(error)"))
            return .ignored
        }
        if !force && isOwnWrite(path: path, hash: snapshot.hash) { return .ownWrite }
        if !TaskEngine.isText(snapshot.bytes) { return leaveBinary(path: path, snapshot: snapshot) }

        let note: Note
        do {
            note = try Note.parse(bytes: snapshot.bytes)
        } catch {
            guard TaskNote.isInWorkFolder(path) else { return .ignored }
            return reject(path: path, snapshot: snapshot, error: error)
        }
        guard let kind = TaskNote.kind(of: note, path: path) else { return .ignored }
        let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: kind)
        guard let status = task.status else {
            return reject(path: path, snapshot: snapshot, error: "unknown status '\(note.text("status") ?? "")'; use new, draft, review (with approved: true) or cancelled")
        }
        switch status {
        case .new:
            if task.notReadyReason != nil { return .ignored }
            return start(task, wait: wait, approval: ApprovalCheck.verify(task, runs: runs))
        case .review where task.isApproved:
            // `approved: true` counts only as a change after the OS showed this task in review; a
            // note born in review and approved is routed like a new one (and waits for a person).
            let verdict = ApprovalCheck.verify(task, runs: runs)
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
            log(EngineEvent(level: .info, message: "\(path): its frontmatter parses now; running it"))
            return start(task, wait: wait, approval: ApprovalCheck.verify(task, runs: runs))
        default:
            return .ignored
        }
    }

    /// Whether bytes can be a note: valid UTF-8 without NUL bytes (a PNG, a PDF or other binary data
    /// named `.md` is not one, and the OS must not write frontmatter into it).
    static func isText(_ bytes: [UInt8]) -> Bool {
        if bytes.contains(0) { return false }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    /// Reports a binary file where a note was expected, once per content, and leaves it byte-identical.
    private func leaveBinary(path: String, snapshot: NoteSnapshot) -> Consideration {
        let message = "not a text note (binary data or invalid UTF-8); it is left exactly as it is"
        guard TaskNote.isInWorkFolder(path) else { return .ignored }
        if (try? runs.wasRejected(taskPath: path, hash: snapshot.hash)) != true {
            log(EngineEvent(level: .error, message: "\(path): \(message)"))
            try? runs.recordRejection(taskPath: path, hash: snapshot.hash, error: message)
        }
        return .rejected(message)
    }

    @discardableResult
    private func cancelIfRunning(_ path: String, reason: String) -> Bool {
        guard let token = lock.withLock({ inFlight[path] }) else { return false }
        log(EngineEvent(level: .info, message: "\(path): stopping its agent (\(reason))"))
        token.cancel()
        return true
    }

    /// Whether a failed note is one the OS failed for its frontmatter, now fixed: its `error` is the
    /// one the OS wrote when it rejected the note, and it has never been run since.
    private func isFixedAfterRejection(_ task: TaskNote) -> Bool {
        guard task.note.text("run_id") == nil, let written = task.note.text("error"), written.hasPrefix("frontmatter line "),
              let rejected = (try? runs.rejectionError(taskPath: task.path)) ?? nil else { return false }
        return written == rejected
    }

    private func reject(path: String, snapshot: NoteSnapshot, error: Any) -> Consideration {
        var message = String(describing: error)
        if let parse = error as? FrontmatterError {
            message = TaskEngine.describe(parse, in: snapshot.bytes, shiftedBy: TaskEngine.errorLinesInsertedAtTop(snapshot.bytes))
        }
        if (try? runs.wasRejected(taskPath: path, hash: snapshot.hash)) == true { return .rejected(message) }
        log(EngineEvent(level: .error, message: "\(path): \(message)"))
        do {
            let written = try writeErrorIntoBrokenNote(path: path, snapshot: snapshot, message: message)
            try runs.recordRejection(taskPath: path, hash: written, error: message)
        } catch {
            log(EngineEvent(level: .error, message: "\(path): could not record the error in the note: \(error)"))
            try? runs.recordRejection(taskPath: path, hash: snapshot.hash, error: message)
        }
        return .rejected(message)
    }

    /// How many lines `writeErrorIntoBrokenNote` inserts above the frontmatter's own lines: two
    /// (`status`, `error`) right after an opening `---` of a note whose frontmatter does not parse.
    static func errorLinesInsertedAtTop(_ bytes: [UInt8]) -> Int {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        return bytes[start...].starts(with: Array("---".utf8)) ? 2 : 0
    }

    /// A frontmatter error as the note will show it: its line number counted in the note as the OS
    /// writes it back (with the `status`/`error` lines inserted above), and the offending line quoted,
    /// so the person finds it whatever moves.
    static func describe(_ error: FrontmatterError, in bytes: [UInt8], shiftedBy inserted: Int) -> String {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var quoted = ""
        if error.line >= 1, error.line <= lines.count {
            var text = lines[error.line - 1].trimmingCharacters(in: .whitespacesAndNewlines)
            if text.count > 60 { text = String(text.prefix(60)) + "…" }
            if !text.isEmpty { quoted = " (the line reads: \(text))" }
        }
        return "frontmatter line \(error.line + inserted), column \(error.column): \(error.message)\(quoted); fix it and the task runs"
    }

    /// Puts `status: failed` and `error:` into a note whose frontmatter does not parse, without
    /// touching anything else: as new lines right after the opening `---` (or a new block when the
    /// note has parseable frontmatter but a bad status).
    private func writeErrorIntoBrokenNote(path: String, snapshot: NoteSnapshot, message: String) throws -> ContentHash {
        let updates = [Property("status", .string("failed")), Property("error", .string(message))]
        var bytes: [UInt8]
        if let edited = try? FrontmatterEditor.apply(set: updates, to: snapshot.bytes) {
            bytes = edited
        } else {
            bytes = snapshot.bytes
            var start = 0
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
            let newline: [UInt8] = bytes.firstIndex(of: 0x0A).map { $0 > 0 && bytes[$0 - 1] == 0x0D ? [0x0D, 0x0A] : [0x0A] } ?? [0x0A]
            let lines = updates.flatMap { FrontmatterEditor.serialize($0, newline: newline) }
            if bytes[start...].starts(with: Array("---".utf8)), let eol = bytes[start...].firstIndex(of: 0x0A) {
                bytes.insert(contentsOf: lines, at: eol + 1)
            } else {
                bytes.insert(contentsOf: Array("---".utf8) + newline + lines + Array("---".utf8) + newline, at: start)
            }
        }
        // Only over the version the message describes (its line numbers count in those bytes).
        let outcome = try store.update(path, attempts: 1) { current in
            guard let current, current.hash == snapshot.hash else {
                throw NoteWriteError.conflict(path: path, expected: .hash(snapshot.hash), found: current?.hash)
            }
            return .write(bytes)
        }
        let hash = outcome.hash ?? ContentHash(of: bytes)
        remember(path, hash)
        return hash
    }

    // MARK: Running

    private func start(_ given: TaskNote, wait: Bool, approval: ApprovalCheck.Verdict) -> Consideration {
        if !lock.withLock({ accepting }) { return .ignored }
        let task: TaskNote = {
            var task = given
            task.approval = approval.approval
            return task
        }()
        let claimed: RunRecord?
        do {
            claimed = try runs.claim(taskPath: task.path, kind: task.kind.rawValue, taskHash: task.snapshot.hash, attempt: task.attempts + 1)
        } catch {
            log(EngineEvent(level: .error, message: "\(task.path): cannot claim: \(error)"))
            return .ignored
        }
        guard let record = claimed else { return .alreadyActive }
        if let approved = task.approval {
            // The approval is spent on this run: the review run is no longer the task's latest.
            do { try runs.recordApproval(runID: record.runID, reviewRunID: approved.reviewRunID) } catch {
                log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)"))
            }
        }
        let token = CancelToken()
        lock.withLock { inFlight[task.path] = token }
        if wait {
            route(task, record: record, token: token, unapproved: approval.refusal, waitForRun: true)
        } else {
            routingQueue.addOperation { [self] in
                route(task, record: record, token: token, unapproved: approval.refusal, waitForRun: false)
            }
        }
        return .started(runID: record.runID)
    }

    private func lane(_ name: String) -> OperationQueue {
        lock.withLock {
            if let queue = laneQueues[name] { return queue }
            let queue = OperationQueue()
            queue.name = "fbt.lane." + name
            queue.maxConcurrentOperationCount = max(1, routing.concurrency(lane: name))
            laneQueues[name] = queue
            return queue
        }
    }

    /// `unapproved` says why the note's `approved: true` does not count, when it does not.
    private func route(_ task: TaskNote, record initial: RunRecord, token: CancelToken, unapproved: String?, waitForRun: Bool) {
        var record = initial
        let plan: RoutePlan = {
            var plan = routing.plan(task, runID: record.runID)
            // Write permissions follow the verified approval only, whatever a router says.
            plan.approved = task.approval != nil
            if let unapproved {
                plan.reason += "; " + unapproved
                if case .review(let why) = plan.action { plan.action = .review(why + "; " + unapproved) }
            }
            return plan
        }()
        record.lane = plan.lane
        record.agent = plan.agent
        record.model = plan.model
        record.rule = plan.rule
        record.reason = plan.reason

        var routeProperties = [
            Property("route_lane", .string(plan.lane)),
            Property("route_agent", .string(plan.agent)),
            Property("route_rule", .string(plan.rule)),
            Property("route_reason", .string(plan.reason)),
        ] + plan.extraProperties
        routeProperties.append(Property("run_id", .string(record.runID)))
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
            record.finishedAt = Date().timeIntervalSince1970
            var props = routeProperties + [Property("status", .string(record.state.rawValue))]
            if isReview {
                props.append(Property("route_reason", .string(why)))
                props.append(Property("approved", .bool(false)))
            } else {
                props.append(Property("error", .string(why)))
            }
            routing.settle(plan, cost: nil)
            finishWithoutRun(task, record: record, properties: props, unset: approvalUnset)
            return
        case .run:
            break
        }

        let routed = updateTask(task.path, set: routeProperties + [Property("status", .string(TaskStatus.routed.rawValue))], unset: ["error", "result"] + approvalUnset) { status in
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
        if task.kind == .handoff, let original = Handoffs.taskPath(of: task.note, vault: vault, from: task.path) {
            // The original task records the chain, also for handoffs written by hand from the template.
            do { try Handoffs.recordOnTask(vault: vault, taskPath: original, handoffPath: task.path) } catch {
                log(EngineEvent(level: .warning, message: "\(original): could not record the handoff: \(error)"))
            }
        }
        log(EngineEvent(level: .info, message: "\(task.path): routed to \(plan.agent) (\(plan.lane)) by \(plan.rule)"))

        let routedRecord = record
        let operation = BlockOperation { [self] in
            execute(task, record: routedRecord, plan: plan, token: token, approved: task.approval != nil, waitForRun: waitForRun)
        }
        if waitForRun {
            operation.start()
        } else {
            lane(plan.lane).addOperation(operation)
        }
    }

    private func execute(_ task: TaskNote, record initial: RunRecord, plan routedPlan: RoutePlan, token: CancelToken, approved: Bool, waitForRun: Bool = false) {
        var plan = routedPlan
        // Budget: the reservation is taken now, right before the agent starts, not while queued.
        switch holdBudget(task, runID: initial.runID, plan: &plan, token: token) {
        case .proceed: break
        case .reroute:
            route(task, record: initial, token: token, unapproved: nil, waitForRun: waitForRun)
            return
        case .stopped:
            // The watcher is stopping: the run is still `claimed`, so recovery re-queues it.
            lock.withLock { _ = inFlight.removeValue(forKey: task.path) }
            return
        }
        var record = initial
        let started = Date()
        record.state = .running
        record.startedAt = started.timeIntervalSince1970
        let running = updateTask(task.path, set: [
            Property("status", .string(TaskStatus.running.rawValue)),
            Property("attempts", .int(record.attempt)),
            Property("started", .datetime(LocalTime.dateTime(started))),
        ], unset: ["finished", "duration_s"]) { status in
            status == .cancelled ? "cancelled before it started" : nil
        }
        if case .stopped = running { token.cancel() }
        do { try runs.update(record) } catch { log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)")) }

        let outcome: AgentExecution
        let agentStart = StartMark()
        if token.isCancelled {
            outcome = AgentExecution(succeeded: false, answer: "", error: "cancelled by a person", cancelled: true)
        } else {
            log(EngineEvent(level: .info, message: "\(task.path): running \(plan.agent)"))
            let runID = record.runID
            var runEnvironment = ["FBT_VAULT": vault.root, "FBT_TASK": task.path, "FBT_RUN_ID": runID]
            // The run's own cap, for agents whose CLI can stop itself there (`budget_args`).
            if plan.reservationID != nil { runEnvironment[AgentDefinition.budgetVariable] = AgentDefinition.budgetText(plan.reservationUSD) }
            outcome = executor.execute(agent: plan.agent, prompt: plan.prompt, model: plan.model, approved: plan.approved && approved, timeout: task.timeout, cancel: token,
                                       runEnvironment: runEnvironment) { [runs] pid in
                agentStart.mark()
                // Recorded so that a watcher restarted after a crash can stop an agent left running.
                try? runs.recordAgentProcess(runID: runID, pid: pid, startTime: ProcessLiveness.startTime(pid) ?? 0)
            }
        }
        // Whether money may have been spent: the agent process started, or it answered at all.
        let agentStarted = agentStart.marked || outcome.costUSD != nil || outcome.exitCode != nil || outcome.succeeded
        if outcome.cancelled && lock.withLock({ !accepting }) {
            // Stopped by the watcher's own shutdown, not by a person: recovery decides (interrupted,
            // or re-queued when the task allows retries), exactly as after a crash. A started agent
            // is charged its reservation (its cost is unknown), never given it back.
            if let id = plan.reservationID { _ = routing.closeReservation(runID: id, cost: outcome.costUSD, agentStarted: agentStarted) }
            lock.withLock { _ = inFlight.removeValue(forKey: task.path) }
            log(EngineEvent(level: .warning, message: "\(task.path): stopped with the watcher"))
            return
        }
        let finished = Date()
        // Settled as soon as the cost is known; a run that reports no cost is charged its reservation.
        if let id = plan.reservationID, let settlement = routing.closeReservation(runID: id, cost: outcome.costUSD, agentStarted: agentStarted), settlement.overrunUSD > 0 {
            recordOverrun(task, settlement)
        }
        complete(task, record: record, plan: plan, outcome: outcome, started: started, finished: finished)
    }

    private enum BudgetHold { case proceed, reroute, stopped }

    /// Takes the run's budget reservation right before its agent starts. While the room is held only
    /// by runs in flight the run waits here, in its lane's queue; when settled spend leaves no room
    /// it is routed again (fallback lane or review). The ledger's atomic reservation decides.
    private func holdBudget(_ task: TaskNote, runID: String, plan: inout RoutePlan, token: CancelToken) -> BudgetHold {
        guard plan.reservationUSD > 0, plan.reservationID == nil else { return .proceed }
        var announced = false
        var rounds = 0
        while true {
            switch routing.reserve(plan, task: task.path, runID: runID) {
            case .go:
                plan.reservationID = runID
                if announced { log(EngineEvent(level: .info, message: "\(task.path): budget room is free again; starting")) }
                return .proceed
            case .refused(let why):
                log(EngineEvent(level: .warning, message: "\(task.path): budget: \(why); routing again"))
                return .reroute
            case .wait(let why):
                if !lock.withLock({ accepting }) { return .stopped }
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

    /// A run reported more than it reserved: the ledger already holds the real cost; the task says
    /// so, and the log says which caps now stop paid runs.
    private func recordOverrun(_ task: TaskNote, _ settlement: BudgetSettlement) {
        let line = "reported \(BudgetLedger.dollars(settlement.actualUSD)) against a reservation of \(BudgetLedger.dollars(settlement.reservedUSD)): \(BudgetLedger.dollars(settlement.overrunUSD)) over; the ledger counts the real cost, and a cap it went over stops paid runs until a person raises it (see 'fuckbigtech status')"
        _ = updateTask(task.path, set: [Property("budget_overrun_usd", .double(settlement.overrunUSD)), Property("budget_overrun", .string(line))], unset: []) { _ in nil }
        log(EngineEvent(level: .warning, message: "\(task.path): budget overrun: \(line)"))
    }

    /// Writes the result note, the task's final properties, the run store and telemetry.
    private func complete(_ task: TaskNote, record initial: RunRecord, plan: RoutePlan, outcome: AgentExecution, started: Date, finished: Date) {
        var record = initial
        var status: TaskStatus = outcome.cancelled ? .cancelled : (outcome.succeeded ? .done : .failed)
        record.state = RunState(rawValue: status.rawValue) ?? .failed
        record.finishedAt = finished.timeIntervalSince1970
        record.costUSD = outcome.costUSD
        record.tokensIn = outcome.tokensIn
        record.tokensOut = outcome.tokensOut
        record.exitCode = outcome.exitCode
        record.error = outcome.succeeded ? nil : (outcome.error ?? "the agent failed")
        if let model = outcome.model { record.model = model }
        let duration = finished.timeIntervalSince(started)

        let resultPath = TaskEngine.resultPath(for: task, runID: record.runID)
        let resultText = TaskEngine.resultNote(task: task, record: record, plan: plan, outcome: outcome, status: status, started: started, finished: finished)
        do {
            let hash = try store.create(resultText, at: resultPath)
            remember(resultPath, hash)
            record.resultPath = resultPath
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
        if let cost = outcome.costUSD { props.append(Property("cost_usd", .double(cost))) }
        if let t = outcome.tokensIn { props.append(Property("tokens_in", .int(t))) }
        if let t = outcome.tokensOut { props.append(Property("tokens_out", .int(t))) }
        if let resultPath = record.resultPath { props.append(Property("result", .string(TelemetryWriter.link(resultPath)))) }
        var unset: [String] = []
        if let error = record.error { props.append(Property("error", .string(TaskEngine.oneLine(error)))) } else { unset.append("error") }
        // The journal line first (fsynced), then the run store: a run the store calls finished always
        // has its telemetry; a kill between the two leaves a run that recovery finishes from its
        // result note, and the journal's run id keeps it from being recorded twice.
        let entry = journal(record, duration: duration, time: finished)
        // The run store before the note: if the process dies before the note is written, the note
        // catches up from the store; the other way round a finished run would look interrupted.
        do { try runs.update(record) } catch { log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)")) }
        _ = updateTask(task.path, set: props, unset: unset) { _ in nil }
        lock.withLock { _ = inFlight.removeValue(forKey: task.path) }
        if let entry { queueNotes(entry) }
        log(EngineEvent(level: status == .done ? .info : .warning, message: "\(task.path): \(status.rawValue)" + (record.error.map { " — \($0)" } ?? "")))
    }

    private func finishWithoutRun(_ task: TaskNote, record: RunRecord, properties: [Property]?, unset: [String] = []) {
        var reviewHash: ContentHash?
        if let properties {
            if case .written(let hash) = updateTask(task.path, set: properties, unset: unset, stop: { _ in nil }) { reviewHash = hash }
        }
        // Journal first, as in `complete`: a finished run in the store always has its telemetry.
        let entry = journal(record, duration: 0, time: Date())
        do { try runs.update(record) } catch { log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)")) }
        if record.state == .review, let reviewHash {
            // What the OS showed in review: only a later change to these bytes can approve the task.
            do { try runs.recordReview(runID: record.runID, hash: reviewHash) } catch {
                log(EngineEvent(level: .error, message: "\(task.path): run store: \(error)"))
            }
        }
        lock.withLock { _ = inFlight.removeValue(forKey: task.path) }
        if let entry { queueNotes(entry) }
        log(EngineEvent(level: .info, message: "\(task.path): \(record.state.rawValue)" + ((record.error ?? record.reason).map { " — \($0)" } ?? "")))
        if record.state == .review, let reviewHash, let now = (try? store.readIfPresent(task.path)) ?? nil, now.hash != reviewHash {
            // A person answered before the review was recorded (their event found the run still
            // claimed and was dropped): look at the note again now.
            lock.withLock { _ = ownWrites.removeValue(forKey: task.path) }
            consider(path: task.path)
        }
    }

    /// Telemetry: the JSON line at once, fsynced (the journal); the rows of `Telemetry/<day>.md` and
    /// the lines of the daily note in batches (at most ~100 ms late), so a burst of runs does not
    /// rewrite and fsync those growing notes once per run. A crash that cuts a batch loses nothing:
    /// the next start rebuilds the missing rows and lines from the journal (`rebuildTelemetry`).
    /// A run already in the journal is not recorded again (recovery paths may see a run twice).
    private func recordTelemetry(_ record: RunRecord, duration: Double, time: Date) {
        if let entry = journal(record, duration: duration, time: time) { queueNotes(entry) }
    }

    /// Appends the run's journal line unless the journal has it already; returns the entry written.
    private func journal(_ record: RunRecord, duration: Double, time: Date) -> TelemetryRecord? {
        let entry = TelemetryRecord(time: time, runID: record.runID, taskPath: record.taskPath, kind: record.kind, agent: record.agent ?? "", model: record.model, lane: record.lane ?? "", rule: record.rule, reason: record.reason, costUSD: record.costUSD, tokensIn: record.tokensIn, tokensOut: record.tokensOut, durationSeconds: duration, outcome: record.state.rawValue, resultPath: record.resultPath, error: record.error)
        return journalLock.withLock { () -> TelemetryRecord? in
            if isJournaledLocked(record.runID) { return nil }
            do { try telemetry.appendJSONLine(entry) } catch {
                log(EngineEvent(level: .error, message: "telemetry: \(error)"))
                return nil
            }
            journaledRunIDs.insert(record.runID)
            return entry
        }
    }

    /// Whether the journal holds a line for this run (reading any lines appended since the last look,
    /// also by other processes).
    func isJournaled(_ runID: String) -> Bool { journalLock.withLock { isJournaledLocked(runID) } }

    private func isJournaledLocked(_ runID: String) -> Bool {
        if journaledRunIDs.contains(runID) { return true }
        let (ids, end) = TelemetryWriter.journalRunIDs(path: telemetry.journalPath, from: journalScanned)
        journalScanned = end
        journaledRunIDs.formUnion(ids)
        return journaledRunIDs.contains(runID)
    }

    private let journalLock = NSLock()
    private var journaledRunIDs = Set<String>()
    private var journalScanned = 0

    private func queueNotes(_ entry: TelemetryRecord) {
        let schedule: Bool = telemetryLock.withLock {
            pendingTelemetry.append(entry)
            if telemetryFlushScheduled { return false }
            telemetryFlushScheduled = true
            return true
        }
        if schedule {
            telemetryQueue.asyncAfter(deadline: .now() + 0.1) { [self] in flushTelemetryNow() }
        }
    }

    /// Writes the rows and daily lines of journal lines that lack them (after a crash), exactly once.
    public func rebuildTelemetry() {
        do {
            let (ids, notes) = try telemetry.rebuildFromJournal()
            for path in notes {
                if let hash = try? store.read(path).hash { remember(path, hash) }
            }
            if !notes.isEmpty {
                log(EngineEvent(level: .warning, message: "telemetry: rebuilt missing rows and daily lines from the journal (\(ids.count) run(s) checked)"))
            }
        } catch {
            log(EngineEvent(level: .error, message: "telemetry: cannot rebuild from the journal: \(error)"))
        }
    }

    // MARK: Results that could not be written

    /// `.agentos/results`: answers whose result note could not be written, by run id.
    var keptResultsFolder: String { vault.stateDirectory + "/results" }

    /// Keeps a result note's text in `.agentos/results/<run id>.md`; returns the vault-relative path.
    private func keepResult(_ text: String, runID: String) -> String? {
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
            let resultPath = Vault.Layout.results + "/" + TaskEngine.resultPath(forTitle: TaskNote.title(of: record.taskPath), runID: runID)
            do {
                let hash = try store.create(text.bytes, at: resultPath)
                remember(resultPath, hash)
            } catch {
                // Already written by an earlier start that stopped before cleaning up: same run id, same note.
                let existing = (try? store.readIfPresent(resultPath)).flatMap { $0 }.flatMap { try? Note.parse(bytes: $0.bytes) }
                guard existing?.text("run_id") == runID else {
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

    private let telemetryQueue = DispatchQueue(label: "fbt.telemetry")
    private let telemetryLock = NSLock()
    private var pendingTelemetry: [TelemetryRecord] = []
    private var telemetryFlushScheduled = false

    /// Writes the pending telemetry rows and daily lines (call on the telemetry queue).
    private func flushTelemetryNow() {
        let batch: [TelemetryRecord] = telemetryLock.withLock {
            telemetryFlushScheduled = false
            defer { pendingTelemetry.removeAll() }
            return pendingTelemetry
        }
        guard !batch.isEmpty else { return }
        do {
            for path in try telemetry.appendToNotes(batch) {
                if let hash = try? store.read(path).hash { remember(path, hash) }
            }
        } catch {
            log(EngineEvent(level: .error, message: "telemetry: \(error)"))
        }
    }

    /// Writes pending telemetry now (at shutdown, and when a caller waits for the engine to be idle).
    public func flushTelemetry() {
        telemetryQueue.sync { flushTelemetryNow() }
    }

    enum UpdateResult { case written(ContentHash), stopped(String), failed }

    /// Merges the OS's properties into a task note with compare-and-swap, re-reading on conflict so a
    /// person's concurrent edit survives. `stop` may veto the write after seeing the current status.
    private func updateTask(_ path: String, set: [Property], unset: [String], stop: (TaskStatus?) -> String?) -> UpdateResult {
        var stopped: String?
        do {
            let outcome = try store.update(path) { snapshot in
                guard let snapshot else { return .keep }
                let current = try? Note.parse(bytes: snapshot.bytes)
                stopped = stop(current.flatMap { TaskStatus(property: $0.text("status")) })
                if stopped != nil { return .keep }
                return .write(try FrontmatterEditor.apply(set: set, unset: unset, to: snapshot.bytes))
            }
            if let stopped { return .stopped(stopped) }
            guard case .written(let hash, _) = outcome else {
                log(EngineEvent(level: .warning, message: "\(path): the task note is gone; its result is kept in Results/"))
                return .failed
            }
            remember(path, hash)
            return .written(hash)
        } catch let error as NoteWriteError {
            if case .conflict = error {
                log(EngineEvent(level: .error, message: "\(path): the note kept changing; the task's properties were not updated"))
            } else {
                log(EngineEvent(level: .error, message: "\(path): cannot update the task: \(error)"))
            }
            return .failed
        } catch {
            log(EngineEvent(level: .error, message: "\(path): cannot update the task: \(error)"))
            return .failed
        }
    }

    // MARK: Recovery and shutdown

    /// After a crash (or a stop that cut runs off): every run left claimed or running by a process
    /// that is gone ends in exactly one state, and nothing runs twice unasked.
    ///
    /// - A run whose result note was written finishes from it (the answer is not lost).
    /// - A run that never started its agent (still `claimed`) goes back to `new`: nothing ran.
    /// - A run whose agent had started is `failed` with error `interrupted`, or back to `new` when
    ///   the task allows `retries`; an agent the dead watcher left running is stopped first.
    /// - Budget reservations of runs no longer in flight are released.
    public func recover() {
        let stale: [RunRecord]
        do { stale = try runs.runs(in: [.claimed, .running], limit: 100_000) } catch {
            log(EngineEvent(level: .error, message: "recovery: \(error)"))
            return
        }
        let ours = lock.withLock { Set(inFlight.keys) }
        for record in stale {
            if ours.contains(record.taskPath) { continue }
            if record.ownerPID != getpid() && record.ownerPID != 0 && ProcessLiveness.isAlive(record.ownerPID) { continue }
            recoverRun(record)
        }
        routing.releaseAbandonedReservations(activeRunIDs: Set(((try? runs.runs(in: [.claimed, .running], limit: 100_000)) ?? []).map(\.runID)))
        recoverKeptResults()
        flushTelemetry()
        rebuildTelemetry()
    }

    private func recoverRun(_ initial: RunRecord) {
        var record = initial
        if let agent = try? runs.agentProcess(runID: record.runID), ProcessLiveness.stopOrphanedGroup(pid: agent.pid, startTime: agent.startTime) {
            log(EngineEvent(level: .warning, message: "\(record.taskPath): stopped agent process \(agent.pid) left running by run \(record.runID)"))
        }
        // A kill after the run wrote its result note but before the store heard of it: the answer
        // exists, so finish from the result note instead of calling the run interrupted.
        let resultPath = Vault.Layout.results + "/" + TaskEngine.resultPath(forTitle: TaskNote.title(of: record.taskPath), runID: record.runID)
        if let result = (try? store.readIfPresent(resultPath)).flatMap({ $0 }).flatMap({ try? Note.parse(bytes: $0.bytes) }),
           result.text("run_id") == record.runID, let state = result.text("status").flatMap(RunState.init(rawValue:)), !state.isActive {
            record.state = state
            record.resultPath = resultPath
            record.finishedAt = Date().timeIntervalSince1970
            record.costUSD = result["cost_usd"]?.number
            record.tokensIn = result["tokens_in"]?.number.map { Int($0) }
            record.tokensOut = result["tokens_out"]?.number.map { Int($0) }
            // The run finished and its result says what it cost: that is what the ledger counts.
            _ = routing.closeReservation(runID: record.runID, cost: record.costUSD, agentStarted: true)
            try? runs.update(record)
            var props = [Property("status", .string(state.rawValue)), Property("result", .string(TelemetryWriter.link(resultPath)))]
            for key in ["finished", "duration_s", "cost_usd", "tokens_in", "tokens_out"] {
                if let value = result[key], value != .null { props.append(Property(key, value)) }
            }
            _ = updateTask(record.taskPath, set: props, unset: state == .done ? ["error"] : []) { _ in nil }
            recordTelemetry(record, duration: result["duration_s"]?.number ?? 0, time: Date())
            log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) was cut off after its result was written; finished from \(resultPath)"))
            return
        }
        let note = (try? store.readIfPresent(record.taskPath)).flatMap { $0 }.flatMap { try? Note.parse(bytes: $0.bytes) }
        let retries = note.map { Int($0["retries"]?.number ?? 0) } ?? 0
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
        record.error = "interrupted"
        try? runs.update(record)
        if record.attempt <= retries {
            requeue(record.taskPath, set: [Property("status", .string("new")), Property("attempts", .int(record.attempt)), Property("error", .string("interrupted; retrying (attempt \(record.attempt + 1) of \(retries + 1))"))], unset: [])
            log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) was interrupted; re-queued"))
        } else {
            _ = updateTask(record.taskPath, set: [Property("status", .string("failed")), Property("error", .string("interrupted")), Property("finished", .datetime(LocalTime.dateTime(Date())))], unset: []) { _ in nil }
            recordTelemetry(record, duration: 0, time: Date())
            log(EngineEvent(level: .warning, message: "\(record.taskPath): run \(record.runID) was interrupted; marked failed"))
        }
    }

    /// Puts a task back to `new`; the OS wrote that status, yet the watcher must pick it up.
    private func requeue(_ path: String, set: [Property], unset: [String]) {
        _ = updateTask(path, set: set, unset: unset) { _ in nil }
        lock.withLock { _ = ownWrites.removeValue(forKey: path) }
    }

    /// A note that says `routed` or `running` while no run of it is in flight: the process that ran it
    /// stopped between recording the run's end and writing the note. The note catches up with the
    /// run store (or, with no record at all, is marked interrupted).
    private func catchUp(_ task: TaskNote) -> Consideration {
        if lock.withLock({ inFlight[task.path] != nil }) { return .ignored }
        guard (try? runs.activeRun(taskPath: task.path)) ?? nil == nil else { return .ignored }
        let latest = (try? runs.latestRun(taskPath: task.path)) ?? nil
        if let latest, task.note.text("run_id") == nil || task.note.text("run_id") == latest.runID {
            var props = [Property("status", .string(latest.state.rawValue))]
            if let result = latest.resultPath { props.append(Property("result", .string(TelemetryWriter.link(result)))) }
            if let finished = latest.finishedAt { props.append(Property("finished", .datetime(LocalTime.dateTime(Date(timeIntervalSince1970: finished))))) }
            if let cost = latest.costUSD { props.append(Property("cost_usd", .double(cost))) }
            if let error = latest.error { props.append(Property("error", .string(TaskEngine.oneLine(error)))) }
            _ = updateTask(task.path, set: props, unset: latest.error == nil ? ["error"] : []) { _ in nil }
            recordTelemetry(latest, duration: (latest.finishedAt ?? 0) - (latest.startedAt ?? latest.finishedAt ?? 0), time: Date())
            log(EngineEvent(level: .warning, message: "\(task.path): caught up with run \(latest.runID), which ended \(latest.state.rawValue)"))
        } else {
            _ = updateTask(task.path, set: [Property("status", .string("failed")), Property("error", .string("interrupted (no record of its run)"))], unset: []) { _ in nil }
            log(EngineEvent(level: .warning, message: "\(task.path): says it is in flight but no run of it is; marked failed"))
        }
        return .ignored
    }

    /// Stops accepting work; waits up to `grace` seconds for running agents, then cancels the rest.
    public func shutdown(grace: Double) {
        lock.withLock { accepting = false }
        routingQueue.cancelAllOperations()
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline, !lock.withLock({ inFlight.isEmpty }) {
            usleep(20_000)
        }
        let tokens = lock.withLock { Array(inFlight.values) }
        tokens.forEach { $0.cancel() }
        routingQueue.waitUntilAllOperationsAreFinished()
        for queue in lock.withLock({ Array(laneQueues.values) }) { queue.waitUntilAllOperationsAreFinished() }
        flushTelemetry()
    }

    /// Waits until no run is queued or in flight (for tests and the bench).
    public func waitUntilIdle() {
        while true {
            routingQueue.waitUntilAllOperationsAreFinished()
            for queue in lock.withLock({ Array(laneQueues.values) }) { queue.waitUntilAllOperationsAreFinished() }
            if lock.withLock({ inFlight.isEmpty }) && routingQueue.operationCount == 0 {
                flushTelemetry()
                return
            }
            usleep(5_000)
        }
    }

    /// Number of runs queued or in flight.
    public var inFlightCount: Int { lock.withLock { inFlight.count } }

    // MARK: Notes the engine writes

    /// `Results/<task title> <run id>.md`.
    public static func resultPath(for task: TaskNote, runID: String) -> String {
        Vault.Layout.results + "/" + resultPath(forTitle: task.title, runID: runID)
    }

    static func resultPath(forTitle taskTitle: String, runID: String) -> String {
        let forbidden = Set("[]#^|\\/:*?\"<>")
        let suffix = " " + runID + ".md"
        // A file name holds at most 255 bytes (NAME_MAX): the title is cut to what fits beside the
        // run id, in bytes, at a character boundary (never inside a character or a grapheme).
        let budget = max(0, 255 - suffix.utf8.count)
        var title = ""
        var bytes = 0
        for character in taskTitle.prefix(80) {
            let isControl = character.unicodeScalars.contains { $0.properties.generalCategory == .control }
            let kept: Character = forbidden.contains(character) || isControl ? "-" : character
            let size = String(kept).utf8.count
            if bytes + size > budget { break }
            title.append(kept)
            bytes += size
        }
        return title + suffix
    }

    static func oneLine(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        return line.count > 400 ? String(line.prefix(400)) + "…" : line
    }

    static func resultNote(task: TaskNote, record: RunRecord, plan: RoutePlan, outcome: AgentExecution, status: TaskStatus, started: Date, finished: Date) -> String {
        var props: [Property] = [
            Property("type", .string("result")),
            Property(task.kind == .handoff ? "handoff" : "task", .string(TelemetryWriter.link(task.path))),
        ]
        if task.kind == .handoff, let original = task.note.text("task") {
            props.append(Property("task", .string(original)))
        }
        props += [
            Property("run_id", .string(record.runID)),
            Property("agent", .string(plan.agent)),
            Property("model", record.model.map { .string($0) } ?? .null),
            Property("lane", .string(plan.lane)),
            Property("rule", .string(plan.rule)),
            Property("status", .string(status.rawValue)),
            Property("started", .datetime(LocalTime.dateTime(started))),
            Property("finished", .datetime(LocalTime.dateTime(finished))),
            Property("duration_s", .double((finished.timeIntervalSince(started) * 1000).rounded() / 1000)),
            Property("cost_usd", outcome.costUSD.map { .double($0) } ?? .null),
            Property("tokens_in", outcome.tokensIn.map { .int($0) } ?? .null),
            Property("tokens_out", outcome.tokensOut.map { .int($0) } ?? .null),
            Property("exit_code", outcome.exitCode.map { .int($0) } ?? .null),
            Property("sources", .list(plan.sources.map { .string(TelemetryWriter.link($0)) })),
        ]
        // Taint follows the data: the answer to private input is private, so it may list its private
        // sources but never reaches a cloud agent. The task's own note is judged again with the
        // built-in rules in case the plan came from a router that did not say.
        if plan.privacy != nil || Privacy.reason(note: task.note, path: task.path, guardrails: Guardrails()) != nil {
            props.insert(Property("privacy", .string("private")), at: 1)
        }
        var text = String(decoding: (try? FrontmatterEditor.apply(set: props, to: [UInt8]())) ?? [], as: UTF8.self)
        text += "# \(task.title)\n\n"
        if outcome.succeeded {
            text += outcome.answer.hasSuffix("\n") ? outcome.answer : outcome.answer + "\n"
        } else {
            text += "**\(status == .cancelled ? "Cancelled" : "Failed"):** \(oneLine(outcome.error ?? "the agent failed"))\n"
            if !outcome.answer.isEmpty {
                text += "\n## Partial answer\n\n" + outcome.answer + (outcome.answer.hasSuffix("\n") ? "" : "\n")
            }
            let tail = outcome.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
            if !tail.isEmpty {
                text += "\n## stderr (tail)\n\n```text\n" + tail.replacingOccurrences(of: "```", with: "ˋˋˋ") + "\n```\n"
            }
        }
        return text
    }
}


/// Set once an agent process has started (from the runner's start callback, on another thread).
final class StartMark: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    /// Records that the agent started.
    func mark() { lock.withLock { value = true } }
    /// Whether the agent started.
    var marked: Bool { lock.withLock { value } }
}

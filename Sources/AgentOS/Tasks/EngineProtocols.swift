import Foundation

/// What the routing layer decided for one task: the single place where lanes, agents and guardrails
/// meet the lifecycle.
public struct RoutePlan: Sendable {
    /// What happens to the task.
    public enum Action: Sendable, Equatable {
        /// Run the agent.
        case run
        /// Wait for a person in `review`, for this reason.
        case review(String)
        /// Do not run: `blocked`, for this reason (it needs a change).
        case blocked(String)
        /// Cannot run at all (an agent name nothing defines): the run ends `failed` with the reason.
        case failed(String)
    }

    /// The lane the task runs in (`premium`, `local`, `tool`, `human`).
    public var lane: String
    /// The agent that runs it.
    public var agent: String
    /// The model asked for, if any.
    public var model: String?
    /// The routing rule that decided.
    public var rule: String
    /// Why, in one line (written to `route_reason`).
    public var reason: String
    /// What happens to the task.
    public var action: Action
    /// The prompt to send (after redaction, with the context packet when there is one).
    public var prompt: String
    /// Paths that went into the prompt (the result note's `sources`).
    public var sources: [String]
    /// Extra properties to record on the task (guardrail verdicts and the like).
    public var extraProperties: [Property]
    /// A budget reservation to settle after the run, if one was made.
    public var reservationID: String?
    /// Whether a person approved what the run may do (`RoutingDecision.writesApproved`): the agent
    /// then starts without its read-only flags.
    public var approved: Bool
    /// USD the run reserves right before its agent starts (0: not a paid run, nothing to reserve).
    public var reservationUSD: Double = 0
    /// The task's own `budget_usd`, which lowers the task cap when the reservation is taken.
    public var taskBudgetUSD: Double?
    /// Why the run's input is private (`nil`: public). Its result note is then private too, and its
    /// telemetry row and daily line name no title or link (taint follows the data).
    public var privacy: String?
    /// The model written into the run store, telemetry and reports, where every agent reads it:
    /// `model`, unless the work is private and `model` is the task's own text, which the private run
    /// of an agent may have chosen (`task new --model`): then the one the rule or agent note names.
    public var recordedModel: String?
    /// Set when the packet sent was cut to the agent's budget (`truncate: allow`): recorded on the
    /// task, the result note and telemetry.
    public var contextTruncation: ContextTruncation?
    /// The task whose `budget_task_usd` the run counts against (`Handoffs.budgetTask`: a handoff's
    /// original task, the task a spawned task was made from), as routing found it; `nil`: the note itself.
    public var budgetTask: String?
    /// A stamp of each note the plan was made from (its `sources` and the guardrails note: size,
    /// modification time, names on disk; a day's log by the bytes it had), taken when it was made: a
    /// run that waited for its lane starts only if they still hold (`TaskEngine.editedWhileWaiting`).
    public var inputStamps: [String: [Int64]] = [:]
    /// Which reading of `Rules/` the plan was made from (`VaultRouting`): a run whose rules were
    /// read again while it waited is planned again before it starts. `nil`: not known.
    public var rulesGeneration: Int?

    /// A plan; see the properties for each argument.
    public init(lane: String, agent: String, model: String?, rule: String, reason: String, action: Action, prompt: String, sources: [String] = [], extraProperties: [Property] = [], reservationID: String? = nil, approved: Bool = false, reservationUSD: Double = 0, taskBudgetUSD: Double? = nil, privacy: String? = nil) {
        self.lane = lane
        self.agent = agent
        self.model = model
        self.recordedModel = model
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
    /// The reservation is held (or there is nothing to reserve): start the agent. `reservedUSD` is
    /// what was reserved: the plan's amount, or less when its task has less left under its cap.
    case go(reservedUSD: Double)
    /// Only reservations of runs in flight hold the room: wait in the queue until they settle.
    case wait(String)
    /// Settled spend leaves no room (or the ledger cannot be used): route again, which falls back
    /// to the rule's fallback lane or sends the task to review.
    case refused(String)
    /// What the plan was made from changed (a note in `Rules/`): plan the run again, as it is now.
    case replan(String)
}

/// Decides routes and settles budgets; implemented over the rules engine and guardrails.
public protocol TaskRouting: Sendable {
    /// Plans the run of a task (`runID` names any budget reservation made).
    func plan(_ task: TaskNote, runID: String) -> RoutePlan
    /// Settles the real cost of a run against its reservation (or releases it when `cost` is nil).
    func settle(_ plan: RoutePlan, cost: Double?)
    /// How many runs a lane may have at once.
    func concurrency(lane: String) -> Int
    /// How many runs of an agent may run at once when its note says (`concurrency: N`); `nil`: the
    /// agent shares its lane's queue and width.
    func concurrency(agent: String) -> Int?
    /// How many times a read-only task the agent ran is queued again (`retries` on its note); `nil`: once.
    func retries(agent: String) -> Int?
    /// Closes the budget reservations of runs that are no longer in flight (after a crash): a run
    /// whose agent started is charged its real cost when known, else its whole reservation; only a
    /// run whose agent never started gets its reservation back.
    func releaseAbandonedReservations(activeRunIDs: Set<String>)
    /// Takes the reservation of a planned paid run right before its agent starts (`plan.reservationUSD`
    /// against the caps as they are now); the ledger's atomic check decides.
    func reserve(_ plan: RoutePlan, task: String, runID: String) -> BudgetGate
    /// Closes a run's reservation: its real cost when known (even above the reservation), else its
    /// whole reservation if the agent started, else nothing. Returns what was recorded (`nil`: the
    /// run has no open entry); throws when the ledger cannot be written (locked, a full disk).
    func closeReservation(runID: String, cost: Double?, agentStarted: Bool) throws -> BudgetSettlement?
    /// Records the cost a run that reserved nothing reported (`BudgetLedger.recordUnreserved`);
    /// `nil` when nothing was recorded. Throws when the ledger cannot be written.
    func recordUnreservedSpend(runID: String, task: String, lane: Lane, cost: Double) throws -> BudgetSettlement?
    /// Closes the reservation of a run cut off before its agent printed its end, whose agent had
    /// reported spending `reported` so far: charged its reservation, or `reported` when that is more.
    func closeCutOffReservation(runID: String, reported: Double) throws -> BudgetSettlement?
    /// What the ledger counts for a closed run, and whether that is its reservation, charged
    /// (`BudgetLedger.closedCost`); `nil`: open, released, or unknown.
    func closedCost(runID: String) -> (usd: Double, charged: Bool)?
    /// Records the reported costs of ended runs the ledger has no row for (`recordUnreservedSpend`
    /// that never got through: the ledger was locked as the run ended, and the watcher stopped
    /// before a retry did). Returns how many were recorded.
    func recordUnrecordedSpend(_ ended: [RunRecord]) -> Int
    /// Waits up to `timeout` seconds for a reservation to be closed (a waiting run then tries again).
    func waitForBudgetChange(timeout: Double)
    /// Where a task goes after its run on `failedAgent` failed with a class that fails over: the next
    /// agent of its chain not in `tried`, not cooling down, and let through by the guardrails —
    /// judged as private work when `privateRun` (the failed run counts as private).
    func failoverTarget(_ task: TaskNote, failedAgent: String, rule: String?, tried: [String], privateRun: Bool) -> FailoverTarget
    /// The machine notes: which machine serves which lanes and agents (`Machine.refusal`).
    var machines: [MachineNote] { get }
    /// How machines sharing the vault claim tasks (`Rules/Sync.md`), if they do.
    var sync: SyncSettings? { get }
}

extension TaskRouting {
    /// Routing without machine notes lets every machine serve everything.
    public var machines: [MachineNote] { [] }
    /// Routing without a sync note makes no shared claims.
    public var sync: SyncSettings? { nil }
    /// Routing without a budget ledger lets every run start.
    public func reserve(_ plan: RoutePlan, task: String, runID: String) -> BudgetGate { .go(reservedUSD: plan.reservationUSD) }
    /// Routing without a budget ledger has nothing to close.
    public func closeReservation(runID: String, cost: Double?, agentStarted: Bool) throws -> BudgetSettlement? { nil }
    /// Routing without a budget ledger records no spend.
    public func recordUnreservedSpend(runID: String, task: String, lane: Lane, cost: Double) throws -> BudgetSettlement? { nil }
    /// Routing without a budget ledger has nothing to close.
    public func closeCutOffReservation(runID: String, reported: Double) throws -> BudgetSettlement? { nil }
    /// Routing without a budget ledger counts nothing.
    public func closedCost(runID: String) -> (usd: Double, charged: Bool)? { nil }
    /// Routing without a budget ledger records no spend.
    public func recordUnrecordedSpend(_ ended: [RunRecord]) -> Int { 0 }
    /// Routing without rules has no failover chain.
    public func failoverTarget(_ task: TaskNote, failedAgent: String, rule: String?, tried: [String], privateRun: Bool) -> FailoverTarget {
        FailoverTarget(agent: nil, chain: [failedAgent], note: "no failover chain")
    }
    /// Sleeps: routing without a ledger hears of no settlement.
    public func waitForBudgetChange(timeout: Double) { usleep(useconds_t(max(0, min(timeout, 1)) * 1_000_000)) }
}

/// What came back from an agent, in the lifecycle's terms.
public struct AgentExecution: Sendable {
    /// Whether the agent answered without error.
    public var succeeded: Bool
    /// The answer text (partial when the run failed).
    public var answer: String
    /// Why the run failed, in one line.
    public var error: String?
    /// What the run cost, when the agent reported it.
    public var costUSD: Double?
    /// Input tokens, when reported.
    public var tokensIn: Int?
    /// Output tokens, when reported.
    public var tokensOut: Int?
    /// The agent process's exit code, when it ran as a process.
    public var exitCode: Int?
    /// The end of what the agent wrote to stderr.
    public var stderrTail: String
    /// The model that answered, when reported.
    public var model: String?
    /// Whether the run was stopped (by a person, or by the watcher stopping).
    public var cancelled: Bool
    /// Where `costUSD` comes from; the engine sets `.reserved` when the ledger kept the reservation.
    public var costSource: CostSource?
    /// The token counts were guessed from text (characters ÷ 4).
    public var tokensEstimated = false
    /// Files the agent says it wrote (the engine adds what the watcher and the MCP server saw).
    public var files: [TouchedFile] = []
    /// Why a failed run failed, as a class (usage limit, rate limited, …) with any reset time the
    /// agent printed; nil when it succeeded or was cancelled.
    public var failure: FailureReport?
    /// The run was stopped after its agent had printed its whole answer without error (see
    /// `AgentOutcome.isFinal`): the engine finishes it from that answer.
    public var answeredBeforeStop = false

    /// An execution; see the properties for each argument.
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

    /// The failure class, or `task_error` for a failed run nobody classified (an executor that
    /// does not read agent output).
    public var failureClass: FailureClass? {
        if succeeded || cancelled { return nil }
        return failure?.failureClass ?? .taskError
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
    /// How much the event matters.
    public enum Level: String, Sendable { case info, warning, error }
    /// How much it matters.
    public let level: Level
    /// One line, starting with the note's path when it is about one.
    public let message: String
}

extension TaskRouting {
    /// No agent of its own width: every agent shares its lane's queue.
    public func concurrency(agent: String) -> Int? { nil }
    /// No agent says: a read-only task is queued again once.
    public func retries(agent: String) -> Int? { nil }
}

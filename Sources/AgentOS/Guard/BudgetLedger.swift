import Foundation

/// Spending caps in USD. `nil` means no cap of that kind.
public struct BudgetCaps: Sendable, Equatable {
    /// Most one task may spend over all its runs.
    public var taskUSD: Double?
    /// Most all runs may spend per calendar day (local time).
    public var dayUSD: Double?
    /// Most all runs may spend per calendar month (local time).
    public var monthUSD: Double?
    /// Per-lane daily caps.
    public var laneDayUSD: [Lane: Double]
    /// Per-lane monthly caps.
    public var laneMonthUSD: [Lane: Double]

    /// Caps in USD; leave one out for no cap of that kind.
    public init(taskUSD: Double? = nil, dayUSD: Double? = nil, monthUSD: Double? = nil, laneDayUSD: [Lane: Double] = [:], laneMonthUSD: [Lane: Double] = [:]) {
        self.taskUSD = taskUSD
        self.dayUSD = dayUSD
        self.monthUSD = monthUSD
        self.laneDayUSD = laneDayUSD
        self.laneMonthUSD = laneMonthUSD
    }

    /// These caps with the task cap lowered to a task's own `budget_usd` (never raised by it).
    public func limitingTask(to budget: Double?) -> BudgetCaps {
        guard let budget, budget >= 0 else { return self }
        var caps = self
        caps.taskUSD = min(taskUSD ?? budget, budget)
        return caps
    }
}

/// Money held for one run before it starts.
public struct Reservation: Sendable, Equatable {
    /// The run the money is held for.
    public let runID: String
    /// The task the run belongs to (its note path), if given.
    public let task: String?
    /// The lane whose caps the reservation counts against.
    public let lane: Lane
    /// The amount held.
    public let amountUSD: Double
    /// The day (`YYYY-MM-DD`, local time) the spend counts against.
    public let day: String
    /// The month (`YYYY-MM`) the spend counts against.
    public let month: String
}

/// Why a reservation was refused: which cap it would cross, and by how much.
public struct BudgetRefusal: Sendable, Equatable, CustomStringConvertible {
    /// The cap in words: "daily cap", "premium lane's monthly cap", "task cap".
    public let cap: String
    /// The cap's amount.
    public let capUSD: Double
    /// Spent plus still reserved, before this request.
    public let committedUSD: Double
    /// What this run asked to reserve.
    public let requestedUSD: Double
    /// Whether every cap would have room if the open reservations of runs in flight were settled at
    /// nothing: the run should wait for them rather than fall back or go to review.
    public var heldByOpenReservations: Bool = false

    /// A refusal of `requestedUSD` by the cap `cap` (`capUSD`), with `committedUSD` already counted.
    public init(cap: String, capUSD: Double, committedUSD: Double, requestedUSD: Double, heldByOpenReservations: Bool = false) {
        self.cap = cap
        self.capUSD = capUSD
        self.committedUSD = committedUSD
        self.requestedUSD = requestedUSD
        self.heldByOpenReservations = heldByOpenReservations
    }

    /// The refusal in one line, for reasons and `route`.
    public var description: String {
        if BudgetLedger.micros(committedUSD) >= BudgetLedger.micros(capUSD) {
            // Spend at or over the cap (an overrun, or a cap of $0): no paid run until it is raised.
            return "the \(cap) of \(BudgetLedger.dollars(capUSD)) is used up (\(BudgetLedger.dollars(committedUSD)) spent or reserved); no paid run until it is raised or resets"
        }
        return "the \(cap) of \(BudgetLedger.dollars(capUSD)) would be exceeded (\(BudgetLedger.dollars(committedUSD)) spent or reserved + \(BudgetLedger.dollars(requestedUSD)) for this run)"
    }
}

/// The result of asking for a reservation.
public enum ReservationOutcome: Sendable, Equatable {
    /// The money is held; start the run, then settle or release.
    case reserved(Reservation)
    /// A cap would be crossed; do not start the paid run.
    case refused(BudgetRefusal)
}

/// Spend and open reservations of one lane in the current day and month.
public struct LaneSpend: Sendable, Equatable {
    /// Settled today.
    public var daySpentUSD: Double = 0
    /// Reserved by open runs today.
    public var dayReservedUSD: Double = 0
    /// Settled this month.
    public var monthSpentUSD: Double = 0
    /// Reserved by open runs this month.
    public var monthReservedUSD: Double = 0
}

/// Spend against every cap at one moment, for `status` and for routing decisions.
public struct SpendSnapshot: Sendable, Equatable {
    /// The current day (`YYYY-MM-DD`) and month (`YYYY-MM`), local time.
    public let day: String
    /// The current month.
    public let month: String
    /// Settled spend and open reservations today / this month, all lanes.
    public var daySpentUSD: Double = 0
    /// Reserved by open runs today.
    public var dayReservedUSD: Double = 0
    /// Settled this month.
    public var monthSpentUSD: Double = 0
    /// Reserved by open runs this month.
    public var monthReservedUSD: Double = 0
    /// The same per lane (lanes with no entries are absent).
    public var lanes: [Lane: LaneSpend] = [:]
    /// The caps the snapshot is measured against.
    public let caps: BudgetCaps
    /// What the task being routed has spent over its settled runs, its handoffs' included (set by the
    /// router's caller, as the other caps are checked: against settled spend; 0 when the snapshot is
    /// not about one task).
    public var taskCommittedUSD: Double = 0
    /// Caps that settled spend has gone over (a run reported more than it reserved).
    public var overCaps: [CapOverrun] = []
    /// This month's runs that reported more than they reserved, newest first (at most 10).
    public var overruns: [BudgetSettlement] = []
    /// This month's runs whose cost a person corrected, newest correction first (at most 10).
    public var corrections: [BudgetCorrection] = []

    /// An empty snapshot (nothing spent) for a day and month.
    public init(day: String, month: String, caps: BudgetCaps) {
        self.day = day
        self.month = month
        self.caps = caps
    }

    /// The cap a new reservation of `amount` on `lane` would cross, or `nil` if it fits.
    /// (Routing uses this as a preview; only `BudgetLedger.reserve` decides, atomically.)
    public func refusal(lane: Lane, amount: Double, caps: BudgetCaps, taskCommittedUSD: Double = 0) -> BudgetRefusal? {
        let laneSpend = lanes[lane] ?? LaneSpend()
        let checks: [(String, Double?, Double)] = [
            ("task cap", caps.taskUSD, taskCommittedUSD),
            ("daily cap", caps.dayUSD, daySpentUSD + dayReservedUSD),
            ("monthly cap", caps.monthUSD, monthSpentUSD + monthReservedUSD),
            ("\(lane) lane's daily cap", caps.laneDayUSD[lane], laneSpend.daySpentUSD + laneSpend.dayReservedUSD),
            ("\(lane) lane's monthly cap", caps.laneMonthUSD[lane], laneSpend.monthSpentUSD + laneSpend.monthReservedUSD),
        ]
        for (name, cap, committed) in checks {
            guard let cap else { continue }
            if BudgetLedger.micros(committed) + BudgetLedger.micros(amount) > BudgetLedger.micros(cap) || BudgetLedger.micros(committed) >= BudgetLedger.micros(cap) {
                return BudgetRefusal(cap: name, capUSD: cap, committedUSD: committed, requestedUSD: amount)
            }
        }
        return nil
    }

    /// The same spend with every open reservation left out: what routing checks caps against, so a
    /// task is not sent to review while the room is only held by runs in flight (those settle; the
    /// reservation taken when the run starts is what decides).
    public var settledOnly: SpendSnapshot {
        var copy = self
        copy.dayReservedUSD = 0
        copy.monthReservedUSD = 0
        for (lane, var spend) in lanes {
            spend.dayReservedUSD = 0
            spend.monthReservedUSD = 0
            copy.lanes[lane] = spend
        }
        return copy
    }

    /// One line per cap: "today: $1.20 spent + $1.00 reserved of $10.00".
    public var lines: [String] {
        func line(_ label: String, _ spent: Double, _ reserved: Double, _ cap: Double?) -> String {
            let of = cap.map { " of \(BudgetLedger.dollars($0))" } ?? " (no cap)"
            return "\(label): \(BudgetLedger.dollars(spent)) spent + \(BudgetLedger.dollars(reserved)) reserved\(of)"
        }
        var result = [
            line("today (\(day))", daySpentUSD, dayReservedUSD, caps.dayUSD),
            line("this month (\(month))", monthSpentUSD, monthReservedUSD, caps.monthUSD),
        ]
        for lane in Lane.allCases {
            let spend = lanes[lane] ?? LaneSpend()
            if caps.laneDayUSD[lane] != nil || spend.daySpentUSD + spend.dayReservedUSD > 0 {
                result.append(line("\(lane) lane today", spend.daySpentUSD, spend.dayReservedUSD, caps.laneDayUSD[lane]))
            }
            if caps.laneMonthUSD[lane] != nil || spend.monthSpentUSD + spend.monthReservedUSD > 0 {
                result.append(line("\(lane) lane this month", spend.monthSpentUSD, spend.monthReservedUSD, caps.laneMonthUSD[lane]))
            }
        }
        if let task = caps.taskUSD { result.append("per task: at most \(BudgetLedger.dollars(task))") }
        result += overCaps.map(\.line)
        for overrun in overruns {
            result.append("run \(overrun.runID)\(overrun.task.map { " (\($0))" } ?? "") reported \(BudgetLedger.dollars(overrun.actualUSD)) against \(BudgetLedger.dollars(overrun.reservedUSD)) reserved, \(BudgetLedger.dollars(overrun.overrunUSD)) over; if that is not what it cost: fuckbigtech budget correct \(overrun.runID) USD")
        }
        for correction in corrections {
            result.append("run \(correction.runID)\(correction.task.map { " (\($0))" } ?? ""): corrected by a person from \(BudgetLedger.dollars(correction.fromUSD)) to \(BudgetLedger.dollars(correction.toUSD))")
        }
        return result
    }

    /// The snapshot as JSON for `status --json`.
    public var json: JSON {
        func money(_ v: Double?) -> JSON { v.map { .double(($0 * 1_000_000).rounded() / 1_000_000) } ?? .null }
        var laneObjects: [(String, JSON)] = []
        for lane in Lane.allCases {
            let spend = lanes[lane] ?? LaneSpend()
            guard caps.laneDayUSD[lane] != nil || caps.laneMonthUSD[lane] != nil || spend != LaneSpend() else { continue }
            laneObjects.append((lane.rawValue, .object([
                ("day_spent_usd", money(spend.daySpentUSD)), ("day_reserved_usd", money(spend.dayReservedUSD)), ("day_cap_usd", money(caps.laneDayUSD[lane])),
                ("month_spent_usd", money(spend.monthSpentUSD)), ("month_reserved_usd", money(spend.monthReservedUSD)), ("month_cap_usd", money(caps.laneMonthUSD[lane])),
            ])))
        }
        return .object([
            ("day", .string(day)), ("day_spent_usd", money(daySpentUSD)), ("day_reserved_usd", money(dayReservedUSD)), ("day_cap_usd", money(caps.dayUSD)),
            ("month", .string(month)), ("month_spent_usd", money(monthSpentUSD)), ("month_reserved_usd", money(monthReservedUSD)), ("month_cap_usd", money(caps.monthUSD)),
            ("task_cap_usd", money(caps.taskUSD)),
            ("lanes", .object(laneObjects)),
            ("over_caps", .array(overCaps.map { over in .object([
                ("cap", .string(over.cap)), ("key", .string(over.key)), ("cap_usd", money(over.capUSD)), ("spent_usd", money(over.spentUSD)),
                ("over_usd", money(over.overUSD)), ("since", .string(LocalTime.dateTime(over.since))), ("task", over.task.map { .string($0) } ?? .null),
            ]) })),
            ("overruns", .array(overruns.map { o in .object([
                ("run_id", .string(o.runID)), ("task", o.task.map { .string($0) } ?? .null), ("lane", .string(o.lane.rawValue)),
                ("reserved_usd", money(o.reservedUSD)), ("actual_usd", money(o.actualUSD)), ("overrun_usd", money(o.overrunUSD)),
            ]) })),
            ("corrections", .array(corrections.map { c in .object([
                ("run_id", .string(c.runID)), ("task", c.task.map { .string($0) } ?? .null), ("lane", .string(c.lane.rawValue)),
                ("from_usd", money(c.fromUSD)), ("to_usd", money(c.toUSD)),
            ]) })),
        ])
    }
}

/// How a run's reservation was closed, and what the run cost against what it held.
public struct BudgetSettlement: Sendable, Equatable {
    /// How the reservation ended.
    public enum Kind: String, Sendable {
        /// The run's real cost was recorded (reported by the agent, or tokens × prices).
        case settled
        /// The run started but its cost is unknown (a crash, a kill, no report): it is charged its
        /// whole reservation.
        case charged
        /// The agent never started: the money is given back.
        case released
    }
    /// The run.
    public let runID: String
    /// The task the run belongs to.
    public let task: String?
    /// The lane the spend counts against.
    public let lane: Lane
    /// How the reservation ended.
    public let kind: Kind
    /// What the run reserved.
    public let reservedUSD: Double
    /// What is now counted for it (0 when released).
    public let actualUSD: Double

    /// What closing a run's open reservation of `reservedMicros` records: a known cost (even above
    /// the reservation), else the whole reservation when the agent started, else nothing
    /// (released). `BudgetLedger.close` writes it; a run's end the ledger cannot be written at goes
    /// on with it until the close is retried (`TaskEngine.closeReservation`).
    static func closing(runID: String, task: String?, lane: Lane, reservedMicros: Int64, actualUSD: Double?, agentStarted: Bool) -> BudgetSettlement {
        let reserved = BudgetLedger.dollarsValue(reservedMicros)
        if let actualUSD {
            return BudgetSettlement(runID: runID, task: task, lane: lane, kind: .settled, reservedUSD: reserved, actualUSD: BudgetLedger.dollarsValue(BudgetLedger.micros(max(0, actualUSD))))
        }
        return agentStarted ? BudgetSettlement(runID: runID, task: task, lane: lane, kind: .charged, reservedUSD: reserved, actualUSD: reserved)
            : BudgetSettlement(runID: runID, task: task, lane: lane, kind: .released, reservedUSD: reserved, actualUSD: 0)
    }

    /// How much more than its reservation the run cost (0 when it stayed within it).
    public var overrunUSD: Double { BudgetLedger.dollarsValue(max(0, BudgetLedger.micros(actualUSD) - BudgetLedger.micros(reservedUSD))) }
}

/// A person's correction of a run's settled cost.
public struct BudgetCorrection: Sendable, Equatable {
    /// The run.
    public let runID: String
    /// The task the run belongs to.
    public let task: String?
    /// The lane the spend counts against.
    public let lane: Lane
    /// What the ledger counted for the run before.
    public let fromUSD: Double
    /// What it counts now.
    public let toUSD: Double
}

/// A cap that settled spend went over: no paid run counts against it until a person raises it
/// (or, for a day or month cap, the period ends).
public struct CapOverrun: Sendable, Equatable {
    /// The cap in words ("daily cap", "premium lane's monthly cap", "task cap").
    public let cap: String
    /// The `Rules/Guardrails.md` key that sets it.
    public let key: String
    /// The cap.
    public let capUSD: Double
    /// What was spent against it.
    public let spentUSD: Double
    /// When the settlement that crossed it was recorded.
    public let since: Date
    /// The task, for a task cap.
    public let task: String?

    /// How far over the cap the spend is.
    public var overUSD: Double { BudgetLedger.dollarsValue(BudgetLedger.micros(spentUSD) - BudgetLedger.micros(capUSD)) }

    /// "daily cap: over by $0.40 since 2026-11-18 10:02; raise budget_day_usd in Rules/Guardrails.md".
    public var line: String {
        let whose = task.map { " of \($0)" } ?? ""
        let raise = task == nil ? "raise \(key) in Rules/Guardrails.md" : "raise \(key) in Rules/Guardrails.md or the task's budget_usd"
        return "\(cap)\(whose): over cap by \(BudgetLedger.dollars(overUSD)) (\(BudgetLedger.dollars(spentUSD)) spent of \(BudgetLedger.dollars(capUSD))) since \(LocalTime.dateTime(since)); no paid run on it until you \(raise), or correct a run's cost that is wrong (fuckbigtech budget correct RUN_ID USD)"
    }
}

/// Errors of the budget ledger.
public enum BudgetLedgerError: Error, CustomStringConvertible, Sendable {
    /// The database could not be opened or used.
    case database(DatabaseError)
    /// A run ID that was already settled was reserved again.
    case runAlreadyClosed(String)
    /// The vault's `.agentos/` folder could not be created.
    case stateFolder(SystemError)
    /// A correction named a run that has no settled cost.
    case notSettled(String)

    /// The error as one line for stderr.
    public var description: String {
        switch self {
        case .database(let e): return "budget ledger: \(e.description)"
        case .runAlreadyClosed(let id): return "budget ledger: run \(id) was already settled; use a new run ID"
        case .stateFolder(let e): return "budget ledger: cannot create the state folder: \(e.description)"
        case .notSettled(let id): return "budget ledger: run \(id) has no settled cost to correct (no such run, or it is still running, or its money was given back)"
        }
    }
}

/// The budget ledger in `.agentos/runs.sqlite`: every paid run reserves its maximum cost before it
/// starts and settles its real cost after.
///
/// Each reservation checks the task, day, month and lane caps — counting settled spend *and* open
/// reservations — inside one `BEGIN IMMEDIATE` transaction, so any number of threads and processes
/// reserving at once can never push committed spend over a cap. Amounts are kept as whole
/// micro-dollars so sums never drift. One connection per ledger, reached only under its lock.
public final class BudgetLedger: Sendable {
    /// The ledger's connection; every use goes through `locked`.
    private let connection: Locked<Database>
    private let calendar: Calendar

    /// The ledger's database file in a vault.
    public static func path(for vault: Vault) -> String { vault.stateDirectory + "/runs.sqlite" }

    /// Opens (creating if needed) the ledger in a vault's `.agentos/runs.sqlite`.
    public convenience init(vault: Vault, timeZone: TimeZone = .current) throws {
        do { try FileSystem.makeDirectories(vault.stateDirectory) } catch {
            throw BudgetLedgerError.stateFolder(error)
        }
        try self.init(path: BudgetLedger.path(for: vault), timeZone: timeZone)
    }

    /// Opens (creating if needed) a ledger database. Days and months are counted in `timeZone`.
    public init(path: String, timeZone: TimeZone = .current) throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        do {
            let database = try Database(path: path)
            connection = Locked(database)
            try BudgetLedger.withBusyRetry {
                try database.execute("""
                CREATE TABLE IF NOT EXISTS budget_ledger (
                    run_id TEXT PRIMARY KEY,
                    task TEXT,
                    lane TEXT NOT NULL,
                    day TEXT NOT NULL,
                    month TEXT NOT NULL,
                    reserved_micros INTEGER NOT NULL,
                    actual_micros INTEGER,
                    state TEXT NOT NULL CHECK (state IN ('open', 'settled', 'released')),
                    reserved_at REAL NOT NULL,
                    closed_at REAL
                );
                CREATE INDEX IF NOT EXISTS budget_ledger_day ON budget_ledger(day, lane);
                CREATE INDEX IF NOT EXISTS budget_ledger_month ON budget_ledger(month, lane);
                CREATE INDEX IF NOT EXISTS budget_ledger_task ON budget_ledger(task);
                """)
                // How a settled row got its amount: 'reported' (the run's real cost) or 'reservation'
                // (charged in full: the run started and its cost is unknown). Older files get the column.
                try database.addColumnIfMissing("budget_ledger", "basis", "TEXT")
                // A person's correction of a settled cost ('corrected'): what the run had settled on,
                // and when the person corrected it.
                try database.addColumnIfMissing("budget_ledger", "corrected_from_micros", "INTEGER")
                try database.addColumnIfMissing("budget_ledger", "corrected_at", "REAL")
            }
        } catch let error as DatabaseError {
            throw BudgetLedgerError.database(error)
        }
    }

    // A row no person corrected (a correction stands against the run's later closes).
    private static let notCorrected = "basis IS NOT 'corrected'"

    // What a row commits: its reservation while open, its real cost once settled, nothing if released.
    private static let committed = "CASE state WHEN 'open' THEN reserved_micros WHEN 'settled' THEN COALESCE(actual_micros, 0) ELSE 0 END"

    /// Reserves `amount` USD for a run if every cap still has room; `nil` when a cap would be crossed
    /// (use `tryReserve` to learn which). Reserving an open run ID again returns its reservation.
    public func reserve(runID: String, lane: Lane, amount: Double, caps: BudgetCaps, task: String? = nil, at date: Date = Date()) throws -> Reservation? {
        if case .reserved(let reservation) = try tryReserve(runID: runID, lane: lane, amount: amount, caps: caps, task: task, at: date) {
            return reservation
        }
        return nil
    }

    /// Reserves `amount` USD for a run, or says which cap it would cross. Atomic across processes.
    public func tryReserve(runID: String, lane: Lane, amount: Double, caps: BudgetCaps, task: String? = nil, at date: Date = Date()) throws -> ReservationOutcome {
        let (day, month) = period(of: date)
        let amountMicros = BudgetLedger.micros(max(0, amount))
        return try locked { database in
            try database.transaction {
                if let existing = try database.query("SELECT task, lane, day, month, reserved_micros, state FROM budget_ledger WHERE run_id = ?", [.text(runID)], row: { s in
                    (s.optionalText(0), s.text(1), s.text(2), s.text(3), s.int64(4), s.text(5))
                }).first {
                    if existing.5 == "released" {
                        // Given back before its agent started (nothing was spent): the run reserves
                        // anew, against the caps as they are now (round 159: a task edited while it
                        // waited for room, routed again under its run id, went to review).
                        try database.run("DELETE FROM budget_ledger WHERE run_id = ? AND state = 'released'", [.text(runID)])
                    } else {
                        guard existing.5 == "open" else { throw BudgetLedgerError.runAlreadyClosed(runID) }
                        return .reserved(Reservation(runID: runID, task: existing.0, lane: Lane(rawValue: existing.1) ?? lane, amountUSD: BudgetLedger.dollarsValue(existing.4), day: existing.2, month: existing.3))
                    }
                }
                // Each cap with what is committed against it (settled + open) and what is settled.
                var checks: [(String, Double?, String, [SQLValue])] = [
                    ("daily cap", caps.dayUSD, "day = ?", [.text(day)]),
                    ("monthly cap", caps.monthUSD, "month = ?", [.text(month)]),
                ]
                if let cap = caps.laneDayUSD[lane] {
                    checks.append(("\(lane) lane's daily cap", cap, "day = ? AND lane = ?", [.text(day), .text(lane.rawValue)]))
                }
                if let cap = caps.laneMonthUSD[lane] {
                    checks.append(("\(lane) lane's monthly cap", cap, "month = ? AND lane = ?", [.text(month), .text(lane.rawValue)]))
                }
                if let cap = caps.taskUSD {
                    checks.insert(("task cap", cap, "task = ?", [SQLValue(task)]), at: 0)
                }
                var refusal: BudgetRefusal?
                var fitsOnceSettled = true
                for (name, cap, condition, arguments) in checks {
                    guard let cap else { continue }
                    let capMicros = BudgetLedger.micros(cap)
                    // A task cap without a task counts nothing against it; `task = NULL` matches no row anyway.
                    let committed = try sum(database, condition, arguments)
                    // `>=` as well as `>`: a paid run never starts on a cap that is used up or overrun,
                    // even when it asks to reserve nothing.
                    if committed + amountMicros > capMicros || committed >= capMicros {
                        if refusal == nil {
                            refusal = BudgetRefusal(cap: name, capUSD: cap, committedUSD: BudgetLedger.dollarsValue(committed), requestedUSD: BudgetLedger.dollarsValue(amountMicros))
                        }
                        let settled = try sum(database, condition, arguments, settledOnly: true)
                        if settled + amountMicros > capMicros || settled >= capMicros { fitsOnceSettled = false }
                    }
                }
                if var refusal {
                    refusal.heldByOpenReservations = fitsOnceSettled
                    return .refused(refusal)
                }
                try database.run(
                    "INSERT INTO budget_ledger (run_id, task, lane, day, month, reserved_micros, state, reserved_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?)",
                    [.text(runID), SQLValue(task), .text(lane.rawValue), .text(day), .text(month), .int(amountMicros), .double(date.timeIntervalSince1970)])
                return .reserved(Reservation(runID: runID, task: task, lane: lane, amountUSD: BudgetLedger.dollarsValue(amountMicros), day: day, month: month))
            }
        }
    }

    /// Records a run's real cost (from the agent's report, or tokens × prices) in place of its
    /// reservation. Returns `false` when the run has no ledger entry. The real cost is recorded even
    /// when it is above the reservation: the ledger tells the truth about money spent.
    @discardableResult
    public func settle(runID: String, actualUSD: Double, at date: Date = Date()) throws -> Bool {
        try locked { database in
            try database.transaction {
                try database.run("UPDATE budget_ledger SET actual_micros = ?, state = 'settled', closed_at = ? WHERE run_id = ? AND \(BudgetLedger.notCorrected)",
                                 [.int(BudgetLedger.micros(max(0, actualUSD))), .double(date.timeIntervalSince1970), .text(runID)])
                return database.changes > 0
            }
        }
    }

    /// Closes a run's reservation with what is known about it, in one transaction:
    ///
    /// - a known cost (`actualUSD`) is recorded as the truth, even above the reservation, and even
    ///   over an earlier charge or release (recovery found the run's result after all);
    /// - a run whose agent started and whose cost is unknown is charged its whole reservation;
    /// - a run whose agent never started gets its reservation back.
    ///
    /// Returns what happened, or `nil` when the run has no ledger entry or nothing changed (an
    /// unknown cost on a reservation that is already closed).
    @discardableResult
    public func close(runID: String, actualUSD: Double?, agentStarted: Bool, at date: Date = Date()) throws -> BudgetSettlement? {
        try locked { database in
            try database.transaction {
                // A cost a person corrected stands: a later close (the run store's retry of a run's
                // end, recovery after a crash) does not put back what the run reported.
                guard let row = try database.query("SELECT task, lane, reserved_micros, state FROM budget_ledger WHERE run_id = ? AND \(BudgetLedger.notCorrected)", [.text(runID)], row: { s in
                    (s.optionalText(0), s.text(1), s.int64(2), s.text(3))
                }).first else { return nil }
                let (task, laneName, reserved, state) = row
                // An unknown cost changes nothing on a reservation already closed.
                guard actualUSD != nil || state == "open" else { return nil }
                let settlement = BudgetSettlement.closing(runID: runID, task: task, lane: Lane(rawValue: laneName) ?? .premium, reservedMicros: reserved,
                                                          actualUSD: actualUSD, agentStarted: agentStarted)
                let now = SQLValue.double(date.timeIntervalSince1970)
                switch settlement.kind {
                case .settled:
                    try database.run("UPDATE budget_ledger SET actual_micros = ?, state = 'settled', basis = 'reported', closed_at = ? WHERE run_id = ?", [.int(BudgetLedger.micros(settlement.actualUSD)), now, .text(runID)])
                case .charged:
                    try database.run("UPDATE budget_ledger SET actual_micros = reserved_micros, state = 'settled', basis = 'reservation', closed_at = ? WHERE run_id = ?", [now, .text(runID)])
                case .released:
                    try database.run("UPDATE budget_ledger SET state = 'released', closed_at = ? WHERE run_id = ?", [now, .text(runID)])
                }
                return settlement
            }
        }
    }

    /// Raises what a closed run counts to `floorUSD`, what its agent had reported spending when it
    /// was cut off, if it counts less: a reservation charged by a sweep that did not know of the
    /// report (round 159: a killed `run`'s $1 reservation, charged while another task waited for
    /// room, stayed $1 though its agent had reported $3). A settled cost is a floor's equal or
    /// more, or a person's correction: left as it is. Returns the settlement as it now stands, or
    /// `nil` when nothing changed (no such row, still open, released, corrected, or not less).
    @discardableResult
    public func raiseClosed(runID: String, toAtLeast floorUSD: Double, at date: Date = Date()) throws -> BudgetSettlement? {
        let floor = BudgetLedger.micros(max(0, floorUSD))
        return try locked { database in
            try database.transaction {
                guard let row = try database.query("SELECT task, lane, reserved_micros, actual_micros FROM budget_ledger WHERE run_id = ? AND state = 'settled' AND \(BudgetLedger.notCorrected)", [.text(runID)], row: { s in
                    (s.optionalText(0), s.text(1), s.int64(2), s.isNull(3) ? 0 : s.int64(3))
                }).first, row.3 < floor else { return nil }
                try database.run("UPDATE budget_ledger SET actual_micros = ?, basis = 'reported', closed_at = ? WHERE run_id = ?", [.int(floor), .double(date.timeIntervalSince1970), .text(runID)])
                return BudgetSettlement.closing(runID: runID, task: row.0, lane: Lane(rawValue: row.1) ?? .premium, reservedMicros: row.2, actualUSD: BudgetLedger.dollarsValue(floor), agentStarted: true)
            }
        }
    }

    /// What a closed run counts, and whether that is its reservation, charged (its cost unknown);
    /// `nil` when the run has no row, is open or was released.
    public func closedCost(runID: String) throws -> (usd: Double, charged: Bool)? {
        try locked { database in
            try database.query("SELECT actual_micros, basis FROM budget_ledger WHERE run_id = ? AND state = 'settled'", [.text(runID)]) { s in
                (BudgetLedger.dollarsValue(s.int64(0)), s.optionalText(1) == "reservation")
            }.first
        }
    }

    /// Records what a run that reserved nothing reported spending: its agent note declares no prices
    /// and no `max_cost_usd` outside the premium lane, so routing took it for free, yet its CLI
    /// reported a cost (a cloud model behind a tool-lane agent). The money was spent: it counts
    /// against every cap from now on, as a settled row with nothing reserved (round 151: two
    /// reported $7.50 runs left the day's $5 cap at "$0.00 spent", and a premium run after them
    /// still started). Returns the settlement (all of it over the reservation), or `nil` when the
    /// cost is zero or the run is in the ledger already.
    @discardableResult
    public func recordUnreserved(runID: String, task: String?, lane: Lane, actualUSD: Double, at date: Date = Date()) throws -> BudgetSettlement? {
        let micros = BudgetLedger.micros(max(0, actualUSD))
        guard micros > 0 else { return nil }
        let (day, month) = period(of: date)
        return try locked { database in
            try database.transaction {
                guard try database.query("SELECT 1 FROM budget_ledger WHERE run_id = ?", [.text(runID)], row: { _ in true }).isEmpty else { return nil }
                let now = SQLValue.double(date.timeIntervalSince1970)
                try database.run(
                    "INSERT INTO budget_ledger (run_id, task, lane, day, month, reserved_micros, actual_micros, state, basis, reserved_at, closed_at) VALUES (?, ?, ?, ?, ?, 0, ?, 'settled', 'reported', ?, ?)",
                    [.text(runID), SQLValue(task), .text(lane.rawValue), .text(day), .text(month), .int(micros), now, now])
                return BudgetSettlement.closing(runID: runID, task: task, lane: lane, reservedMicros: 0, actualUSD: actualUSD, agentStarted: true)
            }
        }
    }

    /// The runs the ledger has a row for (open, settled or released) reserved at `since` or later.
    public func runIDs(reservedSince since: Double) throws -> Set<String> {
        try locked { database in Set(try database.query("SELECT run_id FROM budget_ledger WHERE reserved_at >= ?", [.double(since)]) { $0.text(0) }) }
    }

    /// A person's correction of what a settled run cost (`fuckbigtech budget correct`): an agent that
    /// reported an absurd cost (a billion dollars) would otherwise hold every cap over for the rest of
    /// the month, and the only way out was to raise the cap past it. The amount becomes the run's
    /// settled cost for every cap and for `status` and `report`; what it had settled on is kept
    /// beside it. Throws `notSettled` for a run the ledger does not know, or whose reservation is
    /// still open or was given back (there is no cost to correct).
    @discardableResult
    public func correct(runID: String, actualUSD: Double, at date: Date = Date()) throws -> BudgetCorrection {
        try locked { database in
            try database.transaction {
                guard let row = try database.query("SELECT task, lane, actual_micros, corrected_from_micros FROM budget_ledger WHERE run_id = ? AND state = 'settled'", [.text(runID)], row: { s in
                    (s.optionalText(0), s.text(1), s.int64(2), s.isNull(3) ? nil : s.int64(3))
                }).first else { throw BudgetLedgerError.notSettled(runID) }
                let (task, laneName, was, firstFrom) = row
                // The figure it already counts: nothing to correct, and nothing recorded as corrected.
                guard BudgetLedger.micros(actualUSD) != was else {
                    return BudgetCorrection(runID: runID, task: task, lane: Lane(rawValue: laneName) ?? .premium, fromUSD: BudgetLedger.dollarsValue(was), toUSD: BudgetLedger.dollarsValue(was))
                }
                // Corrected twice, the figure the run itself settled on is the one kept.
                try database.run("UPDATE budget_ledger SET actual_micros = ?, basis = 'corrected', corrected_from_micros = ?, corrected_at = ? WHERE run_id = ?",
                                 [.int(BudgetLedger.micros(actualUSD)), .int(firstFrom ?? was), .double(date.timeIntervalSince1970), .text(runID)])
                return BudgetCorrection(runID: runID, task: task, lane: Lane(rawValue: laneName) ?? .premium,
                                        fromUSD: BudgetLedger.dollarsValue(was), toUSD: BudgetLedger.dollarsValue(BudgetLedger.micros(actualUSD)))
            }
        }
    }

    /// The costs people corrected, by run: what `report` and `status` count for those runs instead
    /// of the figure the run's telemetry line holds.
    public func corrections() throws -> [String: Double] {
        try locked { database in
            // `run_id` is the table's key: one row each.
            Dictionary(uniqueKeysWithValues: try database.query("SELECT run_id, actual_micros FROM budget_ledger WHERE basis = 'corrected' AND state = 'settled'") { s in
                (s.text(0), BudgetLedger.dollarsValue(s.int64(1)))
            })
        }
    }

    /// Gives back an open reservation (the run never started, or was refused). Returns `false` when
    /// there was no open reservation for the run.
    @discardableResult
    public func release(runID: String, at date: Date = Date()) throws -> Bool {
        try locked { database in
            try database.transaction {
                try database.run("UPDATE budget_ledger SET state = 'released', closed_at = ? WHERE run_id = ? AND state = 'open'", [.double(date.timeIntervalSince1970), .text(runID)])
                return database.changes > 0
            }
        }
    }

    /// Reservations not yet settled or released (after a crash the run store releases those whose
    /// runs are gone).
    public func openReservations() throws -> [Reservation] {
        try locked { database in
            try database.query("SELECT run_id, task, lane, reserved_micros, day, month FROM budget_ledger WHERE state = 'open' ORDER BY reserved_at") { s in
                Reservation(runID: s.text(0), task: s.optionalText(1), lane: Lane(rawValue: s.text(2)) ?? .premium, amountUSD: BudgetLedger.dollarsValue(s.int64(3)), day: s.text(4), month: s.text(5))
            }
        }
    }

    /// What the ledger counts for one closed run (its settled cost, or the reservation it was
    /// charged); `nil` when the run has no entry, is still open, or was released. Telemetry shows
    /// this same figure (docs/telemetry.md).
    public func settledUSD(runID: String) throws -> Double? {
        try locked { database in
            try database.query("SELECT actual_micros FROM budget_ledger WHERE run_id = ? AND state = 'settled'", [.text(runID)]) { s in
                BudgetLedger.dollarsValue(s.int64(0))
            }.first
        }
    }

    /// What one task's settled runs spent (open reservations left out): what routing checks its cap
    /// against, and what the room a new run may reserve is reckoned from.
    public func settled(task: String) throws -> Double {
        try locked { database in BudgetLedger.dollarsValue(try sum(database, "task = ?", [.text(task)], settledOnly: true)) }
    }

    /// Total committed (settled + open) by one task over all its runs.
    public func committed(task: String) throws -> Double {
        try locked { database in BudgetLedger.dollarsValue(try sum(database, "task = ?", [.text(task)])) }
    }

    /// Spend today and this month, overall and per lane, against `caps`. With `details` (for
    /// `status`) also the caps that spending went over and this month's overruns.
    public func spend(caps: BudgetCaps = Guardrails().caps, at date: Date = Date(), details: Bool = false) throws -> SpendSnapshot {
        let (day, month) = period(of: date)
        return try locked { database in
            var snapshot = SpendSnapshot(day: day, month: month, caps: caps)
            let rows = try database.query("""
                SELECT lane, day = ?1, state,
                       SUM(\(BudgetLedger.committed))
                FROM budget_ledger WHERE month = ?2 AND state != 'released' GROUP BY lane, day = ?1, state
                """, [.text(day), .text(month)]) { s in (s.text(0), s.int(1) == 1, s.text(2), s.int64(3)) }
            for (laneName, isToday, state, micros) in rows {
                let amount = BudgetLedger.dollarsValue(micros)
                let lane = Lane(rawValue: laneName) ?? .premium
                var laneSpend = snapshot.lanes[lane] ?? LaneSpend()
                if state == "open" {
                    snapshot.monthReservedUSD += amount
                    laneSpend.monthReservedUSD += amount
                    if isToday { snapshot.dayReservedUSD += amount; laneSpend.dayReservedUSD += amount }
                } else {
                    snapshot.monthSpentUSD += amount
                    laneSpend.monthSpentUSD += amount
                    if isToday { snapshot.daySpentUSD += amount; laneSpend.daySpentUSD += amount }
                }
                snapshot.lanes[lane] = laneSpend
            }
            // Routing asks for spend on every task; the scan below is only for people reading status.
            guard details else { return snapshot }
            snapshot.overCaps = try overCaps(database, caps: caps, day: day, month: month)
            snapshot.overruns = try database.query("""
                SELECT run_id, task, lane, reserved_micros, actual_micros FROM budget_ledger
                WHERE month = ? AND state = 'settled' AND actual_micros > reserved_micros ORDER BY closed_at DESC LIMIT 10
                """, [.text(month)]) { s in
                BudgetSettlement(runID: s.text(0), task: s.optionalText(1), lane: Lane(rawValue: s.text(2)) ?? .premium, kind: .settled,
                                 reservedUSD: BudgetLedger.dollarsValue(s.int64(3)), actualUSD: BudgetLedger.dollarsValue(s.int64(4)))
            }
            snapshot.corrections = try database.query("""
                SELECT run_id, task, lane, corrected_from_micros, actual_micros FROM budget_ledger
                WHERE month = ? AND state = 'settled' AND basis = 'corrected' ORDER BY corrected_at DESC LIMIT 10
                """, [.text(month)]) { s in
                BudgetCorrection(runID: s.text(0), task: s.optionalText(1), lane: Lane(rawValue: s.text(2)) ?? .premium,
                                 fromUSD: BudgetLedger.dollarsValue(s.int64(3)), toUSD: BudgetLedger.dollarsValue(s.int64(4)))
            }
            return snapshot
        }
    }

    /// Caps that settled spend has gone over, each with the moment the settlement that crossed it
    /// was recorded (call under the lock).
    private func overCaps(_ database: Database, caps: BudgetCaps, day: String, month: String) throws -> [CapOverrun] {
        // Settlements of this month in the order they were recorded; running sums find the crossing.
        let rows = try database.query("""
            SELECT day, lane, task, COALESCE(actual_micros, 0), COALESCE(closed_at, reserved_at) FROM budget_ledger
            WHERE month = ? AND state = 'settled' ORDER BY COALESCE(closed_at, reserved_at), rowid
            """, [.text(month)]) { s in (s.text(0), s.text(1), s.optionalText(2), s.int64(3), s.double(4)) }
        func crossing(_ name: String, _ key: String, _ cap: Double?, task: String? = nil, _ counts: ((day: String, lane: String, task: String?)) -> Bool) -> CapOverrun? {
            guard let cap else { return nil }
            let capMicros = BudgetLedger.micros(cap)
            var total: Int64 = 0
            var since: Double?
            for row in rows where counts((row.0, row.1, row.2)) {
                total += row.3
                if since == nil && total > capMicros { since = row.4 }
            }
            guard let since, total > capMicros else { return nil }
            return CapOverrun(cap: name, key: key, capUSD: cap, spentUSD: BudgetLedger.dollarsValue(total), since: Date(timeIntervalSince1970: since), task: task)
        }
        var result: [CapOverrun] = []
        if let over = crossing("daily cap", "budget_day_usd", caps.dayUSD, { $0.day == day }) { result.append(over) }
        if let over = crossing("monthly cap", "budget_month_usd", caps.monthUSD, { _ in true }) { result.append(over) }
        for lane in Lane.allCases {
            if let over = crossing("\(lane) lane's daily cap", "budget_\(lane)_day_usd", caps.laneDayUSD[lane], { $0.day == day && $0.lane == lane.rawValue }) { result.append(over) }
            if let over = crossing("\(lane) lane's monthly cap", "budget_\(lane)_month_usd", caps.laneMonthUSD[lane], { $0.lane == lane.rawValue }) { result.append(over) }
        }
        // The task cap counts a task over all months; this month's tasks are the ones that matter now.
        if let cap = caps.taskUSD {
            let capMicros = BudgetLedger.micros(cap)
            // Only tasks of this month whose settled spend is over the cap at all (one grouped query).
            let tasks = Set(rows.compactMap(\.2))
            let over = try database.query("""
                SELECT task FROM budget_ledger WHERE task IS NOT NULL AND state = 'settled'
                GROUP BY task HAVING SUM(COALESCE(actual_micros, 0)) > ?
                """, [.int(capMicros)]) { $0.text(0) }.filter(tasks.contains)
            for task in over.sorted() {
                let history = try database.query("""
                    SELECT COALESCE(actual_micros, 0), COALESCE(closed_at, reserved_at) FROM budget_ledger
                    WHERE task = ? AND state = 'settled' ORDER BY COALESCE(closed_at, reserved_at), rowid
                    """, [.text(task)]) { s in (s.int64(0), s.double(1)) }
                var total: Int64 = 0
                var since: Double?
                for (amount, at) in history {
                    total += amount
                    if since == nil && total > capMicros { since = at }
                }
                if let since, total > capMicros {
                    result.append(CapOverrun(cap: "task cap", key: "budget_task_usd", capUSD: cap, spentUSD: BudgetLedger.dollarsValue(total), since: Date(timeIntervalSince1970: since), task: task))
                }
            }
        }
        return result
    }

    // MARK: Helpers

    private func sum(_ database: Database, _ condition: String, _ arguments: [SQLValue], settledOnly: Bool = false) throws -> Int64 {
        // `query` steps the statement to its end, which ends its read; `Database.scalarInt` stops after
        // the first row and would leave the statement (and an old snapshot) open on this connection.
        let what = settledOnly ? "CASE state WHEN 'settled' THEN COALESCE(actual_micros, 0) ELSE 0 END" : BudgetLedger.committed
        return try database.query("SELECT COALESCE(SUM(\(what)), 0) FROM budget_ledger WHERE \(condition)", arguments) { $0.int64(0) }.first ?? 0
    }

    private func period(of date: Date) -> (day: String, month: String) {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        let month = String(format: "%04d-%02d", c.year ?? 0, c.month ?? 0)
        return (month + String(format: "-%02d", c.day ?? 0), month)
    }

    /// Runs `body` with the connection, holding its lock, retried as a whole on `SQLITE_BUSY`.
    private func locked<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try connection.withLock { database in try BudgetLedger.withBusyRetry { try body(database) } }
        } catch let error as DatabaseError {
            throw BudgetLedgerError.database(error)
        }
    }

    // SQLite's busy timeout covers waiting for the write lock; under heavy contention between many
    // connections a statement can still report SQLITE_BUSY, and the whole transaction is then retried.
    // Retried for at most `busyRetrySeconds` in all: each try waits out the busy timeout (5 s) when
    // another process holds the file locked, and fifty of them held a run's end for four minutes
    // with nothing said (round 147); the caller then says why, and a run's end tries again later.
    private static func withBusyRetry<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while true {
            do { return try body() } catch let error as DatabaseError where (error.code & 0xff) == 5 && attempt < 50
                && Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < busyRetrySeconds {
                attempt += 1
                // A growing backoff against the other connections (other processes); there is
                // nothing to wait on but time.
                Thread.sleep(forTimeInterval: 0.002 * Double(min(attempt, 25)))
            }
        }
    }

    /// How long a ledger operation is retried while the database is busy.
    static let busyRetrySeconds = 12.0

    /// Dollars as whole micro-dollars, the ledger's unit.
    static func micros(_ dollars: Double) -> Int64 {
        if dollars.isNaN { return 0 }
        return Int64((min(max(dollars, -largestDollars), largestDollars) * 1_000_000).rounded())
    }

    /// The most dollars one figure is kept as (a billion). A tool that reports more (`1e300`,
    /// infinity) is taken at this, which is past every cap, so no further paid run starts; nothing
    /// traps converting it to micro-dollars, and a thousand such runs still add up in an `Int64`.
    public static let largestDollars = 1e9
    /// Micro-dollars back to dollars.
    static func dollarsValue(_ micros: Int64) -> Double { Double(micros) / 1_000_000 }

    /// Dollars for people: `$1.25`, `$0.0042` for sums under a cent, and as many places as a sum
    /// needs up to four (`$0.025`: a cap written so was shown as `$0.03`, above what it allows).
    /// Under a cent, four places at least and up to six, the millionths the ledger keeps (a
    /// millionth was shown as `$0.0000`).
    public static func dollars(_ amount: Double) -> String {
        let small = amount != 0 && abs(amount) < 0.01
        var text = String(format: small ? "%.6f" : "%.4f", amount)
        // Places past the second (the fourth under a cent) are kept only when they are not zero.
        let kept = small ? 5 : 3
        while text.hasSuffix("0"), let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > kept { text.removeLast() }
        return "$" + text
    }
}

/// Dollar amounts as people write them in notes (caps, `budget_usd`, `max_cost_usd`).
public enum Money {
    /// The amount a property holds: a YAML number (`0.10`, `1`) or text holding one (`"0.10"`,
    /// `"$0.10"`). Anything else — `0,10`, `ten`, a negative number, a list, an infinity, an empty
    /// value — is `nil`: a cap that does not parse must never turn into some other cap.
    public static func dollars(_ value: PropertyValue) -> Double? {
        switch value {
        case .int(let i):
            return i >= 0 ? Double(i) : nil
        case .double(let d):
            return d.isFinite && d >= 0 ? d : nil
        case .string(let raw):
            var text = Substring(raw.trimmingWhitespaces())
            if text.hasPrefix("$") { text = text.dropFirst() }
            // Plain decimal digits only: Swift's Double("…") would also take "0x1p-2", "1e3", "nan".
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard !text.isEmpty, parts.count <= 2, parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
                  !(parts.first?.isEmpty ?? true) || (parts.count == 2 && !parts[1].isEmpty),
                  parts.count == 1 || !parts[1].isEmpty,
                  let number = Double(String(text)), number.isFinite else { return nil }
            return number
        default:
            return nil
        }
    }

    /// The one-line problem for a money property that does not parse: "`key` must be a number of
    /// dollars such as 0.10, got '0,10'".
    public static func problem(key: String, value: PropertyValue) -> String {
        let shown: String
        switch value {
        case .null: shown = "nothing"
        case .list: shown = "a list"
        case .map: shown = "a map"
        default: shown = "'\(value.text ?? "")'"
        }
        return "\(key) must be a number of dollars such as 0.10 (a dot, no comma; 0 or more), got \(shown)"
    }
}

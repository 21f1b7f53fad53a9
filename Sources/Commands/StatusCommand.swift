import AgentOS
import Foundation

enum StatusCommand {
    static let spec = CommandSpec(
        name: "status",
        summary: "what is queued, running, waiting for review and recently finished",
        forms: [CommandForm(max: 0)],
        options: [
            .option("--limit", "N", "list the N most recently finished tasks (default 10)", short: "-n"),
            .json("print the status as JSON"),
        ],
        description: """
        Says whether a watcher serves the vault (and how fresh its heartbeat is), then lists each
        task once, in its current state: waiting for a watcher (notes ready to run that no watcher
        has picked up), queued (claimed, routing or waiting for a lane), running, waiting for review,
        and the N most recently finished (default 10), from the run store (.agentos/runs.sqlite).
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        let limit = try context.arguments.int("--limit", default: 10)
        // Inside a cloud agent's run, private tasks are not listed: their paths are their titles,
        // and a private task's title is private text.
        let visibility = NoteVisibility(vault: context.vault, environment: context.environment)
        let status = try VaultStatus.read(vault: context.vault, limit: limit, shows: visibility.listsTask)
        let (watcher, waiting, queued, running, review, finished) = (status.watcher, status.waiting, status.queued, status.running, status.review, status.finished)
        var extra = StatusSections.all.compactMap { $0(context.vault) }
        do {
            // The budget section names the tasks over a cap or over their reservation: a private
            // one's path (its title) is not shown to an agent's run (`listsTask`).
            let spend = (try? VaultRouting(vault: context.vault))?.spend()
            let tasks = Set((spend?.overCaps.compactMap(\.task) ?? []) + (spend?.overruns.compactMap(\.task) ?? [])).filter { !visibility.listsTask($0) }
            if !tasks.isEmpty {
                let scrub: @Sendable (String) -> String = { text in tasks.reduce(text) { $0.replacingOccurrences(of: $1, with: "(a private task)") } }
                extra = extra.map { StatusSection(name: $0.name, title: $0.title, lines: $0.lines.map(scrub), json: $0.json.mappingStrings(scrub)) }
            }
        }

        if context.json {
            var watcherJSON: [(String, JSON)] = []
            switch watcher {
            case .running(let beat, let age):
                // Without the queue's length and the last changed path for a caller not shown private
                // notes (the one would count private tasks, the other may name a private note).
                var heartbeat = beat?.json ?? .null
                if visibility.hiddenBecause != nil, case .object(let pairs) = heartbeat { heartbeat = .object(pairs.filter { $0.0 != "queue" && $0.0 != "last_event_path" }) }
                watcherJSON = [("running", .bool(true)), ("heartbeat", heartbeat), ("heartbeat_age_s", age.map { .double(($0 * 10).rounded() / 10) } ?? .null)]
            case .stopped(let last):
                watcherJSON = [("running", .bool(false)), ("last_heartbeat", last?.json ?? .null)]
            }
            var pairs: [(String, JSON)] = [
                ("watcher", .object(watcherJSON)),
                ("waiting_for_watcher", .array(waiting.map { .string($0) })),
                ("not_run", .array(status.notRun.map { .object([("path", .string($0.path)), ("reason", .string($0.reason))]) })),
                ("queued", .array(queued.map(json))),
                ("running", .array(running.map(json))),
                ("review", .array(review.map(json))),
                ("finished", .array(finished.map(json))),
            ]
            for section in extra { pairs.append((section.name, section.json)) }
            context.console.print(JSON.object(pairs).pretty)
            return 0
        }
        let c = context.console
        c.print(c.color("Watcher: ", .bold) + WatcherHeartbeat.describe(watcher, countingQueue: visibility.hiddenBecause == nil))
        if case .stopped = watcher, !waiting.isEmpty {
            c.print(c.color("Waiting for a watcher (\(waiting.count))", .bold) + " — start 'fuckbigtech watch' (or 'fuckbigtech service install'), or 'fuckbigtech run NOTE' for one")
            for path in waiting.prefix(20) { c.print("  \(path)") }
            if waiting.count > 20 { c.print("  … and \(waiting.count - 20) more") }
        }
        if !status.notRun.isEmpty {
            c.print(c.color("Not run as they stand (\(status.notRun.count))", .bold))
            for item in status.notRun.prefix(20) { c.print("  \(item.path)  — \(item.reason)") }
            if status.notRun.count > 20 { c.print("  … and \(status.notRun.count - 20) more") }
        }
        c.print(c.color("Queued (\(queued.count))", .bold))
        for r in queued { c.print("  \(r.taskPath)  \(r.agent ?? "routing…") \(r.lane.map { "(\($0))" } ?? "")") }
        c.print(c.color("Running (\(running.count))", .bold))
        for r in running {
            let since = r.startedAt.map { String(format: "%.0fs", Date().timeIntervalSince1970 - $0) } ?? ""
            c.print("  \(r.taskPath)  \(r.agent ?? "") (\(r.lane ?? "")) for \(since)  run \(r.runID)")
        }
        c.print(c.color("Waiting for review (\(review.count))", .bold))
        for r in review {
            // An approval does not lift a cap (a tour approved a task held by its spent task cap,
            // and it stayed in review): the cap is raised first, or a day's or month's resets.
            // A review for a cap or an agent not available now is resumed by routing the task again; an
            // approval is a person's word on what the run may do, and `status` does not ask for it
            // where the review is about something else (round 46: an approval asked for money gave
            // the agent its write flags).
            let reason = r.reason ?? ""
            let next = reason.contains("need a person's approval") || reason.contains("lane human")
                ? "set approved: true to run it"
                : reason.contains("budget: ")
                    ? "raise the cap (Rules/Guardrails.md, or the task's budget_usd), correct a run's cost that is wrong (budget correct), or wait for it to reset, then set status: new"
                    : reason.contains("set status: new") ? "set status: new to route it again" : "set approved: true to run it"
            c.print("  \(r.taskPath)  \(r.reason ?? "")  — \(next)")
        }
        c.print(c.color("Recently finished", .bold))
        for r in finished {
            let when = r.finishedAt.map { LocalTime.dateTime(Date(timeIntervalSince1970: $0)) } ?? ""
            let cost = r.costUSD.map { String(format: " $%.4f", $0) } ?? ""
            let colored = r.state == .done ? c.color(r.state.rawValue, .green) : c.color(r.state.rawValue, .red)
            c.print("  \(when)  \(colored)  \(r.taskPath)  \(r.agent ?? "") (\(r.lane ?? ""))\(cost)\(r.error.map { "  — \($0)" } ?? "")")
        }
        for section in extra {
            c.print(c.color(section.title, .bold))
            for line in section.lines { c.print("  " + line) }
        }
        return 0
    }

    static func json(_ r: RunRecord) -> JSON {
        .object([
            ("run_id", .string(r.runID)), ("task", .string(r.taskPath)), ("kind", .string(r.kind)), ("state", .string(r.state.rawValue)),
            ("lane", r.lane.map { .string($0) } ?? .null), ("agent", r.agent.map { .string($0) } ?? .null),
            ("model", r.model.map { .string($0) } ?? .null), ("rule", r.rule.map { .string($0) } ?? .null),
            ("reason", r.reason.map { .string($0) } ?? .null), ("attempt", .int(r.attempt)),
            ("started", r.startedAt.map { .string(LocalTime.dateTime(Date(timeIntervalSince1970: $0))) } ?? .null),
            ("finished", r.finishedAt.map { .string(LocalTime.dateTime(Date(timeIntervalSince1970: $0))) } ?? .null),
            ("cost_usd", r.costUSD.map { .double($0) } ?? .null), ("tokens_in", r.tokensIn.map { .int($0) } ?? .null),
            ("tokens_out", r.tokensOut.map { .int($0) } ?? .null), ("result", r.resultPath.map { .string($0) } ?? .null),
            ("error", r.error.map { .string($0) } ?? .null), ("failure", r.failure.map { .string($0) } ?? .null),
        ])
    }
}

/// Extra sections of `status` (budget spend against caps, for one).
public struct StatusSection: Sendable {
    public let name: String
    public let title: String
    public let lines: [String]
    public let json: JSON

    public init(name: String, title: String, lines: [String], json: JSON) {
        self.name = name
        self.title = title
        self.lines = lines
        self.json = json
    }
}

/// The providers of extra `status` sections.
enum StatusSections {
    static let all: [@Sendable (Vault) -> StatusSection?] = [
        { vault in
            // The fleet: every machine whose watcher wrote Telemetry/Machines/<name>.md.
            let machines = MachineHeartbeat.readAll(vault: vault)
            guard !machines.isEmpty else { return nil }
            let now = Date()
            let json = JSON.array(machines.map { m in
                .object([("machine", .string(m.machine)), ("state", .string(m.state)), ("updated_epoch", .double(m.updated)),
                         ("silent", .bool(m.state == "watching" && now.timeIntervalSince1970 - m.updated > MachineHeartbeat.staleAfter)),
                         ("serves", .string(m.serves)), ("running", .array(m.running.map { .string($0) })), ("version", .string(m.version))])
            })
            return StatusSection(name: "machines", title: "Machines (\(machines.count))", lines: machines.map { $0.describe(now: now) }, json: json)
        },
        { vault in
            guard let routing = try? VaultRouting(vault: vault), let spend = routing.spend() else { return nil }
            // A cap that does not parse blocks every paid run: status says so first.
            let broken = routing.ruleBook.guardrails.capErrors
            let lines = broken.map { "cap does not parse, paid runs are blocked: \($0)" } + spend.lines
            var json = spend.json
            if case .object(var pairs) = json {
                pairs.append(("cap_errors", .array(broken.map { .string($0) })))
                json = .object(pairs)
            }
            return StatusSection(name: "budget", title: "Budget (spent + reserved against caps)", lines: lines, json: json)
        },
        { vault in
            // The same figures the ledger settled, split by how each is known (docs/telemetry.md).
            let spend = TelemetryJournal.spendBySource(vault: vault)
            guard !spend.month.isEmpty else { return nil }
            func line(_ label: String, _ amounts: [CostSource: Double]) -> String {
                label + ": " + CostSource.allCases.map { "\($0.rawValue) " + String(format: "$%.4f", amounts[$0] ?? 0) }.joined(separator: ", ")
            }
            func json(_ amounts: [CostSource: Double]) -> JSON {
                .object(CostSource.allCases.map { ($0.rawValue, .double(((amounts[$0] ?? 0) * 1_000_000).rounded() / 1_000_000)) })
            }
            return StatusSection(name: "spend_by_source", title: "Spend by cost source", lines: [line("today", spend.day), line("this month", spend.month)],
                                 json: .object([("day", json(spend.day)), ("month", json(spend.month))]))
        },
        { vault in
            // Agents resting after a limit: routing skips them to the next agent of their chain.
            guard let cooling = try? AgentCooldowns.list(vault: vault).compactMap(\.cooldown), !cooling.isEmpty else { return nil }
            let lines = cooling.map { "\($0.summary) — \($0.reason); 'fuckbigtech agent reset \($0.agent)' ends it" }
            let json = JSON.array(cooling.map { .object([("agent", .string($0.agent)), ("failure", .string($0.failure.rawValue)), ("until", .string(LocalTime.dateTime($0.until))), ("reason", .string($0.reason))]) })
            return StatusSection(name: "cooling", title: "Cooling down (\(cooling.count))", lines: lines, json: json)
        },
    ]
}

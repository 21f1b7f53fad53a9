import Foundation

enum StatusCommand {
    static let spec = CommandSpec(
        name: "status",
        summary: "what is queued, running, waiting for review and recently finished",
        help: """
        Usage: fuckbigtech status [--json] [-n N]

        Lists runs from the run store (.agentos/runs.sqlite): queued (claimed, routing or waiting
        for a lane), running, waiting for review, and the N most recently finished (default 10).
        """,
        options: ["--limit"],
        aliases: ["-n": "--limit"],
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        let limit = try context.arguments.int("--limit", default: 10)
        let runs = try RunStore(vault: context.vault)
        let active = try runs.runs(in: [.claimed, .running], limit: 1000)
        let review = try runs.runs(in: [.review], limit: 1000).filter { (try? runs.activeRun(taskPath: $0.taskPath)) == nil }
        let finished = try runs.runs(in: [.done, .failed, .blocked, .cancelled], limit: limit)
        let queued = active.filter { $0.state == .claimed || $0.startedAt == nil }
        let running = active.filter { $0.state == .running && $0.startedAt != nil }
        let extra = StatusSections.all.compactMap { $0(context.vault) }

        if context.json {
            var pairs: [(String, JSON)] = [
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
        c.print(c.color("Queued (\(queued.count))", .bold))
        for r in queued { c.print("  \(r.taskPath)  \(r.agent ?? "routing…") \(r.lane.map { "(\($0))" } ?? "")") }
        c.print(c.color("Running (\(running.count))", .bold))
        for r in running {
            let since = r.startedAt.map { String(format: "%.0fs", Date().timeIntervalSince1970 - $0) } ?? ""
            c.print("  \(r.taskPath)  \(r.agent ?? "") (\(r.lane ?? "")) for \(since)  run \(r.runID)")
        }
        c.print(c.color("Waiting for review (\(review.count))", .bold))
        for r in review { c.print("  \(r.taskPath)  \(r.reason ?? "")  — set approved: true to run it") }
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
            ("error", r.error.map { .string($0) } ?? .null),
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
    ]
}

import AgentOS
import Foundation

/// `fuckbigtech report [--days N | --since DATE] [--json]`: the spend report note with its charts.
enum ReportCommand {
    static let spec = CommandSpec(
        name: "report",
        summary: "write the spend report: runs, cost, savings and verdicts by lane, agent, model and day, with charts",
        forms: [CommandForm(max: 0)],
        options: [
            .option("--days", "N", "count the last N days, today included (default 30)"),
            .option("--since", "DATE", "count from DATE (YYYY-MM-DD) on instead"),
            .json("print the report as JSON (the note is written all the same)"),
        ],
        description: """
        Reads every telemetry journal (.agentos/telemetry.jsonl and the month files
        telemetry-YYYY-MM.jsonl) and writes Telemetry/Report YYYY-MM-DD.md: runs, outcomes, cost
        (with its source: reported, estimated, reserved), tokens and time by lane, agent, model
        and day; the most expensive tasks; failure reasons; review waits; the files most touched;
        the verdicts people set on result notes (good, redo, wrong); and the savings: what the
        runs outside the premium lane would have cost with the premium agent note's prices, from
        the tokens each used, minus what they cost. Two SVG charts (runs by lane and day, cost
        over time) are written beside the note and embedded in it. See docs/telemetry.md.
        """,
        run: run
    )

    /// The most days `--days` counts back: a hundred years.
    static let mostDays = 36_525

    static func run(_ context: CommandContext) throws -> Int32 {
        let args = context.arguments
        if args.value("--days") != nil && args.value("--since") != nil { throw CLIError.usage("give --days or --since, not both") }
        let now = Date()
        let since: Date
        if let text = args.value("--since") {
            guard let date = TelemetryRecord.localDate(text + "T00:00:00"), LocalTime.day(date) == text else {
                throw CLIError.usage("--since wants a date as YYYY-MM-DD, not '\(text)'")
            }
            since = date
        } else {
            let days = try args.int("--days", default: 30)
            // A hundred years back at most: further, the first day falls before year 1 (printed
            // without its era) and the report silently counted nothing (an outside attack).
            guard days >= 1, days <= Self.mostDays else { throw CLIError.usage("--days wants a number of days from 1 to \(Self.mostDays), not \(days)") }
            guard let today = TelemetryRecord.localDate(LocalTime.day(now) + "T00:00:00") else { throw CLIError.failure("cannot tell today's date") }
            // Midnight N-1 days back, found by its date so a daylight-saving change does not shift it.
            let back = today.addingTimeInterval(-Double(days - 1) * 86_400 + 43_200)
            guard let start = TelemetryRecord.localDate(LocalTime.day(back) + "T00:00:00") else { throw CLIError.failure("cannot tell the first day") }
            since = start
        }
        let report = TelemetryReport.make(vault: context.vault, since: since, until: now)
        let written = try report.write(vault: context.vault)
        if context.json {
            var json = report.json
            if case .object(var pairs) = json {
                pairs.append(("written", .array(written.map { .string($0) })))
                json = .object(pairs)
            }
            context.console.print(json.pretty)
            return 0
        }
        let t = report.total
        let c = context.console
        c.print("Wrote \(written[0]) (\(t.runs) runs since \(LocalTime.day(since)))")
        let sources = CostSource.allCases.compactMap { s in t.costBySource[s].map { "\(s.rawValue) " + String(format: "$%.4f", $0) } }
        c.print("  cost " + String(format: "$%.4f", t.costUSD) + (sources.isEmpty ? "" : " (" + sources.joined(separator: ", ") + ")") + ", tokens \(t.tokensIn) in / \(t.tokensOut) out")
        for lane in report.byLane {
            c.print("  \(lane.key): \(lane.runs) \(lane.runs == 1 ? "run" : "runs"), " + String(format: "$%.4f", lane.costUSD) + (lane.verdicts.isEmpty ? "" : ", \(lane.verdicts[.good] ?? 0)/\(lane.verdicts.values.reduce(0, +)) good"))
        }
        if let premium = report.premiumAgent {
            c.print(t.savingsUSD < 0 ? "  cost " + String(format: "$%.4f", -t.savingsUSD) + " more than at \(premium.name)'s prices"
                    : "  saved " + String(format: "$%.4f", t.savingsUSD) + " against \(premium.name)'s prices")
        } else {
            c.print("  savings not worked out: no premium agent note has prices")
        }
        return 0
    }
}

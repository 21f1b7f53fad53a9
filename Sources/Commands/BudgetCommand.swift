import AgentOS
import Foundation

/// `fuckbigtech budget correct RUN_ID USD`: a person's correction of what a run cost.
enum BudgetCommand {
    static let spec = CommandSpec(
        name: "budget",
        summary: "correct what the budget ledger counts for a run whose reported cost is wrong",
        forms: [CommandForm(["correct"], arguments: "RUN_ID USD", max: 2)],
        options: [],
        description: """
        Every paid run settles its cost in the budget ledger (.agentos/runs.sqlite), the figure every
        cap is checked against. An agent that reports an absurd cost (a billion dollars) would hold
        the caps it counts against over for the rest of the day or month. 'budget correct RUN_ID USD'
        sets the run's settled cost to USD (a number of dollars such as 0.25, 0 or more), after you
        checked what it really cost; the run's ID is in its task's run_id, its result note and
        'fuckbigtech status'. The caps, 'status' and 'report' count the corrected figure from then on;
        'status' lists this month's corrections with what the run had settled on. The run's task,
        result note and telemetry row keep what the run reported. A person's command: refused from
        within an agent's run.
        """,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        let args = context.arguments.positionals
        guard args.first == "correct", args.count == 3 else { throw CLIError.usage("'budget correct' needs the run's ID and the dollars it cost, e.g. 'budget correct 20261207-121953-ab12cd 0.25'") }
        let runID = args[1]
        // As typed, with no spaces around it, and in whole millionths of a dollar (what the ledger
        // keeps: 0.0000001 was taken as $0 without a word).
        let places = args[2].split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        guard args[2] == args[2].trimmingWhitespaces(), places <= 6, let usd = Money.dollars(.string(args[2])), usd <= BudgetLedger.largestDollars else {
            throw CLIError.usage("budget correct: the cost must be a number of dollars such as 0.25 (a dot, no comma, at most six places; from 0 to \(Int(BudgetLedger.largestDollars))), not '\(args[2])'")
        }
        let correction: BudgetCorrection
        do {
            correction = try BudgetLedger(vault: context.vault).correct(runID: runID, actualUSD: usd)
        } catch let error as BudgetLedgerError {
            throw CLIError.failure(error.description)
        }
        if correction.fromUSD == correction.toUSD {
            context.console.print("run \(correction.runID)\(correction.task.map { " (\($0))" } ?? "") already counts \(BudgetLedger.dollars(correction.toUSD)) in the budget ledger; nothing changed")
            return 0
        }
        context.console.print("run \(correction.runID)\(correction.task.map { " (\($0))" } ?? ""): cost corrected from \(BudgetLedger.dollars(correction.fromUSD)) to \(BudgetLedger.dollars(correction.toUSD)) in the budget ledger")
        if let spend = (try? VaultRouting(vault: context.vault))?.spend() {
            for line in spend.lines where !line.hasPrefix("run ") { context.console.print("  " + line) }
        }
        return 0
    }
}

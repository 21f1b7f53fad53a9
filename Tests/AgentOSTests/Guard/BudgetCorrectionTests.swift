import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// Round 141 F1: an agent that reported an absurd cost (`"total_cost_usd": 9007199254740993`) was
/// settled at the ledger's ceiling of a billion dollars, and every cap it counts against stayed over
/// for the rest of the month. Nothing but raising the caps past it (no cap at all) let paid work go
/// on. A person corrects the run's settled cost with `budget correct`; a run may not.
@Suite struct BudgetCorrectionTests {
    static func cli(_ arguments: [String], _ env: EngineTestVault, runID: String? = nil) -> (code: Int32, out: String) {
        let (console, captured) = Console.capturing()
        let code = CLI.run(arguments + ["--vault", env.root + "/vault"], console: console, environment: runID.map { ["FBT_RUN_ID": $0] } ?? [:], executablePath: "fuckbigtech")
        return (code, captured.stdout + captured.stderr)
    }

    /// A tool-lane agent note `tooly` whose CLI (the claude fixture) reports its own cost, with no
    /// prices and no `max_cost_usd` (it runs as free); `extra` lines go into its frontmatter.
    /// Returns the note's text.
    @discardableResult
    static func writeFreeAgent(_ env: EngineTestVault, extra: String = "") throws -> String {
        let command = "command: [\"\(RepositoryPaths.fixtureAgents)/claude\", -p, --output-format, json, --, \"{prompt}\"]"
        let note = "---\ntype: agent\nname: tooly\nlane: tool\n\(command)\nenv: [FBT_FIXTURE_LOG]\noutput: claude-json\ntimeout: 60\n\(extra)---\nA tool-lane agent whose CLI reports its own cost.\n"
        try env.store.write(note, to: "Rules/Agents/tooly.md", expecting: .absent)
        return note
    }

    @Test func anAbsurdReportedCostIsCorrectedByAPersonAndPaidWorkGoesOn() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("max_cost_usd", .double(0.03))])
        let engine = try env.engine()
        let absurd = try env.writeTask("Absurd", properties: "type: task\nagent: claude", body: "Review the parser. FIXTURE_COST=9007199254740993")
        _ = engine.consider(path: absurd, wait: true)
        engine.waitUntilIdle()
        let run = try #require(try env.note(absurd).text("run_id"))
        let absurdText = try env.text(absurd)
        #expect(try env.note(absurd)["cost_usd"]?.number == BudgetLedger.largestDollars, "\(absurdText)")

        // The next paid task is held: every cap is over.
        let next = try env.writeTask("Next", properties: "type: task\nagent: claude", body: "Review the lexer. FIXTURE_COST=0.01")
        _ = engine.consider(path: next, wait: true)
        engine.waitUntilIdle()
        let heldText = try env.text(next)
        #expect(try env.note(next).text("status") == "review", "\(heldText)")
        let held = Self.cli(["status"], env)
        #expect(held.out.contains("budget correct \(run) USD"), "\(held.out)")

        // From within a run (the agent that reported it, or any other) the ledger is not the run's to change.
        let refused = Self.cli(["budget", "correct", run, "0"], env, runID: run)
        #expect(refused.code == 1 && refused.out.contains("refused from within run \(run)"), "\(refused.out)")
        #expect(try BudgetLedger(vault: env.vault).settledUSD(runID: run) == BudgetLedger.largestDollars)

        // A person's correction.
        let corrected = Self.cli(["budget", "correct", run, "$0.02"], env)
        #expect(corrected.code == 0 && corrected.out.contains("cost corrected from $1000000000.00 to $0.02"), "\(corrected.out)")
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(try ledger.settledUSD(runID: run) == 0.02)
        // The run's end written again (the run store's retry, recovery after a crash) keeps the person's word.
        #expect(try ledger.close(runID: run, actualUSD: 9e15, agentStarted: true) == nil)
        #expect(try ledger.settle(runID: run, actualUSD: 9e15) == false)
        #expect(try ledger.settledUSD(runID: run) == 0.02)

        // Paid work goes on.
        try env.store.updateProperties(next, set: [Property("status", .string("new"))])
        _ = engine.consider(path: next, wait: true)
        engine.waitUntilIdle()
        let ranText = try env.text(next)
        #expect(try env.note(next).text("status") == "done", "\(ranText)")

        // status and report count what the person said, and status says it was corrected.
        let after = Self.cli(["status"], env).out
        #expect(after.contains("run \(run) (\(absurd)): corrected by a person from $1000000000.00 to $0.02"), "\(after)")
        #expect(!after.contains("over cap"), "\(after)")
        let record = try #require(TelemetryJournal.records(vault: env.vault).first { $0.runID == run })
        #expect(record.costUSD == 0.02 && record.costSource == .corrected)
        #expect(TelemetryJournal.spendBySource(vault: env.vault).day[.corrected] == 0.02)
        #expect(TelemetryReport.make(vault: env.vault, since: Date().addingTimeInterval(-3600)).total.costUSD < 1)

        // Corrected twice, the figure the run settled on is the one kept beside it.
        #expect(Self.cli(["budget", "correct", run, "0.03"], env).code == 0)
        let snapshot = try ledger.spend(caps: RuleBook.load(vault: env.vault).guardrails.caps, details: true)
        #expect(snapshot.corrections.map(\.fromUSD) == [BudgetLedger.largestDollars] && snapshot.corrections.map(\.toUSD) == [0.03])
    }

    @Test func aCorrectionThatIsNotADollarAmountOrNamesNoSettledRunChangesNothing() throws {
        let env = try EngineTestVault()
        let ledger = try BudgetLedger(vault: env.vault)
        _ = try ledger.reserve(runID: "open-run", lane: .premium, amount: 0.05, caps: BudgetCaps())
        _ = try ledger.reserve(runID: "given-back", lane: .premium, amount: 0.05, caps: BudgetCaps())
        try ledger.release(runID: "given-back")
        _ = try ledger.reserve(runID: "settled", lane: .premium, amount: 0.05, caps: BudgetCaps())
        try ledger.settle(runID: "settled", actualUSD: 0.04)
        // Round 151: spaces around it, and places past the millionths the ledger keeps (0.0000001
        // was taken as $0 without a word).
        for amount in ["1,5", "-1", "nan", "inf", "1e3", "0x10", "", "2000000000", "ten", " 1", "1 ", "0.0000001", "0.0000005"] {
            let (code, out) = Self.cli(["budget", "correct", "settled", amount], env)
            #expect(code == 64 && out.contains("must be a number of dollars"), "\(amount): \(out)")
            #expect(out.split(separator: "\n").count == 1, "one line: \(out)")
        }
        for run in ["open-run", "given-back", "no-such-run", "settled' OR '1'='1"] {
            let (code, out) = Self.cli(["budget", "correct", run, "0"], env)
            #expect(code == 1 && out.contains("has no settled cost to correct"), "\(run): \(out)")
        }
        // The figure it already counts is no correction.
        let same = Self.cli(["budget", "correct", "settled", "0.040"], env)
        #expect(same.code == 0 && same.out.contains("already counts $0.04 in the budget ledger; nothing changed"), "\(same.out)")
        #expect(Self.cli(["budget", "correct", "settled"], env).code == 64)
        #expect(Self.cli(["budget"], env).code == 64)
        #expect(try ledger.settledUSD(runID: "settled") == 0.04)
        #expect(try ledger.corrections().isEmpty)
        #expect(try ledger.openReservations().map(\.runID) == ["open-run"])
    }

    /// Round 147 (high): a run reserved what its task had left under `budget_usd` ($0.05) even for
    /// an agent that cannot be told that figure (no `budget_args`: codex, opencode, llm, a custom
    /// agent), and that agent spent up to its `max_cost_usd`: $0.28 on a $0.05 cap, and a handoff
    /// chain $0.87 on $0.60. Such an agent reserves its maximum; a task with less left waits for
    /// review, as Rules/Guardrails.md says, and an agent told its reservation still runs within it.
    @Test func anAgentThatCannotBeToldItsBudgetDoesNotRunOnLessThanItsMaximum() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("max_cost_usd", .double(0.30))])
        let claude = try env.text("Rules/Agents/claude.md")
        #expect(claude.contains("budget_args"), "the test needs claude's budget_args")
        let untold = claude.replacingOccurrences(of: "name: claude", with: "name: untold")
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("budget_args") }.joined(separator: "\n")
        try env.store.write(untold, to: "Rules/Agents/untold.md", expecting: .absent)
        #expect(RuleBook.load(vault: env.vault).agent(named: "untold")?.mayReserveLess == false)
        let engine = try env.engine()
        let held = try env.writeTask("Small untold", properties: "type: task\nagent: untold\nbudget_usd: 0.05", body: "Review the parser. FIXTURE_COST=0.28")
        let told = try env.writeTask("Small told", properties: "type: task\nagent: claude\nbudget_usd: 0.05", body: "Review the lexer. FIXTURE_COST=0.04")
        for path in [held, told] { _ = engine.consider(path: path, wait: true) }
        engine.waitUntilIdle()
        let heldText = try env.text(held)
        #expect(try env.note(held).text("status") == "review" && heldText.contains("task cap"), "\(heldText)")
        #expect(!env.fixturePrompts().contains { $0.contains("Review the parser") }, "the agent that cannot be told ran")
        let toldText = try env.text(told)
        #expect(try env.note(told).text("status") == "done", "\(toldText)")
        #expect(env.fixtureArgvs.contains { $0.contains("--max-budget-usd") && $0.contains("0.05") }, "\(env.fixtureArgvs)")
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(try ledger.settled(task: held) == 0)
        // `route` says so before anything runs.
        let (console, captured) = Console.capturing()
        _ = CLI.run(["route", held, "--vault", env.vault.root], console: console, environment: [:], executablePath: "fuckbigtech")
        #expect(captured.stdout.contains("task cap"), "\(captured.stdout)")
        // Routed with room, and the task spent part of its cap before the run started (a handoff of
        // it settled meanwhile): the ledger is asked for the maximum, not for what is left.
        let routing = try VaultRouting(vault: env.vault)
        let plan = RoutePlan(lane: "premium", agent: "untold", model: nil, rule: "explicit", reason: "", action: .run, prompt: "p", reservationUSD: 0.30, taskBudgetUSD: 0.30)
        _ = try ledger.reserve(runID: "earlier", lane: .premium, amount: 0.10, caps: BudgetCaps(), task: "Tasks/Chain.md")
        try ledger.settle(runID: "earlier", actualUSD: 0.10)
        let gate = routing.reserve(plan, task: "Tasks/Chain.md", runID: "later")
        #expect(gate != .go(reservedUSD: 0.20), "\(gate)")
        if case .go = gate { Issue.record("a run started on less than its maximum: \(gate)") }
        var toldPlan = plan
        toldPlan.agent = "claude"
        #expect(routing.reserve(toldPlan, task: "Tasks/Chain.md", runID: "told") == .go(reservedUSD: 0.20))
        // Routed while the agent note had `budget_args`, then taken out while the task waited
        // (round 149): the plan's smaller figure is not what starts it.
        var stalePlan = plan
        stalePlan.reservationUSD = 0.05
        let late = routing.reserve(stalePlan, task: "Tasks/Late.md", runID: "late")
        #expect(late != .go(reservedUSD: 0.05), "\(late)")
        if case .go(let reserved) = late { #expect(reserved == 0.30, "\(late)") }
        // Round 151: a premium agent with neither `budget_args` nor `max_cost_usd` (a custom CLI) is
        // bounded by nothing: it reserves a whole task's cap (`budget_task_usd`), so a $0.05 task
        // waits for review instead of starting an agent told nothing that spent $0.90.
        let unbounded = untold.replacingOccurrences(of: "name: untold", with: "name: unbounded")
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("max_cost_usd") && !$0.hasPrefix("price_") }.joined(separator: "\n")
        try env.store.write(unbounded, to: "Rules/Agents/unbounded.md", expecting: .absent)
        let book = RuleBook.load(vault: env.vault)
        #expect(book.agent(named: "unbounded")?.maxCostUSD == nil && book.agent(named: "unbounded")?.lane == .premium)
        let custom = try env.writeTask("Small unbounded", properties: "type: task\nagent: unbounded\nbudget_usd: 0.05", body: "Review the tokenizer. FIXTURE_COST=0.90")
        let engine2 = try env.engine()
        _ = engine2.consider(path: custom, wait: true)
        engine2.waitUntilIdle()
        let customText = try env.text(custom)
        #expect(try env.note(custom).text("status") == "review" && customText.contains("task cap"), "\(customText)")
        #expect(!env.fixturePrompts().contains { $0.contains("Review the tokenizer") }, "the unbounded agent ran")
        var unboundedPlan = plan
        unboundedPlan.agent = "unbounded"
        unboundedPlan.reservationUSD = 0.05
        let fresh = try VaultRouting(vault: env.vault)
        let capped = fresh.reserve(unboundedPlan, task: "Tasks/Capped.md", runID: "capped")
        #expect("\(capped)".contains("task cap of $0.30 would be exceeded") && "\(capped)".contains("$2.00 for this run"), "\(capped)")
        unboundedPlan.taskBudgetUSD = nil
        let whole = fresh.reserve(unboundedPlan, task: "Tasks/Whole.md", runID: "whole")
        #expect(whole == .go(reservedUSD: book.guardrails.budgetTaskUSD), "\(whole)")
        // With room for its maximum, it runs.
        try env.store.updateProperties(held, set: [Property("budget_usd", .double(0.30)), Property("status", .string("new"))])
        _ = engine.consider(path: held, wait: true)
        engine.waitUntilIdle()
        let ranText = try env.text(held)
        #expect(try env.note(held).text("status") == "done", "\(ranText)")
    }

    /// Round 151 F1: a tool-lane agent whose note declares no prices and no `max_cost_usd` runs as
    /// free, yet its CLI (Claude Code's JSON here) reported $7.50 a run. Two such runs on a
    /// `budget_usd: 0.05` task under a $5 day cap left the ledger at $0.00 spent, `status` said so
    /// beside "reported $15.00", and a premium run after them still started. What a run reported
    /// is spent: the ledger counts it, the task says so, a person can correct it, doctor names the
    /// note, and the caps it went over stop paid runs.
    @Test func aCostReportedByAnAgentThatRanAsFreeCountsAgainstTheCaps() throws {
        let env = try EngineTestVault()
        try Self.writeFreeAgent(env)
        #expect(RuleBook.load(vault: env.vault).agent(named: "tooly")?.isPaid == false)
        let engine = try env.engine()
        let first = try env.writeTask("Tool1", properties: "type: task\nagent: tooly\nbudget_usd: 0.05", body: "Check the page layout. FIXTURE_COST=7.50")
        _ = engine.consider(path: first, wait: true)
        engine.waitUntilIdle()
        let firstText = try env.text(first)
        let note = try env.note(first)
        #expect(note.text("status") == "done" && note["cost_usd"]?.number == 7.5, "\(firstText)")
        #expect(note.text("budget_overrun")?.contains("agent 'tooly' ran as free (its note declared no prices and no max_cost_usd as the run started)") == true, "\(firstText)")
        let run = try #require(note.text("run_id"))
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(try ledger.settledUSD(runID: run) == 7.5)
        #expect(try ledger.settled(task: first) == 7.5)
        #expect(try ledger.spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD == 7.5)
        // The day's cap ($5) is over: a premium run waits for a person.
        let premium = try env.writeTask("Prem1", properties: "type: task\nagent: claude", body: "Review the login code. FIXTURE_COST=0.40")
        _ = engine.consider(path: premium, wait: true)
        engine.waitUntilIdle()
        let premiumText = try env.text(premium)
        #expect(try env.note(premium).text("status") == "review" && premiumText.contains("daily cap"), "\(premiumText)")
        #expect(!env.fixturePrompts().contains { $0.contains("Review the login code") })
        // status counts it, and a person can correct it.
        let status = Self.cli(["status"], env)
        #expect(status.out.contains("$7.50 spent"), "\(status.out)")
        let corrected = Self.cli(["budget", "correct", run, "0.01"], env)
        #expect(corrected.code == 0, "\(corrected.out)")
        #expect(try ledger.settledUSD(runID: run) == 0.01)
        // doctor names the note before any of this happens.
        var context = DoctorContext(vault: env.vault, environment: ["PATH": ""])
        context.ollamaEndpoint = "http://127.0.0.1:9"
        context.commandTimeout = 1
        let warned = Doctor.run(context).findings.filter { $0.check == "rules" && $0.finding.contains("'tooly'") }
        #expect(warned.count == 1 && warned[0].finding.contains("runs as free"), "\(warned.map(\.finding))")
        // `max_cost_usd: 0` says nothing about what the CLI reports (round 153 F4): still named.
        let zero = try env.text("Rules/Agents/tooly.md").replacingOccurrences(of: "timeout: 60\n", with: "timeout: 60\nmax_cost_usd: 0\n")
        try env.store.write(zero, to: "Rules/Agents/tooly.md", expecting: .any)
        #expect(Doctor.run(context).findings.contains { $0.check == "rules" && $0.finding.contains("'tooly'") && $0.finding.contains("runs as free") })
    }

    /// Round 152 F1: doctor says to give such an agent a `max_cost_usd`; a person did while a task
    /// routed to it as free waited in its queue, and the task started with nothing reserved past a
    /// day cap already over, and spent $3 on a `budget_usd: 0.05` task. Its agent's note as it is
    /// when the run starts decides: routed again, it waits in review.
    /// Round 153 F1: the same with the note moved to `lane: premium`, which the router counts as
    /// paid whatever the note's prices.
    @Test(arguments: ["max_cost_usd: 3", "lane: premium"])
    func anAgentMadePaidWhileATaskWaitsForItReservesBeforeTheTaskRuns(_ edit: String) throws {
        let env = try EngineTestVault()
        let free = try Self.writeFreeAgent(env, extra: "concurrency: 1\n")
        let engine = try env.engine()
        let over = try env.writeTask("T0", properties: "type: task\nagent: tooly", body: "Check the page layout. FIXTURE_COST=6")
        _ = engine.consider(path: over, wait: true)
        engine.waitUntilIdle()
        // The day's $5 cap is over. One run goes on while the next waits for the agent's one slot.
        // (It answers, then lingers until it is cancelled below.)
        let slow = try env.writeTask("T1", properties: "type: task\nagent: tooly", body: "Check the header layout. FIXTURE_MODE=linger FIXTURE_COST=0.5")
        #expect(engine.consider(path: slow) != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 2 })
        let waiting = try env.writeTask("T2", properties: "type: task\nagent: tooly\nbudget_usd: 0.05", body: "Check the footer layout. FIXTURE_COST=3")
        #expect(engine.consider(path: waiting) != .ignored)
        #expect(eventually(within: 10) { (try? env.note(waiting).text("status")) == "routed" })
        let paid = edit.hasPrefix("lane") ? free.replacingOccurrences(of: "lane: tool\n", with: edit + "\n") : free.replacingOccurrences(of: "concurrency: 1\n", with: "concurrency: 1\n" + edit + "\n")
        try env.store.write(paid, to: "Rules/Agents/tooly.md", expecting: .any)
        try #require(engine.routing as? VaultRouting).reload()
        try env.store.updateProperties(slow, set: [Property("status", .string("cancelled"))])
        _ = engine.consider(path: slow)
        engine.waitUntilIdle()
        let text = try env.text(waiting)
        #expect(try env.note(waiting).text("status") == "review", "\(text)")
        #expect(!env.fixturePrompts().contains { $0.contains("Check the footer layout") }, "it ran: \(text)")
        #expect(try BudgetLedger(vault: env.vault).settled(task: waiting) == 0)
    }

    /// Round 147 (medium): another process held `.agentos/runs.sqlite` locked when a run ended. The
    /// ledger's close was retried fifty times over the 5 s busy timeout, so the task said `running`
    /// for four minutes after its agent had exited, with nothing logged; then the failure was
    /// dropped, and the reservation stayed open, counted against the caps while the task said
    /// `done`, until the watcher restarted. Now the run ends saying why, and the close is tried
    /// again until it is written.
    @Test func aRunEndingWhileTheLedgerIsLockedEndsAndClosesItsReservationLater() throws {
        let env = try EngineTestVault()
        let engine = try env.engine(claimRetryFirst: 0.5)
        let path = try env.writeTask("Locked", properties: "type: task\nagent: claude", body: "Review the parser. FIXTURE_MODE=slow FIXTURE_COST=0.02")
        #expect(engine.consider(path: path) != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        let holder = try Database(path: BudgetLedger.path(for: env.vault))
        try holder.execute("BEGIN EXCLUSIVE")
        // The run ends while the lock is held (the old code held it for ~250 s, beyond this wait).
        let ended = eventually(within: 90) { try env.note(path).text("status") == "done" }
        let during = env.loggedEvents.map(\.message)
        try holder.execute("COMMIT")
        let text = try env.text(path)
        #expect(ended, "\(text)")
        #expect(try env.note(path)["cost_usd"]?.number == 0.02, "\(text)")
        #expect(during.contains { $0.contains("cannot close the reservation") && $0.contains("trying again") }, "\(during)")
        // Once the lock is gone, the reservation is closed with the run's cost.
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(eventually(within: 60) { try ledger.openReservations().isEmpty }, "\(env.loggedEvents.map(\.message))")
        let runID = try #require(try env.note(path).text("run_id"))
        #expect(try ledger.settledUSD(runID: runID) == 0.02)
        engine.waitUntilIdle()
    }

    /// Round 152 F2: the ledger was locked as a free agent's run ended (its $4 could not be
    /// recorded), and the watcher was stopped before a retry got through; the next start finished
    /// the run but never recorded the cost: the task and `report` said $4, the caps $0, and
    /// `budget correct` found no run. Recovery records what such runs reported.
    @Test func aReportedCostTheLockedLedgerMissedIsRecordedAtTheNextStart() throws {
        let env = try EngineTestVault()
        try Self.writeFreeAgent(env)
        // Its retries wait ten minutes: none gets through before the stop, however loaded the
        // machine (a retry begun before the stop, still waiting on the lock, got through once).
        let engine = try env.engine(claimRetryFirst: 600)
        let path = try env.writeTask("Menu", properties: "type: task\nagent: tooly", body: "Check the menu layout. FIXTURE_MODE=slow FIXTURE_COST=4")
        #expect(engine.consider(path: path) != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        let holder = try Database(path: BudgetLedger.path(for: env.vault))
        try holder.execute("BEGIN EXCLUSIVE")
        let ended = eventually(within: 90) { try env.note(path).text("status") == "done" }
        engine.shutdown(grace: 1)
        try holder.execute("COMMIT")
        let text = try env.text(path)
        #expect(ended, "\(text)")
        let runID = try #require(try env.note(path).text("run_id"))
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(try ledger.settledUSD(runID: runID) == nil, "the retry got through before the stop: the test shows nothing")
        // The next start.
        let next = try env.engine()
        next.recover()
        #expect(try ledger.settledUSD(runID: runID) == 4)
        #expect(try ledger.spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD == 4)
        #expect(env.loggedEvents.contains { $0.message.contains("reserved nothing reported spending") }, "\(env.loggedEvents.map(\.message))")
        // Again: nothing more is recorded.
        next.recover()
        #expect(try ledger.settledUSD(runID: runID) == 4)
        #expect(try ledger.spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD == 4)
        next.waitUntilIdle()
    }

    /// Round 152: after a tool-lane agent reported what a cloud model cost, `report` said "saved
    /// $-8.4999 against claude's prices". Work off the premium lane that cost more is said so.
    @Test func workThatCostMoreOffThePremiumLaneIsNoNegativeSaving() throws {
        let env = try EngineTestVault()
        try Self.writeFreeAgent(env)
        let engine = try env.engine()
        let path = try env.writeTask("Dear", properties: "type: task\nagent: tooly", body: "Check the page layout. FIXTURE_COST=9")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let report = Self.cli(["report"], env)
        #expect(report.code == 0, "\(report.out)")
        #expect(report.out.contains("more than at claude's prices") && !report.out.contains("saved $-"), "\(report.out)")
        let line = try #require(report.out.split(separator: "\n").first { $0.hasPrefix("Wrote ") })
        let written = try #require(line.dropFirst("Wrote ".count).components(separatedBy: " (").first)
        let note = try env.text(written)
        #expect(note.contains("more than the premium lane would have") && !note.contains("saved **$-"), "\(note)")
    }

    /// Runs a task on the free agent in fixture `mode` (it prints its result and $4, then lingers)
    /// and stops the engine as the agent lingers; the task's path and run id.
    static func stoppedAsItLingers(_ env: EngineTestVault, mode: String) throws -> (path: String, runID: String) {
        try writeFreeAgent(env)
        let engine = try env.engine()
        let path = try env.writeTask("Linger", properties: "type: task\nagent: tooly", body: "Check the menu layout. FIXTURE_MODE=\(mode) FIXTURE_COST=4")
        #expect(engine.consider(path: path) != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 && (try? env.note(path).text("status")) == "running" })
        let runID = try #require(try env.note(path).text("run_id"))
        Thread.sleep(forTimeInterval: 0.5)
        engine.shutdown(grace: 1)
        return (path, runID)
    }

    /// Round 153 F2: the watcher stopped while a free agent that had printed its result ($4)
    /// lingered; the stop path closed only reservations, the run store kept no cost, and the next
    /// start re-queued the task with the $4 nowhere. It is recorded at the stop (and kept on the
    /// run for the next start's sweep).
    @Test func aFreeAgentsReportedCostIsRecordedWhenTheWatcherStopsAsItLingers() throws {
        let env = try EngineTestVault()
        let (_, runID) = try Self.stoppedAsItLingers(env, mode: "linger-failed")
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(try ledger.settledUSD(runID: runID) == 4, "\(env.loggedEvents.map(\.message))")
        #expect(try RunStore(vault: env.vault).run(id: runID)?.costUSD == 4)
        // The next start adds nothing.
        let next = try env.engine()
        next.recover()
        next.waitUntilIdle()
        #expect(try ledger.spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD == 4)
        next.shutdown(grace: 1)
    }

    /// Round 154 F2: an agent that printed its whole, successful answer and lingers as the watcher
    /// stops was charged, its answer dropped, and the task ran (and paid) again. The run ends from
    /// that answer: done, its result note written, counted once, and nothing runs again.
    @Test func anAnswerPrintedBeforeTheWatcherStopsIsKept() throws {
        let env = try EngineTestVault()
        let (path, runID) = try Self.stoppedAsItLingers(env, mode: "linger")
        let task = try env.note(path)
        let taskText = try env.text(path)
        #expect(task.text("status") == "done", "\(taskText)\n\(env.loggedEvents.map(\.message))")
        let result = try #require(task.text("result").map { String($0.dropFirst(2).dropLast(2)) + ".md" })
        #expect((try? env.text(result))?.contains("claude fixture answer: ") == true)
        #expect(try BudgetLedger(vault: env.vault).settledUSD(runID: runID) == 4)
        let next = try env.engine()
        next.recover()
        next.waitUntilIdle()
        #expect(env.fixturePrompts().count == 1)
        #expect(try BudgetLedger(vault: env.vault).spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD == 4)
        next.shutdown(grace: 1)
    }

    /// Runs task `busy` (its agent lingers in its one slot) and routes `waiting` behind it, then
    /// `edit`s `Rules/`, has routing read it again (as the watcher does) and cancels `busy`: the
    /// waiting task goes on. Returns the engine and the waiting task's path.
    static func editRulesWhileWaiting(_ env: EngineTestVault, busy: (name: String, properties: String, body: String),
                                      waiting: (name: String, properties: String, body: String), edit: () throws -> Void) throws -> (engine: TaskEngine, waiting: String) {
        let engine = try env.engine()
        let slow = try env.writeTask(busy.name, properties: busy.properties, body: busy.body + " FIXTURE_MODE=linger FIXTURE_COST=0")
        #expect(engine.consider(path: slow) != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        let path = try env.writeTask(waiting.name, properties: waiting.properties, body: waiting.body)
        #expect(engine.consider(path: path) != .ignored)
        #expect(eventually(within: 10) { (try? env.note(path).text("status")) == "routed" })
        try edit()
        try #require(engine.routing as? VaultRouting).reload()
        try env.store.updateProperties(slow, set: [Property("status", .string("cancelled"))])
        _ = engine.consider(path: slow)
        return (engine, path)
    }

    /// Round 154 F4: the agent note of a waiting task renamed (`name:` edited) or deleted: the task
    /// failed with "define it in Rules/Agents/tooly.md", a note that was there. It is routed again
    /// at its start, and told what the notes say now; no agent runs for it.
    @Test(arguments: ["renamed", "deleted"]) func aTaskWhoseAgentWentAwayWhileItWaitedIsToldWhy(_ edit: String) throws {
        let env = try EngineTestVault()
        let free = try Self.writeFreeAgent(env, extra: "concurrency: 1\n")
        let (engine, waiting) = try Self.editRulesWhileWaiting(env, busy: ("W1", "type: task\nagent: tooly", "Check the menu header."),
                                                               waiting: ("W2", "type: task\nagent: tooly", "Check the menu footer. FIXTURE_COST=0")) {
            if edit == "renamed" {
                try env.store.write(free.replacingOccurrences(of: "name: tooly\n", with: "name: tooly-paid\n"), to: "Rules/Agents/tooly.md", expecting: .any)
            } else {
                try FileManager.default.removeItem(atPath: env.vault.root + "/Rules/Agents/tooly.md")
            }
        }
        #expect(eventually(within: 30) { (try? env.note(waiting).text("status")) == "failed" }, "\(env.loggedEvents.map(\.message))")
        engine.waitUntilIdle()
        let error = try env.note(waiting).text("error") ?? ""
        #expect(!error.contains("define it in"), "\(error)")
        #expect(error.contains("which no agent note in Rules/ defines"), "\(error)")
        if edit == "renamed" { #expect(error.contains("Rules/Agents/tooly.md now defines 'tooly-paid'"), "\(error)") }
        #expect(env.loggedEvents.contains { $0.message.contains("Tasks/W2.md: the notes in Rules/ changed while it waited; routing again") }, "\(env.loggedEvents.map(\.message))")
        #expect(!env.fixturePrompts().contains { $0.contains("Check the menu footer") })
    }

    /// Round 155 F1: a private task waiting for a local agent ran on it after its note was set to
    /// `lane: tool` (a cloud command), and its records said "local lane". It is routed again
    /// before it starts, and privacy blocks the agent as it is now; nothing is sent.
    @Test func aPrivateTaskWaitingForALocalAgentThatLeftTheLocalLaneIsNotSent() throws {
        let env = try EngineTestVault()
        let command = "command: [\"\(RepositoryPaths.fixtureAgents)/claude\", -p, --output-format, json, --, \"{prompt}\"]"
        let local = "---\ntype: agent\nname: loco\nlane: local\nconcurrency: 1\n\(command)\nenv: [FBT_FIXTURE_LOG]\noutput: claude-json\ntimeout: 60\n---\nA local model.\n"
        try env.store.write(local, to: "Rules/Agents/loco.md", expecting: .absent)
        let (engine, secret) = try Self.editRulesWhileWaiting(env, busy: ("L1", "type: task\nagent: loco", "First local job."),
                                                              waiting: ("L2", "type: task\nagent: loco\nprivacy: private", "My bank PIN is 4711. Draft a note.")) {
            try env.store.write(local.replacingOccurrences(of: "lane: local\n", with: "lane: tool\n"), to: "Rules/Agents/loco.md", expecting: .any)
        }
        #expect(eventually(within: 30) { (try? env.note(secret).text("status")) == "blocked" }, "\(env.loggedEvents.map(\.message))")
        engine.waitUntilIdle()
        #expect(!env.fixturePrompts().contains { $0.contains("My bank PIN") })
        #expect(env.loggedEvents.contains { $0.message.contains("Tasks/L2.md: the notes in Rules/ changed while it waited; routing again") }, "\(env.loggedEvents.map(\.message))")
        #expect(try env.note(secret).text("error")?.contains("private work never leaves this machine") == true)
    }

    /// Round 156 F1: a foreground `run` has no watcher to read `Rules/` again. Its task waited in
    /// the budget queue while the day cap was lowered below what it would reserve, then reserved
    /// under the old cap and spent past the new one. Reserving reads `Rules/` again when it changed
    /// on disk: the task is planned again and waits in review.
    /// Also when the guardrails note is named `Guardrails.MD`, which the rules read and a stamp of
    /// `*.md` notes missed (round 157).
    @Test(arguments: ["Guardrails.md", "Guardrails.MD"]) func aCapLoweredWhileATaskWaitsForBudgetRoomHoldsWithoutAWatcher(_ name: String) throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("max_cost_usd", .double(1.5))])
        try env.store.updateProperties("Rules/Guardrails.md", set: [Property("budget_day_usd", .double(2.5)), Property("budget_task_usd", .double(5))])
        let guardrails = env.vault.root + "/Rules/" + name
        if name != "Guardrails.md" { try FileManager.default.moveItem(atPath: env.vault.root + "/Rules/Guardrails.md", toPath: guardrails) }
        let engine = try env.engine()
        #expect(RuleBook.load(vault: env.vault).guardrails.caps.dayUSD == 2.5, "the rules read \(name)")
        let first = try env.writeTask("A", properties: "type: task\nagent: claude", body: "Review the parser. FIXTURE_MODE=linger FIXTURE_COST=0.5")
        #expect(engine.consider(path: first) != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        let second = try env.writeTask("B", properties: "type: task\nagent: claude", body: "Review the lexer. FIXTURE_COST=0.5")
        #expect(engine.consider(path: second) != .ignored)
        #expect(eventually(within: 10) { env.loggedEvents.contains { $0.message.contains("Tasks/B.md: waiting in the queue for runs in flight to settle") } }, "\(env.loggedEvents.map(\.message))")
        // Lowered on disk, in place; nothing tells the routing (no watcher).
        let text = try String(contentsOfFile: guardrails, encoding: .utf8)
        try #require(text.contains("budget_day_usd: 2.5\n"))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: guardrails))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.replacingOccurrences(of: "budget_day_usd: 2.5\n", with: "budget_day_usd: 1\n").utf8))
        try handle.close()
        try env.store.updateProperties(first, set: [Property("status", .string("cancelled"))])
        _ = engine.consider(path: first)
        #expect(eventually(within: 30) { (try? env.note(second).text("status")) == "review" }, "\(env.loggedEvents.map(\.message))")
        engine.waitUntilIdle()
        #expect(!env.fixturePrompts().contains { $0.contains("Review the lexer") })
        #expect(try BudgetLedger(vault: env.vault).spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD <= 1)
    }

    /// With claude's reservation $1.50 and a $2.50 day cap, task `A` runs (its agent lingers, $0.50)
    /// and task `B` (`task`, which links `Memory/<linked.name>.md`, holding `linked.text`) waits for
    /// budget room. Returns the engine and both tasks' paths.
    static func waitingForBudgetRoom(_ env: EngineTestVault, linked: (name: String, text: String), task: String) throws -> (engine: TaskEngine, first: String, second: String) {
        try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("max_cost_usd", .double(1.5))])
        try env.store.updateProperties("Rules/Guardrails.md", set: [Property("budget_day_usd", .double(2.5)), Property("budget_task_usd", .double(5))])
        try env.store.write("---\ntitle: \(linked.name)\n---\n\(linked.text)\n", to: "Memory/\(linked.name).md", expecting: .absent)
        let engine = try env.engine()
        let first = try env.writeTask("A", properties: "type: task\nagent: claude", body: "Review the parser. FIXTURE_MODE=linger FIXTURE_COST=0.5")
        #expect(engine.consider(path: first) != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        let second = try env.writeTask("B", properties: "type: task\nagent: claude", body: task + " FIXTURE_COST=0.5")
        #expect(engine.consider(path: second) != .ignored)
        #expect(eventually(within: 10) { env.loggedEvents.contains { $0.message.contains("Tasks/B.md: waiting in the queue for runs in flight to settle") } }, "\(env.loggedEvents.map(\.message))")
        return (engine, first, second)
    }

    /// Round 158 F1: a task waiting for budget room was not judged again when it, or a note it
    /// links, was made private meanwhile: it ran on the cloud agent, the private note's text in its
    /// packet. A task that waited for room is judged again as it starts; its reservation goes back.
    /// Round 159 F1: also made private by a tag in a comment (`%% #private %%`, hidden in Obsidian's
    /// reading view), which the check took for no change (it compared the prompt, comments left out).
    /// Round 160 F1: also by a YAML merge key (`<<: {privacy: private}`) or a padded key
    /// (`"privacy ": private`), which privacy reads and the check, comparing named keys, did not.
    @Test(arguments: ["link", "self", "hidden tag", "merge key", "padded key"]) func aTaskMadePrivateWhileItWaitsForBudgetRoomIsNotSent(_ edit: String) throws {
        let env = try EngineTestVault()
        let (engine, first, second) = try Self.waitingForBudgetRoom(env, linked: ("Diagnosis", "My diagnosis is CONFIDENTIAL-MEDICAL-42."), task: "Summarise [[Diagnosis]] for the doctor.")
        if edit == "link" {
            try env.store.updateProperties("Memory/Diagnosis.md", set: [Property("privacy", .string("private"))])
        } else if edit == "hidden tag" {
            try env.store.write(try env.text(second) + "%% #private %%\n", to: second, expecting: .any)
        } else if edit != "self" {
            let line = edit == "merge key" ? "<<: {privacy: private}" : "\"privacy \": private"
            try env.store.write(try env.text(second).replacingOccurrences(of: "agent: claude\n", with: "agent: claude\n\(line)\n"), to: second, expecting: .any)
        } else {
            try env.store.updateProperties(second, set: [Property("privacy", .string("private"))])
        }
        try env.store.updateProperties(first, set: [Property("status", .string("cancelled"))])
        _ = engine.consider(path: first)
        #expect(eventually(within: 30) { (try? env.note(second).text("status")) == "blocked" }, "\(env.loggedEvents.map(\.message))")
        engine.waitUntilIdle()
        #expect(!env.fixturePrompts().contains { $0.contains("CONFIDENTIAL-MEDICAL-42") || $0.contains("Summarise") })
        #expect(try BudgetLedger(vault: env.vault).openReservations().isEmpty)
    }

    /// Round 159 F3: a public task whose text, or a note it links, was edited while it waited for
    /// budget room was routed again under its run id, which the ledger had just closed ("already
    /// settled or released; use a new run ID"): it went to review, told to raise a cap that had
    /// room. Routed again, it runs from the edited text and pays once.
    @Test(arguments: ["text", "link"]) func aTaskEditedWhileItWaitsForBudgetRoomRunsFromTheEditedText(_ edit: String) throws {
        let env = try EngineTestVault()
        let (engine, first, second) = try Self.waitingForBudgetRoom(env, linked: ("Menu", "The menu has three items."), task: "Summarise [[Menu]] for the manual.")
        if edit == "text" {
            try env.store.write(try env.text(second).replacingOccurrences(of: "for the manual", with: "for the REWORDED manual"), to: second, expecting: .any)
        } else {
            try env.store.write("---\ntitle: Menu\n---\nThe menu has FOUR items.\n", to: "Memory/Menu.md", expecting: .any)
        }
        try env.store.updateProperties(first, set: [Property("status", .string("cancelled"))])
        _ = engine.consider(path: first)
        #expect(eventually(within: 30) { (try? env.note(second).text("status")) == "done" }, "\((try? env.text(second)) ?? "")\n\(env.loggedEvents.map(\.message))")
        engine.waitUntilIdle()
        let sent = env.fixturePrompts().filter { $0.contains("Summarise") }
        #expect(sent.count == 1 && sent[0].contains(edit == "text" ? "REWORDED" : "FOUR items"), "\(sent)")
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(try ledger.openReservations().isEmpty)
        #expect(try ledger.spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD <= 1.5 + 0.5)
    }

    /// Task `Tasks/Cut.md` (`agent`, `body`) with a run on the premium lane left `running`, its
    /// agent started a few seconds ago.
    static func cutOffRun(_ env: EngineTestVault, agent: String, body: String) throws -> (RunStore, RunRecord) {
        let runs = try RunStore(vault: env.vault)
        var record = try #require(try runs.claim(taskPath: "Tasks/Cut.md", taskHash: nil, attempt: 1))
        record.state = .running
        record.agent = agent
        record.lane = "premium"
        record.startedAt = Date().timeIntervalSince1970 - 5
        try runs.update(record)
        try env.store.write("---\ntype: task\nagent: \(agent)\nstatus: running\nrun_id: \(record.runID)\n---\n\(body)\n", to: "Tasks/Cut.md", expecting: .absent)
        return (runs, record)
    }

    /// Round 158 F3: an agent cut off before it printed its end (OpenCode mid-run) had reported $3;
    /// recovery charged its $1 reservation and said the $3 was counted. What it reported is a floor.
    @Test func aCutOffRunIsChargedAtLeastWhatItsAgentReported() throws {
        let env = try EngineTestVault()
        let (_, record) = try Self.cutOffRun(env, agent: "opencode", body: "Refactor the parser.")
        let ledger = try BudgetLedger(vault: env.vault)
        _ = try ledger.tryReserve(runID: record.runID, lane: .premium, amount: 1, caps: RuleBook.load(vault: env.vault).guardrails.caps, task: "Tasks/Cut.md")
        let folder = env.vault.root + "/.agentos/output"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let step = #"{"type":"step_finish","sessionID":"ses_1","part":{"type":"step-finish","reason":"tool-calls","cost":3}}"#
        try Data((step + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/\(record.runID).opencode-jsonl"))
        let engine = try env.engine()
        engine.recover()
        engine.waitUntilIdle()
        #expect(try ledger.settledUSD(runID: record.runID) == 3, "\(env.loggedEvents.map(\.message))")
        #expect(env.loggedEvents.contains { $0.message.contains("had reported spending $3.00 before it was cut off; the ledger counts $3.00") }, "\(env.loggedEvents.map(\.message))")
    }

    /// `Tasks/Cut.md` ("Summarise [[Plans]].") whose claude run was cut off after its agent printed
    /// its whole answer ("The plan has three parts.", `cost` reported) to its output copy; the run
    /// started with a plan carrying the task and `Plans.md` (changed by `plan`) and `reserve` USD
    /// reserved (none: `nil`).
    static func cutOffAfterAnswering(_ env: EngineTestVault, reserve: Double?, cost: Double, plan change: (inout RoutePlan) -> Void = { _ in }) throws -> (RunStore, RunRecord, BudgetLedger) {
        var (runs, record) = try cutOffRun(env, agent: "claude", body: "Summarise [[Plans]].")
        record.rule = "default"
        record.reason = "the premium lane"
        let task = TaskNote(path: "Tasks/Cut.md", snapshot: try #require(try env.store.readIfPresent("Tasks/Cut.md")), note: try env.note("Tasks/Cut.md"), kind: .task)
        var plan = RoutePlan(lane: "premium", agent: "claude", model: nil, rule: "default", reason: "the premium lane", action: .run, prompt: "", sources: ["Tasks/Cut.md", "Plans.md"])
        change(&plan)
        try runs.update(record, startedWith: TaskEngine.startFacts(of: task, plan: plan))
        let ledger = try BudgetLedger(vault: env.vault)
        if let reserve {
            #expect(try ledger.reserve(runID: record.runID, lane: .premium, amount: reserve, caps: BudgetCaps(dayUSD: 100), task: "Tasks/Cut.md") != nil)
        }
        let folder = env.vault.root + "/.agentos/output"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let printed = #"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"result":"The plan has three parts.","session_id":"s1","total_cost_usd":COST,"usage":{"input_tokens":40,"output_tokens":7},"modelUsage":{"agent-chosen-model":{"costUSD":COST}}}"#
            .replacingOccurrences(of: "COST", with: "\(cost)")
        try Data((printed + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/\(record.runID).claude-json"))
        return (runs, record, ledger)
    }

    /// Round 160 F2/F3: the answer a cut-off run's agent printed was written over what happened
    /// to its task since the run started. F2: the agent had written `verdict: good` into its own
    /// task; it was put back, then `complete`, given the note as read before, wrote it again. F3: a
    /// person set `status: cancelled`, or rewrote the task and set `status: new`, after the crash:
    /// both ended `done`, with no word of what changed. A `new` set since is not kept, rewritten or
    /// not: round 162 F1, an agent that took its task's privacy line out, named a cloud agent and
    /// set `new` had it run again there, paid, with the private text (the task ends `done`, saying
    /// what changed). Round 161 F2: a task renamed, or moved out of `Tasks/`, while nothing watched
    /// lost its answer; it is written private (round 162 F2: looked up by `run_id`, it went to a
    /// copy, or to a note the agent wrote, public).
    /// Round 163: an agent that set `review` (one approval then sent its task, made public, to a
    /// cloud agent) or `handed_off` (stuck) had that status kept as a person's; and with the task
    /// renamed and a new note made at its name, the answer went to the new note.
    @Test(arguments: ["verdict by its agent", "cancelled", "rewritten and new", "rewritten and new, ran as free", "new on the same text", "review by its agent",
                      "handed_off by its agent", "renamed", "renamed, a new note at its name", "moved into Private"])
    func aRecoveredAnswerKeepsWhatHappenedToItsTaskSinceItStarted(_ since: String) throws {
        let env = try EngineTestVault()
        let (_, record, _) = try Self.cutOffAfterAnswering(env, reserve: since.hasSuffix("ran as free") ? nil : 5, cost: 2)
        var text = try env.text("Tasks/Cut.md")
        var path = "Tasks/Cut.md"
        switch since {
        case "verdict by its agent": text = text.replacingOccurrences(of: "status: running\n", with: "status: running\nverdict: good\n")
        case "cancelled": text = text.replacingOccurrences(of: "status: running", with: "status: cancelled")
        case "new on the same text": text = text.replacingOccurrences(of: "status: running", with: "status: new")
        case "review by its agent": text = text.replacingOccurrences(of: "status: running", with: "status: review")
        case "handed_off by its agent": text = text.replacingOccurrences(of: "status: running", with: "status: handed_off")
        case "renamed", "renamed, a new note at its name", "moved into Private":
            path = since == "moved into Private" ? "Private/Cut.md" : "Tasks/Cut renamed.md"
            try FileManager.default.createDirectory(atPath: env.vault.root + "/Private", withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: env.vault.root + "/Tasks/Cut.md", toPath: env.vault.root + "/" + path)
            if since == "renamed, a new note at its name" {
                try env.store.write("---\ntype: task\nagent: claude\nstatus: draft\n---\nSomething else entirely.\n", to: "Tasks/Cut.md", expecting: .absent)
            }
        default:
            text = text.replacingOccurrences(of: "status: running", with: "status: new").replacingOccurrences(of: "Summarise [[Plans]].", with: "Translate [[Plans]] into French.")
            // Room for the new run beside the recovered one's $2.
            try env.store.updateProperties("Rules/Guardrails.md", set: [Property("budget_task_usd", .double(10))])
        }
        if path == "Tasks/Cut.md" { try env.store.write(text, to: path, expecting: .any) }
        let engine = try env.engine()
        engine.recover()
        engine.waitUntilIdle()
        let log = env.loggedEvents.map(\.message)
        if since == "moved into Private" || since.hasPrefix("renamed") {
            // Not a task any more: its answer is written all the same, private, and the note is left as it is.
            let results = ((try? FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Results")) ?? []).filter { $0.contains(record.runID) }
            let result = try env.text("Results/" + (try #require(results.first, "\(log)")))
            #expect(result.contains("The plan has three parts.") && result.contains("privacy: private") && !result.contains("agent-chosen-model"), "\(result)")
            #expect(try env.note(path).text("status") == "running")
            #expect(try RunStore(vault: env.vault).run(id: record.runID)?.state == .done)
            if since == "renamed, a new note at its name" {
                // The new note at its name is not the run's task: nothing of the run is written into it.
                let other = try env.note("Tasks/Cut.md")
                let otherText = try env.text("Tasks/Cut.md")
                #expect(other.text("status") == "draft" && other["result"] == nil && other["changed_during_run"] == nil, "\(otherText)")
            }
            if since.hasPrefix("renamed") {
                // Looked at, the renamed note is told its run ended and where its answer is (it was
                // told it "has not run", and a person paid again: round 162).
                _ = engine.consider(path: path)
                engine.waitUntilIdle()
                let error = try env.note(path).text("error") ?? ""
                #expect(error.contains("which is gone: if this is that note renamed, its run ended done and its answer is in Results/" + results[0]), "\(error)")
                #expect(env.fixturePrompts().isEmpty)
            }
            engine.shutdown(grace: 1)
            return
        }
        let note = try env.note(path)
        let noteText = try env.text(path)
        // The answer is written and linked whatever happened.
        let resultPath = try #require(note.text("result").map { String($0.dropFirst(2).dropLast(2)) + ".md" }, "\(noteText)\n\(log)")
        #expect(try env.text(resultPath).contains("The plan has three parts."))
        switch since {
        case "verdict by its agent":
            #expect(note.text("status") == "done" && note["verdict"] == nil && note.texts("changed_during_run") == ["verdict"], "\(noteText)\n\(log)")
        case "cancelled":
            #expect(note.text("status") == "cancelled", "\(noteText)\n\(log)")
        default:
            // Ends `done`, saying what changed; nothing runs again unasked.
            #expect(note.text("status") == "done" && note.texts("changed_during_run") == (since.hasPrefix("rewritten") ? ["text"] : []), "\(noteText)\n\(log)")
            _ = engine.consider(path: path)
            engine.waitUntilIdle()
            #expect(env.fixturePrompts().isEmpty, "ran again:\n\(log)")
        }
        engine.shutdown(grace: 1)
    }

    /// Round 160 F4: a cut-off run ended from its printed answer that cost more than it reserved,
    /// or reserved nothing (routed as free), said nothing of it on its task, where a run that ends
    /// so writes `budget_overrun`.
    @Test(arguments: [0.5, nil]) func aRecoveredAnswerThatCostMoreThanItReservedSaysSoOnItsTask(_ reserved: Double?) throws {
        let env = try EngineTestVault()
        let (_, record, ledger) = try Self.cutOffAfterAnswering(env, reserve: reserved, cost: 3)
        let engine = try env.engine()
        engine.recover()
        engine.waitUntilIdle()
        let note = try env.note("Tasks/Cut.md")
        let noteText = try env.text("Tasks/Cut.md")
        #expect(note.text("status") == "done" && note["budget_overrun_usd"]?.number == (reserved == nil ? 3 : 2.5), "\(noteText)")
        #expect(note.text("budget_overrun")?.contains(reserved == nil ? "ran as free" : "against a reservation of $0.50") == true, "\(noteText)")
        #expect(try ledger.settledUSD(runID: record.runID) == 3)
        #expect(try ledger.spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD == 3)
        engine.shutdown(grace: 1)
    }

    /// Round 158 F4: a run cut off (the watcher `kill -9`ed) after its agent had printed its whole
    /// answer ended `failed`, "the answer was lost", the answer it paid for thrown away. It ends from
    /// that answer as it would have: result note, `done`, its cost settled once. A private run's
    /// result is private (it was recorded so before its agent started, whatever the task says now),
    /// and names no model the agent reported; the notes its packet carried are its sources.
    @Test(arguments: ["public", "tainted", "planned private"]) func aRunCutOffAfterItsAgentAnsweredEndsFromThatAnswer(_ how: String) throws {
        let isPrivate = how != "public"
        let env = try EngineTestVault()
        let (runs, record, ledger) = try Self.cutOffAfterAnswering(env, reserve: 5, cost: 2) { plan in
            plan.contextTruncation = ContextTruncation(tokensSent: 900, tokensLeftOut: 120, ownTextCut: false)
            if how == "planned private" { plan.privacy = "tagged #private" }
        }
        if how == "tainted" { try RunTaint.record(record.runID, vault: env.vault) }
        let folder = env.vault.root + "/.agentos/output"
        let engine = try env.engine()
        engine.recover()
        engine.waitUntilIdle()
        let log = env.loggedEvents.map(\.message)
        let note = try env.note("Tasks/Cut.md")
        let noteText = try env.text("Tasks/Cut.md")
        #expect(note.text("status") == "done" && note.text("error") == nil && note["cost_usd"]?.number == 2, "\(noteText)\n\(log)")
        let resultPath = try #require(note.text("result").map { String($0.dropFirst(2).dropLast(2)) + ".md" })
        let result = try env.note(resultPath)
        let resultText = try env.text(resultPath)
        #expect(resultText.contains("The plan has three parts."), "\(resultText)")
        #expect(result.text("run_id") == record.runID && result.text("status") == "done" && result["cost_usd"]?.number == 2 && result.text("cost_source") == "reported")
        #expect(result.texts("sources") == ["[[Tasks/Cut]]", "[[Plans]]"] && result["context_truncated"]?.bool == true, "\(resultText)")
        #expect((result.text("privacy") == "private") == isPrivate, "\(resultText)")
        #expect(isPrivate ? !resultText.contains("agent-chosen-model") : result.text("model") == "agent-chosen-model", "\(resultText)")
        #expect(try ledger.settledUSD(runID: record.runID) == 2, "\(log)")
        #expect(try runs.run(id: record.runID)?.state == .done)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).isEmpty)
        // A second start finds nothing to do: the answer is not written twice, nothing more is counted.
        let next = try env.engine()
        next.recover()
        next.waitUntilIdle()
        let results = ((try? FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Results")) ?? []).filter { $0.contains(record.runID) }
        #expect(results.count == 1, "\(results)")
        #expect(try ledger.spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD == 2)
        next.shutdown(grace: 1)
        engine.shutdown(grace: 1)
    }

    /// Round 153 F1's loop: a task a rule sent to a free agent whose note then moved to
    /// `lane: premium` is routed again once, and the plan made from the notes as they are stands
    /// (here the rule no longer applies, and the default lane cannot run here: review); it does not
    /// go round between routing and its queue.
    @Test func aTaskRoutedAgainByItsRuleIsRoutedAgainOnceAndDoesNotLoop() throws {
        let env = try EngineTestVault()
        let free = try Self.writeFreeAgent(env, extra: "concurrency: 1\n")
        try env.store.write("---\ntype: rule\npriority: 1\nwhen_keywords: [zebra]\nlane: tool\nagent: tooly\n---\nZebra work stays on the tool lane.\n", to: "Rules/Routing/Zebra.md", expecting: .absent)
        let (engine, waiting) = try Self.editRulesWhileWaiting(env, busy: ("Z1", "type: task", "Check the zebra header."),
                                                               waiting: ("Z2", "type: task", "Check the zebra footer. FIXTURE_COST=0.02")) {
            try env.store.write(free.replacingOccurrences(of: "lane: tool\n", with: "lane: premium\n"), to: "Rules/Agents/tooly.md", expecting: .any)
        }
        #expect(eventually(within: 30) { (try? env.note(waiting).text("status")) == "review" }, "\(env.loggedEvents.map(\.message))")
        engine.waitUntilIdle()
        #expect(!env.fixturePrompts().contains { $0.contains("Check the zebra footer") })
        #expect(env.loggedEvents.filter { $0.message.contains("Tasks/Z2.md: the notes in Rules/ changed while it waited; routing again") }.count == 1, "\(env.loggedEvents.map(\.message))")
        #expect(try BudgetLedger(vault: env.vault).settled(task: waiting) == 0)
    }
}

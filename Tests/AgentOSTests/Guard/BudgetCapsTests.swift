import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Caps are caps: what the ledger records when a run costs more than it reserved, how crashed and
/// never-started runs close, and how caps are read from notes.
@Suite struct BudgetCapsTests {
    let utc = TimeZone(identifier: "UTC")!
    let noon = Date(timeIntervalSince1970: 1_795_000_000) // 2026-11-18, mid-day UTC

    func ledger() throws -> (TemporaryFolder, BudgetLedger) {
        let folder = TemporaryFolder("fbt-ledger")
        return (folder, try BudgetLedger(path: folder.database, timeZone: utc))
    }

    @Test func anOverrunIsRecordedAndStopsEveryFurtherPaidRunOnThatCap() throws {
        let (folder, ledger) = try ledger()
        _ = folder
        let caps = BudgetCaps(dayUSD: 0.10)
        #expect(try ledger.reserve(runID: "r1", lane: .premium, amount: 0.03, caps: caps, at: noon) != nil)
        let settled = try #require(try ledger.close(runID: "r1", actualUSD: 0.50, agentStarted: true, at: noon))
        #expect(settled.kind == .settled)
        #expect(settled.actualUSD == 0.50)
        #expect(abs(settled.overrunUSD - 0.47) < 1e-9)
        let spend = try ledger.spend(caps: caps, at: noon, details: true)
        // The ledger records the truth, not the reservation.
        #expect(spend.daySpentUSD == 0.50)
        let over = try #require(spend.overCaps.first { $0.cap == "daily cap" })
        #expect(abs(over.overUSD - 0.40) < 1e-9)
        #expect(over.key == "budget_day_usd")
        #expect(spend.lines.contains { $0.contains("over cap by $0.40") && $0.contains("raise budget_day_usd in Rules/Guardrails.md") })
        #expect(spend.overruns.map(\.runID) == ["r1"])
        // Every later paid run is refused, however small, and not as "wait": nothing in flight holds the room.
        for (i, amount) in [0.03, 0.000001, 0.0].enumerated() {
            guard case .refused(let refusal) = try ledger.tryReserve(runID: "next\(i)", lane: .premium, amount: amount, caps: caps, at: noon) else {
                Issue.record("a paid run of \(amount) started on an overrun cap"); continue
            }
            #expect(!refusal.heldByOpenReservations)
            #expect(refusal.description.contains("used up"))
        }
        // Raising the cap lets paid runs start again.
        #expect(try ledger.reserve(runID: "after", lane: .premium, amount: 0.03, caps: BudgetCaps(dayUSD: 1), at: noon) != nil)
    }

    /// The same for every kind of cap: task, day, month, lane day, lane month.
    @Test(arguments: ["task", "day", "month", "laneDay", "laneMonth"])
    func everyCapKindStopsAtAnOverrun(kind: String) throws {
        let (folder, ledger) = try ledger()
        _ = folder
        var caps = BudgetCaps()
        switch kind {
        case "task": caps.taskUSD = 0.10
        case "day": caps.dayUSD = 0.10
        case "month": caps.monthUSD = 0.10
        case "laneDay": caps.laneDayUSD = [.premium: 0.10]
        default: caps.laneMonthUSD = [.premium: 0.10]
        }
        #expect(try ledger.reserve(runID: "r1", lane: .premium, amount: 0.03, caps: caps, task: "Tasks/a.md", at: noon) != nil)
        _ = try ledger.close(runID: "r1", actualUSD: 0.20, agentStarted: true, at: noon)
        guard case .refused = try ledger.tryReserve(runID: "r2", lane: .premium, amount: 0.01, caps: caps, task: "Tasks/a.md", at: noon) else {
            Issue.record("the \(kind) cap let a paid run start after an overrun"); return
        }
        #expect(try ledger.spend(caps: caps, at: noon, details: true).overCaps.contains { $0.spentUSD == 0.20 && abs($0.overUSD - 0.10) < 1e-9 })
        #expect(try ledger.openReservations().isEmpty)
    }

    @Test func roomHeldOnlyByRunsInFlightIsAWaitNotARefusal() throws {
        let (folder, ledger) = try ledger()
        _ = folder
        let caps = BudgetCaps(dayUSD: 0.05)
        #expect(try ledger.reserve(runID: "a", lane: .premium, amount: 0.03, caps: caps, at: noon) != nil)
        guard case .refused(let held) = try ledger.tryReserve(runID: "b", lane: .premium, amount: 0.03, caps: caps, at: noon) else {
            Issue.record("two $0.03 runs fit a $0.05 cap"); return
        }
        #expect(held.heldByOpenReservations)
        // Once the first run settles at its real cost, the second fits.
        _ = try ledger.close(runID: "a", actualUSD: 0.01, agentStarted: true, at: noon)
        #expect(try ledger.reserve(runID: "b", lane: .premium, amount: 0.03, caps: caps, at: noon) != nil)
        // Once settled spend itself ($0.04) leaves no room for $0.03, the refusal is outright: no waiting.
        _ = try ledger.close(runID: "b", actualUSD: 0.03, agentStarted: true, at: noon)
        guard case .refused(let full) = try ledger.tryReserve(runID: "c", lane: .premium, amount: 0.03, caps: caps, at: noon) else {
            Issue.record("a run crossed the cap"); return
        }
        #expect(!full.heldByOpenReservations)
    }

    @Test func crashedRunsAreChargedNeverStartedOnesReleasedKnownCostsWin() throws {
        let (folder, ledger) = try ledger()
        _ = folder
        let caps = BudgetCaps(dayUSD: 10)
        for id in ["started", "never", "known", "late"] {
            #expect(try ledger.reserve(runID: id, lane: .premium, amount: 0.03, caps: caps, task: "Tasks/\(id).md", at: noon) != nil)
        }
        #expect(try ledger.close(runID: "started", actualUSD: nil, agentStarted: true, at: noon)?.kind == .charged)
        #expect(try ledger.close(runID: "never", actualUSD: nil, agentStarted: false, at: noon)?.kind == .released)
        #expect(try ledger.close(runID: "known", actualUSD: 0.02, agentStarted: true, at: noon)?.kind == .settled)
        // Charged first (cut off), then its result turned up: the real cost replaces the charge.
        _ = try ledger.close(runID: "late", actualUSD: nil, agentStarted: true, at: noon)
        #expect(try ledger.close(runID: "late", actualUSD: 0.01, agentStarted: true, at: noon)?.kind == .settled)
        // An unknown cost never reopens or lowers a closed row.
        #expect(try ledger.close(runID: "started", actualUSD: nil, agentStarted: false, at: noon) == nil)
        #expect(try ledger.committed(task: "Tasks/started.md") == 0.03)
        #expect(try ledger.committed(task: "Tasks/never.md") == 0)
        #expect(try ledger.committed(task: "Tasks/known.md") == 0.02)
        #expect(try ledger.committed(task: "Tasks/late.md") == 0.01)
        #expect(try ledger.close(runID: "nobody", actualUSD: 1, agentStarted: true, at: noon) == nil)
    }

    @Test func moneyIsReadStrictly() {
        let good: [(PropertyValue, Double)] = [
            (.double(0.10), 0.10), (.int(1), 1), (.int(0), 0), (.string("0.10"), 0.10), (.string("$0.10"), 0.10),
            (.string(" 2 "), 2), (.string(".5"), 0.5), (.string("$3"), 3),
        ]
        for (value, expected) in good { #expect(Money.dollars(value) == expected, "\(value)") }
        let bad: [PropertyValue] = [
            .string("0,10"), .string("ten"), .string("-1"), .double(-0.5), .int(-2), .string("1e3"), .string("0x10"),
            .string("nan"), .string("inf"), .double(.infinity), .double(.nan), .string(""), .string("$"), .string("1."),
            .string("1.2.3"), .string("$-1"), .string("１"), .string("0.10 USD"), .null, .bool(true),
            .list([.double(0.1)]), .map([Property("a", .int(1))]),
        ]
        for value in bad { #expect(Money.dollars(value) == nil, "\(value) was taken for money") }
        #expect(Money.problem(key: "budget_day_usd", value: .string("0,10")) == "budget_day_usd must be a number of dollars such as 0.10 (a dot, no comma; 0 or more), got '0,10'")
    }

    /// Each spelling that does not parse is an error naming the key and the note, and blocks paid
    /// runs; it never falls back to the built-in cap.
    @Test(arguments: ["0,10", "ten", "-1", "[1, 2]", "\"1,5\"", "", "{a: 1}", ".inf"])
    func aCapThatDoesNotParseBlocksPaidRuns(written: String) throws {
        let v = RouteTestVault()
        v.writeStandardRules(guardrails: "budget_premium_month_usd: \(written)")
        let book = v.book
        let error = try #require(book.guardrails.capErrors.first)
        #expect(error.hasPrefix("Rules/Guardrails.md: budget_premium_month_usd "))
        #expect(book.problems.contains { $0.description == error })
        let paid = v.route("Tasks/Fix.md", "---\ntype: task\nagent: claude\n---\nFix the bug in the parser.")
        guard case .blocked(let why) = paid.action else { Issue.record("a paid run went ahead with a broken cap: \(paid.action)"); return }
        #expect(why.contains("budget_premium_month_usd"))
        // Free work is not held up by a broken cap.
        #expect(v.route("Tasks/Sum.md", "---\ntype: task\n---\nSummarize the logs.").action == .run)
    }

    @Test func aGuardrailsNoteThatDoesNotParseBlocksPaidRuns() {
        let v = RouteTestVault()
        v.write("Rules/Guardrails.md", "---\ntype: guardrails\nbudget_day_usd: [0.10\n---\n")
        #expect(v.book.guardrails.capErrors.first?.contains("Rules/Guardrails.md: the guardrails note does not parse") == true)
        #expect(v.route("Tasks/Fix.md", "---\ntype: task\nagent: claude\n---\nFix the bug.").action.name == "blocked")
        #expect(RuleBook.looksLikeGuardrails(path: "Rules/Caps.md", text: "---\ntype: \"guardrails\"\nbudget_day_usd: [\n"))
        #expect(!RuleBook.looksLikeGuardrails(path: "Rules/Routing/Fix.md", text: "---\ntype: rule\nlane: [\n"))
    }

    @Test func goodCapSpellingsAreAccepted() {
        let v = RouteTestVault()
        v.writeStandardRules(guardrails: "budget_premium_month_usd: \"$0.10\"")
        #expect(v.book.guardrails.capErrors.isEmpty)
        #expect(v.book.guardrails.laneMonthUSD[.premium] == 0.10)
        v.writeStandardRules(guardrails: "budget_premium_month_usd: \"0.10\"")
        #expect(v.book.guardrails.laneMonthUSD[.premium] == 0.10)
    }

    @Test func aMisspeltCapKeyBlocksPaidRunsToo() {
        let v = RouteTestVault()
        v.writeStandardRules(guardrails: "budget_premum_day_usd: 1")
        #expect(v.book.guardrails.capErrors.first?.contains("budget_premum_day_usd") == true)
        #expect(v.route("Tasks/Fix.md", "---\ntype: task\nagent: claude\n---\nFix the bug.").action.name == "blocked")
    }

    @Test(arguments: ["0,10", "ten", "-1", "[0.1]"])
    func aTaskBudgetThatDoesNotParseBlocksThePaidRun(written: String) {
        let v = RouteTestVault()
        let decision = v.route("Tasks/Fix.md", "---\ntype: task\nagent: claude\nbudget_usd: \(written)\n---\nFix the bug in the parser.")
        guard case .blocked(let why) = decision.action else { Issue.record("ran with budget_usd: \(written)"); return }
        #expect(why.contains("budget_usd"))
        // Zero is a budget: nothing paid may run.
        let zero = v.route("Tasks/Zero.md", "---\ntype: task\nagent: claude\nbudget_usd: 0\n---\nFix the bug.", spend: SpendSnapshot(day: "d", month: "m", caps: BudgetCaps()))
        #expect(zero.action != .run)
    }

    @Test func anAgentCostThatDoesNotParseIsRefused() {
        let v = RouteTestVault()
        v.write("Rules/Agents/pricey.md", "---\ntype: agent\nname: pricey\nlane: premium\ncommand: [pricey, \"{prompt}\"]\noutput: text\nmax_cost_usd: \"0,50\"\n---\n")
        #expect(v.book.problems.contains { $0.path == "Rules/Agents/pricey.md" && $0.message.contains("max_cost_usd must be a number of dollars") })
        let note = try! Note.parse("---\ntype: agent\nname: pricey\nlane: premium\ncommand: [pricey, \"{prompt}\"]\noutput: text\nmax_cost_usd: \"0,50\"\n---\n")
        #expect(throws: AgentDefinitionError.self) { try AgentDefinition.parse(note, path: "Rules/Agents/pricey.md") }
    }

    @Test func budgetArgumentsCarryTheRunsReservation() throws {
        let note = try Note.parse("---\ntype: agent\nname: c\nlane: premium\ncommand: [claude, -p, --, \"{prompt}\"]\nbudget_args: [--max-budget-usd, \"{budget}\"]\noutput: claude-json\n---\n")
        let definition = try AgentDefinition.parse(note, path: "Rules/Agents/c.md")
        let paid = try definition.argv(prompt: "hi {budget}", model: nil, approved: false, workingDirectory: "/tmp", budgetUSD: 0.03).arguments
        #expect(paid == ["claude", "-p", "--max-budget-usd", "0.03", "--", "hi {budget}"])
        let free = try definition.argv(prompt: "hi", model: nil, approved: false, workingDirectory: "/tmp").arguments
        #expect(!free.contains("--max-budget-usd"))
        #expect(AgentDefinition.budgetText(1) == "1")
        #expect(AgentDefinition.budgetText(0.000001) == "0.000001")
        #expect(AgentDefinition.budgetText(12.5) == "12.5")
        // The built-in claude and the shipped note both pass Claude Code its cap.
        #expect(AgentDefinition.builtIn.first { $0.name == "claude" }?.budgetArguments == ["--max-budget-usd", "{budget}"])
        let shipped = try #require(VaultTemplate.files.first { $0.path == "Rules/Agents/claude.md" })
        #expect(try AgentDefinition.parse(try Note.parse(shipped.contents)).budgetArguments == ["--max-budget-usd", "{budget}"])
        // budget_args without the placeholder, or the placeholder elsewhere, is a mistake.
        let without = try Note.parse("---\ntype: agent\nname: c\nlane: premium\ncommand: [claude, \"{prompt}\"]\nbudget_args: [--max-budget-usd, \"1\"]\noutput: text\n---\n")
        #expect(throws: AgentDefinitionError.self) { try AgentDefinition.parse(without) }
        let elsewhere = try Note.parse("---\ntype: agent\nname: c\nlane: premium\ncommand: [claude, --cap, \"{budget}\", \"{prompt}\"]\noutput: text\n---\n")
        #expect(throws: AgentDefinitionError.self) { try AgentDefinition.parse(elsewhere) }
    }

    @Test func claudeStoppedAtItsBudgetIsAFailureWithItsRealCost() {
        let outcome = AgentOutputParser.parseClaude(#"{"type":"result","subtype":"error_max_budget_usd","is_error":false,"total_cost_usd":0.05,"result":""}"#)
        #expect(outcome.isError)
        #expect(outcome.costUSD == 0.05)
        #expect(outcome.errorMessage?.contains("--max-budget-usd") == true)
    }
}

import Foundation
import Testing
@testable import AgentOS

@Suite struct RouterTests {
    @Test func summarizeGoesLocalWithAReasonNamingTheRule() {
        let v = RouteTestVault()
        let d = v.route(text: "summarize today's handoff")
        #expect(d.lane == .local)
        #expect(d.agent == "ollama")
        #expect(d.model == "llama3.2")
        #expect(d.rule == "Rules/Routing/Routine.md")
        #expect(d.reason.contains("rule \"Routine\" (Rules/Routing/Routine.md)"))
        #expect(d.action == .run)
        #expect(d.verdicts.map(\.name) == ["privacy", "secrets", "effects", "budget"])
        #expect(d.properties.map(\.key) == ["route_lane", "route_agent", "route_rule", "route_reason"])
        #expect(d.properties[0].value == .string("local"))
    }

    @Test func explicitAgentOrLaneWinsOverRules() {
        let v = RouteTestVault()
        let byAgent = v.route("Tasks/a.md", "---\nagent: claude\nmodel: opus\n---\nsummarize the logs\n")
        #expect(byAgent.lane == .premium)
        #expect(byAgent.agent == "claude")
        #expect(byAgent.model == "opus")
        #expect(byAgent.rule == "explicit")
        #expect(byAgent.action == .run)
        #expect(byAgent.reservationUSD == 0.5)
        let byLane = v.route("Tasks/b.md", "---\nlane: tool\n---\nsummarize the logs\n")
        #expect(byLane.lane == .tool)
        #expect(byLane.agent == "browser")
        #expect(byLane.rule == "explicit")
        let local = v.route("Tasks/c.md", "---\nlane: local\n---\nfix the bug in the parser\n")
        #expect(local.lane == .local)
        #expect(local.agent == "ollama")
    }

    @Test func unknownExplicitAgentOrLaneIsBlockedWithAClearReason() {
        let v = RouteTestVault()
        let agent = v.route("Tasks/a.md", "---\nagent: gpt-9\n---\nhello\n")
        #expect(agent.action == .blocked("the task names agent 'gpt-9', which no agent note in Rules/ defines"))
        let lane = v.route("Tasks/b.md", "---\nlane: turbo\n---\nhello\n")
        #expect(lane.action.name == "blocked")
        #expect(lane.action.reason!.contains("turbo"))
        // An agent note that is there but skipped is named with what is wrong in it, not called
        // missing (round 149: a bad budget_args).
        v.write("Rules/Agents/Mine.md", "---\ntype: agent\nname: mine\nlane: premium\ncommand: [mine, \"{prompt}\"]\noutput: text\nbudget_args: [--cap]\n---\n")
        let skipped = v.route("Tasks/c.md", "---\nagent: mine\n---\nhello\n")
        #expect(skipped.action.reason?.hasPrefix("the task names agent 'mine', whose note Rules/Agents/Mine.md is skipped: ") == true, "\(skipped.action)")
        #expect(skipped.action.reason?.contains("'budget_args' must hold {budget}") == true, "\(skipped.action)")
    }

    // MARK: Privacy

    static let privateVariants: [(String, String)] = [
        ("Tasks/p1.md", "---\nprivacy: private\n%@---\nfix the bug in my budget script\n"),
        ("Tasks/p2.md", "---\ntags: [work, private]\n%@---\nfix the bug in my budget script\n"),
        ("Tasks/p3.md", "---\ntags: [personal/health]\n%@---\nfix the bug in my budget script\n"),
        ("Tasks/p4.md", "---\n%@---\nfix the bug in my budget script #private\n"),
        ("Private/p5.md", "---\ntype: task\n%@---\nfix the bug in my budget script\n"),
        ("Journal/p6.md", "---\ntype: task\n%@---\nfix the bug in my budget script\n"),
        ("Tasks/p7.md", "---\ncontext: [\"[[Memory/Salary]]\"]\n%@---\nfix the bug in my budget script\n"),
        ("Tasks/p8.md", "---\n%@---\nfix the bug in my budget script, see [[Salary]]\n"),
        ("Tasks/p9.md", "---\n%@---\nfix the bug in my budget script, see [notes](../Private/Diary.md) and [[Private/Diary|diary]]\n"),
        ("Tasks/p10.md", "---\ncontext: [\"Memory/Tagged.md\"]\n%@---\nfix the bug in my budget script\n"),
        ("Tasks/p11.md", "---\n%@---\nfix the bug in my budget script; background in ![[Diary]]\n"),
    ]

    private func privateVault() -> RouteTestVault {
        let v = RouteTestVault()
        v.write("Memory/Salary.md", "---\nprivacy: private\n---\nMy salary is 1.\n")
        v.write("Memory/Tagged.md", "---\ntags: [private]\n---\nsomething\n")
        v.write("Private/Diary.md", "Dear diary.\n")
        return v
    }

    @Test(arguments: 0..<privateVariants.count)
    func privateTaskRoutedByARuleIsReroutedToTheLocalLane(_ index: Int) {
        let v = privateVault()
        let (path, template) = Self.privateVariants[index]
        let d = v.route(path, template.replacingOccurrences(of: "%@", with: ""))
        // The coding rule picks premium; privacy must move it to the local lane.
        #expect(d.lane == .local, "\(path)")
        #expect(d.agent == "ollama")
        #expect(d.action == .run)
        #expect(d.reason.contains("privacy"))
        #expect(d.reservationUSD == 0)
        #expect(d.verdicts.first { $0.name == "privacy" }!.detail.contains("rerouted from the premium lane"))
    }

    @Test(arguments: 0..<privateVariants.count)
    func privateTaskNamingAPremiumAgentIsBlockedNeverSent(_ index: Int) {
        let v = privateVault()
        let (path, template) = Self.privateVariants[index]
        for insist in ["agent: claude\n", "lane: premium\n", "lane: tool\n"] {
            let d = v.route(path, template.replacingOccurrences(of: "%@", with: insist))
            #expect(d.action.name == "blocked", "\(path) \(insist)")
            #expect(d.action.reason!.contains("private"))
            #expect(d.verdicts.first { $0.name == "privacy" }!.passed == false)
            #expect(d.reservationUSD == 0)
        }
    }

    @Test func privacyWinsEvenAfterApprovalAndOverBudgetFallback() {
        let v = privateVault()
        let approved = v.route("Tasks/x.md", "---\nprivacy: private\napproved: true\neffects: [deploy]\n---\ndeploy the site\n")
        #expect(approved.lane == .local)
        #expect(approved.action == .run)
    }

    @Test func publicLinkedNotesDoNotMakeATaskPrivate() {
        let v = privateVault()
        v.write("Memory/Project.md", "---\nprivacy: public\n---\nThe project.\n")
        let d = v.route("Tasks/y.md", "---\ncontext: [\"[[Memory/Project]]\"]\n---\nfix the bug, see [[Project]]\n")
        #expect(d.lane == .premium)
        #expect(d.action == .run)
    }

    // MARK: Side effects and the human lane

    @Test func deployLikeTasksWaitForApprovalThenRun() {
        let v = RouteTestVault()
        let waiting = v.route("Tasks/deploy.md", "deploy the website to production\n")
        #expect(waiting.action.name == "review")
        #expect(waiting.action.reason!.contains("approved: true"))
        #expect(waiting.effects == ["deploy"])
        #expect(waiting.reason.contains("review"))
        #expect(waiting.reservationUSD == 0)
        let approved = v.route("Tasks/deploy.md", "---\napproved: true\n---\ndeploy the website to production\n")
        #expect(approved.action == .run)
        #expect(approved.approved)
        #expect(approved.agent == "claude")
        #expect(approved.reservationUSD == 0.5)
        // Declared effects beyond read need review too, whatever the rule.
        let declared = v.route("Tasks/pay.md", "---\neffects: [read, payment]\n---\nsummarize the invoices\n")
        #expect(declared.action.name == "review")
        #expect(declared.action.reason!.contains("payment"))
        // Effects nobody has heard of are not waved through.
        #expect(v.route("Tasks/odd.md", "---\neffects: [launch-missiles]\n---\nsummarize\n").action.name == "review")
    }

    @Test func aRulesAllowEffectsLetsThoseEffectsRunWithoutApproval() {
        let v = RouteTestVault()
        let write = v.route("Tasks/w.md", "---\neffects: [write]\n---\nfix the bug in parser.swift\n")
        #expect(write.action == .run)
        #expect(write.verdicts.first { $0.name == "effects" }!.detail.contains("allowed by rule \"Coding\""))
        let shell = v.route("Tasks/s.md", "---\neffects: [write, shell]\n---\nfix the bug in parser.swift\n")
        #expect(shell.action.name == "review")
        #expect(shell.action.reason!.contains("shell"))
        #expect(!shell.action.reason!.contains("write"))
    }

    @Test func reviewEffectsFromGuardrailsAreRespected() {
        let v = RouteTestVault()
        v.writeStandardRules(guardrails: "review_effects: [deploy, payment, delete]")
        #expect(v.route("Tasks/n.md", "---\neffects: [network]\n---\nsummarize the page\n").action == .run)
        #expect(v.route("Tasks/d.md", "---\neffects: [delete]\n---\nsummarize the page\n").action.name == "review")
    }

    @Test func humanLaneWaitsAndRunsTheNamedAgentOnceApproved() {
        let v = RouteTestVault()
        v.write("Rules/Routing/Payments.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [pay, payment]\nlane: human\nagent: claude\n---\n")
        let waiting = v.route("Tasks/p.md", "pay the hosting invoice\n")
        #expect(waiting.lane == .human)
        #expect(waiting.action.name == "review")
        let approved = v.route("Tasks/p.md", "---\napproved: true\n---\npay the hosting invoice\n")
        #expect(approved.action == .run)
        #expect(approved.lane == .premium)
        #expect(approved.agent == "claude")
        v.write("Rules/Routing/Payments.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [pay]\nlane: human\n---\n")
        let plain = v.route("Tasks/q.md", "---\napproved: true\n---\npay the bill\n")
        #expect(plain.lane == .local)
        #expect(plain.agent == "ollama")
        #expect(plain.action == .run)
    }

    // MARK: Budget

    private func snapshot(premiumDay spent: Double, caps: BudgetCaps) -> SpendSnapshot {
        var s = SpendSnapshot(day: "2026-11-26", month: "2026-11", caps: caps)
        s.daySpentUSD = spent
        s.monthSpentUSD = spent
        s.lanes[.premium] = LaneSpend(daySpentUSD: spent, dayReservedUSD: 0, monthSpentUSD: spent, monthReservedUSD: 0)
        return s
    }

    @Test func overTheCapFallsBackToTheRulesFallbackLaneElseReview() {
        let v = RouteTestVault()
        let caps = v.book.guardrails.caps
        // Premium day cap is $4; a $0.50 run still fits at $3.50 spent, not at $3.60.
        let fits = v.route(text: "fix the bug", spend: snapshot(premiumDay: 3.5, caps: caps))
        #expect(fits.lane == .premium)
        #expect(fits.reservationUSD == 0.5)
        let over = v.route(text: "fix the bug", spend: snapshot(premiumDay: 3.6, caps: caps))
        #expect(over.lane == .local)
        #expect(over.agent == "ollama")
        #expect(over.action == .run)
        #expect(over.reason.contains("premium lane's daily cap"))
        #expect(over.reservationUSD == 0)
        // The deploy rule has no fallback: it waits for review, even when approved.
        let noFallback = v.route("Tasks/d.md", "---\napproved: true\n---\ndeploy it\n", spend: snapshot(premiumDay: 3.6, caps: caps))
        #expect(noFallback.action.name == "review")
        #expect(noFallback.action.reason!.contains("budget"))
        #expect(noFallback.reservationUSD == 0)
    }

    @Test func refusedReservationUsesFallbackOrReview() {
        let v = RouteTestVault()
        let router = Router(book: v.book)
        let facts = TaskFacts.from(text: "fix the bug", vault: v.vault, ruleBook: v.book)
        let decided = router.decide(facts, prompt: facts.body, spend: nil)
        #expect(decided.fallback == .local)
        let fell = router.fallback(from: decided, facts: facts, prompt: facts.body, because: "the daily cap of $5.00 would be exceeded")
        #expect(fell.lane == .local)
        #expect(fell.action == .run)
        let explicit = TaskFacts(title: "x", body: "hello", agent: "claude")
        let d2 = router.decide(explicit, prompt: "hello", spend: nil)
        let held = router.fallback(from: d2, facts: explicit, prompt: "hello", because: "the daily cap of $5.00 would be exceeded")
        #expect(held.action.name == "review")
        #expect(held.lane == .premium)
        #expect(held.reservationUSD == 0)
    }

    /// A task's `budget_usd` lowers the reservation of an agent told its reservation
    /// (`budget_args`). One that cannot be told it may spend up to its `max_cost_usd` whatever is
    /// reserved, so it reserves that, and a smaller cap sends the task to its rule's fallback lane or
    /// to review (round 147).
    @Test func taskBudgetLowersTheReservationOnlyOfAnAgentToldIt() throws {
        let v = RouteTestVault()
        let task = "---\nbudget_usd: 0.2\n---\nfix the bug\n"
        let untold = v.route("Tasks/b.md", task)
        #expect(untold.agent == "claude" && untold.reservationUSD == 0.5)
        let empty = SpendSnapshot(day: "2026-12-07", month: "2026-12", caps: v.book.guardrails.caps)
        let held = v.route("Tasks/b.md", task, spend: empty)
        // The coding rule's fallback lane takes it (else it would wait for review).
        #expect(held.lane == .local && held.reservationUSD == 0 && held.reason.contains("task cap"), "\(held.reason)")
        let claude = try String(contentsOfFile: v.root + "/Rules/Agents/claude.md", encoding: .utf8)
        v.write("Rules/Agents/claude.md", claude.replacingOccurrences(of: "output: claude-json\n", with: "output: claude-json\nbudget_args: [--max-budget-usd, \"{budget}\"]\n"))
        let told = v.route("Tasks/b.md", task, spend: empty)
        #expect(told.reservationUSD == 0.2 && told.action == .run, "\(told.reason)")
    }
}

import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Where a task goes when its agent hits a limit: the chain (rule, else agent note, else the
/// guardrails' lane chain), cooling agents skipped, and every guardrail judged again for the next.
@Suite struct FailoverChainTests {
    /// The standard route vault plus codex (premium) and a second local agent.
    static func vault(codexFailover: String = "") -> RouteTestVault {
        let v = RouteTestVault()
        v.write("Rules/Agents/codex.md", "---\ntype: agent\nname: codex\nlane: premium\ncommand: [codex, exec, --json, \"{prompt}\"]\noutput: codex-jsonl\nmax_cost_usd: 0.2\n\(codexFailover)---\n")
        v.write("Rules/Agents/llm.md", "---\ntype: agent\nname: llm\nlane: local\ncommand: [llm, \"{prompt}\"]\noutput: text\n---\n")
        return v
    }

    static func cooling(_ agent: String, minutes: Double = 30) -> Cooldown {
        Cooldown(agent: agent, until: Date().addingTimeInterval(minutes * 60), failure: .usageLimit, reason: "limit", strikes: 1, since: Date())
    }

    @Test func ruleThenAgentNoteThenGuardrailsNameTheChain() {
        let v = Self.vault(codexFailover: "failover: [claude, nobody, codex]\n")
        v.write("Rules/Routing/Coding.md", "---\ntype: rule\npriority: 20\nwhen_keywords: [refactor]\nlane: premium\nagent: claude\nfailover: [llm]\n---\nCoding.\n")
        let book = v.book
        #expect(book.problems.isEmpty, "\(book.problems)")
        // The rule's own chain wins.
        #expect(FailoverChain.chain(startingWith: "claude", rulePath: "Rules/Routing/Coding.md", book: book) == ["claude", "llm"])
        // Else the agent note's (names no note defines, and the agent itself, left out).
        #expect(FailoverChain.chain(startingWith: "codex", rulePath: "explicit", book: book) == ["codex", "claude"])
        // Else the guardrails' chain for the agent's lane (the shipped default: codex, opencode).
        #expect(FailoverChain.chain(startingWith: "claude", rulePath: "default", book: book) == ["claude", "codex"])
        v.write("Rules/Guardrails.md", "---\ntype: guardrails\nfailover_premium: [llm]\n---\n")
        #expect(FailoverChain.chain(startingWith: "claude", rulePath: "default", book: v.book) == ["claude", "llm"])
    }

    @Test func aCoolingAgentIsSkippedToTheNextOfItsChain() {
        let v = Self.vault()
        let facts = v.facts("Tasks/Fix.md", "---\ntype: task\nagent: claude\n---\nFix the parser.\n")
        let router = Router(book: v.book)
        let first = router.decide(facts, prompt: facts.body, spend: nil)
        #expect(first.agent == "claude")
        let moved = router.skippingCoolingAgents(first, carriedChain: nil, facts: facts, prompt: facts.body, spend: nil, cooling: ["claude": Self.cooling("claude")])
        #expect(moved.agent == "codex" && moved.action == .run && moved.lane == .premium)
        #expect(moved.reason.contains("cooling down: claude: usage limit, available again at"))
        // Nothing cooling: unchanged.
        #expect(router.skippingCoolingAgents(first, carriedChain: nil, facts: facts, prompt: facts.body, spend: nil, cooling: [:]) == first)
        // The whole chain cooling: the task waits in review, saying until when.
        let held = router.skippingCoolingAgents(first, carriedChain: nil, facts: facts, prompt: facts.body, spend: nil,
                                                cooling: ["claude": Self.cooling("claude"), "codex": Self.cooling("codex")])
        guard case .review(let why) = held.action else { Issue.record("not held for review: \(held.action)"); return }
        #expect(why.contains("codex: usage limit, available again at") && why.contains("agent reset"))
        #expect(held.reservationUSD == 0)
    }

    @Test func privateWorkNeverMovesToACloudAgent() {
        let v = Self.vault()
        // A local agent whose chain names a cloud agent first, then a local one.
        v.write("Rules/Agents/ollama.md", "---\ntype: agent\nname: ollama\nlane: local\noutput: ollama\nmodel: llama3.2\nfailover: [codex, llm]\n---\n")
        let facts = v.facts("Tasks/Salary.md", "---\ntype: task\nagent: ollama\nprivacy: private\n---\nSummarize my salary notes.\n")
        let router = Router(book: v.book)
        let first = router.decide(facts, prompt: facts.body, spend: nil)
        let moved = router.skippingCoolingAgents(first, carriedChain: nil, facts: facts, prompt: facts.body, spend: nil, cooling: ["ollama": Self.cooling("ollama")])
        #expect(moved.agent == "llm" && moved.lane == .local)
        #expect(moved.reason.contains("codex: private"))
        // With the local one cooling too, nothing off this machine is chosen.
        let held = router.skippingCoolingAgents(first, carriedChain: nil, facts: facts, prompt: facts.body, spend: nil,
                                                cooling: ["ollama": Self.cooling("ollama"), "llm": Self.cooling("llm")])
        #expect(held.agent == "ollama")
        if case .review = held.action {} else { Issue.record("expected review, got \(held.action)") }
    }

    @Test func effectsStillNeedAPersonOnTheNextAgent() {
        let v = Self.vault()
        let facts = v.facts("Tasks/Write.md", "---\ntype: task\nagent: claude\neffects: [write]\n---\nWrite the summary file.\n")
        let router = Router(book: v.book)
        let first = router.decide(facts, prompt: facts.body, spend: nil)
        // Unapproved effects: review already, cooling or not (nothing to skip).
        if case .review = first.action {} else { Issue.record("expected review, got \(first.action)") }
        var approved = facts
        approved.approved = true
        let ran = router.decide(approved, prompt: facts.body, spend: nil)
        let moved = router.skippingCoolingAgents(ran, carriedChain: nil, facts: approved, prompt: facts.body, spend: nil, cooling: ["claude": Self.cooling("claude")])
        #expect(moved.agent == "codex")
        #expect(moved.verdicts.contains { $0.name == "effects" && $0.detail.contains("approved by a person") })
        // The budget is reserved again, for the new agent.
        #expect(moved.reservationUSD == 0.2)
    }
}

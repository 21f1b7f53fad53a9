import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// Routing and running read one agent catalogue: the agent notes as `RuleBook.load` parses them,
/// or the built-in list, which is the shipped notes themselves.
@Suite struct AgentCatalogueTests {
    @Test func builtInAgentsAreTheShippedNotesWordForWord() throws {
        #expect(AgentDefinition.builtIn.map(\.name) == ["ollama", "claude"])
        for builtIn in AgentDefinition.builtIn {
            let path = RepositoryPaths.packageRoot + "/rules/Agents/\(builtIn.name).md"
            var shipped = try AgentDefinition.parse(try Note.parse(try String(contentsOfFile: path, encoding: .utf8)))
            shipped.sourcePath = nil
            #expect(builtIn == shipped, "\(builtIn.name)")
            #expect(builtIn.path == "built-in:\(builtIn.name)")
        }
    }

    @Test func aVaultWithoutAgentNotesRoutesAndRunsTheSameBuiltIns() throws {
        let v = RouteTestVault(rules: false)
        v.write("Rules/Routing/Everything local.md", "---\ntype: rule\nlane: local\n---\nAll of it stays here.\n")
        let routing = try VaultRouting(vault: v.vault)
        #expect(routing.ruleBook.builtInParts.contains("agents"))
        for name in ["ollama", "claude"] {
            let routed = try #require(routing.ruleBook.agent(named: name))
            #expect(try routing.agents.definition(named: name) == routed)
        }
        // An agent that is not built in is unknown to both, not runnable behind routing's back.
        #expect(routing.ruleBook.agent(named: "echo") == nil)
        #expect(throws: AgentDefinitionError.self) { try routing.agents.definition(named: "echo") }
    }

    @Test func aNoteTheRunnerCannotStartIsSkippedByRoutingToo() throws {
        let v = RouteTestVault(rules: false)
        v.write("Rules/Agents/half.md", "---\ntype: agent\nname: half\nlane: local\ncommand: [half-agent, \"{prompt}\"]\n---\n")
        v.write("Rules/Agents/whole.md", "---\ntype: agent\nname: whole\nlane: local\noutput: text\ncommand: [whole-agent, \"{prompt}\"]\nprice_out_per_mtok: \"$2\"\n---\n")
        let routing = try VaultRouting(vault: v.vault)
        let problem = try #require(routing.ruleBook.problems.first { $0.path == "Rules/Agents/half.md" })
        #expect(problem.message == "missing 'output' (one of claude-json, codex-jsonl, opencode-jsonl, ollama, text, browser, hermes, openclaw-json, openai-chat); the agent is skipped")
        #expect(routing.ruleBook.agent(named: "half") == nil)
        #expect(throws: AgentDefinitionError.self) { try routing.agents.definition(named: "half") }
        // Prices are dollars as budgets are written, for routing and the runner alike.
        #expect(try routing.agents.definition(named: "whole").priceOutPerMillionTokens == 2)
        #expect(routing.ruleBook.agent(named: "whole")?.isPaid == true)
    }

    @Test func aChangedNoteReachesTheRunnerWithTheRuleBook() throws {
        let v = RouteTestVault(rules: false)
        let note = { (model: String) in "---\ntype: agent\nname: local\nlane: local\noutput: text\ncommand: [tool, \"{prompt}\"]\nmodel: \(model)\n---\n" }
        v.write("Rules/Agents/local.md", note("first"))
        let routing = try VaultRouting(vault: v.vault)
        #expect(try routing.agents.definition(named: "local").model == "first")
        v.write("Rules/Agents/local.md", note("second"))
        #expect(try routing.agents.definition(named: "local").model == "first")
        routing.reload()
        #expect(try routing.agents.definition(named: "local").model == "second")
        #expect(routing.ruleBook.agent(named: "local")?.model == "second")
    }

    @Test func oneCostFormula() {
        let priced = AgentDefinition(name: "p", lane: .premium, command: ["p"], output: .text, priceInPerMillionTokens: 3, priceOutPerMillionTokens: 15)
        #expect(priced.cost(tokensIn: 1_000_000, tokensOut: 100_000) == 4.5)
        let outOnly = AgentDefinition(name: "o", lane: .premium, command: ["o"], output: .text, priceOutPerMillionTokens: 10)
        #expect(outOnly.cost(tokensIn: 5_000, tokensOut: 1_000) == 0.01)
        #expect(AgentDefinition(name: "f", lane: .local, command: ["f"], output: .text).cost(tokensIn: 10, tokensOut: 10) == nil)
    }
}

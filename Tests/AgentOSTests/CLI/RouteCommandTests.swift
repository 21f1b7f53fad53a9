import Foundation
import Testing
@testable import AgentOS
@testable import Commands

@Suite struct RouteCommandTests {
    func run(_ arguments: [String], in v: RouteTestVault) -> (code: Int32, out: String, err: String) {
        let (console, captured) = Console.capturing()
        let code = CLI.run(["route"] + arguments + ["--vault", v.root], console: console, environment: [:], executablePath: "fuckbigtech")
        return (code, captured.stdout, captured.stderr)
    }

    @Test func summarizeTodaysHandoffPicksTheLocalLaneAndNamesTheRule() {
        let v = RouteTestVault()
        let result = run(["summarize today's handoff"], in: v)
        #expect(result.code == 0)
        #expect(result.out.contains("lane:     local"))
        #expect(result.out.contains("agent:    ollama"))
        #expect(result.out.contains("rule:     Rules/Routing/Routine.md"))
        #expect(result.out.contains("reason:   rule \"Routine\" (Rules/Routing/Routine.md) matched keyword \"summarize\""))
        for name in ["privacy", "secrets", "effects", "budget"] { #expect(result.out.contains("  \(name) ")) }
        // Nothing was run or written: no state folder appeared.
        #expect(!FileManager.default.fileExists(atPath: v.root + "/.agentos"))
    }

    @Test func withoutRulesFolderUsesBuiltInDefaultsAndSaysSo() {
        let v = RouteTestVault(rules: false)
        let result = run(["summarize", "today's", "handoff"], in: v)
        #expect(result.code == 0)
        #expect(result.out.contains("lane:     local"))
        #expect(result.out.contains("routine work stays local"))
        #expect(result.out.contains("no Rules/ folder"))
        #expect(result.out.contains("built-in defaults"))
    }

    @Test func jsonOutputCarriesTheDecisionAndProblems() throws {
        let v = RouteTestVault()
        v.write("Rules/Routing/Bad.md", "---\ntype: rule\npriority: soon\nlane: premium\n---\n")
        let result = run(["--json", "fix the bug in the parser"], in: v)
        #expect(result.code == 0)
        let json = try JSON.parse(result.out)
        #expect(json["lane"] == .string("premium"))
        #expect(json["agent"] == .string("claude"))
        #expect(json["rule"] == .string("Rules/Routing/Coding.md"))
        #expect(json["action"] == .string("run"))
        #expect(json["reservation_usd"]?.doubleValue == 0.5)
        #expect(json["verdicts"]?.arrayValue?.count == 4)
        #expect(json["problems"]?.arrayValue?.first?["path"] == .string("Rules/Routing/Bad.md"))
    }

    @Test func routesANoteByPathAndReportsMalformedRules() {
        let v = RouteTestVault()
        v.write("Rules/Routing/Typo.md", "---\ntype: rule\nwhen_keyword: [x]\nlane: local\n---\n")
        v.write("Tasks/Private plan.md", "---\nprivacy: private\nagent: claude\n---\nfix the bug\n")
        let result = run(["Tasks/Private plan.md"], in: v)
        #expect(result.code == 0)
        #expect(result.out.contains("task:     Tasks/Private plan.md"))
        #expect(result.out.contains("action:   blocked"))
        #expect(result.out.contains("privacy  STOP"))
        #expect(result.out.contains("Rules/Routing/Typo.md: unknown condition 'when_keyword'"))
    }

    @Test func missingNoteAndMissingArgumentAreClearErrors() {
        let v = RouteTestVault()
        let missing = run(["Tasks/Nope.md"], in: v)
        #expect(missing.code == 1)
        #expect(missing.err.contains("no such note"))
        #expect(missing.err.split(separator: "\n").count == 1)
        let none = run([], in: v)
        #expect(none.code == 64)
    }
}

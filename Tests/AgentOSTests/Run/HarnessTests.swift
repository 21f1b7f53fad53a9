import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Hermes Agent and OpenClaw, run through the shipped agent notes: the fixture agents print what
/// the real CLIs print (each fixture names its source); for Hermes, which installs from PyPI, a
/// contract test runs the real CLI with the same argv.
@Suite struct HarnessTests {
    /// The shipped note `name`, parsed, with its program replaced by `program`.
    static func shipped(_ name: String, program: String) throws -> AgentDefinition {
        let file = try #require(VaultTemplate.files.first { $0.path == "Rules/Agents/\(name).md" })
        var definition = try AgentDefinition.parse(try Note.parse(file.contents), path: file.path)
        definition.command[0] = program
        return definition
    }

    static func fixture(_ name: String) throws -> AgentDefinition {
        try shipped(name, program: RepositoryPaths.fixtureAgents + "/" + name)
    }

    static func run(_ d: AgentDefinition, _ prompt: String, model: String? = nil, approved: Bool = false, environment: [String: String] = ["PATH": "/usr/bin:/bin"]) -> AgentRunResult {
        AgentRunner.run(d, prompt: prompt, model: model, approved: approved, workingDirectory: "/tmp", timeout: 60, cancel: nil, environment: environment)
    }

    @Test func hermesGetsOnlyReadingToolsUnlessApprovedAndItsAnswerIsRead() throws {
        let d = try Self.fixture("hermes")
        let r = Self.run(d, "-rf is a flag, not an option", model: "anthropic/claude-sonnet-4")
        #expect(r.isSuccess, "\(String(describing: r.failure)) \(r.stderrTail)")
        #expect(Array(r.argv.dropFirst()) == ["chat", "-Q", "--source", "tool", "-m", "anthropic/claude-sonnet-4", "-t", "web,vision", "--query=-rf is a flag, not an option"])
        #expect(r.outcome.answer == "hermes fixture answer (model=anthropic/claude-sonnet-4, toolsets=web,vision): -rf is a flag, not an option")
        #expect(r.outcome.sessionID == "20261203_071500_a1b2c3")
        let approved = Self.run(d, "edit it", approved: true)
        #expect(approved.argv.contains("coding") && !approved.argv.contains("web,vision"))
        #expect(!approved.argv.contains("--yolo") && !approved.argv.contains("-z"))
    }

    @Test func hermesErrorsComeFromItsStderrOrItsSetupAdvice() throws {
        let d = try Self.fixture("hermes")
        let failed = Self.run(d, "hi FIXTURE_MODE=error")
        #expect(failed.failure == .toolError("hermes: HTTP 401: Invalid API key (provider openrouter)"))
        let unconfigured = Self.run(d, "hi FIXTURE_MODE=unconfigured")
        #expect(unconfigured.errorMessage?.hasPrefix("hermes is not configured (no API keys or providers)") == true)
        #expect(unconfigured.outcome.answer.isEmpty)
    }

    @Test func openclawAnswerTokensAndModelAreRead() throws {
        let d = try Self.fixture("openclaw")
        let r = Self.run(d, "Summarize the inbox", model: "claude-opus-4")
        #expect(r.isSuccess, "\(String(describing: r.failure)) \(r.stderrTail)")
        #expect(Array(r.argv.dropFirst()) == ["agent", "--local", "--agent", "main", "--json", "--model", "claude-opus-4", "--message=Summarize the inbox"])
        #expect(r.outcome.answer == "openclaw fixture answer: Summarize the inbox")
        #expect(r.outcome.tokensIn == 1500 && r.outcome.tokensOut == 85)
        #expect(r.model == "anthropic/claude-opus-4" && r.outcome.sessionID == "b3f0c1d2-0e1f-4a5b-9c8d-7e6f5a4b3c2d")
        // No dollar figure from OpenClaw and no prices in the note: the reservation is what counts.
        #expect(r.costUSD == nil && d.maxCostUSD == 1.0)
        let failed = Self.run(d, "hi FIXTURE_MODE=error")
        #expect(failed.failure == .toolError("openclaw: No API key found for provider \"anthropic\""))
    }

    @Test func openclawParserRefusesAnEmptyResult() {
        #expect(AgentOutputParser.parseOpenClaw("{\"payloads\":[],\"meta\":{\"durationMs\":3}}").errorMessage == "openclaw's result has no payload text")
        #expect(AgentOutputParser.parseOpenClaw("Gateway unreachable").errorMessage == "openclaw printed no JSON result: Gateway unreachable")
    }

    /// The real Hermes Agent (PyPI `hermes-agent`, installed by `.ci/run`) is given exactly the argv
    /// of the shipped note — read-only and approved, with a model, a prompt starting with `-` — and
    /// must accept every option: with no keys in a fresh HOME it answers "not configured", never
    /// argparse's "unrecognized arguments" or "invalid choice" (exit 2).
    @Test(.enabled(if: ExternalTool.canRun("hermes"), "needs hermes-agent (.ci/run installs it in /tmp/fbt-hermes)"))
    func theRealHermesAcceptsOurArgv() throws {
        let program = try ExternalTool.require("hermes")
        let home = TemporaryFolder("fbt-hermes-home")
        let d = try Self.shipped("hermes", program: program)
        for (approved, model) in [(false, "anthropic/claude-sonnet-4"), (true, nil as String?)] {
            let r = Self.run(d, "--help me: is -q a flag?", model: model, approved: approved, environment: ["PATH": "/usr/bin:/bin", "HOME": home.path])
            #expect(r.exitCode != 2, "argparse refused our argv: \(r.stderrTail)")
            #expect(!r.stderrTail.contains("unrecognized arguments") && !r.stderrTail.contains("invalid choice"), "\(r.stderrTail)")
            #expect(r.errorMessage?.hasPrefix("hermes is not configured") == true, "\(String(describing: r.errorMessage)) \(r.stderrTail)")
        }
        // And the check can fail: an option Hermes does not have is refused.
        var wrong = d
        wrong.readonlyArguments = ["--full-auto"]
        let refused = Self.run(wrong, "hi", environment: ["PATH": "/usr/bin:/bin", "HOME": home.path])
        #expect(refused.exitCode == 2 && refused.stderrTail.contains("unrecognized arguments: --full-auto"), "\(refused.stderrTail)")
    }
}

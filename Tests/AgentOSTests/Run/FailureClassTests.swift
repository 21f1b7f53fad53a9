import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Failure classes read from what the CLIs print: each fixture agent prints a real tool's failure
/// (the shapes and their sources are in the fixtures), the runner runs it as a process, and the
/// class and reset time come out of the same parse the watcher uses.
@Suite struct FailureClassTests {
    /// The class of one fixture run, through `AgentRunner` and `FailureClassifier`.
    func classify(_ definition: AgentDefinition, _ prompt: String, now: Date = Date()) throws -> FailureReport {
        let s = AgentRunnerTests.Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let r = AgentRunner.run(definition, prompt: prompt, model: nil, approved: false, workingDirectory: s.directory,
                                timeout: 30, cancel: nil, environment: s.environment, terminationGrace: 0.5)
        let failure = try #require(r.failure, "the fixture run succeeded: \(r.outcome.answer)")
        return FailureClassifier.classify(failure, message: r.outcome.errorMessage, stderr: r.stderrTail, signal: r.signal, now: now)
    }

    @Test func claudeFailuresByClass() throws {
        let claude = AgentRunnerTests.claude
        let before = Date()
        let limit = try classify(claude, "FIXTURE_MODE_CLAUDE=usage-limit FIXTURE_RESET_IN=5400")
        #expect(limit.failureClass == .usageLimit)
        // "…usage limit reached|<epoch>": the epoch is the reset time, whole seconds.
        let reset = try #require(limit.resetAt)
        #expect(abs(reset.timeIntervalSince(before) - 5400) < 5)
        #expect(try classify(claude, "FIXTURE_MODE_CLAUDE=rate-limit").failureClass == .rateLimited)
        #expect(try classify(claude, "FIXTURE_MODE_CLAUDE=overloaded").failureClass == .overloaded)
        #expect(try classify(claude, "FIXTURE_MODE_CLAUDE=bad-key").failureClass == .auth)
        #expect(try classify(claude, "FIXTURE_MODE_CLAUDE=context-overflow").failureClass == .contextOverflow)
        // An error the agent reports about the task itself is not a limit.
        #expect(try classify(claude, "FIXTURE_MODE=error-exit").failureClass == .taskError)
        #expect(try classify(claude, "FIXTURE_MODE=signal").failureClass == .crashed)
        #expect(try classify(claude, "FIXTURE_MODE=exit-status").failureClass == .crashed)
    }

    @Test func claudeSessionLimitResetsAtTheTimeOfDayItNames() throws {
        // 20:00 UTC: "resets 9:10pm (UTC)" is 70 minutes later, the same day.
        let now = Date(timeIntervalSince1970: 1_796_241_600) // 2026-12-02T20:00:00Z
        let report = try classify(AgentRunnerTests.claude, "FIXTURE_MODE_CLAUDE=session-limit", now: now)
        #expect(report.failureClass == .usageLimit)
        #expect(report.resetAt == now.addingTimeInterval(70 * 60))
        // Said after 9:10pm, the reset is tomorrow's.
        let late = Date(timeIntervalSince1970: 1_796_241_600 + 2 * 3600)
        #expect(FailureClassifier.resetTime(in: "resets 9:10pm (UTC)", now: late) == now.addingTimeInterval(70 * 60 + 86_400))
    }

    @Test func codexFailuresByClass() throws {
        let codex = AgentRunnerTests.codex
        let now = Date()
        let limit = try classify(codex, "FIXTURE_MODE_CODEX=usage-limit", now: now)
        #expect(limit.failureClass == .usageLimit)
        // "try again in 2 days 17 hours 14 minutes"
        #expect(limit.resetAt == now.addingTimeInterval(2 * 86_400 + 17 * 3_600 + 14 * 60))
        #expect(try classify(codex, "FIXTURE_MODE_CODEX=rate-limit").failureClass == .rateLimited)
        #expect(try classify(codex, "FIXTURE_MODE_CODEX=context-overflow").failureClass == .contextOverflow)
        // The fixture's `error` mode is codex's 401 for a missing key.
        #expect(try classify(codex, "FIXTURE_MODE=error").failureClass == .auth)
    }

    @Test func opencodeFailuresByClass() throws {
        let opencode = AgentRunnerTests.opencode
        #expect(try classify(opencode, "FIXTURE_MODE_OPENCODE=rate-limit").failureClass == .rateLimited)
        #expect(try classify(opencode, "FIXTURE_MODE_OPENCODE=usage-limit").failureClass == .usageLimit)
        #expect(try classify(opencode, "FIXTURE_MODE_OPENCODE=overloaded").failureClass == .overloaded)
        #expect(try classify(opencode, "FIXTURE_MODE_OPENCODE=bad-key").failureClass == .auth)
    }

    @Test func ollamaAndTimeouts() {
        // Ollama's `{"error": …}` answers, as `AgentRunner.runOllama` turns them into tool errors.
        let ollama = AgentOutputParser.parseOllama(#"{"error":"model requires more system memory (8.0 GiB) than is available (3.1 GiB)"}"#)
        #expect(FailureClassifier.classify(.toolError(ollama.errorMessage ?? ""), message: ollama.errorMessage, stderr: "").failureClass == .taskError)
        let overflow = AgentOutputParser.parseOllama(#"{"error":"the input length exceeds the context length"}"#)
        #expect(FailureClassifier.classify(.toolError(overflow.errorMessage ?? ""), message: nil, stderr: "").failureClass == .contextOverflow)
        #expect(FailureClassifier.classify(.timedOut(seconds: 5), message: nil, stderr: "").failureClass == .timeout)
        #expect(FailureClassifier.classify(.unreachable("no Ollama server answers"), message: nil, stderr: "").failureClass == .crashed)
        // `llm` prints plain text: its errors reach us as an exit status with stderr.
        let llm = FailureClassifier.classify(.exitStatus(1), message: nil, stderr: "Error: Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o', 'type': 'requests'}}")
        #expect(llm.failureClass == .rateLimited)
    }

    @Test func whatFailsOverAndWhatCoolsDown() {
        #expect(FailureClass.allCases.filter(\.failsOver) == [.usageLimit, .rateLimited, .overloaded, .auth, .timeout])
        #expect(FailureClass.allCases.filter(\.coolsDown) == [.usageLimit, .rateLimited, .overloaded, .auth])
    }
}

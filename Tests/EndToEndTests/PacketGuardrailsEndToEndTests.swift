import AgentOS
import Foundation
import TestSupport
import Testing

/// What a cloud agent receives when retrieval finds notes it must not carry, and what happens when a
/// task's own text does not fit its agent's budget — through the real `init`, `watch` and the
/// fixture `claude` (which logs the prompt it was given).
@Suite(.serialized) struct PacketGuardrailsEndToEndTests {
    /// A GitHub-style token made at run time (no secret-looking text is committed).
    static func token() -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return "ghp_" + String((0..<36).map { _ in letters.randomElement()! })
    }

    @Test func aCleanPremiumTaskRunsAlthoughRetrievedNotesHoldSecretsAndPrivateText() throws {
        let env = try WatchedVault()
        let secret = Self.token()
        // Three notes that share the task's rare words: one holds a token, one is private, one is clean.
        try env.write("Memory/Quokka deploy.md", "# Quokka deploy\n\nThe quokka harbour pipeline pushes with GITHUB_TOKEN=\(secret) today.\n")
        try env.write("Memory/Quokka diary.md", "# Quokka diary\n\nQuokka harbour PRIVATEMARK feelings about the pipeline. #private\n")
        try env.write("Memory/Quokka facts.md", "# Quokka facts\n\nThe quokka harbour pipeline builds every night.\n")
        try env.start()
        let task = "Tasks/Quokka question.md"
        try env.writeInPlace(task, "---\ntype: task\nagent: claude\n---\nExplain the quokka harbour pipeline in one line.\n")

        let finished = eventually(within: 30, every: 0.05) { ["done", "failed", "blocked", "review"].contains(env.status(task) ?? "") }
        try #require(finished, "the task did not finish:\n\(env.text(task) ?? "missing")\n\(env.allLogs)")
        #expect(env.status(task) == "done", "a clean task is not blocked for secrets it does not hold:\n\(env.text(task) ?? "")")
        let verdicts = env.note(task)?.texts("route_verdicts") ?? []
        let retrieval = try #require(verdicts.first { $0.hasPrefix("retrieval:") }, "verdicts: \(verdicts)\n\(env.fixtureRuns().last?["prompt"]?.stringValue ?? "")")
        // The secret-holding piece is counted; the private one is not, on a note agents read (a count
        // would tell them whether a private note holds the task's words).
        #expect(retrieval.contains("left out 1 retrieved piece"), "\(retrieval)")
        #expect(retrieval.contains("GitHub token") && !retrieval.contains("private"), "\(retrieval)")
        #expect(!verdicts.joined().contains(secret) && !verdicts.joined().contains("PRIVATEMARK"))

        let prompt = try #require(env.fixtureRuns().last { $0["tool"]?.stringValue == "claude" }?["prompt"]?.stringValue)
        #expect(prompt.contains("builds every night"), "retrieval still brings the clean note")
        #expect(!prompt.contains(secret))
        #expect(!prompt.contains("ghp_"))
        #expect(!prompt.contains("PRIVATEMARK"))
    }

    /// A 300 KB task body: plain sentences, numbered so no two lines are alike.
    static let longBody = (1...4_000).map { "Line \($0): the harbour pipeline report lists each nightly build and what it produced." }.joined(separator: "\n")

    @Test func aTaskTooLongForItsAgentFailsWithOneClearLine() throws {
        let env = try WatchedVault()
        #expect(Self.longBody.utf8.count > 300_000)
        try env.start()
        let task = "Tasks/Long report.md"
        try env.writeInPlace(task, "---\ntype: task\nagent: claude\n---\n" + Self.longBody + "\n")

        let failed = eventually(within: 30, every: 0.05) { env.status(task) == "failed" }
        try #require(failed, "the task did not fail:\n\(env.status(task) ?? "missing")\n\(env.allLogs)")
        let error = try #require(env.note(task)?.text("error"))
        #expect(!error.contains("\n"))
        #expect(error.contains("16000") && error.contains("truncate: allow"), "\(error)")
        #expect(env.note(task)?.text("context_truncated") == nil)
        #expect(env.fixtureRuns().isEmpty, "the agent never started")
        // The journal line lands in the same run as the final status, a moment apart: wait for it.
        _ = eventually(within: 10, every: 0.05) { env.telemetryLines().contains { $0["task"]?.stringValue == task } }
        let line = try #require(env.telemetryLines().last { $0["task"]?.stringValue == task })
        #expect(line["outcome"]?.stringValue == "failed")
        #expect(line["error"]?.stringValue?.contains("truncate: allow") == true)
    }

    @Test func aTaskARuleSendsToClaudeGetsClaudesBudgetNotTheDefault() throws {
        let env = try WatchedVault()
        try env.start()
        // About 10,000 tokens: more than the 4,000 a task naming no agent starts with, within the
        // 16,000 of claude, which the premium rule picks for "fix".
        let body = (1...600).map { "Step \($0): fix the harbour pipeline's nightly build report." }.joined(separator: "\n")
        #expect(ContextPacket.estimateTokens(body) > 8_000 && ContextPacket.estimateTokens(body) < 15_000)
        let task = "Tasks/Fix the report.md"
        try env.writeInPlace(task, "---\ntype: task\n---\n" + body + "\n")
        let finished = eventually(within: 30, every: 0.05) { ["done", "failed", "blocked", "review"].contains(env.status(task) ?? "") }
        try #require(finished, "the task did not finish:\n\(env.text(task) ?? "missing")\n\(env.allLogs)")
        #expect(env.note(task)?.text("route_agent") == "claude", "\(env.text(task) ?? "")")
        #expect(env.status(task) == "done", "\(env.note(task)?.text("error") ?? "")")
        #expect(env.note(task)?.text("context_truncated") == nil)
        let prompt = try #require(env.fixtureRuns().last { $0["tool"]?.stringValue == "claude" }?["prompt"]?.stringValue)
        #expect(prompt.contains("Step 600: fix the harbour pipeline"), "the task's whole text reached claude")
    }

    @Test func withTruncateAllowTheTaskRunsCutAndTaskResultAndTelemetrySaySo() throws {
        let env = try WatchedVault()
        let agent = try #require(env.text("Rules/Agents/claude.md"))
        try env.write("Rules/Agents/claude.md", agent.replacingOccurrences(of: "context_tokens: 16000\n", with: "context_tokens: 16000\ntruncate: allow\n"))
        try env.start()
        let task = "Tasks/Long report.md"
        try env.writeInPlace(task, "---\ntype: task\nagent: claude\n---\n" + Self.longBody + "\n")

        let done = eventually(within: 30, every: 0.05) { ["done", "failed", "blocked"].contains(env.status(task) ?? "") }
        try #require(done && env.status(task) == "done", "\(env.status(task) ?? "missing")\n\(env.note(task)?.text("error") ?? "")\n\(env.allLogs)")
        let note = try #require(env.note(task))
        #expect(note["context_truncated"]?.bool == true)
        let sent = Int(try #require(note["context_tokens_sent"]?.number))
        let leftOut = Int(try #require(note["context_tokens_left_out"]?.number))
        #expect(sent <= 16_000 && sent > 15_000, "sent \(sent)")
        #expect(leftOut > 60_000, "left out \(leftOut)")
        #expect(note.texts("route_verdicts").contains { $0.hasPrefix("context: ok — truncated") })

        let prompt = try #require(env.fixtureRuns().last { $0["tool"]?.stringValue == "claude" }?["prompt"]?.stringValue)
        #expect(prompt.contains("Line 1: "))
        #expect(!prompt.contains("Line 4000: "))

        let result = try #require(env.linked(note.text("result")))
        #expect(result.note["context_truncated"]?.bool == true)
        #expect(result.note["context_tokens_left_out"]?.number == Double(leftOut))
        #expect(result.note.body.contains("Context truncated"))

        // The journal line lands in the same run as the final status, a moment apart: wait for it.
        _ = eventually(within: 10, every: 0.05) { env.telemetryLines().contains { $0["task"]?.stringValue == task } }
        let line = try #require(env.telemetryLines().last { $0["task"]?.stringValue == task })
        #expect(line["context_truncated"]?.boolValue == true)
        #expect(line["context_tokens_left_out"]?.intValue == leftOut)
        let row = eventually(within: 20, every: 0.05) {
            env.text(TelemetryWriter.notePath(Date()))?.contains("done, context truncated: \(leftOut) tokens left out") == true
        }
        #expect(row, "\(env.text(TelemetryWriter.notePath(Date())) ?? "no telemetry note")")
    }
}

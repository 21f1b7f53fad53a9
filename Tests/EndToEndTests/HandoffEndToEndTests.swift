import AgentOS
import Foundation
import TestSupport
import Testing

/// The seed's promise that a harness switch is not a restart, end to end with the real watcher:
/// a fixture `claude` hands off through `fuckbigtech handoff`, and the watcher runs a fixture `codex`
/// whose prompt carries the handoff and the linked notes with their paths.
@Suite(.serialized) struct HandoffEndToEndTests {
    @Test func claudeHandsOffToCodexThroughTheCommandAndTheResultLinksBack() throws {
        let env = try WatchedVault()
        try env.write("Memory/Auth design.md", "---\ntype: note\n---\n# Auth design\n\nAccess tokens live fifteen minutes; refresh tokens rotate on every use.\n")
        try env.start()
        let task = "Tasks/Token refresh.md"
        try env.writeInPlace(task, "---\ntype: task\nagent: claude\n---\nPlan the token refresh for the login flow. FIXTURE_MODE=handoff\n")

        // claude ran, handed off, and codex ran the handoff.
        let settled = eventually(within: 30, every: 0.05) {
            guard env.status(task) == "done", let handoffs = env.note(task)?.texts("handoffs"), let link = handoffs.first,
                  let handoff = env.linked(link) else { return false }
            return handoff.note.text("status") == "done"
        }
        try #require(settled, "the handoff did not complete:\n\(env.text(task) ?? "missing")\n\(env.allLogs)")
        let handoffLink = try #require(env.note(task)?.texts("handoffs").first)
        let handoff = try #require(env.linked(handoffLink))
        #expect(handoff.path.hasPrefix("Handoffs/"))
        #expect(handoff.note.text("from") == "claude")
        #expect(handoff.note.text("to") == "codex")
        #expect(handoff.note.text("task") == "[[Tasks/Token refresh]]")
        #expect(handoff.note.text("route_agent") == "codex")

        // What codex received: the handoff body and the linked notes' text, each under its path.
        let codexPrompt = try #require(env.fixtureRuns().last { $0["tool"]?.stringValue == "codex" }?["prompt"]?.stringValue)
        #expect(codexPrompt.contains("Handoff — \(handoff.path)"))
        #expect(codexPrompt.contains("Planned the token refresh. Left: implement the rotation in auth.swift and add a test."))
        #expect(codexPrompt.contains("Linked note — Tasks/Token refresh.md"))
        #expect(codexPrompt.contains("Plan the token refresh for the login flow."))
        #expect(codexPrompt.contains("Linked note — Memory/Auth design.md"))
        #expect(codexPrompt.contains("refresh tokens rotate on every use"))

        // The result links back to the handoff and the task, and lists its sources.
        let result = try #require(env.linked(handoff.note.text("result")))
        #expect(result.note.text("type") == "result")
        #expect(result.note.text("handoff") == TelemetryWriter.link(handoff.path))
        #expect(result.note.text("task") == "[[Tasks/Token refresh]]")
        #expect(result.note.texts("sources").contains("[[Memory/Auth design]]"))
        #expect(result.note.texts("sources").contains("[[Tasks/Token refresh]]"))

        // The daily log has the handoff and both runs (run lines are written in batches: wait a moment).
        _ = eventually(within: 20, every: 0.05) { env.text(TelemetryWriter.dailyPath(Date()))?.contains("→ codex (premium): done") == true }
        let daily = try #require(env.text(TelemetryWriter.dailyPath(Date())))
        #expect(daily.contains("handoff \(TelemetryWriter.link(handoff.path)): claude → codex for [[Tasks/Token refresh]]"))
        #expect(daily.contains("[[Tasks/Token refresh]] → claude (premium): done"))
        #expect(daily.contains("\(TelemetryWriter.link(handoff.path)) → codex (premium): done"))
        try env.stop(SIGINT)
    }
}

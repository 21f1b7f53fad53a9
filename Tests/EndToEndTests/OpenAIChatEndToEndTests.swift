import AgentOS
import Foundation
import TestSupport
import Testing

/// The OpenAI-compatible local lane with the real watcher: the shipped `llama-server` agent note
/// pointed at a stand-in server (loopback), a task dropped in `Tasks/`, the streamed answer in the
/// result note and its token counts in telemetry; then the server goes away and the next task fails
/// with the one-line reason.
@Suite(.serialized) struct OpenAIChatEndToEndTests {
    @Test func theWatcherRunsATaskThroughAnOpenAICompatibleServer() throws {
        let server = try OpenAIChatStandIn()
        defer { server.stop() }
        let env = try WatchedVault()
        try env.store.updateProperties("Rules/Agents/llama-server.md", set: [Property("endpoint", .string(server.endpoint))])
        try env.start()

        let task = "Tasks/Rivers.md"
        try env.writeInPlace(task, "---\ntype: task\nagent: llama-server\n---\nName three rivers in Portugal.\n")
        try #require(eventually(within: 30, every: 0.05) { env.status(task) == "done" }, "\(env.text(task) ?? "missing")\n\(env.allLogs)")
        let result = try #require(env.linked(env.note(task)?.text("result")))
        #expect(result.note.text("agent") == "llama-server" && result.note.text("lane") == "local")
        #expect(result.note["tokens_in"] == .int(12) && result.note["tokens_out"] == .int(7))
        #expect(result.note.body.contains("answer to: ") && result.note.body.contains("Name three rivers in Portugal.") && result.note.body.contains("(stream=True, usage=True)"))
        let line = try #require(eventually(within: 20, every: 0.05) { env.telemetryLines().contains { $0["task"]?.stringValue == task } } ? env.telemetryLines().last { $0["task"]?.stringValue == task } : nil)
        #expect(line["tokens_in"]?.intValue == 12 && line["tokens_out"]?.intValue == 7 && line["cost_usd"]?.doubleValue == 0)

        server.stop()
        let down = "Tasks/Lakes.md"
        try env.writeInPlace(down, "---\ntype: task\nagent: llama-server\n---\nName three lakes.\n")
        try #require(eventually(within: 30, every: 0.05) { env.status(down) == "failed" }, "\(env.text(down) ?? "missing")\n\(env.allLogs)")
        #expect(env.note(down)?.text("error") == "cannot reach the OpenAI-compatible server at \(server.endpoint) (connection refused); is it running (llama-server, LM Studio, vLLM, `ollama serve`)?")
        #expect(env.isRunning, "the watcher keeps running")
        try env.stop(SIGINT)
    }
}

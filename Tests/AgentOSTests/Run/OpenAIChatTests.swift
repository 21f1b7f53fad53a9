import Foundation
import TestSupport
import Testing
@testable import AgentOS

@Suite(.serialized) struct OpenAIChatTests {
    static func agent(_ endpoint: String, model: String = "local-model", extra: String = "") throws -> AgentDefinition {
        let note = try Note.parse("---\ntype: agent\nname: llamacpp\nlane: local\noutput: openai-chat\nendpoint: \(endpoint)\nmodel: \(model)\ntimeout: 30\n\(extra)---\n")
        return try AgentDefinition.parse(note, path: "Rules/Agents/llamacpp.md")
    }

    @Test func aStreamedAnswerIsReadPieceByPieceWithTheUsageChunk() throws {
        let server = try OpenAIChatStandIn()
        defer { server.stop() }
        let d = try Self.agent(server.endpoint)
        #expect(d.streams && d.lane == .local && !d.isPaid)
        let r = AgentRunner.run(d, prompt: "Why is the sky blue?", model: nil, approved: false, workingDirectory: "/", timeout: nil, cancel: nil)
        #expect(r.isSuccess, "\(String(describing: r.failure))")
        // The server saw stream: true and include_usage, and every piece arrived in order.
        #expect(r.outcome.answer == "answer to: Why is the sky blue? (stream=True, usage=True)")
        #expect(r.outcome.tokensIn == 12 && r.outcome.tokensOut == 7)
        #expect(r.costUSD == 0 && !r.isCostEstimated && r.model == "local-model")
        #expect(r.argv.isEmpty)
    }

    @Test func aNonStreamedAnswerIsOneObject() throws {
        let server = try OpenAIChatStandIn()
        defer { server.stop() }
        let d = try Self.agent(server.endpoint + "/", extra: "stream: false\n")
        #expect(!d.streams)
        let r = AgentRunner.run(d, prompt: "hello", model: nil, approved: false, workingDirectory: "/", timeout: nil, cancel: nil)
        #expect(r.isSuccess)
        #expect(r.outcome.answer == "answer to: hello (stream=False, usage=False)")
        #expect(r.outcome.tokensIn == 12 && r.outcome.tokensOut == 7 && r.outcome.sessionID == "chatcmpl-1")
    }

    @Test func serverErrorsAreOneLineFailures() throws {
        let server = try OpenAIChatStandIn()
        defer { server.stop() }
        let d = try Self.agent(server.endpoint)
        let missing = AgentRunner.run(d, prompt: "x", model: "missing", approved: false, workingDirectory: "/", timeout: nil, cancel: nil)
        #expect(missing.failure == .toolError("llamacpp: the server answered HTTP 404: The model 'missing' does not exist"))
        let broken = AgentRunner.run(d, prompt: "one two three four", model: "broken", approved: false, workingDirectory: "/", timeout: nil, cancel: nil)
        #expect(broken.failure == .toolError("llamacpp: the model crashed while generating"))
        // The pieces that did arrive are kept with the failure.
        #expect(broken.outcome.answer == "answer to: ")
        let cut = AgentRunner.run(d, prompt: "one two three", model: "cut", approved: false, workingDirectory: "/", timeout: nil, cancel: nil)
        #expect(cut.failure?.description.contains("stream ended before the answer was finished") == true, "\(String(describing: cut.failure))")
        let slow = AgentRunner.run(d, prompt: "x", model: "slow", approved: false, workingDirectory: "/", timeout: 0.3, cancel: nil)
        #expect(slow.failure == .timedOut(seconds: 0.3))
    }

    @Test func aServerThatIsDownIsAClearUnreachableError() throws {
        // A port that was free a moment ago: nothing listens there.
        let d = try Self.agent("http://127.0.0.1:9/v1")
        let r = AgentRunner.run(d, prompt: "x", model: nil, approved: false, workingDirectory: "/", timeout: 5, cancel: nil)
        #expect(r.failure?.code == "unreachable")
        #expect(r.errorMessage == "cannot reach the OpenAI-compatible server at http://127.0.0.1:9/v1 (connection refused); is it running (llama-server, LM Studio, vLLM, `ollama serve`)?")
        #expect(AgentAvailability.probe(d, environment: [:], timeout: 1)?.contains("cannot reach the OpenAI-compatible server at http://127.0.0.1:9/v1") == true)
    }

    @Test func aRemoteEndpointMarkedPremiumIsPricedAndSendsItsKey() throws {
        let server = try OpenAIChatStandIn()
        defer { server.stop() }
        let note = try Note.parse("""
        ---
        type: agent
        name: remote
        lane: premium
        output: openai-chat
        endpoint: \(server.endpoint)
        model: keyed
        api_key_env: REMOTE_KEY
        price_in_per_mtok: 1000
        price_out_per_mtok: 2000
        ---
        """)
        let d = try AgentDefinition.parse(note)
        #expect(d.isPaid && d.apiKeyVariable == "REMOTE_KEY")
        let r = AgentRunner.run(d, prompt: "hi", model: nil, approved: false, workingDirectory: "/", timeout: 10, cancel: nil, environment: ["REMOTE_KEY": "sekrit"])
        #expect(r.isSuccess, "\(String(describing: r.failure))")
        // 12 tokens in × $1000/M + 7 out × $2000/M.
        #expect(r.isCostEstimated && abs((r.costUSD ?? 0) - 0.026) < 1e-9)
        let wrong = AgentRunner.run(d, prompt: "hi", model: nil, approved: false, workingDirectory: "/", timeout: 10, cancel: nil, environment: ["REMOTE_KEY": "nope"])
        #expect(wrong.failure == .toolError("remote: the server answered HTTP 401: Incorrect API key provided"))
        let unset = AgentRunner.run(d, prompt: "hi", model: nil, approved: false, workingDirectory: "/", timeout: 10, cancel: nil, environment: [:])
        #expect(unset.failure?.code == "invalid_agent" && unset.errorMessage?.contains("REMOTE_KEY, which is not set") == true)
        // Availability asks /v1/models and says when the server is up.
        #expect(AgentAvailability.probe(d, environment: [:], timeout: 5) == nil)
    }

    @Test func theNoteIsCheckedWhenItLoads() throws {
        func problem(_ lines: String) -> String? {
            do {
                _ = try AgentDefinition.parse(try Note.parse("---\ntype: agent\nname: x\nlane: local\noutput: openai-chat\n\(lines)---\n"), path: "Rules/Agents/x.md")
                return nil
            } catch { return String(describing: error) }
        }
        #expect(problem("model: m\n")?.contains("missing 'endpoint'") == true)
        #expect(problem("endpoint: https://api.example.com/v1\n")?.contains("only plain http:// is supported") == true)
        #expect(problem("endpoint: http://localhost:8080\ncommand: [curl]\n")?.contains("'command' is not used by output openai-chat") == true)
        #expect(problem("endpoint: http://localhost:8080\nstream: maybe\n") == "Rules/Agents/x.md: 'stream' is true or false")
        #expect(problem("endpoint: http://localhost:8080\napi_key_env: \"A=B\"\n")?.contains("names an environment variable") == true)
        #expect(problem("endpoint: http://localhost:8080\n") == nil)
    }

    @Test func endpointsAreTakenAsUsersCopyThem() {
        #expect(OpenAIChatClient.completionsURL(endpoint: "http://localhost:8080") == "http://localhost:8080/v1/chat/completions")
        #expect(OpenAIChatClient.completionsURL(endpoint: "http://localhost:1234/v1/") == "http://localhost:1234/v1/chat/completions")
        #expect(OpenAIChatClient.completionsURL(endpoint: "http://h:8000/v1/chat/completions") == "http://h:8000/v1/chat/completions")
        #expect(OpenAIChatClient.modelsURL(endpoint: "http://localhost:11434/v1") == "http://localhost:11434/v1/models")
    }

    @Test func aTaskRoutedToTheAgentGetsItsResultTokensAndTelemetry() throws {
        let server = try OpenAIChatStandIn()
        defer { server.stop() }
        let env = try EngineTestVault()
        try env.store.write("---\ntype: agent\nname: llamacpp\nlane: local\noutput: openai-chat\nendpoint: \(server.endpoint)\nmodel: local-model\ntimeout: 30\n---\n# llama-server\n",
                            to: "Rules/Agents/llamacpp.md", expecting: .absent)
        let engine = try env.engine()
        let path = try env.writeTask("Chat", properties: "type: task\nagent: llamacpp", body: "Name three rivers.")
        guard case .started(let runID) = engine.consider(path: path, wait: true) else {
            Issue.record("the task did not start")
            return
        }
        engine.waitUntilIdle()
        let task = try env.note(path)
        #expect(task.text("status") == "done", "\(task.text("error") ?? "")")
        let result = try env.text(String(try #require(task.text("result")).dropFirst(2).dropLast(2)) + ".md")
        #expect(result.contains("answer to: ") && result.contains("Name three rivers.") && result.contains("(stream=True, usage=True)"))
        let jsonl = try #require(PlatformTestSupport.read(env.vault.stateDirectory + "/telemetry.jsonl"))
        let line = try #require(jsonl.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }.first { $0["run_id"]?.stringValue == runID })
        #expect(line["tokens_in"]?.intValue == 12 && line["tokens_out"]?.intValue == 7)
        #expect(line["cost_usd"]?.doubleValue == 0 && line["model"]?.stringValue == "local-model")

        // The server goes away: the next task fails with the one-line reason, recorded the same way.
        server.stop()
        let down = try env.writeTask("Chat again", properties: "type: task\nagent: llamacpp", body: "Name three lakes.")
        _ = engine.consider(path: down, wait: true)
        engine.waitUntilIdle()
        let failed = try env.note(down)
        #expect(failed.text("status") == "failed")
        #expect(failed.text("error")?.contains("cannot reach the OpenAI-compatible server at \(server.endpoint)") == true, "\(failed.text("error") ?? "")")
    }
}

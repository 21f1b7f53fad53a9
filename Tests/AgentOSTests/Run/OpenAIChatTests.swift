import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// A stand-in for an OpenAI-compatible server (llama-server, LM Studio, vLLM, Ollama's `/v1`):
/// python3's http.server on a random loopback port, answering `POST /v1/chat/completions` as they
/// do — an SSE stream sent chunked (one `data:` event per piece, a last chunk with `usage` when
/// `stream_options.include_usage` asks for it, `data: [DONE]`), or one JSON object — and `GET
/// /v1/models`. The model name picks a behaviour: `missing` (404 with an OpenAI error object),
/// `broken` (an error chunk inside the stream), `cut` (a stream that stops early), `slow` (answers
/// after 5 s), `keyed` (401 unless the bearer key is `sekrit`).
final class OpenAIChatStandIn: @unchecked Sendable {
    static let script = #"""
    import http.server, json, sys, threading, time
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def send_json(self, code, obj):
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        def do_GET(self):
            if self.path == "/v1/models":
                self.send_json(200, {"object": "list", "data": [{"id": "local-model", "object": "model"}]})
            else:
                self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            model = body["model"]
            if self.path != "/v1/chat/completions":
                return self.send_json(404, {"error": {"message": "no route " + self.path}})
            if model == "missing":
                return self.send_json(404, {"error": {"message": "The model 'missing' does not exist", "type": "invalid_request_error", "code": "model_not_found"}})
            if model == "keyed" and self.headers.get("Authorization") != "Bearer sekrit":
                return self.send_json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
            if model == "slow":
                time.sleep(5)
            prompt = body["messages"][-1]["content"]
            stream = body.get("stream", False)
            usage_asked = bool(body.get("stream_options", {}).get("include_usage"))
            answer = "answer to: %s (stream=%s, usage=%s)" % (prompt, stream, usage_asked)
            usage = {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
            if not stream:
                return self.send_json(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}], "usage": usage})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            def event(obj):
                data = b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n"
                self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n"); self.wfile.flush()
            def chunk(delta, finish=None):
                return {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            event(chunk({"role": "assistant", "content": ""}))
            words = answer.split(" ")
            for i, word in enumerate(words):
                if model == "cut" and i == 2:
                    break
                if model == "broken" and i == 2:
                    event({"error": {"message": "the model crashed while generating", "type": "server_error"}})
                    break
                event(chunk({"content": word + ("" if i == len(words) - 1 else " ")}))
            if model not in ("cut", "broken"):
                event(chunk({}, "stop"))
                if usage_asked:
                    event({"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [], "usage": usage})
                event(b"[DONE]")
            self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    """#

    let process: ChildProcess
    /// The port it listens on (127.0.0.1).
    let port: Int

    /// Starts the stand-in and waits for it to print its port.
    init() throws {
        process = try ChildProcess(try ExternalTool.require("python3"), ["-c", OpenAIChatStandIn.script], input: .pipe)
        let line = try process.firstLine(within: 30)
        guard let port = Int(line) else { throw TestSupportError("the OpenAI-compatible stand-in printed no port: \(line) \(process.stderr)") }
        self.port = port
    }

    /// The endpoint as an agent note writes it.
    var endpoint: String { "http://127.0.0.1:\(port)/v1" }

    /// Closes its stdin, so it stops, and waits for it.
    func stop() {
        process.closeInput()
        _ = process.finish(timeout: 30)
    }
}

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

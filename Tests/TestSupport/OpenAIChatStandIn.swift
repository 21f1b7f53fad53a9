import Foundation

/// A stand-in for an OpenAI-compatible server (llama-server, LM Studio, vLLM, Ollama's `/v1`):
/// python3's http.server on a random loopback port, answering `POST /v1/chat/completions` as they
/// do — an SSE stream sent chunked (one `data:` event per piece, a last chunk with `usage` when
/// `stream_options.include_usage` asks for it, `data: [DONE]`), or one JSON object — and `GET
/// /v1/models`. The model name picks a behaviour: `missing` (404 with an OpenAI error object),
/// `broken` (an error chunk inside the stream), `cut` (a stream that stops early), `slow` (answers
/// after 5 s), `keyed` (401 unless the bearer key is `sekrit`).
public final class OpenAIChatStandIn: @unchecked Sendable {
    /// The server, a python3 script.
    public static let script = #"""
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

    /// The python3 process.
    public let process: ChildProcess
    /// The port it listens on (127.0.0.1).
    public let port: Int

    /// Starts the stand-in and waits for it to print its port.
    public init() throws {
        process = try ChildProcess(try ExternalTool.require("python3"), ["-c", OpenAIChatStandIn.script], input: .pipe)
        let line = try process.firstLine(within: 30)
        guard let port = Int(line) else { throw TestSupportError("the OpenAI-compatible stand-in printed no port: \(line) \(process.stderr)") }
        self.port = port
    }

    /// The endpoint as an agent note writes it.
    public var endpoint: String { "http://127.0.0.1:\(port)/v1" }

    /// Closes its stdin, so it stops, and waits for it.
    public func stop() {
        process.closeInput()
        _ = process.finish(timeout: 30)
    }
}

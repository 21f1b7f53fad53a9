import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// A real HTTP server for the client tests: python3's http.server on random loopback ports (IPv4,
/// and IPv6 when the machine has it), plus a listener that accepts connections and never answers,
/// plus a port with nothing behind it. It stops when its stdin closes.
///
/// Like `OllamaStandIn` in the runner tests, but with the responses these tests need (chunked,
/// end-of-connection, huge, garbage), so it carries its own script.
final class HTTPTestServer: @unchecked Sendable {
    static let script = #"""
    import http.server, json, socket, sys, threading
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def raw(self, data):
            # Write our own bytes and close: the end of the connection ends the body.
            self.close_connection = True
            try:
                self.wfile.write(data); self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
        def chunked(self, parts, content_type="text/plain"):
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in parts:
                self.wfile.write(b"%x;note=1\r\n" % len(part) + part + b"\r\n"); self.wfile.flush()
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        def do_GET(self):
            if self.path == "/length":
                data = b"hello, length"
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Test", "yes")
                self.end_headers()
                self.wfile.write(data)
            elif self.path == "/chunked":
                self.chunked([b"hello, ", b"chunked", b" world" * 20000])
            elif self.path == "/eof":
                self.raw(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, eof\nsecond line")
            elif self.path == "/missing":
                data = b"no such page"
                self.send_response(404)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif self.path == "/huge":
                self.close_connection = True
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                    for _ in range(128):
                        self.wfile.write(b"x" * 65536)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            elif self.path == "/declared-huge":
                self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\nxxxx")
            elif self.path == "/short":
                self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
            elif self.path == "/garbage":
                self.raw(b"SSH-2.0-OpenSSH_9.6\r\n")
            else:
                self.send_error(400)
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/api/generate":
                request = json.loads(body)
                answer = json.dumps({"model": request["model"], "response": "chunked answer: " + request["prompt"],
                    "done": True, "prompt_eval_count": 3, "eval_count": 4}).encode()
                # Ollama (Go's net/http) sends larger answers chunked; split this one to make sure.
                self.chunked([answer[:10], answer[10:]], "application/json; charset=utf-8")
                return
            echo = self.command.encode() + b" " + self.headers["Content-Type"].encode() + b"\n" + body
            self.send_response(201)
            self.send_header("Content-Length", str(len(echo)))
            self.end_headers()
            self.wfile.write(echo)
    v4 = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=v4.serve_forever, daemon=True).start()
    v6port = 0
    try:
        class V6(http.server.ThreadingHTTPServer):
            address_family = socket.AF_INET6
        v6 = V6(("::1", 0), H)
        threading.Thread(target=v6.serve_forever, daemon=True).start()
        v6port = v6.server_address[1]
    except OSError:
        pass
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    held = []
    def hold():
        while True:
            held.append(silent.accept()[0])
    threading.Thread(target=hold, daemon=True).start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closedport = closed.getsockname()[1]
    closed.close()
    print(v4.server_address[1], v6port, silent.getsockname()[1], closedport, flush=True)
    sys.stdin.read()
    """#

    let process: ChildProcess
    /// The HTTP server on 127.0.0.1.
    let port: Int
    /// The same server on ::1, or 0 when the machine has no IPv6 loopback.
    let ipv6Port: Int
    /// Accepts connections and never answers.
    let silentPort: Int
    /// Was free a moment ago: nothing listens there.
    let closedPort: Int

    /// Starts the servers and waits for them to print their ports.
    init() throws {
        process = try ChildProcess(try ExternalTool.require("python3"), ["-c", HTTPTestServer.script], input: .pipe)
        let line = try process.firstLine(within: 30)
        let ports = line.split(separator: " ").compactMap { Int($0) }
        guard ports.count == 4 else { throw TestSupportError("the test server printed no ports: \(line) \(process.stderr)") }
        (port, ipv6Port, silentPort, closedPort) = (ports[0], ports[1], ports[2], ports[3])
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// Closes its stdin, so it stops, and waits for it.
    func stop() {
        process.closeInput()
        _ = process.finish(timeout: 30)
    }
}

@Suite(.serialized) struct HTTPClientTests {
    /// Runs `body` with a fresh server, stopping it afterwards.
    func withServer(_ body: (HTTPTestServer) throws -> Void) throws {
        let server = try HTTPTestServer()
        defer { server.stop() }
        try body(server)
    }

    /// The error `body` throws, or `nil` if it returns.
    func failure(_ body: () throws(HTTPClient.HTTPError) -> HTTPClient.Response) -> HTTPClient.HTTPError? {
        do { _ = try body(); return nil } catch { return error }
    }

    @Test func readsABodyDelimitedByContentLength() throws {
        try withServer { server in
            let r = try HTTPClient.get(server.base + "/length", timeout: 10)
            #expect(r.status == 200 && r.reason == "OK")
            #expect(r.text == "hello, length")
            #expect(r.header("x-test") == "yes" && r.header("CONTENT-LENGTH") == "13")
        }
    }

    @Test func readsAChunkedBodyAcrossManyReads() throws {
        try withServer { server in
            let r = try HTTPClient.get(server.base + "/chunked", timeout: 10)
            #expect(r.status == 200)
            #expect(r.body.count == 14 + 6 * 20000)
            #expect(r.text == "hello, chunked" + String(repeating: " world", count: 20000))
            #expect(r.header("X-Trailer") == nil)
        }
    }

    @Test func readsABodyThatEndsWithTheConnection() throws {
        try withServer { server in
            let r = try HTTPClient.get(server.base + "/eof", timeout: 10)
            #expect(r.status == 200 && r.header("Content-Type") == "text/plain")
            #expect(r.text == "hello, eof\nsecond line")
        }
    }

    @Test func postSendsTheBodyAndContentType() throws {
        try withServer { server in
            // A megabyte does not fit the socket buffer at once, so sending has to wait for the reader.
            let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) }
            let r = try HTTPClient.post(server.base + "/echo", body: payload, contentType: "application/octet-stream", timeout: 20)
            #expect(r.status == 201)
            let prefix = Array("POST application/octet-stream\n".utf8)
            #expect(Array(r.body.prefix(prefix.count)) == prefix)
            #expect(Array(r.body.dropFirst(prefix.count)) == payload)
        }
    }

    @Test func errorStatusesAreResponsesNotErrors() throws {
        try withServer { server in
            let r = try HTTPClient.get(server.base + "/missing", timeout: 10)
            #expect(r.status == 404 && r.text == "no such page")
        }
    }

    @Test func connectionRefusedIsTyped() throws {
        try withServer { server in
            let error = failure { () throws(HTTPClient.HTTPError) in try HTTPClient.get("http://127.0.0.1:\(server.closedPort)/", timeout: 5) }
            #expect(error == .connectionRefused(host: "127.0.0.1", port: server.closedPort))
            #expect(error?.description == "connection refused by 127.0.0.1:\(server.closedPort): nothing is listening there")
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() throws {
        try withServer { server in
            let error = failure { () throws(HTTPClient.HTTPError) in try HTTPClient.get("http://127.0.0.1:\(server.silentPort)/", timeout: 0.3) }
            #expect(error == .timedOut(seconds: 0.3))
            #expect(error?.description == "no answer within 300 ms")
        }
    }

    @Test func cancellingStopsTheWait() throws {
        try withServer { server in
            let token = CancelToken()
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { token.cancel() }
            // Without the token this would wait the full minute and end as a timeout.
            let error = failure { () throws(HTTPClient.HTTPError) in
                try HTTPClient.get("http://127.0.0.1:\(server.silentPort)/", timeout: 60, cancel: token)
            }
            #expect(error == .cancelled)
        }
    }

    @Test func hugeBodiesAreCapped() throws {
        try withServer { server in
            // 8 MB streamed until the connection ends, against a 1 MB cap.
            let streamed = failure { () throws(HTTPClient.HTTPError) in try HTTPClient.get(server.base + "/huge", timeout: 20, maxBodyBytes: 1 << 20) }
            #expect(streamed == .bodyTooLarge(limit: 1 << 20))
            #expect(streamed?.description == "the response body is larger than the 1 MB limit")
            // A 100 GB Content-Length is refused before reading, under the default 64 MB cap.
            let declared = failure { () throws(HTTPClient.HTTPError) in try HTTPClient.get(server.base + "/declared-huge", timeout: 20) }
            #expect(declared == .bodyTooLarge(limit: 64 << 20))
            // Under the cap the same stream is read whole.
            let whole = try HTTPClient.get(server.base + "/huge", timeout: 20, maxBodyBytes: 16 << 20)
            #expect(whole.body.count == 128 * 65536)
        }
    }

    @Test func malformedAndTruncatedResponsesAreErrors() throws {
        try withServer { server in
            let garbage = failure { () throws(HTTPClient.HTTPError) in try HTTPClient.get(server.base + "/garbage", timeout: 10) }
            #expect(garbage == .malformedResponse("not an HTTP/1.x status line: SSH-2.0-OpenSSH_9.6"))
            let short = failure { () throws(HTTPClient.HTTPError) in try HTTPClient.get(server.base + "/short", timeout: 10) }
            #expect(short == .malformedResponse("the connection closed after 9 of 100 announced body bytes"))
        }
    }

    @Test func reachesLocalhostAndIPv6Loopback() throws {
        try withServer { server in
            let named = try HTTPClient.get("http://localhost:\(server.port)/length", timeout: 10)
            #expect(named.text == "hello, length")
            try #require(server.ipv6Port != 0, "this machine has an IPv6 loopback (::1); the server could not bind it")
            let v6 = try HTTPClient.get("http://[::1]:\(server.ipv6Port)/length", timeout: 10)
            #expect(v6.text == "hello, length")
        }
    }

    @Test func httpsIsRefusedWithAClearError() {
        let error = failure { () throws(HTTPClient.HTTPError) in try HTTPClient.get("https://localhost:11434/api/version", timeout: 1) }
        #expect(error == .unsupportedScheme(url: "https://localhost:11434/api/version"))
        #expect(error?.description.contains("use http://localhost:11434") == true)
    }

    @Test func parsesTheURLsWeUse() throws {
        let plain = try HTTPURL(parsing: "http://localhost")
        #expect(plain == HTTPURL(host: "localhost", port: 80, target: "/"))
        let v6 = try HTTPURL(parsing: "http://[::1]:11434/api/tags?x=1#top")
        #expect(v6 == HTTPURL(host: "::1", port: 11434, target: "/api/tags?x=1"))
        #expect(v6.hostHeader == "[::1]:11434")
        let query = try HTTPURL(parsing: "HTTP://127.0.0.1:8080?a=b")
        #expect(query == HTTPURL(host: "127.0.0.1", port: 8080, target: "/?a=b"))
        for bad in ["http://", "http://host:0/", "http://host:99999", "localhost:11434", "http://user@host/", "http://a b/", "http://[::1/"] {
            #expect(throws: HTTPClient.HTTPError.invalidURL(bad)) { try HTTPURL(parsing: bad) }
        }
    }

    @Test func headersCannotSmuggleLines() {
        let request = HTTPClient.Request(method: "GET", url: "http://127.0.0.1:1/", headers: [HTTPClient.Header("X-A", "1\r\nX-B: 2")])
        let error = failure { () throws(HTTPClient.HTTPError) in try HTTPClient.send(request, timeout: 1) }
        #expect(error == .invalidURL("http://127.0.0.1:1/"))
    }

    @Test func ollamaClientReadsAChunkedAnswerAndWordsErrorsForOllama() throws {
        try withServer { server in
            let answer = OllamaClient.generate(endpoint: server.base + "/", model: "m", prompt: "hi", timeout: 10, cancel: nil)
            guard case .answered(let status, let body) = answer else { Issue.record("no answer: \(answer)"); return }
            #expect(status == 200)
            let outcome = AgentOutputParser.parseOllama(String(decoding: body, as: UTF8.self))
            #expect(outcome.answer == "chunked answer: hi" && outcome.tokensIn == 3 && outcome.tokensOut == 4)

            let refused = OllamaClient.generate(endpoint: "http://127.0.0.1:\(server.closedPort)", model: "m", prompt: "hi", timeout: 5, cancel: nil)
            guard case .failed(let error) = refused else { Issue.record("answered: \(refused)"); return }
            #expect(error.description == "cannot reach ollama at http://127.0.0.1:\(server.closedPort) (connection refused); is `ollama serve` running?")

            let silent = OllamaClient.generate(endpoint: "http://127.0.0.1:\(server.silentPort)", model: "m", prompt: "hi", timeout: 0.3, cancel: nil)
            guard case .failed(let late) = silent, late.kind == .timedOut(seconds: 0.3) else { Issue.record("not a timeout: \(silent)"); return }

            let secure = OllamaClient.generate(endpoint: "https://127.0.0.1:11434", model: "m", prompt: "hi", timeout: 1, cancel: nil)
            guard case .failed(let refusal) = secure, case .other(let message) = refusal.kind else { Issue.record("https was not refused: \(secure)"); return }
            #expect(message.contains("only plain http://"))
        }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The Model Context Protocol server `fuckbigtech mcp` runs: newline-delimited JSON-RPC 2.0 on a
/// pair of file descriptors (stdin/stdout), only protocol messages on the output, logs through
/// `log` (stderr). It serves both revisions clients speak: the handshake one (`initialize`, then
/// `notifications/initialized`; versions 2024-11-05 … 2025-11-25) and the stateless 2026-07-28 one
/// (`server/discover`, the protocol version and client capabilities in every request's `_meta`,
/// `resultType` on every result, error -32022 for a version it does not serve). The wire format
/// follows `schema/2025-11-25/schema.ts` and `schema/2026-07-28/schema.ts` of
/// modelcontextprotocol/modelcontextprotocol.
///
/// Bad input never stops it: malformed JSON is answered -32700, a message that is not a request
/// -32600, an unknown method -32601, bad parameters -32602, and a line longer than `maxLineBytes`
/// is dropped unread (answered -32600) instead of being buffered without bound.
///
/// One thread reads and parses lines; the calling thread runs the requests one at a time, in
/// order, and writes every answer. A `notifications/cancelled` is seen by the reader at once, so
/// a cancelled request still waiting in the queue is dropped unanswered, and one that is running
/// has its answer dropped (as the specification asks: the result will be unused).
public final class MCPServer {
    /// The handshake revisions, oldest first.
    public static let handshakeVersions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
    /// The stateless revisions (version and capabilities in each request's `_meta`).
    public static let statelessVersions = ["2026-07-28"]
    /// Every revision served.
    public static var supportedVersions: [String] { handshakeVersions + statelessVersions }
    /// The longest message read; a longer line is refused and skipped.
    public static let defaultMaxLineBytes = 4 << 20

    /// The `_meta` key carrying a stateless request's protocol version.
    static let versionKey = "io.modelcontextprotocol/protocolVersion"

    /// JSON-RPC and MCP error codes (schema.ts: PARSE_ERROR … UNSUPPORTED_PROTOCOL_VERSION).
    enum Code {
        static let parse = -32700, invalidRequest = -32600, methodNotFound = -32601, invalidParams = -32602
        static let internalError = -32603, unsupportedVersion = -32022
    }

    private let tools: MCPTools
    private let log: @Sendable (String) -> Void
    private let maxLineBytes: Int
    /// Requests read and not yet answered, and which of them the client cancelled, by id (compact
    /// JSON); shared by the reader and the runner. Only open requests can be cancelled, so neither
    /// set outgrows the queue however many cancellations a client sends.
    struct InFlight {
        var open: Set<String> = []
        var cancelled: Set<String> = []
    }
    private let inFlight = Locked(InFlight())
    /// Called with each request just before it runs (tests hold a request here to cancel it).
    var beforeRequest: (@Sendable (JSON) -> Void)?

    /// A server offering `tools`, refusing lines longer than `maxLineBytes`, logging through `log`.
    public init(tools: MCPTools, maxLineBytes: Int = MCPServer.defaultMaxLineBytes, log: @escaping @Sendable (String) -> Void) {
        self.tools = tools
        self.maxLineBytes = maxLineBytes
        self.log = log
    }

    /// What the reader hands the runner.
    private enum Inbound: Sendable {
        case request(JSON)
        case reply(JSON)
        case end
    }

    /// Serves until `input` reaches end of file; returns the exit status (0).
    public func serve(input: Int32, output: Int32) -> Int32 {
        let channel = BoundedChannel<Inbound>(capacity: 64)
        let reader = Thread { [inFlight, maxLineBytes, log] in
            MCPServer.readLoop(fd: input, maxLineBytes: maxLineBytes, inFlight: inFlight, log: log, channel: channel)
        }
        reader.start()
        while true {
            switch channel.receive() {
            case .end:
                return 0
            case .reply(let message):
                write(message, to: output)
            case .request(let message):
                let key = message["id"]?.compact ?? ""
                // A request cancelled while it waited is not run.
                if inFlight.withLock({ $0.cancelled.contains(key) }) {
                    inFlight.withLock { $0.cancelled.remove(key); $0.open.remove(key) }
                    continue
                }
                beforeRequest?(message)
                let answer = respond(to: message)
                // A request cancelled while it ran: its answer is not sent.
                let wasCancelled = inFlight.withLock { state -> Bool in
                    state.open.remove(key)
                    return state.cancelled.remove(key) != nil
                }
                if wasCancelled { continue }
                if let answer { write(answer, to: output) }
            }
        }
    }

    /// Reads newline-delimited messages; parses each; answers what is malformed; queues the rest.
    private static func readLoop(fd: Int32, maxLineBytes: Int, inFlight: Locked<InFlight>, log: @Sendable (String) -> Void, channel: BoundedChannel<Inbound>) {
        var pending: [UInt8] = []
        var skipping = false
        var chunk = [UInt8](repeating: 0, count: 65536)
        func finish(_ line: ArraySlice<UInt8>) {
            var line = line
            if line.last == 0x0D { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            switch classify(Array(line), inFlight: inFlight) {
            case .request(let message):
                let key = message["id"]?.compact ?? ""
                _ = inFlight.withLock { $0.open.insert(key) }
                channel.send(.request(message))
            case .reply(let reply): channel.send(.reply(reply))
            case .end, nil: break
            }
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            var start = 0
            for i in 0..<n where chunk[i] == 0x0A {
                if skipping {
                    skipping = false
                } else {
                    pending.append(contentsOf: chunk[start..<i])
                    finish(pending[...])
                }
                pending.removeAll(keepingCapacity: pending.count <= 1 << 20)
                start = i + 1
            }
            if !skipping { pending.append(contentsOf: chunk[start..<n]) }
            if !skipping && pending.count > maxLineBytes {
                log("mcp: refused a message longer than \(maxLineBytes) bytes")
                channel.send(.reply(errorResponse(id: .null, code: Code.invalidRequest, message: "message longer than \(maxLineBytes) bytes; not read")))
                pending = []
                skipping = true
            }
        }
        if !skipping && !pending.isEmpty { finish(pending[...]) }
        channel.send(.end)
    }

    /// Sorts one line: a request to run, an error to send back at once, or nothing (a notification).
    private static func classify(_ line: [UInt8], inFlight: Locked<InFlight>) -> Inbound? {
        guard let message = try? JSON.parse(String(decoding: line, as: UTF8.self)) else {
            return .reply(errorResponse(id: .null, code: Code.parse, message: "parse error: not JSON"))
        }
        guard case .object = message else {
            let what = message.arrayValue != nil ? "batches are not supported" : "a message must be a JSON object"
            return .reply(errorResponse(id: .null, code: Code.invalidRequest, message: "invalid request: \(what)"))
        }
        let id = message["id"]
        let idIsValid: Bool
        switch id {
        case .string?, .int?: idIsValid = true
        default: idIsValid = false
        }
        let replyID = idIsValid ? id! : .null
        guard message["jsonrpc"]?.stringValue == "2.0" else {
            return .reply(errorResponse(id: replyID, code: Code.invalidRequest, message: "invalid request: \"jsonrpc\" must be \"2.0\""))
        }
        guard let method = message["method"] else {
            // A response from the client: this server sends no requests, so there is nothing to match.
            if message["result"] != nil || message["error"] != nil { return nil }
            return .reply(errorResponse(id: replyID, code: Code.invalidRequest, message: "invalid request: no \"method\""))
        }
        guard let name = method.stringValue else {
            return .reply(errorResponse(id: replyID, code: Code.invalidRequest, message: "invalid request: \"method\" must be a string"))
        }
        if id == nil {
            // A notification: never answered.
            if name == "notifications/cancelled", let target = message["params"]?["requestId"] {
                // Only an open request can be cancelled; a late cancellation is ignored.
                inFlight.withLock { state in
                    if state.open.contains(target.compact) { state.cancelled.insert(target.compact) }
                }
            }
            return nil
        }
        guard idIsValid else {
            return .reply(errorResponse(id: .null, code: Code.invalidRequest, message: "invalid request: \"id\" must be a string or an integer"))
        }
        return .request(message)
    }

    /// The answer to one request (already checked to be a well-formed request with an id).
    func respond(to message: JSON) -> JSON? {
        let id = message["id"] ?? .null
        let method = message["method"]?.stringValue ?? ""
        let params = message["params"] ?? .object([])
        guard case .object = params else {
            return MCPServer.errorResponse(id: id, code: Code.invalidParams, message: "invalid params: \"params\" must be an object")
        }
        // A stateless (2026-07-28) request names its revision in `_meta`; a handshake one does not.
        var stateless = false
        if let meta = params["_meta"], let requested = meta[MCPServer.versionKey] {
            guard let version = requested.stringValue, MCPServer.statelessVersions.contains(version) else {
                return MCPServer.errorResponse(id: id, code: Code.unsupportedVersion, message: "unsupported protocol version", data: .object([
                    ("supported", .array(MCPServer.supportedVersions.map { .string($0) })),
                    ("requested", requested.stringValue.map { .string($0) } ?? .string(requested.compact)),
                ]))
            }
            stateless = true
        }
        do {
            let result: [(String, JSON)]
            switch method {
            case "initialize":
                guard let asked = params["protocolVersion"]?.stringValue else {
                    throw MCPError.invalidParams("initialize needs \"protocolVersion\"")
                }
                // The client's revision when served, else the newest handshake one (the client decides).
                let version = MCPServer.handshakeVersions.contains(asked) ? asked : MCPServer.handshakeVersions.last!
                result = [
                    ("protocolVersion", .string(version)),
                    ("capabilities", capabilities),
                    ("serverInfo", serverInfo),
                    ("instructions", .string(tools.instructions)),
                ]
            case "server/discover":
                guard stateless else {
                    throw MCPError.invalidParams("server/discover needs _meta \"\(MCPServer.versionKey)\" (one of \(MCPServer.statelessVersions.joined(separator: ", ")))")
                }
                result = [
                    ("supportedVersions", .array(MCPServer.supportedVersions.map { .string($0) })),
                    ("capabilities", capabilities),
                    ("instructions", .string(tools.instructions)),
                    ("ttlMs", .int(0)), ("cacheScope", .string("private")),
                    ("_meta", .object([("io.modelcontextprotocol/serverInfo", serverInfo)])),
                ]
            case "ping":
                result = []
            case "tools/list":
                result = [("tools", .array(tools.definitions))] + (stateless ? [("ttlMs", .int(0)), ("cacheScope", .string("private"))] : [])
            case "tools/call":
                guard let name = params["name"]?.stringValue else { throw MCPError.invalidParams("tools/call needs \"name\"") }
                let arguments = params["arguments"] ?? .object([])
                guard case .object = arguments else { throw MCPError.invalidParams("\"arguments\" must be an object") }
                guard tools.has(name) else { throw MCPError.invalidParams("unknown tool '\(name)'; tools/list names them") }
                result = tools.call(name, arguments: arguments)
            default:
                return MCPServer.errorResponse(id: id, code: Code.methodNotFound, message: "method not found: \(method)")
            }
            let decorated = stateless ? result + [("resultType", .string("complete"))] : result
            return .object([("jsonrpc", .string("2.0")), ("id", id), ("result", .object(decorated))])
        } catch let error as MCPError {
            switch error {
            case .invalidParams(let why): return MCPServer.errorResponse(id: id, code: Code.invalidParams, message: "invalid params: \(why)")
            }
        } catch {
            return MCPServer.errorResponse(id: id, code: Code.internalError, message: ErrorText.oneLine(error))
        }
    }

    /// Whether the client cancelled the open request with this id (for tests).
    func isCancelled(_ id: JSON) -> Bool { inFlight.withLock { $0.cancelled.contains(id.compact) } }

    private var capabilities: JSON { .object([("tools", .object([("listChanged", .bool(false))]))]) }
    private var serverInfo: JSON { .object([("name", .string("fuckbigtech")), ("version", .string(AgentOSVersion.current))]) }

    static func errorResponse(id: JSON, code: Int, message: String, data: JSON? = nil) -> JSON {
        var error: [(String, JSON)] = [("code", .int(code)), ("message", .string(message))]
        if let data { error.append(("data", data)) }
        return .object([("jsonrpc", .string("2.0")), ("id", id), ("error", .object(error))])
    }

    /// Writes one message and its newline, whole (a short write is continued).
    private func write(_ message: JSON, to fd: Int32) {
        let bytes = Array((message.compact + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { log("mcp: cannot write to the client: \(String(cString: strerror(errno)))"); return }
            offset += n
        }
    }
}

/// A request whose parameters are wrong (JSON-RPC -32602).
enum MCPError: Error {
    case invalidParams(String)
}

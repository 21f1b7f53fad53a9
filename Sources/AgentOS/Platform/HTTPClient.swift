#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small blocking HTTP/1.1 client for servers on this machine (Ollama), written on raw sockets.
///
/// It exists so that the binary does not link FoundationNetworking, which pulls in libcurl and some
/// 25 more shared libraries and costs every process ~20 ms of start-up and ~12 MB of memory.
/// It does exactly what we need: `http://` URLs (no TLS, no proxies, no redirects, no keep-alive),
/// one request per connection (`Connection: close`), request bodies with `Content-Length`, and
/// responses delimited by `Content-Length`, `Transfer-Encoding: chunked` or the end of the connection.
/// One deadline covers resolving, connecting, sending and receiving; the cancel token is checked at
/// least every `pollSlice` seconds while waiting.
public enum HTTPClient {
    /// The largest response body accepted unless the caller says otherwise: 64 MB.
    public static let defaultMaxBodyBytes = 64 << 20

    /// The largest status line plus header section accepted: 64 KB.
    static let maxHeaderBytes = 64 << 10

    /// How long one `poll` waits before the deadline and the cancel token are looked at again.
    static let pollSlice = 0.05

    /// One header line, as sent or received.
    public struct Header: Equatable, Sendable {
        /// The field name, as written (compare case-insensitively).
        public var name: String
        /// The field value, without surrounding blanks.
        public var value: String

        /// A header `name: value`.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A request: method, `http://` URL, extra headers and body.
    ///
    /// `Host`, `Connection: close` and (when there is a body or the method is POST/PUT)
    /// `Content-Length` are added by the client.
    public struct Request: Sendable {
        /// `GET`, `POST`, …
        public var method: String
        /// An `http://host[:port][/path][?query]` URL.
        public var url: String
        /// Extra headers, such as `Content-Type`.
        public var headers: [Header]
        /// The request body (empty for none).
        public var body: [UInt8]

        /// A request with the given parts.
        public init(method: String, url: String, headers: [Header] = [], body: [UInt8] = []) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
        }
    }

    /// What the server answered: status, headers and the whole body.
    public struct Response: Equatable, Sendable {
        /// The status code, such as 200 or 404.
        public var status: Int
        /// The reason phrase after the code (may be empty).
        public var reason: String
        /// The headers in the order received (trailers of a chunked body are not included).
        public var headers: [Header]
        /// The body, with any chunked framing removed.
        public var body: [UInt8]

        /// The value of the first header called `name` (case-insensitive), or `nil`.
        public func header(_ name: String) -> String? {
            let wanted = name.lowercased()
            return headers.first { $0.name.lowercased() == wanted }?.value
        }

        /// The body as UTF-8 text (invalid bytes replaced).
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Why no complete response arrived, one clear line each.
    public enum HTTPError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The URL is not of the form `http://host[:port][/path]`.
        case invalidURL(String)
        /// The URL is `https://` (or another scheme); only plain `http://` to local servers is supported.
        case unsupportedScheme(url: String)
        /// The host name does not resolve.
        case unknownHost(host: String, reason: String)
        /// Nothing listens at the host and port (every address refused the connection).
        case connectionRefused(host: String, port: Int)
        /// Connecting, sending or receiving failed for another reason (unreachable, reset, …).
        case connectionFailed(host: String, port: Int, reason: String)
        /// The deadline passed before the whole response arrived.
        case timedOut(seconds: Double)
        /// The cancel token was raised while waiting.
        case cancelled
        /// The server's bytes are not an HTTP/1.x response we understand.
        case malformedResponse(String)
        /// The body is larger than the cap (`limit` bytes).
        case bodyTooLarge(limit: Int)

        public var description: String {
            switch self {
            case .invalidURL(let url):
                return "'\(url)' is not an http:// URL (expected http://host:port/path)"
            case .unsupportedScheme(let url):
                return "'\(url)' is not supported: only plain http:// to a local server is (Ollama is local; use http://localhost:11434)"
            case .unknownHost(let host, let reason):
                return "cannot resolve host '\(host)' (\(reason))"
            case .connectionRefused(let host, let port):
                return "connection refused by \(HTTPURL.authority(host: host, port: port)): nothing is listening there"
            case .connectionFailed(let host, let port, let reason):
                return "connection to \(HTTPURL.authority(host: host, port: port)) failed (\(reason))"
            case .timedOut(let seconds):
                return "no answer within \(HTTPClient.formatSeconds(seconds))"
            case .cancelled:
                return "cancelled"
            case .malformedResponse(let detail):
                return "malformed HTTP response: \(detail)"
            case .bodyTooLarge(let limit):
                return "the response body is larger than the \(HTTPClient.formatBytes(limit)) limit"
            }
        }
    }

    /// `GET url`: waits for the whole response, the deadline (`timeout` seconds from now) or `cancel`.
    public static func get(_ url: String, timeout: Double, cancel: CancelToken? = nil, maxBodyBytes: Int = defaultMaxBodyBytes) throws(HTTPError) -> Response {
        try send(Request(method: "GET", url: url), timeout: timeout, cancel: cancel, maxBodyBytes: maxBodyBytes)
    }

    /// `POST url` with `body` of type `contentType`: waits for the whole response, the deadline or `cancel`.
    public static func post(_ url: String, body: [UInt8], contentType: String, timeout: Double, cancel: CancelToken? = nil, maxBodyBytes: Int = defaultMaxBodyBytes) throws(HTTPError) -> Response {
        try send(Request(method: "POST", url: url, headers: [Header("Content-Type", contentType)], body: body),
                 timeout: timeout, cancel: cancel, maxBodyBytes: maxBodyBytes)
    }

    /// Sends `request` on a fresh connection and reads the whole response.
    ///
    /// Non-2xx statuses are responses, not errors. `timeout` bounds everything from name lookup to
    /// the last body byte (name lookup itself cannot be interrupted, but loopback names resolve from
    /// /etc/hosts at once).
    public static func send(_ request: Request, timeout: Double, cancel: CancelToken? = nil, maxBodyBytes: Int = defaultMaxBodyBytes) throws(HTTPError) -> Response {
        let url = try HTTPURL(parsing: request.url)
        let head = try requestHead(request, url: url)
        if cancel?.isCancelled == true { throw .cancelled }
        let wait = Waiter(url: url, deadline: Descriptor.monotonicSeconds() + max(0, timeout), timeout: timeout, cancel: cancel)
        let connection = try Connection.open(url, wait: wait)
        try connection.sendAll(head + request.body)
        return try connection.readResponse(method: request.method, maxBodyBytes: maxBodyBytes)
    }

    /// The request line and headers, ending in the blank line.
    static func requestHead(_ request: Request, url: HTTPURL) throws(HTTPError) -> [UInt8] {
        let method = request.method.uppercased()
        // A CR or LF inside a field would let a value forge extra headers or a second request.
        func isSafe(_ text: String) -> Bool { !text.utf8.contains { $0 == 13 || $0 == 10 } }
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter }),
              request.headers.allSatisfy({ isSafe($0.name) && isSafe($0.value) && !$0.name.isEmpty && !$0.name.contains(":") })
        else { throw .invalidURL(request.url) }
        var text = "\(method) \(url.target) HTTP/1.1\r\nHost: \(url.hostHeader)\r\nUser-Agent: fuckbigtech\r\nAccept: */*\r\nConnection: close\r\n"
        let managed: Set<String> = ["host", "connection", "content-length", "transfer-encoding"]
        for header in request.headers where !managed.contains(header.name.lowercased()) {
            text += "\(header.name): \(header.value)\r\n"
        }
        if !request.body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            text += "Content-Length: \(request.body.count)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// `0.3` → `300 ms`, `2` → `2 s`.
    static func formatSeconds(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int(bounded: (seconds * 1000).rounded())) ms" }
        return seconds == seconds.rounded() ? "\(Int(bounded: seconds)) s" : "\(seconds) s"
    }

    /// `67108864` → `64 MB`.
    static func formatBytes(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MB" : "\(bytes) bytes"
    }
}

/// A parsed `http://` URL: host (IPv6 without brackets), port (80 by default) and request target.
public struct HTTPURL: Equatable, Sendable {
    /// The host name or address, such as `localhost`, `127.0.0.1` or `::1`.
    public var host: String
    /// The TCP port.
    public var port: Int
    /// The path and query, always starting with `/`; the fragment is dropped.
    public var target: String

    /// A URL from its parts.
    public init(host: String, port: Int, target: String) {
        self.host = host
        self.port = port
        self.target = target
    }

    /// Parses `http://host[:port][/path][?query][#fragment]`; `[::1]` for IPv6 literals.
    public init(parsing text: String) throws(HTTPClient.HTTPError) {
        let lowered = text.lowercased()
        guard lowered.hasPrefix("http://") else {
            if lowered.hasPrefix("https://") || (lowered.contains("://") && !lowered.hasPrefix("://")) {
                throw .unsupportedScheme(url: text)
            }
            throw .invalidURL(text)
        }
        var rest = Substring(text.dropFirst("http://".count))
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        // No user:password@ (nothing we talk to needs it) and no blanks or control bytes anywhere.
        guard !authority.contains("@"), !text.utf8.contains(where: { $0 <= 32 || $0 == 127 }) else { throw .invalidURL(text) }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(text) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL(text) }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
            guard !host.contains(":") else { throw .invalidURL(text) }
        } else {
            host = authority
        }
        var port = 80
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else { throw .invalidURL(text) }
            port = value
        }
        guard !host.isEmpty else { throw .invalidURL(text) }
        self.host = String(host)
        self.port = port
        self.target = target
    }

    /// The `Host` header value: `host:port`, IPv6 literals in brackets.
    public var hostHeader: String { Self.authority(host: host, port: port) }

    /// `host:port`, with an IPv6 literal in brackets.
    static func authority(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// The shared deadline and cancel token; every wait goes through `until`.
private struct Waiter {
    let url: HTTPURL
    let deadline: Double
    let timeout: Double
    let cancel: CancelToken?

    /// Throws if cancelled or past the deadline.
    func check() throws(HTTPClient.HTTPError) {
        if cancel?.isCancelled == true { throw .cancelled }
        if Descriptor.monotonicSeconds() >= deadline { throw .timedOut(seconds: timeout) }
    }

    /// Waits until `fd` is ready for `interest` (or hung up), in short slices so that a cancel or
    /// the deadline is noticed within `pollSlice`.
    func until(_ fd: Int32, _ interest: Descriptor.Readiness) throws(HTTPClient.HTTPError) {
        while true {
            try check()
            let slice = min(HTTPClient.pollSlice, deadline - Descriptor.monotonicSeconds())
            let ready: [Descriptor.Readiness]
            do {
                ready = try Descriptor.poll([(fd: fd, interest: interest)], timeout: max(0, slice))
            } catch {
                throw .connectionFailed(host: url.host, port: url.port, reason: error.description)
            }
            if !ready[0].isEmpty { return }
        }
    }
}

/// One TCP connection: the only owner of its socket, which it closes on deinit.
private final class Connection {
    let fd: Int32
    let url: HTTPURL
    let wait: Waiter
    /// Received bytes not yet consumed start at `start`.
    var buffer: [UInt8] = []
    var start = 0
    var scratch = [UInt8](repeating: 0, count: 64 << 10)

    private init(fd: Int32, url: HTTPURL, wait: Waiter) {
        self.fd = fd
        self.url = url
        self.wait = wait
    }

    deinit { Descriptor.close(fd) }

    var available: Int { buffer.count - start }

    // MARK: Connecting

    /// Resolves the host and connects to its addresses in order (for `localhost`, often `::1` then
    /// `127.0.0.1`): Ollama listens on 127.0.0.1 only by default, so a refusal moves on to the next.
    static func open(_ url: HTTPURL, wait: Waiter) throws(HTTPClient.HTTPError) -> Connection {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(url.host, String(url.port), &hints, &list)
        guard status == 0, let first = list else {
            throw .unknownHost(host: url.host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var failures: [HTTPClient.HTTPError] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            do {
                let fd = try connect(current.pointee, url: url, wait: wait)
                return Connection(fd: fd, url: url, wait: wait)
            } catch {
                switch error {
                case .cancelled, .timedOut: throw error
                default: failures.append(error)
                }
            }
            node = current.pointee.ai_next
        }
        // "Refused" is the message that tells the user what to do (start the server), so it wins.
        if let refused = failures.first(where: { if case .connectionRefused = $0 { true } else { false } }) { throw refused }
        throw failures.first ?? .unknownHost(host: url.host, reason: "no addresses")
    }

    /// A non-blocking connect to one address, waiting for it with `poll` (connect(2), EINPROGRESS).
    private static func connect(_ address: addrinfo, url: HTTPURL, wait: Waiter) throws(HTTPClient.HTTPError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = socket(address.ai_family, type, address.ai_protocol)
        guard fd >= 0 else { throw failure(errno, url: url) }
        var connected = false
        defer { if !connected { Descriptor.close(fd) } }
        if Glibc.connect(fd, address.ai_addr, address.ai_addrlen) != 0 {
            let code = errno
            // After EINTR a non-blocking connect carries on asynchronously, exactly like EINPROGRESS.
            guard code == EINPROGRESS || code == EINTR else { throw failure(code, url: url) }
            try wait.until(fd, .writable)
            var pending: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 else { throw failure(errno, url: url) }
            if pending != 0 { throw failure(pending, url: url) }
        }
        connected = true
        return fd
    }

    private static func failure(_ code: Int32, url: HTTPURL) -> HTTPClient.HTTPError {
        if code == ECONNREFUSED { return .connectionRefused(host: url.host, port: url.port) }
        return .connectionFailed(host: url.host, port: url.port, reason: String(cString: strerror(code)).lowercased())
    }

    // MARK: Sending

    /// Sends every byte, waiting whenever the socket buffer is full.
    func sendAll(_ bytes: [UInt8]) throws(HTTPClient.HTTPError) {
        var offset = 0
        while offset < bytes.count {
            try wait.check()
            // MSG_NOSIGNAL: a peer that closed early must give EPIPE, not kill the process with SIGPIPE.
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent >= 0 { offset += sent; continue }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { try wait.until(fd, .writable); continue }
            throw Self.failure(code, url: url)
        }
    }

    // MARK: Receiving

    /// Reads more bytes into `buffer`; `false` at end of stream.
    func fill() throws(HTTPClient.HTTPError) -> Bool {
        // Drop consumed bytes now and then so the buffer does not grow with the whole response.
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        while true {
            try wait.check()
            let count = scratch.withUnsafeMutableBytes { raw in recv(fd, raw.baseAddress, raw.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: scratch[0..<count])
                return true
            }
            if count == 0 { return false }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { try wait.until(fd, .readable); continue }
            throw Self.failure(code, url: url)
        }
    }

    /// One line without its CR LF (a bare LF is accepted too); `nil` if the stream ends first.
    func readLine(limit: Int, what: String) throws(HTTPClient.HTTPError) -> [UInt8]? {
        var scanned = start
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 10) {
                var end = newline
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let line = Array(buffer[start..<end])
                start = newline + 1
                return line
            }
            scanned = buffer.count
            if available > limit { throw .malformedResponse("\(what) is longer than \(limit) bytes") }
            let base = start
            guard try fill() else { return nil }
            // fill() may have compacted the buffer; keep `scanned` relative to the new start.
            scanned -= base - start
        }
    }

    /// Moves exactly `count` bytes from the stream into `body`.
    func readExactly(_ count: Int, into body: inout [UInt8]) throws(HTTPClient.HTTPError) {
        var remaining = count
        while remaining > 0 {
            if available == 0 {
                guard try fill() else {
                    throw .malformedResponse("the connection closed after \(count - remaining) of \(count) announced body bytes")
                }
            }
            let take = min(remaining, available)
            body.append(contentsOf: buffer[start..<start + take])
            start += take
            remaining -= take
        }
    }

    /// Reads the status line, headers and body.
    func readResponse(method: String, maxBodyBytes: Int) throws(HTTPClient.HTTPError) -> HTTPClient.Response {
        var headerBytes = 0
        func line(_ what: String) throws(HTTPClient.HTTPError) -> [UInt8]? {
            let text = try readLine(limit: HTTPClient.maxHeaderBytes, what: what)
            headerBytes += (text?.count ?? 0) + 2
            if headerBytes > HTTPClient.maxHeaderBytes { throw .malformedResponse("the headers are longer than \(HTTPClient.maxHeaderBytes) bytes") }
            return text
        }
        while true {
            guard let statusLine = try line("the status line") else {
                throw .malformedResponse("the server closed the connection without answering")
            }
            let (status, reason) = try Self.parseStatusLine(statusLine)
            var headers: [HTTPClient.Header] = []
            while true {
                guard let field = try line("a header line") else { throw .malformedResponse("the connection closed inside the headers") }
                if field.isEmpty { break }
                guard let colon = field.firstIndex(of: 58), colon > 0 else {
                    throw .malformedResponse("header line without a colon: \(String(decoding: field.prefix(80), as: UTF8.self))")
                }
                let name = String(decoding: field[..<colon], as: UTF8.self)
                let value = String(decoding: field[(colon + 1)...], as: UTF8.self).trimmingBlanks()
                headers.append(HTTPClient.Header(name, value))
            }
            // 1xx are interim answers (100 Continue, 103 Early Hints); the real one follows.
            if (100..<200).contains(status) { continue }
            var response = HTTPClient.Response(status: status, reason: reason, headers: headers, body: [])
            if method.uppercased() == "HEAD" || status == 204 || status == 304 { return response }
            response.body = try readBody(response, maxBodyBytes: maxBodyBytes)
            return response
        }
    }

    static func parseStatusLine(_ line: [UInt8]) throws(HTTPClient.HTTPError) -> (Int, String) {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]), status >= 100 else {
            throw .malformedResponse("not an HTTP/1.x status line: \(text.prefix(80))")
        }
        return (status, parts.count > 2 ? String(parts[2]) : "")
    }

    /// The body framed as RFC 9112 section 6.3 says: chunked wins over Content-Length; neither means
    /// "until the connection closes".
    func readBody(_ response: HTTPClient.Response, maxBodyBytes: Int) throws(HTTPClient.HTTPError) -> [UInt8] {
        var body: [UInt8] = []
        if let encoding = response.header("Transfer-Encoding") {
            let last = encoding.split(separator: ",").last.map { String($0).trimmingBlanks().lowercased() }
            if last == "chunked" { return try readChunked(maxBodyBytes: maxBodyBytes) }
            return try readToEnd(maxBodyBytes: maxBodyBytes)
        }
        let lengths = Set(response.headers.filter { $0.name.lowercased() == "content-length" }
            .flatMap { $0.value.split(separator: ",").map { String($0).trimmingBlanks() } })
        if lengths.isEmpty { return try readToEnd(maxBodyBytes: maxBodyBytes) }
        guard lengths.count == 1, let text = lengths.first, !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else {
            throw .malformedResponse("bad Content-Length: \(lengths.sorted().joined(separator: ", "))")
        }
        guard let length = Int(text), length <= maxBodyBytes else { throw .bodyTooLarge(limit: maxBodyBytes) }
        body.reserveCapacity(length)
        try readExactly(length, into: &body)
        return body
    }

    func readToEnd(maxBodyBytes: Int) throws(HTTPClient.HTTPError) -> [UInt8] {
        var body: [UInt8] = []
        repeat {
            if body.count + available > maxBodyBytes { throw .bodyTooLarge(limit: maxBodyBytes) }
            body.append(contentsOf: buffer[start...])
            start = buffer.count
        } while try fill()
        return body
    }

    func readChunked(maxBodyBytes: Int) throws(HTTPClient.HTTPError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            guard let sizeLine = try readLine(limit: 4096, what: "a chunk size line") else {
                throw .malformedResponse("the connection closed inside a chunked body")
            }
            // Chunk extensions (";name=value") carry nothing we use.
            let sizeText = String(decoding: sizeLine.prefix { $0 != 59 }, as: UTF8.self).trimmingBlanks()
            guard !sizeText.isEmpty, sizeText.allSatisfy(\.isHexDigit), let size = Int(sizeText, radix: 16) else {
                throw .malformedResponse("bad chunk size '\(sizeText.prefix(20))'")
            }
            if size == 0 {
                // Trailer fields until a blank line; a server that just closes here is forgiven.
                while let trailer = try readLine(limit: HTTPClient.maxHeaderBytes, what: "a trailer line"), !trailer.isEmpty {}
                return body
            }
            guard size <= maxBodyBytes - body.count else { throw .bodyTooLarge(limit: maxBodyBytes) }
            try readExactly(size, into: &body)
            guard let end = try readLine(limit: 2, what: "the end of a chunk"), end.isEmpty else {
                throw .malformedResponse("a chunk is not followed by CR LF")
            }
        }
    }
}

private extension String {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    func trimmingBlanks() -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else { return "" }
        return String(self[first...last])
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Serves a browser run's vault pages over HTTP on a loopback port, under a path only this run
/// knows, and nothing but the files a page may show: the browser never opens the vault through
/// `file:`, so everything a page pulls in — its styles, scripts, frames, objects, pictures — is
/// asked of this server, which judges each request.
///
/// A page loaded as a `file:` URL could frame or load any file on the disk: `<script
/// src="../Private/Bank.md">` put a private note's words into the console errors of a public result
/// note, and `<iframe>`/`<object>` put whole private notes into its screenshot (an outside attack).
/// An `http:` page cannot reach `file:` at all, and this server answers `404` — the same answer as
/// for a file that is not there — for a note (`.md`: notes reach agents through the OS, judged as
/// notes, never as a page's parts), a name under a hidden folder (`.agentos`, `.obsidian`, `.git`),
/// a private folder's file, a text file private by what it says (`privacy: private`, a private tag:
/// a `.txt` or `.markdown` is judged as a note would be, as `skills` judges one), a path through a
/// symlink, a file with another name on disk (a hard link), a file over `largestFile`, anything
/// outside the vault, and a service worker's script (a worker registered by one page answered the
/// run's later pages with text it made up: an outside attack).
final class VaultPageServer: @unchecked Sendable {
    /// The loopback port it listens on.
    let port: Int
    /// `http://127.0.0.1:PORT/TOKEN/`: a vault path after it is a file this server may serve.
    let base: String
    /// `/TOKEN/`: what a request's target starts with.
    private let pathPrefix: String
    /// The largest file served; a bigger one gets `404` (each is read whole to be judged: twelve
    /// loads of a 62 MB file at once took the watcher from 34 to 590 MB).
    static let largestFile = 16 << 20
    /// Connections answered at once (Chromium opens six to a host); more are closed unanswered.
    static let connectionsAtOnce = 8

    private let listener: Int32
    private let vault: Vault
    private let guardrails: Guardrails
    private let state = Locked<(stopping: Bool, open: Int)>((false, 0))
    private let ended = DispatchSemaphore(value: 0)

    /// Listens on an ephemeral loopback port and serves from a thread of its own until `stop`.
    init(vault: Vault, guardrails: Guardrails) throws(DevTools.Failure) {
        self.vault = vault
        self.guardrails = guardrails
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DevTools.Failure(description: "cannot open a socket for the vault's pages: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            let why = String(cString: strerror(errno))
            Descriptor.close(fd)
            throw DevTools.Failure(description: "cannot serve the vault's pages on a loopback port: \(why)")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        var generator = SystemRandomNumberGenerator()
        let token = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        pathPrefix = "/\(token)/"
        base = "http://127.0.0.1:\(port)" + pathPrefix
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// The address of a vault file on this server.
    func url(for path: String) -> String {
        base + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)
    }

    /// `text` with this server's addresses written as the vault paths they serve.
    func showingVaultPaths(_ text: String) -> String {
        guard text.contains(base) else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: base) {
            out += rest[..<range.lowerBound]
            let tail = rest[range.upperBound...]
            let end = tail.firstIndex { $0 == " " || $0 == ")" || $0 == "\"" || $0 == "'" || $0 == "\n" } ?? tail.endIndex
            let served = String(tail[..<end])
            let path = served.removingPercentEncoding ?? served
            // A name the server never serves whatever is there — a note, a private folder's
            // file, a hidden one — is not repeated: a page's broken link to `Private/…` made
            // the run's handoff private (the same words for a missing and an existing file).
            let unservable = path.lowercased().hasSuffix(".md") || Privacy.privateFolder(containing: path, guardrails: guardrails) != nil
                || path.split(separator: "/").contains { $0.hasPrefix(".") }
            out += unservable ? "(a file pages may not load)" : path
            rest = tail[end...]
        }
        return out + rest
    }

    /// Stops listening; a request being answered is finished (each is bounded by its socket's timeouts).
    func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        _ = ended.wait(timeout: .now() + 5)
    }

    private func acceptLoop() {
        defer {
            Descriptor.close(listener)
            ended.signal()
        }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            let admitted = state.withLock { state -> Bool in
                guard !state.stopping, state.open < Self.connectionsAtOnce else { return false }
                state.open += 1
                return true
            }
            guard admitted else {
                Descriptor.close(connection)
                if state.withLock({ $0.stopping }) { return }
                continue
            }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let worker = Thread { [self] in
                answer(connection)
                Descriptor.close(connection)
                state.withLock { $0.open -= 1 }
            }
            worker.start()
        }
    }

    /// Reads one request and answers it; the connection is closed after the answer.
    private func answer(_ connection: Int32) {
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end = Array("\r\n\r\n".utf8)
        while request.count < 16 << 10 {
            let n = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            request += chunk[0..<n]
            if request.firstRange(of: end) != nil { break }
        }
        let line = request.prefix { $0 != 0x0D && $0 != 0x0A }.split(separator: 0x20, omittingEmptySubsequences: false)
        guard line.count == 3 else { return send(connection, status: "400 Bad Request", body: nil) }
        let method = String(decoding: line[0], as: UTF8.self)
        guard method == "GET" || method == "HEAD" else { return send(connection, status: "405 Method Not Allowed", body: nil) }
        let target = String(decoding: line[1], as: UTF8.self)
        // The icon Chromium asks every site for: no icon, and no error about one in the result.
        if target == "/favicon.ico" { return send(connection, status: "204 No Content", body: nil) }
        let headers = String(decoding: request, as: UTF8.self).lowercased()
        let asksForWorker = headers.contains("\r\nservice-worker:") || headers.contains("\nservice-worker:")
        guard !asksForWorker, let path = servedPath(target), let bytes = file(at: path) else {
            return send(connection, status: "404 Not Found", body: method == "HEAD" ? nil : Array("not found\n".utf8), type: "text/plain; charset=utf-8")
        }
        send(connection, status: "200 OK", body: method == "HEAD" ? nil : bytes, length: bytes.count, type: Self.contentType(of: path))
    }

    /// The vault path a request's target names: after this run's token, without query or
    /// fragment, percent-decoded; `nil` for anything else.
    func servedPath(_ target: String) -> String? {
        guard target.hasPrefix(pathPrefix) else { return nil }
        var rest = Substring(target.dropFirst(pathPrefix.count))
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        return String(rest).removingPercentEncoding
    }

    /// The bytes of the vault file at `path` when a page may be shown it (see the type's comment),
    /// else `nil`.
    func file(at path: String) -> [UInt8]? {
        guard !path.isEmpty, !path.contains("\0"), !path.contains("\\") else { return nil }
        for part in path.split(separator: "/", omittingEmptySubsequences: false) where part.isEmpty || part.hasPrefix(".") {
            return nil
        }
        guard !path.lowercased().hasSuffix(".md") else { return nil }
        let store = NoteStore(vault: vault)
        guard let absolute = try? vault.resolve(try Vault.normalize(path)),
              case let (bytes, status)? = try? FileSystem.read(absolute, limit: Self.largestFile),
              status.kind == .file, Privacy.sharedFile(status) == nil,
              // A private folder's file, a symlink on the way.
              Privacy.reason(ofNoteAt: path, store: store, guardrails: guardrails) == nil,
              // Every reading of what the browser shows as text; a picture or a font, served with its
              // type and `nosniff`, only as it reads (a page's script can decode anything it fetches).
              Privacy.reason(ofTextFile: bytes, at: path, guardrails: guardrails, everyReading: Self.showsAsText(path)) == nil else { return nil }
        return bytes
    }

    private func send(_ connection: Int32, status: String, body: [UInt8]?, length: Int? = nil, type: String = "text/plain; charset=utf-8") {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(length ?? body?.count ?? 0)\r\n"
            + "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if let body { bytes += body }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Whether the browser may show the file at `path` as text: its `Content-Type` is text, markup,
    /// a script, JSON, SVG or XML — or unknown (`application/octet-stream`, which a frame may show).
    static func showsAsText(_ path: String) -> Bool {
        let type = contentType(of: path)
        return !(type.hasPrefix("image/") && type != "image/svg+xml") && !type.hasPrefix("font/") && !type.hasPrefix("video/")
            && !type.hasPrefix("audio/") && type != "application/wasm" && type != "application/pdf"
    }

    /// The `Content-Type` of a file a page loads, by its extension.
    static func contentType(of path: String) -> String {
        let types = [
            "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
            "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8", "json": "application/json",
            "txt": "text/plain; charset=utf-8", "svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
            "gif": "image/gif", "webp": "image/webp", "avif": "image/avif", "ico": "image/x-icon", "woff": "font/woff", "woff2": "font/woff2",
            "ttf": "font/ttf", "otf": "font/otf", "wasm": "application/wasm", "mp4": "video/mp4", "webm": "video/webm", "mp3": "audio/mpeg",
            "ogg": "audio/ogg", "wav": "audio/wav", "pdf": "application/pdf", "xml": "application/xml",
        ]
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        return types[name[name.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }
}

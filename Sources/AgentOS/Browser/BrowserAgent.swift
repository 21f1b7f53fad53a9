import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The built-in `browser` agent (`output: browser`, tool lane): loads the pages a task names in a
/// headless Chromium and reports what a person checking them would want — a full-page screenshot
/// (a PNG next to the result note, embedded with `![[…]]`), the title, the HTTP status, console
/// errors and the page's text. It only loads pages: it never clicks, types or submits (a task that
/// asks to is an effect the router sends to review before any agent runs).
///
/// Which pages: every `http(s)://` address in the task's title and body, and every link in it that
/// resolves (`LinkResolver`) to an `.html`/`.htm` file in the vault; at most `maxPages`.
///
/// A question about the page is answered by another agent: when the task sets `ask: AGENT` (or the
/// agent note sets `ask_agent`), the run hands the material over with a handoff note
/// (`HandoffRequest.submit`), so that agent's run goes through routing and every guardrail
/// (privacy, secrets, budget) like any other handoff.
public enum BrowserAgent {
    /// Pages loaded per run.
    public static let maxPages = 5

    /// A page to load: a web address, or a vault HTML file.
    public struct Target: Equatable, Sendable {
        /// What the browser navigates to (`http://…`, `file:///…`).
        public var url: String
        /// How the task named it (the address, or the vault path).
        public var label: String
        /// `host:port` the network rules must let through; `nil` for a file.
        public var hostPort: String?
    }

    /// Why the browser lane cannot run here, with the fix, or `nil` when it can: the agent note's
    /// program (`command`), else one of `Chromium.programNames`, must be on `PATH`.
    public static func unavailableReason(_ definition: AgentDefinition? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let program = definition?.command.first
        if Chromium.find(program: program, environment: environment) != nil { return nil }
        let names = program.map { "'\($0)'" } ?? Chromium.programNames.joined(separator: ", ")
        return "agent \(definition?.name ?? "browser"): no headless browser found (\(names) not on the watcher's PATH); install Chromium ('apt-get install chromium') or Chrome, or set 'command' in \(definition?.path ?? "Rules/Agents/browser.md") to its path"
    }

    /// Whether the browser lane is usable on this machine (a Chromium or Chrome is on `PATH`): for
    /// `doctor`'s lane listing.
    public static func isUsable(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        unavailableReason(nil, environment: environment) == nil
    }

    private static let urlPattern = try! NSRegularExpression(pattern: #"https?://(?:\[[0-9A-Fa-f:.]+\])?[^\s<>()\[\]{}"'`|]+"#, options: [.caseInsensitive])

    /// The pages a task names: its web addresses, then its links to vault HTML files, in order, once each.
    public static func targets(title: String, body: String, taskPath: String, vault: Vault) -> [Target] {
        var found: [Target] = []
        func add(_ target: Target) {
            if !found.contains(where: { $0.url == target.url }) { found.append(target) }
        }
        let text = title + "\n" + TaskNote.removingComments(body)
        let ns = text as NSString
        for match in urlPattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            var address = ns.substring(with: match.range)
            while let last = address.last, ".,;:!?*_".contains(last) { address.removeLast() }
            guard let url = URL(string: address), let host = url.host, !host.isEmpty else { continue }
            let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
            let hostText = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            add(Target(url: address, label: address, hostPort: "\(hostText.lowercased()):\(port)"))
        }
        let resolver = LinkResolver(vault: vault)
        for link in WikiLink.links(in: text) {
            guard let path = resolver.resolve(link, from: taskPath).path else { continue }
            let lower = path.lowercased()
            guard lower.hasSuffix(".html") || lower.hasSuffix(".htm") else { continue }
            add(Target(url: URL(fileURLWithPath: vault.root + "/" + path).absoluteString, label: path, hostPort: nil))
        }
        return Array(found.prefix(maxPages))
    }

    /// Why a page check waits for a person although nothing else stops it: `agent` is the browser,
    /// an agent's run asked for it (a task it made, `created_by_run`, or a handoff), and it names a
    /// page on this machine or its network or a private vault file (`isPrivateTarget`). `nil` when
    /// none of that holds. The watcher (`VaultRouting.plan`) and `route` ask the same.
    public static func reviewReason(note: Note, path: String, agent: AgentDefinition?, vault: Vault, guardrails: Guardrails) -> String? {
        guard agent?.output == .browser, TaskNote.kind(of: note, path: path) == .handoff || note.text("created_by_run") != nil else { return nil }
        let body = note.body
        guard let near = targets(title: TaskNote.title(of: path), body: body, taskPath: path, vault: vault)
            .first(where: { isPrivateTarget($0, vault: vault, guardrails: guardrails) }) else { return nil }
        return "browser: \(near.label) is on this machine, its network or a private note, and an agent's run asked for it; a person approves"
    }

    /// Whether a target is a page on this machine or its network — loopback, private, link-local and
    /// carrier-grade addresses in any spelling `inet_aton` reads (`2130706433`, `0x7f.1`), IPv6
    /// loopback, unique-local, link-local and the forms that carry an IPv4 address, `localhost`,
    /// `.local`, `.internal`, `.lan`, `home.arpa` — or a vault file under a private folder or with
    /// another name on disk. Any other name is a page here when it has no dot (the machine's own
    /// name, an intranet host), when the system resolver (`/etc/hosts`, then DNS) gives it any such
    /// address, or when it does not resolve at all (what it would lead to cannot be judged). A name
    /// whose answer changes between this check and the run (DNS rebinding) is not seen.
    public static func isPrivateTarget(_ target: Target, vault: Vault, guardrails: Guardrails,
                                       resolve: (String) -> [[UInt8]]? = BrowserAgent.addresses(of:)) -> Bool {
        guard let hostPort = target.hostPort else {
            let path = target.label
            if Privacy.privateFolder(containing: path, guardrails: guardrails) != nil { return true }
            return ((try? FileSystem.status(vault.root + "/" + path)) ?? nil)?.linkCount ?? 1 > 1
        }
        var host = String(hostPort[..<(hostPort.lastIndex(of: ":") ?? hostPort.endIndex)]).lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix(".") { host.removeLast() }
        if host == "localhost" || host.isEmpty || [".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp"].contains(where: { host.hasSuffix($0) }) {
            return true
        }
        if host.contains(":") {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, host, &v6) == 1 else { return true }
            return isPrivateAddress(withUnsafeBytes(of: v6) { Array($0) })
        }
        var v4 = in_addr()
        if inet_aton(host, &v4) != 0 { return isPrivateAddress(withUnsafeBytes(of: v4) { Array($0) }) }
        // A name: the machine's own (`vm` → 127.0.0.1 in /etc/hosts reached a loopback page without
        // review, an outside attack), an intranet host, or whatever the resolver makes of it.
        guard host.contains("."), let addresses = resolve(host), !addresses.isEmpty else { return true }
        return addresses.contains(where: isPrivateAddress)
    }

    /// The addresses the system resolver gives `host` (4 or 16 bytes each), or `nil` when it gives none.
    public static func addresses(of host: String) -> [[UInt8]]? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(first) }
        var found: [[UInt8]] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            if let address = entry.pointee.ai_addr {
                if entry.pointee.ai_family == AF_INET {
                    found.append(address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) } })
                } else if entry.pointee.ai_family == AF_INET6 {
                    found.append(address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) } })
                }
            }
            next = entry.pointee.ai_next
        }
        return found.isEmpty ? nil : found
    }

    /// Whether an address (4 bytes, or 16 for IPv6, in network order) is on this machine or its
    /// network: the IPv4 ranges of `isPrivateIPv4`, multicast and reserved ones; IPv6 unspecified,
    /// loopback, unique-local, link-local and multicast, and an IPv4 address carried in IPv6
    /// (compatible `::a.b.c.d`, mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
    /// judged as that IPv4 address.
    static func isPrivateAddress(_ b: [UInt8]) -> Bool {
        func v4(_ at: Int) -> UInt32 { UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3]) }
        if b.count == 4 { return isPrivateIPv4(v4(0)) || b[0] >= 224 }
        guard b.count == 16 else { return true }
        if b[0..<12].allSatisfy({ $0 == 0 }) { return true }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF { return isPrivateIPv4(v4(12)) || b[12] >= 224 }
        if b[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return isPrivateIPv4(v4(12)) || b[12] >= 224 }
        if b[0] == 0x20 && b[1] == 0x02 { return isPrivateIPv4(v4(2)) || b[2] >= 224 }
        return (b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) || b[0] == 0xFF
    }

    /// Loopback, "this network", private, link-local, carrier-grade NAT and benchmarking ranges.
    static func isPrivateIPv4(_ a: UInt32) -> Bool {
        let first = a >> 24, second = (a >> 16) & 0xFF
        return first == 127 || first == 0 || first == 10 || (first == 172 && (16...31).contains(second)) || (first == 192 && second == 168)
            || (first == 169 && second == 254) || (first == 100 && (64...127).contains(second)) || (first == 198 && (18...19).contains(second))
    }

    /// Runs the browser for the task at `runEnvironment["FBT_TASK"]` and returns the answer for its
    /// result note; screenshots are written next to it (`Results/<title> <run id> N.png`).
    public static func execute(_ definition: AgentDefinition, vault: Vault, timeout: Double?, cancel: CancelToken,
                               runEnvironment: [String: String], environment: [String: String] = ProcessInfo.processInfo.environment,
                               onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        func failed(_ why: String, answer: String = "") -> AgentExecution {
            AgentExecution(succeeded: false, answer: answer, error: why, costUSD: 0, cancelled: cancel.isCancelled)
        }
        guard let taskPath = runEnvironment["FBT_TASK"] else { return failed("the browser agent runs tasks from the vault only (no FBT_TASK)") }
        let runID = runEnvironment["FBT_RUN_ID"] ?? "adhoc-\(UUID().uuidString.prefix(8).lowercased())"
        let note: Note
        do {
            note = try Note.parse(bytes: try NoteStore(vault: vault).read(taskPath).bytes)
        } catch {
            return failed("cannot read the task \(taskPath): \(error)")
        }
        let title = TaskNote.title(of: taskPath)
        let targets = targets(title: title, body: note.body, taskPath: taskPath, vault: vault)
        guard !targets.isEmpty else {
            return failed("the task names no page: write an http(s):// address, or link an .html file in the vault")
        }
        guard let executable = Chromium.find(program: definition.command.first, environment: environment) else {
            return failed(unavailableReason(definition, environment: environment) ?? "no browser found")
        }
        let limit = timeout ?? definition.timeout ?? 120
        let deadline = Descriptor.monotonicSeconds() + limit
        let folder: RunWorkspace.Workspace
        switch RunWorkspace.makeScratch(runID: runID + "-browser", vault: vault, environment: environment) {
        case .success(let made): folder = made
        case .failure(let refusal): return failed(refusal.description)
        }
        defer {
            try? FileManager.default.removeItem(atPath: folder.path + "/profile")
            for sub in ["config", "cache", "data", ".pki", ".local", ".cache", ".config"] { try? FileManager.default.removeItem(atPath: folder.path + "/" + sub) }
            RunWorkspace.finish(folder)
        }

        var reports: [PageReport] = []
        do {
            // Vault pages are loaded from a server of the run's own that serves only what a page may
            // show (`VaultPageServer`), never as `file:` URLs, which can load any file on the disk.
            var server: VaultPageServer?
            if targets.contains(where: { $0.hostPort == nil }) {
                server = try VaultPageServer(vault: vault, guardrails: RuleBook.load(vault: vault).guardrails)
            }
            defer { server?.stop() }
            let loaded = targets.map { target -> Target in
                guard target.hostPort == nil, let server else { return target }
                return Target(url: server.url(for: target.label), label: target.label, hostPort: "127.0.0.1:\(server.port)")
            }
            let browser = try Chromium(executable: executable, folder: folder.path, allowedHosts: Array(Set(loaded.compactMap(\.hostPort))).sorted(),
                                       deadline: deadline, cancel: cancel, onStart: onStart)
            defer { browser.stop() }
            let devtools = try DevTools(port: browser.port, path: browser.browserPath, deadline: deadline, cancel: cancel)
            for (target, load) in zip(targets, loaded) {
                if cancel.isCancelled || Descriptor.monotonicSeconds() > deadline { break }
                var report = PageCapture.capture(load.url, devtools: devtools, deadline: deadline)
                if let server, load.url != target.url {
                    // Told as the vault paths they are: the server's address ends with the run.
                    report.url = target.url
                    report.title = server.showingVaultPaths(report.title)
                    report.text = server.showingVaultPaths(report.text)
                    report.finalURL = report.finalURL.map { $0 == load.url ? target.url : server.showingVaultPaths($0) }
                    report.consoleErrors = report.consoleErrors.map(server.showingVaultPaths)
                    report.loadError = report.loadError.map(server.showingVaultPaths)
                }
                reports.append(report)
            }
        } catch {
            if cancel.isCancelled { return failed("the run was cancelled") }
            return failed(error.description)
        }
        if cancel.isCancelled { return failed("the run was cancelled") }
        if reports.count < targets.count {
            return failed("the browser did not finish within \(PropertyValue.format(double: limit)) s and was stopped")
        }

        // Screenshots go next to the result note, named after it.
        let resultName = TaskEngine.resultPath(forTitle: title, runID: runID)
        let base = String(resultName.dropLast(3))
        var answer = ""
        for (index, (target, report)) in zip(targets, reports).enumerated() {
            var imageName: String?
            if let png = report.screenshot {
                let name = "\(base) \(index + 1).png"
                do {
                    try FileSystem.makeDirectories(vault.root + "/" + Vault.Layout.results)
                    try FileSystem.createDurably(vault.root + "/" + Vault.Layout.results + "/" + name, bytes: png)
                    imageName = name
                } catch {
                    return failed("cannot save the screenshot \(Vault.Layout.results)/\(name): \(error.description)")
                }
            }
            answer += section(target: target, report: report, imageName: imageName)
        }

        // A question goes to the agent the task (or this agent's note) names, as a handoff.
        let askAgent = note.text("ask") ?? definition.askAgent
        if let askAgent, !askAgent.isEmpty {
            let material = "The browser loaded the pages of this task. Answer the task's question from what it saw:\n\n" + answer
            do {
                let handoff = try HandoffRequest(from: definition.name, to: askAgent, task: taskPath, message: material).submit(vault: vault)
                answer += "\n## Question\n\nHanded to \(askAgent): [[\(handoff.path.hasSuffix(".md") ? String(handoff.path.dropLast(3)) : handoff.path)]]"
                    + (handoff.blockedReason.map { " (blocked: \($0))" } ?? "") + "\n"
            } catch {
                answer += "\n## Question\n\nCould not hand the question to \(askAgent): \(error)\n"
            }
        }
        let unloaded = zip(targets, reports).filter { $0.1.screenshot == nil }
        if unloaded.count == reports.count, let first = unloaded.first {
            return failed("\(first.0.label): \(first.1.loadError ?? "the page could not be loaded")", answer: answer)
        }
        return AgentExecution(succeeded: true, answer: answer, error: nil, costUSD: 0, tokensIn: 0, tokensOut: 0, model: (executable as NSString).lastPathComponent)
    }

    /// The result note's part for one page.
    static func section(target: Target, report: PageReport, imageName: String?) -> String {
        var out = "## \(target.label)\n\n"
        if let imageName { out += "![[\(imageName)]]\n\n" }
        out += "- Title: \(report.title.isEmpty ? "(none)" : oneLine(report.title))\n"
        // Chromium reports 200 for a file it read; that is no HTTP status.
        out += "- HTTP status: \(target.hostPort == nil ? "(a file)" : report.status.map(String.init) ?? "(none)")\n"
        if let final = report.finalURL, final != target.url { out += "- Final address: \(final)\n" }
        if let error = report.loadError { out += "- Load error: \(oneLine(error))\n" }
        if report.screenshot != nil {
            out += "- Screenshot: \(report.width)×\(report.height) CSS px" + (report.height >= PageCapture.maxHeight ? " (cut at \(PageCapture.maxHeight) px)" : "") + "\n"
        }
        out += "- Errors logged in the console: \(report.consoleErrors.count)\n"
        for error in report.consoleErrors.prefix(20) { out += "  - `\(oneLine(error).replacingOccurrences(of: "`", with: "'"))`\n" }
        let text = report.text.trimmingWhitespacesAndNewlines()
        if !text.isEmpty {
            out += "\n### Page text\n\n```text\n" + text.replacingOccurrences(of: "```", with: "ˋˋˋ") + "\n```\n"
        }
        return out + "\n"
    }

    private static func oneLine(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespaces() }.joined(separator: " ")
        return line.count > 300 ? String(line.prefix(300)) + "…" : line
    }
}

import Foundation

/// A headless Chromium (or Chrome) started for one browser run: a fresh profile in a folder of its
/// own, the DevTools endpoint on an ephemeral loopback port, and network rules that let it reach
/// only the hosts the task named. `stop` ends it and removes the profile.
public final class Chromium {
    /// The program names looked for on `PATH`, in order, when an agent note names none of its own.
    public static let programNames = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"]

    /// The browser's pid (its own children — renderer, GPU, zygote — end with it).
    public let pid: Int32
    /// The DevTools WebSocket endpoint of the browser.
    public let port: Int
    /// The path of the browser endpoint (`/devtools/browser/<id>`).
    public let browserPath: String
    /// The folder holding the profile (removed by `stop`).
    public let profile: String
    private let child: Spawn.Child
    private let outputTail = Locked<[UInt8]>([])

    /// The program to start: `program` when given (a name on `PATH` or a path), else the first of
    /// `programNames` found; `nil` when there is none.
    public static func find(program: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let searchPath = environment["PATH"] ?? "/usr/bin:/bin"
        for name in program.map({ [$0] }) ?? programNames {
            if let path = try? Spawn.resolveExecutable(name, searchPath: searchPath) { return path }
        }
        return nil
    }

    /// The hosts a task may reach, as `host` or `host:port` (from its URLs): every other name fails to
    /// resolve, and every request that is not to one of them goes to a proxy that does not exist.
    public static func networkArguments(allowedHosts: [String]) -> [String] {
        let names = Array(Set(allowedHosts.map { hostName(of: $0) })).sorted()
        var resolver = "MAP * ~NOTFOUND"
        for name in names { resolver += ", EXCLUDE \(name)" }
        // `<-loopback>` takes away the implicit proxy bypass for localhost, so a page cannot reach
        // other loopback ports either; only the named host:port pairs go direct.
        let bypass = (["<-loopback>"] + allowedHosts.sorted()).joined(separator: ";")
        return [
            "--host-resolver-rules=\(resolver)",
            "--proxy-server=http://\(unroutableProxy)",
            "--proxy-bypass-list=\(bypass)",
            // WebRTC's UDP would go around the proxy; only proxied (so: none) is allowed.
            "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            "--webrtc-ip-handling-policy=disable_non_proxied_udp",
        ]
    }

    /// An address requests outside the allowed hosts are sent to: it cannot be resolved (the
    /// resolver rules map it to nothing), so they fail at once.
    static let unroutableProxy = "fbt-no-network.invalid:9"

    private static func hostName(of hostPort: String) -> String {
        if hostPort.hasPrefix("["), let end = hostPort.firstIndex(of: "]") { return String(hostPort[...end]) }
        if let colon = hostPort.lastIndex(of: ":"), hostPort.filter({ $0 == ":" }).count == 1 { return String(hostPort[..<colon]) }
        return hostPort
    }

    /// The command line: headless, the fresh profile, no background traffic of Chrome's own, and the
    /// network rules. `--no-sandbox` only as root, where Chromium's sandbox cannot start.
    public static func arguments(profile: String, allowedHosts: [String], windowWidth: Int, windowHeight: Int, isRoot: Bool = geteuid() == 0) -> [String] {
        var arguments = [
            "--headless", "--user-data-dir=\(profile)", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps", "--disable-extensions", "--disable-breakpad", "--disable-dev-shm-usage",
            "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication",
            "--metrics-recording-only", "--password-store=basic", "--use-mock-keychain", "--mute-audio", "--hide-scrollbars",
            "--window-size=\(windowWidth),\(windowHeight)",
        ] + networkArguments(allowedHosts: allowedHosts)
        if isRoot { arguments.append("--no-sandbox") }
        arguments.append("about:blank")
        return arguments
    }

    /// Starts `executable` with a profile under `folder` and waits (until `deadline`) for its DevTools port.
    public init(executable: String, folder: String, allowedHosts: [String], windowWidth: Int = 1280, windowHeight: Int = 800,
                deadline: Double, cancel: CancelToken?, onStart: (@Sendable (Int32) -> Void)? = nil) throws(DevTools.Failure) {
        profile = folder + "/profile"
        guard mkdir(profile, 0o700) == 0 else { throw DevTools.Failure(description: "cannot make the browser profile \(profile): \(String(cString: strerror(errno)))") }
        // Chromium keeps state (its NSS database, crash reports) under HOME and XDG folders: all of
        // them point into the run's folder, never the user's.
        let environment = Spawn.environment(allowing: ["LANG", "TZ"], from: ProcessInfo.processInfo.environment, extras: [
            "HOME": folder, "XDG_CONFIG_HOME": folder + "/config", "XDG_CACHE_HOME": folder + "/cache", "XDG_DATA_HOME": folder + "/data",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ])
        let options = Spawn.Options(executable: executable, arguments: Chromium.arguments(profile: profile, allowedHosts: allowedHosts, windowWidth: windowWidth, windowHeight: windowHeight),
                                    environment: environment, workingDirectory: folder)
        do {
            child = try Spawn.start(options)
        } catch {
            throw DevTools.Failure(description: "cannot start the browser \(executable): \(error.description)")
        }
        pid = child.pid
        onStart?(child.pid)
        // The browser's output is only read for an error message; it must be drained, or a chatty
        // browser would block on a full pipe.
        let drain = Thread { [child, outputTail] in
            var chunk = [UInt8](repeating: 0, count: 16 << 10)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(child.output, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                outputTail.withLock { tail in
                    tail += chunk[0..<n]
                    if tail.count > 32 << 10 { tail.removeFirst(tail.count - (32 << 10)) }
                }
            }
            Descriptor.close(child.output)
        }
        drain.start()
        // Chromium writes the port it chose and the browser endpoint's path into the profile; the
        // file's writer is another process, so this polls.
        let portFile = profile + "/DevToolsActivePort"
        var found: (Int, String)?
        while found == nil {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8) {
                let lines = text.split(whereSeparator: \.isNewline)
                if lines.count >= 2, let port = Int(lines[0]) { found = (port, String(lines[1])) }
            }
            if found != nil { break }
            if child.termination != nil || cancel?.isCancelled == true || Descriptor.monotonicSeconds() > deadline {
                let why = cancel?.isCancelled == true ? "cancelled" : child.termination != nil ? "the browser exited at start" : "the browser did not open its DevTools port in time"
                let tail = Chromium.lastLines(outputTail.withLock { $0 })
                Chromium.end(child, profile: profile)
                throw DevTools.Failure(description: why + (tail.isEmpty ? "" : ": " + tail))
            }
            usleep(50_000)
        }
        port = found!.0
        browserPath = found!.1
    }

    /// The browser's last meaningful output lines, for an error message (its D-Bus complaints and
    /// the Debian wrapper's shell noise left out).
    private static func lastLines(_ bytes: [UInt8]) -> String {
        let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map(String.init).filter { !$0.contains("dbus") && !$0.hasPrefix("/usr/bin/chromium: ") && !$0.trimmingWhitespaces().isEmpty }
        return lines.suffix(2).joined(separator: " / ").prefix(400).description
    }

    /// Ends the browser (TERM, then KILL after 3 s) and removes its profile.
    public func stop() { Chromium.end(child, profile: profile) }

    private static func end(_ child: Spawn.Child, profile: String) {
        if child.termination == nil {
            child.send(SIGTERM)
            if child.waitForExit(timeout: 3) == nil {
                child.send(SIGKILL)
                _ = child.waitForExit(timeout: 5)
            }
        }
        try? FileManager.default.removeItem(atPath: profile)
    }
}

import Dispatch
import Foundation

/// Checks of the machine around the vault: inotify, agent CLIs, the Ollama server, free disk.
enum SystemChecks {
    /// The `inotify` check: the per-user watch limit against the vault's folder count.
    static func inotify(_ context: DoctorContext) -> [DoctorFinding] {
        guard let bytes = try? FileSystem.read(context.inotifyWatchLimitPath, limit: 64).bytes,
              let limit = Int(String(decoding: bytes, as: UTF8.self).trimmingWhitespacesAndNewlines()) else {
            return [DoctorFinding(check: "inotify", status: .fail, finding: "inotify is not available (cannot read \(context.inotifyWatchLimitPath)), so the watcher cannot see changes", fix: "run on Linux with inotify; in a container, make /proc/sys/fs/inotify visible")]
        }
        let folders = DoctorFiles.folderCount(under: context.vault.root)
        let raise = "raise it: sysctl fs.inotify.max_user_watches=\(max(524_288, folders * 4)) (and add it to /etc/sysctl.d/)"
        if limit <= folders {
            return [DoctorFinding(check: "inotify", status: .fail, finding: "the vault has \(folders) folders but only \(limit) inotify watches are allowed per user", fix: raise)]
        }
        if limit < folders * 2 {
            return [DoctorFinding(check: "inotify", status: .warn, finding: "the vault's \(folders) folders use more than half of the \(limit) inotify watches other programs share", fix: raise)]
        }
        return [DoctorFinding(check: "inotify", status: .ok, finding: "inotify allows \(limit) watches; the vault needs \(folders)")]
    }

    /// Install hints for the agent CLIs we know.
    static let installHints: [String: String] = [
        "claude": "install Claude Code (npm install -g @anthropic-ai/claude-code) to use the claude agent",
        "codex": "install Codex CLI (npm install -g @openai/codex) to use the codex agent",
        "opencode": "install OpenCode (npm install -g opencode-ai) to use the opencode agent",
        "hermes": "install Hermes Agent (pip install hermes-agent, or pipx) to use the hermes agent",
        "openclaw": "install OpenClaw (npm install -g openclaw) to use the openclaw agent",
        "ollama": "install Ollama (https://ollama.com/download) for the local lane",
        "llm": "install llm (pip install llm) to use the llm agent",
        "qmd": "install qmd (github.com/tobi/qmd) for qmd search; optional",
    ]

    /// The `agent-cli` check: one finding per CLI in `context.agentCommands`.
    static func agentCommands(_ context: DoctorContext) -> [DoctorFinding] {
        // One after another: each is quick, and parallel probes would compete for two cores anyway.
        context.agentCommands.map { agentCommand($0, context: context) }
    }

    /// Finds one CLI on `PATH` and asks it for its version.
    static func agentCommand(_ name: String, context: DoctorContext) -> DoctorFinding {
        guard let path = CommandProbe.find(name, path: context.environment["PATH"] ?? "") else {
            return DoctorFinding(check: "agent-cli", status: .warn, finding: "\(name) is not on PATH", fix: installHints[name] ?? "install \(name) or leave it out of Rules/Agents")
        }
        switch CommandProbe.version(executable: path, environment: context.environment, timeout: context.commandTimeout) {
        case .version(let line):
            return DoctorFinding(check: "agent-cli", status: .ok, finding: "\(name) \(line) (\(path))")
        case .failed(let detail):
            return DoctorFinding(check: "agent-cli", status: .warn, finding: "\(path) --version \(detail)", fix: "reinstall \(name), or check that it runs from a terminal")
        case .timedOut:
            return DoctorFinding(check: "agent-cli", status: .warn, finding: "\(path) --version gave no answer within \(formatSeconds(context.commandTimeout))", fix: "run '\(name) --version' by hand; it may be waiting for a login or an update")
        }
    }

    /// The `ollama` check: `GET /api/version` with a short timeout.
    static func ollamaServer(_ context: DoctorContext) -> [DoctorFinding] {
        // The server the vault's ollama agent note names (`endpoint:`), as the local lane uses it:
        // probed at the default only, doctor warned of no server while the lane check found it (a
        // new user's check, round 50).
        var probed = context.ollamaEndpoint
        if probed == DoctorContext.defaultOllamaEndpoint, FileManager.default.fileExists(atPath: context.vault.root + "/" + Vault.Layout.rules),
           let named = RuleBook.load(vault: context.vault).agent(named: "ollama")?.endpoint, !named.isEmpty {
            probed = named
        }
        let endpoint = probed.hasSuffix("/") ? String(probed.dropLast()) : probed
        let fix = "start it with 'ollama serve' (or the Ollama app) if you want the local lane"
        guard let url = URL(string: endpoint + "/api/version") else {
            return [DoctorFinding(check: "ollama", status: .warn, finding: "'\(endpoint)' is not a URL", fix: "give an http:// endpoint")]
        }
        switch HTTPProbe.get(url, timeout: context.ollamaTimeout) {
        case .answered(let status, let body):
            guard status == 200 else {
                return [DoctorFinding(check: "ollama", status: .warn, finding: "\(endpoint) answered HTTP \(status), not Ollama's version", fix: fix)]
            }
            let version = (try? JSON.parse(body))?["version"]?.stringValue
            return [DoctorFinding(check: "ollama", status: .ok, finding: "Ollama \(version ?? "(unknown version)") answers at \(endpoint)")]
        case .failed(let reason):
            return [DoctorFinding(check: "ollama", status: .warn, finding: "no Ollama server at \(endpoint) (\(reason))", fix: fix)]
        }
    }

    /// The `disk` check: free space on the vault's file system.
    static func freeDisk(_ context: DoctorContext) -> [DoctorFinding] {
        // Measure the vault's file system, or the nearest existing parent before init.
        var path = context.vault.root
        while (try? FileSystem.status(path)) ?? nil == nil, path != "/" {
            path = (path as NSString).deletingLastPathComponent
        }
        guard let free = try? FileSystem.freeBytes(path) else {
            return [DoctorFinding(check: "disk", status: .warn, finding: "cannot tell how much space is free at \(path)")]
        }
        let megabytes = free / 1_048_576
        let text = megabytes >= 10_240 ? "\(megabytes / 1024) GB" : "\(megabytes) MB"
        if megabytes < 100 {
            return [DoctorFinding(check: "disk", status: .fail, finding: "only \(text) free at \(path); notes, results and the index may fail to save", fix: "free some space on that disk")]
        }
        if megabytes < 1024 {
            return [DoctorFinding(check: "disk", status: .warn, finding: "only \(text) free at \(path)", fix: "free some space on that disk")]
        }
        return [DoctorFinding(check: "disk", status: .ok, finding: "\(text) free at \(path)")]
    }

    /// A duration for a finding: `300 ms`, `3 s`.
    static func formatSeconds(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int(bounded: seconds * 1000)) ms" : (seconds == seconds.rounded() ? "\(Int(bounded: seconds)) s" : "\(seconds) s")
    }
}

/// Runs `X --version` the safe way: an argv (never a shell), no stdin, a hard timeout.
enum CommandProbe {
    /// What `--version` gave.
    enum Outcome: Equatable {
        case version(String)
        case failed(String)
        case timedOut
    }

    /// The first executable called `name` along `path` (a `PATH` value), or `nil`; found the way
    /// `Spawn` finds the programs it runs.
    static func find(_ name: String, path: String) -> String? {
        try? Spawn.resolveExecutable(name, searchPath: path)
    }

    /// Runs `executable --version` and returns the first line that looks like a version.
    ///
    /// `Spawn` gives the CLI its own process group and an empty signal mask, stops the whole group
    /// at the timeout, and kills whatever the CLI leaves behind holding its output, so a helper it
    /// starts can keep us waiting for no longer than the grace period.
    static func version(executable: String, environment: [String: String], timeout: Double) -> Outcome {
        let result: Spawn.Result
        do {
            result = try Spawn.run(Spawn.Options(executable: executable, arguments: ["--version"], environment: environment,
                                                 timeout: timeout, terminationGrace: 0.5, stdoutLimit: 64 << 10, stderrLimit: 64 << 10))
        } catch {
            return .failed("could not start: \(error.description)")
        }
        if result.timedOut { return .timedOut }
        let text = String(decoding: result.stdout + result.stderrTail, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespaces() }.filter { !$0.isEmpty }
        switch result.termination {
        case .exited(0): break
        case .exited(let code):
            return .failed("exited with status \(code)" + (lines.first.map { ": \($0.prefix(100))" } ?? ""))
        case .signaled:
            return .failed(result.termination.description + (lines.first.map { ": \($0.prefix(100))" } ?? ""))
        }
        let line = lines.first { $0.contains(where: \.isNumber) } ?? lines.first ?? "(no version printed)"
        return .version(String(line.prefix(100)))
    }
}

/// One quick HTTP GET with a hard timeout.
enum HTTPProbe {
    /// What the server gave.
    enum Outcome {
        case answered(status: Int, body: String)
        case failed(String)
    }

    /// `GET url`, giving up after `timeout` seconds.
    static func get(_ url: URL, timeout: Double) -> Outcome {
        do {
            let response = try HTTPClient.get(url.absoluteString, timeout: timeout, maxBodyBytes: 1 << 20)
            return .answered(status: response.status, body: response.text)
        } catch .timedOut {
            return .failed("no answer within \(SystemChecks.formatSeconds(timeout))")
        } catch .connectionRefused {
            return .failed("connection refused")
        } catch {
            return .failed(error.description)
        }
    }
}

/// Which lanes can run on this machine: each lane's default agent and whether it is usable here.
public enum LaneReadiness {
    /// One lane's state.
    public struct Lane: Sendable, Equatable {
        /// The lane's name.
        public let lane: String
        /// The agent a task routed to the lane (without naming one) gets, if any.
        public let agent: String?
        /// Why that agent cannot run here, or `nil` when it can.
        public let problem: String?
        /// Whether tasks no rule matches go to this lane.
        public let isDefault: Bool
        /// Other agents the rules send this lane's work to (premium's code rule: claude).
        public var ruleAgents: [String] = []
    }

    /// The premium, local and tool lanes of a vault, with their default agents' availability.
    public static func lanes(of vault: Vault, environment: [String: String]) -> [Lane] {
        let book = RuleBook.load(vault: vault)
        let availability = AgentAvailability(environment: environment, probeTimeout: 0.3)
        return [AgentOS.Lane.premium, .local, .tool].map { lane in
            let isDefault = book.guardrails.defaultLane == lane
            guard let agent = book.defaultAgent(for: lane) else {
                return Lane(lane: lane.rawValue, agent: nil, problem: "no agent note for this lane", isDefault: isDefault)
            }
            // A rule may send the lane's work to another agent (premium's code rule to claude): the
            // lane is usable only if those can run too, as doctor judges it (a tour: init said
            // "premium: agent llm — usable", and doctor failed the lane right after).
            var problem = availability.unavailableReason(agent)
            var ruleAgents: [String] = []
            for route in LaneChecks.routes(into: lane, book: book) {
                if let name = route.agent, name.lowercased() != agent.name.lowercased(), !ruleAgents.contains(name) { ruleAgents.append(name) }
            }
            if problem == nil {
                for route in LaneChecks.routes(into: lane, book: book) {
                    guard let name = route.agent, name.lowercased() != agent.name.lowercased(), let routed = book.agent(named: name),
                          let why = availability.unavailableReason(routed) else { continue }
                    problem = "work from \(LaneChecks.describe([route])) goes to \(name), which cannot run here: \(why)"
                    break
                }
            }
            var ready = Lane(lane: lane.rawValue, agent: agent.name, problem: problem, isDefault: isDefault)
            ready.ruleAgents = ruleAgents
            return ready
        }
    }

    /// One line per lane for people: "local: ollama — not usable here: …".
    public static func describe(_ lanes: [Lane]) -> [String] {
        lanes.map { lane in
            // The agents the rules send work to are named too (a tour read "premium: agent llm" as
            // "premium uses llm", where the shipped code rule sends premium work to claude).
            let agent = (lane.agent.map { "agent \($0)" } ?? "no agent") + (lane.ruleAgents.isEmpty ? "" : ", and \(lane.ruleAgents.joined(separator: ", ")) for what the rules send there")
            let marker = lane.isDefault ? " (the default lane)" : ""
            return "\(lane.lane)\(marker): \(agent) — " + (lane.problem.map { "not usable here: \($0)" } ?? "usable")
        }
    }
}

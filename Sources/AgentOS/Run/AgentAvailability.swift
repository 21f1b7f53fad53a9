import Foundation

/// Whether an agent can run on this machine now: its program is on `PATH`, or (for Ollama and
/// `openai-chat`) its server answers. Routing sends a task whose lane has no usable agent to `review` with the reason
/// and the fix, instead of letting each task fail; `doctor` and `init` say which lanes are usable.
///
/// Answers are kept a few seconds, so a burst of tasks probes a server once, not once a task.
public final class AgentAvailability: Sendable {
    /// How long an answer is kept.
    public let ttl: Double
    /// How long an HTTP probe may take.
    public let probeTimeout: Double
    private let environment: [String: String]
    /// Answers by agent, with when they were found.
    private let answers = Locked<[String: (reason: String?, at: Double)]>([:])

    /// A checker that finds programs on `environment["PATH"]`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, ttl: Double = 10, probeTimeout: Double = 0.5) {
        self.environment = environment
        self.ttl = ttl
        self.probeTimeout = probeTimeout
    }

    /// Why `definition` cannot run here, with the fix, or `nil` when it can.
    public func unavailableReason(_ definition: AgentDefinition) -> String? {
        let key = definition.name.lowercased() + "|" + (definition.endpoint ?? "") + "|" + (definition.command.first ?? "")
        let now = Descriptor.monotonicSeconds()
        if let cached = answers.withLock({ $0[key] }), now - cached.at < ttl { return cached.reason }
        let reason = AgentAvailability.probe(definition, environment: environment, timeout: probeTimeout)
        answers.withLock { $0[key] = (reason, now) }
        return reason
    }

    /// The check itself, uncached.
    static func probe(_ definition: AgentDefinition, environment: [String: String], timeout: Double) -> String? {
        let source = definition.sourcePath ?? "Rules/Agents/\(definition.name).md"
        if definition.output == .ollama {
            let endpoint = (definition.endpoint ?? "http://localhost:11434").trimmingSuffix("/")
            guard let url = URL(string: endpoint + "/api/version") else { return "agent \(definition.name): '\(endpoint)' is not a URL; fix 'endpoint' in \(source)" }
            switch HTTPProbe.get(url, timeout: timeout) {
            case .answered(let status, _) where status == 200:
                return nil
            case .answered(let status, _):
                return "agent \(definition.name): \(endpoint) answered HTTP \(status), not Ollama; start Ollama ('ollama serve') or set another local agent (local_agent in Rules/Guardrails.md)"
            case .failed(let why):
                return "agent \(definition.name): no Ollama server answers at \(endpoint) (\(why)); install and start Ollama ('ollama serve'), or set another local agent (local_agent / default_agent in Rules/Guardrails.md)"
            }
        }
        if definition.output == .browser { return BrowserAgent.unavailableReason(definition, environment: environment) }
        if definition.output == .openAIChat {
            guard let endpoint = definition.endpoint else { return "agent \(definition.name) has no endpoint; fix 'endpoint' in \(source)" }
            let key = definition.apiKeyVariable.flatMap { environment[$0] }
            return OpenAIChatClient.probe(endpoint: endpoint, apiKey: key, timeout: timeout).map { "agent \(definition.name): \($0); start it, or fix 'endpoint' in \(source)" }
        }
        guard let program = definition.command.first, !program.isEmpty else { return "agent \(definition.name) has no command; fix 'command' in \(source)" }
        if program.contains("{") { return nil } // a placeholder decides at run time
        do {
            _ = try Spawn.resolveExecutable(program, searchPath: environment["PATH"] ?? "/usr/bin:/bin")
            return nil
        } catch {
            switch error {
            case .notExecutable: return "agent \(definition.name): '\(program)' is not executable; fix its permissions, or 'command' in \(source)"
            default: return "agent \(definition.name): '\(program)' is not installed (not on the watcher's PATH); install it, or fix 'command' in \(source)"
            }
        }
    }
}

extension String {
    /// The string without one trailing `suffix`, if it ends with it.
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

import Foundation

/// How an agent's stdout (or HTTP answer) is read.
public enum AgentOutputFormat: String, Sendable, CaseIterable {
    /// `claude -p --output-format json`: one result object.
    case claudeJSON = "claude-json"
    /// `codex exec --json`: JSONL thread events.
    case codexJSONL = "codex-jsonl"
    /// `opencode run --format json`: NDJSON part events.
    case opencodeJSONL = "opencode-jsonl"
    /// Ollama's HTTP `/api/generate` answer (no process).
    case ollama
    /// Plain text on stdout (`llm`, any command).
    case text
    /// The built-in browser agent (`BrowserAgent`): `command` names the Chromium or Chrome to start.
    case browser
    /// `hermes chat -Q -q`: the final answer as text on stdout, `session_id:` and `Error:` on stderr.
    case hermes
    /// `openclaw agent --json`: one object with `payloads` and `meta.agentMeta`.
    case openclawJSON = "openclaw-json"
    /// Any `/v1/chat/completions` server's answer, streamed or not (no process; see `OpenAIChatClient`).
    case openAIChat = "openai-chat"

    /// Whether the agent is an HTTP call rather than a process (no argv, no run folder).
    public var isHTTP: Bool { self == .ollama || self == .openAIChat }
}

/// An agent as defined by a note in `Rules/` (`type: agent`); only these notes name commands.
/// Routing and running read the same definitions: `RuleBook.load` parses the notes once (with
/// `parse`), and a vault without agent notes gets `AgentDefinition.builtIn`.
///
/// Building argv: the `command` list with `{prompt}`, `{model}` and `{cwd}` replaced; then `model_args`
/// (only when a model is set), `budget_args` (only when the run holds a budget reservation, with
/// `{budget}` = that reservation in dollars) and `readonly_args` (unless approved) or `approved_args`
/// (when approved) and, for a run given the MCP server (`mcp: true`), `mcp_args` with `{mcp_config}`,
/// `{mcp_command}`, `{mcp_args}`, `{mcp_env}` filled in (see `RunMCPServer`) are inserted just before
/// the first element holding `{prompt}` (before a `--` right in front of it), or appended when there
/// is none. Without `{prompt}` in `command`, the prompt goes to stdin.
public struct AgentDefinition: Equatable, Sendable {
    /// The name tasks use to pick it.
    public var name: String
    /// The lane the agent belongs to.
    public var lane: Lane
    /// argv with placeholders; empty for `ollama`.
    public var command: [String]
    /// Arguments added when a model is chosen (`[--model, "{model}"]`).
    public var modelArguments: [String]
    /// Arguments added unless the task is approved (the CLI's read-only mode).
    public var readonlyArguments: [String]
    /// Arguments added when the task is approved (the CLI's editing mode).
    public var approvedArguments: [String]
    /// Arguments that give the CLI the run's own spending cap (`[--max-budget-usd, "{budget}"]` for
    /// Claude Code), so the tool stops itself near the reservation instead of spending on.
    public var budgetArguments: [String] = []
    /// Whether runs get this vault's MCP server (`mcp: true`; off unless the note turns it on).
    public var usesMCP = false
    /// Arguments that hand the CLI the run's MCP server (`mcp_args`, e.g. `[--mcp-config,
    /// "{mcp_config}"]` for Claude Code); added only when `usesMCP`.
    public var mcpArguments: [String] = []
    /// How its answer is read.
    public var output: AgentOutputFormat
    /// Base URL for `ollama` ("http://localhost:11434") and `openai-chat` ("http://localhost:8080/v1").
    public var endpoint: String?
    /// For `openai-chat`: the environment variable whose value is sent as the bearer key
    /// (`api_key_env`); the key itself never sits in a note.
    public var apiKeyVariable: String?
    /// For `openai-chat`: whether the answer is asked for as a stream (`stream`, true by default).
    public var streams = true
    /// Default model.
    public var model: String?
    /// Other models a task may ask for on a local lane (`models:`): a model name can send the text
    /// off the machine (Ollama's `…:cloud` models, `llm -m gpt-4o`), so there only the agent note's
    /// own `model` and these run (`Router`).
    public var models: [String] = []

    /// Whether a model reaches the agent at all: an HTTP agent sends one, a command gets one
    /// through `model_args` or `{model}` in any of its argument lists (`echo`'s `printf` gets none).
    public var usesModel: Bool {
        endpoint != nil || !modelArguments.isEmpty
            || (command + readonlyArguments + approvedArguments + budgetArguments + mcpArguments).contains { $0.contains("{model}") }
    }
    /// USD per million input / output tokens (used when the tool reports no cost).
    public var priceInPerMillionTokens: Double?
    /// USD per million output tokens.
    public var priceOutPerMillionTokens: Double?
    /// The reservation per run against the budget.
    public var maxCostUSD: Double?
    /// Seconds before the run is stopped.
    public var timeout: Double?
    /// Environment variable names passed through (PATH and HOME always are).
    public var environmentNames: [String]
    /// Token budget of the context packet.
    public var contextTokens: Int?
    /// Whether a task whose own text does not fit `contextTokens` runs with it cut (`truncate: allow`)
    /// rather than failing (`truncate: fail`, the default). A cut run is recorded on the task, its
    /// result note and telemetry.
    public var truncateAllowed = false
    /// How many runs of this agent may run at once (`concurrency: N`); `nil`: the lane's default
    /// (premium 2, local 2, tool 1, human 1). The watcher's global cap (`TaskEngine.runCap`) still applies.
    public var concurrency: Int?
    /// How many times a read-only task this agent ran is queued again after a timeout, an overload or
    /// a crash of the watcher (`retries: N`; a task's own `retries` wins); `nil`: once.
    public var retries: Int?
    /// The note it came from (vault-relative), when known.
    public var sourcePath: String?
    /// The agents to try next, in order, when this one hits a limit, a rate limit, an overload, a
    /// key problem or its timeout (`failover: [codex, opencode, ollama]`); every guardrail applies
    /// to each again.
    public var failover: [String] = []
    /// For the browser agent: the agent a question about the page is handed to (`ask_agent`; a
    /// task's `ask` property wins).
    public var askAgent: String?

    /// The lane names an agent note may use, for messages.
    private static let laneNames = Lane.allCases.map(\.rawValue).joined(separator: ", ")

    /// The note's path, or `built-in:NAME` for a built-in definition.
    public var path: String { sourcePath ?? "built-in:\(name)" }

    /// Whether running this agent may cost money (it declares prices or a maximum cost above zero).
    public var isPaid: Bool {
        (priceInPerMillionTokens ?? 0) > 0 || (priceOutPerMillionTokens ?? 0) > 0 || (maxCostUSD ?? 0) > 0
    }

    /// Whether a paid run of this agent may reserve less than its most when its task has less left
    /// under its cap: only when the agent is told the reservation (`budget_args`: Claude Code's
    /// `--max-budget-usd`) and stops within it. Any other spends up to its maximum whatever was
    /// reserved (round 147: a codex-like agent reserved the $0.05 a task had and spent $0.28), so it
    /// reserves `mostPerRun`, and a task with less left waits or goes to review.
    public var mayReserveLess: Bool { !budgetArguments.isEmpty }

    /// What a paid run of this agent reserves when it cannot be told less (`mayReserveLess` false):
    /// its `max_cost_usd`, or with none, `taskCapUSD` (the guardrails' `budget_task_usd`, the most
    /// one task may spend) — nothing else bounds it (round 151: a premium agent with neither
    /// `budget_args` nor `max_cost_usd` reserved the $0.05 its task had and spent $0.90).
    /// `nil` for an agent that may reserve less.
    public func mostPerRun(taskCapUSD: Double) -> Double? {
        guard !mayReserveLess else { return nil }
        if let most = maxCostUSD, most > 0 { return most }
        return taskCapUSD
    }

    /// The cost of a run from its token counts and the note's prices (`nil` when the note has no
    /// prices); used when the tool reports no cost of its own.
    public func cost(tokensIn: Int, tokensOut: Int) -> Double? {
        guard priceInPerMillionTokens != nil || priceOutPerMillionTokens != nil else { return nil }
        return Double(tokensIn) * (priceInPerMillionTokens ?? 0) / 1_000_000 + Double(tokensOut) * (priceOutPerMillionTokens ?? 0) / 1_000_000
    }

    /// The agents a vault without agent notes routes to and runs: the local lane's default and the
    /// premium lane's, defined by the same notes `init` writes (`rules/Agents/`), parsed from the
    /// embedded template so that their text exists once.
    public static let builtIn: [AgentDefinition] = ["ollama", "claude"].compactMap { name in
        guard let file = VaultTemplate.files.first(where: { $0.path == Vault.Layout.rules + "/Agents/\(name).md" }),
              let note = try? Note.parse(file.contents), var definition = try? AgentDefinition.parse(note) else { return nil }
        definition.sourcePath = nil // not a note of this vault
        return definition
    }

    /// A definition from its parts (tests and tools; vaults define agents in notes).
    public init(
        name: String, lane: Lane, command: [String], modelArguments: [String] = [], readonlyArguments: [String] = [],
        approvedArguments: [String] = [], output: AgentOutputFormat, endpoint: String? = nil, model: String? = nil,
        priceInPerMillionTokens: Double? = nil, priceOutPerMillionTokens: Double? = nil, maxCostUSD: Double? = nil,
        timeout: Double? = nil, environmentNames: [String] = [], contextTokens: Int? = nil, sourcePath: String? = nil
    ) {
        self.name = name
        self.lane = lane
        self.command = command
        self.modelArguments = modelArguments
        self.readonlyArguments = readonlyArguments
        self.approvedArguments = approvedArguments
        self.output = output
        self.endpoint = endpoint
        self.model = model
        self.priceInPerMillionTokens = priceInPerMillionTokens
        self.priceOutPerMillionTokens = priceOutPerMillionTokens
        self.maxCostUSD = maxCostUSD
        self.timeout = timeout
        self.environmentNames = environmentNames
        self.contextTokens = contextTokens
        self.sourcePath = sourcePath
    }

    /// Reads an agent note. Every problem is one line naming the note and the property.
    public static func parse(_ note: Note, path: String? = nil) throws(AgentDefinitionError) -> AgentDefinition {
        let source = path ?? "agent note"
        func fail(_ message: String) -> AgentDefinitionError { AgentDefinitionError(source: source, message: message) }

        if let type = note.text("type"), type.lowercased() != "agent" {
            throw fail("type is '\(type)', expected 'agent'")
        }
        guard let name = note.text("name") else { throw fail("missing 'name'") }
        if name.contains(where: { $0.isWhitespace || $0 == "/" }) { throw fail("name '\(name)' must be one word without '/'") }
        guard let laneText = note.text("lane") else { throw fail("missing 'lane' (one of \(laneNames))") }
        guard let lane = Lane(note: laneText) else { throw fail("lane '\(laneText)' is not one of \(laneNames)") }
        guard let outputText = note.text("output") else {
            throw fail("missing 'output' (one of \(AgentOutputFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let output = AgentOutputFormat(rawValue: outputText.lowercased()) else {
            throw fail("output '\(outputText)' is not one of \(AgentOutputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }

        func list(_ key: String) throws(AgentDefinitionError) -> [String] {
            guard let value = note[key] else { return [] }
            switch value {
            case .null: return []
            case .list(let items):
                var result: [String] = []
                for item in items {
                    guard let text = item.text else { throw fail("'\(key)' must be a list of texts") }
                    result.append(text)
                }
                return result
            case .string(let s):
                // A single string is a one-element list; never split on spaces (that would be a shell).
                if key == "command" && s.contains(" ") {
                    throw fail("'command' must be a list of arguments, e.g. [\"claude\", \"-p\", \"{prompt}\"], never a shell string")
                }
                return [s]
            default:
                throw fail("'\(key)' must be a list of texts")
            }
        }
        // Prices and the cost cap are dollars, written as budgets are (`0.10`, `"$0.10"`); a value
        // that does not parse is refused, never read as "no cost" (that would reserve nothing).
        func dollars(_ key: String) throws(AgentDefinitionError) -> Double? {
            guard let value = note[key], value != .null else { return nil }
            guard let parsed = Money.dollars(value) else { throw fail(Money.problem(key: key, value: value)) }
            return parsed
        }
        func number(_ key: String) throws(AgentDefinitionError) -> Double? {
            guard let value = note[key], value != .null else { return nil }
            guard let n = value.number, n.isFinite, n >= 0 else { throw fail("'\(key)' must be a non-negative number") }
            return n
        }

        let command = try list("command")
        var endpoint = note.text("endpoint")
        if output == .ollama {
            if endpoint == nil { endpoint = "http://localhost:11434" }
            guard let e = endpoint, let url = URL(string: e), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw fail("endpoint '\(endpoint ?? "")' is not an http(s) URL")
            }
        } else if output == .openAIChat {
            guard let e = endpoint else {
                throw fail("missing 'endpoint' (the server's base URL, e.g. http://localhost:8080/v1 for llama-server, http://localhost:1234/v1 for LM Studio)")
            }
            // Our HTTP client speaks plain http:// only (no TLS), so an https endpoint is refused here
            // rather than at the first run.
            do { _ = try HTTPURL(parsing: e) } catch {
                throw fail("endpoint '\(e)' is not an http:// URL (only plain http:// is supported: a server on this machine or your network)")
            }
            if !command.isEmpty { throw fail("'command' is not used by output openai-chat (it is an HTTP call); remove it") }
        } else if command.isEmpty {
            throw fail("missing 'command' (an argv list such as [\"llm\", \"-m\", \"{model}\", \"--\", \"{prompt}\"])")
        }
        if let first = command.first, first.contains("{") {
            throw fail("the program name in 'command' cannot be a placeholder")
        }
        if let first = command.first, AgentDefinition.shells.contains((first as NSString).lastPathComponent) {
            throw fail("'command' starts a shell (\((first as NSString).lastPathComponent)); give the agent's own argv, never a shell")
        }
        let timeout = try number("timeout")
        if let t = timeout, !(t > 0 && t.isFinite) { throw fail("'timeout' must be more than 0 seconds") }
        // Each checked before it becomes an `Int` (`1e30` as one stopped every command that loads
        // the agents, the watcher and `doctor` included: an outside attack).
        let contextTokens = try number("context_tokens")
        let concurrency = try number("concurrency")
        let retries = try number("retries")
        if let n = contextTokens, !(n >= 1 && n <= 1_000_000_000) { throw fail("'context_tokens' must be a number of tokens from 1 to 1000000000") }
        if let n = retries, !(n >= 0 && n <= 1_000) || n != n.rounded() { throw fail("'retries' must be a whole number from 0 to 1000") }
        if let n = concurrency, !(n >= 1 && n <= 10_000) || n != n.rounded() { throw fail("'concurrency' must be a whole number of runs from 1 to 10000") }
        let truncateAllowed: Bool
        switch note.text("truncate")?.lowercased() {
        case nil, "fail": truncateAllowed = false
        case "allow": truncateAllowed = true
        case let other?: throw fail("'truncate' is allow or fail, not '\(other)'")
        }
        let environmentNames = try list("env")
        for name in environmentNames where name.isEmpty || name.contains("=") {
            throw fail("'env' lists variable names; '\(name)' is not one")
        }

        let budgetArguments = try list("budget_args")
        if !budgetArguments.isEmpty && !budgetArguments.contains(where: { $0.contains("{budget}") }) {
            throw fail("'budget_args' must hold {budget} (the run's reservation in dollars), e.g. [--max-budget-usd, \"{budget}\"]")
        }
        if (command + (try list("model_args")) + (try list("readonly_args")) + (try list("approved_args"))).contains(where: { $0.contains("{budget}") }) {
            throw fail("{budget} belongs in 'budget_args' only (it is given only to runs that hold a reservation)")
        }

        let mcpArguments = try list("mcp_args")
        let usesMCP: Bool
        switch note["mcp"] {
        case nil, .null?: usesMCP = false
        case let value?:
            guard let flag = value.bool else { throw fail("'mcp' is true or false") }
            usesMCP = flag
        }
        if !mcpArguments.isEmpty && !mcpArguments.contains(where: { a in RunMCPServer.placeholders.contains { a.contains($0) } }) {
            throw fail("'mcp_args' must hold one of \(RunMCPServer.placeholders.joined(separator: ", ")), e.g. [--mcp-config, \"{mcp_config}\"]")
        }
        if (command + budgetArguments + (try list("model_args")) + (try list("readonly_args")) + (try list("approved_args"))).contains(where: { a in RunMCPServer.placeholders.contains { a.contains($0) } }) {
            throw fail("the {mcp_…} placeholders belong in 'mcp_args' only (they are given only to runs with 'mcp: true')")
        }
        if usesMCP && mcpArguments.isEmpty {
            throw fail("'mcp: true' needs 'mcp_args', the arguments that give this CLI an MCP server (e.g. [--mcp-config, \"{mcp_config}\"]); a CLI without such arguments cannot be given one per run")
        }

        var definition = AgentDefinition(
            name: name, lane: lane, command: command, modelArguments: try list("model_args"),
            readonlyArguments: try list("readonly_args"), approvedArguments: try list("approved_args"), output: output,
            endpoint: endpoint, model: note.text("model"), priceInPerMillionTokens: try dollars("price_in_per_mtok"),
            priceOutPerMillionTokens: try dollars("price_out_per_mtok"), maxCostUSD: try dollars("max_cost_usd"),
            timeout: timeout, environmentNames: environmentNames, contextTokens: contextTokens.map { Int($0) }, sourcePath: path
        )
        definition.budgetArguments = budgetArguments
        definition.models = try list("models")
        definition.truncateAllowed = truncateAllowed
        definition.usesMCP = usesMCP
        definition.mcpArguments = mcpArguments
        definition.failover = note.texts("failover").map { $0.trimmingWhitespaces() }.filter { !$0.isEmpty }
        definition.askAgent = note.text("ask_agent")
        definition.concurrency = concurrency.map { Int($0) }
        definition.retries = retries.map { Int($0) }
        if let variable = note.text("api_key_env") {
            guard output == .openAIChat else { throw fail("'api_key_env' is only used by output openai-chat") }
            if variable.isEmpty || variable.contains("=") || variable.contains(where: \.isWhitespace) {
                throw fail("'api_key_env' names an environment variable; '\(variable)' is not one")
            }
            definition.apiKeyVariable = variable
        }
        switch note["stream"] {
        case nil, .null?: break
        case let value?:
            guard let flag = value.bool else { throw fail("'stream' is true or false") }
            definition.streams = flag
        }
        if usesMCP && output.isHTTP { throw fail("'mcp: true' needs a CLI; output \(output.rawValue) is an HTTP call") }
        return definition
    }

    /// The variable through which the engine gives a run its reservation in dollars (also set for
    /// the agent, so a wrapper script can read its cap).
    public static let budgetVariable = "FBT_BUDGET_USD"

    /// Dollars as `{budget}` is filled in: plain decimal, no exponent, no trailing zeros (`0.03`, `1`).
    public static func budgetText(_ dollars: Double) -> String {
        let micros = max(0, BudgetLedger.micros(dollars))
        let whole = micros / 1_000_000
        var fraction = String(format: "%06lld", micros % 1_000_000)
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
    }

    /// Programs that would turn an argv back into a shell command line; agent notes may not start them.
    public static let shells: Set<String> = ["sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "csh", "tcsh", "busybox", "pwsh", "env"]

    /// The longest prompt passed as one argument; Linux refuses a single argument over 128 KiB
    /// (MAX_ARG_STRLEN), so longer prompts must go on stdin.
    public static let maximumPromptArgumentBytes = 120_000

    /// The argv for one run (program name first), and whether the prompt goes to stdin.
    /// `budgetUSD` is the run's reservation: with it, `budget_args` are added with `{budget}` filled in.
    /// `mcp` is the run's MCP server: with it, `mcp_args` are added with its placeholders filled in.
    public func argv(prompt: String, model: String?, approved: Bool, workingDirectory: String, budgetUSD: Double? = nil, mcp: RunMCPServer? = nil) throws(AgentDefinitionError) -> (arguments: [String], promptOnStdin: Bool) {
        let source = sourcePath ?? "agent \(name)"
        if command.isEmpty { throw AgentDefinitionError(source: source, message: "missing 'command'") }
        let chosenModel = model ?? self.model
        let usesPrompt = command.contains { $0.contains("{prompt}") }
        if usesPrompt && prompt.utf8.count > AgentDefinition.maximumPromptArgumentBytes {
            throw AgentDefinitionError(source: source, message: "the prompt (\(prompt.utf8.count) bytes) is too long for one argument; remove {prompt} from 'command' so it goes to stdin")
        }
        let budget = budgetUSD.map(AgentDefinition.budgetText)
        // Appended one by one: as one sum of conditional arrays it took the type checker 0.2 s.
        var extras: [String] = []
        if chosenModel != nil { extras += modelArguments }
        if budget != nil { extras += budgetArguments }
        extras += approved ? approvedArguments : readonlyArguments
        if mcp != nil { extras += mcpArguments }
        let needsModel = (command + extras).contains { $0.contains("{model}") }
        if needsModel && chosenModel == nil {
            throw AgentDefinitionError(source: source, message: "'command' uses {model} but neither the task nor the agent sets a model")
        }
        func fill(_ argument: String) -> String {
            var result = argument
            if result.contains("{model}") { result = result.replacingOccurrences(of: "{model}", with: chosenModel ?? "") }
            if result.contains("{cwd}") { result = result.replacingOccurrences(of: "{cwd}", with: workingDirectory) }
            if let budget, result.contains("{budget}") { result = result.replacingOccurrences(of: "{budget}", with: budget) }
            if let mcp, result.contains("{mcp_") { result = mcp.fill(result) }
            // The prompt last, so that braces inside it are never taken for placeholders.
            if result.contains("{prompt}") { result = result.replacingOccurrences(of: "{prompt}", with: prompt) }
            return result
        }
        var template = command
        if let index = template.firstIndex(where: { $0.contains("{prompt}") }) {
            let at = index > 1 && template[index - 1] == "--" ? index - 1 : index
            template.insert(contentsOf: extras, at: at)
        } else {
            template.append(contentsOf: extras)
        }
        return (template.map(fill), !usesPrompt)
    }
}

/// A problem with an agent definition, one line: "Rules/Agents/claude.md: missing 'lane'".
public struct AgentDefinitionError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The note (or agent) it is about.
    public var source: String
    /// What is wrong, saying what to fix.
    public var message: String
    public var description: String { "\(source): \(message)" }
}

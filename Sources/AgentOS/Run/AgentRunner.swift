import Foundation

/// Why a run failed, in words a person can act on.
public enum AgentFailure: Equatable, Sendable, CustomStringConvertible {
    /// The agent definition cannot be used for this run (bad placeholder, prompt too long, …).
    case invalidDefinition(String)
    /// The program is not installed (or not executable).
    case missingBinary(String)
    /// The program could not be started for another reason.
    case spawnFailed(String)
    /// The run passed its time limit and was stopped.
    case timedOut(seconds: Double)
    /// Someone cancelled the run (e.g. `status: cancelled`).
    case cancelled
    /// A signal killed the program.
    case signaled(signal: Int32)
    /// The program printed more than the kept limit on stdout.
    case outputFlood(totalBytes: Int, keptBytes: Int)
    /// The tool itself reported an error (error event, `is_error`, `turn.failed`, HTTP error).
    case toolError(String)
    /// The program exited with a non-zero status and no error of its own.
    case exitStatus(Int32)
    /// The model server could not be reached.
    case unreachable(String)

    /// A short stable code for telemetry: `missing_binary`, `timeout`, `signal`, `flood`, …
    public var code: String {
        switch self {
        case .invalidDefinition: return "invalid_agent"
        case .missingBinary: return "missing_binary"
        case .spawnFailed: return "spawn_failed"
        case .timedOut: return "timeout"
        case .cancelled: return "cancelled"
        case .signaled: return "signal"
        case .outputFlood: return "flood"
        case .toolError: return "tool_error"
        case .exitStatus: return "exit_status"
        case .unreachable: return "unreachable"
        }
    }

    public var description: String {
        switch self {
        case .invalidDefinition(let m): return m
        case .missingBinary(let m): return m
        case .spawnFailed(let m): return "could not start the agent: \(m)"
        case .timedOut(let s): return "the agent did not finish within \(PropertyValue.format(double: s)) s and was stopped"
        case .cancelled: return "the run was cancelled"
        case .signaled(let s): return "the agent was killed by \(Spawn.signalName(s))"
        case .outputFlood(let total, let kept):
            return "the agent printed \(AgentFailure.bytes(total)) on stdout; only the first \(AgentFailure.bytes(kept)) were kept, so its answer cannot be trusted"
        case .toolError(let m): return m
        case .exitStatus(let c): return "the agent exited with status \(c)"
        case .unreachable(let m): return m
        }
    }

    static func bytes(_ n: Int) -> String {
        if n >= 1 << 20 { return "\(n >> 20) MB" }
        if n >= 1 << 10 { return "\(n >> 10) KB" }
        return "\(n) bytes"
    }
}

/// Everything one agent run produced.
public struct AgentRunResult: Sendable {
    /// What the tool's output says (answer, cost, tokens, model, session).
    public var outcome: AgentOutcome
    /// `nil` when the run succeeded.
    public var failure: AgentFailure?
    /// The argv that ran (empty for HTTP agents).
    public var argv: [String]
    /// The program's exit status when it exited.
    public var exitCode: Int32?
    /// The signal that killed it, if one did.
    public var signal: Int32?
    /// The last part of stderr (at most 64 KB), as text.
    public var stderrTail: String
    /// Seconds from start to end.
    public var duration: Double
    /// Dollars: the tool's figure, else tokens × the definition's prices (characters ÷ 4 as tokens
    /// when the tool reports none), else 0 for an agent note with no prices and no cost cap, else nil.
    public var costUSD: Double?
    /// `costUSD` was computed from prices, not reported by the tool.
    public var isCostEstimated: Bool
    /// Where `costUSD` comes from (`nil` when there is none: the reservation decides).
    public var costSource: CostSource?
    /// The token counts were guessed from the prompt's and answer's length (characters ÷ 4).
    public var tokensEstimated = false
    /// The model used: the tool's word, else the one asked for.
    public var model: String?

    /// Whether the run succeeded.
    public var isSuccess: Bool { failure == nil }
    /// The one-line error for the result note, or nil on success.
    public var errorMessage: String? {
        guard let failure else { return nil }
        // An exit status alone says nothing; the tool's last line on stderr usually says why.
        guard case .exitStatus = failure,
              let why = stderrTail.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) }) else { return failure.description }
        return failure.description + ": " + why.trimmingWhitespaces().prefix(300)
    }
}

/// Runs an agent once: builds argv from its definition, starts it (or calls Ollama or an OpenAI-compatible server), reads its output.
public struct AgentRunner {
    /// Stdout bytes kept per run.
    public static let stdoutLimit = 16 << 20
    /// Stderr bytes kept per run (the tail).
    public static let stderrLimit = 64 << 10

    /// Runs `definition` on `prompt` and reports what happened; never throws — every failure is in the result.
    ///
    /// - model: the task's model, else the definition's.
    /// - approved: use `approved_args` instead of `readonly_args`.
    /// - timeout: the task's limit, else the definition's, else none.
    /// - environment: where allowed variables are copied from (our own environment by default).
    /// - extraEnvironment: variables set for the agent on top of the allow-list (e.g. a run id).
    /// - mcp: the run's MCP server, handed to the CLI through the note's `mcp_args`.
    public static func run(
        _ definition: AgentDefinition, prompt: String, model: String?, approved: Bool, workingDirectory: String,
        timeout: Double?, cancel: CancelToken?, environment: [String: String] = ProcessInfo.processInfo.environment,
        extraEnvironment: [String: String] = [:], mcp: RunMCPServer? = nil, terminationGrace: Double = 2, outputCopy: Int32 = -1,
        onStart: (@Sendable (Int32) -> Void)? = nil
    ) -> AgentRunResult {
        let started = Descriptor.monotonicSeconds()
        let limit = timeout ?? definition.timeout
        let chosenModel = model ?? definition.model
        var result = AgentRunResult(
            outcome: AgentOutcome(), failure: nil, argv: [], exitCode: nil, signal: nil, stderrTail: "",
            duration: 0, costUSD: nil, isCostEstimated: false, model: chosenModel
        )

        if definition.output == .ollama {
            runOllama(definition, prompt: prompt, model: chosenModel, timeout: limit, cancel: cancel, into: &result)
        } else if definition.output == .openAIChat {
            runOpenAIChat(definition, prompt: prompt, model: chosenModel, timeout: limit, cancel: cancel, environment: environment, into: &result)
        } else {
            runProcess(definition, prompt: prompt, model: chosenModel, approved: approved, workingDirectory: workingDirectory,
                       timeout: limit, cancel: cancel, environment: environment, extras: extraEnvironment, mcp: mcp,
                       grace: terminationGrace, outputCopy: outputCopy, onStart: onStart, into: &result)
        }
        if let reported = result.outcome.model { result.model = reported }
        // What a tool reports is taken within reason: a cost of 1e300 or infinity is kept as the
        // largest amount the ledger holds (past every cap); NaN or a negative one is no cost at all
        // (then the prices estimate it, else the run is charged its reservation — it was settled at
        // $0 before, so such a run spent nothing against any cap); token counts as 0 to a trillion.
        // (`-0.0` is 0; a negative token count is none, as a negative cost is: counted as 0, it made
        // the run's estimate $0.)
        takeWithinReason(&result.outcome)
        if result.outcome.tokensIn == nil && result.outcome.tokensOut == nil && (result.exitCode != nil || !result.outcome.answer.isEmpty) {
            // No counts from the tool: four characters a token, so savings and prices have something to go on.
            result.outcome.tokensIn = TokenEstimate.tokens(prompt)
            result.outcome.tokensOut = TokenEstimate.tokens(result.outcome.answer)
            result.tokensEstimated = true
        }
        if let cost = result.outcome.costUSD {
            result.costUSD = cost
            result.costSource = .reported
        } else if let tokensIn = result.outcome.tokensIn, let tokensOut = result.outcome.tokensOut,
                  let estimate = definition.cost(tokensIn: tokensIn, tokensOut: tokensOut) {
            result.costUSD = estimate
            result.isCostEstimated = true
            result.costSource = .estimated
        } else if !definition.isPaid && definition.lane != .premium {
            // A note with no prices and no cost cap outside the premium lane says the agent costs
            // nothing (the router reserves nothing for it either).
            result.costUSD = 0
            result.isCostEstimated = true
            result.costSource = .estimated
        }
        result.duration = Descriptor.monotonicSeconds() - started
        return result
    }

    /// The cost and token counts a tool reported, taken within reason (see `run`).
    static func takeWithinReason(_ outcome: inout AgentOutcome) {
        outcome.costUSD = reportedCost(outcome.costUSD)
        outcome.tokensIn = outcome.tokensIn.flatMap { $0 < 0 ? nil : min($0, AgentOutcome.largestTokens) }
        outcome.tokensOut = outcome.tokensOut.flatMap { $0 < 0 ? nil : min($0, AgentOutcome.largestTokens) }
    }

    /// A cost as a tool reported it, taken within reason (see `run`).
    static func reportedCost(_ cost: Double?) -> Double? {
        cost.flatMap { $0.isNaN || $0 < 0 ? nil : $0 == 0 ? 0 : min($0, BudgetLedger.largestDollars) }
    }

    static func runProcess(
        _ definition: AgentDefinition, prompt: String, model: String?, approved: Bool, workingDirectory: String,
        timeout: Double?, cancel: CancelToken?, environment: [String: String], extras: [String: String], mcp: RunMCPServer?, grace: Double,
        outputCopy: Int32, onStart: (@Sendable (Int32) -> Void)?,
        into result: inout AgentRunResult
    ) {
        let built: (arguments: [String], promptOnStdin: Bool)
        do {
            // The engine passes a run's reservation in FBT_BUDGET_USD; `budget_args` turn it into the CLI's own cap.
            let budget = extras[AgentDefinition.budgetVariable].flatMap { Money.dollars(.string($0)) }
            built = try definition.argv(prompt: prompt, model: model, approved: approved, workingDirectory: workingDirectory, budgetUSD: budget, mcp: mcp)
        } catch {
            result.failure = .invalidDefinition(error.description)
            return
        }
        result.argv = built.arguments
        var options = Spawn.Options(
            executable: built.arguments[0], arguments: Array(built.arguments.dropFirst()),
            environment: Spawn.environment(allowing: definition.environmentNames, from: environment, extras: extras),
            workingDirectory: workingDirectory, input: built.promptOnStdin ? .bytes(Array(prompt.utf8)) : .none,
            timeout: timeout, terminationGrace: grace, stdoutLimit: stdoutLimit, stderrLimit: stderrLimit, cancel: cancel
        )
        options.onStart = onStart
        options.stdoutCopy = outputCopy
        let spawned: Spawn.Result
        do {
            spawned = try Spawn.run(options)
        } catch {
            switch error {
            case .executableNotFound, .notExecutable:
                result.failure = .missingBinary("agent \(definition.name): \(error.description); install it or fix 'command' in \(definition.sourcePath ?? "its agent note")")
            default:
                result.failure = .spawnFailed(error.description)
            }
            return
        }
        result.argv[0] = spawned.executablePath
        result.exitCode = spawned.exitCode
        result.signal = spawned.signal
        result.stderrTail = String(decoding: spawned.stderrTail, as: UTF8.self)
        result.outcome = definition.output == .hermes
            ? AgentOutputParser.parseHermes(stdout: String(decoding: spawned.stdout, as: UTF8.self), stderr: result.stderrTail)
            : AgentOutputParser.parse(definition.output, output: spawned.stdout)

        // Order matters: what we did to the process explains its death better than what it printed.
        if spawned.cancelled {
            result.failure = .cancelled
        } else if spawned.timedOut, let timeout {
            result.failure = .timedOut(seconds: timeout)
        } else if spawned.isStdoutTruncated {
            result.failure = .outputFlood(totalBytes: spawned.stdoutTotalBytes, keptBytes: spawned.stdout.count)
        } else if result.outcome.isError {
            // The tool's own error wins over its exit status (claude can say is_error and exit 0).
            result.failure = .toolError(result.outcome.errorMessage ?? "the agent reported an error")
        } else if let signal = spawned.signal {
            result.failure = .signaled(signal: signal)
        } else if let code = spawned.exitCode, code != 0 {
            result.failure = .exitStatus(code)
        }
    }

    static func runOllama(_ definition: AgentDefinition, prompt: String, model: String?, timeout: Double?, cancel: CancelToken?, into result: inout AgentRunResult) {
        guard let model else {
            result.failure = .invalidDefinition("\(definition.sourcePath ?? "agent \(definition.name)"): ollama needs a model; set 'model' on the agent or the task")
            return
        }
        let endpoint = definition.endpoint ?? "http://localhost:11434"
        switch OllamaClient.generate(endpoint: endpoint, model: model, prompt: prompt, timeout: timeout, cancel: cancel) {
        case .failed(let error):
            result.failure = HTTPAgentCall.failure(error)
        case .answered(let status, let body):
            result.outcome = AgentOutputParser.parseOllama(String(decoding: body, as: UTF8.self))
            if result.outcome.isError {
                result.failure = .toolError(result.outcome.errorMessage ?? "ollama reported an error (HTTP \(status))")
            } else if !(200..<300).contains(status) {
                result.failure = .toolError("ollama answered HTTP \(status)")
            }
        }
    }
}

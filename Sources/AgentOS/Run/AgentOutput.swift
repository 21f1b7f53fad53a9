import Foundation

/// What an agent answered, read from its own output.
public struct AgentOutcome: Equatable, Sendable {
    /// The most tokens one count is kept as (a trillion): a tool's report is not trusted to fit.
    public static let largestTokens = 1_000_000_000_000

    /// Token counts added up as a tool reports them, none below 0 and the sum at most
    /// `largestTokens`: a count near `Int.max` in a tool's output must not trap the watcher.
    static func sum(_ counts: Int...) -> Int {
        var total = 0
        for count in counts {
            total = min(largestTokens, total + min(max(count, 0), largestTokens))
        }
        return total
    }

    /// The answer text (empty when there is none).
    public var answer: String
    /// The tool itself reported a failure (an error event, `is_error`, `turn.failed`, an HTTP error).
    public var isError: Bool
    /// The tool's error, one line, when `isError`.
    public var errorMessage: String?
    /// Dollars the tool reported (nil when it reports none).
    public var costUSD: Double?
    /// Input tokens, including cached ones read or written.
    public var tokensIn: Int?
    /// Output tokens, including reasoning tokens.
    public var tokensOut: Int?
    /// The model the tool says it used.
    public var model: String?
    /// The tool's session or thread id.
    public var sessionID: String?
    /// Files the tool says it created, changed or deleted (Codex `file_change` items, OpenCode
    /// `write`/`edit`/`multiedit`/`apply_patch` tool parts), as it names them.
    public var files: [TouchedFile] = []
    /// The tool printed the event that ends its run (claude's `result` object, codex's completed or
    /// failed turn, OpenCode's last step finished with `reason: stop`, OpenClaw's result): what it
    /// printed is whole even if its process is stopped before it exits. Plain text never says so.
    public var isFinal = false

    public init(answer: String = "", isError: Bool = false, errorMessage: String? = nil, costUSD: Double? = nil,
                tokensIn: Int? = nil, tokensOut: Int? = nil, model: String? = nil, sessionID: String? = nil) {
        self.answer = answer
        self.isError = isError
        self.errorMessage = errorMessage
        self.costUSD = costUSD
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.model = model
        self.sessionID = sessionID
    }
}

/// Readers for each `AgentOutputFormat`. Each trusts the tool's own error signals over its exit code.
public enum AgentOutputParser {
    /// Reads stdout (or the HTTP body for `ollama` and `openai-chat`) in the given format; for `hermes`,
    /// whose errors are on stderr, `AgentRunner` calls `parseHermes` with both.
    public static func parse(_ format: AgentOutputFormat, output: [UInt8]) -> AgentOutcome {
        let text = String(decoding: output, as: UTF8.self)
        switch format {
        case .claudeJSON: return parseClaude(text)
        case .codexJSONL: return parseCodex(text)
        case .opencodeJSONL: return parseOpencode(text)
        case .ollama: return parseOllama(text)
        case .text, .browser: return AgentOutcome(answer: trimTrailingNewlines(text))
        case .openAIChat: return parseOpenAIChat(text)
        case .hermes: return parseHermes(stdout: text, stderr: "")
        case .openclawJSON: return parseOpenClaw(text)
        }
    }

    /// `claude -p --output-format json` (also the last line of `stream-json`): the `type: result` object.
    /// `is_error: true` is a failure even with `subtype: success` and exit status 0.
    public static func parseClaude(_ text: String) -> AgentOutcome {
        let objects = jsonLines(text)
        guard let result = objects.last(where: { $0["type"]?.stringValue == "result" }) else {
            return AgentOutcome(isError: true, errorMessage: "claude printed no result object" + excerpt(text))
        }
        var outcome = AgentOutcome()
        outcome.isFinal = true
        outcome.answer = result["result"]?.stringValue ?? ""
        let subtype = result["subtype"]?.stringValue ?? "success"
        outcome.isError = result["is_error"]?.boolValue == true || subtype != "success"
        if outcome.isError {
            let errors = (result["errors"]?.arrayValue ?? []).compactMap(\.stringValue)
            let message = errors.first ?? (outcome.answer.isEmpty ? nil : outcome.answer)
            if subtype == "error_max_budget_usd" {
                // `--max-budget-usd` stopped the run (checked between turns, so the cost can be a little over).
                outcome.errorMessage = "claude stopped at its budget (--max-budget-usd) before finishing" + (message.map { ": " + oneLine($0) } ?? "")
            } else {
                outcome.errorMessage = oneLine(message ?? "claude reported an error (\(subtype))")
            }
        }
        outcome.costUSD = result["total_cost_usd"]?.doubleValue ?? result["cost_usd"]?.doubleValue
        if let usage = result["usage"] {
            let input = usage["input_tokens"]?.intValue
            let cacheWrite = usage["cache_creation_input_tokens"]?.intValue ?? 0
            let cacheRead = usage["cache_read_input_tokens"]?.intValue ?? 0
            // A negative count is no count (the runner then estimates both from the text).
            outcome.tokensIn = input.flatMap { $0 < 0 || cacheWrite < 0 || cacheRead < 0 ? nil : AgentOutcome.sum($0, cacheWrite, cacheRead) }
            outcome.tokensOut = usage["output_tokens"]?.intValue
        }
        if case .object(let models)? = result["modelUsage"], let first = models.first { outcome.model = first.0 }
        outcome.sessionID = result["session_id"]?.stringValue
        return outcome
    }

    /// `codex exec --json`: the last `agent_message` is the answer; `turn.failed` is a failure, and so
    /// is an `error` event not followed by a completed turn (codex also reports transient reconnects
    /// as `error`). A `turn.completed` event's usage is the thread's running total, not the turn's
    /// (openai/codex#17539): each turn counts the difference from the one before, so the run's tokens
    /// are the sum of those differences. Completed `file_change` items name the files it wrote
    /// (`changes: [{path, kind: add|update|delete}]`, codex-rs/exec/src/exec_events.rs).
    public static func parseCodex(_ text: String) -> AgentOutcome {
        var outcome = AgentOutcome()
        var completed = false
        var failure: String?
        var lastError: String?
        var sawEvent = false
        var tokensIn = 0, tokensOut = 0, sawUsage = false
        var totalIn = 0, totalOut = 0
        var files: [TouchedFile] = []
        for event in jsonLines(text) {
            guard let type = event["type"]?.stringValue else { continue }
            sawEvent = true
            switch type {
            case "thread.started":
                outcome.sessionID = event["thread_id"]?.stringValue
            case "item.completed":
                if let item = event["item"], item["type"]?.stringValue == "agent_message", let message = item["text"]?.stringValue {
                    outcome.answer = message
                }
                if let item = event["item"], item["type"]?.stringValue == "file_change", item["status"]?.stringValue != "failed" {
                    for change in item["changes"]?.arrayValue ?? [] {
                        guard let path = change["path"]?.stringValue, !path.isEmpty else { continue }
                        let kind: TouchedFile.Change = change["kind"]?.stringValue == "add" ? .created : (change["kind"]?.stringValue == "delete" ? .deleted : .changed)
                        files.append(TouchedFile(path: path, change: kind, attribution: .reported, inVault: false))
                    }
                }
            case "turn.completed":
                completed = true
                lastError = nil
                if let usage = event["usage"] {
                    sawUsage = true
                    let cumulativeIn = AgentOutcome.sum(usage["input_tokens"]?.intValue ?? 0), cumulativeOut = AgentOutcome.sum(usage["output_tokens"]?.intValue ?? 0)
                    // A total smaller than the last one is a new count (another thread): taken whole.
                    tokensIn = AgentOutcome.sum(tokensIn, cumulativeIn >= totalIn ? cumulativeIn - totalIn : cumulativeIn)
                    tokensOut = AgentOutcome.sum(tokensOut, cumulativeOut >= totalOut ? cumulativeOut - totalOut : cumulativeOut)
                    totalIn = cumulativeIn
                    totalOut = cumulativeOut
                }
            case "turn.failed":
                failure = event["error"]?["message"]?.stringValue ?? "codex turn failed"
            case "error":
                lastError = event["message"]?.stringValue ?? "codex reported an error"
            default:
                break
            }
        }
        outcome.files = TouchedFile.merged(files)
        outcome.isFinal = completed || failure != nil
        if sawUsage {
            outcome.tokensIn = tokensIn
            outcome.tokensOut = tokensOut
        }
        if let failure {
            outcome.isError = true
            outcome.errorMessage = oneLine(failure)
        } else if let lastError {
            outcome.isError = true
            outcome.errorMessage = oneLine(lastError)
        } else if !completed {
            outcome.isError = true
            outcome.errorMessage = sawEvent ? "codex ended without completing its turn" : "codex printed no events" + excerpt(text)
        }
        return outcome
    }

    /// `opencode run --format json`: `text` parts make the answer; `step_finish` parts carry cost and
    /// tokens (summed); an `error` event is a failure. Completed `tool_use` parts of the file tools
    /// name the files written: `write`, `edit` and `multiedit` in `state.input.filePath`,
    /// `apply_patch`/`patch` in the `*** Add/Update/Delete File:` lines of `state.input.patchText`
    /// (packages/opencode/src/tool/ in sst/opencode).
    public static func parseOpencode(_ text: String) -> AgentOutcome {
        var outcome = AgentOutcome()
        var texts: [String] = []
        var cost = 0.0, sawCost = false, badCost = false
        var tokensIn = 0, tokensOut = 0, sawTokens = false
        var sawEvent = false
        var errors: [String] = []
        var files: [TouchedFile] = []
        for event in jsonLines(text) {
            guard let type = event["type"]?.stringValue else { continue }
            sawEvent = true
            if outcome.sessionID == nil { outcome.sessionID = event["sessionID"]?.stringValue }
            switch type {
            case "text":
                if let t = event["part"]?["text"]?.stringValue, !t.isEmpty { texts.append(t) }
            case "tool_use":
                if let part = event["part"] { files += openCodeFiles(part) }
            case "step_finish":
                guard let part = event["part"] else { continue }
                // `tool-calls` ends a step the run goes on from; `stop` ends the run — the run's own
                // session's, not a sub-agent's (its events carry another `sessionID`).
                let session = event["sessionID"]?.stringValue ?? part["sessionID"]?.stringValue
                if session == nil || session == outcome.sessionID { outcome.isFinal = part["reason"]?.stringValue == "stop" }
                // A negative or non-finite step makes the whole figure none printed: summed, one
                // negative step shaved the run's cost (round 54).
                if let c = part["cost"]?.doubleValue {
                    if c < 0 || !c.isFinite { badCost = true } else { cost += c; sawCost = true }
                }
                if let tokens = part["tokens"] {
                    sawTokens = true
                    let cache = tokens["cache"]
                    tokensIn = AgentOutcome.sum(tokensIn, tokens["input"]?.intValue ?? 0, cache?["read"]?.intValue ?? 0, cache?["write"]?.intValue ?? 0)
                    tokensOut = AgentOutcome.sum(tokensOut, tokens["output"]?.intValue ?? 0, tokens["reasoning"]?.intValue ?? 0)
                }
            case "error":
                let error = event["error"]
                let message = error?["data"]?["message"]?.stringValue ?? error?["message"]?.stringValue ?? error?["name"]?.stringValue
                errors.append(message ?? "opencode reported an error")
            default:
                break
            }
        }
        outcome.answer = texts.joined(separator: "\n\n")
        outcome.files = TouchedFile.merged(files)
        if sawCost, !badCost { outcome.costUSD = cost }
        if sawTokens {
            outcome.tokensIn = tokensIn
            outcome.tokensOut = tokensOut
        }
        if !errors.isEmpty {
            outcome.isError = true
            outcome.errorMessage = oneLine(errors.joined(separator: "; "))
        } else if !sawEvent {
            outcome.isError = true
            outcome.errorMessage = "opencode printed no events" + excerpt(text)
        }
        return outcome
    }

    /// The files one completed OpenCode tool part wrote (none for other tools or a failed call).
    static func openCodeFiles(_ part: JSON) -> [TouchedFile] {
        guard let state = part["state"], state["status"]?.stringValue == "completed", let tool = part["tool"]?.stringValue?.lowercased() else { return [] }
        let input = state["input"]
        switch tool {
        case "write", "edit", "multiedit":
            guard let path = input?["filePath"]?.stringValue, !path.isEmpty else { return [] }
            // `write` reports in its metadata whether the file was there before.
            let existed = state["metadata"]?["exists"]?.boolValue
            let change: TouchedFile.Change = tool == "write" && existed == false ? .created : .changed
            return [TouchedFile(path: path, change: change, attribution: .reported, inVault: false)]
        case "apply_patch", "patch":
            guard let patch = input?["patchText"]?.stringValue ?? input?["patch"]?.stringValue else { return [] }
            var files: [TouchedFile] = []
            for line in patch.split(whereSeparator: \.isNewline) {
                let prefixes: [(String, TouchedFile.Change)] = [("*** Add File: ", .created), ("*** Update File: ", .changed), ("*** Delete File: ", .deleted)]
                for (prefix, change) in prefixes where line.hasPrefix(prefix) {
                    let path = line.dropFirst(prefix.count).trimmingWhitespaces()
                    if !path.isEmpty { files.append(TouchedFile(path: path, change: change, attribution: .reported, inVault: false)) }
                }
            }
            return files
        default:
            return []
        }
    }

    /// Ollama's `/api/generate` answer with `"stream": false`; `{"error": …}` is a failure. Cost is 0.
    public static func parseOllama(_ text: String) -> AgentOutcome {
        guard let object = try? JSON.parse(text.trimmingWhitespacesAndNewlines()), case .object = object else {
            return AgentOutcome(isError: true, errorMessage: "ollama answered with something that is not JSON" + excerpt(text))
        }
        if let error = object["error"]?.stringValue {
            return AgentOutcome(isError: true, errorMessage: oneLine("ollama: " + error), costUSD: 0, model: object["model"]?.stringValue)
        }
        var outcome = AgentOutcome(answer: object["response"]?.stringValue ?? "", costUSD: 0)
        outcome.tokensIn = object["prompt_eval_count"]?.intValue
        outcome.tokensOut = object["eval_count"]?.intValue
        outcome.model = object["model"]?.stringValue
        if object["response"] == nil {
            outcome.isError = true
            outcome.errorMessage = "ollama's answer has no 'response'"
        }
        return outcome
    }

    /// Every line that parses as a JSON object (tools sometimes print warnings between them), or the
    /// whole text when it is one pretty-printed object.
    static func jsonLines(_ text: String) -> [JSON] {
        var objects: [JSON] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingWhitespaces()
            guard trimmed.hasPrefix("{"), let value = try? JSON.parse(trimmed), case .object = value else { continue }
            objects.append(value)
        }
        if objects.isEmpty, let value = try? JSON.parse(text.trimmingWhitespacesAndNewlines()), case .object = value {
            objects.append(value)
        }
        return objects
    }

    static func trimTrailingNewlines(_ text: String) -> String {
        var result = text
        while result.hasSuffix("\n") || result.hasSuffix("\r") { result.removeLast() }
        return result
    }

    /// Squeezes a message onto one line of at most 500 characters.
    static func oneLine(_ text: String) -> String {
        let joined = text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespaces() }.filter { !$0.isEmpty }.joined(separator: " ")
        return joined.count > 500 ? String(joined.prefix(497)) + "..." : joined
    }

    static func excerpt(_ text: String) -> String {
        let t = oneLine(text)
        return t.isEmpty ? "" : ": " + String(t.prefix(120))
    }
}

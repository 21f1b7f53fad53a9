import Foundation

/// Readers for the harnesses added after the first three: Hermes Agent and OpenClaw.
extension AgentOutputParser {
    /// `hermes chat -Q --query=PROMPT` (Hermes Agent 0.19, `cli.py`'s quiet single-query path):
    /// stdout is the final response and nothing else; stderr ends with `session_id: ID`, and a
    /// failed turn prints `Error: MESSAGE` there. An unconfigured install prints its setup advice on
    /// stdout ("Hermes isn't configured yet … hermes setup") and exits 1. No token counts are printed.
    public static func parseHermes(stdout: String, stderr: String) -> AgentOutcome {
        var outcome = AgentOutcome(answer: trimTrailingNewlines(stdout).trimmingCharacters(in: .newlines))
        for line in stderr.split(whereSeparator: \.isNewline) {
            let text = line.trimmingWhitespaces()
            if text.hasPrefix("session_id:") {
                outcome.sessionID = text.dropFirst("session_id:".count).trimmingWhitespaces()
            } else if text.hasPrefix("Error:") {
                outcome.isError = true
                outcome.errorMessage = oneLine("hermes: " + text.dropFirst("Error:".count).trimmingWhitespaces())
            }
        }
        if !outcome.isError, stdout.contains("isn't configured yet"), stdout.contains("hermes setup") {
            outcome.isError = true
            outcome.errorMessage = "hermes is not configured (no API keys or providers): run 'hermes setup', or set OPENROUTER_API_KEY or OPENAI_API_KEY and list it in the agent note's env"
            outcome.answer = ""
        }
        return outcome
    }

    /// `openclaw agent --local --json`: one object, `payloads[].text` (the reply, in parts) and
    /// `meta.agentMeta` with `sessionId`, `provider`, `model` and `usage` (`input`, `output`,
    /// `cacheRead`, `cacheWrite`, `total`). An `error` (text or `{message}`) at the top or in `meta`
    /// is a failure, and so is an answer with no payload text. OpenClaw reports no dollar cost.
    public static func parseOpenClaw(_ text: String) -> AgentOutcome {
        guard let object = jsonLines(text).last(where: { $0["payloads"] != nil || $0["meta"] != nil || $0["error"] != nil }) else {
            return AgentOutcome(isError: true, errorMessage: "openclaw printed no JSON result" + excerpt(text))
        }
        var outcome = AgentOutcome()
        outcome.isFinal = true
        let texts = (object["payloads"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.filter { !$0.isEmpty }
        outcome.answer = texts.joined(separator: "\n\n")
        let agentMeta = object["meta"]?["agentMeta"]
        outcome.sessionID = agentMeta?["sessionId"]?.stringValue
        if let model = agentMeta?["model"]?.stringValue {
            outcome.model = agentMeta?["provider"]?.stringValue.map { $0 + "/" + model } ?? model
        }
        if let usage = agentMeta?["usage"] {
            let input = usage["input"]?.intValue
            outcome.tokensIn = input.map { AgentOutcome.sum($0, usage["cacheRead"]?.intValue ?? 0, usage["cacheWrite"]?.intValue ?? 0) }
            outcome.tokensOut = usage["output"]?.intValue
        }
        let error = object["error"] ?? object["meta"]?["error"]
        if let error, error != .null {
            outcome.isError = true
            outcome.errorMessage = oneLine("openclaw: " + (error.stringValue ?? error["message"]?.stringValue ?? "reported an error"))
        } else if texts.isEmpty {
            outcome.isError = true
            outcome.errorMessage = "openclaw's result has no payload text"
        }
        return outcome
    }
}

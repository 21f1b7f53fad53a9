import Foundation

/// Why a run failed, as a class the lifecycle can act on: fail over to the next agent, cool the
/// agent down, retry once with a smaller packet, or stop. Read from what the agent CLI printed
/// (`AgentOutputParser`) and from what happened to its process (`AgentFailure`).
public enum FailureClass: String, Sendable, CaseIterable {
    /// The account's usage limit is reached (often with the time it resets).
    case usageLimit = "usage_limit"
    /// The API refused the request for its rate (HTTP 429) without saying the plan is used up.
    case rateLimited = "rate_limited"
    /// The provider is overloaded or unavailable (529, 503, 502, "overloaded").
    case overloaded
    /// No key, a bad key, or an expired login (401, 403, "invalid api key", "/login").
    case auth
    /// The prompt did not fit the model's context window.
    case contextOverflow = "context_overflow"
    /// The run passed its time limit and was stopped.
    case timeout
    /// The agent process died or could not run (signal, exit status without an error of its own,
    /// output flood, missing program, server not reachable).
    case crashed
    /// The agent ran and reported that the task failed.
    case taskError = "task_error"

    /// Classes after which the task moves to the next agent of its chain (as a handoff).
    public var failsOver: Bool {
        switch self {
        case .usageLimit, .rateLimited, .overloaded, .auth, .timeout: return true
        case .contextOverflow, .crashed, .taskError: return false
        }
    }

    /// Classes that make the agent unavailable for a while (a cooldown in the run store), so that
    /// the next tasks skip it without calling it.
    public var coolsDown: Bool {
        switch self {
        case .usageLimit, .rateLimited, .overloaded, .auth: return true
        case .contextOverflow, .timeout, .crashed, .taskError: return false
        }
    }

    /// In words, for route reasons and `status` ("usage limit").
    public var words: String {
        switch self {
        case .usageLimit: return "usage limit"
        case .rateLimited: return "rate limited"
        case .overloaded: return "overloaded"
        case .auth: return "no or bad key"
        case .contextOverflow: return "context overflow"
        case .timeout: return "timeout"
        case .crashed: return "crashed"
        case .taskError: return "task error"
        }
    }
}

/// A failed run's class and, for a usage limit that says so, when the limit resets.
public struct FailureReport: Sendable, Equatable {
    /// The class.
    public var failureClass: FailureClass
    /// When the agent said its limit resets (nil when it did not say).
    public var resetAt: Date?

    /// A report; see the properties.
    public init(_ failureClass: FailureClass, resetAt: Date? = nil) {
        self.failureClass = failureClass
        self.resetAt = resetAt
    }
}

/// Reads the class of a failure from the agent's own words. The CLIs print these as text inside their
/// JSON (Claude Code's `result`, Codex's `error`/`turn.failed` message, OpenCode's `error` event), so
/// the words are what is stable; the fixtures in `Tests/AgentOSTests/Fixtures/agents/` hold the
/// shapes with the public reports they come from.
public enum FailureClassifier {
    /// The class of a run that failed with `failure`; `message` is the tool's one-line error and
    /// `stderr` the end of what it wrote there. `now` anchors relative reset times ("in 2 hours").
    /// `signal` is the signal that killed the process, if one did.
    public static func classify(_ failure: AgentFailure, message: String?, stderr: String, signal: Int32? = nil, now: Date = Date()) -> FailureReport {
        switch failure {
        case .timedOut: return FailureReport(.timeout)
        case .cancelled, .invalidDefinition, .missingBinary, .spawnFailed, .signaled, .outputFlood: return FailureReport(.crashed)
        case .unreachable: return FailureReport(.crashed)
        case .toolError(let text):
            if let found = classify(text: text + "\n" + stderr, now: now) { return found }
            // No answer object at all (the parser says "printed no …" or "ended without …"), or a
            // killed process: the agent died, it did not report that the task failed.
            let died = signal != nil || ["printed no result", "printed no events", "ended without completing", "not json", "has no 'response'"].contains { text.contains($0) }
            return FailureReport(died ? .crashed : .taskError)
        case .exitStatus:
            // No error of its own: the CLI's last words on stderr may still say why (codex prints
            // its usage-limit line there in text mode); otherwise the process just died.
            return classify(text: (message ?? "") + "\n" + stderr, now: now) ?? FailureReport(.crashed)
        }
    }

    /// The class the words of `text` name, or nil when they name none.
    public static func classify(text: String, now: Date = Date()) -> FailureReport? {
        let lowered = text.lowercased()
        func has(_ needles: [String]) -> Bool { needles.contains { lowered.contains($0) } }
        // Context first: "prompt is too long" can come with a 400 that mentions nothing else.
        if has(["prompt is too long", "context window", "context_length_exceeded", "maximum context length", "context length", "too many tokens", "input is too long"]) {
            return FailureReport(.contextOverflow)
        }
        // A used-up plan before a plain 429: usage limits usually arrive as a 429 too.
        if has(["usage limit", "usage_limit", "freeusagelimiterror", "session limit reached", "weekly limit reached", "hit your session limit", "hit your weekly limit", "hit your limit", "hour limit reached", "opus limit reached", "insufficient_quota", "exceeded your current quota", "quota exceeded", "out of credits", "credit balance is too low"]) {
            return FailureReport(.usageLimit, resetAt: resetTime(in: text, now: now))
        }
        if has(["401", "403", "unauthorized", "invalid api key", "invalid x-api-key", "invalid_api_key", "authentication", "please run /login", "missing bearer", "providerautherror", "api key", "oauth token has expired", "permission_error", "forbidden",
                 // `llm` with no key for the model's plugin: "No key found - add one using 'llm keys set …'".
                 "no key found", "llm keys set"]) {
            return FailureReport(.auth)
        }
        if has(["429", "rate limit", "rate_limit", "ratelimit", "too many requests"]) {
            return FailureReport(.rateLimited)
        }
        if has(["529", "overloaded", "503", "502", "service unavailable", "bad gateway", "server is temporarily", "temporarily unavailable", "server_error", "internal server error"]) {
            return FailureReport(.overloaded)
        }
        return nil
    }

    /// The reset time an agent printed with its limit, when it printed one we can read:
    /// Claude Code's `…usage limit reached|1753441200` (epoch seconds), `"resets_at":1775317531`,
    /// Codex's `try again in 2 days 17 hours 14 minutes`, and Claude's
    /// `Your limit will reset at 5pm (Europe/Warsaw)` / `resets 3:30pm (America/Bogota)`.
    public static func resetTime(in text: String, now: Date = Date()) -> Date? {
        if let epoch = firstMatch(#"limit reached\|(\d{9,11})"#, in: text) ?? firstMatch(#""?resets?_at"?\s*[:=]\s*(\d{9,11})"#, in: text),
           let seconds = Double(epoch[0]) {
            return Date(timeIntervalSince1970: seconds)
        }
        if let seconds = firstMatch(#""?resets_in_seconds"?\s*[:=]\s*(\d+)"#, in: text).flatMap({ Double($0[0]) }) {
            return now.addingTimeInterval(seconds)
        }
        if let phrase = firstMatch(#"(?i)try again in ((?:\d+\s*(?:days?|hours?|minutes?|mins?|seconds?|secs?|[dhms])[\s,]*(?:and\s+)?)+)"#, in: text)?[0] {
            var total = 0.0
            for part in allMatches(#"(?i)(\d+)\s*(days?|hours?|minutes?|mins?|seconds?|secs?|[dhms])\b"#, in: phrase) {
                guard let n = Double(part[0]) else { continue }
                switch part[1].lowercased().first {
                case "d": total += n * 86_400
                case "h": total += n * 3_600
                case "m": total += n * 60
                default: total += n
                }
            }
            if total > 0 { return now.addingTimeInterval(total) }
        }
        if let parts = firstMatch(#"(?i)resets?\s+(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)(?:\s*\(([A-Za-z_]+(?:/[A-Za-z_+\-]+)*)\))?"#, in: text) {
            guard var hour = Int(parts[0]), hour >= 1, hour <= 12 else { return nil }
            let minute = Int(parts[1]) ?? 0
            if parts[2].lowercased() == "pm", hour != 12 { hour += 12 }
            if parts[2].lowercased() == "am", hour == 12 { hour = 0 }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: parts[3]) ?? TimeZone.current
            var components = calendar.dateComponents([.year, .month, .day], from: now)
            components.hour = hour
            components.minute = minute
            guard var date = calendar.date(from: components) else { return nil }
            // "resets at 5pm" said after 5pm means tomorrow's 5pm.
            if date <= now { date = calendar.date(byAdding: .day, value: 1, to: date) ?? date }
            return date
        }
        return nil
    }

    /// The capture groups of the first match (empty strings for groups that did not take part).
    private static func firstMatch(_ pattern: String, in text: String) -> [String]? {
        allMatches(pattern, in: text).first
    }

    private static func allMatches(_ pattern: String, in text: String) -> [[String]] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { match in
            (1..<match.numberOfRanges).map { i in
                let range = match.range(at: i)
                return range.location == NSNotFound ? "" : ns.substring(with: range)
            }
        }
    }
}

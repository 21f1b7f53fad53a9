import Foundation

/// One secret found in a prompt: what kind it is and where. Never holds the secret itself, so it is
/// safe to log, print and write into notes.
public struct SecretFinding: Sendable, Equatable {
    /// A short name a person understands: "AWS access key ID", "password in a URL", "custom pattern 2".
    public let kind: String
    /// 1-based line of the prompt the secret starts on.
    public let line: Int
}

/// The secret guardrail's scanner: provider API keys, private key blocks, bearer tokens, passwords in
/// URLs and `password=` lines, `.env`-style assignments, and the guardrails note's own patterns.
public final class SecretScanner: @unchecked Sendable {
    // NSRegularExpression is immutable after creation and safe to use from many threads.
    private struct Pattern {
        let kind: String
        let slug: String
        let regex: NSRegularExpression
        /// The capture group holding the secret (0: the whole match); only it is redacted.
        let group: Int
    }

    private let patterns: [Pattern]

    /// A scanner with the built-in patterns plus `extraPatterns` (invalid ones are skipped; the rule
    /// book reports them).
    public init(extraPatterns: [String] = []) {
        var list = SecretScanner.builtIn
        for (index, source) in extraPatterns.enumerated() {
            if let regex = try? NSRegularExpression(pattern: source) {
                list.append(Pattern(kind: "custom pattern \(index + 1)", slug: "custom", regex: regex, group: 0))
            }
        }
        patterns = list
    }

    private static func make(_ kind: String, _ slug: String, _ source: String, group: Int = 0) -> Pattern {
        Pattern(kind: kind, slug: slug, regex: try! NSRegularExpression(pattern: source), group: group)
    }

    // Earlier patterns win where two overlap (an `sk-ant-` key is reported as Anthropic, not OpenAI).
    private static let builtIn: [Pattern] = [
        make("private key block", "private-key", #"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)"#),
        make("Anthropic API key", "anthropic-key", #"\bsk-ant-[A-Za-z0-9_\-]{16,}"#),
        // Real keys always carry digits; words like `sk-learn-compatible-wrapper` do not.
        make("OpenAI-style API key", "api-key", #"\bsk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_\-]*[0-9])[A-Za-z0-9_\-]{20,}"#),
        make("AWS access key ID", "aws-key", #"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"#),
        make("GitHub token", "github-token", #"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{20,}"#),
        make("Slack token", "slack-token", #"\bxox[abposr]-[A-Za-z0-9\-]{10,}"#),
        make("Google API key", "google-key", #"\bAIza[0-9A-Za-z_\-]{35}"#),
        make("bearer token", "bearer-token", #"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{16,}=*)"#, group: 1),
        make("basic-auth credentials", "basic-auth", #"(?i)\bauthorization\s*:\s*basic\s+([A-Za-z0-9+/]{8,}=*)"#, group: 1),
        make("password in a URL", "url-password", #"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]+:([^\s@/]+)@"#, group: 1),
        // `password=…` anywhere; `password: …` only at the start of a line (config/YAML style), so
        // prose like "the password: see the wiki" is not mistaken for one.
        make("password assignment", "password", #"(?im)(?:\b(?:password|passwd|passphrase|pwd)\s*=\s*|^[ \t]*(?:[\w.-]*[_-])?(?:password|passwd|passphrase)\s*:\s*)["']?([^\s"'$<*][^\s"']*)"#, group: 1),
        // `.env` style: NAME=value where NAME has SECRET, TOKEN, KEY, PASSWORD, CREDENTIALS as a word.
        make("secret assignment (.env style)", "env-secret", #"(?im)^[ \t]*(?:export[ \t]+)?(?:[A-Za-z0-9]+[_-])*(?:secret|token|key|apikey|password|passwd|credentials?)(?:[_-][A-Za-z0-9]+)*[ \t]*=[ \t]*["']?([^\s"'$<*{][^\s"']{5,})"#, group: 1),
        // JSON-style fields: "api_key": "…", "client_secret": "…".
        make("secret field (JSON)", "json-secret", #"(?i)"(?:[A-Za-z0-9]+[_-])*(?:secret|token|apikey|api_key|password|passwd|private_key|access_key)"\s*:\s*"([^"\s$<*{][^"\s]{5,})""#, group: 1),
    ]

    /// Every secret in `text`, in order of position.
    public func scan(_ text: String) -> [SecretFinding] {
        matches(in: text).map { SecretFinding(kind: $0.kind, line: $0.line) }
    }

    /// `text` with each secret replaced by `[REDACTED:kind]`, and what was replaced.
    public func redact(_ text: String) -> (text: String, findings: [SecretFinding]) {
        let found = matches(in: text)
        let result = NSMutableString(string: text)
        for match in found.sorted(by: { $0.range.location > $1.range.location }) {
            result.replaceCharacters(in: match.range, with: "[REDACTED:\(match.slug)]")
        }
        return (result as String, found.map { SecretFinding(kind: $0.kind, line: $0.line) })
    }

    private struct Match {
        let kind: String
        let slug: String
        let range: NSRange
        let line: Int
    }

    private func matches(in text: String) -> [Match] {
        let ns = text as NSString
        let whole = NSRange(location: 0, length: ns.length)
        var accepted: [Match] = []
        for pattern in patterns {
            for result in pattern.regex.matches(in: text, range: whole) {
                let range = result.range(at: pattern.group)
                guard range.location != NSNotFound, range.length > 0 else { continue }
                let outer = result.range
                if accepted.contains(where: { NSIntersectionRange($0.range, outer).length > 0 || NSIntersectionRange($0.range, range).length > 0 }) { continue }
                accepted.append(Match(kind: pattern.kind, slug: pattern.slug, range: range, line: SecretScanner.line(of: range.location, in: ns)))
            }
        }
        return accepted.sorted { $0.range.location < $1.range.location }
    }

    private static func line(of location: Int, in text: NSString) -> Int {
        var line = 1
        var index = 0
        while index < location {
            if text.character(at: index) == 0x0A { line += 1 }
            index += 1
        }
        return line
    }

    /// One line describing findings without revealing them: "AWS access key ID (line 3), bearer token (line 7)".
    public static func describe(_ findings: [SecretFinding]) -> String {
        let shown = findings.prefix(5).map { "\($0.kind) (line \($0.line))" }.joined(separator: ", ")
        return findings.count > 5 ? shown + " and \(findings.count - 5) more" : shown
    }
}

import Foundation
import Testing
@testable import AgentOS

@Suite struct SecretGuardrailTests {
    // Fake secrets are assembled at run time so the repository never holds a string that looks like a
    // live credential (push-protection scanners would rightly complain).
    static func fake(_ parts: String...) -> String { parts.joined() }

    /// (kind reported, the secret itself, the prompt it sits in)
    static let samples: [(kind: String, secret: String, prompt: String)] = {
        let anthropic = fake("sk-", "ant-", "api03-", String(repeating: "Qx7_", count: 10))
        let openai = fake("sk-", "proj-", String(repeating: "Zr4k", count: 8))
        let aws = fake("AKIA", "IOSFODNN7", "EXAMPL1")
        let github = fake("ghp", "_", String(repeating: "aB3d", count: 9))
        let githubPAT = fake("github", "_pat_", String(repeating: "11AbC", count: 6))
        let slack = fake("xo", "xb-", "1234567890-", String(repeating: "abcd", count: 5))
        let google = fake("AI", "za", String(repeating: "Sy9_x", count: 7))
        let pem = fake("-----BEGIN ", "RSA PRIVATE KEY-----\nMIIEow", String(repeating: "IBAAKCAQEA", count: 3), "\n-----END RSA ", "PRIVATE KEY-----")
        let bearer = fake("eyJhbGciOiJIUzI1NiJ9", ".", "eyJzdWIiOiIxMjM0In0", ".", "c2lnbmF0dXJl")
        return [
            ("Anthropic API key", anthropic, "Use the key \(anthropic) to call the API."),
            ("OpenAI-style API key", openai, "OPENAI key is \(openai)"),
            ("AWS access key ID", aws, "aws creds: \(aws) please check"),
            ("GitHub token", github, "push with \(github) to the repo"),
            ("GitHub token", githubPAT, "token \(githubPAT)"),
            ("Slack token", slack, "post to slack using \(slack)"),
            ("Google API key", google, "maps key \(google) in the config"),
            ("private key block", pem, "my ssh key:\n\(pem)\nthanks"),
            // A bearer token that is a JWT is reported by its shape.
            ("JSON Web Token", bearer, "curl -H 'Authorization: Bearer \(bearer)' https://api.example.com"),
            ("bearer token", "Zr4kQx7Zr4kQx7Zr4kQx7", "curl -H 'Authorization: Bearer Zr4kQx7Zr4kQx7Zr4kQx7' https://api.example.com"),
            ("password in a URL", "hunter2pass", "connect to postgres://admin:hunter2pass@db.example.com/prod"),
            ("password assignment", "s3cr3t-P4ss", "login with user=bob password=s3cr3t-P4ss today"),
            ("password assignment", "Tr0ub4dor", "config:\n  db_password: Tr0ub4dor\n"),
            ("secret assignment", "d8f7a6s5d4f3", "here is my .env:\nSTRIPE_SECRET_KEY=d8f7a6s5d4f3\nDEBUG=1\n"),
            ("secret assignment", "abcdef123456", "export API_TOKEN=\"abcdef123456\"\n"),
            ("secret field (JSON)", "9f8e7d6c5b4a", "the config is {\"client_secret\": \"9f8e7d6c5b4a\", \"debug\": true}"),
        ]
    }()

    @Test(arguments: 0..<samples.count)
    func eachKindOfSecretIsBlockedBeforeAPremiumLane(_ index: Int) {
        let sample = Self.samples[index]
        let v = RouteTestVault()
        let findings = SecretScanner().scan(sample.prompt)
        #expect(findings.map(\.kind) == [sample.kind], "\(sample.kind)")
        let d = v.route("Tasks/s.md", "---\nagent: claude\n---\n" + sample.prompt + "\n")
        #expect(d.action.name == "blocked")
        let verdict = d.verdicts.first { $0.name == "secrets" }!
        #expect(!verdict.passed)
        #expect(verdict.detail.contains(sample.kind))
        // Nothing the decision records may carry the secret.
        for text in [verdict.detail, d.reason, d.action.reason ?? "", d.json.compact] {
            #expect(!text.contains(sample.secret))
        }
        #expect(d.outgoingPrompt == nil)
    }

    @Test(arguments: 0..<samples.count)
    func eachKindOfSecretIsRedactedWhenConfigured(_ index: Int) {
        let sample = Self.samples[index]
        let v = RouteTestVault()
        v.writeStandardRules(guardrails: "secret_action: redact")
        let d = v.route("Tasks/s.md", "---\nagent: claude\n---\n" + sample.prompt + "\n")
        #expect(d.action == .run)
        let outgoing = try! #require(d.outgoingPrompt)
        #expect(!outgoing.contains(sample.secret))
        #expect(outgoing.contains("[REDACTED:"))
        let verdict = d.verdicts.first { $0.name == "secrets" }!
        #expect(verdict.passed)
        #expect(verdict.detail.hasPrefix("redacted 1 secret"))
        for text in [verdict.detail, d.reason, d.json.compact] {
            #expect(!text.contains(sample.secret))
        }
    }

    /// Attack: with `secret_action: redact`, a token in the task note's file name was redacted from
    /// the packet but reached the agent all the same (`FBT_TASK`), and `route` said "no secrets
    /// found" where `run` blocked. A path cannot be redacted: such a task is blocked in both modes,
    /// and `route` says so.
    /// A scanner keeps what it found in each text it read (a watcher's packets carry the same
    /// sections again and again); a verdict is shared only by the very same bytes. Two texts that
    /// Swift calls equal but that differ in bytes (composed and decomposed accents) are each scanned.
    @Test func aKeptVerdictIsForTheSameBytesOnly() {
        let scanner = SecretScanner()
        let key = "AKIA" + "QWERTYUIOP123456"
        let withKey = "Café notes: the deploy key is \(key) for now."
        let clean = "Café notes: the deploy key is in the vault for now."
        for _ in 0..<3 {
            #expect(scanner.scan(withKey).map(\.kind) == ["AWS access key ID"])
            #expect(scanner.scan(clean).isEmpty)
        }
        let composed = "Caf\u{E9} \(key)"
        let decomposed = "Cafe\u{301} \(key)"
        #expect(composed == decomposed && Array(composed.utf8) != Array(decomposed.utf8))
        #expect(!scanner.scan(composed).isEmpty && !scanner.scan(decomposed).isEmpty)
        // A long text is scanned each time, never kept.
        let long = String(repeating: "plain words ", count: 4000) + key
        #expect(!scanner.scan(long).isEmpty && !scanner.scan(long).isEmpty)
    }

    @Test func aSecretInTheNotesNameBlocksEvenWhenRedacting() {
        let token = Self.fake("ghp", "_U8zxQ7rT2mW9cfBAx4Lp0Vn6Ks1Yd3GeKybwl")
        for guardrails in ["secret_action: redact", "secret_action: block"] {
            let v = RouteTestVault()
            v.writeStandardRules(guardrails: guardrails)
            let d = v.route("Tasks/site notes \(token).md", "---\nagent: claude\n---\nSummarise the site.\n")
            guard case .blocked(let why) = d.action else { Issue.record("\(guardrails): \(d.action)"); continue }
            #expect(why.contains("note's name") && !why.contains(token), "\(why)")
            #expect(d.verdicts.first { $0.name == "secrets" }?.passed == false)
            // A local agent keeps it on this machine: not scanned, runs.
            let local = v.route("Tasks/site notes \(token).md", "---\nagent: ollama\n---\nSummarise the site.\n")
            #expect(local.action == .run, "\(local.action)")
        }
    }

    /// The disguises an outside attack got past the scanner, each around the same GitHub token (or a
    /// key's armour or body): split over quoted or listed lines, Markdown emphasis or an HTML or
    /// Obsidian comment inside it, mathematical bold letters, armour in small letters, with spaces
    /// or a dash short, and an OpenSSH key's body alone. Each is found, and redaction leaves none of
    /// the token's halves behind.
    @Test func markdownAndLookalikeDisguisesStillShowTheSecret() {
        let head = Self.fake("ghp", "_u8jzQ7rT2mW9")
        let tail = Self.fake("cfBAx4Lp0Vn6Ks1Yd3Ge")
        let bold = String(String.UnicodeScalarView("ghp".unicodeScalars.map { Unicode.Scalar(0x1D41A + $0.value - 0x61)! })) + "_" + head.dropFirst(4) + tail
        let body = Self.fake("b3BlbnNzaC1rZXktdjE", "AAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB")
        let armour = Self.fake("MIIEowIBAAKCAQEA", "xK9f", "2Lm7")
        let disguised = [
            "Key:\n> \(head)\n> \(tail)\n",
            "Key:\n- \(head)\n- \(tail)\n",
            "Key: \(head)**\(tail)**",
            "Key: \(head)<!-- -->\(tail)",
            "Key: \(head)%% hidden %%\(tail)",
            "Key: `\(head)`\(tail)",
            "Key: \(bold)",
            "-----begin openssh private key-----\n\(armour)\n-----end openssh private key-----",
            "----- BEGIN RSA PRIVATE KEY -----\n\(armour)\n----- END RSA PRIVATE KEY -----",
            "----BEGIN RSA PRIVATE KEY-----\n\(armour)\n-----END RSA PRIVATE KEY-----",
            "the key body: \(body)",
        ]
        let scanner = SecretScanner()
        for text in disguised {
            #expect(!scanner.scan(text).isEmpty, "not found: \(text)")
            let redacted = scanner.redact(text).text
            for part in [head, tail, armour, body] where text.contains(part) {
                #expect(!redacted.contains(part), "\(part) left in: \(redacted)")
            }
        }
        // Ordinary Markdown stays clean.
        for text in ["> **Note:** the meeting is at 10.\n> - bring the slides\n", "- [ ] buy milk\n- [x] call Anna\n", "Use `git push` and ==highlight== the __bold__ part.\n", "𝐱 + 𝐲 = 𝐳, with 𝑥 in ℝ\n"] {
            #expect(scanner.scan(text).isEmpty, "\(text): \(scanner.scan(text).map(\.kind))")
        }
    }

    @Test func redactionKeepsTheRestOfThePrompt() {
        let scanner = SecretScanner()
        let (text, findings) = scanner.redact("connect to postgres://admin:hunter2pass@db.example.com/prod and summarize")
        #expect(text == "connect to postgres://admin:[REDACTED:url-password]@db.example.com/prod and summarize")
        #expect(findings == [SecretFinding(kind: "password in a URL", line: 1)])
    }

    @Test func findingsReportTheirLines() {
        let aws = Self.fake("AKIA", "IOSFODNN7", "EXAMPL1")
        let findings = SecretScanner().scan("line one\nline two \(aws)\n\npassword=abc\n")
        #expect(findings == [SecretFinding(kind: "AWS access key ID", line: 2), SecretFinding(kind: "password assignment", line: 4)])
    }

    @Test func ordinaryProseIsNotMistakenForSecrets() {
        let scanner = SecretScanner()
        for text in [
            "The key to success is consistency.",
            "Reset the password: see the wiki page.",
            "Set max_tokens=500 and temperature=0.2",
            "Use OPENAI_API_KEY=$OPENAI_API_KEY from the environment",
            "TOKEN_LIMIT=4096",
            "OPENAI_API_KEY=$OPENAI_API_KEY",
            "GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}",
            "Visit https://example.com/docs#section and the skeleton file sk-8.md",
            "The monkey=banana mapping",
            "pip install sk-learn-compatible-estimator-wrapper",
            "{\"max_tokens\": 500, \"token_type\": \"bearer\"}",
        ] {
            #expect(scanner.scan(text).isEmpty, "\(text)")
        }
    }

    @Test func extraPatternsFromGuardrailsCount() {
        let v = RouteTestVault()
        v.writeStandardRules(guardrails: "secret_patterns: [\"ACME-[0-9]{6}\"]")
        let d = v.route("Tasks/x.md", "---\nagent: claude\n---\nour badge code is ACME-123456\n")
        #expect(d.action.name == "blocked")
        #expect(d.verdicts.first { $0.name == "secrets" }!.detail.contains("custom pattern 1"))
        #expect(!d.reason.contains("ACME-123456"))
    }

    @Test func localLanePromptsAreNotScannedOrBlocked() {
        let v = RouteTestVault()
        let aws = Self.fake("AKIA", "IOSFODNN7", "EXAMPL1")
        let d = v.route("Tasks/l.md", "summarize the logs mentioning \(aws)\n")
        #expect(d.lane == .local)
        #expect(d.action == .run)
        #expect(d.outgoingPrompt == nil)
    }

    @Test func explicitChoiceDoesNotOverrideTheSecretGuardrail() {
        let v = RouteTestVault()
        let d = v.route("Tasks/e.md", "---\nlane: premium\napproved: true\n---\nuse password=letmein123 to log in\n")
        #expect(d.action.name == "blocked")
    }
}

import Foundation

/// One secret found in a prompt: what kind it is and where. Never holds the secret itself, so it is
/// safe to log, print and write into notes.
public struct SecretFinding: Sendable, Equatable {
    /// A short name a person understands: "AWS access key ID", "password in a URL", "custom pattern 2".
    public let kind: String
    /// 1-based line of the prompt the secret starts on.
    public let line: Int
}

/// The secret guardrail's scanner.
///
/// It looks for the families the well-known scanners (gitleaks, trufflehog) cover: provider keys with a
/// recognisable shape (cloud, source hosting, package registries, chat, payments, AI providers), JWTs,
/// private key blocks (PEM, OpenSSH, PGP, PuTTY), connection strings and basic/bearer credentials, and
/// generic `key/token/secret/password = value` assignments in `.env`, YAML, INI, TOML, JSON, XML and
/// command-line forms — where the value must look random (an entropy check) so prose and placeholders
/// (`your-api-key-here`, `${TOKEN}`, `changeme`) do not count. Plus the guardrails note's own patterns.
///
/// Before scanning, the text is normalised: invisible and format characters (zero-width spaces and
/// joiners, soft hyphens, bidi controls, variation selectors, …) are dropped, full-width ASCII is
/// folded, and a second view joins lines where a token was broken over a line end. Every match is
/// mapped back to the original text, so redaction removes the whole secret there, including the
/// invisible characters and line breaks inside it.
public final class SecretScanner: @unchecked Sendable {
    // NSRegularExpression is immutable after creation and safe to use from many threads.
    private struct Pattern {
        let kind: String
        let slug: String
        let regex: NSRegularExpression
        /// The capture group holding the secret (0: the whole match); only it is redacted.
        let group: Int
        /// The capture group holding the key name the value was assigned to (0: none), for `check`.
        let keyGroup: Int
        /// Literal fragments one of which must occur for the pattern to be worth running at all —
        /// skipping a regex pass over hundreds of KB is the cheapest speed-up there is. Compared
        /// case-insensitively (lower-cased) when the pattern itself ignores case.
        let hints: [String]
        /// `hints` as UTF-8, searched for as bytes (`String.contains` goes through NSString and a
        /// locale, and was most of a context packet's build time).
        var hintBytes: [[UInt8]] { hints.map { Array($0.utf8) } }
        /// Whether `hints` are compared with the lower-cased text.
        let caseless: Bool
        /// A generic rule (a key name and a random-looking value, not a provider's shape): it sees lines
        /// joined only where both sides are long, since joining short words can make them look random.
        let generic: Bool
        /// Decides whether a match counts (and may rename its kind): `(key, value) -> (kind, slug)?`.
        let check: (@Sendable (String, String) -> (kind: String, slug: String)?)?
    }

    private let patterns: [Pattern]
    /// Each pattern's `hintBytes`, computed once.
    private let hintBytes: [[[UInt8]]]
    /// What `scan` found in texts it read before, by the whole text's bytes (compared in full, never
    /// by a hash alone, nor as Swift compares strings — canonically equivalent texts may scan
    /// differently: two texts must be the same bytes to share a verdict), at most `keptBytes` of
    /// text; past it they are all dropped and kept anew. One scanner serves the watcher's packets,
    /// which carry the same notes' sections over and over (a quarter of a packet's time went into
    /// scanning them again).
    private let scanned = Locked<(found: [[UInt8]: [SecretFinding]], bytes: Int, recent: [(key: [UInt8], found: [SecretFinding])])>(([:], 0, []))
    static let keptBytes = 1 << 20

    /// A scanner with the built-in patterns plus `extraPatterns` (invalid ones are skipped; the rule
    /// book reports them).
    public init(extraPatterns: [String] = []) {
        var list = SecretScanner.builtIn
        for (index, source) in extraPatterns.enumerated() {
            if let regex = try? NSRegularExpression(pattern: source) {
                list.append(Pattern(kind: "custom pattern \(index + 1)", slug: "custom", regex: regex, group: 0, keyGroup: 0, hints: [], caseless: false, generic: false, check: nil))
            }
        }
        patterns = list
        hintBytes = list.map(\.hintBytes)
    }

    /// Whether `needle` occurs in `haystack`, as bytes: `ByteSearch` (the C library's `memmem`), which skips
    /// through the text many bytes at a time (a byte-by-byte loop here was a tenth of a context
    /// packet's build: every hint of every pattern, over every view of every piece).
    static func bytes(_ haystack: [UInt8], contain needle: [UInt8]) -> Bool {
        haystack.withUnsafeBytes { h in needle.withUnsafeBytes { n in ByteSearch.contains(h, n) } }
    }

    private static func make(_ kind: String, _ slug: String, _ source: String, group: Int = 0, key: Int = 0, hints: [String] = [],
                             check: (@Sendable (String, String) -> (kind: String, slug: String)?)? = nil) -> Pattern {
        let caseless = source.hasPrefix("(?i")
        return Pattern(kind: kind, slug: slug, regex: try! NSRegularExpression(pattern: source), group: group, keyGroup: key,
                       hints: caseless ? hints.map { $0.lowercased() } : hints, caseless: caseless, generic: key > 0 || slug == "secret", check: check)
    }

    /// The check of the password prose rules: the words before the value may name a password
    /// (`naming`), the value is no description (`SecretValue.proseValue`) nor, with
    /// `schemesAreNoValue`, a scheme's name, and it looks like a password or random.
    private static func proseCheck(naming: @escaping @Sendable (String) -> Bool = { _ in true }, schemesAreNoValue: Bool = false) -> @Sendable (String, String) -> (kind: String, slug: String)? {
        { key, raw in
            guard naming(key), let value = SecretValue.proseValue(raw), !(schemesAreNoValue && SecretValue.isSchemeName(value)) else { return nil }
            return SecretValue.looksRandom(value) || SecretValue.looksLikePassword(value) ? ("secret in prose", "secret") : nil
        }
    }

    /// The check of the command-line password rules: any value but a reference or a placeholder.
    private static let commandPassword: @Sendable (String, String) -> (kind: String, slug: String)? = { _, value in
        // A word of a sentence about the flag is none ("redis-cli with -a only in dev").
        SecretValue.isReference(value) || SecretValue.isPlaceholder(value) || value.count < 3 || SecretValue.isPlainWord(value) ? nil : ("password on a command line", "password")
    }

    /// A check that only rejects placeholders (`EXAMPLE`, `xxxxxxxx…`, `your…`) in a provider-shaped key.
    private static func notPlaceholder(_ kind: String, _ slug: String) -> @Sendable (String, String) -> (kind: String, slug: String)? {
        { _, value in SecretValue.isDocumentationExample(value) ? nil : (kind, slug) }
    }

    // Earlier patterns win where two overlap (an `sk-ant-` key is reported as Anthropic, not OpenAI).
    // Every quantifier on a character class is followed by something the class cannot contain, or is
    // bounded, so no pattern backtracks more than linearly.
    /// The end of the prose rules, after a key word (and the words that may follow it): `is`,
    /// `was` or `has been` (an `=` or `:` for the first rule, which opens this group itself), then
    /// `:`, `now`, `still`, `changed to`…, opening marks (`“`, `**`, `(`), and the value (group 2).
    private static let proseValue = #"(?:is|was|has[ \t]+been|will[ \t]+be|should[ \t]+be|used[ \t]+to[ \t]+be|became|becomes|remains|stays|est|ist|lautet|heißt|es|é|è|era|war|jest)(?![\p{L}\p{N}])(?:[ \t]*:)?(?:[ \t]+(?:now|still|currently|(?:changed|set|reset|updated)[ \t]+to|now[ \t]+set[ \t]+to|jetzt|nun|noch|immer[ \t]+noch|maintenant|désormais|toujours|ahora|ya|todavía|agora|ainda|adesso|ora|ancora))?)"# + proseTail
    /// Opening marks (quotes, emphasis, a bracket, an inline HTML element such as `<kbd>`), then the
    /// value (a capture group) with a word after it that may make it a description ("is WPA2-PSK
    /// protected": round 50), which `SecretValue.proseValue` judges.
    private static let proseTail = #"[ \t]*[\"'`“‘«„‚*_\[(<]{0,3}(?:(?<=<)(?:kbd|code|mark|b|strong|em|i|u|span|samp|var)>)?([\p{L}0-9+/=_\-.~!@#$%^*&()¡¿€£¥§:,;?|]{8,256}+(?:,?[ \t]+(?:protected|encoded|encrypted|hashed|salted|secured|based|compliant|enabled|disabled|only|required|optional|stored|generated|managed|mode|encryption|security|standard|format|authentication|protocol|signed|compatible|gehasht|geschützt|verschlüsselt|chiffré|cifrada|cifrado|criptografada|criptografado)\b)?)"#

    private static let builtIn: [Pattern] = [
        // Key material.
        // The armour in any case, with spaces inside it and four to six dashes (a typo still wraps a key).
        make("private key block", "private-key", #"(?i)-{4,6}[ \t]*BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?[ \t]*-{4,6}[\s\S]*?(?:-{4,6}[ \t]*END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?[ \t]*-{4,6}|\z)"#, hints: ["PRIVATE KEY"]),
        // An OpenSSH private key's body without its armour: base64 of "openssh-key-v1".
        make("private key block", "private-key", #"(?<![A-Za-z0-9])b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=]{16,}"#, hints: ["b3BlbnNzaC1rZXktdjE"]),
        // PKCS#8 (RSA), PKCS#1 (RSA) and SEC1 (EC) private key bodies without their armour: the DER
        // of their first fields in base64, which only private keys start with.
        make("private key block", "private-key", #"(?<![A-Za-z0-9+/])(?:MII[A-Za-z0-9+/]{3}(?:IBADANBgkqhkiG9w0BAQEFAASC|IBAAKC)|MHcCAQEEI|MIG[A-Za-z0-9+/]AgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg)[A-Za-z0-9+/=]{40,}"#, hints: ["IBADANBgkqhkiG9w0BAQEFAASC", "IBAAKC", "MHcCAQEEI", "MBMGByqGSM49AgEGCCqGSM49AwEH"]),
        make("PuTTY private key", "private-key", #"PuTTY-User-Key-File-[0-9]+:[\s\S]*?(?:Private-MAC:[ \t]*[0-9A-Fa-f]+|\z)"#, hints: ["PuTTY-User-Key-File"]),
        make("age secret key", "private-key", #"(?<![A-Za-z0-9])AGE-SECRET-KEY-1[0-9A-Z]{50,}"#, hints: ["AGE-SECRET-KEY"]),
        // AI providers.
        make("Anthropic API key", "anthropic-key", #"(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_\-]{16,}"#, hints: ["sk-ant-"], check: notPlaceholder("Anthropic API key", "anthropic-key")),
        // Real keys always carry digits; words like `sk-learn-compatible-wrapper` do not.
        make("OpenAI-style API key", "api-key", #"(?<![A-Za-z0-9])sk-(?:proj-|svcacct-|admin-|or-v1-)?(?=[A-Za-z0-9_\-]*[0-9])[A-Za-z0-9_\-]{20,}"#, hints: ["sk-"], check: notPlaceholder("OpenAI-style API key", "api-key")),
        make("Hugging Face token", "huggingface-token", #"(?<![A-Za-z0-9])(?:hf_|api_org_)[A-Za-z0-9]{30,}"#, hints: ["hf_", "api_org_"], check: notPlaceholder("Hugging Face token", "huggingface-token")),
        make("AI provider API key", "api-key", #"(?<![A-Za-z0-9])(?:gsk_[A-Za-z0-9]{40,}|xai-[A-Za-z0-9]{40,}|r8_[A-Za-z0-9]{30,}|pplx-[A-Za-z0-9]{40,})"#, hints: ["gsk_", "xai-", "r8_", "pplx-"]),
        // Cloud.
        make("AWS access key ID", "aws-key", #"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}(?![A-Za-z0-9])"#, hints: ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"], check: notPlaceholder("AWS access key ID", "aws-key")),
        make("AWS secret access key", "aws-secret", #"(?i)\baws_?(?:secret_?access_?key|secret_?key|session_?token|security_?token)["']?[ \t]*(?:=|:)[ \t]*["']?([A-Za-z0-9/+=]{16,})"#, group: 1, hints: ["aws"], check: notPlaceholder("AWS secret access key", "aws-secret")),
        make("AWS secret access key", "aws-secret", #""(?:SecretAccessKey|SessionToken)"\s*:\s*"([A-Za-z0-9/+=]{16,})""#, group: 1, hints: ["SecretAccessKey", "SessionToken"]),
        make("Google API key", "google-key", #"(?<![A-Za-z0-9])AIza[0-9A-Za-z_\-]{35}"#, hints: ["AIza"]),
        make("Google OAuth secret or token", "google-oauth", #"(?<![A-Za-z0-9])GOCSPX-[A-Za-z0-9_\-]{20,}|(?<![A-Za-z0-9])ya29\.[A-Za-z0-9_\-]{20,}|(?<![A-Za-z0-9])1//0[A-Za-z0-9_\-]{40,}"#, hints: ["GOCSPX-", "ya29.", "1//0"]),
        make("Azure key", "azure-key", #"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|sig)=([A-Za-z0-9%+/=]{20,})"#, group: 1, hints: ["AccountKey", "SharedAccess", "sig="]),
        make("Azure client secret", "azure-secret", #"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])"#, hints: ["Q~"]),
        make("DigitalOcean token", "cloud-token", #"(?<![A-Za-z0-9])do[opr]_v1_[a-f0-9]{64}(?![A-Za-z0-9])"#, hints: ["_v1_"]),
        make("HashiCorp token", "cloud-token", #"(?<![A-Za-z0-9])hv[sbr]\.[A-Za-z0-9_\-]{24,}|\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,}"#, hints: ["hvs.", "hvb.", "hvr.", ".atlasv1."]),
        make("Databricks token", "cloud-token", #"(?<![A-Za-z0-9])dapi[a-f0-9]{32}(?:-[0-9]+)?\b"#, hints: ["dapi"]),
        make("Doppler token", "cloud-token", #"(?<![A-Za-z0-9])dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}"#, hints: ["dp."]),
        // Source hosting and CI.
        make("GitHub token", "github-token", #"(?<![A-Za-z0-9])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}(?![A-Za-z0-9])|(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{20,}"#, hints: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"], check: notPlaceholder("GitHub token", "github-token")),
        make("GitLab token", "gitlab-token", #"(?<![A-Za-z0-9])gl(?:pat|ptt|dt|rt|cbt|oas|ft|soat|imt|agent)-[A-Za-z0-9_\-]{20,}|(?<![A-Za-z0-9])GR1348941[A-Za-z0-9_\-]{20,}"#, hints: ["glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "gloas-", "glft-", "glsoat-", "glimt-", "glagent-", "GR1348941"], check: notPlaceholder("GitLab token", "gitlab-token")),
        make("Atlassian token", "atlassian-token", #"(?<![A-Za-z0-9])ATATT3[A-Za-z0-9_\-=]{60,}"#, hints: ["ATATT3"]),
        make("Linear or Postman key", "api-key", #"(?<![A-Za-z0-9])lin_api_[A-Za-z0-9]{40}(?![A-Za-z0-9])|(?<![A-Za-z0-9])PMAK-[a-f0-9]{24}-[a-f0-9]{34}(?![A-Za-z0-9])"#, hints: ["lin_api_", "PMAK-"]),
        // Package registries.
        make("npm token", "npm-token", #"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"#, hints: ["npm_"]),
        make("npm auth token", "npm-token", #"(?im)(?:^|[:\s])_(?:authToken|auth|password)[ \t]*=[ \t]*["']?([^\s"']+)"#, group: 1, hints: ["_auth", "_password"], check: { _, value in
            SecretValue.isReference(value) || SecretValue.isPlaceholder(value) ? nil : ("npm auth token", "npm-token") }),
        make("PyPI token", "pypi-token", #"(?<![A-Za-z0-9])pypi-AgE[A-Za-z0-9_\-]{50,}"#, hints: ["pypi-"]),
        make("RubyGems key", "rubygems-key", #"(?<![A-Za-z0-9])rubygems_[a-f0-9]{48}(?![A-Za-z0-9])"#, hints: ["rubygems_"]),
        make("Docker registry credentials", "docker-auth", #""(?:auth|identitytoken)"\s*:\s*"([A-Za-z0-9+/=_\-.]{12,})""#, group: 1, hints: ["\"auth\"", "identitytoken"], check: { _, value in
            SecretValue.isPlaceholder(value) ? nil : ("Docker registry credentials", "docker-auth") }),
        // Chat, payments, mail and other services.
        make("Slack token", "slack-token", #"(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9\-]{10,}|(?<![A-Za-z0-9])xapp-[0-9]-[A-Za-z0-9\-]{10,}"#, hints: ["xox", "xapp-"], check: notPlaceholder("Slack token", "slack-token")),
        make("Slack webhook", "slack-webhook", #"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+\-]{20,}"#, hints: ["hooks.slack.com"]),
        make("Discord webhook", "discord-webhook", #"discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_\-]{30,}"#, hints: ["/api/webhooks/"]),
        make("Discord bot token", "discord-token", #"(?<![A-Za-z0-9_\-])[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}(?![A-Za-z0-9_\-])"#, hints: ["."]),
        make("Telegram bot token", "telegram-token", #"(?<![0-9A-Za-z])[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}(?![A-Za-z0-9_\-])"#, hints: [":AA"]),
        make("Stripe key", "stripe-key", #"(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,}|(?<![A-Za-z0-9])whsec_[A-Za-z0-9]{24,}"#, hints: ["_live_", "_test_", "_prod_", "whsec_"], check: notPlaceholder("Stripe key", "stripe-key")),
        make("Square or Shopify token", "commerce-token", #"(?<![A-Za-z0-9])sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,}|(?<![A-Za-z0-9])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9])"#, hints: ["sq0atp-", "sq0csp-", "shpat_", "shpca_", "shppa_", "shpss_"]),
        make("Twilio API key", "twilio-key", #"(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])"#, hints: ["SK"]),
        make("SendGrid API key", "sendgrid-key", #"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}"#, hints: ["SG."]),
        make("Mailgun or Mailchimp key", "mail-key", #"(?<![A-Za-z0-9])key-[0-9a-zA-Z]{32}(?![A-Za-z0-9])|\b[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])"#, hints: ["key-", "-us"]),
        make("monitoring token", "monitoring-token", #"(?<![A-Za-z0-9])NRAK-[A-Z0-9]{27}(?![A-Za-z0-9])|(?<![A-Za-z0-9])glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}(?![A-Za-z0-9])|(?<![A-Za-z0-9])glc_[A-Za-z0-9+/]{32,}={0,2}|(?<![A-Za-z0-9])sntry[su]_[A-Za-z0-9+/=_]{40,}"#, hints: ["NRAK-", "glsa_", "glc_", "sntry"]),
        make("Notion token", "notion-token", #"(?<![A-Za-z0-9])(?:secret_[A-Za-z0-9]{43}|ntn_[A-Za-z0-9]{40,})(?![A-Za-z0-9])"#, hints: ["secret_", "ntn_"]),
        // JSON Web Tokens: a base64url JSON header and payload (both start `ey`, for `{"`), then a signature.
        make("JSON Web Token", "jwt", #"(?<![A-Za-z0-9])ey[A-Za-z0-9_\-]{10,}\.ey[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]*"#, hints: [".ey"]),
        // Credentials in HTTP and connection strings.
        make("bearer token", "bearer-token", #"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{16,}=*)"#, group: 1, hints: ["bearer"]),
        make("basic-auth credentials", "basic-auth", #"(?i)\bauthorization\s*:\s*basic\s+([A-Za-z0-9+/]{8,}=*)"#, group: 1, hints: ["basic"]),
        make("authorization header", "auth-header", #"(?i)\bauthorization\s*:\s*(?:token|digest|apikey|sso-key)\s+([A-Za-z0-9\-._~+/=:,"]{12,})"#, group: 1, hints: ["authorization"]),
        make("password in a URL", "url-password", #"\b[a-zA-Z][a-zA-Z0-9+.\-]{0,30}://([^\s:/@]{0,256}):([^\s@/]{1,256})@"#, group: 2, key: 1, hints: ["://"], check: { user, value in
            // The user's own name as its password is a default (`guest:guest`, `postgres:postgres`).
            SecretValue.isPlaceholder(value) || SecretValue.isReference(value) || value == user ? nil : ("password in a URL", "url-password") }),
        make("password in a URL", "url-password", #"(?:^|\s)(?:-u|--user)(?:[ \t]+|=|(?=[^\s-]))["']?[^\s:"']{1,128}:([^\s"']{1,256})"#, group: 1, hints: ["-u", "--user"], check: { _, value in
            SecretValue.isPlaceholder(value) || SecretValue.isReference(value) ? nil : ("password in a URL", "url-password") }),
        make("password assignment", "password", #"(?i)\blogin[ \t]+\S{1,256}[ \t]+password[ \t]+(\S{1,256})"#, group: 1, hints: ["login"], check: { _, value in
            // "… login when password is empty" is a sentence (round 63).
            SecretValue.isPlaceholder(value) || SecretValue.isPlainWord(value) ? nil : ("password assignment", "password") }),
        // Generic assignments: the key decides whether the value is a password (any real value counts)
        // or a token/secret/key (the value must look random). Line-anchored forms first (.env, YAML,
        // INI, TOML, properties), then `key=value` anywhere (query strings, connection strings, shell),
        // then quoted keys (JSON, Python dicts), XML elements, command-line flags, and prose ("my token is …").
        make("secret assignment", "secret", #"(?m)^[ \t]*(?:export[ \t]+|set[ \t]+|-[ \t]+)?["']?([A-Za-z_@][\w.\-]{0,120})["']?[ \t]*(?:=>|:=|=|:)[ \t]*(["'`]?)([^\s"'`]{1,1024})\2[ \t]*,?[ \t]*(?:(?:#|;|//).*)?$"#, group: 3, key: 1, check: SecretValue.classify),
        make("secret assignment", "secret", #"(?<![\w.\-])([A-Za-z_][\w.\-]{0,120}+)[ \t]*=[ \t]*["']?([^\s"'&;,<>()\[\]{}]{1,1024}+)(?![(\[])"#, group: 2, key: 1, hints: ["="], check: SecretValue.classify),
        make("secret field (JSON)", "json-secret", #"["']([A-Za-z_][\w.\-]{0,120})["'][ \t]*:[ \t]*["']([^"'\n]{1,1024})["']"#, group: 2, key: 1, hints: ["\"", "'"], check: { key, value in
            SecretValue.classify(key, value).map { $0.slug == "password" ? $0 : ("secret field (JSON)", "json-secret") } }),
        make("secret assignment", "secret", #"<([A-Za-z_][\w.\-]{0,120})>[ \t]*([^<\s]{1,1024})[ \t]*</"#, group: 2, key: 1, hints: ["</"], check: SecretValue.classify),
        make("secret assignment", "secret", #"(?i)(?:^|\s)--?([a-z][a-z\-]{0,40})(?:=|[ \t]+)["']?(?!-)([^\s"']{1,1024})"#, group: 2, key: 1, hints: ["-"], check: SecretValue.classify),
        // A key set through a subscript or a call: `os.environ["PGPASSWORD"] = "…"`,
        // `config["password"] = "…"`, `os.Setenv("DB_PASSWORD", "…")`, `System.setProperty("db.password", "…")`.
        make("secret assignment", "secret", #"\[[ \t]*["']([A-Za-z_][\w.\-]{0,120})["'][ \t]*\][ \t]*=[ \t]*["']([^"'\n]{1,1024})["']"#, group: 2, key: 1, hints: ["["], check: SecretValue.classify),
        make("secret assignment", "secret", #"(?i)\b(?:setenv|putenv|setproperty|set_env|set_var|env_set)[ \t]*\([ \t]*["']([A-Za-z_][\w.\-]{0,120})["'][ \t]*,[ \t]*["']([^"'\n]{1,1024})["']"#, group: 2, key: 1, hints: ["env", "property", "set_var"], check: SecretValue.classify),
        // A Dockerfile's `ENV DB_PASSWORD value` and Redis's `requirepass value` / `masterauth value`.
        make("secret assignment", "secret", #"(?m)^[ \t]*ENV[ \t]+([A-Za-z_][\w]{0,120})[ \t]+["']?([^\s"'=]{1,1024})"#, group: 2, key: 1, hints: ["ENV"], check: SecretValue.classify),
        make("password on a command line", "password", #"(?i)(?:^|[\s-])(?:requirepass|masterauth)[ \t]+["']?([^\s"']{1,256})"#, group: 1, hints: ["requirepass", "masterauth"], check: commandPassword),
        // Up to five words may stand between the word and `is` ("my password there is …", "the admin
        // password for the NAS is …", "… for gmail.com is": rounds 47 and 48 sent them), then `:`,
        // `now`, `still`, `changed to`, and opening marks (`“`, `**`, `(`). A password's value counts when it looks
        // like one (letters with digits or marks, or three words joined: `tangerine-walrus-42`,
        // `purple-monkey-dishwasher`); a key's or a token's when it looks random.
        make("secret in prose", "secret", #"(?i)\b((?:api|access|secret|auth|private|client|bearer|session|refresh)[ _\-]?(?:key|token|secret)|token|secret|password|passphrase|passcode|passwd|pwd|pw|mot[ \t]+de[ \t]+passe|contrase[ñn]a|senha|wachtwoord|kennwort|passwort|has[łl]o)\b(?:[ \t]*(?:=|:)|[ \t]+[-–—](?=[ \t])|['’]s(?=[ \t])|[ \t]+"# + proseValue, group: 2, key: 1, hints: ["key", "token", "secret", "pass", "senha", "contrase", "wachtwoord", "kennwort", "hasło", "haslo"], check: { key, raw in
            guard let value = SecretValue.proseValue(raw) else { return nil }
            // `pw:`/`pwd:` are read as a key word is (`pwd: /home/anna` is no password).
            return (SecretValue.looksRandom(value) && !SecretValue.isPublicIdentifier(value)) || (SecretValue.isPasswordWord(key) && SecretValue.looksLikePassword(value)) ? ("secret in prose", "secret") : nil }),
        // A password word, then words that say which one ("… for gmail.com", "… there", "… for
        // bob@example.com"), then `is`/`was` (not `:`, which a list of words before a `token:` has);
        // not words that say the sentence is about an attribute of it ("password manager is
        // 1Password": round 49).
        // An aside between them ("the password (for the NAS) is", "the password, as of today, is").
        // Other languages put their words there too ("Das Passwort für die Bank ist …", "Le mot de
        // passe du wifi est …", "Mi contraseña ahora es …": round 58).
        make("secret in prose", "secret", #"(?i)\b((?:password|passphrase|passcode|passwd|passwort|kennwort|wachtwoord|contrase[ñn]a|senha|mot[ \t]+de[ \t]+passe)(?:,?[ \t]+\(?(?!is\b|was\b|has\b|will\b|became\b|becomes\b|remains\b|stays\b|ist\b|lautet\b|est\b|es\b|é(?![\p{L}])|è(?![\p{L}])|era\b|war\b)[\p{L}\p{N}.@_'\-]{1,40}\)?,?){1,5})(?:[ \t]+"# + proseValue, group: 2, key: 1, hints: ["pass", "senha", "contrase", "wachtwoord", "kennwort"], check: proseCheck(naming: SecretValue.isProseSecret)),
        // No verb: "Use password Hunter2024! to log in", "Log in as admin with password …",
        // "Benutze das Passwort …", "Usa la contraseña …" (round 58). The value must look like one.
        make("secret in prose", "secret", #"(?i)\b(?:use|using|with|enter|type|try|benutze|benutzen|verwende|nimm|mit|usa|usar|usando|con|utilise|utilisez|utiliser|avec|com|użyj|wpisz)[ \t]+(?:(?:the|your|my|this|das|dem|ein|la|le|el|ta|tu|a|o|mon|ma|mi|meu|minha|moje)[ \t]+)?((?:admin[ \t]+|root[ \t]+)?(?:password|passphrase|passcode|passwd|passwort|kennwort|wachtwoord|contrase[ñn]a|senha|mot[ \t]+de[ \t]+passe|has[łl]o|has[łl]em|has[łl]a))(?:[ \t]*:)?"# + proseTail, group: 2, key: 1, hints: ["pass", "senha", "contrase", "wachtwoord", "kennwort", "hasło", "haslo", "hasłem", "haslem", "hasła", "hasla"], check: proseCheck()),
        // The words name the account, then a colon: "Password for NAS: …", "password of the router: …".
        // (In other languages too: "Password del server: …", "Passwort für die NAS: …".)
        make("secret in prose", "secret", #"(?i)\b((?:password|passphrase|passcode|passwd|passwort|kennwort|wachtwoord|contrase[ñn]a|senha|mot[ \t]+de[ \t]+passe)[ \t]+(?:for|of|on|at|del|della|dello|di|per|für|vom|von|du|de|des|do|da|dos|para|pour|van|voor)\b(?:[ \t]+[\p{L}\p{N}.@_'\-]{1,40}){1,3})[ \t]*:"# + proseTail, group: 2, key: 1, hints: ["pass", "senha", "contrase", "wachtwoord", "kennwort"], check: proseCheck(naming: SecretValue.isProseSecret)),
        // Polish says `to` for "is" ("Moje hasło to …", "Hasło do Wi-Fi to …": round 53); `to` is no
        // copula elsewhere ("send the password to …"), so it is read after `hasło` only.
        make("secret in prose", "secret", #"(?i)\b(has[łl]o(?:[ \t]+(?:do|dla|od|na)(?:[ \t]+[\p{L}\p{N}.@_'\-]{1,40}){1,5})?)[ \t]+to(?![\p{L}\p{N}])(?:[ \t]*:)?(?:[ \t]+(?:teraz|nadal|obecnie|już)(?:[ \t]*:)?)?"# + proseTail, group: 2, key: 1, hints: ["hasło", "haslo"], check: proseCheck()),
        // The value first: "Zq8#vLp2!mRt is my Gmail password."
        make("secret in prose", "secret", #"(?i)(?<![\p{L}\p{N}_\-.~!@#$%^*+/=:;?|])([A-Za-z0-9+/=_\-.~!@#$%^*:;?|]{8,256}+)["'”’»]?[ \t]+(?:is|was)[ \t]+(?:my|our|the|his|her|their|your)[ \t]+(?:[\p{L}\p{N}.@_'\-]{1,40}[ \t]+){0,3}?(?:password|passphrase|passcode)(?=[ \t]*(?:[.,;:!?)]|\r?\n|$)|[ \t]+(?:for|and|but|so|now|at|on)\b)"#, group: 1, hints: ["pass"], check: proseCheck()),
        // The active form: "I changed my Gmail password to …", "we set the wifi password to …".
        // A scheme or a setting is changed to as often ("switched the password to Argon2id", "…
        // to WPA2-AES", "Password → 1Password": round 51): a scheme's name is no value there.
        make("secret in prose", "secret", #"(?i)\b(?:chang(?:e|ed|ing)|set(?:ting)?|reset(?:ting)?|updat(?:e|ed|ing)|switched|rotated)((?:[ \t]+[\p{L}\p{N}.@_'\-]{1,40}){0,4}?[ \t]+(?:password|passphrase|passcode|passwd))(?:[ \t]+from[ \t]+\S{1,256})?[ \t]+(?:to|into)\b(?:[ \t]*:)?"# + proseTail, group: 2, key: 1, hints: ["pass"], check: proseCheck(schemesAreNoValue: true)),
        make("secret in prose", "secret", #"(?i)\b(password|passphrase|passcode|passwd)[ \t]*(?:→|->)"# + proseTail, group: 2, key: 1, hints: ["pass"], check: proseCheck(schemesAreNoValue: true)),
        // Passwords the tools that take them on their command line are given (round 62: all went to
        // claude): mysql's `-p` joined to its value, `sshpass -p`, `docker login -p` (and the
        // registry clients that copy it), `redis-cli -a`, the ldap tools' `-w`, smbclient's
        // `-U user%pass`. A reference (`-p"$DB_PASS"`, `-a $REDIS_PW`) or a placeholder is none.
        make("password on a command line", "password", #"(?<![\w\-])(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mysqlsh|mycli|mariadb|mariadb-dump|7z|7za)\b[^\n|;&]{0,200}?[ \t]-p(["']?)([^\s"'|;&]{1,256})\1"#, group: 2, hints: ["mysql", "mariadb", "mycli", "7z"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])sshpass\b[^\n|;&]{0,200}?[ \t]-p[ \t]*(["']?)([^\s"'|;&]{1,256})\1"#, group: 2, hints: ["sshpass"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])(?:docker|podman|nerdctl|buildah|skopeo|oras|crane(?:[ \t]+auth)?|helm(?:[ \t]+registry)?)(?:[ \t]+-{1,2}[A-Za-z][\w\-]{0,30}(?:[ =][^\s\-][^\s]{0,200})?){0,4}[ \t]+login\b[^\n|;&]{0,200}?[ \t]-p(?:[ \t]+|=)?(["']?)([^\s"'|;&]{1,256})\1"#, group: 2, hints: ["login"], check: commandPassword),
        // `echo X | docker login --password-stdin`, `echo X | sudo -S …`, `echo user:X | chpasswd`.
        make("password on a command line", "password", #"(?<![\w\-])(?:echo|printf)[ \t]+(?:-[a-z]+[ \t]+)?(["']?)(?:[A-Za-z0-9._\-]{1,64}:)?([^\s"'|;&]{1,256})\1[ \t]*\|[ \t]*(?:[^\n|]{0,80}?(?:login\b[^\n|]{0,120}--password-stdin|sudo[ \t]+(?:-[a-zA-Z]+[ \t]+)*-S|chpasswd|passwd[ \t]+--stdin))"#, group: 2, hints: ["stdin", "sudo", "chpasswd", "passwd"], check: commandPassword),
        // `redis-cli AUTH default …`, `--uri user:pass@host`, a Go DSN `"user:pass@tcp(…)"`, a `.pgpass`
        // line, `net use … PASS /user:…`, impacket's `domain/user:pass@host`, `rabbitmqctl add_user
        // NAME PASS`, `lftp -u user,pass` (round 63).
        make("password on a command line", "password", #"\bAUTH[ \t]+(?:[A-Za-z0-9_\-]{1,64}[ \t]+)?(["']?)([^\s"']{8,256})\1"#, group: 2, hints: ["AUTH"], check: { _, value in
            SecretValue.isAmbiguousPassword(value) ? ("password on a command line", "password") : nil }),
        make("password on a command line", "password", #"(?i)(?:^|\s)--?(?:uri|url|dsn|connection|conn)(?:[ \t]+|=)["']?[^\s:@"'/]{1,64}:([^\s@"']{1,256})@"#, group: 1, hints: ["uri", "url", "dsn", "conn"], check: commandPassword),
        make("password on a command line", "password", #"["'`][A-Za-z0-9_.\-]{1,64}:([^\s@"'`/]{1,256})@(?:tcp|unix)\("#, group: 1, hints: ["@tcp(", "@unix("], check: commandPassword),
        make("password on a command line", "password", #"(?m)^[^\s:]{1,253}:(?:[0-9]{1,5}|\*):[^\s:]{1,128}:[^\s:]{1,128}:(\S{1,256})$"#, group: 1, hints: [":"], check: { _, value in
            SecretValue.isAmbiguousPassword(value) ? ("password on a command line", "password") : nil }),
        make("password on a command line", "password", #"(?i)\bnet[ \t]+use\b[^\n]{0,80}?\\\\\S{1,256}[ \t]+(?!/)(["']?)([^\s"']{1,256})\1"#, group: 2, hints: ["net"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])impacket-[a-z]{2,20}\b[^\n]{0,100}?[ \t](?:[^\s/]{1,64}/)?[^\s:@/]{1,64}:([^\s@]{1,256})@"#, group: 1, hints: ["impacket-"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])rabbitmqctl[ \t]+(?:add_user|change_password)[ \t]+\S{1,64}[ \t]+(["']?)([^\s"']{1,256})\1"#, group: 2, hints: ["rabbitmqctl"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])lftp\b[^\n|;&]{0,100}?[ \t]-u[ \t]+["']?[^\s,"']{1,64},([^\s"']{1,256})"#, group: 1, hints: ["lftp"], check: commandPassword),
        // Database and admin clients: mongosh/mongo `-p`, sqlcmd/bcp/zip `-P`, cqlsh `-p`, `az login -p`,
        // htpasswd `-b FILE USER PASS`, openssl `pass:X`, xfreerdp `/p:X`.
        make("password on a command line", "password", #"(?<![\w\-])(?:mongosh|mongo|mongodump|mongorestore|cqlsh|az[ \t]+login|rdesktop|psexec(?:\.exe)?)\b[^\n|;&]{0,200}?[ \t]-p(?:[ \t]+|=)(["']?)([^\s"'|;&]{1,256})\1"#, group: 2, hints: ["mongo", "cqlsh", "login", "rdesktop", "psexec"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])(?:sqlcmd|bcp|osql|zip|unzip)\b[^\n|;&]{0,200}?[ \t]-P[ \t]*(["']?)([^\s"'|;&]{1,256})\1"#, group: 2, hints: ["sqlcmd", "bcp", "osql", "zip"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])htpasswd\b[^\n|;&]{0,100}?[ \t]-[a-zA-Z]*b[a-zA-Z]*[ \t]+\S{1,256}[ \t]+\S{1,128}[ \t]+(["']?)([^\s"'|;&]{1,256})\1"#, group: 2, hints: ["htpasswd"], check: commandPassword),
        make("password on a command line", "password", #"(?i)(?:^|\s)-(?:passin|passout|pass)[ \t]+["']?pass:([^\s"']{1,256})"#, group: 1, hints: ["pass:"], check: commandPassword),
        make("password on a command line", "password", #"(?i)(?:^|\s)/p(?:assword)?:([^\s"']{1,256})"#, group: 1, hints: ["/p"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])redis-cli\b[^\n|;&]{0,200}?[ \t]-a[ \t]+(["']?)([^\s"'|;&]{1,256})\1"#, group: 2, hints: ["redis-cli"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])ldap(?:search|add|modify|delete|passwd|whoami|compare|modrdn|exop)\b[^\n|;&]{0,200}?[ \t]-w[ \t]*(["']?)([^\s"'|;&]{1,256})\1"#, group: 2, hints: ["ldap"], check: commandPassword),
        make("password on a command line", "password", #"(?<![\w\-])(?:smbclient|rpcclient|smbmap|smbcacls|net)\b[^\n|;&]{0,200}?[ \t](?:-U|--user)(?:[ \t]+|=)?["']?[^\s%"']{1,64}%([^\s"'|;&]{1,256})"#, group: 1, hints: ["-U", "--user"], check: commandPassword),
        // "The OpenAI key is …", "Stripe key: …": a word naming whose key, then `key`, then a value
        // that looks random (round 62); not a key that is no secret (`public key is AAAA…`,
        // `primary key is user_id`).
        make("secret in prose", "secret", #"(?i)(?<![\p{L}\p{N}_\-])([\p{L}\p{N}][\p{L}\p{N}.\-]{1,30}(?:['’]s)?[ \t]+key)\b(?:[ \t]*(?:=|:)|[ \t]+[-–—](?=[ \t])|[ \t]+"# + proseValue, group: 2, key: 1, hints: ["key"], check: SecretValue.randomKeyCheck),
        make("secret in prose", "secret", #"(?i)(?<![\p{L}\p{N}_\-])([\p{L}\p{N}][\p{L}\p{N}.\-]{1,30}(?:['’]s)?[ \t]+key)[ \t]*(?:->|→|=>|[ \t])[ \t]*["'`]?([A-Za-z0-9_\-]{16,256})"#, group: 2, key: 1, hints: ["key"], check: { key, value in
            SecretValue.namesSecretKey(key) && SecretValue.looksRandom(value) && !SecretValue.isPublicIdentifier(value) ? ("secret in prose", "secret") : nil
        }),
        // "The key for OpenAI is …", and the word in German, French, Spanish, Portuguese
        // ("Der OpenAI-Schlüssel ist …", "La clé OpenAI est …", "La clave de OpenAI es …").
        make("secret in prose", "secret", #"(?i)\b(key[ \t]+(?:for|of|to)[ \t]+[\p{L}\p{N}.\-]{1,30})[ \t]+(?:"# + proseValue, group: 2, key: 1, hints: ["key"], check: SecretValue.randomKeyCheck),
        make("secret in prose", "secret", #"(?i)\b((?:schlüssel|clé|cle|clave|chave)(?:[ \t]+[\p{L}\p{N}.\-]{1,30}){0,2})[ \t]+(?:"# + proseValue, group: 2, key: 1, hints: ["schlüssel", "clé", "cle", "clave", "chave"], check: SecretValue.randomKeyCheck),
        // The short words for a password with a mark after them, anywhere in a line: `login: admin
        // pass: …`, `pwd: …`, `creds admin:…` (round 62). Not a path (`PWD=/home/anna`), and the
        // value must look like a password (`Tests pass: 12/12` is none).
        make("secret in prose", "secret", #"(?i)(?<![\p{L}\p{N}_\-./$])(pass|pwd|pw)[ \t]*[:=][ \t]*(["'`]?)([^\s"'`]{8,256})\2"#, group: 3, key: 1, hints: ["pass", "pwd", "pw"], check: { _, value in
            SecretValue.isAmbiguousPassword(value) ? ("secret in prose", "secret") : nil
        }),
        // A password word and its value with only a space between (`password Zq8v…`, `pwd …`,
        // `(pw …)`, `Passwort …`, `pass is …`): the value must look like a password and be no code,
        // no path, no run of plain words and versions (round 63).
        make("secret in prose", "secret", #"(?i)(?<![\p{L}\p{N}_\-./$])(password|passwort|passwd|pass|pwd|pw|psw|pswd)(?:[ \t]+is)?[ \t]+["'(]?([^\s"'()]{8,256})"#, group: 2, key: 1, hints: ["pass", "pwd", "pw", "psw"], check: { _, value in
            // Nothing but a space between: only a value no word is written as (capitals and small
            // letters mixed, or marks) — `password version2` is prose.
            // The marks that end a sentence or close emphasis are the prose's (`hinzufügen**.`).
            let value = SecretValue.withoutEmphasis(value.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!?*_~")))
            let marked = value.contains { !($0.isLetter || $0.isNumber) } || (value.contains(where: \.isUppercase) && value.contains(where: \.isLowercase) && value.dropFirst().contains(where: \.isUppercase))
            return marked && SecretValue.isAmbiguousPassword(value) ? ("secret in prose", "secret") : nil
        }),
        make("secret in prose", "secret", #"(?i)(?<![\p{L}\p{N}_\-])(psw|pswd)[ \t]*[:=][ \t]*(["'`]?)([^\s"'`]{8,256})\2"#, group: 3, key: 1, hints: ["psw"], check: { _, value in
            SecretValue.isAmbiguousPassword(value) ? ("secret in prose", "secret") : nil
        }),
        make("secret in prose", "secret", #"(?i)(?<![\p{L}\p{N}_\-])(?:(?:creds|credentials|cred)\b|user(?:name)?[ \t]*/[ \t]*pass(?:word)?[ \t]*:)[ \t]*[:=]?[ \t]*["']?[A-Za-z0-9._@\-]{1,64}(?::|[ \t]*/[ \t]*)([^\s"']{6,256})"#, group: 1, hints: ["cred"], check: { _, value in
            // `see-1password` names where it is kept.
            value.lowercased().contains("password") || !SecretValue.isAmbiguousPassword(value) ? nil : ("secret in prose", "secret")
        }),
        // An AWS secret access key in prose: 40 characters of base64 on a line that says `aws` and
        // `secret`, or after an access key ID ("AWS secret for flamingo: …", "AKIA… with secret …").
        make("AWS secret access key", "aws-secret", #"(?i)\baws\b[^\n]{0,80}?\bsecret\b[^\n]{0,80}?(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"#, group: 1, hints: ["aws"], check: { _, value in
            SecretValue.looksRandom(value) ? ("AWS secret access key", "aws-secret") : nil }),
        make("AWS secret access key", "aws-secret", #"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])[^\n]{0,80}?(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"#, group: 1, hints: ["AKIA", "ASIA"], check: { _, value in
            SecretValue.looksRandom(value) ? ("AWS secret access key", "aws-secret") : nil }),
    ]

    /// Every secret in `text`, in order of position.
    public func scan(_ text: String) -> [SecretFinding] {
        let size = text.utf8.count
        guard size <= SecretScanner.keptBytes / 4 else { return matches(in: text).map { SecretFinding(kind: $0.kind, line: $0.line) } }
        let key = Array(text.utf8)
        // A whole packet is scanned twice, by the builder and by the router: the last few large
        // texts are kept apart, so that they do not push the pieces' verdicts out.
        let large = size > SecretScanner.keptBytes / 64
        if let known = scanned.withLock({ large ? $0.recent.first(where: { $0.key == key })?.found : $0.found[key] }) { return known }
        let found = matches(in: text).map { SecretFinding(kind: $0.kind, line: $0.line) }
        scanned.withLock { kept in
            if large {
                kept.recent.append((key, found))
                if kept.recent.count > 4 { kept.recent.removeFirst() }
                return
            }
            if kept.bytes + size > SecretScanner.keptBytes { (kept.found, kept.bytes) = ([:], 0) }
            kept.found[key] = found
            kept.bytes += size
        }
        return found
    }

    /// Where each secret in `text` lies (UTF-16 ranges of `text`, as found through the normalised
    /// views: a token split by an invisible character or over a quoted line is one range), in order.
    public func spans(in text: String) -> [NSRange] {
        matches(in: text).map(\.range)
    }

    /// Each secret in `text` with where it lies (as `spans`), in order.
    public func located(in text: String) -> [(finding: SecretFinding, range: NSRange)] {
        matches(in: text).map { (SecretFinding(kind: $0.kind, line: $0.line), $0.range) }
    }

    /// `text` with each secret replaced by `[REDACTED:kind]`, and what was replaced. Replacement works
    /// on the original text: a secret found through normalisation (split over lines, with invisible
    /// characters inside) is removed together with those line breaks and characters.
    public func redact(_ text: String) -> (text: String, findings: [SecretFinding]) {
        let found = matches(in: text)
        // Overlapping ranges (a value extended by a line-joined match) are merged before replacing.
        var spans: [(range: NSRange, slug: String)] = []
        for match in found {
            if let last = spans.last, NSMaxRange(last.range) >= match.range.location {
                spans[spans.count - 1].range = NSUnionRange(last.range, match.range)
            } else {
                spans.append((match.range, match.slug))
            }
        }
        let result = NSMutableString(string: text)
        for span in spans.reversed() {
            result.replaceCharacters(in: span.range, with: "[REDACTED:\(span.slug)]")
        }
        return (result as String, found.map { SecretFinding(kind: $0.kind, line: $0.line) })
    }

    private struct Match {
        let kind: String
        let slug: String
        var range: NSRange
        var line: Int
    }

    private func matches(in text: String) -> [Match] {
        let views = ScanView.views(of: text)
        let bytes = views.map { (text: Array($0.text.utf8), lowered: Array($0.lowered.utf8)) }
        var accepted: [Match] = []
        for (pattern, hints) in zip(patterns, hintBytes) {
            for (v, view) in views.enumerated() where view.joins == .none || (view.joins == .long) == pattern.generic {
                if !hints.isEmpty && !hints.contains(where: { SecretScanner.bytes(pattern.caseless ? bytes[v].lowered : bytes[v].text, contain: $0) }) { continue }
                let ns = view.text as NSString
                for result in pattern.regex.matches(in: view.text, range: NSRange(location: 0, length: ns.length)) {
                    let local = result.range(at: pattern.group)
                    guard local.location != NSNotFound, local.length > 0 else { continue }
                    var kind = pattern.kind
                    var slug = pattern.slug
                    if let check = pattern.check {
                        let key = pattern.keyGroup > 0 && result.range(at: pattern.keyGroup).location != NSNotFound ? ns.substring(with: result.range(at: pattern.keyGroup)) : ""
                        guard let verdict = check(key, ns.substring(with: local)) else { continue }
                        (kind, slug) = verdict
                    }
                    let range = view.original(local)
                    // Markup taken out of a view can bring a key and a value together that a reader
                    // sees apart: `` `--password` per the docs `` is a flag named in code, then prose.
                    // Where the original between them has a backtick, the value must look like a
                    // credential on its own (an outside attack: two notes of the Obsidian Help vault
                    // side by side blocked a task for "password assignment").
                    if pattern.keyGroup > 0, view.origin != nil, case let keyRange = result.range(at: pattern.keyGroup), keyRange.location != NSNotFound,
                       SecretScanner.codeBetween(view.original(keyRange), range, in: text),
                       case let value = SecretValue.withoutEmphasis(ns.substring(with: local)), !SecretValue.looksRandom(value), !SecretValue.looksLikePassword(value) {
                        continue
                    }
                    // A match that overlaps one already accepted widens it (a key found whole in the
                    // line-joined view covers the part found on its first line) rather than counting twice.
                    if let index = accepted.firstIndex(where: { NSIntersectionRange($0.range, range).length > 0 }) {
                        accepted[index].range = NSUnionRange(accepted[index].range, range)
                        continue
                    }
                    accepted.append(Match(kind: kind, slug: slug, range: range, line: 0))
                }
            }
        }
        accepted.sort { $0.range.location < $1.range.location }
        let lines = LineIndex(text)
        for index in accepted.indices { accepted[index].line = lines.line(of: accepted[index].range.location) }
        return accepted
    }

    /// One line describing findings without revealing them: "AWS access key ID (line 3), bearer token (line 7)".
    public static func describe(_ findings: [SecretFinding]) -> String {
        let shown = findings.prefix(5).map { "\($0.kind) (line \($0.line))" }.joined(separator: ", ")
        return findings.count > 5 ? shown + " and \(findings.count - 5) more" : shown
    }
}

/// 1-based line numbers of UTF-16 offsets, from one pass over the text.
private struct LineIndex {
    private var starts: [Int] = [0]

    init(_ text: String) {
        var offset = 0
        for unit in text.utf16 {
            offset += 1
            if unit == 0x0A { starts.append(offset) }
        }
    }

    func line(of location: Int) -> Int {
        var low = 0, high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= location { low = mid } else { high = mid - 1 }
        }
        return low + 1
    }
}

extension SecretScanner {
    /// Whether the original text between a key's range and its value's range holds a backtick (the
    /// end of a code span the key is in, or the start of one the value is in).
    static func codeBetween(_ key: NSRange, _ value: NSRange, in text: String) -> Bool {
        let start = NSMaxRange(key)
        guard value.location > start else { return false }
        return (text as NSString).range(of: "`", options: .literal, range: NSRange(location: start, length: value.location - start)).location != NSNotFound
    }
}

/// A view of the prompt the patterns run on, with the way back to the original's UTF-16 offsets.
struct ScanView {
    /// The text the patterns see.
    let text: String
    /// `text` lower-cased, for the cheap "is this pattern worth running" check.
    let lowered: String
    /// For each UTF-16 unit of `text`, its offset in the original (`nil`: the same offsets).
    let origin: [Int]?
    /// Which line breaks were joined: none (the whole normalised text), any that splits a token, or
    /// only those between two long runs (lines around joins only, in both joined views).
    let joins: Joins

    /// How a view joins lines.
    enum Joins { case none, any, long }

    /// The original range covering `range` of this view (invisible characters and joined line breaks
    /// inside it included).
    func original(_ range: NSRange) -> NSRange {
        guard let origin else { return range }
        let start = origin[range.location]
        let end = origin[NSMaxRange(range) - 1] + 1
        return NSRange(location: start, length: end - start)
    }

    /// The normalised view (invisible characters removed, full-width ASCII folded, odd line breaks
    /// made `\n`) and, when some line end splits a token, a second view with those lines joined.
    static func views(of text: String, normalisedOnly: Bool = false) -> [ScanView] {
        var units: [UInt16] = []
        units.reserveCapacity(text.utf16.count)
        var origin: [Int] = []
        origin.reserveCapacity(text.utf16.count)
        var changed = false
        var offset = 0
        var previousWasASCII = false
        for scalar in text.unicodeScalars {
            let width = scalar.utf16.count
            defer { offset += width }
            let value = scalar.value
            if value < 0x80 && value != 0x0B && value != 0x0C {
                // Plain ASCII, by far the most common case: kept as it is.
                units.append(UInt16(value))
                origin.append(offset)
                previousWasASCII = true
                continue
            }
            if isInvisible(scalar) || (previousWasASCII && isCombiningMark(scalar)) {
                changed = true
                continue
            }
            var folded = scalar
            if (0xFF01...0xFF5E).contains(value), let ascii = Unicode.Scalar(value - 0xFF01 + 0x21) {
                folded = ascii
            } else if let letter = compatibilityLetter(scalar) {
                folded = letter
            } else if value == 0x2028 || value == 0x2029 || value == 0x85 || value == 0x0B || value == 0x0C {
                folded = "\n"
            }
            if folded != scalar { changed = true }
            previousWasASCII = folded.isASCII
            var index = 0
            for unit in folded.utf16 {
                units.append(unit)
                origin.append(offset + min(index, width - 1))
                index += 1
            }
        }
        let normalised = changed ? String(decoding: units, as: UTF16.self) : text
        var views = [ScanView(text: normalised, lowered: normalised.lowercased(), origin: changed ? origin : nil, joins: .none)]
        if normalisedOnly { return views }
        for joins in [Joins.any, .long] {
            if let joined = joinSplitTokens(units, origin: origin, longOnly: joins == .long) {
                let joinedText = String(decoding: joined.units, as: UTF16.self)
                views.append(ScanView(text: joinedText, lowered: joinedText.lowercased(), origin: joined.origin, joins: joins))
            }
        }
        // Markdown that can split or wrap a key without changing it for a reader: `> ` and list
        // markers at line starts (a key broken over quoted or listed lines), emphasis, code and
        // comments inside it (`ghp_…**…**`, `ghp_…<!-- -->…`). Scanned as a view of its own, joined too.
        if let stripped = withoutMarkup(units, origin: origin) {
            // Whole, only when taking markup out joined two parts of a token (`ab**cd`); markers at
            // line starts matter only where lines are joined (the views below, of a few lines each).
            if stripped.joinsTokens {
                let strippedText = String(decoding: stripped.units, as: UTF16.self)
                views.append(ScanView(text: strippedText, lowered: strippedText.lowercased(), origin: stripped.origin, joins: .none))
            }
            for joins in [Joins.any, .long] {
                if let joined = joinSplitTokens(stripped.units, origin: stripped.origin, longOnly: joins == .long) {
                    let joinedText = String(decoding: joined.units, as: UTF16.self)
                    views.append(ScanView(text: joinedText, lowered: joinedText.lowercased(), origin: joined.origin, joins: joins))
                }
            }
        }
        return views
    }

    /// The ASCII letter or digit a compatibility character stands for (mathematical bold or script
    /// letters 𝐠𝐡𝐩, circled and parenthesised letters, super- and subscripts, letterlike symbols):
    /// what Unicode's NFKC makes of it, when that is one ASCII letter or digit.
    static func compatibilityLetter(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        let value = scalar.value
        guard (0x1D400...0x1D7FF).contains(value) || (0x2460...0x24FF).contains(value) || (0x2070...0x209F).contains(value)
            || (0x2100...0x214F).contains(value) || (0x1F100...0x1F1FF).contains(value) else { return nil }
        let folded = String(scalar).precomposedStringWithCompatibilityMapping.unicodeScalars
        guard folded.count == 1, let only = folded.first, only.isASCII, only.properties.isAlphabetic || ("0"..."9").contains(only) else { return nil }
        return only
    }

    /// `units` without Markdown markup that a key can hide behind (see `views`); `nil` when there is
    /// none. Line starts lose indentation, `>` quote markers and a list marker (`- `, `* `, `+ `,
    /// `1. `, a task box); anywhere, `**`, `__`, `~~`, `==`, `$$`, backticks, `<!-- … -->`, `%% … %%`,
    /// the backslash of an escape (`\_`), inline HTML tags and entities that render as nothing go.
    /// A single `_` stays: it is part of many keys.
    static func withoutMarkup(_ units: [UInt16], origin: [Int]) -> (units: [UInt16], origin: [Int], joinsTokens: Bool)? {
        let count = units.count
        var out: [UInt16] = []
        var outOrigin: [Int] = []
        out.reserveCapacity(count)
        outOrigin.reserveCapacity(count)
        var changed = false
        var joinsTokens = false
        var i = 0
        var lineStart = true
        // Markup taken out between two token characters makes a token the text did not show.
        func removed(upTo next: Int) {
            changed = true
            if let last = out.last, isTokenUnit(last), next < count, isTokenUnit(units[next]) { joinsTokens = true }
        }
        func starts(_ literal: String, at index: Int) -> Bool {
            var j = index
            for unit in literal.utf16 {
                guard j < count, units[j] == unit else { return false }
                j += 1
            }
            return true
        }
        while i < count {
            if lineStart {
                lineStart = false
                var j = i
                while j < count, units[j] == 0x20 || units[j] == 0x09 || units[j] == 0x3E { j += 1 } // spaces, tabs, `>`
                if j + 1 < count, [0x2D, 0x2A, 0x2B].contains(units[j]), units[j + 1] == 0x20 { j += 2 } // - * +
                else {
                    var d = j
                    while d < count, (0x30...0x39).contains(units[d]) { d += 1 }
                    if d > j, d + 1 < count, units[d] == 0x2E || units[d] == 0x29, units[d + 1] == 0x20 { j = d + 2 }
                }
                if j + 3 < count, units[j] == 0x5B, units[j + 2] == 0x5D, units[j + 3] == 0x20 { j += 4 } // [ ] [x]
                if j != i { changed = true; i = j; continue }
            }
            let unit = units[i]
            if unit == 0x0A { lineStart = true }
            if starts("<!--", at: i) || starts("%%", at: i) {
                let close = unit == 0x3C ? "-->" : "%%"
                var j = i + (unit == 0x3C ? 4 : 2)
                while j < count, !starts(close, at: j) { j += 1 }
                i = min(count, j + close.utf16.count)
                removed(upTo: i)
                continue
            }
            if unit == 0x60 { i += 1; removed(upTo: i); continue } // `
            if i + 1 < count, units[i + 1] == unit, [0x2A, 0x5F, 0x7E, 0x3D, 0x24].contains(unit) { i += 2; removed(upTo: i); continue } // ** __ ~~ == $$
            // A backslash escape (`sk\_live\_…`, as converters write underscores): the reader sees the
            // character; before a letter or digit (`AKIA\IOSF…`) a reader still sees the key around it.
            if unit == 0x5C, i + 1 < count, isASCIIPunctuation(units[i + 1]) || isTokenUnit(units[i + 1]) { i += 1; removed(upTo: i); continue }
            // An inline HTML tag (`<span>`, `</mark>`, `<wbr>`, `<sup></sup>`): rendered, it shows nothing.
            if unit == 0x3C, let end = htmlTagEnd(units, from: i) { i = end; removed(upTo: i); continue }
            // An entity that renders as nothing (`&ZeroWidthSpace;`, `&#8203;`, `&shy;`).
            if unit == 0x26, let end = invisibleEntityEnd(units, from: i) { i = end; removed(upTo: i); continue }
            // An entity that renders as an ASCII character (`ghp&#95;…`, `sk&lowbar;live`): read as that character.
            if unit == 0x26, let (decoded, end) = asciiEntity(units, from: i) {
                changed = true
                if isTokenUnit(decoded), (out.last.map(isTokenUnit) ?? false) || (end < count && isTokenUnit(units[end])) { joinsTokens = true }
                out.append(decoded)
                outOrigin.append(origin[i])
                i = end
                continue
            }
            out.append(unit)
            outOrigin.append(origin[i])
            i += 1
        }
        return changed ? (out, outOrigin, joinsTokens) : nil
    }

    /// Whether a UTF-16 unit is ASCII punctuation, which Markdown lets a backslash escape.
    static func isASCIIPunctuation(_ unit: UInt16) -> Bool {
        (0x21...0x2F).contains(unit) || (0x3A...0x40).contains(unit) || (0x5B...0x60).contains(unit) || (0x7B...0x7E).contains(unit)
    }

    /// The index just past an HTML tag starting at `start` (`<` then a letter, or `</` then one, up to
    /// `>` on the same line within 80 units, no `<` inside), or `nil`.
    static func htmlTagEnd(_ units: [UInt16], from start: Int) -> Int? {
        var j = start + 1
        if j < units.count, units[j] == 0x2F { j += 1 }
        guard j < units.count, (0x41...0x5A).contains(units[j]) || (0x61...0x7A).contains(units[j]) else { return nil }
        let limit = min(units.count, start + 80)
        while j < limit {
            switch units[j] {
            case 0x3E: return j + 1
            case 0x3C, 0x0A: return nil
            default: j += 1
            }
        }
        return nil
    }

    /// Named entities that render as nothing.
    private static let invisibleEntities: Set<String> = ["zerowidthspace", "zwj", "zwnj", "shy", "nobreak", "invisibletimes", "invisiblecomma",
                                                        "it", "ic", "af", "negativethinspace", "negativemediumspace", "negativethickspace", "negativeverythinspace", "lrm", "rlm"]

    /// An HTML character reference starting at `start` (`&name;`, `&#NNNN;`, `&#xHHHH;`, at most 32
    /// units): its name lower-cased, or the scalar a numeric one stands for, and the index just past
    /// it; `nil` when none starts there.
    static func entity(_ units: [UInt16], from start: Int) -> (name: String, scalar: Unicode.Scalar?, end: Int)? {
        var j = start + 1
        var name = ""
        while j < units.count, j - start <= 32, units[j] != 0x3B {
            guard units[j] < 0x80, let scalar = Unicode.Scalar(units[j]) else { return nil }
            name.unicodeScalars.append(scalar)
            j += 1
        }
        guard j < units.count, units[j] == 0x3B, !name.isEmpty else { return nil }
        let lowered = name.lowercased()
        guard lowered.hasPrefix("#") else { return (lowered, nil, j + 1) }
        let digits = lowered.dropFirst()
        let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
        guard let value, let scalar = Unicode.Scalar(value) else { return nil }
        return (lowered, scalar, j + 1)
    }

    /// The index just past an entity starting at `start` that renders as nothing (`isInvisible`), or `nil`.
    static func invisibleEntityEnd(_ units: [UInt16], from start: Int) -> Int? {
        guard let found = entity(units, from: start) else { return nil }
        if let scalar = found.scalar { return isInvisible(scalar) ? found.end : nil }
        return invisibleEntities.contains(found.name) ? found.end : nil
    }

    /// Named entities of ASCII characters a key can be written with.
    private static let asciiEntities: [String: UInt16] = ["lowbar": 0x5F, "underbar": 0x5F, "hyphen": 0x2D, "dash": 0x2D, "period": 0x2E,
                                                          "sol": 0x2F, "equals": 0x3D, "plus": 0x2B, "colon": 0x3A, "num": 0x23, "percnt": 0x25,
                                                          "dollar": 0x24, "amp": 0x26, "quot": 0x22, "apos": 0x27, "lt": 0x3C, "gt": 0x3E]

    /// The ASCII character an entity starting at `start` renders as (`&#95;`, `&#x5F;`, `&lowbar;`)
    /// and the index just past it, or `nil`.
    static func asciiEntity(_ units: [UInt16], from start: Int) -> (UInt16, Int)? {
        guard let found = entity(units, from: start) else { return nil }
        if let scalar = found.scalar { return (0x21...0x7E).contains(scalar.value) ? (UInt16(scalar.value), found.end) : nil }
        return asciiEntities[found.name].map { ($0, found.end) }
    }

    /// Format characters (Unicode category Cf: zero-width space/joiners, soft hyphen, bidi controls,
    /// word joiner, BOM, tag characters, …) and other characters that render as nothing.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F, 0x3164, 0xFFA0, 0xFE00...0xFE0F, 0xE0100...0xE01EF:
            return true
        default:
            return scalar.properties.generalCategory == .format
        }
    }

    static func isCombiningMark(_ scalar: Unicode.Scalar) -> Bool {
        let category = scalar.properties.generalCategory
        return category == .nonspacingMark || category == .enclosingMark
    }

    private static func isTokenUnit(_ unit: UInt16) -> Bool {
        switch unit {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2B, 0x2D, 0x2F, 0x3D, 0x5F, 0x2E: return true // 0-9 A-Z a-z + - / = _ .
        default: return false
        }
    }

    /// The lines around every line break that splits a token, with those breaks removed (and a
    /// trailing `\\`, quotes and indentation around them): the line ends in a run of token characters
    /// that looks like part of a key (a digit, mixed case, or `-_+/=` in it) and the next line goes on
    /// with a token-like run too. Only those lines are kept, separated by
    /// line breaks, so a long prompt is not scanned twice. `nil` when no line break qualifies.
    /// With `longOnly`, only breaks between a run of 16 or more and a run of 8 or more count.
    static func joinSplitTokens(_ units: [UInt16], origin: [Int], longOnly: Bool) -> (units: [UInt16], origin: [Int])? {
        let count = units.count
        var joins: [(end: Int, next: Int)] = []
        var index = 0
        while index < count {
            guard units[index] == 0x0A else { index += 1; continue }
            let lineStart = joins.last?.next ?? 0
            // Back over `\r`, spaces, tabs, a continuation backslash and a closing quote.
            var end = index
            while end > lineStart, [0x0D, 0x20, 0x09, 0x5C, 0x22, 0x27].contains(units[end - 1]) { end -= 1 }
            var start = end
            var digit = false, upper = false, lower = false, symbol = false
            while start > lineStart, isTokenUnit(units[start - 1]), end - start < 64 {
                let u = units[start - 1]
                if (0x30...0x39).contains(u) { digit = true } else if (0x41...0x5A).contains(u) { upper = true }
                else if (0x61...0x7A).contains(u) { lower = true } else if u != 0x2E { symbol = true }
                start -= 1
            }
            let tokenLike = end - start >= 3 && (digit || symbol || (upper && lower))
            // Forward over `\r`, indentation and an opening quote.
            var next = index + 1
            while next < count, [0x0D, 0x20, 0x09, 0x22, 0x27].contains(units[next]) { next += 1 }
            var after = next
            var nextDigit = false, nextUpper = false, nextLower = false, nextSymbol = false
            while after < count, isTokenUnit(units[after]), after - next < 64 {
                let u = units[after]
                if (0x30...0x39).contains(u) { nextDigit = true } else if (0x41...0x5A).contains(u) { nextUpper = true }
                else if (0x61...0x7A).contains(u) { nextLower = true } else if u != 0x2E { nextSymbol = true }
                after += 1
            }
            var goesOn = after > next && units[next] != 0x2E && (nextDigit || nextSymbol || (nextUpper && nextLower))
            if longOnly && (end - start < 16 || after - next < 8) { goesOn = false }
            if tokenLike && goesOn {
                joins.append((end, next))
                index = next
            } else {
                index += 1
            }
        }
        guard !joins.isEmpty else { return nil }
        var out: [UInt16] = []
        var outOrigin: [Int] = []
        var j = 0
        while j < joins.count {
            // One segment: from the start of the line before the first join to the end of the line
            // after the last join of a chain (at most 4 KB either way).
            var segmentStart = joins[j].end
            while segmentStart > 0, units[segmentStart - 1] != 0x0A, joins[j].end - segmentStart < 4096 { segmentStart -= 1 }
            var cursor = segmentStart
            var segmentEnd = joins[j].next
            while true {
                out.append(contentsOf: units[cursor..<joins[j].end])
                outOrigin.append(contentsOf: origin[cursor..<joins[j].end])
                cursor = joins[j].next
                segmentEnd = cursor
                while segmentEnd < count, units[segmentEnd] != 0x0A, segmentEnd - cursor < 4096 { segmentEnd += 1 }
                if j + 1 < joins.count && joins[j + 1].end <= segmentEnd { j += 1 } else { break }
            }
            out.append(contentsOf: units[cursor..<segmentEnd])
            outOrigin.append(contentsOf: origin[cursor..<segmentEnd])
            if let last = outOrigin.last {
                out.append(0x0A)
                outOrigin.append(last)
            }
            j += 1
        }
        return (out, outOrigin)
    }
}

/// How the generic rules judge a key and a value: is the key about a password or a token/secret,
/// is the value a placeholder or reference, and does it look random enough to be a credential.
enum SecretValue {
    private static let passwordWords: Set<String> = ["password", "passwd", "passphrase", "pwd", "pass", "passcode", "passwort", "contrasena", "motdepasse", "mdp",
                                                     "sshpass", "storepass", "keypass", "requirepass", "masterauth", "pw"]
    private static let secretWords: Set<String> = ["secret", "secrets", "token", "key", "apikey", "auth", "credential", "credentials", "creds", "authtoken", "accesstoken", "accesskey", "secretkey", "privatekey", "clientsecret", "apitoken", "signature", "sas", "dsn"]
    // Joined spellings without separators (APIKEY, AUTHTOKEN) that camel-case splitting cannot see.
    private static let compoundSecretWords = ["apikey", "apitoken", "authtoken", "accesstoken", "refreshtoken", "sessiontoken", "secretkey", "accesskey", "privatekey", "clientsecret", "signingkey", "masterkey", "bottoken"]
    // A key ending in one of these names something about a secret, not the secret (`token_url`, `key_id`).
    private static let descriptiveSuffixes: Set<String> = ["id", "ids", "name", "names", "type", "types", "path", "file", "files", "url", "uri", "endpoint", "length", "size", "count", "limit", "max", "min", "format", "version", "prefix", "env", "var", "field", "header", "location", "expiry", "expires", "expiration", "ttl", "timeout", "lifetime", "algorithm", "alg", "policy", "rotation", "store", "storage", "provider", "usage", "mode", "enabled", "required", "hint", "label", "placeholder", "pattern", "regex", "column", "index", "hash", "len", "bits", "public", "pub", "fingerprint", "kind", "scope", "scopes", "source", "ref",
        "stdin", "rate", "ratio", "percent", "pct", "prompt", "fd", "helper", "cmd", "command", "from", "reset", "forgot", "strength", "rule", "rules"]
    private static let notSecretWords: Set<String> = ["public", "pub", "publishable", "sort", "primary", "foreign", "partition", "cache", "idempotency", "hotkey", "keyboard", "monkey", "turkey", "donkey", "jockey", "hockey", "whiskey", "tokens", "tokenizer", "keys", "keyword", "keywords", "keyspace", "author", "authors", "authority", "authorities", "oauth2"]
    private static let placeholderWords = ["your", "example", "placeholder", "changeme", "change_me", "change-me", "replace", "insert", "dummy", "sample", "redacted", "xxxx", "****", "....", "todo", "fixme", "here", "secret_here", "...", "<", ">", "{{", "}}", "${", "process.env", "os.environ", "getenv", "env(", "env[", "vault:", "secrets."]
    /// What a placeholder names after `your` or before `here` (`yourpassword`, `apikeyhere`).
    private static let placeholderNouns = ["password", "passwd", "pass", "pw", "key", "token", "secret", "api", "user", "name", "value", "code", "id", "email", "host"]
    private static let placeholderValues: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "none", "nil", "undefined", "required", "optional", "string", "str", "text", "int", "integer", "number", "bool", "boolean", "secret", "password", "passwd", "token", "hidden", "masked", "empty", "default", "env", "tbd", "n/a", "na", "unset", "disabled", "enabled", "auto", "prompt", "stdin", "keyring", "keychain", "bearer", "basic", "value", "any", "omitted", "same", "see", "below", "above", "ask", "set"]

    /// `(kind, slug)` when `value`, assigned to `key`, counts as a secret: any real value for a
    /// password key, a random-looking one for a token/secret/key key; `nil` otherwise.
    @Sendable static func classify(_ key: String, _ value: String) -> (kind: String, slug: String)? {
        let words = keyWords(key)
        guard let last = words.last else { return nil }
        if words.contains(where: notSecretWords.contains) { return nil }
        if descriptiveSuffixes.contains(last) && words.count > 1 { return nil }
        let squashed = words.joined()
        // A word ending in one counts too: `PGPASSWORD` (libpq's), `DBPASSWORD`, `rootpasswd`
        // (round 62: `PGPASSWORD=… pg_dump` went to claude).
        let alone = words.count == 1 && ambiguousPasswordWords.contains(words[0])
        let isPassword = !alone && words.contains(where: { passwordWords.contains($0) || passwordEndings.contains(where: $0.hasSuffix) })
        if isPassword {
            return isReference(value) || isPlaceholder(value) || value.count < 3 || isCodeExpression(value) ? nil : ("password assignment", "password")
        }
        // `PW=…`, `pass=…`: short names that are as often something else (`pass=128 fail=0`), so
        // the value must look like a password.
        if alone {
            return isReference(value) || !isAmbiguousPassword(value) ? nil : ("password assignment", "password")
        }
        let isSecret = words.contains(where: secretWords.contains) || compoundSecretWords.contains(where: squashed.contains)
        guard isSecret, !isReference(value), looksRandom(value) else { return nil }
        return ("secret assignment", "secret")
    }

    /// Key words that name a password as often as something else (`pass=128`, `PWD=/home/anna`).
    static let ambiguousPasswordWords: Set<String> = ["pass", "pw", "pwd", "oldpwd"]

    /// Whether a value after an ambiguous key word (`pass`, `pw`, `pwd`) is a password: it looks
    /// like one, and is no path, no code (`smtpPassword`, `test_auth_2fa`) and no run of plain
    /// words and versions (`mutation-testing-v2`, `12/12`).
    static func isAmbiguousPassword(_ raw: String) -> Bool {
        let value = raw.trimmingCharacters(in: CharacterSet(charactersIn: ",;"))
        return !value.hasPrefix("/") && !value.hasPrefix("~") && looksLikePassword(value) && !isCodeExpression(value) && !allPartsPlain(value)
    }

    /// A word of a sentence: letters only, all in small letters (`force`, `only`, `the`, `app`).
    static func isPlainWord(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 24 && value.allSatisfy { $0.isLetter && !$0.isUppercase }
    }

    /// A value that looks random but is public or an identifier: a UUID, hexadecimal (a digest, a
    /// key id, `0x3AA5…`), a public key (`AAAA…`, `ssh-…`), a base64 JSON cursor (`eyJ…` with no
    /// dots), a Mapbox public token (`pk.…`), a digest with its scheme (`sha256-…`), or a value with
    /// a `/` or `:` in it (an object's key, `sess:8f3k…`) — round 63.
    static func isPublicIdentifier(_ value: String) -> Bool {
        let hex = value.hasPrefix("0x") || value.hasPrefix("0X") ? String(value.dropFirst(2)) : value
        if !hex.isEmpty, hex.allSatisfy({ $0.isHexDigit || $0 == "-" }) { return true }
        if ["AAAA", "ssh-", "ecdsa-", "pk.", "sha1-", "sha256-", "sha384-", "sha512-"].contains(where: value.hasPrefix) { return true }
        if value.hasPrefix("eyJ") && !value.contains(".") { return true }
        // A word and a hexadecimal id (`order-8f3e9a2c41d8`, `evt_4bf92f35`).
        if let cut = value.firstIndex(where: { "-_".contains($0) }), value[..<cut].allSatisfy({ $0.isLetter && $0.isLowercase }),
           case let id = value[value.index(after: cut)...], id.count >= 6, id.allSatisfy(\.isHexDigit) { return true }
        return value.contains("/") || value.contains(":")
    }

    /// The check of the "<service> key is …" rules: a key that may be secret, a value that looks
    /// random and is no public identifier.
    @Sendable static func randomKeyCheck(_ key: String, _ raw: String) -> (kind: String, slug: String)? {
        guard namesSecretKey(key), let value = proseValue(raw), looksRandom(value), !isPublicIdentifier(value) else { return nil }
        return ("secret in prose", "secret")
    }

    /// The ends of a key word that make it a password's: `pgpassword`, `rootpasswd`.
    static let passwordEndings = ["password", "passwd", "passphrase"]

    /// The objects code reads a value from, as the first part of a dotted path
    /// (`req.body.password`, `self.password`, `config.db_password`).
    static let codeReceivers: Set<String> = ["req", "request", "res", "response", "self", "this", "cls", "config", "cfg", "conf", "settings", "options", "opts",
        "params", "args", "argv", "kwargs", "form", "body", "data", "user", "users", "account", "env", "process", "os", "ctx", "context", "props", "state",
        "input", "inputs", "values", "creds", "credentials", "secrets", "app", "flask", "django", "session", "event", "payload", "obj", "model", "record", "row",
        "item", "entry", "profile", "auth", "login", "signup", "document", "window", "global", "globals", "module", "exports", "viper", "cmd", "flags", "r", "c", "ev"]

    /// Whether a value is code that computes or reads one, not a literal: a dotted path of
    /// identifiers with a call or a subscript in it (`hashlib.sha256(raw).hexdigest()`,
    /// `request.form["password"]`), or one read from an object code passes around
    /// (`req.body.password`, `self.cfg.pw`) — round 62: login code was blocked as a secret.
    /// `Summer.Time2024` (a capital first part, no call) stays a value.
    static func isCodeExpression(_ raw: String) -> Bool {
        var value = Substring(raw)
        while let last = value.last, ",;".contains(last) { value = value.dropLast() }
        // `= try container.decode(…)`, `= await bcrypt.hash(…)`: the value read up to the space.
        if codeKeywords.contains(String(value)) { return true }
        guard let first = value.first, first.isLetter || first == "_" || first == "$" else { return false }
        var parts: [Substring] = []
        var rest = value
        var hasCall = false
        while !rest.isEmpty {
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }
            guard let head = name.first, head.isLetter || head == "_" || head == "$", name.allSatisfy(\.isASCII) else { return false }
            parts.append(name)
            rest = rest.dropFirst(name.count)
            // Calls and subscripts after the name: `(raw)`, `["password"]`, `[0]`, nested ones.
            while let open = rest.first, open == "(" || open == "[" {
                var depth = 0
                var end: Substring.Index?
                for index in rest.indices {
                    if "([".contains(rest[index]) { depth += 1 } else if ")]".contains(rest[index]) { depth -= 1 }
                    if depth == 0 { end = index; break }
                }
                // Cut before it closes (the value was read up to a space or a quote): a call of a
                // dotted name, or of a name in small letters, is code (`ssm.get_parameter(Name=`).
                guard let end else { return parts.count >= 2 || parts[0].first?.isLowercase == true }
                // Arguments that are words, names or numbers (`(raw)`, `["password"]`, `(pw,10)`);
                // `summer(Beach!2024)` is a password with brackets in it.
                let inside = String(rest[rest.index(after: rest.startIndex)..<end]).map { "()[]".contains($0) ? " " : String($0) }.joined()
                guard inside.trimmingCharacters(in: .whitespaces).isEmpty || allPartsPlain(inside, separators: ":,;?|=+ ^$\"'", shortWords: true) else { return false }
                hasCall = true
                rest = rest[rest.index(after: end)...]
            }
            if rest.isEmpty { break }
            guard rest.first == "." || rest.hasPrefix("?.") || rest.hasPrefix("->") else { return false }
            rest = rest.dropFirst(rest.first == "." ? 1 : 2)
        }
        if parts.count == 1 && !hasCall { return isIdentifierName(String(parts[0])) }
        guard parts.count >= 2 || (hasCall && parts[0].first?.isLowercase == true) else { return false }
        // A path whose first part is an object code passes around, or that names a password or a
        // secret (`PasswordBox.Password`, `settings.DB_PASSWORD`), or starts in small letters.
        return hasCall || codeReceivers.contains(parts[0].lowercased()) || parts[0].first?.isLowercase == true
            || parts.contains { part in keyWords(String(part)).contains { passwordWords.contains($0) || secretWords.contains($0) } }
    }

    /// Whether one word is a variable's name, not a password: it names a password or a secret
    /// (`hashedPassword`, `db_password`, `pwd`, `newSecret`), or is written as names are, in camel
    /// case or with underscores and no digit (`passwordField`, `raw_value`). `hunter`, `Summer`
    /// and `Zq8vLp2m` are none.
    static func isIdentifierName(_ name: String) -> Bool {
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") }) else { return false }
        let words = keyWords(name)
        if words.contains(where: { passwordWords.contains($0) || secretWords.contains($0) || passwordEndings.contains(where: $0.hasSuffix) }) { return true }
        if name.contains(where: \.isNumber) { return false }
        let hump = zip(name, name.dropFirst()).contains { $0.isLowercase && $1.isUppercase }
        return (hump && name.first?.isLowercase == true) || (name.contains("_") && words.count >= 2)
    }

    /// The words that open an expression in code (`try`, `await`, `new`…).
    static let codeKeywords: Set<String> = ["try", "try!", "try?", "await", "new", "yield", "async", "lambda", "function", "typeof", "require", "import"]

    /// Whether the words before `key` in prose ("OpenAI key", "Stripe key") may name a secret key:
    /// not one that is public or a database's (`public key`, `primary key`, `sort key`).
    static func namesSecretKey(_ phrase: String) -> Bool {
        guard let first = phrase.split(whereSeparator: { $0 == " " || $0 == "\t" }).first?.lowercased() else { return false }
        return !notSecretWords.contains(first) && !notSecretKeyNames.contains(first)
    }

    /// Words that, before `key`, name one that is no secret.
    static let notSecretKeyNames: Set<String> = ["composite", "unique", "surrogate", "natural", "candidate", "hash", "range", "row", "shard", "routing", "lookup",
        "host", "ssh", "gpg", "pgp", "verification", "verifying", "encryption", "recipient", "shortcut", "hot", "modifier", "music", "minor", "major", "answer",
        "dictionary", "map", "object", "json", "yaml", "registry", "config", "translation", "i18n", "l10n", "css", "react", "list", "table", "index", "foreign",
        "primary", "sort", "partition", "cache", "idempotency", "public", "pub", "publishable"]

    /// The words of a key: split at `_ - . /` and at camel-case humps, lower-cased (`clientSecret` →
    /// `client, secret`; `AWS_SECRET_ACCESS_KEY` → `aws, secret, access, key`).
    static func keyWords(_ key: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousLower = false
        for ch in key {
            if !(ch.isLetter || ch.isNumber) {
                if !current.isEmpty { words.append(current.lowercased()); current = "" }
                previousLower = false
                continue
            }
            if ch.isUppercase && previousLower && !current.isEmpty {
                words.append(current.lowercased())
                current = ""
            }
            current.append(ch)
            previousLower = ch.isLowercase || ch.isNumber
        }
        if !current.isEmpty { words.append(current.lowercased()) }
        return words
    }

    /// A reference to a secret kept elsewhere: `$VAR`, `${VAR}`, `%VAR%`, `{{ secrets.X }}`,
    /// `<token>`, `[redacted]`, `!vault`, `getpass()`, `ENC[…]`.
    static func isReference(_ value: String) -> Bool {
        guard let first = value.first else { return true }
        if "%<{[(`".contains(first) || value.hasPrefix("$(") { return true }
        // `$VAR`, `@secret`, `!vault`, `*anchor`, `&anchor`: a name after the mark; `@dmin2024!` is
        // a password (an outside attack).
        if "$!@*&".contains(first) {
            let rest = value.dropFirst()
            return rest.isEmpty || rest.first == "{" || rest.allSatisfy { $0.isLetter || $0.isNumber || "_.-/:".contains($0) }
        }
        if value.contains("${") || value.contains("{{") || value.contains("()") || value.contains("[") { return true }
        // A secret store's reference (`env:DB_PASS`, `keychain:login,service=…`, `sealed:ns=prod`),
        // whose name is plain: some schemes are common words (`secret:`, `pass:`, `file:`), and
        // `secret:Hunter2024!` or `pass:Tr0ub4dor&3` is a password behind one (round 58).
        if let colon = value.firstIndex(of: ":"), case let scheme = value[..<colon].lowercased(), referenceSchemes.contains(scheme) {
            let name = value[value.index(after: colon)...]
            // A scheme that is a common word (`secret:`, `pass:`, `file:`) names a reference only
            // with a reference's marks in it (`file:/run/x`, `op://…`, `see:wiki#rotation`, `DB_PASS`):
            // `secret:Dragon-1987` is a password behind one (round 58).
            if commonWordSchemes.contains(scheme) {
                guard name.contains(where: { "/_.=,@#-".contains($0) }), name.contains("/") || name == name.lowercased() || name == name.uppercased(),
                      !name.split(whereSeparator: { "/:,;@#".contains($0) }).contains(where: isWordWithYear) else { return false }
            }
            return name.isEmpty || allPartsPlain(String(name), separators: ":,;?|@", shortWords: true, references: true)
        }
        // A call (`getenv("X")`, `Secret(name)`), not a password with a bracket inside (`Ab(3x)9Yz`).
        return value.contains("(") && (value.hasSuffix(")") || value.contains("(\"") || value.contains("('") || value.contains("(`"))
    }

    /// The schemes of references to secrets kept elsewhere, written `scheme:name`.
    static let referenceSchemes: Set<String> = ["env", "vault", "keychain", "op", "ssm", "sealed", "secret", "secrets", "k8s", "kv", "aws", "gcp", "azure", "file",
                                                "see", "ref", "bw", "lastpass", "doppler", "infisical", "pass", "gopass", "keyring", "sops", "age"]

    /// The schemes of `referenceSchemes` that are words of a sentence too.
    static let commonWordSchemes: Set<String> = ["secret", "secrets", "pass", "file", "see", "ref", "age", "op", "aws", "vault", "kv"]

    /// A value written to be replaced: `your-api-key-here`, `changeme`, `xxxxxxxx`, `<token>`, `true`, `string`.
    static func isPlaceholder(_ value: String) -> Bool {
        let lowered = value.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "\"'`,;"))
        if lowered.isEmpty || placeholderValues.contains(lowered) { return true }
        // Marks anywhere (`xxxx`, `<`, `${`, `vault:`); words as words (`your-api-key-here`,
        // `yourpassword`, `tokenhere`), not inside another (`Sphere2024!`, `Yourself2024!`: an
        // outside attack sent both to claude).
        if placeholderWords.contains(where: { word in !word.allSatisfy(\.isLetter) && lowered.contains(word) }) { return true }
        for token in lowered.split(whereSeparator: { !$0.isLetter }) {
            if placeholderWords.contains(String(token)) { return true }
            if token.hasPrefix("your"), placeholderNouns.contains(where: { token.dropFirst(4).hasPrefix($0) }) { return true }
            if token.hasSuffix("here"), placeholderNouns.contains(where: { token.dropLast(4).hasSuffix($0) }) { return true }
        }
        if lowered.count >= 4 && Set(lowered.filter { $0.isLetter || $0.isNumber }).count <= 2 { return true }
        return isDocumentationExample(value)
    }

    /// The shapes documentation uses for keys that are not real: `…EXAMPLE…`, `your…`, a run of the
    /// same character (`xxxxxxxx`, `00000000`), `<…>`.
    static func isDocumentationExample(_ value: String) -> Bool {
        if value.contains("EXAMPLE") || value.contains("example") || value.contains("Example") || value.contains("YOUR") || value.contains("your") || value.contains("<") { return true }
        var run = 1
        var previous: Character?
        for ch in value {
            run = ch == previous ? run + 1 : 1
            if run >= 8 && (ch.isLetter || ch.isNumber) { return true }
            previous = ch
        }
        return false
    }

    /// Whether a value looks like a generated credential rather than a word, identifier, number or date:
    /// at least 8 characters, not a placeholder, letters mixed with digits inside one part (or a long
    /// run of random-case letters), and a Shannon entropy of at least 3 bits per character.
    /// Words that, between `password` and `is`, say the sentence is about something of the
    /// password's, not the password ("our password manager is 1Password", "the password policy is
    /// twelve-characters-minimum": round 49, a regression of the wider prose rule).
    static let passwordAttributes: Set<String> = ["manager", "managers", "policy", "policies", "length", "lengths", "requirement", "requirements", "rule", "rules",
        "strength", "reset", "resets", "field", "fields", "hint", "hints", "format", "formats", "expiry", "expiration", "rotation", "schedule", "change", "changes",
        "complexity", "minimum", "maximum", "limit", "limits", "prompt", "page", "screen", "form", "dialog", "box", "input", "option", "options", "setting", "settings",
        "type", "vault", "vaults", "store", "storage", "hash", "hashing", "algorithm", "protection", "recovery", "section", "entry", "column", "app", "flow", "count",
        "size", "history", "age", "generator", "strategy", "standard", "guidelines", "guide", "docs", "documentation", "check", "checker", "validation", "encryption", "tool", "tools",
        "server", "servers", "host", "hostname", "service", "endpoint", "url", "port", "backend", "api"]

    /// Words after which the rest of a prose match names whose password it is, not what about it.
    static let accountMarkers: Set<String> = ["for", "of", "on", "at", "to", "in", "into", "with", "from", "behind", "used", "that", "which", "we", "i", "you", "my", "our", "your", "his", "her", "their",
                                              "für", "vom", "von", "zum", "zur", "du", "de", "des", "pour", "del", "para", "do", "da", "dos", "das"]

    /// Whether the words of a prose match before `is` (a password word, then up to five) may name
    /// a password: not when one right after the password word says the sentence is about an
    /// attribute of it ("password manager is 1Password", "password policy is …"). Once a word
    /// says whose it is ("for my password manager", "of my vault": round 50), the words after it
    /// name the account.
    static func isProseSecret(_ words: String) -> Bool {
        var parts = words.lowercased().split { $0 == " " || $0 == "\t" }.map { String($0).trimmingCharacters(in: .punctuationCharacters) }.filter { !$0.isEmpty }
        // `mot de passe` is one word.
        if parts.starts(with: ["mot", "de", "passe"]) { parts = ["mot de passe"] + parts.dropFirst(3) }
        guard let first = parts.first, isPasswordWord(first) else { return false }
        for word in parts.dropFirst() {
            if accountMarkers.contains(word) { return true }
            if passwordAttributes.contains(word) { return false }
        }
        return true
    }

    /// A prose value without the closing marks of its emphasis (`**…**`, `_…_`).
    static func withoutEmphasis(_ raw: String) -> String {
        raw.trimmingCharacters(in: CharacterSet(charactersIn: "*_"))
    }

    /// Whether a key word of prose names a password (`password`, `passphrase`, `passcode`, `passwd`).
    static func isPasswordWord(_ key: String) -> Bool {
        let word = key.lowercased().split { $0 == " " || $0 == "\t" }.joined(separator: " ")
        return ["password", "passphrase", "passcode", "passwd", "mot de passe", "contraseña", "contrasena", "senha", "wachtwoord", "kennwort", "passwort", "hasło", "haslo"].contains(word)
    }

    /// Last words of a hyphenated description, not a password: `Base64-encoded`, `OAuth2-only`.
    static let descriptionEnds: Set<String> = ["encoded", "protected", "only", "long", "based", "compliant", "free", "friendly", "enabled", "disabled", "hashed",
        "salted", "derived", "generated", "managed", "backed", "bound", "like", "style", "safe", "proof", "wide", "specific", "sensitive", "insensitive", "secured",
        "encrypted", "signed", "length", "characters", "chars", "minimum", "maximum", "min", "max", "required", "optional", "capable", "aware", "ready", "native",
        "powered", "driven", "authenticated", "locked", "compatible", "strong", "resistant", "stored", "less", "digit", "digits", "letter", "letters", "word", "words",
        "days", "weeks", "months", "hours", "minutes", "years", "signed", "gehasht", "geschützt", "verschlüsselt", "chiffré", "chiffrée", "chiffre", "cifrada",
        "cifrado", "criptografada", "criptografado", "protegido", "protegida", "protégé", "protégée", "hasheado", "hasheada", "codificado", "codificada", "encodé",
        "haché", "hachée", "kodiert", "kompatibel", "compatível", "compatible", "zahashowane", "zahashowany", "szyfrowane", "zaszyfrowane", "kompatybilne",
        "kodowane", "chronione", "hashed", "salted", "konform", "conforme", "zgodne", "zgodny"]

    /// What a prose rule's value group holds, to judge: the value without its closing emphasis, or
    /// `nil` when it is a description — the name of a scheme with a word after it (`WPA2-PSK
    /// protected`) or joined to it (`Base64-encoded`, `2FA-protected`, `OAuth2-only`: round 50), or
    /// a number of something (`ten-characters-long`). A value that is no scheme's name stays one
    /// whatever follows it (`Coffee2024 only on weekends`, `Kd7$wQp3@nLx only`: round 51).
    static func proseValue(_ raw: String) -> String? {
        let parts = raw.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
        // The marks that end a clause are no part of the value at its end (`Summer2024,`,
        // `WPA2-PSK, protected`).
        let value = withoutEmphasis(String(parts.first ?? "")).trimmingCharacters(in: CharacterSet(charactersIn: ":,;?|"))
        if parts.count > 1 && isSchemeName(value) { return nil }
        // Inside it, they make a value a time, a list or a reference when every part is a word, a
        // number (with a unit), an acronym or a scheme (`08:00-18:00h`, `Guest,5GHz,WPA2`,
        // `RFC:8018`, `localhost:5432:appdb`); a part like `Zq8` or `vLp2` keeps it a password
        // (`Zq8:vLp2mRt`, `Kd7,wQp3`: round 54 — read as no value, times after "password" were
        // blocked; cut there, the passwords were missed).
        if value.contains(where: { ":,;?|".contains($0) }), allPartsPlain(value) { return nil }
        // A call, not a value: `SHA256(salt+password)`, `bcrypt(cost=12)`, `hash(pw)` — a scheme's
        // name, or a word in small letters, with arguments in brackets that are words or numbers.
        // A value holding brackets (`Ab(3x)9Yz`, `Argon2id(Zq8vLp2mRt)`) is one (rounds 53, 54).
        if let open = value.firstIndex(of: "("), open > value.startIndex, value.hasSuffix(")") {
            let name = String(value[..<open])
            let arguments = String(value[value.index(after: open)..<value.index(before: value.endIndex)])
            if allPartsPlain(arguments, separators: ":,;?|=+ ^$", shortWords: true), isSchemeName(name) || (name.count >= 3 && name.allSatisfy { $0.isLetter && $0.isLowercase }) { return nil }
        }
        if isDescription(value) || isCodeExpression(value) { return nil }
        return value
    }

    /// Whether every part of `text` between `separators` is plain: made of tokens (split at `-`
    /// `.` `_` `/` and spaces) each of which is a word (lower-case, capitalised, upper-case, or an
    /// identifier starting in lower case: `minLength`; of three letters or more unless `shortWords`),
    /// a number, a number with a unit (`64MiB`, `5GHz`, `600k`, `1h30m`, `40bits`), a short name
    /// with a number (`v2`, `ios17`, `auth01`, `p50`), a hexadecimal digest, or a scheme's name. A
    /// part holding any other mark (`Dragon!1987`, `Summer#2024`) is not plain, nor is a token like
    /// `Zq8`, `vLp2mRt`, `4Xz` or `Tq` (rounds 54 and 56).
    static func allPartsPlain(_ text: String, separators: String = ":,;?|", shortWords: Bool = false, references: Bool = false) -> Bool {
        let parts = text.split(omittingEmptySubsequences: true) { separators.contains($0) }
        // A word with a year is the commonest password there is (`summer:2024`, `Dragon-1987`,
        // `secret:Summer_2024`: round 58): no list, time or reference is made of one.
        if !references, parts.contains(where: isWordWithYear) || parts.count == 2 && isWordWithYear(parts[0] + "-" + parts[1]) { return false }
        // A host and its port (`auth01:8443`, `db-2.internal:5432`).
        if !references, text.range(of: #"^[a-z][a-z-]*[0-9]{0,2}(?:\.[a-z0-9-]+)*:[0-9]{2,5}$"#, options: .regularExpression) != nil { return true }
        return parts.allSatisfy { part in
            var part = String(part)
            // A `#anchor` of letters is a reference's own mark (`see:wiki#rotation`); in a value,
            // `#` is a password's (`Summer#2024`, `Summer#Fun:2024`: round 58).
            if references { part = part.replacingOccurrences(of: #"#(?=\p{L}{3,}(?:[-._/ =]|$))"#, with: " ", options: .regularExpression) }
            // `key=value` in a list of options (`required,min=12,max=72`, `ns=prod,name=db`): a key
            // in small letters; `Dragon=Fire:1987` and `love=forever:2024` are passwords (round 58).
            if part.contains("=") {
                guard references || separators.contains("=") || text.contains(","),
                      part.range(of: #"^[a-z][a-z0-9_]*=[^=]+$"#, options: .regularExpression) != nil else { return false }
                part = part.replacingOccurrences(of: "=", with: " ")
            }
            let tokens = part.split { "-._/ ".contains($0) }
            return tokens.allSatisfy { isPlainToken($0, shortWords: shortWords) || references && isCamelWord($0) }
        }
    }

    /// A word of three letters or more and a year (19xx, 20xx), joined by `-`, `_` or `.`, either first.
    static func isWordWithYear(_ part: Substring) -> Bool { isWordWithYear(String(part)) }
    static func isWordWithYear(_ part: String) -> Bool {
        let tokens = part.split { "-_.".contains($0) }
        guard tokens.count == 2 else { return false }
        func isYear(_ t: Substring) -> Bool { t.count == 4 && t.allSatisfy(\.isNumber) && (t.hasPrefix("19") || t.hasPrefix("20")) }
        func isWord(_ t: Substring) -> Bool { t.count >= 3 && t.allSatisfy(\.isLetter) }
        return isWord(tokens[0]) && isYear(tokens[1]) || isYear(tokens[0]) && isWord(tokens[1])
    }

    /// Words joined in CamelCase (`GitHub`, `MyBank`): each capital letter opens a word of three
    /// letters or more; `ZqvLpmRt` is none.
    static func isCamelWord(_ token: Substring) -> Bool {
        guard token.allSatisfy(\.isLetter), token.first?.isUppercase == true else { return false }
        var run = 0
        for ch in token {
            if ch.isUppercase {
                if run > 0 && run < 3 { return false }
                run = 1
            } else { run += 1 }
        }
        return run >= 3
    }

    /// Units a number is written with in small letters (`120ms`, `1h30m`, `40bits`, `600k`).
    static let smallUnits: Set<String> = ["ms", "s", "m", "h", "d", "w", "y", "k", "kb", "mb", "gb", "tb", "px", "em", "rem", "pt", "bit", "bits", "byte", "bytes",
                                          "x", "fps", "hz", "min", "mins", "sec", "secs", "hr", "hrs", "mo", "wk", "ns", "us", "b"]

    static let units: Set<String> = ["KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "Hz", "kHz", "MHz", "GHz", "B", "K", "M", "G", "T", "MP", "V", "W", "kW", "mAh"]

    private static func isPlainToken(_ token: Substring, shortWords: Bool) -> Bool {
        guard !token.isEmpty, token.allSatisfy({ $0.isLetter || $0.isNumber }) else { return false }
        let letters = token.filter(\.isLetter), digits = token.filter(\.isNumber)
        if digits.isEmpty {
            guard shortWords || token.count >= 3 else { return false }
            let rest = token.dropFirst()
            return token.allSatisfy(\.isUppercase) || rest.allSatisfy(\.isLowercase) || token.first?.isLowercase == true
        }
        if letters.isEmpty || isSchemeName(String(token)) { return true }
        // A digest: hexadecimal, twelve characters or more (`da39a3ee5e6b…`; `cafe2024` is a word).
        if token.count >= 12, token.allSatisfy(\.isHexDigit), token == token.lowercased() { return true }
        // Groups of digits and letters in turn.
        var groups: [(letters: Bool, text: Substring)] = []
        var start = token.startIndex
        for i in token.indices.dropFirst() where token[i].isLetter != token[token.index(before: i)].isLetter {
            groups.append((token[start].isLetter, token[start..<i]))
            start = i
        }
        groups.append((token[start].isLetter, token[start...]))
        let letterGroups = groups.filter(\.letters).map(\.text)
        // A number with units (`1h30m`, `40bits`, `64MiB`): digits first, each letter group a unit
        // (`1qaz2wsx`, `9lives`, `3mar2024` are passwords: round 57).
        if groups.first?.letters == false, letterGroups.allSatisfy({ smallUnits.contains(String($0)) || units.contains(String($0)) }) { return true }
        // A version or a short name with a small number (`v2`, `ios17`, `p50`), or an acronym with
        // one (`WPA2`); `pass1234`, `root2024`, `moon42` are no such names.
        if groups.count == 2, groups[0].letters, !groups[1].letters {
            let name = groups[0].text, number = groups[1].text
            if name.allSatisfy(\.isUppercase) { return true }
            if name.allSatisfy(\.isLowercase), name.count <= 3, number.count <= 2 { return true }
        }
        return false
    }

    /// Names of schemes, algorithms, protocols and products a password is described with.
    static let schemeNames: Set<String> = ["base64", "base32", "base58", "hex", "sha", "sha1", "sha2", "sha3", "sha256", "sha384", "sha512", "md5", "aes", "gcm", "cbc", "ctr",
        "wpa", "wpa2", "wpa3", "wep", "psk", "sae", "eap", "2fa", "mfa", "tfa", "otp", "totp", "hotp", "oauth", "oauth2", "oidc", "saml", "sso", "ldap", "kerberos", "ntlm",
        "ntlmv2", "scram", "pbkdf", "pbkdf2", "bcrypt", "scrypt", "argon", "argon2", "argon2id", "argon2i", "argon2d", "hmac", "rsa", "dsa", "ecdsa", "ed25519", "x25519",
        "tls", "ssl", "ssh", "utf8", "utf", "ascii", "unicode", "fido", "fido2", "u2f", "webauthn", "passkey", "passkeys", "yubikey", "1password", "bitwarden", "keepass",
        "keepassxc", "lastpass", "dashlane", "nist", "kdf", "jwt", "pgp", "gpg", "pkcs", "pkcs12", "x509", "http", "https", "aes256", "aes128", "ssha", "md4", "des", "3des"]
    /// Schemes whose name takes a number (a key or digest size, a cost, a version: `AES256`,
    /// `bcrypt12`, `RSA4096`, `SHA-256`).
    static let numberedSchemes: Set<String> = ["aes", "sha", "rsa", "bcrypt", "wpa", "md", "pbkdf", "utf", "base", "argon", "scrypt", "pkcs", "ed", "x", "tls", "ssl", "fido", "des"]
    /// The numbers a short scheme name takes, and no others.
    static let onlySizes: [String: Set<String>] = ["x": ["509"], "ed": ["25519", "448"], "md": ["2", "4", "5", "6"], "des": ["3"]]
    /// Words that may stand between or after the parts of a scheme's name (`WPA3-Personal`,
    /// `2FA-and-SSO`), never first, never with digits.
    static let schemeJoiners: Set<String> = ["and", "or", "with", "plus", "personal", "enterprise", "only", "v2", "v3"]

    /// Whether `value` (split at `-`, `_`, `+`, `/`, `.`) is the name of a scheme: `WPA2-AES`,
    /// `PBKDF2-SHA256`, `Argon2id`, `2FA+passkeys`, `AES-256`, `bcrypt12`. A name with a year or
    /// a number it does not take is a password (`Argon2id2024`, `Bitwarden2024`, `Kerberos1987`:
    /// round 53).
    static func isSchemeName(_ value: String) -> Bool {
        let trimmed = value.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`,;:.!?*_()"))
        let parts = trimmed.lowercased().split { "-_+/.".contains($0) }.map(String.init)
        guard let first = parts.first else { return false }
        func isYear(_ digits: Substring) -> Bool { digits.count == 4 && (digits.hasPrefix("19") || digits.hasPrefix("20")) }
        func isSize(_ digits: Substring) -> Bool { !digits.isEmpty && !isYear(digits) && digits.count <= 4 }
        func scheme(_ part: String) -> Bool {
            if schemeNames.contains(part) { return true }
            let digits = part.reversed().prefix(while: \.isNumber)
            let stem = String(part.dropLast(digits.count))
            let number = String(digits.reversed())
            // A short name takes only its own numbers (`x509`, `ed25519`, `md5`): `X1234`, `Md5555`
            // and `Ed1234` are no scheme's (round 54).
            if let only = onlySizes[stem] { return only.contains(number) }
            return !digits.isEmpty && isSize(Substring(number)) && (numberedSchemes.contains(stem) || schemeNames.contains(stem) && numberedSchemes.contains(String(stem.prefix { !$0.isNumber })))
        }
        guard scheme(first) else { return false }
        return parts.dropFirst().allSatisfy { part in
            if part.allSatisfy(\.isNumber) { return isSize(Substring(part)) }
            return scheme(part) || schemeJoiners.contains(part)
        }
    }

    /// A description joined by hyphens, not a value: a scheme's name and a word of description
    /// (`Base64-encoded`, `2FA-protected`, `OAuth2-only`, `AES-256-encrypted`), or a number of
    /// something (`ten-characters-long`, `expire-after-90-days`); not a passphrase
    /// (`purple-monkey-proof`, `Summer2024-only`: round 51).
    static func isDescription(_ raw: String) -> Bool {
        let trimmed = raw.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`,;:.!?()"))
        let words = trimmed.split { $0 == "-" || $0 == "_" }
        guard words.count > 1, let first = words.first, let last = words.last else { return false }
        // The word of description first, as French, Spanish, Portuguese and Polish put it:
        // `chiffré-AES256`, `haché-Argon2id`; an English word first is a passphrase
        // (`Strong-AES256`, `Secured-Bcrypt12`: round 54).
        if descriptionFirst.contains(first.lowercased()) { return isSchemeName(words.dropFirst().joined(separator: "-")) }
        guard descriptionEnds.contains(last.lowercased()) else { return false }
        let stem = words.dropLast()
        // A reference to a rule (`§4-konform`, `§12-compliant`).
        if stem.count == 1, let only = stem.first, only.hasPrefix("§"), only.dropFirst().allSatisfy({ $0.isNumber || $0 == "." }) { return true }
        // A measure is written in small letters (`expire-after-90-days`); `Gone-in-60-Minutes` and
        // `Rover-14-years` are passphrases (round 53).
        if lengthEnds.contains(last.lowercased()), trimmed == trimmed.lowercased(),
           stem.contains(where: { part in part.allSatisfy(\.isNumber) || numberWords.contains(part.lowercased()) }) { return true }
        return isSchemeName(stem.joined(separator: "-"))
    }

    /// Words of description that may come before a scheme's name (the languages that put them first).
    static let descriptionFirst: Set<String> = ["chiffré", "chiffrée", "chiffre", "haché", "hachée", "encodé", "encodée", "protégé", "protégée", "cifrada", "cifrado",
        "criptografada", "criptografado", "codificado", "codificada", "protegido", "protegida", "hasheado", "hasheada", "zahashowane", "zahashowany", "szyfrowane",
        "zaszyfrowane", "kodowane", "chronione"]

    /// Words of length that follow a number in a description (`ten-characters-long`).
    static let lengthEnds: Set<String> = ["long", "length", "characters", "chars", "digits", "letters", "words", "minimum", "maximum", "min", "max", "days", "weeks", "months", "hours", "minutes", "years"]
    static let numberWords: Set<String> = ["six", "seven", "eight", "nine", "ten", "eleven", "twelve", "fourteen", "sixteen", "twenty", "thirty", "sixty", "hundred"]


    /// A keyboard shortcut (`Ctrl+Shift+P`, `Cmd+Option+I`), not a password.
    static func isKeyChord(_ value: String) -> Bool {
        let keys = value.split(separator: "+")
        let modifiers: Set<String> = ["ctrl", "control", "shift", "alt", "option", "opt", "cmd", "command", "meta", "super", "win", "fn", "mod"]
        return keys.count >= 2 && keys.dropLast().allSatisfy { modifiers.contains($0.lowercased()) }
    }

    /// Whether a value written after a password word looks like a password, not a word of the
    /// sentence: eight characters or more, letters with digits or marks (`tangerine-walrus-42`,
    /// `Zq8#vLp2!mRt`), or three words joined by `-` or `_` (`correct-horse-battery`).
    static func looksLikePassword(_ raw: String) -> Bool {
        let value = raw.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`,;:.!?()"))
        // A path or an address is no password (`PASSWORD_FILE: /run/…`).
        guard value.count >= 8, !isPlaceholder(value), !isReference(value), value.contains(where: \.isLetter), !value.contains("/") else { return false }
        if isDescription(value) || isKeyChord(value) { return false }
        // Parts that are all plain words, numbers, versions or hosts: a time, a list, a rule
        // (`08:00-18:00h`, `required,min=12,max=72`), in an assignment as in prose.
        // Judged with the marks it starts or ends with (`Summer;2024!`, `!Summer;2024` are no list:
        // round 58), but for the ones that close a clause or a quote.
        let marked = raw.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`,;:."))
        if marked.contains(where: { ":,;?|".contains($0) }), allPartsPlain(marked) { return false }
        let words = value.split { $0 == "-" || $0 == "_" }
        // A label of joined words naming a password (`Reset-Password-Link`), not one.
        if words.count >= 3, !value.contains(where: \.isNumber), words.contains(where: { isPasswordWord(String($0)) || $0.lowercased() == "passwort" }) { return false }
        if value.contains(where: { $0.isNumber || "!@#$%^*+=~".contains($0) }) { return true }
        return words.count >= 3 && words.allSatisfy { $0.count >= 3 && $0.allSatisfy(\.isLetter) }
    }

    static func looksRandom(_ raw: String) -> Bool {
        let value = raw.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`,;."))
        guard value.count >= 8, value.count <= 4096, !isPlaceholder(value), !isReference(value) else { return false }
        let parts = value.split { !($0.isLetter || $0.isNumber) }
        let mixedPart = parts.contains { part in part.contains(where: \.isLetter) && part.contains(where: \.isNumber) }
        if !mixedPart {
            // Letters only: random base64 without a digit still has case changes every other character;
            // CamelCaseIdentifiers and words do not.
            guard parts.count == 1, value.count >= 20, value.allSatisfy(\.isLetter) else { return false }
            var changes = 0
            var previousUpper: Bool?
            for ch in value {
                if let p = previousUpper, p != ch.isUppercase { changes += 1 }
                previousUpper = ch.isUppercase
            }
            guard changes * 4 >= value.count else { return false }
        }
        // A short value with a single digit is a word with a number (`version2`), not a key.
        if value.count < 16 && value.filter(\.isNumber).count < 2 { return false }
        return entropy(value) >= 3.0
    }

    /// Shannon entropy of the characters of `value`, in bits per character.
    static func entropy(_ value: String) -> Double {
        var counts: [Character: Int] = [:]
        for ch in value { counts[ch, default: 0] += 1 }
        let total = Double(value.count)
        return counts.values.reduce(0) { sum, n in
            let p = Double(n) / total
            return sum - p * log2(p)
        }
    }
}

import Foundation

/// How one finding of `doctor` came out.
public enum DoctorStatus: String, Sendable, Comparable {
    /// `ok`: nothing to do; `warn`: works, but worth a look; `fail`: something will not work.
    case ok, warn, fail

    /// Severity order: ok < warn < fail.
    var rank: Int {
        switch self {
        case .ok: return 0
        case .warn: return 1
        case .fail: return 2
        }
    }

    /// Orders statuses by severity.
    public static func < (lhs: DoctorStatus, rhs: DoctorStatus) -> Bool { lhs.rank < rhs.rank }
}

/// One line of the `doctor` report: which check, how it came out, what it found, how to fix it.
public struct DoctorFinding: Sendable, Equatable {
    /// The check's name (`vault`, `rules`, …).
    public let check: String
    /// How it came out.
    public let status: DoctorStatus
    /// One line: what was found.
    public let finding: String
    /// One line: what to do about it (`nil` when nothing needs doing).
    public let fix: String?

    /// Makes a finding; `fix` may be left out for `ok`.
    public init(check: String, status: DoctorStatus, finding: String, fix: String? = nil) {
        self.check = check
        self.status = status
        self.finding = finding
        self.fix = fix
    }

    /// The finding as a JSON object.
    public var json: JSON {
        .object([
            ("check", .string(check)),
            ("status", .string(status.rawValue)),
            ("finding", .string(finding)),
            ("fix", fix.map { .string($0) } ?? .null),
        ])
    }
}

/// What a check may look at: the vault, the environment, and the limits it must keep to.
public struct DoctorContext: Sendable {
    /// The vault under examination (it may not exist yet).
    public var vault: Vault
    /// The environment the OS runs agents with (`PATH` decides which CLIs are found).
    public var environment: [String: String]
    /// How long `X --version` may take before it counts as hanging, in seconds.
    public var commandTimeout: Double = 3
    /// The agent CLIs to look for on `PATH`.
    public var agentCommands: [String] = ["claude", "codex", "opencode", "hermes", "openclaw", "ollama", "llm", "qmd"]
    /// Where the Ollama server answers.
    public var ollamaEndpoint: String = DoctorContext.defaultOllamaEndpoint
    /// Where Ollama listens unless its agent note says otherwise.
    public static let defaultOllamaEndpoint = "http://localhost:11434"
    /// How long the Ollama server may take to answer, in seconds.
    public var ollamaTimeout: Double = 0.3
    /// The kernel's per-user inotify watch limit.
    public var inotifyWatchLimitPath = "/proc/sys/fs/inotify/max_user_watches"

    /// A context with the standard limits: 3 s per `--version`, 300 ms for Ollama.
    public init(vault: Vault, environment: [String: String]) {
        self.vault = vault
        self.environment = environment
    }
}

/// One check: a name and a function that returns its findings (at least one).
public struct DoctorCheck: Sendable {
    /// The name shown in the report and used in `--json`.
    public let name: String
    /// Looks and returns findings; it must not change anything.
    public let run: @Sendable (DoctorContext) -> [DoctorFinding]

    /// Makes a check from a name and a function.
    public init(name: String, run: @escaping @Sendable (DoctorContext) -> [DoctorFinding]) {
        self.name = name
        self.run = run
    }
}

/// The findings of a `doctor` run, in check order.
public struct DoctorReport: Sendable {
    /// The vault that was checked.
    public let vault: Vault
    /// Every finding, in check order.
    public let findings: [DoctorFinding]

    /// Whether any finding failed.
    public var hasFailures: Bool { findings.contains { $0.status == .fail } }
    /// The command's exit code: 0 when nothing failed, 1 otherwise.
    public var exitCode: Int32 { hasFailures ? 1 : 0 }

    /// How many findings had each status.
    public func count(_ status: DoctorStatus) -> Int { findings.filter { $0.status == status }.count }

    /// The whole report as JSON.
    public var json: JSON {
        .object([
            ("vault", .string(vault.root)),
            ("ok", .bool(!hasFailures)),
            ("summary", .object(DoctorStatus.allInOrder.map { ($0.rawValue, .int(count($0))) })),
            ("checks", .array(findings.map(\.json))),
        ])
    }
}

extension DoctorStatus {
    /// The statuses from best to worst, for summaries.
    static let allInOrder: [DoctorStatus] = [.ok, .warn, .fail]
}

/// `doctor`: a list of checks, each a plain value, so later features add theirs to `standardChecks`.
public enum Doctor {
    /// The checks `fuckbigtech doctor` runs, in order.
    public static let standardChecks: [DoctorCheck] = [
        DoctorCheck(name: "vault", run: VaultChecks.layout),
        DoctorCheck(name: "state", run: VaultChecks.stateFolder),
        DoctorCheck(name: "rules", run: RuleNoteChecks.run),
        DoctorCheck(name: "index", run: VaultChecks.index),
        DoctorCheck(name: "watcher", run: VaultChecks.watcher),
        DoctorCheck(name: "inotify", run: SystemChecks.inotify),
        DoctorCheck(name: "agent-cli", run: SystemChecks.agentCommands),
        DoctorCheck(name: "ollama", run: SystemChecks.ollamaServer),
        DoctorCheck(name: "lanes", run: LaneChecks.run),
        DoctorCheck(name: "harness", run: HarnessChecks.run),
        DoctorCheck(name: "disk", run: SystemChecks.freeDisk),
    ]

    /// Runs `checks` in order. A check that returns nothing gets an `ok` line, so every check shows.
    public static func run(_ context: DoctorContext, checks: [DoctorCheck] = standardChecks) -> DoctorReport {
        var findings: [DoctorFinding] = []
        for check in checks {
            let found = check.run(context)
            findings += found.isEmpty ? [DoctorFinding(check: check.name, status: .ok, finding: "nothing to report")] : found
        }
        return DoctorReport(vault: context.vault, findings: findings)
    }
}

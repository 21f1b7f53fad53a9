import Foundation

/// A note in `Rules/` that could not be used, and why. The note is skipped; nothing else stops.
public struct RuleProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The vault-relative path of the note.
    public let path: String
    /// What is wrong, in one line, saying what to fix.
    public let message: String

    /// A problem with the note at `path`.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, one line.
    public var description: String { "\(path): \(message)" }
}

/// A routing rule note (`type: rule`): conditions that pick a task, and the lane/agent/model it goes to.
public struct RoutingRule: Sendable, Equatable {
    /// The note's vault-relative path (or `built-in:NAME` for a built-in rule).
    public let path: String
    /// The note's name (file name without `.md`), used in reasons.
    public let name: String
    /// Lower is checked first.
    public let priority: Double
    /// What must hold for the rule to match (every condition given; any value within a list).
    public let conditions: RuleConditions
    /// Outcome: the lane (`nil`: the agent's lane).
    public let lane: Lane?
    /// Outcome: the agent by name (`nil`: the lane's default agent).
    public let agent: String?
    /// Outcome: the model (`nil`: the agent's default model).
    public let model: String?
    /// The lane to use when the chosen lane is over budget (`nil`: the task goes to review).
    public let fallback: Lane?
    /// Effects this rule allows without a person's approval.
    public let allowEffects: [String]
    /// Effects a matching task is assumed to have even if it does not declare them (`effects` on the rule).
    public let impliedEffects: [String]
    /// The agents to try next when the chosen one hits a limit (`failover: [codex, ollama]`); wins
    /// over the agent note's and the guardrails' chain.
    public var failover: [String] = []
    /// The first line of the rule's body: why the rule exists.
    public let why: String

    /// Whether the path names a built-in rule rather than a note.
    public var isBuiltIn: Bool { path.hasPrefix("built-in:") }

    /// How a person refers to this rule in a reason: `rule "Routine" (Rules/Routing/Routine.md)`.
    public var label: String { isBuiltIn ? "built-in rule \"\(name)\"" : "rule \"\(name)\" (\(path))" }
}

/// The conditions of a rule. Absent conditions match anything; a rule without conditions matches every task.
public struct RuleConditions: Sendable, Equatable {
    /// `when_type`: note types (lower-cased).
    public var types: [String] = []
    /// `when_tags`: tags without `#` (nested tags match their parents).
    public var tags: [String] = []
    /// `when_folder`: folders the task's path must be under.
    public var folders: [String] = []
    /// `when_keywords`: whole words or phrases, lower-cased; a trailing `*` matches word beginnings.
    public var keywords: [String] = []
    /// `private` or `public`.
    public var privacy: String?
    /// `when_effects`: declared effects, any of which matches.
    public var effects: [String] = []
    /// `when_max_chars`: the most characters the prompt may have.
    public var maxChars: Int?
    /// `when_min_chars`: the fewest characters the prompt may have.
    public var minChars: Int?

    /// The condition keys a rule note may use; any other `when_*` key is a mistake and skips the rule.
    public static let keys = ["when_type", "when_tags", "when_folder", "when_keywords", "when_privacy", "when_effects", "when_max_chars", "when_min_chars"]
}

/// What to do with a secret found in a prompt bound for a non-local lane.
public enum SecretAction: String, Sendable, Equatable {
    /// Refuse to send the prompt (the default).
    case block
    /// Replace each secret with `[REDACTED:kind]` and send the rest.
    case redact
}

/// The guardrails note (`type: guardrails`, conventionally `Rules/Guardrails.md`). Every key is
/// optional; a missing or malformed key keeps its built-in value.
///
/// A key the note leaves out takes the shipped `rules/Guardrails.md` value; a vault with no guardrails
/// note gets that note whole (`Guardrails.shipped`), so the caps are the ones the docs name.
public struct Guardrails: Sendable, Equatable {
    /// The note's path, or `nil` for the built-in settings.
    public var path: String?
    /// Most a single task may spend, over all its runs.
    public var budgetTaskUSD: Double = 2
    /// The most handoffs one task may have (its `handoffs` list): a handoff past it is written
    /// `blocked`, so agents handing a task to each other (or one to itself) cannot loop for ever.
    public var maxHandoffs = 20
    /// The most tasks and handoffs agents' runs may make for one task and what was made from it
    /// (`SpawnLimit`): past it, `task new`, `handoff` and their MCP tools are refused inside a run.
    /// `max_handoffs` bounds how deep such work goes; this bounds how wide (a run that makes three
    /// tasks, each of whose runs makes three…).
    public var maxSpawnedTasks = 50
    /// Most all runs together may spend per calendar day.
    public var budgetDayUSD: Double = 5
    /// Most all runs together may spend per calendar month.
    public var budgetMonthUSD: Double = 50
    /// Per-lane daily caps (`budget_premium_day_usd`).
    public var laneDayUSD: [Lane: Double] = [.premium: 5]
    /// Per-lane monthly caps (`budget_premium_month_usd`).
    public var laneMonthUSD: [Lane: Double] = [.premium: 50]
    /// Tags that make a note private. `private` is always one of them.
    public var privateTags: [String] = ["private"]
    /// The shipped note's `private_tags`: what a guardrails note that does not say `private_tags` has.
    static let shippedPrivateTags = ["private", "secret", "personal"]
    /// Folders whose notes are private. `Private` is always one of them.
    public var privateFolders: [String] = [Vault.Layout.privateFolder]
    /// Extra regular expressions that count as secrets.
    public var secretPatterns: [String] = []
    /// Block or redact a prompt with a secret in it.
    public var secretAction: SecretAction = .block
    /// Effects that need a rule's `allow_effects` or a person's approval.
    public var reviewEffects: [String] = SideEffect.all.filter { $0 != SideEffect.read }
    /// The lane for tasks no rule matches.
    public var defaultLane: Lane = .local
    /// The agent for the default lane (else the lane's cheapest agent).
    public var defaultAgent: String?
    /// The agent each lane uses when a rule names only the lane (`premium_agent: claude`).
    public var laneAgents: [Lane: String] = [:]
    /// The default failover chain per lane (`failover_premium: [codex, opencode]`), used when
    /// neither the rule nor the agent note names one.
    public var failoverChains: [Lane: [String]] = [.premium: ["codex", "opencode"]]
    /// Budget keys that do not parse (`budget_day_usd: 0,10`), one line each naming the key and the
    /// note. While any is listed every paid run is blocked with it: a cap is never silently replaced.
    public var capErrors: [String] = []
    /// Why the person's privacy settings cannot be read, one line each: a guardrails note that does
    /// not parse, or a `Guardrails.md` that is empty or says no `type: guardrails` (as it is for a
    /// moment in every in-place save). While any is listed, every note counts as private
    /// (`Privacy`): falling back to the built-in tags and folders would make public the notes the
    /// person's own `private_tags` and `private_folders` keep private (an outside attack).
    public var privacyErrors: [String] = []

    /// Records that the person's settings cannot be read: every note counts as private and every
    /// paid run is blocked, with `line` as the reason.
    mutating func failClosed(_ line: String) {
        if !privacyErrors.contains(line) { privacyErrors.append(line) }
        if !capErrors.contains(line) { capErrors.append(line) }
    }
    /// Folders under which a task's `project:` working directory may lie (`project_roots: [~/code]`);
    /// none by default, so agents run in a fresh per-run folder.
    public var projectRoots: [String] = []
    /// Folders whose notes a context packet never retrieves from memory (`memory_exclude`): the OS's
    /// own notes. A task still gets the notes it links or lists in `context`, and its chain. A note
    /// that sets the key replaces the list (so `Results` can be taken out to recall earlier answers).
    public var memoryExclude: [String] = Guardrails.osFolders
    /// The optional second memory engine: `qmd: search` (BM25), `query` (hybrid with re-ranking) or
    /// `vsearch` asks the `qmd` CLI on PATH too and merges its hits with ours (`QMDEngine`); `nil` (the
    /// default, or `qmd: off`) asks only our index.
    public var qmdMode: String?
    /// The qmd collection to search (`qmd_collection`, qmd's `-c`); `nil` searches all of them.
    public var qmdCollection: String?

    /// The folders the OS writes its own notes to: tasks, their results and handoffs, telemetry, the
    /// daily logs (public and private), conflict copies, rules and templates.
    public static let osFolders: [String] = [
        Vault.Layout.tasks, Vault.Layout.results, Vault.Layout.telemetry, Vault.Layout.daily, Vault.Layout.handoffs,
        Vault.Layout.memory + "/Conflicts", Vault.Layout.rules, Vault.Layout.templates, Vault.Layout.skills,
        Vault.Layout.privateFolder + "/" + Vault.Layout.telemetry, Vault.Layout.privateFolder + "/" + Vault.Layout.daily,
    ]

    /// The built-in settings (every key the shipped note sets, at its shipped value, except the lists
    /// a note can only add to).
    public init() {}

    /// The shipped `rules/Guardrails.md`, parsed: what a vault without a guardrails note runs with.
    public static let shipped: Guardrails = {
        guard let file = VaultTemplate.files.first(where: { $0.path == Vault.Layout.rules + "/Guardrails.md" }),
              let note = try? Note.parse(file.contents) else { return Guardrails() }
        var parsed = RuleBook.parseGuardrails(note, path: file.path).0
        parsed.path = nil
        return parsed
    }()

    /// The budget caps these settings define.
    public var caps: BudgetCaps {
        BudgetCaps(taskUSD: budgetTaskUSD, dayUSD: budgetDayUSD, monthUSD: budgetMonthUSD, laneDayUSD: laneDayUSD, laneMonthUSD: laneMonthUSD)
    }
}

/// Everything routing reads from `Rules/`: rules, agents, guardrails, and the notes that were malformed.
public struct RuleBook: Sendable {
    /// Usable rules, in the order they are checked (priority, then path).
    public var rules: [RoutingRule]
    /// Usable agents, by path order: the one catalogue both routing and running read.
    public var agents: [AgentDefinition]
    /// The guardrail settings (built-in values where the note says nothing).
    public var guardrails: Guardrails
    /// Notes that were skipped (or keys that were ignored), with what to fix.
    public var problems: [RuleProblem]
    /// Which parts came from the built-in defaults because `Rules/` had no notes of that kind:
    /// any of "rules", "agents", "guardrails".
    public var builtInParts: [String]
    /// Whether the vault has no `Rules/` folder at all (everything is built in).
    public var hasNoRulesFolder: Bool
    /// The machine notes (`Rules/Machines/`): which machine serves which lanes and agents.
    public var machines: [MachineNote] = []
    /// `Rules/Sync.md` (`type: sync`): how machines sharing the vault claim tasks (`nil`: no shared claims).
    public var sync: SyncSettings?
    /// The notes read as guardrails notes (`type: guardrails`), in path order.
    public var guardrailsNotes: [String] = []

    /// A rule book from parts (rules are sorted by priority, then path).
    public init(rules: [RoutingRule], agents: [AgentDefinition], guardrails: Guardrails, problems: [RuleProblem] = [], builtInParts: [String] = [], hasNoRulesFolder: Bool = false) {
        self.rules = rules.sorted { ($0.priority, $0.path) < ($1.priority, $1.path) }
        self.agents = agents
        self.guardrails = guardrails
        self.problems = problems
        self.builtInParts = builtInParts
        self.hasNoRulesFolder = hasNoRulesFolder
    }

    /// The agent with this name (case-insensitive).
    public func agent(named name: String) -> AgentDefinition? {
        let wanted = name.lowercased()
        return agents.first { $0.name.lowercased() == wanted }
    }

    /// The agent a lane uses when nothing names one: the guardrails' choice for the lane, else the
    /// lane's cheapest agent (so an unnamed choice never drifts to the expensive one).
    public func defaultAgent(for lane: Lane) -> AgentDefinition? {
        if let named = guardrails.laneAgents[lane], let agent = agent(named: named), agent.lane == lane { return agent }
        if lane == guardrails.defaultLane, let named = guardrails.defaultAgent, let agent = agent(named: named), agent.lane == lane { return agent }
        return agents.filter { $0.lane == lane }.min { a, b in
            let ca = a.maxCostUSD ?? (a.priceOutPerMillionTokens ?? 0)
            let cb = b.maxCostUSD ?? (b.priceOutPerMillionTokens ?? 0)
            return (ca, a.name) < (cb, b.name)
        }
    }

    // MARK: Built-in defaults

    /// The built-in rules, agents and guardrails, used when `Rules/` is missing: routine work and
    /// anything unmatched stays local, risky work waits for a person, nothing defaults to premium.
    public static var defaults: RuleBook {
        RuleBook(rules: builtInRules, agents: AgentDefinition.builtIn, guardrails: .shipped, builtInParts: ["rules", "agents", "guardrails"], hasNoRulesFolder: true)
    }

    /// Rules used when `Rules/` has no rule notes.
    static let builtInRules: [RoutingRule] = [
        RoutingRule(
            path: "built-in:risky-work-needs-a-person", name: "risky work needs a person", priority: 10,
            conditions: RuleConditions(keywords: ["deploy", "deploys", "deployment", "release to production", "payment", "payments", "pay", "invoice", "delete", "deletes", "remove permanently", "drop table", "wire transfer"]),
            lane: .human, agent: nil, model: nil, fallback: nil, allowEffects: [], impliedEffects: [],
            why: "Deploys, payments and deletions wait for a person."),
        RoutingRule(
            path: "built-in:routine-work-stays-local", name: "routine work stays local", priority: 20,
            conditions: RuleConditions(keywords: ["summarize", "summarise", "summary", "extract", "classify", "rename", "translate", "format", "log", "logs", "tag", "list"]),
            lane: .local, agent: nil, model: nil, fallback: nil, allowEffects: [], impliedEffects: [],
            why: "Routine text work is done well and free by a local model."),
    ]

    // MARK: Loading

    /// Loads every rule, agent and guardrails note under the vault's `Rules/` folder (recursively).
    ///
    /// Never fails: an unreadable or malformed note becomes a `RuleProblem` and is skipped; a vault
    /// without `Rules/` gets `RuleBook.defaults`; a kind of note that is missing gets its built-in part.
    public static func load(vault: Vault) -> RuleBook {
        let folder = vault.root + "/" + Vault.Layout.rules
        var book: RuleBook
        var notes: [(path: String, text: String)] = []
        var unreadable = Set<String>()
        if let status = try? FileSystem.status(folder), status.kind == .directory {
            var problems: [RuleProblem] = []
            collectNotes(in: folder, relative: Vault.Layout.rules, into: &notes, problems: &problems, depth: 0)
            book = parse(notes: notes)
            book.problems = problems + book.problems
            // A guardrails note there that cannot be read (a symlink, a folder, too large): its
            // settings are unknown, not the built-in ones.
            for problem in problems where name(of: problem.path).lowercased() == "guardrails" {
                book.guardrails.failClosed("\(problem.path): the guardrails note cannot be read (\(problem.message))")
            }
            unreadable = Set(problems.map(\.path))
        } else {
            book = defaults
        }
        return rememberingGuardrails(book, vault: vault, notes: notes, unreadable: unreadable)
    }

    /// Every guardrails note the vault has had (`.agentos/guardrails-seen`, a path a line) is still
    /// one: a second note's private tags and folders count as the first's do (`parse`), and while it
    /// is emptied by an in-place save, renamed away by vim's or unlinked by git's, they are not there
    /// — then privacy fails closed, as for the first note (an outside attack read the notes its tags
    /// keep private in that moment). A recorded note is forgotten when a person has plainly made it
    /// something else: its properties read, with another `type`; or it has been gone while its folder
    /// has not changed for `guardrailsGoneSeconds`. Newly read guardrails notes are recorded.
    ///
    /// A vault that has had a guardrails note and now has none it can read — renamed away for a
    /// moment by vim's save, unlinked and made again by git, `Rules/` turned into a symlink — keeps
    /// its privacy closed rather than fall back to the built-in tags and folders. To run with the
    /// built-in guardrails, write a guardrails note that sets nothing.
    static func rememberingGuardrails(_ book: RuleBook, vault: Vault, notes: [(path: String, text: String)], unreadable: Set<String>,
                                      now: Int64 = FileSystem.realtimeNanoseconds()) -> RuleBook {
        var book = book
        let seen = vault.stateDirectory + "/" + guardrailsSeenFile
        if book.guardrailsNotes.isEmpty {
            if (try? FileSystem.status(seen)) ?? nil != nil {
                let message = "no guardrails note it can read, though this vault had one; every note counts as private and paid runs are blocked until it is back (a guardrails note that sets nothing runs with the built-in settings)"
                book.problems.append(RuleProblem(path: Vault.Layout.rules, message: message))
                book.guardrails.failClosed(Vault.Layout.rules + "/: " + message)
            }
            return book
        }
        guard (try? FileSystem.status(vault.stateDirectory))??.kind == .directory else { return book }
        let recorded = ((try? FileSystem.read(seen, limit: 1 << 20).bytes).map { String(decoding: $0, as: UTF8.self) } ?? "")
            .split(separator: "\n").map { $0.trimmingWhitespaces() }.filter { !$0.isEmpty }
        var kept = book.guardrailsNotes
        for path in recorded where !kept.contains(path) {
            let why: String?
            if let text = notes.first(where: { $0.path == path })?.text {
                // Read, and not as a guardrails note. Properties that parse with another type were
                // written so; an empty note, one without properties or type, or one whose properties
                // do not parse is what a save in progress leaves.
                let type = (try? Note.parse(text))?.text("type")?.lowercased()
                why = type == nil || type == "guardrails" ? "was a guardrails note and cannot be read as one now" : nil
            } else if unreadable.contains(path) || unreadable.contains(where: { path.hasPrefix($0 + "/") }) {
                why = "was a guardrails note and cannot be read now"
            } else {
                // Gone: for a moment (a save renames or unlinks it, and its folder changes), or for good.
                var folder = LinkResolver.folder(of: path)
                var status = (try? FileSystem.status(vault.root + "/" + folder)) ?? nil
                while status == nil, !folder.isEmpty {
                    folder = LinkResolver.folder(of: folder)
                    status = (try? FileSystem.status(vault.root + (folder.isEmpty ? "" : "/" + folder))) ?? nil
                }
                let changedAgo = now &- (status?.ctimeNanoseconds ?? 0)
                why = changedAgo < guardrailsGoneSeconds * 1_000_000_000 ? "was a guardrails note and is gone (for a moment, as a save renames or unlinks a note)" : nil
            }
            guard let why else { continue }
            kept.append(path)
            let message = "\(why); every note counts as private and paid runs are blocked until it is back (a note removed on purpose is forgotten \(guardrailsGoneSeconds) s after, one made into another kind of note once its type says so)"
            book.problems.append(RuleProblem(path: path, message: message))
            book.guardrails.failClosed("\(path): " + message)
        }
        if kept.sorted() != recorded.sorted() {
            try? FileSystem.replaceDurably(seen, bytes: Array((kept.sorted().joined(separator: "\n") + "\n").utf8))
        }
        return book
    }

    /// How long a guardrails note the vault had may be gone, its folder unchanged, before it counts
    /// as removed on purpose (`rememberingGuardrails(_:vault:notes:unreadable:now:)`).
    static let guardrailsGoneSeconds: Int64 = 5

    /// Whether `path`, its symlinks followed, is a folder.
    private static func isFolder(following path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The file under `.agentos/` that says the vault has had a guardrails note.
    static let guardrailsSeenFile = "guardrails-seen"

    private static func collectNotes(in absolute: String, relative: String, into notes: inout [(path: String, text: String)], problems: inout [RuleProblem], depth: Int) {
        // A depth limit guards against pathological trees; symlinks are never followed anyway.
        guard depth < 32 else { return }
        let entries: [(name: String, kind: FileStatus.Kind?)]
        do { entries = try FileSystem.list(absolute) } catch {
            problems.append(RuleProblem(path: relative, message: "cannot list this folder (\(error.description))"))
            return
        }
        for entry in entries.sorted(by: { $0.name < $1.name }) where !entry.name.hasPrefix(".") {
            let childAbsolute = absolute + "/" + entry.name
            let childRelative = relative + "/" + entry.name
            let kind = entry.kind ?? (try? FileSystem.status(childAbsolute))??.kind
            switch kind {
            case .symlink where entry.name.lowercased().hasSuffix(".md") || isFolder(following: childAbsolute), .directory where entry.name.lowercased() == "guardrails.md":
                // Never followed, never read: said so, so that a guardrails note of this shape (or one
                // in a symlinked folder) is not taken as none.
                problems.append(RuleProblem(path: childRelative, message: kind == .symlink ? "is a symlink, which is never followed" : "is a folder, not a note"))
            case .directory:
                collectNotes(in: childAbsolute, relative: childRelative, into: &notes, problems: &problems, depth: depth + 1)
            case .file where entry.name.lowercased().hasSuffix(".md"):
                do {
                    // Rule notes are small; a huge file here is a mistake, not a rule.
                    let (bytes, _) = try FileSystem.read(childAbsolute, limit: 1 << 20)
                    notes.append((childRelative, String(decoding: bytes, as: UTF8.self)))
                } catch {
                    problems.append(RuleProblem(path: childRelative, message: "cannot read this note (\(error.description))"))
                }
            default:
                continue
            }
        }
    }

    /// Builds a rule book from note texts (vault-relative path and content), as `load` does after reading.
    public static func parse(notes: [(path: String, text: String)]) -> RuleBook {
        var rules: [RoutingRule] = []
        var agents: [AgentDefinition] = []
        var guardrails: Guardrails?
        var problems: [RuleProblem] = []
        var sawRuleNote = false
        var sawAgentNote = false
        var brokenGuardrails: [String] = []
        var unreadablePrivacy: [String] = []
        var machines: [MachineNote] = []
        var sync: SyncSettings?
        var guardrailsNotes: [String] = []

        // `Rules/Guardrails.md` first and sync tools' conflicting copies last, else in path order:
        // the first guardrails note sets the caps, and a copy (`Guardrails (conflicted copy).md`
        // sorts before `Guardrails.md`) or a note in a subfolder must not take them over.
        func rank(_ path: String) -> Int { path == Vault.Layout.rules + "/Guardrails.md" ? 0 : SyncConflict.isCopy(path) ? 2 : 1 }
        let notes = notes.enumerated().sorted { (rank($0.element.path), $0.offset) < (rank($1.element.path), $1.offset) }.map(\.element)
        for (path, text) in notes {
            let note: Note
            do { note = try Note.parse(text) } catch {
                problems.append(RuleProblem(path: path, message: "bad frontmatter at line \(error.line): \(error.message); the note is skipped"))
                if looksLikeGuardrails(path: path, text: text) {
                    // Its caps cannot be read: paid runs stop rather than run under the built-in caps.
                    brokenGuardrails.append("\(path): the guardrails note does not parse (bad frontmatter at line \(error.line)), so its budget caps cannot be read; paid runs are blocked until it is fixed")
                    // Nor its private tags and folders: every note counts as private meanwhile.
                    unreadablePrivacy.append("\(path): the guardrails note does not parse (bad frontmatter at line \(error.line)), so its private tags and folders cannot be read; every note counts as private until it is fixed")
                }
                continue
            }
            // A note named like the guardrails note that is not one: empty (an in-place save is, for a
            // moment) or without `type: guardrails`. Its settings are not the built-in ones either.
            if name(of: path).lowercased() == "guardrails", note.text("type")?.lowercased() != "guardrails" {
                let what = text.trimmingWhitespacesAndNewlines().isEmpty ? "is empty" : "says no type: guardrails"
                brokenGuardrails.append("\(path): the guardrails note \(what), so its budget caps cannot be read; paid runs are blocked until it is fixed")
                unreadablePrivacy.append("\(path): the guardrails note \(what), so its private tags and folders cannot be read; every note counts as private until it is fixed")
                problems.append(RuleProblem(path: path, message: "named like the guardrails note but \(what); every note counts as private and paid runs are blocked until it is fixed"))
                continue
            }
            if MachineNote.isMachineNote(note, path: path) {
                switch MachineNote.parse(note, path: path) {
                case .success(let machine):
                    if let existing = Machine.note(for: machine.name, in: machines) {
                        problems.append(RuleProblem(path: path, message: "machine '\(machine.name)' is already described in \(existing.path); this note is skipped"))
                    } else {
                        machines.append(machine)
                    }
                case .failure(let problem): problems.append(problem)
                }
                continue
            }
            switch note.text("type")?.lowercased() {
            case "rule":
                sawRuleNote = true
                // A sync tool's conflicting copy is another machine's older version: routing by it
                // too (a rule deleted or changed here living on in its copy) is not what was meant.
                if SyncConflict.isCopy(path) {
                    problems.append(RuleProblem(path: path, message: "a sync tool's conflicting copy of a rule; it is not used — keep the version you want and delete the other"))
                    continue
                }
                switch parseRule(note, path: path) {
                case .success(let rule): rules.append(rule)
                case .failure(let problem): problems.append(problem)
                }
            case "agent":
                sawAgentNote = true
                switch parseAgent(note, path: path) {
                case .success(let agent):
                    if let existing = agents.first(where: { $0.name.lowercased() == agent.name.lowercased() }) {
                        problems.append(RuleProblem(path: path, message: "agent '\(agent.name)' is already defined in \(existing.path); this note is skipped"))
                    } else {
                        agents.append(agent)
                    }
                case .failure(let problem): problems.append(problem)
                }
            case "sync":
                switch SyncSettings.parse(note, path: path) {
                case .success(let settings):
                    if sync != nil {
                        problems.append(RuleProblem(path: path, message: "a second sync note; only the first is used"))
                    } else {
                        sync = settings
                    }
                case .failure(let problem): problems.append(problem)
                }
            case "guardrails":
                guardrailsNotes.append(path)
                if var existing = guardrails {
                    // Its privacy settings count too: a copy ("Make a copy" in Obsidian) sorting first
                    // must not drop the private tags and folders of the note the person keeps.
                    let (other, otherIssues) = parseGuardrails(note, path: path)
                    for tag in other.privateTags where !existing.privateTags.contains(tag) { existing.privateTags.append(tag) }
                    for folder in other.privateFolders where !existing.privateFolders.contains(where: { $0.lowercased() == folder.lowercased() }) { existing.privateFolders.append(folder) }
                    existing.secretPatterns += other.secretPatterns.filter { !existing.secretPatterns.contains($0) }
                    existing.privacyErrors += other.privacyErrors.filter { !existing.privacyErrors.contains($0) }
                    existing.capErrors += other.privacyErrors.filter { !existing.capErrors.contains($0) }
                    problems += otherIssues
                    guardrails = existing
                    problems.append(RuleProblem(path: path, message: "a second guardrails note; only \(existing.path ?? "the first") is used, with the private tags, private folders and secret patterns of both"))
                } else {
                    let (parsed, issues) = parseGuardrails(note, path: path)
                    guardrails = parsed
                    problems += issues
                }
            default:
                continue
            }
        }

        var builtIn: [String] = []
        if !sawRuleNote { rules = builtInRules; builtIn.append("rules") }
        if !sawAgentNote { agents = AgentDefinition.builtIn; builtIn.append("agents") }
        if guardrails == nil { builtIn.append("guardrails") }
        var finalGuardrails = guardrails ?? .shipped
        finalGuardrails.capErrors += brokenGuardrails
        finalGuardrails.privacyErrors += unreadablePrivacy

        // A rule naming an agent nobody defined cannot route; report it rather than fail tasks later.
        var usable: [RoutingRule] = []
        for rule in rules {
            if let name = rule.agent {
                guard let agent = agents.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                    problems.append(RuleProblem(path: rule.path, message: "names agent '\(name)', but no agent note defines it; the rule is skipped"))
                    continue
                }
                if let lane = rule.lane, lane != .human, lane != agent.lane {
                    problems.append(RuleProblem(path: rule.path, message: "says lane \(lane) but agent '\(agent.name)' is in lane \(agent.lane); the rule is skipped"))
                    continue
                }
            }
            usable.append(rule)
        }
        for (lane, name) in finalGuardrails.laneAgents where !agents.contains(where: { $0.name.lowercased() == name.lowercased() && $0.lane == lane }) {
            problems.append(RuleProblem(path: finalGuardrails.path ?? "Rules", message: "\(lane)_agent '\(name)' is not an agent of the \(lane) lane; the lane's cheapest agent is used"))
        }
        if let name = finalGuardrails.defaultAgent, !agents.contains(where: { $0.name.lowercased() == name.lowercased() && $0.lane == finalGuardrails.defaultLane }) {
            problems.append(RuleProblem(path: finalGuardrails.path ?? "Rules", message: "default_agent '\(name)' is not an agent of the default lane (\(finalGuardrails.defaultLane)); the lane's cheapest agent is used"))
        }
        var book = RuleBook(rules: usable, agents: agents, guardrails: finalGuardrails, problems: problems, builtInParts: builtIn, hasNoRulesFolder: false)
        book.machines = machines
        book.sync = sync
        book.guardrailsNotes = guardrailsNotes
        return book
    }

    /// Whether a note whose frontmatter does not parse was meant as the guardrails note: it says
    /// `type: guardrails` on a line of its own, or is named `Guardrails.md`.
    static func looksLikeGuardrails(path: String, text: String) -> Bool {
        if name(of: path).lowercased() == "guardrails" { return true }
        return text.split(whereSeparator: \.isNewline).prefix(200).contains { line in
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingWhitespaces().lowercased() }
            return parts.count == 2 && parts[0] == "type" && parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) == "guardrails"
        }
    }

    /// A note's name: its file name without `.md`.
    static func name(of path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        if name.lowercased().hasSuffix(".md") { name.removeLast(3) }
        return name
    }

    /// A rule from its note, or the one-line problem that skips it.
    static func parseRule(_ note: Note, path: String) -> Result<RoutingRule, RuleProblem> {
        func fail(_ message: String) -> Result<RoutingRule, RuleProblem> {
            .failure(RuleProblem(path: path, message: message + "; the rule is skipped"))
        }
        if let enabled = note["enabled"]?.bool, !enabled { return fail("enabled: false") }
        for property in note.properties where property.key.hasPrefix("when_") && !RuleConditions.keys.contains(property.key) {
            // A misspelt condition would silently widen the rule to every task: refuse it instead.
            return fail("unknown condition '\(property.key)' (known: \(RuleConditions.keys.joined(separator: ", ")))")
        }
        var priority = 100.0
        if let value = note["priority"], value != .null {
            guard let number = value.number else { return fail("priority must be a number, got '\(value.text ?? "a list")'") }
            priority = number
        }
        var conditions = RuleConditions()
        conditions.types = note.texts("when_type").map { $0.lowercased() }
        conditions.tags = note.texts("when_tags").map(TaskFacts.normalizeTag)
        conditions.folders = note.texts("when_folder").map(TaskFacts.normalizeFolder)
        conditions.keywords = note.texts("when_keywords").map { $0.lowercased().trimmingWhitespaces() }.filter { !$0.isEmpty }
        conditions.effects = note.texts("when_effects").map { $0.lowercased() }
        if let privacy = note.text("when_privacy") {
            let lowered = privacy.lowercased()
            guard lowered == "private" || lowered == "public" else { return fail("when_privacy must be private or public, got '\(privacy)'") }
            conditions.privacy = lowered
        }
        for (key, slot) in [("when_max_chars", \RuleConditions.maxChars), ("when_min_chars", \RuleConditions.minChars)] {
            if let value = note[key], value != .null {
                guard let number = value.wholeNumber, number >= 0 else { return fail("\(key) must be a whole number from 0 to 1000000000, got '\(value.text ?? "a list")'") }
                conditions[keyPath: slot] = number
            }
        }
        var lane: Lane?
        if let text = note.text("lane") {
            guard let parsed = Lane(note: text) else { return fail("lane '\(text)' is not one of \(Lane.spelledOut)") }
            lane = parsed
        }
        var fallback: Lane?
        if let text = note.text("fallback") {
            guard let parsed = Lane(note: text) else { return fail("fallback '\(text)' is not one of \(Lane.spelledOut)") }
            fallback = parsed
        }
        let agent = note.text("agent")
        if lane == nil && agent == nil { return fail("names neither a lane nor an agent, so it decides nothing") }
        let why = note.body.split(separator: "\n").map { $0.trimmingWhitespaces() }.first { !$0.isEmpty && !$0.hasPrefix("#") } ?? ""
        var rule = RoutingRule(
            path: path, name: note.text("title") ?? name(of: path), priority: priority, conditions: conditions,
            lane: lane, agent: agent, model: note.text("model"), fallback: fallback,
            allowEffects: note.texts("allow_effects").map { $0.lowercased() },
            impliedEffects: note.texts("effects").map { $0.lowercased() },
            why: why)
        rule.failover = note.texts("failover").map { $0.trimmingWhitespaces() }.filter { !$0.isEmpty }
        return .success(rule)
    }

    /// An agent note's definition (the same parse the runner uses), or the one-line problem that skips it.
    static func parseAgent(_ note: Note, path: String) -> Result<AgentDefinition, RuleProblem> {
        do {
            return .success(try AgentDefinition.parse(note, path: path))
        } catch {
            return .failure(RuleProblem(path: path, message: error.message + "; the agent is skipped"))
        }
    }

    /// The guardrails note's settings, with a problem for each key that keeps its built-in value.
    static func parseGuardrails(_ note: Note, path: String) -> (Guardrails, [RuleProblem]) {
        var guardrails = Guardrails()
        guardrails.path = path
        var problems: [RuleProblem] = []
        func problem(_ message: String) { problems.append(RuleProblem(path: path, message: message)) }

        func money(_ key: String) -> Double? {
            guard let value = note[key] else { return nil }
            guard let number = Money.dollars(value) else {
                // Never a silent fallback to the built-in cap: the key is reported, and paid runs stop.
                let message = Money.problem(key: key, value: value) + "; paid runs are blocked until it is fixed"
                problem(message)
                guardrails.capErrors.append("\(path): \(message)")
                return nil
            }
            return number
        }
        if let v = money("budget_task_usd") { guardrails.budgetTaskUSD = v }
        if let value = note["max_spawned_tasks"] {
            if let n = value.number, n >= 0, n == n.rounded(), n < 1e9 { guardrails.maxSpawnedTasks = Int(n) } else { problem("max_spawned_tasks must be a whole number of 0 or more; \(guardrails.maxSpawnedTasks) is used") }
        }
        if let value = note["max_handoffs"] {
            if let n = value.number, n >= 0, n == n.rounded(), n < 1e9 { guardrails.maxHandoffs = Int(n) } else { problem("max_handoffs must be a whole number of 0 or more; \(guardrails.maxHandoffs) is used") }
        }
        if let v = money("budget_day_usd") { guardrails.budgetDayUSD = v }
        if let v = money("budget_month_usd") { guardrails.budgetMonthUSD = v }
        for lane in Lane.allCases {
            if let v = money("budget_\(lane)_day_usd") { guardrails.laneDayUSD[lane] = v }
            if let v = money("budget_\(lane)_month_usd") { guardrails.laneMonthUSD[lane] = v }
            if let name = note.text("\(lane)_agent") { guardrails.laneAgents[lane] = name }
            if note["failover_\(lane)"] != nil { guardrails.failoverChains[lane] = note.texts("failover_\(lane)").filter { !$0.isEmpty } }
        }
        for property in note.properties where property.key.hasPrefix("budget_") && property.key.hasSuffix("_usd") {
            let known = ["budget_task_usd", "budget_day_usd", "budget_month_usd"] + Lane.allCases.flatMap { ["budget_\($0)_day_usd", "budget_\($0)_month_usd"] }
            if !known.contains(property.key) {
                // A misspelt cap would leave a lane without the cap a person meant to set.
                let message = "unknown budget key '\(property.key)' (per-lane caps are budget_LANE_day_usd / budget_LANE_month_usd); paid runs are blocked until it is fixed"
                problem(message)
                guardrails.capErrors.append("\(path): \(message)")
            }
        }
        // Private/ and #private always stay private; the note can only add to them. The privacy keys
        // are read however they are written (`Private_Tags`), every time they are given (a second
        // `private_tags` adds to the first, never replaces it), and a comma list without brackets
        // counts item by item (as a note's own `tags: a, b` does). A value that is no list of texts
        // (`null`, a map, a number) cannot be read: every note counts as private until it is fixed —
        // it stood for the person's own tags and folders, silently dropped (an outside attack).
        func privacyValues(_ key: String) -> [String] {
            var found: [String] = []
            for property in note.properties where property.key.trimmingWhitespaces().lowercased() == key {
                var items: [String]?
                switch property.value {
                case .list(let values) where values.allSatisfy({ $0.text != nil }):
                    items = values.compactMap(\.text)
                case .string(let text) where !text.trimmingWhitespaces().isEmpty:
                    items = key == "secret_patterns" ? [text] : text.split(separator: ",").map { $0.trimmingWhitespaces() }
                default:
                    items = nil
                }
                // A name holding YAML's own marks (`!!set {a, b}`, a list folded into "private - health"
                // by a bad indent) is YAML that was not read as meant.
                if key != "secret_patterns", let read = items, read.contains(where: { name in
                    name.contains("\n") || ["!!", "&", "*", "{", "[", "]", "}"].contains(where: { name.hasPrefix($0) || name.hasSuffix($0) })
                        // A tag has no spaces (Obsidian's tags cannot): a list folded by a bad indent does.
                        || (key == "private_tags" && name.contains(where: \.isWhitespace))
                }) { items = nil }
                guard let items else {
                    let message = "\(key) does not read as a list of names (\(property.key): \(property.value.text ?? "a value of another kind")); every note counts as private and paid runs are blocked until it is fixed"
                    problem(message)
                    guardrails.failClosed("\(path): " + message)
                    continue
                }
                found += items
            }
            return found
        }
        // A second frontmatter block after the first: the settings in it were meant, and are not read.
        if note.body.split(separator: "\n", omittingEmptySubsequences: true).first?.trimmingWhitespaces() == "---" {
            let message = "the guardrails note has a second frontmatter block, which is not read; every note counts as private and paid runs are blocked until it is fixed"
            problem(message)
            guardrails.failClosed("\(path): " + message)
        }
        // A note that does not say `private_tags` keeps the shipped ones (as every key left out keeps
        // its shipped value): a person's guardrails note written for the budget alone made `#secret`
        // and `#personal` public. A note that lists tags adds them to `private`.
        let tagsGiven = note.properties.contains { $0.key.trimmingWhitespaces().lowercased() == "private_tags" }
        for tag in tagsGiven ? [] : Guardrails.shippedPrivateTags where !guardrails.privateTags.contains(tag) {
            guardrails.privateTags.append(tag)
        }
        for tag in privacyValues("private_tags").map(TaskFacts.normalizeTag) where !tag.isEmpty && !guardrails.privateTags.contains(tag) {
            guardrails.privateTags.append(tag)
        }
        for folder in privacyValues("private_folders").map(TaskFacts.normalizeFolder) where !folder.isEmpty && !guardrails.privateFolders.contains(folder) {
            guardrails.privateFolders.append(folder)
        }
        for (index, pattern) in privacyValues("secret_patterns").enumerated() {
            if (try? NSRegularExpression(pattern: pattern)) == nil {
                // A pattern that does not compile would leave its secrets unfound: fail closed.
                let message = "secret_patterns item \(index + 1) is not a valid regular expression; every note counts as private and paid runs are blocked until it is fixed"
                problem(message)
                guardrails.failClosed("\(path): " + message)
            } else {
                guardrails.secretPatterns.append(pattern)
            }
        }
        if let action = note.text("secret_action") {
            if let parsed = SecretAction(rawValue: action.lowercased()) { guardrails.secretAction = parsed } else {
                problem("secret_action must be block or redact, got '\(action)'; prompts with secrets are blocked")
            }
        }
        if let mode = note.text("qmd")?.lowercased() {
            if QMDEngine.modes.contains(mode) {
                guardrails.qmdMode = mode
            } else if mode != "off" {
                problem("'qmd' is one of off, \(QMDEngine.modes.joined(separator: ", ")), not '\(mode)'; qmd is not asked")
            }
        }
        guardrails.qmdCollection = note.text("qmd_collection")
        if note["memory_exclude"] != nil {
            guardrails.memoryExclude = note.texts("memory_exclude").map(TaskFacts.normalizeFolder).filter { !$0.isEmpty }
        }
        if note["review_effects"] != nil {
            guardrails.reviewEffects = note.texts("review_effects").map { $0.lowercased() }
        }
        if let text = note.text("default_lane") {
            if let lane = Lane(note: text) { guardrails.defaultLane = lane } else {
                problem("default_lane '\(text)' is not one of \(Lane.spelledOut); the local lane is used")
            }
        }
        guardrails.defaultAgent = note.text("default_agent")
        for root in note.texts("project_roots").map({ $0.trimmingWhitespaces() }) where !root.isEmpty {
            if root.hasPrefix("/") || root == "~" || root.hasPrefix("~/") {
                guardrails.projectRoots.append(root)
            } else {
                problem("project_roots item '\(root)' must be an absolute path or start with ~/; it is ignored")
            }
        }
        return (guardrails, problems)
    }
}

extension RuleBook {
    /// Whether `model` is one an agent note or a rule names (its `model`): a model the vault chose,
    /// not a task's own text.
    public func namesModel(_ model: String) -> Bool {
        agents.contains { $0.model == model } || rules.contains { $0.model == model }
    }
}

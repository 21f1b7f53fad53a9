import Foundation

/// Where a task would go and why, decided exactly as the watcher would decide it, without running or
/// changing anything: what `route` prints and what any other front end asks before it runs a note.
public struct RoutePreview: Sendable {
    /// The rules, agents and guardrails the decision was made with.
    public let book: RuleBook
    /// The task as routing read it (its resolved links included).
    public let facts: TaskFacts
    /// The decision: lane, agent, model, rule, reason, every guardrail's verdict.
    public internal(set) var decision: RoutingDecision
    /// Whether `approved: true` on the note counts (a person's change after the OS showed it in review).
    public let approval: ApprovalCheck.Verdict
    /// Why the note will not run at all, when it will not (the decision is then what would happen if it did).
    public let wontRun: String?
    /// The failover chain of the agent first chosen (that agent first); one name when it has none.
    public let chain: [String]
    /// Agents cooling down now (a usage limit, a rate limit, an overload, a bad key).
    public let cooling: [Cooldown]

    /// The machines that could take the task (`Machine.candidates`): names of `Rules/Machines/` notes
    /// serving its lane and agent, and whether a machine without a note would.
    public var machines: [String] {
        Machine.candidates(lane: decision.lane.rawValue, agent: decision.agent ?? "", machines: book.machines)
    }

    /// Routes the note at the vault-relative `path`, with its properties and the notes it links to.
    /// Throws `RoutePreviewError.badFrontmatter` when the note's frontmatter does not parse.
    /// `readingNames: false`: as `text(_:vault:readingNames:)` (a note a cloud agent wrote itself,
    /// naming a guess without a link, was routed as private exactly when the guess was a private
    /// note: round 131).
    public static func note(at path: String, vault: Vault, readingNames: Bool = true) throws -> RoutePreview {
        let book = RuleBook.load(vault: vault)
        let snapshot = try NoteStore(vault: vault).read(path)
        let note: Note
        do { note = try Note.parse(bytes: snapshot.bytes) } catch {
            throw RoutePreviewError.badFrontmatter(path: path, line: error.line, message: error.message)
        }
        var facts = TaskFacts.from(note: note, path: path, vault: vault, ruleBook: book, links: LinkResolver(vault: vault), readingNames: readingNames)
        // The same truth the watcher acts on: `approved: true` counts only as a change made after the
        // OS showed the task in review (the run store says whether it did).
        let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: TaskNote.kind(of: note, path: path) ?? .task)
        // As the watcher does: a handoff names its agent in `to`.
        if task.kind == .handoff, let to = note.text("to") { facts.agent = to }
        let runsPath = vault.stateDirectory + "/runs.sqlite"
        let runs = ((try? FileSystem.status(runsPath)) ?? nil) != nil ? try? RunStore(vault: vault) : nil
        let approval = ApprovalCheck.verify(task, runs: runs, store: NoteStore(vault: vault))
        facts.approved = approval.approval != nil
        let wontRun = TaskNote.notRunnableReason(path: path, snapshot: snapshot, note: note, runs: runs)
        var preview = RoutePreview(book: book, facts: facts, approval: approval, wontRun: wontRun, vault: vault, carriedChain: FailoverChain.carried(by: note),
                                   budgetTask: Handoffs.budgetTask(of: note, at: path, vault: vault), sender: Router.sender(of: task))
        // As the watcher does: a page check an agent's run asked for, naming a local page, waits for a person.
        if preview.decision.action == .run, approval.approval == nil,
           let why = BrowserAgent.reviewReason(note: note, path: path, agent: preview.decision.agent.flatMap(book.agent(named:)), vault: vault, guardrails: book.guardrails) {
            preview.decision.action = .review(why)
        }
        return preview
    }

    /// Routes `text` as the prompt of a new task. `readingNames: false` leaves out what the text names
    /// without a link (a bare `Name.md`, a path, a path on disk): for a caller private notes are
    /// withheld from, whose guess at a private note's name would otherwise route as private and one
    /// at a missing note's as public (`TaskFacts.from(text:readingNames:)`).
    public static func text(_ text: String, vault: Vault, readingNames: Bool = true) -> RoutePreview {
        let book = RuleBook.load(vault: vault)
        let facts = TaskFacts.from(text: text, vault: vault, ruleBook: book, links: LinkResolver(vault: vault), readingNames: readingNames)
        return RoutePreview(book: book, facts: facts, approval: .none, wontRun: nil, vault: vault, carriedChain: nil)
    }

    private init(book: RuleBook, facts: TaskFacts, approval: ApprovalCheck.Verdict, wontRun: String?, vault: Vault, carriedChain: [String]?, budgetTask: String? = nil, sender: String? = nil) {
        var spend: SpendSnapshot?
        if (try? FileSystem.status(BudgetLedger.path(for: vault))) ?? nil != nil {
            // As the watcher does: caps are checked against settled spend; room held by runs in flight
            // makes a run wait when it starts, not go to review.
            let ledger = try? BudgetLedger(path: BudgetLedger.path(for: vault))
            spend = (try? ledger?.spend(caps: book.guardrails.caps))??.settledOnly
            if let path = budgetTask ?? facts.path { spend?.taskCommittedUSD = (try? ledger?.settled(task: path)) ?? 0 }
        }
        self.book = book
        self.facts = facts
        self.approval = approval
        self.wontRun = wontRun
        let router = Router(book: book)
        let first = router.decide(facts, prompt: facts.body, spend: spend)
        // As the watcher does: an agent cooling down is skipped to the next agent of its chain.
        let runsPath = vault.stateDirectory + "/runs.sqlite"
        let cooling = ((try? FileSystem.status(runsPath)) ?? nil) != nil ? ((try? RunStore(vault: vault).cooldowns()) ?? []) : []
        self.cooling = cooling
        chain = carriedChain ?? first.agent.map { FailoverChain.chain(startingWith: $0, rulePath: first.rule, book: book) } ?? []
        // And, as the watcher does, never back to a handoff's sender nor to an agent that cannot run here.
        let availability = AgentAvailability(probeTimeout: 0.3)
        decision = router.skippingCoolingAgents(first, carriedChain: carriedChain, facts: facts, prompt: facts.body, spend: spend,
                                                cooling: Dictionary(cooling.map { ($0.agent.lowercased(), $0) }) { a, _ in a },
                                                sender: sender, cannotRun: { name in book.agent(named: name).flatMap { availability.unavailableReason($0) } })
    }
}

/// Why a route preview could not be made.
public enum RoutePreviewError: Error, CustomStringConvertible, Sendable {
    /// The note's frontmatter does not parse.
    case badFrontmatter(path: String, line: Int, message: String)

    /// One line, as the command line prints it.
    public var description: String {
        switch self {
        case .badFrontmatter(let path, let line, let message): return "\(path): bad frontmatter at line \(line): \(message)"
        }
    }
}

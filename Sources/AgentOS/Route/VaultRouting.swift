import Foundation

/// The watcher's routing: the rule book from `Rules/`, the router and its guardrails, and the budget
/// ledger — the one place where a task's route is decided and its money reserved and settled.
public final class VaultRouting: TaskRouting, @unchecked Sendable {
    public let vault: Vault
    let ledger: BudgetLedger
    private let lock = NSLock()
    private var book: RuleBook
    private var router: Router
    /// Whether agents get a context packet (memory, links, daily log) rather than the bare prompt.
    public var usesContextPackets = true

    /// The agents, read from `Rules/` (shared with the runner so notes are read once per change).
    public let agents: VaultAgents

    public init(vault: Vault) throws {
        self.vault = vault
        agents = VaultAgents(vault: vault)
        ledger = try BudgetLedger(vault: vault)
        book = RuleBook.load(vault: vault)
        router = Router(book: book)
    }

    /// Reads `Rules/` again (the watcher calls this when a rule note changes).
    public func reload() {
        let fresh = RuleBook.load(vault: vault)
        lock.withLock {
            book = fresh
            router = Router(book: fresh)
        }
        agents.reload()
    }

    /// The current rule book.
    public var ruleBook: RuleBook { lock.withLock { book } }

    /// Malformed rule notes, one line each.
    public var problems: [String] { ruleBook.problems.map(\.description) }

    public func plan(_ task: TaskNote, runID: String) -> RoutePlan {
        let (book, router) = lock.withLock { (self.book, self.router) }
        // One resolver for the task's facts and its packet: both judge the same notes, the vault is walked once.
        let links = LinkResolver(vault: vault)
        var facts = TaskFacts.from(note: task.note, path: task.path, vault: vault, ruleBook: book, links: links)
        if task.kind == .handoff {
            // A handoff names its agent in `to`; that is an explicit choice, as `agent` is on a task.
            if let to = task.note.text("to") { facts.agent = to }
        }
        var prompt = task.prompt
        var sources: [String] = []
        var packetHasPrivatePiece = false
        if usesContextPackets {
            let packet = contextPacket(for: task, book: book, links: links)
            prompt = packet.text
            sources = packet.sources
            packetHasPrivatePiece = !packet.privateSources.isEmpty
            // Routing judges exactly the pieces the agent receives: any private piece left in the
            // packet (a linked note; daily and memory pieces only stay private in a task that is
            // private already) makes the whole task private.
            for source in packet.privateSources where source != task.path && !facts.privateSources.contains(source) {
                facts.privateSources.append(source)
            }
        }
        let privacy = Privacy.reason(for: facts, guardrails: book.guardrails)
        // A `project:` working directory outside project_roots (or in the vault) is refused before
        // anything is reserved or run.
        if let project = RunWorkspace.projectProperty(of: task.note),
           case .failure(let refusal) = RunWorkspace.project(project, vault: vault, roots: book.guardrails.projectRoots) {
            return RoutePlan(lane: facts.lane ?? "", agent: facts.agent ?? "", model: facts.model, rule: "guardrails", reason: refusal.description,
                             action: .failed(refusal.description), prompt: prompt, sources: sources, privacy: privacy)
        }
        let spend = try? ledger.spend(caps: book.guardrails.caps)
        var decision = router.decide(facts, prompt: prompt, spend: spend)
        var reservationID: String?
        if decision.action == .run && decision.reservationUSD > 0 {
            let caps = book.guardrails.caps.limitingTask(to: facts.budgetUSD)
            for _ in 0..<2 {
                do {
                    switch try ledger.tryReserve(runID: runID, lane: decision.lane, amount: decision.reservationUSD, caps: caps, task: task.path) {
                    case .reserved:
                        reservationID = runID
                    case .refused(let refusal):
                        decision = router.fallback(from: decision, facts: facts, prompt: prompt, because: refusal.description)
                        if decision.action == .run && decision.reservationUSD > 0 { continue }
                    }
                } catch {
                    decision.action = .blocked("the budget ledger could not be read: \(error)")
                }
                break
            }
            if decision.action == .run && decision.reservationUSD > 0 && reservationID == nil {
                decision.action = .review("budget: no cap leaves room for this paid run")
            }
        }
        var action: RoutePlan.Action
        switch decision.action {
        case .run: action = .run
        case .review(let why): action = .review(why)
        case .blocked(let why):
            // A name no agent note (nor a built-in) defines is not a guardrail's verdict: the run fails.
            if let named = facts.agent, book.agent(named: named) == nil, VaultAgents.builtIn[named.lowercased()] == nil {
                action = .failed(why)
            } else {
                action = .blocked(why)
            }
        }
        if case .run = action, decision.agent == nil {
            action = .blocked("no agent is defined for the \(decision.lane.rawValue) lane; add one in Rules/Agents/")
        }
        // Last line of defence: whatever the router decided, private input never goes to an agent
        // off this machine.
        if case .run = action, !decision.lane.keepsWorkLocal, privacy != nil || packetHasPrivatePiece {
            action = .blocked("private (\(privacy ?? "a private piece in the context packet")); private work never leaves this machine")
        }
        let verdicts = decision.verdicts.map { "\($0.name): \($0.passed ? "ok" : "stopped") — \($0.detail)" }
        return RoutePlan(
            lane: decision.lane.rawValue,
            agent: decision.agent ?? "",
            model: decision.model,
            rule: decision.rule,
            reason: decision.reason,
            action: action,
            prompt: decision.outgoingPrompt ?? prompt,
            sources: sources,
            extraProperties: [Property("route_verdicts", .list(verdicts.map { .string($0) }))],
            reservationID: reservationID,
            approved: decision.approved,
            privacy: privacy
        )
    }

    /// The context packet for a task or handoff, within the token budget of the agent it names.
    public func contextPacket(for task: TaskNote, book: RuleBook? = nil, links: LinkResolver? = nil) -> ContextPacket {
        let book = book ?? ruleBook
        let named = task.kind == .handoff ? task.note.text("to") : task.note.text("agent")
        let budget = named.flatMap { try? agents.definition(named: $0).contextTokens } ?? ContextPacketBuilder.defaultBudget
        let index = try? MemoryIndex.openForReading(vault: vault)
        return ContextPacketBuilder(vault: vault, guardrails: book.guardrails).build(for: task, budgetTokens: budget, index: index ?? nil, links: links)
    }

    public func settle(_ plan: RoutePlan, cost: Double?) {
        guard let id = plan.reservationID else { return }
        if let cost {
            _ = try? ledger.settle(runID: id, actualUSD: cost)
        } else {
            _ = try? ledger.release(runID: id)
        }
    }

    public func releaseAbandonedReservations(activeRunIDs: Set<String>) {
        for reservation in (try? ledger.openReservations()) ?? [] where !activeRunIDs.contains(reservation.runID) {
            _ = try? ledger.release(runID: reservation.runID)
        }
    }

    public func concurrency(lane: String) -> Int {
        switch lane {
        case Lane.premium.rawValue: return 2
        case Lane.local.rawValue: return 2
        default: return 1
        }
    }

    /// Spend against every cap, for `status`.
    public func spend() -> SpendSnapshot? {
        try? ledger.spend(caps: ruleBook.guardrails.caps)
    }
}

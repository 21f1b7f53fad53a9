import Foundation

/// The watcher's routing: the rule book from `Rules/`, the router and its guardrails, and the budget
/// ledger — the one place where a task's route is decided and its money reserved and settled.
public final class VaultRouting: TaskRouting, @unchecked Sendable {
    public let vault: Vault
    let ledger: BudgetLedger
    /// What `reload()` replaces and runs change, shared by the watcher's threads.
    private struct State {
        /// The rule book and the router built from it, always replaced together.
        var book: RuleBook
        var router: Router
        /// Lanes whose reservation the ledger refused when a run was about to start, by run id, with
        /// the refusal: planning that run again falls back from them (or sends it to review).
        var refusedLanes: [String: [Lane: String]] = [:]
        /// How many times `reload` read `Rules/` again (a plan made before the latest is stale).
        var rulesGeneration = 0
        /// `VaultRouting.rulesStamp` when `Rules/` was last read.
        var rulesStamp = 0
    }
    private let state: Locked<State>
    /// Whether agents get a context packet (memory, links, daily log) rather than the bare prompt.
    public let usesContextPackets: Bool

    /// The agents, read from `Rules/` (shared with the runner so notes are read once per change).
    public let agents: VaultAgents
    /// Whether each agent can run on this machine now (checked before a run, kept a few seconds).
    public let availability = AgentAvailability()
    /// The run store (same database file as the ledger): whether an abandoned run's agent started,
    /// and its recorded cost.
    private let runs: RunStore?
    /// The run store, for cooldowns (`Failover.swift`).
    var runStore: RunStore? { runs }
    /// The rule book and its router, read together.
    var bookAndRouter: (RuleBook, Router) { state.withLock { ($0.book, $0.router) } }
    /// Signalled whenever a reservation is closed, so runs waiting for room try again at once.
    private let budgetChanged = NSCondition()
    private var budgetGeneration = 0

    /// Routing for `vault`, with its rule book loaded now; `usesContextPackets: false` gives agents
    /// the bare prompt.
    public init(vault: Vault, usesContextPackets: Bool = true) throws {
        self.vault = vault
        self.usesContextPackets = usesContextPackets
        ledger = try BudgetLedger(vault: vault)
        runs = try? RunStore(vault: vault)
        let stamp = VaultRouting.rulesStamp(vault)
        let book = RuleBook.load(vault: vault)
        var initial = State(book: book, router: Router(book: book))
        initial.rulesStamp = stamp
        state = Locked(initial)
        agents = VaultAgents(vault: vault)
        agents.reload(book)
    }

    /// Reads `Rules/` again (the watcher calls this when a rule note changes).
    public func reload() {
        // Stamped before it is read: a change in between is seen at the next look.
        let stamp = VaultRouting.rulesStamp(vault)
        let fresh = RuleBook.load(vault: vault)
        let router = Router(book: fresh)
        state.withLock {
            $0.book = fresh
            $0.router = router
            $0.rulesGeneration += 1
            $0.rulesStamp = stamp
        }
        agents.reload(fresh)
    }

    /// Reads `Rules/` again when a note in it changed on disk since it was last read. The watcher
    /// reloads on its events; a foreground `run` has none, and waited in the budget queue under a
    /// day cap lowered meanwhile, then reserved and spent past it (round 156).
    public func reloadIfRulesChanged() {
        if VaultRouting.rulesStamp(vault) != state.withLock({ $0.rulesStamp }) { reload() }
    }

    /// A hash of everything under `Rules/` as it is on disk: each entry's path, size, modification
    /// and change times and inode (`lstat`), whatever its name — `RuleBook` reads `Guardrails.MD`
    /// too, which a walk of `*.md` notes missed (round 157) — so any edit, rename, move, removal or
    /// symlink put there changes it. A stat per entry: cheap next to reading the notes.
    static func rulesStamp(_ vault: Vault) -> Int {
        var hasher = Hasher()
        var pending = [Vault.Layout.rules]
        var entries = 0
        while let folder = pending.popLast(), entries < 100_000 {
            hasher.combine(folder)
            guard let listed = try? FileSystem.list(vault.root + "/" + folder) else { continue }
            for (name, _) in listed.sorted(by: { $0.name < $1.name }) {
                entries += 1
                let path = folder + "/" + name
                hasher.combine(name)
                guard let status = (try? FileSystem.status(vault.root + "/" + path)) ?? nil else { continue }
                hasher.combine(status.size)
                hasher.combine(status.mtimeNanoseconds)
                hasher.combine(status.ctimeNanoseconds)
                hasher.combine(status.inode)
                if status.kind == .directory { pending.append(path) }
            }
        }
        return hasher.finalize()
    }

    /// The current rule book.
    public var ruleBook: RuleBook { state.withLock { $0.book } }

    /// The machine notes of the current rule book.
    public var machines: [MachineNote] { ruleBook.machines }

    /// The sync note of the current rule book.
    public var sync: SyncSettings? { ruleBook.sync }

    /// Malformed rule notes, one line each.
    public var problems: [String] { ruleBook.problems.map(\.description) }

    public func plan(_ task: TaskNote, runID: String) -> RoutePlan {
        plan(task, runID: runID, packetOffMachine: nil)
    }

    /// `plan`, with the packet built for a lane off this machine (`packetOffMachine`), or, when
    /// `nil`, for the lane the rules pick: the work is planned again with an off-machine packet if
    /// the guardrails then send it off this machine.
    private func plan(_ task: TaskNote, runID: String, packetOffMachine: Bool?) -> RoutePlan {
        let (book, router, generation) = state.withLock { ($0.book, $0.router, $0.rulesGeneration) }
        // The task's links are resolved once, into `facts`: privacy judges them and the packet is
        // built from them, so what privacy judged is exactly what the agent receives.
        let links = LinkResolver(vault: vault)
        var facts = TaskFacts.from(note: task.note, path: task.path, vault: vault, ruleBook: book, links: links)
        // Only the approval the engine verified (a change after the OS showed the task in review).
        facts.approved = task.approval != nil
        if task.kind == .handoff {
            // A handoff names its agent in `to`; that is an explicit choice, as `agent` is on a task.
            if let to = task.note.text("to") { facts.agent = to }
        }
        var prompt = task.prompt
        var sources: [String] = []
        var packetHasPrivatePiece = false
        // Built for the lane the rules pick: for one off this machine, retrieved pieces holding
        // secrets are left out; for one that keeps the work here they are not scanned for (a
        // quarter of a local task's routing went into scanning for a cloud agent it never went
        // to). Privacy, and the names of private notes, are judged alike in both.
        var _packet: ContextPacket?
        var offMachine = packetOffMachine ?? true
        if usesContextPackets {
            // Within the budget of the agent the rules pick (`Router.choose` reads only what the task
            // says, not the packet), so a task a rule sends to claude gets claude's budget from the
            // start; a retry's own `context_tokens` wins.
            let choice = router.choose(facts)
            offMachine = packetOffMachine ?? !choice.lane.keepsWorkLocal
            let picked = task.note["context_tokens"] == nil ? choice.agent.flatMap { (try? agents.definition(named: $0))?.contextTokens } : nil
            let packet = contextPacket(for: task, facts: facts, book: book, scanner: router.scanner, links: links, budgetTokens: picked, offMachine: offMachine)
            prompt = packet.text
            sources = packet.sources
            packetHasPrivatePiece = !packet.privateSources.isEmpty
            // Routing judges exactly the pieces the agent receives: any private piece left in the
            // packet (a linked note; daily and memory pieces only stay private in a task that is
            // private already) makes the whole task private.
            for source in packet.privateSources where source != task.path && !facts.privateSources.contains(source) {
                facts.privateSources.append(source)
            }
            _packet = packet
        }
        let privacy = Privacy.reason(for: facts, guardrails: book.guardrails)
        // Past `max_handoffs` of its task, a handoff does not run (however it was written).
        if let why = Handoffs.pastMaxHandoffs(of: task.note, at: task.path, vault: vault, max: book.guardrails.maxHandoffs) {
            return RoutePlan(lane: facts.lane ?? "", agent: facts.agent ?? "", model: facts.model, rule: "guardrails", reason: why,
                             action: .blocked(why), prompt: prompt, sources: sources, privacy: privacy)
        }
        // A `project:` working directory outside project_roots (or in the vault) is refused before
        // anything is reserved or run.
        if let project = RunWorkspace.projectProperty(of: task.note),
           case .failure(let refusal) = RunWorkspace.project(project, vault: vault, roots: book.guardrails.projectRoots) {
            return RoutePlan(lane: facts.lane ?? "", agent: facts.agent ?? "", model: facts.model, rule: "guardrails", reason: refusal.description,
                             action: .failed(refusal.description), prompt: prompt, sources: sources, privacy: privacy)
        }
        // Caps are checked here against *settled* spend: room held by runs in flight is not refused
        // now; the reservation taken when the run starts decides (and waits for them to settle).
        var spend = (try? ledger.spend(caps: book.guardrails.caps))?.settledOnly
        let budgetTask = Handoffs.budgetTask(of: task.note, at: task.path, vault: vault)
        spend?.taskCommittedUSD = (try? ledger.settled(task: budgetTask)) ?? 0
        var decision = router.decide(facts, prompt: prompt, spend: spend)
        // The guardrails may have sent the task to another agent than the rules picked (a fallback
        // lane, a cooling agent), with another `context_tokens`: build the packet again for it and
        // decide again on exactly what will be sent (secrets and privacy are judged on it); the new
        // packet is kept only when the same agent and lane are chosen with the same privacy.
        if usesContextPackets, let first = _packet, task.note["context_tokens"] == nil, let chosen = decision.agent,
           let wanted = (try? agents.definition(named: chosen))?.contextTokens, wanted != first.budgetTokens {
            let packet = contextPacket(for: task, facts: facts, book: book, scanner: router.scanner, links: links, budgetTokens: wanted, offMachine: offMachine)
            var wider = facts
            for source in packet.privateSources where source != task.path && !wider.privateSources.contains(source) {
                wider.privateSources.append(source)
            }
            let again = router.decide(wider, prompt: packet.text, spend: spend)
            if again.agent == decision.agent, again.lane == decision.lane, Privacy.reason(for: wider, guardrails: book.guardrails) == privacy {
                decision = again
                facts = wider
                prompt = packet.text
                sources = packet.sources
                packetHasPrivatePiece = !packet.privateSources.isEmpty
                _packet = packet
            }
        }
        let planned = decision
        // Lanes the ledger refused when this run was about to start: fall back from them.
        let refused = state.withLock { $0.refusedLanes[runID] ?? [:] }
        for _ in 0..<Lane.allCases.count {
            guard decision.action == .run, decision.reservationUSD > 0, let why = refused[decision.lane] else { break }
            decision = router.fallback(from: decision, facts: facts, prompt: prompt, because: why)
        }
        if decision.action == .run, decision.reservationUSD > 0, refused[decision.lane] != nil {
            decision.action = .review("budget: no cap leaves room for this paid run")
            decision.reservationUSD = 0
        }
        // An agent cooling down after a limit is skipped to the next agent of its chain, which the
        // guardrails judge again (a private task never moves off this machine).
        decision = skippingCoolingAgents(decision, task: task, facts: facts, prompt: prompt, spend: spend, book: book, router: router)
        // Work the rules kept here that goes off this machine after all, or that the guardrails
        // moved along a chain (a fallback; a cooling agent's next, judged on the packet it would
        // get): planned again from the start, with the packet built for a lane off this machine.
        if usesContextPackets, !offMachine, !decision.lane.keepsWorkLocal || decision != planned {
            return plan(task, runID: runID, packetOffMachine: true)
        }
        if decision.action != .run || decision.reservationUSD <= 0 {
            _ = state.withLock { $0.refusedLanes.removeValue(forKey: runID) }
        }
        var action: RoutePlan.Action
        switch decision.action {
        case .run: action = .run
        case .review(let why): action = .review(why)
        case .blocked(let why):
            // A name no agent note (nor a built-in) defines is not a guardrail's verdict: the run fails.
            if let named = facts.agent, book.agent(named: named) == nil {
                action = .failed(why)
            } else {
                action = .blocked(why)
            }
        }
        if case .run = action, decision.agent == nil {
            action = .blocked("no agent is defined for the \(decision.lane.rawValue) lane; add one in Rules/Agents/")
        }
        // A lane whose agent cannot run here (Ollama not running, a CLI not installed): the task
        // waits in review with the fix, instead of every task failing one by one. A task that named
        // its agent asked for exactly that one and gets its real error.
        if case .run = action, facts.agent == nil, let name = decision.agent,
           let definition = try? agents.definition(named: name), let why = availability.unavailableReason(definition) {
            action = .review("the \(decision.lane.rawValue) lane cannot run here: \(why); then set status: new to route it again")
        }
        // The browser loads what the task names, and its answer is a note cloud agents may read: a
        // page on this machine or its network (a router's admin page, a dev server, cloud metadata),
        // or a private vault file, asked for by an agent's run waits for a person.
        if case .run = action, task.approval == nil, let why = BrowserAgent.reviewReason(note: task.note, path: task.path, agent: decision.agent.flatMap(book.agent(named:)), vault: vault, guardrails: book.guardrails) {
            action = .review(why)
        }
        // Last line of defence: whatever the router decided, private input never goes to an agent
        // off this machine.
        if case .run = action, !decision.lane.keepsWorkLocal, privacy != nil || packetHasPrivatePiece {
            action = .blocked("private (\(privacy ?? "a private piece in the context packet")); private work never leaves this machine")
        }
        var verdicts = decision.verdicts.map { "\($0.name): \($0.passed ? "ok" : "stopped") — \($0.detail)" }
        var outgoing = decision.outgoingPrompt ?? prompt
        var extraProperties: [Property] = []
        var truncation: ContextTruncation?
        if var packet = _packet {
            // A lane that keeps the work here is not scanned for secrets: its agent gets the retrieved
            // pieces the off-machine packet left out for holding one (privacy is judged alike in both).
            if offMachine, decision.lane.keepsWorkLocal, packet.leftOut.contains(where: { if case .secret = $0.reason { return true }; return false }) {
                packet = contextPacket(for: task, facts: facts, book: book, scanner: router.scanner, links: links, budgetTokens: packet.budgetTokens, offMachine: false)
                outgoing = packet.text
                sources = packet.sources
            }
            // The verdicts are written on the task, which the agents that run it or hand it on read:
            // private pieces left out are not counted there (`ContextPacket.withoutPrivateLeftOut`).
            if let line = LeftOutPiece.describe(packet.withoutPrivateLeftOut().leftOut) { verdicts.append("retrieval: ok — " + line) }
            if let cut = packet.truncation {
                let definition = decision.agent.flatMap { try? agents.definition(named: $0) }
                if cut.ownTextCut, !(definition?.truncateAllowed ?? false), case .run = action {
                    let whole = ContextPacket.estimateTokens(task.prompt)
                    let agentName = decision.agent ?? "the agent"
                    let key = definition.map { " in \($0.path)" } ?? ""
                    action = .failed("the task's text is about \(whole) tokens and does not fit, with the packet's headings, in the context budget of \(packet.budgetTokens) (context_tokens of \(agentName)); shorten it, or set truncate: allow\(key) to send it cut")
                } else {
                    truncation = cut
                    extraProperties += cut.properties
                    verdicts.append("context: ok — truncated to \(packet.budgetTokens) tokens; \(cut.tokensLeftOut) tokens of the task's text and linked notes were left out")
                }
            }
        }
        var plan = RoutePlan(
            lane: decision.lane.rawValue,
            agent: decision.agent ?? "",
            model: decision.model,
            rule: decision.rule,
            reason: decision.reason,
            action: action,
            prompt: outgoing,
            sources: sources,
            extraProperties: [Property("route_verdicts", .list(verdicts.map { .string($0) }))] + extraProperties,
            reservationID: nil,
            approved: decision.writesApproved,
            reservationUSD: action == .run ? decision.reservationUSD : 0,
            taskBudgetUSD: facts.budgetUSD,
            privacy: privacy
        )
        plan.rulesGeneration = generation
        plan.contextTruncation = truncation
        plan.budgetTask = budgetTask
        // Private work's telemetry names a model only as the vault's notes name it: the task's own
        // `model:` may be a private run's agent's free text (an outside attack wrote a private note's
        // words there, and the public telemetry row and report showed them).
        if privacy != nil, let model = decision.model, !book.namesModel(model) {
            plan.recordedModel = book.agents.first { $0.name == decision.agent }?.model
        }
        return plan
    }

    /// The context packet for a task or handoff, within `budgetTokens` or else the token budget of
    /// the agent it names; its links resolved exactly as `plan` resolves them.
    public func contextPacket(for task: TaskNote, book: RuleBook? = nil, budgetTokens: Int? = nil) -> ContextPacket {
        let book = book ?? ruleBook
        let links = LinkResolver(vault: vault)
        let facts = TaskFacts.from(note: task.note, path: task.path, vault: vault, ruleBook: book, links: links)
        let scanner = state.withLock { $0.router.scanner }
        return contextPacket(for: task, facts: facts, book: book, scanner: scanner, links: links, budgetTokens: budgetTokens, offMachine: true)
    }

    /// The notes the context packet for `task` retrieves from memory, with their scores, before
    /// privacy is judged (`fuckbigtech related NOTE`): the task's links resolved as `plan` resolves them.
    /// `admit` leaves hits out as `MemoryIndex.related` says (the floor is the best admitted hit's).
    public func related(for task: TaskNote, index: MemoryIndex, anchorsFrom: ((String) -> Bool)? = nil, admit: (RelatedHit) -> Bool = { _ in true }) -> [RelatedHit] {
        let links = LinkResolver(vault: vault)
        let facts = TaskFacts.from(note: task.note, path: task.path, vault: vault, ruleBook: ruleBook, links: links)
        return ContextPacketBuilder(vault: vault, guardrails: ruleBook.guardrails).memoryHits(for: task, facts: facts, index: index, anchorsFrom: anchorsFrom, admit: admit)
    }

    /// What a packet would retrieve for a task written as `text` (`fuckbigtech related TEXT`).
    public func related(toText text: String, index: MemoryIndex, anchorsFrom: ((String) -> Bool)? = nil, admit: (RelatedHit) -> Bool = { _ in true }) -> [RelatedHit] {
        ContextPacketBuilder(vault: vault, guardrails: ruleBook.guardrails).retrieve(text: text, index: index, anchorsFrom: anchorsFrom, admit: admit)
    }

    /// The packet within `budgetTokens`, else the named agent's `context_tokens`, else the default;
    /// `offMachine` leaves out retrieved pieces holding secrets (`ContextPacketBuilder.build`).
    private func contextPacket(for task: TaskNote, facts: TaskFacts, book: RuleBook, scanner: SecretScanner, links: LinkResolver, budgetTokens: Int?, offMachine: Bool) -> ContextPacket {
        let named = task.kind == .handoff ? task.note.text("to") : task.note.text("agent")
        // A task queued again after a context overflow carries the smaller budget it gets (`context_tokens`).
        let retryBudget = task.note["context_tokens"]?.wholeNumber.flatMap { $0 > 0 ? $0 : nil }
        let budget = budgetTokens ?? retryBudget ?? named.flatMap { try? agents.definition(named: $0).contextTokens } ?? ContextPacketBuilder.defaultBudget
        return withIndexReader { index in
            ContextPacketBuilder(vault: vault, guardrails: book.guardrails, scanner: scanner)
                .build(for: task, facts: facts, links: links, budgetTokens: budget, index: index, offMachine: offMachine)
        }
    }

    /// Read-only index connections kept between packets (at most one per routing thread is in use
    /// at a time), each with the inode of the index file it opened.
    private let indexReaders = Locked<[(inode: UInt64, index: MemoryIndex)]>([])

    /// Runs `body` with a read-only connection to the index (`nil` when there is none yet), reusing
    /// one a previous packet opened instead of opening a connection per task. A connection is only
    /// reused while the index file is the same inode: a rebuilt or replaced index gets new ones.
    /// Its statements are reset after every query, so a kept connection holds no read snapshot.
    func withIndexReader<R>(_ body: (MemoryIndex?) -> R) -> R {
        let inode = FileSystem.identity(vault.databasePath)?.inode
        var reader: MemoryIndex? = indexReaders.withLock { kept in
            // Every kept one is of one file; another inode means the index was replaced: drop them.
            guard let last = kept.popLast(), last.inode == inode else {
                kept.removeAll()
                return nil
            }
            return last.index
        }
        if reader == nil, inode != nil { reader = (try? MemoryIndex.openForReading(vault: vault)) ?? nil }
        defer {
            if let reader, let inode { indexReaders.withLock { $0.append((inode, reader)) } }
        }
        return body(reader)
    }

    public func settle(_ plan: RoutePlan, cost: Double?) {
        guard let id = plan.reservationID else { return }
        if let cost {
            _ = try? ledger.settle(runID: id, actualUSD: cost)
        } else {
            _ = try? ledger.release(runID: id)
        }
        closed(runID: id)
    }

    public func reserve(_ plan: RoutePlan, task: String, runID: String) -> BudgetGate {
        reloadIfRulesChanged()
        let (book, generation) = state.withLock { ($0.book, $0.rulesGeneration) }
        // A note in `Rules/` changed since the plan was made (an agent note's lane, command or name,
        // a rule, a guardrails note under any name): planned again from the notes as they are, so
        // that privacy, secrets, effects and budget are judged against what would run now (round
        // 155: a private task waiting for a local agent ran on it after its note was set to `lane:
        // tool`; only `Rules/Guardrails.md` itself was stamped). The new plan is of this generation.
        if let planned = plan.rulesGeneration, planned != generation {
            return .replan("the notes in \(Vault.Layout.rules)/ changed while it waited")
        }
        guard plan.reservationUSD > 0 else {
            // Routed as free: nothing to hold. (An agent note made paid since — `max_cost_usd`,
            // prices, `lane: premium` — was planned again above: rounds 152, 153.)
            return .go(reservedUSD: 0)
        }
        guard let lane = Lane(rawValue: plan.lane) else { return refuse(runID, .premium, "unknown lane '\(plan.lane)'") }
        // A cap that stopped parsing since the task was routed: route again, which blocks it.
        if let broken = book.guardrails.capErrors.first { return refuse(runID, lane, broken) }
        let caps = book.guardrails.caps.limitingTask(to: plan.taskBudgetUSD)
        do {
            // A run reserves at most what its task has left under its cap: a handoff continues a task
            // that may have spent part of it already (an agent with `budget_args` is told that
            // figure). One that cannot be told it reserves its maximum (`mayReserveLess`), which the
            // ledger then refuses.
            var amount = plan.reservationUSD
            let agent = book.agent(named: plan.agent)
            // Its note as it is now: `budget_args` taken out while the task waited, the plan's smaller
            // figure would start an agent that is told nothing (round 149: $0.60 on a $0.05 task).
            let most = agent?.mostPerRun(taskCapUSD: book.guardrails.budgetTaskUSD)
            if let most, most > amount { amount = most }
            if let cap = caps.taskUSD, most == nil,
               case let room = cap - (try ledger.settled(task: task)), room > 0, room < amount { amount = room }
            switch try ledger.tryReserve(runID: runID, lane: lane, amount: amount, caps: caps, task: task) {
            case .reserved(let reservation):
                return .go(reservedUSD: reservation.amountUSD)
            case .refused(let refusal):
                if refusal.heldByOpenReservations { return .wait(refusal.description) }
                return refuse(runID, lane, refusal.description)
            }
        } catch {
            // Never a paid run without a reservation: a ledger that cannot be used refuses.
            return refuse(runID, lane, "the budget ledger could not be used: \(error)")
        }
    }

    private func refuse(_ runID: String, _ lane: Lane, _ why: String) -> BudgetGate {
        state.withLock { $0.refusedLanes[runID, default: [:]][lane] = why }
        return .refused(why)
    }

    public func closeReservation(runID: String, cost: Double?, agentStarted: Bool) throws -> BudgetSettlement? {
        defer { closed(runID: runID) }
        return try ledger.close(runID: runID, actualUSD: cost, agentStarted: agentStarted)
    }

    public func closeCutOffReservation(runID: String, reported: Double) throws -> BudgetSettlement? {
        // What it reported is a floor (it may have spent more before it was cut off), never a
        // reason to give back part of its reservation (round 158: $3 reported, $1 charged).
        guard let reserved = try ledger.openReservations().first(where: { $0.runID == runID })?.amountUSD else {
            // Closed already (charged by a sweep while a task waited for room, settled by a stop):
            // raised to what its agent had reported when that is more (round 159).
            return try ledger.raiseClosed(runID: runID, toAtLeast: reported)
        }
        return try closeReservation(runID: runID, cost: reported > reserved ? reported : nil, agentStarted: true)
    }

    public func closedCost(runID: String) -> (usd: Double, charged: Bool)? {
        (try? ledger.closedCost(runID: runID)) ?? nil
    }

    public func recordUnreservedSpend(runID: String, task: String, lane: Lane, cost: Double) throws -> BudgetSettlement? {
        try ledger.recordUnreserved(runID: runID, task: task, lane: lane, actualUSD: cost)
    }

    public func recordUnrecordedSpend(_ ended: [RunRecord]) -> Int {
        // Every paid run has a row from its reservation on; a run with a cost and none is one that
        // reserved nothing and whose reported cost was never written.
        // (A run reserves right before its agent starts: a week before the earliest end is ample.)
        guard let earliest = ended.compactMap(\.finishedAt).min(), let known = try? ledger.runIDs(reservedSince: earliest - 7 * 86_400) else { return 0 }
        var recorded = 0
        for record in ended where !known.contains(record.runID) {
            guard let cost = record.costUSD, cost > 0 else { continue }
            let note = ((try? NoteStore(vault: vault).readIfPresent(record.taskPath)) ?? nil).flatMap { try? Note.parse(bytes: $0.bytes) }
            let task = note.map { Handoffs.budgetTask(of: $0, at: record.taskPath, vault: vault) } ?? record.taskPath
            let when = Date(timeIntervalSince1970: record.finishedAt ?? Date().timeIntervalSince1970)
            if (try? ledger.recordUnreserved(runID: record.runID, task: task, lane: record.lane.flatMap(Lane.init(rawValue:)) ?? .tool, actualUSD: cost, at: when)) != nil { recorded += 1 }
        }
        return recorded
    }

    public func waitForBudgetChange(timeout: Double) {
        budgetChanged.lock()
        defer { budgetChanged.unlock() }
        let seen = budgetGeneration
        let deadline = Date().addingTimeInterval(timeout)
        while budgetGeneration == seen && budgetChanged.wait(until: deadline) {}
    }

    private func closed(runID: String) {
        state.withLock {
            _ = $0.refusedLanes.removeValue(forKey: runID)
        }
        budgetChanged.lock()
        budgetGeneration &+= 1
        budgetChanged.broadcast()
        budgetChanged.unlock()
    }

    public func releaseAbandonedReservations(activeRunIDs: Set<String>) {
        for reservation in (try? ledger.openReservations()) ?? [] where !activeRunIDs.contains(reservation.runID) {
            // What the run store knows decides: a run with no record, or whose agent process was
            // recorded, or that was marked running, may have spent money — it is charged its real
            // cost when one was recorded, else its whole reservation. Only a run that never got
            // that far (still `claimed`, no agent process) gets its reservation back.
            let record = (try? runs?.run(id: reservation.runID)) ?? nil
            // Read now, not when `activeRunIDs` was listed: a run that reserved since then is in
            // flight (active, its process alive), and its reservation is not abandoned.
            if let record, record.state.isActive,
               record.ownerPID == 0 || record.ownerPID == getpid() || ProcessLiveness.isAlive(record.ownerPID) { continue }
            let agentProcess = (try? runs?.agentProcess(runID: reservation.runID)) ?? nil
            let started = record == nil || agentProcess != nil || record?.startedAt != nil
            // What its agent had reported before its process died (`AgentOutputCopy`, left for
            // recovery to read too) is what it cost when it printed its run's end, else a floor
            // (round 159: charged its $1 reservation here, its $3 report unread, and a task waiting
            // for room started past the day's cap).
            if started, record?.costUSD == nil, let printed = AgentOutputCopy.reported(runID: reservation.runID, vault: vault), let cost = printed.cost {
                _ = try? (printed.isFinal ? closeReservation(runID: reservation.runID, cost: cost, agentStarted: true)
                    : closeCutOffReservation(runID: reservation.runID, reported: cost))
                continue
            }
            _ = try? closeReservation(runID: reservation.runID, cost: record?.costUSD, agentStarted: started)
        }
    }

    public func concurrency(lane: String) -> Int {
        switch lane {
        case Lane.premium.rawValue: return 2
        case Lane.local.rawValue: return 2
        default: return 1
        }
    }

    public func concurrency(agent: String) -> Int? {
        (try? agents.definition(named: agent))?.concurrency
    }

    public func retries(agent: String) -> Int? {
        (try? agents.definition(named: agent))?.retries
    }

    /// Spend against every cap, for `status`.
    public func spend() -> SpendSnapshot? {
        try? ledger.spend(caps: ruleBook.guardrails.caps, details: true)
    }
}

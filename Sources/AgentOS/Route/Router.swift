import Foundation

/// Decides where a task runs: the task's explicit choice, else the first matching rule by priority,
/// else the default lane — and then the guardrails (privacy, secrets, side effects, budget), which win
/// over everything. Pure: reads nothing, writes nothing, runs nothing.
public struct Router: Sendable {
    /// The rules, agents and guardrails decisions are made from.
    public let book: RuleBook
    /// The secret scanner (also the packet builder's, so retrieved pieces are judged by the same rules).
    let scanner: SecretScanner

    /// A router over `book` (its secret patterns are compiled once, here).
    public init(book: RuleBook) {
        self.book = book
        scanner = SecretScanner(extraPatterns: book.guardrails.secretPatterns)
    }

    /// Routes a task. `prompt` is the text that would be sent (the body, or the full context packet);
    /// `spend` (from `BudgetLedger.spend`) lets the budget guardrail fall back before a reservation
    /// would be refused — the reservation itself is made by the caller, atomically, with
    /// `BudgetLedger.reserve`; if that refuses, call `fallback(from:facts:prompt:because:)`.
    public func decide(_ facts: TaskFacts, prompt: String, spend: SpendSnapshot?) -> RoutingDecision {
        let choice = choose(facts)
        return applyGuardrails(choice, facts: facts, prompt: prompt, spend: spend, mayFallBack: true)
    }

    /// The decision to take when the ledger refused the reservation: the rule's fallback lane (with
    /// the guardrails applied again), else review. `refusal` says which cap, in one line.
    public func fallback(from decision: RoutingDecision, facts: TaskFacts, prompt: String, because refusal: String) -> RoutingDecision {
        guard let lane = decision.fallback, lane != decision.lane else {
            var held = decision
            held.action = .review("budget: \(refusal); raise the cap in Rules/Guardrails.md or wait for it to reset, then set status: new")
            held.reason = decision.reason + "; budget: \(refusal) → review"
            held.verdicts = held.verdicts.map { $0.name == "budget" ? GuardVerdict(name: "budget", passed: false, detail: refusal + "; no fallback lane, so the task waits for review") : $0 }
            held.reservationUSD = 0
            return held
        }
        var choice = choose(facts)
        choice.moveToFallback(lane, book: book, note: "budget: \(refusal) → fell back to the \(lane) lane")
        return applyGuardrails(choice, facts: facts, prompt: prompt, spend: nil, mayFallBack: false)
    }

    // MARK: Choice (before guardrails)

    /// The lane/agent/model picked by the task, a rule or the default, before any guardrail.
    struct Choice {
        var lane: Lane
        var agent: String?
        var model: String?
        var rule: String
        var reason: String
        /// The task itself named the lane or agent (a guardrail then blocks rather than reroutes).
        var insisted: Bool
        /// The first rule that matches, even when the task's explicit choice decided the lane: its
        /// `allow_effects` and implied `effects` still describe the task.
        var matched: RoutingRule?
        var fallback: Lane?
        /// A configuration problem that stops the task (unknown agent or lane, no agent for the lane).
        var problem: String?
        var notes: [String] = []

        mutating func moveToFallback(_ lane: Lane, book: RuleBook, note: String) {
            self.lane = lane
            let agent = book.defaultAgent(for: lane)
            self.agent = agent?.name
            model = agent?.model
            problem = (agent == nil && lane != .human) ? "no agent note for the \(lane) lane; add one in Rules/Agents/" : nil
            notes.append(note)
            fallback = nil
        }
    }

    /// The lane/agent/model before any guardrail: explicit, else first matching rule, else default.
    func choose(_ facts: TaskFacts) -> Choice {
        let matched = firstMatch(facts)
        if facts.agent != nil || facts.lane != nil {
            return explicitChoice(facts, matched: matched?.rule)
        }
        if let (rule, why) = matched {
            let agent = rule.agent.flatMap(book.agent(named:))
            let lane = rule.lane ?? agent?.lane ?? book.guardrails.defaultLane
            let picked = agent ?? (lane == .human ? nil : book.defaultAgent(for: lane))
            var choice = Choice(lane: lane, agent: picked?.name, model: facts.model ?? rule.model ?? picked?.model, rule: rule.path,
                                reason: "\(rule.label) matched \(why) → \(Router.describe(lane: lane, agent: picked?.name))",
                                insisted: false, matched: rule, fallback: rule.fallback)
            if picked == nil && lane != .human { choice.problem = "no agent note for the \(lane) lane; add one in Rules/Agents/" }
            if rule.isBuiltIn { choice.reason = "built-in defaults (no rule notes in Rules/): " + choice.reason }
            return choice
        }
        let lane = book.guardrails.defaultLane
        let picked = lane == .human ? nil : book.defaultAgent(for: lane)
        var choice = Choice(lane: lane, agent: picked?.name, model: facts.model ?? picked?.model, rule: "default",
                            reason: "no rule matched → default \(Router.describe(lane: lane, agent: picked?.name))", insisted: false, matched: nil, fallback: nil)
        if picked == nil && lane != .human { choice.problem = "no agent note for the \(lane) lane; add one in Rules/Agents/" }
        return choice
    }

    private func explicitChoice(_ facts: TaskFacts, matched: RoutingRule?) -> Choice {
        var choice = Choice(lane: book.guardrails.defaultLane, agent: nil, model: facts.model, rule: "explicit", reason: "", insisted: true, matched: matched, fallback: nil)
        if let name = facts.agent {
            guard let agent = book.agent(named: name) else {
                // Its note may be there but skipped (a bad `budget_args`, bad frontmatter): that is what
                // to fix, not a missing note (round 149).
                func named(_ path: String) -> Bool { ((path as NSString).lastPathComponent as NSString).deletingPathExtension.lowercased() == name.lowercased() }
                let skipped = book.problems.first { named($0.path) }
                // Or the note of that name now names another agent (its `name:` edited: round 154).
                let renamed = book.agents.first { $0.sourcePath.map(named) == true }
                choice.problem = skipped.map { "the task names agent '\(name)', whose note \($0.path) is skipped: \($0.message)" }
                    ?? renamed.map { "the task names agent '\(name)', which no agent note in Rules/ defines (\($0.sourcePath ?? "its note") now defines '\($0.name)')" }
                    ?? "the task names agent '\(name)', which no agent note in Rules/ defines"
                choice.reason = "the task names agent \"\(name)\", which is unknown"
                if let lane = Lane(note: facts.lane) { choice.lane = lane }
                return choice
            }
            choice.lane = agent.lane
            choice.agent = agent.name
            choice.model = facts.model ?? agent.model
            choice.reason = "the task names agent \"\(agent.name)\" → \(agent.lane) lane"
            if let written = facts.lane, Lane(note: written) != agent.lane {
                choice.reason += " (its lane: \(written) is ignored: the agent belongs to the \(agent.lane) lane)"
            }
            return choice
        }
        let written = facts.lane ?? ""
        guard let lane = Lane(note: written) else {
            choice.problem = "the task's lane '\(written)' is not one of \(Lane.spelledOut)"
            choice.reason = "the task names lane \"\(written)\", which is unknown"
            return choice
        }
        choice.lane = lane
        let agent = lane == .human ? nil : book.defaultAgent(for: lane)
        choice.agent = agent?.name
        choice.model = facts.model ?? agent?.model
        choice.reason = "the task names the \(lane) lane" + (agent.map { " → agent \($0.name)" } ?? "")
        if agent == nil && lane != .human { choice.problem = "no agent note for the \(lane) lane; add one in Rules/Agents/" }
        return choice
    }

    private static func describe(lane: Lane, agent: String?) -> String {
        "\(lane) lane" + (agent.map { ", agent \($0)" } ?? "")
    }

    // MARK: Rule matching

    /// The first rule (by priority) whose conditions all hold, with what matched in words. A rule's
    /// `when_effects` sees the effects the task's words ask for as if they were declared.
    func firstMatch(_ facts: TaskFacts) -> (rule: RoutingRule, why: String)? {
        let isPrivate = Privacy.reason(for: facts, guardrails: book.guardrails) != nil
        let text = (facts.title + "\n" + facts.body).lowercased()
        var effective = facts
        effective.effects = Router.unique(facts.effects + inferEffects(facts).map(\.effect))
        for rule in book.rules {
            if let why = Router.explainMatch(rule.conditions, facts: effective, isPrivate: isPrivate, loweredText: text) {
                return (rule, why)
            }
        }
        return nil
    }

    /// What matched, in words ("keyword \"fix\" and tag #code"), or `nil` when a condition fails.
    static func explainMatch(_ c: RuleConditions, facts: TaskFacts, isPrivate: Bool, loweredText: String) -> String? {
        var parts: [String] = []
        if !c.types.isEmpty {
            guard let type = facts.type, c.types.contains(type) else { return nil }
            parts.append("type \(type)")
        }
        if !c.tags.isEmpty {
            guard let hit = c.tags.first(where: { wanted in facts.tags.contains { $0 == wanted || $0.hasPrefix(wanted + "/") } }) else { return nil }
            parts.append("tag #\(hit)")
        }
        if !c.folders.isEmpty {
            guard let path = facts.path?.lowercased(),
                  let hit = c.folders.first(where: { $0.isEmpty || path.hasPrefix($0.lowercased() + "/") }) else { return nil }
            parts.append("folder \(hit.isEmpty ? "(vault root)" : hit + "/")")
        }
        if !c.keywords.isEmpty {
            guard let hit = c.keywords.first(where: { containsWord($0, in: loweredText) }) else { return nil }
            parts.append("keyword \"\(hit)\"")
        }
        if let privacy = c.privacy {
            guard (privacy == "private") == isPrivate else { return nil }
            parts.append("privacy \(privacy)")
        }
        if !c.effects.isEmpty {
            guard let hit = c.effects.first(where: facts.effects.contains) else { return nil }
            parts.append("effect \(hit)")
        }
        let size = facts.body.count
        if let max = c.maxChars {
            guard size <= max else { return nil }
            parts.append("prompt ≤ \(max) chars")
        }
        if let min = c.minChars {
            guard size >= min else { return nil }
            parts.append("prompt ≥ \(min) chars")
        }
        return parts.isEmpty ? "every task (no conditions)" : parts.joined(separator: " and ")
    }

    /// Whether `keyword` (lower-cased; a trailing `*` matches any word ending) occurs in `text` as a
    /// whole word or phrase.
    static func containsWord(_ keyword: String, in text: String) -> Bool {
        var word = keyword
        let isPrefix = word.hasSuffix("*")
        if isPrefix { word.removeLast() }
        guard !word.isEmpty else { return false }
        var searchStart = text.startIndex
        while let range = text.range(of: word, range: searchStart..<text.endIndex) {
            let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
            let startsWord = before.map { !isWordCharacter($0) } ?? true
            let endsWord = isPrefix || (after.map { !isWordCharacter($0) } ?? true)
            if startsWord && endsWord { return true }
            searchStart = text.index(after: range.lowerBound)
        }
        return false
    }

    private static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }

    // MARK: Guardrails

    private func applyGuardrails(_ start: Choice, facts: TaskFacts, prompt: String, spend: SpendSnapshot?, mayFallBack: Bool) -> RoutingDecision {
        var choice = start
        let guardrails = book.guardrails
        var verdicts: [GuardVerdict] = []
        var blocked: [String] = []
        var review: [String] = []
        var outgoing: String?

        if let problem = choice.problem { blocked.append(problem) }

        // Lane human: a person does it, or approves it; once approved the named agent (or the
        // default lane's agent) runs it, under every other guardrail.
        var writesApproved = false
        if choice.lane == .human {
            if facts.approved {
                writesApproved = true
                let named = choice.agent.flatMap(book.agent(named:)) ?? choice.matched?.agent.flatMap(book.agent(named:))
                let agent = named ?? book.defaultAgent(for: guardrails.defaultLane)
                choice.lane = agent?.lane ?? guardrails.defaultLane
                choice.agent = agent?.name
                choice.model = facts.model ?? agent?.model
                choice.notes.append("approved by a person → \(Router.describe(lane: choice.lane, agent: agent?.name))")
                if agent == nil { blocked.append("approved, but no agent can run it; name an agent in the rule or add an agent note") }
            } else {
                let after = choice.matched?.agent.map { "agent \($0) runs it" } ?? "the default agent runs it"
                review.append("lane human: a person handles or approves this task; set approved: true and \(after)")
            }
        }

        // Privacy: private work never leaves this machine.
        if let why = Privacy.reason(for: facts, guardrails: guardrails) {
            if choice.lane.keepsWorkLocal {
                verdicts.append(GuardVerdict(name: "privacy", passed: true, detail: "private (\(why)); stays in the \(choice.lane) lane"))
            } else if choice.insisted {
                let named = choice.agent.map { "agent \($0)" } ?? "the \(choice.lane) lane"
                // The browser calls no model, but its answer is a note cloud agents read, and it
                // loads no private file (`VaultPageServer`): "never leaves this machine" misled.
                let browser = choice.agent.flatMap { book.agent(named: $0) }?.output == .browser
                let message = browser
                    ? "private (\(why)) but the task names \(named); the browser loads no private file, and its result is a note cloud agents read — check a page that is not private"
                    : "private (\(why)) but the task names \(named); private work never leaves this machine — remove agent/lane or choose a local agent"
                verdicts.append(GuardVerdict(name: "privacy", passed: false, detail: message))
                blocked.append(message)
            } else if let local = book.defaultAgent(for: .local) {
                let from = choice.lane
                choice.lane = .local
                choice.agent = local.name
                choice.model = local.model
                choice.fallback = nil
                choice.notes.append("privacy: \(why) → rerouted from \(from) to local")
                verdicts.append(GuardVerdict(name: "privacy", passed: true, detail: "private (\(why)); rerouted from the \(from) lane to local agent \(local.name)"))
            } else {
                let message = "private (\(why)) and no local agent exists to run it; add a local agent note"
                verdicts.append(GuardVerdict(name: "privacy", passed: false, detail: message))
                blocked.append(message)
            }
        } else {
            verdicts.append(GuardVerdict(name: "privacy", passed: true, detail: "public: not marked private, no private tag or folder, no private note in its context"))
        }

        // The model of a local run: the agent note's own (`model`, or one of `models`). A task's
        // `model:` naming another could send the text off this machine while the lane keeps
        // private text in and secrets unscanned — Ollama's `…:cloud` models are served by
        // ollama.com, `llm -m gpt-4o` by OpenAI (an outside attack; a cloud agent's `create_task`
        // may set `model` too). Rules and agent notes are the person's own and are trusted.
        if choice.lane.keepsWorkLocal, let requested = facts.model, requested == choice.model,
           let agent = choice.agent.flatMap(book.agent(named:)), agent.usesModel, requested != agent.model, !agent.models.contains(requested) {
            let message = "model \(requested) is not one the agent note of \(agent.name) names (model: \(agent.model ?? "none")\(agent.models.isEmpty ? "" : ", models: " + agent.models.joined(separator: ", "))); on the local lane a model name could send the text off this machine (an Ollama cloud model, llm -m gpt-4o) — add it to models: in \(agent.sourcePath ?? "its agent note") if it runs here"
            verdicts.append(GuardVerdict(name: "model", passed: false, detail: message))
            blocked.append(message)
        }

        // Secrets: only prompts that leave the machine are scanned.
        if choice.lane.keepsWorkLocal {
            verdicts.append(GuardVerdict(name: "secrets", passed: true, detail: "not scanned: the \(choice.lane) lane keeps the prompt on this machine"))
        } else if let path = facts.path, case let named = scanner.scan(path), !named.isEmpty {
            // The note's path cannot be redacted: the agent gets it (`FBT_TASK`), and results and
            // telemetry link it. Blocked whatever `secret_action` says.
            let message = "the note's name holds \(named.count == 1 ? "a secret" : "\(named.count) secrets") (\(SecretScanner.describe(named))); rename the note: its path goes to the agent and into results and telemetry"
            verdicts.append(GuardVerdict(name: "secrets", passed: false, detail: message))
            blocked.append(message)
        } else {
            let findings = scanner.scan(prompt)
            if findings.isEmpty {
                verdicts.append(GuardVerdict(name: "secrets", passed: true, detail: "no secrets found in the outgoing prompt"))
            } else {
                let what = "\(findings.count) \(findings.count == 1 ? "secret" : "secrets"): \(SecretScanner.describe(findings))"
                switch guardrails.secretAction {
                case .block:
                    let message = "outgoing prompt has \(what); remove them, or set secret_action: redact in Rules/Guardrails.md"
                    verdicts.append(GuardVerdict(name: "secrets", passed: false, detail: message))
                    blocked.append(message)
                case .redact:
                    outgoing = scanner.redact(prompt).text
                    choice.notes.append("secrets: redacted \(findings.count)")
                    verdicts.append(GuardVerdict(name: "secrets", passed: true, detail: "redacted \(what)"))
                }
            }
        }

        // Side effects: beyond `read` needs the rule's allow_effects or a person's approval. Effects the
        // task's own words ask for count as declared — whether or not it names its agent or lane.
        let inferred = inferEffects(facts)
        let inferredNote = inferred.isEmpty ? "" : EffectsInference.describe(inferred) + "; "
        let effects = Router.unique(facts.effects + (choice.matched?.impliedEffects ?? []) + inferred.map(\.effect))
        let allowed = Set(choice.matched?.allowEffects ?? [])
        let reviewSet = Set(guardrails.reviewEffects)
        let needing = effects.filter { $0 != SideEffect.read && !allowed.contains($0) && (reviewSet.contains($0) || !SideEffect.all.contains($0)) }
        if needing.isEmpty {
            let allowedUsed = effects.filter { allowed.contains($0) }
            let detail = allowedUsed.isEmpty
                ? (effects.isEmpty ? "no side effects declared (read only)" : "effects \(effects.joined(separator: ", ")) need no review")
                : "effects \(allowedUsed.joined(separator: ", ")) allowed by \(choice.matched!.label)"
            verdicts.append(GuardVerdict(name: "effects", passed: true, detail: inferredNote + detail))
        } else if facts.approved {
            writesApproved = true
            verdicts.append(GuardVerdict(name: "effects", passed: true, detail: inferredNote + "effects \(needing.joined(separator: ", ")) approved by a person (approved: true)"))
        } else {
            let message = inferredNote + "effects \(needing.joined(separator: ", ")) need a person's approval: set approved: true to run"
            verdicts.append(GuardVerdict(name: "effects", passed: false, detail: message))
            review.append(message)
        }

        // Budget: a paid run reserves its maximum cost first.
        var reservation = 0.0
        let agent = choice.agent.flatMap(book.agent(named:))
        let isPaid = choice.lane == .premium || (agent?.isPaid ?? false)
        if choice.lane == .human || !isPaid {
            verdicts.append(GuardVerdict(name: "budget", passed: true, detail: "no paid call in the \(choice.lane) lane"))
        } else if let broken = guardrails.capErrors.first ?? facts.budgetError {
            // A cap that does not parse stops paid runs; it never turns into another cap.
            verdicts.append(GuardVerdict(name: "budget", passed: false, detail: broken))
            blocked.append("budget: " + broken)
        } else {
            let caps = guardrails.caps.limitingTask(to: facts.budgetUSD)
            var estimate = (agent?.maxCostUSD).flatMap { $0 > 0 ? $0 : nil } ?? facts.budgetUSD ?? guardrails.budgetTaskUSD
            // An agent that cannot be told a smaller cap reserves its most (`mostPerRun`).
            if let most = agent?.mostPerRun(taskCapUSD: guardrails.budgetTaskUSD) {
                estimate = most
            } else if let taskCap = caps.taskUSD {
                estimate = min(estimate, taskCap)
                // What the task has left (it may have spent part of its cap, before a handoff): the run
                // reserves that much at most.
                if let spent = spend?.taskCommittedUSD, taskCap - spent > 0 { estimate = min(estimate, taskCap - spent) }
            }
            // A paid run always holds something, so a cap of $0 (or one used up) refuses it.
            estimate = max(estimate, 0.000001)
            reservation = estimate
            if let spend, let refusal = spend.refusal(lane: choice.lane, amount: estimate, caps: caps, taskCommittedUSD: spend.taskCommittedUSD) {
                if mayFallBack, let lane = choice.fallback, lane != choice.lane {
                    var moved = start
                    moved.moveToFallback(lane, book: book, note: "budget: \(refusal) → fell back to the \(lane) lane")
                    return applyGuardrails(moved, facts: facts, prompt: prompt, spend: spend, mayFallBack: false)
                }
                let message = "\(refusal); no fallback lane, so the task waits for review"
                verdicts.append(GuardVerdict(name: "budget", passed: false, detail: message))
                review.append("budget: \(refusal)")
                reservation = 0
            } else if spend != nil {
                verdicts.append(GuardVerdict(name: "budget", passed: true, detail: "reserves \(BudgetLedger.dollars(estimate)) when the run starts; settled spend leaves room under every cap"))
            } else {
                verdicts.append(GuardVerdict(name: "budget", passed: true, detail: "reserves \(BudgetLedger.dollars(estimate)) when the run starts (the ledger checks the caps then)"))
            }
        }

        let action: RoutingAction
        if let first = blocked.first {
            action = .blocked(first)
        } else if !review.isEmpty {
            action = .review(review.joined(separator: "; "))
        } else {
            action = .run
        }
        var reason = choice.reason
        for note in choice.notes { reason += "; " + note }
        if let why = action.reason { reason += "; \(action.name): \(why)" }
        return RoutingDecision(
            lane: choice.lane, agent: choice.agent, model: choice.model, rule: choice.rule,
            reason: reason.replacingOccurrences(of: "\n", with: " "), verdicts: verdicts, action: action,
            outgoingPrompt: outgoing, reservationUSD: action == .run ? reservation : 0,
            fallback: choice.fallback, approved: facts.approved, writesApproved: writesApproved, effects: effects)
    }

    /// The effects the task's title and body ask for (`EffectsInference`). Evidence that quotes
    /// something the secret scanner recognises is not repeated: verdicts go into notes and telemetry.
    func inferEffects(_ facts: TaskFacts) -> [InferredEffect] {
        EffectsInference.infer(facts.title + "\n" + facts.body).map { found in
            scanner.scan(found.evidence).isEmpty ? found : InferredEffect(effect: found.effect, evidence: "[words withheld: they hold a secret]")
        }
    }

    private static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}

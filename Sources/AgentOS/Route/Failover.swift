import Foundation

/// The agents a task moves along when one hits a limit: the chosen agent first, then the matching
/// rule's `failover`, else the agent note's `failover`, else the guardrails' `failover_LANE`.
/// Names no agent note defines are left out.
public enum FailoverChain {
    /// The chain for a task routed to `agent` by the rule at `rulePath` (`explicit`/`default`: none).
    public static func chain(startingWith agent: String, rulePath: String?, book: RuleBook) -> [String] {
        guard let definition = book.agent(named: agent) else { return [agent] }
        let rule = rulePath.flatMap { path in book.rules.first { $0.path == path } }
        let next: [String]
        if let rule, !rule.failover.isEmpty {
            next = rule.failover
        } else if !definition.failover.isEmpty {
            next = definition.failover
        } else {
            next = book.guardrails.failoverChains[definition.lane] ?? []
        }
        var seen: Set<String> = [definition.name.lowercased()]
        var chain = [definition.name]
        for name in next {
            guard let found = book.agent(named: name), seen.insert(found.name.lowercased()).inserted else { continue }
            chain.append(found.name)
        }
        return chain
    }

    /// The chain a failover handoff carries (`failover_chain`), or nil for other notes.
    static func carried(by note: Note) -> [String]? {
        let chain = note.texts("failover_chain")
        return chain.isEmpty ? nil : chain
    }
}

/// Where a failed run's task goes next.
public struct FailoverTarget: Sendable, Equatable {
    /// The next agent, or nil when none of the chain can take the task.
    public var agent: String?
    /// The whole chain, first agent first.
    public var chain: [String]
    /// Why no agent can take it (or which agents were passed over and why), one line.
    public var note: String
    /// The agents passed over because they are cooling down or cannot run here, with why (what a
    /// task's `failovers` line says; a guardrail's reasons are not repeated there).
    public var unavailable: [String] = []
}

extension VaultRouting {
    /// The next agent of the chain for a task whose run on `failedAgent` failed: not tried before
    /// (`tried`), not cooling down, and one the guardrails let run or send to review — private work
    /// never goes to an agent off this machine, effects still need a person. The handoff note the
    /// engine writes is then routed like any other note, so every guardrail applies again there.
    public func failoverTarget(_ task: TaskNote, failedAgent: String, rule: String?, tried: [String], privateRun: Bool = false) -> FailoverTarget {
        let (book, router) = bookAndRouter
        let chain = FailoverChain.carried(by: task.note) ?? FailoverChain.chain(startingWith: failedAgent, rulePath: rule, book: book)
        var facts = TaskFacts.from(note: task.note, path: task.path, vault: vault, ruleBook: book, links: LinkResolver(vault: vault))
        // A run that counts as private (its agent was shown a private note) hands on private work,
        // whatever the task note says: its cloud agents are passed over (the handoff is private).
        if privateRun { facts.privacy = "private" }
        let done = Set((tried + [failedAgent]).map { $0.lowercased() })
        var passed: [String] = []
        var unavailable: [String] = []
        let cooling = cooldownsByAgent()
        for candidate in chain where !done.contains(candidate.lowercased()) {
            if let cooldown = cooling[candidate.lowercased()] {
                passed.append(cooldown.summary)
                unavailable.append(cooldown.summary)
                continue
            }
            // An agent that cannot run here (its CLI not installed, its server down) is passed
            // over as a cooling one is: handed the work, it failed at once with a PATH in its error,
            // and the task ended failed with a usable agent never tried (a tour).
            if let definition = book.agent(named: candidate), let why = availability.unavailableReason(definition) {
                passed.append(why)
                unavailable.append(why)
                continue
            }
            var asked = facts
            asked.agent = candidate
            let decision = router.decide(asked, prompt: task.prompt, spend: nil)
            if case .blocked(let why) = decision.action {
                passed.append("\(candidate): \(why)")
                continue
            }
            return FailoverTarget(agent: candidate, chain: chain, note: passed.joined(separator: "; "), unavailable: unavailable)
        }
        let why = chain.count <= 1 ? "no failover chain for \(failedAgent) (set failover: on its agent note or rule, or failover_LANE in Rules/Guardrails.md)"
            : "no agent of the chain \(chain.joined(separator: " → ")) can take it" + (passed.isEmpty ? "" : ": " + passed.joined(separator: "; "))
        return FailoverTarget(agent: nil, chain: chain, note: why)
    }

    /// `Router.skippingCoolingAgents` with the cooldowns in the run store now.
    func skippingCoolingAgents(_ decision: RoutingDecision, task: TaskNote, facts: TaskFacts, prompt: String, spend: SpendSnapshot?, book: RuleBook, router: Router) -> RoutingDecision {
        router.skippingCoolingAgents(decision, carriedChain: FailoverChain.carried(by: task.note), facts: facts, prompt: prompt, spend: spend, cooling: cooldownsByAgent(),
                                     sender: Router.sender(of: task), cannotRun: { [availability] name in book.agent(named: name).flatMap { availability.unavailableReason($0) } })
    }

    /// Agents cooling down now, by lower-cased name.
    func cooldownsByAgent() -> [String: Cooldown] {
        var result: [String: Cooldown] = [:]
        for cooldown in (try? runStore?.cooldowns()) ?? [] { result[cooldown.agent.lowercased()] = cooldown }
        return result
    }

}

extension Router {
    /// A decision whose agent is cooling down, moved to the next agent of its chain that is not and
    /// that the guardrails let run (or send to review); with none, the task waits in review saying
    /// when the agents are available again. Decisions whose agent is not cooling are returned as they are.
    /// `cooling` holds the cooldowns by lower-cased agent name; `carriedChain` is a failover
    /// handoff's own chain. Pure, as the rest of the router: the caller reads the run store.
    /// The agent a person's handoff comes from (`from`), whom its work never moves back to while
    /// the agent it names cools down; `nil` for other notes and for a failover's handoff.
    public static func sender(of task: TaskNote) -> String? {
        guard task.kind == .handoff, task.note.text("failover_of") == nil else { return nil }
        return task.note.text("from")
    }

    /// `sender`: a handoff's `from` agent, passed over too (a handoff to claude for a second opinion,
    /// with claude cooling down, went back to codex, who reviewed its own fix: a tour).
    /// `cannotRun` says why an agent cannot run on this machine (its CLI not installed): it is
    /// passed over as a cooling one is, as a failover passes it over (`failoverTarget`).
    public func skippingCoolingAgents(_ decision: RoutingDecision, carriedChain: [String]?, facts: TaskFacts, prompt: String, spend: SpendSnapshot?, cooling: [String: Cooldown],
                                      sender: String? = nil, cannotRun: (String) -> String? = { _ in nil }) -> RoutingDecision {
        guard decision.action == .run, let agent = decision.agent else { return decision }
        guard let first = cooling[agent.lowercased()] else { return decision }
        let chain = carriedChain ?? FailoverChain.chain(startingWith: agent, rulePath: decision.rule, book: book)
        var passed = [first.summary]
        for candidate in chain.drop(while: { $0.lowercased() != agent.lowercased() }).dropFirst() {
            if let cooldown = cooling[candidate.lowercased()] {
                passed.append(cooldown.summary)
                continue
            }
            if let sender, candidate.lowercased() == sender.lowercased() {
                passed.append("\(candidate): it handed the work off")
                continue
            }
            if let why = cannotRun(candidate) {
                passed.append(why)
                continue
            }
            var asked = facts
            asked.agent = candidate
            var moved = decide(asked, prompt: prompt, spend: spend)
            if case .blocked(let why) = moved.action {
                passed.append("\(candidate): \(why)")
                continue
            }
            moved.rule = decision.rule
            moved.reason = decision.reason + "; cooling down: " + passed.joined(separator: "; ") + " → \(candidate), next in the failover chain \(chain.joined(separator: " → "))"
            return moved
        }
        var held = decision
        let why = "cooling down: " + passed.joined(separator: "; ") + (chain.count > 1 ? " (the whole failover chain \(chain.joined(separator: " → ")))" : "; no failover chain to move to")
        held.action = .review(why + "; set status: new once one is available again, or clear a cooldown with 'fuckbigtech agent reset NAME'")
        held.reason = decision.reason + "; " + why
        held.reservationUSD = 0
        return held
    }
}

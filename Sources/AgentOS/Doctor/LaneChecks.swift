import Foundation

/// The `lanes` check of `doctor`: every lane (premium, local, tool, human, and the browser the
/// browser agent drives), the agents each has and whether they can run on this machine, and which
/// rules send work there.
///
/// A lane that cannot run here is reported (`warn`); it fails `doctor` only when work is routed to
/// an agent that cannot run — a rule naming it, or the default lane's agent for tasks no rule
/// matches — because those tasks would wait in review until someone fixes it.
enum LaneChecks {
    /// Where one route leads: the rule (or the default) and the agent it names.
    struct Route: Equatable {
        /// The rule's name, or `nil` for "tasks no rule matches" (the default lane).
        let rule: String?
        /// The agent the route runs, or `nil` when the lane has none.
        let agent: String?
    }

    /// The findings: one per lane, then the browser.
    static func run(_ context: DoctorContext) -> [DoctorFinding] {
        let book = RuleBook.load(vault: context.vault)
        let availability = AgentAvailability(environment: context.environment, probeTimeout: context.ollamaTimeout)
        var findings = [Lane.premium, .local, .tool].map { finding(for: $0, book: book, availability: availability) }
        findings.append(human(book))
        findings.append(browser(book, environment: context.environment))
        return findings
    }

    /// The routes into `lane`: every rule whose lane it is, and the default when it is the default lane.
    static func routes(into lane: Lane, book: RuleBook) -> [Route] {
        var routes = book.rules.filter { $0.lane == lane }.map { Route(rule: $0.name, agent: $0.agent ?? book.defaultAgent(for: lane)?.name) }
        if book.guardrails.defaultLane == lane { routes.append(Route(rule: nil, agent: book.defaultAgent(for: lane)?.name)) }
        return routes
    }

    /// "'Premium for code and judgment' and tasks no rule matches".
    static func describe(_ routes: [Route]) -> String {
        let names = routes.map { $0.rule.map { "'\($0)'" } ?? "tasks no rule matches" }
        guard names.count > 1 else { return names.first ?? "nothing" }
        return names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    /// One lane's line: its agents and whether each can run, the routes into it, and the verdict.
    static func finding(for lane: Lane, book: RuleBook, availability: AgentAvailability) -> DoctorFinding {
        let agents = book.agents.filter { $0.lane == lane }
        var problems: [String: String] = [:]
        for agent in agents { problems[agent.name.lowercased()] = availability.unavailableReason(agent) }
        // A rule may name an agent of another lane (the router runs it in the rule's lane); judge it too.
        for route in routes(into: lane, book: book) {
            if let name = route.agent, problems[name.lowercased()] == nil, let agent = book.agent(named: name),
               let problem = availability.unavailableReason(agent) { problems[name.lowercased()] = problem }
        }
        // An HTTP agent that can run says which server answered.
        let listed = agents.map { agent in
            guard problems[agent.name.lowercased()] == nil else { return "\(agent.name) not usable" }
            return agent.output.isHTTP ? "\(agent.name) usable (\(agent.endpoint ?? "?") answers)" : "\(agent.name) usable"
        }
        let agentText = listed.isEmpty ? "no agent notes" : "agents: " + listed.joined(separator: ", ")
        let routes = routes(into: lane, book: book)
        let routedText = routes.isEmpty ? "no rule routes work here" : "routed here: " + describe(routes)
        let summary = "\(lane.rawValue) — \(agentText); \(routedText)"

        let stuck = routes.filter { route in route.agent.map { problems[$0.lowercased()] != nil } ?? true }
        if let first = stuck.first {
            let agent = first.agent ?? "no agent"
            let fix = first.agent.flatMap { problems[$0.lowercased()] } ?? "add an agent note with lane: \(lane.rawValue) in Rules/Agents/"
            return DoctorFinding(check: "lanes", status: .fail,
                                 finding: "\(summary). \(agent) cannot run here, so work from \(describe(stuck)) waits in review",
                                 fix: fix + "; or change those rules so they route to an agent that can run")
        }
        let usable = agents.filter { problems[$0.name.lowercased()] == nil }
        if usable.isEmpty {
            let fix = agents.first.flatMap { problems[$0.name.lowercased()] } ?? "add an agent note with lane: \(lane.rawValue) in Rules/Agents/ if you want this lane"
            return DoctorFinding(check: "lanes", status: .warn, finding: "\(summary). Not usable on this machine (nothing is routed to it)", fix: fix)
        }
        return DoctorFinding(check: "lanes", status: .ok, finding: summary)
    }

    /// The human lane needs nothing installed: its tasks wait in review.
    static func human(_ book: RuleBook) -> DoctorFinding {
        let routes = routes(into: .human, book: book)
        let routedText = routes.isEmpty ? "no rule routes work here" : "routed here: " + describe(routes)
        return DoctorFinding(check: "lanes", status: .ok, finding: "human — always usable: its tasks wait in review for a person; \(routedText)")
    }

    /// The browser the browser agent drives: found on `PATH` or not. Missing fails only when a rule
    /// names the `browser` agent.
    static func browser(_ book: RuleBook, environment: [String: String]) -> DoctorFinding {
        let rules = book.rules.filter { $0.agent?.lowercased() == "browser" }
        let routedText = rules.isEmpty ? "no rule names the browser agent" : "routed there: " + describe(rules.map { Route(rule: $0.name, agent: "browser") })
        if let found = Chromium.find(environment: environment) {
            return DoctorFinding(check: "lanes", status: .ok, finding: "browser — \(found) can run headless screenshots; \(routedText)")
        }
        let fix = "install Chromium (apt install chromium) or Google Chrome for UI checks and screenshots"
        if rules.isEmpty {
            return DoctorFinding(check: "lanes", status: .warn, finding: "browser — none of \(Chromium.programNames.joined(separator: ", ")) is on PATH; \(routedText)", fix: fix)
        }
        return DoctorFinding(check: "lanes", status: .fail, finding: "browser — none of \(Chromium.programNames.joined(separator: ", ")) is on PATH, so work from \(routedText.dropFirst("routed there: ".count)) waits in review", fix: fix)
    }
}

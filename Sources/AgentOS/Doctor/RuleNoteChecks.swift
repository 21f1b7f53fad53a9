import Foundation

/// Checks every note in `Rules/` with the parsers the OS runs on: the rule book that routing and
/// the runner load (rules, agent definitions, guardrails, each malformed note reported and
/// skipped) — so doctor reports exactly what would stop a task.
enum RuleNoteChecks {
    /// The `rules` check.
    static func run(_ context: DoctorContext) -> [DoctorFinding] {
        let rulesPath = context.vault.root + "/" + Vault.Layout.rules
        guard let status = (try? FileSystem.status(rulesPath)) ?? nil, status.kind == .directory else {
            return [DoctorFinding(check: "rules", status: .warn, finding: "no \(Vault.Layout.rules)/ folder, so the built-in defaults apply and no agent is defined", fix: "run 'fuckbigtech init' to add the default rules and agents")]
        }
        let book = RuleBook.load(vault: context.vault)
        var findings: [DoctorFinding] = []
        for problem in book.problems {
            // A note or rule the OS skips is a failure; a setting it replaces with a default is a warning.
            let skipped = problem.message.contains("skipped") || problem.message.contains("cannot read") || problem.message.contains("bad frontmatter")
                // A budget cap that does not parse blocks every paid run: a failure, never a warning.
                || book.guardrails.capErrors.contains(problem.description)
            let fix = problem.message.contains("bad frontmatter")
                ? "correct the frontmatter of \(problem.path) (Obsidian's source mode shows the raw YAML)"
                : "edit \(problem.path); docs/notes.md lists each field"
            findings.append(DoctorFinding(check: "rules", status: skipped ? .fail : .warn, finding: problem.description, fix: fix))
        }
        // Only when no guardrails note is there at all: a broken one (or one gone) closes privacy
        // and blocks paid runs (said above, with its line), and `init` would not touch it (a tour:
        // "the built-in budget caps apply" and "run init" beside "paid runs are blocked").
        if book.guardrails.path == nil, book.guardrails.capErrors.isEmpty, book.guardrails.privacyErrors.isEmpty {
            findings.append(DoctorFinding(check: "rules", status: .warn, finding: "no guardrails note, so the built-in budget caps apply", fix: "run 'fuckbigtech init' to add Rules/Guardrails.md"))
        }
        findings += budgetRoom(book)
        // Agents cooling down after a limit: routing skips them (read only when a run store exists,
        // so doctor never makes one).
        if ((try? FileSystem.status(context.vault.stateDirectory + "/runs.sqlite")) ?? nil) != nil {
            for cooldown in (try? RunStore(vault: context.vault).cooldowns()) ?? [] {
                findings.append(DoctorFinding(check: "rules", status: .warn, finding: "\(cooldown.summary); routing skips it to the next agent of its failover chain (\(cooldown.reason))",
                                              fix: "wait, or 'fuckbigtech agent reset \(cooldown.agent)' once the limit is lifted"))
            }
        }
        if !findings.contains(where: { $0.status == .fail }) {
            let summary = "rules load: \(book.agents.count) agents, \(book.rules.count) rules, guardrails from \(book.guardrails.path ?? "the built-in defaults")"
            findings.insert(DoctorFinding(check: "rules", status: .ok, finding: summary), at: 0)
        }
        return findings
    }
}

extension RuleNoteChecks {
    /// An agent that cannot be told a smaller cap (no `budget_args`) reserves its whole
    /// `max_cost_usd` each run (`AgentDefinition.mayReserveLess`): a cap below that sends every task
    /// routed to it to review, and a task cap below twice that sends a task handed to it after the
    /// first agent spent part of the cap to review (a vault made before the shipped task cap became
    /// $2: claude → codex waited for a person after any spend, and nothing said why).
    static func budgetRoom(_ book: RuleBook) -> [DoctorFinding] {
        let caps = book.guardrails.caps
        let note = book.guardrails.path ?? "Rules/Guardrails.md"
        var findings: [DoctorFinding] = []
        // A CLI that reports what it spent, in a note that declares nothing to spend: it runs as
        // free, so nothing is reserved before it starts (its reported cost is counted after).
        for agent in book.agents.sorted(by: { $0.name < $1.name }) where agent.lane != .premium && [.claudeJSON, .opencodeJSONL].contains(agent.output)
            && agent.priceInPerMillionTokens == nil && agent.priceOutPerMillionTokens == nil && (agent.maxCostUSD ?? 0) <= 0 {
            findings.append(DoctorFinding(check: "rules", status: .warn, finding: "agent '\(agent.name)' (output: \(agent.output.rawValue)) reports what its runs cost, but its note declares no prices and no max_cost_usd, so it runs as free: nothing is reserved before it starts and the caps do not hold it back (what it reports is counted after)", fix: "set max_cost_usd (the most one run may spend) in \(agent.path), or price_in_per_mtok: 0 if it only runs free models"))
        }
        for agent in book.agents.sorted(by: { $0.name < $1.name }) where agent.lane == .premium || agent.isPaid {
            guard let most = agent.mostPerRun(taskCapUSD: book.guardrails.budgetTaskUSD) else { continue }
            guard (agent.maxCostUSD ?? 0) > 0 else {
                // Nothing bounds what its run spends: it holds a whole task's cap.
                findings.append(DoctorFinding(check: "rules", status: .warn, finding: "agent '\(agent.name)' is paid but has neither budget_args nor max_cost_usd, so each run reserves the whole budget_task_usd \(BudgetLedger.dollars(most)) and a task with a smaller budget_usd waits in review", fix: "set max_cost_usd (the most one run may spend) in \(agent.path)"))
                continue
            }
            let named: [(key: String, cap: Double?)] = [
                ("budget_task_usd", caps.taskUSD), ("budget_day_usd", caps.dayUSD), ("budget_month_usd", caps.monthUSD),
                ("budget_\(agent.lane.rawValue)_day_usd", caps.laneDayUSD[agent.lane]), ("budget_\(agent.lane.rawValue)_month_usd", caps.laneMonthUSD[agent.lane]),
            ]
            let reserves = "agent '\(agent.name)' cannot be told a smaller cap (no budget_args), so each run reserves its max_cost_usd \(BudgetLedger.dollars(most))"
            let fix = "lower max_cost_usd in \(agent.path), or raise the cap in \(note)"
            if let low = named.first(where: { ($0.cap ?? .infinity) < most }) {
                findings.append(DoctorFinding(check: "rules", status: .warn, finding: "\(reserves), more than \(low.key) \(BudgetLedger.dollars(low.cap ?? 0)): every task routed to it waits in review", fix: fix))
            } else if let task = caps.taskUSD, task < 2 * most {
                let after = task - most < 0.005 ? "any spend" : "more than \(BudgetLedger.dollars(task - most)) was spent"
                findings.append(DoctorFinding(check: "rules", status: .warn, finding: "\(reserves) of budget_task_usd \(BudgetLedger.dollars(task)): a task handed to it after \(after) waits in review", fix: fix))
            }
        }
        return findings
    }
}

/// Finding files for the checks without following symlinks or entering dot-folders.
enum DoctorFiles {
    /// How many folders `root` holds, itself included, leaving out dot-folders (the watcher's count).
    static func folderCount(under root: String) -> Int {
        var count = 1
        walk(root, relative: "") { _, kind in if kind == .directory { count += 1 } }
        return count
    }

    private static func walk(_ root: String, relative: String, visit: (String, FileStatus.Kind) -> Void) {
        let folder = relative.isEmpty ? root : root + "/" + relative
        guard let entries = try? FileSystem.list(folder) else { return }
        for entry in entries where !entry.name.hasPrefix(".") {
            let child = relative.isEmpty ? entry.name : relative + "/" + entry.name
            guard let kind = entry.kind ?? ((try? FileSystem.status(root + "/" + child)) ?? nil)?.kind else { continue }
            visit(child, kind)
            if kind == .directory { walk(root, relative: child, visit: visit) }
        }
    }
}

import AgentOS
import Foundation

/// `route TEXT|NOTE [--json]`: shows where a task would go and why, without running anything.
enum RouteCommand {
    /// The command's name, help and options.
    static let spec = CommandSpec(
        name: "route",
        summary: "show the lane, agent and rule a task would get, and every guardrail's verdict",
        forms: [CommandForm(arguments: "TEXT|NOTE", max: nil)],
        options: [.json("the same as one JSON object")],
        description: """
        Prints the lane, agent and model a task would get, the rule that decided, the reason, and each
        guardrail's verdict (privacy, secrets, effects, budget). Runs nothing and changes no note.

          NOTE     a note path (an existing file, or any path ending in .md): routed with its
                   properties and the notes it links to
          TEXT     anything else: routed as the prompt of a new task (several words need no quotes)

        Rules, agents and guardrails are read from the vault's Rules/ folder; without it the built-in
        defaults are used, and the output says so. Malformed rule notes are listed and skipped.
        """,
        run: run
    )

    /// Routes the argument (note or text) and prints the decision.
    static func run(_ context: CommandContext) throws -> Int32 {
        let words = context.arguments.positionals
        guard !words.isEmpty else { throw CLIError.usage("give a prompt or a note path; see 'fuckbigtech route --help'") }
        let vault = context.vault
        // Inside a cloud agent's run, a private note is not routed and no private note is named.
        let visibility = NoteVisibility(vault: vault, environment: context.environment)
        let preview: RoutePreview
        if let relative = try notePath(words, vault: vault, visibility: visibility) {
            if let line = visibility.unseen(relative) { throw CLIError.failure(line) }
            preview = try RoutePreview.note(at: relative, vault: vault, readingNames: visibility.hiddenBecause == nil)
            // A note linking a private note and one linking none get one answer too.
            if let line = visibility.unseenLink(in: preview.facts) { throw CLIError.failure("\(relative): \(line)") }
        } else {
            // (A name written without a link is not read inside a cloud run: `MCPTools.route`.)
            preview = RoutePreview.text(words.joined(separator: " "), vault: vault, readingNames: visibility.hiddenBecause == nil)
            // Inside a cloud run, a link to a private note and a link to none get one answer.
            if let line = visibility.unseenLink(in: preview.facts) { throw CLIError.failure(line) }
        }
        let (book, facts, decision, approval, wontRun) = (preview.book, preview.facts, preview.decision, preview.approval, preview.wontRun)
        let shown = visibility.withholdingNames(of: facts.privateSources)
        // A run shown the private notes' names (a local one) was shown private text: it is private from then on.
        if visibility.hiddenBecause == nil, !facts.privateSources.isEmpty, let runID = RunWriteGuard.runID(in: context.environment) {
            try RunTaint.record(runID, vault: vault)
        }
        let console = context.console.redacting(shown)

        if context.json {
            var pairs: [(String, JSON)] = [("task", facts.path.map { .string($0) } ?? .null)]
            if case .object(let rest) = decision.json { pairs += rest }
            if let outgoing = decision.outgoingPrompt { pairs.append(("outgoing_prompt", .string(outgoing))) }
            if let why = approval.refusal { pairs.append(("approval_not_counted", .string(why))) }
            if facts.path != nil { pairs.append(("will_run", .bool(wontRun == nil))) }
            if let wontRun { pairs.append(("will_not_run", .string(wontRun))) }
            pairs.append(("machines", .array(preview.machines.map { .string($0) })))
            if let approved = approval.approval { pairs.append(("approved_by", .string(approved.by))) }
            pairs.append(("failover_chain", .array(preview.chain.map { .string($0) })))
            pairs.append(("cooling", .array(preview.cooling.map { .object([("agent", .string($0.agent)), ("failure", .string($0.failure.rawValue)), ("until", .string(LocalTime.dateTime($0.until)))]) })))
            pairs.append(("built_in", .array(book.builtInParts.map { .string($0) })))
            pairs.append(("problems", .array(book.problems.map { .object([("path", .string($0.path)), ("message", .string($0.message))]) })))
            console.print(JSON.object(pairs).pretty)
            return 0
        }

        if let path = facts.path { console.print("task:     \(path)") }
        if let wontRun { console.print("runs:     \(console.color("no", .yellow)) — this note will not run: \(wontRun); the route below is what would happen if it did") }
        console.print("lane:     \(console.color(decision.lane.rawValue, .bold))")
        console.print("agent:    \(decision.agent ?? "none")")
        console.print("model:    \(decision.model ?? "the agent's default")")
        console.print("rule:     \(decision.rule)")
        console.print("reason:   \(decision.reason)")
        let actionColor: Console.ColorCode = decision.action == .run ? .green : (decision.action.name == "review" ? .yellow : .red)
        console.print("action:   \(console.color(decision.action.name, actionColor))" + (decision.action.reason.map { " — \($0)" } ?? ""))
        console.print("machines: \(preview.machines.joined(separator: ", "))")
        if decision.reservationUSD > 0 { console.print("reserve:  \(BudgetLedger.dollars(decision.reservationUSD)) when the run starts") }
        if preview.chain.count > 1 { console.print("failover: \(preview.chain.joined(separator: " → ")) (on a usage limit, rate limit, overload, bad key or timeout)") }
        for cooldown in preview.cooling { console.print("cooling:  \(console.color(cooldown.summary, .yellow))") }
        for broken in book.guardrails.capErrors { console.print("budget:   \(console.color("cap does not parse", .red)) — \(broken)") }
        if let why = approval.refusal {
            console.print("approval: \(console.color(why, .yellow))")
        } else if let approved = approval.approval {
            console.print("approval: approved by \(approved.by) at \(LocalTime.dateTime(approved.at)), after the review of run \(approved.reviewRunID)")
        }
        console.print("guardrails:")
        for verdict in decision.verdicts {
            let mark = verdict.passed ? console.color("ok  ", .green) : console.color("STOP", .red)
            console.print("  \(verdict.name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(mark) \(verdict.detail)")
        }
        if book.hasNoRulesFolder {
            console.print("note: no \(Vault.Layout.rules)/ folder in \(vault.root); using the built-in defaults")
        } else if !book.builtInParts.isEmpty {
            console.print("note: \(Vault.Layout.rules)/ has no \(book.builtInParts.joined(separator: " or ")) notes; using the built-in ones")
        }
        if !book.problems.isEmpty {
            console.print("problems in \(Vault.Layout.rules)/ (these notes or keys are skipped):")
            for problem in book.problems { console.print("  \(problem.description)") }
        }
        return 0
    }

    /// The vault-relative path when the argument names a note: an existing file, or anything ending
    /// in `.md` (which must then exist). `nil` means: route the words as a prompt.
    private static func notePath(_ words: [String], vault: Vault, visibility: NoteVisibility) throws -> String? {
        guard words.count == 1, let word = words.first, !word.contains("\n") else { return nil }
        let looksLikeNote = word.lowercased().hasSuffix(".md")
        let resolved: (absolute: String, relative: String)
        do { resolved = try vault.resolveUserPath(word) } catch {
            if looksLikeNote { throw CLIError.failure(error.description) }
            return nil
        }
        let status = (try? FileSystem.status(resolved.absolute)) ?? nil
        if status?.kind == .file { return resolved.relative }
        if looksLikeNote { throw CLIError.failure(visibility.unseen(resolved.relative) ?? "\(word): no such note in \(vault.root)") }
        return nil
    }
}

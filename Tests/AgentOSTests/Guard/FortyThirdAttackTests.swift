import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The forty-third outside attacks on the release binary (`/work/attack82-report.md` and
/// `/work/attack83-report.md`), each finding written as the attack it was.
@Suite struct FortyThirdAttackTests {
    /// Attack (medium): a task's `model:` went to the local agent as written, and a model name can
    /// send the text off the machine — `gpt-oss:120b-cloud` through a local Ollama goes to
    /// ollama.com — while the local lane keeps private text in and secrets unscanned; a cloud agent
    /// could ask for it with `create_task`. On the local lane only the agent note's `model` or one
    /// of its `models` runs; the rest is blocked with the reason.
    @Test func aTaskCannotSendALocalRunToAModelItsAgentNoteDoesNotName() throws {
        let v = RouteTestVault()
        for (text, blocked) in [
            ("---\ntype: task\nagent: ollama\nmodel: gpt-oss:120b-cloud\ntags: [private]\n---\nSummarise my bank notes.\n", true),
            ("---\ntype: task\nagent: ollama\nmodel: gpt-oss:120b-cloud\n---\nHow does the deploy pipeline authenticate?\n", true),
            ("---\ntype: task\nlane: local\nmodel: gpt-4o\n---\nSummarise my notes.\n", true),
            ("---\ntype: task\nagent: ollama\nmodel: llama3.2\ntags: [private]\n---\nSummarise my bank notes.\n", false),
            ("---\ntype: task\nagent: ollama\ntags: [private]\n---\nSummarise my bank notes.\n", false),
            // A cloud agent's model is its own business: the prompt is scanned and nothing private goes.
            ("---\ntype: task\nagent: claude\nmodel: opus\n---\nReview the parser.\n", false),
        ] {
            let decision = v.route("Tasks/m.md", text)
            #expect((decision.action.name == "blocked") == blocked, "\(text) → \(decision.action) \(decision.verdicts)")
            if blocked {
                #expect(decision.verdicts.contains { $0.name == "model" && !$0.passed && $0.detail.contains("models:") }, "\(decision.verdicts)")
            }
        }
        // Named in the agent note's `models`, it runs.
        var agent = try String(contentsOfFile: v.root + "/Rules/Agents/ollama.md", encoding: .utf8)
        agent = agent.replacingOccurrences(of: "model: llama3.2\n", with: "model: llama3.2\nmodels: [qwen3:8b]\n")
        v.write("Rules/Agents/ollama.md", agent)
        #expect(v.route("Tasks/m.md", "---\ntype: task\nagent: ollama\nmodel: qwen3:8b\ntags: [private]\n---\nSummarise.\n").action.name != "blocked")
        #expect(v.route("Tasks/m.md", "---\ntype: task\nagent: ollama\nmodel: qwen3:8b-cloud\ntags: [private]\n---\nSummarise.\n").action.name == "blocked")
    }

    /// Attack (low): a carriage return in a task's `model:` went raw into the day's telemetry
    /// table, cutting the row and forging a line. A cell holds no character that ends a line.
    @Test func aTelemetryCellHoldsNoLineBreakOfAnyKind() {
        #expect(TelemetryWriter.cell("llama\rpremium $4.50|x\u{2028}y\u{0B}z\n") == "llama premium $4.50\\|x y z ")
    }

    /// Found beside (low): a sync tool's conflicting copy of a routing rule was loaded as a live
    /// rule, so a rule deleted or changed here went on routing through its copy. A copy is a
    /// problem with its note, and not used.
    @Test func aConflictingCopyOfARuleIsNotUsed() {
        let v = RouteTestVault()
        v.write("Rules/Routing/Deploys.sync-conflict-20261206-101010-ABCDEFG.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [zamboni]\nagent: claude\n---\nAn old copy.\n")
        let book = v.book
        #expect(!book.rules.contains { $0.path.contains("sync-conflict") })
        #expect(book.problems.contains { $0.path.contains("sync-conflict") && $0.message.contains("conflicting copy") }, "\(book.problems)")
        #expect(v.route("Tasks/z.md", "---\ntype: task\n---\nPolish the zamboni.\n").agent != "claude")
    }

    /// A token of GitHub's shape (`ghp_` and 36 more), not a real one.
    static let token = FortySecondAttackTests.token

    /// Attack (medium): the cut's word was narrower than the scanner's token: a token split by a
    /// zero-width space or `<wbr>`, or wrapped onto a `> ` or an indented line, was cut after its
    /// first part (`ghp_` + 29: one of 62) and sent, while the scanner blocks it whole. The text
    /// around a cut is scanned, and a secret across it moves the cut before it.
    @Test(arguments: [
        ("zero-width space", "\u{200B}"),
        ("wbr", "<wbr>"),
        ("quote wrapped", "\n> "),
        ("list wrapped", "\n  "),
        ("soft hyphen entity", "&shy;"),
    ])
    func aCutNeverSendsPartOfATokenTheScannerJoins(_ form: String, _ split: String) throws {
        let first = String(Self.token.prefix(33)), rest = String(Self.token.dropFirst(33))
        let lead = (form.contains("quote") ? "> " : form.contains("list") ? "- " : "") + String(repeating: "word ", count: 40) + "deploy token "
        let text = lead + first + split + rest + " and rotates monthly\nmore text after it\n"
        let scanner = SecretScanner()
        #expect(!scanner.scan(text).isEmpty, "\(form): the scanner reads the token whole")
        // Cut anywhere from inside the first part to just after it.
        let start = lead.utf8.count
        for limit in (start + 1)...(start + first.utf8.count + 1) {
            let cut = ContextPacketBuilder.cut(text, toBytes: limit, scanner: scanner)
            #expect(!cut.contains("ghp_"), "\(form), cut at \(limit): …\(cut.suffix(40))")
        }
    }

    /// The same through a packet: a memory note whose token, split by a zero-width space, lies
    /// across the piece's cut at 2,400 bytes.
    @Test func aMemoryPieceCutAcrossASplitTokenSendsNoPartOfIt() throws {
        let v = RouteTestVault()
        let first = String(Self.token.prefix(33)), rest = String(Self.token.dropFirst(33))
        let lead = "The zorblax pump bot uses " + String(repeating: "word ", count: 466)
        let pad = String(repeating: "x", count: max(0, 2_400 - lead.utf8.count - first.utf8.count - 6))
        v.write("Memory/zorblax.md", lead + pad + " tok " + first + "\u{200B}" + rest + " and rotates monthly " + String(repeating: "tail ", count: 200) + "\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\nWhat should the zorblax pump bot do next?\n")
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan))
        #expect(!plan.prompt.contains("ghp_"), "\(plan.prompt.suffix(200))")
    }

    /// Day logs in which a line Markdown renders as a rule, raw HTML or code text ended a private
    /// section in the OS's reading; the item about the task below (DAILYMARK) was sent.
    static let stillCovered: [String] = [
        // A `---` or `===` under a line continuing an item, after a blank line, or under a callout.
        "## Therapy #private\n- [[Tasks/Public]] control booked the clinic\nsee the letter\n---\n- [[Tasks/Public]] DAILYMARK lazy\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "## Therapy #private\n- [[Tasks/Public]] control booked\n\n  Dr Weber said to wait\n---\n- [[Tasks/Public]] DAILYMARK blank\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "## Therapy #private\n- [[Tasks/Public]] control booked\nsee the letter\n===\n- [[Tasks/Public]] DAILYMARK equals\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "## Therapy #private\n> [!note] Clinic\n> see the letter\n---\n- [[Tasks/Public]] DAILYMARK callout\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        // A `# …` line inside a `<pre>` block.
        "## Therapy #private\n<pre>\n# nightly pump log\n</pre>\n- [[Tasks/Public]] DAILYMARK pre\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        // `%%` inside code spans opens no comment.
        "- [[Tasks/Public]] a note: comments use `%%` in Obsidian\n## Therapy #private\n- [[Tasks/Public]] DAILYMARK code span\n- see `printf(\"%%d\")`\n- [[Tasks/Public]] DAILYMARK after\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
    ]

    @Test(arguments: stillCovered)
    func aRuleRawHTMLOrACodeSpanDoesNotEndAPrivateSection(_ log: String) throws {
        try FortySecondAttackTests.expectCovered(log)
    }

    /// A paragraph line underlined is still a heading.
    @Test func aParagraphUnderlinedIsStillAHeading() throws {
        let prompt = try FortySecondAttackTests.prompt(withDayLog: "Health #private\n---\n- [[Tasks/Public]] DAILYMARK under\n\nWork\n===\n- [[Tasks/Public]] public follow-up\n")
        #expect(!prompt.contains("DAILYMARK"))
        #expect(prompt.contains("public follow-up"), "\(prompt)")
    }

    /// Round 44 (medium), on the round-43 fix: a work note a waiting task's packet carries was
    /// stamped by its prompt (comments removed) and routing keys only, so making it private with a
    /// `%% #private %%` comment, a `sources:` naming a private note or a merge key's tags went
    /// unseen, and the waiting task ran on claude with it. The OS's own route lines still change
    /// nothing; anything a person writes does.
    @Test func aWorkNoteAPacketCarriesIsStampedByAllAPersonWrites() throws {
        let env = try EngineTestVault()
        let path = "Tasks/Linked.md"
        let base = "---\ntype: task\nstatus: done\n---\nThe orchard notes. %% notes %%\n"
        try env.writeAsAnotherProgram(base, to: path)
        let stamps = TaskEngine.stamps(of: [path], vault: env.vault)
        // The OS routes and runs it: no change.
        try env.writeAsAnotherProgram("---\ntype: task\nstatus: routed\nrun_id: 20261206-000000-abcdef\nroute_lane: local\nroute_agent: echo\nroute_rule: default\nroute_reason: x\nstarted: 2026-12-06T06:00:00Z\n---\nThe orchard notes. %% notes %%\n", to: path)
        #expect(TaskEngine.changedInput(stamps, vault: env.vault) == nil)
        for edited in [
            "---\ntype: task\nstatus: done\n---\nThe orchard notes. %% #private %%\n",
            "---\ntype: task\nstatus: done\nsources: [\"[[Private/Bank]]\"]\n---\nThe orchard notes. %% notes %%\n",
            "---\ntype: task\nstatus: done\n<<: {tags: [private]}\n---\nThe orchard notes. %% notes %%\n",
            "---\ntype: task\nstatus: done\nhandoff: \"[[Handoffs/Secret]]\"\n---\nThe orchard notes. %% notes %%\n",
        ] {
            try env.writeAsAnotherProgram(edited, to: path)
            #expect(TaskEngine.changedInput(stamps, vault: env.vault) == path, "\(edited)")
        }
    }

    /// Round 44 (low): the local-lane model check skipped an agent that takes `{model}` only in
    /// `readonly_args` (or `approved_args`, `budget_args`, `mcp_args`).
    @Test func anAgentTakingItsModelInAnyArgumentListIsChecked() throws {
        let v = RouteTestVault()
        v.write("Rules/Agents/lm.md", "---\ntype: agent\nname: lm\nlane: local\ncommand: [lm, \"{prompt}\"]\nreadonly_args: [--model, \"{model}\"]\nmodel: small\noutput: text\n---\n")
        let decision = v.route("Tasks/m.md", "---\ntype: task\nagent: lm\nmodel: gpt-oss:120b-cloud\ntags: [private]\n---\nSummarise.\n")
        #expect(decision.action.name == "blocked", "\(decision.action)")
    }
}

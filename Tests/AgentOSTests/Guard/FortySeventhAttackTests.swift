import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// What rounds 52 and 53 left (`/work/attack98-report.md`, `/work/attack100-report.md`), each
/// written as the attack it was: a task naming a private note in ways the text reader missed.
@Suite struct FortySeventhAttackTests {
    /// A vault with the private salary note, a public note of the same name, and the task's folder.
    static func vault() -> RouteTestVault {
        let v = RouteTestVault()
        v.write("Private/Salary.md", "# Salary\nMy salary is 123456 ZORBLAT.\n")
        v.write("Work/Salary.md", "# Salary\nThe public bands.\n")
        v.write("Work/Plan.md", "# Plan\nPublic.\n")
        v.write("Tasks/README.md", "# Tasks\n")
        return v
    }

    static func routesToClaude(_ v: RouteTestVault, _ line: String) throws -> Bool {
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\n" + line + "\n")
        let (plan, packet) = try PrivacyTaintTests.plan(v.vault, "Tasks/Ask.md")
        #expect(!packet.rendered().text.contains("ZORBLAT"))
        return PrivacyTaintTests.isPremiumRun(plan)
    }

    /// Round 52 (medium): `[[Salary]]` was private when `Private/Salary.md` and `Work/Salary.md`
    /// both exist, but the same name written bare, as an HTML link or an Obsidian URL went to claude:
    /// only the note a name resolves to counted, and an ambiguous name resolves to none.
    @Test(arguments: ["Update Salary.md with the new bands.", "Update <a href=\"Salary.md\">salary</a> with the bands.",
                      "Open obsidian://open?vault=v&file=Salary and update it.", "Update [[Salary]] with the new bands."])
    func aNameAPrivateNoteSharesMakesTheTaskPrivate(_ line: String) throws {
        let v = Self.vault()
        #expect(try !Self.routesToClaude(v, line), "\(line)")
    }

    /// Still public: the name written with its public folder, and a name only a public note has.
    @Test(arguments: ["Update Work/Salary.md with the new bands.", "Update Plan.md with the milestones.", "Fix the typo in README.md"])
    func aNameOnlyPublicNotesAnswerStaysPublic(_ line: String) throws {
        let v = Self.vault()
        v.write("Private/README.md", "# Private\n")
        #expect(try Self.routesToClaude(v, line), "\(line)")
    }

    /// Round 52 and 53 (low): `Private/Salary.MD` and `Private/Salary.Md` named the note (the
    /// vault's lookup folds case) but were not read as paths at all.
    @Test(arguments: ["Fix Private/Salary.MD please", "Fix Private/Salary.Md please", "Fix Salary.MD please", "Fix %@/Private/Salary.MD please"])
    func aPathWithACapitalExtensionIsRead(_ line: String) throws {
        let v = Self.vault()
        let text = line.replacingOccurrences(of: "%@", with: v.root)
        #expect(try !Self.routesToClaude(v, text), "\(text)")
    }

    /// Round 53 (low): a symlink in the vault to a private note (`Work/Link.md` → `Private/Salary.md`)
    /// named by the task left it public; the agent could open the link. A symlink counts for where
    /// it leads; one out of the vault cannot be judged, so it counts as private; one to a public
    /// note is public.
    @Test func aSymlinkCountsForWhereItLeads() throws {
        let v = Self.vault()
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Work/Link.md", withDestinationPath: "../Private/Salary.md")
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Work/Out.md", withDestinationPath: "/etc/hostname")
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Work/Open.md", withDestinationPath: "Plan.md")
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Work/Shared", withDestinationPath: "../Private")
        // By path, and (round 54) by bare name and through a symlinked folder.
        for line in ["Fix [[Work/Link]] please", "Fix Work/Link.md please", "Fix \(v.root)/Work/Link.md please", "Fix [x](Work/Link.md) please", "Fix [[Work/Out]] please",
                     "Fix [[Link]] please", "Fix Link.md please", "Fix [[Shared/Salary]] please", "Fix Work/Shared/Salary.md please"] {
            #expect(try !Self.routesToClaude(v, line), "\(line)")
        }
        #expect(try Self.routesToClaude(v, "Fix [[Work/Open]] please"))
        // Round 55: a glob in a symlinked private folder, the folder itself, an attachment that is
        // a symlink to a private one; a missing name under a symlinked public folder stays public.
        v.write("Private/Bank.png", "not really a picture\n")
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Work/Bank.png", withDestinationPath: "../Private/Bank.png")
        try FileManager.default.createSymbolicLink(atPath: v.root + "/Work/Pub", withDestinationPath: "../Projects")
        v.write("Projects/Web/Spec.md", "# Spec\n")
        for line in ["Summarize \(v.root)/Work/Shared/*", "Summarize \(v.root)/Work/Shared", "See ![[Bank.png]] here", "See [x](Work/Bank.png) here"] {
            #expect(try !Self.routesToClaude(v, line), "\(line)")
        }
        for line in ["Summarize \(v.root)/Work/Pub/Web/Spec for me", "Summarize \(v.root)/Work/Pub/Web/Spec.md for me"] {
            #expect(try Self.routesToClaude(v, line), "\(line)")
        }
        #expect(Privacy.symlinkReason("Work/Link.md", store: NoteStore(vault: v.vault), guardrails: v.book.guardrails, links: nil)?.contains("Private/Salary.md") == true)
    }

    /// Round 53 (low): a path on disk into the vault without `.md` (`~/Notes/Private/Salary`,
    /// `file:///…/Private/Salary`) named the note for a shell but was no link form.
    @Test func aPathOnDiskWithoutItsExtensionIsRead() throws {
        let v = Self.vault()
        for line in ["Fix %@/Private/Salary please.", "Fix file://%@/Private/Salary.", "cat %@/Private/Salary | head"] {
            let text = line.replacingOccurrences(of: "%@", with: v.root)
            #expect(try !Self.routesToClaude(v, text), "\(text)")
        }
        for line in ["Fix %@/Work/Salary please.", "Read /etc/passwd and /usr/bin/env please", "See https://example.com/Private/Salary"] {
            let text = line.replacingOccurrences(of: "%@", with: v.root)
            #expect(try Self.routesToClaude(v, text), "\(text)")
        }
        let read = Set(TaskFacts.pathsOnDisk(in: "see ~/Notes/A, /tmp/x/B. and file:///y/C?").map(\.path))
        #expect(read.isSuperset(of: ["~/Notes/A", "/tmp/x/B", "file:///y/C"]) && !read.contains("/tmp/x/B.") && !read.contains("file:///y/C?"), "\(read)")
    }

    /// Round 54 (medium): the path on disk was read only when nothing was attached to it — emphasis,
    /// a line number, an anchor, a query, a glob, a typographic possessive, a closing mark of another
    /// script, a name with spaces, another case, `file:` with one slash — and each went to claude.
    @Test func aPathOnDiskIsReadWithWhatIsAttachedToIt() throws {
        let v = Self.vault()
        v.write("Private/My Bank.md", "# Bank\nIBAN\n")
        for line in ["Summarize **%@/Private/Salary** for me.", "Summarize _%@/Private/Salary_ for me.", "Check %@/Private/Salary:1 for the typo.",
                     "Check %@/Private/Salary:12:3 now", "Summarize %@/Private/Salary#Q3", "Summarize %@/Private/Salary?x=1", "Summarize %@/Private/Salary@HEAD",
                     "Summarize %@/Private/Salary%23Q3", "Summarize everything in %@/Private/* for me.", "Summarize %@/Private/Sal*",
                     "Summarize %@/Private/{Salary,Bank}", "Summarize %@/Private/Salary\u{2019}s figures", "Summarize %@/Private/Salary\u{2026}",
                     "Summarize %@/Private/Salary\u{3002}", "Summarize %@/Private/My Bank please", "Summarize %@/Private/My\\ Bank please",
                     "Summarize %@/private/salary now", "Summarize file:%@/Private/Salary"] {
            let text = line.replacingOccurrences(of: "%@", with: v.root)
            #expect(try !Self.routesToClaude(v, text), "\(text)")
        }
        // Round 55: in quotes of any kind, in a list of paths, a name holding marks, and the
        // private folder in another case.
        v.write("Private/Loan (2024).md", "# Loan\n")
        v.write("Private/Anna\u{2019}s Bank.md", "# Bank\n")
        for line in ["Summarize \"%@/Private/Salary\" please", "Summarize \u{201C}%@/Private/Salary\u{201D} please", "Summarize \u{AB}%@/Private/Salary\u{BB}",
                     "Summarize \u{300C}%@/Private/Salary\u{300D}", "Summarize \"%@/Private/My Bank\"", "PATH=/usr/bin:%@/Private/Salary run it",
                     "scp host:%@/Private/Salary .", "Read %@/Private/Loan (2024) now", "Read %@/Private/Anna\u{2019}s Bank now", "List %@/PRIVATE for me"] {
            let text = line.replacingOccurrences(of: "%@", with: v.root)
            #expect(try !Self.routesToClaude(v, text), "\(text)")
        }
        for line in ["Summarize **%@/Work/Salary** for me.", "Check %@/Work/Plan:1", "Summarize %@/Work/*", "Check /etc/hosts:12 and /usr/lib/* please",
                     "PATH=/usr/bin:/bin:%@/Work run it", "Summarize \"%@/Work/Plan\" please"] {
            let text = line.replacingOccurrences(of: "%@", with: v.root)
            #expect(try Self.routesToClaude(v, text), "\(text)")
        }
    }

    /// Round 54 (low-medium, a false positive of the ambiguous-name rule): from a folder with no
    /// README of its own, every folder's `README.md` was equally near and `Private/README.md`, which
    /// `init` writes, made "Update README.md in the website repo" private. The OS's folder notes
    /// (`type: readme`) are none of the person's notes; a person's private `Salary.md` still counts.
    @Test(arguments: ["Projects/Web/Fix.md", "Fix.md", "Work/Task.md"])
    func theOSsFolderNotesAreNoPrivateNoteOfANamedFile(_ task: String) throws {
        let v = Self.vault()
        for folder in ["Private", "Daily", "Memory", "Results"] { v.write(folder + "/README.md", "---\ntype: readme\n---\n# \(folder)\n") }
        v.write(task, "---\ntype: task\nagent: claude\n---\nUpdate README.md in the website repo with the build command.\n")
        #expect(PrivacyTaintTests.isPremiumRun(try PrivacyTaintTests.plan(v.vault, task).0))
        v.write("Private/Budget.md", "# Budget\nZORBLAT\n")
        v.write("Memory/Budget.md", "# Budget\nPublic.\n")
        v.write(task, "---\ntype: task\nagent: claude\n---\nUpdate Budget.md with the figures.\n")
        #expect(!PrivacyTaintTests.isPremiumRun(try PrivacyTaintTests.plan(v.vault, task).0))
        // The folder note named by its path counts (round 55: a regression made it public).
        v.write(task, "---\ntype: task\nagent: claude\n---\nFix the typo in Private/README.md please.\n")
        #expect(!PrivacyTaintTests.isPremiumRun(try PrivacyTaintTests.plan(v.vault, task).0))
        // A README a person wrote in `Private/` counts.
        v.write("Private/README.md", "# My private readme\nAccount numbers.\n")
        v.write(task, "---\ntype: task\nagent: claude\n---\nUpdate README.md in the website repo with the build command.\n")
        #expect(!PrivacyTaintTests.isPremiumRun(try PrivacyTaintTests.plan(v.vault, task).0))
    }
}

/// Round 54 (low, attack102 F1): a run removed its own task's `context_retry` (what bounds a
/// context-overflow retry to one) and set `failover_to`: keys the OS writes as it runs a task that
/// the run write guard did not hold. Every one of them is held now, on work notes at least.
@Suite struct RunRecordGuardTests {
    @Test func everyKeyTheOSWritesOnAWorkNoteIsRefusedToARun() throws {
        let task = Array("---\ntype: task\nstatus: running\n---\nDo it\n".utf8)
        for key in TaskEngine.lifecycleKeys.sorted() {
            let work = RunWriteGuard.protectedProperties(Array("---\ntype: task\n\(key): x\n---\nDo it\n".utf8), work: true)
            #expect(work.contains { $0.key == key }, "\(key) is not held on a task")
        }
        #expect(RunWriteGuard.isWork(task, path: "Tasks/t.md"))
        for key in ["context_retry", "failover_to", "failover_note"] {
            #expect(RunWriteGuard.isProtected(key), "\(key)")
            #expect(RunWriteGuard.refusal(path: "Tasks/t.md", key: key, runID: "r1").description.contains("guardrails count from it"))
        }
    }
}

/// Round 54 (info, attack102 F4): a private run's public telemetry row gave its token counts — for
/// a local agent the OS's own measure of the private packet — so a cloud agent reading the day's
/// telemetry learned how long each private prompt was. The public row leaves them out; a public
/// run's row keeps them.
@Suite struct PrivateRowTokenTests {
    @Test func aPrivateRunsPublicRowGivesNoTokenCounts() {
        var r = TelemetryRecord(time: Date(), runID: "r-7", taskPath: "Private/Tasks/Salary.md", agent: "ollama", model: nil, lane: "local", rule: nil, reason: nil,
                                costUSD: nil, tokensIn: 48_213, tokensOut: 9_117, durationSeconds: 1.5, outcome: "done", resultPath: nil, error: nil)
        r.contextTruncation = ContextTruncation(tokensSent: 16_000, tokensLeftOut: 31_007, ownTextCut: true)
        let hidden = TelemetryWriter.row(r, isPrivate: true)
        for number in ["48213", "9117", "31007", "16000"] { #expect(!hidden.contains(number), "\(hidden)") }
        #expect(hidden.contains("private run r-7") && hidden.contains("context truncated"))
        let shown = TelemetryWriter.row(r, isPrivate: false)
        for number in ["48213", "9117", "31007"] { #expect(shown.contains(number), "\(shown)") }
    }
}

/// Round 54 (medium, attack105 M1): a failover handoff dropped the task's own `budget_usd` and
/// `timeout`: a $0.05 task's failover reserved the next agent's whole $0.40 and spent $0.39, and a
/// 3 s task ran 6 s on the next agent. The failover carries both, and any handoff of a task is held
/// to the task's `budget_usd`.
@Suite struct FailoverLimitTests {
    @Test func aFailoverKeepsTheTasksBudgetAndTimeout() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Capped", properties: "type: task\nagent: claude\nbudget_usd: 0.05\ntimeout: 30", body: "Fix the date parsing bug. FIXTURE_MODE_CLAUDE=usage-limit")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let handoffs = try FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Handoffs").filter { $0.hasPrefix("Failover") }
        let name = try #require(handoffs.first, "no failover handoff")
        let handoff = try env.note("Handoffs/" + name)
        #expect(handoff["budget_usd"]?.number == 0.05 && handoff["timeout"]?.number == 30, "\(handoff.properties)")
        // A handoff of the task that names no budget, or a larger one, is held to the task's.
        for own in ["", "budget_usd: 5\n"] {
            let text = "---\ntype: handoff\nfrom: claude\nto: codex\ntask: \"[[\(String(path.dropLast(3)))]]\"\n\(own)---\nGo on.\n"
            let facts = TaskFacts.from(note: try Note.parse(text), path: "Handoffs/Manual.md", vault: env.vault, ruleBook: RuleBook.load(vault: env.vault))
            #expect(facts.budgetUSD == 0.05, "\(own) → \(String(describing: facts.budgetUSD))")
        }
    }
}

/// Round 55 (attack107): a task a run made with `task new` reserved the next agent's whole cap
/// although its parent said `budget_usd: 0.05` (medium); a handoff of a task whose `budget_usd`
/// did not parse ran at the full reservation; an agent's own handoff ran past its task's `timeout`.
@Suite struct ParentLimitTests {
    @Test func aTaskARunMadeIsHeldToItsParentsBudget() throws {
        let v = RouteTestVault()
        v.write("Tasks/Parent.md", "---\ntype: task\nagent: claude\nbudget_usd: 0.05\nstatus: running\n---\nWork.\n")
        let run = try PrivacyTaintTests.run(of: "Tasks/Parent.md", lane: "premium", in: v.vault)
        for own in ["", "budget_usd: 3\n"] {
            let facts = v.facts("Tasks/Kid.md", "---\ntype: task\nagent: opencode\ncreated_by_run: \(run)\n\(own)---\nMore work.\n")
            #expect(facts.budgetUSD == 0.05 && facts.budgetError == nil, "\(own) → \(String(describing: facts.budgetUSD))")
        }
        // A parent's `budget_usd` that does not parse stops the paid runs of what it made and of its handoffs.
        v.write("Tasks/Parent.md", "---\ntype: task\nagent: claude\nbudget_usd: \"0,05\"\nstatus: running\n---\nWork.\n")
        #expect(v.facts("Tasks/Kid.md", "---\ntype: task\nagent: opencode\ncreated_by_run: \(run)\n---\nMore.\n").budgetError != nil)
        #expect(v.facts("Handoffs/H.md", "---\ntype: handoff\nfrom: claude\nto: codex\ntask: \"[[Tasks/Parent]]\"\n---\nGo on.\n").budgetError != nil)
    }

    @Test func aHandoffRunsNoLongerThanItsTasksTimeout() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        try env.store.write("---\ntype: task\nagent: claude\ntimeout: 1\nstatus: done\n---\nFix the parser.\n", to: "Tasks/Timed.md", expecting: .absent)
        try env.store.write("---\ntype: handoff\nfrom: codex\nto: claude\ntask: \"[[Tasks/Timed]]\"\nstatus: new\n---\nGo on. FIXTURE_MODE_CLAUDE=slow\n", to: "Handoffs/Slow.md", expecting: .absent)
        _ = engine.consider(path: "Handoffs/Slow.md", wait: true)
        engine.waitUntilIdle()
        let handoff = try env.text("Handoffs/Slow.md")
        #expect(handoff.contains("did not finish within 1.0 s") && handoff.contains("failure: timeout"), "\(handoff)")
    }
}

/// Round 56 (attack108): a path through a symlink in the vault that leads out of it looked like no
/// vault path (Foundation's `standardizingPath` follows symlinks on Linux), a dangling symlink or a
/// loop written as a path was public, a new name or a deep glob under a symlinked private folder
/// was public, a glob over the whole vault was public, and a Docker volume was not read; a public
/// note named `private` written as a path counted as the private folder.
@Suite struct PathThroughSymlinkTests {
    @Test func pathsThroughSymlinksAndGlobsAreJudgedWhereTheyLead() throws {
        let v = FortySeventhAttackTests.vault()
        let outside = TemporaryFolder.make("fbt-outside")
        defer { TemporaryFolder.remove(outside) }
        try "# Ext\nsecret plans\n".replacingFile(outside + "/ext.md")
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: v.root + "/Work/Ext", withDestinationPath: outside)
        try fm.createSymbolicLink(atPath: v.root + "/Work/Gone.md", withDestinationPath: "../Nowhere/Gone.md")
        try fm.createSymbolicLink(atPath: v.root + "/Work/Loop.md", withDestinationPath: "Loop.md")
        try fm.createSymbolicLink(atPath: v.root + "/Work/Shared", withDestinationPath: "../Private")
        for line in ["Read %@/Work/Ext/ext.md now", "Read %@/Work/Gone.md now", "Read %@/Work/Loop.md now", "Read %@/Work/Shared/New.md now",
                     "Grep %@/Work/Shared/**/*.md", "Grep %@/**/*.md for TODO", "Summarize %@/* please",
                     "docker run -v %@/Private:/data app", "docker run --mount type=bind,src=%@/Private,target=/data app",
                     "Summarize %@ please", "cd %@ && ls", "docker run -v %@:/vault:ro app"] {
            let text = line.replacingOccurrences(of: "%@", with: v.root)
            #expect(try !FortySeventhAttackTests.routesToClaude(v, text), "\(text)")
        }
        v.write("Notes/private.md", "# private\nA note about the word.\n")
        // (`Work/**` matches the symlinks above, which are private since round 58; `Notes/**` holds none.)
        for line in ["Explain %@/Notes/private please", "Grep %@/Notes/**/*.md for TODO"] {
            let text = line.replacingOccurrences(of: "%@", with: v.root)
            #expect(try FortySeventhAttackTests.routesToClaude(v, text), "\(text)")
        }
        #expect(TaskFacts.lexicallyNormalized("/a/./b//c/../d") == "/a/b/d")
        // A path out of the vault is not read again with the words after it: a task of 12,000 system
        // paths was read five times over each, and routed in 24 s instead of 2.5 (a review).
        let many = (0..<100).map { "/usr/lib/x\($0)/file\($0).so" }.joined(separator: " ")
        #expect(TaskFacts.pathsOnDisk(in: many, reachesVault: { _ in false }).count <= 200)
        #expect(TaskFacts.pathsOnDisk(in: "\(v.root)/Private/My Bank please", reachesVault: { $0.hasPrefix(v.root) }).contains { $0.path.hasSuffix("/Private/My Bank") })
    }
}

/// Round 56 (medium, attack109 M1): the parent's `budget_usd` held a direct child only; a
/// grandchild, a handoff of a spawned task and a task a handoff's run made each reserved $0.40 of a
/// $0.05 task. Every task above holds.
@Suite struct DeepLimitTests {
    @Test func everyTaskAboveHoldsItsBudget() throws {
        let v = RouteTestVault()
        v.write("Tasks/Root.md", "---\ntype: task\nagent: claude\nbudget_usd: 0.05\nstatus: running\n---\nWork.\n")
        let rootRun = try PrivacyTaintTests.run(of: "Tasks/Root.md", lane: "premium", in: v.vault)
        v.write("Tasks/Child.md", "---\ntype: task\nagent: codex\ncreated_by_run: \(rootRun)\nstatus: running\n---\nMore.\n")
        let childRun = try PrivacyTaintTests.run(of: "Tasks/Child.md", lane: "premium", in: v.vault)
        #expect(v.facts("Tasks/Grandchild.md", "---\ntype: task\nagent: opencode\ncreated_by_run: \(childRun)\n---\nDeeper.\n").budgetUSD == 0.05)
        #expect(v.facts("Handoffs/OfChild.md", "---\ntype: handoff\nfrom: codex\nto: opencode\ntask: \"[[Tasks/Child]]\"\n---\nGo on.\n").budgetUSD == 0.05)
        v.write("Handoffs/OfRoot.md", "---\ntype: handoff\nfrom: claude\nto: codex\ntask: \"[[Tasks/Root]]\"\nstatus: running\n---\nGo on.\n")
        let handoffRun = try PrivacyTaintTests.run(of: "Handoffs/OfRoot.md", lane: "premium", in: v.vault)
        #expect(v.facts("Tasks/FromHandoff.md", "---\ntype: task\nagent: opencode\ncreated_by_run: \(handoffRun)\n---\nSpawned.\n").budgetUSD == 0.05)
    }

    /// Round 57 (medium, attack111): the walk up stopped after twelve, and the thirteenth level down
    /// reserved the whole cap. It reads as deep as a chain goes, up to `deepestChain`; deeper, a
    /// paid agent does not run it.
    @Test func aDeepChainIsHeldAllTheWayOrNotPaid() throws {
        let v = RouteTestVault()
        v.write("Tasks/L0.md", "---\ntype: task\nagent: claude\nbudget_usd: 0.05\nstatus: running\n---\nWork.\n")
        var run = try PrivacyTaintTests.run(of: "Tasks/L0.md", lane: "premium", in: v.vault)
        for level in 1...(TaskFacts.deepestChain + 1) {
            let facts = v.facts("Tasks/L\(level).md", "---\ntype: task\nagent: codex\ncreated_by_run: \(run)\nstatus: running\n---\nLevel \(level).\n")
            if level == 13 || level == TaskFacts.deepestChain { #expect(facts.budgetUSD == 0.05 && facts.budgetError == nil, "level \(level)") }
            if level == TaskFacts.deepestChain + 1 { #expect(facts.budgetError?.contains("deeper than") == true, "level \(level): \(String(describing: facts.budgetError))") }
            run = try PrivacyTaintTests.run(of: "Tasks/L\(level).md", lane: "premium", in: v.vault)
        }
    }
}

/// Round 57 (low-medium, attack109 L1 and attack111): a task waiting for budget room started the
/// agent whose failed run had just given that room back. The cooldown is recorded before the room
/// is given back, and looked at before each try for room.
@Suite struct CoolingBeforeRoomTests {
    @Test func aTaskWaitingForBudgetRoomIsRoutedPastACoolingAgent() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Guardrails.md", set: [Property("budget_day_usd", .double(1.5))])
        let run = try CoolingBeforeStartTests.twoTasksForACoolingClaude(env)
        #expect(run.calls["claude"] == 1, "claude was called \(run.calls["claude"] ?? 0) times\n\(run.notes)")
    }
}

/// Round 55 (low, attack107 L3): a person's handoff that failed over lost its message — "Review the
/// parser change" reached codex as "continue the task", a redo. The failover carries what was asked,
/// and a failover of that failover carries it on.
@Suite struct FailoverAskTests {
    @Test func aFailedOverHandoffPassesOnWhatItAsked() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        try env.store.write("---\ntype: task\nagent: claude\nstatus: done\n---\nFix the parser.\n", to: "Tasks/Parser.md", expecting: .absent)
        try env.store.write("---\ntype: handoff\nfrom: codex\nto: claude\ntask: \"[[Tasks/Parser]]\"\nstatus: new\n---\nReview the parser change for off-by-one errors. FIXTURE_MODE_CLAUDE=usage-limit\n",
                            to: "Handoffs/Review.md", expecting: .absent)
        _ = engine.consider(path: "Handoffs/Review.md", wait: true)
        engine.waitUntilIdle()
        let failovers = try FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Handoffs").filter { $0.hasPrefix("Failover") }
        let name = try #require(failovers.first, "no failover handoff")
        let body = try env.note("Handoffs/" + name).body
        #expect(body.contains("## What claude was asked") && body.contains("Review the parser change for off-by-one errors"), "\(body)")
        #expect(TaskEngine.askedOfHandoff(try env.note("Handoffs/" + name))?.hasPrefix("Review the parser change") == true)
    }
}

/// Round 54 (low, attack105 L1): a task routed to claude and waiting for its slot started claude
/// 18 ms after another run had recorded claude's usage limit: the engine checked the budget right
/// before a start, not cooldowns. An agent that began cooling down meanwhile is not called.
@Suite struct CoolingBeforeStartTests {
    @Test func aTaskWaitingForACoolingAgentIsRoutedPastIt() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("concurrency", .int(1))])
        let run = try Self.twoTasksForACoolingClaude(env)
        let (first, second) = (run.first, run.second)
        #expect(run.calls["claude"] == 1, "claude was called \(run.calls["claude"] ?? 0) times")
        #expect(env.loggedEvents.contains { $0.message.contains("began cooling down while the task waited") }, "\(env.loggedEvents.map(\.message))")
        // It ran on the next agent of the chain, not sent to review (round 55: re-routed after its
        // reservation, it found its run id spent).
        // Either may take claude's one slot first (the machine decides): that one failed over, the
        // other ran on the next agent of the chain.
        let statuses = Set([try env.note(first).text("status") ?? "", try env.note(second).text("status") ?? ""])
        #expect(statuses == ["handed_off", "done"], "\(run.notes)")
        #expect((run.calls["claude"] ?? 0) + (run.calls["codex"] ?? 0) >= 2)
    }

    /// Two tasks for claude whose runs stop on its usage limit a moment after they start, considered
    /// together and run to the end: their paths, the calls each fixture agent got, and both notes.
    static func twoTasksForACoolingClaude(_ env: EngineTestVault) throws -> (first: String, second: String, calls: [String: Int], notes: String) {
        let engine = try env.engine()
        let first = try env.writeTask("First", properties: "type: task\nagent: claude", body: "Fix the date parser. FIXTURE_MODE_CLAUDE=slow-usage-limit")
        let second = try env.writeTask("Second", properties: "type: task\nagent: claude", body: "Fix the time parser. FIXTURE_MODE_CLAUDE=slow-usage-limit")
        _ = engine.consider(path: first)
        _ = engine.consider(path: second)
        engine.waitUntilIdle()
        var calls: [String: Int] = [:]
        for line in (PlatformTestSupport.read(env.fixtureLog) ?? "").split(separator: "\n") {
            if let tool = (try? JSON.parse(String(line)))?["tool"]?.stringValue { calls[tool, default: 0] += 1 }
        }
        return (first, second, calls, try env.text(first) + "\n" + env.text(second))
    }
}

/// Round 55 (low, attack107 L4): a watcher restarted about 1 s after a SIGKILL left the dead one's
/// runs `claimed`/`running`: the killed process, not yet reaped by its parent, still answered
/// `kill(pid, 0)`. A zombie is no live process.
@Suite struct ZombieLivenessTests {
    @Test func aZombieIsNotAlive() throws {
        func spawn(_ script: String) throws -> pid_t {
            var pid: pid_t = 0
            let words: [String] = ["/bin/sh", "-c", script]
            let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            let code = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
            guard code == 0 else { throw CocoaError(.executableLoad) }
            return pid
        }
        let sleeper = try spawn("sleep 5")
        let quitter = try spawn("exit 0")
        // The quitter exits at once and stays a zombie until it is reaped below.
        var looked = 0
        while ProcessLiveness.state(quitter) != "Z", looked < 200 { usleep(10_000); looked += 1 }
        #expect(ProcessLiveness.state(quitter) == "Z")
        #expect(!ProcessLiveness.isAlive(quitter))
        #expect(ProcessLiveness.isAlive(sleeper))
        // Round 157: a zombie is not "left running", and is not said to have been stopped.
        let started = try #require(ProcessLiveness.startTime(quitter))
        #expect(!ProcessLiveness.stopOrphanedGroup(pid: quitter, startTime: started, grace: 0.1))
        kill(sleeper, SIGKILL)
        var status: Int32 = 0
        waitpid(quitter, &status, 0)
        waitpid(sleeper, &status, 0)
        #expect(!ProcessLiveness.isAlive(sleeper))
    }
}

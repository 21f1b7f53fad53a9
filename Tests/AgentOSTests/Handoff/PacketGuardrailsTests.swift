import Foundation
import Testing
@testable import AgentOS
@testable import Commands

/// Retrieved pieces (memory matches, daily lines) that hold a secret or are private are left out of
/// a packet bound off this machine, counted in the verdicts, and never block the task; what the task
/// names keeps the old rules (block or redact, private taints). Written the way an attacker would.
@Suite struct PacketGuardrailsTests {
    /// A GitHub-style token made at run time.
    static func token() -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return "ghp_" + String((0..<36).map { _ in letters.randomElement()! })
    }

    /// Indexes the vault, then plans `path` the way the watcher does.
    static func plan(_ v: RouteTestVault, _ path: String, index: Bool = true) throws -> RoutePlan {
        if index { _ = try MemoryIndex(vault: v.vault).reconcile() }
        return try PrivacyTaintTests.plan(v.vault, path).0
    }

    static func retrievalVerdict(_ plan: RoutePlan) -> String? {
        for property in plan.extraProperties where property.key == "route_verdicts" {
            if case .list(let items) = property.value {
                return items.compactMap(\.text).first { $0.hasPrefix("retrieval:") }
            }
        }
        return nil
    }

    static let askText = "---\ntype: task\nagent: claude\n---\nExplain the wombat ledger reconciliation in one line.\n"
    static let clean = "# Wombat ledger\n\nThe wombat ledger reconciliation runs CLEANMARK every Friday.\n"

    /// Attack: a public note that links or embeds a private one (its title, a heading, an alias as
    /// the link's words) went to the cloud agent as written, as a memory match and as a note the
    /// task links: the private note's name is private text. Those links go as "(a private note)";
    /// the public note's own text still goes, and a private task's packet keeps the links.
    @Test func aPublicNotesLinksToPrivateNotesAreNotSentOffTheMachine() throws {
        let v = RouteTestVault()
        v.write("Memory/Cancer diagnosis PRIVTITLE.md", "---\ntags: [private]\naliases: [Dr Zorblat PRIVALIAS]\n---\n# Diagnosis\n\n## Treatment PRIVHEAD\n\nChemo.\n")
        v.write("Private/Bank PRIVBANK.md", "Account.\n")
        v.write("Memory/Wombat links.md", """
            # Wombat links

            The wombat ledger reconciliation CLEANMARK, see ![[Memory/Cancer diagnosis PRIVTITLE#Treatment PRIVHEAD]],
            [[Dr Zorblat PRIVALIAS|my doctor PRIVDISPLAY]], [bank](<Private/Bank PRIVBANK.md>) and [[Bank PRIVBANK]].
            Also [[Wombat ledger]], which is public, and obsidian://open?vault=Mine&file=Private%2FBank%20PRIVBANK
            (a link Obsidian copies), next to obsidian://open?vault=Mine&file=Memory%2FWombat%20ledger.

            """)
        v.write("Memory/Wombat ledger.md", Self.clean)
        v.write("Tasks/Ask.md", Self.askText)
        v.write("Tasks/Linked.md", "---\ntype: task\nagent: claude\n---\nSummarise [[Wombat links]].\n")
        for task in ["Tasks/Ask.md", "Tasks/Linked.md"] {
            let plan = try Self.plan(v, task)
            #expect(plan.action == .run, "\(task): \(plan.action)")
            #expect(plan.prompt.contains("The wombat ledger reconciliation CLEANMARK"), "\(plan.prompt)")
            #expect(plan.prompt.contains("(a private note)") && plan.prompt.contains("[[Wombat ledger]]"), "\(plan.prompt)")
            #expect(plan.prompt.contains("file=Memory%2FWombat%20ledger"), "a link to a public note stays")
            for marker in ["PRIVTITLE", "PRIVHEAD", "PRIVALIAS", "PRIVDISPLAY", "PRIVBANK"] {
                #expect(!plan.prompt.contains(marker), "\(task): \(marker) sent")
            }
        }
        // A private task (local only) gets the note as written.
        v.write("Tasks/Mine.md", "---\ntype: task\nagent: ollama\nprivacy: private\n---\nSummarise [[Wombat links]].\n")
        let mine = try Self.plan(v, "Tasks/Mine.md")
        #expect(mine.prompt.contains("PRIVALIAS"), "\(mine.prompt)")
    }

    /// Attack (third round, left open then): link forms the redaction did not read still carried a
    /// private note's path to the cloud agent: an HTML anchor or image, a reference-style
    /// definition, a wikilink written with `\\` or `%20`, a bare `Private/….md` path, and an
    /// Obsidian URL not inside brackets. Each goes as "(a private note)"; links to public notes,
    /// web addresses and a `.md` file name no note has stay as written.
    @Test func everyLinkFormToAPrivateNoteIsRedactedOffTheMachine() throws {
        let v = RouteTestVault()
        v.write("Private/Bank PRIVBANK.md", "Account.\n")
        v.write("Memory/Diary PRIVDIARY.md", "---\ntags: [personal]\n---\nDear diary.\n")
        v.write("Memory/Wombat forms.md", """
            # Wombat forms

            The wombat ledger reconciliation CLEANMARK links <a href="Private/Bank%20PRIVBANK.md">my bank PRIVANCHOR</a> and
            <img src='Memory/Diary PRIVDIARY.md'> and <a href=Memory/Wombat%20ledger.md>the ledger</a>.
            See [the bank][b] and [[Private\\Bank PRIVBANK]] and [[Private/Bank%20PRIVBANK]].
            Plain path: Private/Bank%20PRIVBANK.md, and Memory/Wombat%20ledger.md is public, as is notes.md.
            Copied: obsidian://open?vault=Mine&file=Memory%2FDiary%20PRIVDIARY on its own.
            Web: <a href="https://example.org/readme.md">docs</a>.

            [b]: <Private/Bank PRIVBANK.md> "PRIVREF"

            """)
        v.write("Memory/Wombat ledger.md", Self.clean)
        v.write("Tasks/Ask.md", Self.askText)
        v.write("Tasks/Linked.md", "---\ntype: task\nagent: claude\n---\nSummarise [[Wombat forms]].\n")
        for task in ["Tasks/Ask.md", "Tasks/Linked.md"] {
            let plan = try Self.plan(v, task)
            #expect(plan.action == .run, "\(task): \(plan.action)")
            #expect(plan.prompt.contains("The wombat ledger reconciliation CLEANMARK links (a private note) and"), "\(plan.prompt)")
            for marker in ["PRIVBANK", "PRIVDIARY", "PRIVANCHOR", "PRIVREF"] {
                #expect(!plan.prompt.contains(marker), "\(task): \(marker) sent:\n\(plan.prompt)")
            }
            for kept in ["<a href=Memory/Wombat%20ledger.md>the ledger</a>", "Memory/Wombat%20ledger.md is public, as is notes.md", "https://example.org/readme.md", "[the bank][b]"] {
                #expect(plan.prompt.contains(kept), "\(task): \(kept) lost:\n\(plan.prompt)")
            }
        }
    }

    @Test func aSecretWrappedOverLinesWithInvisibleCharactersIsLeftOutNotBlocking() throws {
        let v = RouteTestVault()
        let secret = Self.token()
        let split = secret.index(secret.startIndex, offsetBy: 20)
        // Zero-width spaces inside, and the token wrapped over two lines.
        let disguised = String(secret[..<split]) + "\u{200B}\n" + String(secret[split...]).replacingOccurrences(of: "A", with: "A\u{2060}")
        v.write("Notes/Wombat tokens.md", "# Wombat tokens\n\nThe wombat ledger reconciliation pushes with\n\(disguised)\n")
        v.write("Notes/Wombat ledger.md", Self.clean)
        v.write("Tasks/Ask.md", Self.askText)

        let plan = try Self.plan(v, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("CLEANMARK"))
        #expect(!plan.prompt.contains(String(secret.prefix(12))) && !plan.prompt.contains("ghp_"))
        let verdict = try #require(Self.retrievalVerdict(plan))
        #expect(verdict.contains("left out 1 retrieved piece: 1 holding a secret (GitHub token)"), "\(verdict)")
        #expect(!verdict.contains(String(secret.prefix(12))))
    }

    /// A secret in a retrieved note's name or heading (which go out as the piece's label) is left
    /// out like one in its text: it blocked the whole task before (an outside attack), although the
    /// task had named nothing holding it.
    @Test func aSecretInARetrievedNotesNameOrHeadingIsLeftOutNotBlocking() throws {
        for (path, text) in [("Notes/Wombat ledger \(Self.token()).md", "# Notes\n\nThe wombat ledger reconciliation, once more, in one line.\n"),
                             ("Notes/Wombat heading.md", "# Wombat ledger \(Self.token())\n\nThe wombat ledger reconciliation, in one line.\n")] {
            let v = RouteTestVault()
            v.write(path, text)
            v.write("Notes/Wombat ledger.md", Self.clean)
            v.write("Tasks/Ask.md", Self.askText)
            let plan = try Self.plan(v, "Tasks/Ask.md")
            #expect(PrivacyTaintTests.isPremiumRun(plan), "\(path): \(plan.action)")
            #expect(!plan.prompt.contains("ghp_"), "\(path)")
            #expect(plan.prompt.contains("CLEANMARK"))
            #expect(Self.retrievalVerdict(plan)?.contains("holding a secret (GitHub token)") == true, "\(path): \(Self.retrievalVerdict(plan) ?? "none")")
        }
    }

    @Test func aPrivateNoteReachedOnlyThroughRetrievalIsLeftOutAndNotCountedOnTheTask() throws {
        let v = RouteTestVault()
        v.write("Private/Wombat worries.md", "# Wombat worries\n\nThe wombat ledger reconciliation PRIVATEMARK keeps me awake.\n")
        v.write("Notes/Wombat ledger.md", Self.clean)
        v.write("Tasks/Ask.md", Self.askText)

        let plan = try Self.plan(v, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.privacy == nil, "a retrieved private note does not taint the task")
        #expect(!plan.prompt.contains("PRIVATEMARK"))
        #expect(plan.prompt.contains("CLEANMARK"))
        // The verdicts are written on the task, which agents read: a count of private pieces would
        // tell them whether some private note holds the task's words (MCPServerTests).
        #expect(Self.retrievalVerdict(plan) == nil, "\(Self.retrievalVerdict(plan) ?? "")")
    }

    /// A note every word of the task names over and over, and a plain one that shares a single word
    /// with it among much else: the plain one alone scores under the relevance floor of the strong one.
    static let strong = "# Wombat ledger reconciliation\n\n" + String(repeating: "The wombat ledger reconciliation explained in one line, STRONGMARK. ", count: 12) + "\n"
    static let weak = "# Farm diary\n\nThe barn, the orchard, the tractor and the hens were seen to; a wombat dug under the fence again, WEAKMARK; the pump, the gate and the hay were fixed before rain.\n"

    @Test(arguments: ["private", "secret"])
    func aNoteThePacketMayNotCarryDoesNotSetTheRelevanceFloorForTheOthers(kind: String) throws {
        let v = RouteTestVault()
        let secret = Self.token()
        let strong = kind == "private" ? "---\nprivacy: private\n---\n" + Self.strong : Self.strong + "Pushed with \(secret)\n"
        v.write("Notes/Wombat ledger reconciliation.md", strong)
        v.write("Notes/Farm diary.md", Self.weak)
        v.write("Tasks/Ask.md", Self.askText)
        let plan = try Self.plan(v, "Tasks/Ask.md")

        // Unjudged, retrieval ranks the strong note first and the plain one under its floor; this is
        // what the test is about (were it not so, it would prove nothing).
        let index = try MemoryIndex(vault: v.vault)
        let unjudged = try index.related(to: "Ask\nExplain the wombat ledger reconciliation in one line.", scope: RelatedScope(skippedPaths: ["Tasks/Ask.md"]))
        #expect(unjudged.map(\.path) == ["Notes/Wombat ledger reconciliation.md"], "\(unjudged)")

        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(!plan.prompt.contains("STRONGMARK") && !plan.prompt.contains(secret))
        #expect(plan.prompt.contains("WEAKMARK"), "the best note the packet may carry sets the floor")
        if kind == "private" {
            #expect(Self.retrievalVerdict(plan) == nil, "\(Self.retrievalVerdict(plan) ?? "")")
        } else {
            #expect(Self.retrievalVerdict(plan)?.contains("1 holding a secret") == true, "\(Self.retrievalVerdict(plan) ?? "")")
        }
    }

    @Test func aPlainTaskGetsTheSameMemoryWhetherOrNotAPrivateNoteMatchesIt() throws {
        func memory(withPrivate: Bool) throws -> [String] {
            let v = RouteTestVault()
            if withPrivate { v.write("Private/Wombat ledger reconciliation.md", Self.strong) }
            v.write("Notes/Farm diary.md", Self.weak)
            v.write("Tasks/Ask.md", Self.askText)
            _ = try MemoryIndex(vault: v.vault).reconcile()
            let (plan, packet) = try PrivacyTaintTests.plan(v.vault, "Tasks/Ask.md")
            #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
            #expect(!plan.prompt.contains("STRONGMARK") && !packet.text.contains("STRONGMARK"))
            return packet.pieces.filter { $0.kind == .memory }.map(\.path)
        }
        let without = try memory(withPrivate: false)
        #expect(without == ["Notes/Farm diary.md"], "\(without)")
        #expect(try memory(withPrivate: true) == without)
    }

    /// `related` asked by an agent that may not see private notes judges them as a packet does: the
    /// withheld note does not set the floor, so the plain note it would have pushed out is listed.
    @Test func relatedAskedByAnAgentListsWhatAWithheldNoteWouldHavePushedOut() throws {
        let v = RouteTestVault()
        v.write("Private/Wombat ledger reconciliation.md", Self.strong)
        v.write("Notes/Farm diary.md", Self.weak)
        _ = try MemoryIndex(vault: v.vault).reconcile()
        func related(_ environment: [String: String]) -> String {
            let (console, captured) = Console.capturing()
            _ = CLI.run(["related", "Explain the wombat ledger reconciliation in one line.", "--json", "--vault", v.root], console: console, environment: environment, executablePath: "fuckbigtech")
            return captured.stdout + captured.stderr
        }
        let person = related([:])
        #expect(person.contains("Private/Wombat ledger reconciliation.md") && !person.contains("Farm diary"), "a person sees the private note, and the floor it sets: \(person)")
        let agent = related(["FBT_RUN_ID": "no-such-run"])
        #expect(!agent.contains("Wombat ledger reconciliation") && agent.contains("Notes/Farm diary.md"), "\(agent)")
    }

    @Test func aNoteMadePrivateAfterItWasIndexedIsJudgedWhenThePacketIsBuilt() throws {
        let v = RouteTestVault()
        v.write("Notes/Wombat diary.md", "# Wombat diary\n\nThe wombat ledger reconciliation LATEMARK diary.\n")
        v.write("Notes/Wombat ledger.md", Self.clean)
        v.write("Tasks/Ask.md", Self.askText)
        _ = try MemoryIndex(vault: v.vault).reconcile()
        // Marked private after the index saw it public; the index is not told.
        v.write("Notes/Wombat diary.md", "---\nprivacy: private\n---\n# Wombat diary\n\nThe wombat ledger reconciliation LATEMARK diary.\n")

        let plan = try Self.plan(v, "Tasks/Ask.md", index: false)
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(!plan.prompt.contains("LATEMARK"))
        // Counted for the person's `context`, never on the task (agents read it).
        #expect(Self.retrievalVerdict(plan) == nil)
        let (_, packet) = try PrivacyTaintTests.plan(v.vault, "Tasks/Ask.md")
        #expect(packet.leftOut.filter(\.isPrivate).count == 1, "\(packet.leftOut)")
    }

    @Test func theResultNoteOfAPrivateRunNeverReachesACloudPacket() throws {
        let v = RouteTestVault()
        v.write("Results/Wombat answer 20261203-0101-abcd.md", "---\ntype: result\nprivacy: private\ntask: \"[[Tasks/Secret wombat]]\"\n---\n# Wombat answer\n\nThe wombat ledger reconciliation RESULTMARK answer.\n")
        v.write("Notes/Wombat ledger.md", Self.clean)
        v.write("Tasks/Ask.md", Self.askText)

        let plan = try Self.plan(v, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(!plan.prompt.contains("RESULTMARK"))
    }

    @Test func aDailyLineHoldingASecretIsLeftOutAndTheRestIsSent() throws {
        let v = RouteTestVault()
        let secret = Self.token()
        let day = LocalTime.day(Date())
        v.write("Daily/\(day).md", RunLines.marked("# \(day)\n\n- 09:00 [[Tasks/Other]] → claude (premium): done DAILYMARK\n- 09:05 pushed with \(secret)\n"))
        v.write("Tasks/Ask.md", Self.askText)

        let plan = try Self.plan(v, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("DAILYMARK"))
        #expect(!plan.prompt.contains(secret))
        #expect(Self.retrievalVerdict(plan)?.contains("1 holding a secret") == true)
    }

    @Test func aPrivateLineInTheDayDoesNotHideThePlainRunsWhoseResultsNameTheDayAsASource() throws {
        let v = RouteTestVault()
        let day = LocalTime.day(Date())
        // Every result names the day's log among its sources; one line of the day is #private. The
        // plain runs' lines still reach a plain task; the private line, and the line of a result that
        // says it is private, do not.
        v.write("Results/Plain run.md", "---\ntype: result\ntask: \"[[Tasks/Plain]]\"\nsources:\n  - \"[[Daily/\(day)]]\"\n---\nPlain answer.\n")
        v.write("Results/Private run.md", "---\ntype: result\nprivacy: private\ntask: \"[[Tasks/Hidden]]\"\nsources:\n  - \"[[Daily/\(day)]]\"\n---\nHidden answer.\n")
        v.write("Daily/\(day).md", RunLines.marked("# \(day)\n\n- 08:55 met the lawyer about the divorce #private\n- 09:00 [[Tasks/Plain]] → echo (local): done — [[Results/Plain run]] PLAINMARK\n- 09:01 [[Tasks/Hidden]] → ollama (local): done — [[Results/Private run]] HIDDENMARK\n"))
        v.write("Tasks/Ask.md", Self.askText)

        let plan = try Self.plan(v, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("PLAINMARK"))
        #expect(!plan.prompt.contains("divorce"))
        #expect(!plan.prompt.contains("HIDDENMARK"))
        #expect(Self.retrievalVerdict(plan) == nil, "\(Self.retrievalVerdict(plan) ?? "no verdict")")
        let (_, packet) = try PrivacyTaintTests.plan(v.vault, "Tasks/Ask.md")
        #expect(packet.leftOut.filter(\.isPrivate).count == 2, "\(packet.leftOut)")
    }

    @Test func aJournalUnderDailyThatIsNotTheDaysLogIsJudgedAsAnyNote() throws {
        let v = RouteTestVault()
        let day = LocalTime.day(Date())
        // A note of the user's own under Daily/, with a #private line, named as a result's source:
        // it is not the OS's day log, so the result counts as made from private work.
        v.write("Daily/Journal.md", "# Journal\n\n- saw the doctor #private\n")
        v.write("Results/From journal.md", "---\ntype: result\nsources:\n  - \"[[Daily/Journal]]\"\n---\nSummary.\n")
        v.write("Daily/\(day).md", RunLines.marked("# \(day)\n\n- 09:00 [[Results/From journal]] JOURNALMARK\n- 09:05 tidied the desk TIDYMARK\n"))
        v.write("Tasks/Ask.md", Self.askText)

        let plan = try Self.plan(v, "Tasks/Ask.md")
        #expect(plan.prompt.contains("TIDYMARK"))
        #expect(!plan.prompt.contains("JOURNALMARK"))
        #expect(Privacy.isDailyLog("Daily/\(day).md") && Privacy.isDailyLog("daily/2026-01-31.MD"))
        #expect(!Privacy.isDailyLog("Daily/Journal.md") && !Privacy.isDailyLog("Daily/2026-01-3x.md") && !Privacy.isDailyLog("Daily/Sub/2026-01-31.md"))
    }

    @Test func aDayMadePrivateByItsPropertiesHidesTheLinesOfResultsMadeFromIt() throws {
        let v = RouteTestVault()
        let day = LocalTime.day(Date())
        // Yesterday's log is private as a whole; a result made from it is private by derivation,
        // so today's line linking that result is left out.
        let yesterday = LocalTime.day(Date().addingTimeInterval(-86_400))
        v.write("Daily/\(yesterday).md", "---\nprivacy: private\n---\n- 23:00 wrote the will\n")
        v.write("Results/From yesterday.md", "---\ntype: result\nsources:\n  - \"[[Daily/\(yesterday)]]\"\n---\nSummary.\n")
        v.write("Daily/\(day).md", RunLines.marked("# \(day)\n\n- 09:00 [[Results/From yesterday]] DERIVEDMARK\n- 09:05 tidied the desk TIDYMARK\n"))
        v.write("Tasks/Ask.md", Self.askText)

        let plan = try Self.plan(v, "Tasks/Ask.md")
        #expect(plan.prompt.contains("TIDYMARK"))
        #expect(!plan.prompt.contains("DERIVEDMARK"))
        #expect(!plan.prompt.contains("wrote the will"))
    }

    @Test func aTaskThatLinksTheWholeDayIsPrivateWhenAnyLineOfItIs() throws {
        let v = RouteTestVault()
        let day = LocalTime.day(Date())
        // Linked, the whole note would be sent: then one #private line makes the task private.
        v.write("Daily/\(day).md", "# \(day)\n\n- 08:55 met the lawyer #private\n- 09:00 coffee\n")
        v.write("Tasks/Sum up.md", "---\ntype: task\nagent: claude\n---\nSum up [[Daily/\(day)]] in one line.\n")
        let plan = try Self.plan(v, "Tasks/Sum up.md")
        // Never run on the premium lane the agent note asks for: kept local or refused.
        #expect(!PrivacyTaintTests.isPremiumRun(plan), "\(plan.action) \(plan.lane)")
    }

    @Test func aLocalLaneKeepsTheRetrievedPiecesASecretWouldKeepOffACloudLane() throws {
        let v = RouteTestVault()
        let secret = Self.token()
        v.write("Notes/Wombat tokens.md", "# Wombat tokens\n\nThe wombat ledger reconciliation pushes with \(secret).\n")
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: ollama\n---\nExplain the wombat ledger reconciliation in one line.\n")

        let plan = try Self.plan(v, "Tasks/Ask.md")
        #expect(plan.action == .run && plan.lane == "local", "\(plan.action) \(plan.lane)")
        #expect(plan.prompt.contains(secret), "local prompts are not scanned, so nothing needs leaving out")
        #expect(Self.retrievalVerdict(plan) == nil)
    }

    @Test func whatTheTaskNamesKeepsTheOldRulesASecretBlocksAndAPrivateLinkTaints() throws {
        let v = RouteTestVault()
        let secret = Self.token()
        v.write("Notes/Deploy keys.md", "# Deploy keys\n\nPush with \(secret).\n")
        v.write("Tasks/Linked.md", "---\ntype: task\nagent: claude\n---\nExplain [[Deploy keys]] in one line.\n")
        let linked = try Self.plan(v, "Tasks/Linked.md")
        guard case .blocked(let why) = linked.action else { Issue.record("a linked secret must block: \(linked.action)"); return }
        #expect(why.contains("GitHub token") && !why.contains(secret))

        v.write("Tasks/Own.md", "---\ntype: task\nagent: claude\n---\nExplain this token \(secret) in one line.\n")
        let own = try Self.plan(v, "Tasks/Own.md")
        if case .blocked = own.action {} else { Issue.record("a secret in the task's own text must block: \(own.action)") }

        v.write("Private/Diary.md", "# Diary\n\nDIARYMARK\n")
        v.write("Tasks/Private link.md", "---\ntype: task\nagent: claude\n---\nSummarise [[Diary]].\n")
        let tainted = try Self.plan(v, "Tasks/Private link.md")
        #expect(tainted.privacy != nil)
        #expect(!PrivacyTaintTests.isPremiumRun(tainted))
    }

    @Test func theContextCommandSaysWhatRetrievalLeftOut() throws {
        let v = RouteTestVault()
        let secret = Self.token()
        v.write("Notes/Wombat tokens.md", "# Wombat tokens\n\nThe wombat ledger reconciliation pushes with \(secret).\n")
        v.write("Notes/Wombat ledger.md", Self.clean)
        v.write("Tasks/Ask.md", Self.askText)
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (console, output) = Console.capturing()
        let code = CLI.run(["context", "Tasks/Ask.md", "--vault", v.root], console: console, environment: [:], executablePath: "/nonexistent")
        #expect(code == 0, "\(output.stderr)")
        #expect(output.stdout.contains("CLEANMARK") && !output.stdout.contains(secret))
        #expect(output.stderr.contains("left out 1 retrieved piece: 1 holding a secret (GitHub token)"), "\(output.stderr)")
    }
}

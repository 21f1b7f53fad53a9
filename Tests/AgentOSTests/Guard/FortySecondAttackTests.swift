import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The forty-second outside attacks on the release binary (`/work/attack80-report.md` and
/// `/work/attack81-report.md`), each finding written as the attack it was.
@Suite struct FortySecondAttackTests {
    /// Plans `Tasks/Public.md` (a claude task) with `log` as today's day log (its body).
    static func prompt(withDayLog log: String, frontmatter: String = "---\ntype: daily\n---\n") throws -> String {
        let v = RouteTestVault()
        v.write("Journal/Day one.md", "---\nprivacy: private\n---\nA private day.\n")
        v.write("Daily/\(PrivacyTaintTests.today).md", RunLines.marked(frontmatter + log))
        v.write("Tasks/Public.md", "---\ntype: task\nagent: claude\n---\nSummarise the follow-ups.\n")
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Public.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "the public task still runs on claude: \(plan.action)")
        return plan.prompt
    }

    /// Day logs in which an item about the task (DAILYMARK) sits under a private heading or title
    /// that a code block, a comment or a second line of text did not end; each ends with a public
    /// section whose item about the task is still sent.
    static let coveredItems: [String] = [
        // Finding 1: a `#` line inside a code block or a comment is no heading.
        "## Clinic #private\n\n- [[Tasks/Public]] control\n```bash\n# start the pump log\npumpctl log\n```\n- [[Tasks/Public]] DAILYMARK fence\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "## Clinic #private\n\n~~~~\n# a comment\n~~~\n# still code\n~~~~\n- [[Tasks/Public]] DAILYMARK tilde fence\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "## Clinic #private\n\n%%\n# draft\n%%\n- [[Tasks/Public]] DAILYMARK obsidian comment\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "## Clinic #private\n\n<!--\n# old\n-->\n- [[Tasks/Public]] DAILYMARK html comment\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        // Finding 2: a title of more than one line keeps its `#private`.
        "> [!note] Therapy #private\n> Sessions with Dr. Weber.\n\n- [[Tasks/Public]] DAILYMARK callout with a body\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "Health notes #private\n(from the clinic)\n- [[Tasks/Public]] DAILYMARK two-line paragraph\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "> ## Therapy #private\n>\n- [[Tasks/Public]] DAILYMARK heading in a quote\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "<h2>Bank #private</h2>\n<p>accounts</p>\n- [[Tasks/Public]] DAILYMARK html heading\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        "**Diary** #private\n***\n- [[Tasks/Public]] DAILYMARK bold and a break\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
        // An item inside a comment is no item: never sent.
        "%%\n- [[Tasks/Public]] DAILYMARK inside a comment\n%%\n\n# Work\n- [[Tasks/Public]] public follow-up\n",
    ]

    @Test(arguments: coveredItems)
    func anItemUnderAPrivateHeadingOrTitleStaysCovered(_ log: String) throws {
        try Self.expectCovered(log)
    }

    /// Expects `log`'s items marked DAILYMARK or "control" out of a claude packet, and its
    /// "public follow-up" in it.
    static func expectCovered(_ log: String) throws {
        let prompt = try Self.prompt(withDayLog: log)
        #expect(!prompt.contains("DAILYMARK"), "\(log)\n---\n\(prompt)")
        #expect(!prompt.contains("control"))
        #expect(prompt.contains("public follow-up"), "the public item about the task is still sent:\n\(prompt)")
    }

    /// Finding 5 (low): a day longer than what was read from its two ends, whose private heading
    /// lies between them: the items about the task below it went to claude. A day is read whole (up
    /// to 4 MB), so the heading covers them; a public heading after it ends it.
    @Test func aPrivateHeadingInTheMiddleOfALongDayCoversTheItemsBelowIt() throws {
        let runs = (0..<1_500).map { "- 04:\(String(format: "%02d", $0 % 60)) run line \($0) → localw (local): done\n" }.joined()
        let symptoms = (0..<600).map { "- symptom note \($0) of the day, nothing else\n" }.joined()
        let log = "# Today\n\n## Runs\n" + runs + "\n## Clinic #private\n\n" + symptoms + "- [[Tasks/Public]] DAILYMARK follow-up from the clinic\n"
        #expect(log.utf8.count > DailyLog.tailBytes + 65_536)
        let prompt = try Self.prompt(withDayLog: log)
        #expect(!prompt.contains("DAILYMARK"))
        let after = try Self.prompt(withDayLog: log + "\n## Work\n- [[Tasks/Public]] public follow-up\n")
        #expect(!after.contains("DAILYMARK"))
        #expect(after.contains("public follow-up"))
    }

    /// Past what is read whole, what the last lines sit under is unknown: they count as private.
    @Test func theLinesOfADayTooLongToReadWholeCountAsPrivate() throws {
        let filler = String(repeating: "- 04:00 a line of the day, long enough to fill it quickly and then some more\n", count: DailyLog.wholeBytes / 70)
        let prompt = try Self.prompt(withDayLog: "# Today\n" + filler + "# Work\n- [[Tasks/Public]] DAILYMARK about the task\n")
        #expect(!prompt.contains("DAILYMARK"))
    }

    /// Finding 4 (low): a day note starting with a byte-order mark, longer than its tail, counted as
    /// public whatever its properties said: its item about the task went to claude. Its
    /// properties are read past the mark, whether the note is read whole or only its frontmatter.
    @Test func aDayNoteWithAByteOrderMarkKeepsItsPrivacy() throws {
        let filler = (0..<800).map { "- filler line \($0) about nothing much here\n" }.joined()
        let prompt = try Self.prompt(withDayLog: "# Day\n" + filler + "- [[Tasks/Public]] DAILYMARK in a private day\n",
                                     frontmatter: "\u{FEFF}---\ntype: daily\nprivacy: private\n---\n")
        #expect(!prompt.contains("DAILYMARK"))
        let temp = try TemporaryVault()
        try temp.write("Daily/Bom.md", "\u{FEFF}---\nprivacy: private\n---\n- 10:00 met\n")
        #expect(Privacy.reason(ofLogAt: "Daily/Bom.md", store: NoteStore(vault: temp.vault), guardrails: Guardrails()) != nil)
        let header = Privacy.frontmatterOnly(Array("\u{FEFF}---\nprivacy: private\n---\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 100_000))
        #expect(header.map(Privacy.declaredPrivacy(of:)) == "private")
    }

    /// A token of GitHub's shape (`ghp_` and 36 more), not a real one.
    static let token = "ghp_" + "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7xQ2mZ8pL0"

    /// Finding 3 (medium): a memory match cut at 600 tokens split a GitHub token after `ghp_` and 29
    /// characters — too short for the scanner, one of 62 candidates for whoever holds it — and it went
    /// to claude; the same with the task's own text cut under `truncate: allow`. A cut never ends in a
    /// word that goes on: the token goes whole (and is found) or not at all.
    @Test func aCutNeverSendsPartOfAToken() throws {
        let v = RouteTestVault()
        v.write("Rules/Agents/claudet.md", "---\ntype: agent\nname: claudet\nlane: premium\ncommand: [\"claude\", \"-p\", \"{prompt}\"]\noutput: text\ncontext_tokens: 1000\ntruncate: allow\n---\n")
        // The token starts 33 bytes before the memory piece's cut at 2,400 bytes.
        v.write("Memory/zamboni.md", "The zamboni rotation plan is:  " + String(repeating: "word ", count: 466) + "token " + Self.token + " and then more words " + String(repeating: "tail ", count: 200) + "\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\nWhat is the zamboni rotation plan?\n")
        let (plan, packet) = try PrivacyTaintTests.plan(v.vault, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan))
        #expect(packet.pieces.contains { $0.path == "Memory/zamboni.md" }, "the note is still memory, cut before the token")
        #expect(!plan.prompt.contains("ghp_"), "\(plan.prompt.suffix(300))")

        // The task's own text, cut to the agent's budget (1,000 tokens) with the token at the cut.
        let before = 3_952 - 28 - 6 - 30
        v.write("Tasks/Long.md", "---\ntype: task\nagent: claudet\n---\nPlease review the rotation. " + String(repeating: "word ", count: before / 5) + "token " + Self.token + " and more words " + String(repeating: "tail ", count: 300) + "\n")
        let (long, longPacket) = try PrivacyTaintTests.plan(v.vault, "Tasks/Long.md")
        #expect(longPacket.truncation != nil, "the task's text was cut")
        #expect(!long.prompt.contains("ghp_"), "\(long.prompt.suffix(300))")

        // Cut anywhere inside a token, the cut keeps none of it; a token that ends
        // before the cut (then a space) is kept whole.
        let text = "alpha beta " + Self.token + " gamma\nnext line"
        let start = ("alpha beta " as String).utf8.count
        for limit in start + 1..<(start + Self.token.utf8.count) {
            let cut = ContextPacketBuilder.cut(text, toBytes: limit)
            #expect(!cut.contains("ghp"), "cut at \(limit): \(cut)")
        }
        #expect(ContextPacketBuilder.cut(text, toBytes: start + Self.token.utf8.count + 1).hasSuffix(Self.token + " "))
        // Marks no token holds end a word: text of links without spaces is cut near the limit.
        #expect(ContextPacketBuilder.cut(String(repeating: "[x](", count: 100), toBytes: 201).utf8.count >= 196)
        // Broken over a line by its writer, the first part is not kept either.
        let broken = "alpha beta ghp_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3q\na7xQ2mZ8pL0 gamma"
        #expect(!ContextPacketBuilder.cut(broken, toBytes: broken.utf8.count - 17).contains("ghp"))
    }

    /// Finding 6 (low): a handoff's `from:` went verbatim to the top of claude's packet, judged by
    /// nothing: `from: "[[Private/Bank BANKNAME]]"` sent the private note's name. A `from` or `to`
    /// that is no plain name is not sent; an agent's name is.
    @Test(arguments: ["\"[[Private/Bank BANKNAME]]\"", "\"Private/Bank BANKNAME.md\"", "\"[bank](Private/Bank%20BANKNAME.md)\""])
    func aHandoffsFromIsSentOnlyAsAName(_ from: String) throws {
        let v = RouteTestVault()
        v.write("Private/Bank BANKNAME.md", "---\nprivacy: private\n---\nBank PIN 4321\n")
        v.write("Tasks/pub.md", "---\ntype: task\nstatus: done\n---\nPublic task for handoffs.\n")
        v.write("Handoffs/h7.md", "---\ntype: handoff\nstatus: new\nfrom: \(from)\nto: claude\ntask: \"[[Tasks/pub]]\"\n---\nContinue the work.\n")
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Handoffs/h7.md")
        #expect(!plan.prompt.contains("BANKNAME"), "\(plan.prompt)")
        v.write("Handoffs/h8.md", "---\ntype: handoff\nstatus: new\nfrom: codex (usage limit)\nto: claude\ntask: \"[[Tasks/pub]]\"\n---\nContinue the work.\n")
        let (named, _) = try PrivacyTaintTests.plan(v.vault, "Handoffs/h8.md")
        #expect(named.prompt.contains("From: codex (usage limit)"), "\(named.prompt)")
    }

    /// Attack 42a, finding 2 (medium): a task written while the run store could not be written (a
    /// full disk) failed to be claimed, and nothing looked at it again: it stayed `new` until the
    /// watcher restarted. A failed claim is tried again later, and the task runs once it can be.
    @Test func aTaskWhoseClaimFailedRunsOnceTheRunStoreCanBeWritten() throws {
        let env = try EngineTestVault()
        let runs = try RunStore(vault: env.vault)
        let engine = try env.engine(claimRetryFirst: 0.2, runs: runs)
        try runs.withDatabase { try $0.execute("PRAGMA query_only = ON") }
        let path = try env.writeTask("Disk full", properties: "type: task\nagent: echo", body: "Say hello.")
        #expect(engine.consider(path: path, wait: true) == .ignored)
        #expect(env.loggedEvents.contains { $0.message.contains("cannot claim") && $0.message.contains("trying again") }, "\(env.loggedEvents)")
        // Still failing at the first retry: tried again after that, twice as late.
        Thread.sleep(forTimeInterval: 0.3)
        try runs.withDatabase { try $0.execute("PRAGMA query_only = OFF") }
        #expect(eventually(within: 20, every: 0.05) { (try? env.note(path).text("status")) == "done" }, "\(env.loggedEvents)")
        engine.waitUntilIdle()
        #expect(try runs.withDatabase { try $0.scalarInt("SELECT count(*) FROM runs") } == 1)
    }

    /// Attack (round 142, medium): the disk filled while a run ended: its end could not be written
    /// to the run store, the run stayed `claimed` there, and the watcher skipped the task at every
    /// edit (`status` said "routing…") until it restarted. The end is tried again until it is
    /// recorded; then the task is a task again, and a person's `status: new` runs it.
    @Test func aRunEndTheRunStoreCouldNotRecordIsRecordedOnceItCanBe() throws {
        let env = try EngineTestVault()
        let runs = try RunStore(vault: env.vault)
        let executor = HoldingExecutor()
        let engine = try env.engine(claimRetryFirst: 0.2, runs: runs, executor: executor)
        let path = try env.writeTask("Full disk", properties: "type: task\nagent: echo", body: "Say hello.")
        #expect(engine.consider(path: path) != .ignored)
        #expect(executor.waitUntilInside(1, seconds: 300))
        try runs.withDatabase { try $0.execute("PRAGMA query_only = ON") }
        executor.release()
        #expect(eventually(within: 20, every: 0.05) { env.loggedEvents.contains { $0.message.contains("cannot record the end of run") && $0.message.contains("trying again") } }, "\(env.loggedEvents)")
        #expect(try runs.activeRun(taskPath: path) != nil)
        Thread.sleep(forTimeInterval: 0.3)
        try runs.withDatabase { try $0.execute("PRAGMA query_only = OFF") }
        #expect(eventually(within: 20, every: 0.05) { ((try? runs.activeRun(taskPath: path)) ?? nil) == nil }, "\(env.loggedEvents)")
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "done")
        #expect(try runs.latestRun(taskPath: path)?.state == .done)
        // The person asks for it again: it runs, once more.
        let done = try env.store.read(path)
        try env.store.write(done.text.replacingOccurrences(of: "status: done", with: "status: new"), to: path, expecting: .hash(done.hash))
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try runs.withDatabase { try $0.scalarInt("SELECT count(*) FROM runs WHERE state = 'done'") } == 2, "\(env.loggedEvents)")
    }

    /// Attack 42a, finding 4 (low): `Status: draft`, `STATUS: draft` and `status: [draft]` were read
    /// as no status, and the half-written task ran at once. A status the OS cannot read is an error
    /// on the note, and nothing runs; written `status: new`, it runs.
    @Test(arguments: ["Status: draft", "STATUS: draft", "status: [draft]", "status:\n  draft: yes"])
    func aStatusWrittenAnotherWayKeepsTheTaskFromRunning(_ line: String) throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Half written", properties: "type: task\nagent: echo\n" + line, body: "Say hello, and then")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let note = try env.note(path), written = try env.text(path)
        #expect(note.text("error")?.contains("status") == true, "\(line): \(written)")
        let runs = try RunStore(vault: env.vault).withDatabase { try $0.scalarInt("SELECT count(*) FROM runs WHERE task_path = ?", [.text(path)]) }
        #expect(runs == 0, "\(line): it ran")
        // The person writes it as the OS reads it.
        var text = try env.text(path)
        text = text.replacingOccurrences(of: line, with: "status: new")
        try env.writeAsAnotherProgram(text, to: path)
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let fixed = try env.text(path)
        #expect(try env.note(path).text("status") == "done", "\(fixed)")
    }

    /// Attack 42a, finding 5 (low): a handoff whose `task` named a template, an agent note or a
    /// result made the OS write `handoffs:` into that note (every note made from the template then
    /// carried the line); one naming itself listed itself. `handoff --task` refuses a note that is
    /// no task, and no handoff writes into one.
    @Test func aHandoffWritesItsChainOnlyIntoAWorkNote() throws {
        let env = try EngineTestVault()
        try env.store.create("---\ntype: result\ntask: \"[[Tasks/Gone]]\"\n---\nAn answer.\n", at: "Results/Old.md")
        let template = try env.text("Templates/Daily.md"), agent = try env.text("Rules/Agents/echo.md")
        for target in ["Templates/Daily.md", "Rules/Agents/echo.md", "Results/Old.md"] {
            let (console, output) = Console.capturing()
            let code = CLI.run(["handoff", "--vault", env.vault.root, "--from", "person", "--to", "echo", "--task", target, "Continue."], console: console, environment: [:], executablePath: "")
            #expect(code == 1, "\(target): \(output.stdout) \(output.stderr)")
            #expect(output.stderr.contains("not a task or handoff note"), "\(target): \(output.stderr)")
        }
        // Written by hand, naming the template or itself: it runs, and writes into neither.
        let engine = try env.engine()
        try env.store.create("---\ntype: handoff\nfrom: person\nto: echo\ntask: \"[[Templates/Daily]]\"\n---\nContinue the day.\n", at: "Handoffs/To template.md")
        try env.store.create("---\ntype: handoff\nfrom: person\nto: echo\ntask: \"[[Handoffs/Self]]\"\n---\nContinue myself.\n", at: "Handoffs/Self.md")
        for path in ["Handoffs/To template.md", "Handoffs/Self.md"] { _ = engine.consider(path: path, wait: true) }
        engine.waitUntilIdle()
        #expect(try env.text("Templates/Daily.md") == template)
        #expect(try env.text("Rules/Agents/echo.md") == agent)
        #expect(try env.note("Results/Old.md").texts("handoffs").isEmpty)
        let selfText = try env.text("Handoffs/Self.md")
        #expect(try env.note("Handoffs/Self.md").texts("handoffs").isEmpty, "\(selfText)")
        // A task records the handoffs that continue it, as before.
        let task = try env.writeTask("Real", properties: "type: task\nstatus: done", body: "Work.")
        let (console, output) = Console.capturing()
        #expect(CLI.run(["handoff", "--vault", env.vault.root, "--from", "person", "--to", "echo", "--task", task, "Continue."], console: console, environment: [:], executablePath: "") == 0, "\(output.stderr)")
        #expect(try env.note(task).texts("handoffs").count == 1)
    }
}

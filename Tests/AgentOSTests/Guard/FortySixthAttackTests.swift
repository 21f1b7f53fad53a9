import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The fiftieth round of outside attacks and what round 49 left (`/work/attack93-report.md` and
/// later), each finding written as the attack it was.
@Suite struct FortySixthAttackTests {
    /// Attack (round 49, medium): a flag named in code and a word of prose after it — ``Pass
    /// `--password` per the docs`` — read as a password assignment once markup was taken out, which
    /// happens for the whole text when any of it (`**Add this password**.`) joins two tokens: two
    /// notes of the Obsidian Help vault side by side blocked a task. A value outside the code span
    /// of its key must look like a credential by itself.
    @Test func aFlagInCodeThenAWordIsNoPassword() {
        let scanner = SecretScanner()
        for text in ["Click **Add this password**.\nPass `--password` per the docs.\n",
                     "Click **Add this password**.\nPasse `--email` e/o `--password` per accedere di nuovo.\n",
                     "Use **Settings**tab, then `--token` from the list.\n"] {
            #expect(scanner.scan(text).isEmpty, "\(text.debugDescription) → \(scanner.scan(text))")
        }
        // Still found: a value that looks like one, inside the code span or after it, and a flag in prose.
        for text in ["Click **Add this password**.\nPass `--password` hunter2222 here.\n",
                     "Click **Add this password**.\nRun `mysql --password hunter22` now.\n",
                     "Run mysql --password swordfish now.\n",
                     "Run `mysql --password` `Zq8vLp2mRt` now, **then**x.\n"] {
            #expect(!scanner.scan(text).isEmpty, "\(text.debugDescription)")
        }
    }

    /// Attack (round 49, medium): retrieved pieces were judged one by one, the whole prompt after
    /// they were joined; what two pieces made together blocked the task, for text the person did not
    /// write. The packet is judged whole as the router judges it: a retrieved piece a finding touches
    /// is left out, counted, never sent, and the task runs.
    @Test func twoRetrievedPiecesTogetherLeaveOneOutInsteadOfBlocking() throws {
        let v = RouteTestVault()
        // Alone, neither note holds a secret: the second only reads as one beside the first, whose
        // `**Settings**tab` makes the scanner read the whole text without its markup.
        v.write("Notes/Alpha.md", "Open the zebra widget from its **Settings**tab.\n")
        v.write("Notes/Beta.md", "Pass `--password` zebra2222 for the zebra widget.\n")
        let scanner = SecretScanner()
        #expect(scanner.scan("Open the zebra widget from its **Settings**tab.\n").isEmpty)
        #expect(scanner.scan("Pass `--password` zebra2222 for the zebra widget.\n").isEmpty)
        #expect(!scanner.scan("Pass `--password` zebra2222 for the zebra widget.\nOpen the zebra widget from its **Settings**tab.\n").isEmpty)
        v.write("Tasks/Zebra.md", "---\ntype: task\nagent: claude\n---\nExplain the zebra widget.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (plan, packet) = try PrivacyTaintTests.plan(v.vault, "Tasks/Zebra.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action) \(plan.reason)")
        #expect(!plan.prompt.contains("zebra2222"), "\(plan.prompt)")
        #expect(plan.prompt.contains("Settings"), "the other piece still goes: \(plan.prompt)")
        #expect(packet.leftOut.contains { $0.kind == .memory && $0.reason == .secret(["password assignment"]) }, "\(packet.leftOut)")
        let verdicts = plan.extraProperties.first { $0.key == "route_verdicts" }.map { "\($0.value)" } ?? ""
        #expect(verdicts.contains("left out 1 retrieved piece: 1 holding a secret (password assignment)"), "\(verdicts)")
    }

    /// The same pieces in a task kept on this machine go as they are: nothing leaves it.
    @Test func aLocalPacketKeepsBothPieces() throws {
        let v = RouteTestVault()
        v.write("Notes/Alpha.md", "Open the zebra widget from its **Settings**tab.\n")
        v.write("Notes/Beta.md", "Pass `--password` zebra2222 for the zebra widget.\n")
        v.write("Tasks/Zebra.md", "---\ntype: task\nagent: echo\nlane: local\n---\nExplain the zebra widget.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Zebra.md")
        #expect(plan.prompt.contains("zebra2222") && plan.prompt.contains("Settings"), "\(plan.prompt)")
    }

    /// Attack (round 49, low): `note set` on a note another process keeps open for writing waited
    /// 2 s to read and 2 s to write on each of its five tries, and then said the note had "changed
    /// on disk since it was read" — nothing had. The tries share one wait, and the error says why.
    @Test func aPropertyChangeOnANoteHeldOpenSaysSoAfterOneWait() throws {
        let env = try EngineTestVault()
        let path = env.vault.root + "/Tasks/Held.md"
        let text = "---\ntype: task\nstatus: draft\n---\nHeld.\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        // Opened close-on-exec: a process another test starts meanwhile must not inherit it and keep
        // it open for writing after this test closes it (the last write below was then refused).
        var fd = open(path, O_WRONLY | O_CLOEXEC)
        #expect(fd >= 0)
        defer { if fd >= 0 { close(fd) } }
        // Where leases cannot tell (a file system or owner that does not allow them), there is no wait.
        guard FileSystem.waitUntilNoWriters(path, timeout: 0) == false else { return }
        var store = NoteStore(vault: env.vault)
        let tries = Locked(0)
        store.beforeConditionalWrite = { _ in tries.withLock { $0 += 1 } }
        do {
            try store.updateProperties("Tasks/Held.md", set: [Property("priority", .string("low"))])
            Issue.record("the note was replaced while a process wrote into it")
        } catch {
            #expect("\(error)".contains("another program keeps it open for writing"), "\(error)")
        }
        #expect(tries.withLock { $0 } == 1, "tried \(tries.withLock { $0 }) times")
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self) == text)
        close(fd)
        fd = -1
        try store.updateProperties("Tasks/Held.md", set: [Property("priority", .string("low"))])
        #expect(try Note.parse(bytes: store.read("Tasks/Held.md").bytes).text("priority") == "low")
    }

    /// Attack (round 50, medium): a task's own text was judged private only by its plain links: an
    /// Obsidian URL pasted from "Copy Obsidian URL", a wikilink in a Markdown link's title, an
    /// HTML link, a private path as a link's text or bare left the task public, and claude got the
    /// private note's name and the person's alias for it. The task's text is read as a packet reads
    /// a note it carries: any of these makes the task private (and so local only).
    @Test(arguments: ["Compare with obsidian://open?vault=v&file=Private%2FSalary please.",
                      "Compare with [my figures](obsidian://open?vault=v&file=Private%2FSalary) please.",
                      "Compare with [x](https://e.com \"[[Salary|my figures]]\") please.",
                      "Compare with <a href=\"Private/Salary.md\">figures</a> please.",
                      "Compare with [Private/Salary.md](https://e.com) please.",
                      "Compare with Private/Salary.md please.",
                      "Compare with <img alt=\"[[Salary]]\" src=\"x.png\"> please."])
    func aTaskNamingAPrivateNoteInAnyFormIsPrivate(_ line: String) throws {
        let v = RouteTestVault()
        v.write("Private/Salary.md", "# Salary\nMy salary is ZORBLAT.\n")
        v.write("Notes/Public.md", "# Public\nNothing private.\n")
        v.write("Tasks/Pay.md", "---\ntype: task\nagent: claude\n---\n" + line + "\n")
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Pay.md")
        #expect(!PrivacyTaintTests.isPremiumRun(plan), "\(line) → \(plan.action)")
        #expect(plan.reason.contains("Private/Salary.md"), "\(plan.reason)")
        // The same forms naming a public note leave the task public.
        let publicLine = line.replacingOccurrences(of: "Private%2FSalary", with: "Notes%2FPublic").replacingOccurrences(of: "Private/Salary", with: "Notes/Public")
            .replacingOccurrences(of: "[[Salary", with: "[[Public")
        v.write("Tasks/Pub.md", "---\ntype: task\nagent: claude\n---\n" + publicLine + "\n")
        let (pub, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Pub.md")
        #expect(PrivacyTaintTests.isPremiumRun(pub), "\(publicLine) → \(pub.action) \(pub.reason)")
    }

    /// Attack (round 50, low): round 49 refused a title named as a sync tool's conflicting copy,
    /// but not one the next free name makes so: `Foo.sync-conflict-20261206-123456-` was taken,
    /// and its second copy, `… 2.md`, was a Syncthing conflict name — never run, a conflict note
    /// each time. Such a title is refused the first time.
    @Test func aTitleTheNextFreeNameMakesAConflictingCopyIsRefused() throws {
        let temp = try MCPServerTests.InitVault()
        var task = NewTask(prompt: "Say hi.")
        task.title = "Foo.sync-conflict-20261206-123456-"
        for _ in 0..<2 {
            #expect(throws: NewTaskError.self) { try task.write(vault: temp.vault, environment: [:]) }
        }
        let made = try FileManager.default.contentsOfDirectory(atPath: temp.vault.root + "/Tasks").filter { $0.contains("sync-conflict") }
        #expect(made.isEmpty, "\(made)")
        var fine = NewTask(prompt: "Say hi.")
        fine.title = "Foo sync notes 2026"
        #expect(try fine.write(vault: temp.vault, environment: [:]) == "Tasks/Foo sync notes 2026.md")
        #expect(try fine.write(vault: temp.vault, environment: [:]) == "Tasks/Foo sync notes 2026 2.md")
    }

    /// Attack (round 50, low; open since round 48): a skill's text file in another encoding — UTF-16
    /// as Windows tools write it, Latin-1 — was judged as UTF-8 only: `privacy: private` or
    /// `#private` in it left the skill valid to link into the cloud harnesses' folders. It is read
    /// in its encoding; an image is still no text.
    static func utf16(_ text: String, bigEndian: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        for unit in text.utf16 {
            let high = UInt8(unit >> 8)
            let low = UInt8(unit & 0xFF)
            bytes += bigEndian ? [high, low] : [low, high]
        }
        return bytes
    }
    static let encodedFiles: [(String, [UInt8])] = [
        ("utf16le-bom", [0xFF, 0xFE] + utf16("---\nprivacy: private\n---\nCancer diagnosis\n", bigEndian: false)),
        ("utf16be-bom", [0xFE, 0xFF] + utf16("---\nprivacy: private\n---\nCancer\n", bigEndian: true)),
        ("utf16le", utf16("my diary #private\n", bigEndian: false)),
        ("latin1", Array("caf".utf8) + [0xE9] + Array(" #private diagnosis\n".utf8)),
        ("utf32le-bom", [0xFF, 0xFE, 0x00, 0x00] + Array("my diary #private\n".unicodeScalars).flatMap { [UInt8($0.value & 0xFF), UInt8(($0.value >> 8) & 0xFF), 0, 0] }),
        ("utf32le", Array("my diary #private\n".unicodeScalars).flatMap { [UInt8($0.value & 0xFF), 0, 0, 0] }),
    ]
    @Test(arguments: encodedFiles)
    func aPrivateSkillFileInAnotherEncodingKeepsTheSkillInTheVault(_ name: String, _ bytes: [UInt8]) throws {
        let root = TemporaryFolder.make("fbt-skill-encoding")
        defer { TemporaryFolder.remove(root) }
        let skill = root + "/diary"
        try FileManager.default.createDirectory(atPath: skill, withIntermediateDirectories: true)
        try "---\nname: diary\ndescription: my notes\n---\n\nUse the notes.\n".replacingFile(skill + "/SKILL.md")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48]).write(to: URL(fileURLWithPath: skill + "/chart.png"))
        #expect(Skill.check(folder: skill).isValid, "\(Skill.check(folder: skill).problems)")
        try Data(bytes).write(to: URL(fileURLWithPath: skill + "/ref.txt"))
        let checked = Skill.check(folder: skill)
        #expect(!checked.isValid && checked.problems.contains { $0.contains("private") }, "\(name): \(checked.problems)")
        // The same text without the mark is fine.
        let clean = SkillFiles.text(of: bytes).map { $0.replacingOccurrences(of: "#private", with: "#work").replacingOccurrences(of: "privacy: private", with: "privacy: public") }
        #expect(clean != nil, "\(name) reads as text")
    }

    /// Round 145: a `privacy: private` file no rule reads as text — one NUL byte in it, or UTF-16
    /// without a byte-order mark that is mostly CJK — was judged as no text, and public.
    @Test(arguments: [
        ("nul", Array("---\nprivacy: private\n---\nZEBRANUL my therapist said\n".utf8) + [0] + Array("more\n".utf8)),
        ("utf16le-cjk", utf16("---\nprivacy: private\n---\n" + String(repeating: "我的治疗师说了很多话", count: 20) + "\n", bigEndian: false)),
    ])
    func aPrivateSkillFileNoRuleReadsAsTextKeepsTheSkillInTheVault(_ name: String, _ bytes: [UInt8]) throws {
        #expect(SkillFiles.text(of: bytes) == nil, "\(name) reads as text: the test needs bytes that do not")
        let root = TemporaryFolder.make("fbt-skill-binary")
        defer { TemporaryFolder.remove(root) }
        let skill = root + "/diary"
        try FileManager.default.createDirectory(atPath: skill, withIntermediateDirectories: true)
        try "---\nname: diary\ndescription: my notes\n---\n\nUse the notes.\n".replacingFile(skill + "/SKILL.md")
        try Data(bytes).write(to: URL(fileURLWithPath: skill + "/ref.txt"))
        let checked = Skill.check(folder: skill)
        #expect(!checked.isValid && checked.problems.contains { $0.contains("private") }, "\(name): \(checked.problems)")
    }

    /// Round 146: a token in a UTF-8 head before UTF-16 text was read as UTF-16 and not found; the
    /// skill was linked. Every reading of a file is scanned.
    @Test func aSecretInAFileGuessedToBeAnotherEncodingKeepsTheSkillInTheVault() throws {
        let root = TemporaryFolder.make("fbt-skill-mixed")
        defer { TemporaryFolder.remove(root) }
        let skill = root + "/notes"
        try FileManager.default.createDirectory(atPath: skill, withIntermediateDirectories: true)
        try "---\nname: notes\ndescription: my notes\n---\n\nUse the notes.\n".replacingFile(skill + "/SKILL.md")
        let token = "ghp_" + "Zq8Vw2Lm5Rt7Yp3Kd9Hs4Fb6Nc1Xj0Ge8Ta2"
        let tail = String(repeating: "Today I wrote a lot of things down. ", count: 40)
        try Data(Array("deploy token: \(token) \n".utf8) + Self.utf16(tail, bigEndian: false)).write(to: URL(fileURLWithPath: skill + "/log.txt"))
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: skill + "/log.txt")))
        #expect(SkillFiles.text(of: bytes).map { !$0.contains(token) } == true, "the test needs a file guessed to be UTF-16")
        let checked = Skill.check(folder: skill)
        #expect(!checked.isValid && checked.problems.contains { $0.contains("holds a secret") }, "\(checked.problems)")
        // And `privacy: private` in such a head.
        try Data(Array("---\nprivacy: private\n---\nmy diary  \n".utf8) + Self.utf16(tail, bigEndian: false)).write(to: URL(fileURLWithPath: skill + "/log.txt"))
        let diary = try Array(Data(contentsOf: URL(fileURLWithPath: skill + "/log.txt")))
        #expect(SkillFiles.text(of: diary).map { !$0.contains("privacy") } == true, "the test needs a file guessed to be UTF-16")
        let judged = Skill.check(folder: skill)
        #expect(!judged.isValid && judged.problems.contains { $0.contains("is private") }, "\(judged.problems)")
    }

    /// A new user's check (round 50, low): `timeout: -5` or `0` started the agent, stopped it at
    /// once and ran it again (two failed runs, two result notes); `timeout: soon` and `retries:
    /// many` were dropped without a word. Such a task does not run and says why in `error`; fixed,
    /// it runs.
    @Test(arguments: ["timeout: -5", "timeout: 0", "timeout: soon", "retries: many", "retries: -1", "retries: 1.5", "timeout: [1, 2]",
                      "timeout: 1e-9", "retries: 1000000"])
    func aTimeoutOrRetriesThatCannotBeUsedKeepsTheTaskFromRunning(_ line: String) throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Odd limits", properties: "type: task\nagent: echo\n" + line, body: "Say hello.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let key = String(line.prefix { $0 != ":" })
        let written = try env.text(path)
        #expect(try env.note(path).text("error")?.contains(key) == true, "\(line): \(written)")
        let runs = try RunStore(vault: env.vault).withDatabase { try $0.scalarInt("SELECT count(*) FROM runs WHERE task_path = ?", [.text(path)]) }
        #expect(runs == 0, "\(line): it ran")
        // `status` says why, rather than listing it as waiting for a watcher (round 51).
        let survey = TaskNote.survey(in: env.vault, runs: nil)
        #expect(survey.notRun.contains { $0.path == path && $0.reason.contains(key) } && !survey.waiting.contains(path), "\(survey)")
        try env.writeAsAnotherProgram(try env.text(path).replacingOccurrences(of: line, with: key + ": 30"), to: path)
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let fixed = try env.text(path)
        #expect(try env.note(path).text("status") == "done", "\(fixed)")
    }

    /// Round 148 (medium): a key written twice was read as its last line — `effects: [delete]`
    /// above `effects: [read]` ran with no review, `status: new` above `status: draft` sat as a
    /// draft with no word — and `agent` as a list or a map (`agent: [echo]`, as Obsidian writes a
    /// list property) was read as no agent, routing choosing another without a word. Each task does
    /// not run and says why in `error`, the person's lines kept; fixed, it runs with its own agent.
    /// A character nobody can see is named in the error.
    @Test(arguments: [
        ("effects: [delete]\neffects: [read]\n", "'effects:' is written twice", "effects: [read]\n"),
        ("status: new\nstatus: draft\n", "status is written twice", "status: new\n"),
        ("context: [\"[[A]]\"]\ncontext: []\n", "'context:' is written twice", "context: []\n"),
        ("agent: [echo]\n", "agent: (a list or a map) is not one name", "agent: echo\n"),
        ("agent:\n  - echo\n", "agent: (a list or a map) is not one name", "agent: echo\n"),
        ("agent: {name: echo}\n", "agent: (a list or a map) is not one name", "agent: echo\n"),
        ("lane: [local]\nagent: echo\n", "lane: (a list or a map)", "lane: local\nagent: echo\n"),
        // Round 148 (low): a no-break space before `draft` was quoted as `' draft'`, which looks right.
        ("status: \u{A0}draft\n", "unknown status '<U+00A0>draft'", "status: new\n"),
        // Round 149: in JSON frontmatter too (the OS's own keys aside).
        ("\"effects\": [\"delete\"], \"effects\": [\"read\"]", "'effects:' is written twice", "\"effects\": [\"read\"]"),
    ])
    func aKeyWrittenTwiceOrANameWrittenAsAListKeepsTheTaskFromRunning(_ lines: String, _ error: String, _ fixed: String) throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = "Tasks/Twice.md"
        let original = lines.hasPrefix("\"") ? "---\n{\"type\": \"task\", \"agent\": \"echo\", " + lines + "}\n---\nSay hello.\n"
            : "---\ntype: task\n" + lines + (lines.contains("agent") ? "" : "agent: echo\n") + "---\nSay hello.\n"
        try env.store.write(original, to: path, expecting: .absent)
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let written = try env.text(path)
        #expect(try env.note(path).text("error")?.contains(error) == true, "\(lines): \(written)")
        #expect(written.contains(lines), "the person's lines are kept: \(written)")
        let runs = try RunStore(vault: env.vault).withDatabase { try $0.scalarInt("SELECT count(*) FROM runs WHERE task_path = ?", [.text(path)]) }
        #expect(runs == 0, "\(lines): it ran")
        try env.writeAsAnotherProgram(written.replacingOccurrences(of: lines, with: fixed), to: path)
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let after = try env.text(path)
        let note = try env.note(path)
        #expect(note.text("status") == "done" && note.text("route_agent") == "echo", "\(after)")
    }

    /// Round 51 (low): `Timeout: 5` with a capital was read as no timeout, without a word.
    @Test func aTaskPropertyInAnotherCaseIsAnError() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Capital", properties: "type: task\nagent: echo\nTimeout: 5", body: "Say hello.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let written = try env.text(path)
        #expect(try env.note(path).text("error")?.contains("'Timeout:'") == true, "\(written)")
        let runs = try RunStore(vault: env.vault).withDatabase { try $0.scalarInt("SELECT count(*) FROM runs WHERE task_path = ?", [.text(path)]) }
        #expect(runs == 0)
    }

    /// A new user's check (round 50, low): a packet of 2,000 tokens came to 2,055 — its first lines
    /// and the headings of long paths were not charged. Whatever the pieces, the prompt stays within
    /// the budget it names.
    @Test func aPacketStaysWithinItsBudget() {
        let label = String(repeating: "Linking notes and files/", count: 3)
        var candidates = [ContextPiece(kind: .task, path: "Tasks/T.md", line: 5, heading: nil, text: "Review the advice.", isPrivate: false)]
        for i in 0..<40 {
            candidates.append(ContextPiece(kind: .memory, path: label + "Note \(i).md", line: i + 1, heading: "A long heading of the section \(i)",
                                           text: String(repeating: "word\(i) ", count: 20 + i * 7), isPrivate: false))
        }
        for budget in [100, 107, 300, 340, 500, 777, 1000, 2000, 4000] {
            let packet = ContextPacketBuilder.fit(candidates, notePath: "Tasks/T.md", budgetTokens: budget)
            #expect(ContextPacket.estimateTokens(packet.text) <= budget, "\(budget): \(ContextPacket.estimateTokens(packet.text))")
            if budget >= 300 { #expect(packet.pieces.count > 1 && !packet.omitted.isEmpty, "\(budget): \(packet.pieces.count)") }
        }
        // Round 51: a task's text that fits the budget by itself goes whole (it was cut, and the
        // run failed, for want of room for headings), and a text not cut is not marked cut.
        let own = ContextPiece(kind: .task, path: "Tasks/T.md", line: 5, heading: nil, text: String(repeating: "abcd ", count: 780), isPrivate: false)
        let whole = ContextPacketBuilder.fit([own] + candidates.dropFirst(), notePath: "Tasks/T.md", budgetTokens: 1000)
        #expect(whole.truncation == nil && whole.text == own.text, "\(String(describing: whole.truncation))")
        let small = ContextPacketBuilder.fit(candidates, notePath: "Tasks/T.md", budgetTokens: 50)
        #expect(small.truncation == nil && small.text == "Review the advice.", "\(String(describing: small.truncation)) \(small.text)")
    }

    /// A new user's check (round 50, low): `write_note` of a new path without `create: true` said
    /// only "no such note, or a private one". It says how to make one — which tells nothing, as
    /// `create: true` on a taken name is refused too — and a private note stays unconfirmed.
    @Test func writingANewNoteWithoutCreateSaysHow() throws {
        let temp = try MCPServerTests.InitVault()
        try "# Salary\nPRIVMARK\n".replacingFile(temp.vault.root + "/Private/Salary.md")
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        func answer(_ path: String) -> String {
            "\(tools.call("write_note", arguments: .object([("path", .string(path)), ("text", .string("Learned.\n"))])))"
        }
        let missing = answer("Memory/From claude.md"), hidden = answer("Private/Salary.md")
        #expect(missing.contains("pass create: true") && missing.contains("isError"), "\(missing)")
        // The same words for a private note that exists: the answer confirms nothing.
        #expect(hidden.replacingOccurrences(of: "Private/Salary.md", with: "Memory/From claude.md") == missing, "\(hidden)")
    }

    /// A new user's check (round 50, low): doctor's `ollama` check probed localhost:11434 while the
    /// vault's ollama agent note named another endpoint, and warned of no server the lane check
    /// found. It probes the endpoint the note names.
    @Test func doctorProbesTheEndpointTheOllamaNoteNames() throws {
        let temp = try MCPServerTests.InitVault()
        let path = temp.vault.root + "/Rules/Agents/ollama.md"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "endpoint: http://localhost:11434", with: "endpoint: http://127.0.0.1:9")
        try text.replacingFile(path)
        let report = Doctor.run(DoctorContext(vault: temp.vault, environment: ["PATH": "/usr/bin:/bin"]), checks: [DoctorCheck(name: "ollama", run: SystemChecks.ollamaServer)])
        let finding = report.findings.first { $0.check == "ollama" }
        #expect(finding?.finding.contains("127.0.0.1:9") == true, "\(report.findings)")
    }

    /// Round 51 (medium, a false positive of the round-50 fix): every note a bare name could mean
    /// counted, so "Fix the typo in README.md" was private (`init` ships `Private/README.md`), and
    /// so were a repository's `docs/private/setup.md` and a URL with `/private/` in it. A form in
    /// the task's text counts for the note it opens, when that note exists and is private.
    @Test(arguments: ["Fix the typo in README.md", "Review docs/private/setup.md in ~/code/app",
                      "See https://github.com/acme/app/blob/main/private/setup.md for the steps",
                      "Read private/notes.md in the repository", "Open obsidian://open?vault=v&file=Private%2FGone please"])
    func aTaskNamingNoPrivateNoteOfTheVaultStaysPublic(_ line: String) throws {
        let v = RouteTestVault()
        v.write("Private/README.md", "# Private\nWhat is kept here.\n")
        v.write("Private/Salary.md", "# Salary\nZORBLAT\n")
        for folder in ["Daily", "Memory", "Tasks", "Results"] { v.write(folder + "/README.md", "# \(folder)\n") }
        // Where tasks are written: `Tasks/README.md` is the nearest README (round 52's rule counts
        // every note a bare name could mean when several are equally near).
        v.write("Tasks/Typo.md", "---\ntype: task\nagent: claude\n---\n" + line + "\n")
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Typo.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(line) → \(plan.action) \(plan.reason)")
    }

    /// A new user's check (round 50, medium): "Review the advice on backing up your vault and
    /// suggest improvements" ranked the backup note 7th — the words saying what to do with the
    /// answer (review, suggest, improvements) matched "Report bugs and request features" and the
    /// like. They are no part of the query.
    @Test func wordsSayingWhatToDoWithTheAnswerAreNotSearched() throws {
        #expect(RelatedQuery.words(from: "Review the advice on backing up your vault and suggest improvements") == ["backing", "vault"])
        let v = RouteTestVault()
        v.write("Memory/Back up your files.md", "# Back up your files\n\nBacking up your vault: copy the folder to another disk.\n")
        v.write("Memory/Report bugs.md", "# Report bugs and request features\n\nReview the list first, then suggest improvements and give advice.\n")
        v.write("Memory/Review process.md", "# Review process\n\nEach review ends with advice and suggestions for improvements.\n")
        let index = try MemoryIndex(vault: v.vault)
        _ = try index.reconcile()
        let builder = ContextPacketBuilder(vault: v.vault, guardrails: RuleBook.load(vault: v.vault).guardrails)
        let hits = builder.retrieve(text: "Review the advice on backing up your vault and suggest improvements", index: index)
        #expect(hits.first?.path == "Memory/Back up your files.md", "\(hits.map(\.path))")
    }

    /// Round 52 (medium): an absolute path or a `file:` URL into the vault, naming a private note,
    /// in a task's own text left the task public (round 51 counted only what Obsidian opens, and it
    /// opens nothing for these); claude got the path. It is read as the vault path it names.
    @Test func aTaskNamingAPrivateNoteByItsPathOnDiskIsPrivate() throws {
        let v = RouteTestVault()
        #expect(TaskFacts.vaultPath(of: "/elsewhere/Private/Salary.md", in: v.vault) == nil)
        v.write("Private/Salary.md", "# Salary\nZORBLAT\n")
        // Round 53: through a symlink to the vault, `.`/`..`, `file://localhost`, an HTML link.
        let link = v.vault.root + "-link"
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: v.vault.root)
        defer { try? FileManager.default.removeItem(atPath: link) }
        for line in ["Compare with \(v.vault.root)/Private/Salary.md please", "Compare with file://\(v.vault.root)/Private/Salary.md please",
                     "Compare with [x](file://\(v.vault.root)/Private/Salary.md) please", "Compare with \(link)/Private/Salary.md please",
                     "Compare with \(v.vault.root)/./Memory/../Private/Salary.md please", "Compare with file://localhost\(v.vault.root)/Private/Salary.md please",
                     "Compare with <a href=\"file://\(v.vault.root)/Private/Salary.md\">x</a> please"] {
            v.write("Tasks/Disk.md", "---\ntype: task\nagent: claude\n---\n" + line + "\n")
            let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Disk.md")
            #expect(!PrivacyTaintTests.isPremiumRun(plan) && plan.reason.contains("Private/Salary.md"), "\(line) → \(plan.reason)")
        }
    }

    /// Round 52 (medium, older): a write that found a save in its window put the save back and read
    /// what it had taken out at once — but a writer that opened the note while the OS's version stood
    /// there was still appending to it, and its line went with the file (an appender every 1 ms lost
    /// one line in 15 runs of `note set`). What was taken out is read once its writers are done,
    /// and the line is kept in the conflict note.
    @Test func aLineAppendedToWhatAWriteTookOutIsKept() throws {
        let v = RouteTestVault()
        v.write("Memory/Log.md", "# Log\nL0\n")
        var store = NoteStore(vault: v.vault)
        let absolute = v.vault.root + "/Memory/Log.md"
        let snapshot = try store.read("Memory/Log.md")
        store.betweenCheckAndReplace = {
            guard let handle = FileHandle(forWritingAtPath: absolute) else { return }
            handle.seekToEndOfFile()
            handle.write(Data("L1\n".utf8))
            handle.closeFile()
        }
        store.afterPutBack = { taken in
            guard let handle = FileHandle(forWritingAtPath: taken) else { return }
            handle.seekToEndOfFile()
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.3)
                handle.write(Data("LATELINE\n".utf8))
                handle.closeFile()
            }
        }
        do {
            try store.write("# Log\nL0\nn: 1\n", to: "Memory/Log.md", expecting: .hash(snapshot.hash))
            Issue.record("the write claimed success over an append")
        } catch {}
        let note = try String(contentsOfFile: absolute, encoding: .utf8)
        let conflicts = (try? FileManager.default.contentsOfDirectory(atPath: v.vault.root + "/Memory/Conflicts")) ?? []
        let kept = conflicts.contains { name in (try? String(contentsOfFile: v.vault.root + "/Memory/Conflicts/" + name, encoding: .utf8))?.contains("LATELINE") == true }
        #expect(note.contains("L1"), "\(note)")
        #expect(note.contains("LATELINE") || kept, "the late line is nowhere: \(note) \(conflicts)")
    }
}

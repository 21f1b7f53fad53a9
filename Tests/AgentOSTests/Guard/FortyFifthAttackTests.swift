import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The forty-seventh round of outside attacks on the release binary (`/work/attack88-report.md` and
/// `/work/attack89-report.md`), each finding written as the attack it was.
@Suite struct FortyFifthAttackTests {
    static func hidden(_ text: String) -> String {
        PrivateLinks.redacting(text, in: "Notes/Foot.md", candidates: { found in
            found.map { link in ["Notes/Salary", "Health", "Private/Passwords.md", "Therapy"].contains(link.target) ? ["Notes/" + link.target] : [] }
        }, isPrivate: { $0.hasPrefix("Notes/") }).text
    }

    /// Attack (medium): a footnote definition (`[^a]: See [[Notes/Salary]] …`) was read as a
    /// reference definition whose title ran to the line's end, so the wikilinks after it were
    /// never judged: a private note's name and the person's alias for it went to claude, from a
    /// note the task linked or one retrieval found. A footnote is no definition, and a definition
    /// is its destination and title only; the rest of its line is read as any text is.
    @Test(arguments: ["[^a]: See [[Notes/Salary]] for the wombat raise.",
                      "[^b]: Also [[Health|marmot diagnosis]] here",
                      "  [^note-1]: ![[Therapy]] and more",
                      "[ref]: https://example.com then [[Health|marmot diagnosis]]",
                      "[ref]: Other \"title\" and [[Notes/Salary]] wombat",
                      // Round 48: links and paths inside a definition's title and label.
                      "[r1]: Public.md \"see [[Notes/Salary|my Salary figure]]\"",
                      "[r2]: https://example.com \"Private/Passwords.md\"",
                      "[Private/Passwords.md]: https://example.com",
                      "[r3]: https://example.com \"obsidian://open?vault=v&file=Notes%2FSalary\"",
                      // Round 49: links inside other links — an HTML element's attributes and text, a
                      // Markdown link's title and text.
                      "see <img alt=\"[[Notes/Salary]]\" src=\"chart.png\"> here",
                      "see <a href=\"https://example.com\">[[Notes/Salary|my Salary figure]]</a> here",
                      "see [x](https://example.com \"see [[Notes/Salary]]\") here",
                      "see [Private/Passwords.md](https://example.com) here",
                      "see [[Public note|alias naming Private/Passwords.md]] here"])
    func aLinkOnAFootnoteOrAfterADefinitionIsJudged(_ line: String) {
        let out = Self.hidden("Text with a note[^a].\n\n" + line + "\n")
        #expect(out.contains("(a private note)"), "\(line) → \(out)")
        for word in ["Salary", "marmot", "Health", "Therapy", "Passwords"] { #expect(!out.contains(word), "\(line) → \(out)") }
    }

    /// A definition itself is still read whole: its destination and its title go together.
    @Test func aReferenceDefinitionToAPrivateNoteGoesWithItsTitle() {
        for line in ["[r]: Therapy \"my therapist\"", "[r]: <Therapy> 'my therapist'", "[r]: [[Therapy]]", "   [r]: Therapy (my therapist)\r"] {
            let out = Self.hidden("See [r].\n\n" + line + "\nafter\n")
            #expect(!out.contains("therapist") && !out.contains("Therapy"), "\(line.debugDescription) → \(out)")
            #expect(out.contains("after"))
        }
    }

    /// Attack (low-medium): round 46 refused a lone CR after the opening `---`, but one inside a
    /// property line still hid what followed it on that line: `summary: weekly\rprivacy: private`
    /// was one value to the OS and three properties to YAML and Obsidian; a draft ran, and a
    /// private memory note went into claude's packet. A lone CR anywhere in the block is refused.
    @Test(arguments: ["---\nsummary: weekly\rprivacy: private\rstatus: draft\n---\nCANARY body\n",
                      "---\r\ntags: [work]\rprivate: true\r\n---\r\nCANARY body\r\n",
                      "---\ntitle: x\n---\rprivacy: private\n---\nCANARY body\n"])
    func aLoneCarriageReturnInsideTheFrontmatterIsRefused(_ text: String) throws {
        #expect(throws: FrontmatterError.self) { try Note.parse(bytes: Array(text.utf8)) }
        let v = RouteTestVault()
        v.write("Memory/Hidden.md", text)
        #expect(Privacy.reason(ofNoteAt: "Memory/Hidden.md", store: NoteStore(vault: v.vault), guardrails: RuleBook.load(vault: v.vault).guardrails) != nil)
    }

    /// Attack (medium): a folder named `Private` below the vault's root (`Diaries/Private/`) was
    /// public: a task in plain words retrieved the diary there and sent it to claude, and a task
    /// linking it ran there too. A `Private` folder at any depth is private; `private_folders`
    /// entries stay read from the root.
    @Test func aPrivateFolderBelowTheRootIsPrivate() throws {
        let v = RouteTestVault()
        v.write("Diaries/Private/Diary.md", "# Diary\nJackal secret crush JACKALNU in the jackal diary.\n")
        v.write("Clients/acme/PRIVATE/Notes.md", "# Notes\nJackal contract JACKALTWO.\n")
        v.write("Diaries/Private Beta/Plan.md", "# Plan\nJackal beta plan, public.\n")
        let guardrails = RuleBook.load(vault: v.vault).guardrails
        #expect(Privacy.privateFolder(containing: "Diaries/Private/Diary.md", guardrails: guardrails) == "Diaries/Private")
        #expect(Privacy.privateFolder(containing: "Clients/acme/PRIVATE/Notes.md", guardrails: guardrails) != nil)
        #expect(Privacy.privateFolder(containing: "Diaries/Private Beta/Plan.md", guardrails: guardrails) == nil)
        #expect(Privacy.privateFolder(containing: "Diaries/Privates/Plan.md", guardrails: guardrails) == nil)

        v.write("Tasks/Diary.md", "---\ntype: task\nagent: claude\n---\nWhat does my diary say about the jackal crush and the jackal contract?\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Diary.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan))
        #expect(!plan.prompt.contains("JACKALNU") && !plan.prompt.contains("JACKALTWO"), "\(plan.prompt)")
        v.write("Tasks/Linked.md", "---\ntype: task\nagent: claude\n---\nLook at [[Diaries/Private/Diary]] please.\n")
        let (linked, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Linked.md")
        #expect(!PrivacyTaintTests.isPremiumRun(linked), "\(linked.action)")
    }

    /// A day's log is parsed once for the packets that read the same bytes (a burst's), and read
    /// anew the moment a byte changes: a private heading added above an item covers it at once,
    /// and the same bytes written again give the same verdict.
    @Test func aDayLogReadAgainAfterAChangeIsJudgedAsItIsNow() throws {
        let v = RouteTestVault()
        let path = "Daily/Cache.md"
        v.write(path, "---\ntype: daily\n---\n## Work\n- [[Tasks/Public]] DAILYMARK one\n")
        let store = NoteStore(vault: v.vault)
        let first = try #require(DailyLog.read(path, store: store))
        #expect(first.items.count == 1 && first.items[0].above.contains("Work"))
        #expect(DailyLog.read(path, store: store)?.items.count == 1)
        v.write(path, "---\ntype: daily\n---\n## Clinic #private\n- [[Tasks/Public]] DAILYMARK one\n")
        let changed = try #require(DailyLog.read(path, store: store))
        #expect(changed.items.count == 1 && changed.items[0].above.contains("#private"), "\(changed.items.map(\.above))")
        v.write(path, "---\ntype: daily\n---\n## Work\n- [[Tasks/Public]] DAILYMARK one\n- two\n")
        #expect(DailyLog.read(path, store: store)?.items.count == 2)
    }

    /// Attack (round 48, medium): a vault's `Skills/` made a symlink into `Private/` (own skills kept
    /// private) had its notes judged by the path as written, `Skills/…`: `skills sync` linked a
    /// private diagnosis into `~/.claude/skills` and `~/.agents/skills`, and `doctor` said "in
    /// sync". A symlinked `Skills/` links nothing, says why, and a link made before goes.
    @Test func aSymlinkedSkillsFolderLinksNothing() throws {
        let root = TemporaryFolder.make("fbt-skill-symlink")
        defer { TemporaryFolder.remove(root) }
        let vault = Vault(root: root + "/vault")
        _ = try VaultInit.run(vault: vault)
        let environment = ["HOME": root + "/home", "PATH": "/usr/bin:/bin"]
        let folders = SkillFolder.standard(environment: environment)
        _ = try SkillSync.sync(vault: vault, folders: folders)
        #expect(FileManager.default.fileExists(atPath: folders[0].path + "/fuckbigtech"), "the shipped skill is linked first")
        try FileManager.default.createDirectory(atPath: vault.root + "/Private/myskills/diary", withIntermediateDirectories: true)
        try "---\nname: diary\ndescription: my diary\n---\n\nPrivate diagnosis DIAGMARK.\n".replacingFile(vault.root + "/Private/myskills/diary/SKILL.md")
        try FileManager.default.moveItem(atPath: vault.root + "/Skills", toPath: vault.root + "/Skills.orig")
        try FileManager.default.createSymbolicLink(atPath: vault.root + "/Skills", withDestinationPath: "Private/myskills")
        let status = SkillSync.status(vault: vault, folders: folders)
        #expect(status.invalid.count == 1 && status.invalid[0].problems.first?.contains("symlink") == true, "\(status.skills)")
        _ = try SkillSync.sync(vault: vault, folders: folders)
        for folder in folders {
            #expect(!FileManager.default.fileExists(atPath: folder.path + "/diary"), "\(folder.path)")
            #expect(!FileManager.default.fileExists(atPath: folder.path + "/fuckbigtech"), "a link made before goes")
        }
        let report = Doctor.run(DoctorContext(vault: vault, environment: environment), checks: [DoctorCheck(name: "harness", run: HarnessChecks.run)])
        #expect(report.findings.first { $0.check == "skills" }.map { $0.status != .ok } == true, "\(report.findings)")
    }

    /// Attack (round 48, low): a skill's files other than `.md` were judged for secrets and links,
    /// never for privacy: `references/notes.markdown` saying `privacy: private`, or `notes.txt`
    /// with `#private`, left the skill linked. Every text file is judged; an image is not text.
    @Test(arguments: [("references/notes.markdown", "---\nprivacy: private\n---\nmy diary\n"), ("notes.txt", "my diary #private\n")])
    func aPrivateTextFileOfAnyNameKeepsTheSkillInTheVault(_ file: String, _ text: String) throws {
        let root = TemporaryFolder.make("fbt-skill-text")
        defer { TemporaryFolder.remove(root) }
        let skill = root + "/diary"
        try FileManager.default.createDirectory(atPath: skill + "/references", withIntermediateDirectories: true)
        try "---\nname: diary\ndescription: my notes\n---\n\nUse the notes.\n".replacingFile(skill + "/SKILL.md")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00]).write(to: URL(fileURLWithPath: skill + "/references/chart.png"))
        #expect(Skill.check(folder: skill).isValid, "\(Skill.check(folder: skill).problems)")
        try text.replacingFile(skill + "/" + file)
        let checked = Skill.check(folder: skill)
        #expect(!checked.isValid && checked.problems.contains { $0.contains("private") }, "\(checked.problems)")
    }

    /// Attack (round 48, low): a cloud agent wrote notes named as a sync tool names its conflicting
    /// copies (`Tasks/X.sync-conflict-20261206-080000-ABCDEFG.md`) through MCP; the watcher never ran
    /// them but wrote a conflict note and a warning for each. Such names are refused to agents.
    @Test func anAgentCannotWriteANoteNamedAsASyncToolsConflictingCopy() throws {
        let temp = try MCPServerTests.InitVault()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        for path in ["Tasks/X.sync-conflict-20261206-080000-ABCDEFG.md", "Memory/Plan (conflicted copy 2026-12-06).md", "Memory/Plan (SFConflict bob 2026-12-06-08-00-00).md"] {
            let answer = tools.call("write_note", arguments: .object([("path", .string(path)), ("text", .string("forged\n")), ("create", .bool(true))]))
            #expect(answer.first { $0.0 == "isError" }?.1 == .bool(true), "\(path): \(answer)")
            #expect(!FileManager.default.fileExists(atPath: temp.folder.path + "/" + path))
        }
        let fine = tools.call("write_note", arguments: .object([("path", .string("Memory/Plan.md")), ("text", .string("fine\n")), ("create", .bool(true))]))
        #expect(fine.first { $0.0 == "isError" }?.1 != .bool(true), "\(fine)")
    }

    /// Attack (round 49, low): `note write` refused names of sync tools' conflicting copies, but
    /// `task new "…" --title "Foo (conflicted copy)"` from a run made them, each a conflict note and
    /// a warning, never run. Such a title is refused with the reason.
    @Test func aTaskCannotBeTitledAsAConflictingCopy() throws {
        let temp = try MCPServerTests.InitVault()
        for title in ["Foo (conflicted copy)", "Plan.sync-conflict-20261206-080000-ABCDEFG", "Plan (SFConflict bob 2026-12-06-08-00-00)"] {
            var task = NewTask(prompt: "Say hi.")
            task.title = title
            #expect(throws: NewTaskError.self) { try task.write(vault: temp.vault, environment: ["FBT_RUN_ID": "20990101-000000-aaaaaa"]) }
        }
        var fine = NewTask(prompt: "Say hi.")
        fine.title = "Foo copy"
        #expect(try fine.write(vault: temp.vault, environment: [:]) == "Tasks/Foo copy.md")
    }

    /// A clean CI run was killed by signal 29 (SIGIO): reads for an update now wait for a note's
    /// writers with a read lease, and a writer opening the note while the lease is held makes the
    /// kernel signal the holder, whose default is to end the process — the watcher, when a person
    /// saves in that instant. The signal is ignored once a lease is taken; many leases against a
    /// writer opening the note over and over leave this process running.
    @Test func aLeaseBrokenByAWriterDoesNotEndTheProcess() throws {
        let folder = TemporaryFolder("fbt-lease")
        let path = folder.path + "/Busy.md"
        try "x\n".replacingFile(path)
        _ = FileSystem.waitUntilNoWriters(path, timeout: 0)
        var action = sigaction()
        sigaction(SIGIO, nil, &action)
        #expect(unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self))
        let done = Locked(false)
        let writer = Thread {
            while !done.withLock({ $0 }) {
                let fd = open(path, O_WRONLY | O_CLOEXEC)
                if fd >= 0 { close(fd) }
            }
        }
        writer.start()
        for _ in 0..<3_000 { _ = FileSystem.waitUntilNoWriters(path, timeout: 0) }
        done.withLock { $0 = true }
        Thread.sleep(forTimeInterval: 0.05)
    }
}

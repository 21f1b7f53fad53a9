import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The forty-first outside attacks on the release binary (`/work/attack78-report.md` and
/// `/work/attack79-report.md`), each finding written as the attack it was.
@Suite struct FortyFirstAttackTests {
    /// Day logs whose item about the task (DAILYMARK) sits under a line marked `#private` that
    /// Markdown renders as a heading, or that titles the items below it; each ends with a public
    /// section whose item about the task is still sent.
    static let privatelyTitledItems: [String] = [
        // A setext heading of level 1 and of level 2.
        "# Day\n\nHealth #private\n===============\n\n- 10:00 [[Tasks/Public]] DAILYMARK setext one\n\n# Work\n\n- 11:00 [[Tasks/Public]] public follow-up\n",
        "# Day\n\nMoney #private\n--------------\n\n- 10:00 [[Tasks/Public]] DAILYMARK setext two\n\n# Work\n\n- 11:00 [[Tasks/Public]] public follow-up\n",
        // An ATX heading indented by up to three spaces, and one with a tab after its `#`s.
        "   ## Therapy #private\n\n- 10:00 [[Tasks/Public]] DAILYMARK indented\n\n## Work\n\n- 11:00 [[Tasks/Public]] public follow-up\n",
        "##\tClinic #private\n- 10:00 [[Tasks/Public]] DAILYMARK tab\n## Work\n- 11:00 [[Tasks/Public]] public follow-up\n",
        // Under a private setext heading, a subsection written either way stays covered.
        "Journal #private\n===\n### Monday\n- 10:00 [[Tasks/Public]] DAILYMARK under a subsection\n# Work\n- 11:00 [[Tasks/Public]] public follow-up\n",
        // A bold line and a callout's title that title the items below them.
        "**Bank (private)** #private\n- 10:00 [[Tasks/Public]] DAILYMARK bold title\n\n## Work\n- 11:00 [[Tasks/Public]] public follow-up\n",
        "> [!note]- Clinic #private\n- 10:00 [[Tasks/Public]] DAILYMARK callout title\n\n## Work\n- 11:00 [[Tasks/Public]] public follow-up\n",
        // A line of text that links a private note titles its items too.
        "From [[Journal/Day one]]:\n- 10:00 [[Tasks/Public]] DAILYMARK under a private link\n\n## Work\n- 11:00 [[Tasks/Public]] public follow-up\n",
    ]

    /// Attack (medium): a day-log item about the task went to claude from under `Health #private`
    /// underlined with `===` or `---`, `   ## Therapy #private` and `##<tab>Clinic #private` —
    /// headings as Markdown renders them, which the OS did not read as headings — and from under a
    /// `**Bank** #private` line or a callout's title. Each is left out now; the public item is sent.
    @Test(arguments: privatelyTitledItems)
    func anItemUnderAPrivatelyTitledLineNeverReachesClaude(_ log: String) throws {
        let v = RouteTestVault()
        v.write("Journal/Day one.md", "---\nprivacy: private\n---\nA private day.\n")
        v.write("Daily/\(PrivacyTaintTests.today).md", RunLines.marked("---\ntype: daily\n---\n" + log))
        v.write("Tasks/Public.md", "---\ntype: task\nagent: claude\n---\nSummarise the follow-ups.\n")
        let (plan, packet) = try PrivacyTaintTests.plan(v.vault, "Tasks/Public.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "the public task still runs on claude: \(plan.action)")
        #expect(!plan.prompt.contains("DAILYMARK"), "\(log)\n---\n\(plan.prompt)")
        #expect(!packet.text.contains("DAILYMARK"))
        #expect(plan.prompt.contains("public follow-up"), "the public item about the task is still sent:\n\(plan.prompt)")
    }

    /// Attack (medium, the same reading): a day too long to read whole, whose private section
    /// (`# Journal #private`, in the part read from the top) holds a subsection that runs into the
    /// part read from the end. The subsection's heading did not close the private one above it, yet
    /// its items went out; a level-1 heading in the end part does close it.
    @Test func aSubsectionOfAPrivateSectionInALongDayIsCovered() throws {
        let v = RouteTestVault()
        let filler = String(repeating: "- 09:00 an early line, written at length to fill the day\n", count: 2_000)
        let log = "---\ntype: daily\n---\n# Journal #private\n" + filler + "### Evening\n- 22:00 [[Tasks/Public]] DAILYMARK late and private\n"
        v.write("Daily/\(PrivacyTaintTests.today).md", RunLines.marked(log))
        v.write("Tasks/Public.md", "---\ntype: task\nagent: claude\n---\nSummarise the follow-ups.\n")
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Public.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan))
        #expect(!plan.prompt.contains("DAILYMARK"))

        v.write("Daily/\(PrivacyTaintTests.today).md", RunLines.marked(log + "# Work\n- 23:00 [[Tasks/Public]] public follow-up\n"))
        let (again, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Public.md")
        #expect(!again.prompt.contains("DAILYMARK"))
        #expect(again.prompt.contains("public follow-up"), "a level-1 heading ends the private section:\n\(again.prompt)")
    }

    /// What Markdown reads as a heading, and what it does not.
    @Test func headingsAreReadAsMarkdownReadsThem() {
        #expect(DailyLog.atxLevel("## Done") == 2)
        #expect(DailyLog.atxLevel("   ### Three spaces") == 3)
        #expect(DailyLog.atxLevel("#\tTab") == 1)
        #expect(DailyLog.atxLevel("##") == 2)
        #expect(DailyLog.atxLevel("    ## Four spaces is code") == nil)
        #expect(DailyLog.atxLevel("#private") == nil)
        #expect(DailyLog.atxLevel("####### seven") == nil)
        #expect(DailyLog.setextLevel("===") == 1)
        #expect(DailyLog.setextLevel("  ---  ") == 2)
        #expect(DailyLog.setextLevel("- -") == nil)
        #expect(DailyLog.setextLevel("==x") == nil)
        #expect(DailyLog.setextLevel("    ===") == nil)
        #expect(DailyLog.fence("```bash")?.length == 3)
        #expect(DailyLog.fence("  ~~~~")?.closes == true)
        #expect(DailyLog.fence("``inline``") == nil)
        #expect(DailyLog.fence("```a`b") == nil)
    }

    /// Attack (low): a note whose `tags:` is a nested list (`- [private]`, `[[private]]`) or holds a
    /// map (`- private: yes`) had no tags as privacy read them, so it went whole into claude's packet
    /// as a memory match and to a cloud agent's MCP search. Every text in the value counts now.
    @Test(arguments: [
        "tags:\n  - [private]",
        "tags: [[private]]",
        "tags:\n  - - work\n    - private",
        "tags:\n  - private: yes",
        "Tags: [[work, [private]]]",
    ])
    func aNestedTagListIsRead(_ tags: String) throws {
        let note = try Note.parse("---\n\(tags)\n---\nThe dorfword TAGMARK value.\n")
        #expect(Privacy.tags(of: note).contains("private"), "\(tags): \(Privacy.tags(of: note))")
        let v = RouteTestVault()
        v.write("Memory/Taglist.md", "---\n\(tags)\n---\nThe dorfword TAGMARK value.\n")
        v.write("Memory/Plain.md", "---\ntags:\n  - [work]\n---\nThe dorfword PLAINMARK value.\n")
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\nWhat do the dorfword values say?\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let (plan, _) = try PrivacyTaintTests.plan(v.vault, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan))
        #expect(!plan.prompt.contains("TAGMARK"), "\(tags)\n\(plan.prompt)")
        #expect(plan.prompt.contains("PLAINMARK"), "a note tagged work in a nested list is still memory:\n\(plan.prompt)")
    }

    /// Attack (medium): a skill folder holding a `privacy: private` note whose frontmatter does not
    /// parse (a YAML alias, a `---` never closed) was valid, and `skills sync` linked it whole into
    /// `~/.claude/skills` and `~/.agents/skills` — while MCP withheld the same note as private. A note
    /// that cannot be judged keeps its skill in the vault, with the reason; a parsed public one does not.
    @Test(arguments: [
        "---\nprivacy: private\nref: *x\n---\nPRIVMARK my notes\n",
        "---\nprivacy: private\nPRIVMARK my notes #private\n",
        "---\ntags: [private\n---\nPRIVMARK my notes\n",
    ])
    func aSkillFileWhoseFrontmatterDoesNotParseIsNotLinked(_ text: String) throws {
        let setup = try SkillSyncTests.Setup()
        defer { TemporaryFolder.remove(setup.root) }
        try setup.skill("demo", "---\nname: demo\ndescription: A demo skill for testing things out\n---\nRead the references.\n")
        try FileManager.default.createDirectory(atPath: setup.vault.root + "/Skills/demo/references", withIntermediateDirectories: true)
        try text.replacingFile(setup.vault.root + "/Skills/demo/references/notes.md")
        try setup.skill("public", "---\nname: public\ndescription: A skill with a parsed public note\n---\nRead the references.\n")
        try FileManager.default.createDirectory(atPath: setup.vault.root + "/Skills/public/references", withIntermediateDirectories: true)
        try "---\ntags: [howto]\n---\nSteps.\n".replacingFile(setup.vault.root + "/Skills/public/references/notes.md")
        let run = setup.run(["sync"])
        let demo = try #require(SkillSync.status(vault: setup.vault, folders: setup.folders).skills.first { $0.name == "demo" })
        #expect(demo.problems.contains { $0.contains("references/notes.md's frontmatter does not parse") }, "\(demo.problems)")
        for folder in setup.folders {
            #expect(setup.link(folder.path + "/demo") == nil, "demo was linked into \(folder.path): \(run.out) \(run.err)")
            #expect(setup.link(folder.path + "/public") != nil, "the public skill was not linked: \(run.out) \(run.err)")
        }
    }

    /// Found beside that attack: a run's rewrite of a `privacy: private` note whose frontmatter did
    /// not parse (so private to every reader) into a clean public note was let through, since the
    /// note before could not be judged: the next cloud packet would have had it. It is refused; a
    /// rewrite that keeps it private, and one by a person, are not.
    @Test func aRunCannotDeclassifyANoteWhoseFrontmatterDoesNotParse() throws {
        let v = RouteTestVault()
        v.write("Tasks/Plain.md", "---\ntype: task\n---\nTidy the notes.\n")
        v.write("Memory/Broken.md", "---\nprivacy: private\nref: *x\n---\n# Broken\n\nPRIVMARK.\n")
        let runID = try PrivacyTaintTests.localRun(of: "Tasks/Plain.md", in: v.vault)
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "ollama", environment: ["FBT_RUN_ID": runID]))
        func failed(_ answer: [(String, JSON)]) -> Bool { answer.first { $0.0 == "isError" }?.1 == .bool(true) }
        let store = NoteStore(vault: v.vault)
        let broken = try store.read("Memory/Broken.md")
        let answer = tools.call("write_note", arguments: .object([("path", .string("Memory/Broken.md")), ("text", .string("# Broken\n\nnow public\n")), ("expect_hash", .string(broken.hash.hex))]))
        #expect(failed(answer), "\(answer)")
        #expect(try store.read("Memory/Broken.md").bytes == broken.bytes)
        // Kept private, the rewrite is the run's to make.
        let kept = tools.call("write_note", arguments: .object([("path", .string("Memory/Broken.md")), ("text", .string("---\nprivacy: private\n---\n# Broken\n\nfixed\n")), ("expect_hash", .string(broken.hash.hex))]))
        #expect(!failed(kept), "\(kept)")
    }
}

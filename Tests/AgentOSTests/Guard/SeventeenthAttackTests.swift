import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// An executor whose agent, while it runs, sees its task note moved into `Private/` by a person
/// (no watcher follows the rename) and then makes a task for a cloud agent and writes a note.
final class MovedTaskExecutor: AgentExecuting, @unchecked Sendable {
    let vault: Vault
    let from: String
    init(vault: Vault, from: String) {
        self.vault = vault
        self.from = from
    }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        try? FileManager.default.moveItem(atPath: vault.root + "/" + from, toPath: vault.root + "/Private/moved.md")
        let environment = ["FBT_RUN_ID": runEnvironment["FBT_RUN_ID"] ?? ""]
        let draft = vault.root + "/../leak-\(UUID().uuidString).md"
        try? "# Leak\n\nlogin word is quokka7731\n".replacingFile(draft)
        for arguments in [["task", "new", "--agent", "claude", "--title", "Spawned", "please summarise: login word is quokka7731"],
                          ["note", "write", "Memory/Leak.md", "--create", "--from", draft]] {
            let (console, _) = Console.capturing()
            _ = CLI.run(arguments + ["--vault", vault.root], console: console, environment: environment, executablePath: "fuckbigtech")
        }
        return AgentExecution(succeeded: true, answer: "done", error: nil, exitCode: 0)
    }
}

/// The seventeenth outside attack on the release binary (`/work/attack49-report.md`), each finding
/// written as the attack it was.
@Suite(.serialized) struct SeventeenthAttackTests {
    /// Attack: a private task (it embeds `Private/Bank.md`) run by `fuckbigtech run`, no watcher, was
    /// moved into `Private/` by its person while it ran. Whether the run is private was judged by the
    /// task note at its recorded path, which was gone: the run counted as public, its `note write`
    /// made a public note with the private text and its `task new` a public premium task. A private
    /// run is recorded as one when it starts, and a run whose task note is gone counts as private.
    @Test func aPrivateRunStaysPrivateWhenItsTaskIsMovedWhileItRuns() throws {
        let env = try EngineTestVault()
        try env.store.write("# Bank\n\nmy online banking login word is quokka7731\n", to: "Private/Bank.md", expecting: .absent)
        let task = try env.writeTask("Move me", properties: "type: task\nagent: echo", body: "Summarise ![[Private/Bank]].")
        let runs = try RunStore(vault: env.vault)
        let engine = TaskEngine(vault: env.vault, runs: runs, routing: try VaultRouting(vault: env.vault), executor: MovedTaskExecutor(vault: env.vault, from: task)) { _ in }
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        #expect(FileManager.default.fileExists(atPath: env.vault.root + "/Private/moved.md"))
        let spawned = try env.text("Tasks/Spawned.md"), leak = try env.text("Memory/Leak.md")
        #expect(try env.note("Tasks/Spawned.md").text("privacy") == "private", "\(spawned)")
        #expect(try env.note("Memory/Leak.md").text("privacy") == "private", "\(leak)")
    }

    /// The same judged without the engine: a run in flight whose task note is gone counts as
    /// private; once it has ended, a deleted task note says nothing of it.
    @Test func aRunInFlightWhoseTaskIsGoneCountsAsPrivate() throws {
        let env = try EngineTestVault()
        let runs = try RunStore(vault: env.vault)
        var record = try #require(try runs.claim(taskPath: "Tasks/Gone.md", taskHash: nil, attempt: 1))
        record.lane = "local"
        record.state = .running
        try runs.update(record)
        #expect(Privacy.reason(ofRun: record.runID, vault: env.vault) != nil)
        record.state = .done
        try runs.update(record)
        #expect(Privacy.reason(ofRun: record.runID, vault: env.vault) == nil)
    }

    /// Attack: CommonMark link forms the one-line pattern did not read sent a private note's name
    /// in cloud packets: brackets or a line break in the link text, parentheses in the destination,
    /// titles, spaces around `<…>`, upper- and mixed-case HTML tags and tags across a line break,
    /// reference definitions in a quote or list item or with the destination on the next line.
    @Test func commonMarkLinkFormsToPrivateNotesAreRedacted() throws {
        let v = RouteTestVault()
        v.write("Memory/Cancer diagnosis PRIVTITLE.md", "---\ntags: [personal]\n---\nDetails.\n")
        v.write("Memory/Biopsy (PRIVPAREN).md", "---\ntags: [personal]\n---\nDetails.\n")
        let forms = [
            "[a [b] c](<Memory/Cancer diagnosis PRIVTITLE>)", "[a [b] c](Memory/Cancer%20diagnosis%20PRIVTITLE)",
            "[x](Memory/Biopsy%20(PRIVPAREN))", "[x](<Memory/Biopsy (PRIVPAREN)>)",
            "[x](<Memory/Cancer diagnosis PRIVTITLE> \"title (t)\")", "[x](Memory/Cancer%20diagnosis%20PRIVTITLE 'title')",
            "[x]( <Memory/Cancer diagnosis PRIVTITLE> )", "[my\nnote](<Memory/Cancer diagnosis PRIVTITLE>)",
            "<A HREF=\"Memory/Cancer diagnosis PRIVTITLE\">x</A>", "<Img src=\"Memory/Cancer diagnosis PRIVTITLE\">",
            "<A\nhref=\"Memory/Cancer diagnosis PRIVTITLE\">x</a>", "[r9]:\n  <Memory/Cancer diagnosis PRIVTITLE>",
            "> [r10]: <Memory/Cancer diagnosis PRIVTITLE>", "- [r11]: <Memory/Cancer diagnosis PRIVTITLE>",
        ]
        v.write("Memory/Links.md", "# Links\n\nCLEANMARK [open](https://example.com/a_(b)) and [[Links]]\n\n" + forms.map { $0 + " here\n\n" }.joined())
        v.write("Tasks/Linked.md", "---\ntype: task\nagent: claude\n---\nSummarise [[Links]].\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Linked.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("CLEANMARK [open](https://example.com/a_(b))"), "\(plan.prompt)")
        #expect(!plan.prompt.contains("PRIVTITLE") && !plan.prompt.contains("PRIVPAREN"), "\(plan.prompt)")
    }

    /// Attack: a skill linked while clean, then given a `#personal` file, stays linked (links are
    /// live: the harnesses read the file at once) until `skills sync`; `doctor` called it "invalid
    /// and not linked" and rated the harness `ok`. It fails now, saying where it is still linked.
    @Test func doctorFailsForAnInvalidSkillThatIsStillLinked() throws {
        let root = TemporaryFolder.make("fbt-skill-late")
        defer { TemporaryFolder.remove(root) }
        let vault = Vault(root: root + "/vault")
        _ = try VaultInit.run(vault: vault)
        let environment = ["HOME": root + "/home", "PATH": "/usr/bin:/bin"]
        let folders = SkillFolder.standard(environment: environment)
        _ = try SkillSync.sync(vault: vault, folders: folders)
        try FileManager.default.createDirectory(atPath: vault.root + "/Skills/fuckbigtech/refs", withIntermediateDirectories: true)
        try "---\ntags: [personal]\n---\nmy PIN LATEPIN\n".replacingFile(vault.root + "/Skills/fuckbigtech/refs/late.md")
        let report = Doctor.run(DoctorContext(vault: vault, environment: environment), checks: [DoctorCheck(name: "harness", run: HarnessChecks.run)])
        let finding = try #require(report.findings.first { $0.check == "skills" })
        #expect(finding.status == .fail && finding.finding.contains("still linked"), "\(finding.finding)")
        #expect(finding.fix?.contains("skills sync") == true)
        // After `skills sync` the link is gone, and the warning says so.
        _ = try SkillSync.sync(vault: vault, folders: folders)
        let synced = Doctor.run(DoctorContext(vault: vault, environment: environment), checks: [DoctorCheck(name: "harness", run: HarnessChecks.run)])
        #expect(synced.findings.first { $0.check == "skills" }?.status == .warn)
        #expect(!FileManager.default.fileExists(atPath: folders[0].path + "/fuckbigtech"))
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// An executor during whose run a person moves the task note away and saves a new task at the
/// same path (no watcher follows the rename).
final class ReplacedTaskExecutor: AgentExecuting, @unchecked Sendable {
    let vault: Vault
    let path: String
    init(vault: Vault, path: String) {
        self.vault = vault
        self.path = path
    }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        try? FileManager.default.moveItem(atPath: vault.root + "/" + path, toPath: vault.root + "/Memory/old task.md")
        try? "---\ntype: task\nstatus: new\n---\nA new task of the person's.\n".replacingFile(vault.root + "/" + path)
        return AgentExecution(succeeded: true, answer: "done", error: nil, exitCode: 0)
    }
}

/// The eighteenth outside attack on the release binary (`/work/attack50-report.md`), each finding
/// written as the attack it was.
@Suite(.serialized) struct EighteenthAttackTests {
    /// Attack: while `run` ran a task, its note was moved away and a new task saved at the same
    /// path; the run's end was written into the new note, which ended `done` without running, with
    /// the old run's result link. The end is written only into a note carrying the run's `run_id`.
    @Test func aRunsEndIsNotWrittenIntoAnotherNoteAtItsPath() throws {
        let env = try EngineTestVault()
        let task = try env.writeTask("Replaced", properties: "type: task\nagent: echo", body: "Summarise the changelog.")
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: ReplacedTaskExecutor(vault: env.vault, path: task)) { _ in }
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        let note = try env.note(task)
        let text = try env.text(task)
        #expect(note.text("status") == "new", "\(text)")
        #expect(note.text("result") == nil && note.text("run_id") == nil, "\(text)")
        #expect(text.contains("A new task of the person's."))
        let results = try FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Results").filter { $0.hasPrefix("Replaced") }
        #expect(results.count == 1, "the result is kept: \(results)")
    }

    /// Attack: a line break before a link's destination, backslash escapes in it (`\(`), and a
    /// private link after 256 others in a long note (the scans stopped there) sent a private note's
    /// name in a cloud packet.
    @Test func moreLinkFormsAndLongNotesAreRedacted() throws {
        let v = RouteTestVault()
        v.write("Memory/Cancer diagnosis PRIVTITLE.md", "---\ntags: [personal]\n---\nDetails.\n")
        v.write("Memory/Biopsy (PRIVPAREN).md", "---\ntags: [personal]\n---\nDetails.\n")
        let forms = ["[x](\n<Memory/Cancer diagnosis PRIVTITLE>)", "[x](Memory/Biopsy%20\\(PRIVPAREN\\))", "[r]: Memory/Biopsy%20\\(PRIVPAREN\\)"]
        v.write("Memory/Links.md", "# Links\n\nCLEANMARK\n\n" + forms.map { $0 + " here\n\n" }.joined())
        var long = "# Index\n\nLONGMARK\n\n"
        for i in 0..<300 { long += "- [n\(i)](<Memory/N\(i)>) and Memory/Other \(i).md\n" }
        long += "- [biopsy](<Memory/Biopsy (PRIVPAREN)>) and Memory/Cancer diagnosis PRIVTITLE.md\n"
        v.write("Memory/Index.md", long)
        v.write("Tasks/Linked.md", "---\ntype: task\nagent: claude\ncontext_tokens: 60000\n---\nSummarise [[Links]] and [[Index]].\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Linked.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("CLEANMARK") && plan.prompt.contains("LONGMARK"), "\(plan.prompt.prefix(400))")
        #expect(!plan.prompt.contains("PRIVTITLE") && !plan.prompt.contains("PRIVPAREN"), "\(plan.prompt.suffix(600))")
    }
}

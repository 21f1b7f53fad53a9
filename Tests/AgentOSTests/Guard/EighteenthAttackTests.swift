import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// An executor during whose first run a person moves the task note away and saves a new task at
/// the same path (no watcher follows the rename); it records the prompts it was given.
final class ReplacedTaskExecutor: AgentExecuting, @unchecked Sendable {
    let vault: Vault
    let path: String
    let prompts = Locked<[String]>([])
    init(vault: Vault, path: String) {
        self.vault = vault
        self.path = path
    }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        if prompts.withLock({ $0.append(prompt); return $0.count }) == 1 {
            try? FileManager.default.moveItem(atPath: vault.root + "/" + path, toPath: vault.root + "/Memory/old task.md")
            try? "---\ntype: task\nstatus: new\nagent: echo\n---\nA new task of the person's.\n".replacingFile(vault.root + "/" + path)
        }
        return AgentExecution(succeeded: true, answer: "done", error: nil, exitCode: 0)
    }
}

/// The eighteenth outside attack on the release binary (`/work/attack50-report.md`), each finding
/// written as the attack it was.
@Suite(.serialized) struct EighteenthAttackTests {
    /// Attack: while `run` ran a task, its note was moved away and a new task saved at the same
    /// path; the run's end was written into the new note, which ended `done` without running, with
    /// the old run's result link. The end is written only into a note carrying the run's `run_id`.
    ///
    /// Round 20: the new note was then never looked at again (its text never ran until saved once
    /// more). Once the run has left its path, it is considered as the new task it is: it runs once,
    /// with its own text, and ends with its own run's result.
    @Test func aRunsEndIsNotWrittenIntoAnotherNoteAtItsPath() throws {
        let env = try EngineTestVault()
        let task = try env.writeTask("Replaced", properties: "type: task\nagent: echo", body: "Summarise the changelog.")
        let executor = ReplacedTaskExecutor(vault: env.vault, path: task)
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: executor) { _ in }
        let first = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        let note = try env.note(task)
        let text = try env.text(task)
        #expect(text.contains("A new task of the person's."))
        #expect(note.text("status") == "done", "\(text)")
        let prompts = executor.prompts.withLock { $0 }
        #expect(prompts.count == 2 && prompts[1].contains("A new task of the person's.") && !prompts[1].contains("changelog"), "\(prompts)")
        guard case .started(let firstRun) = first else { Issue.record("\(first)"); return }
        #expect(note.text("run_id") != nil && note.text("run_id") != firstRun, "the first run's end is not written into it: \(text)")
        let results = try FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Results").filter { $0.hasPrefix("Replaced") }
        #expect(results.count == 2, "the first run's result is kept, the new task has its own: \(results)")
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

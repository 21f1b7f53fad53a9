import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// An executor for a failover chain: `localfail` reads `Private/Bank.md` through the CLI and stops
/// on a usage limit; the agent it hands over to fails with the private words in its own error.
final class ChainExecutor: AgentExecuting, @unchecked Sendable {
    let vault: Vault
    init(vault: Vault) { self.vault = vault }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        if agent == "localfail" {
            let (console, _) = Console.capturing()
            _ = CLI.run(["note", "show", "Private/Bank.md", "--vault", vault.root], console: console, environment: ["FBT_RUN_ID": runEnvironment["FBT_RUN_ID"] ?? ""], executablePath: "fuckbigtech")
            var outcome = AgentExecution(succeeded: false, answer: "partial: login word is quokka7731", error: "usage limit reached", exitCode: 1)
            outcome.failure = FailureReport(.usageLimit)
            return outcome
        }
        var outcome = AgentExecution(succeeded: false, answer: "", error: "B could not continue: login word is quokka7731", exitCode: 2)
        outcome.failure = FailureReport(.crashed)
        return outcome
    }
}

/// The fifteenth outside attack on the release binary (`/work/attack47-report.md`), each finding
/// written as the attack it was.
@Suite(.serialized) struct FifteenthAttackTests {
    /// Attack (simulated macOS disk): `ſ` is lower case already, so the folder checks, which lowered
    /// names, kept `Ruleſ/`, `Taſks/` and `Perſonal/` apart from `Rules/`, `Tasks/` and a private
    /// `Personal/` — which a case-insensitive disk opens for them. A cloud run emptied the guardrails'
    /// private tags, rewrote an agent's command (run as the person), made a task and read a note of
    /// a private folder. HFS+ also ignores invisible marks in names, and Windows trailing spaces.
    /// Every such name is judged as the folder it may open.
    @Test func aFolderNameTheDiskFoldsIsJudgedAsTheFolder() throws {
        let run = "20261205-040000-abcdef"
        for path in ["Ruleſ/Guardrails.md", "RULEſ/Agents/x.md", "Rul\u{200C}es/Guardrails.md", "Rules /Guardrails.md", "Rules./x.md",
                     "Templateſ/Task.md", "Reſults/x.md", "Dai\u{200B}ly/2026-12-05.md", "Memory/Conflictſ/x.md"] {
            #expect(throws: RunWriteGuard.Refusal.self, "\(path)") { try RunWriteGuard.checkPath(path, runID: run) }
        }
        for path in [".agentoſ/index.md", "\u{200C}.git/config.md"] {
            #expect(throws: RunWriteGuard.Refusal.self, "\(path)") { try RunWriteGuard.checkReadable(path, runID: run) }
        }
        let work = Array("Pay the invoice.\n".utf8)
        for path in ["Taſks/x.md", "TAſKS/x.md", "Tasks /x.md", "Hand\u{200D}offs/x.md", "ﬁxme/../Tasks/x.md"] where !path.contains("..") {
            #expect(throws: RunWriteGuard.Refusal.self, "\(path)") { try RunWriteGuard.checkNotNewWork(work, replacing: nil, path: path, runID: run) }
        }
        var guardrails = Guardrails()
        guardrails.privateFolders += ["Personal", "Straße"]
        for path in ["Perſonal/Money.md", "PERſONAL/Money.md", "Person\u{200B}al/Money.md", "Personal /Money.md", "Strasse/x.md", "STRASSE/x.md", "Priva\u{0301}te/x.md".replacingOccurrences(of: "\u{0301}", with: ""), "Priv\u{212A}/x.md".replacingOccurrences(of: "Priv\u{212A}", with: "Private")] {
            #expect(Privacy.privateFolder(containing: path, guardrails: guardrails) != nil, "\(path)")
        }
        // Names that are not the folder stay apart.
        for path in ["Personally/x.md", "Memory/Personal.md", "Tasks2/x.md"] {
            #expect(Privacy.privateFolder(containing: path, guardrails: guardrails) == nil, "\(path)")
        }
        #expect(DiskName.fold("Priv\u{212A}ate") != DiskName.fold("Private"))
        #expect(DiskName.fold("\u{212A}ids") == DiskName.fold("Kids"))
        #expect(DiskName.fold("Memory/Notes.md") == "memory/notes.md")
    }

    /// Attack: a private run (its agent read `Private/Bank.md`) failed over to a second local agent;
    /// the handoff is private, so that agent's words were kept on it — and then copied into the
    /// original public task's `error` when the handoff ended, where cloud agents read them.
    @Test func aPrivateFailoversWordsDoNotReachThePublicTask() throws {
        let env = try EngineTestVault()
        try env.store.write("# Bank\n\nmy online banking login word is quokka7731\n", to: "Private/Bank.md", expecting: .absent)
        for (name, failover) in [("localfail", "\nfailover: [localb]"), ("localb", "")] {
            try env.store.write("---\ntype: agent\nname: \(name)\nlane: local\ncommand: [/bin/echo, \"{prompt}\"]\noutput: text\(failover)\n---\n", to: "Rules/Agents/\(name).md", expecting: .absent)
        }
        let task = try env.writeTask("Chain", properties: "type: task\nagent: localfail", body: "Summarise my notes.")
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: ChainExecutor(vault: env.vault)) { _ in }
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        let first = try env.text(task)
        #expect(try env.note(task).text("status") == "handed_off", "\(first)")
        let handoff = try #require(try FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Handoffs").first { $0.hasPrefix("Failover") })
        #expect(try env.note("Handoffs/" + handoff).text("privacy") == "private")
        _ = engine.consider(path: "Handoffs/" + handoff, wait: true)
        engine.waitUntilIdle()
        let text = try env.text(task)
        #expect(try env.note(task).text("status") == "failed", "\(text)")
        #expect(!text.contains("quokka7731"), "\(text)")
        #expect((try env.note(task).text("error") ?? "").contains("private run"), "\(text)")
    }

    /// Attack: a guardrails note in a folder of `Rules/` that was then made a symlink was never read,
    /// and, recorded, was forgotten 5 seconds later as if deleted: its private tags were dropped while
    /// `doctor` said `ok rules`. A symlinked folder in `Rules/` is a problem, and a recorded
    /// guardrails note under it cannot be read: privacy fails closed.
    @Test func aGuardrailsNoteInASymlinkedFolderFailsClosed() throws {
        let temp = try MCPServerTests.InitVault()
        let sub = temp.folder.path + "/Rules/Family"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        try "---\ntype: guardrails\nprivate_tags: [family]\n---\n".replacingFile(sub + "/Extra.md")
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        #expect(RuleBook.load(vault: temp.vault).guardrails.privateTags.contains("family"))
        #expect(try String(contentsOfFile: temp.vault.stateDirectory + "/guardrails-seen", encoding: .utf8).contains("Rules/Family/Extra.md"))
        let elsewhere = temp.folder.path + "/../family-\(UUID().uuidString)"
        try FileManager.default.moveItem(atPath: sub, toPath: elsewhere)
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        try FileManager.default.createSymbolicLink(atPath: sub, withDestinationPath: elsewhere)
        let book = RuleBook.load(vault: temp.vault)
        #expect(book.problems.contains { $0.path == "Rules/Family" && $0.message.contains("symlink") }, "\(book.problems)")
        #expect(!book.guardrails.privacyErrors.isEmpty)
        #expect(!(try FourteenthAttackTests.loadLater(temp.vault, unreadable: ["Rules/Family"])).guardrails.privacyErrors.isEmpty, "not forgotten seconds later")
    }

    /// Attack: an agent printing `usage limit reached|9999999999` (the year 2286) cooled itself down
    /// for centuries; the back-off is an hour at most, a printed reset time a week.
    @Test func aPrintedResetTimeIsTakenUpToAWeekAhead() throws {
        let env = try EngineTestVault()
        let runs = try RunStore(vault: env.vault)
        let now = Date()
        let cooldown = try runs.coolDown(agent: "claude", failure: .usageLimit, reason: "usage limit", resetAt: Date(timeIntervalSince1970: 9_999_999_999), now: now)
        #expect(cooldown.until.timeIntervalSince(now) <= RunStore.longestReset)
        let soon = try runs.coolDown(agent: "codex", failure: .usageLimit, reason: "usage limit", resetAt: now.addingTimeInterval(5 * 3_600), now: now)
        #expect(abs(soon.until.timeIntervalSince(now) - 5 * 3_600) < 1, "a real reset time is kept")
    }

    /// Attack: an agent that reported negative token counts (and no cost) was counted 0 tokens, so
    /// its price estimate was $0: a paid run for nothing. A negative count is no count.
    @Test func negativeTokenCountsAreNoCount() throws {
        let env = try EngineTestVault()
        let script = env.root + "/negative-tokens.sh"
        try "#!/bin/sh\ncat >/dev/null\necho '{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"done\",\"usage\":{\"input_tokens\":-5000,\"output_tokens\":-5000}}'\n".replacingFile(script)
        chmod(script, 0o755)
        try env.store.write("---\ntype: agent\nname: negative\nlane: premium\ncommand: [\"\(script)\"]\noutput: claude-json\nprice_in_per_mtok: 3\nprice_out_per_mtok: 15\nmax_cost_usd: 0.03\n---\n", to: "Rules/Agents/negative.md", expecting: .absent)
        let engine = try env.engine()
        let task = try env.writeTask("Negative tokens", properties: "type: task\nagent: negative", body: "Review the parser.")
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        let note = try env.note(task)
        let text = try env.text(task)
        #expect(note.text("status") == "done", "\(text)")
        #expect((note["cost_usd"]?.number ?? 0) > 0, "\(text)")
        #expect((note["tokens_in"]?.number ?? 0) > 0, "\(text)")
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// An executor whose local agent reads `Private/Bank.md` through the OS's own CLI, as a run's agent
/// does (the read taints the run), and then fails with the note's words in its error.
final class PrivateReadingExecutor: AgentExecuting, @unchecked Sendable {
    let vault: Vault
    let failure: FailureReport

    init(vault: Vault, failure: FailureReport) {
        self.vault = vault
        self.failure = failure
    }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        let (console, captured) = Console.capturing()
        _ = CLI.run(["note", "show", "Private/Bank.md", "--vault", vault.root], console: console, environment: ["FBT_RUN_ID": runEnvironment["FBT_RUN_ID"] ?? ""], executablePath: "fuckbigtech")
        let line = captured.stdout.split(separator: "\n").first { $0.contains("login") }.map(String.init) ?? "nothing read"
        var outcome = AgentExecution(succeeded: false, answer: "partial answer: \(line)", error: "error for \(line): usage limit reached, try again in 2 minutes", exitCode: 1)
        outcome.failure = failure
        return outcome
    }
}

/// The fourteenth outside attack on the release binary (`/work/attack46-report.md`), each finding
/// written as the attack it was.
@Suite(.serialized) struct FourteenthAttackTests {
    /// Attack: a public task's local agent read `Private/Bank.md` through the OS's tools (the run
    /// counts as private from then on: its result note is private) and then failed with the note's
    /// words in its error. The words went into the public task note's `error`, the run store (`status`
    /// in a cloud run), the agent's cooldown reason (`agent list`, `status`) — where cloud agents read
    /// them. They stay in the private result note only; the public places say the failure's class.
    @Test(arguments: [FailureClass.usageLimit, .taskError])
    func aPrivateRunsErrorWordsStayInItsPrivateResult(_ failure: FailureClass) throws {
        let env = try EngineTestVault()
        try env.store.write("# Bank\n\nmy online banking login word is quokka7731\n", to: "Private/Bank.md", expecting: .absent)
        let task = try env.writeTask("Summarise", properties: "type: task\nagent: echo", body: "Summarise my notes.")
        let runs = try RunStore(vault: env.vault)
        let engine = TaskEngine(vault: env.vault, runs: runs, routing: try VaultRouting(vault: env.vault),
                                executor: PrivateReadingExecutor(vault: env.vault, failure: FailureReport(failure))) { _ in }
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()

        let record = try #require(try runs.latestRun(taskPath: task))
        #expect(RunTaint.isTainted(record.runID, vault: env.vault), "the agent read the private note through the CLI")
        let result = try #require(record.resultPath)
        #expect(try env.note(result).text("privacy") == "private")
        #expect(try env.text(result).contains("quokka7731"), "the words are kept, in the private result note")
        // The public task note says what failed, not what the agent said.
        let error = try #require(try env.note(task).text("error"))
        #expect(!error.contains("quokka7731"), "\(error)")
        #expect(error.contains("private run"), "\(error)")
        #expect(!(record.error ?? "").contains("quokka7731"), "the run store: \(record.error ?? "")")
        #expect(try runs.cooldowns().allSatisfy { !$0.reason.contains("quokka7731") })
        // What a cloud run's agent can ask for.
        let cloudRun = try PrivacyTaintTests.run(of: "Tasks/Cloud.md", lane: "premium", in: env.vault)
        for arguments in [["status"], ["status", "--json"], ["agent", "list"], ["agent", "list", "--json"]] {
            let (console, captured) = Console.capturing()
            _ = CLI.run(arguments + ["--vault", env.vault.root], console: console, environment: ["FBT_RUN_ID": cloudRun], executablePath: "fuckbigtech")
            #expect(!(captured.stdout + captured.stderr).contains("quokka7731"), "\(arguments): \(captured.stdout)")
        }
        let tools = MCPTools(vault: env.vault, scope: MCPScope(vault: env.vault, agent: "claude", environment: [:]))
        let read = "\(tools.call("read_note", arguments: .object([("path", .string(task))])))"
        #expect(read.contains("private run") && !read.contains("quokka7731"), "\(read)")
    }

    /// Attack: the same run, its agent with `failover: [claude]`: the failover handoff was made
    /// private (right) and then blocked, because its next agent is a cloud one — and the task stayed
    /// `handed_off` for good. The chain is chosen as for private work: the cloud agent is passed over
    /// and, with no agent left, the task ends `failed` saying so.
    @Test func aPrivateRunDoesNotFailOverToACloudAgent() throws {
        let env = try EngineTestVault()
        try env.store.write("# Bank\n\nmy online banking login word is quokka7731\n", to: "Private/Bank.md", expecting: .absent)
        try env.store.write("---\ntype: agent\nname: localfail\nlane: local\ncommand: [localfail, \"{prompt}\"]\noutput: text\nfailover: [claude]\n---\n", to: "Rules/Agents/localfail.md", expecting: .absent)
        let task = try env.writeTask("Summarise", properties: "type: task\nagent: localfail", body: "Summarise my notes.")
        let runs = try RunStore(vault: env.vault)
        let engine = TaskEngine(vault: env.vault, runs: runs, routing: try VaultRouting(vault: env.vault),
                                executor: PrivateReadingExecutor(vault: env.vault, failure: FailureReport(.usageLimit))) { _ in }
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()

        let note = try env.note(task)
        let text = try env.text(task)
        #expect(note.text("status") == "failed", "\(text)")
        #expect((note.text("failover_note") ?? "").contains("claude"), "\(text)")
        let handoffs = (try? FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Handoffs").filter { $0.hasPrefix("Failover") }) ?? []
        #expect(handoffs.isEmpty, "\(handoffs)")
        #expect(!text.contains("quokka7731"))
    }

    /// Attack: an agent reporting a negative cost (`"total_cost_usd": -100`) was settled at $0
    /// "reported": a run that spent nothing against any cap. A cost that is not a number ≥ 0 is no
    /// cost at all: the run is charged as one that reports none (prices, else its reservation).
    @Test func aNegativeReportedCostIsNotFree() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("max_cost_usd", .double(0.03))])
        let engine = try env.engine()
        let task = try env.writeTask("Negative", properties: "type: task\nagent: claude", body: "Review the parser. FIXTURE_COST=-100")
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        let note = try env.note(task)
        let text = try env.text(task)
        #expect(note.text("status") == "done", "\(text)")
        #expect((note["cost_usd"]?.number ?? 0) > 0, "\(text)")
        #expect(note.text("cost_source") != "reported")
        let spent = try BudgetLedger(vault: env.vault).spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD
        #expect(spent > 0 && spent == note["cost_usd"]?.number, "ledger \(spent)")
    }

    /// The rule book as `RuleBook.load` reads it a little more than `guardrailsGoneSeconds` from now
    /// (the notes directly under `Rules/`), with nothing changed meanwhile.
    static func loadLater(_ vault: Vault, unreadable: Set<String> = []) throws -> RuleBook {
        var notes: [(path: String, text: String)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: vault.root + "/Rules").sorted() where name.hasSuffix(".md") {
            notes.append(("Rules/" + name, try String(contentsOfFile: vault.root + "/Rules/" + name, encoding: .utf8)))
        }
        let later = FileSystem.realtimeNanoseconds() + (RuleBook.guardrailsGoneSeconds + 1) * 1_000_000_000
        return RuleBook.rememberingGuardrails(RuleBook.parse(notes: notes), vault: vault, notes: notes, unreadable: unreadable, now: later)
    }

    /// A vault with a second guardrails note (`Rules/Private extra.md`) whose own tag keeps
    /// `Memory/Fam.md` private, loaded once as it should be.
    static func twoGuardrailsVault() throws -> (MCPServerTests.InitVault, String) {
        let temp = try MCPServerTests.InitVault()
        let extra = "---\ntype: guardrails\nprivate_tags: [family]\nprivate_folders: [Kids]\n---\n"
        try extra.replacingFile(temp.folder.path + "/Rules/Private extra.md")
        try "---\ntags: [family]\n---\n# Fam\n\nfamword custody dispute\n".replacingFile(temp.folder.path + "/Memory/Fam.md")
        try "# Open\n\nopenword public\n".replacingFile(temp.folder.path + "/Memory/Open.md")
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        let book = RuleBook.load(vault: temp.vault)
        #expect(book.guardrails.privacyErrors.isEmpty, "\(book.problems)")
        #expect(book.guardrails.privateTags.contains("family"))
        return (temp, extra)
    }

    /// Attack: `.agentos/guardrails-seen` recorded only the first guardrails note. While a second
    /// one was emptied by an in-place save (Obsidian's), renamed away by vim's or unlinked by git's,
    /// its private tags were dropped: 11, 6 and 1 leaks of the note its tag keeps private in 3,800
    /// polled reads, and a real run's prompt. Every guardrails note the vault had fails closed so.
    @Test(arguments: ["emptied", "half written", "renamed away", "unlinked"])
    func aSecondGuardrailsNoteMidSaveMakesNothingPublic(_ how: String) throws {
        let (temp, extra) = try Self.twoGuardrailsVault()
        let path = temp.folder.path + "/Rules/Private extra.md"
        switch how {
        case "emptied": try "".replacingFile(path)
        case "half written": try String(extra.prefix(20)).replacingFile(path)
        case "renamed away": try FileManager.default.moveItem(atPath: path, toPath: path + "~")
        default: try FileManager.default.removeItem(atPath: path)
        }
        let book = RuleBook.load(vault: temp.vault)
        #expect(!book.guardrails.privacyErrors.isEmpty, "\(how): \(book.problems)")
        #expect(!book.guardrails.capErrors.isEmpty, "\(how): paid runs are blocked too")
        #expect(book.problems.contains { $0.path == "Rules/Private extra.md" }, "\(how): doctor says which note")
        let store = NoteStore(vault: temp.vault)
        #expect(Privacy.reason(ofNoteAt: "Memory/Fam.md", store: store, guardrails: book.guardrails) != nil, "\(how)")
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        let answer = "\(tools.call("read_note", arguments: .object([("path", .string("Memory/Fam.md"))])))"
        #expect(!answer.contains("custody"), "\(how): \(answer)")
        // Saved again: as before.
        if how == "renamed away" { try FileManager.default.removeItem(atPath: path + "~") }
        try extra.replacingFile(path)
        #expect(RuleBook.load(vault: temp.vault).guardrails.privacyErrors.isEmpty)
    }

    /// What a person does on purpose is not a save in progress: a second guardrails note deleted is
    /// forgotten once its folder has not changed for a few seconds, and one given another type at
    /// once. A first note deleted still fails closed while no guardrails note is left.
    @Test func aGuardrailsNoteRemovedOnPurposeIsForgotten() throws {
        let (temp, _) = try Self.twoGuardrailsVault()
        let path = temp.folder.path + "/Rules/Private extra.md"
        let seen = temp.vault.stateDirectory + "/guardrails-seen"
        #expect(try String(contentsOfFile: seen, encoding: .utf8).contains("Rules/Private extra.md"))
        try FileManager.default.removeItem(atPath: path)
        let loaded = RuleBook.load(vault: temp.vault)
        #expect(!loaded.guardrails.privacyErrors.isEmpty, "gone a moment ago: it may be a save")
        // Seconds later, the folder unchanged: removed on purpose.
        let book = try Self.loadLater(temp.vault)
        #expect(book.guardrails.privacyErrors.isEmpty, "\(book.problems)")
        #expect(!(try String(contentsOfFile: seen, encoding: .utf8)).contains("Private extra"))
        #expect(RuleBook.load(vault: temp.vault).guardrails.privacyErrors.isEmpty)
        // Made into another kind of note: forgotten at once.
        try "---\ntype: guardrails\nprivate_tags: [family]\n---\n".replacingFile(temp.folder.path + "/Rules/Second.md")
        #expect(RuleBook.load(vault: temp.vault).guardrails.privacyErrors.isEmpty)
        #expect(try String(contentsOfFile: seen, encoding: .utf8).contains("Rules/Second.md"))
        try "---\ntype: note\n---\nOld family settings, kept for reference.\n".replacingFile(temp.folder.path + "/Rules/Second.md")
        #expect(RuleBook.load(vault: temp.vault).guardrails.privacyErrors.isEmpty)
        #expect(!(try String(contentsOfFile: seen, encoding: .utf8)).contains("Rules/Second.md"))
    }

    /// Attack: inside a cloud run, `note write tasks/x.md --create` and MCP `write_note` on
    /// `tasks/…` or `hANDOFFS/…` were written: the check for new work compared the folder's case,
    /// while on a case-insensitive disk (macOS's and Windows' default) they are `Tasks/` and
    /// `Handoffs/`, and the watcher would run work no run recorded (no `created_by_run`, outside the
    /// spawn cap and the parent's budget). Refused in any case now.
    @Test func aRunCannotMakeWorkThroughAnotherCaseOfTheFolder() throws {
        let env = try EngineTestVault()
        let run = try PrivacyTaintTests.run(of: "Tasks/Cloud.md", lane: "premium", in: env.vault)
        let draft = TemporaryFolder.make("fbt-case-draft") + "/draft.md"
        try "Pay the invoice.\n".replacingFile(draft)
        for path in ["tasks/pv1.md", "TASKS/pv2.md", "hANDOFFS/pv3.md", "Tasks/pv4.md"] {
            let (console, captured) = Console.capturing()
            let code = CLI.run(["note", "write", path, "--create", "--from", draft, "--vault", env.vault.root], console: console, environment: ["FBT_RUN_ID": run], executablePath: "fuckbigtech")
            #expect(code == 1 && captured.stderr.contains("refused from within run"), "\(path): \(captured.stderr)")
            #expect(!FileManager.default.fileExists(atPath: env.vault.root + "/" + path))
        }
        let tools = MCPTools(vault: env.vault, scope: MCPScope(vault: env.vault, agent: "claude", environment: ["FBT_RUN_ID": run]))
        for (path, text) in [("tasks/mcpx.md", "Pay it."), ("hANDOFFS/mcpw.md", "---\nto: claude\n---\nPay it.\n")] {
            let answer = "\(tools.call("write_note", arguments: .object([("path", .string(path)), ("text", .string(text)), ("create", .bool(true))])))"
            #expect(!FileManager.default.fileExists(atPath: env.vault.root + "/" + path), "\(path): \(answer)")
        }
        // A note elsewhere, and a folder that only starts like one, are written as before.
        for path in ["Memory/tasks.md", "Taskspace/x.md"] {
            let (console, captured) = Console.capturing()
            #expect(CLI.run(["note", "write", path, "--create", "--from", draft, "--vault", env.vault.root], console: console, environment: ["FBT_RUN_ID": run], executablePath: "fuckbigtech") == 0, "\(path): \(captured.stderr)")
        }
    }
}

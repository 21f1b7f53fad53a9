import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The forty-sixth round of outside attacks on the release binary (`/work/attack86-report.md` and
/// `/work/attack87-report.md`), each finding written as the attack it was.
@Suite(.serialized) struct FortyFourthAttackTests {
    /// Attack (medium): a task waiting in review only because a cap was used up was approved as
    /// `status` told the person to ("raise the cap … then set approved: true"), and the approval
    /// counted as one for what the run may do: claude started with `acceptEdits` for a task that
    /// asks for no effects — and an agent could bring the review about by reporting a large cost
    /// in the same answer that wrote the handoff. An approval of a budget review lets the task run,
    /// read-only; `status` asks for `status: new` there.
    @Test func approvingAReviewAboutMoneyGivesNoWritePermissions() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Guardrails.md", set: [Property("budget_day_usd", .double(0))])
        let engine = try env.engine()
        let path = try env.writeTask("Wording", properties: "type: task\nagent: claude", body: "Apply the wording fixes to the readme.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "review")
        #expect(try env.note(path).text("route_reason")?.contains("budget: ") == true)
        #expect(env.fixtureArgvs.isEmpty)

        let (console, captured) = Console.capturing()
        #expect(CLI.run(["status", "--vault", env.vault.root], console: console, environment: [:], executablePath: "fuckbigtech") == 0)
        let line = try #require(captured.stdout.split(separator: "\n").first { $0.contains("Tasks/Wording.md") })
        #expect(line.hasSuffix("then set status: new"), "\(line)")

        // The person raises the cap and approves anyway: the task runs, with the read-only flags.
        try env.store.updateProperties("Rules/Guardrails.md", set: [Property("budget_day_usd", .double(10))])
        try env.store.updateProperties(path, set: [Property("approved", .bool(true))])
        // The watcher reads the rules again when a rule note changes; a new engine does the same.
        let watcher = try env.engine()
        _ = watcher.consider(path: path, wait: true)
        watcher.waitUntilIdle()
        let ran = try env.note(path)
        #expect(ran.text("status") == "done", "\(ran.text("route_reason") ?? "")")
        let argv = try #require(env.fixtureArgvs.first)
        #expect(argv.contains("plan"), "\(argv)")
        #expect(!argv.contains("acceptEdits"), "an approval asked for money gave the agent write permissions: \(argv)")
    }

    /// The same approval where the review was also about effects the task asks for: a person
    /// approved those, and the agent gets its write flags.
    @Test func approvingAReviewAboutEffectsAndMoneyGivesWritePermissions() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Guardrails.md", set: [Property("budget_day_usd", .double(0))])
        let engine = try env.engine()
        let path = try env.writeTask("Ship", properties: "type: task\nagent: claude\neffects: [deploy]", body: "Deploy the site.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let reason = try #require(try env.note(path).text("route_reason"))
        #expect(reason.contains("budget: ") && reason.contains("need a person's approval"), "\(reason)")
        try env.store.updateProperties("Rules/Guardrails.md", set: [Property("budget_day_usd", .double(10))])
        try env.store.updateProperties(path, set: [Property("approved", .bool(true))])
        // The watcher reads the rules again when a rule note changes; a new engine does the same.
        let watcher = try env.engine()
        _ = watcher.consider(path: path, wait: true)
        watcher.waitUntilIdle()
        #expect(try env.note(path).text("status") == "done")
        #expect(env.fixtureArgvs.first?.contains("acceptEdits") == true)
    }

    /// Attack (round 47, low): a task waiting for approval of its effects on claude was approved
    /// while claude cooled down after a usage limit; it moved to codex, the next agent of the
    /// chain, with `--sandbox workspace-write` that no person gave codex. The approval answers for
    /// the agent the review named; another runs the task read-only.
    @Test func anApprovalForOneAgentGivesNoWritePermissionsToTheNextOfItsChain() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Refactor", properties: "type: task\neffects: [write]", body: "Refactor the parser code and write the new files.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "review")
        #expect(try env.note(path).text("route_agent") == "claude")
        // claude hits its usage limit on another task and cools down.
        let limited = try env.writeTask("Limit", properties: "type: task\nagent: claude", body: "Debug the cache. FIXTURE_MODE_CLAUDE=usage-limit")
        _ = engine.consider(path: limited, wait: true)
        engine.waitUntilIdle()
        let before = env.fixtureArgvs.count
        try env.store.updateProperties(path, set: [Property("approved", .bool(true))])
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let note = try env.note(path)
        #expect(note.text("route_agent") != "claude", "\(note.text("route_reason") ?? "")")
        let argv = try #require(env.fixtureArgvs.dropFirst(before).last, "\(note.text("route_reason") ?? "")")
        #expect(!argv.contains("workspace-write") && !argv.contains("acceptEdits"), "another agent got write permissions: \(argv)")
    }

    /// A task in the human lane waits for a person; approved, the lane's agent runs it with its
    /// write flags — the agent check of round 47 must not take that away (the review named no agent).
    @Test func approvingAHumanLaneTaskGivesItsAgentWritePermissions() throws {
        let env = try EngineTestVault()
        // As routing.md's example: this work waits for a person in the human lane, then claude runs it.
        try env.store.write("---\ntype: rule\npriority: 1\nwhen_keywords: [zorbship]\nlane: human\nagent: claude\n---\nBy hand first.\n", to: "Rules/By hand.md", expecting: .absent)
        let engine = try env.engine()
        let path = try env.writeTask("By hand", properties: "type: task", body: "Zorbship the parser fix.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let waiting = try env.note(path)
        #expect(waiting.text("status") == "review")
        #expect(waiting.text("route_reason")?.contains("lane human") == true, "\(waiting.text("route_reason") ?? "")")
        try env.store.updateProperties(path, set: [Property("approved", .bool(true))])
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let note = try env.note(path)
        #expect(note.text("status") == "done", "\(note.text("route_reason") ?? "")")
        #expect(env.fixtureArgvs.last?.contains("acceptEdits") == true, "\(env.fixtureArgvs)")
    }

    /// Attack (round 47, low): a review decided after the router — the lane's agent cannot run
    /// here — was missing from the run's reason, and `status` told the person to approve it where
    /// the note said to set `status: new` once the agent is installed.
    @Test func statusAsksForWhatAReviewOfAnAgentThatCannotRunNeeds() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("command", .list([.string("no-such-claude-\(UInt32.random(in: 0...UInt32.max))"), .string("{prompt}")]))])
        let engine = try env.engine()
        let path = try env.writeTask("Judge", properties: "type: task", body: "Review the parser code for bugs.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let reason = try #require(try env.note(path).text("route_reason"))
        #expect(try env.note(path).text("status") == "review" && reason.contains("cannot run here"), "\(reason)")
        let (console, captured) = Console.capturing()
        #expect(CLI.run(["status", "--vault", env.vault.root], console: console, environment: [:], executablePath: "fuckbigtech") == 0)
        let line = try #require(captured.stdout.split(separator: "\n").first { $0.contains("Tasks/Judge.md") })
        #expect(line.hasSuffix("set status: new to route it again"), "\(line)")
    }

    /// Attack (low): the MCP `handoff` tool answered "routed to premium / claude" for a handoff that
    /// waits for a person (its effects need an approval): the agent told its user work was under
    /// way that was not.
    @Test func theHandoffToolSaysWhenAHandoffWaitsForAPerson() throws {
        let temp = try MCPServerTests.InitVault()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: nil, environment: [:]))
        func text(_ answer: [(String, JSON)]) -> String {
            answer.first { $0.0 == "content" }?.1.arrayValue?.compactMap { $0["text"]?.stringValue }.joined() ?? ""
        }
        let held = text(tools.call("handoff", arguments: .object([("from", .string("me")), ("to", .string("claude")), ("message", .string("Delete the old backups and deploy the site."))])))
        #expect(held.contains("waits for a person's review"), "\(held)")
        #expect(!held.contains("routed to"), "\(held)")
        let plain = text(tools.call("handoff", arguments: .object([("from", .string("me")), ("to", .string("claude")), ("message", .string("Summarise the meeting notes."))])))
        #expect(plain.contains("unless a cap or a review holds it"), "\(plain)")
    }
}

/// Round 46's attacks on notes (`/work/attack87-report.md`).
@Suite struct FortyFourthAttackNoteTests {
    /// Attack (low): a note whose lines end in a lone CR (old Mac line endings; YAML and CommonMark
    /// read one as a line break) had no frontmatter for the OS: `status: draft`, `privacy: private`
    /// and `tags: [private]` were body text, `route` sent it to claude, and a second block was put on
    /// top. Such a block is frontmatter that does not parse: the note is private to cloud agents and
    /// a task of it is not run.
    @Test func frontmatterOfLoneCarriageReturnsIsRefusedNotReadAsText() throws {
        let text = "---\rtype: task\rstatus: draft\rprivacy: private\rtags: [private]\r---\rFix the payment code of my diary app, zorbcrmark.\r"
        #expect(throws: FrontmatterError.self) { try Note.parse(bytes: Array(text.utf8)) }
        for fine in ["---\ntype: memory\n---\nBody\r with a CR.\n", "---\r\ntype: memory\r\n---\r\nBody\r\n", "---\r", "--- \r\nx: 1\r\n---\r\n"] {
            #expect((try? Note.parse(bytes: Array(fine.utf8))) != nil, "\(fine.debugDescription)")
        }

        let temp = try MCPServerTests.InitVault()
        try text.replacingFile(temp.folder.path + "/Memory/Diary.md")
        try text.replacingFile(temp.folder.path + "/Tasks/Diary.md")
        let store = NoteStore(vault: temp.vault)
        let guardrails = RuleBook.load(vault: temp.vault).guardrails
        #expect(Privacy.reason(ofNoteAt: "Memory/Diary.md", store: store, guardrails: guardrails) != nil)

        // `route` says why and sends it nowhere.
        let (console, captured) = Console.capturing()
        #expect(CLI.run(["route", "Tasks/Diary.md", "--vault", temp.vault.root], console: console, environment: [:], executablePath: "fuckbigtech") != 0)
        #expect(captured.stderr.contains("lone carriage return"), "\(captured.stderr)")
        #expect(!captured.stdout.contains("claude"))

        // A cloud agent's search does not show it.
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        let answer = "\(tools.call("search", arguments: .object([("query", .string("zorbcrmark"))])))"
        #expect(!answer.contains("Diary"), "\(answer)")
    }

    /// Attack (low-medium): a person saved the running task in place, as Obsidian does (open with
    /// truncate, then write), and the run ended between the two: its end read the note empty, took
    /// it for another note ("moved away while it ran?"), and the mark that the result answers an
    /// older text, `changed_during_run`, was never written. The end waits for the save.
    @Test func aRunEndingDuringAnInPlaceSaveWaitsForItAndSaysTheTextChanged() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Saved", properties: "type: task\nagent: echo", body: "Fix the flaky test in the login module.")
        let events = Locked<[String]>([])
        let saver = InPlaceSaver(file: env.vault.root + "/" + path)
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault),
                                executor: saver, store: NoteStore(vault: env.vault)) { event in
            events.withLock { $0.append(event.message) }
        }
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        saver.finished.wait()
        let note = try env.note(path)
        #expect(note.text("status") == "done", "\(events.withLock { $0 })")
        #expect(note.texts("changed_during_run") == ["text"], "\(note.properties)")
        #expect(try env.text(path).contains("UPDATE: the signup module"), "the person's save is kept")
        #expect(!events.withLock { $0 }.contains { $0.contains("moved away") }, "\(events.withLock { $0 })")
    }

    /// Attack (low): the result note's name (`Results/<title> <run id>.md`) is known to the run's
    /// agent (`FBT_TASK`, `FBT_RUN_ID`); a file it made there during its run left the answer in
    /// `.agentos/results/` for good — the note said it "is written there on the next start", and
    /// every start failed again. The answer goes beside that file, and the task links it.
    @Test func aFileAtTheResultsNameDoesNotStrandTheAnswer() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Squat", properties: "type: task\nagent: echo", body: "Summarise the notes.")
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault),
                                executor: ResultSquatter(vault: env.vault), store: NoteStore(vault: env.vault)) { _ in }
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let note = try env.note(path)
        let runID = try #require(note.text("run_id"))
        let squatted = "Results/Squat \(runID).md"
        #expect(note.text("status") == "done", "\(note.text("error") ?? "")")
        #expect(note.text("result") == "[[Results/Squat \(runID) 2]]", "\(note.text("result") ?? "")")
        #expect(try env.text("Results/Squat \(runID) 2.md").contains("the real answer"))
        #expect(try env.text(squatted) == "---\nrun_id: \(runID)\n---\nnot the answer\n", "the agent's own file is left as it is")
        #expect(((try? FileSystem.list(env.vault.stateDirectory + "/results")) ?? []).isEmpty)
    }

    /// Attack (low): a day note and a telemetry note with CRLF line endings (git's `autocrlf` on
    /// Windows, sync.md's "notes through git") got LF lines appended — after a last line of the
    /// person's with no line break, on the same line — and the telemetry note's totals line,
    /// ending in CR, was not found: a second one went in beside the stale one at every run.
    @Test func notesWithWindowsLineEndingsGrowInTheirOwnLineEndings() throws {
        let env = try EngineTestVault()
        let day = LocalTime.day(Date())
        let engine = try env.engine()
        let first = try env.writeTask("First", properties: "type: task\nagent: echo", body: "Say one.")
        _ = engine.consider(path: first, wait: true)
        engine.waitUntilIdle()
        for note in ["Telemetry/\(day).md", "Daily/\(day).md"] {
            let text = try env.text(note)
            try (text.replacingOccurrences(of: "\n", with: "\r\n") + (note.hasPrefix("Daily") ? "- a line of mine at the end" : "")).replacingFile(env.vault.root + "/" + note)
        }
        for name in ["Second", "Third"] {
            let path = try env.writeTask(name, properties: "type: task\nagent: echo", body: "Say \(name).")
            _ = engine.consider(path: path, wait: true)
            engine.waitUntilIdle()
        }
        for note in ["Telemetry/\(day).md", "Daily/\(day).md"] {
            let bytes = Array(try env.text(note).utf8)
            let bare = bytes.indices.filter { bytes[$0] == 0x0A && ($0 == 0 || bytes[$0 - 1] != 0x0D) }
            #expect(bare.isEmpty, "\(note): \(bare.count) lines end in a bare LF")
        }
        #expect(try env.text("Daily/\(day).md").contains("- a line of mine at the end\r\n"))
        let totals = try env.text("Telemetry/\(day).md").components(separatedBy: "\r\n").filter { $0.hasSuffix(TelemetryTotals.marker) }
        #expect(totals.count == 1 && totals.first?.hasPrefix("**Totals:** 3 runs") == true, "\(totals)")
    }
}

/// An agent run during which the task note is saved in place: opened with truncate, left empty for
/// 300 ms (the run ends meanwhile), then written with a changed text and closed.
private final class InPlaceSaver: AgentExecuting, @unchecked Sendable {
    let file: String
    let finished = DispatchSemaphore(value: 0)
    init(file: String) { self.file = file }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        let old = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        let edited = old.replacingOccurrences(of: "login module.", with: "login module.\nUPDATE: the signup module, not login.")
        let fd = open(file, O_WRONLY | O_CLOEXEC | O_TRUNC)
        let saving = Thread { [finished] in
            Thread.sleep(forTimeInterval: 0.3)
            let bytes = Array(edited.utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            finished.signal()
        }
        saving.start()
        return AgentExecution(succeeded: true, answer: "fixed", error: nil)
    }
}

/// An agent that writes a file at its run's result-note name, then answers.
private final class ResultSquatter: AgentExecuting, @unchecked Sendable {
    let vault: Vault
    init(vault: Vault) { self.vault = vault }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        let runID = runEnvironment["FBT_RUN_ID"] ?? "none"
        try? "---\nrun_id: \(runID)\n---\nnot the answer\n".write(toFile: vault.root + "/Results/Squat \(runID).md", atomically: false, encoding: .utf8)
        return AgentExecution(succeeded: true, answer: "the real answer", error: nil)
    }
}

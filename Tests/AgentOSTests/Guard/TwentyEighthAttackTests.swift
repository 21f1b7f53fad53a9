import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The twenty-eighth outside attack on the release binary (`/work/attack65-report.md`), on the
/// twenty-seventh round's fixes, each finding written as the attack it was.
@Suite struct TwentyEighthAttackTests {
    /// A vault whose guardrails allow project folders under `code/`, with `code/app` made.
    static func projectVault() throws -> (env: EngineTestVault, app: String) {
        let env = try EngineTestVault()
        let roots = env.root + "/code"
        try FileManager.default.createDirectory(atPath: roots + "/app", withIntermediateDirectories: true)
        let guardrails = try env.text("Rules/Guardrails.md")
        try env.store.write(guardrails.replacingOccurrences(of: "project_roots: []\n", with: "project_roots: [\"\(roots)\"]\n"), to: "Rules/Guardrails.md", expecting: .any)
        return (env, try #require(RunWorkspace.realPath(roots + "/app")))
    }

    /// Attack (medium): a public local run in a project folder read a private note through the OS's
    /// tools (its run counted as private from then on) and wrote it there; the folder was never
    /// recorded, and the next claude task in it started with the file in front of it. A run marked
    /// private records its project folder.
    @Test func aRunThatTurnsPrivateRecordsItsProjectFolder() throws {
        let (env, app) = try Self.projectVault()
        let task = try env.writeTask("Tidy", properties: "type: task\nagent: echo\nproject: \(app)", body: "Tidy up the folder notes.")
        let runs = try RunStore(vault: env.vault)
        let run = try #require(try runs.claim(taskPath: task, taskHash: nil, attempt: 1))
        #expect(ProjectTaint.folder(overlapping: app, vault: env.vault) == nil)
        // What `note show` of a private note inside the run does.
        try RunTaint.record(run.runID, vault: env.vault)
        #expect(ProjectTaint.folder(overlapping: app, vault: env.vault) == app)
        let next = try env.writeTask("Review", properties: "type: task\nagent: claude\nproject: \(app)", body: "Review the code in this folder.")
        let facts = TaskFacts.from(note: try env.note(next), path: next, vault: env.vault, ruleBook: RuleBook.load(vault: env.vault))
        #expect(Privacy.reason(for: facts, guardrails: RuleBook.load(vault: env.vault).guardrails)?.contains("where a private run worked") == true)
    }

    /// Attack (low-medium): a claude task routed (and queued) before a private run worked in its
    /// project folder started there after it. A cloud agent is refused in a folder recorded since.
    @Test func aCloudAgentDoesNotStartInAFolderMadePrivateAfterItsTaskWasRouted() throws {
        let (env, app) = try Self.projectVault()
        let task = try env.writeTask("Queued", properties: "type: task\nagent: claude\nproject: \(app)", body: "Review the code in this folder.")
        let run = try #require(try RunStore(vault: env.vault).claim(taskPath: task, taskHash: nil, attempt: 1))
        try ProjectTaint.record(app, vault: env.vault)
        let agents = VaultAgents(vault: env.vault, extraEnvironment: ["FBT_FIXTURE_LOG": env.fixtureLog])
        let execution = agents.execute(agent: "claude", prompt: "Review the code.", model: nil, approved: false, timeout: 30, cancel: CancelToken(),
                                       runEnvironment: ["FBT_TASK": task, "FBT_RUN_ID": run.runID]) { _ in }
        #expect(!execution.succeeded && execution.error?.contains("is private now") == true, "\(String(describing: execution.error))")
        #expect(env.fixturePrompts().isEmpty, "claude started")
        // A local agent may still work there.
        let local = agents.execute(agent: "echo", prompt: "Tidy.", model: nil, approved: false, timeout: 30, cancel: CancelToken(),
                                   runEnvironment: ["FBT_TASK": task, "FBT_RUN_ID": run.runID]) { _ in }
        #expect(local.succeeded, "\(String(describing: local.error))")
    }

    /// Attack (low-medium): a public note's link went out as written when the index answered it
    /// wrongly: a note moved into `Private/` since the index was made (no watcher), and two notes of
    /// one name equally near, the private one skipped by the index (a NUL byte).
    @Test func linksTheIndexAnswersWronglyAreStillHidden() throws {
        let v = RouteTestVault()
        v.write("Memory/Diagnosis PRIVMOVED.md", "# Diagnosis\n\n## Treatment\n\nChemo.\n")
        v.write("Projects/Plan.md", "# Plan\n\nPublic plan.\n")
        v.write("Journal/Plan.md", "---\ntags: [private]\n---\n\u{0}The private plan.\n")
        v.write("Notes/Zebrafruit.md", "# Zebrafruit\n\nThe zebrafruit rollout CLEANMARK: see [[Diagnosis PRIVMOVED#Treatment|the treatment]] and [[Plan|PRIVPLAN the plan]].\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        try FileManager.default.createDirectory(atPath: v.root + "/Private", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: v.root + "/Memory/Diagnosis PRIVMOVED.md", toPath: v.root + "/Private/Diagnosis PRIVMOVED.md")
        for task in ["Summarize [[Zebrafruit]].", "What is the zebrafruit rollout?"] {
            v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\n\(task)\n")
            let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md", index: false)
            #expect(plan.action == .run, "\(plan.reason)")
            #expect(plan.prompt.contains("CLEANMARK"), "\(plan.prompt)")
            #expect(!plan.prompt.contains("PRIVMOVED") && !plan.prompt.contains("treatment") && !plan.prompt.contains("PRIVPLAN"), "\(task)\n\(plan.prompt)")
        }
    }

    /// Attack (low): a person's words typed after the run marker of an OS line, or a marker quoted
    /// in a line of their own, made the line "the OS's own" and it went to claude. An OS line ends
    /// with its marker.
    @Test func onlyALineEndingInItsRunMarkerIsTheOSs() throws {
        func item(_ text: String) -> DailyLog.Item { DailyLog.Item(number: 1, text: Substring(text), above: "") }
        #expect(ContextPacketBuilder.isRunLine(item("- 09:00 [[Tasks/X]] → claude (premium): done <!-- run:20261205-090000-abc123 -->")))
        #expect(ContextPacketBuilder.isRunLine(item("- 09:00 private run r1 → echo (local): done <!-- run:r1 -->  ")))
        #expect(ContextPacketBuilder.isRunLine(item("- 09:00 quoted <!-- run:a --> then the OS's <!-- run:b -->")) && ContextPacketBuilder.isRunLine(item("<!-- run:r2 -->")))
        #expect(!ContextPacketBuilder.isRunLine(item("- 09:00 <!-- run:a<b -->")) && !ContextPacketBuilder.isRunLine(item(" -->")) && !ContextPacketBuilder.isRunLine(item("<!-- run: -->"))
                && !ContextPacketBuilder.isRunLine(item("WeberBloodtest -->")))
        for person in ["- 09:00 [[Tasks/X]] → claude (premium): done <!-- run:abc --> called Dr Weber: blood test bad",
                       "- 21:27 the marker looks like `<!-- run:x -->` in my notes",
                       "- 21:27 called Dr Weber <!-- run: -->", "- 21:27 called Dr Weber <!-- run:a b -->"] {
            #expect(!ContextPacketBuilder.isRunLine(item(person)), "\(person)")
        }
    }

    /// Attack (low): a handoff read its original task's relative link that leads nowhere from the
    /// handoff's own folder, and so judged another note. It is read from the task's folder.
    @Test func aHandoffReadsItsTasksRelativeLinksFromTheTasksFolder() throws {
        let v = RouteTestVault()
        v.write("Tasks/Sub/Original.md", "---\ntype: task\nagent: echo\n---\nFix it, see [[./Missing notes]].\n")
        v.write("Handoffs/Go on.md", "---\ntype: handoff\nfrom: claude\nto: echo\ntask: \"[[Tasks/Sub/Original]]\"\n---\nGo on.\n")
        let facts = TaskFacts.from(note: try Note.parse(String(contentsOfFile: v.root + "/Handoffs/Go on.md", encoding: .utf8)), path: "Handoffs/Go on.md", vault: v.vault, ruleBook: v.book)
        #expect(facts.contextPaths.contains("Tasks/Sub/Missing notes.md") && !facts.contextPaths.contains("Handoffs/Missing notes.md"), "\(facts.contextPaths)")
    }

    /// Tour (low): a task written whole by a script was held 5 s as "being written" now and then
    /// (the bench's pick-up too: max 5,016 ms): the watcher read the file empty between its create
    /// and the write that filled it, and took it for a note a person began. An empty note a
    /// process still has open for writing is not begun; one closed empty (Obsidian's new note) is.
    @Test func anEmptyFileSeenMidWriteIsNotANoteBeingTyped() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let text = "---\ntype: task\nagent: echo\n---\nSay hello.\n"
        // The script's file, created and still open when the watcher looks.
        try Data().write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Script.md"))
        let writer = try openHeldWriter(env.vault.root + "/Tasks/Script.md")
        #expect(engine.consider(path: "Tasks/Script.md") == .ignored)
        try writer.write(contentsOf: Data(text.utf8))
        try writer.close()
        let script = engine.consider(path: "Tasks/Script.md")
        guard case .started = script else { Issue.record("a task written whole waited: \(script)"); return }
        // Obsidian's new note: closed empty, then typed.
        try Data().write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Typed.md"))
        #expect(engine.consider(path: "Tasks/Typed.md") == .ignored)
        try Data(text.utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Typed.md"))
        #expect(engine.consider(path: "Tasks/Typed.md") == .beingWritten)
        engine.shutdown(grace: 5)
    }

    /// Tour (low): `context NOTE` showed "~1339 of 4000 tokens" for a task the rules send to
    /// claude, whose packets get 16,000: a task that names no agent was shown with the default
    /// budget, not its routed agent's.
    @Test func contextShowsTheBudgetOfTheAgentRoutingPicks() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Parser", properties: "type: task", body: "Review the parser code and fix the bug in it.")
        #expect(try RoutePreview.note(at: path, vault: env.vault).decision.agent == "claude")
        let (console, output) = Console.capturing()
        #expect(CLI.run(["context", "--vault", env.vault.root, path], console: console, environment: [:], executablePath: "") == 0)
        #expect(output.stderr.contains(" of 16000 tokens"), "\(output.stderr)")
    }
}

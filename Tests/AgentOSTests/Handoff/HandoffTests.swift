import Foundation
import Testing
@testable import AgentOS
@testable import Commands

@Suite(.serialized) struct HandoffTests {
    /// A vault with a task, a linked memory note and an index over both.
    static func vaultWithMemory() throws -> EngineTestVault {
        let env = try EngineTestVault()
        try env.store.write("---\ntype: note\n---\n# Login decision\n\nWe chose JWT tokens with a fifteen minute timeout for the login flow.\n", to: "Memory/Login decision.md", expecting: .absent)
        try env.store.write("---\ntype: note\n---\n# Refresh tokens\n\nRefresh tokens rotate on every use; the refresh endpoint lives in auth.swift.\n", to: "Memory/Refresh tokens.md", expecting: .absent)
        try env.store.write("---\ntype: note\nprivacy: private\n---\n# Salary notes\n\nThe refresh endpoint salary figures are secret.\n", to: "Memory/Salary.md", expecting: .absent)
        _ = try env.writeTask("Fix login", properties: "type: task\nagent: claude", body: "Fix the login timeout.")
        _ = try MemoryIndex(vault: env.vault).reconcile(progress: nil)
        return env
    }

    @Test func handoffRunsTheTargetAgentWithAPacketAndLinksBack() throws {
        let env = try Self.vaultWithMemory()
        let path = try Handoffs.create(vault: env.vault, from: "claude", to: "codex", taskPath: "Tasks/Fix login.md",
                                       message: "Planned the change. Left: implement the refresh endpoint rotation.", context: ["Memory/Login decision"])
        let engine = try env.engine()
        guard case .started(let runID) = engine.consider(path: path, wait: true) else {
            Issue.record("the handoff did not start")
            return
        }
        engine.waitUntilIdle()

        // codex got the handoff body and the linked notes' text, each with its path.
        let prompt = try #require(env.fixturePrompts().last)
        #expect(prompt.contains("Handoff — \(path)"))
        #expect(prompt.contains("Planned the change. Left: implement the refresh endpoint rotation."))
        #expect(prompt.contains("Linked note — Tasks/Fix login.md"))
        #expect(prompt.contains("Fix the login timeout."))
        #expect(prompt.contains("Linked note — Memory/Login decision.md"))
        #expect(prompt.contains("fifteen minute timeout"))
        // Memory found the refresh note by its words; the private note was not retrieved.
        #expect(prompt.contains("From memory — Memory/Refresh tokens.md"))
        #expect(!prompt.contains("salary"))

        let handoff = try env.note(path)
        #expect(handoff.text("status") == "done")
        #expect(handoff.text("route_agent") == "codex")
        let resultPath = String(try #require(handoff.text("result")).dropFirst(2).dropLast(2)) + ".md"
        let result = try env.note(resultPath)
        #expect(result.text("handoff") == TelemetryWriter.link(path))
        #expect(result.text("task") == "[[Tasks/Fix login]]")
        #expect(result.text("run_id") == runID)
        #expect(result.texts("sources").contains("[[Memory/Login decision]]"))
        #expect(result.texts("sources").contains("[[Tasks/Fix login]]"))
        // The task records the chain; the daily log has the handoff and the run.
        #expect(try env.note("Tasks/Fix login.md").texts("handoffs") == [TelemetryWriter.link(path)])
        let daily = try env.text(TelemetryWriter.dailyPath(Date()))
        #expect(daily.contains("handoff \(TelemetryWriter.link(path)): claude → codex for [[Tasks/Fix login]]"))
        #expect(daily.contains("\(TelemetryWriter.link(path)) → codex (premium): done"))
    }

    @Test func privateWorkHandedToAPremiumAgentIsBlockedWithTheReason() throws {
        let env = try Self.vaultWithMemory()
        try env.store.updateProperties("Tasks/Fix login.md", set: [Property("privacy", .string("private"))])
        let (console, output) = Console.capturing()
        let code = CLI.run(["handoff", "--vault", env.vault.root, "--from", "ollama", "--to", "claude", "--task", "Tasks/Fix login.md", "Continue the fix."],
                           console: console, environment: [:], executablePath: "")
        #expect(code == 1)
        #expect(output.stderr.contains("handoff blocked"))
        #expect(output.stderr.contains("private"))
        let path = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let handoff = try env.note(path)
        #expect(handoff.text("status") == "blocked")
        // The watcher leaves a blocked handoff alone: claude is never started.
        let engine = try env.engine()
        #expect(engine.consider(path: path, wait: true) == .ignored)
        #expect(env.fixturePrompts().isEmpty)
    }

    @Test func packetIsLabelledDeduplicatedAndCutToTheBudget() throws {
        let env = try Self.vaultWithMemory()
        let text = "---\ntype: task\ncontext: [\"[[Memory/Login decision]]\", \"[[Memory/Login decision]]\"]\n---\nSee [[Memory/Login decision]] and fix the login timeout.\n"
        try env.store.write(text, to: "Tasks/Dedup.md", expecting: .absent)
        _ = try MemoryIndex(vault: env.vault).reconcile(progress: nil)
        let snapshot = try env.store.read("Tasks/Dedup.md")
        let task = TaskNote(path: "Tasks/Dedup.md", snapshot: snapshot, note: try Note.parse(bytes: snapshot.bytes), kind: .task)
        let builder = ContextPacketBuilder(vault: env.vault, guardrails: Guardrails())
        let index = try MemoryIndex.openForReading(vault: env.vault)
        let links = LinkResolver(vault: env.vault)
        let facts = TaskFacts.from(note: task.note, path: task.path, vault: env.vault, ruleBook: RuleBook.load(vault: env.vault), links: links)
        let packet = builder.build(for: task, facts: facts, links: links, budgetTokens: 4000, index: index)
        #expect(packet.pieces.first?.path == "Tasks/Dedup.md")
        #expect(packet.pieces.filter { $0.path == "Memory/Login decision.md" }.count == 1)
        #expect(!packet.sources.contains("Tasks/Dedup.md"))
        #expect(packet.privateSources.isEmpty)

        let small = builder.build(for: task, facts: facts, links: links, budgetTokens: 40, index: index)
        #expect(ContextPacket.estimateTokens(small.text) < 200)
        #expect(small.pieces.first?.path == "Tasks/Dedup.md")
    }

    @Test func aLinkedPrivateNoteMakesThePacketPrivate() throws {
        let env = try Self.vaultWithMemory()
        try env.store.write("---\ntype: task\n---\nSummarize [[Memory/Salary]].\n", to: "Tasks/Sum.md", expecting: .absent)
        let snapshot = try env.store.read("Tasks/Sum.md")
        let task = TaskNote(path: "Tasks/Sum.md", snapshot: snapshot, note: try Note.parse(bytes: snapshot.bytes), kind: .task)
        let packet = try VaultRouting(vault: env.vault).contextPacket(for: task)
        #expect(packet.privateSources == ["Memory/Salary.md"])
        // And routing keeps it off the premium lane even when the task names claude.
        try env.store.updateProperties("Tasks/Sum.md", set: [Property("agent", .string("claude"))])
        let engine = try env.engine()
        _ = engine.consider(path: "Tasks/Sum.md", wait: true)
        engine.waitUntilIdle()
        let note = try env.note("Tasks/Sum.md")
        #expect(note.text("status") == "blocked")
        #expect(note.text("route_lane") != "premium" || note.text("status") == "blocked")
        #expect(env.fixturePrompts().isEmpty)
    }

    @Test func contextCommandPrintsThePacketWithoutRunningAnything() throws {
        let env = try Self.vaultWithMemory()
        let (console, output) = Console.capturing()
        let code = CLI.run(["context", "--vault", env.vault.root, "Tasks/Fix login.md", "--json"], console: console, environment: [:], executablePath: "")
        #expect(code == 0)
        let json = try JSON.parse(output.stdout)
        #expect(json["note"]?.stringValue == "Tasks/Fix login.md")
        #expect(json["text"]?.stringValue?.contains("Fix the login timeout.") == true)
        #expect(try env.note("Tasks/Fix login.md")["status"] == nil)
    }

    /// The last run lines the OS wrote, never a person's own entry of the day (`Daily/` is
    /// Obsidian's daily notes: a tour's "Call with Dr. Weber: blood test results …" went to claude
    /// with a Postgres task); a person's line that links the task goes.
    @Test func aLongDailyNoteGivesItsLastFewLinesWhenNoneConcernsTheTask() throws {
        let env = try Self.vaultWithMemory()
        let lines = (0..<2_000).map { "- 10:\(String(format: "%02d", $0 % 60)) run number \($0) \(TelemetryWriter.marker("r\($0)"))" }.joined(separator: "\n")
        let own = "- 21:27 Call with Dr. Weber PERSONALMARK: blood test results are bad\n- 21:28 Bought milk PERSONALMARK\n"
        try env.store.write("---\ntype: daily\n---\n# Today\n\n\(lines)\n\(own)A closing sentence, not a list line.\n", to: TelemetryWriter.dailyPath(Date()), expecting: .any)
        let snapshot = try env.store.read("Tasks/Fix login.md")
        let task = TaskNote(path: "Tasks/Fix login.md", snapshot: snapshot, note: try Note.parse(bytes: snapshot.bytes), kind: .task)
        let packet = try VaultRouting(vault: env.vault).contextPacket(for: task, budgetTokens: 8000)
        let daily = try #require(packet.pieces.first { $0.kind == .daily })
        let got = daily.text.split(separator: "\n")
        #expect(got.count == ContextPacketBuilder(vault: env.vault, guardrails: Guardrails()).recentDailyLines)
        #expect(got.last == "- 10:19 run number 1999 \(TelemetryWriter.marker("r1999"))")
        #expect(got.first == "- 10:17 run number 1997 \(TelemetryWriter.marker("r1997"))")
        #expect(!packet.text.contains("PERSONALMARK"), "\(packet.text.suffix(500))")

        // A line of a person's own that links the task is about it, and goes.
        try env.store.write("---\ntype: daily\n---\n\(own)- 21:29 [[Fix login]]: use the v2 endpoint ABOUTMARK\n", to: TelemetryWriter.dailyPath(Date()), expecting: .any)
        let about = try VaultRouting(vault: env.vault).contextPacket(for: task, budgetTokens: 8000)
        #expect(about.text.contains("ABOUTMARK") && !about.text.contains("PERSONALMARK"), "\(about.text.suffix(500))")
    }

    @Test func theDailyLogGivesOnlyTheLinesAboutTheTaskWhenThereAreAny() throws {
        let env = try Self.vaultWithMemory()
        var lines = (0..<50).map { "- 09:\(String(format: "%02d", $0)) [[Tasks/Other \($0)]] → ollama (local): done" }
        lines.insert("- 10:01 [[Tasks/Fix login]] → claude (premium): failed — [[Results/Fix login result]]", at: 20)
        lines.append("- 10:02 [[Fix login]] → claude (premium): done")
        try env.store.write("---\ntype: daily\n---\n" + lines.joined(separator: "\n") + "\n", to: TelemetryWriter.dailyPath(Date()), expecting: .any)
        let snapshot = try env.store.read("Tasks/Fix login.md")
        let task = TaskNote(path: "Tasks/Fix login.md", snapshot: snapshot, note: try Note.parse(bytes: snapshot.bytes), kind: .task)
        let packet = try VaultRouting(vault: env.vault).contextPacket(for: task, budgetTokens: 8000)
        let daily = try #require(packet.pieces.first { $0.kind == .daily })
        #expect(daily.text.split(separator: "\n") == ["- 10:01 [[Tasks/Fix login]] → claude (premium): failed — [[Results/Fix login result]]", "- 10:02 [[Fix login]] → claude (premium): done"])
    }

    @Test func taskWordsLeaveOutStopWordsAndNumbers() {
        #expect(RelatedQuery.words(from: "Fix the login timeout in the app, please — 2024") == ["fix", "login", "timeout", "app"])
        #expect(RelatedQuery.words(from: "a an to") == [])
        #expect(RelatedQuery.words(from: "don't Résumé résumé") == ["résumé"])
    }
}

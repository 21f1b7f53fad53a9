import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// A temp vault made by `init`, with the claude/codex/opencode agent notes pointed at the fixture
/// agents (which print exactly what the real tools print).
final class EngineTestVault: @unchecked Sendable {
    let root: String
    let vault: Vault
    let store: NoteStore
    let fixtureLog: String
    private let events = Locked<[EngineEvent]>([])

    init() throws {
        root = TemporaryFolder.make("fbt-engine")
        vault = Vault(root: root + "/vault")
        _ = try VaultInit.run(vault: vault, withMemory: false)
        store = NoteStore(vault: vault)
        fixtureLog = root + "/fixture-log.jsonl"
        for tool in ["claude", "codex", "opencode"] {
            let path = "Rules/Agents/\(tool).md"
            let note = try Note.parse(bytes: try store.read(path).bytes)
            var command = note.texts("command")
            command[0] = RepositoryPaths.fixtureAgents + "/" + tool
            try store.updateProperties(path, set: [
                Property("command", .list(command.map { .string($0) })),
                Property("env", .list(["FBT_FIXTURE_LOG", "FBT_FIXTURE_MODE"].map { .string($0) })),
            ])
        }
    }

    deinit { TemporaryFolder.remove(root) }

    /// An engine over the vault, writing through `store` when given (a store with test hooks).
    func engine(store: NoteStore? = nil, conflictWindow: Double = TaskEngine.conflictRenameWindow, claimRetryFirst: Double = TaskEngine.claimRetryFirst, runs given: RunStore? = nil,
                executor: AgentExecuting? = nil) throws -> TaskEngine {
        let runs = try given ?? RunStore(vault: vault)
        // Each vault's fixture agents log to its own file (tests run in parallel).
        let agents = executor ?? VaultAgents(vault: vault, extraEnvironment: ["FBT_FIXTURE_LOG": fixtureLog])
        return TaskEngine(vault: vault, runs: runs, routing: try VaultRouting(vault: vault), executor: agents, store: store ?? NoteStore(vault: vault), conflictWindow: conflictWindow, claimRetryFirst: claimRetryFirst) { [self] event in
            events.withLock { $0.append(event) }
        }
    }

    var loggedEvents: [EngineEvent] { events.withLock { $0 } }

    /// The argv of each fixture agent run, in order.
    var fixtureArgvs: [[String]] {
        guard let text = PlatformTestSupport.read(fixtureLog) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSON.parse(String(line)))?["argv"]?.arrayValue?.compactMap(\.stringValue)
        }
    }

    func writeTask(_ name: String, properties: String, body: String) throws -> String {
        let path = "Tasks/\(name).md"
        try store.write("---\n\(properties)\n---\n\(body)\n", to: path, expecting: .absent)
        return path
    }

    func note(_ path: String) throws -> Note {
        try Note.parse(bytes: try store.read(path).bytes)
    }

    func text(_ path: String) throws -> String {
        try store.read(path).text
    }

    /// The prompts the fixture agents received, in order.
    func fixturePrompts() -> [String] {
        guard let text = PlatformTestSupport.read(fixtureLog) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSON.parse(String($0))["prompt"]?.stringValue }
    }
}

@Suite(.serialized) struct TaskEngineTests {
    /// Only git sync's rounds empty the list of the OS's writes for git to commit. Without a sync
    /// note nothing does, so nothing may be listed: it held every task, result, telemetry and day
    /// note a long-running watcher wrote, and grew for as long as it ran.
    @Test func withoutGitSyncTheEngineListsNoWritesForGitToCommit() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        #expect(engine.routing.sync == nil)
        var paths: [String] = []
        for i in 1...3 {
            let path = try env.writeTask("Plain \(i)", properties: "type: task\nagent: echo", body: "Say \(i).")
            paths.append(path)
            _ = engine.consider(path: path, wait: true)
        }
        engine.waitUntilIdle()
        for path in paths { #expect(try env.note(path).text("status") == "done") }
        let day = LocalTime.day(Date())
        #expect(try env.text("Telemetry/\(day).md").contains("[[Tasks/Plain 3]]"))
        #expect(engine.gitWritten.withLock { $0.isEmpty })
    }

    /// The watcher reads the event of a rename while the writer still syncs the folder: each of the
    /// engine's writes must be known as its own the moment its bytes land, not once the write returns
    /// (before, most of a run's task-note events were taken for someone else's edit: the note was
    /// parsed again and indexed in a commit of its own). Every later event reading the same bytes is
    /// recognised too, and a person's edit never is.
    @Test func theEngineKnowsEachOfItsWritesTheMomentItLands() throws {
        let env = try EngineTestVault()
        let engineBox = Locked<TaskEngine?>(nil)
        let landed = Locked<[(path: String, known: Bool)]>([])
        let reader = env.store
        var store = NoteStore(vault: env.vault)
        store.afterReplace = { path in
            guard let engine = engineBox.withLock({ $0 }), let now = (try? reader.readIfPresent(path)) ?? nil else { return }
            landed.withLock { $0.append((path, engine.isOwnWrite(path: path, hash: now.hash))) }
        }
        let engine = try env.engine(store: store)
        engineBox.withLock { $0 = engine }
        let path = try env.writeTask("Landing", properties: "type: task\nagent: echo", body: "Say hello.")
        guard case .started = engine.consider(path: path, wait: true) else {
            Issue.record("the task did not start")
            return
        }
        engine.waitUntilIdle()

        let writes = landed.withLock { $0 }
        let taskWrites = writes.filter { $0.path == path }
        let resultWrites = writes.filter { $0.path.hasPrefix("Results/") }
        #expect(taskWrites.count >= 2, "routed and running, then done: \(writes)")
        #expect(resultWrites.count == 1, "\(writes)")
        #expect((taskWrites + resultWrites).allSatisfy { $0.known }, "\(writes)")

        // A second event of the last write (the first one's, read after it) is recognised too.
        let final = try env.store.read(path)
        #expect(engine.consider(path: path) == .ownWrite)
        #expect(engine.consider(path: path) == .ownWrite)
        let resultPath = try #require(resultWrites.first?.path)
        let result = try env.store.read(resultPath)
        #expect(engine.isOwnWrite(path: resultPath, hash: result.hash))
        // A person's edit is theirs.
        try env.store.write(final.text + "\nA person's line.\n", to: path, expecting: .hash(final.hash))
        #expect(engine.consider(path: path) != .ownWrite)
        try env.store.write(result.text + "\nA person's remark.\n", to: resultPath, expecting: .hash(result.hash))
        #expect(!engine.isOwnWrite(path: resultPath, hash: try env.store.read(resultPath).hash))
    }

    @Test func echoTaskGoesToDoneWithResultTelemetryAndDailyLine() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Hello", properties: "type: task\nagent: echo", body: "Say hello in three languages.")

        guard case .started(let runID) = engine.consider(path: path, wait: true) else {
            Issue.record("the task did not start")
            return
        }
        engine.waitUntilIdle()

        let task = try env.note(path)
        #expect(task.text("status") == "done")
        #expect(task.text("route_agent") == "echo")
        #expect(task.text("route_lane") == "local")
        #expect(task.text("run_id") == runID)
        #expect(task["attempts"] == .int(1))
        let resultLink = try #require(task.text("result"))
        #expect(resultLink.hasPrefix("[[Results/Hello "))
        let resultPath = String(resultLink.dropFirst(2).dropLast(2)) + ".md"
        let result = try env.note(resultPath)
        #expect(result.text("type") == "result")
        #expect(result.text("task") == "[[Tasks/Hello]]")
        #expect(result.text("status") == "done")
        #expect(result.text("agent") == "echo")
        #expect(result.body.contains("Say hello in three languages."))

        let day = LocalTime.day(Date())
        let telemetry = try env.text("Telemetry/\(day).md")
        #expect(telemetry.contains("| [[Tasks/Hello]] | echo |"))
        #expect(telemetry.contains("| done |"))
        let daily = try env.text("Daily/\(day).md")
        #expect(daily.contains("[[Tasks/Hello]] → echo (local): done"))
        let jsonl = try #require(PlatformTestSupport.read(env.vault.stateDirectory + "/telemetry.jsonl"))
        let line = try JSON.parse(String(try #require(jsonl.split(separator: "\n").last)))
        #expect(line["run_id"]?.stringValue == runID)
        #expect(line["outcome"]?.stringValue == "done")
        #expect(line["harness"]?.stringValue == "echo")
        // Everything the engine wrote parses.
        for written in [path, resultPath, "Telemetry/\(day).md", "Daily/\(day).md"] {
            _ = try env.note(written)
        }
    }

    @Test func claudeErrorWithExitStatusZeroEndsFailed() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Flaky", properties: "type: task\nagent: claude", body: "Refactor the parser. FIXTURE_MODE=error")
        #expect(engine.consider(path: path, wait: true) != .ignored)
        engine.waitUntilIdle()
        let task = try env.note(path)
        // A 529 is an overload: the run failed, and the task moved on to the next agent of the
        // premium chain (failover_premium in Rules/Guardrails.md) as a handoff.
        #expect(task.text("status") == "handed_off")
        #expect(task.text("failure") == "overloaded")
        #expect(task.text("error")?.contains("529") == true)
        let resultPath = String(try #require(task.text("result")).dropFirst(2).dropLast(2)) + ".md"
        #expect(try env.text(resultPath).contains("**Failed:**"))
    }

    @Test func claudeSuccessRecordsCostAndTokensAndRunsReadOnly() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Review", properties: "type: task\nagent: claude", body: "Review the login handler for bugs.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let task = try env.note(path)
        #expect(task.text("status") == "done")
        #expect(task["cost_usd"]?.number == 0.0123405)
        #expect(task["tokens_out"] == .int(42))
        let log = try #require(PlatformTestSupport.read(env.fixtureLog))
        #expect(log.contains("\"--permission-mode\",\"plan\""))
    }

    @Test func brokenFrontmatterGetsFailedStatusAndErrorOnceAndKeepsTheText() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let original = "---\ntype: task\nagent: [echo\n---\nDo the thing.\n"
        try env.store.write(original, to: "Tasks/Broken.md", expecting: .absent)
        guard case .rejected(let why) = engine.consider(path: "Tasks/Broken.md") else {
            Issue.record("a broken task was not rejected")
            return
        }
        let text = try env.text("Tasks/Broken.md")
        #expect(text.contains("status: failed\n"))
        #expect(text.contains("error: "))
        #expect(text.contains("agent: [echo\n---\nDo the thing.\n"))
        // The line number is right in the note as written back (two lines were added above the bad
        // one), and the line is quoted (issue 14: the numbers went stale once the OS added lines).
        #expect(why.contains("frontmatter line 5") && why.contains("(the line reads: agent: [echo)"), "\(why)")
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false)[4] == "agent: [echo")
        // The same content is not reported (or rewritten) again.
        let hash = try env.store.read("Tasks/Broken.md").hash
        _ = engine.consider(path: "Tasks/Broken.md", force: true)
        #expect(try env.store.read("Tasks/Broken.md").hash == hash)
    }

    /// A person who changes a task while its agent runs is told the answer is to the text as it
    /// was: `changed_during_run` on the note and a line in the log (a tour: a changed prompt, or
    /// `privacy: private` added, ended `done` with no trace). A run with no change leaves none.
    @Test func aTaskChangedWhileItsAgentRanSaysSo() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Flaky", properties: "type: task\nagent: echo", body: "Fix the flaky test in the login module.")
        let events = Locked<[String]>([])
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault),
                                executor: EditingExecutor(vault: env.vault, path: path), store: NoteStore(vault: env.vault)) { event in
            events.withLock { $0.append(event.message) }
        }
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let note = try env.note(path)
        #expect(note.text("status") == "done")
        #expect(note.texts("changed_during_run") == ["text", "tags"], "\(note.properties)")
        #expect(try env.text(path).contains("UPDATE: the signup module"), "the person's edit is kept")
        #expect(events.withLock { $0 }.contains { $0.contains("changed while echo ran (text, tags)") })
        // Run again with nothing changed meanwhile: the mark goes.
        try env.store.updateProperties(path, set: [Property("status", .string("new"))])
        let again = try env.engine()
        _ = again.consider(path: path, wait: true)
        again.waitUntilIdle()
        let againText = try env.text(path)
        #expect(try env.note(path)["changed_during_run"] == nil, "\(againText)")
        #expect(TaskEngine.changedDuringRun(from: try Note.parse("---\nagent: echo\nstatus: new\n---\nA  b\n"), to: try Note.parse("---\nagent: echo\nstatus: running\nroute_lane: local\n---\nA b\n")).isEmpty)
    }

    /// A handoff to an agent that is cooling down moves along that agent's chain, never back to
    /// the agent that handed it off, and `handoff` says so (a tour: codex asked claude, cooling
    /// down, for a second opinion; the work went back to codex, and nothing said so).
    @Test func aHandoffToACoolingAgentDoesNotGoBackToItsSender() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        // claude hits its usage limit (and cools down); its task fails over to codex.
        let limited = try env.writeTask("Limit", properties: "type: task\nagent: claude", body: "Debug the cache. FIXTURE_MODE_CLAUDE=usage-limit")
        _ = engine.consider(path: limited, wait: true)
        engine.waitUntilIdle()
        let flaky = try env.writeTask("Flaky", properties: "type: task\nagent: codex\nstatus: done", body: "Fix the flaky test.")
        let submission = try HandoffRequest(from: "codex", to: "claude", task: flaky, message: "Please double-check the fix.").submit(vault: env.vault)
        #expect(submission.note?.contains("claude: usage limit") == true && submission.note?.contains("other than codex") == true, "\(submission.note ?? "")")
        // `route` previews what the watcher does.
        #expect(try RoutePreview.note(at: submission.path, vault: env.vault).decision.agent == "opencode")
        _ = engine.consider(path: submission.path, wait: true)
        engine.waitUntilIdle()
        let handoff = try env.text(submission.path)
        #expect(handoff.contains("codex: it handed the work off"), "\(handoff)")
        let ran = try RunStore(vault: env.vault).latestRun(taskPath: submission.path)
        #expect(ran?.agent == "opencode", "\(ran?.agent ?? "none")")
        // Moving past a cooling agent skips one that cannot run here too, as a failover does.
        try env.store.updateProperties("Rules/Agents/codex.md", set: [Property("command", .list([.string("no-such-codex-\(UInt32.random(in: 0...UInt32.max))"), .string("{prompt}")]))])
        let next = try env.writeTask("Next", properties: "type: task\nagent: claude", body: "Explain the plan.")
        #expect(try RoutePreview.note(at: next, vault: env.vault).decision.agent == "opencode")
        // (A new engine reads the changed agent note, as a watcher does when Rules/ changes.)
        let later = try env.engine()
        _ = later.consider(path: next, wait: true)
        later.waitUntilIdle()
        let nextRun = try RunStore(vault: env.vault).latestRun(taskPath: next)
        let nextText = try env.text(next)
        #expect(nextRun?.agent == "opencode", "\(String(describing: nextRun)) \(nextText)")
    }

    /// `status` lists a task that failed over as its chain ended: done by codex, not "failed —
    /// usage limit reached" by claude, its first run (a tour: finished work read as failures).
    @Test func statusListsAFailedOverTaskAsItsChainEnded() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Cool", properties: "type: task\nagent: claude", body: "Debug the cache eviction. FIXTURE_MODE_CLAUDE=usage-limit")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let handoff = try #require(try FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Handoffs").first { $0.hasPrefix("Failover") })
        _ = engine.consider(path: "Handoffs/" + handoff, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "done")
        let listed = try #require(try VaultStatus.read(vault: env.vault, limit: 10, shows: { _ in true }).finished.first { $0.taskPath == path })
        #expect(listed.state == .done && listed.agent == "claude → codex" && listed.error == nil, "\(listed)")
        // A caller that may not see the handoff gets its state, not its words.
        let hidden = try #require(try VaultStatus.read(vault: env.vault, limit: 10, shows: { !$0.hasPrefix("Handoffs/") }).finished.first { $0.taskPath == path })
        #expect(hidden.state == .done && hidden.error == nil && hidden.resultPath?.hasPrefix("Results/Failover") != true, "\(hidden)")
    }

    /// A handoff carries what the chain answered: the task's result and its earlier handoffs'
    /// go in its context, and so into the next agent's packet (a tour: the packet held the task's
    /// text and the message only, the first answer a name in a day line). A caller that may not see
    /// private notes is not handed a private one.
    @Test func aHandoffCarriesTheResultsOfItsTasksChain() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Retry design", properties: "type: task\nagent: echo", body: "Review the design of the retry logic.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let result = try #require(try env.note(path).text("result"))
        let submission = try HandoffRequest(from: "echo", to: "echo", task: path, message: "Reviewed; left: implement backoff.").submit(vault: env.vault)
        let handoff = try env.note(submission.path)
        #expect(handoff.texts("context") == [result], "\(handoff.texts("context"))")
        _ = engine.consider(path: submission.path, wait: true)
        engine.waitUntilIdle()
        let second = try #require(try env.note(submission.path).text("result"))
        let answer = try env.text(String(second.dropFirst(2).dropLast(2)) + ".md")
        #expect(answer.contains("## Linked note — " + String(result.dropFirst(2).dropLast(2))), "\(answer)")
        // The next handoff gets both answers, oldest first.
        let third = try HandoffRequest(from: "echo", to: "echo", task: path, message: "Go on.").submit(vault: env.vault)
        #expect(try env.note(third.path).texts("context") == [result, second])
        // A private answer is not handed to a caller that may not see it.
        try env.store.updateProperties(String(result.dropFirst(2).dropLast(2)) + ".md", set: [Property("privacy", .string("private"))])
        var hidden = HandoffRequest(from: "echo", to: "echo", task: path, message: "Once more.")
        hidden.hidingPrivate = "called from a cloud run"
        // (The second answer was made from the first, so it is private now too: taint follows the data.)
        #expect(try env.note(try hidden.submit(vault: env.vault).path).texts("context").isEmpty)
        #expect(try env.note(try HandoffRequest(from: "echo", to: "echo", task: path, message: "A person hands it on.").submit(vault: env.vault).path).texts("context") == [result, second])
    }

    /// A failover passes over an agent that cannot run here, as it passes over a cooling one: the
    /// shipped chain named opencode, not installed; handed the work, it failed at once ("not found
    /// on PATH") and the task ended failed with codex never tried (a tour).
    @Test func aFailoverPassesOverAnAgentThatIsNotInstalled() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Agents/opencode.md", set: [Property("command", .list([.string("no-such-opencode-\(UInt32.random(in: 0...UInt32.max))"), .string("{prompt}")]))])
        try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("failover", .list([.string("opencode"), .string("codex")]))])
        let engine = try env.engine()
        let path = try env.writeTask("Chain", properties: "type: task\nagent: claude", body: "Fix the date parsing bug. FIXTURE_MODE_CLAUDE=usage-limit")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let handoffs = try FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Handoffs").filter { $0.hasPrefix("Failover") }
        #expect(handoffs.count == 1 && handoffs.first?.contains("claude to codex") == true, "\(handoffs)")
        let handoff = try env.note("Handoffs/" + (handoffs.first ?? ""))
        #expect(handoff.text("to") == "codex")
        // claude printed its limit's words only: the next agent is not told they were its work.
        #expect(handoff.body.contains("Nothing: it stopped before it answered."), "\(handoff.body)")
        #expect(try env.text(path).contains("opencode"), "the task says why opencode was passed over")
    }

    /// A frontmatter never closed is reported at its opening `---`, which stays on line 1 when the
    /// OS writes its two lines in below it (a tour: the error said line 3).
    @Test func anUnclosedFrontmatterIsReportedAtTheLineItOpensOn() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        try env.store.write("---\ntype: task\nagent: echo\n", to: "Tasks/Open.md", expecting: .absent)
        guard case .rejected(let why) = engine.consider(path: "Tasks/Open.md") else {
            Issue.record("an unclosed frontmatter was not rejected")
            return
        }
        #expect(why.hasPrefix("frontmatter line 1, column 1: "), "\(why)")
        #expect(try env.text("Tasks/Open.md").split(separator: "\n", omittingEmptySubsequences: false)[0] == "---")
    }

    /// A note failed for its frontmatter runs once the person fixes it, although the `status: failed`
    /// and `error` the OS wrote are still there; a note failed for another reason does not.
    @Test func aFixedBrokenNoteRunsWithoutTouchingItsStatus() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        try env.store.write("---\ntype: task\nagent: [echo\n---\nSay fixed.\n", to: "Tasks/Fixable.md", expecting: .absent)
        guard case .rejected = engine.consider(path: "Tasks/Fixable.md") else {
            Issue.record("the broken task was not rejected")
            return
        }
        // The person fixes the bracket only.
        let broken = try env.store.read("Tasks/Fixable.md")
        try env.store.write(broken.text.replacingOccurrences(of: "\nagent: [echo\n", with: "\nagent: echo\n"), to: "Tasks/Fixable.md", expecting: .hash(broken.hash))
        guard case .started = engine.consider(path: "Tasks/Fixable.md", wait: true) else {
            Issue.record("the fixed task did not start: \((try? env.text("Tasks/Fixable.md")) ?? "")")
            return
        }
        engine.waitUntilIdle()
        let done = try env.note("Tasks/Fixable.md")
        #expect(done.text("status") == "done")
        #expect(done["error"] == nil)

        // A run that failed on its own keeps its status when the note is touched again.
        let failed = try env.writeTask("Failed run", properties: "type: task\nagent: nosuchagent", body: "Who?")
        _ = engine.consider(path: failed, wait: true)
        engine.waitUntilIdle()
        let snapshot = try env.store.read(failed)
        try env.store.write(snapshot.text + "More words.\n", to: failed, expecting: .hash(snapshot.hash))
        #expect(engine.consider(path: failed, wait: true) == .ignored)
    }

    /// Attack (round 142, high): a task whose lines end in a lone CR (old Mac line endings) got
    /// its `status: failed` and `error` as a new block in front of the person's; once the person
    /// saved it with LF, as the error says, `type`, `agent`, `privacy: private` and `tags` were body
    /// text after that block: `route` called it public and sent it to claude. The OS's lines go
    /// inside the person's block, ended with a CR like its other lines, and every other byte stays.
    @Test func aLoneCRTaskGetsItsErrorInsideItsOwnBlockAndStaysPrivateOnceSavedWithLF() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let original = "---\rtype: task\ragent: echo\rprivacy: private\rtags: [private]\r---\rFix the bug in my private code: the diary says X.\r"
        try env.store.write(original, to: "Tasks/CR.md", expecting: .absent)
        guard case .rejected(let why) = engine.consider(path: "Tasks/CR.md") else {
            Issue.record("the lone-CR task was not rejected")
            return
        }
        #expect(why.contains("(the line reads: ---)"), "\(why)")
        let written = try env.store.read("Tasks/CR.md").bytes
        // Only lines were added, right after the opening `---` and ended as the note's lines are.
        #expect(!written.contains(0x0A), "\(String(decoding: written, as: UTF8.self).debugDescription)")
        let opener = Array("---\r".utf8)
        #expect(Array(written.prefix(opener.count)) == opener)
        let added = String(decoding: written.dropFirst(opener.count).prefix(written.count - original.utf8.count), as: UTF8.self)
        #expect(added.hasPrefix("status: failed\rerror: ") && added.hasSuffix("\r"), "\(added.debugDescription)")
        #expect(Array(written.suffix(original.utf8.count - opener.count)) == Array(original.utf8.dropFirst(opener.count)))
        // Considered again, the same text is not written again.
        _ = engine.consider(path: "Tasks/CR.md", force: true)
        #expect(try env.store.read("Tasks/CR.md").bytes == written)

        // The person saves it with LF: one block, the person's properties in it, still private.
        let fixed = String(decoding: written, as: UTF8.self).replacingOccurrences(of: "\r", with: "\n")
        let snapshot = try env.store.read("Tasks/CR.md")
        try env.store.write(fixed, to: "Tasks/CR.md", expecting: .hash(snapshot.hash))
        let note = try env.note("Tasks/CR.md")
        #expect(note.text("type") == "task" && note.text("agent") == "echo" && note.text("privacy") == "private", "\(fixed)")
        #expect(!note.body.contains("type: task"), "\(note.body)")
        let guardrails = RuleBook.load(vault: env.vault).guardrails
        #expect(Privacy.reason(ofNoteAt: "Tasks/CR.md", store: env.store, guardrails: guardrails) != nil)
        guard case .started = engine.consider(path: "Tasks/CR.md", wait: true) else {
            Issue.record("the fixed task did not start: \((try? env.text("Tasks/CR.md")) ?? "")")
            return
        }
        engine.waitUntilIdle()
        let done = try env.note("Tasks/CR.md")
        #expect(done.text("status") == "done" && done.text("route_agent") == "echo", "\((try? env.text("Tasks/CR.md")) ?? "")")
        #expect(done["error"] == nil)

        // Lone CRs in the block and an LF further down, in the body: the lines still go after `---`.
        let mixed = "---\rtype: task\ragent: echo\r---\rFirst line.\nA line of the body\nthe person wrote with LF.\n"
        try env.store.write(mixed, to: "Tasks/Mixed.md", expecting: .absent)
        guard case .rejected = engine.consider(path: "Tasks/Mixed.md") else {
            Issue.record("the mixed task was not rejected")
            return
        }
        let mixedText = try env.text("Tasks/Mixed.md")
        #expect(mixedText.hasPrefix("---\rstatus: failed\rerror: ") && mixedText.hasSuffix("\rtype: task\ragent: echo\r---\rFirst line.\nA line of the body\nthe person wrote with LF.\n"), "\(mixedText.debugDescription)")
    }

    /// A task whose run `executor` holds: the engine, the task's path, its text while it runs, and its run id.
    static func copyOfRunningTaskSetUp() throws -> (EngineTestVault, TaskEngine, HoldingExecutor, String, NoteSnapshot, String) {
        let env = try EngineTestVault()
        let path = try env.writeTask("Cpy", properties: "type: task\nagent: echo", body: "Summarise the notes.")
        let executor = HoldingExecutor()
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: executor) { _ in }
        #expect(engine.consider(path: path) != .ignored)
        #expect(executor.waitUntilInside(1, seconds: 300))
        let running = try env.store.read(path)
        let runID = try #require(try env.note(path).text("run_id"))
        return (env, engine, executor, path, running, runID)
    }

    /// Attack (round 141, medium): a person copied a task while it ran (Obsidian's "Make a copy");
    /// the copy, carrying the other note's `status: running` and `run_id`, was marked failed as
    /// "interrupted (no record of its run)", a crash it never had. It is told as a copy, not run
    /// unasked, and the original's run ends once, on the original.
    @Test func aCopyOfARunningTaskIsToldAsACopyAndNotRun() throws {
        let (env, engine, executor, path, running, runID) = try Self.copyOfRunningTaskSetUp()
        try env.store.write(running.text, to: "Tasks/Cpy copy.md", expecting: .absent)
        _ = engine.consider(path: "Tasks/Cpy copy.md", wait: true)
        let copy = try env.note("Tasks/Cpy copy.md")
        #expect(copy.text("status") == "failed")
        #expect(copy.text("error") == "a copy of \(path), made while its run \(runID) was in flight: this note has not run; set status: new to run it", "\(copy.text("error") ?? "")")
        #expect(copy["attempts"] == nil)
        executor.release()
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "done")
        #expect(executor.peak == 1)
        #expect(try env.note("Tasks/Cpy copy.md").text("status") == "failed")
    }

    /// Round 147 (low-medium): the person set `status: new` on the copy at once, before the engine
    /// looked at it; the engine, holding what the copy said first (`running`), wrote `failed` over
    /// their word with an error asking them to set `status: new`. Their word stands: the copy runs
    /// as a task of its own (attempt 1, its own run id), once, and the original's run is untouched.
    @Test func aCopyOfARunningTaskSetToNewAtOnceRunsAsItsOwnTask() throws {
        let (env, engine, executor, path, running, runID) = try Self.copyOfRunningTaskSetUp()
        let copyPath = "Tasks/Cpy copy.md"
        try env.store.write(running.text, to: copyPath, expecting: .absent)
        // What the engine read first: the copy as made, `running`.
        let seen = try env.store.read(copyPath)
        let task = TaskNote(path: copyPath, snapshot: seen, note: try Note.parse(bytes: seen.bytes), kind: .task)
        // Then the person's word lands.
        try env.writeAsAnotherProgram(running.text.replacingOccurrences(of: "status: running", with: "status: new"), to: copyPath)
        _ = engine.catchUp(task)
        // A second copy the engine first sees with the person's `status: new` (round 149: it ran as
        // attempt 2, the other note's count).
        let secondPath = "Tasks/Cpy copy 2.md"
        try env.writeAsAnotherProgram(running.text.replacingOccurrences(of: "status: running", with: "status: new"), to: secondPath)
        _ = engine.consider(path: secondPath)
        let started = executor.waitUntilInside(3, seconds: 60)
        #expect(started, "the copies did not start: \((try? env.text(copyPath)) ?? "")")
        executor.release()
        engine.waitUntilIdle()
        let second = try env.note(secondPath)
        let secondText = try env.text(secondPath)
        #expect(second.text("status") == "done" && second.text("attempts") == "1" && second.text("run_id") != runID, "\(secondText)")
        let copy = try env.note(copyPath)
        let copyText = try env.text(copyPath)
        #expect(copy.text("status") == "done" && copy.text("error") == nil, "\(copyText)")
        #expect(copy.text("attempts") == "1" && copy.text("run_id") != runID, "\(copyText)")
        let original = try env.note(path)
        #expect(original.text("status") == "done" && original.text("run_id") == runID)
    }

    @Test func concurrentConsiderationsStartATaskExactlyOnce() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Once", properties: "type: task\nagent: echo", body: "Only once.")
        let starts = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if case .started = engine.consider(path: path, force: true) { starts.increment() }
        }
        engine.waitUntilIdle()
        // Later considerations of the finished task start nothing either.
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            if case .started = engine.consider(path: path, force: true) { starts.increment() }
        }
        engine.waitUntilIdle()
        #expect(starts.value == 1)
        let results = VaultWalker.markdownFiles(in: env.vault, under: "Results").filter { $0.contains("Once ") }
        #expect(results.count == 1)
    }

    @Test func aPersonsEditDuringTheRunSurvivesTheWriteBack() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Slow", properties: "type: task\nagent: codex\ntimeout: 3", body: "Look at the code. FIXTURE_MODE=hang")
        _ = engine.consider(path: path)
        #expect(eventually(within: 10) { (try? env.note(path).text("status")) == "running" })
        // A person adds a tag and a line to the body while the agent runs.
        let snapshot = try env.store.read(path)
        let edited = try FrontmatterEditor.apply(set: [Property("tags", .list([.string("edited")]))], to: snapshot.text) + "A line the person added.\n"
        try env.store.write(edited, to: path, expecting: .hash(snapshot.hash))
        engine.waitUntilIdle()
        let task = try env.note(path)
        // The timeout fails the run over to the next agent of the premium chain (a handoff).
        #expect(task.text("status") == "handed_off")
        #expect(task.text("failure") == "timeout")
        #expect(task.text("error")?.contains("did not finish within 3") == true)
        #expect(task.texts("tags") == ["edited"])
        #expect(task.body.contains("A line the person added."))
    }

    @Test func settingStatusCancelledStopsARunningAgent() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Endless", properties: "type: task\nagent: codex", body: "Never ends. FIXTURE_MODE=hang")
        _ = engine.consider(path: path)
        #expect(eventually(within: 10) { (try? env.note(path).text("status")) == "running" })
        try env.store.updateProperties(path, set: [Property("status", .string("cancelled"))])
        #expect(engine.consider(path: path) == .cancelling)
        engine.waitUntilIdle()
        let task = try env.note(path)
        #expect(task.text("status") == "cancelled")
        let resultPath = String(try #require(task.text("result")).dropFirst(2).dropLast(2)) + ".md"
        #expect(try env.text(resultPath).contains("**Cancelled:**"))
    }

    @Test func sideEffectsWaitForReviewAndRunOnceApproved() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Ship", properties: "type: task\nagent: echo\neffects: [deploy]", body: "Ship the site.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        var task = try env.note(path)
        #expect(task.text("status") == "review")
        #expect(task.text("route_reason")?.isEmpty == false)
        #expect(task["result"] == nil)

        try env.store.updateProperties(path, set: [Property("approved", .bool(true))])
        guard case .started = engine.consider(path: path, wait: true) else {
            Issue.record("approval did not resume the task")
            return
        }
        engine.waitUntilIdle()
        task = try env.note(path)
        #expect(task.text("status") == "done")
        #expect(task.text("approved_by")?.isEmpty == false)
        #expect(task["approved_at"] != nil)
    }

    /// An editor that keeps its buffer of a task from while it ran (`status: running`, the run's
    /// `run_id`, no end) saves it over the finished note, again and again: the note catches up with
    /// the run store each time, with the run's figures too (its duration and tokens were lost), and
    /// the log says so once, not at every save (a tour: 45 lines in three seconds).
    @Test func aStaleCopySavedOverAFinishedTaskCatchesUpWithItsFiguresAndIsLoggedOnce() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Stale", properties: "type: task\nagent: claude", body: "Explain the plan in one line.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let done = try env.note(path)
        #expect(done.text("status") == "done")
        let runID = try #require(done.text("run_id"))
        let tokensIn = try #require(done["tokens_in"])
        #expect(done["duration_s"] != nil)
        let stale = "---\ntype: task\nagent: claude\nrun_id: \(runID)\nstatus: running\n---\nExplain the plan in one line.\n"
        for _ in 1...3 {
            try env.store.write(stale, to: path, expecting: .any)
            _ = engine.consider(path: path, wait: true)
            let caught = try env.note(path)
            #expect(caught.text("status") == "done")
            #expect(caught.text("result") == done.text("result"))
            #expect(caught["tokens_in"] == tokensIn)
            #expect(caught["tokens_out"] == done["tokens_out"])
            #expect(caught["duration_s"] != nil)
            #expect(try env.text(path).contains("Explain the plan in one line."))
        }
        let said = env.loggedEvents.filter { $0.message.contains("caught up with run \(runID)") }
        #expect(said.count == 1, "\(said.map(\.message))")
    }

    @Test func recoveryMarksRunsOfDeadProcessesInterruptedOrRequeuesThem() throws {
        let env = try EngineTestVault()
        let runs = try RunStore(vault: env.vault)
        // A task with an effect never runs twice unasked; `retries` asks; a read-only task runs once more.
        let once = try env.writeTask("Crashed", properties: "type: task\nagent: echo\nstatus: running\neffects: [deploy]", body: "Was running.")
        let retry = try env.writeTask("Retried", properties: "type: task\nagent: echo\nstatus: running\nretries: 1", body: "Was running too.")
        let readOnly = try env.writeTask("Read only", properties: "type: task\nagent: echo\nstatus: running", body: "Summarise the notes.")
        let asksForAnEffect = try env.writeTask("Asks", properties: "type: task\nagent: echo\nstatus: running", body: "Delete the old branches.")
        for path in [once, retry, readOnly, asksForAnEffect] {
            let record = try #require(try runs.claim(taskPath: path, taskHash: nil, attempt: 1))
            // A pid that cannot be alive: the process that claimed it is gone.
            try runs.withDatabase { try $0.run("UPDATE runs SET owner_pid=?, state='running' WHERE run_id=?", [.int(Int64(Int32.max)), .text(record.runID)]) }
        }
        // A re-queued note must be picked up: whenever the watcher reads its event, even the moment
        // the write lands, it is not taken for one of the OS's own writes.
        let engineBox = Locked<TaskEngine?>(nil)
        let taken = Locked<[String]>([])
        let reader = env.store
        var store = NoteStore(vault: env.vault)
        store.afterReplace = { path in
            guard let engine = engineBox.withLock({ $0 }), let now = (try? reader.readIfPresent(path)) ?? nil,
                  (try? Note.parse(bytes: now.bytes))?.text("status") == "new" else { return }
            if engine.isOwnWrite(path: path, hash: now.hash) { taken.withLock { $0.append(path) } }
        }
        let engine = try env.engine(store: store)
        engineBox.withLock { $0 = engine }
        engine.recover()
        engineBox.withLock { $0 = nil }
        #expect(taken.withLock { $0 }.isEmpty, "re-queued notes taken for the OS's own writes: \(taken.withLock { $0 })")
        #expect(try env.note(once).text("status") == "failed")
        #expect(try env.note(once).text("error") == "interrupted")
        #expect(try env.note(retry).text("status") == "new")
        #expect(try env.note(readOnly).text("status") == "new")
        #expect(try env.note(readOnly).text("error") == "interrupted; retrying (attempt 2 of 2)")
        // No `effects:` written, but its words ask for one (as the router infers them): not retried.
        #expect(try env.note(asksForAnEffect).text("status") == "failed")
        #expect(try runs.activeRun(taskPath: once) == nil)
        // The re-queued task runs once more.
        guard case .started = engine.consider(path: retry, wait: true) else {
            Issue.record("the re-queued task did not start")
            return
        }
        engine.waitUntilIdle()
        #expect(try env.note(retry).text("status") == "done")
        #expect(try env.note(retry)["attempts"] == .int(2))
    }

    @Test func anAgentNoteSaysHowOftenItsReadOnlyTasksAreRetried() throws {
        let env = try EngineTestVault()
        try env.store.write("---\ntype: agent\nname: once\nlane: local\ncommand: [printf, \"%s\", \"{prompt}\"]\noutput: text\nretries: 0\n---\n", to: "Rules/Agents/once.md", expecting: .absent)
        #expect(throws: (any Error).self) { try AgentDefinition.parse(Note.parse(bytes: Array("---\ntype: agent\nname: x\nlane: local\ncommand: [x]\noutput: text\nretries: 1.5\n---\n".utf8)), path: "Rules/Agents/x.md") }
        let runs = try RunStore(vault: env.vault)
        let never = try env.writeTask("Never again", properties: "type: task\nagent: once\nstatus: running", body: "Summarise the notes.")
        let asked = try env.writeTask("Asked", properties: "type: task\nagent: once\nstatus: running\nretries: 1", body: "Summarise the notes too.")
        for path in [never, asked] {
            let record = try #require(try runs.claim(taskPath: path, taskHash: nil, attempt: 1))
            try runs.withDatabase { try $0.run("UPDATE runs SET owner_pid=?, state='running', agent='once' WHERE run_id=?", [.int(Int64(Int32.max)), .text(record.runID)]) }
        }
        try env.engine().recover()
        // The agent's `retries: 0` keeps its read-only task from running again; the task's own wins.
        #expect(try env.note(never).text("status") == "failed")
        #expect(try env.note(asked).text("status") == "new")
    }

    @Test func aFIFONamedLikeATaskIsSkippedWithoutHanging() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        #expect(mkfifo(env.vault.root + "/Tasks/Pipe.md", 0o644) == 0)
        // Reading it must not wait for a writer: the watcher thread would hang for good.
        #expect(engine.consider(path: "Tasks/Pipe.md", force: true) == .ignored)
        #expect(throws: SystemError.self) { _ = try FileSystem.read(env.vault.root + "/Tasks/Pipe.md") }
        // A good task after it still runs.
        let path = try env.writeTask("After pipe", properties: "type: task\nagent: echo", body: "Still here.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "done")
    }

    @Test func aHugeTaskNoteIsReportedOnceAndLeftAlone() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = env.vault.root + "/Tasks/Huge.md"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(TaskEngine.maxTaskBytes + 1)) == 0)
        let before = try #require(try FileSystem.status(path))
        #expect(engine.consider(path: "Tasks/Huge.md") == .rejected("too large"))
        #expect(engine.consider(path: "Tasks/Huge.md") == .rejected("too large"))
        #expect(env.loggedEvents.filter { $0.message.contains("too large for a task note") }.count == 1)
        #expect(try FileSystem.status(path) == before)
    }

    @Test func templatesAndFolderReadmesAreNeverRun() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        #expect(engine.consider(path: "Templates/Task.md", force: true) == .ignored)
        #expect(engine.consider(path: "Tasks/README.md", force: true) == .ignored)
    }
}

/// A counter safe to bump from several threads.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// Runs the echo agent's way, and meanwhile edits the task as a person would: a line added to its
/// text and a tag to its properties.
private final class EditingExecutor: AgentExecuting, @unchecked Sendable {
    let vault: Vault
    let path: String
    init(vault: Vault, path: String) {
        self.vault = vault
        self.path = path
    }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        let store = NoteStore(vault: vault)
        if let snapshot = try? store.read(path), !snapshot.text.contains("UPDATE") {
            let edited = snapshot.text.replacingOccurrences(of: "login module.", with: "login module.\nUPDATE: the signup module, not login.")
                .replacingOccurrences(of: "type: task\nagent: echo\n", with: "type: task\nagent: echo\ntags: [urgent]\n")
            _ = try? store.write(edited, to: path, expecting: .hash(snapshot.hash))
        }
        return AgentExecution(succeeded: true, answer: "fixed", error: nil)
    }
}

/// The steps these attacks repeat: a task started and its agent running, a rename on disk as a
/// sync tool or a person makes it (told to the engine as the watcher tells it), a note written by
/// another program.
extension EngineTestVault {
    /// Writes the task `text` at `path`, has `engine` start it, and waits until the fixture agents
    /// have been called `prompts` times in all.
    func start(_ text: String, at path: String, engine: TaskEngine, prompts: Int) throws -> Bool {
        try store.write(text, to: path, expecting: .absent)
        _ = engine.consider(path: path)
        return eventually(within: 30) { fixturePrompts().count == prompts }
    }

    /// Renames a note on disk and tells `engine`: whether a run followed it; `nil` when the rename failed.
    func renameOnDisk(_ from: String, to: String, engine: TaskEngine) -> Bool? {
        guard rename(vault.root + "/" + from, vault.root + "/" + to) == 0 else { return nil }
        return engine.noteRenamed(from: from, to: to)
    }

    /// A task made as `task new` makes it (`created` written), titled `title`, for claude.
    func newTask(_ prompt: String, title: String) throws -> String {
        var task = NewTask(prompt: prompt)
        task.title = title
        task.agent = "claude"
        return try task.write(vault: vault, environment: [:])
    }

    /// Writes `text` at `path` as another program does (not through the OS's store).
    func writeAsAnotherProgram(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: vault.root + "/" + path))
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The twenty-second outside attack on the release binary (`/work/attack55-report.md`), each
/// finding written as the attack it was.
@Suite(.serialized) struct TwentySecondAttackTests {
    /// Attack: a public note of `[x](` repeated (160 KB; a cloud agent wrote it over MCP) linked by
    /// a task: every Markdown destination was read to the note's end, and building the packet took
    /// half an hour (16 KB: 17 s), holding a routing thread; four such tasks stalled the watcher.
    /// A destination is read no deeper than 32 parentheses and no longer than a path can be, and
    /// a bare name is looked for no further back than that either (`a.md` repeated).
    @Test func aNoteOfUnclosedLinksIsReadInLinearTime() throws {
        let v = RouteTestVault()
        v.writeStandardRules()
        v.write("Memory/Diary.md", "---\ntags: [personal]\n---\n# Diary\n\nDear diary.\n")
        let unclosed = String(repeating: "[x](", count: 40_000)
        let ranges = PrivateLinks.destinations(in: unclosed as NSString)
        #expect(!ranges.isEmpty && ranges.allSatisfy { $0.range.length <= 4 * (PrivateLinks.deepestNesting + 1) }, "\(ranges.map(\.range.length).max() ?? 0)")
        let angled = PrivateLinks.destinations(in: (String(repeating: "[x](<", count: 2_000) + "[y](<Memory/Diary.md>)") as NSString)
        #expect(angled.allSatisfy { $0.range.length <= PrivateLinks.longestDestination } && angled.last?.link.target == "Memory/Diary.md")
        // (And, from the twenty-third attack, `/.md` repeated: every `.md` was walked back from.)
        v.write("Memory/Links.md", "# Links\n\n" + unclosed + "\n" + String(repeating: "a.md", count: 40_000) + "\n" + String(repeating: "/.md", count: 40_000) + "\n")
        v.write("Tasks/Sum.md", "---\ntype: task\nagent: claude\n---\nSummarise [[Links]].\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Sum.md")
        #expect(plan.action == .run, "\(plan.reason)")
        #expect(plan.prompt.contains("[x]([x]([x]("))
        // What a person writes after a comma is still read as a name: the private note's goes as
        // the placeholder (before, a reading across the comma was prose, and none started after it).
        let redacted = PrivateLinks.redacting("see x,Memory/Diary notes.md and (Memory/Diary notes.md)", in: "Memory/Links.md", candidates: { $0.map { [$0.target] } }, isPrivate: { $0.hasPrefix("Memory/Diary") })
        #expect(redacted.text == "see x,(a private note) and ((a private note))", "\(redacted.text)")
        // Nor does punctuation end a name (twenty-third attack, low: `Meeting notes, Dr X.md`, a
        // private note's, went to a cloud packet as written).
        let named = PrivateLinks.redacting("see Memory/Meeting notes, Dr X.md today, or Memory/Why? Not me!.md", in: "Memory/Links.md", candidates: { $0.map { [$0.target] } },
                                           isPrivate: { $0 == "Memory/Meeting notes, Dr X.md" || $0 == "Memory/Why? Not me!.md" })
        #expect(named.text == "see (a private note) today, or (a private note)", "\(named.text)")
    }

    /// Attack: a run called `init`, which put back the agent note and the routing rule a person had
    /// deleted to keep code work off the cloud: the next code task went to claude. `init` writes
    /// `Rules/`, which a run may not change; nor may a run start a watcher, install a service or
    /// MCP settings, sync skills or end a cooldown.
    @Test func aRunMayNotPutBackRulesAPersonDeleted() throws {
        let v = RouteTestVault()
        _ = try VaultInit.run(vault: v.vault, withMemory: false)
        let rule = v.vault.root + "/Rules/Routing/Premium for code and judgment.md"
        let agent = v.vault.root + "/Rules/Agents/claude.md"
        try FileManager.default.removeItem(atPath: rule)
        try FileManager.default.removeItem(atPath: agent)
        let run = try PrivacyTaintTests.run(of: "Tasks/Tidy.md", lane: "premium", in: v.vault)
        for arguments in [["init", v.vault.root], ["init", "--with-memory"], ["agent", "reset", "claude"], ["report"], ["report", "--json"]] {
            let (code, out) = FifthAttackTests.cli(arguments, v, runID: run)
            #expect(code == 1 && out.contains("refused from within run \(run)"), "\(arguments): \(out)")
        }
        // Those that would start a watcher or write outside the vault (the home's service and
        // harness settings) are asked of the rule only, not run here.
        for (command, action) in [("watch", nil), ("service", "install"), ("service", "uninstall"), ("mcp", "install"), ("mcp", "uninstall"), ("skills", "sync")] as [(String, String?)] {
            #expect(CLI.personOnly(command, action: action) != nil, "\(command) \(action ?? "")")
        }
        for (command, action) in [("mcp", nil), ("service", "status"), ("skills", "status"), ("agent", "list"), ("search", "tapir")] as [(String, String?)] {
            #expect(CLI.personOnly(command, action: action) == nil, "\(command) \(action ?? "")")
        }
        #expect(!FileManager.default.fileExists(atPath: rule) && !FileManager.default.fileExists(atPath: agent))
        // What a run may do still works, and a person may run init.
        #expect(FifthAttackTests.cli(["agent", "list"], v, runID: run).code == 0)
        #expect(FifthAttackTests.cli(["init", v.vault.root], v, runID: nil).code == 0)
        #expect(FileManager.default.fileExists(atPath: rule))
    }

    /// Attack: a cloud run of `Projects/café.md` (composed, NFC) rewrote a person's queued task
    /// `Projects/café.md` written decomposed (NFD, as macOS names files): two notes on Linux, but
    /// equal as Swift strings, so the twin passed for the run's own task. Paths are compared by bytes.
    @Test func aRunsTaskIsNotItsUnicodeTwin() throws {
        let v = RouteTestVault()
        v.writeStandardRules()
        let nfc = "Projects/caf\u{E9}.md"
        let nfd = "Projects/cafe\u{301}.md"
        #expect(nfc == nfd && !Vault.samePath(nfc, nfd), "the two spellings are equal as strings only")
        v.write(nfd, "---\ntype: task\nagent: claude\nstatus: new\n---\nSummarise the coffee notes.\n")
        v.write(nfc, "---\ntype: task\nagent: claude\nstatus: running\n---\nTidy the notes.\n")
        #expect(FileManager.default.fileExists(atPath: v.root + "/" + nfd) && FileManager.default.fileExists(atPath: v.root + "/" + nfc))
        let run = try PrivacyTaintTests.run(of: nfc, lane: "premium", in: v.vault)
        let (code, out) = FifthAttackTests.cli(["note", "set", nfd, "agent=ollama"], v, runID: run)
        #expect(code == 1 && out.contains("this is other work"), "\(out)")
        let twin = try String(contentsOfFile: v.root + "/" + nfd, encoding: .utf8)
        #expect(twin.contains("agent: claude") && !twin.contains("ollama"))
        // Its own task, as it is spelled, it may still change.
        #expect(FifthAttackTests.cli(["note", "set", nfc, "model=sonnet"] + expectingCurrent(v.root, nfc), v, runID: run).code == 0)
        let handoff = FifthAttackTests.cli(["handoff", "--to", "ollama", "--task", nfd, "go on"], v, runID: run)
        #expect(handoff.code != 0, "\(handoff.out)")
    }

    /// Attack: a cloud agent told a private note from a missing one by a note it wrote itself that
    /// links the guessed name: `context` of it was "withheld: holds private notes" or a packet,
    /// `route` of it "private" or "public"; and inside a run it linked the name from its own task and
    /// read the task back (withheld, or shown). Each now answers the two alike.
    @Test func aNoteThatLinksAGuessedNameAnswersAlikeForPrivateAndMissing() throws {
        let v = RouteTestVault()
        v.writeStandardRules()
        v.write("Memory/Diary.md", "---\ntags: [personal]\n---\n# Diary\n\nDear diary.\n")
        v.write("Memory/Tapir.md", "# Tapir\n\nTapirs are public.\n")
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "claude", environment: [:]))
        func answer(_ tool: String, _ arguments: [(String, JSON)]) -> String {
            let reply = tools.call(tool, arguments: .object(arguments))
            let error = reply.first { $0.0 == "isError" }?.1.boolValue == true
            return (error ? "ERROR " : "") + (reply.first { $0.0 == "structuredContent" }?.1["error"]?.stringValue ?? "")
        }
        for (name, guess) in [("A", "Diary"), ("B", "Nodiary")] {
            _ = answer("write_note", [("path", .string("Memory/Probe\(name).md")), ("text", .string("see [[\(guess)]] tapirs\n")), ("create", .bool(true))])
        }
        for tool in ["context", "route"] {
            let a = answer(tool, [("path", .string("Memory/ProbeA.md"))])
            let b = answer(tool, [("path", .string("Memory/ProbeB.md"))])
            #expect(a.hasPrefix("ERROR ") && a.replacingOccurrences(of: "ProbeA", with: "ProbeX") == b.replacingOccurrences(of: "ProbeB", with: "ProbeX"), "\(tool): \(a) | \(b)")
        }
        // Named without a link (round 132 F4): the refusal does not say the note links one.
        _ = answer("write_note", [("path", .string("Memory/ProbeD.md")), ("text", .string("See Diary.md for details.\n")), ("create", .bool(true))])
        let bare = answer("context", [("path", .string("Memory/ProbeD.md"))])
        #expect(bare.hasPrefix("ERROR ") && bare.contains("links or names a note"), "\(bare)")
        // A note linking only what the caller may see is answered as before.
        _ = answer("write_note", [("path", .string("Memory/ProbeC.md")), ("text", .string("see [[Tapir]] tapirs\n")), ("create", .bool(true))])
        #expect(!answer("context", [("path", .string("Memory/ProbeC.md"))]).hasPrefix("ERROR"))

        // Inside a cloud run, its own task: a link to either is refused alike, and nothing is written.
        v.write("Tasks/Own.md", "---\ntype: task\nagent: claude\nstatus: running\n---\nTidy the notes, see [[Idea]].\n")
        let run = try PrivacyTaintTests.run(of: "Tasks/Own.md", lane: "premium", in: v.vault)
        var refusals: [String] = []
        for guess in ["Diary", "Nodiary"] {
            let before = try String(contentsOfFile: v.root + "/Tasks/Own.md", encoding: .utf8)
            let hash = ContentHash(of: Array(before.utf8)).hex
            let file = v.root + "/edit.md"
            try (before.replacingOccurrences(of: "[[Idea]].", with: "[[Idea]] and [[\(guess)]].")).write(toFile: file, atomically: true, encoding: .utf8)
            let (code, out) = FifthAttackTests.cli(["note", "write", "Tasks/Own.md", "--expect", hash, "--from", file], v, runID: run)
            #expect(code == 1, "\(guess): \(out)")
            refusals.append(out.replacingOccurrences(of: guess, with: "X"))
            #expect(try String(contentsOfFile: v.root + "/Tasks/Own.md", encoding: .utf8) == before)
        }
        #expect(refusals.count == 2 && refusals[0] == refusals[1] && refusals[0].contains("does not exist or is private"), "\(refusals)")
        // A change that adds no such link still lands (the task's own [[Idea]] names no note either).
        #expect(FifthAttackTests.cli(["note", "set", "Tasks/Own.md", "model=sonnet"] + expectingCurrent(v.root, "Tasks/Own.md"), v, runID: run).code == 0)
    }

    /// Attack: tasks whose packets took minutes held the routing threads, and the watcher ignored
    /// SIGTERM for minutes (it waited for routing to end). A stop waits for routing no longer than
    /// for running agents; a task still being routed is left claimed (it goes back to `new` at the
    /// next start), and its agent never starts.
    @Test func aStopDoesNotWaitForeverOnATaskBeingRouted() throws {
        let env = try EngineTestVault()
        let gate = DispatchSemaphore(value: 0)
        let routing = StuckRouting(inner: try VaultRouting(vault: env.vault), gate: gate)
        let events = Locked<[String]>([])
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: routing,
                                executor: VaultAgents(vault: env.vault, extraEnvironment: ["FBT_FIXTURE_LOG": env.fixtureLog]), store: NoteStore(vault: env.vault)) { event in
            events.withLock { $0.append(event.message) }
        }
        let path = try env.writeTask("Slow", properties: "type: task\nagent: claude", body: "Explain the plan.")
        guard case .started = engine.consider(path: path) else {
            Issue.record("the task did not start")
            return
        }
        routing.entered.wait()
        let stopped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            engine.shutdown(grace: 0.2)
            stopped.signal()
        }
        // A bound on liveness, not on speed: before, the stop never returned while routing hung.
        let returned = stopped.wait(timeout: .now() + 60) == .success
        #expect(returned, "the stop waited on routing")
        #expect(events.withLock { $0 }.contains { $0.contains("stopping without waiting for 1 task(s) still being routed") }, "\(events.withLock { $0 })")
        gate.signal()
        if !returned { _ = stopped.wait(timeout: .now() + 60) }
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().isEmpty, "an agent started after the stop")
        #expect(try env.note(path).text("status") != "done")
    }
}

/// Routing that holds every `plan` until `gate` is signalled (a packet that takes minutes).
private final class StuckRouting: TaskRouting, @unchecked Sendable {
    let inner: VaultRouting
    let gate: DispatchSemaphore
    let entered = DispatchSemaphore(value: 0)

    init(inner: VaultRouting, gate: DispatchSemaphore) {
        self.inner = inner
        self.gate = gate
    }

    func plan(_ task: TaskNote, runID: String) -> RoutePlan {
        entered.signal()
        gate.wait()
        return inner.plan(task, runID: runID)
    }

    func settle(_ plan: RoutePlan, cost: Double?) { inner.settle(plan, cost: cost) }
    func concurrency(lane: String) -> Int { inner.concurrency(lane: lane) }
    func concurrency(agent: String) -> Int? { inner.concurrency(agent: agent) }
    func retries(agent: String) -> Int? { inner.retries(agent: agent) }
    func releaseAbandonedReservations(activeRunIDs: Set<String>) { inner.releaseAbandonedReservations(activeRunIDs: activeRunIDs) }
    func waitForBudgetChange(timeout: Double) { inner.waitForBudgetChange(timeout: timeout) }
}

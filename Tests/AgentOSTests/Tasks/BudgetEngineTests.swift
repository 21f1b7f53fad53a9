import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// An executor that holds the run of one task until the test lets it go, and records the order in
/// which agents started. Every run reports `cost` dollars.
final class GatedExecutor: AgentExecuting, @unchecked Sendable {
    let heldTask: String
    let cost: Double
    let gate = DispatchSemaphore(value: 0)
    let heldStarted = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var order: [String] = []

    init(holding task: String, cost: Double) {
        heldTask = task
        self.cost = cost
    }

    var started: [String] { lock.withLock { order } }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        let task = runEnvironment["FBT_TASK"] ?? ""
        lock.withLock { order.append(task) }
        if task == heldTask {
            heldStarted.signal()
            gate.wait()
        }
        return AgentExecution(succeeded: true, answer: "done", error: nil, costUSD: cost, exitCode: 0)
    }
}

/// An executor that records the budget each run was told (`FBT_BUDGET_USD`, what `budget_args`
/// passes on) and, like Claude Code, spends no more than it: `cost`, or the budget when lower.
final class BudgetTellingExecutor: AgentExecuting, @unchecked Sendable {
    let cost: Double
    private let lock = NSLock()
    private var told: [String] = []

    init(cost: Double) { self.cost = cost }

    var budgets: [String] { lock.withLock { told } }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        let budget = runEnvironment[AgentDefinition.budgetVariable]
        lock.withLock { told.append(budget ?? "none") }
        return AgentExecution(succeeded: true, answer: "done", error: nil, costUSD: min(cost, budget.flatMap(Double.init) ?? cost), exitCode: 0)
    }
}

@Suite(.serialized) struct BudgetEngineTests {
    /// Sets a guardrails key and the claude agent's `max_cost_usd` in an engine test vault.
    func setCaps(_ env: EngineTestVault, _ guardrails: [Property], claudeMaxCost: Double? = nil) throws {
        try env.store.updateProperties("Rules/Guardrails.md", set: guardrails)
        if let claudeMaxCost { try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("max_cost_usd", .double(claudeMaxCost))]) }
    }

    /// $0.50 reported against a $0.03 reservation and a $0.10 day cap: the ledger records $0.50, the
    /// task records the overrun, `status` says which cap is over, and the next paid task never runs.
    @Test func anOverrunIsSettledAtTheTruthRecordedAndStopsTheNextPaidRun() throws {
        let env = try EngineTestVault()
        try setCaps(env, [Property("budget_day_usd", .double(0.10))], claudeMaxCost: 0.03)
        let engine = try env.engine()
        let first = try env.writeTask("Costly", properties: "type: task\nagent: claude", body: "Review the parser. FIXTURE_COST=0.50")
        _ = engine.consider(path: first, wait: true)
        engine.waitUntilIdle()

        // Claude Code was given the run's own cap.
        let argvs = env.fixtureArgvs
        #expect(argvs.count == 1)
        let argv = try #require(argvs.first)
        let flag = try #require(argv.firstIndex(of: "--max-budget-usd"))
        #expect(argv[flag + 1] == "0.03")

        let ledger = try BudgetLedger(vault: env.vault)
        let caps = RuleBook.load(vault: env.vault).guardrails.caps
        #expect(try ledger.spend(caps: caps).daySpentUSD == 0.50)
        let task = try env.note(first)
        #expect(task.text("status") == "done")
        #expect(abs((task["budget_overrun_usd"]?.number ?? 0) - 0.47) < 1e-9)
        #expect(task.text("budget_overrun")?.contains("$0.50") == true)
        #expect(env.loggedEvents.contains { $0.message.contains("budget overrun") })

        // The next paid task does not run: the cap is used up until a person raises it.
        let second = try env.writeTask("Next", properties: "type: task\nagent: claude", body: "Review the lexer.")
        _ = engine.consider(path: second, wait: true)
        engine.waitUntilIdle()
        #expect(env.fixtureArgvs.count == 1)
        #expect(try env.note(second).text("status") != "done")
        #expect(try ledger.spend(caps: caps).daySpentUSD == 0.50)
        #expect(try ledger.openReservations().isEmpty)

        // `status` names the cap, how far over it is, and the key to raise.
        let (console, captured) = Console.capturing()
        #expect(CLI.run(["status", "--vault", env.vault.root], console: console, environment: [:], executablePath: "fuckbigtech") == 0)
        #expect(captured.stdout.contains("daily cap: over cap by $0.40"))
        #expect(captured.stdout.contains("raise budget_day_usd in Rules/Guardrails.md"))
    }

    /// A claude run stopped by `--max-budget-usd` a little above its cap is settled at what it cost.
    @Test func aRunStoppedAtItsBudgetIsChargedItsRealCost() throws {
        let env = try EngineTestVault()
        try setCaps(env, [], claudeMaxCost: 0.04)
        let engine = try env.engine()
        let path = try env.writeTask("Long", properties: "type: task\nagent: claude", body: "Rewrite everything. FIXTURE_MODE=over-budget FIXTURE_COST=0.045")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let task = try env.note(path)
        #expect(task.text("status") == "failed")
        #expect(task.text("error")?.contains("--max-budget-usd") == true)
        #expect(try BudgetLedger(vault: env.vault).committed(task: path) == 0.045)
    }

    /// What a SIGKILL leaves behind: open reservations of runs whose agent had started (charged),
    /// whose result note was written (its cost), and that never started (released).
    @Test func recoveryChargesCutOffRunsAndSettlesFinishedOnesFromTheirResult() throws {
        let env = try EngineTestVault()
        let runs = try RunStore(vault: env.vault)
        let ledger = try BudgetLedger(vault: env.vault)
        let caps = BudgetCaps(dayUSD: 10)
        let started = try env.writeTask("Started", properties: "type: task\nagent: claude\nstatus: running", body: "Was running.")
        let finished = try env.writeTask("Finished", properties: "type: task\nagent: claude\nstatus: running", body: "Had finished.")
        let never = try env.writeTask("Never", properties: "type: task\nagent: claude\nstatus: routed", body: "Never started.")
        var ids: [String: String] = [:]
        for path in [started, finished, never] {
            let record = try #require(try runs.claim(taskPath: path, taskHash: nil, attempt: 1))
            ids[path] = record.runID
            #expect(try ledger.reserve(runID: record.runID, lane: .premium, amount: 0.03, caps: caps, task: path) != nil)
            // The process that ran it is gone.
            try runs.withDatabase { try $0.run("UPDATE runs SET owner_pid=? WHERE run_id=?", [.int(Int64(Int32.max)), .text(record.runID)]) }
        }
        for path in [started, finished] {
            let id = try #require(ids[path])
            try runs.withDatabase { try $0.run("UPDATE runs SET state='running', started_at=? WHERE run_id=?", [.double(Date().timeIntervalSince1970), .text(id)]) }
            try runs.recordAgentProcess(runID: id, pid: Int32.max - 1, startTime: 1)
        }
        let finishedID = try #require(ids[finished])
        let resultPath = Vault.Layout.results + "/" + TaskEngine.resultPath(forTitle: "Finished", runID: finishedID)
        try env.store.write("---\ntype: result\nrun_id: \(finishedID)\nstatus: done\ncost_usd: 0.02\nduration_s: 1\n---\n# Finished\n\nThe answer.\n", to: resultPath, expecting: .absent)

        try env.engine().recover()

        #expect(try ledger.openReservations().isEmpty)
        #expect(try ledger.committed(task: started) == 0.03)
        #expect(try ledger.committed(task: finished) == 0.02)
        #expect(try ledger.committed(task: never) == 0)
        #expect(try ledger.spend(caps: caps).daySpentUSD == 0.05)
    }

    /// The sweep for abandoned reservations never touches one whose run is in flight in a live
    /// process, even when that run reserved after the list of active runs was taken.
    @Test func theAbandonedSweepLeavesRunsInFlightAlone() throws {
        let env = try EngineTestVault()
        let runs = try RunStore(vault: env.vault)
        let routing = try VaultRouting(vault: env.vault)
        let live = try #require(try runs.claim(taskPath: "Tasks/Live.md", taskHash: nil, attempt: 1))
        let dead = try #require(try runs.claim(taskPath: "Tasks/Dead.md", taskHash: nil, attempt: 1))
        try runs.withDatabase { try $0.run("UPDATE runs SET owner_pid=?, state='running', started_at=1 WHERE run_id=?", [.int(Int64(Int32.max)), .text(dead.runID)]) }
        let ledger = try BudgetLedger(vault: env.vault)
        for id in [live.runID, dead.runID] {
            #expect(try ledger.reserve(runID: id, lane: .premium, amount: 0.03, caps: BudgetCaps(dayUSD: 1), task: id) != nil)
        }
        routing.releaseAbandonedReservations(activeRunIDs: [])
        #expect(try ledger.openReservations().map(\.runID) == [live.runID])
        #expect(try ledger.committed(task: dead.runID) == 0.03)
    }

    /// Task `Tasks/Dead.md` (`agent`, `properties`, `body`) whose run, on the premium lane, is left
    /// `running` by a process that is gone, with $1 reserved.
    static func deadRun(_ env: EngineTestVault, agent: String, properties: String, body: String) throws -> (RunStore, VaultRouting, BudgetLedger, RunRecord) {
        let runs = try RunStore(vault: env.vault)
        let dead = try #require(try runs.claim(taskPath: "Tasks/Dead.md", taskHash: nil, attempt: 1))
        try env.store.write("---\ntype: task\nagent: \(agent)\nstatus: running\nrun_id: \(dead.runID)\n\(properties)---\n\(body)\n", to: "Tasks/Dead.md", expecting: .absent)
        try runs.withDatabase { try $0.run("UPDATE runs SET owner_pid=?, state='running', started_at=1, agent=?, lane='premium' WHERE run_id=?", [.int(Int64(Int32.max)), .text(agent), .text(dead.runID)]) }
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(try ledger.reserve(runID: dead.runID, lane: .premium, amount: 1, caps: BudgetCaps(dayUSD: 5), task: "Tasks/Dead.md") != nil)
        return (runs, try VaultRouting(vault: env.vault), ledger, dead)
    }

    /// Round 159 F2: while a task waited for room, the sweep charged a killed `run`'s $1
    /// reservation without reading what its agent had printed ($3, OpenCode, cut off mid-run);
    /// recovery then found the row closed, logged "the ledger counts $3.00" and left $1, and paid
    /// runs started past the day's cap. The sweep reads the copy: the run counts $3 from then on.
    /// Round 159 F4: a run whose row was closed before recovery (the watcher's stop settled it)
    /// showed no cost on the run, its task and telemetry; it shows what the ledger counts.
    /// `closedBefore`: the row was charged $1 before the copy was read (an older sweep): recovery
    /// raises it to the $3 floor.
    @Test(arguments: [false, true]) func aDeadRunsReportedSpendIsCountedByTheSweepAndShownByItsRun(_ closedBefore: Bool) throws {
        let env = try EngineTestVault()
        let (runs, routing, ledger, dead) = try Self.deadRun(env, agent: "opencode", properties: "", body: "Look at the page.")
        if closedBefore { _ = try ledger.close(runID: dead.runID, actualUSD: nil, agentStarted: true) }
        let folder = env.vault.root + "/.agentos/output"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let step = #"{"type":"step_finish","sessionID":"ses_1","part":{"type":"step-finish","reason":"tool-calls","cost":1}}"#
        try Data(((0..<3).map { _ in step }.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/\(dead.runID).opencode-jsonl"))
        routing.releaseAbandonedReservations(activeRunIDs: [])
        #expect(try ledger.openReservations().isEmpty)
        #expect(try ledger.settledUSD(runID: dead.runID) == (closedBefore ? 1 : 3))
        // A paid run that would pass the $3.50 day cap with the $3 counted does not get its room.
        if !closedBefore { #expect(try ledger.reserve(runID: "next", lane: .premium, amount: 1, caps: BudgetCaps(dayUSD: 3.5), task: "Tasks/Next.md") == nil) }
        let events = EventLog()
        let engine = TaskEngine(vault: env.vault, runs: runs, routing: routing, executor: GatedExecutor(holding: "", cost: 0)) { events.add($0) }
        engine.recover()
        engine.waitUntilIdle()
        #expect(try ledger.settledUSD(runID: dead.runID) == 3, "\(events.all)")
        #expect(try runs.run(id: dead.runID)?.costUSD == 3)
        #expect(events.contains("had reported spending $3.00 before it was cut off; the ledger counts $3.00"), "\(events.all)")
        let telemetry = (try? String(contentsOfFile: env.vault.root + "/.agentos/telemetry.jsonl", encoding: .utf8)) ?? ""
        #expect(telemetry.contains(dead.runID) && telemetry.contains("\"cost_usd\":3"), "\(telemetry)")
    }

    /// Round 159 F4, as SIGHUP on `watch` left it: the stop charged a run its $1 reservation (its
    /// agent had reported nothing), then recovery showed no cost on the run, its task or telemetry.
    @Test func aRunChargedAsTheWatcherStoppedShowsTheChargeAfterRecovery() throws {
        let env = try EngineTestVault()
        let (runs, routing, ledger, dead) = try Self.deadRun(env, agent: "claude", properties: "effects: [write]\n", body: "Fix the page.")
        _ = try ledger.close(runID: dead.runID, actualUSD: nil, agentStarted: true)
        let events = EventLog()
        let engine = TaskEngine(vault: env.vault, runs: runs, routing: routing, executor: GatedExecutor(holding: "", cost: 0)) { events.add($0) }
        engine.recover()
        engine.waitUntilIdle()
        #expect(try ledger.settledUSD(runID: dead.runID) == 1)
        #expect(try runs.run(id: dead.runID)?.costUSD == 1, "\(events.all)")
        let task = try env.note("Tasks/Dead.md")
        let taskText = try env.text("Tasks/Dead.md")
        #expect(task.text("status") == "failed" && task["cost_usd"]?.number == 1 && task.text("cost_source") == "reserved", "\(taskText)")
        let telemetry = (try? String(contentsOfFile: env.vault.root + "/.agentos/telemetry.jsonl", encoding: .utf8)) ?? ""
        #expect(telemetry.contains(dead.runID) && telemetry.contains("\"cost_usd\":1"), "\(telemetry)")
    }

    /// Room held only by a run in flight: the second task waits in the queue and runs once the first
    /// settles, instead of going to review.
    @Test func aTaskWaitsForRunsInFlightInsteadOfGoingToReview() throws {
        let env = try EngineTestVault()
        try env.store.write("---\ntype: agent\nname: paid\nlane: premium\ncommand: [paid, \"{prompt}\"]\noutput: text\nmax_cost_usd: 0.03\n---\n", to: "Rules/Agents/paid.md", expecting: .absent)
        try setCaps(env, [Property("budget_day_usd", .double(0.05))])
        let first = try env.writeTask("First", properties: "type: task\nagent: paid", body: "One.")
        let second = try env.writeTask("Second", properties: "type: task\nagent: paid", body: "Two.")
        let executor = GatedExecutor(holding: first, cost: 0.01)
        let events = EventLog()
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: executor) { events.add($0) }

        guard case .started = engine.consider(path: first) else { Issue.record("the first task did not start"); return }
        // Hang guard only: the first run is inside its agent, holding $0.03 of the $0.05 day cap.
        guard executor.heldStarted.wait(timeout: .now() + 300) == .success else { Issue.record("the first run never started"); return }
        guard case .started = engine.consider(path: second) else { Issue.record("the second task did not start"); return }
        // Until the second one either waits (right) or is decided without waiting (wrong).
        while !events.contains("\(second): waiting in the queue"), !["review", "blocked", "done", "failed"].contains((try? env.note(second).text("status")) ?? "") {
            usleep(10_000)
        }
        #expect(try env.note(second).text("status") == "routed")
        #expect(executor.started == [first])
        executor.gate.signal()
        engine.waitUntilIdle()

        #expect(try env.note(first).text("status") == "done")
        #expect(try env.note(second).text("status") == "done")
        #expect(executor.started == [first, second])
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(try ledger.spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD == 0.02)
        #expect(try ledger.openReservations().isEmpty)
    }

    /// When settled spend itself leaves no room, the task is not held: it goes to review (no fallback).
    @Test func settledSpendWithoutRoomSendsTheTaskToReview() throws {
        let env = try EngineTestVault()
        try env.store.write("---\ntype: agent\nname: paid\nlane: premium\ncommand: [paid, \"{prompt}\"]\noutput: text\nmax_cost_usd: 0.03\n---\n", to: "Rules/Agents/paid.md", expecting: .absent)
        try setCaps(env, [Property("budget_day_usd", .double(0.05))])
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(try ledger.reserve(runID: "earlier", lane: .premium, amount: 0.04, caps: BudgetCaps(dayUSD: 1)) != nil)
        _ = try ledger.close(runID: "earlier", actualUSD: 0.04, agentStarted: true)
        let executor = GatedExecutor(holding: "", cost: 0.01)
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: executor) { _ in }
        let path = try env.writeTask("Over", properties: "type: task\nagent: paid", body: "Three.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "review")
        #expect(executor.started.isEmpty)
    }

    /// Attack: a cloud agent handed its task to itself from inside every run (`handoff --task`, or
    /// the MCP tool): 203 paid runs and $2.03 against `budget_task_usd: 0.03`, each handoff a fresh
    /// "task". A handoff's runs now count against its original task's cap (each reserving at most
    /// what the task has left, which an agent with `budget_args` is told), and past `max_handoffs`
    /// a handoff is written blocked.
    @Test func handoffsOfOneTaskSpendFromItsOneCapAndCannotLoopForEver() throws {
        let env = try EngineTestVault()
        // Told its reservation (`budget_args`), it may reserve what the task has left.
        try env.store.write("---\ntype: agent\nname: paid\nlane: premium\ncommand: [paid, \"{prompt}\"]\noutput: text\nmax_cost_usd: 0.02\nbudget_args: [--max-budget-usd, \"{budget}\"]\n---\n", to: "Rules/Agents/paid.md", expecting: .absent)
        try setCaps(env, [Property("budget_task_usd", .double(0.05)), Property("budget_day_usd", .double(5)), Property("budget_premium_day_usd", .double(5)), Property("max_handoffs", .int(3))])
        let executor = BudgetTellingExecutor(cost: 0.02)
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: executor) { _ in }
        let task = try env.writeTask("Loop", properties: "type: task\nagent: paid", body: "Keep going.")
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(task).text("status") == "done")
        var handoffs: [String] = []
        for i in 1...4 {
            // The agent hands the task to itself; a handoff of the handoff names the original task.
            let named = handoffs.last ?? task
            let submission = try HandoffRequest(from: "paid", to: "paid", task: named, message: "keep going \(i)").submit(vault: env.vault)
            handoffs.append(submission.path)
            #expect(try env.note(submission.path).text("task") == "[[Tasks/Loop]]", "handoff \(i)")
            _ = engine.consider(path: submission.path, wait: true)
            engine.waitUntilIdle()
        }
        // $0.02, $0.02, then the $0.01 the task had left; then nothing is left.
        #expect(executor.budgets == ["0.02", "0.02", "0.01"], "\(executor.budgets)")
        #expect(try env.note(handoffs[1]).text("status") == "done")
        let refused = try env.note(handoffs[2])
        #expect(refused.text("status") == "review", "\(refused.properties)")
        let ledger = try BudgetLedger(vault: env.vault)
        #expect(abs(try ledger.committed(task: task) - 0.05) < 1e-9)
        // The fourth handoff of the task is past max_handoffs (3): blocked, naming the setting.
        #expect(try env.note(handoffs[3]).text("status") == "blocked")
        #expect(try env.note(handoffs[3]).text("error")?.contains("max_handoffs") == true)
        // The watcher's own routing holds the line too (it may claim a new note before `handoff`
        // marks it blocked, and a note can be written without the command): a fifth, written
        // straight, is blocked when routed, and no agent starts. Free agents loop no further.
        try setCaps(env, [Property("budget_task_usd", .double(100)), Property("budget_day_usd", .double(100)), Property("budget_premium_day_usd", .double(100))])
        let fifth = try Handoffs.create(vault: env.vault, from: "paid", to: "paid", taskPath: task, message: "keep going 5", context: [])
        let engine2 = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: executor) { _ in }
        _ = engine2.consider(path: fifth, wait: true)
        engine2.waitUntilIdle()
        let routed = try env.note(fifth)
        #expect(routed.text("status") == "blocked", "\(routed.properties)")
        #expect(executor.budgets.count == 3)
    }

    /// Attack: an agent ran `task new` from every run (and wrote handoff notes by hand), each a fresh
    /// task with a fresh cap: two chains spent $0.16 each against a $0.03 cap. A task made from a
    /// run spends from the cap of the task that run was for, a chain of them stops at max_handoffs,
    /// and a run cannot write a task or handoff note by hand.
    @Test func tasksAgentsSpawnSpendFromTheSpawningTasksCap() throws {
        let env = try EngineTestVault()
        // Told its reservation (`budget_args`), it may reserve what the task has left.
        try env.store.write("---\ntype: agent\nname: paid\nlane: premium\ncommand: [paid, \"{prompt}\"]\noutput: text\nmax_cost_usd: 0.02\nbudget_args: [--max-budget-usd, \"{budget}\"]\n---\n", to: "Rules/Agents/paid.md", expecting: .absent)
        try setCaps(env, [Property("budget_task_usd", .double(0.05)), Property("budget_day_usd", .double(5)), Property("budget_premium_day_usd", .double(5)), Property("max_handoffs", .int(3))])
        let executor = BudgetTellingExecutor(cost: 0.02)
        let runs = try RunStore(vault: env.vault)
        let engine = TaskEngine(vault: env.vault, runs: runs, routing: try VaultRouting(vault: env.vault), executor: executor) { _ in }
        var path = try env.writeTask("Root", properties: "type: task\nagent: paid", body: "Start.")
        var spawned: [String] = []
        for i in 1...4 {
            _ = engine.consider(path: path, wait: true)
            engine.waitUntilIdle()
            // The agent of that run makes the next task.
            let runID = try #require(try runs.latestRun(taskPath: path)?.runID, "no run of \(path)")
            var next = NewTask(prompt: "Keep going \(i).")
            next.agent = "paid"
            next.title = "Spawned \(i)"
            next.madeInRun = runID
            path = try next.write(vault: env.vault, environment: [RunWriteGuard.environmentKey: runID])
            spawned.append(path)
        }
        // Root $0.02, Spawned 1 $0.02, Spawned 2 the $0.01 left, Spawned 3 nothing.
        #expect(executor.budgets == ["0.02", "0.02", "0.01"], "\(executor.budgets)")
        #expect(abs(try BudgetLedger(vault: env.vault).committed(task: "Tasks/Root.md") - 0.05) < 1e-9)
        let third = try env.note(spawned[2])
        #expect(third.text("status") == "review", "\(third.properties)")
        // Four deep is past max_handoffs (3), whatever the budget says.
        try setCaps(env, [Property("budget_task_usd", .double(100))])
        _ = engine.consider(path: spawned[3], wait: true)
        engine.waitUntilIdle()
        let fourth = try env.note(spawned[3])
        #expect(fourth.text("status") == "blocked" && fourth.text("error")?.contains("max_handoffs") == true, "\(fourth.properties)")
        // A run cannot make work by writing the note itself.
        let runID = try #require(try runs.latestRun(taskPath: "Tasks/Root.md")?.runID)
        for (target, text) in [("Tasks/Forged.md", "Do more.\n"), ("Memory/Forged.md", "---\ntype: task\n---\nDo more.\n"), ("Handoffs/Forged.md", "---\nto: paid\ntask: \"[[Memory/fresh]]\"\n---\nMore.\n")] {
            #expect(throws: RunWriteGuard.Refusal.self, "\(target)") {
                _ = try StaleMemoryGuard.write(.text(text), to: target, expecting: .absent, store: env.store, runID: runID)
            }
        }
    }

    /// A handoff made inside a run without naming a task continues the run's task.
    @Test func aHandoffMadeInARunContinuesItsTask() throws {
        let env = try EngineTestVault()
        let task = try env.writeTask("Parent", properties: "type: task", body: "Work.")
        let runs = try RunStore(vault: env.vault)
        var record = try #require(try runs.claim(taskPath: task, taskHash: nil, attempt: 1))
        record.lane = "local"
        try runs.update(record)
        let submission = try HandoffRequest(from: "ollama", to: "ollama", message: "over to you", madeInRun: record.runID).submit(vault: env.vault)
        #expect(try env.note(submission.path).text("task") == "[[Tasks/Parent]]")
        #expect(try env.note(task).texts("handoffs") == ["[[\(String(submission.path.dropLast(3)))]]"])
    }

    /// `budget_day_usd: 0,10`: doctor fails naming the key, `route` shows the error, a paid task is
    /// blocked with it — never the built-in cap.
    @Test func aCapThatDoesNotParseIsAnErrorInDoctorRouteAndTheTask() throws {
        let env = try EngineTestVault()
        let guardrailsPath = env.vault.root + "/Rules/Guardrails.md"
        let text = try String(contentsOfFile: guardrailsPath, encoding: .utf8)
        try text.replacingOccurrences(of: "budget_day_usd: 5.0", with: "budget_day_usd: 0,10").replacingFile(guardrailsPath)

        let report = Doctor.run(DoctorTests.isolatedContext(env.vault.root))
        let finding = try #require(report.findings.first { $0.finding.contains("budget_day_usd") })
        #expect(finding.status == .fail)
        #expect(finding.finding.hasPrefix("Rules/Guardrails.md: budget_day_usd must be a number of dollars"))

        let path = try env.writeTask("Fix", properties: "type: task\nagent: claude", body: "Fix the bug in the parser.")
        let (console, captured) = Console.capturing()
        #expect(CLI.run(["route", path, "--vault", env.vault.root], console: console, environment: [:], executablePath: "fuckbigtech") == 0)
        #expect(captured.stdout.contains("action:   blocked"))
        #expect(captured.stdout.contains("budget_day_usd must be a number of dollars"))

        let engine = try env.engine()
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let task = try env.note(path)
        #expect(task.text("status") == "blocked")
        #expect(task.text("error")?.contains("budget_day_usd") == true)
        #expect(env.fixtureArgvs.isEmpty)
        // Free work still runs.
        let free = try env.writeTask("Echo", properties: "type: task\nagent: echo", body: "Hello.")
        _ = engine.consider(path: free, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(free).text("status") == "done")
    }
}

/// Engine events collected for a test.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ event: EngineEvent) { lock.withLock { messages.append(event.message) } }
    func contains(_ text: String) -> Bool { lock.withLock { messages.contains { $0.contains(text) } } }
    var all: [String] { lock.withLock { messages } }
}

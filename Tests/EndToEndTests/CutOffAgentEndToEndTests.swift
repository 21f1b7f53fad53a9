import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A free agent (no prices, no `max_cost_usd`, the tool lane: nothing reserved) whose CLI reports
/// what it spent, printed its whole answer and lingers (on hooks, MCP servers) when the real
/// watcher is cut off: `kill -9`, or a second Ctrl-C. Round 154: the $4 it reported was only in the
/// dead process's memory, the next start re-queued the task and it ran and paid again; after the
/// second Ctrl-C the agent went on running with nobody reading it.
@Suite(.serialized) struct CutOffAgentEndToEndTests {
    static let agent = """
        ---
        type: agent
        name: tooly
        lane: tool
        command: ["\(RepositoryPaths.fixtureAgents)/claude", -p, --output-format, json, --, "{prompt}"]
        env: [FBT_FIXTURE_LOG]
        output: claude-json
        timeout: 120
        ---
        A tool-lane agent whose CLI reports its own cost.

        """

    /// Starts the watcher on a vault with the free agent, drops a task that makes it print its
    /// answer and $4, and waits until that answer is in the run's output copy.
    static func lingering(_ mark: String, mode: String = "linger") throws -> (env: WatchedVault, runID: String) {
        let env = try WatchedVault()
        try env.write("Rules/Agents/tooly.md", agent)
        try env.start()
        try env.writeViaRename("Tasks/X.md", task(mark, mode: mode))
        return (env, try printed(env))
    }

    static func task(_ mark: String, mode: String) -> String {
        "---\ntype: task\nagent: tooly\n---\nCheck the menu layout \(mark). FIXTURE_MODE=\(mode) FIXTURE_COST=4\n"
    }

    /// The run id of the run whose output copy holds the agent's answer and $4, once it does.
    static func printed(_ env: WatchedVault) throws -> String {
        let output = env.root + "/.agentos/output"
        var runID = ""
        let printed = eventually(within: 30) {
            guard let name = ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).first(where: { $0.hasSuffix(".claude-json") }),
                  let text = try? String(contentsOfFile: output + "/" + name, encoding: .utf8), text.contains("\"total_cost_usd\":4") else { return false }
            runID = String(name.dropLast(".claude-json".count))
            return true
        }
        try #require(printed, "the agent's output was never copied:\n\(env.log)")
        return runID
    }

    /// The pids of live processes whose command line holds `mark`.
    static func processes(holding mark: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains(mark)
        }
    }

    /// What the ledger counts today, as `status` shows it.
    static func spentToday(_ env: WatchedVault) throws -> Double {
        try BudgetLedger(vault: env.vault).spend(caps: RuleBook.load(vault: env.vault).guardrails.caps).daySpentUSD
    }

    /// After the cut, a new start counts the $4, writes the answer the agent had printed (round
    /// 158 F4: the task failed with "the answer was lost") and does not buy it again.
    static func restartCounts(_ env: WatchedVault, runID: String, mark: String) throws {
        try env.start()
        #expect(eventually(within: 30) { env.log.contains("the agent of run \(runID) had reported spending $4.00 before it was cut off; the ledger counts $4.00") }, "\(env.allLogs)")
        #expect(eventually(within: 10) { env.status("Tasks/X.md") == "done" }, "\(env.text("Tasks/X.md") ?? "")\n\(env.allLogs)")
        let task = env.note("Tasks/X.md")
        #expect(task?.text("error") == nil && task?["cost_usd"]?.number == 4, "\(env.text("Tasks/X.md") ?? "")")
        let result = try #require(task?.text("result").map { String($0.dropFirst(2).dropLast(2)) + ".md" }, "\(env.text("Tasks/X.md") ?? "")")
        let answer = env.text(result) ?? ""
        #expect(answer.contains("claude fixture answer: Check the menu layout \(mark)") && answer.contains("run_id: \(runID)") && answer.contains("status: done"), "\(answer)")
        #expect(eventually(within: 10) { (try? spentToday(env)) == 4 }, "\(env.allLogs)")
        _ = eventually(within: 2) { false }
        #expect(env.fixtureRuns().filter { ($0["prompt"]?.stringValue ?? "").contains(mark) }.count == 1, "ran again:\n\(env.allLogs)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: env.root + "/.agentos/output")) ?? []).isEmpty)
        _ = try env.stop(SIGTERM)
        // A second start counts nothing more.
        try env.start()
        _ = eventually(within: 2) { false }
        #expect(try spentToday(env) == 4)
        _ = try env.stop(SIGTERM)
    }

    /// Round 157: Ctrl-C on a foreground `fuckbigtech run` exited at once and left its agent (in
    /// a process group of its own, which the terminal's signal does not reach) running unwatched.
    /// It is stopped with the run, and the next start counts what it reported.
    /// Also when its terminal closes (SIGHUP: round 158, it exited 129 and left the agent running).
    @Test(arguments: [SIGINT, SIGHUP]) func aCtrlCOnAForegroundRunStopsItsAgent(_ signal: Int32) throws {
        let env = try WatchedVault()
        try env.write("Rules/Agents/tooly.md", Self.agent)
        try env.write("Tasks/X.md", Self.task("FORE-MARK", mode: "linger"))
        let run = try ChildProcess(try BuiltBinary.path(), ["run", "--vault", env.root, "Tasks/X.md"], environment: [
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": env.sandbox.home, "FBT_FIXTURE_LOG": env.fixtureLog, "NO_COLOR": "1", "TERM": "dumb",
        ], directory: env.sandbox.root)
        let runID = try Self.printed(env)
        #expect(!Self.processes(holding: "FORE-MARK").isEmpty)
        run.signal(signal)
        guard run.wait(seconds: 10) else {
            Issue.record("the run did not exit: \(run.stderr)")
            run.signal(SIGKILL)
            _ = run.wait(seconds: 10)
            return
        }
        #expect(run.terminationStatus == 130, "\(run.stderr)")
        #expect(eventually(within: 10) { Self.processes(holding: "FORE-MARK").isEmpty }, "still running: \(Self.processes(holding: "FORE-MARK"))")
        try Self.restartCounts(env, runID: runID, mark: "FORE-MARK")
    }

    @Test func aKilledWatchersFreeAgentsReportedCostIsCountedAndItsTaskNotBoughtAgain() throws {
        let (env, runID) = try Self.lingering("KILL9-MARK")
        _ = try env.stop(SIGKILL)
        // The orphaned agent is stopped by the next start.
        try Self.restartCounts(env, runID: runID, mark: "KILL9-MARK")
    }

    /// Also an agent deaf to SIGTERM (round 155: it ran on with no watcher); and one that dies of
    /// it is not recorded as a crash of its own before the exit (round 156: `failed (crashed)`,
    /// "killed by SIGTERM", its printed answer thrown away, exit status 0).
    @Test(arguments: ["linger", "linger-stubborn"]) func aSecondCtrlCStopsTheAgentsItStartedAndTheirCostIsCounted(_ mode: String) throws {
        let (env, runID) = try Self.lingering("TWICE-MARK", mode: mode)
        #expect(!Self.processes(holding: "TWICE-MARK").isEmpty)
        kill(env.lastPID, SIGINT)
        _ = eventually(within: 0.3) { false }
        let status = try env.stop(SIGINT)
        #expect(status.status == 130, "\(env.errorLog)")
        // Stopped with the watcher, not left running for a minute with nobody reading it.
        #expect(eventually(within: 10) { Self.processes(holding: "TWICE-MARK").isEmpty }, "still running: \(Self.processes(holding: "TWICE-MARK"))")
        try Self.restartCounts(env, runID: runID, mark: "TWICE-MARK")
    }
}

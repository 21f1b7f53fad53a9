import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The work keeps moving: with the real binary and watcher, fixture agents that print exactly what
/// claude, codex and opencode print on a usage limit, a 429, an overload, a bad key and a context
/// overflow; the task moves to the next agent of its chain as a handoff, the agent cools down and
/// is skipped without being called, and comes back after its reset time.
@Suite(.serialized) struct FailoverEndToEndTests {
    /// Runs of `tool` the fixtures recorded.
    static func runs(_ env: WatchedVault, _ tool: String) -> [JSON] {
        env.fixtureRuns().filter { $0["tool"]?.stringValue == tool }
    }

    /// Waits until the task's status is one of `states`; fails with the logs otherwise.
    static func settle(_ env: WatchedVault, _ task: String, _ states: Set<String> = ["done"], within: Double = 40) throws {
        let ok = eventually(within: within, every: 0.05) { env.status(task).map(states.contains) ?? false }
        try #require(ok, "\(task) did not reach \(states.sorted()):\n\(env.text(task) ?? "missing")\n\(env.allLogs)")
    }

    /// The handoff notes of a task, from its `handoffs` list.
    static func handoffs(_ env: WatchedVault, _ task: String) -> [(path: String, note: Note)] {
        (env.note(task)?.texts("handoffs") ?? []).compactMap { env.linked($0) }
    }

    @Test func usageLimitFailsOverAsAHandoffAndTheCoolingAgentIsSkipped() throws {
        let env = try WatchedVault()
        try env.start()
        // A coding task: the shipped rule sends it to claude; claude says its limit is reached.
        let task = "Tasks/Fix the login.md"
        try env.writeInPlace(task, "---\ntype: task\n---\nFix the login bug in auth.swift. FIXTURE_MODE_CLAUDE=usage-limit FIXTURE_RESET_IN=3600\n")
        try Self.settle(env, task)
        let note = try #require(env.note(task))
        #expect(note.text("failure") == "usage_limit")
        #expect(note.texts("failovers") == ["claude: usage limit → codex"])
        #expect(note.text("failure_reset") != nil)
        // The handoff from claude to codex carries what claude printed and why it stopped.
        let handoffs = Self.handoffs(env, task)
        try #require(handoffs.count == 1, "handoffs: \(note.texts("handoffs"))")
        let handoff = handoffs[0]
        #expect(handoff.note.text("from") == "claude" && handoff.note.text("to") == "codex")
        #expect(handoff.note.text("failure") == "usage_limit")
        #expect(handoff.note.texts("failover_chain") == ["claude", "codex", "opencode"])
        #expect(handoff.note.text("status") == "done" && handoff.note.text("route_agent") == "codex")
        #expect(handoff.note.body.contains("claude stopped on [[Tasks/Fix the login]]: usage limit"))
        #expect(handoff.note.body.contains("Claude AI usage limit reached|"))
        // codex got the handoff and the task; the task's result is codex's.
        let codexPrompt = try #require(Self.runs(env, "codex").last?["prompt"]?.stringValue)
        #expect(codexPrompt.contains("Handoff — \(handoff.path)") && codexPrompt.contains("Fix the login bug in auth.swift."))
        let result = try #require(env.linked(note.text("result")))
        #expect(result.note.text("agent") == "codex" && result.note.text("status") == "done")
        // claude's own run is recorded failed, with its class and where the task went.
        let failed = env.resultNotes(for: task).filter { $0.note.text("agent") == "claude" }
        #expect(failed.count == 1 && failed.first?.note.text("failure") == "usage_limit" && failed.first?.note.text("failover_to") == "codex")
        #expect(Self.runs(env, "claude").count == 1)

        // The next 10 tasks skip claude without calling it.
        let tasks = (1...10).map { "Tasks/Fix bug \($0).md" }
        for path in tasks { try env.writeInPlace(path, "---\ntype: task\n---\nFix bug number \(path.count) in the parser.\n") }
        for path in tasks { try Self.settle(env, path) }
        #expect(Self.runs(env, "claude").count == 1)
        #expect(Self.runs(env, "codex").count == 11)
        for path in tasks {
            #expect(env.note(path)?.text("route_agent") == "codex")
            #expect(env.note(path)?.text("route_reason")?.contains("cooling down: claude: usage limit, available again at") == true)
        }

        // route, status, agent list and doctor say so.
        let route = try EndToEndTests.run(["route", "--vault", env.root, "fix the parser"], in: env.sandbox)
        #expect(route.stdout.contains("failover: claude → codex → opencode"), "\(route.stdout)")
        #expect(route.stdout.contains("cooling:  claude: usage limit, available again at"))
        #expect(route.stdout.contains("agent:    codex"))
        let status = try EndToEndTests.run(["status", "--vault", env.root], in: env.sandbox)
        #expect(status.stdout.contains("Cooling down (1)") && status.stdout.contains("claude: usage limit, available again at"), "\(status.stdout)")
        let list = try EndToEndTests.run(["agent", "list", "--vault", env.root], in: env.sandbox)
        #expect(list.stdout.contains("cooling down: usage limit"), "\(list.stdout)")
        let doctor = try EndToEndTests.run(["doctor", "--vault", env.root], in: env.sandbox)
        #expect(doctor.stdout.contains("claude: usage limit, available again at"), "\(doctor.stdout)")

        // A person ends the cooldown: claude runs again.
        let reset = try EndToEndTests.run(["agent", "reset", "claude", "--vault", env.root], in: env.sandbox)
        #expect(reset.code == 0 && reset.stdout.contains("claude: cooldown ended (was: usage limit"), "\(reset.stdout)\(reset.stderr)")
        let again = "Tasks/Fix bug after reset.md"
        try env.writeInPlace(again, "---\ntype: task\n---\nFix the bug in the parser again.\n")
        try Self.settle(env, again)
        #expect(env.note(again)?.text("route_agent") == "claude")
        #expect(Self.runs(env, "claude").count == 2)
        // The daily line says how the failed run failed.
        _ = eventually(within: 20, every: 0.05) { env.text(TelemetryWriter.dailyPath(Date()))?.contains("failed (usage_limit)") == true }
        #expect(env.text(TelemetryWriter.dailyPath(Date()))?.contains("[[Tasks/Fix the login]] → claude (premium): failed (usage_limit)") == true)
        #expect(env.telemetryLines().contains { $0["failure"]?.stringValue == "usage_limit" && $0["harness"]?.stringValue == "claude" })
        try env.stop(SIGINT)
    }

    /// Tour 59 (low): every agent of the chain at its limit — the task ended with the last agent's
    /// error next to the first agent's `failure_reset` (codex's "try again in 2 days" beside
    /// claude's hour). The reset time is the last agent's, as the error is.
    @Test func aChainThatEndsAtItsLimitSaysTheLastAgentsResetTime() throws {
        let env = try WatchedVault()
        try env.start()
        let task = "Tasks/Fix the logout.md"
        try env.writeInPlace(task, "---\ntype: task\n---\nFix the logout bug in auth.swift. FIXTURE_MODE_CLAUDE=usage-limit FIXTURE_RESET_IN=3600 FIXTURE_MODE_CODEX=usage-limit FIXTURE_MODE_OPENCODE=usage-limit\n")
        try Self.settle(env, task, ["failed"], within: 60)
        let note = try #require(env.note(task))
        let last = try #require(Self.handoffs(env, task).last, "\(note.texts("handoffs"))")
        #expect(last.note.text("to") == "opencode" && last.note.text("status") == "failed", "\(last.path)")
        let reset = try #require(note.text("failure_reset"))
        #expect(reset == last.note.text("failure_reset"), "task \(reset), last handoff \(last.note.text("failure_reset") ?? "none")")
        try env.stop(SIGTERM)
    }

    @Test func afterTheResetTimeTheAgentIsUsedAgain() throws {
        let env = try WatchedVault()
        try env.start()
        let task = "Tasks/Fix the cache.md"
        try env.writeInPlace(task, "---\ntype: task\n---\nFix the cache bug. FIXTURE_MODE_CLAUDE=usage-limit FIXTURE_RESET_IN=4\n")
        try Self.settle(env, task)
        let runs = try RunStore(vault: env.vault)
        let cooldown = try #require(try runs.cooldowns().first, "claude is not cooling down")
        #expect(cooldown.agent == "claude" && cooldown.failure == .usageLimit)
        // Past the reset time claude said, it is routed to again.
        _ = eventually(within: 15, every: 0.1) { Date() > cooldown.until }
        let later = "Tasks/Fix the cache later.md"
        try env.writeInPlace(later, "---\ntype: task\n---\nFix the cache bug, second part.\n")
        try Self.settle(env, later)
        #expect(env.note(later)?.text("route_agent") == "claude")
        #expect(Self.runs(env, "claude").count == 2)
        try env.stop(SIGINT)
    }

    @Test func eachFailureClassOfEachCLI() throws {
        let env = try WatchedVault()
        // OpenCode (the tool lane) has no default chain: its agent note names one.
        _ = try env.store.updateProperties("Rules/Agents/opencode.md", set: [Property("failover", .list([.string("codex")]))])
        try env.start()
        /// (agent, mode, expected class, next agent or nil)
        let cases: [(String, String, String, String?)] = [
            ("claude", "rate-limit", "rate_limited", "codex"),
            ("claude", "overloaded", "overloaded", "codex"),
            ("claude", "bad-key", "auth", "codex"),
            ("codex", "usage-limit", "usage_limit", "opencode"),
            ("opencode", "rate-limit", "rate_limited", "codex"),
            ("claude", "context-overflow", "context_overflow", nil),
        ]
        for (i, (agent, mode, failure, next)) in cases.enumerated() {
            let task = "Tasks/Case \(i + 1) \(agent) \(mode).md"
            try env.writeInPlace(task, "---\ntype: task\nagent: \(agent)\n---\nSummarize the notes. FIXTURE_MODE_\(agent.uppercased())=\(mode)\n")
            try Self.settle(env, task, ["done", "failed"])
            let note = try #require(env.note(task))
            #expect(note.text("failure") == failure, "\(task): \(env.text(task) ?? "")\n\(env.log)")
            if let next {
                #expect(note.text("status") == "done", "\(task): \(env.text(task) ?? "")")
                let handoff = try #require(Self.handoffs(env, task).first, "\(task) has no handoff")
                #expect(handoff.note.text("from") == agent && handoff.note.text("to") == next)
                if mode == "usage-limit" {
                    // codex's partial answer before its limit reached the next agent.
                    #expect(handoff.note.body.contains("Partial work: read auth.swift and planned the token rotation"))
                }
            } else {
                // A context overflow is not a limit: retried once with a smaller packet, then failed.
                #expect(note.text("status") == "failed" && Self.handoffs(env, task).isEmpty)
                #expect(note["context_retry"]?.bool == true && note["context_tokens"]?.number != nil)
            }
            // Every agent is available again for the next case.
            for name in ["claude", "codex", "opencode"] { _ = try EndToEndTests.run(["agent", "reset", name, "--vault", env.root], in: env.sandbox) }
        }
        let overflowRuns = Self.runs(env, "claude").filter { $0["prompt"]?.stringValue?.contains("FIXTURE_MODE_CLAUDE=context-overflow") == true }
        #expect(overflowRuns.count == 2)
        if overflowRuns.count == 2 {
            #expect((overflowRuns[1]["prompt"]?.stringValue?.count ?? .max) < (overflowRuns[0]["prompt"]?.stringValue?.count ?? 0))
        }
        try env.stop(SIGINT)
    }

    @Test func privateTaskNeverFailsOverToACloudAgent() throws {
        let env = try WatchedVault()
        // A local agent (the claude fixture run as a local model) whose chain names codex first.
        let command = [RepositoryPaths.fixtureAgents + "/claude", "-p", "--output-format", "json", "--", "{prompt}"]
        try env.write("Rules/Agents/flaky.md", """
            ---
            type: agent
            name: flaky
            lane: local
            command: \(JSON.array(command.map { .string($0) }).compact)
            output: claude-json
            env: [FBT_FIXTURE_LOG]
            failover: [codex, slow]
            ---
            A local agent that gets overloaded.

            """)
        try env.start()
        try env.writeInPlace("Tasks/Salary review.md", "---\ntype: task\nagent: flaky\nprivacy: private\n---\nSummarize my salary notes. FIXTURE_MODE_CLAUDE=overloaded\n")
        let path = "Tasks/Salary review.md"
        try Self.settle(env, path)
        let note = try #require(env.note(path))
        #expect(note.text("failure") == "overloaded")
        #expect(note.texts("failovers") == ["flaky: overloaded → slow"])
        let handoff = try #require(Self.handoffs(env, path).first)
        #expect(handoff.note.text("to") == "slow" && handoff.note.text("privacy") == "private")
        #expect(Self.runs(env, "codex").isEmpty, "codex was called for a private task")
        #expect(Self.runs(env, "slow").count == 1)
        try env.stop(SIGINT)
    }

    @Test func effectsGoWithTheHandoffAndNeedAPersonAgain() throws {
        let env = try WatchedVault()
        try env.start()
        // A write a person approved for claude; claude then hits its limit.
        let task = "Tasks/Write the changelog.md"
        try env.writeInPlace(task, "---\ntype: task\nagent: claude\neffects: [write]\n---\nWrite the changelog entry. FIXTURE_MODE_CLAUDE=usage-limit\n")
        try Self.settle(env, task, ["review"])
        let approve = try EndToEndTests.run(["note", "set", "--vault", env.root, task, "approved=true"], in: env.sandbox)
        try #require(approve.code == 0, "\(approve.stderr)")
        try Self.settle(env, task, ["handed_off"])
        // The task says handed_off first; its handoff is recorded right after.
        _ = eventually(within: 20, every: 0.05) { !Self.handoffs(env, task).isEmpty }
        let handoff = try #require(Self.handoffs(env, task).first, "\(env.text(task) ?? "")\n\(env.log)")
        #expect(handoff.note.texts("effects") == ["write"])
        // The approval was spent on claude's run: codex waits for a person, and has not run.
        let reviewed = eventually(within: 30, every: 0.05) { env.note(handoff.path)?.text("status") == "review" }
        #expect(reviewed, "\(env.text(handoff.path) ?? "")")
        #expect(Self.runs(env, "claude").count == 1 && Self.runs(env, "codex").isEmpty)
        try env.stop(SIGINT)
    }

    @Test func readOnlyTimeoutIsRetriedOnceButATaskWithEffectsIsNot() throws {
        let env = try WatchedVault()
        try env.write("Rules/Routing/Slow writes.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [slowwrite]\nagent: slow\nallow_effects: [write]\n---\nWrites by the slow agent.\n")
        try env.start()
        let readOnly = "Tasks/Slow read.md"
        try env.writeInPlace(readOnly, "---\ntype: task\nagent: slow\ntimeout: 1\n---\nRead the logs slowly. SLEEP=5\n")
        let writes = "Tasks/Slow write.md"
        try env.writeInPlace(writes, "---\ntype: task\neffects: [write]\ntimeout: 1\n---\nslowwrite the summary file. SLEEP=5\n")
        try Self.settle(env, readOnly, ["failed"], within: 60)
        try Self.settle(env, writes, ["failed"], within: 60)
        _ = eventually(within: 10, every: 0.1) { (env.note(readOnly)?["attempts"]?.number ?? 0) >= 2 }
        let slowRuns = Self.runs(env, "slow")
        #expect(slowRuns.filter { $0["prompt"]?.stringValue?.contains("Read the logs slowly") == true }.count == 2)
        #expect(slowRuns.filter { $0["prompt"]?.stringValue?.contains("slowwrite the summary") == true }.count == 1)
        #expect(env.note(readOnly)?.text("failure") == "timeout" && env.note(writes)?.text("failure") == "timeout")
        try env.stop(SIGINT)
    }

    @Test func sigkillBetweenTheFailureAndTheHandoffHandsOverExactlyOnce() throws {
        let env = try WatchedVault()
        let hold = env.sandbox.root + "/hold"
        try env.start(environment: ["FBT_TEST_HOLD_BEFORE_HANDOFF": hold])
        let task = "Tasks/Fix the importer.md"
        try env.writeInPlace(task, "---\ntype: task\n---\nFix the importer bug. FIXTURE_MODE_CLAUDE=usage-limit\n")
        let held = eventually(within: 30, every: 0.05) { FileManager.default.fileExists(atPath: hold) }
        try #require(held, "the watcher never reached the failover:\n\(env.allLogs)")
        try env.stop(SIGKILL)
        // Killed after the run store recorded the failover, before the handoff note.
        #expect(Self.handoffs(env, task).isEmpty)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: env.root + "/Handoffs"))?.contains { $0.hasPrefix("Failover ") } != true)
        #expect(env.status(task) == "handed_off")

        try env.start()
        try Self.settle(env, task)
        try env.stop(SIGINT)
        // A second start (its recovery runs before it says it is watching) finds nothing left to
        // do: still one handoff, codex called once.
        try env.start()
        let failovers = (try FileManager.default.contentsOfDirectory(atPath: env.root + "/Handoffs")).filter { $0.hasPrefix("Failover ") }
        #expect(failovers.count == 1, "\(failovers)")
        #expect(Self.handoffs(env, task).count == 1)
        #expect(Self.runs(env, "codex").count == 1)
        #expect(Self.runs(env, "claude").count == 1)
        #expect(env.status(task) == "done")
        try env.stop(SIGINT)
    }
}

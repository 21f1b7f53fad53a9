import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// Cooldowns in the run store: until the reset time an agent printed, else a back-off of a minute
/// that doubles with each failure in a row, capped at an hour; `agent reset` ends one.
@Suite struct CooldownTests {
    @Test func resetTimeElseDoublingBackOffCapped() throws {
        let folder = TemporaryFolder.make("fbt-cool")
        defer { TemporaryFolder.remove(folder) }
        let store = try RunStore(vault: Vault(root: folder))
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        // A reset time the agent printed wins.
        let reset = t0.addingTimeInterval(5 * 3600)
        #expect(try store.coolDown(agent: "claude", failure: .usageLimit, reason: "limit", resetAt: reset, now: t0).until == reset)
        #expect(try store.cooldown(agent: "CLAUDE", now: t0.addingTimeInterval(60))?.failure == .usageLimit)
        #expect(try store.cooldown(agent: "claude", now: reset.addingTimeInterval(1)) == nil)
        // None printed: 1, 2, 4 … minutes while failures come in a row, then at most an hour.
        var now = t0
        var waits: [Double] = []
        for _ in 0..<9 {
            let c = try store.coolDown(agent: "codex", failure: .rateLimited, reason: "429", resetAt: nil, now: now)
            waits.append(c.until.timeIntervalSince(now))
            now = c.until.addingTimeInterval(1)
        }
        #expect(waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600])
        // A long quiet spell starts over at a minute.
        let later = now.addingTimeInterval(2 * 3600)
        #expect(try store.coolDown(agent: "codex", failure: .overloaded, reason: "529", resetAt: nil, now: later).until == later.addingTimeInterval(60))
        // A person ends it; a reset time already past falls back to the back-off.
        #expect(try store.resetCooldown(agent: "codex", now: later)?.agent == "codex")
        #expect(try store.cooldown(agent: "codex", now: later) == nil)
        #expect(try store.coolDown(agent: "codex", failure: .usageLimit, reason: "x", resetAt: later.addingTimeInterval(-10), now: later).until == later.addingTimeInterval(60))
    }

    @Test func agentResetNamesUnknownAgents() throws {
        let v = RouteTestVault()
        let store = try RunStore(vault: v.vault)
        try store.coolDown(agent: "claude", failure: .usageLimit, reason: "Claude AI usage limit reached", resetAt: Date().addingTimeInterval(600))
        #expect(try AgentCooldowns.list(vault: v.vault).first { $0.agent == "claude" }?.cooldown?.failure == .usageLimit)
        #expect(try AgentCooldowns.reset(vault: v.vault, agent: "claude")?.failure == .usageLimit)
        #expect(try AgentCooldowns.reset(vault: v.vault, agent: "claude") == nil)
        #expect(throws: AgentCooldownError.self) { try AgentCooldowns.reset(vault: v.vault, agent: "clade") }
    }

    /// `agent list` says which agents cannot run here and why, apart from cooling down: a user
    /// read "available" as "can run" for CLIs that were not installed (a tour).
    @Test func agentListSaysWhichAgentsCannotRunHere() throws {
        let v = RouteTestVault()
        v.writeStandardRules()
        v.write("Rules/Agents/ghost.md", "---\ntype: agent\nname: ghost\nlane: local\ncommand: [no-such-ghost-cli, \"{prompt}\"]\noutput: text\n---\n")
        v.write("Rules/Agents/shell.md", "---\ntype: agent\nname: shell\nlane: local\ncommand: [/bin/echo, \"{prompt}\"]\noutput: text\n---\n")
        let (console, out) = Console.capturing()
        #expect(CLI.run(["agent", "list", "--json", "--vault", v.root], console: console, environment: ["PATH": "/usr/bin:/bin"], executablePath: "fuckbigtech") == 0)
        let agents = try JSON.parse(out.stdout).arrayValue ?? []
        let ghost = try #require(agents.first { $0["agent"]?.stringValue == "ghost" })
        #expect(ghost["available"]?.boolValue == true && ghost["runs_here"]?.boolValue == false)
        #expect(ghost["not_usable"]?.stringValue?.contains("'no-such-ghost-cli' is not installed") == true, "\(ghost)")
        let shell = try #require(agents.first { $0["agent"]?.stringValue == "shell" })
        #expect(shell["runs_here"]?.boolValue == true && shell["not_usable"] == .null)
        let (textConsole, text) = Console.capturing()
        _ = CLI.run(["agent", "list", "--vault", v.root], console: textConsole, environment: ["PATH": "/usr/bin:/bin"], executablePath: "fuckbigtech")
        #expect(text.stdout.split(separator: "\n").contains { $0.hasPrefix("ghost") && $0.contains("cannot run here") }, "\(text.stdout)")
    }
}

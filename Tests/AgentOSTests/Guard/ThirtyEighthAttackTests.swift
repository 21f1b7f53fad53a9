import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The thirty-eighth outside attack on the release binary (`/work/attack75-report.md`): numbers
/// read from notes, files and arguments that stopped the process reading them (SIGILL), each
/// written as the attack it was. (With a fix off, the test process itself dies.)
@Suite struct ThirtyEighthAttackTests {
    /// Attack (medium): a telemetry row with a token count of `9223372036854775807` overflowed the
    /// day's totals at the next run, and at every start of the watcher while the row was there.
    @Test func aHugeTokenCountInATelemetryRowIsNotAddedUp() {
        let header = "---\ntype: telemetry\n---\n| time | task | agent | model | lane | cost | tokens in | tokens out | seconds | outcome | verdict | |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        func row(_ tokens: String, _ id: String) -> String { "| 03:28:00 | [[Tasks/x]] | localw |  | local | 0.0000 estimated | \(tokens) | 3 | 0.01 | done |  | <!-- run:20261206-0328\(id) -->\n" }
        let text = header + row("9223372036854775807", "00-aaaaaa") + row("9223372036854775807", "01-bbbbbb") + row("12", "02-cccccc")
        let refreshed = TelemetryTotals.refresh(text)
        #expect(refreshed.contains("**Totals:** 3 runs"), "\(refreshed)")
        #expect(refreshed.contains("tokens \(2 * AgentOutcome.largestTokens + 12) in / 9 out"), "\(refreshed)")
        #expect(TelemetryTotals.adding("5", to: Int.max - 1) == Int.max)
        #expect(TelemetryTotals.adding("-3", to: 2) == 2 && TelemetryTotals.adding("many", to: 2) == 2)
    }

    /// Attack (medium): `claim_wait: 1e30` in `Rules/Sync.md` passed as a duration, and its
    /// message's `Int` stopped the watcher, `doctor` and `status`.
    @Test func anEndlessLeaseOrClaimWaitIsAProblem() throws {
        for (key, value) in [("claim_wait", "1e30"), ("lease", "1e30"), ("lease", "inf"), ("claim_wait", "999999999h")] {
            let note = try Note.parse("---\ntype: sync\nsync: files\n\(key): \(value)\n---\n")
            guard case .failure(let problem) = SyncSettings.parse(note, path: "Rules/Sync.md") else {
                Issue.record("\(key): \(value) was taken")
                continue
            }
            #expect(problem.message.hasPrefix(key), "\(problem.message)")
        }
        let fine = try Note.parse("---\ntype: sync\nsync: files\nlease: 2h\nclaim_wait: 30s\n---\n")
        guard case .success(let settings) = SyncSettings.parse(fine, path: "Rules/Sync.md") else {
            Issue.record("a plain sync note was refused")
            return
        }
        #expect(settings.lease == 7_200 && settings.claimWait == 30)
    }

    /// Attack (low): `updated_epoch: -1e23` in another machine's heartbeat note stopped `status`
    /// on every machine of the vault.
    @Test func aHeartbeatFromTheFarPastIsDescribed() {
        for updated in [-1e23, -Double.infinity, .nan, 1e30] {
            let beat = MachineHeartbeat(machine: "laptop", state: "watching", updated: updated, serves: "all", running: [], version: "x")
            #expect(beat.describe().hasPrefix("laptop  "), "\(updated)")
        }
        #expect(Int(bounded: -1e300) == -Int(bounded: 1e300) && Int(bounded: .nan) == 0 && Int(bounded: 42.9) == 42)
    }

    /// Attack (low): a tool call with `limit: 9000000000000000000` stopped the MCP server (any agent
    /// may send one); `search -n 4611686018427387904` and `report --days 9223372036854775807`
    /// stopped the CLI without a word. Each is refused on one line.
    @Test func hugeLimitsAreRefused() throws {
        let temp = try MCPServerTests.InitVault()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        for tool in ["recent", "search"] {
            let answer = tools.call(tool, arguments: .object([("query", .string("x")), ("limit", .int(9_000_000_000_000_000_000))]))
            #expect(answer.first { $0.0 == "isError" }?.1 == .bool(true), "\(tool): \(answer)")
        }
        for arguments in [["search", "x", "-n", "4611686018427387904"], ["report", "--days", "9223372036854775807"], ["report", "--days", "-9223372036854775808"]] {
            let (console, captured) = Console.capturing()
            let code = CLI.run(arguments + ["--vault", temp.vault.root], console: console, environment: ["HOME": temp.folder.path], executablePath: "/opt/fbt/fuckbigtech")
            #expect(code == 64 && captured.stderr.contains("whole number"), "\(arguments): \(code) \(captured.stderr)")
        }
    }
}

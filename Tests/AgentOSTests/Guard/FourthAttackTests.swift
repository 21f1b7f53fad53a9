import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The fourth outside attack on the release binary, each finding written as the attack it was.
@Suite struct FourthAttackTests {
    /// Runs `arguments` as the CLI would inside run `runID` (no run: a person).
    static func cli(_ arguments: [String], _ v: RouteTestVault, runID: String?) -> (code: Int32, out: String) {
        let (console, captured) = Console.capturing()
        let code = CLI.run(arguments + ["--vault", v.root], console: console, environment: runID.map { ["FBT_RUN_ID": $0] } ?? [:], executablePath: "fuckbigtech")
        return (code, captured.stdout + captured.stderr)
    }

    /// Attack: a cloud agent handed its task to itself with `fuckbigtech handoff --task <its task>`
    /// (allowed), then re-pointed the handoff note's `task:` at a note it had just written (`note set`,
    /// MCP `set_properties`): each step got a fresh task cap and handoff count — 13 paid runs on a
    /// $0.03 cap, 12 deep at `max_handoffs: 5`. `to:`/`from:` and a task's run record (`attempts`,
    /// `started`, `run_id`, …) were writable too. On work notes they are the OS's now; the same keys
    /// on a person's own note stay the run's to write.
    @Test func aRunCannotRepointAHandoffNorRewriteARunsRecord() throws {
        let v = RouteTestVault()
        v.write("Tasks/Public.md", "---\ntype: task\nstatus: done\nattempts: 1\nrun_id: 20261204-000000-aaaaaa\n---\nTidy my notes.\n")
        v.write("Memory/Open.md", "# Open\n\nPublic.\n")
        v.write("Memory/Trip.md", "---\nfrom: Paris\nto: Rome\n---\n# Trip\n")
        let run = try PrivacyTaintTests.localRun(of: "Tasks/Public.md", in: v.vault)
        let (code, out) = Self.cli(["handoff", "--from", "ollama", "--to", "ollama", "--task", "Tasks/Public.md", "go on"], v, runID: run)
        #expect(code == 0, "\(out)")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: v.root + "/Handoffs").first { $0.hasSuffix(".md") })
        let handoff = "Handoffs/" + name
        let store = NoteStore(vault: v.vault)
        let before = try store.read(handoff).bytes
        for arguments in [["note", "set", handoff, "task=\"[[Memory/Open]]\""], ["note", "set", handoff, "task=[[Memory/Open]]"],
                          ["note", "set", handoff, "--unset", "task"], ["note", "set", handoff, "to=claude"], ["note", "set", handoff, "From=claude"],
                          ["note", "set", "Tasks/Public.md", "attempts=0"], ["note", "set", "Tasks/Public.md", "run_id=x"],
                          ["note", "set", "Tasks/Public.md", "started=2020-01-01T00:00:00Z"], ["note", "set", "Tasks/Public.md", "machine=elsewhere"]] {
            let (code, out) = Self.cli(arguments, v, runID: run)
            #expect(code == 1 && out.contains("the OS keeps it"), "\(arguments): \(out)")
        }
        #expect(try store.read(handoff).bytes == before, "the handoff changed")
        // The whole text rewritten with another task: refused alike.
        let text = String(decoding: before, as: UTF8.self).replacingOccurrences(of: "Tasks/Public", with: "Memory/Open")
        let draft = v.root + "/../handoff-\(run).md"
        try text.replacingFile(draft)
        defer { try? FileManager.default.removeItem(atPath: draft) }
        let hash = try store.read(handoff).hash.hex
        let rewrite = Self.cli(["note", "write", handoff, "--expect", hash, "--from", draft], v, runID: run)
        #expect(rewrite.code == 1 && rewrite.out.contains("the OS keeps it"), "\(rewrite.out)")
        // Through the run's MCP server too.
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "ollama", environment: ["FBT_RUN_ID": run]))
        let answer = tools.call("set_properties", arguments: .object([("path", .string(handoff)), ("set", .object([("task", .string("[[Memory/Open]]"))]))]))
        #expect(try store.read(handoff).bytes == before, "MCP changed the handoff: \(answer)")
        // A person's own note with the same keys stays writable by a run; a person may change a handoff.
        #expect(Self.cli(["note", "set", "Memory/Trip.md", "to=Florence"], v, runID: run).code == 0)
        #expect(Self.cli(["note", "set", handoff, "to=claude"], v, runID: nil).code == 0)
    }
}

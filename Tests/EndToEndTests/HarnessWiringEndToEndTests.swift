import AgentOS
import Foundation
import TestSupport
import Testing

/// The real binary wires a fresh home: `init`, `mcp install` for each harness, `skills sync`, then
/// `doctor` reports each harness registered and in sync, and the registered command line is this binary.
@Suite struct HarnessWiringEndToEndTests {
    @Test func initInstallSyncAndDoctorOnAFreshHome() throws {
        let sandbox = try EndToEndTests.Sandbox()
        let run = { (arguments: [String]) in try EndToEndTests.run(arguments + ["--vault", sandbox.vault], in: sandbox) }
        #expect(try EndToEndTests.run(["init", sandbox.vault], in: sandbox).code == 0)
        for harness in ["claude", "codex", "opencode"] {
            let installed = try run(["mcp", "install", harness])
            #expect(installed.code == 0 && installed.stdout.hasPrefix("registered the MCP server 'fuckbigtech' in "), "\(installed.stderr)")
            #expect(try run(["mcp", "install", harness]).stdout.contains("nothing changed"))
        }
        let binary = try BuiltBinary.path()
        let toml = try String(contentsOfFile: sandbox.home + "/.codex/config.toml", encoding: .utf8)
        #expect(toml.contains("args = [\"mcp\", \"--vault\", \"\(sandbox.vault)\", \"--agent\", \"codex\"]"))
        // The command is an absolute path to the binary that was run (the same file, however reached).
        let command = try #require(try MCPRegistration.registered(at: sandbox.home + "/.codex/config.toml", harness: .codex)?.first)
        #expect(command.hasPrefix("/") && (command as NSString).resolvingSymlinksInPath == (binary as NSString).resolvingSymlinksInPath)

        let synced = try run(["skills", "sync"])
        #expect(synced.code == 0 && synced.stdout.contains("fuckbigtech: linked now"), "\(synced.stderr)")
        #expect(FileManager.default.fileExists(atPath: sandbox.home + "/.claude/skills/fuckbigtech/SKILL.md"))
        #expect(FileManager.default.fileExists(atPath: sandbox.home + "/.agents/skills/fuckbigtech/SKILL.md"))

        let doctor = try run(["doctor", "--json"])
        let report = try JSON.parse(doctor.stdout)
        let harness = (report["checks"]?.arrayValue ?? []).filter { $0["check"]?.stringValue == "harness" }
        #expect(harness.count == 3)
        for finding in harness {
            #expect(finding["status"] == .string("ok"))
            #expect(finding["finding"]?.stringValue?.contains("MCP server registered in ") == true && finding["finding"]?.stringValue?.contains("skills in sync") == true, "\(finding)")
        }
        let removed = try run(["mcp", "uninstall", "codex"])
        let left = try String(contentsOfFile: sandbox.home + "/.codex/config.toml", encoding: .utf8)
        #expect(removed.code == 0 && left.isEmpty, "the file held only our table")
    }
}

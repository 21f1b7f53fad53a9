import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// `doctor` and `memory-test` read what `mcp install` and `skills sync` write: registration and skill
/// links per harness, and invalid skills as a failure of the memory test.
@Suite struct SkillHealthTests {
    @Test func doctorReportsRegistrationAndSkillSyncPerHarness() throws {
        let root = TemporaryFolder.make("fbt-harness-doctor")
        defer { TemporaryFolder.remove(root) }
        let vault = Vault(root: root + "/vault")
        _ = try VaultInit.run(vault: vault)
        // A stand-in `codex` on PATH makes codex "installed"; claude and opencode are not.
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: root + "/bin/codex")
        let environment = ["HOME": root + "/home", "PATH": root + "/bin:/usr/bin:/bin"]
        func harness() -> [String: DoctorFinding] {
            let report = Doctor.run(DoctorContext(vault: vault, environment: environment), checks: [DoctorCheck(name: "harness", run: HarnessChecks.run)])
            return Dictionary(report.findings.map { (String($0.finding.prefix { $0 != ":" && $0 != " " }), $0) }, uniquingKeysWith: { a, _ in a })
        }
        let before = harness()
        #expect(before["codex"]?.status == .warn && before["codex"]?.finding.contains("MCP server not registered") == true)
        #expect(before["codex"]?.fix == "fuckbigtech mcp install codex && fuckbigtech skills sync")
        #expect(before["claude"]?.status == .ok && before["claude"]?.finding.hasPrefix("claude (not installed): MCP server not registered") == true)

        let executable = root + "/bin/codex" // any executable stands for the binary the entry runs
        for name in ["codex", "claude"] {
            let (console, captured) = Console.capturing()
            #expect(CLI.run(["mcp", "install", name, "--vault", vault.root], console: console, environment: environment, executablePath: executable) == 0, "\(captured.stderr)")
        }
        _ = try SkillSync.sync(vault: vault, folders: SkillFolder.standard(environment: environment))
        let after = harness()
        #expect(after["codex"]?.status == .ok)
        #expect(after["codex"]?.finding == "codex: MCP server registered in \(root)/home/.codex/config.toml; skills in sync in \(root)/home/.agents/skills (1)")
        #expect(after["claude"]?.finding.contains("MCP server registered in \(root)/home/.claude.json") == true)

        // The same entry for another vault is a warning with the fix.
        let other = Vault(root: root + "/other")
        _ = try VaultInit.run(vault: other)
        let moved = Doctor.run(DoctorContext(vault: other, environment: environment), checks: [DoctorCheck(name: "harness", run: HarnessChecks.run)])
        #expect(moved.findings.contains { $0.status == .warn && $0.finding.contains("is for another vault or command") })

        // An entry without --agent (written before install named the agent) serves a cloud agent as
        // the vault's owner: doctor says so and gives the fix.
        let toml = root + "/home/.codex/config.toml"
        let text = try String(contentsOfFile: toml, encoding: .utf8)
        #expect(text.contains(#", "--agent", "codex"]"#), "install names the agent: \(text)")
        try Data(text.replacingOccurrences(of: #", "--agent", "codex"]"#, with: "]").utf8).write(to: URL(fileURLWithPath: toml))
        let old = harness()
        #expect(old["codex"]?.status == .warn && old["codex"]?.finding.contains("has no --agent, so codex could read private notes") == true, "\(old["codex"]?.finding ?? "")")
        #expect(old["codex"]?.fix?.hasPrefix("fuckbigtech mcp install codex") == true)
    }

    @Test func memoryTestFailsOnAnInvalidSkillAndWarnsOnDrift() throws {
        let root = TemporaryFolder.make("fbt-skill-check")
        defer { TemporaryFolder.remove(root) }
        let vault = Vault(root: root + "/vault")
        _ = try VaultInit.run(vault: vault)
        let folders = SkillFolder.standard(environment: ["HOME": root + "/home"])
        #expect(SkillCheck.check(vault: vault, folders: folders).status == .warn, "the shipped skill is not linked yet")
        _ = try SkillSync.sync(vault: vault, folders: folders)
        let synced = SkillCheck.check(vault: vault, folders: folders)
        #expect(synced.status == .ok && synced.detail == "1 skills valid and linked in 2 harness folders")
        try "---\nname: fuckbigtech\n---\nthe description is gone\n".replacingFile(vault.root + "/Skills/fuckbigtech/SKILL.md")
        let broken = SkillCheck.check(vault: vault, folders: folders)
        #expect(broken.status == .fail && broken.problems.first == "fuckbigtech: frontmatter has no description (it must be non-empty)")
        // Through the command, the run fails and says why.
        var options = MemoryTest.Options()
        options.writesReportNote = false
        options.usesBaseline = false
        options.skillFolders = folders
        let report = try MemoryTest.run(vault: vault, mode: .quick, options: options)
        #expect(!report.passed && report.checks.contains { $0.name == "skills" && $0.status == .fail })
    }
}

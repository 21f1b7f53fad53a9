import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import AgentOS

@Suite struct DoctorTests {
    /// A context that cannot reach anything outside the test: no agent CLIs, a closed Ollama port.
    static func isolatedContext(_ root: String, path: String = "") -> DoctorContext {
        var context = DoctorContext(vault: Vault(root: root), environment: ["PATH": path])
        context.ollamaEndpoint = "http://127.0.0.1:9"
        context.commandTimeout = 1
        return context
    }

    static func freshVault(withMemory: Bool = true) throws -> TemporaryFolder {
        let temp = TemporaryFolder("fbt-doctor")
        _ = try VaultInit.run(vault: Vault(root: temp.path), withMemory: false)
        try pointOllamaNowhere(temp.path)
        if withMemory { _ = try VaultInit.run(vault: Vault(root: temp.path), withMemory: true) }
        return temp
    }

    /// The shipped Ollama agent, pointed at a port nothing answers (whatever this machine runs), so
    /// the lanes check sees the same machine everywhere.
    static func pointOllamaNowhere(_ vault: String) throws {
        let path = vault + "/Rules/Agents/ollama.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "endpoint: http://localhost:11434", with: "endpoint: http://127.0.0.1:9").replacingFile(path)
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test func freshVaultPasses() throws {
        let temp = try Self.freshVault()
        let report = Doctor.run(Self.isolatedContext(temp.path))
        // The only failures on a machine where no agent runs (nothing on PATH here, no Ollama): the
        // shipped rules route work to the premium, local and tool lanes, whose agents cannot run, so
        // that work would wait in review.
        #expect(report.findings.filter { $0.status == .fail }.map(\.check) == ["lanes", "lanes", "lanes"], "\(report.findings.filter { $0.status == .fail })")
        #expect(report.exitCode == 1)
        #expect(Set(report.findings.map(\.check)) == Set(Doctor.standardChecks.map(\.name)))
        for check in ["vault", "state", "rules", "index", "disk"] {
            #expect(report.findings.first { $0.check == check }?.status == .ok, "\(check)")
        }
        #expect(report.findings.first { $0.check == "rules" }?.finding.contains("10 agents") == true)
        #expect(report.findings.first { $0.check == "rules" }?.finding.contains("Rules/Guardrails.md") == true)
        // Nothing on PATH and no server: warnings with a fix, never failures.
        let clis = report.findings.filter { $0.check == "agent-cli" }
        #expect(clis.count == 8 && clis.allSatisfy { $0.status == .warn && $0.fix != nil })
        #expect(report.findings.first { $0.check == "ollama" }?.status == .warn)
    }

    @Test func freshVaultWithoutMemoryOnlyWarnsAboutTheIndex() throws {
        let temp = try Self.freshVault(withMemory: false)
        let report = Doctor.run(Self.isolatedContext(temp.path))
        #expect(Set(report.findings.filter { $0.status == .fail }.map(\.check)) == ["lanes"])
        // `init` makes `.agentos/` for its list of adopted notes (`AdoptedNotes`), without an index.
        #expect(report.findings.first { $0.check == "state" }?.status == .ok)
        #expect(report.findings.first { $0.check == "index" }?.status == .warn)
    }

    /// A vault made when the shipped task cap was $1: an agent told nothing (codex, opencode, …)
    /// reserves its whole $1 max_cost_usd, so a task handed to it after any spend waits in review,
    /// and doctor says so; one that can be told a smaller cap (claude, with budget_args) is not named.
    /// A cap below an agent's maximum means every task routed to it waits.
    @Test func aCapThatLeavesAnAgentTheSameNoRoomIsAWarning() throws {
        let temp = try Self.freshVault()
        let shipped = Doctor.run(Self.isolatedContext(temp.path)).findings.filter { $0.check == "rules" && $0.status == .warn }
        #expect(shipped.isEmpty, "\(shipped.map(\.finding))")
        let path = temp.path + "/Rules/Guardrails.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try Self.write(text.replacingOccurrences(of: "budget_task_usd: 2.0", with: "budget_task_usd: 1.0"), to: path)
        var warned = Doctor.run(Self.isolatedContext(temp.path)).findings.filter { $0.check == "rules" && $0.status == .warn }
        let codex = try #require(warned.first { $0.finding.contains("'codex'") }, "\(warned.map(\.finding))")
        #expect(codex.finding.contains("reserves its max_cost_usd $1.00 of budget_task_usd $1.00: a task handed to it after any spend waits in review"), "\(codex.finding)")
        #expect(codex.fix?.contains("Rules/Agents/codex.md") == true)
        #expect(!warned.contains { $0.finding.contains("'claude'") || $0.finding.contains("'llm'") }, "\(warned.map(\.finding))")
        let agent = temp.path + "/Rules/Agents/codex.md"
        try Self.write(try String(contentsOfFile: agent, encoding: .utf8).replacingOccurrences(of: "max_cost_usd: 1.0", with: "max_cost_usd: 6"), to: agent)
        warned = Doctor.run(Self.isolatedContext(temp.path)).findings.filter { $0.check == "rules" && $0.status == .warn && $0.finding.contains("'codex'") }
        #expect(warned.map(\.finding) == ["agent 'codex' cannot be told a smaller cap (no budget_args), so each run reserves its max_cost_usd $6.00, more than budget_task_usd $1.00: every task routed to it waits in review"])
        // A premium agent bounded by nothing (round 151) holds a whole task's cap.
        try Self.write("---\ntype: agent\nname: custom\nlane: premium\ncommand: [custom-cli, \"{prompt}\"]\noutput: text\n---\nA custom CLI.\n", to: temp.path + "/Rules/Agents/custom.md")
        let custom = Doctor.run(Self.isolatedContext(temp.path)).findings.filter { $0.check == "rules" && $0.status == .warn && $0.finding.contains("'custom'") }
        #expect(custom.map(\.finding) == ["agent 'custom' is paid but has neither budget_args nor max_cost_usd, so each run reserves the whole budget_task_usd $1.00 and a task with a smaller budget_usd waits in review"], "\(custom.map(\.finding))")
    }

    @Test func missingVaultFails() {
        let report = Doctor.run(Self.isolatedContext("/nonexistent/fbt-\(UUID().uuidString)"))
        let vault = report.findings.first { $0.check == "vault" }
        #expect(vault?.status == .fail)
        #expect(vault?.fix?.contains("fuckbigtech init") == true)
        #expect(report.exitCode == 1)
    }

    @Test func ruleNoteWithBadFrontmatterFailsWithItsLine() throws {
        let temp = try Self.freshVault()
        try Self.write("---\ntype: rule\npriority: [10\nlane: local\n---\nWhy.\n", to: temp.path + "/Rules/Routing/Broken.md")
        let report = Doctor.run(Self.isolatedContext(temp.path))
        #expect(report.hasFailures)
        let finding = try #require(report.findings.first { $0.check == "rules" && $0.status == .fail })
        #expect(finding.finding.hasPrefix("Rules/Routing/Broken.md: bad frontmatter at line 3"))
        #expect(finding.fix?.contains("Rules/Routing/Broken.md") == true)
        // The other notes are still checked and no ok line claims all is well.
        #expect(!report.findings.contains { $0.check == "rules" && $0.status == .ok })
    }

    /// A broken guardrails note is a failure with its line; doctor does not also say "no guardrails
    /// note, so the built-in budget caps apply" and "run init" (paid runs are blocked, and init
    /// leaves the note alone), nor send the person to the skill (a tour).
    @Test func aBrokenGuardrailsNoteIsNotCalledMissing() throws {
        let temp = try Self.freshVault()
        let path = temp.path + "/Rules/Guardrails.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try Self.write(text.replacingOccurrences(of: "budget_task_usd:", with: "private_tags: [private, secret\nbudget_task_usd:"), to: path)
        let report = Doctor.run(Self.isolatedContext(temp.path))
        #expect(report.findings.contains { $0.check == "rules" && $0.status == .fail && $0.finding.hasPrefix("Rules/Guardrails.md: bad frontmatter") })
        #expect(!report.findings.contains { $0.finding.contains("built-in budget caps apply") }, "\(report.findings.map(\.finding))")
        #expect(!report.findings.contains { $0.check == "skills" && ($0.fix ?? "").contains("SKILL.md") })
    }

    /// `init`'s lane summary judges the agents rules send a lane's work to, as doctor does: with
    /// another premium agent usable and claude not installed, "premium — usable" was printed, and
    /// doctor failed the lane right after (a tour).
    @Test func aLaneIsUsableOnlyIfTheAgentsItsRulesNameCanRun() throws {
        let temp = try Self.freshVault()
        try Self.write("---\ntype: agent\nname: aaa-cloud\nlane: premium\ncommand: [/bin/echo, \"{prompt}\"]\noutput: text\n---\n", to: temp.path + "/Rules/Agents/aaa-cloud.md")
        let guardrails = temp.path + "/Rules/Guardrails.md"
        let text = try String(contentsOfFile: guardrails, encoding: .utf8)
        try Self.write(text.replacingOccurrences(of: "default_agent: ollama", with: "default_agent: ollama\npremium_agent: aaa-cloud"), to: guardrails)
        let lanes = LaneReadiness.lanes(of: Vault(root: temp.path), environment: ["PATH": "/usr/bin:/bin"])
        let premium = try #require(lanes.first { $0.lane == "premium" })
        #expect(premium.agent == "aaa-cloud")
        #expect(premium.problem?.contains("goes to claude, which cannot run here") == true, "\(premium)")
        // The summary names claude too (a tour read "premium: agent llm — usable" as "premium uses llm").
        let line = try #require(LaneReadiness.describe(lanes).first { $0.hasPrefix("premium") })
        #expect(line.contains("agent aaa-cloud, and claude for what the rules send there"), "\(line)")
    }

    @Test func agentNoteMustBeCompleteAndUseAnArgv() throws {
        let temp = try Self.freshVault()
        try Self.write("---\ntype: agent\nname: half\ncommand: half-agent {prompt}\n---\n", to: temp.path + "/Rules/Agents/half.md")
        try Self.write("---\ntype: agent\nname: shelly\nlane: local\noutput: text\ncommand: [/bin/bash, -c, \"echo {prompt}\"]\ntimeout: soon\n---\n", to: temp.path + "/Rules/Agents/shelly.md")
        let report = Doctor.run(Self.isolatedContext(temp.path))
        let failures = report.findings.filter { $0.check == "rules" && $0.status == .fail }.map(\.finding)
        // The runner's own parser speaks: the first thing to fix in each note.
        let half = try #require(failures.first { $0.hasPrefix("Rules/Agents/half.md") })
        #expect(half.contains("missing 'lane'"))
        let shelly = try #require(failures.first { $0.hasPrefix("Rules/Agents/shelly.md") })
        #expect(shelly.contains("starts a shell (bash)"))
    }

    @Test func ruleAndGuardrailsFieldsAreChecked() throws {
        let temp = try Self.freshVault()
        try Self.write("---\ntype: rule\nlane: cloud\nwhen_effects: [launch]\n---\n", to: temp.path + "/Rules/Routing/Odd.md")
        try Self.write("---\ntype: rule\npriority: 5\nagent: gemini\n---\n", to: temp.path + "/Rules/Routing/Gemini.md")
        let report = Doctor.run(Self.isolatedContext(temp.path))
        let odd = try #require(report.findings.first { $0.finding.hasPrefix("Rules/Routing/Odd.md") })
        #expect(odd.status == .fail)
        #expect(odd.finding.contains("cloud"))
        let gemini = try #require(report.findings.first { $0.finding.hasPrefix("Rules/Routing/Gemini.md") })
        #expect(gemini.status == .fail && gemini.finding.contains("'gemini'"))

        try Self.write("---\ntype: guardrails\nbudget_day_usd: lots\nsecret_action: shrug\nsecret_patterns: [\"(unclosed\"]\n---\n", to: temp.path + "/Rules/Guardrails.md")
        let second = Doctor.run(Self.isolatedContext(temp.path))
        let guardrails = second.findings.filter { $0.finding.hasPrefix("Rules/Guardrails.md") }.map(\.finding).joined(separator: "\n")
        #expect(guardrails.contains("budget_day_usd must be a number"))
        #expect(guardrails.contains("shrug"))
        #expect(guardrails.contains("not a valid regular expression"))
    }

    @Test func duplicateAgentNamesFail() throws {
        let temp = try Self.freshVault()
        let claude = try String(contentsOfFile: temp.path + "/Rules/Agents/claude.md", encoding: .utf8)
        try Self.write(claude, to: temp.path + "/Rules/Agents/claude copy.md")
        let report = Doctor.run(Self.isolatedContext(temp.path))
        #expect(report.findings.contains { $0.status == .fail && $0.finding.contains("agent 'claude' is already defined") })
    }

    @Test func stateFolderThatIsAFileFails() throws {
        // Tests run as root, for whom chmod does not stop a write; a file where the folder belongs does.
        let temp = try Self.freshVault(withMemory: false)
        try FileManager.default.removeItem(atPath: temp.path + "/.agentos")
        try "not a folder".write(toFile: temp.path + "/.agentos", atomically: false, encoding: .utf8)
        let report = Doctor.run(Self.isolatedContext(temp.path))
        let state = try #require(report.findings.first { $0.check == "state" })
        #expect(state.status == .fail)
        #expect(state.finding.contains("is a file, not a folder"))
        #expect(report.exitCode == 1)
    }

    @Test func indexWithAnotherSchemaOrGarbageFails() throws {
        let temp = try Self.freshVault()
        let context = Self.isolatedContext(temp.path)
        try Database(path: Vault(root: temp.path).databasePath).execute("PRAGMA user_version = \(IndexSchema.version + 1)")
        let mismatch = try #require(Doctor.run(context, checks: Doctor.standardChecks.filter { $0.name == "index" }).findings.first)
        #expect(mismatch.status == .fail && mismatch.finding.contains("schema version \(IndexSchema.version + 1)"))

        let database = Vault(root: temp.path).databasePath
        try FileManager.default.removeItem(atPath: database)
        try String(repeating: "not sqlite ", count: 100).write(toFile: database, atomically: false, encoding: .utf8)
        let garbage = try #require(Doctor.run(Self.isolatedContext(temp.path), checks: Doctor.standardChecks.filter { $0.name == "index" }).findings.first)
        #expect(garbage.status == .fail && garbage.finding.contains("not a readable SQLite database"))
    }

    @Test func inotifyLimitBelowTheFolderCountFails() throws {
        let temp = try Self.freshVault()
        let limit = temp.path + "/.agentos/max_user_watches"
        try "5\n".write(toFile: limit, atomically: false, encoding: .utf8)
        var context = Self.isolatedContext(temp.path)
        context.inotifyWatchLimitPath = limit
        let inotify = Doctor.standardChecks.filter { $0.name == "inotify" }
        let tight = try #require(Doctor.run(context, checks: inotify).findings.first)
        #expect(tight.status == .fail && tight.fix?.contains("sysctl") == true)

        context.inotifyWatchLimitPath = temp.path + "/no-such-file"
        #expect(Doctor.run(context, checks: inotify).findings.first?.status == .fail)

        try "1000000\n".write(toFile: limit, atomically: false, encoding: .utf8)
        context.inotifyWatchLimitPath = limit
        #expect(Doctor.run(context, checks: inotify).findings.first?.status == .ok)
    }

    @Test func agentCommandsAreFoundAndAskedForTheirVersion() throws {
        let bin = TemporaryFolder("fbt-bin")
        func script(_ name: String, _ body: String) throws {
            let path = bin.path + "/" + name
            try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        try script("claude", "echo '9.9.9 (Claude Code)'")
        try script("codex", "PATH=/usr/bin:/bin; exec sleep 30")
        try script("llm", "echo 'llm: broken install' >&2; exit 2")
        try script("ollama", "echo 'Warning: could not connect to a running Ollama instance'; echo 'Warning: client version is 0.9.1'")
        var context = Self.isolatedContext(bin.path, path: bin.path)
        context.commandTimeout = 0.5
        let findings = Doctor.run(context, checks: Doctor.standardChecks.filter { $0.name == "agent-cli" }).findings
        #expect(findings.count == context.agentCommands.count)
        #expect(findings[0].status == .ok && findings[0].finding.hasPrefix("claude 9.9.9 (Claude Code)"))
        #expect(findings[1].status == .warn && findings[1].finding.contains("no answer within 500 ms"))
        #expect(findings[2].status == .warn && findings[2].finding.contains("not on PATH"))
        #expect(findings[3].status == .warn && findings[3].finding.contains("hermes is not on PATH") && findings[3].fix?.contains("pip install hermes-agent") == true)
        #expect(findings[4].status == .warn && findings[4].finding.contains("openclaw is not on PATH"))
        #expect(findings[5].status == .ok && findings[5].finding.contains("0.9.1"))
        #expect(findings[6].status == .warn && findings[6].finding.contains("exited with status 2"))
        #expect(findings[7].status == .warn && findings[7].finding.contains("qmd is not on PATH"))
    }

    @Test func ollamaServerThatAnswersIsOK() throws {
        let python = try ExternalTool.require("python3")
        let site = TemporaryFolder("fbt-ollama")
        try Self.write("{\"version\":\"0.0.1-test\"}", to: site.path + "/api/version")
        // The ChildProcess kills the server (SIGKILL: a child started from a test thread inherits its
        // blocked signals, SIGTERM included) when it goes away.
        var server: ChildProcess?
        var endpoint = ""
        // A random high port; try again if it is taken.
        for _ in 0..<5 where server == nil {
            let port = Int.random(in: 20_000...60_000)
            let process = try ChildProcess(python, ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", site.path])
            endpoint = "http://127.0.0.1:\(port)"
            let answered = eventually(within: 5, every: 0.05) {
                guard process.isRunning else { return true }
                if case .answered = HTTPProbe.get(URL(string: endpoint + "/api/version")!, timeout: 0.3) { return true }
                return false
            }
            if answered, process.isRunning { server = process }
        }
        try #require(server != nil, "the fake Ollama server did not start")
        var context = Self.isolatedContext(site.path)
        context.ollamaEndpoint = endpoint
        context.ollamaTimeout = 2
        let finding = try #require(Doctor.run(context, checks: Doctor.standardChecks.filter { $0.name == "ollama" }).findings.first)
        #expect(finding.status == .ok)
        #expect(finding.finding.contains("0.0.1-test"))
    }

    @Test func laterFeaturesCanAddChecks() throws {
        let temp = try Self.freshVault()
        let extra = DoctorCheck(name: "watcher") { context in
            [DoctorFinding(check: "watcher", status: .fail, finding: "not running in \(context.vault.root)", fix: "start it")]
        }
        let silent = DoctorCheck(name: "quiet") { _ in [] }
        let report = Doctor.run(Self.isolatedContext(temp.path), checks: [silent, extra])
        #expect(report.findings.map(\.check) == ["quiet", "watcher"])
        #expect(report.findings[0].status == .ok)
        #expect(report.exitCode == 1)
        #expect(report.json["summary"]?["fail"]?.intValue == 1)
        #expect(report.json["checks"]?.arrayValue?.count == 2)
    }
}

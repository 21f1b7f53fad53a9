import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Runs the built `fuckbigtech` binary as a user would and checks its output and exit codes.
@Suite struct EndToEndTests {
    /// A temp folder with a home inside, so nothing reads or writes the real `~/AgentOS`.
    final class Sandbox {
        /// The temp folder; removed when the sandbox goes.
        let root: String
        /// `HOME` for the commands run in the sandbox.
        var home: String { root + "/home" }
        /// Where a test's vault goes.
        var vault: String { root + "/vault" }

        init() throws {
            root = TemporaryFolder.make("fbt-e2e")
            try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        }

        deinit { TemporaryFolder.remove(root) }
    }

    /// Runs the binary with `arguments` in the sandbox, with a minimal environment.
    /// `environment` is added to it (e.g. `FBT_RUN_ID`, as an agent in a run has it).
    static func run(_ arguments: [String], in sandbox: Sandbox, cwd: String? = nil, path: String = "/usr/bin:/bin", environment: [String: String] = [:]) throws -> ProcessOutcome {
        let outcome = try ChildProcess.run(
            try BuiltBinary.path(), arguments,
            environment: ["PATH": path, "HOME": sandbox.home, "NO_COLOR": "1", "TERM": "dumb"].merging(environment) { $1 },
            directory: cwd ?? sandbox.root,
            timeout: 60
        )
        if outcome.timedOut { Issue.record("fuckbigtech \(arguments.joined(separator: " ")) did not finish within 60 s") }
        return outcome
    }

    /// The shipped Ollama agent, pointed at a port nothing answers (whatever this machine runs).
    static func pointOllamaNowhere(_ vault: String) throws {
        let path = vault + "/Rules/Agents/ollama.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "endpoint: http://localhost:11434", with: "endpoint: http://127.0.0.1:9").replacingFile(path)
    }

    @Test func helpListsTheCommands() throws {
        let sandbox = try Sandbox()
        let help = try Self.run(["--help"], in: sandbox)
        #expect(help.code == 0)
        for command in ["init", "doctor", "note"] {
            #expect(help.stdout.contains("\n  \(command) "), "--help does not list \(command)")
        }
        #expect(help.stderr.isEmpty)
        let initHelp = try Self.run(["init", "--help"], in: sandbox)
        #expect(initHelp.code == 0 && initHelp.stdout.contains("--with-memory"))
        let doctorHelp = try Self.run(["doctor", "--help"], in: sandbox)
        #expect(doctorHelp.code == 0 && doctorHelp.stdout.contains("--json"))
    }

    @Test func unknownCommandIsAUsageError() throws {
        let sandbox = try Sandbox()
        let outcome = try Self.run(["frobnicate"], in: sandbox)
        #expect(outcome.code == 64)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr == "fuckbigtech: unknown command 'frobnicate'; run 'fuckbigtech --help' for the list\n")
        let tooMany = try Self.run(["init", "a", "b"], in: sandbox)
        #expect(tooMany.code == 64 && tooMany.stderr.hasPrefix("fuckbigtech init: "))
        let badFlag = try Self.run(["doctor", "--frob"], in: sandbox)
        #expect(badFlag.code == 64 && badFlag.stderr.contains("unknown option --frob"))
        // A new user's checks (round 50): help of no command, an argument after --version, and an
        // option before the command were taken (exit 0) or told nothing of the fix.
        let helpOfNothing = try Self.run(["help", "statuss"], in: sandbox)
        #expect(helpOfNothing.code == 64 && helpOfNothing.stdout.isEmpty && helpOfNothing.stderr.contains("did you mean 'status'"), "\(helpOfNothing)")
        let version = try Self.run(["--version", "x"], in: sandbox)
        #expect(version.code == 64 && version.stdout.isEmpty, "\(version)")
        let optionFirst = try Self.run(["--vault", "/nowhere", "status"], in: sandbox)
        #expect(optionFirst.code == 64 && optionFirst.stderr.contains("comes after the command: fuckbigtech status --vault"), "\(optionFirst)")
    }

    @Test func initCreatesAVaultThenHasNothingToDo() throws {
        let sandbox = try Sandbox()
        let first = try Self.run(["init", sandbox.vault], in: sandbox)
        #expect(first.code == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("Created a vault at \(sandbox.vault)\n"))
        #expect(first.stdout.contains("  + Rules/Agents/echo.md\n"))
        #expect(first.stdout.contains("  + Templates/Task.md\n"))
        #expect(FileManager.default.fileExists(atPath: sandbox.vault + "/Rules/Guardrails.md"))
        #expect(FileManager.default.fileExists(atPath: sandbox.vault + "/.obsidian/types.json"))

        let second = try Self.run(["init", sandbox.vault], in: sandbox)
        #expect(second.code == 0)
        #expect(second.stdout == "nothing to do: \(sandbox.vault) already has everything init adds\n")
    }

    @Test func initFollowsAVaultFolderThatIsASymlink() throws {
        let sandbox = try Sandbox()
        let target = sandbox.root + "/disk/vault"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: sandbox.vault, withDestinationPath: target)
        let outcome = try Self.run(["init", sandbox.vault], in: sandbox)
        #expect(outcome.code == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.hasPrefix("Added to the vault at \(target)\n"))
        #expect(FileManager.default.fileExists(atPath: target + "/Rules/Guardrails.md"))
    }

    @Test func initWithoutAPathUsesTheDefaultVaultInHome() throws {
        let sandbox = try Sandbox()
        let outcome = try Self.run(["init", "--json"], in: sandbox)
        #expect(outcome.code == 0)
        let json = try JSON.parse(outcome.stdout)
        #expect(json["vault"]?.stringValue == sandbox.home + "/AgentOS")
        #expect(json["created_vault"]?.boolValue == true)
        #expect(json["created_files"]?.arrayValue?.contains(.string("Tasks/README.md")) == true)
        #expect(FileManager.default.fileExists(atPath: sandbox.home + "/AgentOS/Tasks/README.md"))
    }

    @Test func doctorReportsJSONForTheVaultAroundTheCurrentFolder() throws {
        let sandbox = try Sandbox()
        #expect(try Self.run(["init", sandbox.vault], in: sandbox).code == 0)
        try Self.pointOllamaNowhere(sandbox.vault)
        #expect(try Self.run(["init", "--with-memory", sandbox.vault], in: sandbox).code == 0)
        // No --vault: the vault is found from the current folder, inside it.
        let outcome = try Self.run(["doctor", "--json"], in: sandbox, cwd: sandbox.vault + "/Tasks")
        let report = try JSON.parse(outcome.stdout)
        #expect(report["vault"]?.stringValue == sandbox.vault)
        // No Ollama, Claude Code or OpenCode here: the lanes the shipped rules route work to cannot
        // run, the only failures a fresh vault has.
        let failed = (report["checks"]?.arrayValue ?? []).filter { $0["status"] == .string("fail") }.compactMap { $0["check"]?.stringValue }
        #expect(Set(failed) == ["lanes"] && outcome.code == 1, "\(outcome.stdout)")
        let checks = try #require(report["checks"]?.arrayValue)
        let names = Set(checks.compactMap { $0["check"]?.stringValue })
        #expect(names.isSuperset(of: ["vault", "state", "rules", "index", "inotify", "agent-cli", "ollama", "disk"]))
        for check in checks {
            let status = check["status"]?.stringValue ?? "none"
            let finding = check["finding"]?.stringValue ?? ""
            #expect(["ok", "warn", "fail"].contains(status))
            #expect(finding.count > 3)
        }
        #expect(checks.first { $0["check"]?.stringValue == "index" }?["status"]?.stringValue == "ok")
        #expect(report["summary"]?["fail"]?.intValue == failed.count)
    }

    @Test func doctorFailsOnABrokenRuleNote() throws {
        let sandbox = try Sandbox()
        #expect(try Self.run(["init", sandbox.vault], in: sandbox).code == 0)
        try Self.pointOllamaNowhere(sandbox.vault)
        try "---\ntype: rule\npriority: 10\nlane: [local\n---\n".write(toFile: sandbox.vault + "/Rules/Routing/Broken.md", atomically: false, encoding: .utf8)
        let outcome = try Self.run(["doctor", "--vault", sandbox.vault], in: sandbox)
        #expect(outcome.code == 1)
        #expect(outcome.stdout.contains("fail  rules"))
        #expect(outcome.stdout.contains("Rules/Routing/Broken.md: bad frontmatter at line 4"))
        #expect(outcome.stdout.contains("fail  lanes"), "no Ollama here: the default lane fails too")
        // The rules check and the lanes the shipped rules route to (how many depends on which agent CLIs this machine has).
        let failures = outcome.stdout.components(separatedBy: "\nfail  ").count - 1 + (outcome.stdout.hasPrefix("fail  ") ? 1 : 0)
        #expect(failures >= 2 && outcome.stderr == "fuckbigtech doctor: \(failures) checks failed; see the fixes above\n", "\(outcome.stdout)")
    }

    @Test func noteSetChangesOnlyThePropertyAndShowReadsItBack() throws {
        let sandbox = try Sandbox()
        #expect(try Self.run(["init", sandbox.vault], in: sandbox).code == 0)
        let original = "---\ntype: task\nstatus: new\nagent: echo\n---\nSay hello.\n\nKeep this body exactly.\n"
        try original.write(toFile: sandbox.vault + "/Tasks/Hello.md", atomically: false, encoding: .utf8)

        let set = try Self.run(["note", "set", "Tasks/Hello.md", "status=review", "approved=true", "--vault", sandbox.vault], in: sandbox)
        #expect(set.code == 0, "\(set.stderr)")
        let text = try String(contentsOfFile: sandbox.vault + "/Tasks/Hello.md", encoding: .utf8)
        #expect(text.hasPrefix("---\ntype: task\nstatus: review\nagent: echo\n"))
        #expect(text.contains("approved: true\n"))
        #expect(text.hasSuffix("---\nSay hello.\n\nKeep this body exactly.\n"))

        let show = try Self.run(["note", "show", "Tasks/Hello.md", "--json", "--vault", sandbox.vault], in: sandbox)
        #expect(show.code == 0)
        let json = try JSON.parse(show.stdout)
        #expect(json["properties"]?["status"]?.stringValue == "review")
        #expect(json["properties"]?["approved"]?.boolValue == true)
        #expect(json["body"]?.stringValue == "Say hello.\n\nKeep this body exactly.\n")

        let missing = try Self.run(["note", "show", "Tasks/Nope.md", "--vault", sandbox.vault], in: sandbox)
        #expect(missing.code == 1)
        #expect(missing.stderr.hasPrefix("fuckbigtech note: ") && missing.stderr.filter { $0 == "\n" }.count == 1)
    }
}

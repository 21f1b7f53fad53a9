import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// From within a run (`FBT_RUN_ID` set), the CLI refuses approvals, status changes, `Rules/` and
/// notes in review — in every phrasing an agent could try — and writes nothing.
@Suite struct RunWriteGuardTests {
    static let runEnvironment = ["FBT_RUN_ID": "20261202-120000-abcdef"]

    /// From within a run, `note set` is given the hash of the note as it is (an agent that read it):
    /// a refusal is then the guardrail's, not the missing `--expect`'s.
    func cli(_ arguments: [String], _ env: EngineTestVault, environment: [String: String] = runEnvironment, stdin: String? = nil) -> (code: Int32, out: String, err: String) {
        let (console, captured) = Console.capturing()
        let read = environment["FBT_RUN_ID"] != nil && arguments.starts(with: ["note", "set"]) && arguments.count > 2 && !arguments.contains("--expect")
            ? expectingCurrent(env.vault.root, arguments[2]) : []
        let code = CLI.run(arguments + read + ["--vault", env.vault.root], console: console, environment: environment, executablePath: "fuckbigtech")
        return (code, captured.stdout, captured.stderr)
    }

    /// A file outside the vault holding a note text for `note write --from`.
    func draft(_ text: String) -> String {
        let file = TemporaryFolder.make("fbt-run-draft") + "/draft.md"
        try! text.replacingFile(file)
        return file
    }

    func expectRefused(_ outcome: (code: Int32, out: String, err: String), _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.code == 1, "\(what) was not refused: \(outcome.err)", sourceLocation: sourceLocation)
        #expect(outcome.err.contains("refused from within run 20261202-120000-abcdef"), "\(what): \(outcome.err)", sourceLocation: sourceLocation)
        #expect(outcome.err.split(separator: "\n").count == 1, "\(what): not one line: \(outcome.err)", sourceLocation: sourceLocation)
    }

    @Test func noteSetRefusesEveryApprovalAndStatusChangeFromARun() throws {
        let env = try EngineTestVault()
        // A task this run made: the one kind of work note besides its own task a run may change at all.
        let path = try env.writeTask("Other", properties: "type: task\nagent: claude\nstatus: failed\ncreated_by_run: 20261202-120000-abcdef", body: "Deploy.")
        let before = try env.text(path)
        let hash = try env.store.read(path).hash.hex
        let attempts: [[String]] = [
            ["note", "set", path, "approved=true"],
            ["note", "set", path, "approved=yes"],
            ["note", "set", path, "approved=\"true\""],
            ["note", "set", path, "Approved=true"],
            ["note", "set", path, "APPROVED=true"],
            ["note", "set", path, " approved =true"],
            ["note", "set", path, "approved_by=alice"],
            ["note", "set", path, "approved_at=2026-01-01T00:00:00"],
            ["note", "set", path, "status=new"],
            ["note", "set", path, "status=review"],
            ["note", "set", path, "Status=new"],
            ["note", "set", path, "title=x", "status=new"],
            ["note", "set", path, "--unset", "status"],
            ["note", "set", path, "--unset", "approved"],
            ["note", "set", path, "approved=true", "--expect", hash],
            ["note", "set", path, "status=new", "--expect", hash],
        ]
        for arguments in attempts {
            expectRefused(cli(arguments, env), arguments.joined(separator: " "))
            #expect(try env.text(path) == before, "\(arguments.joined(separator: " ")) changed the note")
        }
        // Keys spelt so that they might read back as `approved` or `status`: refused, or harmless —
        // the note as the OS reads it never gains an approval nor a new status.
        for key in ["\"approved\"", "'approved'", "approved\u{200B}", "approved:", "approved: true\nx", "status\t", "\u{FEFF}status", "x\nstatus"] {
            _ = cli(["note", "set", path, "\(key)=true"] + expectingCurrent(env.vault.root, path), env)
            let note = try env.note(path)
            #expect(note["approved"] == nil, "\(key.debugDescription) approved the note")
            #expect(note.text("status") == "failed", "\(key.debugDescription) changed the status")
        }
        // Other properties stay open to a run, and outside a run a person may do all of it.
        #expect(cli(["note", "set", path, "summary=checked"] + expectingCurrent(env.vault.root, path), env).code == 0)
        #expect(try env.note(path).text("summary") == "checked")
        #expect(cli(["note", "set", path, "approved=true", "status=new"], env, environment: [:]).code == 0)
        #expect(try env.note(path)["approved"]?.bool == true)
        // Sixth outside attack: a person's queued task is not a run's to change at all (a cloud run
        // rewrote one to name a local address for the browser).
        let persons = try env.writeTask("Persons", properties: "type: task\nagent: browser\nstatus: new", body: "Check https://example.com/")
        let refused = cli(["note", "set", persons, "summary=checked"], env)
        expectRefused(refused, "another's task")
        #expect(refused.err.contains("this is other work"), "\(refused.err)")
        #expect(try env.note(persons).text("summary") == nil)
    }

    @Test func noteWriteCannotCreateOrChangeAnApprovedOrStatusNoteFromARun() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Held", properties: "type: task\nagent: claude\nstatus: done\napproved: false\ncreated_by_run: 20261202-120000-abcdef", body: "Deploy.")
        let before = try env.text(path)
        let hash = try env.store.read(path).hash.hex
        let rewrites = [
            "---\ntype: task\nagent: claude\nstatus: done\napproved: true\n---\nDeploy.\n",
            "---\ntype: task\nagent: claude\nstatus: new\napproved: false\n---\nDeploy.\n",
            "---\ntype: task\nagent: claude\nstatus: done\n---\nDeploy.\n",
            "---\ntype: task\nagent: claude\nstatus: done\napproved: false\napproved_by: alice\n---\nDeploy.\n",
            "---\ntype: task\nagent: claude\nstatus: done\napproved: false\nApproved: true\n---\nDeploy.\n",
            "---\ntype: task\nagent: claude\nstatus: done\napproved: false\napproved: true\n---\nDeploy.\n",
            "---\n{\"type\": \"task\", \"agent\": \"claude\", \"status\": \"done\", \"approved\": true}\n---\nDeploy.\n",
        ]
        for text in rewrites {
            expectRefused(cli(["note", "write", path, "--expect", hash, "--from", draft(text)], env), text)
            #expect(try env.text(path) == before)
        }
        // The same protected values with a new body are no change to them: allowed.
        #expect(cli(["note", "write", path, "--expect", hash, "--from", draft("---\ntype: task\nagent: claude\nstatus: done\napproved: false\ncreated_by_run: 20261202-120000-abcdef\n---\nDeploy, carefully.\n")], env).code == 0)

        let born = [
            "---\ntype: task\nstatus: review\napproved: true\neffects: [deploy, payment]\n---\nPay.\n",
            "---\ntype: task\napproved: true\n---\nPay.\n",
            "---\nstatus: new\n---\nPay.\n",
            "---\ntype: handoff\nto: claude\napproved: true\n---\nPay.\n",
        ]
        for (i, text) in born.enumerated() {
            let newPath = "Tasks/Born \(i).md"
            expectRefused(cli(["note", "write", newPath, "--create", "--from", draft(text)], env), text)
            #expect(try env.store.readIfPresent(newPath) == nil)
        }
        // A refusal writes nothing anywhere, not even a conflict note.
        let conflicts = (try? FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/" + StaleMemoryGuard.conflictFolder)) ?? []
        #expect(conflicts.filter { $0.hasSuffix(".md") }.isEmpty)
        // Nor a plain task: a run makes work with `task new` (recorded, budgeted, tainted), and a
        // note that is no work is fine.
        let plainTask = cli(["note", "write", "Tasks/Plain.md", "--create", "--from", draft("---\ntype: task\n---\nPay.\n")], env)
        #expect(plainTask.code == 1 && plainTask.err.contains("task new"), "\(plainTask.err)")
        #expect(cli(["note", "write", "Memory/Plain.md", "--create", "--from", draft("# Plain\n")], env).code == 0)
    }

    /// The attack: an agent reads the index file (every note's text, private ones too), or writes
    /// git's config (a command git runs), an Obsidian plugin, the skill harnesses load, a template,
    /// or the OS's records, through `note show` and `note write`. All refused, one line, nothing
    /// written; notes elsewhere stay readable and writable.
    @Test func aRunReachesNotesOnlyNotTheOSsStateNorTheEditorsNorGits() throws {
        let env = try EngineTestVault()
        func put(_ path: String, _ text: String) throws {
            try FileManager.default.createDirectory(atPath: env.vault.root + "/" + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.replacingFile(env.vault.root + "/" + path)
        }
        try put(".git/config", "[core]\n\tbare = false\n")
        try put(".obsidian/app.json", "{}\n")
        try put("Memory/Diagram.canvas", "{}\n")
        try put("Skills/fuckbigtech/SKILL.md", "# Skill\n")
        try put("Templates/Task.md", "---\ntype: task\n---\n")
        _ = try MemoryIndex(vault: env.vault).reconcile()
        for path in [".agentos/index.sqlite", ".agentos/telemetry.jsonl", ".git/config", ".obsidian/app.json", "Memory/.hidden.md", "Memory/Diagram.canvas", env.vault.root + "/.agentos/index.sqlite"] {
            expectRefused(cli(["note", "show", path], env), "show \(path)")
        }
        let writes = [".git/config", ".obsidian/plugins/evil/main.js", ".obsidian/plugins/evil/manifest.md", ".agentos/evil.md", "Memory/Run.sh",
                      "Skills/fuckbigtech/SKILL.md", "skills/fuckbigtech/scripts/helper.md", "Templates/Task.md", "Results/Forged.md",
                      "Telemetry/2026-12-04.md", "Daily/2026-12-04.md", "Private/Daily/2026-12-04.md", "Memory/Conflicts/Fake.md"]
        for path in writes {
            let before = try? env.text(path)
            expectRefused(cli(["note", "write", path, "--create", "--from", draft("poisoned\n")], env), "create \(path)")
            if before != nil {
                let hash = try env.store.read(path).hash.hex
                expectRefused(cli(["note", "write", path, "--expect", hash, "--from", draft("poisoned\n")], env), "rewrite \(path)")
                expectRefused(cli(["note", "set", path, "x=1"], env), "set \(path)")
            }
            #expect((try? env.text(path)) == before, "\(path) changed")
        }
        // Notes are still the agent's to read and write.
        #expect(cli(["note", "write", "Memory/Plan.md", "--create", "--from", draft("# Plan\n")], env).code == 0)
        #expect(cli(["note", "show", "Memory/Plan.md"], env).code == 0)
        // A person (no run) reads what they like.
        #expect(cli(["note", "show", "Memory/Diagram.canvas"], env, environment: [:]).code == 0)
    }

    @Test func aRunMayNotChangeRulesNorANoteWaitingInReview() throws {
        let env = try EngineTestVault()
        let agent = "Rules/Agents/claude.md"
        let rulesBefore = try env.text(agent)
        let hash = try env.store.read(agent).hash.hex
        expectRefused(cli(["note", "set", agent, "readonly_args=[--permission-mode, bypassPermissions]"], env), "rules set")
        // No such note on a case-sensitive disk: refused with the line a private or missing note gets.
        let otherCase = cli(["note", "set", "rules/agents/claude.md", "readonly_args=[]"], env)
        #expect(otherCase.code == 1 && otherCase.err.split(separator: "\n").count == 1, "\(otherCase.err)")
        #expect(otherCase.err.contains("refused from within run") || otherCase.err.contains("no such note, or a private one"), "\(otherCase.err)")
        expectRefused(cli(["note", "write", agent, "--expect", hash, "--from", draft(rulesBefore.replacingOccurrences(of: "plan", with: "bypassPermissions"))], env), "rules write")
        expectRefused(cli(["note", "write", "Rules/Routing/Escalate.md", "--create", "--from", draft("---\ntype: rule\nallow_effects: [deploy]\n---\n")], env), "new rule")
        #expect(try env.text(agent) == rulesBefore)

        let waiting = try env.writeTask("Waiting", properties: "type: task\nagent: claude\nstatus: review\napproved: false", body: "Deploy the site.")
        let before = try env.text(waiting)
        let waitingHash = try env.store.read(waiting).hash.hex
        expectRefused(cli(["note", "set", waiting, "effects=[]"], env), "edit in review")
        expectRefused(cli(["note", "write", waiting, "--expect", waitingHash, "--from", draft("---\ntype: task\nagent: claude\nstatus: review\napproved: false\n---\nDeploy the site and wire the money.\n")], env), "rewrite in review")
        #expect(try env.text(waiting) == before)
    }

    @Test func taskNewFromARunIsBornNewUnapprovedAndSaysWhichRunMadeIt() throws {
        let env = try EngineTestVault()
        let made = cli(["task", "new", "--title", "From agent", "--effects", "deploy,payment", "Deploy and pay."], env)
        #expect(made.code == 0, "\(made.err)")
        let note = try env.note("Tasks/From agent.md")
        #expect(note.text("status") == "new")
        #expect(note["approved"] == nil)
        #expect(note.text("created_by_run") == "20261202-120000-abcdef")
        // Routed by the engine, it waits for a person like any task with those effects.
        let engine = try env.engine()
        _ = engine.consider(path: "Tasks/From agent.md", wait: true)
        engine.waitUntilIdle()
        #expect(try env.note("Tasks/From agent.md").text("status") == "review")
        #expect(env.fixturePrompts().isEmpty)
    }

    /// Tour 59 (low): `task new --agent nosuch` wrote the note (exit 0) and the watcher failed it
    /// later, where `handoff --to gemini` is refused at once. Both are refused before writing.
    @Test func taskNewForAnAgentNoNoteDefinesIsRefusedAndWritesNothing() throws {
        let env = try EngineTestVault()
        let refused = cli(["task", "new", "--agent", "nosuch", "--title", "Nobody", "Do it."], env, environment: [:])
        #expect(refused.code == 1 && refused.err.contains("no agent note in Rules/ defines an agent named 'nosuch'"), "\(refused.err)")
        #expect(((try? env.store.readIfPresent("Tasks/Nobody.md")) ?? nil) == nil)
        let made = cli(["task", "new", "--agent", "claude", "--title", "Somebody", "Do it."], env, environment: [:])
        #expect(made.code == 0, "\(made.err)")
    }

    @Test func runFromARunIsRefused() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Finished", properties: "type: task\nagent: echo\nstatus: done", body: "Say hi.")
        let before = try env.text(path)
        expectRefused(cli(["run", path], env), "run")
        #expect(try env.text(path) == before)
    }

    @Test func anEmptyRunIDIsNoRun() {
        #expect(RunWriteGuard.runID(in: ["FBT_RUN_ID": ""]) == nil)
        #expect(RunWriteGuard.runID(in: ["FBT_RUN_ID": "  "]) == nil)
        #expect(RunWriteGuard.runID(in: [:]) == nil)
        #expect(RunWriteGuard.runID(in: ["FBT_RUN_ID": "r1"]) == "r1")
    }
}

import AgentOS
import Foundation
import TestSupport
import Testing

/// Only a person approves, end to end with the real binary: a process in a run (`FBT_RUN_ID` set,
/// as the watcher sets it for every agent) cannot approve, re-status or create approved work, and a
/// fixture agent that tries it through the CLI leaves the other task waiting in review.
@Suite(.serialized) struct ApprovalEndToEndTests {
    static let inRun = ["FBT_RUN_ID": "20261202-230000-0a0b0c"]

    @Test func theCLIRefusesApprovalsAndStatusesFromWithinARun() throws {
        let sandbox = try EndToEndTests.Sandbox()
        #expect(try EndToEndTests.run(["init", sandbox.vault], in: sandbox).code == 0)
        let path = sandbox.vault + "/Tasks/OtherTask.md"
        let original = "---\ntype: task\nagent: claude\neffects: [deploy, payment]\nstatus: review\napproved: false\n---\nDeploy the site and pay.\n"
        try original.write(toFile: path, atomically: false, encoding: .utf8)

        let set = try EndToEndTests.run(["note", "set", "--vault", sandbox.vault, "Tasks/OtherTask.md", "approved=true"], in: sandbox, environment: Self.inRun)
        #expect(set.code == 1)
        #expect(set.stdout.isEmpty)
        #expect(set.stderr.hasPrefix("fuckbigtech note: Tasks/OtherTask.md: refused from within run 20261202-230000-0a0b0c: a run may not set or change 'approved'"))
        #expect(set.stderr.split(separator: "\n").count == 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)

        let status = try EndToEndTests.run(["note", "set", "--vault", sandbox.vault, "Tasks/OtherTask.md", "status=new"], in: sandbox, environment: Self.inRun)
        #expect(status.code == 1 && status.stderr.contains("refused from within run"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == original)

        // A note born approved, written whole from within a run: refused, nothing created.
        let born = sandbox.root + "/born.md"
        try "---\ntype: task\nstatus: review\napproved: true\neffects: [deploy, payment]\n---\nPay it all.\n".write(toFile: born, atomically: false, encoding: .utf8)
        let write = try EndToEndTests.run(["note", "write", "--vault", sandbox.vault, "--create", "Tasks/Born.md", "--from", born], in: sandbox, environment: Self.inRun)
        #expect(write.code == 1 && write.stderr.contains("refused from within run"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.vault + "/Tasks/Born.md"))

        // `task new` from within a run makes a plain new task that says which run made it.
        let made = try EndToEndTests.run(["task", "new", "--vault", sandbox.vault, "--title", "Made in a run", "Pay the invoice."], in: sandbox, environment: Self.inRun)
        #expect(made.code == 0, "\(made.stderr)")
        let note = try Note.parse(String(contentsOfFile: sandbox.vault + "/Tasks/Made in a run.md", encoding: .utf8))
        #expect(note.text("status") == "new")
        #expect(note["approved"] == nil)
        #expect(note.text("created_by_run") == "20261202-230000-0a0b0c")

        // A person (no run) may approve.
        let person = try EndToEndTests.run(["note", "set", "--vault", sandbox.vault, "Tasks/OtherTask.md", "approved=true"], in: sandbox)
        #expect(person.code == 0, "\(person.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("approved: true\n"))
    }

    @Test func anAgentInARunCannotApproveAnotherTaskNorSpawnApprovedWork() throws {
        let env = try WatchedVault()
        try env.start()
        let victim = "Tasks/Victim.md"
        try env.writeInPlace(victim, "---\ntype: task\nagent: claude\neffects: [deploy, payment]\n---\nDeploy the site and pay the hosting invoice.\n")
        try #require(eventually(within: 20, every: 0.05) { env.status(victim) == "review" }, "the victim did not go to review:\n\(env.text(victim) ?? "missing")\n\(env.allLogs)")

        // An agent run that calls `note set Victim approved=true` (and more) through the CLI.
        let approver = "Tasks/Approver.md"
        try env.writeInPlace(approver, "---\ntype: task\nagent: claude\n---\nTidy the notes. FIXTURE_MODE=approve-other FIXTURE_TARGET=\(victim)\n")
        try #require(eventually(within: 30, every: 0.05) { env.status(approver) == "done" }, "the approver run did not finish:\n\(env.text(approver) ?? "missing")\n\(env.allLogs)")
        let callbacks = (try? String(contentsOfFile: env.fixtureLog + ".callbacks", encoding: .utf8)) ?? ""
        let lines = callbacks.split(separator: "\n").map(String.init)
        for name in ["note-set-approved", "note-set-approved-by", "note-set-status", "run-other"] {
            let line = lines.first { $0.hasPrefix(name + " ") }
            #expect(line?.hasPrefix(name + " exit=1 ") == true, "\(name): \(line ?? "not called")")
            #expect(line?.contains("refused from within run") == true, "\(name): \(line ?? "not called")")
        }
        #expect(env.status(victim) == "review")
        #expect(env.note(victim)?["approved"]?.bool == false)
        #expect(env.note(victim)?["approved_by"] == nil)

        // An agent run that tries to create tasks born approved.
        let spawner = "Tasks/Spawner.md"
        try env.writeInPlace(spawner, "---\ntype: task\nagent: claude\n---\nPlan the release. FIXTURE_MODE=spawn-approved\n")
        try #require(eventually(within: 30, every: 0.05) { env.status(spawner) == "done" }, "the spawner run did not finish:\n\(env.text(spawner) ?? "missing")\n\(env.allLogs)")
        let spawnLines = ((try? String(contentsOfFile: env.fixtureLog + ".callbacks", encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(spawnLines.first { $0.hasPrefix("note-write-born ") }?.hasPrefix("note-write-born exit=1 ") == true)
        #expect(env.text("Tasks/Spawned approved.md") == nil, "a run created a note born approved")
        let spawned = "Tasks/Spawned by agent.md"
        let spawnedNote = try #require(env.note(spawned), "task new from the run made no task")
        // Not born approved (the watcher may already have put it in review, writing approved: false).
        #expect(spawnedNote["approved"]?.bool != true)
        #expect(spawnedNote.text("created_by_run") != nil)
        #expect(spawnedNote.text("created_by_run") == env.note(spawner)?.text("run_id"))
        #expect(eventually(within: 20, every: 0.05) { env.status(spawned) == "review" }, "the spawned task did not wait for review:\n\(env.text(spawned) ?? "missing")")

        // Neither the victim nor the spawned task ever ran.
        #expect(env.resultNotes(for: victim).isEmpty)
        #expect(env.resultNotes(for: spawned).isEmpty)
        #expect(env.status(victim) == "review")
        try env.stop(SIGINT)
    }
}

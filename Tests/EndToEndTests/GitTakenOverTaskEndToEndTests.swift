import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Round 136 F2, with the real binary and two clones: a machine killed early in a run whose agent
/// wrote `approved: true` into its own task (so no round ever committed the run's writes, which
/// the dead process alone knew to be the OS's). Another machine took the task over and finished
/// it. Restarted, the killed machine wrote `status: failed` into the note, committed it as its own
/// — with the agent's approval in it — and every later merge stopped on the conflict with the
/// other machine's `done`: the clones never converged.
@Suite(.serialized) struct GitTakenOverTaskEndToEndTests {
    /// Writes an approval into its own task note, logs its start, sleeps as long as the file `pause`
    /// beside it says, logs its end and answers.
    static let agentScript = """
        #!/usr/bin/env bash
        set -u
        note="$FBT_VAULT/$FBT_TASK"
        sed -i '0,/^---$/s//---\\napproved: true\\napproved_by: alice/' "$note"
        printf '{"event":"start","run":"%s","pid":%d}\\n' "$FBT_RUN_ID" "$$" >> "$FBT_FIXTURE_LOG"
        sleep "$(cat "$(dirname "$0")/pause")"
        printf '{"event":"end","run":"%s","pid":%d}\\n' "$FBT_RUN_ID" "$$" >> "$FBT_FIXTURE_LOG"
        echo "approved myself"
        """

    /// The agent note of `selfie`, running `script`.
    static func agentNote(_ script: String) -> String {
        """
        ---
        type: agent
        name: selfie
        lane: local
        command: [\(JSON.string(script).compact), "{prompt}"]
        output: text
        timeout: 120
        env: [FBT_FIXTURE_LOG]
        ---
        Approves its own task.

        """
    }

    /// Two clones (`GitNotesEndToEndTests.clones`) with `selfie` and a 3 s lease, and the task `text`
    /// at `path` committed and pushed by a person from alpha; the file that sets the agent's pause.
    static func clones(committing path: String, _ text: String) throws -> (WatchedVault, WatchedVault, pause: String) {
        let (alpha, beta) = try GitNotesEndToEndTests.clones()
        let script = alpha.sandbox.root + "/selfie"
        let pause = alpha.sandbox.root + "/pause"
        try agentScript.replacingFile(script)
        chmod(script, 0o755)
        try "60".replacingFile(pause)
        try alpha.write("Rules/Agents/selfie.md", agentNote(script))
        try alpha.write("Rules/Sync.md", "---\ntype: sync\nsync: git\nlease: 3s\n---\nClaims and notes go through the shared remote.\n")
        try alpha.write(path, text)
        try #require(try GitNotesEndToEndTests.personGit(["add", "-A"], in: alpha.root) && GitNotesEndToEndTests.personGit(["commit", "--quiet", "-m", "person: a task"], in: alpha.root))
        try #require(try GitNotesEndToEndTests.personGit(["push", "--quiet", "origin", "main"], in: alpha.root))
        return (alpha, beta, pause)
    }

    @Test func aMachineKilledBeforeItsRunsWritesWereCommittedConvergesWithTheMachineThatTookOver() throws {
        let path = "Tasks/Selfie.md"
        let (alpha, beta, pause) = try Self.clones(committing: path, "---\ntype: task\nagent: selfie\n---\nSummarize the week. SELFIE-1\n")

        // Alpha claims and runs it; beta starts after, and its first merge brings the task in.
        try alpha.start(extraArguments: ["--machine", "alpha"])
        let started = eventually(within: 30) { alpha.fixtureRuns().contains { $0["event"]?.stringValue == "start" } }
        try #require(started, "alpha did not start the agent:\n\(alpha.log)")
        try beta.start(extraArguments: ["--machine", "beta"])
        #expect(eventually(within: 30) { beta.text(path) != nil }, "the task did not reach beta:\n\(beta.log)")
        #expect(eventually(within: 10) { alpha.note(path)?["approved"]?.bool == true }, "the agent did not write its approval")
        // Killed mid-run, with its agent.
        try alpha.stop(SIGKILL)
        for run in alpha.fixtureRuns() { if let pid = run["pid"]?.intValue, pid > 0 { kill(-Int32(pid), SIGKILL) } }
        try "0.2".replacingFile(pause)

        // Beta takes the task over after the lease and finishes it (its own run's approval put back).
        let done = eventually(within: 90, every: 0.25) { beta.status(path) == "done" }
        try #require(done, "beta did not finish the task:\n\(beta.log)")
        #expect(beta.note(path)?["approved"]?.bool == false, "\(beta.text(path) ?? "")")

        // Alpha comes back: it writes nothing of its own into the task, and takes beta's end.
        try alpha.start(extraArguments: ["--machine", "alpha"])
        let converged = eventually(within: 60, every: 0.25) { alpha.text(path) == beta.text(path) }
        let status = (try? ChildProcess.run("/usr/bin/git", ["status", "--porcelain"], environment: ["PATH": "/usr/bin:/bin", "HOME": alpha.root], directory: alpha.root, timeout: 30).stdout) ?? ""
        #expect(converged, "alpha's copy:\n\(alpha.text(path) ?? "")\nbeta's:\n\(beta.text(path) ?? "")\ngit status on alpha:\n\(status)\nalpha's log:\n\(alpha.log)")
        #expect(alpha.log.contains("\(path): put back as committed"), "\(alpha.log)")
        #expect(!alpha.log.contains("set back to failed"), "\(alpha.log)")
        // No commit anywhere holds the agent's approval with `approved: true`.
        let history = (try? ChildProcess.run("/usr/bin/git", ["log", "--all", "-p", "--", path], environment: ["PATH": "/usr/bin:/bin", "HOME": alpha.root], directory: alpha.root, timeout: 30).stdout) ?? ""
        #expect(!history.contains("+approved: true"), "\(history)")
        // Exactly two runs started (alpha's, killed; beta's), one ended.
        let starts = (alpha.fixtureRuns() + beta.fixtureRuns()).filter { $0["event"]?.stringValue == "start" }
        let ends = (alpha.fixtureRuns() + beta.fixtureRuns()).filter { $0["event"]?.stringValue == "end" }
        #expect(starts.count == 2 && ends.count == 1, "\(starts) \(ends)")
        try alpha.stop(SIGTERM)
        try beta.stop(SIGTERM)
    }
}

extension GitTakenOverTaskEndToEndTests {
    /// Round 137 F3: the person added a line to the task on the machine that was then killed: the
    /// line stays theirs, the dead run's own lines go back to the committed ones, and once the
    /// person commits it, the merge brings the other machine's end with no conflict.
    @Test func aPersonsLineOnTheKilledMachineStaysAndMergesWithTheOtherMachinesEnd() throws {
        let path = "Tasks/Edited.md"
        let (alpha, beta, pause) = try Self.clones(committing: path, "---\ntype: task\nagent: selfie\n---\nSummarize the week. SELFIE-3\n\nThe week's notes are under Journal.\n")
        try alpha.start(extraArguments: ["--machine", "alpha"])
        try #require(eventually(within: 30) { alpha.fixtureRuns().contains { $0["event"]?.stringValue == "start" } }, "alpha did not start the agent:\n\(alpha.log)")
        try beta.start(extraArguments: ["--machine", "beta"])
        #expect(eventually(within: 30) { beta.text(path) != nil }, "the task did not reach beta:\n\(beta.log)")
        // The person adds a line on alpha while it runs; alpha is killed.
        try #require(eventually(within: 10) { alpha.note(path)?["approved"]?.bool == true })
        try ((alpha.text(path) ?? "") + "PERSON-LINE: the appendix too.\n").replacingFile(alpha.root + "/" + path)
        try alpha.stop(SIGKILL)
        for run in alpha.fixtureRuns() { if let pid = run["pid"]?.intValue, pid > 0 { kill(-Int32(pid), SIGKILL) } }
        try "0.2".replacingFile(pause)
        try #require(eventually(within: 90, every: 0.25) { beta.status(path) == "done" }, "beta did not finish the task:\n\(beta.log)")

        try alpha.start(extraArguments: ["--machine", "alpha"])
        #expect(eventually(within: 30) { alpha.log.contains("\(path): run ") && alpha.log.contains("own lines put back as committed") }, "\(alpha.log)")
        let kept = alpha.note(path)
        #expect(alpha.text(path)?.contains("PERSON-LINE: the appendix too.") == true && kept?.text("run_id") == nil && kept?.text("status") == nil
                && kept?["approved"] == nil, "\(alpha.text(path) ?? "")")
        // The person commits their line, as the log says; the next merge brings beta's end.
        try #require(try GitNotesEndToEndTests.personGit(["commit", "--quiet", "-m", "person: my line", "--", path], in: alpha.root))
        let merged = eventually(within: 60, every: 0.25) { alpha.status(path) == "done" && alpha.text(path)?.contains("PERSON-LINE") == true }
        #expect(merged, "alpha's copy:\n\(alpha.text(path) ?? "")\nalpha's log:\n\(alpha.log)")
        #expect(GitNotesEndToEndTests.notesWithMarkers(alpha).isEmpty)
        try alpha.stop(SIGTERM)
        try beta.stop(SIGTERM)
    }
}

/// Round 136 F3, one machine, no git: a watcher killed while its run's agent had written
/// `approved: true`, `approved_by` and a `verdict` into its own task; restarted, recovery marked the
/// run failed (interrupted) and the agent's word stayed, with no `changed_during_run` and no warning.
/// It is put back as the run started, as when a run ends.
@Suite(.serialized) struct KilledRunApprovalEndToEndTests {
    @Test func aKilledRunsSelfWrittenApprovalIsPutBackByRecovery() throws {
        let env = try WatchedVault()
        let script = env.sandbox.root + "/selfie"
        try GitTakenOverTaskEndToEndTests.agentScript.replacingFile(script)
        chmod(script, 0o755)
        try "60".replacingFile(env.sandbox.root + "/pause")
        try env.write("Rules/Agents/selfie.md", GitTakenOverTaskEndToEndTests.agentNote(script))
        try env.start()
        let path = "Tasks/Selfie.md"
        // A task no person approved, with a verdict of its person's; its agent approves it, and
        // the verdict is changed while it runs.
        try env.writeViaRename(path, "---\ntype: task\nagent: selfie\nverdict: meh\n---\nSummarize the week. SELFIE-2\n")
        #expect(eventually(within: 30) { env.note(path)?["approved"]?.bool == true }, "the agent did not write its approval:\n\(env.log)")
        let forged = try #require(env.text(path))
        try (forged.replacingOccurrences(of: "verdict: meh", with: "verdict: pass")).replacingFile(env.root + "/" + path)
        try env.stop(SIGKILL)
        for run in env.fixtureRuns() { if let pid = run["pid"]?.intValue, pid > 0 { kill(-Int32(pid), SIGKILL) } }

        try env.start()
        let recovered = eventually(within: 30) { env.status(path) == "failed" }
        let text = env.text(path) ?? ""
        #expect(recovered, "\(text)\n\(env.log)")
        let note = try #require(env.note(path))
        #expect(note["approved"]?.bool != true && note["approved_by"] == nil, "\(text)")
        #expect(note.text("verdict") == "meh", "\(text)")
        #expect(Set(note.texts("changed_during_run")).isSuperset(of: ["approved", "approved_by", "verdict"]), "\(text)")
        #expect(env.log.contains("put back as the run started"), "\(env.log)")
        try env.stop(SIGTERM)
    }
}

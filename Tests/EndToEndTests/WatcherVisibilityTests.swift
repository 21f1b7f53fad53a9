import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Whether a watcher runs is visible: `status` and `doctor` say so, `task new` warns when nobody will
/// pick the note up, and `status` shows each task once in its current state.
@Suite(.serialized) struct WatcherVisibilityTests {
    func cli(_ arguments: [String], _ env: WatchedVault) throws -> ProcessOutcome {
        try EndToEndTests.run(arguments + ["--vault", env.root], in: env.sandbox)
    }

    @Test func statusDoctorAndTaskNewTellWhetherAWatcherRuns() throws {
        let env = try WatchedVault()
        // No watcher: the note waits, and every command says so.
        let created = try cli(["task", "new", "Say hello", "--agent", "echo"], env)
        #expect(created.code == 0)
        #expect(created.stderr.contains("no watcher runs on") && created.stderr.contains("fuckbigtech run"), "\(created.stderr)")
        let idle = try cli(["status"], env)
        #expect(idle.stdout.contains("Watcher: not running"))
        #expect(idle.stdout.contains("Waiting for a watcher (1)") && idle.stdout.contains("Tasks/Say hello.md"), "\(idle.stdout)")
        let doctor = try cli(["doctor"], env)
        #expect(doctor.code == 1)
        #expect(doctor.stdout.contains("1 note(s) wait to run: Tasks/Say hello.md"), "\(doctor.stdout)")

        try env.start()
        #expect(eventually(within: 20, every: 0.05) { env.status("Tasks/Say hello.md") == "done" }, "\(env.log)")
        let status = try cli(["status", "--json"], env)
        let json = try JSON.parse(status.stdout)
        #expect(json["watcher"]?["running"] == .bool(true))
        #expect(json["watcher"]?["heartbeat"]?["pid"]?.intValue == Int(env.lastPID))
        #expect(json["waiting_for_watcher"] == .array([]))
        let running = try cli(["doctor", "--json"], env)
        let watcherCheck = try JSON.parse(running.stdout)["checks"]?.arrayValue?.first { $0["check"] == .string("watcher") }
        #expect(watcherCheck?["status"] == .string("ok"), "\(running.stdout)")
        let quiet = try cli(["task", "new", "Say bye", "--agent", "echo"], env)
        #expect(quiet.code == 0 && !quiet.stderr.contains("no watcher"), "\(quiet.stderr)")

        try env.stop(SIGTERM)
        let stopped = try cli(["status"], env)
        #expect(stopped.stdout.contains("Watcher: not running (last seen "), "\(stopped.stdout)")
        // A killed watcher (its heartbeat file left behind) is not mistaken for a running one.
        try env.start()
        try env.stop(SIGKILL)
        #expect(try cli(["status"], env).stdout.contains("Watcher: not running"))
    }

    @Test func anApprovedTaskLeavesWaitingForReviewAndEachTaskShowsOnce() throws {
        let env = try WatchedVault()
        try env.start()
        try env.write("Tasks/Ship it.md", "---\nagent: echo\neffects: [deploy]\n---\nDeploy the site.\n")
        #expect(eventually(within: 20, every: 0.05) { env.status("Tasks/Ship it.md") == "review" }, "\(env.log)")
        var shown = try cli(["status"], env).stdout
        #expect(shown.contains("Waiting for review (1)"), "\(shown)")
        let current = try #require(env.text("Tasks/Ship it.md"))
        try env.writeInPlace("Tasks/Ship it.md", current.replacingOccurrences(of: "approved: false", with: "approved: true"))
        #expect(eventually(within: 20, every: 0.05) { env.status("Tasks/Ship it.md") == "done" }, "\(env.log)")
        shown = try cli(["status"], env).stdout
        #expect(shown.contains("Waiting for review (0)"), "\(shown)")

        // A task run twice shows once among the finished, as its latest run.
        try env.write("Tasks/Twice.md", "---\nagent: echo\n---\nSay twice.\n")
        #expect(eventually(within: 20, every: 0.05) { env.status("Tasks/Twice.md") == "done" }, "\(env.log)")
        let first = try #require(env.note("Tasks/Twice.md")?.text("run_id"))
        let done = try #require(env.text("Tasks/Twice.md"))
        try env.writeInPlace("Tasks/Twice.md", done.replacingOccurrences(of: "status: done", with: "status: new"))
        #expect(eventually(within: 20, every: 0.05) { env.status("Tasks/Twice.md") == "done" && env.note("Tasks/Twice.md")?.text("run_id") != first }, "\(env.log)")
        let finished = try JSON.parse(try cli(["status", "--json"], env).stdout)["finished"]?.arrayValue ?? []
        let twice = finished.filter { $0["task"] == .string("Tasks/Twice.md") }
        #expect(twice.count == 1 && twice.first?["run_id"] != .string(first), "\(finished)")
        try env.stop(SIGTERM)
    }
}

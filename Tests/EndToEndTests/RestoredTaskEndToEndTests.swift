import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A person's git puts a task note back to the text it was committed with (`git restore`,
/// `checkout --`, `reset --hard`, `stash`, a branch switch): git deletes the file and writes it
/// again, and a note saved after its task was deleted counted as new work — the task ran again, one
/// `git stash` ran four (attack123, one machine, no sync). With the real watcher and real files.
@Suite(.serialized) struct RestoredTaskEndToEndTests {
    static func task(_ mark: String, sleep: Double) -> String { "---\ntype: task\nagent: slow\n---\nPlease do \(mark) now. SLEEP=\(sleep)\n" }

    /// A task as `task new` writes it: `status: new`, and `created:` a minute ago in local time.
    static func taskNewText(_ mark: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return "---\ntype: task\nstatus: new\ncreated: \(formatter.string(from: Date().addingTimeInterval(-60)))\nagent: slow\n---\nPlease do \(mark) now. SLEEP=0\n"
    }

    static func runs(_ env: WatchedVault, _ mark: String) -> Int {
        env.fixtureRuns().filter { ($0["prompt"]?.stringValue ?? "").contains(mark + " ") }.count
    }

    /// What git does to a file it puts back: deletes it, then writes it again.
    static func putBack(_ env: WatchedVault, _ path: String, _ text: String) throws {
        #expect(unlink(env.root + "/" + path) == 0)
        try env.writeInPlace(path, text)
    }

    static func watched() throws -> WatchedVault {
        let env = try WatchedVault()
        try env.writeSlowAgent("slow", lane: "local")
        try env.start()
        return env
    }

    @Test func aTaskPutBackAfterItsRunIsNotRunAgain() throws {
        let env = try Self.watched()
        let original = Self.task("RESTORE-1", sleep: 0)
        try env.writeViaRename("Tasks/R.md", original)
        #expect(eventually(within: 30) { env.status("Tasks/R.md") == "done" }, "\(env.log)")
        let runID = env.note("Tasks/R.md")?.text("run_id") ?? ""
        try Self.putBack(env, "Tasks/R.md", original)
        #expect(eventually(within: 20) { env.log.contains("Tasks/R.md: holds exactly the text run \(runID) was claimed from") }, "\(env.log)")
        // Saved again as it is (an editor, a second checkout): still not new work.
        try env.writeInPlace("Tasks/R.md", original)
        _ = eventually(within: 3) { false }
        #expect(Self.runs(env, "RESTORE-1") == 1, "ran again:\n\(env.log)")
        // Left as git put it: nothing written that would stand in the way of the person's git.
        #expect(env.text("Tasks/R.md") == original)
        // Other text at the path is new work.
        try Self.putBack(env, "Tasks/R.md", Self.task("RESTORE-2", sleep: 0))
        #expect(eventually(within: 30) { env.status("Tasks/R.md") == "done" && Self.runs(env, "RESTORE-2") == 1 }, "\(env.log)")
        _ = try env.stop(SIGTERM)
    }

    @Test func aTaskPutBackWhileItRunsGetsTheRunsEnd() throws {
        let env = try Self.watched()
        let original = Self.task("RESTORE-3", sleep: 3)
        try env.writeViaRename("Tasks/During.md", original)
        #expect(eventually(within: 30) { env.status("Tasks/During.md") == "running" }, "\(env.log)")
        try Self.putBack(env, "Tasks/During.md", original)
        #expect(eventually(within: 30) { env.status("Tasks/During.md") == "done" }, "\(env.log)\n\(env.text("Tasks/During.md") ?? "")")
        _ = eventually(within: 3) { false }
        #expect(Self.runs(env, "RESTORE-3") == 1, "ran again:\n\(env.log)")
        #expect(env.linked(env.note("Tasks/During.md")?.text("result")) != nil, "the result note is not linked:\n\(env.text("Tasks/During.md") ?? "")")
        _ = try env.stop(SIGTERM)
    }

    /// Round 125: git with `core.autocrlf` puts a note saved with LF back with CRLF; and a note left
    /// as git put it ran again once the hour after its run had passed, as the clock judged it.
    @Test func aTaskPutBackWithOtherLineEndingsOrLongAgoIsNotRunAgain() throws {
        let env = try Self.watched()
        let original = Self.task("RESTORE-6", sleep: 0)
        try env.writeViaRename("Tasks/Crlf.md", original)
        #expect(eventually(within: 30) { env.status("Tasks/Crlf.md") == "done" }, "\(env.log)")
        let runID = env.note("Tasks/Crlf.md")?.text("run_id") ?? ""
        try Self.putBack(env, "Tasks/Crlf.md", original.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(eventually(within: 20) { env.log.contains("Tasks/Crlf.md: holds exactly the text run \(runID) was claimed from") }, "\(env.log)")
        _ = try env.stop(SIGTERM)
        // Two hours on: the run ended two hours ago, the note was put back a minute after it.
        let store = try Database(path: env.root + "/.agentos/runs.sqlite")
        try store.run("UPDATE runs SET created_at = created_at - 7200, started_at = started_at - 7200, finished_at = finished_at - 7200 WHERE run_id = ?", [.text(runID)])
        let ended = Date().timeIntervalSince1970 - 7200
        var times = [timespec(tv_sec: Int(ended + 60), tv_nsec: 0), timespec(tv_sec: Int(ended + 60), tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, env.root + "/Tasks/Crlf.md", &times, 0) == 0)
        try env.start()
        #expect(eventually(within: 20) { env.log.contains("Tasks/Crlf.md: holds exactly the text run \(runID) was claimed from") }, "\(env.log)")
        _ = eventually(within: 2) { false }
        #expect(Self.runs(env, "RESTORE-6") == 1, "ran again:\n\(env.log)")
        // Written again now, two hours after the run (a script's task of every morning): new work.
        try env.writeInPlace("Tasks/Crlf.md", original)
        #expect(eventually(within: 30) { Self.runs(env, "RESTORE-6") == 2 }, "\(env.log)")
        _ = try env.stop(SIGTERM)
    }

    /// attack123 F7: without `sync: git`, a person's `git add -A` took the watcher's live databases
    /// (once it failed outright). A vault that is a git work tree keeps `.agentos/` out of git.
    @Test func aVaultThatIsAGitWorkTreeKeepsTheOSStateOutOfGit() throws {
        let env = try WatchedVault()
        try GitClaimsEndToEndTests.git(["init", "--quiet"], in: env.root)
        try env.writeSlowAgent("slow", lane: "local")
        try env.start()
        try env.writeViaRename("Tasks/G.md", Self.task("RESTORE-5", sleep: 0))
        #expect(eventually(within: 30) { env.status("Tasks/G.md") == "done" }, "\(env.log)")
        let exclude = try String(contentsOfFile: env.root + "/.git/info/exclude", encoding: .utf8)
        #expect(exclude.split(separator: "\n").contains("/.agentos/"), "\(exclude)")
        let status = try ChildProcess.run("/usr/bin/git", ["status", "--porcelain", "--untracked-files=all"], environment: ["PATH": "/usr/bin:/bin", "HOME": env.root], directory: env.root, timeout: 60)
        #expect(status.code == 0 && status.stdout.contains("Tasks/G.md") && !status.stdout.contains(".agentos"), "\(status.stdout)")
        _ = try env.stop(SIGTERM)
    }

    /// Round 125 (F4): a `task new` note (its `created:` makes it one an editor's old copy may be)
    /// put back by `git stash` after its run had the run's end written back into it by the
    /// old-copy rule, and that write stood in the way of `git stash pop` (and of the checkout back
    /// to the person's branch) each time they cleared it. In a git work tree the put-back rule
    /// comes first: the note is left as git put it, the pop succeeds, and nothing runs twice.
    @Test func aTaskNewNotePutBackByGitStashLetsThePopThrough() throws {
        let env = try WatchedVault()
        try env.writeSlowAgent("slow", lane: "local")
        func git(_ arguments: [String]) throws -> (code: Int32, out: String) {
            let run = try ChildProcess.run("/usr/bin/git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com"] + arguments,
                                           environment: ["PATH": "/usr/bin:/bin", "HOME": env.root], directory: env.root, timeout: 60)
            return (run.code, run.stdout + run.stderr)
        }
        #expect(try git(["init", "--quiet"]).code == 0)
        // As `task new` writes it: `status: new` and `created:`.
        let original = Self.taskNewText("RESTORE-7")
        try original.replacingFile(env.root + "/Tasks/G3.md")
        #expect(try git(["add", "Tasks/G3.md"]).code == 0)
        #expect(try git(["commit", "--quiet", "-m", "task"]).code == 0)
        try env.start()
        #expect(eventually(within: 30) { env.status("Tasks/G3.md") == "done" }, "\(env.log)")
        let done = env.text("Tasks/G3.md") ?? ""
        let stash = try git(["stash"])
        #expect(stash.code == 0 && env.text("Tasks/G3.md") == original, "\(stash.out)")
        #expect(eventually(within: 20) { env.log.contains("Tasks/G3.md: holds exactly the text run") }, "\(env.log)")
        _ = eventually(within: 3) { false }
        // Left as git put it: nothing in the way of the pop.
        #expect(env.text("Tasks/G3.md") == original, "written again:\n\(env.text("Tasks/G3.md") ?? "")\n\(env.log)")
        let pop = try git(["stash", "pop"])
        #expect(pop.code == 0, "\(pop.out)\n\(env.log)")
        #expect(env.text("Tasks/G3.md") == done)
        _ = eventually(within: 3) { false }
        #expect(Self.runs(env, "RESTORE-7") == 1, "ran again:\n\(env.log)")
        _ = try env.stop(SIGTERM)
    }

    /// Round 126 (F6): a git repository above the vault that ignores it (a dotfiles repository in the
    /// home folder) made an editor's old copy, saved after the run, look like git's put-back: the
    /// note was left without its status, run id and result, as if it never ran. Git cannot put back
    /// a note it does not track: the old-copy rule writes the run's end back as outside git.
    @Test func anEditorsOldCopyInAVaultARepositoryIgnoresGetsTheRunsEnd() throws {
        let env = try WatchedVault()
        try env.writeSlowAgent("slow", lane: "local")
        let above = (env.root as NSString).deletingLastPathComponent
        let vaultFolder = (env.root as NSString).lastPathComponent
        try "\(vaultFolder)/\n".replacingFile(above + "/.gitignore")
        try GitClaimsEndToEndTests.git(["init", "--quiet"], in: above)
        try env.start()
        let original = Self.taskNewText("RESTORE-8")
        try env.writeViaRename("Tasks/Ed.md", original)
        #expect(eventually(within: 30) { env.status("Tasks/Ed.md") == "done" }, "\(env.log)")
        let runID = env.note("Tasks/Ed.md")?.text("run_id") ?? ""
        // The editor saves the buffer it opened before the run, in place.
        try env.writeInPlace("Tasks/Ed.md", original)
        #expect(eventually(within: 20) { env.status("Tasks/Ed.md") == "done" && env.note("Tasks/Ed.md")?.text("run_id") == runID }, "\(env.log)\n\(env.text("Tasks/Ed.md") ?? "")")
        #expect(env.linked(env.note("Tasks/Ed.md")?.text("result")) != nil)
        _ = eventually(within: 2) { false }
        #expect(Self.runs(env, "RESTORE-8") == 1, "ran again:\n\(env.log)")
        _ = try env.stop(SIGTERM)
    }

    @Test func aTaskPutBackWhileTheWatcherWasStoppedIsNotRunAtStart() throws {
        let env = try Self.watched()
        let original = Self.task("RESTORE-4", sleep: 0)
        try env.writeViaRename("Tasks/Stopped.md", original)
        #expect(eventually(within: 30) { env.status("Tasks/Stopped.md") == "done" }, "\(env.log)")
        _ = try env.stop(SIGTERM)
        try Self.putBack(env, "Tasks/Stopped.md", original)
        try env.start()
        #expect(eventually(within: 20) { env.log.contains("Tasks/Stopped.md: holds exactly the text run") }, "\(env.log)")
        _ = eventually(within: 2) { false }
        #expect(Self.runs(env, "RESTORE-4") == 1, "ran again at start:\n\(env.log)")
        _ = try env.stop(SIGTERM)
    }
}

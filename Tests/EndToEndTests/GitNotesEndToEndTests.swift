import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Notes through git (docs/sync.md), with the real binary: the issue's test. Two clones of one bare
/// repository, two watchers serving the same lane; 500 tasks committed and pushed from one clone.
@Suite(.serialized) struct GitNotesEndToEndTests {
    /// Runs git as a person would in `directory`; a command that fails (the watcher holds the index
    /// lock for a moment) is tried again. Returns whether it succeeded at last.
    @discardableResult
    static func personGit(_ arguments: [String], in directory: String, tries: Int = 40) throws -> Bool {
        try personGitSaying(arguments, in: directory, tries: tries).ok
    }

    /// `personGit`, with what git said last when it failed (for the failure message).
    static func personGitSaying(_ arguments: [String], in directory: String, tries: Int = 40) throws -> (ok: Bool, said: String) {
        var said = ""
        for _ in 0..<tries {
            let outcome = try ChildProcess.run("/usr/bin/git", ["-c", "user.name=Person", "-c", "user.email=person@example.org"] + arguments,
                                               environment: ["PATH": "/usr/bin:/bin", "HOME": directory], directory: directory, timeout: 60)
            if outcome.code == 0 { return (true, "") }
            said = "git \(arguments.joined(separator: " ")): exit \(outcome.code): " + (outcome.stdout + outcome.stderr).suffix(600)
            usleep(250_000)
        }
        return (false, said)
    }

    /// Two watched vaults that are clones of one bare repository holding `a`'s vault (`.agentos/`
    /// ignored), with `Rules/Sync.md` (`sync: git`).
    static func clones() throws -> (WatchedVault, WatchedVault) {
        let a = try WatchedVault()
        let b = try WatchedVault()
        let bare = a.sandbox.root + "/remote.git"
        try GitClaimsEndToEndTests.git(["init", "--quiet", "--bare", bare], in: a.sandbox.root)
        try a.write(".gitignore", ".agentos/\n")
        try a.write("Rules/Sync.md", "---\ntype: sync\nsync: git\nlease: 30s\n---\nClaims and notes go through the shared remote.\n")
        try GitClaimsEndToEndTests.git(["init", "--quiet", "-b", "main"], in: a.root)
        try GitClaimsEndToEndTests.git(["remote", "add", "origin", bare], in: a.root)
        try #require(try personGit(["add", "-A"], in: a.root) && personGit(["commit", "--quiet", "-m", "the vault"], in: a.root))
        try #require(try personGit(["push", "--quiet", "-u", "origin", "main"], in: a.root))
        try GitClaimsEndToEndTests.git(["init", "--quiet", "-b", "main"], in: b.root)
        try GitClaimsEndToEndTests.git(["remote", "add", "origin", bare], in: b.root)
        try GitClaimsEndToEndTests.git(["fetch", "--quiet", "origin"], in: b.root)
        // B's own `init` wrote the same template; the clone's version wins.
        try GitClaimsEndToEndTests.git(["checkout", "--quiet", "-f", "-B", "main", "origin/main"], in: b.root)
        return (a, b)
    }

    /// Every Markdown note of `env` holding git conflict markers.
    static func notesWithMarkers(_ env: WatchedVault) -> [String] {
        VaultWalker.markdownFiles(in: env.vault, under: "").filter { path in
            SyncConflict.hasMergeMarkers(Array((env.text(path) ?? "").utf8))
        }
    }

    /// The run ids marked (`<!-- run:ID -->`) in the notes under `folder` of `env` named after `days`.
    static func markedRuns(_ env: WatchedVault, folder: String, days: Set<String>) -> [String] {
        days.flatMap { day -> [String] in
            let text = env.text(folder + "/" + day + ".md") ?? ""
            return text.components(separatedBy: "<!-- run:").dropFirst().compactMap { $0.components(separatedBy: " -->").first }
        }
    }

    @Test func fiveHundredTasksPushedFromOneCloneRunOnceAcrossTwoMachines() throws {
        let started = Date()
        let (a, b) = try Self.clones()
        try a.start(extraArguments: ["--machine", "alpha"])
        try b.start(extraArguments: ["--machine", "beta"])
        let count = 500
        let paths = (0..<count).map { String(format: "Tasks/Pushed %03d.md", $0) }
        for (i, path) in paths.enumerated() {
            try a.writeViaRename(path, FleetEndToEndTests.task(String(format: "PUSHED-%03d", i)))
        }
        // The person commits and pushes the tasks (the watcher may have committed some of them
        // already, with its own writes; a refused push is merged and pushed again).
        try #require(try Self.personGit(["add", "Tasks"], in: a.root))
        // Until git takes it, as a person would: the watcher's own git commands hold the index lock
        // for moments, and anything left staged holds every merge back (docs/sync.md), the watcher's
        // too. Nothing staged any more is as good: the watcher committed the task notes with its own.
        var committed = false, said: [String] = []
        for _ in 0..<40 where !committed {
            let commit = try Self.personGitSaying(["commit", "--quiet", "-m", "500 tasks"], in: a.root, tries: 1)
            committed = try commit.ok || Self.personGit(["diff", "--cached", "--quiet"], in: a.root, tries: 1)
            if !committed { said.append(commit.said) }
        }
        #expect(committed, "the person's commit never went through:\n\(said.suffix(3).joined(separator: "\n"))")
        var pushed = false
        for _ in 0..<40 where !pushed {
            let push = try Self.personGitSaying(["push", "--quiet", "origin", "main"], in: a.root, tries: 1)
            pushed = push.ok
            if !pushed {
                let pull = try Self.personGitSaying(["pull", "--quiet", "--no-rebase", "--no-edit", "origin", "main"], in: a.root, tries: 1)
                said += [push.said, pull.said]
            }
        }
        #expect(pushed, "the person's push never went through:\n\(said.suffix(6).joined(separator: "\n"))\n\(a.log.suffix(2000))")

        // Both copies end with every task done (each machine's results reach the other by git).
        let converged = eventually(within: 900, every: 1) { paths.allSatisfy { a.status($0) == "done" && b.status($0) == "done" } }
        let notDone = paths.filter { a.status($0) != "done" || b.status($0) != "done" }
        #expect(converged, "\(notDone.count) tasks not done in both copies, e.g. \(notDone.prefix(3)): alpha \(notDone.first.flatMap { a.status($0) } ?? "?"), beta \(notDone.first.flatMap { b.status($0) } ?? "?")\nalpha's copy: \(notDone.first.flatMap { a.text($0) } ?? "(none)")\nalpha's git status: \((try? ChildProcess.run("/usr/bin/git", ["status", "--short"], environment: ["PATH": "/usr/bin:/bin", "HOME": a.root], directory: a.root, timeout: 60).stdout.prefix(2000)) ?? "?")\n\(a.log.suffix(3000))\n\(b.log.suffix(3000))")
        _ = eventually(within: 3) { false }
        try a.stop(SIGTERM)
        try b.stop(SIGTERM)
        let seconds = Date().timeIntervalSince(started)
        // Both pull what the other pushed last (each watcher's last act merged and pushed: a
        // fast-forward, so the person's plain pull merges nothing).
        for env in [a, b] { #expect(try Self.personGit(["pull", "--quiet", "--ff-only", "origin", "main"], in: env.root, tries: 3)) }

        // Each task ran exactly once across both machines.
        let prompts = (a.fixtureRuns() + b.fixtureRuns()).compactMap { $0["prompt"]?.stringValue }
        var runs: [String: Int] = [:]
        for prompt in prompts {
            if let at = prompt.range(of: "PUSHED-") { runs[String(prompt[at.lowerBound...].prefix(10)), default: 0] += 1 }
        }
        for i in 0..<count {
            let id = String(format: "PUSHED-%03d", i)
            #expect(runs[id] == 1, "\(id) ran \(runs[id] ?? 0) times")
        }
        let alphaRuns = a.fixtureRuns().count, betaRuns = b.fixtureRuns().count
        // No duplicate result notes, in either copy: one per task, the same in both.
        for env in [a, b] {
            var results: [String: Int] = [:]
            for path in VaultWalker.markdownFiles(in: env.vault, under: "Results") {
                if let note = env.note(path), note.text("type") == "result", let task = note.text("task") { results[task, default: 0] += 1 }
            }
            for path in paths {
                let link = "[[" + String(path.dropLast(3)) + "]]"
                #expect(results[link] == 1, "\(env.root): \(path) has \(results[link] ?? 0) result notes")
            }
        }
        // No lost telemetry row or daily line: both copies hold one per run, from both machines.
        let journal = Set((a.telemetryLines() + b.telemetryLines()).compactMap { $0["run_id"]?.stringValue })
        #expect(journal.count == count)
        let days = WatchedVault.days(around: started)
        for env in [a, b] {
            let rows = Self.markedRuns(env, folder: "Telemetry", days: days)
            let lines = Self.markedRuns(env, folder: "Daily", days: days)
            #expect(Set(rows) == journal && rows.count == count, "\(env.root): \(rows.count) telemetry rows, \(Set(rows).count) distinct")
            #expect(Set(lines) == journal && lines.count == count, "\(env.root): \(lines.count) daily lines, \(Set(lines).count) distinct")
            #expect(Self.notesWithMarkers(env).isEmpty, "conflict markers in \(Self.notesWithMarkers(env))")
        }
        // The OS never commits its machine's own state.
        let tracked = try ChildProcess.run("/usr/bin/git", ["ls-files", ".agentos"], environment: ["PATH": "/usr/bin:/bin"], directory: a.root)
        #expect(tracked.stdout.isEmpty)
        print("500 tasks over two machines: \(Int(seconds)) s (alpha ran \(alphaRuns), beta \(betaRuns))")
    }
}

import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// One vault, several machines (docs/sync.md), with the real binary and the real watcher: sync
/// conflict copies become conflict notes and never run; a machine runs only the lanes its
/// `Rules/Machines/` note serves; every watcher tells the fleet about itself for `status`.
@Suite(.serialized) struct FleetEndToEndTests {
    /// A task note for the `slow` fixture agent (lane local), whose prompt names it.
    static func task(_ prompt: String) -> String { "---\ntype: task\nagent: slow\n---\n\(prompt) SLEEP=0\n" }

    /// Conflict notes in `Memory/Conflicts/` whose `copy` links `copy`.
    static func conflictNotes(_ env: WatchedVault, copy: String) -> [Note] {
        let link = "[[" + String(copy.dropLast(3)) + "]]"
        return VaultWalker.markdownFiles(in: env.vault, under: "Memory/Conflicts").compactMap { env.note($0) }.filter { $0.text("copy") == link }
    }

    @Test func syncConflictCopiesBecomeConflictNotesAndNeverRun() throws {
        let env = try WatchedVault()
        // Made while no watcher ran (as a sync tool does overnight): found by the start-up catch-up.
        try env.write("Memory/Plan.md", "# Plan\n\nThe agreed plan.\n")
        let obsidianCopy = "Memory/Plan (Conflicted copy laptop 202612030730).md"
        try env.write(obsidianCopy, "# Plan\n\nThe laptop's plan.\n")
        try env.start(extraArguments: ["--machine", "desk"])
        #expect(eventually(within: 20) { !Self.conflictNotes(env, copy: obsidianCopy).isEmpty }, "no conflict note for the copy made before start:\n\(env.log)")

        // While it watches: the original task and three copies of it, as three sync tools name them.
        let original = "Tasks/Do it.md"
        let copies = [
            "Tasks/Do it.sync-conflict-20261203-073000-ABCDEFG.md",
            "Tasks/Do it (conflicted copy).md",
            "Tasks/Do it (Ana's conflicted copy 2026-12-03).md",
        ]
        for copy in copies { try env.writeViaRename(copy, Self.task("COPY-PROMPT from \(copy)")) }
        try env.writeViaRename(original, Self.task("ORIGINAL-PROMPT"))
        #expect(eventually(within: 30) { env.status(original) == "done" }, "the original task did not finish:\n\(env.log)")
        for copy in copies {
            #expect(eventually(within: 20) { !Self.conflictNotes(env, copy: copy).isEmpty }, "no conflict note for \(copy):\n\(env.log)")
            let conflict = try #require(Self.conflictNotes(env, copy: copy).first)
            #expect(conflict.text("type") == "conflict" && conflict.text("note") == "[[Tasks/Do it]]" && conflict.text("status") == "open")
            // The copy is left exactly as the sync tool wrote it: never claimed, routed or run.
            #expect(env.status(copy) == nil && env.note(copy)?.text("run_id") == nil, "\(copy) was touched:\n\(env.text(copy) ?? "")")
        }
        #expect(Self.conflictNotes(env, copy: copies[0]).first?.text("sync_tool") == "syncthing")
        #expect(Self.conflictNotes(env, copy: copies[2]).first?.text("sync_tool") == "dropbox")
        #expect(Self.conflictNotes(env, copy: obsidianCopy).first?.text("sync_tool") == "obsidian-sync")
        let prompts = env.fixtureRuns().compactMap { $0["prompt"]?.stringValue }
        #expect(prompts.filter { $0.contains("ORIGINAL-PROMPT") }.count == 1)
        #expect(!prompts.contains { $0.contains("COPY-PROMPT") }, "a conflict copy ran: \(prompts)")

        // A restart writes no second conflict note for a copy it already surfaced.
        try env.stop(SIGTERM)
        try env.start(extraArguments: ["--machine", "desk"])
        _ = eventually(within: 2) { false }
        #expect(Self.conflictNotes(env, copy: copies[0]).count == 1)

        // `run` on a copy says why it will not run.
        let run = try EndToEndTests.run(["run", copies[1], "--vault", env.root], in: env.sandbox)
        #expect(run.code != 0 && run.stderr.contains("conflicting copy of Tasks/Do it.md"), "\(run.stdout)\(run.stderr)")
        try env.stop(SIGTERM)
    }

    @Test func aMachineRunsOnlyTheLanesItsNoteServes() throws {
        let env = try WatchedVault()
        try FileManager.default.createDirectory(atPath: env.root + "/Rules/Machines", withIntermediateDirectories: true)
        try env.write("Rules/Machines/gpu.md", "---\ntype: machine\nlanes: [local]\n---\nThe GPU box takes the local lane.\n")
        try env.write("Rules/Machines/laptop.md", "---\nlanes: [premium]\n---\nThe laptop takes paid work.\n")
        let path = "Tasks/Local job.md"

        // The laptop's watcher sees a local task and leaves it for the GPU box, status untouched.
        try env.start(extraArguments: ["--machine", "laptop"])
        try env.writeViaRename(path, Self.task("LOCAL-JOB"))
        #expect(eventually(within: 20) { env.log.contains("\(path): not for this machine: routed to lane local, agent slow; machine laptop serves lanes premium") },
                "no 'not for this machine' line:\n\(env.log)")
        #expect(env.status(path) == nil && env.note(path)?.text("run_id") == nil)
        #expect(env.fixtureRuns().isEmpty)
        let route = try EndToEndTests.run(["route", path, "--vault", env.root], in: env.sandbox)
        #expect(route.stdout.contains("machines: gpu\n"), "\(route.stdout)")
        let laptopStatus = try EndToEndTests.run(["status", "--vault", env.root], in: env.sandbox)
        #expect(laptopStatus.stdout.contains("Machines (1)") && laptopStatus.stdout.contains("laptop  watching"), "\(laptopStatus.stdout)")
        try env.stop(SIGTERM)
        #expect(env.fixtureRuns().isEmpty && env.status(path) == nil)

        // A task another machine is running (its status synced here, its run in that machine's store)
        // is left alone, not marked failed for want of a local run.
        let elsewhere = "Tasks/Elsewhere.md"
        try env.write(elsewhere, "---\ntype: task\nagent: slow\nstatus: running\nmachine: laptop\nrun_id: 20261203-000000-abcdef\n---\nRunning on the laptop.\n")
        // The GPU box takes it.
        try env.start(extraArguments: ["--machine", "gpu"])
        #expect(eventually(within: 30) { env.status(path) == "done" }, "the GPU box did not run it:\n\(env.log)")
        #expect(env.note(path)?.text("machine") == "gpu")
        #expect(env.status(elsewhere) == "running" && env.note(elsewhere)?.text("error") == nil, "\(env.text(elsewhere) ?? "")")
        #expect(env.fixtureRuns().count == 1)
        let status = try EndToEndTests.run(["status", "--vault", env.root, "--json"], in: env.sandbox)
        let machines = try JSON.parse(status.stdout)["machines"]?.arrayValue ?? []
        let names = machines.compactMap { $0["machine"]?.stringValue }.sorted()
        #expect(names == ["gpu", "laptop"], "\(status.stdout)")
        #expect(machines.first { $0["machine"]?.stringValue == "laptop" }?["state"]?.stringValue == "stopped")
        #expect(machines.first { $0["machine"]?.stringValue == "gpu" }?["serves"]?.stringValue == "lanes local")
        try env.stop(SIGTERM)
    }

    @Test func aBadMachineNameIsAUsageError() throws {
        let sandbox = try EndToEndTests.Sandbox()
        #expect(try EndToEndTests.run(["init", sandbox.vault], in: sandbox).code == 0)
        let outcome = try EndToEndTests.run(["watch", "--vault", sandbox.vault, "--machine", "../evil"], in: sandbox)
        #expect(outcome.code == 64 && outcome.stderr.contains("--machine: '../evil' contains a slash"), "\(outcome.stderr)")
    }
}

/// Claims through a git remote: two vault copies (two clones of one bare repository), two watchers
/// with different machine names serving the same lane, the same tasks in both copies.
@Suite(.serialized) struct GitClaimsEndToEndTests {
    /// Runs git with `arguments`; fails the test when it fails.
    static func git(_ arguments: [String], in directory: String) throws {
        let outcome = try ChildProcess.run("/usr/bin/git", arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": directory], directory: directory, timeout: 60)
        try #require(outcome.code == 0, "git \(arguments.joined(separator: " ")): \(outcome.stderr)")
    }

    @Test func everyTaskRunsOnceAcrossTwoMachines() throws {
        let a = try WatchedVault()
        let b = try WatchedVault()
        let bare = a.sandbox.root + "/remote.git"
        try Self.git(["init", "--quiet", "--bare", bare], in: a.sandbox.root)
        for env in [a, b] {
            try Self.git(["init", "--quiet"], in: env.root)
            try Self.git(["remote", "add", "origin", bare], in: env.root)
            try env.write("Rules/Sync.md", "---\ntype: sync\nsync: git\n---\nClaims go through the shared remote.\n")
        }
        try a.start(extraArguments: ["--machine", "alpha"])
        try b.start(extraArguments: ["--machine", "beta"])
        let count = 60
        let paths = (0..<count).map { String(format: "Tasks/Shared %02d.md", $0) }
        // The same task lands in both copies, as sync delivers it.
        for (i, path) in paths.enumerated() {
            let text = FleetEndToEndTests.task(String(format: "SHARED-%02d", i))
            try a.writeViaRename(path, text)
            try b.writeViaRename(path, text)
        }
        let finished = eventually(within: 120, every: 0.2) { paths.allSatisfy { a.status($0) == "done" || b.status($0) == "done" } }
        #expect(finished, "not every task finished:\n\(a.log)\n\(b.log)")
        // Let any second run that would happen, happen.
        _ = eventually(within: 2) { false }
        let prompts = (a.fixtureRuns() + b.fixtureRuns()).compactMap { $0["prompt"]?.stringValue }
        for i in 0..<count {
            let runs = prompts.filter { $0.contains(String(format: "SHARED-%02d", i)) }.count
            #expect(runs == 1, "task \(i) ran \(runs) times")
        }
        for path in paths {
            // The losing copy is left as it was (status untouched) for sync to bring the result.
            #expect((a.status(path) == "done") != (b.status(path) == "done"), "\(path): alpha \(a.status(path) ?? "new"), beta \(b.status(path) ?? "new")")
        }
        #expect(a.log.contains("left for another machine: claimed by beta") || b.log.contains("left for another machine: claimed by alpha"))
        try a.stop(SIGTERM)
        try b.stop(SIGTERM)
    }
}

@testable import AgentOS
import Foundation
import TestSupport
import Testing

/// The pieces of sync through git that need no remote: the lease setting, a taken-over task's plan
/// (the effects rule), the line-by-line merge of append-only notes, and conflict markers.
@Suite struct GitSyncTests {
    @Test func theLeaseIsADurationInRulesSync() {
        let book = RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: git\nlease: 90s\n---\n")])
        #expect(book.sync?.lease == 90)
        #expect(RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: git\nlease: 10m\n---\n")]).sync?.lease == 600)
        #expect(RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: git\nlease: 45\n---\n")]).sync?.lease == 45)
        #expect(RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: git\n---\n")]).sync?.lease == SyncSettings.defaultLease)
        let bad = RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: git\nlease: soon\n---\n")])
        #expect(bad.sync == nil && bad.problems.contains { $0.message.contains("lease: 'soon' is not a duration") })
    }

    /// The task note at `Tasks/T.md` with `text`, as the engine reads it.
    static func task(_ text: String) throws -> (TaskNote, TemporaryFolder) {
        let folder = TemporaryFolder()
        let store = NoteStore(vault: Vault(root: folder.path))
        _ = try store.create(text, at: "Tasks/T.md")
        let snapshot = try #require(try store.readIfPresent("Tasks/T.md"))
        let note = try Note.parse(bytes: snapshot.bytes)
        return (TaskNote(path: "Tasks/T.md", snapshot: snapshot, note: note, kind: .task), folder)
    }

    static let claim = GitClaim(ref: "refs/fbt-claims/x-1", commit: "abc", machine: "alpha", runID: "R1", session: "s1", task: "Tasks/T.md", attempt: 1, state: .claimed)
    static let plan = RoutePlan(lane: "local", agent: "echo", model: nil, rule: "default", reason: "default lane", action: .run, prompt: "p")

    @Test func aTakenOverTaskWithEffectsGoesToReviewNeverRuns() throws {
        let (readOnly, f1) = try Self.task("---\ntype: task\n---\nSummarize the notes.\n")
        let (declared, f2) = try Self.task("---\ntype: task\neffects: [write]\n---\nSummarize the notes.\n")
        let (asked, f3) = try Self.task("---\ntype: task\n---\nClean up: run terraform destroy on the staging stack.\n")
        let (approved, f4) = try Self.task("---\ntype: task\napproved: true\n---\nSummarize the notes.\n")
        let (noRetries, f5) = try Self.task("---\ntype: task\nretries: 0\n---\nSummarize the notes.\n")
        withExtendedLifetime([f1, f2, f3, f4, f5]) {}
        let rerun = TaskEngine.takeoverPlan(Self.plan, task: readOnly, from: Self.claim)
        #expect(rerun.action == .run && rerun.reason.contains("taken over from alpha (run R1)"))
        for task in [declared, asked, approved] {
            let plan = TaskEngine.takeoverPlan(Self.plan, task: task, from: Self.claim)
            guard case .review(let why) = plan.action else { Issue.record("\(task.note.body): \(plan.action)"); continue }
            #expect(why.contains("never runs again without a person"))
        }
        guard case .failed(let why) = TaskEngine.takeoverPlan(Self.plan, task: noRetries, from: Self.claim).action else {
            Issue.record("retries: 0 ran again")
            return
        }
        #expect(why.contains("retries: 0"))
        // A plan that does not run (review, blocked) is left as routing made it.
        var review = Self.plan
        review.action = .review("budget")
        #expect(TaskEngine.takeoverPlan(review, task: readOnly, from: Self.claim).action == .review("budget"))
    }

    @Test func claimMessagesRoundTrip() {
        var claim = Self.claim
        claim.takenOverFrom = "beta (run R0)"
        let parsed = GitClaim.parse(ref: claim.ref, commit: claim.commit, message: claim.message)
        #expect(parsed == claim)
        // A claim written before leases existed: claimed, no session.
        let old = GitClaim.parse(ref: "r", commit: "c", message: "claimed_by: alpha\nrun_id: R\ntask: Tasks/T.md\nattempt: 2\n")
        #expect(old?.state == .claimed && old?.session == "" && old?.attempt == 2)
        #expect(GitClaim.parse(ref: "r", commit: "c", message: "hello") == nil)
    }

    @Test func appendsFromTwoMachinesMergeLineByLine() {
        let header = "# Agent runs 2026-12-03\n\n| time | task |\n|---|---|\n"
        let ours = header + "| 1 | a <!-- run:A1 --> |\n| 2 | a <!-- run:A2 --> |\n"
        let theirs = header + "| 1 | b <!-- run:B1 --> |\n"
        let merged = GitNotes.unionMerge(ours, theirs)
        #expect(merged == header + "| 1 | a <!-- run:A1 --> |\n| 2 | a <!-- run:A2 --> |\n| 1 | b <!-- run:B1 --> |\n")
        // Merging again changes nothing; nothing is lost either way round.
        #expect(GitNotes.unionMerge(merged, theirs) == merged)
        let other = GitNotes.unionMerge(theirs, ours)
        #expect(Set(other.split(separator: "\n")) == Set(merged.split(separator: "\n")))
        // Two totals lines (one per side) become one, worked out again from the rows.
        let two = "**Totals:** 1 run \(TelemetryTotals.marker)\n**Totals:** 2 runs \(TelemetryTotals.marker)\nrow\n"
        #expect(GitNotes.oneTotalsLine(two) == "**Totals:** 1 run \(TelemetryTotals.marker)\nrow\n")
        #expect(GitNotes.isAppendOnly("Telemetry/2026-12-03.md") && GitNotes.isAppendOnly("Daily/2026-12-03.md") && GitNotes.isAppendOnly("Private/Daily/2026-12-03.md"))
        #expect(!GitNotes.isAppendOnly("Telemetry/Machines/alpha.md") && !GitNotes.isAppendOnly("Tasks/2026-12-03.md") && !GitNotes.isAppendOnly("Daily/2026-12-03 notes.md"))
    }

    @Test func mergeConflictMarkersAreFound() {
        let conflicted = "---\ntype: task\n---\n<<<<<<< HEAD\nDo it this way.\n=======\nDo it that way.\n>>>>>>> origin/main\n"
        #expect(SyncConflict.hasMergeMarkers(Array(conflicted.utf8)))
        #expect(SyncConflict.hasMergeMarkers(Array(conflicted.replacingOccurrences(of: "\n", with: "\r\n").utf8)))
        // Markdown that merely looks like it: a setext heading, a quote of one marker.
        #expect(!SyncConflict.hasMergeMarkers(Array("Title\n=======\n\nSee `<<<<<<< HEAD` in git's docs.\n".utf8)))
        #expect(!SyncConflict.hasMergeMarkers(Array("<<<<<<< HEAD\nonly an opening\n".utf8)))
    }

    @Test func aTaskWithConflictMarkersNeverRunsAndGetsAConflictNote() throws {
        let folder = TemporaryFolder()
        let vault = Vault(root: folder.path)
        let store = NoteStore(vault: vault)
        let path = "Tasks/Merged.md"
        _ = try store.create("---\ntype: task\n---\n<<<<<<< HEAD\nDo it this way.\n=======\nDo it that way.\n>>>>>>> theirs\n", at: path)
        var logged: [String] = []
        #expect(SyncConflict.surfaceMarkers(path, store: store, guardrails: Guardrails(), log: { logged.append($0.message) }))
        let notePath = SyncConflict.markersNotePath(path)
        let note = try Note.parse(bytes: try store.read(notePath).bytes)
        #expect(note.text("type") == "conflict" && note.text("note") == "[[Tasks/Merged]]" && note.text("sync_tool") == "git" && note.text("status") == "open")
        #expect(logged == ["\(path): holds git merge-conflict markers; it does not run; see \(notePath)"])
        // Seen again: the open conflict note is not written twice.
        #expect(SyncConflict.surfaceMarkers(path, store: store, guardrails: Guardrails(), log: { logged.append($0.message) }))
        #expect(logged.count == 1)
        let executor = HoldingExecutor()
        let engine = TaskEngine(vault: vault, runs: try RunStore(vault: vault), routing: try VaultRouting(vault: vault), executor: executor) { _ in }
        #expect(engine.consider(path: path, wait: true) == .rejected("merge-conflict markers"))
        #expect(executor.mostAtOnce == 0 && (try? Note.parse(bytes: store.read(path).bytes))?.text("status") == nil)
    }

    /// Round 136 F4: the markers the OS's own merge writes for a moment (it undoes a merge that
    /// conflicts in a task) got a conflict note saying the task held them, after they were gone.
    /// While that merge goes on, the task does not run and no note is written.
    @Test func markersOfTheOSsOwnMergeUnderWayGetNoConflictNote() throws {
        let folder = TemporaryFolder()
        let vault = Vault(root: folder.path)
        let store = NoteStore(vault: vault)
        let path = "Tasks/Merging.md"
        _ = try store.create("---\ntype: task\n---\n<<<<<<< HEAD\nDo it this way.\n=======\nDo it that way.\n>>>>>>> theirs\n", at: path)
        var logged: [String] = []
        GitNotes.merging.withLock { _ = $0.insert(vault.root) }
        #expect(SyncConflict.surfaceMarkers(path, store: store, guardrails: Guardrails(), log: { logged.append($0.message) }))
        #expect(try logged.isEmpty && store.readIfPresent(SyncConflict.markersNotePath(path)) == nil)
        GitNotes.merging.withLock { _ = $0.remove(vault.root) }
        // Left by anyone else's merge, they are surfaced.
        #expect(SyncConflict.surfaceMarkers(path, store: store, guardrails: Guardrails(), log: { logged.append($0.message) }))
        #expect(try logged.count == 1 && store.readIfPresent(SyncConflict.markersNotePath(path)) != nil)
    }

    @Test func conflictMarkersInOtherNotesTheWatcherActsOnAreSurfacedAndATypedTaskNeverRuns() throws {
        let folder = TemporaryFolder()
        let vault = Vault(root: folder.path)
        let store = NoteStore(vault: vault)
        let merged = "<<<<<<< HEAD\nDo it this way.\n=======\nDo it that way.\n>>>>>>> theirs\n"
        // A note typed task outside the work folders: the watcher would run it.
        let typed = "Projects/Merged plan.md"
        _ = try store.create("---\ntype: task\n---\n" + merged, at: typed)
        // A rule note: the watcher reloads the rule book from it.
        let rule = "Rules/Routing/Merged rule.md"
        _ = try store.create("---\ntype: rule\nwhen_keywords: [x]\nlane: local\n---\n" + merged, at: rule)
        // Any other note: the watcher does not act on it.
        let plain = "Projects/Merged notes.md"
        _ = try store.create("# Notes\n" + merged, at: plain)
        var logged: [String] = []
        #expect(SyncConflict.surfaceMarkers(typed, store: store, guardrails: Guardrails(), log: { logged.append($0.message) }))
        #expect(SyncConflict.surfaceMarkers(rule, store: store, guardrails: Guardrails(), log: { logged.append($0.message) }))
        #expect(!SyncConflict.surfaceMarkers(plain, store: store, guardrails: Guardrails(), log: { logged.append($0.message) }))
        #expect(logged == [
            "\(typed): holds git merge-conflict markers; it does not run; see \(SyncConflict.markersNotePath(typed))",
            "\(rule): holds git merge-conflict markers; the rule book reads it as it stands; see \(SyncConflict.markersNotePath(rule))",
        ])
        let ruleNote = try store.read(SyncConflict.markersNotePath(rule))
        #expect(String(decoding: ruleNote.bytes, as: UTF8.self).contains("reads this rule note as it stands"))
        #expect((try? store.readIfPresent(SyncConflict.markersNotePath(plain))) ?? nil == nil)
        let executor = HoldingExecutor()
        let engine = TaskEngine(vault: vault, runs: try RunStore(vault: vault), routing: try VaultRouting(vault: vault), executor: executor) { _ in }
        #expect(engine.consider(path: typed, wait: true) == .rejected("merge-conflict markers"))
        #expect(executor.mostAtOnce == 0 && (try? Note.parse(bytes: store.read(typed).bytes))?.text("status") == nil)
    }
}

/// `GitNotes.round` against real git: two clones of one bare remote.
@Suite struct GitNotesMergeTests {
    static func git(_ arguments: [String], in folder: String) throws {
        let process = try Process.run(URL(fileURLWithPath: "/usr/bin/env"), arguments: ["git", "-C", folder, "-c", "user.name=t", "-c", "user.email=t@t"] + arguments)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "git \(arguments)")
    }

    /// An untracked copy of a note the other machine pushed (what an aborted merge can leave behind)
    /// made git refuse every merge after it, and the two machines drifted apart for good (seen once in
    /// the 500-task end-to-end test under load). A copy identical to the pushed note is cleared and
    /// the merge goes through; one that differs in any byte stops the merge and is kept.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git"), "needs git"))
    func anUntrackedCopyOfAPushedNoteNoLongerBlocksMerging() throws {
        let root = TemporaryFolder.make("fbt-git-merge")
        try Self.git(["init", "--quiet", "--bare", "-b", "main", root + "/remote.git"], in: root)
        for name in ["a", "b"] {
            try Self.git(["clone", "--quiet", root + "/remote.git", root + "/" + name], in: root)
            try Self.git(["checkout", "--quiet", "-b", "main"], in: root + "/" + name)
        }
        try FileManager.default.createDirectory(atPath: root + "/a/Results", withIntermediateDirectories: true)
        try "first\n".replacingFile(root + "/a/seed.md")
        try Self.git(["add", "seed.md"], in: root + "/a")
        try Self.git(["commit", "--quiet", "-m", "seed"], in: root + "/a")
        try Self.git(["push", "--quiet", "origin", "main"], in: root + "/a")
        try Self.git(["pull", "--quiet", "origin", "main"], in: root + "/b")
        // A pushes two results; B holds an identical untracked copy of one, and a different one of the other.
        try "---\ntype: result\n---\nsame\n".replacingFile(root + "/a/Results/Same.md")
        try "---\ntype: result\n---\ntheirs\n".replacingFile(root + "/a/Results/Other.md")
        try Self.git(["add", "Results"], in: root + "/a")
        try Self.git(["commit", "--quiet", "-m", "results"], in: root + "/a")
        try Self.git(["push", "--quiet", "origin", "main"], in: root + "/a")
        try FileManager.default.createDirectory(atPath: root + "/b/Results", withIntermediateDirectories: true)
        try "---\ntype: result\n---\nsame\n".replacingFile(root + "/b/Results/Same.md")
        try "---\ntype: result\n---\nmine\n".replacingFile(root + "/b/Results/Other.md")

        let notes = GitNotes(git: GitClaims(vault: Vault(root: root + "/b"), remote: "origin", machine: "b"))
        // The different copy keeps the merge refused, and both files stay as they are.
        let refused = notes.round(paths: [], remote: "origin", log: { _ in })
        #expect(refused.problem != nil)
        #expect(try String(contentsOfFile: root + "/b/Results/Other.md", encoding: .utf8).contains("mine"))
        // Once it is gone (a person moved it), the identical copy no longer blocks: the merge lands.
        try FileManager.default.removeItem(atPath: root + "/b/Results/Other.md")
        let merged = notes.round(paths: [], remote: "origin", log: { _ in })
        #expect(merged.problem == nil, "\(merged.problem ?? "")")
        #expect(try String(contentsOfFile: root + "/b/Results/Other.md", encoding: .utf8).contains("theirs"))
        #expect(try String(contentsOfFile: root + "/b/Results/Same.md", encoding: .utf8).contains("same"))
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The thirty-second outside attack on the release binary (`/work/attack69-report.md`), each
/// finding written as the attack it was.
@Suite struct ThirtySecondAttackTests {
    /// Attack (medium): a task deleted and made again with `task new` (same title and prompt) was
    /// taken for an editor's old copy of the first and "set back to done" with its result; claude
    /// never ran. Three ways: the watcher saw the delete and the new note at once (`rm` then
    /// `task new`), the note was deleted while it ran, or the watcher polls and never saw it gone.
    @Test func aTaskMadeAgainAfterItWasDeletedRuns() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.newTask("Review the caching layer design.", title: "Again")
        #expect(try env.note(path).text("created") != nil, "task new writes when the note was made")
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 1)

        // Under polling (or any watcher that missed the delete): `created` tells the new note.
        // It is written a second later than the first run was claimed.
        Thread.sleep(forTimeInterval: 1.1)
        try FileManager.default.removeItem(atPath: env.vault.root + "/" + path)
        #expect(try env.newTask("Review the caching layer design.", title: "Again") == path)
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 2, "the task made again did not run")
        #expect(try env.note(path).text("status") == "done")

        // The watcher saw the delete and the new note together: the delete is passed on. Here the
        // new note has no `created` and, byte for byte, the text the run was claimed from: that is
        // what git's restore, checkout, stash and reset write (delete, then write again), and ran
        // the task again (attack123): not run, within the hour; `status: new` runs it.
        let text = "---\ntype: task\nagent: claude\n---\nReview the queue design.\n"
        try env.store.write(text, to: "Tasks/Queue.md", expecting: .absent)
        _ = engine.consider(path: "Tasks/Queue.md")
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 3)
        try FileManager.default.removeItem(atPath: env.vault.root + "/Tasks/Queue.md")
        try Data(text.utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Queue.md"))
        engine.noteRemoved("Tasks/Queue.md")
        _ = engine.consider(path: "Tasks/Queue.md")
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 3, "the very text the run was claimed from ran again")
        #expect(try env.text("Tasks/Queue.md") == text, "the note put back was written")
        // Other text deleted and written again is new work.
        try FileManager.default.removeItem(atPath: env.vault.root + "/Tasks/Queue.md")
        try Data(text.replacingOccurrences(of: "queue design", with: "queue design again").utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Queue.md"))
        engine.noteRemoved("Tasks/Queue.md")
        _ = engine.consider(path: "Tasks/Queue.md")
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 4, "a task deleted and written again with other text was not run")
    }

    /// Whether `note` is new work by its `created` alone (no delete seen).
    static func madeAfter(_ note: Note, claimedAt: Double) -> Bool {
        TaskEngine.isNew(note, since: TaskEngine.ClaimedPrompt(runID: "r", prompt: TaskEngine.PromptMark("x"), order: 0, at: claimedAt))
    }

    /// The old copy's `created` is the first note's: still an old copy.
    @Test func anOldCopyKeepsItsCreatedTime() throws {
        let note = try Note.parse("---\nstatus: new\ncreated: 2026-12-05T10:00:00\n---\nx\n")
        let claimed = try #require(TelemetryRecord.localDate("2026-12-05T10:00:00")).timeIntervalSince1970 + 0.4
        #expect(!Self.madeAfter(note, claimedAt: claimed))
        #expect(Self.madeAfter(note, claimedAt: claimed - 3600))
        #expect(!Self.madeAfter(try Note.parse("---\nstatus: new\n---\nx\n"), claimedAt: claimed - 3600))
        // A time ahead of the clock (a note made on a machine east of this one) says nothing.
        let ahead = try Note.parse("---\ncreated: \(LocalTime.dateTime(Date().addingTimeInterval(7200)))\n---\nx\n")
        #expect(!Self.madeAfter(ahead, claimedAt: Date().timeIntervalSince1970 - 10))
        // Obsidian's templates write minutes: at the minute's start.
        #expect(!Self.madeAfter(try Note.parse("---\ncreated: 2026-12-05T10:00\n---\nx\n"), claimedAt: claimed))
        #expect(Self.madeAfter(try Note.parse("---\ncreated: 2026-12-05T10:01\n---\nx\n"), claimedAt: claimed))
    }

    /// The watcher's side: a delete and a new file at the path in one batch say the path was
    /// removed first; a plain save, an exchange with a temp file, or a rename do not.
    @Test func aDeleteMergedWithANewFileIsPassedOn() {
        var c = ChangeCoalescer(debounce: 0.02)
        c.add("Tasks/a.md", .removed, now: 0)
        c.add("Tasks/a.md", .changed, now: 0.001, complete: true)
        let merged = c.takeDue(now: 1)
        #expect(merged.map(\.kind) == [.changed] && merged.first?.wasRemoved == true)
        c.add("Tasks/b.md", .changed, now: 2)
        c.add("Tasks/b.md", .changed, now: 2.001, complete: true)
        #expect(c.takeDue(now: 3).first?.wasRemoved == false)
        c.add("Tasks/c.md", .renamed(from: "Tasks/x.md"), now: 4, complete: true)
        #expect(c.takeDue(now: 5).first?.wasRemoved == false)
        // Saved, deleted and made again within one batch.
        c.add("Tasks/e.md", .changed, now: 5.5)
        c.add("Tasks/e.md", .removed, now: 5.501)
        c.add("Tasks/e.md", .changed, now: 5.502, complete: true)
        #expect(c.takeDue(now: 5.9).first?.wasRemoved == true)
        c.add("Tasks/d.md", .changed, now: 6)
        c.add("Tasks/d.md", .removed, now: 6.001)
        let gone = c.takeDue(now: 7)
        #expect(gone.map(\.kind) == [.removed] && gone.first?.wasRemoved == false)
    }
}

/// Attack (low): a private project folder moved below a project with thousands of folders was not
/// found (the search went depth first, into one deep tree, until its budget was spent); one
/// reached through a bind mount of a folder above it was not either.
@Suite struct ThirtySecondAttackProjectTests {
    @Test func aPrivateFolderMovedNearTheTopOfABigTreeIsFound() throws {
        let root = TemporaryFolder.make("fbt-taint")
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/vault/.obsidian", withIntermediateDirectories: true)
        let vault = Vault(root: root + "/vault")
        try FileManager.default.createDirectory(atPath: root + "/code/app", withIntermediateDirectories: true)
        try ProjectTaint.record(root + "/code/app", vault: vault)
        // A project of 4,200 folders two deep, and the private folder moved in one level below its top.
        for a in 0..<21 {
            for b in 0..<200 { try FileManager.default.createDirectory(atPath: root + "/big/a\(a)/b\(b)", withIntermediateDirectories: true) }
        }
        try FileManager.default.createDirectory(atPath: root + "/big/m", withIntermediateDirectories: true)
        #expect(rename(root + "/code/app", root + "/big/m/app") == 0)
        let found = ProjectTaint.folder(overlapping: root + "/big", vault: vault)
        #expect(found?.contains("big/m/app") == true, "\(found ?? "not found")")
        #expect(ProjectTaint.folder(overlapping: root + "/big/a3", vault: vault) == nil, "a folder beside it")

        // Through a bind mount of the folder above it (where this machine lets the test mount).
        #expect(rename(root + "/big/m/app", root + "/code/app") == 0)
        try FileManager.default.createDirectory(atPath: root + "/mnt", withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["--bind", root + "/code", root + "/mnt"]
        mount.standardError = FileHandle.nullDevice
        if (try? mount.run()) != nil {
            mount.waitUntilExit()
            if mount.terminationStatus == 0 {
                defer { _ = try? Process.run(URL(fileURLWithPath: "/bin/umount"), arguments: [root + "/mnt"]).waitUntilExit() }
                #expect(ProjectTaint.folder(overlapping: root + "/mnt", vault: vault) != nil, "a bind mount of the folder above it")
                #expect(ProjectTaint.folder(overlapping: root + "/mnt/app", vault: vault) != nil, "a bind mount, the folder itself")
            }
        }
    }
}

/// The record of private project folders: a path with a tab in a folder's name, an old line
/// without an identity, and the same folder recorded twice.
@Suite struct PrivateProjectRecordTests {
    @Test func recordedLinesReadBackAsWritten() throws {
        let root = TemporaryFolder.make("fbt-taint-record")
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/vault/.obsidian", withIntermediateDirectories: true)
        let vault = Vault(root: root + "/vault")
        let tabbed = root + "/code/my\tapp"
        try FileManager.default.createDirectory(atPath: tabbed, withIntermediateDirectories: true)
        try FileSystem.makeDirectories(vault.stateDirectory)
        try Data((root + "/old/format\n").utf8).write(to: URL(fileURLWithPath: ProjectTaint.path(vault)))
        try ProjectTaint.record(tabbed, vault: vault)
        try ProjectTaint.record(tabbed, vault: vault)
        let folders = ProjectTaint.folders(vault)
        #expect(folders.map(\.path) == [root + "/old/format", tabbed], "\(folders)")
        #expect(folders.last?.inode != nil && folders.first?.inode == nil)
        #expect(ProjectTaint.folder(overlapping: tabbed, vault: vault) == tabbed)
        #expect(rename(tabbed, root + "/code/renamed") == 0)
        #expect(ProjectTaint.folder(overlapping: root + "/code/renamed", vault: vault)?.contains("since moved") == true)
    }
}

/// The thirty-third outside attack (`/work/attack70-report.md`): `created` read without its zone
/// made a stale save look new (a second paid run); a stale save brought by `git pull` (which deletes
/// and writes a changed file) ran again; a `created` with a negative offset or fractions of a
/// second did not parse, and a task made again was swallowed.
@Suite struct ThirtyThirdAttackTests {
    @Test func createdIsReadWithItsZoneAndFractions() throws {
        let utc = try #require(LocalTime.parseDateTime("2026-12-05T10:00:00Z"))
        #expect(LocalTime.parseDateTime("2026-12-05T12:00:00+02:00") == utc)
        #expect(LocalTime.parseDateTime("2026-12-05T05:00:00-05:00") == utc)
        #expect(LocalTime.parseDateTime("2026-12-05T05:00:00-0500") == utc)
        #expect(LocalTime.parseDateTime("2026-12-05T10:00:21.832Z") == utc + 21.832)
        #expect(LocalTime.parseDateTime("2026-12-05T10:00") != nil && LocalTime.parseDateTime("2026-12-05 10:00:05") != nil)
        for bad in ["2026-12-05", "yesterday", "2026-12-05T10:00:00+2", "2026-13-05T10:00", "2026-12-05T10:00:00Zjunk", "2026-12-05T10:00:."] {
            #expect(LocalTime.parseDateTime(bad) == nil, "\(bad)")
        }
        // Local time, as `task new` writes it, reads back as written.
        let now = Date()
        let local = try #require(LocalTime.parseDateTime(LocalTime.dateTime(now)))
        #expect(abs(local - now.timeIntervalSince1970.rounded(.down)) < 1.01)
    }

    @Test func aStaleSaveBroughtByGitIsStillAnOldCopy() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.newTask("Review the caching layer design.", title: "Pulled")
        let original = try env.text(path)
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 1)
        // The other machine's editor saved its old buffer (a line added); git deletes the note
        // and writes that version, and the watcher sees the delete with the new file.
        Thread.sleep(forTimeInterval: 1.1)
        try FileManager.default.removeItem(atPath: env.vault.root + "/" + path)
        try Data((original + "Also consider eviction.\n").utf8).write(to: URL(fileURLWithPath: env.vault.root + "/" + path))
        engine.noteRemoved(path)
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 1, "a stale save pulled by git ran the task again")
        #expect(try env.note(path).text("status") == "done")

        // A `created` with a zone, later than the claim: new work, wherever it was written.
        let later = ISO8601DateFormatter().string(from: Date())
        let remade = original.replacingOccurrences(of: #"created: [^\n]*"#, with: "created: \(later)", options: .regularExpression)
        #expect(remade != original)
        try FileManager.default.removeItem(atPath: env.vault.root + "/" + path)
        try Data(remade.utf8).write(to: URL(fileURLWithPath: env.vault.root + "/" + path))
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 2, "a task made again with a zoned created was swallowed")
    }
}

extension ThirtyThirdAttackTests {
    /// Attack (low): a note begun empty in the moment between the start-up listing and the last of
    /// the watcher's watches (0.2–0.5 s with 40,000 folders) was never seen begin, and ran
    /// half-typed. A note changed before the watches were set is held too; one changed after is not.
    @Test func aNoteMadeWhileTheWatchesWereSetIsHeld() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let text = "---\ntype: task\nagent: echo\n---\nSay hello in French, my salary is\n"
        for name in ["Listed", "Gap", "After"] { try env.store.write(text, to: "Tasks/\(name).md", expecting: .absent) }
        let now = Date().timeIntervalSince1970
        // "Gap" was last changed 2 s before the watches were all set, "After" just now.
        var times = [timespec(tv_sec: Int(now) - 2, tv_nsec: 0), timespec(tv_sec: Int(now) - 2, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, env.vault.root + "/Tasks/Gap.md", &times, 0) == 0)
        engine.holdRecentlyChanged(["Tasks/Listed.md", "Tasks/Gap.md", "Tasks/After.md"], listedBefore: ["Tasks/Listed.md"], watchingSince: now - 1)
        #expect(engine.consider(path: "Tasks/Listed.md") == .beingWritten)
        #expect(engine.consider(path: "Tasks/Gap.md") == .beingWritten, "a note made before the watches were set ran at once")
        let after = engine.consider(path: "Tasks/After.md")
        #expect(after != .beingWritten && after != .ignored, "a note written after watching began was held: \(after)")
        engine.shutdown(grace: 0.5)
    }
}

/// The thirty-fourth outside attack (`/work/attack71-report.md`).
@Suite struct ThirtyFourthAttackTests {
    /// Attack (medium): Syncthing resolved a conflict by renaming this machine's task note to
    /// `x.sync-conflict-….md` and putting the other machine's stale save at `x.md`; the rename was
    /// followed as the task moving, and the stale save ran claude again.
    @Test func aSyncConflictRenameIsNotTheTaskMoving() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let original = "---\nagent: claude\n---\nReview the sync design. FIXTURE_MODE=slow\n"
        #expect(try env.start(original, at: "Tasks/Sync.md", engine: engine, prompts: 1))
        for copy in ["Tasks/Sync.sync-conflict-20261206-010000-ABCDEFG.md", "Tasks/Sync (conflicted copy 2026-12-06).md"] {
            try? FileManager.default.removeItem(atPath: env.vault.root + "/" + copy)
            #expect(env.renameOnDisk("Tasks/Sync.md", to: copy, engine: engine) == false, "\(copy)")
            try env.writeAsAnotherProgram(original + "Edited on the laptop.\n", to: "Tasks/Sync.md")
            _ = engine.consider(path: "Tasks/Sync.md")
            engine.waitUntilIdle()
        }
        #expect(env.fixturePrompts().count == 1, "a stale save put in place by a sync tool ran again: \(env.fixturePrompts().count) runs")
        #expect(try env.note("Tasks/Sync.md").text("status") == "done")
    }

    /// Attack (low, round 33): a late event of the write that made a task (the very version its
    /// run was claimed from) was logged as "an editor's old copy?".
    @Test func theClaimedVersionItselfIsNoOldCopy() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let text = "---\ntype: task\nstatus: new\nagent: claude\n---\nReview the log design. FIXTURE_MODE=slow\n"
        try env.store.write(text, to: "Tasks/Log.md", expecting: .absent)
        _ = engine.consider(path: "Tasks/Log.md")
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        // The claimed version, byte for byte, seen again while its run goes on.
        try Data(text.utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Log.md"))
        let again = engine.consider(path: "Tasks/Log.md")
        engine.waitUntilIdle()
        #expect(again == .alreadyActive, "\(again)")
        #expect(try env.note("Tasks/Log.md").text("status") == "done" && env.fixturePrompts().count == 1)
        let said = env.loggedEvents.map(\.message).filter { $0.contains("old copy") }
        #expect(said.isEmpty, "\(said)")
    }

    /// Attack (low-medium): a `created` up to 60 s ahead of the clock still counted; a note made
    /// on a machine 40 s fast made a stale save look new.
    @Test func aCreatedTimeAFewSecondsAheadSaysNothing() throws {
        let ahead = try Note.parse("---\ncreated: \(LocalTime.dateTime(Date().addingTimeInterval(40)))\n---\nx\n")
        #expect(TaskEngine.createdTime(ahead) == nil)
        let now = try Note.parse("---\ncreated: \(LocalTime.dateTime(Date()))\n---\nx\n")
        #expect(TaskEngine.createdTime(now) != nil)
    }
}

extension ThirtyFourthAttackTests {
    /// Attack (low): after a failover, an editor's stale save of the original task was set back to
    /// `handed_off` with the failed run's result and without its `handoffs` link, though the task
    /// had ended `done` with the next agent's answer. It is set back to how the chain ended.
    @Test func aStaleSaveAfterAFailoverIsSetBackToHowTheChainEnded() throws {
        let env = try EngineTestVault()
        try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("failover", .list([.string("codex")]))])
        let engine = try env.engine()
        let original = "---\ntype: task\nagent: claude\n---\nFix the date parsing bug. FIXTURE_MODE_CLAUDE=usage-limit\n"
        try env.store.write(original, to: "Tasks/Chain.md", expecting: .absent)
        _ = engine.consider(path: "Tasks/Chain.md", wait: true)
        engine.waitUntilIdle()
        // The watcher runs the failover handoff the run wrote.
        let handoffs = try FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Handoffs").filter { $0.hasPrefix("Failover") }
        #expect(handoffs.count == 1, "\(handoffs)")
        for handoff in handoffs { _ = engine.consider(path: "Handoffs/" + handoff, wait: true) }
        engine.waitUntilIdle()
        #expect(eventually(within: 30) { (try? env.note("Tasks/Chain.md").text("status")) == "done" })
        let ended = try env.note("Tasks/Chain.md")
        let endedText = try env.text("Tasks/Chain.md")
        #expect(ended.text("result") != nil && !ended.texts("handoffs").isEmpty, "\(endedText)")

        try Data((original + "Edited in my editor.\n").utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Chain.md"))
        _ = engine.consider(path: "Tasks/Chain.md")
        engine.waitUntilIdle()
        let back = try env.note("Tasks/Chain.md")
        let text = try env.text("Tasks/Chain.md")
        #expect(back.text("status") == "done" && back.text("result") == ended.text("result"), "\(text)")
        #expect(back.texts("handoffs") == ended.texts("handoffs"), "\(text)")
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The thirty-fifth outside attack on the release binary (`/work/attack72-report.md`), each
/// finding written as the attack it was.
@Suite struct ThirtyFifthAttackTests {
    /// Attack (medium): round 34's fix knew Syncthing's, Dropbox's and Obsidian Sync's conflict
    /// names only; Seafile's and ownCloud's renames of a running task were followed as the task
    /// moving, and the other machine's stale save put at the name ran claude again.
    @Test func otherToolsConflictNamesAreCopies() throws {
        let copies: [(String, String, String)] = [
            ("Tasks/Sync (SFConflict ana@example.com 2026-12-06-02-11-00).md", "Tasks/Sync.md", "seafile"),
            ("Tasks/Sync_conflict-20261206-021100.md", "Tasks/Sync.md", "nextcloud"),
            ("Tasks/Sync (conflicted copy 2026-12-06 021100).md", "Tasks/Sync.md", "nextcloud"),
            ("Tasks/Sync (Ana's conflicted copy 2026-12-06).md", "Tasks/Sync.md", "dropbox"),
            ("Tasks/Sync (Conflicted copy laptop 202612060211).md", "Tasks/Sync.md", "obsidian-sync"),
        ]
        for (copy, original, tool) in copies {
            let parsed = SyncConflict.parse(copy)
            #expect(parsed?.original == original && parsed?.tool == tool, "\(copy): \(String(describing: parsed))")
            #expect(FileClaims.isConflictCopy(String(copy.dropFirst(6))), "\(copy)")
        }
        // Names a person gives are no copies.
        for name in ["Tasks/my_conflict-notes.md", "Tasks/Sync (SFConflict).md", "Tasks/_conflict-20261206-021100.md", "Tasks/Plan_conflict-2026.md"] {
            #expect(SyncConflict.parse(name) == nil, "\(name)")
        }

        let env = try EngineTestVault()
        let engine = try env.engine()
        let original = "---\nagent: claude\n---\nReview the sync design. FIXTURE_MODE=slow\n"
        #expect(try env.start(original, at: "Tasks/Sync.md", engine: engine, prompts: 1))
        for (copy, _, _) in copies.prefix(2) {
            #expect(env.renameOnDisk("Tasks/Sync.md", to: copy, engine: engine) == false, "\(copy)")
            try env.writeAsAnotherProgram(original + "Edited on the laptop.\n", to: "Tasks/Sync.md")
            _ = engine.consider(path: "Tasks/Sync.md")
            engine.waitUntilIdle()
        }
        #expect(env.fixturePrompts().count == 1, "a stale save put in place by a sync tool ran again: \(env.fixturePrompts().count) runs")
        #expect(try env.note("Tasks/Sync.md").text("status") == "done")
    }

    /// Attack (medium), for tools whose conflict names cannot be told from a person's (OneDrive's
    /// `x-LAPTOP.md`, iCloud's `x 2.md`): the rename is followed, and the other machine's version
    /// saved at the name with the task's text — while the run goes on, or just after — is an old
    /// copy of it: it does not run, and is set back to how the run ended.
    @Test func aStaleSaveAtTheNameOfATaskJustRenamedBesideItIsAnOldCopy() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        // During the run.
        let original = "---\nagent: claude\n---\nReview the cache design. FIXTURE_MODE=slow\n"
        #expect(try env.start(original, at: "Tasks/Cache.md", engine: engine, prompts: 1))
        #expect(env.renameOnDisk("Tasks/Cache.md", to: "Tasks/Cache-LAPTOP.md", engine: engine) == true)
        try env.writeAsAnotherProgram(original + "Also consider eviction.\n", to: "Tasks/Cache.md")
        #expect(engine.consider(path: "Tasks/Cache.md") == .alreadyActive)
        engine.waitUntilIdle()
        #expect(eventually(within: 30) { (try? env.note("Tasks/Cache.md").text("status")) == "done" })
        #expect(env.fixturePrompts().count == 1, "the stale save ran again: \(env.fixturePrompts().count) runs")
        let moved = try env.note("Tasks/Cache-LAPTOP.md")
        let left = try env.note("Tasks/Cache.md")
        #expect(moved.text("status") == "done" && left.text("run_id") == moved.text("run_id") && left.text("result") == moved.text("result"))
        #expect(try env.text("Tasks/Cache.md").contains("Also consider eviction."), "the person's line was lost")

        // After the run.
        let after = "---\nagent: claude\n---\nReview the queue design.\n"
        try env.store.write(after, to: "Tasks/Queue.md", expecting: .absent)
        _ = engine.consider(path: "Tasks/Queue.md", wait: true)
        engine.waitUntilIdle()
        #expect(env.renameOnDisk("Tasks/Queue.md", to: "Tasks/Queue 2.md", engine: engine) == false)
        try env.writeAsAnotherProgram(after + "Also consider backpressure.\n", to: "Tasks/Queue.md")
        _ = engine.consider(path: "Tasks/Queue.md")
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 2, "the stale save ran again: \(env.fixturePrompts().count) runs")
        #expect(try env.note("Tasks/Queue.md").text("status") == "done")
        #expect(env.loggedEvents.contains { $0.message.contains("renamed to Tasks/Queue 2.md") }, "\(env.loggedEvents.map(\.message))")
    }

    /// What stays new work: a task moved to another folder or to another name (round 29's
    /// archive), and one written at the name after the window.
    @Test func aTaskWrittenAtARenamedTasksNameLaterRuns() throws {
        #expect(TaskEngine.mayBeConflictRename(from: "Tasks/x.md", to: "Tasks/x (SFConflict a 2026).md"))
        #expect(TaskEngine.mayBeConflictRename(from: "Tasks/x.md", to: "Tasks/x-LAPTOP.md"))
        #expect(TaskEngine.mayBeConflictRename(from: "x.md", to: "x 2.md"))
        #expect(!TaskEngine.mayBeConflictRename(from: "Tasks/x.md", to: "Tasks/Archive/x 2.md"))
        #expect(!TaskEngine.mayBeConflictRename(from: "Tasks/Weekly.md", to: "Tasks/Weekly49.md"))
        #expect(!TaskEngine.mayBeConflictRename(from: "Tasks/Weekly.md", to: "Tasks/Report.md"))
        #expect(!TaskEngine.mayBeConflictRename(from: "Tasks/Untitled.md", to: "Tasks/Untitled.md"))

        let env = try EngineTestVault()
        let engine = try env.engine(conflictWindow: 0.3)
        let text = "---\nagent: claude\n---\nSummarize the week.\n"
        try env.store.write(text, to: "Tasks/Week.md", expecting: .absent)
        _ = engine.consider(path: "Tasks/Week.md", wait: true)
        engine.waitUntilIdle()
        #expect(env.renameOnDisk("Tasks/Week.md", to: "Tasks/Week 49.md", engine: engine) == false)
        Thread.sleep(forTimeInterval: 0.6)
        try env.writeAsAnotherProgram(text + "For week 50.\n", to: "Tasks/Week.md")
        _ = engine.consider(path: "Tasks/Week.md")
        engine.waitUntilIdle()
        #expect(eventually(within: 30) { env.fixturePrompts().count == 2 }, "a task written at the name after the window did not run")

        // Renamed while it ran, with no note left at the name: the name is free when the run ends.
        let slow = "---\nagent: claude\n---\nSummarize the month. FIXTURE_MODE=slow\n"
        #expect(try env.start(slow, at: "Tasks/Month.md", engine: engine, prompts: 3))
        #expect(env.renameOnDisk("Tasks/Month.md", to: "Tasks/Month 11.md", engine: engine) == true)
        engine.waitUntilIdle()
        #expect(eventually(within: 30) { (try? env.note("Tasks/Month 11.md").text("status")) == "done" })
        Thread.sleep(forTimeInterval: 0.6)
        try env.writeAsAnotherProgram(slow + "For December.\n", to: "Tasks/Month.md")
        _ = engine.consider(path: "Tasks/Month.md")
        engine.waitUntilIdle()
        #expect(eventually(within: 30) { env.fixturePrompts().count == 4 }, "a task written at the name after the window did not run")
    }
}

extension ThirtyFifthAttackTests {
    /// Seen once (round 35): a run made 12 handoffs at once, and only 5 were in its task's
    /// `handoffs` list: each handoff adds itself by compare-and-swap, and one that lost eight races
    /// in a row (to the others and to the OS's writes of the task) gave up without a word. (With
    /// eight tries and a random wait between them, 10–15 of 16 were listed here; with 32, all.)
    @Test func handoffsMadeAtOnceAreAllListedOnTheTask() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Fan", properties: "type: task\nstatus: running", body: "Fan out the work")
        let vault = env.vault
        let failures = Locked<[String]>([])
        let group = DispatchGroup()
        for i in 0..<16 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do { try Handoffs.recordOnTask(vault: vault, taskPath: path, handoffPath: "Handoffs/Part \(i).md") } catch {
                    failures.withLock { $0.append("\(i): \(error)") }
                }
            }
        }
        // The OS writes the task meanwhile (its run's properties). A handoff loses a race only to
        // a write that landed: at most 15 + 12 here, under the 32 tries.
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            let store = NoteStore(vault: vault)
            for i in 0..<12 { try? store.updateProperties(path, set: [Property("tokens_out", .int(i))]) }
        }
        group.wait()
        let listed = Set(try env.note(path).texts("handoffs"))
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(listed.count == 16, "\(listed.count) of 16 listed: \(listed.sorted())")
    }
}

/// The thirty-sixth outside attack on the release binary (`/work/attack73-report.md`).
@Suite struct ThirtySixthAttackTests {
    /// Attack (medium): after a conflict-like rename, the other machine's copy written in place at
    /// the old name was first seen empty, or half written, and that look forgot the claim left
    /// there; the whole stale text then ran claude again.
    @Test func aCopyWrittenInPlaceAtTheOldNameIsStillAnOldCopy() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let root = env.vault.root
        // During the run: empty first.
        let running = "---\nagent: claude\n---\nReview the cache design. FIXTURE_MODE=slow\n"
        #expect(try env.start(running, at: "Tasks/Cache.md", engine: engine, prompts: 1))
        #expect(env.renameOnDisk("Tasks/Cache.md", to: "Tasks/Cache 2.md", engine: engine) == true)
        #expect(FileManager.default.createFile(atPath: root + "/Tasks/Cache.md", contents: Data()))
        _ = engine.consider(path: "Tasks/Cache.md")
        try env.writeAsAnotherProgram(running + "Also consider eviction.\n", to: "Tasks/Cache.md")
        _ = engine.consider(path: "Tasks/Cache.md")
        engine.waitUntilIdle()
        #expect(eventually(within: 30) { (try? env.note("Tasks/Cache.md").text("status")) == "done" })
        #expect(env.fixturePrompts().count == 1, "the stale copy ran again: \(env.fixturePrompts().count) runs")

        // After the run: the frontmatter and half the first line first, the writer still at it.
        let done = "---\nagent: claude\n---\nReview the queue design.\n"
        try env.store.write(done, to: "Tasks/Queue.md", expecting: .absent)
        _ = engine.consider(path: "Tasks/Queue.md", wait: true)
        engine.waitUntilIdle()
        #expect(env.renameOnDisk("Tasks/Queue.md", to: "Tasks/Queue-LAPTOP.md", engine: engine) == false)
        let whole = Array((done + "Also consider backpressure.\n").utf8)
        let cut = whole.count - 30
        #expect(FileManager.default.createFile(atPath: root + "/Tasks/Queue.md", contents: Data(whole[..<cut])))
        let handle = try #require(FileHandle(forWritingAtPath: root + "/Tasks/Queue.md"))
        try handle.seekToEnd()
        #expect(engine.consider(path: "Tasks/Queue.md") == .beingWritten)
        try handle.write(contentsOf: Data(whole[cut...]))
        try handle.close()
        _ = engine.consider(path: "Tasks/Queue.md")
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 2, "the stale copy ran again: \(env.fixturePrompts().count) runs")
        #expect(try env.note("Tasks/Queue.md").text("status") == "done")
    }

    /// Attack (low): the other machine's copy, waiting at the old name for the run to end, was
    /// renamed by a person tidying the pair (`x from laptop.md`), and ran as new work.
    @Test func anOldCopyRenamedWhileItWaitsIsStillAnOldCopy() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let text = "---\nagent: claude\n---\nReview the index design. FIXTURE_MODE=slow\n"
        #expect(try env.start(text, at: "Tasks/Index.md", engine: engine, prompts: 1))
        #expect(env.renameOnDisk("Tasks/Index.md", to: "Tasks/Index 2.md", engine: engine) == true)
        try env.writeAsAnotherProgram(text + "Also consider compaction.\n", to: "Tasks/Index.md")
        #expect(engine.consider(path: "Tasks/Index.md") == .alreadyActive)
        #expect(env.renameOnDisk("Tasks/Index.md", to: "Tasks/Index from laptop.md", engine: engine) == false)
        #expect(engine.consider(path: "Tasks/Index from laptop.md") == .alreadyActive)
        engine.waitUntilIdle()
        #expect(eventually(within: 30) { (try? env.note("Tasks/Index from laptop.md").text("status")) == "done" })
        #expect(env.fixturePrompts().count == 1, "the renamed copy ran again: \(env.fixturePrompts().count) runs")
    }
}

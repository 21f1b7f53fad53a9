import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The twenty-ninth outside attack on the release binary (`/work/attack66-report.md`), each
/// finding written as the attack it was.
@Suite struct TwentyNinthAttackTests {
    /// Attack (high): a script that paused 3 s with the task note still open had its half task run
    /// on claude (its `#private` tag, written last, never counted), and the OS's write swapped the
    /// writer's file away: the rest of the note was lost. A note whose write is still open is not
    /// run; it runs when the write is over.
    @Test func aNoteStillOpenForWritingIsNotRun() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        try Data().write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Slow.md"))
        let writer = try openHeldWriter(env.vault.root + "/Tasks/Slow.md")
        try writer.write(contentsOf: Data("---\ntype: task\nagent: claude\n---\nDraft a reply to the landlord about the deposit.\n".utf8))
        #expect(engine.consider(path: "Tasks/Slow.md") == .beingWritten)
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().isEmpty, "the half task ran")
        // Said once (round 30: a task held open by a hung writer waited without a word).
        _ = engine.consider(path: "Tasks/Slow.md")
        #expect(env.loggedEvents.filter { $0.message.contains("another process has it open for writing") }.count == 1, "\(env.loggedEvents.map(\.message))")
        try writer.write(contentsOf: Data("Mention my bank account 12345. #private\n".utf8))
        try writer.close()
        _ = engine.consider(path: "Tasks/Slow.md")
        engine.waitUntilIdle()
        let note = try env.note("Tasks/Slow.md")
        let slow = try env.text("Tasks/Slow.md")
        #expect(env.fixturePrompts().isEmpty && note.text("status") != "done", "a private task went to claude: \(slow)")
        #expect(note.body.contains("#private"))
    }

    /// The store's side of it: a writer that still has the note open after the store's wait
    /// writes into the file it holds; the store's write must not swap that file away (its later
    /// bytes were lost with it). The write is refused as a conflict and the writer's bytes stay.
    @Test func aWriteDoesNotSwapAwayAFileAWriterStillHasOpen() throws {
        let env = try EngineTestVault()
        let path = env.vault.root + "/Tasks/Open.md"
        let first = "---\ntype: task\nstatus: draft\n---\nFirst half.\n"
        try Data(first.utf8).write(to: URL(fileURLWithPath: path))
        let handle = try openHeldWriter(path)
        try handle.seekToEnd()
        let snapshot = try env.store.read("Tasks/Open.md")
        let outcome = Locked<Bool?>(nil)
        let store = env.store
        Thread.detachNewThread {
            do {
                _ = try store.write("---\ntype: task\nstatus: new\n---\nFirst half.\n", to: "Tasks/Open.md", expecting: .hash(snapshot.hash))
                outcome.withLock { $0 = false }
            } catch {
                outcome.withLock { $0 = true }
            }
        }
        // While the store waits for the writer: the note at its path is still the writer's file.
        Thread.sleep(forTimeInterval: 0.5)
        let meanwhile = try String(contentsOfFile: path, encoding: .utf8)
        #expect(meanwhile == first, "the writer's file was swapped away while it was open: \(meanwhile)")
        #expect(eventually(within: 30) { outcome.withLock { $0 } != nil })
        let refused = outcome.withLock { $0 } == true
        // Round 30: the writer's file was swapped away and put back after the wait, so it sat
        // under a temp name meanwhile (a crash then lost it). It stays where it is.
        #expect(refused, "a write went through while a writer had the note open")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == first, "the note was swapped while its writer had it open")
        try handle.write(contentsOf: Data("Second half.\n".utf8))
        try handle.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("Second half."), "the writer's later bytes were lost: \(text)")
    }

    /// Attack (medium): a new task at the name of a task moved away (archived after its run, or
    /// renamed during it) that began with the old prompt's words was taken for an old copy, found no
    /// run at the path, and was dropped without a word, for ever. The memory moves with the rename,
    /// and a note at the old name is new work.
    @Test func aNewTaskAtAMovedTasksNameRuns() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Weekly", properties: "type: task\nagent: claude", body: "Weekly summary")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        try FileManager.default.createDirectory(atPath: env.vault.root + "/Tasks/Archive", withIntermediateDirectories: true)
        #expect(rename(env.vault.root + "/" + path, env.vault.root + "/Tasks/Archive/Weekly 49.md") == 0)
        try? RunStore(vault: env.vault).renameTask(from: path, to: "Tasks/Archive/Weekly 49.md")
        _ = engine.followRename(from: path, to: "Tasks/Archive/Weekly 49.md")
        try env.store.write("---\ntype: task\nagent: claude\n---\nWeekly summary\nFor week 50.\n", to: path, expecting: .absent)
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        let weekly = try env.text(path)
        #expect(env.fixturePrompts().count == 2, "the new task did not run: \(weekly)")
        #expect(try env.note(path).text("status") == "done")
    }

    /// Attack (medium and low-medium): an old copy saved with other line endings ran again; a new
    /// task whose first line goes on past a finished task's words, or written after the old one was
    /// deleted, was marked done with the old result.
    @Test func oldCopiesAreToldFromNewWork() {
        #expect(TaskEngine.continues("Describe the allocator\nbriefly", "Describe the allocator\r\nbriefly"))
        #expect(TaskEngine.continues("Describe the allocator\r\nbriefly\r\nEdited.", "Describe the allocator\nbriefly"))
        #expect(!TaskEngine.continues("Check the build of alpha and deploy it if green.", "Check the build of alpha"))
        #expect(!TaskEngine.continues("Summarize the Q3 report", "Summarize"))
        #expect(!TaskEngine.continues("", ""))
    }

    @Test func aTaskWrittenAfterTheOldOneWasDeletedIsNewWork() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Check", properties: "type: task\nagent: claude", body: "Check the build status of project alpha")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        try FileManager.default.removeItem(atPath: env.vault.root + "/" + path)
        _ = engine.consider(path: path)
        try env.store.write("---\ntype: task\nagent: claude\n---\nCheck the build status of project alpha\nThen list the failing tests.\n", to: path, expecting: .absent)
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        let check = try env.text(path)
        #expect(env.fixturePrompts().count == 2, "the new task was taken for an old copy: \(check)\n\(env.loggedEvents.map(\.message))")
    }
}

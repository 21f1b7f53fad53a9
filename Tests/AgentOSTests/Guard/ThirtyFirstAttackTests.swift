import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The thirty-first outside attack on the release binary (`/work/attack68-report.md`), each
/// finding written as the attack it was.
@Suite struct ThirtyFirstAttackTests {
    /// Attack (high): the old-copy rule looked only at notes without a `status`; a task made with
    /// `task new` (or the template, MCP's `create_task`, a handoff) says `status: new`, and an
    /// editor's stale save of it during the run ran claude again and detached the first result.
    @Test func anOldCopyThatSaysStatusNewDoesNotRunTheTaskAgain() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let original = "---\ntype: task\nstatus: new\nagent: claude\n---\nReview the caching layer design. FIXTURE_MODE=slow\n"
        try env.store.write(original, to: "Tasks/Caching.md", expecting: .absent)
        #expect(engine.consider(path: "Tasks/Caching.md") != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        try Data((original + "Also consider eviction.\n").utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Caching.md"))
        let during = engine.consider(path: "Tasks/Caching.md")
        #expect(during == .alreadyActive, "\(during)")
        engine.waitUntilIdle()
        var note = try env.note("Tasks/Caching.md")
        var text = try env.text("Tasks/Caching.md")
        #expect(note.text("status") == "done" && note.text("result") != nil && note.body.contains("Also consider eviction."), "\(text)")
        let result = note.text("result")

        // After the run, the same buffer saved again: set back, not run.
        try Data((original + "Also consider eviction.\nAnd TTLs.\n").utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Caching.md"))
        _ = engine.consider(path: "Tasks/Caching.md")
        engine.waitUntilIdle()
        note = try env.note("Tasks/Caching.md")
        text = try env.text("Tasks/Caching.md")
        #expect(note.text("status") == "done" && note.text("result") == result, "\(text)")
        #expect(env.fixturePrompts().count == 1, "the task ran again: \(env.fixturePrompts().count) runs")

        // Run again on purpose, as the docs say: status new, its run_id kept.
        let again = try env.text("Tasks/Caching.md").replacingOccurrences(of: "status: done", with: "status: new")
        try Data(again.utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Caching.md"))
        _ = engine.consider(path: "Tasks/Caching.md")
        engine.waitUntilIdle()
        #expect(env.fixturePrompts().count == 2, "a run asked for did not happen")
    }

    /// The properties an old copy may have: none of the OS's, and no status or `status: new`.
    @Test func whatAnOldCopysPropertiesMayBe() throws {
        #expect(TaskEngine.mayBeOldCopy(try Note.parse("---\nagent: claude\n---\nx\n")))
        #expect(TaskEngine.mayBeOldCopy(try Note.parse("---\nstatus: new\n---\nx\n")))
        #expect(TaskEngine.mayBeOldCopy(try Note.parse("---\nstatus: New\n---\nx\n")))
        #expect(!TaskEngine.mayBeOldCopy(try Note.parse("---\nstatus: new\nrun_id: 20261205-1-abc\n---\nx\n")))
        #expect(!TaskEngine.mayBeOldCopy(try Note.parse("---\nstatus: done\n---\nx\n")))
        #expect(!TaskEngine.mayBeOldCopy(try Note.parse("---\nstatus: draft\n---\nx\n")))
    }

    /// Attack (medium): Emacs saves by renaming the note to `x.md~` and writing a new `x.md`. The
    /// rename was followed as the task moving: the run wrote its end into the backup, and the
    /// editor's copy at `x.md` ran claude again — during the run and after it.
    @Test func anEditorsBackupRenameIsNotTheTaskMoving() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let root = env.vault.root
        let original = "---\nagent: claude\n---\nReview the widget cache design. FIXTURE_MODE=slow\n"
        try env.store.write(original, to: "Tasks/Emacs.md", expecting: .absent)
        #expect(engine.consider(path: "Tasks/Emacs.md") != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        // During the run: the backup rename, then the buffer written anew.
        #expect(rename(root + "/Tasks/Emacs.md", root + "/Tasks/Emacs.md~") == 0)
        #expect(!engine.noteRenamed(from: "Tasks/Emacs.md", to: "Tasks/Emacs.md~"))
        try Data((original + "Edited in emacs.\n").utf8).write(to: URL(fileURLWithPath: root + "/Tasks/Emacs.md"))
        #expect(engine.consider(path: "Tasks/Emacs.md") == .alreadyActive)
        engine.waitUntilIdle()
        let note = try env.note("Tasks/Emacs.md")
        let text = try env.text("Tasks/Emacs.md")
        #expect(note.text("status") == "done" && note.text("result") != nil && note.body.contains("Edited in emacs."), "\(text)")
        let backup = PlatformTestSupport.read(root + "/Tasks/Emacs.md~") ?? ""
        #expect(!backup.contains("status: done") && !backup.contains("result:"), "the run's end went into the backup: \(backup)")
        let results = try FileManager.default.contentsOfDirectory(atPath: root + "/Results")
        #expect(!results.contains { $0.contains(".md~") }, "\(results)")

        // After the run: the same save again (backup renamed over, new file written).
        try? FileManager.default.removeItem(atPath: root + "/Tasks/Emacs.md~")
        #expect(rename(root + "/Tasks/Emacs.md", root + "/Tasks/Emacs.md~") == 0)
        #expect(!engine.noteRenamed(from: "Tasks/Emacs.md", to: "Tasks/Emacs.md~"))
        try Data((original + "Edited in emacs.\nAgain.\n").utf8).write(to: URL(fileURLWithPath: root + "/Tasks/Emacs.md"))
        _ = engine.consider(path: "Tasks/Emacs.md")
        engine.waitUntilIdle()
        #expect(try env.note("Tasks/Emacs.md").text("status") == "done")
        #expect(env.fixturePrompts().count == 1, "the task ran again: \(env.fixturePrompts().count) runs")

        // A rename to another note name is still the task moving.
        let moved = try env.writeTask("Mover", properties: "type: task\nagent: claude", body: "Review the parser. FIXTURE_MODE=slow")
        _ = engine.consider(path: moved)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 2 })
        #expect(rename(root + "/" + moved, root + "/Tasks/Moved.md") == 0)
        #expect(engine.noteRenamed(from: moved, to: "Tasks/Moved.md"))
        engine.waitUntilIdle()
        #expect(try env.note("Tasks/Moved.md").text("status") == "done")
    }

    /// Attack (medium): the folder a private run wrote the private packet into was recorded by
    /// path; renamed ("app" → "app-v2"), or moved below another project folder, claude started
    /// there as in any public folder. The record keeps the folder's device and inode too.
    @Test func aPrivateProjectFolderStaysPrivateWhenRenamedOrMoved() throws {
        let env = try EngineTestVault()
        let roots = env.root + "/code"
        for folder in ["app", "other/deep"] { try FileManager.default.createDirectory(atPath: roots + "/" + folder, withIntermediateDirectories: true) }
        let guardrails = try env.text("Rules/Guardrails.md")
        try env.store.write(guardrails.replacingOccurrences(of: "project_roots: []\n", with: "project_roots: [\"\(roots)\"]\n"), to: "Rules/Guardrails.md", expecting: .any)
        let script = env.root + "/localw.sh"
        try "#!/bin/sh\nprintf '%s\\n' \"$1\" > ./agent-notes.txt\necho wrote notes\n".replacingFile(script)
        #expect(chmod(script, 0o755) == 0)
        try env.store.write("---\ntype: agent\nname: localw\nlane: local\ncommand: [\"\(script)\", \"{prompt}\"]\noutput: text\ntimeout: 30\ncontext_tokens: 4000\n---\n", to: "Rules/Agents/localw.md", expecting: .absent)
        try env.store.write("---\ntags: [x]\n---\nBank account PRIVBANK 12345\n", to: "Private/Bank.md", expecting: .any)
        let engine = try env.engine()
        let privateTask = try env.writeTask("Private summary", properties: "type: task\nagent: localw\nproject: \(roots)/app", body: "Summarize [[Private/Bank]] for me.")
        _ = engine.consider(path: privateTask, wait: true)
        engine.waitUntilIdle()
        #expect(PlatformTestSupport.read(roots + "/app/agent-notes.txt")?.contains("PRIVBANK") == true)

        #expect(rename(roots + "/app", roots + "/app-v2") == 0)
        var checked = 0
        for (name, project) in [("Renamed", "\(roots)/app-v2"), ("Inside renamed", "\(roots)/app-v2/src")] {
            try FileManager.default.createDirectory(atPath: roots + "/app-v2/src", withIntermediateDirectories: true)
            let task = try env.writeTask(name, properties: "type: task\nagent: claude\nproject: \(project)", body: "Review the code in this folder.")
            _ = engine.consider(path: task, wait: true)
            engine.waitUntilIdle()
            let note = try env.note(task)
            let said = [note.text("route_reason"), note.text("error")].compactMap { $0 }.joined(separator: " | ")
            #expect(said.contains("where a private run worked") && said.contains("app-v2"), "\(name): \(note.text("status") ?? "none"): \(said)")
            checked += 1
        }
        // Moved below another project folder: a task there holds it.
        #expect(rename(roots + "/app-v2", roots + "/other/deep/app3") == 0)
        let holder = try env.writeTask("Holder", properties: "type: task\nagent: claude\nproject: \(roots)/other", body: "Review the code in this folder.")
        _ = engine.consider(path: holder, wait: true)
        engine.waitUntilIdle()
        let held = try env.note(holder)
        let said = [held.text("route_reason"), held.text("error")].compactMap { $0 }.joined(separator: " | ")
        #expect(said.contains("where a private run worked") && said.contains("app3"), "\(held.text("status") ?? "none"): \(said)")
        let cwds = (PlatformTestSupport.read(env.fixtureLog) ?? "").split(separator: "\n").compactMap { try? JSON.parse(String($0))["cwd"]?.stringValue }
        #expect(cwds.isEmpty && checked == 2, "claude ran in \(cwds)")
    }

    /// Attack (low): the store waited up to 2 s for a process holding a note open while it held
    /// the note's folder lock, so every other write in the folder waited behind it (six echo
    /// tasks took 7 s). The wait comes before the lock: meanwhile the folder's lock is free.
    @Test func aNoteHeldOpenDoesNotHoldItsFolder() throws {
        let env = try EngineTestVault()
        let folder = env.vault.root + "/Tasks"
        let path = folder + "/Held.md"
        try Data("---\ntype: task\nstatus: draft\n---\nHeld.\n".utf8).write(to: URL(fileURLWithPath: path))
        let handle = try openHeldWriter(path)
        defer { try? handle.close() }
        // Where leases cannot tell (a file system or owner that does not allow them), there is no wait.
        guard FileSystem.waitUntilNoWriters(path, timeout: 0) == false else { return }
        #expect(env.store.hasWriters("Tasks/Held.md"))
        let snapshot = try env.store.read("Tasks/Held.md")
        let done = Locked(false)
        let store = env.store
        Thread.detachNewThread {
            _ = try? store.write("---\ntype: task\nstatus: new\n---\nHeld.\n", to: "Tasks/Held.md", expecting: .hash(snapshot.hash))
            done.withLock { $0 = true }
        }
        Thread.sleep(forTimeInterval: 0.5)
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        let locked = flock(descriptor, LOCK_EX | LOCK_NB) == 0
        if locked { flock(descriptor, LOCK_UN) }
        #expect(done.withLock({ $0 }) || locked, "the folder's lock was held while the store waited for the note's writer")
        #expect(eventually(within: 30) { done.withLock { $0 } })
    }
}

/// The watch bench's pick-up maximum (~5,000 ms, one sample a run, for months): a script's task,
/// read empty just before its write landed, with the writer gone by the look for writers, was
/// taken for a note a person began empty, and its text then waited 5 s as one being typed.
@Suite struct EmptyReadRaceTests {
    @Test func aTaskWhoseWriteLandsJustAfterItWasReadEmptyIsNotHeldAsBeingTyped() throws {
        let env = try EngineTestVault()
        let absolute = env.vault.root + "/Tasks/Race.md"
        let text = "---\ntype: task\nagent: echo\nstatus: new\n---\nSay hello.\n"
        var store = NoteStore(vault: env.vault)
        let armed = Locked(true)
        store.afterRead = { path in
            guard path == "Tasks/Race.md", armed.withLock({ armed in defer { armed = false }; return armed }) else { return }
            // The writer's save lands (and closes) between the read and the look for writers.
            try? Data(text.utf8).write(to: URL(fileURLWithPath: absolute))
        }
        let engine = try env.engine(store: store)
        #expect(FileManager.default.createFile(atPath: absolute, contents: Data()))
        #expect(engine.consider(path: "Tasks/Race.md") == .ignored)
        // The close event of that save.
        let second = engine.consider(path: "Tasks/Race.md")
        #expect(second != .beingWritten, "a task written whole was held as being typed")
        engine.waitUntilIdle()
        #expect(try env.note("Tasks/Race.md").text("status") == "done")
    }
}

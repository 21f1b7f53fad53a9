import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// `NoteStore.update`, the one way notes are written: the transform sees the version it replaces,
/// runs again after a lost race, can keep the note or refuse into a conflict note.
@Suite struct NoteUpdateTests {
    func makeStore() throws -> (store: NoteStore, root: String) {
        let root = TemporaryFolder.make("fbt-update")
        return (NoteStore(vault: Vault(root: root)), root)
    }

    @Test func aLostRaceRunsTheTransformAgainOnTheNewerVersion() throws {
        var (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        try store.create("a\n", at: "n.md")
        let file = root + "/n.md"
        store.beforeConditionalWrite = { attempt in
            // Another program saves between our transform and our write, once.
            if attempt == 0 { try? Data("a\nb\n".utf8).write(to: URL(fileURLWithPath: file)) }
        }
        let seen = Locked([String]())
        let outcome = try store.update("n.md") { current in
            seen.withLock { $0.append(current?.text ?? "") }
            return .write((current?.bytes ?? []) + Array("ours\n".utf8))
        }
        #expect(seen.withLock { $0 } == ["a\n", "a\nb\n"])
        #expect(outcome == .written(ContentHash(of: Array("a\nb\nours\n".utf8)), replaced: ContentHash(of: Array("a\nb\n".utf8))))
        #expect(try store.read("n.md").text == "a\nb\nours\n")
    }

    @Test func keepWritesNothingAndCreateRefusesAnExistingNote() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        let hash = try store.create("x\n", at: "Tasks/t.md")
        let before = FileSystem.identity(root + "/Tasks/t.md")
        #expect(try store.update("Tasks/t.md") { _ in .keep } == .unchanged(hash))
        #expect(FileSystem.identity(root + "/Tasks/t.md")?.inode == before?.inode)
        #expect(try store.update("Tasks/none.md") { _ in .keep } == .unchanged(nil))
        #expect(throws: NoteWriteError.conflict(path: "Tasks/t.md", expected: .absent, found: hash)) { try store.create("y\n", at: "Tasks/t.md") }
        #expect(try store.read("Tasks/t.md").text == "x\n")
    }

    @Test func aRefusedTransformLeavesTheNoteAndKeepsItsVersionInAConflictNote() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        try store.create("# Facts\n\nmine\n", at: "Memory/Facts.md")
        let outcome = try store.update("Memory/Facts.md", conflicts: ConflictRecording(expected: .hash(ContentHash(of: "old")))) { _ in
            .conflict(reason: "changed since it was read", refused: Array("# Facts\n\ntheirs\n".utf8))
        }
        guard case .conflict(let conflict) = outcome else { Issue.record("expected a conflict, got \(outcome)"); return }
        #expect(try store.read("Memory/Facts.md").text == "# Facts\n\nmine\n")
        #expect(conflict.conflictNotePath.hasPrefix(StaleMemoryGuard.conflictFolder + "/Facts "))
        #expect(try store.read(conflict.conflictNotePath).text.contains("theirs"))
    }

    @Test func racesLostOnEveryAttemptThrowOrEndInAConflictNote() throws {
        var (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        try store.create("0\n", at: "n.md")
        let saves = Locked(0)
        let file = root + "/n.md"
        store.beforeConditionalWrite = { _ in
            let n = saves.withLock { $0 += 1; return $0 }
            try? Data("person \(n)\n".utf8).write(to: URL(fileURLWithPath: file))
        }
        #expect(throws: NoteWriteError.self) { try store.update("n.md", attempts: 3) { _ in .write(Array("ours\n".utf8)) } }
        #expect(saves.withLock { $0 } == 3)
        let outcome = try store.update("n.md", attempts: 2, conflicts: ConflictRecording(expected: .any)) { _ in .write(Array("ours\n".utf8)) }
        guard case .conflict(let conflict) = outcome else { Issue.record("expected a conflict, got \(outcome)"); return }
        #expect(conflict.reason == "kept changing while the edit was retried")
        // The last save by the other program is what the note holds; ours is only in the conflict note.
        #expect(try store.read("n.md").text == "person \(saves.withLock { $0 })\n")
        #expect(try store.read(conflict.conflictNotePath).text.contains("ours"))
    }
}

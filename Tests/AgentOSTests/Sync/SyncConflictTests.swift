@testable import AgentOS
import Foundation
import TestSupport
import Testing

/// Which names are a sync tool's conflicting copies, and of which note.
@Suite struct SyncConflictTests {
    @Test func syncthingDropboxAndObsidianSyncCopiesAreRecognised() {
        let cases: [(String, String, String)] = [
            ("Tasks/Do it.sync-conflict-20261203-073000-ABCDEFG.md", "Tasks/Do it.md", "syncthing"),
            ("a.b.sync-conflict-20261203-073000-7ZZZZZZ.md", "a.b.md", "syncthing"),
            ("Notes/Idea (conflicted copy).md", "Notes/Idea.md", "dropbox"),
            ("Notes/Idea (Ana's conflicted copy 2026-12-03).md", "Notes/Idea.md", "dropbox"),
            ("Idea (conflicted copy 2026-12-03 (1)).md", "Idea.md", "dropbox"),
            ("Daily/2026-12-03 (Conflicted copy laptop 202612030730).md", "Daily/2026-12-03.md", "obsidian-sync"),
        ]
        for (copy, original, tool) in cases {
            let conflict = SyncConflict.parse(copy)
            #expect(conflict?.original == original && conflict?.tool == tool, "\(copy) → \(String(describing: conflict))")
        }
    }

    @Test func ordinaryNamesAndOurOwnConflictNotesAreNotCopies() {
        for path in ["Tasks/Do it.md", "Notes/sync-conflict notes.md", "x.sync-conflict-2026-1.md", "Notes/Idea (copy).md",
                     "Memory/Conflicts/Idea (conflicted copy).md", "Tasks/Do it.sync-conflict-20261203-073000-ABCDEFG.txt",
                     ".sync-conflict-20261203-073000-ABCDEFG.md", "Notes/(conflicted copy).md"] {
            #expect(SyncConflict.parse(path) == nil, "\(path)")
        }
    }

    @Test func aCopyIsNeverWorkAndItsConflictNoteIsWrittenOnce() throws {
        let folder = TemporaryFolder.make("fbt-sync-conflict")
        defer { TemporaryFolder.remove(folder) }
        let vault = Vault(root: folder)
        let store = NoteStore(vault: vault)
        let copy = "Tasks/Do it.sync-conflict-20261203-073000-ABCDEFG.md"
        try store.create("---\ntype: task\nstatus: new\n---\nDo it.\n", at: "Tasks/Do it.md")
        try store.create("---\ntype: task\nstatus: new\n---\nDo it differently.\n", at: copy)
        let note = try Note.parse("---\ntype: task\nstatus: new\n---\nDo it.\n")
        #expect(TaskNote.kind(of: note, path: copy) == nil)
        #expect(TaskNote.notWorkReason(of: note, path: copy)?.contains("Syncthing conflicting copy of Tasks/Do it.md") == true)

        let conflict = try #require(SyncConflict.parse(copy))
        let written = try conflict.record(store: store, guardrails: .shipped)
        #expect(written == conflict.notePath)
        #expect(try conflict.record(store: store, guardrails: .shipped) == nil, "a second conflict note for the same copy")
        let text = try #require(try store.readIfPresent(conflict.notePath)).bytes
        let parsed = try Note.parse(bytes: text)
        #expect(parsed.text("note") == "[[Tasks/Do it]]" && parsed.text("copy") == "[[Tasks/Do it.sync-conflict-20261203-073000-ABCDEFG]]")
        #expect(parsed.text("privacy") == nil)
    }

    @Test func theConflictNoteOfAPrivateNoteIsPrivate() throws {
        let folder = TemporaryFolder.make("fbt-sync-conflict")
        defer { TemporaryFolder.remove(folder) }
        let store = NoteStore(vault: Vault(root: folder))
        try store.create("---\nprivacy: private\n---\nMy secret plan.\n", at: "Notes/Plan.md")
        try store.create("Other plan.\n", at: "Notes/Plan (conflicted copy).md")
        let conflict = try #require(SyncConflict.parse("Notes/Plan (conflicted copy).md"))
        let path = try #require(try conflict.record(store: store, guardrails: .shipped))
        #expect(try Note.parse(bytes: try store.read(path).bytes).text("privacy") == "private")
    }
}

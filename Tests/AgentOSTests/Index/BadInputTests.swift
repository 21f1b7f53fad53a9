import Foundation
import Testing
@testable import AgentOS
import TestSupport

@Suite struct BadInputTests {
    @Test func badFilesAreSkippedWithReasonsAndNeverAbort() throws {
        let temp = try TemporaryVault()
        try temp.write("good.md", "a good note about walruses\n")
        try temp.write("binary.md", bytes: [0x89, 0x50, 0x4E, 0x47, 0x00, 0x00, 0x01, 0x02] + Array(repeating: 0x41, count: 100))
        // One byte over the limit (sparse, so the test stays cheap).
        let huge = FileManager.default.createFile(atPath: temp.root + "/huge.md", contents: nil)
        #expect(huge)
        let handle = try openHeldWriter(temp.root + "/huge.md")
        try handle.truncate(atOffset: UInt64(MemoryIndex.maxNoteBytes + 1))
        try handle.close()
        // Tests run as root, so permissions cannot make a file unreadable; a FIFO named like a note
        // cannot be read as one (and opening it would block).
        #expect(mkfifo(temp.root + "/pipe.md", 0o644) == 0)
        try temp.write("broken.md", bytes: Array("broken utf8 ".utf8) + [0xC3, 0x28, 0xFF] + Array(" narwhal text\n".utf8))
        try temp.write("bad frontmatter.md", "---\ntags: [unclosed\nkey: : :\n---\nbody with platypus\n")
        try temp.write("unterminated.md", "---\ntitle: never closed\nstill frontmatter with okapi\n")
        try FileManager.default.createDirectory(atPath: temp.root + "/folder.md", withIntermediateDirectories: true)
        try temp.write("folder.md/inner.md", "inside a folder named like a note, quokka\n")

        let index = try MemoryIndex(vault: temp.vault)
        let summary = try index.reconcile()
        let reasons = Dictionary(summary.skipped.map { ($0.path, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["binary.md"] == .binary)
        #expect(reasons["huge.md"] == .tooLarge(bytes: Int64(MemoryIndex.maxNoteBytes + 1)))
        #expect(reasons["pipe.md"] == .notRegularFile)
        #expect(summary.skipped.count == 3)
        #expect(summary.added == 5)
        #expect(summary.notesOnDisk == 8)

        #expect(try index.search("walruses").count == 1)
        // Broken UTF-8 is indexed with replacement characters.
        let broken = try #require(try index.search("narwhal").first)
        #expect(broken.path == "broken.md")
        #expect(broken.snippet.contains("\u{FFFD}"))
        // Malformed frontmatter: the note is indexed anyway, whole.
        #expect(try index.search("platypus").first?.path == "bad frontmatter.md")
        #expect(try index.search("unclosed").first?.path == "bad frontmatter.md")
        #expect(try index.search("okapi").first?.path == "unterminated.md")
        #expect(try index.search("quokka").first?.path == "folder.md/inner.md")

        // The same files through update(path:).
        #expect(try index.update(path: "binary.md") == .skipped(.binary))
        #expect(try index.update(path: "pipe.md") == .skipped(.notRegularFile))
        #expect(try index.update(path: "folder.md") == .skipped(.notRegularFile))
        #expect(try index.update(path: ".obsidian/workspace.md") == .skipped(.ignored))
        #expect(try index.update(path: "missing.md") == .skipped(.vanished))
    }

    @Test func aNoteThatVanishesMidIndexIsSkipped() throws {
        let temp = try TemporaryVault()
        try temp.write("gone.md", "here for a moment\n")
        let status = try #require(try FileSystem.status(temp.root + "/gone.md"))
        try temp.remove("gone.md")
        // What the reconcile does between listing a file and reading it.
        let prepared = MemoryIndex.prepare("gone.md", absolute: temp.root + "/gone.md", status: status, indexedHash: nil)
        guard case .skip(.vanished) = prepared else {
            Issue.record("expected a vanished skip, got \(prepared)")
            return
        }
    }

    @Test func aNoteThatTurnsBinaryLeavesTheIndex() throws {
        let temp = try TemporaryVault()
        try temp.write("flip.md", "readable ibis words\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        #expect(try index.search("ibis").count == 1)
        try temp.write("flip.md", bytes: [0, 1, 2, 3])
        #expect(try index.update(path: "flip.md") == .skipped(.binary))
        #expect(try index.search("ibis").isEmpty)
    }

    @Test func aCorruptDatabaseIsMovedAsideAndRebuilt() throws {
        let temp = try TemporaryVault()
        try temp.write("note.md", "findable gazelle\n")
        try FileManager.default.createDirectory(atPath: temp.vault.stateDirectory, withIntermediateDirectories: true)
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: temp.vault.databasePath))
        let index = try MemoryIndex(vault: temp.vault)
        #expect(index.warnings.count == 1)
        #expect(index.warnings.first?.contains("damaged") == true)
        _ = try index.reconcile()
        #expect(try index.search("gazelle").count == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: temp.vault.stateDirectory)
        #expect(leftovers.contains { $0.hasPrefix("index.sqlite.damaged-") })
    }

    @Test func anOlderSchemaIsRebuilt() throws {
        let temp = try TemporaryVault()
        try temp.write("note.md", "migrated heron\n")
        try FileManager.default.createDirectory(atPath: temp.vault.stateDirectory, withIntermediateDirectories: true)
        do {
            let old = try Database(path: temp.vault.databasePath)
            try old.execute("CREATE TABLE notes(path TEXT); PRAGMA user_version = 99;")
        }
        let index = try MemoryIndex(vault: temp.vault)
        #expect(try index.database.scalarInt("PRAGMA user_version") == Int64(IndexSchema.version))
        _ = try index.reconcile()
        #expect(try index.search("heron").count == 1)
    }
}

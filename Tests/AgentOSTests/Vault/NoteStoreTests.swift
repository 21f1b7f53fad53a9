import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Safe writes on real files in a temp vault: compare-and-swap, no temp files left, permissions,
/// path confinement, and merging with a person's concurrent edit.
@Suite struct NoteStoreTests {
    /// A store over a fresh temp vault; the caller removes `root`.
    func makeStore() throws -> (store: NoteStore, root: String) {
        let root = TemporaryFolder.make("fbt-store")
        return (NoteStore(vault: Vault(root: root)), root)
    }

    func expectConflict(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("the write was not refused", sourceLocation: sourceLocation)
        } catch let error as NoteWriteError {
            guard case .conflict = error else {
                Issue.record("expected a conflict, got \(error)", sourceLocation: sourceLocation)
                return
            }
        } catch {
            Issue.record("expected a conflict, got \(error)", sourceLocation: sourceLocation)
        }
    }

    func tempFiles(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(NoteStore.tempPrefix) }
    }

    @Test func absentExpectationCreatesOnceAndRefusesAnExistingNote() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        let hash = try store.write("first\n", to: "Tasks/new.md", expecting: .absent)
        #expect(hash == ContentHash(of: Array("first\n".utf8)))
        #expect(try store.read("Tasks/new.md").text == "first\n")
        expectConflict { try store.write("second\n", to: "Tasks/new.md", expecting: .absent) }
        #expect(try store.read("Tasks/new.md").text == "first\n")
        do throws(NoteWriteError) {
            try store.write("second\n", to: "Tasks/new.md", expecting: .absent)
            Issue.record("an existing note was overwritten")
        } catch {
            #expect(error == .conflict(path: "Tasks/new.md", expected: .absent, found: hash))
            #expect(error.description.contains("already exists"))
        }
        #expect(try tempFiles(in: root + "/Tasks").isEmpty)
    }

    @Test func staleHashIsRefusedAndFreshHashWrites() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        try store.write("v1\n", to: "note.md", expecting: .absent)
        let snapshot = try store.read("note.md")
        // Someone else changes the note after our read.
        try Data("v2 by a person\n".utf8).write(to: URL(fileURLWithPath: root + "/note.md"))
        expectConflict { try store.write("v3 from a stale read\n", to: "note.md", expecting: .hash(snapshot.hash)) }
        #expect(try store.read("note.md").text == "v2 by a person\n")
        let fresh = try store.read("note.md")
        try store.write("v3\n", to: "note.md", expecting: .hash(fresh.hash))
        #expect(try store.read("note.md").text == "v3\n")
        // A note deleted since it was read is a conflict too, not a silent re-create.
        try FileManager.default.removeItem(atPath: root + "/note.md")
        expectConflict { try store.write("v4\n", to: "note.md", expecting: .hash(fresh.hash)) }
        #expect(!FileManager.default.fileExists(atPath: root + "/note.md"))
        #expect(try tempFiles(in: root).isEmpty)
    }

    @Test func writesLeaveNoTempFilesAndReplaceAtomically() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        var hash = try store.write("start\n", to: "Daily/day.md", expecting: .absent)
        for i in 0..<20 {
            hash = try store.write("version \(i)\n", to: "Daily/day.md", expecting: .hash(hash))
        }
        expectConflict { try store.write("x", to: "Daily/day.md", expecting: .absent) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/Daily") == ["day.md"])
        #expect(try store.read("Daily/day.md").text == "version 19\n")
        #expect(try store.read("Daily/day.md").hash == hash)
    }

    @Test func permissionsAreKept() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        try store.write("secret\n", to: "Private/p.md", expecting: .absent)
        #expect(try FileSystem.status(root + "/Private/p.md")?.mode == 0o644)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: root + "/Private/p.md")
        let snapshot = try store.read("Private/p.md")
        try store.write("still secret\n", to: "Private/p.md", expecting: .hash(snapshot.hash))
        #expect(try FileSystem.status(root + "/Private/p.md")?.mode == 0o600)
        try store.updateProperties("Private/p.md", set: [Property("a", .int(1))])
        #expect(try FileSystem.status(root + "/Private/p.md")?.mode == 0o600)
    }

    @Test func pathsCannotLeaveTheVault() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        let outside = TemporaryFolder.make("fbt-outside")
        defer { TemporaryFolder.remove(outside) }
        try Data("outside secret\n".utf8).write(to: URL(fileURLWithPath: outside + "/secret.md"))
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: root + "/link.md", withDestinationPath: outside + "/secret.md")

        let cases: [(String, Vault.PathError)] = [
            ("../x.md", .parentReference("../x.md")),
            ("a/../../x.md", .parentReference("a/../../x.md")),
            ("Tasks/../x.md", .parentReference("Tasks/../x.md")),
            ("/etc/passwd", .absolute("/etc/passwd")),
            ("~/x.md", .absolute("~/x.md")),
            ("", .empty),
            ("a\0b.md", .empty),
            ("escape/secret.md", .symlink("escape/secret.md")),
            ("escape/new.md", .symlink("escape/new.md")),
            ("link.md", .symlink("link.md")),
        ]
        for (path, expected) in cases {
            #expect(throws: expected) { try store.vault.resolve(path) }
            #expect(throws: NoteWriteError.path(expected)) { try store.read(path) }
            #expect(throws: NoteWriteError.path(expected)) { try store.write("pwned\n", to: path, expecting: .any) }
            #expect(throws: NoteWriteError.path(expected)) { try store.updateProperties(path, set: [Property("a", .int(1))]) }
        }
        #expect(try String(contentsOfFile: outside + "/secret.md", encoding: .utf8) == "outside secret\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["secret.md"])
        // `./` and doubled slashes are fine and stay inside.
        try store.write("ok\n", to: "./Tasks//inside.md", expecting: .absent)
        #expect(try store.read("Tasks/inside.md").text == "ok\n")
        #expect(try store.read("Tasks/inside.md").relativePath == "Tasks/inside.md")
    }

    @Test func updatePropertiesMergesWithAConcurrentEdit() throws {
        var (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        try store.write("---\nstatus: open\n---\nBody\n", to: "Tasks/t.md", expecting: .absent)
        let attempts = AttemptLog()
        let path = root + "/Tasks/t.md"
        store.beforeConditionalWrite = { attempt in
            attempts.record(attempt)
            // A person edits the note between our read and our write, once.
            if attempt == 0 {
                try? Data("---\nstatus: open\nowner: me\n---\nBody edited by a person\n".utf8).write(to: URL(fileURLWithPath: path))
            }
        }
        let hash = try store.updateProperties("Tasks/t.md", set: [Property("status", .string("done"))], unset: [])
        #expect(attempts.values == [0, 1], "the first write must have been refused and retried")
        let final = try store.read("Tasks/t.md")
        #expect(final.text == "---\nstatus: done\nowner: me\n---\nBody edited by a person\n")
        #expect(final.hash == hash)
        #expect(try tempFiles(in: root + "/Tasks").isEmpty)
    }

    @Test func updatePropertiesWithAnExpectedHashReportsTheConflict() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        let original = try store.write("---\na: 1\n---\n", to: "n.md", expecting: .absent)
        try Data("---\na: 2\n---\n".utf8).write(to: URL(fileURLWithPath: root + "/n.md"))
        expectConflict { try store.updateProperties("n.md", set: [Property("b", .int(1))], expected: original) }
        #expect(try store.read("n.md").text == "---\na: 2\n---\n")
        // Nothing to change writes nothing.
        let same = try store.read("n.md")
        #expect(try store.updateProperties("n.md", set: [Property("a", .int(2))]) == same.hash)
    }

    @Test func updatePropertiesKeepsEveryEditUnderRealContention() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        try store.write("---\nstart: 0\n---\n", to: "busy.md", expecting: .absent)
        let rounds = 25
        let failures = AttemptLog()
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for i in 0..<rounds {
                do {
                    if worker == 0 {
                        try store.updateProperties("busy.md", set: [Property("p\(i)", .int(i))], attempts: 1000)
                    } else {
                        // Another writer appends to the body with its own compare-and-swap loop.
                        while true {
                            let snapshot = try store.read("busy.md")
                            do throws(NoteWriteError) {
                                try store.write(snapshot.bytes + Array("line \(i)\n".utf8), to: "busy.md", expecting: .hash(snapshot.hash))
                                break
                            } catch {
                                if case .conflict = error { continue }
                                throw error
                            }
                        }
                    }
                } catch {
                    failures.record(worker)
                }
            }
        }
        #expect(failures.values.isEmpty)
        let note = try Note.parse(bytes: try store.read("busy.md").bytes)
        for i in 0..<rounds {
            #expect(note["p\(i)"] == .int(i), "property p\(i) was lost")
            #expect(note.body.contains("line \(i)\n"), "body line \(i) was lost")
        }
        #expect(try tempFiles(in: root).isEmpty)
    }
}

/// A thread-safe list of integers for hooks and workers.
final class AttemptLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int] = []
    func record(_ value: Int) { lock.lock(); stored.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return stored }
}

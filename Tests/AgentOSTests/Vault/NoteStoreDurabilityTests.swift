import Foundation
import TestSupport
import Testing
@testable import AgentOS
#if canImport(Glibc)
import Glibc
#endif

/// Writes that hold for every name and against every editor: temp names within `NAME_MAX`, and no save
/// by a program outside the folder lock (an editor writing in place or by rename) silently lost.
@Suite struct NoteStoreDurabilityTests {
    /// A store over a fresh temp vault; the caller removes `root`.
    func makeStore() throws -> (store: NoteStore, root: String) {
        let root = TemporaryFolder.make("fbt-durable")
        return (NoteStore(vault: Vault(root: root)), root)
    }

    /// Every temp file of ours left anywhere under `root`.
    func leftovers(_ root: String) -> [String] {
        let walker = FileManager.default.enumerator(atPath: root)
        var found: [String] = []
        while let path = walker?.nextObject() as? String {
            if (path as NSString).lastPathComponent.hasPrefix(NoteStore.tempPrefix) { found.append(path) }
        }
        return found
    }

    /// Saves `text` into the file at `path` as an editor that writes in place does (same inode).
    static func saveInPlace(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC | O_CREAT, 0o644)
        guard fd >= 0 else {
            Issue.record("cannot open \(path) for writing: errno \(errno)")
            return
        }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Saves `text` as an editor that writes a temp file and renames it over the note does.
    static func saveByRename(_ path: String, _ text: String) {
        let temp = (path as NSString).deletingLastPathComponent + "/~editor-\(UUID().uuidString.prefix(6)).tmp"
        #expect(FileManager.default.createFile(atPath: temp, contents: Data(text.utf8)))
        rename(temp, path)
    }

    @Test(arguments: [
        String(repeating: "界", count: 80),          // 240 bytes: the name of the adversarial run
        String(repeating: "b", count: 250),           // 250 bytes + ".md" = 253
        String(repeating: "é", count: 125) + "ab",    // 252 bytes, two-byte characters
    ])
    func namesUpToNameMaxWriteAndLeaveNoTempFiles(stem: String) throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        let path = "Tasks/" + stem + ".md"
        #expect((stem + ".md").utf8.count <= 255)
        let first = try store.write("---\nstatus: new\n---\nbody\n", to: path, expecting: .absent)
        try store.write("---\nstatus: done\n---\nbody\n", to: path, expecting: .hash(first))
        try store.updateProperties(path, set: [Property("result", .string("[[x]]"))])
        let text = try store.read(path).text
        #expect(text.contains("status: done") && text.contains("result:"))
        #expect(leftovers(root).isEmpty)
        #expect(NoteStore.tempPath(folder: "/v", name: stem + ".md").utf8.count < 64)
    }

    /// A save that lands between the check and the rename, in place or by rename, is never replaced:
    /// the write reports a conflict, and `update` re-reads and merges onto the save.
    /// (On 320a560 the rename went ahead unconditionally after the check, and the save vanished.)
    @Test(arguments: [false, true])
    func aSaveInsideTheWindowIsKeptAndMerged(byRename: Bool) throws {
        var (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        let absolute = root + "/Tasks/t.md"
        try store.write("---\nstatus: new\n---\noriginal\n", to: "Tasks/t.md", expecting: .absent)
        let saves = Locked(0)
        store.betweenCheckAndReplace = {
            // Only the first attempt is raced; the merge that follows must then succeed.
            guard saves.withLock({ $0 += 1; return $0 }) == 1 else { return }
            let text = "---\nstatus: new\n---\noriginal\nSAVED-IN-WINDOW\n"
            if byRename { Self.saveByRename(absolute, text) } else { Self.saveInPlace(absolute, text) }
        }
        try store.updateProperties("Tasks/t.md", set: [Property("status", .string("running"))])
        let text = try String(contentsOfFile: absolute, encoding: .utf8)
        #expect(text.contains("SAVED-IN-WINDOW"))
        #expect(text.contains("status: running"))
        #expect(leftovers(root).isEmpty)
    }

    /// A plain write with a stale expectation whose note was saved inside the window keeps the save on
    /// disk and says so (a conflict), never "written".
    @Test func aRacedWriteReportsTheConflict() throws {
        var (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        let absolute = root + "/n.md"
        let hash = try store.write("v1\n", to: "n.md", expecting: .absent)
        store.betweenCheckAndReplace = { Self.saveInPlace(absolute, "person's v2\n") }
        do {
            try store.write("ours\n", to: "n.md", expecting: .hash(hash))
            Issue.record("the write claimed success over a save")
        } catch {
            guard case .conflict(_, _, let found) = error else { Issue.record("expected a conflict, got \(error)"); return }
            #expect(found == ContentHash(of: Array("person's v2\n".utf8)))
        }
        #expect(try String(contentsOfFile: absolute, encoding: .utf8) == "person's v2\n")
    }

    /// A note created by someone else between the `absent` check and the write is not overwritten.
    @Test func aNoteCreatedInsideTheWindowIsNotOverwritten() throws {
        var (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        let absolute = root + "/Results/r.md"
        try FileManager.default.createDirectory(atPath: root + "/Results", withIntermediateDirectories: true)
        store.betweenCheckAndReplace = { Self.saveByRename(absolute, "a person's note\n") }
        #expect(throws: NoteWriteError.self) { try store.write("ours\n", to: "Results/r.md", expecting: .absent) }
        #expect(try String(contentsOfFile: absolute, encoding: .utf8) == "a person's note\n")
        #expect(leftovers(root).isEmpty)
    }

    /// The adversarial run, as a test: an editor that holds its own buffer (as Obsidian does) saves one
    /// note, alternately in place and by rename, each save adding a unique marker, at the same moment
    /// as the OS updates the note's properties (600 rounds; `FBT_HAMMER_ROUNDS=3000` for the full run). After every round the editor's
    /// save must be in the note or in a conflict note; none may vanish.
    @Test func aHammeringEditorLosesNoSave() throws {
        let (store, root) = try makeStore()
        defer { TemporaryFolder.remove(root) }
        let path = "Tasks/hammered.md"
        let absolute = root + "/" + path
        try store.write("---\nstatus: running\n---\n# Hammered\n", to: path, expecting: .absent)
        let rounds = Int(ProcessInfo.processInfo.environment["FBT_HAMMER_ROUNDS"] ?? "") ?? 600
        let go = DispatchSemaphore(value: 0), saved = DispatchSemaphore(value: 0)
        let editor = Thread {
            var buffer = "---\nstatus: running\n---\n# Hammered\n"
            for k in 1...rounds {
                go.wait()
                buffer += "marker-\(k)\n"
                if k % 2 == 0 { Self.saveInPlace(absolute, buffer) } else { Self.saveByRename(absolute, buffer) }
                saved.signal()
            }
        }
        editor.start()
        let conflicts = root + "/" + StaleMemoryGuard.conflictFolder
        var lost: [Int] = []
        for k in 1...rounds {
            go.signal()
            _ = try? store.updateProperties(path, set: [Property("progress", .int(k))], attempts: 50)
            saved.wait()
            let text = (try? String(contentsOfFile: absolute, encoding: .utf8)) ?? ""
            if text.contains("marker-\(k)\n") { continue }
            // Not in the note: then it must be in a conflict note.
            let kept = ((try? FileManager.default.contentsOfDirectory(atPath: conflicts)) ?? []).contains { name in
                ((try? String(contentsOfFile: conflicts + "/" + name, encoding: .utf8)) ?? "").contains("marker-\(k)\n")
            }
            if !kept { lost.append(k) }
        }
        #expect(lost.isEmpty, "\(lost.count) of \(rounds) saves lost, e.g. \(lost.prefix(10))")
        #expect(leftovers(root).isEmpty)
    }
}

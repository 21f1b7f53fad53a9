import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// A vault in a fresh temp folder for the stale-memory tests. Writes made "by a person" go straight to
/// disk with Foundation, as Obsidian's would, not through `NoteStore`.
final class MemoryTestVault: Sendable {
    let root: String
    let vault: Vault
    let store: NoteStore

    init() {
        root = TemporaryFolder.make("fbt-stale")
        // A vault as Obsidian leaves it (commands refuse a folder that is not one).
        try! FileManager.default.createDirectory(atPath: root + "/.obsidian", withIntermediateDirectories: true)
        vault = Vault(root: root)
        store = NoteStore(vault: vault)
    }

    deinit { TemporaryFolder.remove(root) }

    /// Writes a file as another program would.
    func write(_ relative: String, _ text: String) {
        let path = root + "/" + relative
        try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.replacingFile(path)
    }

    func text(_ relative: String) -> String? {
        try? String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    /// Vault-relative paths of the conflict notes, sorted.
    func conflictNotes() -> [String] {
        let folder = root + "/" + StaleMemoryGuard.conflictFolder
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { StaleMemoryGuard.conflictFolder + "/" + $0 }
    }

    /// The text of the only fenced block opened by `opening` (e.g. "````markdown") in a conflict note.
    static func block(after opening: String, in text: String) -> String? {
        guard let start = text.range(of: opening + "\n") else { return nil }
        let fence = String(opening.prefix { $0 == "`" })
        guard let end = text.range(of: "\n" + fence + "\n", range: start.upperBound..<text.endIndex) else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }
}

@Suite struct StaleMemoryTests {
    static let path = "Memory/Project facts.md"
    static let original = "---\ntype: memory\nstatus: draft\n---\n# Project facts\n\nThe API lives at /v1.\n"
    static let personsEdit = "---\ntype: memory\nstatus: draft\n---\n# Project facts\n\nThe API lives at /v2 since Monday.\n"
    static let fixedNow = Date(timeIntervalSince1970: 1_795_000_000)

    @Test func concurrentEditBetweenReadAndWriteBecomesAConflictNoteAndKeepsThePersonsEdit() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.original)
        let read = try v.store.read(Self.path) // the agent reads …
        v.write(Self.path, Self.personsEdit) // … a person edits in Obsidian …
        let agentsVersion = "---\ntype: memory\nstatus: draft\n---\n# Project facts\n\nThe API lives at /v1 (see ```openapi.yaml```).\n"
        let verdict = try StaleMemoryGuard.write(.text(agentsVersion), to: Self.path, expecting: .hash(read.hash), store: v.store, now: Self.fixedNow)

        guard case .conflict(let conflict) = verdict else { Issue.record("expected a conflict, got \(verdict)"); return }
        #expect(v.text(Self.path) == Self.personsEdit)
        #expect(v.conflictNotes() == [conflict.conflictNotePath])
        let stamp = LocalTime.day(Self.fixedNow) + " " + LocalTime.time(Self.fixedNow).replacingOccurrences(of: ":", with: "")
        #expect(conflict.conflictNotePath == "Memory/Conflicts/Project facts \(stamp).md")
        #expect(conflict.found == ContentHash(of: Self.personsEdit))
        #expect(conflict.description.contains(conflict.conflictNotePath))

        let text = try #require(v.text(conflict.conflictNotePath))
        let note = try Note.parse(text)
        #expect(note.text("type") == "conflict")
        #expect(note.text("note") == "[[Memory/Project facts]]")
        #expect(note.text("expected_hash") == read.hash.hex)
        #expect(note.text("found_hash") == ContentHash(of: Self.personsEdit).hex)
        #expect(note.text("status") == "open")
        #expect(note["created"] == .datetime(LocalTime.dateTime(Self.fixedNow)))
        // The refused version survives in full, even with backticks in it; the diff shows both sides.
        #expect(MemoryTestVault.block(after: "````markdown", in: note.body) == String(agentsVersion.dropLast()))
        let diff = try #require(MemoryTestVault.block(after: "````diff", in: note.body))
        #expect(diff.contains("\n-The API lives at /v2 since Monday.\n+The API lives at /v1 (see ```openapi.yaml```)."))
        #expect(note.body.contains("[[Memory/Project facts]]"))
    }

    @Test func writeOnTheVersionReadLandsWithoutAConflictNote() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.original)
        let read = try v.store.read(Self.path)
        let verdict = try StaleMemoryGuard.write(.text(Self.personsEdit), to: Self.path, expecting: .hash(read.hash), store: v.store)
        #expect(verdict == .written(hash: ContentHash(of: Self.personsEdit), merged: false))
        #expect(v.text(Self.path) == Self.personsEdit)
        #expect(v.conflictNotes().isEmpty)
    }

    @Test func manyWritersOnTheSameVersionOneLandsAndEveryOtherVersionIsKept() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.original)
        let read = try v.store.read(Self.path)
        let count = 8
        let verdicts = Verdicts()
        DispatchQueue.concurrentPerform(iterations: count) { i in
            let text = Self.original + "\nWriter \(i) was here.\n"
            do {
                verdicts.append(i, try StaleMemoryGuard.write(.text(text), to: Self.path, expecting: .hash(read.hash), store: v.store, now: Self.fixedNow))
            } catch {
                Issue.record("writer \(i) failed: \(error)")
            }
        }
        let all = verdicts.all
        let winners = all.filter { if case .written = $0.1 { return true } else { return false } }
        #expect(winners.count == 1)
        let winner = try #require(winners.first?.0)
        #expect(v.text(Self.path) == Self.original + "\nWriter \(winner) was here.\n")
        // Same second, same note: every loser still got a conflict note of its own.
        #expect(v.conflictNotes().count == count - 1)
        for (i, verdict) in all where i != winner {
            guard case .conflict(let conflict) = verdict else { Issue.record("writer \(i): \(verdict)"); continue }
            #expect(v.text(conflict.conflictNotePath)?.contains("Writer \(i) was here.") == true)
        }
    }

    @Test func conflictNoteNamesNeverOverwriteEachOther() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.personsEdit)
        let stale = ContentHash(of: Self.original)
        var paths: [String] = []
        for i in 1...3 {
            let verdict = try StaleMemoryGuard.write(.text("attempt \(i)\n"), to: Self.path, expecting: .hash(stale), store: v.store, now: Self.fixedNow)
            guard case .conflict(let conflict) = verdict else { Issue.record("\(verdict)"); return }
            paths.append(conflict.conflictNotePath)
        }
        #expect(Set(paths).count == 3)
        #expect(paths[1].hasSuffix(" 2.md") && paths[2].hasSuffix(" 3.md"))
        for (i, path) in paths.enumerated() { #expect(v.text(path)?.contains("attempt \(i + 1)\n") == true) }
        #expect(v.text(Self.path) == Self.personsEdit)
    }

    @Test func propertyEditMergesWhenTheOtherWriterLeftThoseProperties() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.original)
        let read = try v.store.read(Self.path)
        let person = Self.personsEdit.replacingOccurrences(of: "type: memory\n", with: "type: memory\ntags: [api]\n")
        v.write(Self.path, person)
        let verdict = try StaleMemoryGuard.write(.properties(set: [Property("status", .string("done"))], unset: []), to: Self.path, expecting: .hash(read.hash), base: read.bytes, store: v.store)
        guard case .written(_, let merged) = verdict else { Issue.record("\(verdict)"); return }
        #expect(merged)
        #expect(v.text(Self.path) == person.replacingOccurrences(of: "status: draft", with: "status: done"))
        #expect(v.conflictNotes().isEmpty)
    }

    @Test func propertyEditMergesAcrossProcessesThroughTheRememberedReadVersion() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.original)
        let read = try v.store.read(Self.path)
        StaleMemoryGuard.remember(read, store: v.store) // what `note show --json` does
        v.write(Self.path, Self.personsEdit)
        // No base in hand, as in a separate `note set --expect` process.
        let verdict = try StaleMemoryGuard.write(.properties(set: [Property("reviewed", .bool(true))], unset: ["status"]), to: Self.path, expecting: .hash(read.hash), store: v.store)
        guard case .written(_, true) = verdict else { Issue.record("\(verdict)"); return }
        #expect(v.text(Self.path) == "---\ntype: memory\nreviewed: true\n---\n# Project facts\n\nThe API lives at /v2 since Monday.\n")
    }

    @Test func propertyEditWithoutTheVersionReadCannotProveAMergeSafeAndConflicts() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.personsEdit)
        let verdict = try StaleMemoryGuard.write(.properties(set: [Property("status", .string("done"))], unset: []), to: Self.path, expecting: .hash(ContentHash(of: Self.original)), store: v.store)
        guard case .conflict(let conflict) = verdict else { Issue.record("\(verdict)"); return }
        #expect(conflict.reason.contains("version read is unknown"))
        #expect(v.text(Self.path) == Self.personsEdit)
    }

    @Test func conflictingPropertyEditBecomesAConflictNote() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.original)
        let read = try v.store.read(Self.path)
        let person = Self.original.replacingOccurrences(of: "status: draft", with: "status: blocked")
        v.write(Self.path, person)
        let verdict = try StaleMemoryGuard.write(.properties(set: [Property("status", .string("done"))], unset: []), to: Self.path, expecting: .hash(read.hash), base: read.bytes, store: v.store, now: Self.fixedNow)
        guard case .conflict(let conflict) = verdict else { Issue.record("\(verdict)"); return }
        #expect(conflict.reason.contains("'status'"))
        #expect(v.text(Self.path) == person)
        let note = try Note.parse(try #require(v.text(conflict.conflictNotePath)))
        #expect(note.text("type") == "conflict")
        #expect(note.body.contains("refused change: set `status: done`"))
        let diff = try #require(MemoryTestVault.block(after: "```diff", in: note.body))
        #expect(diff.contains("\n-status: blocked\n+status: done\n"))
    }

    @Test func bothWritersSettingTheSameValueLosesNothing() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.original)
        let read = try v.store.read(Self.path)
        let person = Self.personsEdit.replacingOccurrences(of: "status: draft", with: "status: done")
        v.write(Self.path, person)
        let verdict = try StaleMemoryGuard.write(.properties(set: [Property("status", .string("done"))], unset: []), to: Self.path, expecting: .hash(read.hash), base: read.bytes, store: v.store)
        // Already so, on a version the writer did not read: said (round 126).
        #expect(verdict == .unchanged(hash: ContentHash(of: person), changedSinceRead: true))
        #expect(v.conflictNotes().isEmpty)
    }

    @Test func deletedNoteIsAConflictWithNoFoundHash() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.original)
        let read = try v.store.read(Self.path)
        try FileManager.default.removeItem(atPath: v.root + "/" + Self.path)
        let verdict = try StaleMemoryGuard.write(.text("new facts\n"), to: Self.path, expecting: .hash(read.hash), store: v.store)
        guard case .conflict(let conflict) = verdict else { Issue.record("\(verdict)"); return }
        #expect(conflict.found == nil)
        #expect(v.text(Self.path) == nil)
        let note = try Note.parse(try #require(v.text(conflict.conflictNotePath)))
        #expect(note["found_hash"] == .null)
        #expect(note.body.contains("new facts"))
    }

    @Test func createRefusesAnExistingNoteAndKeepsTheRefusedVersion() throws {
        let v = MemoryTestVault()
        let created = try StaleMemoryGuard.write(.text(Self.original), to: Self.path, expecting: .absent, store: v.store)
        #expect(created == .written(hash: ContentHash(of: Self.original), merged: false))
        let again = try StaleMemoryGuard.write(.text(Self.personsEdit), to: Self.path, expecting: .absent, store: v.store)
        guard case .conflict(let conflict) = again else { Issue.record("\(again)"); return }
        #expect(v.text(Self.path) == Self.original)
        #expect(try Note.parse(try #require(v.text(conflict.conflictNotePath))).text("expected_hash") == "absent")
    }

    @Test func malformedFrontmatterIsRefusedBeforeAnythingIsWritten() throws {
        let v = MemoryTestVault()
        v.write(Self.path, Self.original)
        let read = try v.store.read(Self.path)
        #expect(throws: FrontmatterError.self) {
            try StaleMemoryGuard.write(.text("---\ntype: [memory\n---\nbody\n"), to: Self.path, expecting: .hash(read.hash), store: v.store)
        }
        #expect(v.text(Self.path) == Self.original)
    }

    @Test func conflictCopyOfAPrivateNoteIsMarkedPrivate() throws {
        let v = MemoryTestVault()
        v.write("Private/Diary.md", "# Diary\n\nsecret plans\n")
        let verdict = try StaleMemoryGuard.write(.text("# Diary\n\nother plans\n"), to: "Private/Diary.md", expecting: .hash(ContentHash(of: "stale")), store: v.store)
        guard case .conflict(let conflict) = verdict else { Issue.record("\(verdict)"); return }
        let note = try Note.parse(try #require(v.text(conflict.conflictNotePath)))
        #expect(note.text("privacy") == "private")
    }

    @Test func veryLongNoteTitlesStillGetAConflictNote() throws {
        let v = MemoryTestVault()
        let path = "Memory/" + String(repeating: "ü", count: 120) + ".md" // 240 bytes of name
        v.write(path, "mine\n")
        let verdict = try StaleMemoryGuard.write(.text("agent's\n"), to: path, expecting: .hash(ContentHash(of: "old")), store: v.store)
        guard case .conflict(let conflict) = verdict else { Issue.record("\(verdict)"); return }
        #expect(v.text(conflict.conflictNotePath)?.contains("agent's") == true)
    }

    @Test func lineDiffShowsRemovalsThenAdditionsWithContext() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingOccurrences(of: "line 5\n", with: "line five\nline 5½\n")
        let diff = LineDiff.unified(old: old, new: new, oldLabel: "a", newLabel: "b")
        #expect(diff == """
        --- a
        +++ b
        @@ -2,7 +2,8 @@
         line 2
         line 3
         line 4
        -line 5
        +line five
        +line 5½
         line 6
         line 7
         line 8
        """)
    }
}

/// Verdicts collected from concurrent writers.
final class Verdicts: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(Int, StaleMemoryGuard.WriteVerdict)] = []
    func append(_ i: Int, _ v: StaleMemoryGuard.WriteVerdict) { lock.withLock { items.append((i, v)) } }
    var all: [(Int, StaleMemoryGuard.WriteVerdict)] { lock.withLock { items } }
}

/// `note write` and `note set --expect` through `CLI.run`, as an agent uses them.
@Suite struct NoteWriteCommandTests {
    func run(_ arguments: [String], in v: MemoryTestVault) -> (code: Int32, out: String, err: String) {
        let (console, captured) = Console.capturing()
        let code = CLI.run(["note"] + arguments + ["--vault", v.root], console: console, environment: [:], executablePath: "fuckbigtech")
        return (code, captured.stdout, captured.stderr)
    }

    /// The hash `note show --json` prints.
    func shownHash(_ path: String, in v: MemoryTestVault) throws -> String {
        let shown = run(["show", path, "--json"], in: v)
        #expect(shown.code == 0)
        return try #require(try JSON.parse(shown.out)["hash"]?.stringValue)
    }

    /// A file outside the vault holding the agent's new version.
    func draft(_ text: String) -> String {
        let file = TemporaryFolder.make("fbt-draft") + "/draft.md"
        try! text.replacingFile(file)
        return file
    }

    @Test func agentsReadThenWriteLandsOnAnUnchangedNote() throws {
        let v = MemoryTestVault()
        v.write(StaleMemoryTests.path, StaleMemoryTests.original)
        let shown = try JSON.parse(run(["show", StaleMemoryTests.path, "--json"], in: v).out)
        let hash = try #require(shown["hash"]?.stringValue)
        let text = try #require(shown["text"]?.stringValue)
        #expect(text == StaleMemoryTests.original)
        let edited = text.replacingOccurrences(of: "/v1.", with: "/v1 (checked).")
        let result = run(["write", StaleMemoryTests.path, "--expect", hash, "--from", draft(edited), "--json"], in: v)
        #expect(result.code == 0, "\(result.err)")
        #expect(v.text(StaleMemoryTests.path) == edited)
        #expect(try JSON.parse(result.out)["hash"]?.stringValue == ContentHash(of: edited).hex)
    }

    @Test func concurrentEditMakesWriteExitOneNamingTheConflictNote() throws {
        let v = MemoryTestVault()
        v.write(StaleMemoryTests.path, StaleMemoryTests.original)
        let hash = try shownHash(StaleMemoryTests.path, in: v)
        v.write(StaleMemoryTests.path, StaleMemoryTests.personsEdit)
        let result = run(["write", StaleMemoryTests.path, "--expect", hash, "--from", draft("# Project facts\n\nagent's view\n")], in: v)
        #expect(result.code == 1)
        #expect(result.err.split(separator: "\n").count == 1)
        let conflicts = v.conflictNotes()
        #expect(conflicts.count == 1)
        #expect(result.err.contains(try #require(conflicts.first)))
        #expect(v.text(StaleMemoryTests.path) == StaleMemoryTests.personsEdit)
        #expect(v.text(conflicts[0])?.contains("agent's view") == true)
    }

    @Test func writeWithoutExpectOnAnExistingNoteIsRefused() throws {
        let v = MemoryTestVault()
        v.write(StaleMemoryTests.path, StaleMemoryTests.original)
        let result = run(["write", StaleMemoryTests.path, "--from", draft("overwrite\n")], in: v)
        #expect(result.code == 1)
        #expect(result.err.contains("--expect"))
        #expect(v.text(StaleMemoryTests.path) == StaleMemoryTests.original)
        #expect(v.conflictNotes().isEmpty)
        let missing = run(["write", "Memory/New.md", "--from", draft("new\n")], in: v)
        #expect(missing.code == 1)
        #expect(missing.err.contains("--create"))
        #expect(v.text("Memory/New.md") == nil)
    }

    @Test func createMakesANewNoteButIsRefusedOnAnExistingOne() throws {
        let v = MemoryTestVault()
        let made = run(["write", "Memory/New.md", "--create", "--from", draft("fresh\n")], in: v)
        #expect(made.code == 0, "\(made.err)")
        #expect(v.text("Memory/New.md") == "fresh\n")
        v.write(StaleMemoryTests.path, StaleMemoryTests.original)
        let refused = run(["write", StaleMemoryTests.path, "--create", "--from", draft("clobber\n")], in: v)
        #expect(refused.code == 1)
        #expect(refused.err.contains("already exists"))
        #expect(v.text(StaleMemoryTests.path) == StaleMemoryTests.original)
    }

    @Test func setWithExpectMergesOrConflictsByWhatTheOtherWriterChanged() throws {
        let v = MemoryTestVault()
        v.write(StaleMemoryTests.path, StaleMemoryTests.original)
        let hash = try shownHash(StaleMemoryTests.path, in: v)
        v.write(StaleMemoryTests.path, StaleMemoryTests.personsEdit) // body only
        let merged = run(["set", StaleMemoryTests.path, "status=done", "--expect", hash, "--json"], in: v)
        #expect(merged.code == 0, "\(merged.err)")
        #expect(try JSON.parse(merged.out)["merged"] == .bool(true))
        #expect(v.text(StaleMemoryTests.path) == StaleMemoryTests.personsEdit.replacingOccurrences(of: "status: draft", with: "status: done"))

        let hash2 = try shownHash(StaleMemoryTests.path, in: v)
        let person = v.text(StaleMemoryTests.path)!.replacingOccurrences(of: "status: done", with: "status: reopened")
        v.write(StaleMemoryTests.path, person)
        let clash = run(["set", StaleMemoryTests.path, "status=archived", "--expect", hash2], in: v)
        #expect(clash.code == 1)
        #expect(clash.err.contains("Memory/Conflicts/"))
        #expect(v.text(StaleMemoryTests.path) == person)
    }

    @Test func malformedOrDoubleExpectationsAreUsageErrors() {
        let v = MemoryTestVault()
        v.write(StaleMemoryTests.path, StaleMemoryTests.original)
        #expect(run(["write", StaleMemoryTests.path, "--expect", "xyz", "--from", draft("a\n")], in: v).code == 64)
        #expect(run(["write", StaleMemoryTests.path, "--expect", String(repeating: "0", count: 16), "--create", "--from", draft("a\n")], in: v).code == 64)
        #expect(v.text(StaleMemoryTests.path) == StaleMemoryTests.original)
    }
}

/// The "Stale memory" section of docs/routing.md shows a conflict note: it must match what is written.
@Suite struct StaleMemoryDocsTests {
    @Test func documentedConflictNoteHasTheSamePropertiesAsARealOne() throws {
        let text = try String(contentsOfFile: RoutingDocsTests.docsPath, encoding: .utf8)
        let section = try #require(text.range(of: "\n## Stale memory\n")).upperBound
        let example = try #require(MemoryTestVault.block(after: "```markdown", in: String(text[section...])))
        let documented = try Note.parse(example + "\n")
        #expect(documented.text("type") == "conflict")

        let v = MemoryTestVault()
        v.write(StaleMemoryTests.path, StaleMemoryTests.personsEdit)
        let verdict = try StaleMemoryGuard.write(.text("x\n"), to: StaleMemoryTests.path, expecting: .hash(ContentHash(of: StaleMemoryTests.original)), store: v.store)
        guard case .conflict(let conflict) = verdict else { Issue.record("\(verdict)"); return }
        let real = try Note.parse(try #require(v.text(conflict.conflictNotePath)))
        #expect(documented.properties.map(\.key) == real.properties.map(\.key))
        #expect(text[section...].contains("note write \"$note\" --expect \"$hash\""))
    }
}

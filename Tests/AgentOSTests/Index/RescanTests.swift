#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import AgentOS

/// The re-scan that takes unchanged folders from their record (`Rescan`, `FolderStamp`): what it
/// skips, and that it still finds every change a full walk finds.
@Suite struct RescanTests {
    /// Whether this machine's temporary folder keeps folder stamps the re-scan trusts (ext4, XFS,
    /// Btrfs, tmpfs…). Elsewhere every folder is listed: the checks of what was found still hold, the
    /// checks that a folder was skipped do not apply.
    static func trusted(_ temp: TemporaryVault) -> Bool { FolderStamp.isTrusted(root: temp.root) }

    /// Makes every folder record settled, as a listing taken 10 s later (with no change in between)
    /// would have left it: a test cannot wait for `FolderStamp.settleNanoseconds` each time.
    static func settle(_ index: MemoryIndex) throws {
        try index.database.execute("UPDATE folders SET listed_at = ctime + 10000000000")
    }

    static func stamp(_ path: String) throws -> FolderStamp { try #require(FolderStamp.of(path)) }

    /// Sets a folder's modification time back to `stamp`'s (`utimensat`), as `touch -d` or
    /// `rsync -t` would; its change time moves all the same.
    static func setModificationTime(_ path: String, to stamp: FolderStamp) throws {
        var times = [timespec(tv_sec: Int(stamp.mtime / 1_000_000_000), tv_nsec: Int(stamp.mtime % 1_000_000_000)),
                     timespec(tv_sec: Int(stamp.mtime / 1_000_000_000), tv_nsec: Int(stamp.mtime % 1_000_000_000))]
        #expect(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0)
    }

    /// Overwrites a file's bytes in place (open, truncate, write, close: what Obsidian does), which
    /// changes nothing in its folder.
    static func writeInPlace(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC)
        try #require(fd >= 0)
        defer { close(fd) }
        let bytes = Array(text.utf8)
        #expect(write(fd, bytes, bytes.count) == bytes.count)
    }

    @Test func aNoteEditedInPlaceIsFoundAlthoughItsFolderIsNotListed() throws {
        let temp = try TemporaryVault()
        for i in 0..<20 { try temp.write("Notes/n\(i).md", "note \(i) about herons\n") }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        try Self.settle(index)
        let folder = temp.root + "/Notes"
        let before = try Self.stamp(folder)

        // Same size, so only the modification time can tell.
        try Self.writeInPlace(folder + "/n7.md", "note 7 about egrets\n")
        let after = try Self.stamp(folder)
        #expect(after == before, "writing a note in place moved its folder's stamp; the test proves nothing")

        let summary = try index.reconcile()
        #expect(summary.changed == 1)
        #expect(summary.unchanged == 19)
        if Self.trusted(temp) {
            #expect(summary.foldersListed == 0)
            #expect(summary.foldersFromRecord == 2)
        }
        #expect(try index.search("egrets").map(\.path) == ["Notes/n7.md"])
        #expect(try index.search("herons", limit: 50).count == 19)
    }

    @Test func notesOfUnlistedFoldersAreCheckedInChunksOnTwoThreadsAndEveryChangeIsFound() throws {
        // More notes than one chunk of `lstat`s, over three folders, so chunks and the two halves of
        // each chunk cross folders; notes edited in place (their folders' stamps do not move, so no
        // folder is listed and every row goes through the chunks) at each chunk's and half's edges.
        let temp = try TemporaryVault()
        let count = Rescan.statChunk + 700
        let folderOf = { (i: Int) in ["A", "B/C", "D"][i * 3 / count] }
        for i in 0..<count { try temp.write("\(folderOf(i))/n\(i).md", "note \(i) about herons\n") }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        try Self.settle(index)
        // Rows are checked in storage order: the notes at the edges, in that order.
        let order = try index.database.query("SELECT path FROM notes ORDER BY rowid") { $0.text(0) }
        try #require(order.count == count)
        let chunk = Rescan.statChunk
        let edges = [0, 1, chunk / 2 - 1, chunk / 2, chunk - 1, chunk, chunk + (count - chunk) / 2 - 1, chunk + (count - chunk) / 2, count - 1]
        let edited = Set(edges.map { order[$0] })
        for path in edited { try Self.writeInPlace(temp.root + "/" + path, "edited: egrets!\n") }

        let summary = try index.reconcile()
        if Self.trusted(temp) { #expect(summary.foldersListed == 0) }
        #expect(summary.changed == edited.count)
        #expect(summary.unchanged == count - edited.count)
        #expect(Set(try index.search("egrets", limit: 50).map(\.path)) == edited)
        #expect(try index.search("herons", limit: 5_000).count == count - edited.count)
    }

    @Test func aNoteAddedToAFolderWhoseModificationTimeWasSetBackIsFound() throws {
        let temp = try TemporaryVault()
        try temp.write("Notes/a.md", "first note\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        try Self.settle(index)
        let folder = temp.root + "/Notes"
        let before = try Self.stamp(folder)

        try temp.write("Notes/b.md", "second note about ibises\n")
        try Self.setModificationTime(folder, to: before)
        #expect(try Self.stamp(folder).mtime == before.mtime)

        let summary = try index.reconcile()
        #expect(summary.added == 1)
        if Self.trusted(temp) { #expect(summary.foldersListed == 1) }
        #expect(try index.search("ibises").map(\.path) == ["Notes/b.md"])
    }

    @Test func aSubfolderRemovedUnderAFolderWhoseModificationTimeWasSetBackLeavesTheIndex() throws {
        let temp = try TemporaryVault()
        try temp.write("Notes/keep.md", "kept\n")
        try temp.write("Notes/Old/gone.md", "about storks\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        try Self.settle(index)
        let folder = temp.root + "/Notes"
        let before = try Self.stamp(folder)

        try temp.remove("Notes/Old")
        try Self.setModificationTime(folder, to: before)

        let summary = try index.reconcile()
        #expect(summary.removed == 1)
        #expect(try index.search("storks").isEmpty)
        #expect(try index.database.scalarInt("SELECT count(*) FROM folders WHERE path = 'Notes/Old'") == 0)
    }

    @Test func aFolderChangedWithinTheTickOfItsListingIsListedAgain() throws {
        let temp = try TemporaryVault()
        try temp.write("Notes/a.md", "first\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        // The change lands in the same clock tick as the listing, so the folder's stamp after it is
        // the stamp the record holds: only the record's age tells that the listing may be stale.
        try temp.write("Notes/b.md", "second about cranes\n")
        let now = try Self.stamp(temp.root + "/Notes")
        try index.database.run("UPDATE folders SET mtime = ?, ctime = ?, listed_at = ? WHERE path = 'Notes'", [.int(now.mtime), .int(now.ctime), .int(now.ctime)])

        let summary = try index.reconcile()
        #expect(summary.added == 1)
        #expect(summary.foldersListed >= 1)
        #expect(try index.search("cranes").map(\.path) == ["Notes/b.md"])
    }

    @Test func aRecordSettlesOnItsOwnAfterTwoSeconds() throws {
        let temp = try TemporaryVault()
        try temp.write("Notes/a.md", "first\n")
        let index = try MemoryIndex(vault: temp.vault)
        let first = try index.reconcile()
        #expect(first.foldersListed == 2)
        // The folders were made just now: their records are not trusted yet, and the next re-scan
        // lists them again. After the settle time has passed, one more listing makes them trusted.
        Thread.sleep(forTimeInterval: Double(FolderStamp.settleNanoseconds) / 1e9 + 0.1)
        let second = try index.reconcile()
        #expect(second.foldersListed == 2)
        let third = try index.reconcile()
        #expect(third.unchanged == 1)
        if Self.trusted(temp) {
            #expect(third.foldersListed == 0)
            #expect(third.foldersFromRecord == 2)
        }
    }

    @Test func aSkippedNoteFixedInPlaceInAnUnlistedFolderIsIndexed() throws {
        let temp = try TemporaryVault()
        try temp.write("Notes/ok.md", "fine\n")
        try temp.write("Notes/blob.md", bytes: [0x00, 0x01, 0x02, 0x41])
        let index = try MemoryIndex(vault: temp.vault)
        let first = try index.reconcile()
        #expect(first.skipped.map(\.path) == ["Notes/blob.md"])
        try Self.settle(index)

        let again = try index.reconcile()
        #expect(again.skipped.map(\.path) == ["Notes/blob.md"], "a skipped note is reported on every re-scan, as before")
        try Self.writeInPlace(temp.root + "/Notes/blob.md", "now text about plovers\n")
        let fixed = try index.reconcile()
        #expect(fixed.added == 1)
        #expect(try index.search("plovers").map(\.path) == ["Notes/blob.md"])
    }

    @Test func aNoteTheIndexDroppedWhileItsFileStayedIsFoundAgain() throws {
        let temp = try TemporaryVault()
        try temp.write("Notes/a.md", "about avocets\n")
        try temp.write("Notes/b.md", "other\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        try Self.settle(index)

        // Nothing changed on disk; only the index forgot the note.
        try index.remove(path: "Notes/a.md")
        #expect(try index.search("avocets").isEmpty)
        let summary = try index.reconcile()
        #expect(summary.added == 1)
        #expect(try index.search("avocets").map(\.path) == ["Notes/a.md"])
    }

    @Test func aReScanWithNothingChangedWritesNothing() throws {
        let temp = try TemporaryVault()
        for i in 0..<5 { try temp.write("A/n\(i).md", "note \(i)\n") }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        try Self.settle(index)
        let changesBefore = try index.database.scalarInt("SELECT total_changes()")
        let summary = try index.reconcile()
        #expect(summary.unchanged == 5 && summary.indexed == 0 && summary.removed == 0)
        #expect(try index.database.scalarInt("SELECT total_changes()") == changesBefore)
    }
}

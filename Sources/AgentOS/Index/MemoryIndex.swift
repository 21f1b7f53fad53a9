import CSQLite
import Foundation

/// Why a file was left out of the index. Indexing never stops for one bad file.
public enum SkipReason: Equatable, Sendable, CustomStringConvertible {
    /// A NUL byte near the start: not a text note.
    case binary
    /// Larger than `MemoryIndex.maxNoteBytes`.
    case tooLarge(bytes: Int64)
    /// Not a regular file (a FIFO, a device, a directory, a symlink, which the OS never follows).
    case notRegularFile
    /// Reading failed.
    case unreadable(String)
    /// The file disappeared between the listing and the read.
    case vanished
    /// A dot-file, a file in a dot-folder, or not a `.md` file.
    case ignored
    /// Its file name is not UTF-8 (a Latin-1 `café.md` from an old sync or a zip): the name read
    /// back names no file, so nothing can open it.
    case nameNotUTF8

    public var description: String {
        switch self {
        case .binary: return "binary content (a NUL byte), not a text note"
        case .tooLarge(let bytes): return "too large (\(bytes / 1_048_576) MB; the limit is \(MemoryIndex.maxNoteBytes / 1_048_576) MB)"
        case .notRegularFile: return "not a regular file (symlinks, FIFOs and devices are not read)"
        case .unreadable(let why): return "unreadable: \(why)"
        case .vanished: return "vanished while being indexed"
        case .ignored: return "ignored (dot-file or dot-folder, or not a .md file)"
        case .nameNotUTF8: return "its file name is not UTF-8, so it cannot be opened: rename it"
        }
    }
}

/// What `MemoryIndex.update(path:)` did with one note.
public enum UpdateOutcome: Equatable, Sendable {
    case added
    case changed
    /// Same content as indexed (its modification time may have been refreshed).
    case unchanged
    /// The note is gone from disk and its rows were deleted.
    case removed
    case skipped(SkipReason)
}

/// The counts of a full walk of the vault.
public struct ReconcileSummary: Sendable {
    /// Markdown files found on disk (indexed, unchanged or skipped).
    public var notesOnDisk = 0
    /// Notes newly indexed.
    public var added = 0
    /// Notes whose content changed and were re-indexed.
    public var changed = 0
    /// Notes left as they were.
    public var unchanged = 0
    /// Index rows whose note is gone.
    public var removed = 0
    /// Files left out, with the reason.
    public var skipped: [(path: String, reason: SkipReason)] = []
    /// Wall time of the walk in seconds.
    public var seconds: Double = 0
    /// Folders listed (new, changed, or on a file system whose folder stamps are not trusted).
    public var foldersListed = 0
    /// Folders not listed: their stamp was the one recorded when they were last listed, so their
    /// entries are the same (their notes were still each `lstat`ed).
    public var foldersFromRecord = 0

    /// Notes written to the index by this walk.
    public var indexed: Int { added + changed }
}

/// The full-text memory of a vault: notes, their sections in an FTS5 table, and their links.
///
/// Several processes may write at once (the watcher and a manual `index`); each change runs in one
/// SQLite transaction and waits on the busy timeout rather than failing. Indexing only reads notes.
public final class MemoryIndex {
    /// The largest note indexed; bigger files are skipped with a reason.
    public static let maxNoteBytes = 20 * 1_048_576

    /// The vault indexed.
    public let vault: Vault
    /// Problems met while opening (a damaged index moved aside and rebuilt), for the caller to show.
    public private(set) var warnings: [String] = []
    /// The open connection.
    public private(set) var database: Database
    /// The inode of the file `database` opened, taken as it was opened: the file a watcher's
    /// connection writes, even once something removes or replaces what is at the path.
    private(set) var fileInode: UInt64?
    let isReadOnly: Bool
    /// Whether `usermerge` was set on this connection's full-text tables (`mergeSmallSegments`).
    private var smallMergeConfigured = false

    /// Opens the vault's index for writing, creating it when missing. A damaged database file is moved
    /// aside (`index.sqlite.damaged-TIME`) and an empty one made; `warnings` says so.
    public init(vault: Vault) throws {
        self.vault = vault
        isReadOnly = false
        var notes: [String] = []
        database = try MemoryIndex.openWritable(vault.databasePath, warnings: &notes)
        fileInode = FileSystem.identity(vault.databasePath)?.inode
        warnings = notes
        try FolderRecord.createTable(database)
        // A full index writes tens of MB, in batches of a few MB (`Rescan`); a large cache keeps
        // FTS5's pages between batches. The watcher sets a small one before its start-up index.
        try database.execute("PRAGMA cache_size = -16384")
        // A full index of a large vault holds the write lock for seconds; a watcher's single-note
        // update waits for it rather than failing.
        database.setBusyTimeout(milliseconds: 60_000)
    }

    private init(vault: Vault, readOnlyDatabase: Database) {
        self.vault = vault
        database = readOnlyDatabase
        isReadOnly = true
    }

    /// Opens an existing index read-only (for `search` and `backlinks`: no walk, no writes).
    /// Returns `nil` when there is no index file yet, or it is from another schema version.
    public static func openForReading(vault: Vault) throws -> MemoryIndex? {
        guard let status = try? FileSystem.status(vault.databasePath), status.kind == .file else { return nil }
        let database = try Database(path: vault.databasePath, readOnly: true)
        guard Int(try database.scalarInt("PRAGMA user_version") ?? 0) == IndexSchema.version else { return nil }
        try SectionScore.register(on: database)
        return MemoryIndex(vault: vault, readOnlyDatabase: database)
    }

    private static func openWritable(_ path: String, warnings: inout [String]) throws -> Database {
        // Switching a new file to WAL needs a moment of exclusive access, and SQLite does not wait on
        // the busy handler for it: when two processes create the index at once, one retries here.
        var attempt = 0
        while true {
            do {
                return try openWritableOnce(path, warnings: &warnings)
            } catch let error as DatabaseError where error.code & 0xff == SQLITE_BUSY && attempt < 200 {
                attempt += 1
                // The other side is another process; SQLite gives no wait for this lock: back off.
                Thread.sleep(forTimeInterval: 0.025)
            }
        }
    }

    private static func openWritableOnce(_ path: String, warnings: inout [String]) throws -> Database {
        do {
            let database = try IndexSchema.create(at: path)
            _ = try database.scalarInt("SELECT count(*) FROM notes WHERE id = 0")
            return database
        } catch let error as DatabaseError where error.isCorruption {
            let aside = moveAside(path)
            warnings.append("the index at \(path) was damaged (\(error.message)); moved it to \(aside) and started a new one")
            return try IndexSchema.create(at: path)
        }
    }

    private static func moveAside(_ path: String) -> String {
        let aside = path + ".damaged-\(Int(Date().timeIntervalSince1970))"
        try? FileSystem.rename(path, to: aside)
        try? FileSystem.remove(path + "-wal")
        try? FileSystem.remove(path + "-shm")
        return aside
    }

    /// Runs `body`; if SQLite reports the file damaged, moves it aside, starts an empty index, and
    /// runs `body` once more (the caller's work then re-fills it).
    private func recovering<T>(_ body: () throws -> T) throws -> T {
        // No statement may hold an old read snapshot into a write transaction.
        database.resetAllStatements()
        defer { database.resetAllStatements() }
        do {
            return try body()
        } catch let error as DatabaseError where error.isCorruption && !isReadOnly {
            let aside = MemoryIndex.moveAside(vault.databasePath)
            warnings.append("the index was damaged (\(error.message)); moved it to \(aside) and rebuilt it")
            database = try IndexSchema.create(at: vault.databasePath)
            fileInode = FileSystem.identity(vault.databasePath)?.inode
            return try body()
        }
    }

    // MARK: Single notes (the watcher's entry points)

    /// Brings one note's rows up to date with the file at `relativePath`.
    public func update(path relativePath: String) throws -> UpdateOutcome {
        try recovering {
            try database.transaction { try updateLocked(relativePath) }
        }
    }

    /// Brings several notes up to date in one transaction (the watcher's batch of its own writes):
    /// one commit, and one new FTS5 segment to merge, instead of one per note.
    @discardableResult
    public func update(paths relativePaths: [String]) throws -> [UpdateOutcome] {
        guard !relativePaths.isEmpty else { return [] }
        return try recovering {
            try database.transaction { try relativePaths.map { try updateLocked($0) } }
        }
    }

    private func updateLocked(_ relativePath: String) throws -> UpdateOutcome {
        let existing = try row(for: relativePath)
        func skip(_ reason: SkipReason) throws -> UpdateOutcome {
            if let existing { try deleteRows(noteID: existing.id, path: relativePath) }
            return .skipped(reason)
        }
        guard relativePath.hasSuffix(".md"), !Vault.isIgnored(relativePath) else { return try skip(.ignored) }
        let absolute: String
        do {
            absolute = try vault.resolve(relativePath)
        } catch {
            return try skip(error == .symlink(relativePath) ? .notRegularFile : .ignored)
        }
        let status: FileStatus?
        do {
            status = try FileSystem.status(absolute)
        } catch {
            if let existing { try deleteRows(noteID: existing.id, path: relativePath) }
            return .skipped(.unreadable(error.description))
        }
        guard let status else {
            if let existing {
                try deleteRows(noteID: existing.id)
                return .removed
            }
            return .skipped(.vanished)
        }
        let outcome = try index(relativePath, absolute: absolute, status: status, existing: existing)
        if case .skipped = outcome, existing != nil { try FolderRecord.forget(folderOf: relativePath, database) }
        return outcome
    }

    /// Deletes a note's rows (the file was deleted).
    public func remove(path relativePath: String) throws {
        try recovering {
            try database.transaction {
                if let existing = try row(for: relativePath) { try deleteRows(noteID: existing.id, path: relativePath) }
            }
        }
    }

    /// Moves a note's rows to its new path: the old rows go and the note is read again under the new
    /// name (its title is its file name, so the title column changes too).
    @discardableResult
    public func rename(from oldPath: String, to newPath: String) throws -> UpdateOutcome {
        try recovering {
            try database.transaction {
                if let existing = try row(for: oldPath) { try deleteRows(noteID: existing.id, path: oldPath) }
                return try updateLocked(newPath)
            }
        }
    }

    // MARK: Full walk

    /// Walks the whole vault and fixes any drift: new and changed notes are indexed, notes gone from
    /// disk are removed. Every note is `lstat`ed and its modification time and size compared with the
    /// index; the content is read and hashed only when they differ. A folder is listed again only
    /// when its stamp moved since it was last listed (`Rescan`; docs/search.md says what holds).
    /// Changes are written in batches of at most `Rescan.batchBytes` of notes, one transaction each.
    /// `progress` gets (done, found so far) after each batch.
    public func reconcile(progress: ((Int, Int) -> Void)? = nil) throws -> ReconcileSummary {
        try recovering { try reconcileOnce(progress: progress) }
    }

    /// Empties the index and indexes the whole vault again.
    public func rebuild(progress: ((Int, Int) -> Void)? = nil) throws -> ReconcileSummary {
        try recovering {
            try database.transaction {
                try IndexSchema.dropAll(database)
                try IndexSchema.createTables(database)
            }
            database.resetAllStatements()
            try database.execute("VACUUM")
            return try reconcileOnce(progress: progress)
        }
    }

    private func reconcileOnce(progress: ((Int, Int) -> Void)?) throws -> ReconcileSummary {
        let clock = ContinuousClock()
        let started = clock.now
        var summary = ReconcileSummary()
        var done = 0
        progress?(0, 0)
        // Batches commit often; a checkpoint (with its fsyncs) after each would cost more than the
        // batch. One after the walk, as a single transaction would have had.
        let autoCheckpoint = try database.scalarInt("PRAGMA wal_autocheckpoint") ?? 0
        if autoCheckpoint > 0 { try database.execute("PRAGMA wal_autocheckpoint = 0") }
        defer {
            if autoCheckpoint > 0 {
                try? database.execute("PRAGMA wal_autocheckpoint = \(autoCheckpoint)")
                if done > 0 { try? database.execute("PRAGMA wal_checkpoint(PASSIVE)") }
            }
        }
        // Finding out what changed reads only, so a re-scan with nothing to do never takes the write
        // lock and never blocks the watcher or another `index`. The notes to read come in batches,
        // each written in its own transaction while the walk goes on.
        let rescan = Rescan(self) { [self] rescan, batch in
            try write(batch, into: &summary)
            done += batch.count
            // The total grows as the walk finds notes: it is what was found so far.
            progress?(rescan.unchanged + done, rescan.notesSeen)
        }
        try rescan.run()
        summary.unchanged += rescan.unchanged
        summary.skipped = rescan.skipped + summary.skipped
        summary.notesOnDisk = rescan.notesSeen
        summary.foldersListed = rescan.listedFolders
        summary.foldersFromRecord = rescan.recordedFolders
        if rescan.hasFinalWrites {
            let root = vault.root
            try database.transaction {
                for (id, path) in rescan.orphans {
                    guard let existing = try row(for: path), existing.id == id else { continue }
                    // A note created in a listed folder after its listing is left for the watcher (or
                    // the next re-scan), not deleted.
                    let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
                    if rescan.folders[folder] != nil, path.hasSuffix(".md"), !Vault.isIgnored(path),
                       let status = try? FileSystem.status(root + "/" + path), status.kind == .file { continue }
                    try deleteRows(noteID: id)
                    summary.removed += 1
                }
                try rescan.saveRecords(database)
            }
        }
        if summary.indexed >= MemoryIndex.mergeAfter {
            try mergeFullTextSegments()
        } else if summary.indexed + summary.removed > 0 {
            try mergeSmallSegments(stepsPerTable: .max)
        }
        progress?(rescan.notesSeen, rescan.notesSeen)
        summary.seconds = seconds(since: started, clock: clock)
        return summary
    }

    /// Reads and writes one batch of the re-scan's notes in one transaction. Reading and scanning run
    /// on a second thread while this one writes to SQLite: the two take about the same time, so a
    /// full index takes about half as long on two cores.
    private func write(_ batch: [Rescan.Work], into summary: inout ReconcileSummary) throws {
        let root = vault.root
        let jobs = batch.map { (path: $0.path, status: $0.status, hash: $0.known?.hash) }
        let channel = BoundedChannel<PreparedNote>(capacity: 16)
        let threaded = jobs.count > 16
        if threaded {
            Thread.detachNewThread {
                for job in jobs {
                    if !channel.send(MemoryIndex.prepare(job.path, absolute: root + "/" + job.path, status: job.status, indexedHash: job.hash)) { break }
                }
            }
        }
        defer { channel.close() }
        // The rows are read again inside the write, as another writer (the watcher, another
        // `index`) may have changed them since the re-scan read them.
        try database.transaction {
            for item in batch {
                var prepared = threaded ? channel.receive() : MemoryIndex.prepare(item.path, absolute: root + "/" + item.path, status: item.status, indexedHash: item.known?.hash)
                let existing = try row(for: item.path)
                if case .sameContent = prepared, existing?.hash != item.known?.hash {
                    // Same as the row the re-scan read, which another writer has changed since.
                    prepared = MemoryIndex.prepare(item.path, absolute: root + "/" + item.path, status: item.status, indexedHash: existing?.hash)
                }
                let outcome = try apply(prepared, path: item.path, existing: existing)
                switch outcome {
                case .added: summary.added += 1
                case .changed: summary.changed += 1
                case .unchanged: summary.unchanged += 1
                case .removed: summary.removed += 1
                case .skipped(let reason): summary.skipped.append((item.path, reason))
                }
                if case .skipped(let reason) = outcome, reason != .vanished {
                    item.folder.others.append(Rescan.name(item.path))
                }
                // A folder taken from its record had this entry as a note and now not, or the other
                // way round: its record is out of date.
                if !item.folder.isListed {
                    switch outcome {
                    case .added, .skipped: item.folder.forget = true
                    case .changed, .unchanged, .removed: break
                    }
                }
            }
        }
    }

    /// A walk that indexed at least this many notes merges the full-text tables' segments.
    static let mergeAfter = 1_000

    /// Merges each FTS5 table's segments into one (`'optimize'`). A bulk load leaves every table in
    /// many segments, and each query then looks every word up in each of them: on 20,000 notes a
    /// context packet's per-note section lookups took 7 times as long before the merge.
    func mergeFullTextSegments() throws {
        try database.transaction {
            for table in MemoryIndex.fullTextTables {
                try database.execute("INSERT INTO \(table)(\(table)) VALUES('optimize')")
            }
        }
    }

    /// The full-text tables, each kept in FTS5 segments.
    static let fullTextTables = ["sections", "memory", "anchors", "os_memory", "os_anchors"]

    /// Segments in each full-text table, what a query looks each word up in (FTS5 keeps one
    /// `<table>_idx` row per segment and run of leaf pages).
    func segmentCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in MemoryIndex.fullTextTables {
            counts[table] = Int(try database.scalarInt("SELECT count(DISTINCT segid) FROM \(table)_idx") ?? 0)
        }
        return counts
    }

    /// Pages one `'merge'` step writes (FTS5 pages, 4 KB each by default).
    static let mergePagesPerStep = 64

    /// Merges the small segments that single-note writes leave in each full-text table, leaving the
    /// big segment of the last bulk index alone: FTS5's `'merge'` command with `usermerge` set to 2,
    /// so two segments on one level are enough to merge. Each write adds a segment and FTS5's own
    /// automerge lets them pile up (4 per level): on a copy of the 20,000-note index, 40 single-note
    /// updates left 18 segments in `sections` and a packet's per-note section lookup took 5.5 times as
    /// long (0.30 ms against 0.054); two steps of this, 11 ms in all, brought it back to 2 segments
    /// and 0.059 ms. At most `stepsPerTable` steps of `mergePagesPerStep` pages run on each table;
    /// returns whether every table is merged (its last step found nothing to do).
    @discardableResult
    func mergeSmallSegments(stepsPerTable: Int = 2) throws -> Bool {
        var settled = true
        try database.transaction {
            for table in MemoryIndex.fullTextTables {
                if !smallMergeConfigured {
                    // FTS5 keeps it in the table's config; set once per connection.
                    try database.execute("INSERT INTO \(table)(\(table), rank) VALUES('usermerge', 2)")
                }
                var steps = 0
                while true {
                    let before = database.totalChanges
                    try database.execute("INSERT INTO \(table)(\(table), rank) VALUES('merge', \(MemoryIndex.mergePagesPerStep))")
                    // FTS5 documents it: fewer than two rows changed means the step found nothing to merge.
                    if database.totalChanges - before < 2 { break }
                    steps += 1
                    if steps >= stepsPerTable { settled = false; break }
                }
            }
            smallMergeConfigured = true
        }
        return settled
    }

    private func seconds(since start: ContinuousClock.Instant, clock: ContinuousClock) -> Double {
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    // MARK: Writing one note

    struct IndexedRow {
        var id: Int64
        var mtime: Int64
        var size: Int64
        var hash: Int64
    }

    /// The content hash of the note at `path` as the index last read it, or `nil` when it is not
    /// indexed: what its snippets, headings and link lines were cut from.
    public func indexedHash(of path: String) throws -> ContentHash? {
        let statement = try database.prepare("SELECT hash FROM notes WHERE path = ?")
        // Not left on its row: that would pin this connection to an old snapshot of the index.
        defer { statement.reset() }
        try statement.bind(.text(path), at: 1)
        guard try statement.step() else { return nil }
        return ContentHash(value: UInt64(bitPattern: statement.int64(0)))
    }

    private func row(for path: String) throws -> IndexedRow? {
        let statement = try database.prepare("SELECT id, mtime, size, hash FROM notes WHERE path = ?")
        try statement.bind(.text(path), at: 1)
        guard try statement.step() else { return nil }
        return IndexedRow(id: statement.int64(0), mtime: statement.int64(1), size: statement.int64(2), hash: statement.int64(3))
    }

    /// A file read and scanned, ready to be written; made off the database thread.
    enum PreparedNote: Sendable {
        case skip(SkipReason)
        /// Same hash as indexed: only the modification time and size are refreshed.
        case sameContent(mtime: Int64, size: Int64)
        case note(ScannedNote, hash: Int64, mtime: Int64, size: Int64)
    }

    /// Reads, checks and scans one file. Touches no database, so it can run on another thread.
    static func prepare(_ relativePath: String, absolute: String, status: FileStatus, indexedHash: Int64?) -> PreparedNote {
        guard status.kind == .file else { return .skip(.notRegularFile) }
        guard status.size <= Int64(MemoryIndex.maxNoteBytes) else { return .skip(.tooLarge(bytes: status.size)) }
        let bytes: [UInt8]
        let readStatus: FileStatus
        do {
            (bytes, readStatus) = try FileSystem.read(absolute, limit: MemoryIndex.maxNoteBytes)
        } catch {
            if error.isNotFound { return .skip(.vanished) }
            if error.code == EFBIG { return .skip(.tooLarge(bytes: max(status.size, Int64(MemoryIndex.maxNoteBytes) + 1))) }
            if error.code == ELOOP { return .skip(.notRegularFile) }
            return .skip(.unreadable(error.description))
        }
        guard readStatus.kind == .file else { return .skip(.notRegularFile) }
        if NoteScanner.looksBinary(bytes) { return .skip(.binary) }
        let hash = Int64(bitPattern: ContentHash(of: bytes).value)
        if let indexedHash, indexedHash == hash { return .sameContent(mtime: readStatus.mtimeNanoseconds, size: readStatus.size) }
        let scanned = NoteScanner.scan(relativePath: relativePath, bytes: bytes)
        return .note(scanned, hash: hash, mtime: readStatus.mtimeNanoseconds, size: readStatus.size)
    }

    /// Writes a prepared file. Must run inside a transaction.
    private func apply(_ prepared: PreparedNote, path relativePath: String, existing: IndexedRow?) throws -> UpdateOutcome {
        switch prepared {
        case .skip(let reason):
            if let existing { try deleteRows(noteID: existing.id) }
            return .skipped(reason)
        case .sameContent(let mtime, let size):
            guard let existing else { return .unchanged }
            try database.run("UPDATE notes SET mtime = ?, size = ? WHERE id = ?", [.int(mtime), .int(size), .int(existing.id)])
            return .unchanged
        case .note(let scanned, let hash, let mtime, let size):
            try write(scanned, path: relativePath, mtime: mtime, size: size, hash: hash, existingID: existing?.id)
            return existing == nil ? .added : .changed
        }
    }

    /// Reads, checks and writes one file. Must run inside a transaction.
    private func index(_ relativePath: String, absolute: String, status: FileStatus, existing: IndexedRow?) throws -> UpdateOutcome {
        let prepared = MemoryIndex.prepare(relativePath, absolute: absolute, status: status, indexedHash: existing?.hash)
        return try apply(prepared, path: relativePath, existing: existing)
    }

    private func deleteRows(noteID: Int64) throws {
        try deleteDependentRows(noteID: noteID)
        try database.run("DELETE FROM notes WHERE id = ?", [.int(noteID)])
    }

    /// Deletes a note's rows although its file may still be there (it was removed from the index, or
    /// is skipped now): the folder's record goes too, so that the next re-scan lists the folder and
    /// finds the file again rather than trusting the record.
    private func deleteRows(noteID: Int64, path: String) throws {
        try deleteRows(noteID: noteID)
        try FolderRecord.forget(folderOf: path, database)
    }

    private func deleteDependentRows(noteID: Int64) throws {
        let first = noteID << NoteScanner.sectionBits
        try database.run("DELETE FROM sections WHERE rowid BETWEEN ? AND ?", [.int(first), .int(first + Int64(NoteScanner.maxSections))])
        // Both pairs of tables: a note renamed into or out of the OS's folders keeps its id.
        for tables in [RetrievalTables.user, .os] {
            try database.run("DELETE FROM \(tables.memory) WHERE rowid = ?", [.int(noteID)])
            try database.run("DELETE FROM \(tables.anchors) WHERE rowid BETWEEN ? AND ?", [.int(first), .int(first + Int64(NoteScanner.maxSections))])
        }
        try database.run("DELETE FROM title_keys WHERE note_id = ?", [.int(noteID)])
        try database.run("DELETE FROM aliases WHERE note_id = ?", [.int(noteID)])
        try database.run("DELETE FROM links WHERE source_id = ?", [.int(noteID)])
    }

    private func write(_ note: ScannedNote, path: String, mtime: Int64, size: Int64, hash: Int64, existingID: Int64?) throws {
        let tags = note.tags.isEmpty ? "" : " " + note.tags.joined(separator: " ") + " "
        let aliasesText = note.aliases.joined(separator: "\n")
        let pathKey = LinkResolver.key(path)
        let nameKey = LinkResolver.key(note.title)
        let noteID: Int64
        if let existingID {
            try deleteDependentRows(noteID: existingID)
            let statement = try database.prepare("UPDATE notes SET path = ?, path_key = ?, name_key = ?, mtime = ?, size = ?, hash = ?, title = ?, type = ?, status = ?, tags = ?, aliases = ?, privacy = ?, section_count = ? WHERE id = ?")
            try statement.bind([.text(path), .text(pathKey), .text(nameKey), .int(mtime), .int(size), .int(hash), .text(note.title), SQLValue(note.type), SQLValue(note.status), .text(tags), .text(aliasesText), SQLValue(note.privacy), SQLValue(note.sections.count), .int(existingID)])
            _ = try statement.step()
            noteID = existingID
        } else {
            let statement = try database.prepare("INSERT INTO notes(path, path_key, name_key, mtime, size, hash, title, type, status, tags, aliases, privacy, section_count) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            try statement.bind([.text(path), .text(pathKey), .text(nameKey), .int(mtime), .int(size), .int(hash), .text(note.title), SQLValue(note.type), SQLValue(note.status), .text(tags), .text(aliasesText), SQLValue(note.privacy), SQLValue(note.sections.count)])
            _ = try statement.step()
            noteID = database.lastInsertRowID
        }

        // Title keys: the file name, the `title` property and the aliases, for "title equals query".
        let keyStatement = try database.prepare("INSERT INTO title_keys(key, note_id, kind) VALUES(?, ?, ?)")
        for (key, kind) in note.titleKeys {
            keyStatement.reset()
            try keyStatement.bind([.text(key), .int(noteID), .int(Int64(kind))])
            _ = try keyStatement.step()
        }
        if !note.aliasKeys.isEmpty {
            let aliasStatement = try database.prepare("INSERT INTO aliases(key, note_id) VALUES(?, ?)")
            for alias in note.aliasKeys {
                aliasStatement.reset()
                try aliasStatement.bind([.text(alias), .int(noteID)])
                _ = try aliasStatement.step()
            }
        }
        if !note.links.isEmpty {
            let linkStatement = try database.prepare("INSERT INTO links(source_id, target, target_key, heading, alias, embed, line) VALUES(?, ?, ?, ?, ?, ?, ?)")
            for (link, key) in zip(note.links, note.linkKeys) {
                linkStatement.reset()
                try linkStatement.bind(.int(noteID), at: 1)
                try linkStatement.bind(.text(link.target), at: 2)
                try linkStatement.bind(.text(key), at: 3)
                try linkStatement.bind(SQLValue(link.anchor), at: 4)
                try linkStatement.bind(SQLValue(link.display), at: 5)
                try linkStatement.bind(.int(link.isEmbed ? 1 : 0), at: 6)
                try linkStatement.bind(.int(Int64(link.line)), at: 7)
                _ = try linkStatement.step()
            }
        }

        // Sections: the title column carries the file name, `title` and aliases, so that every
        // section of a note ranks by its title.
        let titleColumn = note.titleColumn
        let sectionStatement = try database.prepare("INSERT INTO sections(rowid, path, heading, start_line, end_line, title, headings, body) VALUES(?, ?, ?, ?, ?, ?, ?, ?)")
        let first = noteID << NoteScanner.sectionBits
        try note.bytes.withUnsafeBufferPointer { buffer in
            for (index, section) in note.sections.enumerated() {
                sectionStatement.reset()
                try sectionStatement.bind(.int(first + Int64(index)), at: 1)
                try sectionStatement.bind(.text(path), at: 2)
                try sectionStatement.bind(.text(section.heading), at: 3)
                try sectionStatement.bind(.int(Int64(section.startLine)), at: 4)
                try sectionStatement.bind(.int(Int64(section.endLine)), at: 5)
                try sectionStatement.bind(.text(titleColumn), at: 6)
                try sectionStatement.bind(.text(section.headingsColumn), at: 7)
                let body = UnsafeBufferPointer(rebasing: buffer[section.body])
                if let segmented = section.segmentedBody {
                    try segmented.withUnsafeBufferPointer { try sectionStatement.bindUTF8($0, at: 8) }
                    _ = try sectionStatement.step()
                } else {
                    try sectionStatement.bindUTF8(body, at: 8)
                    _ = try sectionStatement.step()
                }
            }
        }

        // The note once more, whole and stemmed, for context packets (`related`): task text says
        // "creating" where a note says "create". Its frontmatter values go to `properties`. A note
        // of the OS's own folders goes to their tables (`RetrievalTables`), with its links' lines.
        let tables = RetrievalTables.of(path: path)
        let memoryStatement = try database.prepare("INSERT INTO \(tables.memory)(rowid, path, title, headings, body, properties) VALUES(?, ?, ?, ?, ?, ?)")
        try memoryStatement.bind([.int(noteID), .text(path), .text(titleColumn), .text(note.memoryHeadings)])
        try memoryStatement.bind(.text(note.memoryProperties), at: 6)
        if let segmented = note.segmentedMemoryBody {
            try segmented.withUnsafeBufferPointer { try memoryStatement.bindUTF8($0, at: 5) }
        } else {
            try note.bytes.withUnsafeBufferPointer { buffer in
                try memoryStatement.bindUTF8(UnsafeBufferPointer(rebasing: buffer[min(note.bodyStart, buffer.count)...]), at: 5)
            }
        }
        _ = try memoryStatement.step()

        // What this note says about the notes it links, for theirs: retrieval finds a note by the
        // words other notes use around their links to it.
        if !note.anchorTexts.isEmpty {
            let anchorStatement = try database.prepare("INSERT INTO \(tables.anchors)(rowid, target_key, text) VALUES(?, ?, ?)")
            for (index, anchor) in note.anchorTexts.prefix(NoteScanner.maxSections).enumerated() {
                anchorStatement.reset()
                try anchorStatement.bind([.int(first + Int64(index)), .text(anchor.key), .text(anchor.text)])
                _ = try anchorStatement.step()
            }
        }
    }
}

extension Statement {
    /// Binds UTF-8 bytes as text without building a `String`. SQLite copies them (`SQLITE_TRANSIENT`).
    func bindUTF8(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int32) throws(DatabaseError) {
        let rc: Int32
        if let base = bytes.baseAddress, bytes.count > 0 {
            rc = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { sqlite3_bind_text(handle, index, $0, Int32(bytes.count), sqliteTransient) }
        } else {
            rc = sqlite3_bind_text(handle, index, "", 0, sqliteTransient)
        }
        if rc != SQLITE_OK { throw database.error(sql) }
    }

    /// Column bytes without building a `String` (valid until the next step or reset).
    func bytes(_ column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let p = sqlite3_column_text(handle, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, column)))
    }
}

extension MemoryIndex {
    /// Paths of indexed notes under a folder.
    public func paths(under folder: String) throws -> [String] {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        // substr counts code points, as unicodeScalars does.
        return try database.query("SELECT path FROM notes WHERE substr(path, 1, ?) = ?", [.int(Int64(prefix.unicodeScalars.count)), .text(prefix)]) { $0.text(0) }
    }

    /// Paths of indexed notes whose `type` property is one of `types`.
    public func paths(ofTypes types: [String]) throws -> [String] {
        let placeholders = types.map { _ in "?" }.joined(separator: ",")
        return try database.query("SELECT path FROM notes WHERE lower(type) IN (\(placeholders))", types.map { .text($0.lowercased()) }) { $0.text(0) }
    }

    /// Paths of indexed notes whose path contains one of `fragments` (ASCII case-insensitive).
    public func paths(containingAny fragments: [String]) throws -> [String] {
        guard !fragments.isEmpty else { return [] }
        let clauses = fragments.map { _ in "instr(lower(path), ?) > 0" }.joined(separator: " OR ")
        return try database.query("SELECT path FROM notes WHERE \(clauses)", fragments.map { .text($0.lowercased()) }) { $0.text(0) }
    }

    /// The most recently changed indexed notes (by modification time), newest first, optionally
    /// only those under `folder`.
    public func recentlyChanged(limit: Int, under folder: String? = nil) throws -> [RecentNote] {
        defer { database.resetAllStatements() }
        let prefix = folder.map { $0.hasSuffix("/") ? $0 : $0 + "/" } ?? ""
        return try database.query("SELECT path, title, mtime, type, status FROM notes WHERE substr(path, 1, ?) = ? ORDER BY mtime DESC, path LIMIT ?",
                                  [.int(Int64(prefix.unicodeScalars.count)), .text(prefix), .int(Int64(limit))]) { row in
            RecentNote(path: row.text(0), title: row.text(1), modified: Date(timeIntervalSince1970: Double(row.int64(2)) / 1e9),
                       type: row.optionalText(3), status: row.optionalText(4))
        }
    }
}

/// A note `MemoryIndex.recentlyChanged` lists.
public struct RecentNote: Sendable, Equatable {
    /// Its vault path.
    public var path: String
    /// Its title.
    public var title: String
    /// When it last changed on disk (as indexed).
    public var modified: Date
    /// Its `type` property.
    public var type: String?
    /// Its `status` property.
    public var status: String?
}

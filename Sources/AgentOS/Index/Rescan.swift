#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One re-scan of the vault (`MemoryIndex.reconcile`): walks the folders, compares every note with its
/// row, and hands the notes to read to the index in batches as it goes.
///
/// - A folder whose stamp (`FolderStamp`) equals the one recorded when it was last listed, on a file
///   system that keeps folder stamps (`FolderStamp.isTrusted`), with a settled record, has the same
///   entries as then: it is not listed again, and its subfolders are taken from the record. Its notes
///   are still `lstat`ed one by one, by name relative to the folder, in one pass over the rows at the
///   end, because a note written in place changes nothing in its folder.
/// - Any other folder is listed (`VaultWalker.list`) and matched, by name, with the rows of the notes
///   directly in it (one range query), and its notes to read go out in the next batch.
/// - A note whose size and modification time equal its row's is not read; any other is.
/// - Rows of notes not found are `orphans`; the caller deletes them after checking again.
///
/// Memory: a listing at a time, a batch of notes to read at a time (`batchBytes`, `batchNotes`), and
/// a path and a stamp per folder; never the whole vault's notes at once.
final class Rescan {
    /// One folder of the vault as this re-scan saw it.
    final class Folder {
        /// Vault-relative path ("" for the root).
        let path: String
        /// Its absolute path.
        let absolute: String
        /// Its stamp, taken just before it was listed or compared with its record.
        var stamp: FolderStamp?
        /// The wall clock just before `stamp` was taken.
        var listedAt: Int64 = 0
        /// Taken from its record, not listed.
        var record: FolderRecord?
        /// Listed: names of its subfolders.
        var subfolderNames: [String] = []
        /// Names of its `.md` entries that are not notes, for its record.
        var others: [String] = []
        /// From its record: `.md` entries not indexed, each taken out if an index row names it.
        var unclaimedOthers: Set<String> = []
        /// Its record no longer tells the truth: forget it, so the next re-scan lists the folder.
        var forget = false
        /// A descriptor of the folder, for `fstatat` by name (-1 until opened).
        var descriptor: Int32 = -1

        /// The folder at vault-relative `path` (absolute: `absolute`).
        init(path: String, absolute: String) {
            self.path = path
            self.absolute = absolute
        }

        /// Whether this re-scan listed it (rather than taking it from its record).
        var isListed: Bool { record == nil }

        /// The path of a note named `name` in this folder.
        func notePath(_ name: String) -> String { path.isEmpty ? name : path + "/" + name }
    }

    /// A note to read (new, or its size or modification time differ from its row).
    struct Work {
        /// Vault-relative path of the note.
        var path: String
        /// Its `lstat` as the re-scan found it.
        var status: FileStatus
        /// Its row as the re-scan read it (read again inside the write, which may find it changed).
        var known: MemoryIndex.IndexedRow?
        /// The folder holding it, whose record the outcome may make out of date.
        var folder: Folder
    }

    /// The most bytes of notes, and the most notes, in one batch of `Work`: each batch is read and
    /// written in one transaction, so neither SQLite's cache nor the notes read hold the whole vault.
    static let batchBytes = 4 << 20
    /// See `batchBytes`.
    static let batchNotes = 1024
    /// The most folder descriptors held open at once; past it, notes are `lstat`ed by their full path.
    static let maxDescriptors = 256

    /// The index re-scanned.
    let index: MemoryIndex
    /// The folders visited, by vault-relative path.
    private(set) var folders: [String: Folder] = [:]
    /// Rows whose note was not found where the index says it is.
    private(set) var orphans: [(id: Int64, path: String)] = []
    /// Notes found whose row matched (not read).
    private(set) var unchanged = 0
    /// Notes found on disk so far: unchanged, to read, and skipped without reading.
    private(set) var notesSeen = 0
    /// `.md` entries skipped without being read (not regular files, unreadable), and unreadable folders.
    private(set) var skipped: [(path: String, reason: SkipReason)] = []
    /// Whether folder records are used and kept (`FolderStamp.isTrusted`).
    let usesRecords: Bool
    /// Records of folders this re-scan did not visit (gone, now a symlink, unreadable).
    private(set) var staleRecords: [String] = []
    /// Folders listed.
    private(set) var listedFolders = 0
    /// Folders taken from their record, not listed.
    private(set) var recordedFolders = 0

    private var batch: [Work] = []
    private var batchSize = 0
    private let flush: (Rescan, [Work]) throws -> Void

    /// A re-scan of `index`'s vault that hands each batch of notes to read to `flush`.
    init(_ index: MemoryIndex, flush: @escaping (Rescan, [Work]) throws -> Void) {
        self.index = index
        self.flush = flush
        usesRecords = FolderStamp.isTrusted(root: index.vault.root)
    }

    /// Walks the vault, then checks the rows of the folders it did not list; every note to read has
    /// been handed to `flush` when it returns.
    func run() throws {
        defer { closeDescriptors() }
        try walk()
        try checkRecordedFolders()
        try collectUnclaimedOthers()
        try flushBatch()
    }

    private func add(_ work: Work) throws {
        batch.append(work)
        batchSize += Int(work.status.size) + 512
        if batch.count >= Rescan.batchNotes || batchSize >= Rescan.batchBytes { try flushBatch() }
    }

    private func flushBatch() throws {
        guard !batch.isEmpty else { return }
        let full = batch
        batch = []
        batchSize = 0
        try flush(self, full)
    }

    /// The last path component.
    static func name(_ path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }

    // MARK: The folders

    private func walk() throws {
        let vault = index.vault
        var records = usesRecords ? try FolderRecord.loadAll(index.database) : [:]
        // The root may be a symlink to the vault (`~/vault`); below it, nothing is followed.
        let rootStamp = FolderStamp.of(vault.root, follow: true)
        var pending: [(path: String, parent: Folder?)] = [("", nil)]
        while let (relative, parent) = pending.popLast() {
            let folder = Folder(path: relative, absolute: relative.isEmpty ? vault.root : vault.root + "/" + relative)
            folder.listedAt = FolderStamp.now()
            folder.stamp = relative.isEmpty ? rootStamp : FolderStamp.of(folder.absolute)
            let record = records.removeValue(forKey: relative)
            if !relative.isEmpty && folder.stamp == nil {
                // Listed (or recorded) as a folder a moment ago, gone or not a folder now.
                parent?.forget = true
                if record != nil { staleRecords.append(relative) }
                continue
            }
            if let record, let stamp = folder.stamp, let rootStamp, stamp.device == rootStamp.device, record.stamp == stamp, record.isSettled {
                folder.record = record
                folder.unclaimedOthers = Set(record.others)
                recordedFolders += 1
                folders[relative] = folder
                for name in record.subfolders { pending.append((folder.notePath(name), folder)) }
                continue
            }
            let listing = VaultWalker.list(vault, folder: relative)
            skipped += listing.skipped
            notesSeen += listing.skipped.count
            guard listing.isReadable else {
                if record != nil { staleRecords.append(relative) }
                continue
            }
            listedFolders += 1
            folders[relative] = folder
            folder.subfolderNames = listing.subfolders.map(Rescan.name)
            folder.others = listing.skipped.filter { $0.reason != .vanished }.map { Rescan.name($0.path) }
            try match(listing.files, in: folder)
            for path in listing.subfolders { pending.append((path, folder)) }
        }
        staleRecords += records.keys
    }

    /// Matches a listed folder's notes with the rows of the notes directly in it.
    private func match(_ files: [VaultWalker.File], in folder: Folder) throws {
        notesSeen += files.count
        var byName: [String: FileStatus] = [:]
        byName.reserveCapacity(files.count)
        for file in files { byName[Rescan.name(file.path)] = file.status }
        let database = index.database
        // The rows of this folder's notes: paths from "F/" up to "F0" ('0' follows '/'), without a
        // further '/'. The root's are the paths with no '/' at all.
        let statement = folder.path.isEmpty
            ? try database.prepare("SELECT id, path, mtime, size, hash FROM notes WHERE instr(path, '/') = 0")
            : try database.prepare("SELECT id, path, mtime, size, hash FROM notes WHERE path >= ?1 AND path < ?2 AND instr(substr(path, length(?1) + 1), '/') = 0")
        defer { statement.reset() }
        if !folder.path.isEmpty { try statement.bind([.text(folder.path + "/"), .text(folder.path + "0")]) }
        var rows: [(path: String, row: MemoryIndex.IndexedRow)] = []
        while try statement.step() {
            rows.append((statement.text(1), MemoryIndex.IndexedRow(id: statement.int64(0), mtime: statement.int64(2), size: statement.int64(3), hash: statement.int64(4))))
        }
        statement.reset()
        for (path, row) in rows {
            guard let status = byName.removeValue(forKey: Rescan.name(path)) else {
                orphans.append((row.id, path))
                continue
            }
            if status.mtimeNanoseconds == row.mtime && status.size == row.size {
                unchanged += 1
            } else {
                try add(Work(path: path, status: status, known: row, folder: folder))
            }
        }
        // In listing order, as the walk found them.
        for file in files where byName[Rescan.name(file.path)] != nil {
            try add(Work(path: file.path, status: file.status, known: nil, folder: folder))
        }
    }

    // MARK: The folders not listed

    /// Goes through every row of `notes` once, in storage order (which follows the folders of the
    /// walk that added them): a row of a folder taken from its record is checked with one `fstatat`;
    /// a row of a listed folder was matched already; a row of a folder not visited is an orphan. No
    /// `String` is made for a row whose note is unchanged. The `fstatat`s, most of a re-scan's time
    /// (the kernel's path lookup), run on two threads, `statChunk` rows at a time.
    private func checkRecordedFolders() throws {
        // Rows the batches wrote so far are in listed folders; the pass skips them.
        let statement = try index.database.prepare("SELECT id, path, mtime, size, hash FROM notes")
        defer { statement.reset() }
        var lastParent: [UInt8] = [0x2F]  // no folder is "/": the first row always looks its folder up
        var current: Folder?
        var openDescriptors = 0
        var found: [Work] = []
        var chunk = StatChunk()
        while try statement.step() {
            let bytes = statement.bytes(1)
            let slash = bytes.lastIndex(of: 0x2F)
            let parentBytes = UnsafeBufferPointer(rebasing: bytes[..<(slash ?? 0)])
            if !parentBytes.elementsEqual(lastParent) {
                lastParent = Array(parentBytes)
                current = folders[String(decoding: parentBytes, as: UTF8.self)]
            }
            let row = MemoryIndex.IndexedRow(id: statement.int64(0), mtime: statement.int64(2), size: statement.int64(3), hash: statement.int64(4))
            guard let folder = current else {
                orphans.append((row.id, String(decoding: bytes, as: UTF8.self)))
                continue
            }
            if folder.isListed { continue }
            notesSeen += 1
            let nameStart = slash.map { $0 + 1 } ?? 0
            if !folder.unclaimedOthers.isEmpty, folder.unclaimedOthers.remove(String(decoding: UnsafeBufferPointer(rebasing: bytes[nameStart...]), as: UTF8.self)) != nil {
                // An entry recorded as not a note has a row now (the watcher indexed it).
                folder.forget = true
            }
            if folder.descriptor < 0 && openDescriptors < Rescan.maxDescriptors {
                folder.descriptor = open(folder.absolute, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if folder.descriptor >= 0 { openDescriptors += 1 }
            }
            chunk.append(bytes, nameStart: nameStart, row: row, folder: folder)
            if chunk.count >= Rescan.statChunk { judge(&chunk, into: &found) }
        }
        statement.reset()
        judge(&chunk, into: &found)
        // Written only after the pass: a batch's transaction must not start under an open read.
        for work in found { try add(work) }
    }

    /// Rows `fstatat`ed together (see `checkRecordedFolders`).
    static let statChunk = 2048

    /// Rows waiting for their `lstat`: their paths in one buffer (each NUL-terminated, so its last
    /// component is a C string as it stands), and for each its folder's descriptor.
    private struct StatChunk {
        var paths: [UInt8] = []
        var pathStarts: [Int] = []
        var nameStarts: [Int] = []
        var descriptors: [Int32] = []
        var rows: [MemoryIndex.IndexedRow] = []
        var folders: [Folder] = []
        var count: Int { rows.count }

        mutating func append(_ path: UnsafeBufferPointer<UInt8>, nameStart: Int, row: MemoryIndex.IndexedRow, folder: Folder) {
            pathStarts.append(paths.count)
            nameStarts.append(paths.count + nameStart)
            paths.append(contentsOf: path)
            paths.append(0)
            descriptors.append(folder.descriptor)
            rows.append(row)
            folders.append(folder)
        }

        mutating func removeAll() {
            paths.removeAll(keepingCapacity: true)
            pathStarts.removeAll(keepingCapacity: true)
            nameStarts.removeAll(keepingCapacity: true)
            descriptors.removeAll(keepingCapacity: true)
            rows.removeAll(keepingCapacity: true)
            folders.removeAll(keepingCapacity: true)
        }
    }

    /// What `lstat` said of one row's note: its status, or the `errno` it failed with.
    private enum StatOutcome {
        case status(FileStatus)
        case failed(Int32)
    }

    /// `lstat`s the chunk's notes (by name from their folder's descriptor; by full path past
    /// `maxDescriptors`), half on another thread, then judges each row in order: unchanged, to read
    /// (into `found`), or gone.
    private func judge(_ chunk: inout StatChunk, into found: inout [Work]) {
        guard chunk.count > 0 else { return }
        let root = index.vault.root
        let nameStarts = chunk.nameStarts
        let pathStarts = chunk.pathStarts
        let descriptors = chunk.descriptors
        let outcomes: [StatOutcome] = chunk.paths.withUnsafeBufferPointer { paths in
            Rescan.inTwoHalves(pathStarts.count) { i in
                var st = stat()
                let name = UnsafeRawPointer(paths.baseAddress! + nameStarts[i]).assumingMemoryBound(to: CChar.self)
                let rc = descriptors[i] >= 0
                    ? fstatat(descriptors[i], name, &st, AT_SYMLINK_NOFOLLOW)
                    : lstat(root + "/" + String(cString: UnsafeRawPointer(paths.baseAddress! + pathStarts[i]).assumingMemoryBound(to: CChar.self)), &st)
                return rc == 0 ? .status(FileStatus(st)) : .failed(errno)
            }
        }
        for (i, outcome) in outcomes.enumerated() {
            let folder = chunk.folders[i]
            let row = chunk.rows[i]
            let end = i + 1 < chunk.count ? pathStarts[i + 1] - 1 : chunk.paths.count - 1
            let bytes = chunk.paths[pathStarts[i]..<end]
            let path = { String(decoding: bytes, as: UTF8.self) }
            switch outcome {
            case .failed(let code):
                // Gone from a folder whose stamp did not move: its record was wrong; list it next time.
                folder.forget = true
                orphans.append((row.id, path()))
                if code != ENOENT && code != ENOTDIR {
                    skipped.append((path(), .unreadable(SystemError(call: "lstat", subject: path(), code: code).description)))
                }
            case .status(let status):
                if status.kind == .file && status.mtimeNanoseconds == row.mtime && status.size == row.size {
                    unchanged += 1
                } else {
                    found.append(Work(path: path(), status: status, known: row, folder: folder))
                }
            }
        }
        chunk.removeAll()
    }

    /// `body(i)` for every `i` in `0..<count`, the second half on another thread; the results in order.
    /// `body` must be safe to call from two threads at once.
    private static func inTwoHalves<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        let half = count / 2
        return withoutActuallyEscaping(body) { body in
            // The two threads read only what `body` captured and write only their own array.
            nonisolated(unsafe) let work = body
            nonisolated(unsafe) var second: [T] = []
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) { second = (half..<count).map(work) }
            let first = (0..<half).map(work)
            group.wait()
            return first + second
        }
    }

    /// The recorded entries that are not notes, looked at again each time (a binary or oversized
    /// note may have been fixed in place).
    private func collectUnclaimedOthers() throws {
        for folder in folders.values where !folder.isListed {
            for name in folder.unclaimedOthers.sorted() {
                let path = folder.notePath(name)
                let status: FileStatus?
                do {
                    status = try FileSystem.status(folder.absolute + "/" + name)
                } catch {
                    skipped.append((path, .unreadable(error.description)))
                    notesSeen += 1
                    continue
                }
                guard let status else {
                    folder.forget = true
                    continue
                }
                notesSeen += 1
                if status.kind == .file {
                    try add(Work(path: path, status: status, known: nil, folder: folder))
                } else {
                    skipped.append((path, .notRegularFile))
                }
            }
        }
    }

    private func closeDescriptors() {
        for folder in folders.values where folder.descriptor >= 0 {
            close(folder.descriptor)
            folder.descriptor = -1
        }
    }

    // MARK: Records

    /// Writes the records of the folders listed, forgets those found wrong or gone. Must run inside
    /// a transaction.
    func saveRecords(_ database: Database) throws {
        guard usesRecords else { return }
        for folder in folders.values {
            if folder.forget {
                try database.run("DELETE FROM folders WHERE path = ?", [.text(folder.path)])
            } else if folder.isListed, let stamp = folder.stamp {
                try FolderRecord(stamp: stamp, listedAt: folder.listedAt, subfolders: folder.subfolderNames, others: folder.others).save(path: folder.path, database)
            }
        }
        for path in staleRecords { try database.run("DELETE FROM folders WHERE path = ?", [.text(path)]) }
    }

    /// Whether anything is left to write after the batches: orphans, or folder records.
    var hasFinalWrites: Bool {
        !orphans.isEmpty || (usesRecords && (listedFolders > 0 || !staleRecords.isEmpty || folders.values.contains { $0.forget }))
    }
}

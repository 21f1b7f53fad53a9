#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What `lstat` says about a folder that tells whether its list of entries may have changed: the
/// device and inode (the same folder), and its modification and change times in nanoseconds.
///
/// A folder's modification time moves when an entry is added, removed or renamed in it, and not when
/// a file in it is written in place; its change time moves with it, and also when anyone sets the
/// modification time back (`utimensat`, `touch -d`, `rsync -t`), which nobody can do to the change
/// time. So equal stamps mean the same names, never the same contents: the re-scan still `lstat`s
/// every note of a folder it skips (`MemoryIndex.reconcile`).
struct FolderStamp: Equatable, Sendable {
    /// `st_dev`: the file system the folder is on.
    var device: UInt64
    /// `st_ino`: the folder itself (a folder removed and made again has another).
    var inode: UInt64
    /// Modification time, ns since the epoch: moves when an entry is added, removed or renamed.
    var mtime: Int64
    /// Change time, ns since the epoch: moves with `mtime`, and when anyone sets `mtime`.
    var ctime: Int64

    /// How long after a folder's last change its stamp is trusted: a change made within the same clock
    /// tick as the listing can carry the same stamp as the folder had when listed. The kernel stamps
    /// from a coarse clock (a few ms); some file systems keep whole seconds; two seconds covers both.
    static let settleNanoseconds: Int64 = 2_000_000_000

    /// The stamp of the folder at `path` (a symlink is not followed unless `follow`); `nil` when it
    /// is missing or not a folder.
    static func of(_ path: String, follow: Bool = false) -> FolderStamp? {
        var st = stat()
        guard (follow ? stat(path, &st) : lstat(path, &st)) == 0, st.st_mode & S_IFMT == S_IFDIR else { return nil }
        return FolderStamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino),
                           mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                           ctime: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec))
    }

    /// The wall clock in nanoseconds (the clock file times are stamped from).
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// File systems known to move a folder's modification and change time on every entry added,
    /// removed or renamed, at once and as seen by every process: ext2/3/4, XFS, Btrfs, tmpfs, F2FS and
    /// ZFS (`statfs` magic numbers). Network and FUSE file systems (NFS, SMB, sshfs, sync clients) may
    /// cache a folder's times or not keep them, and overlayfs was left out for want of proof, so
    /// there every folder is listed each time.
    static let trustedFileSystems: Set<Int64> = [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0xF2F5_2010, 0x2FC1_2FC1]

    /// Whether folder stamps can stand for folder listings under `root`: its file system is one of
    /// `trustedFileSystems`.
    static func isTrusted(root: String) -> Bool {
        guard let type = fileSystemType(root) else { return false }
        return trustedFileSystems.contains(type)
    }

    private typealias StatFS = @convention(c) (UnsafePointer<CChar>, UnsafeMutableRawPointer) -> Int32
    /// `statfs(2)` as found in the C library at run time (Swift's Glibc module does not declare it).
    private static let statFS: StatFS? = {
        // RTLD_DEFAULT is the null handle: search every loaded object.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "statfs") else { return nil }
        return unsafeBitCast(symbol, to: StatFS.self)
    }()

    /// The `f_type` magic number of the file system holding `path`.
    static func fileSystemType(_ path: String) -> Int64? {
        guard let statFS else { return nil }
        // `struct statfs` is 120 bytes on 64-bit Linux and starts with `f_type` (a long); the
        // buffer is larger than any layout.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: 512)
        guard statFS(path, buffer) == 0 else { return nil }
        return Int64(buffer.load(as: Int.self))
    }
}

/// The re-scan's record of a folder it listed: its stamp then, when it was listed, its subfolders
/// and its `.md` entries that are not indexed notes (symlinks, binary or oversized files), which
/// are looked at again on every re-scan as they always were. Kept in the index's `folders` table.
struct FolderRecord: Sendable {
    /// The folder's stamp, taken just before it was listed.
    var stamp: FolderStamp
    /// The wall clock (ns) just before the stamp was taken.
    var listedAt: Int64
    /// Names of its subfolders.
    var subfolders: [String]
    /// Names of its `.md` entries that are not indexed.
    var others: [String]

    /// Whether the folder's last change was long enough before the listing that a later change
    /// cannot carry the same stamp (`FolderStamp.settleNanoseconds`).
    var isSettled: Bool { stamp.ctime <= listedAt - FolderStamp.settleNanoseconds }

    /// Creates the table in an index made before it existed (the rest of the schema is unchanged,
    /// so this needs no new schema version; `IndexSchema.createStatements` has it for new files).
    static func createTable(_ database: Database) throws {
        try database.execute(IndexSchema.foldersTable)
    }

    /// Every record, by vault-relative folder path ("" for the root).
    static func loadAll(_ database: Database) throws -> [String: FolderRecord] {
        var records: [String: FolderRecord] = [:]
        let statement = try database.prepare("SELECT path, device, inode, mtime, ctime, listed_at, subfolders, others FROM folders")
        defer { statement.reset() }
        while try statement.step() {
            func names(_ column: Int32) -> [String] {
                let text = statement.text(column)
                return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            }
            let stamp = FolderStamp(device: UInt64(bitPattern: statement.int64(1)), inode: UInt64(bitPattern: statement.int64(2)),
                                    mtime: statement.int64(3), ctime: statement.int64(4))
            records[statement.text(0)] = FolderRecord(stamp: stamp, listedAt: statement.int64(5), subfolders: names(6), others: names(7))
        }
        return records
    }

    /// Stores the record of the folder at `path`. Must run inside a transaction.
    func save(path: String, _ database: Database) throws {
        try database.run("INSERT OR REPLACE INTO folders(path, device, inode, mtime, ctime, listed_at, subfolders, others) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                         [.text(path), .int(Int64(bitPattern: stamp.device)), .int(Int64(bitPattern: stamp.inode)), .int(stamp.mtime), .int(stamp.ctime),
                          .int(listedAt), .text(subfolders.joined(separator: "\n")), .text(others.joined(separator: "\n"))])
    }

    /// Forgets the record of the folder holding `notePath`, so that the next re-scan lists it: the
    /// index dropped a note whose file may still be there, which only a listing would find again.
    static func forget(folderOf notePath: String, _ database: Database) throws {
        let folder = notePath.lastIndex(of: "/").map { String(notePath[..<$0]) } ?? ""
        try database.run("DELETE FROM folders WHERE path = ?", [.text(folder)])
    }
}

#if canImport(Glibc)
import Foundation
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `lstat` says about a path (symlinks are reported, never followed).
public struct FileStatus: Equatable, Sendable {
    public enum Kind: Sendable { case file, directory, symlink, other }
    public let kind: Kind
    public let size: Int64
    /// Modification time in nanoseconds since the epoch.
    public let mtimeNanoseconds: Int64
    public let mode: UInt32
    /// The owner's user id.
    public let ownerUID: UInt32
    /// How many names (hard links) the file has: more than one means another path reaches the same bytes.
    public var linkCount: UInt64 = 1
    /// Status change time in nanoseconds since the epoch: moves with every write, and cannot be set
    /// back (`touch`, `cp -p` and `rsync -t` restore the modification time, not this).
    public var ctimeNanoseconds: Int64 = 0
    /// The inode number.
    public var inode: UInt64 = 0
}

/// Raw file-system calls with typed errors. The corresponding C functions are named on each.
public enum FileSystem {
    /// `clock_gettime(CLOCK_REALTIME)` in nanoseconds since the epoch: the clock file times come from.
    public static func realtimeNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// `lstat(2)`: the status of a path without following a final symlink; `nil` if it does not exist.
    public static func status(_ path: String) throws(SystemError) -> FileStatus? {
        var st = stat()
        if lstat(path, &st) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw SystemError(call: "lstat", subject: path, code: code)
        }
        return FileStatus(st)
    }

    /// Reads a whole regular file. Refuses a symlink in the final component (`O_NOFOLLOW`).
    /// The corresponding C functions are `open`, `fstat` and `read`.
    public static func read(_ path: String, limit: Int = Int.max) throws(SystemError) -> (bytes: [UInt8], status: FileStatus) {
        let (fd, status) = try openRegularFile(path)
        defer { close(fd) }
        if Int64(limit) < status.size { throw SystemError(call: "read", subject: path, code: EFBIG) }
        // One byte more than fstat's size, so that the read seeing end-of-file needs no second
        // buffer: grown to find it, every array held twice its bytes (an index of 20,000 notes keeps
        // dozens in flight). A file that says it is empty may not be (`/proc`): a whole page first,
        // as a sysctl answers only the read that starts at its beginning.
        var bytes = [UInt8](repeating: 0, count: Int(min(status.size > 0 ? status.size + 1 : 4096, Int64(limit))))
        var filled = 0
        while true {
            if filled == bytes.count {
                // The file may have grown since fstat; read on until EOF.
                if bytes.count >= limit { break }
                bytes.append(contentsOf: [UInt8](repeating: 0, count: max(4096, bytes.count / 2)))
            }
            let start = filled
            let n = try Syscall.check("read", path) {
                bytes.withUnsafeMutableBytes { buffer in Glibc.read(fd, buffer.baseAddress! + start, buffer.count - start) }
            }
            if n == 0 { break }
            filled += n
        }
        bytes.removeSubrange(filled...)
        return (bytes, status)
    }

    /// Opens a regular file for reading, never through a symlink in the final component, and says
    /// what `fstat` found; the caller closes the descriptor. A directory, device, FIFO or socket is
    /// refused (they are not notes).
    private static func openRegularFile(_ path: String) throws(SystemError) -> (fd: Int32, status: FileStatus) {
        // O_NONBLOCK: opening a FIFO named like a note must not wait for a writer (it would hang the
        // watcher); for a regular file the flag changes nothing.
        let fd = try Syscall.check("open", path) { open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
        var st = stat()
        do { try Syscall.check("fstat", path) { fstat(fd, &st) } } catch {
            close(fd)
            throw error
        }
        let status = FileStatus(st)
        guard status.kind == .file else {
            close(fd)
            throw SystemError(call: "read", subject: path, code: status.kind == .directory ? EISDIR : EINVAL)
        }
        return (fd, status)
    }

    /// The first `head` and the last `tail` bytes of a regular file, for a long file of which only
    /// the ends matter (a day's log: its properties and its latest lines). A file of `head + tail`
    /// bytes or fewer is read whole into `head`, and `tail` is empty. Refuses what `read` refuses.
    /// The corresponding C functions are `open`, `fstat` and `pread`.
    public static func readEnds(_ path: String, head: Int, tail: Int) throws(SystemError) -> (head: [UInt8], tail: [UInt8], status: FileStatus) {
        let (fd, status) = try openRegularFile(path)
        defer { close(fd) }
        let size = Int(status.size)
        if size <= head + tail { return (try readAt(fd, path, 0, size), [], status) }
        return (try readAt(fd, path, 0, head), try readAt(fd, path, size - tail, tail), status)
    }

    /// The byte ranges `ranges` asks for, given the file's size (each clipped to it), read from one
    /// open regular file, with its status.
    public static func read(_ path: String, ranges: (_ size: Int) -> [Range<Int>]) throws(SystemError) -> (parts: [[UInt8]], status: FileStatus) {
        let (fd, status) = try openRegularFile(path)
        defer { close(fd) }
        let size = Int(status.size)
        var parts: [[UInt8]] = []
        for range in ranges(size) {
            let clipped = range.clamped(to: 0..<max(size, 0))
            parts.append(try readAt(fd, path, clipped.lowerBound, clipped.count))
        }
        return (parts, status)
    }

    /// `count` bytes of the open file `fd` from `offset` (fewer when the file shrank meanwhile).
    private static func readAt(_ fd: Int32, _ path: String, _ offset: Int, _ count: Int) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = try Syscall.check("pread", path) {
                bytes.withUnsafeMutableBytes { buffer in pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset + filled)) }
            }
            if n == 0 { break } // the file shrank since fstat
            filled += n
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Writes `bytes` to a new file at `path` (which must not exist), fsyncs it, and closes it.
    /// The corresponding C functions are `open(O_CREAT|O_EXCL)`, `write` and `fsync`.
    public static func createDurably(_ path: String, bytes: [UInt8], mode: mode_t = 0o644) throws(SystemError) {
        let fd = try Syscall.check("open", path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(path) }
        }
        var written = 0
        while written < bytes.count {
            let start = written
            let n = try Syscall.check("write", path) {
                bytes.withUnsafeBytes { buffer in Glibc.write(fd, buffer.baseAddress! + start, buffer.count - start) }
            }
            written += n
        }
        _ = fchmod(fd, mode)
        try Syscall.check("fsync", path) { fsync(fd) }
        ok = true
    }

    /// Replaces the file at `path` (a file the OS owns outside the vault: a service unit, a baseline)
    /// with `bytes`, atomically and durably: a temp file beside it, fsync, `rename(2)`, folder fsync.
    /// Notes never come here: `NoteStore.update` is their one write, because a person may be editing them.
    public static func replaceDurably(_ path: String, bytes: [UInt8], mode: mode_t = 0o644) throws(SystemError) {
        let folder = (path as NSString).deletingLastPathComponent
        let temp = (folder.isEmpty ? "" : folder + "/") + "." + (path as NSString).lastPathComponent + ".\(getpid()).tmp"
        // A temp file a crashed run of this process id left behind would make the exclusive create fail.
        unlink(temp)
        try createDurably(temp, bytes: bytes, mode: mode)
        do { try rename(temp, to: path) } catch {
            unlink(temp)
            throw error
        }
        try syncDirectory(folder.isEmpty ? "." : folder)
    }

    /// `rename(2)`: atomically replaces `to` with `from` (same file system).
    public static func rename(_ from: String, to: String) throws(SystemError) {
        try Syscall.check("rename", to) { Glibc.rename(from, to) }
    }

    /// Fsyncs a directory so that a rename in it survives a crash.
    public static func syncDirectory(_ path: String) throws(SystemError) {
        let fd = try Syscall.check("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try Syscall.check("fsync", path) { fsync(fd) }
    }

    /// `mkdir -p`, refusing to pass through symlinks.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + component
            if let st = try status(current) {
                if st.kind == .directory { continue }
                throw SystemError(call: "mkdir", subject: current, code: st.kind == .symlink ? ELOOP : ENOTDIR)
            }
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw Syscall.lastError("mkdir", current)
            }
        }
    }

    /// Removes a file; a missing file is not an error.
    public static func remove(_ path: String) throws(SystemError) {
        if unlink(path) != 0 && errno != ENOENT { throw Syscall.lastError("unlink", path) }
    }

    /// Lists a directory's entry names (without `.` and `..`), with their type from `d_type` when the
    /// file system gives it (`nil` means unknown: call `status`).
    public static func list(_ path: String) throws(SystemError) -> [(name: String, kind: FileStatus.Kind?)] {
        guard let dir = opendir(path) else { throw Syscall.lastError("opendir", path) }
        defer { closedir(dir) }
        var entries: [(String, FileStatus.Kind?)] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let kind: FileStatus.Kind?
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): kind = .file
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_LNK): kind = .symlink
            case Int32(DT_UNKNOWN): kind = nil
            default: kind = .other
            }
            entries.append((name, kind))
        }
        return entries
    }

    /// Whether `name`, as a listing or inotify gave it, was decoded from bytes that are not UTF-8
    /// (each such byte became U+FFFD): such a name reaches no file.
    public static func isLossyName(_ name: String) -> Bool {
        name.unicodeScalars.contains("\u{FFFD}")
    }

    /// Whether the calling process may write into a directory (`access(W_OK)`), probed by creating a file
    /// because `access` ignores read-only mounts for root.
    public static func isWritableDirectory(_ path: String) -> Bool {
        let probe = path + "/.fbt-probe-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { return false }
        close(fd)
        unlink(probe)
        return true
    }

    /// The login name of a user id (`getpwuid_r`), or the number when it has none.
    public static func userName(_ uid: UInt32) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 1024)
        if getpwuid_r(uid_t(uid), &entry, &buffer, buffer.count, &result) == 0, let result, let name = result.pointee.pw_name {
            return String(cString: name)
        }
        return String(uid)
    }

    /// Free bytes available to unprivileged users on the file system holding `path`.
    public static func freeBytes(_ path: String) throws(SystemError) -> UInt64 {
        var st = statvfs()
        try Syscall.check("statvfs", path) { statvfs(path, &st) }
        return UInt64(st.f_bavail) * UInt64(st.f_frsize)
    }
}

extension FileStatus {
    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        size = Int64(st.st_size)
        mtimeNanoseconds = FileStatus.nanoseconds(st.st_mtim)
        mode = UInt32(st.st_mode & 0o7777)
        ownerUID = UInt32(st.st_uid)
        linkCount = UInt64(st.st_nlink)
        ctimeNanoseconds = FileStatus.nanoseconds(st.st_ctim)
        inode = UInt64(st.st_ino)
    }

    /// A file time in nanoseconds since the epoch, held at `Int64`'s ends for a time before 1677 or
    /// after 2262 (`touch -d @-20000000000` is a valid time; multiplied out it overflowed, and a note
    /// dated so stopped the watcher).
    static func nanoseconds(_ time: timespec) -> Int64 {
        let (scaled, overflow) = Int64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return time.tv_sec < 0 ? Int64.min / 2 : Int64.max / 2 }
        let (sum, carried) = scaled.addingReportingOverflow(Int64(time.tv_nsec))
        return carried ? Int64.max / 2 : sum
    }
}

extension FileSystem {
    /// `renameat2(2)` as found in the C library at run time (Swift's Glibc module does not declare it).
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let renameAt2: RenameAt2? = {
        // RTLD_DEFAULT is the null handle: search every loaded object.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()

    /// `renameat2(RENAME_EXCHANGE)`: atomically swaps two paths, so that afterwards `a` holds exactly the
    /// file that was at `b` at that instant. Returns `false` when the kernel or file system cannot
    /// (old kernels, some network file systems); the caller then falls back to `link` and `rename`.
    public static func exchange(_ a: String, _ b: String) throws(SystemError) -> Bool {
        guard let renameAt2 else { return false }
        if renameAt2(AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */) == 0 { return true }
        let code = errno
        if code == EINVAL || code == ENOSYS || code == ENOTSUP || code == EOPNOTSUPP { return false }
        throw SystemError(call: "renameat2", subject: b, code: code)
    }

    /// `link(2)`: a second name for an existing file. Fails with `EEXIST` when `to` exists, which makes it
    /// an atomic create-if-absent for a fully written temp file.
    public static func link(_ from: String, to: String) throws(SystemError) {
        try Syscall.check("link", to) { Glibc.link(from, to) }
    }

    /// The inode's generation number (`FS_IOC_GETVERSION`), or `nil` where the file system keeps
    /// none (tmpfs) or the file cannot be opened. ext4 gives a file made right after a delete the
    /// freed inode's number, and a new generation: the number alone does not tell a new file from
    /// the old one written in place (round 151: a task deleted and another saved at its name under
    /// a polling watcher was taken for the running task edited).
    public static func generation(_ path: String) -> UInt32? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var value = 0
        // _IOR('v', 1, long)
        let result = withUnsafeMutablePointer(to: &value) { ioctl(fd, UInt(0x8008_7601), UnsafeMutableRawPointer($0)) }
        return result == 0 ? UInt32(truncatingIfNeeded: value) : nil
    }

    /// The inode number and change time (ns) of a path, without following a final symlink; `nil` if absent.
    public static func identity(_ path: String) -> (inode: UInt64, changeNanoseconds: Int64, size: Int64)? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_ino), Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec), Int64(st.st_size))
    }
}

extension FileSystem {
    /// While a lease is held, a process opening the file for writing makes the kernel send the
    /// holder SIGIO, whose default action ends the process: a person's editor saving a note in the
    /// instant a lease was held would have stopped the watcher (a test run of many writers on one
    /// note was killed by signal 29 once reads for updates took a lease too). The lease is given up
    /// at once anyway; the signal is ignored, once, before the first lease is taken.
    private static let leaseBreaksIgnored: Void = { _ = signal(SIGIO, SIG_IGN) }()

    /// Whether no process has the file at `path` open for writing, waiting up to `timeout` seconds for
    /// writers to close it. Uses a read lease (`fcntl(F_SETLEASE, F_RDLCK)`), which the kernel grants
    /// only while nobody holds the file open for writing. `nil` when it cannot tell (a file system or
    /// owner that does not allow leases).
    public static func waitUntilNoWriters(_ path: String, timeout: Double) -> Bool? {
        _ = leaseBreaksIgnored
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let deadline = Date().addingTimeInterval(timeout)
        var pause: useconds_t = 200
        while true {
            if fcntl(fd, 1024 /* F_SETLEASE */, Int32(F_RDLCK)) == 0 {
                _ = fcntl(fd, 1024, Int32(F_UNLCK))
                return true
            }
            guard errno == EAGAIN || errno == EBUSY else { return nil }
            if Date() >= deadline { return false }
            // The writers are other processes and the kernel offers no wait for a lease to become
            // grantable (only a signal to the holder), so this backs off and asks again.
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }
}

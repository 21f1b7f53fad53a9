#if canImport(Glibc)
import Glibc
#endif

/// An exclusive advisory lock on a file (`flock(LOCK_EX|LOCK_NB)`), held until released or the
/// process dies — so a crashed watcher never leaves a stale lock behind.
public final class FileLock {
    private var fd: Int32

    /// Takes the lock or returns `nil` when another process holds it. Writes our pid into the file.
    /// The corresponding C functions are `open` and `flock`.
    public init?(path: String) throws(SystemError) {
        fd = try Syscall.check("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw SystemError(call: "flock", subject: path, code: code)
        }
        _ = ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Waits for the lock (`flock(LOCK_EX)`, blocking) instead of giving up; for short critical
    /// sections shared by threads and processes (the telemetry journal's appends and rotation).
    /// The corresponding C functions are `open` and `flock`.
    public init(waitingFor path: String) throws(SystemError) {
        fd = try Syscall.check("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        while flock(fd, LOCK_EX) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            throw SystemError(call: "flock", subject: path, code: code)
        }
    }

    /// Whether some process holds the lock now. Taking it ourselves (and releasing it at once) is the
    /// only sure test: the kernel drops a dead holder's lock, whatever pid the file still names.
    /// The corresponding C function is `flock`.
    public static func isHeld(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// The pid written in a lock file by its holder, if readable.
    public static func holder(path: String) -> Int32? {
        guard let (bytes, _) = try? FileSystem.read(path, limit: 64) else { return nil }
        return Int32(String(decoding: bytes, as: UTF8.self).trimmingWhitespacesAndNewlines())
    }

    deinit { close(fd) }
}

import Foundation

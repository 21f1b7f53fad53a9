#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Small wrappers for file descriptors, pipes, `poll` and the monotonic clock, shared by `Inotify`,
/// `Spawn` and the watchers. Every raw call of these lives here.
public enum Descriptor {
    /// Whether descriptors may be read (`POLLIN`), written (`POLLOUT`), or have hung up.
    public struct Readiness: OptionSet, Sendable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Readiness(rawValue: Int16(POLLIN))
        public static let writable = Readiness(rawValue: Int16(POLLOUT))
        /// The other end closed, or an error is pending; a read returns EOF or the error.
        public static let hangUp = Readiness(rawValue: Int16(POLLHUP | POLLERR | POLLNVAL))
    }

    /// A pipe whose two ends are close-on-exec from birth.
    ///
    /// Swift's Glibc module does not export `pipe2`, so it is looked up with `dlsym`; without it, `pipe`
    /// plus `FD_CLOEXEC` under a lock (which only closes the race against our own spawns).
    /// The corresponding C function is `pipe2(O_CLOEXEC)`.
    public static func makePipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let pipe2 = Symbols.pipe2 {
            _ = try fds.withUnsafeMutableBufferPointer { buffer throws(SystemError) in
                try Syscall.check("pipe2") { pipe2(buffer.baseAddress!, O_CLOEXEC) }
            }
        } else {
            let failure: SystemError? = spawnLock.withLock { _ in
                do throws(SystemError) {
                    _ = try fds.withUnsafeMutableBufferPointer { buffer throws(SystemError) in
                        try Syscall.check("pipe") { pipe(buffer.baseAddress!) }
                    }
                } catch {
                    return error
                }
                _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
                _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
                return nil
            }
            if let failure { throw failure }
        }
        return (fds[0], fds[1])
    }

    /// Taken around `pipe`+`fcntl` and `posix_spawn` when `pipe2` is missing, so no child inherits a
    /// descriptor in the window before `FD_CLOEXEC` is set.
    /// It guards no value, only the order of those calls.
    static let spawnLock = Locked(())

    /// Puts a descriptor in non-blocking mode. The corresponding C function is `fcntl(F_SETFL)`.
    public static func setNonBlocking(_ fd: Int32) throws(SystemError) {
        let flags = try Syscall.check("fcntl") { fcntl(fd, F_GETFL) }
        try Syscall.check("fcntl") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Closes a descriptor once. Never retried: after `EINTR` the descriptor is gone on Linux (close(2)).
    public static func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// The result of a non-blocking read.
    public enum ReadResult: Equatable, Sendable {
        /// This many bytes were read.
        case bytes(Int)
        /// Nothing to read now (`EAGAIN`).
        case wouldBlock
        /// The other end is closed.
        case endOfFile
    }

    /// Reads into `buffer` without blocking. The corresponding C function is `read`.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> ReadResult {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .endOfFile }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw SystemError(call: "read", subject: "", code: code)
        }
    }

    /// The result of a non-blocking write.
    public enum WriteResult: Equatable, Sendable {
        /// This many bytes were written.
        case bytes(Int)
        /// The pipe is full (`EAGAIN`).
        case wouldBlock
        /// The reader is gone (`EPIPE`); `SIGPIPE` must be ignored for this to be reported (see `Spawn`).
        case brokenPipe
    }

    /// Writes from `buffer` without blocking. The corresponding C function is `write`.
    public static func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(SystemError) -> WriteResult {
        while true {
            let n = Glibc.write(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return .bytes(n) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            if code == EPIPE { return .brokenPipe }
            throw SystemError(call: "write", subject: "", code: code)
        }
    }

    /// Waits until one of `descriptors` is ready or `timeout` seconds pass (`nil` waits forever), and
    /// returns each descriptor's readiness in the same order. The corresponding C function is `poll`.
    public static func poll(_ descriptors: [(fd: Int32, interest: Readiness)], timeout: Double?) throws(SystemError) -> [Readiness] {
        var fds = descriptors.map { pollfd(fd: $0.fd, events: $0.interest.rawValue, revents: 0) }
        let milliseconds: Int32
        if let timeout {
            milliseconds = timeout <= 0 ? 0 : Int32(min(timeout * 1000, Double(Int32.max)).rounded(.up))
        } else {
            milliseconds = -1
        }
        let count = fds.count
        let result = fds.withUnsafeMutableBufferPointer { buffer in Glibc.poll(buffer.baseAddress, nfds_t(count), milliseconds) }
        if result < 0 {
            let code = errno
            // A signal interrupting the wait is not an error: the caller's loop re-checks its deadlines.
            if code == EINTR { return Array(repeating: [], count: count) }
            throw SystemError(call: "poll", subject: "", code: code)
        }
        return fds.map { Readiness(rawValue: $0.revents) }
    }

    /// Seconds on the monotonic clock (not wall time; never jumps). The corresponding C function is
    /// `clock_gettime(CLOCK_MONOTONIC)`.
    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// C functions that exist in glibc but that Swift's Glibc module does not export (they sit behind
/// `_GNU_SOURCE`), looked up once at run time.
enum Symbols {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    nonisolated(unsafe) static let handle = dlopen(nil, RTLD_NOW)

    /// `pipe2` (glibc 2.9).
    static let pipe2: Pipe2? = lookup("pipe2")
    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29).
    static let addChdir: AddChdir? = lookup("posix_spawn_file_actions_addchdir_np")
    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34).
    static let addCloseFrom: AddCloseFrom? = lookup("posix_spawn_file_actions_addclosefrom_np")

    static func lookup<F>(_ name: String) -> F? {
        guard let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: F.self)
    }
}

#if canImport(Glibc)
import Glibc

/// Linux inotify: the raw calls and the decoder for the kernel's variable-length event buffer.
///
/// `InotifyWatcher` (in `Watch/`) builds recursive watching on top of this.
public enum Inotify {
    /// Event bits (inotify(7)); only those we ask for or the kernel always sends.
    public struct Mask: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let modify = Mask(rawValue: UInt32(IN_MODIFY))
        public static let closeWrite = Mask(rawValue: UInt32(IN_CLOSE_WRITE))
        public static let movedFrom = Mask(rawValue: UInt32(IN_MOVED_FROM))
        public static let movedTo = Mask(rawValue: UInt32(IN_MOVED_TO))
        public static let create = Mask(rawValue: UInt32(IN_CREATE))
        public static let delete = Mask(rawValue: UInt32(IN_DELETE))
        public static let deleteSelf = Mask(rawValue: UInt32(IN_DELETE_SELF))
        public static let moveSelf = Mask(rawValue: UInt32(IN_MOVE_SELF))
        public static let unmount = Mask(rawValue: UInt32(IN_UNMOUNT))
        public static let queueOverflow = Mask(rawValue: UInt32(IN_Q_OVERFLOW))
        public static let ignored = Mask(rawValue: UInt32(IN_IGNORED))
        public static let onlyDirectory = Mask(rawValue: UInt32(IN_ONLYDIR))
        /// `IN_DONT_FOLLOW`: never watch through a symlink.
        public static let doNotFollow = Mask(rawValue: 0x0200_0000)
        public static let excludeUnlinked = Mask(rawValue: UInt32(IN_EXCL_UNLINK))
        public static let isDirectory = Mask(rawValue: UInt32(IN_ISDIR))

        /// What the watcher asks for on every directory.
        public static let directoryWatch: Mask = [
            .create, .delete, .modify, .closeWrite, .movedFrom, .movedTo, .deleteSelf, .moveSelf,
            .onlyDirectory, .doNotFollow, .excludeUnlinked,
        ]
    }

    /// One decoded `struct inotify_event`.
    public struct Event: Equatable, Sendable {
        /// The watch descriptor (`-1` for `IN_Q_OVERFLOW`).
        public var watch: Int32
        public var mask: Mask
        /// Pairs `IN_MOVED_FROM` with `IN_MOVED_TO` of the same rename.
        public var cookie: UInt32
        /// The entry's name inside the watched directory; empty for events about the directory itself.
        public var name: String

        public init(watch: Int32, mask: Mask, cookie: UInt32 = 0, name: String = "") {
            self.watch = watch
            self.mask = mask
            self.cookie = cookie
            self.name = name
        }
    }

    /// The fixed part of `struct inotify_event`: wd, mask, cookie, len.
    public static let headerSize = 16

    /// Creates a non-blocking, close-on-exec inotify instance.
    /// The corresponding C function is `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`.
    public static func makeInstance() throws(InotifyError) -> Int32 {
        let fd = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        if fd < 0 {
            let code = errno
            if code == EMFILE { throw .instanceLimit(current: readLimit("max_user_instances")) }
            throw .system(SystemError(call: "inotify_init1", subject: "", code: code))
        }
        return fd
    }

    /// Watches a directory (never a symlink to one); returns the watch descriptor. Watching the same
    /// directory twice returns the same descriptor. The corresponding C function is `inotify_add_watch`.
    public static func addWatch(_ fd: Int32, path: String, mask: Mask = .directoryWatch) throws(InotifyError) -> Int32 {
        while true {
            let wd = inotify_add_watch(fd, path, mask.rawValue)
            if wd >= 0 { return wd }
            let code = errno
            if code == EINTR { continue }
            if code == ENOSPC { throw .watchLimit(path: path, current: readLimit("max_user_watches")) }
            throw .system(SystemError(call: "inotify_add_watch", subject: path, code: code))
        }
    }

    /// Removes a watch; an already removed watch (`EINVAL`) is not an error.
    /// The corresponding C function is `inotify_rm_watch`.
    public static func removeWatch(_ fd: Int32, watch: Int32) {
        _ = inotify_rm_watch(fd, watch)
    }

    /// Reads every queued event without blocking (an empty array when none are queued).
    /// The corresponding C function is `read`.
    public static func readEvents(_ fd: Int32, buffer: UnsafeMutableRawBufferPointer) throws(InotifyError) -> [Event] {
        var events: [Event] = []
        while true {
            let result: Descriptor.ReadResult
            do {
                result = try Descriptor.read(fd, into: buffer)
            } catch {
                throw .system(error)
            }
            switch result {
            case .bytes(let n):
                events.append(contentsOf: decode(UnsafeRawBufferPointer(rebasing: buffer[0..<n])))
            case .wouldBlock, .endOfFile:
                return events
            }
        }
    }

    /// Decodes a buffer of `struct inotify_event` records (each header followed by a NUL-padded name).
    /// A truncated trailing record is dropped.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> [Event] {
        var events: [Event] = []
        var offset = 0
        while offset + headerSize <= bytes.count {
            let wd = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameStart = offset + headerSize
            guard nameStart + length <= bytes.count else { break }
            var nameEnd = nameStart
            while nameEnd < nameStart + length, bytes[nameEnd] != 0 { nameEnd += 1 }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd]), as: UTF8.self)
            events.append(Event(watch: wd, mask: Mask(rawValue: mask), cookie: cookie, name: name))
            offset = nameStart + length
        }
        return events
    }

    /// Decodes a byte array of inotify records (see `decode(_:)`).
    public static func decode(_ bytes: [UInt8]) -> [Event] {
        bytes.withUnsafeBytes { decode($0) }
    }

    /// Reads `/proc/sys/fs/inotify/NAME` (a limit), or `nil` when unreadable.
    static func readLimit(_ name: String) -> Int? {
        guard let (bytes, _) = try? FileSystem.read("/proc/sys/fs/inotify/" + name, limit: 64) else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self).trimmingWhitespacesAndNewlines())
    }
}

/// Why inotify could not watch; each message says what to do.
public enum InotifyError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `ENOSPC` from `inotify_add_watch`: the per-user watch limit is used up.
    case watchLimit(path: String, current: Int?)
    /// `EMFILE` from `inotify_init1`: the per-user instance limit is used up.
    case instanceLimit(current: Int?)
    /// Any other failed call.
    case system(SystemError)

    public var description: String {
        switch self {
        case .watchLimit(let path, let current):
            let now = current.map { " (now \($0))" } ?? ""
            let suggested = max(524_288, (current ?? 0) * 2)
            return "cannot watch \(path): the inotify watch limit fs.inotify.max_user_watches\(now) is used up; raise it with `sudo sysctl fs.inotify.max_user_watches=\(suggested)` (add it to /etc/sysctl.d/ to keep it)"
        case .instanceLimit(let current):
            let now = current.map { " (now \($0))" } ?? ""
            let suggested = max(1024, (current ?? 0) * 2)
            return "cannot start inotify: the limit fs.inotify.max_user_instances\(now) is used up; raise it with `sudo sysctl fs.inotify.max_user_instances=\(suggested)`"
        case .system(let error):
            return error.description
        }
    }
}
#endif

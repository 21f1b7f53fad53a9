#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on a directory (`flock(LOCK_EX)`, waiting for it), released when the
/// value is dropped or the process dies.
///
/// `NoteStore` holds it around its compare-and-swap: checking the hash on disk and renaming over the
/// note are two calls, and without the lock two writers could both pass the check and one of the two
/// edits would be lost. `flock` locks belong to the open file description, so two threads of one
/// process exclude each other as two processes do.
final class DirectoryLock {
    private let descriptor: Int32

    /// Opens `path` and waits for an exclusive lock on it.
    /// The corresponding C functions are `open` and `flock`.
    init(_ path: String) throws(SystemError) {
        descriptor = try Syscall.check("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        // On failure the initializer has already stored `descriptor`, so `deinit` closes it.
        try Syscall.check("flock", path) { [descriptor] in flock(descriptor, LOCK_EX) }
    }

    // Closing the descriptor releases the lock.
    deinit { close(descriptor) }
}

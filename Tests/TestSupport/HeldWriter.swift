import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The file at `path` (which must exist) opened for writing close-on-exec, as a `FileHandle`: a test
/// that holds a note open while the watcher waits for its writer to close must be the only holder.
/// `FileHandle(forWritingTo:)` opens without `O_CLOEXEC`, and a process another test starts
/// meanwhile inherits the descriptor and may keep the note open for writing after the test closes
/// it (a write the test then expected was refused, once in five full runs).
public func openHeldWriter(_ path: String) throws -> FileHandle {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else {
        let code = errno
        throw NSError(domain: NSPOSIXErrorDomain, code: Int(code), userInfo: [NSLocalizedDescriptionKey: "open \(path): \(String(cString: strerror(code)))"])
    }
    return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
}

#if canImport(Glibc)
import Glibc
#endif

extension FileSystem {
    /// Appends bytes to a machine-state file with one `write` on an `O_APPEND` descriptor, so lines from
    /// several processes never interleave mid-line (for lines shorter than `PIPE_BUF` on local file systems).
    /// The corresponding C functions are `open(O_APPEND)`, `write` and `fdatasync`.
    public static func append(_ bytes: [UInt8], to path: String, sync: Bool = false) throws(SystemError) {
        let fd = try Syscall.check("open", path) { open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let start = written
            written += try Syscall.check("write", path) {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + start, $0.count - start) }
            }
        }
        if sync { try Syscall.check("fdatasync", path) { fdatasync(fd) } }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Whether a process exists. The corresponding C function is `kill(pid, 0)`.
enum ProcessLiveness {
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}

import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Whether a process exists. The corresponding C function is `kill(pid, 0)`.
enum ProcessLiveness {
    /// When a process started, in clock ticks since boot (field 22 of `/proc/PID/stat`), so that a
    /// recorded pid can be told apart from a later process that reuses the number.
    static func startTime(_ pid: Int32) -> UInt64? {
        guard pid > 0, let (bytes, _) = try? FileSystem.read("/proc/\(pid)/stat", limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        // The command name (field 2) may hold spaces; the fields after its closing ')' are plain.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ')' come field 3 (state) onward, so field 22 is at index 19.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// Stops a process group that a crashed watcher left running: SIGTERM, a grace period, SIGKILL —
    /// only when `pid` is still the same process (same start time).
    static func stopOrphanedGroup(pid: Int32, startTime: UInt64, grace: Double = 2) -> Bool {
        guard pid > 1, ProcessLiveness.startTime(pid) == startTime else { return false }
        // A zombie leader (killed already, not yet reaped) was not left running (round 157: logged
        // as stopped); whatever may be left of its group goes all the same.
        guard ProcessLiveness.isAlive(pid) else {
            kill(-pid, SIGKILL)
            return false
        }
        kill(-pid, SIGTERM)
        let deadline = Double(DispatchTime.now().uptimeNanoseconds) / 1e9 + grace
        while Double(DispatchTime.now().uptimeNanoseconds) / 1e9 < deadline {
            if ProcessLiveness.startTime(pid) != startTime { return true }
            // Not our child (its parent crashed), so there is no waitpid or exit pipe to wait on:
            // looking again every 20 ms is the honest wait.
            usleep(20_000)
        }
        kill(-pid, SIGKILL)
        return true
    }

    /// Whether `pid` is a running process. A zombie (killed, not yet reaped by its parent) is not:
    /// `kill(pid, 0)` still succeeds for it, and a watcher restarted right after a SIGKILL took
    /// the dead one's runs for live ones and left them `running` (round 55).
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        return state(pid) != "Z"
    }

    /// The state letter of `/proc/PID/stat` (field 3: `R`, `S`, `Z`…), `nil` when it cannot be read.
    static func state(_ pid: Int32) -> Character? {
        guard let (bytes, _) = try? FileSystem.read("/proc/\(pid)/stat", limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ").first?.first
    }
}

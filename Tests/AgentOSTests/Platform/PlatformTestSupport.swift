import Foundation
@testable import AgentOS

/// Small file and process-state helpers for the platform, run and task tests (temp folders, fixture
/// paths and waiting are in `TestSupport`).
enum PlatformTestSupport {
    /// Writes `text` to `path` (the test's own expectations catch a write that did not happen).
    static func write(_ text: String, to path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    /// The text of the file at `path`, or nil when it cannot be read.
    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether a process is gone (reaped) or a zombie waiting for a parent that is not us.
    static func isDeadOrZombie(_ pid: Int32) -> Bool {
        guard let stat = read("/proc/\(pid)/stat") else { return true }
        // The state follows the ")" that closes the command name.
        guard let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state == "Z" || state == "X"
    }
}

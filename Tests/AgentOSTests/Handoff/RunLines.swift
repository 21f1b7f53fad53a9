import Foundation
@testable import AgentOS

/// A day's log whose list items are the OS's own run lines: each ends in a run marker, as
/// `TelemetryWriter` writes them. A packet's last lines of the day are only such lines (a person's
/// own entry goes only when it links the task or its chain), so a test of how those lines are
/// judged writes them this way.
enum RunLines {
    static func marked(_ text: String) -> String {
        var count = 0
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("- ") || line.hasPrefix("* ") || line.hasPrefix("+ ") else { return String(line) }
            count += 1
            return line + " " + TelemetryWriter.marker("t\(count)")
        }.joined(separator: "\n")
    }
}

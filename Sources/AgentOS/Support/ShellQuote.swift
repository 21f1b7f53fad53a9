import Foundation

/// Quoting for commands a person may copy from a message into a shell.
public enum ShellQuote {
    /// The path as one shell word: unchanged when it holds only safe characters, else in single quotes.
    public static func ifNeeded(_ path: String) -> String {
        let plain = path.allSatisfy { $0.isLetter || $0.isNumber || "/._-+~".contains($0) }
        return plain ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

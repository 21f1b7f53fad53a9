import Foundation

/// File names for notes the OS creates from a title (tasks, handoffs).
public enum NoteName {
    /// A file name (without `.md`) Obsidian accepts and links to cleanly: the characters links and
    /// paths reserve become spaces, leading dots go, and an empty result becomes "Task".
    public static func sanitize(_ title: String) -> String {
        let forbidden = Set("[]#^|\\/:*?\"<>")
        let cleaned = String(title.map { forbidden.contains($0) || $0.isNewline ? " " : $0 }).trimmingWhitespaces()
        let trimmed = cleaned.drop { $0 == "." }
        return trimmed.isEmpty ? "Task" : String(trimmed)
    }
}

import Foundation

/// File names for notes the OS creates from a title (tasks, handoffs).
public enum NoteName {
    /// A file name (without `.md`) Obsidian accepts and links to cleanly: the characters links and
    /// paths reserve become spaces, leading dots go, and an empty result becomes "Task".
    public static func sanitize(_ title: String) -> String {
        let forbidden = Set("[]#^|\\/:*?\"<>")
        // Control and format characters (bidi overrides that show a name backwards, zero-width
        // marks) are no part of a name a person reads: dropped.
        let visible = title.unicodeScalars.filter { scalar in
            let category = scalar.properties.generalCategory
            return category != .control && category != .format || scalar == "\n" || scalar == "\t"
        }
        // A run of spaces (what `[[Memory/Zorblax]]` leaves) is one: a name is typed again in a link.
        let spaced = String(String(String.UnicodeScalarView(visible)).map { forbidden.contains($0) || $0.isNewline || $0 == "\t" ? " " : $0 })
        let cleaned = spaced.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        // Dots and spaces both: `../../x` is `.. .. x` by now, and dropping only the first dots left
        // a name beginning `..`, a hidden file no watcher, index or Obsidian reads (an outside attack).
        var trimmed = Substring(cleaned.drop { $0 == "." || $0 == " " })
        // A file name holds at most 255 bytes, and the OS adds a run id and `.md` to some: a longer
        // title failed with the vault's absolute path in the error (an outside attack).
        while trimmed.utf8.count > maxBytes { trimmed = trimmed.dropLast() }
        let name = trimmed.trimmingWhitespaces()
        return name.isEmpty ? "Task" : name
    }

    /// The most bytes a name from a title keeps.
    public static let maxBytes = 180
}

/// Trimming without Foundation: `trimmingCharacters(in: .whitespaces)` and
/// `.whitespacesAndNewlines` bridge every call through `NSString`, and links, properties and folder
/// names are trimmed thousands of times a packet (a twentieth of the watcher's time in a burst).
/// The sets are Foundation's: `whitespaces` is Unicode's space separators (Zs), the tab and the
/// zero-width space U+200B (Zs in old Unicode, as Foundation still has it); `whitespacesAndNewlines`
/// adds U+000A–U+000D, U+0085 and the line and paragraph separators.
extension StringProtocol {
    /// The text without leading and trailing spaces (Unicode Zs) and tabs, as
    /// `trimmingCharacters(in: .whitespaces)` gives it.
    public func trimmingWhitespaces() -> String {
        trimmingScalars(where: Trimming.isWhitespace)
    }

    /// The text without leading and trailing spaces, tabs and line breaks, as
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` gives it.
    public func trimmingWhitespacesAndNewlines() -> String {
        trimmingScalars(where: Trimming.isWhitespaceOrNewline)
    }

    private func trimmingScalars(where trimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return "" }
        // Most text has nothing to trim.
        if !trimmed(first), !trimmed(last) { return String(self) }
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, trimmed(scalars[start]) { start = scalars.index(after: start) }
        while end > start, trimmed(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return String(String.UnicodeScalarView(scalars[start..<end]))
    }
}

enum Trimming {
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar == " " || scalar == "\t" }
        return scalar.value == 0x200B || scalar.properties.generalCategory == .spaceSeparator
    }

    static func isWhitespaceOrNewline(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0x85, 0x200B, 0x2028, 0x2029: return true
        case 0..<0x80: return false
        default: return scalar.properties.generalCategory == .spaceSeparator
        }
    }
}

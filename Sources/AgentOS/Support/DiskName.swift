import Foundation

/// A path as the most forgiving disk it may sit on compares names, for the checks that guard a
/// folder by its name (`Rules/`, `Tasks/`, a private folder): macOS's default disk ignores case by
/// Unicode case folding (`Ruleſ/` opens `Rules/`: `ſ` is lower case already, so `lowercased()` kept
/// it apart), HFS+ also ignores some invisible characters (`Rul\u{200C}es`), and Windows drops a
/// name's trailing spaces and dots (`Tasks /`). Two paths that fold alike may be one folder there;
/// a check that folds both sides judges them as one. Folding more than a disk does only refuses
/// more, or keeps more private.
enum DiskName {
    /// `path` folded, component by component (see the type).
    static func fold(_ path: String) -> String {
        // The common case: ASCII without a trailing space or dot in any component.
        if path.utf8.allSatisfy({ $0 < 0x80 }) {
            let lowered = String(decoding: path.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
            guard lowered.utf8.contains(where: { $0 == 0x20 || $0 == 0x2E }) else { return lowered }
            return lowered.split(separator: "/", omittingEmptySubsequences: false).map(trimmedEnd).joined(separator: "/")
        }
        let visible = String(String.UnicodeScalarView(path.precomposedStringWithCompatibilityMapping.unicodeScalars.filter { !ignorable($0) }))
        // Lower, upper, lower: `ſ` → `S` → `s`, `ẞ` → `ß` → `SS` → `ss`, `K` (Kelvin) → `k`, `ﬁ` → `fi`
        // (upper then lower alone left `ẞ` as `ß`, which the disk reads as `ss`).
        let folded = visible.lowercased().uppercased().lowercased()
        return folded.split(separator: "/", omittingEmptySubsequences: false).map(trimmedEnd).joined(separator: "/")
    }

    /// A component without the spaces and dots at its end (`.` and `..` stay as they are).
    private static func trimmedEnd(_ component: Substring) -> Substring {
        if component == "." || component == ".." { return component }
        var end = component.endIndex
        while end > component.startIndex, [" ", "."].contains(component[component.index(before: end)]) { end = component.index(before: end) }
        return component[..<end]
    }

    /// Characters HFS+ leaves out of a name when it compares (zero-width and direction marks, the
    /// byte-order mark): git's list for the same danger.
    private static func ignorable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200B...0x200F, 0x202A...0x202E, 0x206A...0x206F, 0x2060...0x2064, 0xFEFF: return true
        default: return false
        }
    }
}

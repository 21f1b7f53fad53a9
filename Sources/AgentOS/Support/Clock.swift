import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Local-time renderings in the forms Obsidian uses for dates, datetimes and daily-note names.
public enum LocalTime {
    static func parts(_ date: Date) -> tm {
        var t = time_t(date.timeIntervalSince1970)
        var result = tm()
        localtime_r(&t, &result)
        return result
    }

    /// `2026-11-26` (Obsidian's daily-note name and `date` property format).
    public static func day(_ date: Date) -> String {
        let p = parts(date)
        return String(format: "%04d-%02d-%02d", p.tm_year + 1900, p.tm_mon + 1, p.tm_mday)
    }

    /// `2026-11-26T07:45:12` (Obsidian's `datetime` property format).
    public static func dateTime(_ date: Date) -> String {
        let p = parts(date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d", p.tm_year + 1900, p.tm_mon + 1, p.tm_mday, p.tm_hour, p.tm_min, p.tm_sec)
    }

    /// `07:45:12`.
    public static func time(_ date: Date) -> String {
        let p = parts(date)
        return String(format: "%02d:%02d:%02d", p.tm_hour, p.tm_min, p.tm_sec)
    }

    /// `2026-11` (for monthly budgets).
    public static func month(_ date: Date) -> String {
        let p = parts(date)
        return String(format: "%04d-%02d", p.tm_year + 1900, p.tm_mon + 1)
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Local-time renderings in the forms Obsidian uses for dates, datetimes and daily-note names.
public enum LocalTime {
    static func parts(_ date: Date) -> tm {
        // Bounded: a time read back from a state file (a cooldown's `until`, a heartbeat) far past
        // `time_t`'s range stopped `status` and the watcher (an outside attack).
        var t = time_t(Int(bounded: date.timeIntervalSince1970))
        var result = tm()
        localtime_r(&t, &result)
        return result
    }

    /// `2026-11-26` (Obsidian's daily-note name and `date` property format).
    public static func day(_ date: Date) -> String {
        let p = parts(date)
        return String(format: "%04d-%02d-%02d", p.tm_year + 1900, p.tm_mon + 1, p.tm_mday)
    }

    /// A date and time as notes write them, in seconds since 1970: `2026-11-26T07:45:12` or
    /// `2026-11-26 07:45` in local time, or with a zone (`Z`, `+02:00`, `-0500`), seconds and their
    /// fractions optional. `nil` for anything else.
    public static func parseDateTime(_ text: String) -> Double? {
        let chars = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        var i = 0
        func number(_ digits: Int) -> Int? {
            guard i + digits <= chars.count else { return nil }
            var value = 0
            for c in chars[i..<(i + digits)] {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            i += digits
            return value
        }
        func take(_ c: UInt8) -> Bool {
            guard i < chars.count, chars[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), take(0x2D), let month = number(2), take(0x2D), let day = number(2),
              take(0x54) || take(0x20), let hour = number(2), take(0x3A), let minute = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60 else { return nil }
        var second = 0.0
        if take(0x3A) {
            guard let whole = number(2), whole < 61 else { return nil }
            second = Double(whole)
            if take(0x2E) {
                var scale = 0.1
                let start = i
                while i < chars.count, chars[i] >= 0x30 && chars[i] <= 0x39 {
                    second += Double(chars[i] - 0x30) * scale
                    scale /= 10
                    i += 1
                }
                guard i > start else { return nil }
            }
        }
        var offset: Int?
        if take(0x5A) {
            offset = 0
        } else if i < chars.count, chars[i] == 0x2B || chars[i] == 0x2D {
            let sign = chars[i] == 0x2D ? -1 : 1
            i += 1
            guard let hours = number(2) else { return nil }
            _ = take(0x3A)
            guard let minutes = number(2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard i == chars.count else { return nil }
        var t = tm()
        t.tm_year = Int32(year - 1900); t.tm_mon = Int32(month - 1); t.tm_mday = Int32(day)
        t.tm_hour = Int32(hour); t.tm_min = Int32(minute); t.tm_sec = 0; t.tm_isdst = -1
        if let offset {
            return Double(timegm(&t) - offset) + second
        }
        let seconds = mktime(&t)
        return seconds == -1 ? nil : Double(seconds) + second
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

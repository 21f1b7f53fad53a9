import Foundation
@testable import AgentOS

/// Compares our parsed properties with PyYAML's records (see `Fixtures/frontmatter_to_json.py`).
///
/// PyYAML implements YAML 1.1 and we implement the YAML 1.2 core schema (as Obsidian does), so a few
/// plain scalars resolve differently by design. `disagreement` accepts exactly those cases, each
/// listed in `isSchemaDifference`, and reports everything else.
enum YAMLReference {
    /// Describes the first place where our value and PyYAML's differ, or `nil` when they agree.
    static func disagreement(properties: [Property], reference: JSON) -> String? {
        disagreement(.map(properties), reference, at: "")
    }

    static func disagreement(_ ours: PropertyValue, _ theirs: JSON, at path: String) -> String? {
        let here = path.isEmpty ? "(top)" : path
        switch (ours, theirs) {
        case (.map(let properties), .object(let tagged)) where tagged.first?.0 == "$map":
            guard case .array(let pairs)? = tagged.first?.1 else { return "\(here): bad reference record" }
            // YAML loaders keep a duplicate key at its first position with its last value.
            var keys: [String] = []
            var values: [String: PropertyValue] = [:]
            for property in properties {
                if values[property.key] == nil { keys.append(property.key) }
                values[property.key] = property.value
            }
            guard keys.count == pairs.count else {
                return "\(here): we read \(keys.count) keys \(keys), PyYAML read \(pairs.count) \(pairs.map { $0.compact })"
            }
            for (key, pair) in zip(keys, pairs) {
                guard case .array(let kv) = pair, kv.count == 2 else { return "\(here): bad reference pair" }
                if !keyMatches(key, kv[0]) { return "\(here): key '\(key)' vs PyYAML key \(kv[0].compact)" }
                if let problem = disagreement(values[key]!, kv[1], at: path + "." + key) { return problem }
            }
            return nil
        case (.list(let items), .array(let theirItems)):
            guard items.count == theirItems.count else { return "\(here): we read \(items.count) items, PyYAML \(theirItems.count)" }
            for (i, (a, b)) in zip(items, theirItems).enumerated() {
                if let problem = disagreement(a, b, at: path + "[\(i)]") { return problem }
            }
            return nil
        default:
            let normalized = tagged(ours)
            if scalarsEqual(normalized, theirs) || isSchemaDifference(ours, theirs) { return nil }
            return "\(here): we read \(ours) (\(normalized.compact)), PyYAML read \(theirs.compact)"
        }
    }

    /// Our key is the text as written; PyYAML resolves plain keys (`1:` is the integer 1).
    static func keyMatches(_ key: String, _ theirs: JSON) -> Bool {
        // We drop a byte-order mark before a key anywhere; PyYAML only where the stream starts.
        if case .string(let s) = theirs { return s == key || String(s.unicodeScalars.drop { $0 == "\u{FEFF}" }) == key }
        let resolved = YAMLParser.resolvePlain(key)
        return scalarsEqual(tagged(resolved), theirs) || isSchemaDifference(resolved, theirs)
    }

    /// Our scalar in the reference reader's tagged form.
    static func tagged(_ value: PropertyValue) -> JSON {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .object([("$float", .string(d.isNaN ? "nan" : d.isInfinite ? (d < 0 ? "-inf" : "inf") : String(d)))])
        case .string(let s): return .string(s)
        case .date(let s): return .object([("$date", .string(s))])
        case .datetime(let s):
            guard let instant = epochMicroseconds(s) else { return .string(s) }
            return .object([("$datetime", .string(instant))])
        case .list(let items): return .array(items.map(tagged))
        case .map(let properties): return .object([("$map", .array(properties.map { .array([.string($0.key), tagged($0.value)]) }))])
        }
    }

    static func scalarsEqual(_ a: JSON, _ b: JSON) -> Bool {
        if case .object(let x) = a, case .object(let y) = b, x.first?.0 == "$float", y.first?.0 == "$float",
           let s = x.first?.1.stringValue, let t = y.first?.1.stringValue, let p = Double(s), let q = Double(t) {
            return p == q || (p.isNaN && q.isNaN)
        }
        return a == b && sameKind(a, b)
    }

    /// `JSON ==` treats 1 and 1.0 as equal; a type change is a disagreement here.
    static func sameKind(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.int, .int), (.double, .double), (.null, .null), (.bool, .bool), (.string, .string), (.array, .array), (.object, .object): return true
        default: return false
        }
    }

    /// Plain scalars that YAML 1.1 (PyYAML) and YAML 1.2 core (us, Obsidian) resolve differently.
    static func isSchemaDifference(_ ours: PropertyValue, _ theirs: JSON) -> Bool {
        switch (ours, theirs) {
        case (.string(let s), .bool):
            // 1.1 booleans that 1.2 reads as text.
            return ["yes", "no", "on", "off"].contains(s.lowercased()) && (s == s.lowercased() || s == s.uppercased() || s == s.capitalized)
        case (.string(let s), .int), (.string(let s), .object):
            if case .object(let tag) = theirs, tag.first?.0 != "$float" && tag.first?.0 != "$bigint" { return false }
            // 1.1 numbers: digit separators, sexagesimal, 0b binary, signed hexadecimal.
            let unsigned = s.hasPrefix("-") || s.hasPrefix("+") ? String(s.dropFirst()) : s
            return s.contains("_") || s.contains(":") || unsigned.hasPrefix("0b") || (unsigned.hasPrefix("0x") && unsigned != s)
        case (.int(let i), .int(let j)):
            // A leading zero makes 1.1 read octal (`017` is 15); 1.2 reads decimal.
            return Int(String(i), radix: 8) == j
        case (.int, .string(let s)):
            // 1.2 octal `0o17`, which 1.1 reads as text.
            return s.hasPrefix("0o")
        case (.double(let d), .string(let s)):
            // 1.2 floats that 1.1 requires a dot and a signed exponent for (`1e3`, `1.0e3`).
            if let parsed = Double(s) { return parsed == d }
            return false
        default:
            return false
        }
    }

    /// `YYYY-MM-DD[Tt ]H[H]:MM:SS[.f][ ][Z|±H[H][:MM]]` as seconds since the epoch in UTC with six digits
    /// of microseconds, or `nil` without seconds (YAML 1.1 then reads it as text).
    static func epochMicroseconds(_ text: String) -> String? {
        let u = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(u[$1] - 0x30) } }
        func isDigit(_ i: Int) -> Bool { i < u.count && u[i] >= 0x30 && u[i] <= 0x39 }
        guard u.count >= 10 else { return nil }
        let year = number(0..<4), month = number(5..<7), day = number(8..<10)
        var i = 10
        if i < u.count, u[i] == 0x54 || u[i] == 0x74 { i += 1 } else { while i < u.count, u[i] == 0x20 || u[i] == 0x09 { i += 1 } }
        let hourStart = i
        while isDigit(i) { i += 1 }
        let hour = number(hourStart..<i)
        guard i < u.count, u[i] == 0x3A else { return nil }
        let minute = number(i + 1..<i + 3)
        i += 3
        guard i < u.count, u[i] == 0x3A else { return nil }
        let second = number(i + 1..<i + 3)
        i += 3
        var micro = 0
        if i < u.count, u[i] == 0x2E {
            i += 1
            var digits = 0
            while isDigit(i) {
                if digits < 6 { micro = micro * 10 + Int(u[i] - 0x30); digits += 1 }
                i += 1
            }
            while digits < 6 { micro *= 10; digits += 1 }
        }
        while i < u.count, u[i] == 0x20 || u[i] == 0x09 { i += 1 }
        var offsetMinutes = 0
        if i < u.count, u[i] == 0x2B || u[i] == 0x2D {
            let sign = u[i] == 0x2D ? -1 : 1
            i += 1
            let start = i
            while isDigit(i) { i += 1 }
            var minutes = number(start..<i) * 60
            if i < u.count, u[i] == 0x3A { minutes += number(i + 1..<i + 3) }
            offsetMinutes = sign * minutes
        }
        // Days from the civil date (proleptic Gregorian), after H. Hinnant's `days_from_civil`.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        let microText = String(micro)
        return "\(seconds)." + String(repeating: "0", count: 6 - microText.count) + microText
    }
}

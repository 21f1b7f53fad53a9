/// A typed value of a note property, as Obsidian's Properties and hand-written YAML produce them.
///
/// Properties in our own formats are flat; `map` exists because other tools write nested maps and we
/// must read (and preserve) them.
public enum PropertyValue: Equatable, Sendable {
    /// `null`, `~` or nothing after the colon.
    case null
    /// A checkbox: `true` or `false`.
    case bool(Bool)
    /// A whole number.
    case int(Int)
    /// A number with a fraction or an exponent, or `.inf` / `.nan`.
    case double(Double)
    /// Text.
    case string(String)
    /// A calendar date written `YYYY-MM-DD`, kept as written.
    case date(String)
    /// A date and time (`YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]`), kept as written.
    case datetime(String)
    /// A list (block `- item` lines or flow `[a, b]`).
    case list([PropertyValue])
    /// A nested map, its keys in order.
    case map([Property])

    /// The value as text when it is a scalar (numbers and dates rendered as written), else `nil`.
    public var text: String? {
        switch self {
        case .null: return nil
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return PropertyValue.format(double: d)
        case .string(let s), .date(let s), .datetime(let s): return s
        case .list, .map: return nil
        }
    }

    /// The value as a list of texts: a list's scalar items, or a single scalar as a one-item list.
    public var texts: [String] {
        switch self {
        case .list(let items): return items.compactMap { $0.text }
        case .null: return []
        default: return text.map { [$0] } ?? []
        }
    }

    /// The value as a number when it is numeric (or numeric text).
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s.trimmingWhitespaces())
        default: return nil
        }
    }

    /// The value as a whole number this machine can count with: numeric, finite, and within
    /// ±`wholeNumberLimit`, rounded toward zero; else `nil`. A frontmatter number turned into an
    /// `Int` as it was (`context_tokens: 1e30`, `attempts: .nan`, twenty nines) stopped the process
    /// that read it — the watcher, at every start while the note was there (an outside attack).
    public var wholeNumber: Int? {
        guard let number, number.isFinite, abs(number) <= PropertyValue.wholeNumberLimit else { return nil }
        return Int(number)
    }

    /// The largest whole number a property may hold (`wholeNumber`).
    public static let wholeNumberLimit = 1_000_000_000.0

    /// The value as a boolean when it is a checkbox (or `true`/`false`/`yes`/`no` text).
    public var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s):
            switch s.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: return nil
            }
        default: return nil
        }
    }

    /// A double as YAML writes it (`1.0`, `.inf`, `.nan`).
    static func format(double d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        if d == d.rounded(), abs(d) < 1e15 { return String(format: "%.1f", d) }
        return String(d)
    }
}

/// One key and its value, in the order they appear in a note.
public struct Property: Equatable, Sendable {
    /// The property's name as written (without quotes).
    public var key: String
    /// Its value.
    public var value: PropertyValue
    /// A property named `key` with `value`.
    public init(_ key: String, _ value: PropertyValue) {
        self.key = key
        self.value = value
    }
}

import Foundation

extension PropertyValue {
    /// The value as typed JSON (dates and datetimes become strings).
    public var json: JSON {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s), .date(let s), .datetime(let s): return .string(s)
        case .list(let items): return .array(items.map(\.json))
        case .map(let props): return .object(props.map { ($0.key, $0.value.json) })
        }
    }
}

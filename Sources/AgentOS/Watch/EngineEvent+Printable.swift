import Foundation

extension EngineEvent {
    /// The message with control characters, line and paragraph separators and bidirectional
    /// overrides escaped (`\n`, `\u{1B}`), so a file name can neither break a log line in two nor
    /// forge one, nor recolour or reorder the terminal's text.
    public static func printable(_ message: String) -> String {
        var out = ""
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let category = scalar.properties.generalCategory
                let bidi = (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
                if category == .control || category == .lineSeparator || category == .paragraphSeparator || bidi {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

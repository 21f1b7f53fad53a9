import Foundation
import Testing
@testable import AgentOS

/// `trimmingWhitespaces()` and `trimmingWhitespacesAndNewlines()` give exactly what Foundation's
/// `trimmingCharacters(in:)` gives for its two sets, which they replace on hot paths.
@Suite struct TrimmingTests {
    /// Every space, tab and line break Foundation's sets name, and look-alikes they do not.
    static let edges: [String] = [
        " ", "\t", "\n", "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}", "\u{2007}", "\u{200A}",
        "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}",
        // Not in either set: zero-width space and joiner, the byte-order mark, NUL, a combining accent.
        "\u{200B}", "\u{200D}", "\u{FEFF}", "\u{0}", "\u{301}", "",
    ]
    static let middles = ["", "a", "Private/Bank", "é", "日本", "a b", "\u{301}x", "👩‍👩‍👧", "x\u{2028}y"]

    @Test func bothMatchFoundationOnEveryEdgeAndMiddle() {
        var checked = 0
        for left in Self.edges {
            for middle in Self.middles {
                for right in Self.edges {
                    for text in [left + middle + right, left + left + middle + right + right] {
                        #expect(text.trimmingWhitespaces() == text.trimmingCharacters(in: .whitespaces), "\(Array(text.unicodeScalars))")
                        #expect(text.trimmingWhitespacesAndNewlines() == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(Array(text.unicodeScalars))")
                        let sub = ("«" + text + "»").dropFirst().dropLast()
                        #expect(sub.trimmingWhitespaces() == sub.trimmingCharacters(in: .whitespaces))
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == Self.edges.count * Self.edges.count * Self.middles.count * 2)
    }

    @Test func everyScalarIsJudgedAsFoundationJudgesIt() {
        for value in UInt32(0)..<0x11_0000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            #expect(Trimming.isWhitespace(scalar) == CharacterSet.whitespaces.contains(scalar), "U+\(String(value, radix: 16))")
            #expect(Trimming.isWhitespaceOrNewline(scalar) == CharacterSet.whitespacesAndNewlines.contains(scalar), "U+\(String(value, radix: 16))")
        }
    }
}

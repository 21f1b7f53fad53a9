import Foundation
import Testing
@testable import AgentOS

/// The byte gates (`holdsByte`, `holdsBytes`, `SecretScanner.bytes`) find exactly the byte runs a
/// plain loop finds, and never miss what Foundation's `contains` finds: a gate that missed would
/// skip a privacy or secret reading that should have run.
@Suite struct ByteSearchTests {
    /// Every place `needle` could start in `haystack`, compared byte by byte.
    static func naive(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { start in Array(haystack[start..<start + needle.count]) == needle }
    }

    static let pieces = ["a", "/", "~", "$", "HOME", "home", "H", "OME", "[", "&", "\\", "'", "\"", "é", "e\u{301}", "/\u{338}", "~\u{303}",
                         "日本", "👩‍👩‍👧", " ", "\n", "\u{0}", "aws", "AKIA", "ASIA", "sk-", "sk", "-",
                         // Characters that are canonically other ones: KELVIN SIGN is K, GREEK QUESTION MARK is `;`.
                         "\u{212A}", "\u{37E}", "\u{1FEF}", "\u{FF0F}"]
    static let needles = ["/", "~", "$", "HOME", "[", "&", "\\", "'", "\"", "aws", "AKIA", "sk-", "é", "日", "\u{338}", "K", ";"]
    /// The marks the code gates readings with: Foundation finds each of them only where its bytes are.
    static let gates = ["/", "~", "$", "HOME", "[", "<", "&", "\\", "'", "\""]

    /// Texts of up to five pieces from a fixed seed: the needles at the start, the end, split, doubled.
    static func texts() -> [String] {
        var generator = SeededGenerator(seed: 7)
        var texts = [""] + pieces
        for _ in 0..<3000 {
            let count = Int.random(in: 1...5, using: &generator)
            texts.append((0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined())
        }
        return texts
    }

    @Test func findsWhatALoopFindsAndAllFoundationFinds() {
        var foundationHits = 0
        for text in Self.texts() {
            let bytes = Array(text.utf8)
            for needle in Self.needles {
                let expected = Self.naive(bytes, Array(needle.utf8))
                #expect(text.holdsBytes(needle) == expected, "\(Array(text.unicodeScalars)) / \(needle)")
                #expect(text[...].holdsBytes(needle) == expected)
                #expect(SecretScanner.bytes(bytes, contain: Array(needle.utf8)) == expected)
                if needle.unicodeScalars.count == 1, let scalar = needle.unicodeScalars.first, scalar.isASCII {
                    #expect(text.holdsByte(scalar) == expected)
                }
                // The gates stand before readings that used to be gated by Foundation's search,
                // which compares characters: it finds `é` in `e` and a combining accent, and `K` in
                // KELVIN SIGN, which bytes do not. None of the gates' marks is found so.
                if Self.gates.contains(needle), text.contains(needle) {
                    foundationHits += 1
                    #expect(text.holdsBytes(needle), "\(Array(text.unicodeScalars)) / \(needle)")
                }
            }
        }
        // The texts hold the needles often enough for the superset check to mean something.
        #expect(foundationHits > 1000)
    }

    @Test func aNeedleLongerThanTheTextOrEmpty() {
        #expect(!"HOM".holdsBytes("HOME"))
        #expect("".holdsBytes(""))
        #expect("x".holdsBytes(""))
        #expect(!"".holdsByte("/"))
        #expect(!SecretScanner.bytes([0x41], contain: [0x41, 0x41]))
        #expect(SecretScanner.bytes([0x41, 0x41], contain: [0x41, 0x41]))
    }
}

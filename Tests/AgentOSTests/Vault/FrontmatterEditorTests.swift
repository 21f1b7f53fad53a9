import Foundation
import Testing
@testable import AgentOS

/// The editor changes the properties it is asked to change and leaves every other byte alone.
@Suite struct FrontmatterEditorTests {
    static let rich = """
    ---
    # Written by hand: keep this comment
    title: "Quoted Title"   # trailing comment
    tags:
      - alpha
      - 'beta'

    created: 2024-01-15T10:30
    note: |
      literal line
        indented
    aliases: [one, "two, three"]
    ---
    # Body

    Text with --- and key: value in it.

    """

    func apply(_ text: String, set: [Property] = [], unset: [String] = []) throws -> String {
        try FrontmatterEditor.apply(set: set, unset: unset, to: text)
    }

    @Test func addingAndRemovingAPropertyRestoresEveryByte() throws {
        let added = try apply(Self.rich, set: [Property("status", .string("done"))])
        #expect(added == Self.rich.replacingOccurrences(of: "aliases: [one, \"two, three\"]\n---", with: "aliases: [one, \"two, three\"]\nstatus: done\n---"))
        #expect(try apply(added, unset: ["status"]) == Self.rich)
    }

    @Test func replacingAPropertyTouchesOnlyItsLines() throws {
        let changed = try apply(Self.rich, set: [Property("tags", .list([.string("gamma")]))])
        #expect(changed == Self.rich.replacingOccurrences(of: "tags:\n  - alpha\n  - 'beta'\n", with: "tags:\n  - gamma\n"))
        let title = try apply(Self.rich, set: [Property("title", .string("New"))])
        // The replaced line is written in our style; its trailing comment goes with it.
        #expect(title == Self.rich.replacingOccurrences(of: "title: \"Quoted Title\"   # trailing comment\n", with: "title: New\n"))
        let literal = try apply(Self.rich, set: [Property("note", .int(3))])
        #expect(literal == Self.rich.replacingOccurrences(of: "note: |\n  literal line\n    indented\n", with: "note: 3\n"))
    }

    @Test func removingAPropertyRemovesOnlyItsLines() throws {
        #expect(try apply(Self.rich, unset: ["tags"]) == Self.rich.replacingOccurrences(of: "tags:\n  - alpha\n  - 'beta'\n", with: ""))
        #expect(try apply(Self.rich, unset: ["note"]) == Self.rich.replacingOccurrences(of: "note: |\n  literal line\n    indented\n", with: ""))
        #expect(try apply(Self.rich, unset: ["missing"]) == Self.rich)
    }

    @Test func settingAPropertyToItsOwnValueKeepsIt() throws {
        let note = try Note.parse(Self.rich)
        for property in note.properties {
            let rewritten = try Note.parse(try apply(Self.rich, set: [property]))
            #expect(rewritten.properties.map(\.key) == note.properties.map(\.key))
            #expect(rewritten[property.key] == property.value)
            #expect(rewritten.body == note.body)
        }
    }

    @Test func valuesRoundTripThroughTheSerializer() throws {
        let values: [PropertyValue] = [
            .null, .bool(true), .bool(false), .int(0), .int(-42), .int(Int.max), .double(1.5), .double(1.0), .double(-0.25),
            .double(1e20), .double(.infinity), .double(-.infinity), .date("2024-01-15"), .datetime("2024-01-15T10:30"),
            .datetime("2024-01-15 10:30:00Z"),
            .string(""), .string("plain text"), .string("true"), .string("123"), .string("1.5"), .string("null"), .string("~"),
            .string(" leading"), .string("trailing "), .string("key: value"), .string("#hash"), .string("a #b"), .string("- dash"),
            .string("[[Tasks/Fix login]]"), .string("[[A|b]]"), .string("{x}"), .string("multi\nline\n"), .string("tab\there"),
            .string("quote\"s and \\ back"), .string("it's"), .string("é 日本 🙂"), .string("\u{0}\u{1}\u{7F}\u{85}\u{2028}\u{FEFF}"),
            .string("2024-01-15"), .string("yes"), .string("---"), .string("..."), .string("@mention"), .string("%x"), .string("*star"),
            .string("ends with:"), .string("\r"), .string("a,b"), .string("0x1F"), .string(".inf"),
            .list([]), .list([.string("a"), .int(1), .null, .string("b, c"), .string("[x]"), .string("")]),
            .list([.list([.string("x")]), .map([Property("k", .string("v"))])]),
            .map([]), .map([Property("a", .int(1)), Property("b", .list([.string("x")])), Property("c: d", .string("e"))]),
            .map([Property("nested", .map([Property("deep", .list([.int(1), .int(2)]))]))]),
            .list([.map([Property("k{[", .string("v}")), Property("1.50", .string("~")), Property("a: b", .null), Property("", .int(1))])]),
            .list([.map([Property("tab\tkey", .string("x")), Property("#h", .string("y")), Property("q\"", .list([]))])]),
        ]
        for value in values {
            for base in ["", "---\na: 1\n---\n", "---\r\na: 1\r\n---\r\n", "---\n  a: 1\n---\n"] {
                let text = try apply(base + "Body\n", set: [Property("v", value)])
                let note = try Note.parse(text)
                #expect(note["v"] == value, "\(value) in \(base.debugDescription) reads back as \(String(describing: note["v"])) from \(text.debugDescription)")
                if !base.isEmpty { #expect(note["a"] == .int(1)) }
                #expect(note.body == "Body\n")
                #expect(try apply(text, unset: ["v"]) == base + "Body\n", "\(value): unset did not restore \(base.debugDescription)")
            }
        }
        let nan = try Note.parse(try apply("", set: [Property("v", .double(.nan))]))
        #expect(nan["v"]?.number?.isNaN == true)
    }

    @Test func keysThatNeedQuotesRoundTrip() throws {
        for key in ["", "with space", "colon: inside", "trailing:", "#hash", "- dash", "[x]", "\"q\"", "it's", " padded ", "tab\tkey", "line\nbreak", "日本語", "!tag", "&anchor", "*alias", "? question"] {
            let text = try apply("---\na: 1\n---\n", set: [Property(key, .string("v"))])
            let note = try Note.parse(text)
            #expect(note[key] == .string("v"), "key \(key.debugDescription) reads back from \(text.debugDescription) as \(note.properties)")
            #expect(note["a"] == .int(1))
            #expect(try apply(text, unset: [key]) == "---\na: 1\n---\n")
        }
    }

    @Test func noteWithoutFrontmatterGainsABlockAndLosesItAgain() throws {
        for body in ["", "Body only\n", "---", "no newline at end", "\n\nstarts blank", "--- rule\n"] {
            let added = try apply(body, set: [Property("status", .string("open"))])
            #expect(added == "---\nstatus: open\n---\n" + body)
            #expect(try Note.parse(added).body == body)
            #expect(try apply(added, unset: ["status"]) == body)
        }
        // Unsetting a property a note does not have changes nothing.
        #expect(try apply("Body\n", unset: ["status"]) == "Body\n")
    }

    @Test func byteOrderMarkStaysFirst() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("Body\n".utf8)
        let added = try FrontmatterEditor.apply(set: [Property("a", .int(1))], to: bytes)
        #expect(added == [0xEF, 0xBB, 0xBF] + Array("---\na: 1\n---\nBody\n".utf8))
        #expect(try FrontmatterEditor.apply(set: [], unset: ["a"], to: added) == bytes)
        let withBlock: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("---\nb: 2\n---\nBody\n".utf8)
        let changed = try FrontmatterEditor.apply(set: [Property("b", .int(3))], to: withBlock)
        #expect(changed == [0xEF, 0xBB, 0xBF] + Array("---\nb: 3\n---\nBody\n".utf8))
    }

    @Test func crlfNotesStayCRLF() throws {
        let original = "---\r\ntitle: x\r\ntags:\r\n  - a\r\n---\r\nbody\r\nmore\r\n"
        let edited = try apply(original, set: [Property("tags", .list([.string("b"), .string("c")])), Property("status", .string("done"))])
        #expect(edited == "---\r\ntitle: x\r\ntags:\r\n  - b\r\n  - c\r\nstatus: done\r\n---\r\nbody\r\nmore\r\n")
        #expect(!edited.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let restored = try apply(try apply(original, set: [Property("new", .string("x"))]), unset: ["new"])
        #expect(restored == original)
        // A CRLF note without frontmatter gets a CRLF block.
        #expect(try apply("body\r\n", set: [Property("a", .int(1))]) == "---\r\na: 1\r\n---\r\nbody\r\n")
    }

    @Test func jsonFrontmatterIsEditedInPlace() throws {
        let pretty = "---\n{\n  \"title\": \"JSON\",\n  \"tags\": [\"a\", \"b\"]\n}\n---\nbody\n"
        let added = try apply(pretty, set: [Property("status", .string("done"))])
        #expect(added == "---\n{\n  \"title\": \"JSON\",\n  \"tags\": [\"a\", \"b\"],\n  \"status\": \"done\"\n}\n---\nbody\n")
        #expect(try apply(added, unset: ["status"]) == pretty)
        let replaced = try apply(pretty, set: [Property("title", .string("New"))])
        #expect(replaced == pretty.replacingOccurrences(of: "\"JSON\"", with: "\"New\""))
        #expect(try apply(pretty, unset: ["title"]) == "---\n{\n  \"tags\": [\"a\", \"b\"]\n}\n---\nbody\n")
        let note = try Note.parse(try apply(pretty, set: [Property("n", .list([.int(1), .null]))]))
        #expect(note.isJSONFrontmatter && note["n"] == .list([.int(1), .null]) && note.text("title") == "JSON")

        let oneLine = "---\n{\"a\": 1}\n---\n"
        let both = try apply(oneLine, set: [Property("b", .bool(true))])
        #expect(both == "---\n{\"a\": 1, \"b\": true}\n---\n")
        #expect(try apply(both, unset: ["b"]) == oneLine)
        let empty = "---\n{}\n---\n"
        let filled = try apply(empty, set: [Property("k", .string("v"))])
        #expect(filled == "---\n{\"k\": \"v\"}\n---\n")
        #expect(try apply(filled, unset: ["k"]) == empty)
    }

    @Test func indentedMappingGetsIndentedProperties() throws {
        let original = "---\n  a: 1\n  b: 2\n---\n"
        let added = try apply(original, set: [Property("c", .list([.string("x")])), Property("a", .string("one"))])
        #expect(added == "---\n  a: one\n  b: 2\n  c:\n    - x\n---\n")
        let note = try Note.parse(added)
        #expect(note["c"] == .list([.string("x")]) && note["a"] == .string("one") && note["b"] == .int(2))
        #expect(try apply(try apply(original, set: [Property("c", .int(3))]), unset: ["c"]) == original)
    }

    @Test func duplicateKeysCollapseIntoOne() throws {
        let edited = try apply("---\na: 1\nb: 2\na: 3\n---\n", set: [Property("a", .int(9))])
        #expect(edited == "---\na: 9\nb: 2\n---\n")
        #expect(try apply("---\na: 1\nb: 2\na: 3\n---\n", unset: ["a"]) == "---\nb: 2\n---\n")
    }

    @Test func removingAPropertyNeverChangesABlockScalarAboveIt() throws {
        // The blank line after `b` would otherwise become part of `a` (kept by `|+`).
        let keep = "---\na: |+\n  x\nb: 1\n\nc: 2\n---\n"
        #expect(try apply(keep, unset: ["b"]) == "---\na: |+\n  x\nc: 2\n---\n")
        #expect(try Note.parse(try apply(keep, unset: ["b"]))["a"] == .string("x\n"))
        // White space beyond the indentation would become content of any block scalar.
        let spaced = "---\na: |\n  x\nb: 1\n     \n---\n"
        #expect(try Note.parse(try apply(spaced, unset: ["b"]))["a"] == .string("x\n"))
        // Without a block scalar above, the blank line stays where the person put it.
        #expect(try apply("---\na: 1\nb: 2\n\nc: 3\n---\n", unset: ["b"]) == "---\na: 1\n\nc: 3\n---\n")
    }

    @Test func byteOrderMarksInsideTheNoteStayContent() throws {
        // A body starting with U+FEFF keeps an empty block, or the character would turn into a BOM.
        let body = "---\na: 1\n---\n\u{FEFF}text\n"
        let removed = try apply(body, unset: ["a"])
        #expect(removed == "---\n---\n\u{FEFF}text\n")
        #expect(try Note.parse(removed).body == "\u{FEFF}text\n")
        // JSON whose first line starts with a BOM is still edited in place.
        let json = "---\n\u{FEFF}{\"a\": 1}\n---\n"
        let added = try apply(json, set: [Property("b", .int(2))])
        #expect(added == "---\n\u{FEFF}{\"a\": 1, \"b\": 2}\n---\n")
        #expect(try apply(added, unset: ["b"]) == json)
        // A BOM pasted before a key is not part of its name, wherever the key stands.
        let pasted = "---\ntitle: x\n\u{FEFF}tags: [a]\n---\n"
        #expect(try Note.parse(pasted)["tags"] == .list([.string("a")]))
        #expect(try Note.parse(try apply(pasted, unset: ["title"]))["tags"] == .list([.string("a")]))
    }

    @Test func removingTheLastPropertyRemovesTheBlock() throws {
        #expect(try apply("---\na: 1\n---\nBody\n", unset: ["a"]) == "Body\n")
        // A comment keeps the block: it is the person's text.
        #expect(try apply("---\n# keep\na: 1\n---\nBody\n", unset: ["a"]) == "---\n# keep\n---\nBody\n")
        // A body that starts with `---` keeps an empty block in front of it, or it would become one.
        #expect(try apply("---\na: 1\n---\n---\nrule\n", unset: ["a"]) == "---\n---\n---\nrule\n")
        #expect(try Note.parse(try apply("---\na: 1\n---\n---\nb: 2\n---\n", unset: ["a"])).body == "---\nb: 2\n---\n")
        // An empty block gains the property, and removing it drops the block (as Obsidian does), so
        // this is the one note that does not come back byte for byte.
        let empty = "---\n---\nBody\n"
        #expect(try apply(empty, set: [Property("a", .int(1))]) == "---\na: 1\n---\nBody\n")
    }

    @Test func aKeyGivenTwiceTakesItsLastValue() throws {
        let twice = [Property("a", .int(1)), Property("b", .int(5)), Property("a", .int(2))]
        #expect(try apply("Body\n", set: twice) == "---\na: 2\nb: 5\n---\nBody\n")
        #expect(try apply("---\nx: 0\n---\n", set: twice) == "---\nx: 0\na: 2\nb: 5\n---\n")
        #expect(try apply("---\na: 0\n---\n", set: twice) == "---\na: 2\nb: 5\n---\n")
        #expect(try apply("---\n{\"x\": 0}\n---\n", set: twice) == "---\n{\"x\": 0, \"a\": 2, \"b\": 5}\n---\n")
    }

    @Test func setAndUnsetTogether() throws {
        let edited = try apply("---\na: 1\nb: 2\nc: 3\n---\n", set: [Property("b", .int(20)), Property("d", .int(4))], unset: ["a", "c"])
        #expect(edited == "---\nb: 20\nd: 4\n---\n")
        // A key both set and unset is set.
        #expect(try apply("---\na: 1\n---\n", set: [Property("a", .int(2))], unset: ["a"]) == "---\na: 2\n---\n")
    }

    @Test func malformedFrontmatterIsRefusedWithItsPosition() {
        for text in ["---\na: \"open\n---\n", "---\na: 1\nnever closed\n", "---\ntags: [a\n---\n", "---\na:\n\tb: 1\n---\n"] {
            var parseError: FrontmatterError?
            do { _ = try Note.parse(text) } catch { parseError = error }
            do {
                _ = try FrontmatterEditor.apply(set: [Property("x", .int(1))], to: text)
                Issue.record("\(text.debugDescription) was edited")
            } catch {
                #expect(error == parseError, "the editor and the parser disagree on \(text.debugDescription)")
                #expect(error.line >= 2 || error.message.contains("never closed"))
            }
        }
    }
}

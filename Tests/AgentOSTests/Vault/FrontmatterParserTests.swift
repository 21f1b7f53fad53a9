import Foundation
import Testing
@testable import AgentOS

/// Each YAML construct Obsidian notes use, read by `Note.parse`, and malformed frontmatter reported
/// with the line and column a person would look at.
@Suite struct FrontmatterParserTests {
    /// Parses a frontmatter block given without its delimiters.
    func properties(_ yaml: String) throws -> Note {
        try Note.parse("---\n" + yaml + "\n---\nBody\n")
    }

    @Test func blockListsAtDeeperAndSameIndentation() throws {
        let note = try properties("tags:\n  - a\n  - b c\nmore:\n- x\n-   y\nafter: 1")
        #expect(note["tags"] == .list([.string("a"), .string("b c")]))
        #expect(note["more"] == .list([.string("x"), .string("y")]))
        #expect(note["after"] == .int(1))
        #expect(note.texts("tags") == ["a", "b c"])
    }

    /// A comment starts at a '#' after a space or a tab, anywhere in a plain value; a '#' inside a
    /// word is text. Keys and values in other scripts are cut at the same places.
    @Test func trailingCommentsAfterASpaceOrATab() throws {
        let note = try properties("a: value\t# after a tab\nb: one #two # three\nc: x#y\nd: café # accent\n日本: 東京 #タグ\ne: tab\tinside # then a comment\n\u{FEFF}f: after a byte-order mark")
        #expect(note["a"] == .string("value"))
        #expect(note["b"] == .string("one"))
        #expect(note["c"] == .string("x#y"))
        #expect(note["d"] == .string("café"))
        #expect(note["日本"] == .string("東京"))
        #expect(note["e"] == .string("tab\tinside"))
        #expect(note["f"] == .string("after a byte-order mark"))
        #expect(note.properties.map(\.key) == ["a", "b", "c", "d", "日本", "e", "f"])
    }

    @Test func blockListWithCommentsBlankLinesAndEmptyItems() throws {
        let note = try properties("list:\n  # first\n  - a\n\n  - # nothing\n  -\n  - 'c' # quoted")
        #expect(note["list"] == .list([.string("a"), .null, .null, .string("c")]))
    }

    @Test func flowListsAndMaps() throws {
        let note = try properties("aliases: [one, \"two, three\", 'it''s', 3, true]\nempty: []\nnested: [a, [b, c], {k: v}]\nmap: {x: 1, y: [2, 3], z: }\nopen: [a,\n  b]")
        #expect(note["aliases"] == .list([.string("one"), .string("two, three"), .string("it's"), .int(3), .bool(true)]))
        #expect(note["empty"] == .list([]))
        #expect(note["nested"] == .list([.string("a"), .list([.string("b"), .string("c")]), .map([Property("k", .string("v"))])]))
        #expect(note["map"] == .map([Property("x", .int(1)), Property("y", .list([.int(2), .int(3)])), Property("z", .null)]))
        #expect(note["open"] == .list([.string("a"), .string("b")]))
    }

    @Test func flowKeysAreNamesAsWrittenAndFlowsSpanLines() throws {
        let note = try properties("m: {1.50: a, ~: b, \"q k\": c, true: d}\nl: [x: 1]\nq: [\"one\n  two\", b]\nodd: {x: 1{, y: [2]}\nnext: 1")
        #expect(note["m"] == .map([Property("1.50", .string("a")), Property("~", .string("b")), Property("q k", .string("c")), Property("true", .string("d"))]))
        #expect(note["l"] == .list([.map([Property("x", .int(1))])]))
        #expect(note["q"] == .list([.string("one two"), .string("b")]))
        // A stray bracket inside a plain value must not swallow the next property.
        #expect(note["odd"] == .map([Property("x", .string("1{")), Property("y", .list([.int(2)]))]))
        #expect(note["next"] == .int(1))
    }

    @Test func quotedScalars() throws {
        let note = try properties(#"""
        double: "tab\there \u00e9 \"q\" \\ \x41"
        single: 'it''s "plain" \n'
        empty: ""
        spaces: '  padded  '
        hash: "a # not a comment" # a comment
        colon: "key: value"
        """#)
        #expect(note["double"] == .string("tab\there é \"q\" \\ A"))
        #expect(note["single"] == .string("it's \"plain\" \\n"))
        #expect(note["empty"] == .string(""))
        #expect(note["spaces"] == .string("  padded  "))
        #expect(note["hash"] == .string("a # not a comment"))
        #expect(note["colon"] == .string("key: value"))
    }

    @Test func multiLineQuotedScalarsFold() throws {
        let note = try properties("single: 'one\n  two\n\n  three'\ndouble: \"a \\\n  b\"\nnext: x")
        #expect(note["single"] == .string("one two\nthree"))
        #expect(note["double"] == .string("a b"))
        #expect(note["next"] == .string("x"))
    }

    @Test func plainScalarsAndComments() throws {
        let note = try properties("# leading comment\ntitle: Hello world   \nurl: https://example.com/a#b\ncomment: value # trailing\nfolded: first\n  second\n\n  third\n# between\nlast: x")
        #expect(note["title"] == .string("Hello world"))
        #expect(note["url"] == .string("https://example.com/a#b"))
        #expect(note["comment"] == .string("value"))
        #expect(note["folded"] == .string("first second\nthird"))
        #expect(note["last"] == .string("x"))
        #expect(note.properties.map(\.key) == ["title", "url", "comment", "folded", "last"])
    }

    @Test func numbers() throws {
        let note = try properties("i: 42\nneg: -12\npos: +5\nhex: 0x1F\noct: 0o17\nzero: 017\nf: 1.5\nexp: 1e3\nsmall: -2.5E-3\ndot: .5\ninf: .inf\nninf: -.Inf\nnan: .nan\nsep: 1_000\nbig: 123456789012345678901234567890\nver: 1.2.3")
        #expect(note["i"] == .int(42))
        #expect(note["neg"] == .int(-12))
        #expect(note["pos"] == .int(5))
        #expect(note["hex"] == .int(31))
        #expect(note["oct"] == .int(15))
        #expect(note["zero"] == .int(17))
        #expect(note["f"] == .double(1.5))
        #expect(note["exp"] == .double(1000))
        #expect(note["small"] == .double(-0.0025))
        #expect(note["dot"] == .double(0.5))
        #expect(note["inf"] == .double(.infinity))
        #expect(note["ninf"] == .double(-.infinity))
        #expect(note["nan"]?.number?.isNaN == true)
        #expect(note["sep"] == .string("1_000"))
        #expect(note["big"] == .double(123456789012345678901234567890))
        #expect(note["ver"] == .string("1.2.3"))
    }

    @Test func booleansFollowYAML12() throws {
        let note = try properties("a: true\nb: False\nc: TRUE\nd: yes\ne: off\nf: \"true\"")
        #expect(note["a"] == .bool(true))
        #expect(note["b"] == .bool(false))
        #expect(note["c"] == .bool(true))
        // YAML 1.2 (and Obsidian) read yes/no/on/off as text.
        #expect(note["d"] == .string("yes"))
        #expect(note["e"] == .string("off"))
        #expect(note["f"] == .string("true"))
    }

    @Test func datesAndDatetimes() throws {
        let note = try properties("date: 2024-01-15\nobsidian: 2024-01-15T10:30\nseconds: 2024-01-15T10:30:45\nspaced: 2024-01-15 10:30:00\nzulu: 2024-01-15T10:30:00Z\nzone: 2024-01-15T10:30:00.5+02:00\nbadMonth: 2024-13-01\nquoted: \"2024-01-15\"\nshort: 2024-1-5")
        #expect(note["date"] == .date("2024-01-15"))
        #expect(note["obsidian"] == .datetime("2024-01-15T10:30"))
        #expect(note["seconds"] == .datetime("2024-01-15T10:30:45"))
        #expect(note["spaced"] == .datetime("2024-01-15 10:30:00"))
        #expect(note["zulu"] == .datetime("2024-01-15T10:30:00Z"))
        #expect(note["zone"] == .datetime("2024-01-15T10:30:00.5+02:00"))
        #expect(note["badMonth"] == .string("2024-13-01"))
        #expect(note["quoted"] == .string("2024-01-15"))
        #expect(note["short"] == .string("2024-1-5"))
        #expect(note.text("obsidian") == "2024-01-15T10:30")
    }

    @Test func nullAndEmptyValues() throws {
        let note = try properties("a:\nb: ~\nc: null\nd: NULL\ne: \"\"\nf: []\ng: {}\nh:   # only a comment\nlast:")
        #expect(note["a"] == .null)
        #expect(note["b"] == .null)
        #expect(note["c"] == .null)
        #expect(note["d"] == .null)
        #expect(note["e"] == .string(""))
        #expect(note["f"] == .list([]))
        #expect(note["g"] == .map([]))
        #expect(note["h"] == .null)
        #expect(note["last"] == .null)
        #expect(note.text("a") == nil && note.text("e") == nil)
        #expect(note["missing"] == nil)
    }

    @Test func blockScalars() throws {
        let note = try properties("""
        literal: |
          line one
            indented
          line three
        folded: >
          a
          b

          c
            more
          d
        strip: |-
          x

        keep: >+
          y


        clip: |
          z


        explicit: |2
            four spaces
        leading: >-

          after blank
        spaced: |
          a
        \("     ")
          b
        empty: |
        end: 1
        """)
        #expect(note["literal"] == .string("line one\n  indented\nline three\n"))
        #expect(note["folded"] == .string("a b\nc\n  more\nd\n"))
        #expect(note["strip"] == .string("x"))
        #expect(note["keep"] == .string("y\n\n\n"))
        #expect(note["clip"] == .string("z\n"))
        #expect(note["explicit"] == .string("  four spaces\n"))
        #expect(note["leading"] == .string("\nafter blank"))
        // White space beyond the indentation is content.
        #expect(note["spaced"] == .string("a\n   \nb\n"))
        #expect(note["empty"] == .string(""))
        #expect(note["end"] == .int(1))
    }

    @Test func blockScalarAtTheEndOfTheFrontmatter() throws {
        let note = try Note.parse("---\nnote: |\n  last line\n---\n# Body\n")
        #expect(note["note"] == .string("last line\n"))
        #expect(note.body == "# Body\n")
    }

    @Test func quotedWikilinksAreTextAndBareOnesAreNestedLists() throws {
        let note = try properties("task: \"[[Tasks/Fix login]]\"\nlinks:\n  - \"[[A]]\"\n  - \"[[B|alias]]\"\nbare: [[Tasks/Fix login]]")
        #expect(note.text("task") == "[[Tasks/Fix login]]")
        #expect(note.texts("links") == ["[[A]]", "[[B|alias]]"])
        // Unquoted, YAML reads a list inside a list, as Obsidian does; quote links in properties.
        #expect(note["bare"] == .list([.list([.string("Tasks/Fix login")])]))
    }

    @Test func unicodeKeysAndValues() throws {
        let note = try properties("schlüssel: wert\n日本語: 値です\nemoji: \"🙂 ok\"\n\"quoted key\": 1\n'it''s': 2\nкириллица: [а, б]")
        #expect(note.text("schlüssel") == "wert")
        #expect(note.text("日本語") == "値です")
        #expect(note.text("emoji") == "🙂 ok")
        #expect(note["quoted key"] == .int(1))
        #expect(note["it's"] == .int(2))
        #expect(note.texts("кириллица") == ["а", "б"])
    }

    @Test func crlfNotes() throws {
        let note = try Note.parse("---\r\ntitle: x\r\ntags:\r\n  - a\r\nnote: |\r\n  one\r\n  two\r\n---\r\nbody\r\n")
        #expect(note["title"] == .string("x"))
        #expect(note["tags"] == .list([.string("a")]))
        #expect(note["note"] == .string("one\ntwo\n"))
        #expect(note.body == "body\r\n")
        #expect(note.bodyStartLine == 9)
    }

    @Test func byteOrderMark() throws {
        let note = try Note.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("---\ntitle: x\n---\nbody".utf8))
        #expect(note.hasFrontmatter)
        #expect(note["title"] == .string("x"))
        #expect(note.body == "body")
        let plain = try Note.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("just text".utf8))
        #expect(!plain.hasFrontmatter)
        #expect(plain.body == "just text")
    }

    @Test func notesWithoutFrontmatter() throws {
        for text in ["", "Just a body\n", "---", "--- not a delimiter\n", "text\n---\nkey: v\n---\n", "\n---\na: 1\n---\n", "---\r"] {
            let note = try Note.parse(text)
            #expect(!note.hasFrontmatter, "\(text.debugDescription)")
            #expect(note.properties.isEmpty)
            #expect(note.body == text)
            #expect(note.bodyStartLine == 1)
        }
    }

    @Test func emptyAndCommentOnlyFrontmatter() throws {
        let empty = try Note.parse("---\n---\nbody")
        #expect(empty.hasFrontmatter && empty.properties.isEmpty && empty.body == "body" && empty.bodyStartLine == 3)
        let comments = try Note.parse("---\n# only a comment\n\n---\n")
        #expect(comments.hasFrontmatter && comments.properties.isEmpty && comments.body.isEmpty)
        let trailing = try Note.parse("---  \ntitle: x\n--- \t\nbody")
        #expect(trailing["title"] == .string("x"))
    }

    @Test func jsonFrontmatter() throws {
        let note = try Note.parse("---\n{\n  \"title\": \"JSON\",\n  \"tags\": [\"a\", \"b\"],\n  \"n\": 1.5,\n  \"ok\": true,\n  \"none\": null,\n  \"obj\": {\"k\": 1}\n}\n---\nbody\n")
        #expect(note.isJSONFrontmatter)
        #expect(note.text("title") == "JSON")
        #expect(note.texts("tags") == ["a", "b"])
        #expect(note["n"] == .double(1.5))
        #expect(note["ok"] == .bool(true))
        #expect(note["none"] == .null)
        #expect(note["obj"] == .map([Property("k", .int(1))]))
        #expect(note.body == "body\n")
    }

    @Test func nestedMapsAndListsOfMaps() throws {
        let note = try properties("author:\n  name: Ada\n  links:\n    site: https://a.example\n    tags: [x]\npeople:\n  - name: Bob\n    age: 3\n  - name: Eve\nafter: done")
        #expect(note["author"] == .map([
            Property("name", .string("Ada")),
            Property("links", .map([Property("site", .string("https://a.example")), Property("tags", .list([.string("x")]))])),
        ]))
        #expect(note["people"] == .list([
            .map([Property("name", .string("Bob")), Property("age", .int(3))]),
            .map([Property("name", .string("Eve"))]),
        ]))
        #expect(note.text("after") == "done")
        // A map has no single text.
        #expect(note.text("author") == nil)
    }

    @Test func duplicateKeysKeepAllAndReadTheLast() throws {
        let note = try properties("a: 1\nb: 2\na: 3")
        #expect(note.properties.map(\.key) == ["a", "b", "a"])
        #expect(note["a"] == .int(3))
    }

    @Test func indentedTopLevelMapping() throws {
        let note = try properties("  a: 1\n  b:\n    - x\n  c: y")
        #expect(note["a"] == .int(1))
        #expect(note["b"] == .list([.string("x")]))
        #expect(note["c"] == .string("y"))
    }

    @Test func tagsAndAnchorsBeforeValuesAreSkipped() throws {
        let note = try properties("a: !!str 123\nb: &anchor text\n!!str c: 1")
        #expect(note["a"] == .string("123"))
        #expect(note["b"] == .string("text"))
        #expect(note["c"] == .int(1))
    }

    @Test func bodyStartLineCountsTheFrontmatter() throws {
        let note = try Note.parse("---\na: 1\nb: |\n  x\n---\nfirst body line\n")
        #expect(note.bodyStartLine == 6)
        #expect(note.body == "first body line\n")
    }

    @Test func invalidUTF8IsReplacedNotFatal() throws {
        let note = try Note.parse(bytes: Array("---\ntitle: a".utf8) + [0xFF, 0xC3] + Array("b\n---\nbody ".utf8) + [0x80])
        #expect(note.text("title") == "a\u{FFFD}\u{FFFD}b")
        #expect(note.body == "body \u{FFFD}")
    }

    // MARK: - Errors with line and column

    func error(_ text: String) -> FrontmatterError? {
        do {
            _ = try Note.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func unclosedFrontmatter() {
        let e = error("---\ntitle: x\nbody without a closing line\n")
        #expect(e?.line == 1 && e?.column == 1)
        #expect(e?.message.contains("never closed") == true)
    }

    @Test func unclosedQuotes() {
        let e = error("---\nok: 1\ntitle: \"abc\n---\n")
        #expect(e?.line == 3 && e?.column == 8, "\(String(describing: e))")
        #expect(e?.message.contains("never closed") == true)
        // Over several lines, the error still points at the opening quote.
        let multi = error("---\na: 'x\n  y\n  z\n---\n")
        #expect(multi?.line == 2 && multi?.column == 4, "\(String(describing: multi))")
        let key = error("---\n\"key: 1\n---\n")
        #expect(key?.line == 2 && key?.column == 1, "\(String(describing: key))")
    }

    @Test func badEscapeInDoubleQuotes() {
        let e = error("---\na: \"x\\qy\"\n---\n")
        #expect(e?.line == 2 && e?.column == 6, "\(String(describing: e))")
        let continued = error("---\na: \"x\n   ok \\u12\"\n---\n")
        #expect(continued?.line == 3 && continued?.column == 7, "\(String(describing: continued))")
    }

    @Test func textAfterClosingQuote() {
        let e = error("---\na: \"x\" y\n---\n")
        #expect(e?.line == 2 && e?.column == 8, "\(String(describing: e))")
        let continued = error("---\na: 'x\n   y' z\n---\n")
        #expect(continued?.line == 3 && continued?.column == 7, "\(String(describing: continued))")
    }

    @Test func badIndentation() {
        // A property indented under a plain value must not be merged into it.
        let merged = error("---\na: 1\n  b: 2\n---\n")
        #expect(merged?.line == 3 && merged?.column == 3, "\(String(describing: merged))")
        // Between two indentation levels.
        let between = error("---\na:\n    b: 1\n  c: 2\n---\n")
        #expect(between?.line == 4 && between?.column == 3, "\(String(describing: between))")
        // A list item less indented than its siblings but more than its property.
        let list = error("---\ntags:\n    - a\n  - b\n---\n")
        #expect(list?.line == 4 && list?.column == 3, "\(String(describing: list))")
        // A list after a key on the same line.
        let sameLine = error("---\ntags: - a\n---\n")
        #expect(sameLine?.line == 2 && sameLine?.column == 7, "\(String(describing: sameLine))")
    }

    @Test func tabIndentation() {
        let e = error("---\na:\n\tb: 1\n---\n")
        #expect(e?.line == 3 && e?.column == 1, "\(String(describing: e))")
        #expect(e?.message.contains("tab") == true)
    }

    @Test func unclosedFlowList() {
        let e = error("---\ntags: [a, b\n---\n")
        #expect(e?.line == 2 && e?.column == 7, "\(String(describing: e))")
        #expect(e?.message.contains("never closed") == true)
        let multi = error("---\nfirst: 1\ntags: [a,\n  b\nnext: 2\n---\n")
        #expect(multi?.line == 3 && multi?.column == 7, "\(String(describing: multi))")
        let map = error("---\nm: {a: 1\n---\n")
        #expect(map?.line == 2 && map?.column == 4, "\(String(describing: map))")
    }

    @Test func errorOnAContinuationLineOfAFlowList() {
        let e = error("---\na: [x,\n   y z, ]]\n---\n")
        #expect(e?.line == 3 && e?.column == 10, "\(String(describing: e))")
    }

    @Test func columnsCountCharactersNotBytes() {
        let e = error("---\nschlüssel: \"abc\n---\n")
        #expect(e?.line == 2 && e?.column == 12, "\(String(describing: e))")
        let emoji = error("---\n🙂: [a\n---\n")
        #expect(emoji?.line == 2 && emoji?.column == 4, "\(String(describing: emoji))")
    }

    @Test func crlfAndBOMErrorsCountLinesTheSame() {
        let e = error("\u{FEFF}---\r\nok: 1\r\nbad: 'x\r\n---\r\n")
        #expect(e?.line == 3 && e?.column == 6, "\(String(describing: e))")
    }

    @Test func otherMalformedFrontmatter() {
        let cases: [(String, Int, Int)] = [
            ("---\n- a\n- b\n---\n", 2, 1),           // a list, not properties
            ("---\njust text\n---\n", 2, 1),          // no key
            ("---\na: 1\n b: 2\n---\n", 3, 2),        // indented property under a plain value
            ("---\na: *ref\n---\n", 2, 4),            // aliases unsupported
            ("---\n[x]: 1\n---\n", 2, 1),             // YAML indicator at the start of a key
            ("---\na: [1,, 2]\n---\n", 2, 7),         // empty flow item
            ("---\n{\"a\": 1,}\n---\n", 2, 9),        // invalid JSON
            ("---\n{\"a\": \"x\ny\"}\n---\n", 2, 9),  // raw line break in a JSON string
            ("---\na: |x\n  t\n---\n", 2, 5),         // bad block scalar header
        ]
        for (text, line, column) in cases {
            let e = error(text)
            #expect(e != nil, "\(text.debugDescription) parsed")
            #expect(e?.line == line && e?.column == column, "\(text.debugDescription): \(String(describing: e))")
            #expect(e.map { !$0.message.isEmpty && !$0.message.contains("\n") } == true)
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let flow = "---\na: " + String(repeating: "[", count: 100_000) + "\n---\n"
        #expect(error(flow) != nil)
        let items = "---\na:\n" + String(repeating: "- ", count: 5_000) + "x\n---\n"
        #expect(error(items) != nil)
        var nested = "---\n"
        for depth in 0..<3_000 { nested += String(repeating: " ", count: depth) + "k:\n" }
        nested += "---\n"
        #expect(error(nested) != nil)
        let json = "---\n{\"a\": " + String(repeating: "[", count: 100_000) + "\n---\n"
        #expect(error(json) != nil)
    }

    @Test func parseInputTypesCommandLineValues() throws {
        #expect(try PropertyValue.parseInput("true") == .bool(true))
        #expect(try PropertyValue.parseInput("3") == .int(3))
        #expect(try PropertyValue.parseInput("2026-01-02") == .date("2026-01-02"))
        #expect(try PropertyValue.parseInput("[a, b]") == .list([.string("a"), .string("b")]))
        #expect(try PropertyValue.parseInput("\"quoted text\"") == .string("quoted text"))
        #expect(try PropertyValue.parseInput("plain words") == .string("plain words"))
        #expect(try PropertyValue.parseInput("") == .null)
        #expect(throws: FrontmatterError.self) { try PropertyValue.parseInput("[a, b") }
    }
}

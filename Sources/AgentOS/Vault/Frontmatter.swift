/// Malformed frontmatter: what is wrong and where (1-based line and column in the whole file).
public struct FrontmatterError: Error, CustomStringConvertible, Equatable, Sendable {
    /// 1-based line in the file (the opening `---` is line 1).
    public let line: Int
    /// 1-based column in characters (Unicode scalars), as editors count them.
    public let column: Int
    /// What is wrong and how to fix it, in one line.
    public let message: String

    /// An error at `line`, `column`.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `frontmatter line L, column C: message`.
    public var description: String { "frontmatter line \(line), column \(column): \(message)" }
}

/// The raw layout of a note: where its frontmatter block sits, byte for byte, so that edits can
/// touch only the lines they change.
struct NoteLayout {
    /// The note's bytes.
    let bytes: [UInt8]
    /// Bytes of a UTF-8 byte-order mark at the start (0 or 3).
    let bomLength: Int
    /// Line terminator the note uses (`\r\n` if its first line ends so, else `\n`).
    let newline: [UInt8]
    /// Byte range of the opening `---` line including its terminator, if the note has frontmatter.
    let opening: Range<Int>?
    /// Byte ranges of each line between the delimiters (without terminators), and where each line ends
    /// including its terminator.
    let innerLines: [(content: Range<Int>, full: Range<Int>)]
    /// Byte range of the closing `---` line including its terminator.
    let closing: Range<Int>?
    /// Where the body starts.
    let bodyStart: Int
    /// 1-based line number of the body's first line.
    let bodyStartLine: Int

    var hasFrontmatter: Bool { opening != nil }

    /// Whether the line in `range` is `---` followed only by spaces or tabs.
    static func isDelimiter(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        // `---` followed only by spaces or tabs.
        guard range.count >= 3, bytes[range.lowerBound] == 0x2D, bytes[range.lowerBound + 1] == 0x2D, bytes[range.lowerBound + 2] == 0x2D else {
            return false
        }
        var i = range.lowerBound + 3
        while i < range.upperBound {
            if bytes[i] != 0x20 && bytes[i] != 0x09 { return false }
            i += 1
        }
        return true
    }

    /// Splits the note into frontmatter lines and body.
    static func scan(_ bytes: [UInt8]) throws(FrontmatterError) -> NoteLayout {
        var bom = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { bom = 3 }

        // Line 1.
        func lineEnd(from start: Int) -> (content: Int, full: Int) {
            var i = start
            while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            // Only a CR right before the LF is part of the terminator; a CR at the end of the file stays
            // in the line (so `---\r` alone is not an opening delimiter, as for YAML tools).
            guard i < bytes.count else { return (i, i) }
            let content = i > start && bytes[i - 1] == 0x0D ? i - 1 : i
            return (content, i + 1)
        }
        // `---` ended by a lone CR (old Mac line endings): YAML and CommonMark read a lone CR as a
        // line break, this reader does not, and the properties would be read as body text — a
        // `status: draft` run, a `privacy: private` note sent to a cloud agent (round 46). Refused as
        // frontmatter that does not parse, so the note is judged private and a task is not run.
        var dashes = bom
        while dashes < bytes.count, dashes - bom < 3, bytes[dashes] == UInt8(ascii: "-") { dashes += 1 }
        if dashes - bom == 3 {
            var after = dashes
            while after < bytes.count, bytes[after] == 0x20 || bytes[after] == 0x09 { after += 1 }
            if after + 1 < bytes.count, bytes[after] == 0x0D, bytes[after + 1] != 0x0A {
                throw FrontmatterError(line: 1, column: after - bom + 1, message: "the frontmatter's lines end in a lone carriage return (CR, old Mac line endings), which are not read as line breaks; save the note with LF or CRLF line endings")
            }
        }
        let first = lineEnd(from: bom)
        var newline: [UInt8] = [0x0A]
        if first.full > first.content + 1 { newline = [0x0D, 0x0A] }

        guard isDelimiter(bytes, bom..<first.content) else {
            return NoteLayout(bytes: bytes, bomLength: bom, newline: newline, opening: nil, innerLines: [], closing: nil, bodyStart: bom, bodyStartLine: 1)
        }
        if first.full == first.content {
            // `---` alone with nothing after it: a horizontal rule, not frontmatter.
            return NoteLayout(bytes: bytes, bomLength: bom, newline: newline, opening: nil, innerLines: [], closing: nil, bodyStart: bom, bodyStartLine: 1)
        }
        var inner: [(Range<Int>, Range<Int>)] = []
        var start = first.full
        var lineNumber = 2
        while start < bytes.count {
            let end = lineEnd(from: start)
            if isDelimiter(bytes, start..<end.content) {
                return NoteLayout(bytes: bytes, bomLength: bom, newline: newline, opening: bom..<first.full, innerLines: inner, closing: start..<end.full, bodyStart: end.full, bodyStartLine: lineNumber + 1)
            }
            // A lone CR inside a property line is a line break to YAML (and to editors), not to this
            // reader: `summary: weekly\rprivacy: private` was one value, and the note went to
            // claude (round 47). Refused, as after the opening `---`.
            if let cr = bytes[start..<end.content].firstIndex(of: 0x0D) {
                throw FrontmatterError(line: lineNumber, column: cr - start + 1, message: "a carriage return (CR) alone inside this frontmatter line ends a line for YAML but not here; save the note with LF or CRLF line endings")
            }
            inner.append((start..<end.content, start..<end.full))
            start = end.full
            lineNumber += 1
        }
        throw FrontmatterError(line: 1, column: 1, message: "the '---' that opens the frontmatter is never closed; add a '---' line after the properties")
    }
}

/// Parses the YAML subset that Obsidian's Properties and hand-written notes use.
///
/// Supports block and flow sequences and maps, plain / single- / double-quoted scalars (also over
/// several lines), block scalars (`|`, `>`, with chomping and indentation indicators), comments,
/// and the core schema's null, booleans, integers, floats, plus dates and datetimes.
struct YAMLParser {
    /// Line contents (no terminators); may be rewritten for inline collections in sequence items.
    var lines: [String]
    /// The 1-based file line number of `lines[0]`.
    let firstLineNumber: Int
    var index = 0
    /// How many block maps and lists enclose the current line.
    var depth = 0
    /// Deeper nesting is refused rather than risking the stack on hostile input.
    static let maximumDepth = 64

    /// A parser over `lines`, the first of which is file line `firstLineNumber`.
    init(lines: [String], firstLineNumber: Int) {
        self.lines = lines
        self.firstLineNumber = firstLineNumber
    }

    /// An error at a 1-based UTF-8 byte `column` of line `line` (default: the current line); the error
    /// reports the column in characters (Unicode scalars), as editors and YAML tools count them.
    func fail(_ message: String, line: Int? = nil, column: Int = 1) -> FrontmatterError {
        let lineIndex = line ?? index
        let text = lineIndex >= 0 && lineIndex < lines.count ? lines[lineIndex] : ""
        return FrontmatterError(line: firstLineNumber + lineIndex, column: YAMLParser.characterColumn(column, in: text), message: message)
    }

    /// An error at a 1-based character `column` of line `line`.
    func fail(_ message: String, line: Int, characterColumn: Int) -> FrontmatterError {
        FrontmatterError(line: firstLineNumber + line, column: max(1, characterColumn), message: message)
    }

    /// Converts a 1-based UTF-8 byte column into a 1-based character column.
    static func characterColumn(_ byteColumn: Int, in line: String) -> Int {
        guard byteColumn > 1 else { return 1 }
        var characters = 0
        var bytes = 0
        for b in line.utf8 {
            if bytes >= byteColumn - 1 { return characters + 1 }
            if b & 0xC0 != 0x80 { characters += 1 }
            bytes += 1
        }
        // Past the end of the line (e.g. a missing value at the end): count on in bytes.
        return characters + (byteColumn - 1 - bytes) + 1
    }

    /// Leading spaces of a line, or `nil` for a blank or comment-only line.
    static func indentation(_ line: String) -> Int? {
        var count = 0
        for c in line.utf8 {
            if c == 0x20 { count += 1; continue }
            if c == 0x23 { return nil } // '#': comment line
            if c == 0x09 || c == 0x0D { // tab or stray CR: blank if the rest is blank
                if line.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
                return count
            }
            return count
        }
        return nil
    }

    /// Moves past blank and comment-only lines.
    mutating func skipBlank() {
        while index < lines.count, YAMLParser.indentation(lines[index]) == nil { index += 1 }
    }

    /// The top-level mapping: each entry with the range of lines it spans.
    mutating func parseDocument() throws(FrontmatterError) -> [(Property, ClosedRange<Int>)] {
        skipBlank()
        guard index < lines.count else { return [] }
        // YAML lets the whole mapping be indented; the editor then indents new properties alike.
        guard let indent = YAMLParser.indentation(lines[index]) else { return [] }
        let trimmed = lines[index].drop { $0 == " " }
        if trimmed.hasPrefix("- ") || trimmed == "-" {
            throw fail("the frontmatter is a list, not properties; write 'key: value' lines")
        }
        let entries = try parseMapping(indent: indent, recordRanges: true)
        skipBlank()
        if index < lines.count {
            throw fail("unexpected indentation", column: (YAMLParser.indentation(lines[index]) ?? 0) + 1)
        }
        return entries
    }

    /// Parses `key: value` lines at exactly `indent`.
    mutating func parseMapping(indent: Int, recordRanges: Bool = false) throws(FrontmatterError) -> [(Property, ClosedRange<Int>)] {
        depth += 1
        defer { depth -= 1 }
        if depth > YAMLParser.maximumDepth { throw fail("properties are nested too deeply", column: indent + 1) }
        var entries: [(Property, ClosedRange<Int>)] = []
        while true {
            skipBlank()
            guard index < lines.count else { break }
            let lineIndent = YAMLParser.indentation(lines[index])!
            if lineIndent < indent { break }
            if lineIndent > indent { throw fail("unexpected indentation", column: lineIndent + 1) }
            let start = index
            let line = lines[index]
            let content = String(line.utf8.dropFirst(indent))!
            if content.hasPrefix("\t") { throw fail("tabs cannot indent YAML; use spaces", column: indent + 1) }
            if content.hasPrefix("- ") || content == "-" {
                if recordRanges { throw fail("a list item needs a property above it ('key:' on the line before)", column: indent + 1) }
                break
            }
            guard let (key, rest) = try YAMLParser.splitKey(content, lineIndex: index, column: indent, parser: self) else {
                throw fail("expected 'key: value' but found '\(content.prefix(40))'", column: indent + 1)
            }
            let value = try parseValue(after: rest, parentIndent: indent, column: indent + (content.utf8.count - rest.utf8.count))
            var end = index - 1
            while end > start, YAMLParser.indentation(lines[end]) == nil { end -= 1 }
            entries.append((Property(key, value), start...max(start, end)))
        }
        return entries
    }

    /// Splits `key: rest` (the key may be quoted). Returns `nil` when the line has no key.
    static func splitKey(_ content: String, lineIndex: Int, column: Int, parser: YAMLParser) throws(FrontmatterError) -> (String, Substring)? {
        // Scanned in place, scalar by scalar: every line of every note's frontmatter comes here, and
        // copying each into an array of scalars (then building the key and the rest from them) was a
        // third of the parser's time.
        let chars = content.unicodeScalars
        var key: String
        if let q = chars.first, q == "\"" || q == "'" {
            var sub = Substring(content)
            do throws(QuoteFailure) {
                key = try YAMLParser.parseQuoted(&sub, quote: q, continuation: []).0
            } catch {
                let keyColumn = YAMLParser.characterColumn(column + 1, in: parser.lines[lineIndex])
                if error.isUnterminated {
                    throw parser.fail("a quoted key is never closed; add the closing \(q)", line: lineIndex, characterColumn: keyColumn)
                }
                throw parser.fail(error.message, line: lineIndex, characterColumn: keyColumn + error.offset)
            }
            let rest = sub.drop { $0 == " " }
            guard rest.first == ":" else { return nil }
            let after = rest.dropFirst()
            if let f = after.first, f != " " && f != "\t" { return nil }
            return (key, after)
        }
        // YAML reserves these at the start of a plain scalar; as keys they are almost always a typo or
        // body text that slipped into the frontmatter, so say so instead of inventing a property.
        if let f = chars.first, "[]{},|>*@`%".unicodeScalars.contains(f) {
            guard chars.contains(":") else { return nil }
            throw parser.fail("a property name cannot start with '\(f)'; put the name in quotes", line: lineIndex, column: column + 1)
        }
        // Plain key: ends at the first ':' followed by a space, a tab or the end of the line.
        var i = chars.startIndex
        while i < chars.endIndex {
            let next = chars.index(after: i)
            if chars[i] == ":" && (next == chars.endIndex || chars[next] == " " || chars[next] == "\t") {
                // A byte-order mark is invisible: one pasted before a key is not part of its name.
                var start = chars.startIndex
                while start < i && chars[start] == "\u{FEFF}" { start = chars.index(after: start) }
                key = String(chars[start..<i])
                while key.hasSuffix(" ") || key.hasSuffix("\t") { key.removeLast() }
                // A tag or an anchor before a key (`!!str key:`, `&a key:`) is not part of its name.
                while let f = key.first, f == "!" || f == "&", let gap = key.firstIndex(where: { $0 == " " || $0 == "\t" }) {
                    key = String(key[gap...].drop { $0 == " " || $0 == "\t" })
                }
                if let f = key.first, f == "!" || f == "&" {
                    throw parser.fail("a property name cannot start with '\(f)'; put the name in quotes", line: lineIndex, column: column + 1)
                }
                if key.isEmpty { return nil }
                if key.hasPrefix("#") { return nil }
                if key == "?" { throw parser.fail("complex keys ('? ') are not supported", line: lineIndex, column: column + 1) }
                // The rest of the line after the ':' (a character boundary: a space, a tab or the end follows).
                return (key, Substring(chars[next...]))
            }
            if chars[i] == " " && next < chars.endIndex && chars[next] == "#" { return nil }
            i = next
        }
        return nil
    }

    /// Parses the value after `key:` or `- ` (the rest of the line, then any more-indented lines).
    mutating func parseValue(after rest: Substring, parentIndent: Int, column: Int, inSequence: Bool = false) throws(FrontmatterError) -> PropertyValue {
        let lineIndex = index
        let trimmed = rest.drop { $0 == " " || $0 == "\t" }
        let valueColumn = column + (rest.utf8.count - trimmed.utf8.count) + 1
        index += 1

        // Anchors and tags we do not interpret: skip `&anchor` and `!tag` prefixes like YAML does.
        var text = Substring(trimmed)
        var explicitString = false
        while let f = text.first, f == "&" || f == "!" {
            let token = text.prefix { $0 != " " }
            if token == "!!str" { explicitString = true }
            text = text.dropFirst(token.count).drop { $0 == " " }
        }
        if text.first == "*" { throw fail("aliases ('*name') are not supported in properties", line: lineIndex, column: valueColumn) }
        if text.hasPrefix("- ") || text.hasPrefix("-\t") {
            throw fail("a list cannot start on the line of its property; put each '- item' on its own line below", line: lineIndex, column: valueColumn)
        }
        if text.hasPrefix("? ") || text == "?" { throw fail("complex keys ('? ') are not supported", line: lineIndex, column: valueColumn) }

        if text.isEmpty || text.first == "#" {
            // The value is on the following lines: a nested block, a block list, or nothing (null).
            skipBlank()
            guard index < lines.count else { return explicitString ? .string("") : .null }
            let nextIndent = YAMLParser.indentation(lines[index])!
            let nextContent = lines[index].utf8.dropFirst(nextIndent)
            let startsItem = nextContent.starts(with: "- ".utf8) || nextContent.elementsEqual("-".utf8)
            if nextIndent > parentIndent {
                if startsItem { return .list(try parseSequence(indent: nextIndent)) }
                let nextLine = String(nextContent)!
                if (try? YAMLParser.splitKey(nextLine, lineIndex: index, column: nextIndent, parser: self)) != nil,
                   nextLine.first != "\"" || nextLine.contains("\": ") || nextLine.hasSuffix("\":") {
                    return .map(try parseMapping(indent: nextIndent).map(\.0))
                }
                // A plain scalar that starts on the next line.
                let startIndex = index
                let restLine = Substring(nextLine)
                index = startIndex
                return try parseInlineValue(restLine, lineIndex: startIndex, parentIndent: parentIndent, column: nextIndent, explicitString: explicitString, consumeFirstLine: true)
            }
            if nextIndent == parentIndent && startsItem && !inSequence {
                return .list(try parseSequence(indent: nextIndent))
            }
            return explicitString ? .string("") : .null
        }

        index = lineIndex
        return try parseInlineValue(text, lineIndex: lineIndex, parentIndent: parentIndent, column: valueColumn - 1, explicitString: explicitString, consumeFirstLine: true)
    }

    /// Parses a value that starts on line `lineIndex` with `text`, consuming continuation lines.
    mutating func parseInlineValue(_ text: Substring, lineIndex: Int, parentIndent: Int, column: Int, explicitString: Bool, consumeFirstLine: Bool) throws(FrontmatterError) -> PropertyValue {
        index = lineIndex + 1
        guard let first = text.first else { return .null }
        switch first {
        case "|", ">":
            return .string(try parseBlockScalar(header: text, parentIndent: parentIndent, lineIndex: lineIndex, column: column))
        case "\"", "'":
            var sub = text
            let continuation = collectContinuation(parentIndent: parentIndent)
            let value: String
            let usedLines: Int
            do throws(QuoteFailure) {
                (value, usedLines) = try YAMLParser.parseQuoted(&sub, quote: first == "'" ? "'" : "\"", continuation: continuation)
            } catch {
                if error.isUnterminated {
                    throw fail("a quoted value is never closed; add the closing \(first)", line: lineIndex, column: column + 1)
                }
                if error.line == 0 {
                    throw fail(error.message, line: lineIndex, characterColumn: YAMLParser.characterColumn(column + 1, in: lines[lineIndex]) + error.offset)
                }
                throw fail(error.message, line: lineIndex + error.line, characterColumn: error.offset + 1)
            }
            index = lineIndex + 1 + usedLines
            let after = sub.drop { $0 == " " || $0 == "\t" }
            if !after.isEmpty && after.first != "#" {
                let line = lines[index - 1].unicodeScalars
                let trimmedEnd = usedLines > 0 ? line.reversed().prefix { $0 == " " || $0 == "\t" || $0 == "\r" }.count : 0
                throw fail("unexpected text after the closing quote", line: index - 1, characterColumn: line.count - trimmedEnd - after.unicodeScalars.count + 1)
            }
            return .string(value)
        case "[", "{":
            // A flow collection may continue over the following lines: when the parser runs out of
            // text before the closing bracket, the next line is joined (with a space, as YAML folds
            // it) and parsing starts again. `pieces` maps offsets in the joined text back to lines.
            var joined = Array(text.unicodeScalars)
            var pieces = [(line: lineIndex, start: 0, column: YAMLParser.characterColumn(column + 1, in: lines[lineIndex]))]
            while true {
                var flow = FlowParser(joined)
                do throws(FlowParser.Failure) {
                    let value = try flow.parseValue()
                    flow.skipSpaces()
                    if flow.position < flow.scalars.count && flow.scalars[flow.position] != "#" {
                        throw FlowParser.Failure(offset: flow.position, message: "unexpected text after the closing bracket")
                    }
                    return value
                } catch {
                    if error.reachedEnd, index < lines.count {
                        let line = lines[index]
                        let leading = line.unicodeScalars.prefix { $0 == " " || $0 == "\t" || $0 == "\r" }.count
                        // An escaped line break in a double-quoted value joins the lines with
                        // nothing between (`["pri\` and `vate"]` is `private`, as YAML reads it).
                        let backslashes = joined.reversed().prefix { $0 == "\\" }.count
                        if error.inDoubleQuote, backslashes % 2 == 1 {
                            joined.removeLast()
                        } else {
                            joined.append(" ")
                        }
                        pieces.append((index, joined.count, leading + 1))
                        joined += line.trimmingSpaces.unicodeScalars
                        index += 1
                        continue
                    }
                    let piece = pieces.last { $0.start <= error.offset } ?? pieces[0]
                    throw fail(error.message, line: piece.line, characterColumn: piece.column + error.offset - piece.start)
                }
            }
        default:
            // Plain scalar, possibly folded over more-indented continuation lines.
            var value = YAMLParser.stripComment(text)
            while index < lines.count {
                let line = lines[index]
                guard let ind = YAMLParser.indentation(line) else {
                    // Blank lines inside a multi-line plain scalar become newlines; a comment ends it.
                    var next = index
                    while next < lines.count, lines[next].trimmingSpaces.isEmpty { next += 1 }
                    if next > index, next < lines.count, let nextIndent = YAMLParser.indentation(lines[next]), nextIndent > parentIndent {
                        value += String(repeating: "\n", count: next - index)
                        index = next
                        continue
                    }
                    break
                }
                if ind <= parentIndent { break }
                let piece = YAMLParser.stripComment(Substring(line.trimmingSpaces))
                if YAMLParser.looksLikeKey(piece) {
                    // YAML forbids `key: value` inside a plain scalar; this is almost always a property
                    // indented by mistake, which must not silently become part of the value above.
                    throw fail("unexpected indentation: this property is indented under the one above; line it up with the others", line: index, column: ind + 1)
                }
                if value.hasSuffix("\n") { value += piece } else { value += " " + piece }
                index += 1
            }
            if explicitString { return .string(value) }
            return YAMLParser.resolvePlain(value)
        }
    }

    /// Whether a plain continuation line holds a mapping indicator (`: ` or a final `:`).
    static func looksLikeKey(_ piece: String) -> Bool {
        let u = piece.utf8
        if u.last == 0x3A { return true }
        var previousWasColon = false
        for b in u {
            if previousWasColon && (b == 0x20 || b == 0x09) { return true }
            previousWasColon = b == 0x3A
        }
        return false
    }

    /// Lines after the current one that are more indented than `parentIndent` (for multi-line quoted scalars).
    func collectContinuation(parentIndent: Int) -> [String] {
        var result: [String] = []
        var i = index
        while i < lines.count {
            let line = lines[i]
            if let ind = YAMLParser.indentation(line) {
                if ind <= parentIndent { break }
            } else if !line.trimmingSpaces.isEmpty && !line.trimmingSpaces.hasPrefix("#") {
                break
            }
            result.append(line)
            i += 1
        }
        return result
    }

    /// Block sequence items (`- value`) at exactly `indent`.
    mutating func parseSequence(indent: Int) throws(FrontmatterError) -> [PropertyValue] {
        depth += 1
        defer { depth -= 1 }
        if depth > YAMLParser.maximumDepth { throw fail("lists are nested too deeply", column: indent + 1) }
        var items: [PropertyValue] = []
        while true {
            skipBlank()
            guard index < lines.count else { break }
            let lineIndent = YAMLParser.indentation(lines[index])!
            if lineIndent != indent { if lineIndent > indent { throw fail("unexpected indentation", column: lineIndent + 1) }; break }
            let content = lines[index].utf8.dropFirst(indent)
            guard content.starts(with: "- ".utf8) || content.elementsEqual("-".utf8) || content.starts(with: "-\t".utf8) else { break }
            let afterDash = String(content.dropFirst(1))!
            let itemText = afterDash.drop { $0 == " " || $0 == "\t" }
            let itemColumn = indent + 1 + (afterDash.utf8.count - itemText.utf8.count)
            if itemText.hasPrefix("- ") || itemText == "-" {
                // A nested sequence on the same line: re-read this line as a sequence at the item's column.
                lines[index] = String(repeating: " ", count: itemColumn) + itemText
                items.append(.list(try parseSequence(indent: itemColumn)))
                continue
            }
            if !itemText.isEmpty, itemText.first != "\"", itemText.first != "'", itemText.first != "[", itemText.first != "{",
               (try? YAMLParser.splitKey(String(itemText), lineIndex: index, column: itemColumn, parser: self)) != nil {
                // A map inside a list item.
                lines[index] = String(repeating: " ", count: itemColumn) + itemText
                items.append(.map(try parseMapping(indent: itemColumn).map(\.0)))
                continue
            }
            items.append(try parseValue(after: Substring(afterDash), parentIndent: indent, column: indent + 1, inSequence: true))
        }
        return items
    }

    /// A literal (`|`) or folded (`>`) block scalar.
    mutating func parseBlockScalar(header: Substring, parentIndent: Int, lineIndex: Int, column: Int) throws(FrontmatterError) -> String {
        let folded = header.first == ">"
        var chomp: Character = " "
        var explicitIndent: Int?
        for c in YAMLParser.stripComment(header.dropFirst()) {
            if c == "-" || c == "+" { chomp = c }
            else if let d = c.wholeNumberValue, d > 0 { explicitIndent = d }
            else if c != " " { throw fail("unexpected '\(c)' after the block scalar indicator", line: lineIndex, column: column + 2) }
        }
        var contentIndent = explicitIndent.map { parentIndent + $0 }
        var collected: [String] = []
        while index < lines.count {
            let line = lines[index]
            let leading = line.utf8.prefix { $0 == 0x20 }.count
            let isBlank = line.utf8.allSatisfy { $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }
            if isBlank {
                // White space beyond the content indentation is content (YAML's "spaced text").
                if let contentIndent, leading >= contentIndent, line.utf8.count > contentIndent, !line.utf8.contains(0x0D) {
                    collected.append(String(decoding: line.utf8.dropFirst(contentIndent), as: UTF8.self))
                } else {
                    collected.append("")
                }
                index += 1
                continue
            }
            if contentIndent == nil {
                if leading <= parentIndent { break }
                contentIndent = leading
            }
            guard let contentIndent, leading >= contentIndent else { break }
            collected.append(String(decoding: line.utf8.dropFirst(contentIndent), as: UTF8.self))
            index += 1
        }
        // Trailing blank lines belong to chomping; the lines after them to whatever follows.
        var trailingBlank = 0
        while let last = collected.last, last.isEmpty { collected.removeLast(); trailingBlank += 1 }
        var text = ""
        if folded {
            // Folding: a single line break between two normal lines becomes a space; empty lines
            // stay line breaks; breaks around more-indented lines (starting with white space) are kept.
            var emptyLines = 0
            var previousWasMoreIndented: Bool?
            for line in collected {
                if line.isEmpty { emptyLines += 1; continue }
                let moreIndented = line.hasPrefix(" ") || line.hasPrefix("\t")
                if let previous = previousWasMoreIndented {
                    if !previous && !moreIndented {
                        text += emptyLines == 0 ? " " : String(repeating: "\n", count: emptyLines)
                    } else {
                        text += String(repeating: "\n", count: emptyLines + 1)
                    }
                } else {
                    text += String(repeating: "\n", count: emptyLines)
                }
                text += line
                emptyLines = 0
                previousWasMoreIndented = moreIndented
            }
        } else {
            text = collected.joined(separator: "\n")
        }
        if collected.isEmpty { return chomp == "+" ? String(repeating: "\n", count: trailingBlank) : "" }
        switch chomp {
        case "-": return text
        case "+": return text + "\n" + String(repeating: "\n", count: trailingBlank)
        default: return text + "\n"
        }
    }

    /// Removes a trailing ` # comment` from a plain scalar and trims spaces.
    static func stripComment(_ text: Substring) -> String {
        // By scalars, not Foundation's `range(of:)` (which bridges to NSString for every scalar
        // value of every note); " #" first, then "\t#" in what is left, as before.
        var result = text
        for blank in [" ", "\t"] as [Unicode.Scalar] {
            var previous: Unicode.Scalar?
            for index in result.unicodeScalars.indices {
                let scalar = result.unicodeScalars[index]
                if scalar == "#", previous == blank {
                    result = result[..<result.unicodeScalars.index(before: index)]
                    break
                }
                previous = scalar
            }
        }
        return String(result).trimmingSpaces
    }

    /// Why a quoted scalar could not be read, and where.
    struct QuoteFailure: Error {
        /// 0 for the line the quote opens on, k for `continuation[k - 1]`.
        let line: Int
        /// 0-based character offset: from the opening quote on line 0, from the line start otherwise.
        let offset: Int
        let message: String
        /// The closing quote is missing (the position is then the opening quote's).
        let isUnterminated: Bool
    }

    /// Parses a quoted scalar at the start of `text`; may continue on `continuation` lines.
    /// Returns the value and how many continuation lines were used; leaves `text` after the closing quote.
    static func parseQuoted(_ text: inout Substring, quote: Unicode.Scalar, continuation: [String]) throws(QuoteFailure) -> (String, Int) {
        var scalars = String.UnicodeScalarView()
        var source = Array(text.unicodeScalars)
        var lineUsed = 0
        // Where `source` starts within its line, in characters (1 skips the opening quote on line 0).
        var base = 0
        var i = 1
        while true {
            var escapedBreak = false
            while i < source.count {
                let c = source[i]
                if quote == "'" {
                    if c == "'" {
                        if i + 1 < source.count && source[i + 1] == "'" { scalars.append("'"); i += 2; continue }
                        text = Substring(String(String.UnicodeScalarView(source[(i + 1)...])))
                        return (String(scalars), lineUsed)
                    }
                    scalars.append(c)
                    i += 1
                } else {
                    if c == "\"" {
                        text = Substring(String(String.UnicodeScalarView(source[(i + 1)...])))
                        return (String(scalars), lineUsed)
                    }
                    if c == "\\" {
                        guard i + 1 < source.count else {
                            // An escaped line break: join with the next line without a space.
                            escapedBreak = true
                            i += 1
                            break
                        }
                        let e = source[i + 1]
                        let escapeStart = i
                        i += 2
                        switch e {
                        case "n": scalars.append("\n")
                        case "t", "\t": scalars.append("\t")
                        case "r": scalars.append("\r")
                        case "0": scalars.append("\0")
                        case "a": scalars.append("\u{07}")
                        case "b": scalars.append("\u{08}")
                        case "e": scalars.append("\u{1B}")
                        case "f": scalars.append("\u{0C}")
                        case "v": scalars.append("\u{0B}")
                        case " ": scalars.append(" ")
                        case "/": scalars.append("/")
                        case "\\": scalars.append("\\")
                        case "\"": scalars.append("\"")
                        case "N": scalars.append("\u{85}")
                        case "_": scalars.append("\u{A0}")
                        case "L": scalars.append("\u{2028}")
                        case "P": scalars.append("\u{2029}")
                        case "x", "u", "U":
                            let length = e == "x" ? 2 : (e == "u" ? 4 : 8)
                            guard i + length <= source.count,
                                  let code = UInt32(String(String.UnicodeScalarView(source[i..<i + length])), radix: 16),
                                  let scalar = Unicode.Scalar(code) else {
                                throw QuoteFailure(line: lineUsed, offset: base + escapeStart, message: "'\\\(e)' needs \(length) hex digits of a valid character", isUnterminated: false)
                            }
                            scalars.append(scalar)
                            i += length
                        default:
                            throw QuoteFailure(line: lineUsed, offset: base + escapeStart, message: "unknown escape '\\\(e)' in a double-quoted value; write '\\\\' for a backslash", isUnterminated: false)
                        }
                        continue
                    }
                    scalars.append(c)
                    i += 1
                }
            }
            // End of line inside the quotes: fold with the next line.
            guard lineUsed < continuation.count else {
                throw QuoteFailure(line: 0, offset: 0, message: "never closed", isUnterminated: true)
            }
            if !escapedBreak {
                while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
            }
            var emptyLines = 0
            var line = continuation[lineUsed]
            var next = line.trimmingSpaces
            lineUsed += 1
            while next.isEmpty, lineUsed < continuation.count {
                emptyLines += 1
                line = continuation[lineUsed]
                next = line.trimmingSpaces
                lineUsed += 1
            }
            if emptyLines > 0 {
                scalars.append(contentsOf: String(repeating: "\n", count: emptyLines).unicodeScalars)
            } else if !escapedBreak {
                scalars.append(" ")
            }
            base = line.unicodeScalars.prefix { $0 == " " || $0 == "\t" || $0 == "\r" }.count
            source = Array(next.unicodeScalars)
            i = 0
        }
    }

    /// Resolves a plain scalar to null, a boolean, a number, a date, a datetime or text (YAML 1.2 core schema,
    /// plus dates and datetimes as Obsidian writes them).
    static func resolvePlain(_ text: String) -> PropertyValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        let u = Array(text.utf8)
        guard let f = u.first, (f >= 0x30 && f <= 0x39) || f == 0x2D || f == 0x2B || f == 0x2E else { return .string(text) }
        if isInteger(u) {
            if let i = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text) { return .int(i) }
            if let d = Double(text) { return .double(d) }
        }
        if u.count > 2, u[0] == 0x30, u[1] == 0x78 || u[1] == 0x6F, let i = Int(text.dropFirst(2), radix: u[1] == 0x78 ? 16 : 8) {
            return .int(i)
        }
        if isFloat(u), let d = Double(text) { return .double(d) }
        if let kind = dateKind(u) { return kind == .date ? .date(text) : .datetime(text) }
        return .string(text)
    }

    /// Whether `c` is an ASCII digit.
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// `[-+]?[0-9]+`.
    static func isInteger(_ u: [UInt8]) -> Bool {
        var i = 0
        if u.first == 0x2D || u.first == 0x2B { i = 1 }
        guard i < u.count else { return false }
        return u[i...].allSatisfy(isDigit)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` with a dot or an exponent.
    static func isFloat(_ u: [UInt8]) -> Bool {
        var i = 0
        if i < u.count, u[i] == 0x2D || u[i] == 0x2B { i += 1 }
        var digits = 0
        while i < u.count, isDigit(u[i]) { i += 1; digits += 1 }
        var sawDot = false
        if i < u.count, u[i] == 0x2E {
            sawDot = true
            i += 1
            while i < u.count, isDigit(u[i]) { i += 1; digits += 1 }
        }
        guard digits > 0 else { return false }
        var sawExponent = false
        if i < u.count, u[i] == 0x65 || u[i] == 0x45 {
            sawExponent = true
            i += 1
            if i < u.count, u[i] == 0x2D || u[i] == 0x2B { i += 1 }
            var expDigits = 0
            while i < u.count, isDigit(u[i]) { i += 1; expDigits += 1 }
            if expDigits == 0 { return false }
        }
        return i == u.count && (sawDot || sawExponent)
    }

    /// What `dateKind` recognised.
    enum DateKind { case date, datetime }

    /// `YYYY-MM-DD`, or that followed by `T` or spaces and `HH:MM[:SS[.f]]` and an optional zone.
    static func dateKind(_ u: [UInt8]) -> DateKind? {
        guard u.count >= 10, u[0...3].allSatisfy(isDigit), u[4] == 0x2D, isDigit(u[5]), isDigit(u[6]), u[7] == 0x2D, isDigit(u[8]), isDigit(u[9]) else {
            return nil
        }
        let month = Int(u[5] - 0x30) * 10 + Int(u[6] - 0x30)
        let day = Int(u[8] - 0x30) * 10 + Int(u[9] - 0x30)
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        if u.count == 10 { return .date }
        var i = 10
        if u[i] == 0x54 || u[i] == 0x74 { i += 1 } else {
            guard u[i] == 0x20 || u[i] == 0x09 else { return nil }
            while i < u.count, u[i] == 0x20 || u[i] == 0x09 { i += 1 }
        }
        func two() -> Bool {
            guard i + 1 < u.count, isDigit(u[i]), isDigit(u[i + 1]) else { return false }
            i += 2
            return true
        }
        // Hour may be one digit in YAML's timestamp; accept one or two.
        guard i < u.count, isDigit(u[i]) else { return nil }
        i += 1
        if i < u.count, isDigit(u[i]) { i += 1 }
        guard i < u.count, u[i] == 0x3A else { return nil }
        i += 1
        guard two() else { return nil }
        if i < u.count, u[i] == 0x3A {
            i += 1
            guard two() else { return nil }
            if i < u.count, u[i] == 0x2E {
                i += 1
                while i < u.count, isDigit(u[i]) { i += 1 }
            }
        }
        while i < u.count, u[i] == 0x20 || u[i] == 0x09 { i += 1 }
        if i == u.count { return .datetime }
        if u[i] == 0x5A { return i + 1 == u.count ? .datetime : nil }
        guard u[i] == 0x2B || u[i] == 0x2D else { return nil }
        i += 1
        guard i < u.count, isDigit(u[i]) else { return nil }
        i += 1
        if i < u.count, isDigit(u[i]) { i += 1 }
        if i < u.count, u[i] == 0x3A {
            i += 1
            guard two() else { return nil }
        }
        return i == u.count ? .datetime : nil
    }
}

/// Flow collections: `[a, "b", [c]]` and `{k: v}`.
struct FlowParser {
    /// A malformed flow collection: the message and where, as an offset in `scalars`.
    struct Failure: Error {
        let offset: Int
        let message: String
        /// The text ended before the collection did: more lines may complete it.
        var reachedEnd = false
        /// It ended inside a double-quoted value.
        var inDoubleQuote = false
    }

    /// Deeper nesting is refused rather than risking the stack on hostile input.
    static let maximumDepth = 64

    /// The text being parsed.
    let scalars: [Unicode.Scalar]
    /// The next scalar to read.
    var position = 0
    /// How many collections enclose `position`.
    var depth = 0

    /// A parser over `scalars`, starting at the first.
    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    /// Moves past spaces and tabs.
    mutating func skipSpaces() {
        while position < scalars.count, scalars[position] == " " || scalars[position] == "\t" { position += 1 }
    }

    /// Parses one flow value: a list, a map, a quoted or a plain scalar.
    mutating func parseValue() throws(Failure) -> PropertyValue {
        skipSpaces()
        // Anchors and tags we do not interpret, as in block values: skip `&anchor` and `!tag`.
        while position < scalars.count, scalars[position] == "&" || scalars[position] == "!" {
            while position < scalars.count, !" \t,[]{}".unicodeScalars.contains(scalars[position]) { position += 1 }
            skipSpaces()
        }
        guard position < scalars.count else {
            throw Failure(offset: position, message: "a value is missing before the end of the line", reachedEnd: true)
        }
        if scalars[position] == "*" { throw Failure(offset: position, message: "aliases ('*name') are not supported in properties") }
        switch scalars[position] {
        case "[":
            let open = position
            try enter(at: open)
            defer { depth -= 1 }
            position += 1
            var items: [PropertyValue] = []
            while true {
                skipSpaces()
                guard position < scalars.count else { throw Failure(offset: open, message: "a '[' list is never closed; add ']'", reachedEnd: true) }
                if scalars[position] == "]" { position += 1; return .list(items) }
                if scalars[position] == "," { throw Failure(offset: position, message: "an item is missing before ','") }
                let itemStart = position
                let item = try parseValue()
                skipSpaces()
                // `[a: b]` is a single-pair map inside a list.
                if position < scalars.count, scalars[position] == ":" {
                    let key = isPlainStart(itemStart) ? rawText(itemStart..<position) : item.text ?? ""
                    position += 1
                    let value = try parseValue()
                    items.append(.map([Property(key, value)]))
                    skipSpaces()
                } else {
                    items.append(item)
                }
                guard position < scalars.count else { throw Failure(offset: open, message: "a '[' list is never closed; add ']'", reachedEnd: true) }
                if scalars[position] == "," { position += 1; continue }
                if scalars[position] == "]" { position += 1; return .list(items) }
                throw Failure(offset: position, message: "expected ',' or ']' in a list")
            }
        case "{":
            let open = position
            try enter(at: open)
            defer { depth -= 1 }
            position += 1
            var pairs: [Property] = []
            while true {
                skipSpaces()
                guard position < scalars.count else { throw Failure(offset: open, message: "a '{' map is never closed; add '}'", reachedEnd: true) }
                if scalars[position] == "}" { position += 1; return .map(pairs) }
                if scalars[position] == "," { throw Failure(offset: position, message: "an entry is missing before ','") }
                // Keys are names: a plain key is kept as written (`{1.50: x}` has the key "1.50").
                let keyStart = position
                let parsedKey = try parseValue()
                let key = isPlainStart(keyStart) ? rawText(keyStart..<position) : parsedKey.text ?? ""
                skipSpaces()
                var value = PropertyValue.null
                if position < scalars.count, scalars[position] == ":" {
                    position += 1
                    skipSpaces()
                    if position < scalars.count, scalars[position] != "," && scalars[position] != "}" {
                        value = try parseValue()
                    }
                }
                pairs.append(Property(key, value))
                skipSpaces()
                guard position < scalars.count else { throw Failure(offset: open, message: "a '{' map is never closed; add '}'", reachedEnd: true) }
                if scalars[position] == "," { position += 1; continue }
                if scalars[position] == "}" { position += 1; return .map(pairs) }
                throw Failure(offset: position, message: "expected ',' or '}' in a map")
            }
        case "\"", "'":
            // Only as far as its closing quote: the rest of the text copied for every quoted value
            // made a `context:` list of 2,000 quoted links take 8 s to read (an outside attack).
            let quote = scalars[position]
            var end = position + 1
            while end < scalars.count {
                if quote == "\"", scalars[end] == "\\" { end += 2; continue }
                if scalars[end] == quote {
                    if quote == "'", end + 1 < scalars.count, scalars[end + 1] == "'" { end += 2; continue }
                    break
                }
                end += 1
            }
            var rest = Substring(String(String.UnicodeScalarView(scalars[position..<min(end + 1, scalars.count)])))
            let before = rest.unicodeScalars.count
            do throws(YAMLParser.QuoteFailure) {
                let (value, _) = try YAMLParser.parseQuoted(&rest, quote: scalars[position], continuation: [])
                position += before - rest.unicodeScalars.count
                return .string(value)
            } catch {
                if error.isUnterminated {
                    throw Failure(offset: position, message: "a quoted value is never closed; add the closing \(scalars[position])", reachedEnd: true, inDoubleQuote: scalars[position] == "\"")
                }
                throw Failure(offset: position + error.offset, message: error.message)
            }
        default:
            if scalars[position] == "?", position + 1 == scalars.count || scalars[position + 1] == " " || scalars[position + 1] == "\t" {
                throw Failure(offset: position, message: "complex keys ('? ') are not supported")
            }
            // Plain scalar in flow context: ends at ',', ']', '}', or ': '.
            let start = position
            while position < scalars.count {
                let c = scalars[position]
                if c == "," || c == "]" || c == "}" { break }
                if c == ":" && (position + 1 == scalars.count || scalars[position + 1] == " " || scalars[position + 1] == "," || scalars[position + 1] == "]" || scalars[position + 1] == "}") { break }
                if c == "#" && position > start && scalars[position - 1] == " " { break }
                position += 1
            }
            let text = String(String.UnicodeScalarView(scalars[start..<position])).trimmingSpaces
            return YAMLParser.resolvePlain(text)
        }
    }

    /// Counts one more level of nesting, refusing too many.
    mutating func enter(at open: Int) throws(Failure) {
        depth += 1
        if depth > FlowParser.maximumDepth {
            depth -= 1
            throw Failure(offset: open, message: "lists and maps are nested too deeply")
        }
    }

    /// Whether the value at `start` is a plain scalar (not quoted, not a collection).
    func isPlainStart(_ start: Int) -> Bool {
        start < scalars.count && !["\"", "'", "[", "{"].contains(scalars[start])
    }

    /// The text of `range` without surrounding spaces.
    func rawText(_ range: Range<Int>) -> String {
        String(String.UnicodeScalarView(scalars[range])).trimmingSpaces
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

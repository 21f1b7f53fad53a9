import Foundation

/// One section of a note: the lines from a heading (or the top of the file) to the next heading.
struct ScannedSection: Sendable {
    /// The heading's text (empty for the part before the first heading).
    var heading: String
    /// The chain of headings above and including this one, joined with " › ".
    var headingPath: String
    /// 1-based first line (the heading line itself, or line 1).
    var startLine: Int
    /// 1-based last line.
    var endLine: Int
    /// Byte range of the indexed text in the note's bytes: the lines after the heading line.
    var body: Range<Int>
    /// `headingPath` as indexed (CJK set apart); filled by `prepareColumns`.
    var headingsColumn = ""
    /// The body as indexed when it needed CJK separators (else the bytes in `body` are indexed as is).
    var segmentedBody: [UInt8]?
}

/// What the index keeps of one note, taken from its bytes without ever changing them.
struct ScannedNote: Sendable {
    /// The note's text as UTF-8 bytes (broken sequences already replaced by U+FFFD).
    var bytes: [UInt8]
    var title: String
    var titleProperty: String?
    var aliases: [String]
    var type: String?
    var status: String?
    var privacy: String?
    var tags: [String]
    var sections: [ScannedSection]
    var links: [WikiLink]
    /// Why the frontmatter could not be read, when it could not (the note is indexed anyway).
    var frontmatterProblem: String?

    // Derived values, computed with the scan (on the reading thread, not the database one).
    /// The FTS title column: file name, `title` property and aliases.
    var titleColumn = ""
    /// Title keys with their kind (0 file name, 1 `title`, 2 alias).
    var titleKeys: [(key: String, kind: Int)] = []
    /// Link keys of the aliases.
    var aliasKeys: [String] = []
    /// Link keys of `links`, in the same order.
    var linkKeys: [String] = []
    /// Byte offset where the body starts (after the frontmatter; 0 without one).
    var bodyStart = 0
    /// The whole body (after the frontmatter), as indexed in `memory`, when it needed CJK separators
    /// (else `bytes[bodyStart...]` is indexed as is).
    var segmentedMemoryBody: [UInt8]?
    /// The headings of every section, one a line, as indexed in `memory`'s `headings` column.
    var memoryHeadings = ""
    /// The frontmatter's values (never its keys: every note has a `type:`), as indexed in `memory`'s
    /// low-weight `properties` column.
    var memoryProperties = ""
    /// For each link to a note: the line it is written on, with link syntax reduced to the words a
    /// reader sees — what the linking note says about the note it links (`anchors`).
    var anchorTexts: [(key: String, text: String)] = []
}

/// Reads notes for the index: sections at headings, links outside code (`WikiLink`), properties, inline tags.
///
/// Works on UTF-8 bytes: the full index spends most of its time here and in SQLite, and byte loops
/// avoid the cost of `Character` iteration.
enum NoteScanner {
    /// The most sections one note gets; later headings are folded into the last section. Section rows
    /// get rowids `noteID << sectionBits + index`, so this bounds the index too.
    static let sectionBits: Int64 = 20
    static let maxSections = (1 << 20) - 1

    /// Scans a note's bytes. `relativePath` gives the title (the file name without `.md`) and the
    /// implied type of notes under `Tasks/`.
    static func scan(relativePath: String, bytes rawBytes: [UInt8]) -> ScannedNote {
        let bytes = repairedUTF8(rawBytes)
        var note = ScannedNote(bytes: bytes, title: title(ofPath: relativePath), titleProperty: nil, aliases: [], type: nil, status: nil, privacy: nil, tags: [], sections: [], links: [], frontmatterProblem: nil)

        // Frontmatter: parsed with the vault's own parser; if it is malformed the note is still
        // indexed, whole, with no properties.
        var bodyStartLine = 1
        do {
            let layout = try NoteLayout.scan(bytes)
            if layout.hasFrontmatter {
                bodyStartLine = layout.bodyStartLine
                do {
                    let (pairs, _) = try Note.parseFrontmatter(layout)
                    apply(properties: pairs.map(\.0), to: &note)
                } catch {
                    note.frontmatterProblem = error.description
                }
            }
        } catch {
            note.frontmatterProblem = error.description
        }
        if note.type == nil, relativePath.hasPrefix(Vault.Layout.tasks + "/") { note.type = "task" }
        note.bodyStart = byteOffset(ofLine: bodyStartLine, in: bytes)

        bytes.withUnsafeBufferPointer { buffer in
            scanLines(buffer, bodyStartLine: bodyStartLine, into: &note)
        }
        prepareColumns(&note)
        return note
    }

    /// Computes what the database writer would otherwise compute: keys and indexed column text.
    static func prepareColumns(_ note: inout ScannedNote) {
        var titleColumn = note.title
        if let property = note.titleProperty { titleColumn += "\n" + property }
        for alias in note.aliases { titleColumn += "\n" + alias }
        note.titleColumn = TextSegmenter.segment(titleColumn)
        let named = [(note.title, 0)] + (note.titleProperty.map { [($0, 1)] } ?? []) + note.aliases.map { ($0, 2) }
        for (text, kind) in named {
            let key = titleKey(text)
            if !key.isEmpty && !note.titleKeys.contains(where: { $0.key == key }) { note.titleKeys.append((key, kind)) }
        }
        var aliasKeys: [String] = []
        for alias in note.aliases {
            let key = LinkResolver.key(alias)
            if !aliasKeys.contains(key) { aliasKeys.append(key) }
        }
        note.aliasKeys = aliasKeys
        note.linkKeys = note.links.map { LinkResolver.key($0.target) }
        note.memoryHeadings = TextSegmenter.segment(note.sections.map(\.heading).filter { !$0.isEmpty }.joined(separator: "\n"))
        let bytes = note.bytes
        bytes.withUnsafeBufferPointer { buffer in
            for i in note.sections.indices {
                note.sections[i].headingsColumn = TextSegmenter.segment(note.sections[i].headingPath)
                note.sections[i].segmentedBody = TextSegmenter.segment(UnsafeBufferPointer(rebasing: buffer[note.sections[i].body]))
            }
            // The `memory` table holds the note whole, body without the frontmatter: its values go to a
            // low-weight column of their own (a property value is not what a note is about).
            let start = min(note.bodyStart, buffer.count)
            note.segmentedMemoryBody = TextSegmenter.segment(UnsafeBufferPointer(rebasing: buffer[start...]))
            note.memoryProperties = TextSegmenter.segment(propertyValues(String(decoding: UnsafeBufferPointer(rebasing: buffer[..<start]), as: UTF8.self)))
            note.anchorTexts = anchorTexts(note.links, keys: note.linkKeys, buffer: buffer)
        }
    }

    /// The values of frontmatter lines (`key: value` gives `value`, `- item` gives `item`), one a line.
    static func propertyValues(_ frontmatter: String) -> String {
        var values: [Substring] = []
        for raw in frontmatter.split(separator: "\n") {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("---") || line.hasPrefix("...") || line.hasPrefix("#") { continue }
            if line.hasPrefix("- ") {
                values.append(line.dropFirst(2))
            } else if let colon = line.firstIndex(of: ":") {
                let value = line[line.index(after: colon)...].drop { $0 == " " }
                if !value.isEmpty { values.append(value) }
            } else {
                values.append(line)
            }
        }
        return values.joined(separator: "\n")
    }

    /// The most bytes of one line kept as anchor text (a long paragraph says little more about a link).
    static let maxAnchorBytes = 600

    /// The anchor text of each link to a note (not to an image or other file): the line the link is
    /// on, links reduced to their shown text, once per target and line. Works on the note's bytes in
    /// one pass (it runs for every linking note of a full index).
    static func anchorTexts(_ links: [WikiLink], keys: [String], buffer: UnsafeBufferPointer<UInt8>) -> [(key: String, text: String)] {
        guard !links.isEmpty else { return [] }
        var wanted: [(key: String, line: Int)] = []
        var seen = Set<String>()
        for (link, key) in zip(links, keys) {
            let name = link.target.split(separator: "/").last.map(String.init) ?? link.target
            // `image.png`, `talk.pdf`, `Board.canvas` are files, not notes; "Version 1.2" is a note.
            if let dot = name.lastIndex(of: ".") {
                let ext = name[name.index(after: dot)...].lowercased()
                if ext != "md", (1...5).contains(ext.count), ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }), ext.contains(where: \.isLetter) { continue }
            }
            guard link.line >= 1, seen.insert(key + "\u{1}" + String(link.line)).inserted else { continue }
            wanted.append((key, link.line))
        }
        guard let last = wanted.map(\.line).max() else { return [] }
        // Byte ranges of the lines wanted, from one pass that stops after the last of them.
        let needed = Set(wanted.map(\.line))
        var ranges: [Int: Range<Int>] = [:]
        var line = 1
        var start = 0
        var i = 0
        while i <= buffer.count && line <= last {
            if i == buffer.count || buffer[i] == 0x0A {
                if needed.contains(line) { ranges[line] = start..<min(i, start + maxAnchorBytes) }
                line += 1
                start = i + 1
            }
            i += 1
        }
        var anchors: [(key: String, text: String)] = []
        for (key, line) in wanted {
            guard let range = ranges[line] else { continue }
            let shown = shownBytes(UnsafeBufferPointer(rebasing: buffer[range]))
            guard shown.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            let segmented = shown.withUnsafeBufferPointer { TextSegmenter.segment($0) } ?? shown
            anchors.append((key, String(decoding: segmented, as: UTF8.self)))
        }
        return anchors
    }

    /// A line's bytes with `[[target|shown]]` reduced to `shown` and `[[target]]` (or
    /// `[[folder/target#heading]]`) to the target's name.
    static func shownBytes(_ line: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count)
        var i = 0
        while i < line.count {
            if line[i] == 0x5B, i + 1 < line.count, line[i + 1] == 0x5B,
               let close = (i + 2..<max(i + 2, line.count - 1)).first(where: { line[$0] == 0x5D && line[$0 + 1] == 0x5D }) {
                let inner = i + 2..<close
                if let bar = inner.first(where: { line[$0] == 0x7C }) {
                    out.append(contentsOf: line[(bar + 1)..<close])
                } else {
                    let end = inner.first(where: { line[$0] == 0x23 }) ?? close
                    let slash = (inner.lowerBound..<end).last(where: { line[$0] == 0x2F }).map { $0 + 1 } ?? inner.lowerBound
                    out.append(contentsOf: line[slash..<end])
                }
                i = close + 2
            } else {
                out.append(line[i])
                i += 1
            }
        }
        return out
    }

    /// The byte offset of the start of 1-based `line` (the end of the bytes when there are fewer lines).
    static func byteOffset(ofLine line: Int, in bytes: [UInt8]) -> Int {
        guard line > 1 else { return 0 }
        var seen = 1
        for (i, b) in bytes.enumerated() where b == 0x0A {
            seen += 1
            if seen == line { return i + 1 }
        }
        return bytes.count
    }

    /// Bytes with invalid UTF-8 replaced by U+FFFD; the same array when already valid.
    static func repairedUTF8(_ bytes: [UInt8]) -> [UInt8] {
        var isASCII = true
        bytes.withUnsafeBufferPointer { buffer in
            for b in buffer where b >= 0x80 { isASCII = false; break }
        }
        if isASCII { return bytes }
        var text = String(decoding: bytes, as: UTF8.self)
        let same = text.withUTF8 { repaired in
            repaired.count == bytes.count && bytes.withUnsafeBufferPointer { memcmp(repaired.baseAddress!, $0.baseAddress!, bytes.count) == 0 }
        }
        return same ? bytes : Array(text.utf8)
    }

    /// Whether the first 8,000 bytes hold a NUL byte (git's test for binary files).
    static func looksBinary(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            let n = min(buffer.count, 8000)
            for i in 0..<n where buffer[i] == 0 { return true }
            return false
        }
    }

    /// The Obsidian title of a note: its file name without `.md`.
    static func title(ofPath path: String) -> String {
        var name = Substring(path)
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        if name.hasSuffix(".md") { name = name.dropLast(3) }
        return String(name)
    }

    static func apply(properties: [Property], to note: inout ScannedNote) {
        for property in properties {
            switch property.key.lowercased() {
            case "title": note.titleProperty = property.value.text.flatMap { $0.trimmingSpaces.isEmpty ? nil : $0.trimmingSpaces }
            case "aliases", "alias": note.aliases = property.value.texts.map(\.trimmingSpaces).filter { !$0.isEmpty }
            case "type": note.type = property.value.text?.trimmingSpaces.lowercased()
            case "status": note.status = property.value.text?.trimmingSpaces.lowercased()
            case "privacy": note.privacy = property.value.text?.trimmingSpaces.lowercased()
            case "tags", "tag":
                for tag in property.value.texts {
                    // Obsidian accepts "a, b" and "#a" in the tags property.
                    for part in tag.split(whereSeparator: { $0 == "," || $0 == " " }) {
                        var t = String(part).trimmingSpaces
                        if t.hasPrefix("#") { t.removeFirst() }
                        if !t.isEmpty { note.tags.append(t.lowercased()) }
                    }
                }
            default: break
            }
        }
    }

    // MARK: Lines: headings, code fences, links, tags

    private static func scanLines(_ b: UnsafeBufferPointer<UInt8>, bodyStartLine: Int, into note: inout ScannedNote) {
        let count = b.count
        var lineNumber = 0
        var position = 0
        var fence: (char: UInt8, length: Int)?
        var headingStack: [(level: Int, text: String)] = []
        // The section being built.
        var current = ScannedSection(heading: "", headingPath: "", startLine: 1, endLine: 1, body: 0..<0)
        var sectionHasContent = false
        var lastLineEnd = 0
        var inlineTags: [String] = []

        func closeCurrent(endLine: Int, endByte: Int) {
            current.endLine = max(current.startLine, endLine)
            current.body = current.body.lowerBound..<max(current.body.lowerBound, endByte)
            note.sections.append(current)
        }

        while position < count || (position == count && lineNumber == 0) {
            lineNumber += 1
            let lineStart = position
            var lineEnd = lineStart
            while lineEnd < count && b[lineEnd] != 0x0A { lineEnd += 1 }
            position = lineEnd + 1
            var contentEnd = lineEnd
            if contentEnd > lineStart && b[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            defer { lastLineEnd = lineEnd }
            if lineNumber < bodyStartLine {
                // Frontmatter lines: indexed as text of the first section; links in properties count.
                if !isBlank(b, lineStart, contentEnd) { sectionHasContent = true }
                scanLinks(b, lineStart, contentEnd, line: lineNumber, links: &note.links, collectTags: false, tags: &inlineTags)
                if position > count { break }
                continue
            }
            // Leading spaces (up to 3 keep a line a heading or fence in CommonMark).
            var i = lineStart
            while i < contentEnd && b[i] == 0x20 && i - lineStart < 4 { i += 1 }
            let indent = i - lineStart

            if indent < 4, i < contentEnd, b[i] == 0x60 || b[i] == 0x7E {
                let c = b[i]
                var j = i
                while j < contentEnd && b[j] == c { j += 1 }
                let run = j - i
                if run >= 3 {
                    if let open = fence {
                        if c == open.char && run >= open.length && isBlank(b, j, contentEnd) { fence = nil }
                    } else {
                        fence = (c, run)
                    }
                    sectionHasContent = true
                    if position > count { break }
                    continue
                }
            }
            if fence != nil {
                if !isBlank(b, lineStart, contentEnd) { sectionHasContent = true }
                if position > count { break }
                continue
            }

            if indent < 4, let level = headingLevel(b, i, contentEnd) {
                // A new section begins at this heading.
                if note.sections.count < maxSections {
                    if lineNumber > 1 && (sectionHasContent || !note.sections.isEmpty || !current.heading.isEmpty) {
                        closeCurrent(endLine: lineNumber - 1, endByte: lastLineEnd)
                    }
                    let text = headingText(b, i + level, contentEnd)
                    while let last = headingStack.last, last.level >= level { headingStack.removeLast() }
                    headingStack.append((level, text))
                    let path = headingStack.map(\.text).joined(separator: " › ")
                    current = ScannedSection(heading: text, headingPath: path, startLine: lineNumber, endLine: lineNumber, body: min(position, count)..<min(position, count))
                    sectionHasContent = true
                }
                scanLinks(b, i + level, contentEnd, line: lineNumber, links: &note.links, collectTags: false, tags: &inlineTags)
                if position > count { break }
                continue
            }
            if !isBlank(b, lineStart, contentEnd) { sectionHasContent = true }
            scanLinks(b, lineStart, contentEnd, line: lineNumber, links: &note.links, collectTags: true, tags: &inlineTags)
            if position > count { break }
        }
        let lastLine = lineNumber
        if sectionHasContent || note.sections.isEmpty {
            closeCurrent(endLine: max(1, lastLine), endByte: count)
        }
        for tag in inlineTags where !note.tags.contains(tag) { note.tags.append(tag) }
    }

    private static func isBlank(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        var i = from
        while i < to {
            let c = b[i]
            if c != 0x20 && c != 0x09 && c != 0x0D { return false }
            i += 1
        }
        return true
    }

    /// The level of an ATX heading starting at `i` (`#` to `######` then a space or the line's end).
    private static func headingLevel(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int? {
        var j = i
        while j < end && b[j] == 0x23 && j - i < 7 { j += 1 }
        let level = j - i
        guard level >= 1 && level <= 6 else { return nil }
        if j == end || b[j] == 0x20 || b[j] == 0x09 { return level }
        return nil
    }

    private static func headingText(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> String {
        var start = from
        var end = to
        while start < end && (b[start] == 0x20 || b[start] == 0x09) { start += 1 }
        while end > start && (b[end - 1] == 0x20 || b[end - 1] == 0x09) { end -= 1 }
        // A closing sequence of #s preceded by a space is not part of the text (CommonMark).
        var k = end
        while k > start && b[k - 1] == 0x23 { k -= 1 }
        if k < end && (k == start || b[k - 1] == 0x20 || b[k - 1] == 0x09) {
            end = k
            while end > start && (b[end - 1] == 0x20 || b[end - 1] == 0x09) { end -= 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
    }

    /// Finds the links on one line outside code spans (`WikiLink.scanLine`); collects `#tags` when asked.
    private static func scanLinks(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, line: Int, links: inout [WikiLink], collectTags: Bool, tags: inout [String]) {
        WikiLink.scanLine(b, from, to, line: line, skippingCodeSpans: true, into: &links) { i in
            guard b[i] == 0x23, collectTags, i + 1 < to, i == from || b[i - 1] == 0x20 || b[i - 1] == 0x09 else { return i + 1 }
            var j = i + 1
            var hasNonDigit = false
            while j < to {
                let d = b[j]
                let isTagByte = (d >= 0x30 && d <= 0x39) || (d >= 0x41 && d <= 0x5A) || (d >= 0x61 && d <= 0x7A) || d == 0x5F || d == 0x2D || d == 0x2F || d >= 0x80
                if !isTagByte { break }
                if !(d >= 0x30 && d <= 0x39) { hasNonDigit = true }
                j += 1
            }
            if j > i + 1 && hasNonDigit {
                let tag = String(decoding: UnsafeBufferPointer(rebasing: b[(i + 1)..<j]), as: UTF8.self).lowercased()
                if !tags.contains(tag) { tags.append(tag) }
            }
            return max(j, i + 1)
        }
    }

    // MARK: Keys

    /// A form of a title for equality tests: words lower-cased without accents, CJK characters apart,
    /// punctuation dropped. `Résumé — 2024!` and `resume 2024` get the same key.
    static func titleKey(_ text: String) -> String {
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        var currentIsASCII = true
        func flush() {
            if current.isEmpty { return }
            let token = String(current)
            tokens.append(currentIsASCII ? token.lowercased() : foldDiacritics(token))
            current = String.UnicodeScalarView()
            currentIsASCII = true
        }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x80 {
                let isAlnum = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
                if isAlnum { current.append(scalar) } else { flush() }
                continue
            }
            if TextSegmenter.isSegmented(v) {
                flush()
                if scalar.properties.isAlphabetic || scalar.properties.numericType != nil { tokens.append(String(scalar)) }
                continue
            }
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark:
                continue
            default:
                if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                    current.append(scalar)
                    currentIsASCII = false
                } else {
                    flush()
                }
            }
        }
        flush()
        return tokens.joined(separator: " ")
    }

    static func foldDiacritics(_ token: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in token.decomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: continue
            default: out.append(scalar)
            }
        }
        return String(out).lowercased()
    }
}

/// Makes scripts written without spaces searchable with SQLite's `unicode61` tokenizer.
///
/// `unicode61` cuts tokens at spaces and punctuation only, so a Japanese sentence would be one token
/// and no word inside it could be found. Before indexing, each character of such a script (Han,
/// Hiragana, Katakana, Hangul, Thai, Lao, Khmer, Myanmar) is set apart with a ZERO WIDTH SPACE, which
/// `unicode61` treats as a separator; a query in those scripts becomes the phrase of its characters.
/// Measured against a trigram table: no second table (the database stays half the size), and two-
/// character words, common in Japanese and Chinese, are found (trigrams need three).
enum TextSegmenter {
    /// U+200B ZERO WIDTH SPACE in UTF-8.
    static let separator: [UInt8] = [0xE2, 0x80, 0x8B]

    /// Whether a code point belongs to a script written without spaces between words.
    @inline(__always)
    static func isSegmented(_ v: UInt32) -> Bool {
        if v < 0x0E00 { return false }
        switch v {
        case 0x0E00...0x0EFF, 0x1000...0x109F, 0x1100...0x11FF, 0x1780...0x17FF,
             0x2E80...0x2FDF, 0x3005...0x3007, 0x3040...0x30FF, 0x3100...0x31FF, 0x3400...0x4DBF,
             0x4E00...0x9FFF, 0xA960...0xA97F, 0xAC00...0xD7FF, 0xF900...0xFAFF, 0xFF66...0xFFDC,
             0x20000...0x3FFFF:
            return true
        default:
            return false
        }
    }

    /// Whether the bytes may hold such characters (a fast pre-check on lead bytes).
    @inline(__always)
    static func mayNeedSegmenting(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in b where c >= 0xE0 { return true }
        return false
    }

    /// The text with each segmented character set apart by `separator`; `nil` when nothing changes.
    static func segment(_ b: UnsafeBufferPointer<UInt8>, separator: [UInt8] = TextSegmenter.separator) -> [UInt8]? {
        guard mayNeedSegmenting(b) else { return nil }
        var out: [UInt8] = []
        var changed = false
        var previousSegmented = false
        var i = 0
        let n = b.count
        out.reserveCapacity(n + n / 2)
        while i < n {
            let c = b[i]
            var length = 1
            var v = UInt32(c)
            if c >= 0xF0, i + 3 < n {
                length = 4
                v = (UInt32(c & 0x07) << 18) | (UInt32(b[i + 1] & 0x3F) << 12) | (UInt32(b[i + 2] & 0x3F) << 6) | UInt32(b[i + 3] & 0x3F)
            } else if c >= 0xE0, i + 2 < n {
                length = 3
                v = (UInt32(c & 0x0F) << 12) | (UInt32(b[i + 1] & 0x3F) << 6) | UInt32(b[i + 2] & 0x3F)
            } else if c >= 0xC0, i + 1 < n {
                length = 2
                v = 0
            }
            let segmented = length >= 3 && isSegmented(v)
            if segmented || previousSegmented {
                out.append(contentsOf: separator)
                changed = true
            }
            for k in 0..<length { out.append(b[i + k]) }
            previousSegmented = segmented
            i += length
        }
        return changed ? out : nil
    }

    /// A string with segmented characters set apart by spaces (for queries).
    static func segment(_ text: String) -> String {
        var copy = text
        let result: [UInt8]? = copy.withUTF8 { segment($0, separator: [0x20]) }
        return result.map { String(decoding: $0, as: UTF8.self).trimmingWhitespaces() } ?? text
    }

    /// Removes the separators this type inserts (for snippets shown to people).
    static func removeSeparators(_ text: String) -> String {
        text.contains("\u{200B}") ? text.replacingOccurrences(of: "\u{200B}", with: "") : text
    }
}

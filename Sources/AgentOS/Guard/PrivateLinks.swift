import Foundation

/// Links to private notes inside text that leaves the machine. A public note may link a private
/// one (`[[Cancer diagnosis#Treatment]]`, `[[Dr Zorblat|my doctor]]`, `![[Bank]]`): the link's
/// target, heading and alias are the private note's name, which is private text too. A packet for a
/// task that is not private keeps such a note (it is public) but not those links: each becomes
/// `(a private note)`, as a daily line linking a private note is left out.
enum PrivateLinks {
    /// Every way a note's text can point at another note: wikilinks and embeds on one line, Markdown
    /// links (`[text](Note.md)`, `![](Note.md)`), the `obsidian://open?vault=…&file=…` links
    /// Obsidian's "Copy Obsidian URL" makes, HTML elements that link or embed (`<a href=…>…</a>`,
    /// `<img src=…>`; Obsidian renders them), reference-style definitions (`[r]: Private/Bank.md`),
    /// and a bare vault path ending in `.md`. The capture groups say which form matched.
    static let pattern = try! NSRegularExpression(pattern: (forms + [barePath]).joined(separator: "|"))

    /// The same pattern without the bare path (its group never matches): for text holding no
    /// `.md`, where that form cannot match, and whose every word ICU would otherwise try it at —
    /// four times the cost of the other forms together (0.43 against 0.10 ms a piece of the
    /// Obsidian Help vault).
    static let patternWithoutBarePaths = try! NSRegularExpression(pattern: (forms + ["((?!))"]).joined(separator: "|"))

    /// `pattern` without its reference definitions (form 4 never matches): what is read inside a link.
    static let innerPattern = try! NSRegularExpression(pattern: (Array(forms.prefix(3)) + ["((?!))", barePath]).joined(separator: "|"))
    static let innerPatternWithoutBarePaths = try! NSRegularExpression(pattern: (Array(forms.prefix(3)) + ["((?!))", "((?!))"]).joined(separator: "|"))

    /// The forms 1 to 4 of `pattern`, each one capture group.
    private static let forms = [
        // A wikilink ends at the first `]]`, as Obsidian reads it: its alias may hold `[` and `[[`.
        #"(!?\[\[[^\[\]\n|]+(?:\|(?:[^\]\n]|\](?!\]))*)?\]\]|!?\[[^\[\]\n]*\]\([^()\n]+\))"#,
        #"((?i:obsidian:)[^\s()<>\[\]"'`]+)"#,
        // A tag is read no further than the next `<`: read to its `>`, every `<a` of a note of
        // `<a ` repeated read to the note's end (120 KB: 73 s a packet, an outside attack).
        #"((?i:<a\b[^<>]*>[^<\n]*</a\s*>|<(?:a|img|iframe|embed|video|audio|source|object|link)\b[^<>]*>))"#,
        // A reference definition (`[r]: Private/Bank.md "title"`), the whole of its line as Markdown
        // reads one: its destination and title, nothing after. A footnote (`[^1]: See [[Salary]]`)
        // is none: read as one, the rest of its line was taken for a title and its links were
        // never judged (round 47: a private note's name and alias went to claude).
        #"(?m:^([ \t]{0,3}\[(?!\^)[^\]\n]+\]:[ \t]*(?:<[^>\n]+>|\S+)(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?[ \t\r]*)$)"#,
    ]

    /// Whether `text` holds `.md` in either case (what form 5 needs): `Private/Bank.MD` names the
    /// note too (Linux keeps a name's case, the vault's lookup folds it; round 52).
    static func holdsDotMD(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= 3 else { return false }
            for i in 0..<(bytes.count - 2) where bytes[i] == 0x2E && bytes[i + 1] | 0x20 == 0x6D && bytes[i + 2] | 0x20 == 0x64 { return true }
            return false
        }
    }

    /// Form 5: a bare vault path ending in `.md`, in either case.
    private static let barePath = #"((?<![\w/\\.%-])[\w.%\\/-]+\.(?i:md)\b)"#

    /// An HTML element's link: its `href`, `src` or `data` attribute, quoted or not.
    private static let attribute = try! NSRegularExpression(pattern: #"\b(?:href|src|data)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"#, options: .caseInsensitive)

    /// What a link to a private note is replaced with.
    static let placeholder = "(a private note)"

    /// `text`, written in the note at `path`, with every link that may mean a private note (any of
    /// the notes `candidates` gives for it, asked once for all the text's links) replaced by
    /// `placeholder`; and how many were. `isPrivate` judges a vault path (the caller keeps its
    /// verdicts for the packet).
    static func redacting(_ text: String, in path: String, candidates: ([WikiLink]) -> [[String]], isPrivate: (String) -> Bool) -> (text: String, count: Int) {
        guard text.holdsByte("[") || text.holdsByte("<") || holdsDotMD(text) || text.range(of: "obsidian:", options: .caseInsensitive) != nil else { return (text, 0) }
        // Read as Obsidian renders it: `Private&#47;Bank.md` is a path too.
        let rendered = decodingEntities(text)
        let source = rendered as NSString
        // The text's UTF-16 units (NSRange's unit), read by index below: `NSString.character(at:)`
        // of a Swift string is not a constant-time read, and the loops below read many.
        let units = Array(rendered.utf16)
        var found: [(range: NSRange, link: WikiLink)] = []
        var linkRanges: [NSRange] = []
        var extended: [(range: NSRange, link: WikiLink)] = []
        let dotMD = holdsDotMD(rendered)
        let links = dotMD ? pattern : patternWithoutBarePaths
        let inside = dotMD ? innerPattern : innerPatternWithoutBarePaths
        // The matches in text order, each followed by those inside it: a stack, the next on top.
        var pending: [(match: NSTextCheckingResult, nested: Bool)] = links.matches(in: rendered, range: NSRange(location: 0, length: source.length)).reversed().map { ($0, false) }
        while let (match, nested) = pending.popLast() {
            guard let form = (1...5).first(where: { match.range(at: $0).location != NSNotFound }) else { continue }
            // What a link holds is text like any other: a link, a URL or a path inside it is read
            // too — in a reference definition's label and title (round 48: `[r]: Public.md "see
            // [[Salary|my salary]]"`), a Markdown link's text and title, a wikilink's alias, an HTML
            // element's attributes and text (round 49: `<img alt="[[Salary]]">`, `[x](https://… "see
            // [[Salary]]")`). Read over the link's own range, from its second character (from its
            // first, the link itself is found again), once: a note of 100,000 definitions is read
            // in one pass (round 49: 151 s a packet when each copied the matches after it).
            if form < 5, match.range.length > 2 {
                let within = NSRange(location: match.range.location + 1, length: match.range.length - 1)
                pending += inside.matches(in: rendered, range: within).reversed().map { ($0, true) }
            }
            // Entities decoded first (`&amp;` in an href, `Private&#47;Bank`): what Obsidian renders.
            let written = decodingEntities(source.substring(with: match.range(at: form)))
            let link: WikiLink?
            switch form {
            case 1: link = WikiLink.parse(written) ?? markdownURL(written)
            case 2: link = obsidianURL(written)
            case 3: link = htmlLink(written)
            case 4: link = referenceDefinition(written)
            default: link = WikiLink(target: written)
            }
            if let link { found.append((match.range, normalized(link))) }
            // The bare-path readings below skip what a link covers (a link inside one lies in it);
            // a definition's inside is theirs to read too.
            if form < 4, !nested { linkRanges.append(match.range) }
            // An Obsidian URL written with its spaces unencoded (as Obsidian's help shows them): read
            // with up to seven more words after it, the longest reading that names a private note wins.
            if form == 2 {
                var end = NSMaxRange(match.range)
                for _ in 0..<7 {
                    guard end < units.count, units[end] == 0x20 else { break }
                    var next = end + 1
                    while next < units.count, !" \n)]<>\"'`".utf16.contains(units[next]) { next += 1 }
                    guard next > end + 1 else { break }
                    end = next
                    let range = NSRange(location: match.range.location, length: end - match.range.location)
                    if let longer = obsidianURL(source.substring(with: range)) { extended.append((range, normalized(longer))) }
                }
            }
        }
        // A bare path with spaces in it (`see Memory/Cancer diagnosis.md now`, as most note names
        // are): each `.md` not inside a link found above, read with up to `wordsPerName` words before it.
        var spaced: [(range: NSRange, link: WikiLink)] = []
        let lines = rendered as NSString
        var next = 0
        // The links found are in text order and do not overlap, as the hits come: one pass over
        // both (a search of every link for every hit cost links × hits on a note of `[[a.md]]`s).
        var nextLink = 0
        // Where the `.md` before this one ended: a reading starts after it (a name holding `.md`
        // and then more is no vault's), so no text is walked back over twice (`/.md` repeated,
        // 2 MB, walked 4,096 units back from every `.md`: 35 s a packet, an outside attack).
        var previousEnd = 0
        // Past `mostReadings`, what follows is not judged but left out (`stoppedAt`): a run that
        // wrote thousands of links above a person's link to a private note would have had it sent.
        var stoppedAt: Int?
        while true {
            guard let location = PrivateLinks.find([0x2E, 0x6D, 0x64], in: units, from: next, foldingCase: true) else { break } // `.md`
            if spaced.count >= PrivateLinks.mostReadings {
                stoppedAt = max(previousEnd, location - PrivateLinks.longestDestination)
                break
            }
            let hit = NSRange(location: location, length: 3)
            next = NSMaxRange(hit)
            let end = NSMaxRange(hit)
            defer { previousEnd = end }
            while nextLink < linkRanges.count, NSMaxRange(linkRanges[nextLink]) <= hit.location { nextLink += 1 }
            if nextLink < linkRanges.count, NSLocationInRange(hit.location, linkRanges[nextLink]) { continue }
            var start = hit.location
            var words = 0
            // No further back than a path can be long: `a.md` repeated on one line walked to the
            // line's start from every `.md`. Nor further than a file name can be long without a
            // space or separator (255 bytes, three units each when percent-encoded).
            let limit = max(previousEnd, hit.location - PrivateLinks.longestDestination)
            var sinceSeparator = 0
            while start > limit {
                let c = units[start - 1]
                // An apostrophe and parentheses are in names (`Dad's scan.md`, `Therapy (Dr Z).md`,
                // an outside attack), and a name may have up to twelve words.
                if c == 0x0A || c == 0x60 || c == 0x22 || c == 0x5B || c == 0x3C || c == 0x3E || c == 0x7C { break }
                if c == 0x20 { words += 1; if words > PrivateLinks.wordsPerName { break } }
                if c == 0x20 || c == 0x2F || c == 0x5C { sinceSeparator = 0 } else { sinceSeparator += 1 }
                if sinceSeparator > PrivateLinks.longestName { break }
                start -= 1
            }
            // A reading is a name with a space in it, or with a mark the bare path (form 5) does
            // not read (`Memory/Dad's.md`, `|Memory/Q&A.md|`, `Salary!.md`, an outside attack).
            // A reading starts at a word: the spaces after a mark stay in the text.
            while start < hit.location, units[start] == 0x20 { start += 1 }
            // A reading starts at `start`, after each space, and after each mark of punctuation
            // (`x,Private/Bank notes.md`, `**Bank notes.md**`, `“Bank notes.md”`). Punctuation does
            // not end one (`Meeting notes, Dr X.md` is a name): a reading is only replaced when it
            // names a private note, which prose does not. Every start after a space (twelve at
            // most) and after up to three marks that open a word (`**`, `“`) is read, and of the
            // starts after marks inside words the nearest `readingsPerName`: a reading after every
            // comma of `,,,…,/ a.md` cost 2.7 s for 4 KB (an outside attack), and a name's own
            // marks (`Cancer x_x_…_end.md`) may be more than that.
            var wordStarts = [start]
            var innerStarts: [Int] = []
            var wordStart = start
            var after = start
            while after < hit.location {
                let unit = units[after]
                if unit == 0x20 {
                    wordStart = after + 1
                    wordStarts.append(after + 1)
                } else if PrivateLinks.startsReading(after: unit) {
                    let opening = after + 1 - wordStart <= 3 && !(wordStart...after).contains { units[$0] == 0x20 || !PrivateLinks.startsReading(after: units[$0]) }
                    if opening { wordStarts.append(after + 1) } else { innerStarts.append(after + 1) }
                }
                after += 1
            }
            let starts = Set(wordStarts + innerStarts.suffix(PrivateLinks.readingsPerName)).sorted()
            for from in starts where from < hit.location {
                let range = NSRange(location: from, length: end - from)
                let written = lines.substring(with: range).trimmingWhitespaces()
                if !written.isEmpty, written.contains(" ") || PrivateLinks.holdsMarkBeyondBarePath(written) {
                    spaced.append((range, normalized(WikiLink(target: written))))
                }
            }
        }
        spaced += extended
        let destinations = destinationsRead(in: source, units: units)
        spaced += destinations.found
        let attributes = units.contains(0x3C) ? attributeValuesRead(in: source, units: units) : (found: [], stoppedAt: nil)
        spaced += attributes.found
        let judgedUpTo = [stoppedAt, destinations.stoppedAt, attributes.stoppedAt].compactMap { $0 }.min()
        guard !found.isEmpty || !spaced.isEmpty || judgedUpTo != nil else { return (text, 0) }
        let meant = candidates(found.map(\.link) + spaced.map(\.link))
        // Every link or reading that means a private note goes, overlapping ones as one: sorted
        // and merged in one pass (a search of the chosen for each cost k² on a note of thousands
        // of private links: 4 MB, 33 s, an outside attack).
        var privateRanges = zip(found, meant.prefix(found.count)).filter { $0.1.contains(where: isPrivate) }.map(\.0.range)
        privateRanges += zip(spaced, meant.dropFirst(found.count)).filter { $0.1.contains(where: isPrivate) }.map(\.0.range)
        privateRanges.sort { $0.location < $1.location }
        var chosen: [(range: NSRange, link: WikiLink)] = []
        for range in privateRanges {
            if let last = chosen.last, range.location < NSMaxRange(last.range) {
                let end = max(NSMaxRange(last.range), NSMaxRange(range))
                chosen[chosen.count - 1].range = NSRange(location: last.range.location, length: end - last.range.location)
            } else {
                chosen.append((range, WikiLink(target: "")))
            }
        }
        var out = ""
        var last = 0
        var count = 0
        let end = judgedUpTo ?? source.length
        for (range, _) in chosen where range.location >= last && range.location < end {
            out += source.substring(with: NSRange(location: last, length: range.location - last)) + placeholder
            last = range.location + range.length
            count += 1
        }
        if let judgedUpTo {
            let kept = last < judgedUpTo ? source.substring(with: NSRange(location: last, length: judgedUpTo - last)) : ""
            return (out + kept + "\n" + PrivateLinks.notJudged, count + 1)
        }
        guard count > 0 else { return (text, 0) }
        return (out + source.substring(from: last), count)
    }

    /// Where a text with more links than are judged is cut.
    static let notJudged = "… (the rest is left out: it holds more links than are checked for private notes)"

    /// How many links of each kind a text is judged for (readings of bare names, destinations,
    /// attribute values); what follows is left out.
    static let mostReadings = 65_536

    /// Link destinations the one-line pattern does not read, as CommonMark does: after every `](`
    /// (whatever the link text holds: brackets, a line break), `<…>` or a run with balanced
    /// parentheses, spaces before it allowed; and a reference definition's, after a quote or list
    /// marker or on the next line. Each is its destination's range and link (a title is not part of it).
    static func destinations(in source: NSString, units given: [UInt16]? = nil) -> [(range: NSRange, link: WikiLink)] {
        destinationsRead(in: source, units: given ?? Array((source as String).utf16)).found
    }

    /// `destinations`, and where reading stopped when there were more than `mostReadings`.
    static func destinationsRead(in source: NSString, units: [UInt16]) -> (found: [(range: NSRange, link: WikiLink)], stoppedAt: Int?) {
        var found: [(range: NSRange, link: WikiLink)] = []
        var stoppedAt: Int?
        func add(_ range: NSRange) {
            var written = source.substring(with: range)
            if written.hasPrefix("<"), written.hasSuffix(">") { written = String(written.dropFirst().dropLast()) }
            written = unescaped(written)
            guard !written.isEmpty, let link = destinationLink(written) else { return }
            found.append((range, normalized(link)))
        }
        var next = 0
        while true {
            guard let hit = PrivateLinks.find([0x5D, 0x28], in: units, from: next) else { break } // `](`
            if found.count >= PrivateLinks.mostReadings {
                stoppedAt = hit
                break
            }
            var at = hit + 2
            next = at
            // Spaces, and one line break (CommonMark allows the destination on the next line).
            var breaks = 0
            while at < units.count {
                let c = units[at]
                if c == 0x0A { breaks += 1; if breaks > 1 { break } } else if c != 0x20 && c != 0x09 && c != 0x0D { break }
                at += 1
            }
            guard at < units.count else { break }
            let start = at
            if units[at] == 0x3C { // <…>, no longer than a path can be
                let end = min(source.length, start + PrivateLinks.longestDestination)
                while at < end, units[at] != 0x3E, units[at] != 0x0A { at += 1 }
                if at < end, units[at] == 0x3E { add(NSRange(location: start, length: at + 1 - start)) }
                continue
            }
            // Read as far as a destination can go: CommonMark's parsers stop nesting parentheses at
            // 32 (cmark), and no vault path is longer than the system's (4,096 bytes). Unbounded,
            // a note of `[x](` repeated read every destination to the note's end: 16 KB took 17 s
            // and 160 KB half an hour, holding a routing thread (an outside attack). What was read
            // when a limit is reached is still judged as a destination (erring towards a match).
            var depth = 0
            let end = min(source.length, start + PrivateLinks.longestDestination)
            while at < end {
                let c = units[at]
                if c == 0x20 || c == 0x09 || c == 0x0A { break }
                if c == 0x28 { depth += 1; if depth > PrivateLinks.deepestNesting { break } } else if c == 0x29 { if depth == 0 { break }; depth -= 1 }
                at += 1
            }
            if at > start { add(NSRange(location: start, length: at - start)) }
        }
        // (The pattern only where a definition can be: the text holds `]:`.)
        guard source.range(of: "]:").location != NSNotFound else { return (found, stoppedAt) }
        for match in referenceDefinition.matches(in: source as String, range: NSRange(location: 0, length: source.length)) {
            add(match.range(at: 1))
        }
        return (found, stoppedAt)
    }

    /// The values of `href`, `src` and `data` attributes wherever they are written, each read once
    /// (a quoted value to its closing quote or the line's end, no longer than a path): an HTML tag
    /// is read to the next `<` (`pattern`), so a tag with `<` inside an attribute (`title="<3"`) was
    /// no tag, and its `href` went out as written (a review).
    static func attributeValues(in source: NSString, units: [UInt16]) -> [(range: NSRange, link: WikiLink)] {
        attributeValuesRead(in: source, units: units).found
    }

    /// `attributeValues`, and where reading stopped when there were more than `mostReadings`.
    static func attributeValuesRead(in source: NSString, units: [UInt16]) -> (found: [(range: NSRange, link: WikiLink)], stoppedAt: Int?) {
        var found: [(range: NSRange, link: WikiLink)] = []
        func lower(_ unit: UInt16) -> UInt16 { unit >= 0x41 && unit <= 0x5A ? unit + 0x20 : unit }
        func isNameUnit(_ unit: UInt16) -> Bool { (unit >= 0x61 && unit <= 0x7A) || (unit >= 0x41 && unit <= 0x5A) || (unit >= 0x30 && unit <= 0x39) || unit == 0x2D || unit == 0x5F }
        var i = 0
        while i < units.count {
            guard units[i] == 0x3D else { i += 1; continue } // `=`
            if found.count >= PrivateLinks.mostReadings { return (found, i) }
            // The attribute's name before it (spaces allowed between).
            var end = i
            while end > 0, units[end - 1] == 0x20 || units[end - 1] == 0x09 { end -= 1 }
            var start = end
            while start > 0, end - start < 5, isNameUnit(units[start - 1]) { start -= 1 }
            let name = String(decoding: units[start..<end].map { UInt8(truncatingIfNeeded: lower($0)) }, as: UTF8.self)
            guard ["href", "src", "data"].contains(name), start == 0 || !isNameUnit(units[start - 1]) else { i += 1; continue }
            var at = i + 1
            while at < units.count, units[at] == 0x20 || units[at] == 0x09 { at += 1 }
            guard at < units.count else { break }
            let limit = min(units.count, at + 1 + PrivateLinks.longestDestination)
            var value: NSRange
            if units[at] == 0x22 || units[at] == 0x27 { // a quoted value
                let quote = units[at]
                var close = at + 1
                while close < limit, units[close] != quote, units[close] != 0x0A { close += 1 }
                value = NSRange(location: at + 1, length: close - at - 1)
                i = close + 1
            } else {
                var close = at
                while close < limit, units[close] != 0x20, units[close] != 0x09, units[close] != 0x0A, units[close] != 0x3E { close += 1 }
                value = NSRange(location: at, length: close - at)
                i = max(close, i + 1)
            }
            guard value.length > 0 else { continue }
            let written = decodingEntities(source.substring(with: value))
            if let link = destinationLink(written) { found.append((value, normalized(link))) }
        }
        return (found, nil)
    }

    /// Where `needle` (ASCII units; with `foldingCase`, lower-case letters that match either case)
    /// first occurs in `units` at or after `from`.
    static func find(_ needle: [UInt16], in units: [UInt16], from: Int, foldingCase: Bool = false) -> Int? {
        guard !needle.isEmpty, from >= 0, units.count >= needle.count else { return nil }
        var i = from
        while i <= units.count - needle.count {
            var j = 0
            while j < needle.count {
                var unit = units[i + j]
                if foldingCase, unit >= 0x41, unit <= 0x5A { unit += 0x20 }
                if unit != needle[j] { break }
                j += 1
            }
            if j == needle.count { return i }
            i += 1
        }
        return nil
    }

    /// Whether a bare name may start right after this unit: a space, a mark of ASCII punctuation
    /// but those a path is written with (`/ \ . - %`), or a quotation mark, dash or bracket of
    /// other scripts (`“ ” ‘ ’ „ « » – — 「 」`).
    static func startsReading(after unit: UInt16) -> Bool {
        switch unit {
        case 0x20, 0x21...0x2C, 0x3A...0x40, 0x5B, 0x5D...0x60, 0x7B...0x7E: return unit != 0x25
        case 0xA0, 0xAB, 0xBB, 0x2013, 0x2014, 0x2018...0x201F, 0x2039, 0x203A, 0x3000, 0x300C...0x3011, 0xFF08, 0xFF09: return true
        default: return false
        }
    }

    /// Whether a name holds a character form 5 (a bare path: letters, digits, `_ . % \ / -`)
    /// does not read, so that only a reading finds it.
    static func holdsMarkBeyondBarePath(_ name: String) -> Bool {
        name.unicodeScalars.contains { scalar in
            !(scalar.properties.isAlphabetic || scalar.properties.numericType != nil || "_.%\\/-".unicodeScalars.contains(scalar))
        }
    }

    /// The most spaces a bare name read before a `.md` may hold.
    static let wordsPerName = 12

    /// How many readings of a bare name are tried before a `.md`: the nearest starts (a name with
    /// twelve spaces and as many marks of punctuation has fewer).
    static let readingsPerName = 32

    /// The longest file name a reading's part between separators can be (UTF-16 units): 255
    /// bytes, percent-encoded.
    static let longestName = 3 * 255

    /// The most parentheses a Markdown link destination nests, as cmark reads them.
    static let deepestNesting = 32
    /// The longest Markdown link destination read (UTF-16 units): a path longer than the system's
    /// `PATH_MAX` names no note.
    static let longestDestination = 4_096

    /// A reference definition anywhere on a line (after `>` or a list marker too), its destination
    /// on the same line or the next.
    private static let referenceDefinition = try! NSRegularExpression(pattern: #"\[[^\[\]\n]+\]:[ \t]*\n?[ \t]*(<[^>\n]+>|[^\s<>]+)"#)

    /// `text` with CommonMark's backslash escapes undone (`\(` is `(`): only before ASCII punctuation.
    static func unescaped(_ text: String) -> String {
        guard text.holdsByte("\\") else { return text }
        var out = ""
        var escaping = false
        for character in text {
            if escaping {
                if !(character.isASCII && character.isPunctuation || character.isASCII && character.isSymbol) { out.append("\\") }
                out.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                out.append(character)
            }
        }
        if escaping { out.append("\\") }
        return out
    }

    /// The link a Markdown destination means, or `nil` for a web URL.
    static func destinationLink(_ written: String) -> WikiLink? {
        if written.lowercased().hasPrefix("obsidian:") { return obsidianURL(written) }
        if written.contains("://") || written.lowercased().hasPrefix("mailto:") { return nil }
        let path = written.removingPercentEncoding ?? written
        return WikiLink.parse("[[" + path + "]]") ?? WikiLink(target: path)
    }

    /// A link's target as a path the index can look up, whatever spelling pointed at it:
    /// percent-encoding (`Private%20Bank`) decoded, Windows separators (`Private\Bank`) made `/`.
    /// Redaction errs on the side of a match: a name that only looks like a private note's after
    /// this still counts as one.
    static func normalized(_ link: WikiLink) -> WikiLink {
        var link = link
        var target = link.target
        if target.contains("%"), let decoded = target.removingPercentEncoding { target = decoded }
        target = target.replacingOccurrences(of: "\\", with: "/")
        link.target = target
        return link
    }

    /// The note a Markdown link to an Obsidian URL names (`[bank](obsidian://open?vault=V&file=Private%2FBank)`,
    /// the usual way a copied Obsidian URL is pasted), or `nil`.
    static func markdownURL(_ written: String) -> WikiLink? {
        guard let open = written.range(of: "](") else { return nil }
        var url = written[open.upperBound...].dropLast()
        if url.hasPrefix("<"), url.hasSuffix(">") { url = url.dropFirst().dropLast() }
        if url.lowercased().hasPrefix("obsidian:") { return obsidianURL(String(url)) }
        // A `file:` URL to a note: its name is what can be looked up (the vault's place on disk varies).
        if url.lowercased().hasPrefix("file:"), let decoded = String(url.dropFirst(5)).removingPercentEncoding {
            return WikiLink(target: (decoded as NSString).lastPathComponent)
        }
        // A destination with spaces (written with `&#32;` or `&nbsp;`, which Obsidian renders as
        // spaces): a path all the same.
        if !url.isEmpty, !url.contains("://") {
            let path = String(url).removingPercentEncoding ?? String(url)
            return WikiLink.parse("[[" + path + "]]") ?? WikiLink(target: path)
        }
        return nil
    }

    /// `text` with HTML character references decoded: numeric ones (`&#47;`, `&#x2F;`) and the
    /// named ones a path or URL is written with (`&amp;`, `&sol;`, `&period;`…).
    static func decodingEntities(_ text: String) -> String {
        guard text.holdsByte("&") else { return text }
        let named: [String: String] = ["amp": "&", "sol": "/", "period": ".", "lowbar": "_", "hyphen": "-", "colon": ":", "quest": "?",
                                       "equals": "=", "percnt": "%", "num": "#", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " "]
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(12).firstIndex(of: ";") {
                let name = after[..<semi].lowercased()
                var decoded: String?
                if name.hasPrefix("#") {
                    let digits = name.dropFirst()
                    let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                    decoded = value.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else {
                    decoded = named[name]
                }
                if let decoded {
                    out += decoded
                    rest = after[after.index(after: semi)...]
                    continue
                }
            }
            out += "&"
            rest = after
        }
        return out + rest
    }

    /// The note an HTML element links or embeds (`href`, `src`, `data`); `nil` for none or a web address.
    static func htmlLink(_ written: String) -> WikiLink? {
        let source = written as NSString
        guard let match = attribute.firstMatch(in: written, range: NSRange(location: 0, length: source.length)),
              let group = (1...3).first(where: { match.range(at: $0).location != NSNotFound }) else { return nil }
        let value = source.substring(with: match.range(at: group))
        if value.hasPrefix("obsidian:") { return obsidianURL(value) }
        return value.contains("://") || value.hasPrefix("mailto:") ? nil : WikiLink.parse(value)
    }

    /// The note a reference-style definition (`[label]: <Private/Bank.md> "title"`) points at.
    static func referenceDefinition(_ written: String) -> WikiLink? {
        guard let colon = written.range(of: "]:") else { return nil }
        var rest = written[colon.upperBound...].trimmingWhitespaces()[...]
        if rest.hasPrefix("<"), let close = rest.firstIndex(of: ">") {
            rest = rest[rest.index(after: rest.startIndex)..<close]
        } else if let space = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) {
            rest = rest[..<space]
        }
        let value = String(rest)
        if value.hasPrefix("obsidian:") { return obsidianURL(value) }
        return value.isEmpty || value.contains("://") ? nil : WikiLink.parse(value)
    }

    /// The note an `obsidian://open` (or `obsidian://adv-uri`) link names: its `file` (a vault path,
    /// percent-encoded, `.md` optional); `nil` for one that names none.
    static func obsidianURL(_ written: String) -> WikiLink? {
        // Obsidian's short form: `obsidian://vault/<vault name>/<path in the vault>`.
        if let range = written.range(of: "://vault/", options: .caseInsensitive) {
            let rest = written[range.upperBound...].split(separator: "/", maxSplits: 1)
            // The note's path ends at a heading (`#…`) or a query (`?…`).
            let raw = rest.count == 2 ? rest[1].prefix { $0 != "#" && $0 != "?" } : ""
            if let path = String(raw).replacingOccurrences(of: "+", with: " ").removingPercentEncoding, !path.isEmpty {
                return WikiLink(target: path)
            }
        }
        guard let query = written.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for item in query.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1)
            let key = pair.first?.lowercased() ?? ""
            // A query writes a space as `+` as well as `%20`.
            guard pair.count == 2, key == "file" || key == "filepath" || key == "path",
                  let decoded = String(pair[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                  case let file = String(decoded.prefix { $0 != "#" }), !file.isEmpty else { continue }
            // `path=` is the file's absolute path on disk: its name is what can be looked up.
            return WikiLink(target: key == "path" ? (file as NSString).lastPathComponent : file)
        }
        return nil
    }

    /// The notes each link written in the note at `source` may mean, found in the memory index (the
    /// note of that path, else every note of that name: `MemoryIndex.anchorTargets`), with the link's
    /// literal path: no walk of the vault, which a burst of tasks would make for every packet.
    /// Every link is also resolved by `resolver` (the vault's files, as a walk found them and kept
    /// up to date folder by folder: `VaultFiles`): the index holds no attachment (`![[Biopsy.pdf]]`
    /// under `Private/`), no note it skipped (a NUL byte, over 20 MB, unreadable), and is stale
    /// when no watcher keeps it current (`run`, the MCP server): a note made or moved since, and
    /// links to each went out as written (two outside attacks).
    static func candidates(_ links: [WikiLink], from source: String, index: MemoryIndex, resolver: LinkResolver) -> [[String]] {
        let keys = links.map { LinkResolver.key($0.target) }
        let targets = (try? index.anchorTargets(keys)) ?? [:]
        return zip(links, keys).map { link, key in
            var paths = targets[key].map { target in target.exact.map { [$0.path] } ?? target.named.map(\.path) } ?? []
            // A name no note has may be an alias (`[[Dr Zorblat|my doctor]]`), as the resolver reads it.
            if paths.isEmpty { paths = (try? index.notes(withAlias: key)) ?? [] }
            // And what the vault's files say: the index may be stale (a note since moved into
            // `Private/`) or hold the public one of two notes of a name (it skipped the private one).
            for path in resolver.resolve(link, from: source).judged where !paths.contains(path) { paths.append(path) }
            return paths
        }
    }
}

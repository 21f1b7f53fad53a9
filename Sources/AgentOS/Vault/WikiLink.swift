import Foundation

/// A link written in a note, as Obsidian reads it: `[[Target#anchor|display]]`, an embed
/// `![[Target]]`, or a Markdown link `[display](Target.md#anchor)`.
///
/// The one parser of links: the index, routing, privacy and the context packet all read links
/// through it, and resolve them through `LinkResolver`.
public struct WikiLink: Equatable, Sendable {
    /// The path part as written, trimmed (`Folder/Note` in `[[Folder/Note#Part|shown]]`); a Markdown
    /// link's path is percent-decoded (`Some%20Note.md` → `Some Note.md`).
    public var target: String
    /// The heading or block after `#` (`Part`, `^block`), if any: where in the note, never part of its name.
    public var anchor: String?
    /// The text shown instead of the target (after `|`, or a Markdown link's bracketed text), if any.
    public var display: String?
    /// Whether it is an embed (`![[…]]` or `![…](…)`).
    public var isEmbed: Bool
    /// 1-based line of the link (1 for a link parsed on its own).
    public var line: Int

    /// A link given field by field.
    public init(target: String, anchor: String? = nil, display: String? = nil, isEmbed: Bool = false, line: Int = 1) {
        self.target = target
        self.anchor = anchor
        self.display = display
        self.isEmbed = isEmbed
        self.line = line
    }

    /// One link written on its own, as in a `context`, `task` or `sources` property: `[[…]]`, `![[…]]`,
    /// `[text](…)`, or a bare path (`Notes/A`, `Notes/A.md#Part`). `nil` for an empty target, a link
    /// within the same note (`[[#Heading]]`) or a Markdown link that leaves the vault (`https://…`).
    public static func parse(_ written: String) -> WikiLink? {
        var text = Substring(written.trimmingWhitespaces())
        var isEmbed = false
        if text.hasPrefix("!") {
            isEmbed = true
            text = text.dropFirst()
        }
        if text.hasPrefix("[[") && text.hasSuffix("]]") && text.count >= 4 {
            return wiki(inner: String(text.dropFirst(2).dropLast(2)), isEmbed: isEmbed, line: 1)
        }
        if text.hasPrefix("[") && text.hasSuffix(")") {
            // A Markdown link, or nothing when it leaves the vault (`[site](https://…)`).
            let found = links(in: String(text))
            return found.count == 1 ? found[0] : nil
        }
        return wiki(inner: String(text), isEmbed: isEmbed, line: 1)
    }

    /// Every link in a text, line by line, in order — including those inside code: routing and the
    /// packet follow a link however it is written (fail closed), unlike the index (`scanLine`).
    public static func links(in text: String) -> [WikiLink] {
        guard text.utf8.contains(UInt8(ascii: "[")) else { return [] }
        var found: [WikiLink] = []
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { mutable in
            let b = UnsafeBufferPointer(mutable)
            var line = 0
            var start = 0
            while start <= b.count {
                line += 1
                var end = start
                while end < b.count && b[end] != 0x0A { end += 1 }
                scanLine(b, start, end, line: line, skippingCodeSpans: false, into: &found) { $0 + 1 }
                start = end + 1
            }
        }
        return found
    }

    /// Finds the links on one line (`b[from..<to]`, no line break inside). With `skippingCodeSpans`,
    /// text inside `` `code` `` spans is passed over (Obsidian does not link there). Every other byte
    /// position is handed to `other`, which returns where to go on (so the index reads `#tags` in the
    /// same pass).
    @inline(__always)
    static func scanLine(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, line: Int, skippingCodeSpans: Bool, into links: inout [WikiLink], other: (Int) -> Int) {
        var i = from
        // Where the last searches for a link's `]` and its destination's end stopped: a search
        // from a position before either finds the same place (`markdown`), so a line of `[x](`
        // repeated is read once, not once from every `[` to the line's end.
        var found = MarkdownStops()
        while i < to {
            let c = b[i]
            if c == 0x60 && skippingCodeSpans { // `: skip a code span closed by as many backticks
                var j = i
                while j < to && b[j] == 0x60 { j += 1 }
                let run = j - i
                var k = j
                var closed = -1
                while k < to {
                    if b[k] == 0x60 {
                        var m = k
                        while m < to && b[m] == 0x60 { m += 1 }
                        if m - k == run { closed = m; break }
                        k = m
                    } else {
                        k += 1
                    }
                }
                i = closed >= 0 ? closed : j
                continue
            }
            if c == 0x5B { // [
                let isEmbed = i > from && b[i - 1] == 0x21
                if i + 1 < to, b[i + 1] == 0x5B {
                    // [[inner]]: inner holds no `[` and ends at the first `]]`.
                    let start = i + 2
                    var k = start
                    while k + 1 < to && !(b[k] == 0x5D && b[k + 1] == 0x5D) && b[k] != 0x5B { k += 1 }
                    if k + 1 < to, b[k] == 0x5D, b[k + 1] == 0x5D {
                        if let link = wiki(inner: text(b, start, k), isEmbed: isEmbed, line: line) { links.append(link) }
                        i = k + 2
                        continue
                    }
                } else if let (link, end) = markdown(b, i, to, isEmbed: isEmbed, line: line, found: &found) {
                    if let link { links.append(link) }
                    i = end
                    continue
                }
            }
            i = other(i)
        }
    }

    /// The inside of `[[…]]`: `target#anchor|display`; a `\|` (escaped inside a table) separates too.
    private static func wiki(inner: String, isEmbed: Bool, line: Int) -> WikiLink? {
        var targetPart = Substring(inner)
        var display: String?
        if let bar = inner.firstIndex(of: "|") {
            targetPart = inner[..<bar]
            display = String(inner[inner.index(after: bar)...])
            if targetPart.hasSuffix("\\") { targetPart = targetPart.dropLast() }
        }
        var anchor: String?
        if let hash = targetPart.firstIndex(of: "#") {
            anchor = String(targetPart[targetPart.index(after: hash)...]).trimmingWhitespaces()
            targetPart = targetPart[..<hash]
        }
        let target = targetPart.trimmingWhitespaces()
        // `[[#Heading]]` points within the same note, not to another one.
        guard !target.isEmpty else { return nil }
        return WikiLink(target: target, anchor: anchor, display: display, isEmbed: isEmbed, line: line)
    }

    /// A Markdown link starting at the `[` at `i`: `[text](path)`, `[text](<path with spaces>)`,
    /// optionally with a `"title"`. Returns the link (`nil` inside when it leaves the vault: a URL,
    /// `mailto:`, a same-note `#anchor`) and where it ends; `nil` when no link starts here.
    private static func markdown(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ to: Int, isEmbed: Bool, line: Int, found: inout MarkdownStops) -> (WikiLink?, Int)? {
        var k = i + 1
        if k <= found.bracket {
            k = found.bracket
        } else {
            while k < to && b[k] != 0x5D { k += 1 }
            found.bracket = k
        }
        guard k + 1 < to, b[k + 1] == 0x28 else { return nil } // ](
        var p = k + 2
        let destination: Range<Int>
        if p < to && b[p] == 0x3C { // <path with spaces>
            var q = p + 1
            while q < to && b[q] != 0x3E && b[q] != 0x3C { q += 1 }
            guard q < to, b[q] == 0x3E, q > p + 1 else { return nil }
            destination = (p + 1)..<q
            p = q + 1
        } else {
            var q = p
            if p <= found.destinationEnd {
                q = found.destinationEnd
            } else {
                while q < to && b[q] != 0x29 && b[q] != 0x3C && b[q] != 0x3E && b[q] != 0x20 && b[q] != 0x09 { q += 1 }
                found.destinationEnd = q
            }
            guard q > p else { return nil }
            destination = p..<q
            p = q
        }
        // An optional title after white space: `(path "title")`.
        var r = p
        while r < to && (b[r] == 0x20 || b[r] == 0x09) { r += 1 }
        if r > p, r < to, b[r] == 0x22 {
            var s = r + 1
            while s < to && b[s] != 0x22 { s += 1 }
            guard s < to else { return nil }
            p = s + 1
        }
        guard p < to, b[p] == 0x29 else { return nil }
        let end = p + 1
        let raw = text(b, destination.lowerBound, destination.upperBound)
        if raw.contains("://") || raw.hasPrefix("#") || raw.lowercased().hasPrefix("mailto:") { return (nil, end) }
        // The heading after a literal `#`, split before decoding: `%23` is a `#` in the file's name.
        var pathPart = Substring(raw)
        var anchor: String?
        if let hash = pathPart.firstIndex(of: "#") {
            let after = String(pathPart[pathPart.index(after: hash)...])
            anchor = after.removingPercentEncoding ?? after
            pathPart = pathPart[..<hash]
        }
        let target = (String(pathPart).removingPercentEncoding ?? String(pathPart)).trimmingWhitespaces()
        guard !target.isEmpty else { return (nil, end) }
        let shown = text(b, i + 1, k)
        return (WikiLink(target: target, anchor: anchor, display: shown.isEmpty ? nil : shown, isEmbed: isEmbed, line: line), end)
    }

    /// Where `markdown`'s two forward searches of one line last stopped: the first `]` (or the
    /// line's end) and the first byte ending a destination (or the line's end); -1 before any.
    struct MarkdownStops {
        var bracket = -1
        var destinationEnd = -1
    }

    private static func text(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[from..<to]), as: UTF8.self)
    }
}

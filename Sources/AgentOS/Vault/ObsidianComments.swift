import Foundation

/// Obsidian's comments, `%% … %%`: shown only while editing, and never sent to an agent. Read as
/// Obsidian reads them: not inside a fenced code block nor an inline code span (`printf("%%d")` is
/// code), across lines when they span lines, and an unclosed `%%` hides the rest of the text.
enum ObsidianComments {
    /// `text` without its comments. With `keepingLines`, the line breaks inside a comment are kept,
    /// so that line `n` of the result is what is left of line `n` of `text` (a context piece is cut by
    /// the line numbers of the index).
    static func removing(from text: String, keepingLines: Bool = false) -> String {
        guard text.contains("%%") else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var inComment = false
        var fence: (marker: Character, length: Int)?
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (number, line) in lines.enumerated() {
            if number > 0, !inComment || keepingLines { out += "\n" }
            if !inComment {
                if let open = fence {
                    out += line
                    if let found = fenceMarker(line), found.marker == open.marker, found.length >= open.length, found.rest.allSatisfy(\.isWhitespace) { fence = nil }
                    continue
                }
                if let found = fenceMarker(line) {
                    fence = (found.marker, found.length)
                    out += line
                    continue
                }
            }
            var i = line.startIndex
            while i < line.endIndex {
                if inComment {
                    if line[i...].hasPrefix("%%") { inComment = false; i = line.index(i, offsetBy: 2) } else { i = line.index(after: i) }
                    continue
                }
                if line[i] == "`" {
                    // An inline code span: a run of backticks up to the next run of the same length.
                    var end = i
                    while end < line.endIndex, line[end] == "`" { end = line.index(after: end) }
                    let run = line.distance(from: i, to: end)
                    var search = end
                    var closed: String.Index?
                    while search < line.endIndex {
                        guard line[search] == "`" else { search = line.index(after: search); continue }
                        var stop = search
                        while stop < line.endIndex, line[stop] == "`" { stop = line.index(after: stop) }
                        if line.distance(from: search, to: stop) == run { closed = stop; break }
                        search = stop
                    }
                    let through = closed ?? end
                    out += line[i..<through]
                    i = through
                    continue
                }
                if line[i...].hasPrefix("%%") {
                    inComment = true
                    i = line.index(i, offsetBy: 2)
                    continue
                }
                out.append(line[i])
                i = line.index(after: i)
            }
        }
        return out
    }

    /// A line that opens or closes a fenced code block: up to three spaces, then three or more
    /// backticks or tildes; the marker, its length, and what follows it.
    private static func fenceMarker(_ line: Substring) -> (marker: Character, length: Int, rest: Substring)? {
        let indent = line.prefix { $0 == " " }
        guard indent.count <= 3 else { return nil }
        let rest = line.dropFirst(indent.count)
        guard let marker = rest.first, marker == "`" || marker == "~" else { return nil }
        let run = rest.prefix { $0 == marker }
        guard run.count >= 3 else { return nil }
        return (marker, run.count, rest.dropFirst(run.count))
    }
}

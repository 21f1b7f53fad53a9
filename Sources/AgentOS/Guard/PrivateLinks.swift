import Foundation

/// Links to private notes inside text that leaves the machine. A public note may link a private
/// one (`[[Cancer diagnosis#Treatment]]`, `[[Dr Zorblat|my doctor]]`, `![[Bank]]`): the link's
/// target, heading and alias are the private note's name, which is private text too. A packet for a
/// task that is not private keeps such a note (it is public) but not those links: each becomes
/// `(a private note)`, as a daily line linking a private note is left out.
enum PrivateLinks {
    /// Wikilinks and embeds on one line, Markdown links (`[text](Note.md)`, `![](Note.md)`), and
    /// the `obsidian://open?vault=…&file=…` links Obsidian's "Copy Obsidian URL" makes.
    private static let pattern = try! NSRegularExpression(pattern: #"!?\[\[[^\[\]\n]+\]\]|!?\[[^\[\]\n]*\]\([^()\n]+\)|obsidian://[^\s()<>\[\]"']+"#)

    /// What a link to a private note is replaced with.
    static let placeholder = "(a private note)"

    /// `text`, written in the note at `path`, with every link that may mean a private note (any of
    /// the notes `candidates` gives for it, asked once for all the text's links) replaced by
    /// `placeholder`; and how many were. `isPrivate` judges a vault path (the caller keeps its
    /// verdicts for the packet).
    static func redacting(_ text: String, in path: String, candidates: ([WikiLink]) -> [[String]], isPrivate: (String) -> Bool) -> (text: String, count: Int) {
        guard text.contains("[") else { return (text, 0) }
        let source = text as NSString
        var found: [(range: NSRange, link: WikiLink)] = []
        for match in pattern.matches(in: text, range: NSRange(location: 0, length: source.length)) {
            let written = source.substring(with: match.range)
            if let link = written.hasPrefix("obsidian://") ? obsidianURL(written) : WikiLink.parse(written) { found.append((match.range, link)) }
        }
        guard !found.isEmpty else { return (text, 0) }
        let meant = candidates(found.map(\.link))
        var out = ""
        var last = 0
        var count = 0
        for ((range, _), paths) in zip(found, meant) where paths.contains(where: isPrivate) {
            out += source.substring(with: NSRange(location: last, length: range.location - last)) + placeholder
            last = range.location + range.length
            count += 1
        }
        guard count > 0 else { return (text, 0) }
        return (out + source.substring(from: last), count)
    }

    /// The note an `obsidian://open` (or `obsidian://adv-uri`) link names: its `file` (a vault path,
    /// percent-encoded, `.md` optional); `nil` for one that names none.
    static func obsidianURL(_ written: String) -> WikiLink? {
        guard let query = written.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for item in query.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].lowercased() == "file" || pair[0].lowercased() == "filepath",
                  let file = String(pair[1]).removingPercentEncoding, !file.isEmpty else { continue }
            return WikiLink(target: file)
        }
        return nil
    }

    /// The notes each link written in the note at `source` may mean, found in the memory index (the
    /// note of that path, else every note of that name: `MemoryIndex.anchorTargets`), with the link's
    /// literal path: no walk of the vault, which a burst of tasks would make for every packet.
    static func candidates(_ links: [WikiLink], from source: String, index: MemoryIndex) -> [[String]] {
        let keys = links.map { LinkResolver.key($0.target) }
        let targets = (try? index.anchorTargets(keys)) ?? [:]
        return zip(links, keys).map { link, key in
            var paths = targets[key].map { target in target.exact.map { [$0.path] } ?? target.named.map(\.path) } ?? []
            // A name no note has may be an alias (`[[Dr Zorblat|my doctor]]`), as the resolver reads it.
            if paths.isEmpty { paths = (try? index.notes(withAlias: key)) ?? [] }
            if let literal = LinkResolver.literalPath(link.target, from: source), !paths.contains(literal) { paths.append(literal) }
            return paths
        }
    }
}

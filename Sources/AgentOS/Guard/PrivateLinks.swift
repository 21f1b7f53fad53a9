import Foundation

/// Links to private notes inside text that leaves the machine. A public note may link a private
/// one (`[[Cancer diagnosis#Treatment]]`, `[[Dr Zorblat|my doctor]]`, `![[Bank]]`): the link's
/// target, heading and alias are the private note's name, which is private text too. A packet for a
/// task that is not private keeps such a note (it is public) but not those links: each becomes
/// `(a private note)`, as a daily line linking a private note is left out.
enum PrivateLinks {
    /// Wikilinks and embeds on one line, and Markdown links (`[text](Note.md)`, `![](Note.md)`).
    private static let pattern = try! NSRegularExpression(pattern: #"!?\[\[[^\[\]\n]+\]\]|!?\[[^\[\]\n]*\]\([^()\n]+\)"#)

    /// What a link to a private note is replaced with.
    static let placeholder = "(a private note)"

    /// `text`, written in the note at `path`, with every link that may mean a private note (any
    /// candidate of the resolver's, `LinkResolution.judged`) replaced by `placeholder`; and how many
    /// were. `isPrivate` judges a vault path (the caller keeps its verdicts for the packet).
    static func redacting(_ text: String, in path: String, links: LinkResolver, isPrivate: (String) -> Bool) -> (text: String, count: Int) {
        guard text.contains("[") else { return (text, 0) }
        let source = text as NSString
        var out = ""
        var last = 0
        var count = 0
        for match in pattern.matches(in: text, range: NSRange(location: 0, length: source.length)) {
            let written = source.substring(with: match.range)
            guard let link = WikiLink.parse(written), links.resolve(link, from: path).judged.contains(where: isPrivate) else { continue }
            out += source.substring(with: NSRange(location: last, length: match.range.location - last)) + placeholder
            last = match.range.location + match.range.length
            count += 1
        }
        guard count > 0 else { return (text, 0) }
        return (out + source.substring(from: last), count)
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The link pattern `PrivateLinks` reads text with, and its cheaper twin for text without `.md`.
@Suite struct PrivateLinksPatternTests {
    /// Text holding no `.md` is read without the bare-path form (which cannot match there and cost
    /// four times the other forms): on every piece of every note of the Obsidian Help vault, real
    /// text with wikilinks, Markdown and HTML links, Obsidian URLs and reference definitions in many
    /// languages, both patterns find exactly the same matches; and a note holding `.md` is read
    /// with the full one.
    @Test func withoutDotMDTheCheaperPatternFindsTheSameMatches() throws {
        let root = ObsidianHelpCorpus.root
        let files = try #require(FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".md") })
        #expect(files.count > 2000)
        var compared = 0
        var withDotMD = 0
        func matches(_ pattern: NSRegularExpression, _ text: String) -> [[NSRange]] {
            pattern.matches(in: text, range: NSRange(location: 0, length: (text as NSString).length)).map { match in
                (0..<match.numberOfRanges).map { match.range(at: $0) }
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: root + "/" + file) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            if PrivateLinks.holdsDotMD(text) {
                withDotMD += 1
                continue
            }
            #expect(matches(PrivateLinks.pattern, text) == matches(PrivateLinks.patternWithoutBarePaths, text), "\(file)")
            compared += 1
        }
        #expect(compared > 1000 && withDotMD > 0, "\(compared) compared, \(withDotMD) hold .md")
        // `.MD` in any case is a path too (round 53); `.m d` and `md` alone are not.
        #expect(PrivateLinks.holdsDotMD("see Notes/a.md") && PrivateLinks.holdsDotMD("see Notes/a.MD") && PrivateLinks.holdsDotMD("a.Md"))
        #expect(!PrivateLinks.holdsDotMD("see Notes/a .m d and md and .mx"))
    }
}

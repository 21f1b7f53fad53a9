import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// The twenty-fifth outside attack on the release binary (`/work/attack60-report.md`), each
/// finding written as the attack it was.
@Suite struct TwentyFifthAttackTests {
    static func hidden(_ text: String, private name: String) -> String {
        PrivateLinks.redacting(text, in: "Memory/Forms.md", candidates: { found in
            found.map { link in [link.target, link.target + ".md"].contains(name) || link.target == "Memory/" + name || link.target + ".md" == "Memory/" + name ? ["Memory/" + name] : [] }
        }, isPrivate: { $0 == "Memory/" + name }).text
    }

    /// Attack (low-medium, older than round 24): a bare path of a private note whose name holds an
    /// apostrophe or parentheses, or more than seven words, went out as written; and (low) a name
    /// with more marks than the nearest readings (`Help!!!…!!! my PRIVBANGS.md`).
    @Test(arguments: ["Dad's scan.md", "Therapy (Dr Z).md", "one two three four five six seven eight nine ten.md",
                      "Help" + String(repeating: "!", count: 40) + " my PRIVBANGS.md", "Mum’s letters (2024).md"])
    func aNameWithApostropheParenthesesOrManyWordsIsHidden(_ name: String) {
        let stem = String(name.dropLast(3))
        for text in ["see Memory/\(name) today", "see \(name) today"] {
            let out = Self.hidden(text, private: name)
            #expect(!out.contains(stem.suffix(6)), "\(text) → \(out)")
        }
    }

    /// Attack (low): the other languages' stop words dropped English words and abbreviations
    /// ("AI todo" retrieved nothing). Those are stop words only in a text of that language.
    @Test func englishWordsStayUnlessTheTextIsInThatLanguage() {
        let english = RelatedQuery.words(from: "AI todo list for the OS: add a comment, plus the van and the EU dir")
        for word in ["ai", "todo", "os", "comment", "plus", "van", "eu", "dir"] { #expect(english.contains(word), "\(word) in \(english)") }
        let french = RelatedQuery.words(from: "comment je colore les notes du graphe pour mon dossier")
        for word in ["comment", "je", "les", "du", "pour", "mon"] { #expect(!french.contains(word), "\(word) in \(french)") }
        #expect(french.contains("graphe") && french.contains("dossier"))
        let german = RelatedQuery.words(from: "Wie kann ich mit dem Plugin meine Notizen im Ordner sortieren")
        for word in ["mit", "im", "ich", "meine"] { #expect(!german.contains(word), "\(word) in \(german)") }
    }
}

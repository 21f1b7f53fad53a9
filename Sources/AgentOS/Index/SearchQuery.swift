/// A search typed by a person or an agent, parsed into terms and turned into a safe FTS5 expression.
///
/// Syntax: words (all must match), `"a phrase"`, `prefix*`, `-excluded` (a word or a phrase), and
/// `OR` between alternatives (`login OR signin timeout` = login, or signin and timeout). User text never
/// reaches `MATCH` raw: every term is quoted, so FTS5 operators typed by accident stay words.
public struct SearchQuery: Equatable, Sendable {
    /// One term: the text and whether it is a phrase or a prefix.
    public struct Term: Equatable, Sendable {
        public var text: String
        public var isPhrase: Bool
        public var isPrefix: Bool
    }

    /// Alternatives (joined by `OR`); every term of one alternative must match.
    public var alternatives: [[Term]]
    /// Terms no hit may contain.
    public var excluded: [Term]

    /// Errors in a query.
    public enum Problem: Error, Equatable, CustomStringConvertible, Sendable {
        /// Nothing searchable in the query.
        case empty
        /// Only exclusions: FTS5 cannot list "everything except".
        case onlyExclusions
        /// More different words and phrases than a search weighs (`maxTerms`), with their count.
        case tooManyTerms(Int)

        public var description: String {
            switch self {
            case .empty: return "the query has no words to search for"
            case .onlyExclusions: return "the query only excludes words; add at least one word to search for"
            case .tooManyTerms(let count):
                return "the query has \(count) different words and phrases; search takes at most \(SearchQuery.maxTerms) (to find the notes about a whole paragraph, use 'related' or a task's packet)"
            }
        }
    }

    /// The most different words and phrases one query holds: each is weighed by its own argument
    /// of the ranking function, and SQLite takes at most 127 arguments (a pasted paragraph of 120
    /// words failed with SQL in its error).
    public static let maxTerms = 64

    /// Parses a query. Terms without any letter or digit are dropped.
    public init(_ text: String) throws(Problem) {
        var alternatives: [[Term]] = [[]]
        var excluded: [Term] = []
        let scalars = Array(text.unicodeScalars)
        var i = 0
        var negateNext = false
        while i < scalars.count {
            let c = scalars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{3000}" {
                i += 1
                continue
            }
            var negated = negateNext
            negateNext = false
            if c == "-" || c == "\u{2212}", i + 1 < scalars.count, scalars[i + 1] != " " {
                negated = true
                i += 1
            }
            var term: Term
            if i < scalars.count && (scalars[i] == "\"" || scalars[i] == "\u{201C}" || scalars[i] == "\u{201D}") {
                i += 1
                var phrase = String.UnicodeScalarView()
                while i < scalars.count && scalars[i] != "\"" && scalars[i] != "\u{201D}" && scalars[i] != "\u{201C}" {
                    phrase.append(scalars[i])
                    i += 1
                }
                i += 1
                var isPrefix = false
                while i < scalars.count && scalars[i] == "*" { isPrefix = true; i += 1 }
                term = Term(text: String(phrase), isPhrase: true, isPrefix: isPrefix)
            } else {
                var word = String.UnicodeScalarView()
                while i < scalars.count, !(scalars[i] == " " || scalars[i] == "\t" || scalars[i] == "\n" || scalars[i] == "\r" || scalars[i] == "\u{3000}" || scalars[i] == "\"") {
                    word.append(scalars[i])
                    i += 1
                }
                var text = String(word)
                if !negated {
                    if text == "OR" { alternatives.append([]); continue }
                    if text == "AND" { continue }
                    if text == "NOT" { negateNext = true; continue }
                }
                var isPrefix = false
                while text.hasSuffix("*") { text.removeLast(); isPrefix = true }
                // A note's file name as typed (`Mobile app.md`): the extension is no word of it.
                if !isPrefix, text.count > 3, text.lowercased().hasSuffix(".md") { text.removeLast(3) }
                term = Term(text: text, isPhrase: false, isPrefix: isPrefix)
            }
            guard SearchQuery.hasTokenCharacters(term.text) else { continue }
            // A word said twice is one word (a pasted text repeats many).
            if negated {
                if !excluded.contains(term) { excluded.append(term) }
            } else if !alternatives[alternatives.count - 1].contains(term) {
                alternatives[alternatives.count - 1].append(term)
            }
        }
        alternatives.removeAll { $0.isEmpty }
        if alternatives.isEmpty { throw excluded.isEmpty ? .empty : .onlyExclusions }
        let count = alternatives.reduce(excluded.count) { $0 + $1.count }
        if count > SearchQuery.maxTerms { throw .tooManyTerms(count) }
        self.alternatives = alternatives
        self.excluded = excluded
    }

    /// Whether text holds a letter or digit (anything else is a separator to the tokenizer).
    static func hasTokenCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.isAlphabetic || $0.properties.numericType != nil }
    }

    static func quoted(_ term: Term) -> String {
        let text = TextSegmenter.segment(term.text).replacingOccurrences(of: "\"", with: "\"\"")
        return "\"" + text + "\"" + (term.isPrefix ? "*" : "")
    }

    /// An expression matching any excluded term (`nil` without exclusions). FTS5's `NOT` works per
    /// section; this one is used to drop whole notes that mention an excluded term anywhere.
    var exclusionExpression: String? {
        excluded.isEmpty ? nil : excluded.map(SearchQuery.quoted).joined(separator: " OR ")
    }

    /// The FTS5 expression: every term a quoted string, so no user text is read as syntax.
    public var matchExpression: String {
        let quoted = SearchQuery.quoted
        let groups = alternatives.map { terms in
            terms.count == 1 ? quoted(terms[0]) : "(" + terms.map(quoted).joined(separator: " AND ") + ")"
        }
        var expression = groups.count == 1 ? groups[0] : "(" + groups.joined(separator: " OR ") + ")"
        for term in excluded { expression += " NOT " + quoted(term) }
        return expression
    }

    /// The phrases of `matchExpression` in the order FTS5 numbers them (left to right): each term
    /// of each alternative, then the excluded ones, as quoted there.
    var phrases: [String] {
        alternatives.joined().map(SearchQuery.quoted) + excluded.map(SearchQuery.quoted)
    }

    /// The title key the query would equal if it is a note's title: only for one alternative
    /// without prefixes (`Obsidian Sync` or `"Obsidian Sync"`).
    var titleKey: String? {
        guard alternatives.count == 1, !alternatives[0].contains(where: \.isPrefix) else { return nil }
        let key = NoteScanner.titleKey(alternatives[0].map(\.text).joined(separator: " "))
        return key.isEmpty ? nil : key
    }
}

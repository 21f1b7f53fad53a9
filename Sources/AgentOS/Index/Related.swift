import Foundation

/// A note a context packet would retrieve for a text: the note, the section its piece is cut from,
/// and the relevance that put it there.
public struct RelatedHit: Equatable, Sendable {
    /// The note's vault-relative path.
    public var path: String
    /// The note's title (its file name without `.md`).
    public var title: String
    /// The heading of the section the piece is cut from (empty before the first heading).
    public var heading: String
    /// The section's first line (1-based; the heading line, or line 1 for the part before any heading).
    public var line: Int
    /// The section's last line.
    public var endLine: Int
    /// Relevance: the negated, weighted bm25 of the note's best section in `memory`. Higher is better.
    public var score: Double
}

/// Which notes retrieval may return. The default leaves out nothing but the layout folders' READMEs;
/// a packet passes the guardrails' `memory_exclude` folders and the notes it already holds.
public struct RelatedScope: Equatable, Sendable {
    /// Folders (vault-relative) whose notes are never returned, at any depth below them.
    public var excludedFolders: [String]
    /// Paths never returned (the task itself and the notes it links: they are in the packet already).
    public var skippedPaths: Set<String>

    /// A scope leaving out `excludedFolders` and `skippedPaths`.
    public init(excludedFolders: [String] = [], skippedPaths: Set<String> = []) {
        self.excludedFolders = excludedFolders
        self.skippedPaths = skippedPaths
    }

    /// Whether a path is outside what retrieval may return.
    public func excludes(_ path: String) -> Bool {
        if skippedPaths.contains(path) { return true }
        // The READMEs `init` writes explain the vault's layout; they answer no question a task asks.
        if Vault.Layout.folders.contains(where: { path == $0 + "/README.md" }) { return true }
        let lowered = path.lowercased()
        return excludedFolders.contains { folder in
            let prefix = folder.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/"
            return prefix != "/" && lowered.hasPrefix(prefix)
        }
    }
}

/// How task text becomes a retrieval query: its meaningful words (stop words left out), each a
/// quoted term, joined with OR, so every word can contribute and none is required.
public enum RelatedQuery {
    /// The most words a query keeps (a long task body would otherwise rank every note of the vault).
    public static let maxWords = 32

    /// The meaningful words of a text, lower-cased, in order, each once: letters and digits runs of two
    /// characters or more that are not stop words or bare numbers. A run of CJK characters stays one
    /// word (searched as the phrase of its characters).
    public static func words(from text: String) -> [String] {
        var words: [String] = []
        var seen = Set<String>()
        var current = ""
        func flush() {
            defer { current = "" }
            let lowered = current.lowercased()
            guard lowered.count >= 2, !stopWords.contains(lowered), !lowered.allSatisfy(\.isNumber), seen.insert(lowered).inserted else { return }
            words.append(lowered)
        }
        for character in text {
            if words.count >= maxWords { break }
            // "don't" splits into "don" and "t": both are left out (a stop word, a single letter).
            if character.isLetter || character.isNumber { current.append(character) } else { flush() }
        }
        flush()
        return Array(words.prefix(maxWords))
    }

    /// The FTS5 expression for `words`: every word a quoted term (no user text is read as syntax), OR.
    static func expression(_ words: [String]) -> String {
        words.map { SearchQuery.quoted(SearchQuery.Term(text: $0, isPhrase: false, isPrefix: false)) }.joined(separator: " OR ")
    }

    /// English stop words: function words, and the words every request is made of ("how", "want",
    /// "please"). Porter stemming covers English only, so only English is listed; words of other
    /// languages all count.
    public static let stopWords: Set<String> = [
        "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
        "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
        "does", "doing", "done", "down", "during", "each", "else", "etc", "even", "ever", "every", "few", "for", "from",
        "further", "get", "gets", "getting", "got", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
        "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "let", "like", "me",
        "might", "mine", "more", "most", "much", "must", "my", "myself", "need", "needs", "no", "nor", "not", "now", "of",
        "off", "on", "once", "one", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "please",
        "same", "shall", "she", "should", "so", "some", "something", "such", "than", "that", "the", "their", "theirs",
        "them", "themselves", "then", "there", "these", "they", "thing", "things", "this", "those", "through", "to", "too",
        "under", "until", "up", "us", "use", "using", "very", "want", "wants", "was", "way", "we", "were", "what", "when",
        "where", "whether", "which", "while", "who", "whom", "why", "will", "with", "without", "would", "yet", "you",
        "your", "yours", "yourself", "yourselves", "don", "doesn", "didn", "isn", "aren", "wasn", "weren", "won", "ll",
        "ve", "re", "able", "really", "still", "make", "makes", "made", "task",
    ]
}

extension MemoryIndex {
    /// A hit is kept only if its score is at least this share of the best hit's: weaker matches share
    /// a word or two with the task by chance, and would fill the packet's budget with noise.
    public static let relatedFloor = 0.4

    /// The notes a context packet retrieves for `text`, best first: sections of the stemmed `memory`
    /// table ranked by bm25 (title ×5, headings ×3, body ×1, properties ×0.2) for the text's
    /// meaningful words joined with OR, one hit per note (its best section, so a note's sections never
    /// push each other or the note out); hits under `relatedFloor` of the best are left out.
    public func related(to text: String, scope: RelatedScope = RelatedScope(), limit: Int = 6) throws -> [RelatedHit] {
        // Statements left on a row would pin this connection to an old snapshot of the index.
        defer { database.resetAllStatements() }
        let words = RelatedQuery.words(from: text)
        guard !words.isEmpty, limit > 0 else { return [] }
        let expression = RelatedQuery.expression(words)
        var hits: [RelatedHit] = []
        var window = max(limit * 8, 64)
        while true {
            hits.removeAll()
            var notes = Set<Int64>()
            let statement = try database.prepare("""
                SELECT memory.rowid, memory.path, memory.heading, memory.start_line, memory.end_line, memory.rank, n.title
                FROM memory JOIN notes n ON n.id = (memory.rowid >> \(NoteScanner.sectionBits)) WHERE memory MATCH ? ORDER BY memory.rank LIMIT ?
                """)
            try statement.bind([.text(expression), .int(Int64(window))])
            var rows = 0
            while try statement.step() {
                rows += 1
                let path = statement.text(1)
                guard notes.insert(statement.int64(0) >> NoteScanner.sectionBits).inserted, !scope.excludes(path) else { continue }
                hits.append(RelatedHit(path: path, title: statement.text(6), heading: statement.text(2), line: statement.int(3), endLine: statement.int(4), score: -statement.double(5)))
                if hits.count >= limit { break }
            }
            statement.reset()
            if hits.count >= limit || rows < window { break }
            window *= 8
        }
        guard let best = hits.first?.score, best > 0 else { return [] }
        return hits.filter { $0.score >= best * MemoryIndex.relatedFloor }
    }
}

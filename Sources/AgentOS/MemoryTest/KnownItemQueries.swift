import Foundation

/// A query whose right answer is known: the note it was made from.
public struct KnownItemQuery: Sendable, Equatable {
    /// `title` (the note's file name), `heading` (a heading no other note has) or `phrase` (the
    /// rarest words of one sentence of the note).
    public var kind: String
    /// The text searched.
    public var text: String
    /// The vault-relative path of the note that must be found.
    public var target: String
}

/// Makes known-item queries from a vault's own notes and measures how well search finds them.
///
/// The sample is deterministic: notes are ordered by a hash of the seed and their path, so the same
/// vault gives the same queries, and adding a note changes the sample by at most that note.
public enum KnownItemQueries {
    /// The query kinds, in report order.
    public static let kinds = ["title", "heading", "phrase"]
    /// Hits asked for per query (MRR counts ranks up to here; recall counts the first five).
    public static let depth = 10
    /// Words in a `phrase` query.
    static let phraseWords = 3

    /// Queries from `sampleSize` notes of the index (all notes when `nil`), at most one per kind per note.
    public static func make(index: MemoryIndex, seed: UInt64, sampleSize: Int?) throws -> [KnownItemQuery] {
        let db = index.database
        let notes = try db.query("SELECT path, title, name_key FROM notes") { ($0.text(0), $0.text(1), $0.text(2)) }
        var namesakes: [String: Int] = [:]
        for note in notes { namesakes[note.2, default: 0] += 1 }
        // Headings by lower-cased text → the notes that have them (a heading in two notes is no known item).
        var headingOwners: [String: Set<String>] = [:]
        var headingsByNote: [String: [String]] = [:]
        try db.query("SELECT path, heading FROM sections WHERE heading != ''") { ($0.text(0), $0.text(1)) }.forEach { path, heading in
            headingOwners[heading.lowercased(), default: []].insert(path)
            headingsByNote[path, default: []].append(heading)
        }
        try db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.memory_test_vocabulary USING fts5vocab(main, 'sections', 'row')")
        let vocabulary = try db.prepare("SELECT doc FROM temp.memory_test_vocabulary WHERE term = ?")

        // The machinery's own notes change on every run; they would make the sample drift.
        let eligible = notes.filter { !$0.0.hasPrefix(Vault.Layout.telemetry + "/") && !$0.0.hasPrefix(Vault.Layout.results + "/") }
        let ordered = eligible.sorted { sampleKey($0.0, seed: seed) < sampleKey($1.0, seed: seed) }
        // No private note: the queries and what they missed are written into the report, a public
        // note (its title, headings and words are private text).
        let store = NoteStore(vault: index.vault)
        let guardrails = RuleBook.load(vault: index.vault).guardrails
        let links = LinkResolver(vault: index.vault)
        var sample: [(String, String, String)] = []
        for note in ordered {
            if let size = sampleSize, sample.count >= size { break }
            if Privacy.reason(ofNoteAt: note.0, store: store, guardrails: guardrails, links: links) == nil { sample.append(note) }
        }

        var queries: [KnownItemQuery] = []
        for (path, title, nameKey) in sample {
            var random = SeededRandom(seed: sampleKey(path, seed: seed ^ 0x5EED))
            if namesakes[nameKey] == 1, isPlainQuery(title) {
                queries.append(KnownItemQuery(kind: "title", text: title, target: path))
            }
            let titleLower = title.lowercased()
            let headings = (headingsByNote[path] ?? []).filter { heading in
                heading.lowercased() != titleLower && headingOwners[heading.lowercased()]?.count == 1 && isPlainQuery(heading) && heading.contains(where: \.isLetter)
            }
            if !headings.isEmpty {
                queries.append(KnownItemQuery(kind: "heading", text: headings[random.below(headings.count)], target: path))
            }
            if let phrase = try distinctivePhrase(path: path, vault: index.vault, vocabulary: vocabulary, random: &random) {
                queries.append(KnownItemQuery(kind: "phrase", text: phrase, target: path))
            }
        }
        vocabulary.reset()
        return queries
    }

    /// The rarest words (by how many sections hold them) of one sentence of the note, picked at random
    /// among its lines with enough plain words. Words of one line sit in one section, so the note can
    /// match them all at once.
    static func distinctivePhrase(path: String, vault: Vault, vocabulary: Statement, random: inout SeededRandom) throws -> String? {
        guard let bytes = try? FileSystem.read(vault.root + "/" + path, limit: MemoryIndex.maxNoteBytes).bytes else { return nil }
        let body: String
        if let note = try? Note.parse(bytes: bytes) { body = note.body } else { body = String(decoding: bytes, as: UTF8.self) }
        var candidates: [[String]] = []
        var inFence = false
        for rawLine in body.split(separator: "\n", omittingEmptySubsequences: true).prefix(400) {
            let line = rawLine.trimmingWhitespaces()
            if line.hasPrefix("```") || line.hasPrefix("~~~") {
                inFence.toggle()
                continue
            }
            if inFence || line.hasPrefix("#") || line.hasPrefix("|") || line.hasPrefix("<") { continue }
            // Whole words only: a word with an accent is left out, not cut at it (the tokenizer keeps
            // "implementată" whole, so the fragment "implementat" would be a word no note holds).
            let words = line.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).filter { $0.count >= 4 && $0.allSatisfy { $0.isASCII && $0.isLetter } }.map { $0.lowercased() }
            var seen: Set<String> = []
            let distinct = words.filter { seen.insert($0).inserted }
            if distinct.count >= phraseWords + 2 { candidates.append(distinct) }
        }
        guard !candidates.isEmpty else { return nil }
        let words = candidates[random.below(candidates.count)]
        var scored: [(word: String, sections: Int64, position: Int)] = []
        for (position, word) in words.enumerated() {
            vocabulary.reset()
            try vocabulary.bind(.text(word), at: 1)
            // A word the tokenizer stores differently (it should not happen for plain ASCII) is skipped.
            guard try vocabulary.step() else { continue }
            scored.append((word, vocabulary.int64(0), position))
        }
        guard scored.count >= phraseWords else { return nil }
        let rarest = scored.sorted { ($0.sections, $0.position) < ($1.sections, $1.position) }.prefix(phraseWords)
        return rarest.sorted { $0.position < $1.position }.map(\.word).joined(separator: " ")
    }

    /// Whether text searched as typed means what it says: no quotes, prefix stars, exclusions or `OR`
    /// (those are query syntax; see `SearchQuery`).
    static func isPlainQuery(_ text: String) -> Bool {
        if text.contains("\"") || text.contains("*") { return false }
        for word in text.split(separator: " ") where word.hasPrefix("-") || word == "OR" { return false }
        return text.contains { $0.isLetter || $0.isNumber }
    }

    /// The note's place in the seeded order.
    static func sampleKey(_ path: String, seed: UInt64) -> UInt64 {
        var random = SeededRandom(seed: seed ^ ContentHash(of: path).value)
        return random.next()
    }

    /// What running the queries found: figures per kind and overall, and the search times.
    public struct Evaluation: Sendable {
        /// Per kind (in `kinds` order, kinds with no query left out), then `all`.
        public var figures: [RetrievalFigures]
        /// Milliseconds per query: the fastest of its timed searches.
        public var milliseconds: [Double]
        /// The queries whose note was not in the first five hits, with the rank found (`nil`: not in
        /// the first ten).
        public var misses: [(query: KnownItemQuery, rank: Int?)]
    }

    /// Runs every query up to three times: the first pass gives the ranks, and each query's fastest
    /// time counts for latency — the search's cost, not a scheduler's pause on a busy machine (which
    /// would make p95 flap).
    public static func evaluate(_ queries: [KnownItemQuery], index: MemoryIndex) -> Evaluation {
        var byKind: [String: RetrievalFigures] = [:]
        var all = RetrievalFigures(kind: "all", queries: 0, foundInTopFive: 0, reciprocalRankSum: 0)
        var misses: [(KnownItemQuery, Int?)] = []
        var milliseconds: [Double] = []
        milliseconds.reserveCapacity(queries.count)
        for query in queries {
            var hits: [SearchHit] = []
            milliseconds.append(BenchClock.seconds { hits = (try? index.search(query.text, limit: depth)) ?? [] } * 1000)
            let rank = hits.firstIndex { $0.path == query.target }.map { $0 + 1 }
            var figures = byKind[query.kind] ?? RetrievalFigures(kind: query.kind, queries: 0, foundInTopFive: 0, reciprocalRankSum: 0)
            for i in 0..<2 {
                var f = i == 0 ? figures : all
                f.queries += 1
                if let rank {
                    if rank <= 5 { f.foundInTopFive += 1 }
                    f.reciprocalRankSum += 1 / Double(rank)
                }
                if i == 0 { figures = f } else { all = f }
            }
            byKind[query.kind] = figures
            if rank.map({ $0 > 5 }) ?? true { misses.append((query, rank)) }
        }
        // Two more timed passes (one for a large query set), after every query has warmed the cache.
        let repeats = queries.count > 1000 ? 1 : 2
        for _ in 0..<repeats {
            for (i, query) in queries.enumerated() {
                milliseconds[i] = min(milliseconds[i], BenchClock.seconds { _ = try? index.search(query.text, limit: depth) } * 1000)
            }
        }
        let ordered = kinds.compactMap { byKind[$0] } + (queries.isEmpty ? [] : [all])
        return Evaluation(figures: ordered, milliseconds: milliseconds, misses: misses)
    }
}

import Foundation
import Testing
@testable import AgentOS

@Suite struct SectionScoreTests {
    /// A vault whose words are spread unevenly, so that each query's phrases have different row
    /// counts (and so different IDFs) in the title, the headings and the text.
    static func makeIndex() throws -> (TemporaryVault, MemoryIndex) {
        let temp = try TemporaryVault()
        let words = ["the", "of", "report", "budget", "login", "will", "cookie", "café", "résumé", "timeline"]
        for i in 0..<60 {
            let title = "\(words[i % 4].capitalized) \(words[(i * 7) % words.count]) \(i)"
            var body = "# \(words[(i * 3) % words.count]) heading\n\n"
            for j in 0..<(1 + i % 5) { body += "\(words[(i + j) % words.count]) and \(words[(i * j) % words.count]) of the text \(j).\n\n" }
            body += "## Second \(words[(i + 5) % words.count])\n\nthe login page \(i % 3 == 0 ? "times out" : "works").\n"
            try temp.write("Notes/\(title).md", body)
        }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        return (temp, index)
    }

    static let queries = ["the", "the of", "report budget", "\"login page\"", "time*", "login OR cookie", "the -cookie", "café résumé", "Report will 12", "of"]

    /// Every row's score next to FTS5's own bm25 with the same weights, for `query` under `columnFilter`.
    static func scores(_ index: MemoryIndex, _ query: SearchQuery, columnFilter: String) throws -> [(Double, Double)] {
        let expression = columnFilter.isEmpty ? query.matchExpression : columnFilter + " : (" + query.matchExpression + ")"
        let sql = "SELECT \(SectionScore.expression(phrases: query.phrases.count)), bm25(sections, \(IndexSchema.sectionWeights)) FROM sections WHERE sections MATCH ? ORDER BY rowid"
        return try index.database.query(sql, SectionScore.keys(of: query, under: columnFilter) + [.text(expression)]) { ($0.double(0), $0.double(1)) }
    }

    @Test func scoresAreFTS5sBm25ToTheBit() throws {
        let (_, index) = try Self.makeIndex()
        var compared = 0
        // Twice: the second round takes every row count from what the first kept.
        for _ in 0..<2 {
            for text in Self.queries {
                let query = try SearchQuery(text)
                for filter in ["", "{title headings}"] {
                    let rows = try Self.scores(index, query, columnFilter: filter)
                    for (ours, theirs) in rows {
                        #expect(ours == theirs, "\(text) under '\(filter)': \(ours) vs bm25 \(theirs)")
                    }
                    compared += rows.count
                }
            }
        }
        #expect(compared > 200)
    }

    @Test func keptCountsFollowChangesToTheIndex() throws {
        let (temp, index) = try Self.makeIndex()
        let query = try SearchQuery("cookie")
        let before = try Self.scores(index, query, columnFilter: "")
        // More notes with the word: its IDF drops, so every score must change with it.
        for i in 0..<20 { try temp.write("More/cookie \(i).md", "cookie cookie crumbs \(i)\n") }
        _ = try index.reconcile()
        let after = try Self.scores(index, query, columnFilter: "")
        #expect(after.count == before.count + 20)
        for (ours, theirs) in after { #expect(ours == theirs) }
        #expect(after.first?.0 != before.first?.0)

        // The same through another connection, which sees a change this one made.
        let reader = try #require(try MemoryIndex.openForReading(vault: temp.vault))
        _ = try Self.scores(reader, query, columnFilter: "")
        try temp.write("More/cookie last.md", "cookie\n")
        _ = try index.update(path: "More/cookie last.md")
        let seen = try Self.scores(reader, query, columnFilter: "")
        #expect(seen.count == after.count + 1)
        for (ours, theirs) in seen { #expect(ours == theirs) }
    }
}

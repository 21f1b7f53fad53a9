import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// qmd as a second memory engine, against a fake `qmd` (Fixtures/qmd/qmd) that answers in the
/// shape of qmd's `--json` output.
@Suite struct QMDEngineTests {
    static let fake = RepositoryPaths.fixtures + "/qmd/qmd"

    @Test func qmdsJSONBecomesVaultNotesWithTheirLines() throws {
        let v = try SeedVault(index: false)
        let answer = """
        [
          {"docid": "#a1b2c3", "score": 0.91, "file": "qmd://vault/Memory/Garden log.md", "title": "Garden log",
           "snippet": "@@ -5,4 @@ (4 before, 3 after)\\n## Compost rotation\\nThe compost heap"},
          {"docid": "#d4e5f6", "score": 0.5, "file": "notes/Server migration.md", "title": "Server migration"},
          {"docid": "#000000", "score": 0.4, "file": "qmd://other/Somewhere/Not in the vault.md", "title": "x"},
          {"docid": "#a1b2c3", "score": 0.3, "file": "qmd://vault/Memory/Garden log.md", "title": "Garden log"}
        ]
        """
        let hits = try QMDEngine.parse(Array(answer.utf8), vault: v.vault)
        #expect(hits.map(\.path) == ["Memory/Garden log.md", "Memory/Server migration.md"])
        #expect(hits[0].line == 5 && hits[0].endLine == 8 && hits[0].score == 0.91)
        // No snippet: the whole note (the packet builder starts after the frontmatter and cuts it).
        #expect(hits[1].line == 1 && hits[1].endLine == Int.max)
        #expect(try QMDEngine.parse(Array("[]".utf8), vault: v.vault).isEmpty)
        #expect(throws: QMDEngine.QMDError.self) { try QMDEngine.parse(Array("Usage: qmd <command>".utf8), vault: v.vault) }
    }

    @Test func reciprocalRankFusionKeepsOurSectionsAndAddsQmdsNotes() {
        func hit(_ path: String, _ line: Int = 1) -> RelatedHit { RelatedHit(path: path, title: path, heading: line == 1 ? "" : "H", line: line, endLine: line + 2, score: 0) }
        let ours = [hit("A.md"), hit("B.md"), hit("A.md", 7)]
        let theirs = [hit("C.md"), hit("A.md")]
        let merged = QMDEngine.merge(ours: ours, theirs: theirs, limit: 10)
        // A's two sections are boosted by qmd's rank 2; C (qmd's first) comes before B (our second).
        #expect(merged.map { "\($0.path):\($0.line)" } == ["A.md:1", "A.md:7", "C.md:1", "B.md:1"])
        #expect(QMDEngine.merge(ours: ours, theirs: [], limit: 2) == Array(ours.prefix(2)))
    }

    @Test func retrievalMergesQmdsHitsInsideTheSameScope() throws {
        let v = try SeedVault()
        // The fake puts these first whatever the query: one note only qmd finds, one in a
        // memory_exclude folder (never retrieved), and the task's own note (skipped).
        v.write("Results/Old answer.md", "# Old answer\n\nThe database moved.\n")
        v.write(".qmd-fixture-always", "Memory/Garden log.md\nResults/Old answer.md\nTasks/Migrate.md\n")
        v.write("Tasks/Migrate.md", "---\ntype: task\n---\nHow did the database move to the colocation facility?\n")
        var builder = ContextPacketBuilder(vault: v.vault, guardrails: RuleBook.load(vault: v.vault).guardrails)
        #expect(builder.qmd == nil, "qmd is off unless the guardrails turn it on")
        let index = try MemoryIndex(vault: v.vault)
        let ours = builder.retrieve(text: "database colocation facility", excluding: ["Tasks/Migrate.md"], index: index)
        #expect(ours.first?.path == "Memory/Server migration.md" && !ours.contains { $0.path == "Memory/Garden log.md" })

        builder.qmd = QMDEngine(executable: Self.fake)
        let merged = builder.retrieve(text: "database colocation facility", excluding: ["Tasks/Migrate.md"], index: index)
        #expect(merged.contains { $0.path == "Memory/Garden log.md" }, "\(merged.map(\.path))")
        #expect(merged.first?.path == "Memory/Server migration.md", "both engines rank it high")
        #expect(!merged.contains { $0.path.hasPrefix("Results/") || $0.path.hasPrefix("Tasks/") })

        // A qmd that fails leaves our hits exactly as they were.
        v.write(".qmd-fixture-fail", "")
        #expect(builder.retrieve(text: "database colocation facility", excluding: ["Tasks/Migrate.md"], index: index) == ours)
        #expect(throws: QMDEngine.QMDError.self) { try QMDEngine(executable: Self.fake).hits(for: "database", limit: 5, vault: v.vault) }
    }

    @Test func theGuardrailsTurnItOnAndAWrongValueIsAProblem() throws {
        let v = try SeedVault(index: false)
        let path = v.root + "/Rules/Guardrails.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "default_lane: local", with: "default_lane: local\nqmd: query\nqmd_collection: notes").replacingFile(path)
        let book = RuleBook.load(vault: v.vault)
        #expect(book.guardrails.qmdMode == "query" && book.guardrails.qmdCollection == "notes")
        let bin = RepositoryPaths.fixtures + "/qmd"
        let engine = try #require(QMDEngine.configured(book.guardrails, environment: ["PATH": bin]))
        #expect(engine.arguments(text: "-rf words", limit: 12) == ["query", "--json", "-n", "12", "-c", "notes", "--", "-rf words"])
        #expect(QMDEngine.configured(book.guardrails, environment: ["PATH": "/nonexistent"]) == nil)

        try text.replacingOccurrences(of: "default_lane: local", with: "default_lane: local\nqmd: always").replacingFile(path)
        let wrong = RuleBook.load(vault: v.vault)
        #expect(wrong.guardrails.qmdMode == nil)
        #expect(wrong.problems.contains { $0.message.contains("'qmd' is one of off, search, query, vsearch, not 'always'") })
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// Packet retrieval on the Obsidian Help vault's English notes, against the plain FTS5 porter bm25
/// baseline built in the same run (`Fixtures/retrieval-cases.tsv`).
@Suite struct RetrievalCasesTests {
    static func cases() throws -> [RetrievalCase] {
        try RetrievalCase.parse(String(contentsOfFile: RepositoryPaths.file("Tests/AgentOSTests/Fixtures/retrieval-cases.tsv"), encoding: .utf8))
    }

    @Test func theFixtureHasFortyCasesSplitInTwoAndEveryAnswerExists() throws {
        let cases = try Self.cases()
        #expect(cases.count >= 100)
        #expect(cases.filter { $0.split == "tune" }.count == cases.filter { $0.split == "test" }.count)
        let english = ObsidianHelpCorpus.root + "/en/"
        for item in cases {
            for answer in item.answers {
                #expect(FileManager.default.fileExists(atPath: english + answer), "no note \(answer)")
            }
        }
    }

    @Test func packetsFindTheAnswerAtLeastAsOftenAsTheBaseline() throws {
        let temp = TemporaryFolder.make("fbt-retrieval")
        defer { TemporaryFolder.remove(temp) }
        let root = temp + "/en"
        try FileManager.default.copyItem(atPath: ObsidianHelpCorpus.root + "/en", toPath: root)
        let vault = Vault(root: root)
        let index = try MemoryIndex(vault: vault)
        _ = try index.reconcile()
        let cases = try Self.cases()
        let score = try RetrievalMeasure(vault: vault, index: index).run(cases)
        #expect(score.cases == cases.count)
        #expect(score.packetHits >= score.baselineHits, "packet hit@3 \(score.packetHits)/\(score.cases) fell below the baseline's \(score.baselineHits)")
        // The cases no weight was fitted on: the `test` half and the `heldout` ones.
        let held = try RetrievalMeasure(vault: vault, index: index).run(cases.filter { $0.split != "tune" })
        #expect(held.packetHits > held.baselineHits, "held-out: packet \(held.packetHits) ≤ baseline \(held.baselineHits)")
    }

    /// Tasks in German, French and Spanish on those languages' notes (`retrieval-cases-LANG.tsv`,
    /// 40 each, written blind): packets find the answer at least as often as the baseline. English
    /// stop words only, packets lost to it in French (29 against 30 of 40): "comment", "je",
    /// "les" scored as words.
    @Test(arguments: ["de", "fr", "es"])
    func packetsInOtherLanguagesFindTheAnswerAtLeastAsOftenAsTheBaseline(_ language: String) throws {
        let cases = try RetrievalCase.parse(String(contentsOfFile: RepositoryPaths.file("Tests/AgentOSTests/Fixtures/retrieval-cases-\(language).tsv"), encoding: .utf8))
        #expect(cases.count == 40)
        let temp = TemporaryFolder.make("fbt-retrieval-\(language)")
        defer { TemporaryFolder.remove(temp) }
        let root = temp + "/" + language
        try FileManager.default.copyItem(atPath: ObsidianHelpCorpus.root + "/" + language, toPath: root)
        for item in cases {
            for answer in item.answers { #expect(FileManager.default.fileExists(atPath: root + "/" + answer), "no note \(answer)") }
        }
        let vault = Vault(root: root)
        let index = try MemoryIndex(vault: vault)
        _ = try index.reconcile()
        let score = try RetrievalMeasure(vault: vault, index: index).run(cases)
        #expect(score.cases == cases.count)
        #expect(score.packetHits >= score.baselineHits, "\(language): packet hit@3 \(score.packetHits)/\(score.cases) fell below the baseline's \(score.baselineHits)")
    }

    @Test func theBaselineIsJudgedByTheGuardrailsAsPacketsAre() throws {
        let temp = try TemporaryVault()
        // The best matches for the words are a private note and one holding a key: a packet may carry
        // neither, so the baseline may not count them either; the plain note is what both can give.
        try temp.write("Memory/Diary.md", "---\ntags: [personal]\n---\nPelican harbour pelican harbour pelican harbour, and what I wrote that evening by the water about the birds.\n")
        try temp.write("Memory/Keys.md", "Pelican harbour pelican harbour key AKIAZ7QK3M9VX2LPR4TB.\n")
        try temp.write("Memory/Plain.md", "A pelican came to the harbour once, among many other birds and boats of the town.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let measure = try RetrievalMeasure(vault: temp.vault, index: index)
        #expect(try measure.baseline("pelican harbour") == ["Memory/Plain.md"])
        let score = try measure.run([RetrievalCase(split: "test", text: "pelican harbour", answers: ["Memory/Plain.md"])])
        #expect(score.packetHits == 1 && score.baselineHits == 1)
        // Generated cases never ask for a private note: no plain task's packet may answer them.
        let generated = RetrievalCase.generated(from: temp.vault, count: 10, seed: 1, scope: RelatedScope())
        #expect(!generated.contains { $0.answers.contains("Memory/Diary.md") })
    }

    @Test func aMalformedCaseLineIsNamed() {
        #expect(throws: BenchError.self) { try RetrievalCase.parse("tune\tonly two fields\n") }
        #expect((try? RetrievalCase.parse("# comment\n\ntest\ta task\tA.md|B.md\n"))?.first?.answers == ["A.md", "B.md"])
        // Answers written as the bench prints them, " | " between (two such cases in German and
        // two in Spanish named no note: "A.md " and " B.md").
        #expect((try? RetrievalCase.parse("test\ta task\tSub/A b.md | B.md\n"))?.first?.answers == ["Sub/A b.md", "B.md"])
    }

    @Test func theBenchListsTheCasesPacketsMissedUnderItsTable() throws {
        let temp = try TemporaryVault()
        try temp.write("Memory/Harbour.md", "A pelican came to the harbour once, among many other birds and boats of the town.\n")
        try temp.write("Memory/Bread.md", "Sourdough wants a starter fed the night before, flour, water and salt.\n")
        let cases = [RetrievalCase(split: "test", text: "pelican harbour", answers: ["Memory/Harbour.md"]),
                     RetrievalCase(split: "heldout", text: "pelican harbour birds", answers: ["Memory/Bread.md"])]
        let context = BenchContext(vault: temp.vault, noteCount: 2, isRealVault: true, executablePath: "/nonexistent/fuckbigtech", runs: 1, progress: { _ in })
        let figures = try RetrievalBenchSection(cases: cases).run(context)
        let all = try #require(figures.first { $0.name == "packet_hit3" })
        #expect(all.details == [#"missed [heldout] "pelican harbour birds" → Memory/Bread.md; took Memory/Harbour.md"#])
        // Listed once, under the figure of all cases, not again under each split's.
        #expect(figures.filter { !$0.details.isEmpty }.count == 1)
        let table = Bench.table(figures)
        #expect(table.hasSuffix("\nretrieval packet_hit3:\n  " + all.details[0]))
        let json = Bench.json(figures, vault: "copy", notes: 2).compact
        #expect(json.contains(#""details":["missed [heldout] \"pelican harbour birds\" → Memory\/Bread.md; took Memory\/Harbour.md"]"#)
                || json.contains(#""details":["missed [heldout] \"pelican harbour birds\" → Memory/Bread.md; took Memory/Harbour.md"]"#), "\(json)")
    }

    /// A vault too small to make a case of skips the section with a note instead of ending the
    /// bench (a tour: exit 1, no index figures); every case answered meets the target even when the
    /// baseline answered them all too (it said MISSED at 100 % against 100 %).
    @Test func aSmallVaultSkipsRetrievalAndAPerfectScoreMeetsItsTarget() throws {
        let temp = try TemporaryVault()
        try temp.write("a.md", "# A\n\nshort\n")
        let context = BenchContext(vault: temp.vault, noteCount: 1, isRealVault: true, executablePath: "/nonexistent/fuckbigtech", runs: 1, progress: { _ in })
        let skipped = try RetrievalBenchSection().run(context)
        #expect(skipped.count == 1 && skipped[0].note?.hasPrefix("skipped: no retrieval cases") == true && skipped[0].meetsTarget == nil)
        try temp.write("Memory/Harbour.md", "A pelican came to the harbour once, among many other birds and boats of the town.\n")
        let perfect = try RetrievalBenchSection(cases: [RetrievalCase(split: "test", text: "pelican harbour", answers: ["Memory/Harbour.md"])]).run(context)
        let figure = try #require(perfect.first { $0.name == "packet_hit3" })
        #expect(figure.value == 100 && figure.meetsTarget == true)
    }
}

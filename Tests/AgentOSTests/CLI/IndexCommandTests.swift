import Foundation
import Testing
@testable import AgentOS
@testable import Commands

@Suite struct IndexCommandTests {
    func run(_ arguments: [String]) -> (Int32, CapturedOutput) {
        let (console, output) = Console.capturing()
        let code = CLI.run(arguments, console: console, environment: [:], executablePath: "/nonexistent")
        return (code, output)
    }

    @Test func indexThenSearchThenBacklinks() throws {
        let temp = try TemporaryVault()
        try temp.write("Memory/Login timeout.md", "# Login\n\nSessions time out after ten minutes.\n")
        try temp.write("Home.md", "See [[Login timeout]] for the session rules.\n")

        let (code, output) = run(["index", "--vault", temp.root])
        #expect(code == 0)
        #expect(output.stdout.contains("indexed 2 notes (2 new, 0 changed), 0 unchanged, 0 removed, 0 skipped"))

        let (again, second) = run(["index", "--vault", temp.root, "--json"])
        #expect(again == 0)
        let summary = try JSON.parse(second.stdout)
        #expect(summary["unchanged"]?.intValue == 2)
        #expect(summary["indexed"]?.intValue == 0)

        let (searchCode, search) = run(["search", "minutes", "--vault", temp.root])
        #expect(searchCode == 0)
        #expect(search.stdout.contains("Memory/Login timeout.md:3  Login timeout › Login"))
        #expect(search.stdout.contains("[minutes]"))

        let (jsonCode, json) = run(["search", "login timeout", "-n", "1", "--json", "--vault", temp.root])
        #expect(jsonCode == 0)
        let hits = try #require(try JSON.parse(json.stdout).arrayValue)
        #expect(hits.count == 1)
        #expect(hits[0]["path"]?.stringValue == "Memory/Login timeout.md")
        #expect(hits[0]["title_match"]?.boolValue == true)

        let (backCode, back) = run(["backlinks", "Login timeout", "--vault", temp.root])
        #expect(backCode == 0)
        #expect(back.stdout.contains("Home.md:1  [[Login timeout]]"))

        let (rebuildCode, rebuild) = run(["index", "--rebuild", "--vault", temp.root])
        #expect(rebuildCode == 0)
        #expect(rebuild.stdout.contains("indexed 2 notes (2 new"))
    }

    @Test func searchBuildsAMissingIndexAndReportsUsageErrors() throws {
        let temp = try TemporaryVault()
        try temp.write("a.md", "lonely armadillo\n")
        let (code, output) = run(["search", "armadillo", "--vault", temp.root])
        #expect(code == 0)
        #expect(output.stderr.contains("indexing"))
        #expect(output.stdout.contains("a.md:1"))

        let (usage, usageOutput) = run(["search", "--vault", temp.root, "--", "-oauth"])
        #expect(usage == 64)
        #expect(usageOutput.stderr.contains("only excludes words"))
        let (empty, _) = run(["search", "--vault", temp.root])
        #expect(empty == 64)
        let (missing, missingOutput) = run(["backlinks", "Nothing", "--vault", temp.root])
        #expect(missing == 1)
        #expect(missingOutput.stderr.contains("no note 'Nothing'"))
    }

    /// `--folder` naming a folder the vault does not have says so (a tour: "no notes match" read as
    /// if the words were missing); a folder that is there but holds no match says only that.
    @Test func searchNamesAFolderTheVaultDoesNotHave() throws {
        let temp = try TemporaryVault()
        try temp.write("Projects/a.md", "lonely armadillo\n")
        try temp.write("Memory/b.md", "quiet pangolin\n")
        let (code, output) = run(["search", "armadillo", "--folder", "projects", "--vault", temp.root])
        #expect(code == 0)
        #expect(output.stderr.contains("no notes match 'armadillo': the vault has no folder 'projects'"), "\(output.stderr)")
        let (_, there) = run(["search", "armadillo", "--folder", "Memory/", "--vault", temp.root])
        #expect(there.stderr.contains("no notes match 'armadillo'") && !there.stderr.contains("no folder"), "\(there.stderr)")
        let (_, found) = run(["search", "armadillo", "--folder", "./Projects", "-n1", "--vault", temp.root])
        #expect(found.stdout.contains("Projects/a.md:1"))
    }

    @Test func searchDoesNotWalkTheVault() throws {
        let temp = try TemporaryVault()
        try temp.write("a.md", "first pangolin\n")
        #expect(run(["index", "--vault", temp.root]).0 == 0)
        try temp.write("b.md", "second pangolin\n")
        // Only the index is read: the new note appears after the next index (or watcher update).
        let (_, before) = run(["search", "pangolin", "--json", "--vault", temp.root])
        #expect(try JSON.parse(before.stdout).arrayValue?.count == 1)
        #expect(run(["index", "--vault", temp.root]).0 == 0)
        let (_, after) = run(["search", "pangolin", "--json", "--vault", temp.root])
        #expect(try JSON.parse(after.stdout).arrayValue?.count == 2)
    }

    @Test func benchRunsOnASmallGeneratedVault() throws {
        let (code, output) = run(["bench", "--notes", "300", "--runs", "1", "--json"])
        #expect(code == 0)
        let report = try JSON.parse(output.stdout)
        #expect(report["notes"]?.intValue == 300)
        let names = Set((report["figures"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        for expected in ["full_index", "full_index_rate", "rescan_unchanged", "rare_word_p50", "common_word_p50", "two_words_p50", "phrase_p50", "prefix_p50", "title_p50", "single_note_update_p50", "title_first", "database_size", "peak_rss"] {
            #expect(names.contains(expected), "missing \(expected)")
        }
        let titleFirst = (report["figures"]?.arrayValue ?? []).first { $0["name"]?.stringValue == "title_first" }
        #expect((titleFirst?["value"]?.doubleValue ?? 0) >= 95)
        // Each of these stands next to its baseline from the same run, with the ratio.
        let figures = report["figures"]?.arrayValue ?? []
        for (figure, baseline) in [("full_index", "walk + read every .md"), ("title_p50", "plain FTS5"), ("all_shapes_p50", "plain FTS5")] {
            let found = figures.first { $0["name"]?.stringValue == figure }
            #expect(found?["baseline"]?["name"]?.stringValue == baseline, "\(figure)")
            #expect((found?["baseline"]?["value"]?.doubleValue ?? 0) > 0, "\(figure)")
            #expect((found?["ratio"]?.doubleValue ?? 0) > 0, "\(figure)")
        }
    }

    @Test func searchBaselinesFindWhatSearchFinds() throws {
        let temp = try TemporaryVault()
        try temp.write("Notes/Pangolin facts.md", "Scales and a long tongue.\n")
        try temp.write("Notes/Other.md", "Nothing about that animal.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let plain = try PlainFTS5Table(vault: temp.vault, index: index)
        #expect(try plain.search("pangolin") == ["Notes/Pangolin facts.md"])
        #expect(try plain.search("\"long tongue\"") == ["Notes/Pangolin facts.md"])
        #expect(try plain.search("-only").isEmpty)
        #expect(SearchBaselines.ripgrepPattern("\"long tongue\"") == "long tongue")
        #expect(SearchBaselines.ripgrepPattern("plea*") == "plea")
        #expect(SearchBaselines.readVault(temp.vault) > 0)
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// `MemoryIndex.related`: what a context packet retrieves for task text.
@Suite struct RelatedTests {
    @Test func stemmedWordsFindANoteThatExactSearchDoesNot() throws {
        let temp = try TemporaryVault()
        try temp.write("Memory/Snippets.md", "# Snippets\n\nCreate templated snippets for new notes.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        // `search` keeps exact words: "creating" is not "create".
        #expect(try index.search("creating").isEmpty)
        let hits = try index.related(to: "creating a template")
        #expect(hits.map(\.path) == ["Memory/Snippets.md"])
        #expect(hits[0].score > 0)
    }

    @Test func propertiesWeighLessThanTheText() throws {
        let temp = try TemporaryVault()
        // An earlier task whose bookkeeping mentions the words, and a note whose text is about them.
        try temp.write("Archive/Old run.md", "---\nroute_reason: three line summary of prime numbers\nerror: prime numbers three line PATH=/usr/bin\n---\nUnrelated body about gardening.\n")
        try temp.write("Memory/Primes.md", "# Notes\n\nSmall prime numbers: two, three, five.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let hits = try index.related(to: "List three prime numbers")
        #expect(hits.first?.path == "Memory/Primes.md")
        // Below the relevance floor: a property match is not worth a piece next to a real one.
        #expect(!hits.map(\.path).contains("Archive/Old run.md"))
    }

    @Test func aNoteIsOneHitAtItsBestSection() throws {
        let temp = try TemporaryVault()
        try temp.write("Memory/Garden.md", "# Garden\n\nIntro.\n\n## Watering tomatoes\n\nWater tomatoes daily.\n\n## Tomatoes in pots\n\nPots of tomatoes need more water.\n")
        try temp.write("Memory/Kitchen.md", "# Kitchen\n\nCook tomatoes slowly.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        // Three sections of Garden match; it is one hit, and Kitchen (one weak word) is under the floor.
        let hits = try index.related(to: "watering tomatoes")
        #expect(hits.map(\.path) == ["Memory/Garden.md"])
        #expect(try index.related(to: "cook tomatoes").first?.path == "Memory/Kitchen.md")
        #expect(hits[0].heading == "Watering tomatoes")
        #expect(hits[0].line == 5)
    }

    @Test func theScopeLeavesOutFoldersAndPaths() throws {
        let temp = try TemporaryVault()
        try temp.write("Tasks/Earlier.md", "Deploy the heron service.\n")
        try temp.write("Results/Earlier result.md", "The heron service is deployed.\n")
        try temp.write("Memory/Heron.md", "The heron service runs on port 8080.\n")
        try temp.write("Memory/Heron 2.md", "Heron service notes.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let scope = RelatedScope(excludedFolders: Guardrails.osFolders, skippedPaths: ["Memory/Heron 2.md"])
        #expect(try index.related(to: "heron service", scope: scope).map(\.path) == ["Memory/Heron.md"])
        #expect(try index.related(to: "heron service").count == 4)
    }

    @Test func accentsAndCJKStillMatch() throws {
        let temp = try TemporaryVault()
        try temp.write("Memory/CV.md", "Mon résumé est à jour.\n")
        try temp.write("Memory/検索.md", "全文検索の設定について。\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        #expect(try index.related(to: "update the resume").map(\.path) == ["Memory/CV.md"])
        #expect(try index.related(to: "検索の設定").map(\.path) == ["Memory/検索.md"])
    }

    @Test func anIndexOfVersionOneIsRebuiltWithTheMemoryTable() throws {
        let temp = try TemporaryVault()
        try temp.write("note.md", "migrated herons\n")
        try FileManager.default.createDirectory(atPath: temp.vault.stateDirectory, withIntermediateDirectories: true)
        do {
            // Version 1's tables: everything but `memory`.
            let old = try Database(path: temp.vault.databasePath)
            try old.execute(IndexSchema.createStatements.components(separatedBy: "CREATE VIRTUAL TABLE IF NOT EXISTS memory")[0])
            try old.execute("PRAGMA user_version = 1")
        }
        #expect(try MemoryIndex.openForReading(vault: temp.vault) == nil)
        let index = try MemoryIndex(vault: temp.vault)
        #expect(try index.database.scalarInt("PRAGMA user_version") == 2)
        _ = try index.reconcile()
        #expect(try index.related(to: "heron").map(\.path) == ["note.md"])
        #expect(try index.search("herons").count == 1)
    }
}

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

    /// An outside test: a task in Chinese, Japanese or Korean is one run of characters, and was
    /// searched as that whole phrase: "使用无头同步" found nothing, though a note says "无头同步" and
    /// "使用" apart. Such a run is searched as its overlapping pairs of characters.
    @Test func aTaskWrittenWithoutSpacesFindsTheNoteHoldingItsWords() throws {
        #expect(RelatedQuery.words(from: "如何使用无头同步") == ["如何", "何使", "使用", "用无", "无头", "头同", "同步"])
        #expect(RelatedQuery.words(from: "iPhone版の設定") == ["iphone", "版の", "の設", "設定"])
        #expect(RelatedQuery.words(from: "同步 notes") == ["同步", "notes"])
        let temp = try TemporaryVault()
        try temp.write("zh/无头同步.md", "# 无头同步\n\n在服务器上使用无头同步来同步你的库。\n")
        try temp.write("zh/发布.md", "# 发布\n\n把你的笔记发布成网站。\n")
        try temp.write("ja/ヘッドレス公開.md", "# ヘッドレス公開\n\nサーバーからサイトを公開します。\n")
        try temp.write("ko/헤드리스.md", "# 헤드리스 퍼블리시\n\n서버에서 사이트를 게시합니다.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        #expect(try index.related(to: "如何在服务器上使用同步").first?.path == "zh/无头同步.md")
        #expect(try index.related(to: "サイトをヘッドレスで公開したい").first?.path == "ja/ヘッドレス公開.md")
        #expect(try index.related(to: "헤드리스퍼블리시 하는 방법").first?.path == "ko/헤드리스.md")
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

    @Test func aLeftOutFolderIsMatchedAsWrittenWhateverItsLettersAndCase() throws {
        let temp = try TemporaryVault()
        // "_" and "%" are LIKE's wildcards: a folder named with them leaves out that folder only.
        try temp.write("Te_t/Kept out.md", "The osprey ledger lives here.\n")
        try temp.write("Test/Found.md", "The osprey ledger is kept here too.\n")
        try temp.write("100%/Kept out.md", "Osprey ledger, once more.\n")
        try temp.write("1000/Found.md", "Osprey ledger, in a folder of digits.\n")
        try temp.write("TASKS/Upper.md", "Osprey ledger in a folder written in capitals.\n")
        try temp.write("Über/Kept out.md", "Osprey ledger under an umlaut.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let scope = RelatedScope(excludedFolders: ["Te_t", "100%/", "tasks", "über"])
        let found = Set(try index.related(to: "osprey ledger", scope: scope, limit: 12).map(\.path))
        #expect(found == ["Test/Found.md", "1000/Found.md"])
    }

    @Test func earlierTasksSharingEveryWordNeverCrowdOutMemory() throws {
        let temp = try TemporaryVault()
        // A burst: hundreds of earlier tasks and results hold the new task's words, more than any
        // window of candidates; the one memory note still comes back, and no task or result does.
        for i in 0..<300 {
            try temp.write("Tasks/Bench burst/burst-\(i).md", "---\ntype: task\nstatus: done\n---\nbench burst quokka \(i)\n")
            try temp.write("Results/burst-\(i).md", "---\ntype: result\n---\nTask: [[burst-\(i)]] bench burst quokka\n")
        }
        try temp.write("Memory/Quokka.md", "# Quokka\n\nA quokka bench burst happened once in the zoo.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let scope = RelatedScope(excludedFolders: Guardrails.osFolders)
        #expect(try index.related(to: "bench burst quokka 301", scope: scope).map(\.path) == ["Memory/Quokka.md"])
    }

    /// The OS's own notes live in `os_memory` and `os_anchors`, so a packet's query, which leaves
    /// their folders out, never walks their rows; a note renamed in or out moves with its id.
    @Test func theOSsOwnNotesHaveRetrievalTablesOfTheirOwn() throws {
        let temp = try TemporaryVault()
        try temp.write("Tasks/Heron task.md", "---\ntype: task\n---\nCount the herons.\n")
        try temp.write("Results/Heron result.md", "---\ntype: result\n---\nHerons counted for [[Heron task]].\n")
        // ASCII letters of any case, as LIKE compares them (and as the scope leaves folders out).
        try temp.write("results/lower.md", "Herons, in a folder written in small letters: see [[Heron notes]].\n")
        try temp.write("Memory/Heron notes.md", "Herons nest by the river; see [[Heron task]].\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        func paths(_ table: String) throws -> [String] {
            try index.database.query("SELECT n.path FROM \(table) t JOIN notes n ON n.id = (t.rowid >> \(table.hasSuffix("anchors") ? NoteScanner.sectionBits : 0)) ORDER BY 1") { $0.text(0) }
        }
        #expect(try paths("memory") == ["Memory/Heron notes.md"])
        #expect(try paths("os_memory") == ["Results/Heron result.md", "Tasks/Heron task.md", "results/lower.md"])
        #expect(try paths("anchors") == ["Memory/Heron notes.md"])
        #expect(try paths("os_anchors") == ["Results/Heron result.md", "results/lower.md"])

        // Moved into Results/: its rows move to the OS's tables.
        try FileManager.default.moveItem(atPath: temp.vault.root + "/Memory/Heron notes.md", toPath: temp.vault.root + "/Results/Heron notes.md")
        _ = try index.reconcile()
        #expect(try paths("memory").isEmpty)
        #expect(try paths("anchors").isEmpty)
        #expect(try paths("os_memory").contains("Results/Heron notes.md"))
        #expect(try paths("os_anchors").contains("Results/Heron notes.md"))
        // And back out.
        try FileManager.default.moveItem(atPath: temp.vault.root + "/Results/Heron notes.md", toPath: temp.vault.root + "/Heron notes.md")
        _ = try index.reconcile()
        #expect(try paths("memory") == ["Heron notes.md"])
        #expect(try paths("anchors") == ["Heron notes.md"])
        #expect(try !paths("os_memory").contains { $0.hasSuffix("Heron notes.md") })
        #expect(try !paths("os_anchors").contains { $0.hasSuffix("Heron notes.md") })
    }

    /// A scope that keeps some OS folders (`memory_exclude` without `Results`, to recall earlier
    /// answers) reads both tables as one ranking: each word's IDF over both, best first whatever
    /// table a note is in.
    @Test func keepingResultsRanksThemWithMemoryAsOne() throws {
        let temp = try TemporaryVault()
        try temp.write("Results/Timetable answer.md", "---\ntype: result\n---\nThe heron migration timetable: herons leave in October.\n")
        try temp.write("Memory/Heron.md", "Herons are tall birds.\n")
        try temp.write("Memory/Salmon.md", "The salmon migration timetable starts in spring; salmon swim upstream.\n")
        try temp.write("Tasks/Ask.md", "---\ntype: task\n---\nheron migration timetable\n")
        for n in 0..<6 { try temp.write("Memory/Filler \(n).md", "Unrelated filler text number \(n).\n") }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let keepResults = RelatedScope(excludedFolders: Guardrails.osFolders.filter { $0 != Vault.Layout.results })
        #expect(keepResults.tables == [.user, .os])
        #expect(RelatedScope(excludedFolders: Guardrails.osFolders).tables == [.user])
        #expect(RelatedScope().tables == [.user, .os])
        let hits = try index.related(to: "heron migration timetable", scope: keepResults, limit: 5)
        #expect(hits.first?.path == "Results/Timetable answer.md")
        #expect(!hits.contains { $0.path.hasPrefix("Tasks/") })
        #expect(try index.related(to: "salmon swim upstream", scope: keepResults).first?.path == "Memory/Salmon.md")
        // The default scope never returns the result.
        #expect(try !index.related(to: "heron migration timetable", scope: RelatedScope(excludedFolders: Guardrails.osFolders)).contains { $0.path.hasPrefix("Results/") })

        // Both tables read as one: each note scores as it would in one table of every note (the
        // word counts and the note count of both; each table's own average length).
        let words = ["heron", "migrat", "timet"]
        let all = try words.map { word in try ["memory", "os_memory"].reduce(Int64(0)) { $0 + (try index.database.scalarInt("SELECT count(*) FROM \($1) WHERE \($1) MATCH ?", [.text("\"\(word)\"")]) ?? 0) } }
        let notes = try #require(try index.database.scalarInt("SELECT count(*) FROM notes"))
        let given = try index.database.query("SELECT fbt_bm25(os_memory, \(IndexSchema.memoryColumnWeights), ?, ?, ?, ?) FROM os_memory WHERE os_memory MATCH ? AND path = 'Results/Timetable answer.md'",
                                             all.map { .int($0) } + [.int(notes), .text(RelatedQuery.expression(words))]) { $0.double(0) }
        let own = try index.database.query("SELECT fbt_bm25(os_memory, \(IndexSchema.memoryColumnWeights), ?, ?, ?) FROM os_memory WHERE os_memory MATCH ? AND path = 'Results/Timetable answer.md'",
                                           all.map { .int($0) } + [.text(RelatedQuery.expression(words))]) { $0.double(0) }
        // With the note count of both tables, rarer words count more than in os_memory's 2 rows alone.
        #expect(given.count == 1 && own.count == 1)
        #expect(given[0] < own[0])
    }

    /// An index of version 3 (the OS's notes in `memory` and `anchors`) is brought to version 4 by
    /// moving their rows, not by reading every note again; one of a version with no step is rebuilt
    /// with every table emptied, the OS's too.
    @Test func aVersionThreeIndexMovesTheOSsRowsWithoutARebuild() throws {
        let temp = try TemporaryVault()
        try temp.write("Results/Heron result.md", "---\ntype: result\n---\nHerons counted for [[Heron task]].\n")
        try temp.write("Tasks/Heron task.md", "---\ntype: task\n---\nCount the herons.\n")
        try temp.write("Memory/Heron notes.md", "Herons nest by the river; see [[Heron task]].\n")
        do {
            let index = try MemoryIndex(vault: temp.vault)
            _ = try index.reconcile()
            // Back to version 3's layout: every row in `memory` and `anchors`, no OS tables.
            try index.database.execute("""
                INSERT INTO memory(rowid, path, title, headings, body, properties) SELECT rowid, path, title, headings, body, properties FROM os_memory;
                INSERT INTO anchors(rowid, target_key, text) SELECT rowid, target_key, text FROM os_anchors;
                DROP TABLE os_memory; DROP TABLE os_anchors; PRAGMA user_version = 3;
                """)
        }
        do {
        let index = try MemoryIndex(vault: temp.vault)
        #expect(try index.database.scalarInt("PRAGMA user_version") == Int64(IndexSchema.version))
        #expect(try index.database.scalarInt("SELECT count(*) FROM memory") == 1)
        #expect(try index.database.scalarInt("SELECT count(*) FROM os_memory") == 2)
        #expect(try index.database.scalarInt("SELECT count(*) FROM anchors") == 1)
        #expect(try index.database.scalarInt("SELECT count(*) FROM os_anchors") == 1)
        // Nothing to read again: the notes are as they were.
        #expect(try index.reconcile().changed == 0)
        #expect(try index.related(to: "herons nest", scope: RelatedScope(excludedFolders: Guardrails.osFolders)).map(\.path) == ["Memory/Heron notes.md"])
        #expect(try index.related(to: "count the herons").map(\.path).contains("Tasks/Heron task.md"))

        try index.database.execute("PRAGMA user_version = 99")
        }
        let rebuilt = try MemoryIndex(vault: temp.vault)
        #expect(try rebuilt.database.scalarInt("SELECT count(*) FROM os_memory") == 0)
        #expect(try rebuilt.database.scalarInt("SELECT count(*) FROM os_anchors") == 0)
        #expect(try rebuilt.database.scalarInt("SELECT count(*) FROM memory") == 0)
        _ = try rebuilt.reconcile()
        #expect(try rebuilt.database.scalarInt("SELECT count(*) FROM os_memory") == 2)
    }

    @Test func linesWrittenInLeftOutFoldersAreNoAnchors() throws {
        let temp = try TemporaryVault()
        // Only results (left out) describe the note with the task's words: that is bookkeeping, not memory.
        try temp.write("Licenses/Refund policy.md", "# Refund policy\n\nA purchase can be returned within 30 days of the order.\n")
        try temp.write("Results/Earlier.md", "---\ntype: result\n---\nGet your money back: [[Refund policy]].\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let scope = RelatedScope(excludedFolders: Guardrails.osFolders)
        #expect(try index.related(to: "get my money back", scope: scope).isEmpty)
        // Written in a note of memory, the same line finds it.
        try temp.write("FAQ.md", "Get your money back: [[Refund policy]].\n")
        _ = try index.reconcile()
        #expect(try index.related(to: "get my money back", scope: scope).map(\.path).contains("Licenses/Refund policy.md"))
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
        #expect(try index.database.scalarInt("PRAGMA user_version") == Int64(IndexSchema.version))
        _ = try index.reconcile()
        #expect(try index.related(to: "heron").map(\.path) == ["note.md"])
        #expect(try index.search("herons").count == 1)
    }

    @Test func aNoteIsFoundByWhatOtherNotesSayAroundTheirLinksToIt() throws {
        let temp = try TemporaryVault()
        // The policy's own text shares no word with the task; two notes linking it do.
        try temp.write("Licenses/Refund policy.md", "# Refund policy\n\nA purchase can be returned within 30 days of the order.\n")
        try temp.write("FAQ.md", "# FAQ\n\nChanged your mind? [[Refund policy|Get your money back]] within a month.\n")
        try temp.write("Billing.md", "# Billing\n\nAsking for money back after paying: see [[Licenses/Refund policy]].\n")
        try temp.write("Garden.md", "# Garden\n\nTomatoes need water and sun.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let hits = try index.related(to: "get my money back")
        #expect(hits.map(\.path).contains("Licenses/Refund policy.md"))
        #expect(!hits.map(\.path).contains("Garden.md"))
        // Without the links nothing points there: the anchors are what found it.
        try temp.write("FAQ.md", "# FAQ\n\nChanged your mind? Get your money back within a month.\n")
        try temp.write("Billing.md", "# Billing\n\nAsking for money back after paying.\n")
        _ = try index.reconcile()
        #expect(!(try index.related(to: "get my money back").map(\.path).contains("Licenses/Refund policy.md")))
    }

    @Test func anAnchorToAFileThatIsNotANoteIsNotAnAnchor() throws {
        let temp = try TemporaryVault()
        try temp.write("Gallery.md", "Sunset over the harbour: ![[harbour.png]] and [[Version 1.2]] notes.\n")
        try temp.write("Version 1.2.md", "Release.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let keys = try index.database.query("SELECT target_key FROM anchors") { $0.text(0) }
        #expect(keys == [LinkResolver.key("Version 1.2")])
    }

    @Test func propertyKeysAreNotIndexedOnlyTheirValues() throws {
        let temp = try TemporaryVault()
        try temp.write("A.md", "---\ntype: reference\ntags:\n  - heron\n---\nText about boats.\n")
        try temp.write("B.md", "---\ntype: reference\n---\nText about trains.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        // Every note has a `type:` key; the word is in no note's text or values.
        #expect(try index.related(to: "type").isEmpty)
        #expect(try index.related(to: "heron").map(\.path) == ["A.md"])
        #expect(try index.related(to: "reference trains").first?.path == "B.md")
    }

    @Test func theCommonestWordsAreLeftOutRarestFirstWithinTheBudget() throws {
        let temp = try TemporaryVault()
        // "alpha" in 20 notes, "beta" in 12, "gamma" in 3, "delta" in 1, "zeta" in none, of 24.
        for n in 0..<24 {
            var words = ["filler\(n)"]
            if n < 20 { words.append("alpha") }
            if n < 12 { words.append("beta") }
            if n < 3 { words.append("gamma") }
            if n < 1 { words.append("delta") }
            try temp.write("N\(n).md", words.joined(separator: " ") + "\n")
        }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        // Within the default budget every word a note holds is kept, in the task's order; zeta is in none.
        #expect(try index.relatedWords(["alpha", "beta", "gamma", "delta", "zeta"]) == ["alpha", "beta", "gamma", "delta"])
        // With a budget of 10 notes the two rarest are kept, and beta (12 more) and alpha are not.
        #expect(try index.relatedWords(["alpha", "beta", "gamma", "delta"], budget: 10) == ["gamma", "delta"])
        // With a budget of 16: delta 1 + gamma 3 + beta 12 = 16 fits; alpha would be 36.
        #expect(try index.relatedWords(["beta", "alpha", "delta", "gamma"], budget: 16) == ["beta", "delta", "gamma"])
        #expect(try index.related(to: "alpha delta").first?.path == "N0.md")
    }

    @Test func aWordTheVaultSpellsOtherwiseIsSearchedAsTheVaultSpellsIt() throws {
        let temp = try TemporaryVault()
        try temp.write("Plugins/Bookmarks.md", "# Bookmarks\n\nKeep your favorite notes and searches one click away.\n")
        try temp.write("Plugins/Tags.md", "# Tags\n\nTags help you categorize notes.\n")
        try temp.write("Memory/Noise.md", "# Noise\n\nNotes about searches and sections in general.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        // British spellings no note holds are searched as the vault writes them.
        #expect(try index.relatedWords(["favourite", "notes"]) == ["favorite", "notes"])
        #expect(try index.related(to: "my favourite things").first?.path == "Plugins/Bookmarks.md")
        #expect(try index.related(to: "categorise stuff").first?.path == "Plugins/Tags.md")
        // A word of no spelling any note holds stays out, as before.
        #expect(try index.relatedWords(["quokkas"]).isEmpty)
    }

    @Test func bothSpellingsAreSearchedWhenTheVaultHoldsBoth() throws {
        let temp = try TemporaryVault()
        try temp.write("Memory/British.md", "The colour of the theme.\n")
        try temp.write("Memory/American.md", "The color of the theme.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        #expect(try index.relatedWords(["colour"]) == ["colour", "color"])
        #expect(try index.relatedWords(["color"]) == ["color", "colour"])
        #expect(Set(try index.related(to: "colour").map(\.path)) == ["Memory/British.md", "Memory/American.md"])
    }

    /// The attack (round 10): a word was respelled only when no note held it, private notes
    /// included, so a cloud agent's own note with the other spelling showed up exactly when no
    /// private note held the word — a yes/no on private text. Now what retrieval searches does not
    /// depend on whether the word as written is held.
    @Test func whetherAPrivateNoteHoldsAWordDoesNotChangeWhatIsSearched() throws {
        func hits(withPrivate: Bool) throws -> [String] {
            let temp = try TemporaryVault()
            try temp.write("Memory/Probe.md", "# Probe\n\nmy favorite color\n")
            if withPrivate { try temp.write("Private/Diary.md", "---\nprivacy: private\n---\nmy favourite colour\n") }
            let index = try MemoryIndex(vault: temp.vault)
            _ = try index.reconcile()
            return try index.related(to: "favourite colour").map(\.path).filter { !$0.hasPrefix("Private/") }
        }
        #expect(try hits(withPrivate: false) == ["Memory/Probe.md"])
        #expect(try hits(withPrivate: true) == ["Memory/Probe.md"])
    }

    @Test func spellingsAreEnglishBritishAndAmerican() {
        #expect(RelatedQuery.spellings(of: "colour").first == "color")
        #expect(RelatedQuery.spellings(of: "color").first == "colour")
        #expect(RelatedQuery.spellings(of: "organisation").first == "organization")
        #expect(RelatedQuery.spellings(of: "analysed").first == "analyzed")
        #expect(RelatedQuery.spellings(of: "catalogue").first == "catalog")
        #expect(RelatedQuery.spellings(of: "licence").first == "license")
        #expect(RelatedQuery.spellings(of: "cancelled").first == "canceled")
        #expect(RelatedQuery.spellings(of: "centre").first == "center")
        #expect(RelatedQuery.spellings(of: "grey").first == "gray")
        // Only lower-case ASCII words of four letters or more: the rules are English.
        #expect(RelatedQuery.spellings(of: "färbe").isEmpty)
        #expect(RelatedQuery.spellings(of: "tre").isEmpty)
        #expect(RelatedQuery.spellings(of: "日本語の単語").isEmpty)
    }

    @Test func aWordNewToTheVaultIsFoundAtOnce() throws {
        let temp = try TemporaryVault()
        for n in 0..<4 { try temp.write("N\(n).md", "common words only\n") }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        // Counted (0) before the note holding it exists: a count that small is never remembered.
        #expect(try index.related(to: "quetzal feathers").isEmpty)
        try temp.write("Birds.md", "The quetzal has green feathers.\n")
        _ = try index.reconcile()
        #expect(try index.related(to: "quetzal feathers").map(\.path) == ["Birds.md"])
    }

    @Test func anchorTextIsTheLineAsAReaderSeesIt() throws {
        let temp = try TemporaryVault()
        try temp.write("Hub.md", "---\ntags: [x]\n---\nIntro line.\nSee [[Folder/Note#Part]] and [[Other|the other one]] here.\nUnclosed [[link at the end\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let rows = try index.database.query("SELECT target_key, text FROM anchors ORDER BY rowid") { ($0.text(0), $0.text(1)) }
        #expect(rows.map(\.0) == [LinkResolver.key("Folder/Note"), LinkResolver.key("Other")])
        #expect(rows.allSatisfy { $0.1 == "See Note and the other one here." })
    }
}

/// `fbt_bm25` and `fbt_phrases`, retrieval's FTS5 functions (`CRank`).
@Suite struct RankFunctionTests {
    /// An index of notes sharing some words in different amounts and columns.
    private func index() throws -> (TemporaryVault, MemoryIndex) {
        let temp = try TemporaryVault()
        try temp.write("Heron.md", "# Heron watching\n\nThe heron waits by the river. A heron, a river, a reed.\n")
        try temp.write("River.md", "# River\n\nThe river bends twice before the sea.\n\n## Reeds\n\nReeds along the river.\n")
        try temp.write("Sea.md", "# Sea\n\nSalt and waves; no birds here.\n")
        try temp.write("Notes/Birds.md", "---\ntags: [heron]\n---\nA list of birds: heron, egret, kingfisher.\n")
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        return (temp, index)
    }

    @Test func givenFTS5sOwnRowCountsItScoresEveryRowAsBm25Does() throws {
        let (_, index) = try index()
        let words = ["heron", "river", "reed"]
        let counts = try words.map { try index.database.scalarInt("SELECT count(*) FROM memory WHERE memory MATCH ?", [.text("\"\($0)\"")]) ?? 0 }
        let expression = RelatedQuery.expression(words)
        let rows = try index.database.query("SELECT path, bm25(memory, \(IndexSchema.memoryColumnWeights)), fbt_bm25(memory, \(IndexSchema.memoryColumnWeights), ?, ?, ?) FROM memory WHERE memory MATCH ?",
                                            counts.map { .int($0) } + [.text(expression)]) { ($0.text(0), $0.double(1), $0.double(2)) }
        #expect(rows.count == 3)
        for (path, builtIn, ours) in rows {
            #expect(abs(builtIn - ours) < 1e-9, "\(path): bm25 \(builtIn), fbt_bm25 \(ours)")
            #expect(ours < 0)
        }
    }

    @Test func aPhraseGivenANegativeCountOnlyFilters() throws {
        let (_, index) = try index()
        let count = { (word: String) in try index.database.scalarInt("SELECT count(*) FROM memory WHERE memory MATCH ?", [.text("\"\(word)\"")]) ?? 0 }
        // Gate "reed", score by "heron" and "river": the same scores as "heron OR river" alone, on
        // the rows holding "reed" only.
        let gated = try index.database.query("SELECT path, fbt_bm25(memory, \(IndexSchema.memoryColumnWeights), -1, ?, ?) FROM memory WHERE memory MATCH '(\"reed\") AND (\"heron\" OR \"river\")' ORDER BY path",
                                             [.int(try count("heron")), .int(try count("river"))]) { ($0.text(0), $0.double(1)) }
        let plain = try index.database.query("SELECT path, bm25(memory, \(IndexSchema.memoryColumnWeights)) FROM memory WHERE memory MATCH '\"heron\" OR \"river\"' ORDER BY path") { ($0.text(0), $0.double(1)) }
        #expect(gated.map(\.0) == ["Heron.md", "River.md"])
        for (path, score) in gated {
            let expected = try #require(plain.first { $0.0 == path }?.1)
            #expect(abs(score - expected) < 1e-9, "\(path)")
        }
    }

    @Test func fbtPhrasesSaysWhichWordsARowHolds() throws {
        let (_, index) = try index()
        let bits = try index.database.query("SELECT path, fbt_phrases(memory) FROM memory WHERE memory MATCH '\"heron\" OR \"river\" OR \"sea\"' ORDER BY path") { ($0.text(0), $0.int64(1)) }
        // Phrase 0 heron, 1 river, 2 sea (stemmed: "reeds" is "reed", not asked here).
        #expect(bits.map(\.0) == ["Heron.md", "Notes/Birds.md", "River.md", "Sea.md"])
        #expect(bits.map(\.1) == [0b011, 0b001, 0b110, 0b100])
    }

    @Test func aWrongNumberOfArgumentsIsAnError() throws {
        let (_, index) = try index()
        #expect(throws: DatabaseError.self) {
            _ = try index.database.query("SELECT fbt_bm25(memory, 1.0) FROM memory WHERE memory MATCH 'heron'") { $0.double(0) }
        }
    }
}

/// Single-note writes leave small FTS5 segments behind; `mergeSmallSegments` merges them.
@Suite struct SegmentMergeTests {
    @Test func singleNoteWritesAreMergedBackWithTheSameAnswers() throws {
        let temp = try TemporaryVault()
        for n in 0..<60 {
            try temp.write("Notes/Note \(n).md", "# Note \(n)\n\nThe heron \(n) waits by the river; see [[Note \((n + 1) % 60)]] about reeds.\n\n## Part\n\nSalt, waves and kingfisher \(n * 7).\n")
        }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        // Each update is its own transaction, as the watcher writes them: one new segment each.
        for n in 0..<30 {
            try temp.write("Notes/Note \(n).md", "# Note \(n)\n\nThe heron \(n) flew off the river; an egret came. See [[Note \(n + 2)]].\n")
            _ = try index.update(path: "Notes/Note \(n).md")
            // The OS's own notes (`os_memory`, `os_anchors`) too.
            try temp.write("Results/Result \(n).md", "Heron count \(n) for [[Note \(n)]].\n")
            _ = try index.update(path: "Results/Result \(n).md")
        }
        let before = try index.segmentCounts()
        let search = try index.search("heron egret", limit: 50).map(\.path)
        let related = try index.related(to: "where did the heron and the egret go by the river", limit: 12).map { "\($0.path) \($0.line) \($0.score)" }

        #expect(try index.mergeSmallSegments(stepsPerTable: .max))
        let after = try index.segmentCounts()
        for table in MemoryIndex.fullTextTables {
            #expect(before[table, default: 0] >= 4, "\(table): \(before)")
            #expect(after[table, default: 0] <= 3 && after[table, default: 0] < before[table, default: 0], "\(table): \(before) → \(after)")
            try index.database.execute("INSERT INTO \(table)(\(table)) VALUES('integrity-check')")
        }
        #expect(try index.search("heron egret", limit: 50).map(\.path) == search)
        #expect(try index.related(to: "where did the heron and the egret go by the river", limit: 12).map { "\($0.path) \($0.line) \($0.score)" } == related)
        // Nothing left: the next call merges nothing and says so.
        #expect(try index.mergeSmallSegments())
        #expect(try index.segmentCounts() == after)
    }

    @Test func aReconcileThatChangedAFewNotesMergesTheirSegments() throws {
        let temp = try TemporaryVault()
        for n in 0..<40 { try temp.write("Note \(n).md", "# Note \(n)\n\nheron river \(n)\n") }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        for n in 0..<20 {
            try temp.write("Note \(n).md", "# Note \(n)\n\nheron egret \(n)\n")
            _ = try index.update(path: "Note \(n).md")
        }
        #expect(try index.segmentCounts()["sections", default: 0] >= 4)
        try temp.write("Note 39.md", "# Note 39\n\nkingfisher\n")
        let summary = try index.reconcile()
        #expect(summary.changed == 1)
        #expect(try index.segmentCounts().values.allSatisfy { $0 <= 3 })
        #expect(try index.search("kingfisher").map(\.path) == ["Note 39.md"])
    }
}

/// `MemoryIndex.anchorTargets`: which note a line linking with a key speaks of, by the resolver's
/// rules (path, path ending, nearest the linking note), in two statements for all of a query's keys.
@Suite struct AnchorTargetsTests {
    /// On a real vault of 2,300 notes in 30 languages, where most names exist once per language:
    /// wherever the one resolver (`LinkResolver`) names a note by its path or its name, the anchor
    /// names the same note. (Before, the path lookup compared a key with ".md" added to keys stored
    /// without it, never matched, and every name went to its shortest path, in whatever language.)
    @Test func everyLinkOfARealVaultNamesTheNoteTheResolverNames() throws {
        let temp = try TemporaryVault.corpusCopy()
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let pairs = try index.database.query("SELECT DISTINCT s.path, a.target_key FROM anchors a JOIN notes s ON s.id = (a.rowid >> \(NoteScanner.sectionBits)) ORDER BY 1, 2") { ($0.text(0), $0.text(1)) }
        let targets = try index.anchorTargets(pairs.map(\.1))
        let resolver = LinkResolver(vault: temp.vault)
        var compared = 0
        var nearerThanShortest = 0
        for (source, key) in pairs where !key.hasPrefix(".") {
            guard let resolved = resolver.resolve(key, from: source).path, resolved.lowercased().hasSuffix(".md") else { continue }
            let resolvedKey = LinkResolver.key(resolved)
            // By path or by name (an alias is the resolver's alone).
            guard resolvedKey == key || resolvedKey.hasSuffix("/" + key) || LinkResolver.key(NoteScanner.title(ofPath: resolved)) == key else { continue }
            let target = targets[key]
            #expect(target?.note(linkedFrom: source)?.path == resolved, "\(source) → \(key)")
            compared += 1
            if let target, target.exact == nil, target.named.count > 1, target.named.first?.path != resolved { nearerThanShortest += 1 }
        }
        #expect(compared > 1_000)
        #expect(nearerThanShortest > 100, "names shared across the language folders are read from the linking note's folder")
    }

    @Test func aPathAPathEndingOrTheNearestNoteOfTheName() throws {
        let temp = try TemporaryVault()
        for path in ["Plan.md", "A/Plan.md", "B/Plan.md", "Deep/er/Plan.md", "Zed/Note.md", "Ab/Note.md", "Ünï/Çödé.md", "Odd/Quote \"x\" back\\slash.md"] {
            try temp.write(path, "# \(path)\n")
        }
        let index = try MemoryIndex(vault: temp.vault)
        _ = try index.reconcile()
        let odd = "quote \"x\" back\\slash"
        let keys = ["plan", "a/plan", "er/plan", "x/plan", "note", "zed/note", "missing", "ünï/çödé", "çödé", "plan", "", odd, "odd/" + odd]
        let targets = try index.anchorTargets(keys)
        #expect(Set(targets.keys) == ["plan", "a/plan", "er/plan", "x/plan", "note", "zed/note", "ünï/çödé", "çödé", odd, "odd/" + odd])
        // Quotes and backslashes reach SQLite as written (the keys go as one JSON list).
        #expect(targets[odd]?.note(linkedFrom: "X.md")?.path == "Odd/Quote \"x\" back\\slash.md")
        #expect(targets["odd/" + odd]?.exact?.path == "Odd/Quote \"x\" back\\slash.md")
        // The path itself, wherever the line is.
        #expect(targets["a/plan"]?.note(linkedFrom: "B/Other.md")?.path == "A/Plan.md")
        #expect(targets["plan"]?.note(linkedFrom: "B/Other.md")?.path == "Plan.md")
        #expect(targets["zed/note"]?.note(linkedFrom: "Ab/Other.md")?.path == "Zed/Note.md")
        #expect(targets["ünï/çödé"]?.note(linkedFrom: "X.md")?.path == "Ünï/Çödé.md")
        // A path ending (`[[er/Plan]]`): the note whose path ends so.
        #expect(targets["er/plan"]?.note(linkedFrom: "A/Other.md")?.path == "Deep/er/Plan.md")
        // A name: the note nearest the linking note; equally near, the shortest path, then the first.
        #expect(targets["note"]?.note(linkedFrom: "Zed/Sub/Other.md")?.path == "Zed/Note.md")
        #expect(targets["note"]?.note(linkedFrom: "Other.md")?.path == "Ab/Note.md")
        #expect(targets["çödé"]?.note(linkedFrom: "Other.md")?.path == "Ünï/Çödé.md")
        // A path ending no note has: every note of the name, nearest first.
        #expect(targets["x/plan"]?.note(linkedFrom: "B/Other.md")?.path == "B/Plan.md")
        #expect(targets["x/plan"]?.note(linkedFrom: "Other.md")?.path == "Plan.md")
        #expect(try index.anchorTargets([]).isEmpty)
    }
}

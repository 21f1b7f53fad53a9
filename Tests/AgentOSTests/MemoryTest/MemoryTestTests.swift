import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// A vault made by `init --with-memory` plus a few memory notes, in a temporary folder.
final class SeedVault {
    let root: String
    var vault: Vault { Vault(root: root) }

    init(index: Bool = true) throws {
        root = TemporaryFolder.make("fbt-memory-test")
        _ = try VaultInit.run(vault: Vault(root: root), withMemory: false)
        write("Memory/Quarterly budget.md", """
        ---
        tags: [finance]
        ---
        # Quarterly budget

        The marketing spend rose sharply after the Lisbon offsite was booked.

        ## Travel reimbursements

        Receipts for the ferry crossing and the hotel breakfast go to accounting within fortnight deadlines.
        """)
        write("Memory/Garden log.md", """
        # Garden log

        Planted tomatoes, basil and marigolds along the southern fence in early April.

        ## Compost rotation

        The compost heap was turned twice; earthworms thrived under the pumpkin leaves.
        """)
        write("Memory/Server migration.md", """
        # Server migration

        The database moved from the basement rack to the colocation facility over one weekend.

        ## Rollback drill

        Snapshots were restored onto spare hardware to rehearse the failover checklist.
        """)
        if index { try reindex() }
    }

    deinit { TemporaryFolder.remove(root) }

    func write(_ relative: String, _ text: String) {
        let path = root + "/" + relative
        try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.replacingFile(path)
    }

    func read(_ relative: String) throws -> String { try String(contentsOfFile: root + "/" + relative, encoding: .utf8) }

    func reindex() throws { _ = try MemoryIndex(vault: vault).reconcile() }

    /// Runs the command line with `--vault` set to this vault.
    func run(_ arguments: [String]) -> (code: Int32, out: String, err: String) {
        let (console, output) = Console.capturing()
        let code = CLI.run(arguments + ["--vault", root], console: console, environment: [:], executablePath: "/nonexistent")
        return (code, output.stdout, output.stderr)
    }

    /// Every file under the vault (dot-folders included) and a hash of its bytes.
    func fileHashes() -> [String: ContentHash] {
        var hashes: [String: ContentHash] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let data = FileManager.default.contents(atPath: root + "/" + relative) ?? Data()
            hashes[relative] = ContentHash(of: [UInt8](data))
        }
        return hashes
    }

    func reportNotes() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/Telemetry")) ?? []).filter { $0.hasPrefix("memory-test ") }.sorted()
    }
}

@Suite struct MemoryTestTests {
    @Test func passesOnAFreshVaultWritesTheReportAndSetsTheBaseline() throws {
        let v = try SeedVault()
        let run = v.run(["memory-test", "quick", "--json"])
        #expect(run.code == 0, "\(run.out)\n\(run.err)")
        let json = try JSON.parse(run.out)
        #expect(json["passed"]?.boolValue == true)
        let checks = json["checks"]?.arrayValue ?? []
        func status(_ name: String) -> String? { checks.first { $0["name"]?.stringValue == name }?["status"]?.stringValue }
        #expect(status("index (copy)") == "ok")
        #expect(status("index (vault)") == "ok")
        #expect(status("routing") == "ok")
        // The engine runs the probe through echo and the result links back; packets come later.
        #expect(["ok", "warn"].contains(status("handoff round trip")))
        let all = json["retrieval"]?.arrayValue?.first { $0["kind"]?.stringValue == "all" }
        #expect((all?["queries"]?.intValue ?? 0) >= 6)
        #expect(json["baseline"]?["status"]?.stringValue == "set")

        let baseline = try MemoryTestBaseline.load(path: MemoryTestBaseline.path(for: v.vault))
        #expect(baseline.entries["quick"]?.figures["recall_at_5"] != nil)
        let notes = v.reportNotes()
        #expect(notes.count == 1)
        let report = try Note.parse(v.read("Telemetry/" + notes[0]))
        #expect(report.text("type") == "memory-test")
        #expect(report.text("status") == "passed")

        // The second run compares with the first.
        let again = v.run(["memory-test", "quick"])
        #expect(again.code == 0, "\(again.out)\n\(again.err)")
        #expect(again.out.contains("baseline: compared with"))
        #expect(again.out.contains("memory-test: passed"))
    }

    @Test func theVaultChangesOnlyByTheReportNoteAndTheBaseline() throws {
        let v = try SeedVault()
        let before = v.fileHashes()
        let run = v.run(["memory-test", "quick"])
        #expect(run.code == 0, "\(run.out)\n\(run.err)")
        let after = v.fileHashes()
        let changed = Set(after.keys.filter { before[$0] != after[$0] })
        let removed = Set(before.keys.filter { after[$0] == nil })
        #expect(removed.isEmpty, "\(removed)")
        let report = "Telemetry/" + (v.reportNotes().first ?? "?")
        // Reading the index read-only makes SQLite create its shared-memory file and an empty
        // write-ahead log next to it; the database file itself must not change. Reading the rules
        // (the skills check judges skills by the vault's guardrails) records which guardrails notes
        // the vault has (`.agentos/guardrails-seen`, the OS's state, no note).
        #expect(changed.subtracting([".agentos/index.sqlite-shm", ".agentos/index.sqlite-wal", ".agentos/guardrails-seen"]) == [report, ".agentos/memory-test-baseline.json"], "\(changed.sorted())")
        #expect(before[".agentos/index.sqlite"] == after[".agentos/index.sqlite"])
        let wal = (try? FileManager.default.attributesOfItem(atPath: v.vault.databasePath + "-wal")[.size] as? NSNumber)?.intValue ?? 0
        #expect(wal == 0 || before[".agentos/index.sqlite-wal"] == after[".agentos/index.sqlite-wal"])
    }

    @Test func aDeletedIndexFailsAndSaysSo() throws {
        let v = try SeedVault()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: v.vault.databasePath + suffix) }
        let run = v.run(["memory-test", "quick"])
        #expect(run.code == 1)
        #expect(run.err.contains("index (vault)"), "\(run.err)")
        #expect(run.err.contains("no index yet"), "\(run.err)")
        #expect(run.out.contains("FAIL"))
    }

    @Test func aChangedLaneFailsNamingTheCase() throws {
        let v = try SeedVault()
        let path = "Rules/Routing/Premium for code and judgment.md"
        try v.write(path, v.read(path).replacingOccurrences(of: "lane: premium", with: "lane: local"))
        try v.reindex()
        let run = v.run(["memory-test", "quick"])
        #expect(run.code == 1)
        #expect(run.out.contains("case \"Fix the off-by-one bug in the pagination code\""), "\(run.out)")
        #expect(run.out.contains("expected premium"))
        // The rule is skipped (its agent is in another lane): stderr names the note, the table the case.
        #expect(run.err.contains("routing: rule note skipped: \(path)"), "\(run.err)")
    }

    @Test func aRuleWithBadFrontmatterFailsNamingTheNoteAndACase() throws {
        let v = try SeedVault()
        let path = "Rules/Routing/Tools for UI and browser.md"
        try v.write(path, v.read(path).replacingOccurrences(of: "type: rule\n", with: "type: rule\nwhen_keywords: [unclosed\n"))
        try v.reindex()
        let run = v.run(["memory-test", "quick", "--json"])
        #expect(run.code == 1)
        let json = try JSON.parse(run.out)
        let routing = json["checks"]?.arrayValue?.first { $0["name"]?.stringValue == "routing" }
        let problems = routing?["problems"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(routing?["status"]?.stringValue == "fail")
        #expect(problems.contains { $0.hasPrefix("rule note skipped: \(path)") }, "\(problems)")
        #expect(problems.contains { $0.contains("Take a screenshot of the login page") && $0.contains("expected tool") }, "\(problems)")
    }

    @Test func aFailingAgentBreaksTheRoundTrip() throws {
        let v = try SeedVault()
        let path = "Rules/Agents/echo.md"
        try v.write(path, v.read(path).replacingOccurrences(of: "command: [printf, \"%s\", \"{prompt}\"]", with: "command: [\"false\"]"))
        try v.reindex()
        let run = v.run(["memory-test", "quick"])
        #expect(run.code == 1)
        #expect(run.err.contains("handoff round trip: the run ended failed"), "\(run.err)")
    }

    @Test func aBetterBaselineMakesTheRunFailAndIsKept() throws {
        let v = try SeedVault()
        #expect(v.run(["memory-test", "quick"]).code == 0)
        // Feed a baseline that was better than this vault can do.
        let path = MemoryTestBaseline.path(for: v.vault)
        var baseline = try MemoryTestBaseline.load(path: path)
        var entry = try #require(baseline.entries["quick"])
        for key in entry.figures.keys where key.hasPrefix("recall_at_5") { entry.figures[key]! += 10 }
        entry.figures["mrr[title]"]! += 0.5
        baseline.entries["quick"] = entry
        try baseline.save(path: path)
        let saved = try String(contentsOfFile: path, encoding: .utf8)
        let earlierReports = Set(v.reportNotes())

        let run = v.run(["memory-test", "quick"])
        #expect(run.code == 1)
        #expect(run.out.contains("worse than the baseline:"))
        #expect(run.out.contains("recall_at_5: "), "\(run.out)")
        #expect(run.out.contains("mrr[title]: "))
        #expect(run.out.contains("-10.0 points; allowed: 2"))
        #expect(run.err.contains("worse than the baseline"))
        // A worse run does not become the baseline.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == saved)
        let newReport = try #require(Set(v.reportNotes()).subtracting(earlierReports).first)
        let report = try Note.parse(v.read("Telemetry/" + newReport))
        #expect(report.text("status") == "failed")

        // Asked to, it takes this run's figures without comparing.
        let reset = v.run(["memory-test", "quick", "--reset-baseline"])
        #expect(reset.code == 0)
        #expect(reset.out.contains("baseline: replaced by this run's figures"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) != saved)
        #expect(v.run(["memory-test", "quick"]).code == 0)
    }

    @Test func thresholds() {
        let base = ["recall_at_5": 90.0, "mrr": 0.8, "latency_p95_ms": 3.0, "recall_at_5[title]": 100.0]
        #expect(MemoryTestBaseline.degradations(current: ["recall_at_5": 88.0, "mrr": 0.78, "latency_p95_ms": 5.9, "recall_at_5[title]": 100], baseline: base).isEmpty)
        let worse = MemoryTestBaseline.degradations(current: ["recall_at_5": 87.5, "mrr": 0.77, "latency_p95_ms": 4.0, "recall_at_5[title]": 97], baseline: base)
        #expect(worse.map(\.figure) == ["mrr", "recall_at_5", "recall_at_5[title]"])
        // Latency: more than twice the baseline and above 5 ms.
        #expect(MemoryTestBaseline.degradations(current: ["latency_p95_ms": 6.5], baseline: base).map(\.figure) == ["latency_p95_ms"])
        #expect(MemoryTestBaseline.degradations(current: ["latency_p95_ms": 4.9], baseline: ["latency_p95_ms": 1]).isEmpty)
        // A figure only one side has is not compared.
        #expect(MemoryTestBaseline.degradations(current: ["mrr[heading]": 0.1], baseline: base).isEmpty)
    }

    @Test func casesTableRowsAndMistakes() {
        let body = """
        | Prompt | Lane |
        | --- | --- |
        | Split a \\| b into two | local |
        | Ship it | HUMAN |
        | Do the thing | somewhere |

        | Second table header | Lane |
        |---|---|
        | Fix the bug | premium |
        """
        let parsed = RoutingCases.parse(table: body, source: "Rules/Cases.md", firstLine: 4)
        #expect(parsed.cases.map(\.prompt) == ["Split a | b into two", "Ship it", "Fix the bug"])
        #expect(parsed.cases.map(\.lane) == [.local, .human, .premium])
        #expect(parsed.cases[0].line == 6)
        #expect(parsed.problems == ["Rules/Cases.md:8: 'somewhere' is not a lane (premium, local, tool, human)"])
    }

    @Test func knownItemQueriesFindTheirNotes() throws {
        let v = try SeedVault()
        let index = try MemoryIndex(vault: v.vault)
        let queries = try KnownItemQueries.make(index: index, seed: 1, sampleSize: nil)
        let garden = queries.filter { $0.target == "Memory/Garden log.md" }
        #expect(garden.map(\.kind) == ["title", "heading", "phrase"])
        #expect(garden.first { $0.kind == "heading" }?.text == "Compost rotation")
        // The phrase is made of words of one sentence of the note.
        let phrase = try #require(garden.first { $0.kind == "phrase" }?.text)
        let sentences = ["planted tomatoes, basil and marigolds along the southern fence in early april.", "the compost heap was turned twice; earthworms thrived under the pumpkin leaves."]
        #expect(sentences.contains { sentence in phrase.split(separator: " ").allSatisfy { sentence.contains($0) } }, "\(phrase)")
        // The same seed gives the same queries.
        #expect(try KnownItemQueries.make(index: index, seed: 1, sampleSize: nil) == queries)
        let evaluation = KnownItemQueries.evaluate(garden, index: index)
        #expect(evaluation.figures.last?.recallAtFive == 100)
        #expect(evaluation.milliseconds.count == 3)
    }

    /// The seed's first loop on a fresh vault: every step exits 0, but doctor, which fails only because
    /// no local agent runs on this machine (no Ollama here) and says how to fix it.
    @Test func theFirstLoopWorksOnAFreshVault() throws {
        let root = TemporaryFolder.make("fbt-first-loop")
        defer { TemporaryFolder.remove(root) }
        func run(_ arguments: [String]) -> (Int32, String) {
            let (console, output) = Console.capturing()
            let code = CLI.run(arguments, console: console, environment: [:], executablePath: "/nonexistent")
            return (code, output.stdout + output.stderr)
        }
        let steps: [[String]] = [
            ["init", root, "--with-memory"],
            ["doctor", "--vault", root],
            ["memory-test", "quick", "--vault", root],
            ["route", "summarize today's handoff", "--vault", root],
        ]
        for step in steps {
            if step.first == "doctor" { try DoctorTests.pointOllamaNowhere(root) }
            let (code, output) = run(step)
            if step.first == "doctor" {
                let failures = output.split(separator: "\n").filter { $0.hasPrefix("fail ") }
                // No PATH here: only lanes the shipped rules route work to, and the local one among them.
                #expect(!failures.isEmpty && failures.allSatisfy { $0.hasPrefix("fail  lanes      ") } && failures.contains { $0.hasPrefix("fail  lanes      local — ") }, "\(output)")
                #expect(output.contains("install and start Ollama"))
                continue
            }
            #expect(code == 0, "\(step.joined(separator: " ")) → \(code)\n\(output)")
        }
    }
}

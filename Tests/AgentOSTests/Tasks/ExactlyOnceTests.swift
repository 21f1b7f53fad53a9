import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Exactly-once for every name, no lost answer, and telemetry that survives a crash.
@Suite(.serialized) struct ExactlyOnceTests {
    /// Runs recorded for a task path, in any state.
    func runCount(_ env: EngineTestVault, _ path: String) throws -> Int {
        try RunStore(vault: env.vault).withDatabase { try $0.scalarInt("SELECT COUNT(*) FROM runs WHERE task_path=?", [.text(path)]) }.map { Int($0) } ?? 0
    }

    /// How many journal lines name `runID`.
    func journalLines(_ env: EngineTestVault, runID: String) -> Int {
        (PlatformTestSupport.read(env.vault.stateDirectory + "/telemetry.jsonl") ?? "").split(separator: "\n")
            .filter { (try? JSON.parse(String($0)))?["run_id"]?.stringValue == runID }.count
    }

    /// How often `needle` occurs in `text`.
    func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// On 320a560 a name of 80 CJK characters made the temp name exceed NAME_MAX: the task note was
    /// never updated, the result never written, yet the run ended done, and every start ran it again.
    @Test(arguments: [String(repeating: "漢", count: 80), String(repeating: "t", count: 250), String(repeating: "👩‍👩‍👧", count: 14)])
    func aLongNamedTaskRunsExactlyOnceAndItsNotesAreWritten(title: String) throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask(title, properties: "type: task\nagent: echo", body: "Answer with the marker LONG-NAME-OK.")
        guard case .started(let runID) = engine.consider(path: path, wait: true) else {
            Issue.record("the task did not start")
            return
        }
        engine.waitUntilIdle()
        let task = try env.note(path)
        #expect(task.text("status") == "done")
        let link = try #require(task.text("result"))
        let resultPath = String(link.dropFirst(2).dropLast(2)) + ".md"
        #expect(resultPath.split(separator: "/").last!.utf8.count <= 255)
        #expect(resultPath.hasSuffix(" \(runID).md"))
        #expect(try env.note(resultPath).body.contains("LONG-NAME-OK"))
        #expect(journalLines(env, runID: runID) == 1)

        // A restart (a new engine: recovery, then every work note considered) runs nothing again.
        let again = try env.engine()
        again.recover()
        #expect(again.consider(path: path) == .ignored)
        again.waitUntilIdle()
        #expect(try runCount(env, path) == 1)
        #expect(journalLines(env, runID: runID) == 1)
    }

    /// Result names are cut in bytes at character boundaries, never inside a character.
    @Test func resultNamesFitNameMaxWithoutSplittingACharacter() {
        let runID = "20261126-074512-3f9a1c"
        let titles = [String(repeating: "漢", count: 200), String(repeating: "e\u{301}", count: 120), String(repeating: "👩‍👩‍👧", count: 40),
                      String(repeating: "a", count: 300), "line\nbreak\u{1B}[31m", "a/b:c*d?"]
        for title in titles {
            let name = TaskEngine.resultPath(forTitle: title, runID: runID)
            #expect(name.utf8.count <= 255)
            #expect(name.hasSuffix(" \(runID).md"))
            let stem = String(name.dropLast(" \(runID).md".count))
            // Whole characters of the (sanitized) title, in order.
            #expect(stem.count <= title.count)
            #expect(!stem.contains("\n") && !stem.contains("\u{1B}") && !stem.contains("/"))
            #expect(String(decoding: Array(name.utf8), as: UTF8.self) == name)
        }
        #expect(TaskEngine.resultPath(forTitle: String(repeating: "👩‍👩‍👧", count: 40), runID: runID).hasPrefix("👩‍👩‍👧"))
    }

    /// On 320a560 a result that could not be written still ended `done` and the answer was lost.
    @Test func aResultThatCannotBeWrittenFailsTheRunAndIsRecoveredOnRestart() throws {
        let env = try EngineTestVault()
        let results = env.vault.root + "/Results"
        try? FileManager.default.removeItem(atPath: results)
        // A file named like the result folder: no result note can be written under it.
        #expect(FileManager.default.createFile(atPath: results, contents: Data("not a folder\n".utf8)))
        let engine = try env.engine()
        let path = try env.writeTask("Unwritable", properties: "type: task\nagent: echo", body: "The answer holds KEPT-ANSWER-7.")
        guard case .started(let runID) = engine.consider(path: path, wait: true) else {
            Issue.record("the task did not start")
            return
        }
        engine.waitUntilIdle()
        let task = try env.note(path)
        #expect(task.text("status") == "failed")
        let error = try #require(task.text("error"))
        #expect(error.contains("could not be written"))
        #expect(error.contains(".agentos/results/\(runID).md"))
        let kept = env.vault.stateDirectory + "/results/\(runID).md"
        #expect(PlatformTestSupport.read(kept)?.contains("KEPT-ANSWER-7") == true)
        #expect(try RunStore(vault: env.vault).run(id: runID)?.state == .failed)

        // Still unwritable: the next start keeps it.
        try env.engine().recover()
        #expect(PlatformTestSupport.read(kept) != nil)
        // Once the folder can be made, a restart writes the result note and links it.
        try FileManager.default.removeItem(atPath: results)
        let restarted = try env.engine()
        restarted.recover()
        let link = try #require(try env.note(path).text("result"))
        let resultPath = String(link.dropFirst(2).dropLast(2)) + ".md"
        #expect(try env.note(resultPath).body.contains("KEPT-ANSWER-7"))
        #expect(try env.note(resultPath).text("run_id") == runID)
        #expect(PlatformTestSupport.read(kept) == nil)
        #expect(try runCount(env, path) == 1)
        #expect(journalLines(env, runID: runID) == 1)
    }

    /// A crash after the journal line but before the batched row and daily line: the next start
    /// writes them, exactly once however often it starts, and never a second journal line.
    @Test func missingRowsAndDailyLinesAreRebuiltFromTheJournalExactlyOnce() throws {
        let env = try EngineTestVault()
        try FileSystem.makeDirectories(env.vault.stateDirectory)
        let writer = TelemetryWriter(store: env.store)
        let now = Date()
        let ids = (0..<5).map { "20990101-000000-00000\($0)" }
        for id in ids {
            try writer.appendJSONLine(TelemetryRecord(time: now, runID: id, taskPath: "Tasks/Lost \(id).md", agent: "echo", model: nil, lane: "local", rule: "r", reason: nil, costUSD: nil, tokensIn: nil, tokensOut: nil, durationSeconds: 0.1, outcome: "done", resultPath: nil, error: nil))
        }
        // One of them did get its row and line before the crash.
        let firstLine = try #require(PlatformTestSupport.read(writer.journalPath)?.split(separator: "\n").first.map(String.init))
        try writer.appendToNotes([try #require(TelemetryRecord(journalLine: firstLine))])
        for _ in 0..<3 {
            let engine = try env.engine()
            engine.recover()
        }
        let day = LocalTime.day(now)
        let telemetry = try env.text("Telemetry/\(day).md")
        let daily = try env.text("Daily/\(day).md")
        for id in ids {
            #expect(occurrences(TelemetryWriter.marker(id), in: telemetry) == 1)
            #expect(occurrences(TelemetryWriter.marker(id), in: daily) == 1)
            #expect(journalLines(env, runID: id) == 1)
        }
        #expect(occurrences("[[Tasks/Lost 20990101-000000-000003]]", in: daily) == 1)
    }

    /// A task left `running` by an echo run whose watcher is gone (an owner pid no process has).
    static func cutOffRun(_ env: EngineTestVault, _ title: String) throws -> (path: String, record: RunRecord) {
        let runs = try RunStore(vault: env.vault)
        let path = try env.writeTask(title, properties: "type: task\nagent: echo\nstatus: running", body: "x")
        let record = try #require(try runs.claim(taskPath: path, taskHash: nil, attempt: 1))
        try runs.withDatabase { try $0.run("UPDATE runs SET owner_pid=?, state='running', agent='echo', lane='local' WHERE run_id=?", [.int(Int64(Int32.max)), .text(record.runID)]) }
        return (path, record)
    }

    /// A run killed after its journal line and result note but before the run store heard of it:
    /// recovery finishes it from the result note and does not journal it a second time.
    @Test func recoveryNeverRecordsARunTwice() throws {
        let env = try EngineTestVault()
        let (path, record) = try Self.cutOffRun(env, "Cut off")
        let resultPath = "Results/" + TaskEngine.resultPath(forTitle: "Cut off", runID: record.runID)
        try env.store.write("---\ntype: result\nrun_id: \(record.runID)\nstatus: done\nduration_s: 0.5\n---\n# Cut off\n\nanswer\n", to: resultPath, expecting: .absent)
        try TelemetryWriter(store: env.store).appendJSONLine(TelemetryRecord(time: Date(), runID: record.runID, taskPath: path, agent: "echo", model: nil, lane: "local", rule: nil, reason: nil, costUSD: nil, tokensIn: nil, tokensOut: nil, durationSeconds: 0.5, outcome: "done", resultPath: resultPath, error: nil))
        let engine = try env.engine()
        engine.recover()
        #expect(try env.note(path).text("status") == "done")
        #expect(journalLines(env, runID: record.runID) == 1)
        // The note catching up later (a second look at a `running` note) records nothing either.
        _ = engine.consider(path: path, force: true)
        engine.waitUntilIdle()
        #expect(journalLines(env, runID: record.runID) == 1)
        let day = LocalTime.day(Date())
        #expect(occurrences(TelemetryWriter.marker(record.runID), in: try env.text("Daily/\(day).md")) == 1)
    }

    /// A watcher killed mid-run cannot remove its run's working folder: recovery removes the empty
    /// ones the run left (its own, its MCP server's), keeps one the agent wrote to, and touches no
    /// other run's.
    @Test func recoveryRemovesTheEmptyWorkingFoldersOfACutOffRun() throws {
        let env = try EngineTestVault()
        let (path, record) = try Self.cutOffRun(env, "Cut off mid-run")
        let base = RunWorkspace.scratchBase(vault: env.vault, environment: ProcessInfo.processInfo.environment)
        let own = RunWorkspace.scratchPath(base: base, runID: record.runID, attempt: 0)
        let mcp = RunWorkspace.scratchPath(base: base, runID: record.runID + "-mcp", attempt: 0)
        let written = RunWorkspace.scratchPath(base: base, runID: record.runID, attempt: 1)
        let other = RunWorkspace.scratchPath(base: base, runID: record.runID + "x", attempt: 0)
        for folder in [own, mcp, written, other] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false) }
        defer { for folder in [own, mcp, written, other] { try? FileManager.default.removeItem(atPath: folder) } }
        try "kept".replacingFile(written + "/out.txt")

        let engine = try env.engine()
        engine.recover()
        #expect(try env.note(path).text("status") != "running", "the run was recovered")
        #expect(!FileManager.default.fileExists(atPath: own))
        #expect(!FileManager.default.fileExists(atPath: mcp))
        #expect(FileManager.default.fileExists(atPath: written + "/out.txt"), "what the agent wrote is kept")
        #expect(FileManager.default.fileExists(atPath: other), "another run's folder is not touched")
    }

    /// The 20×300 SIGKILL run left one task `new` and never claimed. One way that happens (fixed here):
    /// two claims in one second draw the same run id, and the second is taken for "already active".
    @Test func aRunIDCollisionIsNotMistakenForAnActiveRun() throws {
        let env = try EngineTestVault()
        let runs = try RunStore(vault: env.vault)
        let drawn = Locked(0)
        // The first two draws collide; the third is fresh.
        runs.runIDSource = { _ in drawn.withLock({ $0 += 1; return $0 }) <= 2 ? "20990101-000000-aaaaaa" : "20990101-000000-bbbbbb" }
        let first = try #require(try runs.claim(taskPath: "Tasks/A.md", taskHash: nil, attempt: 1))
        let second = try #require(try runs.claim(taskPath: "Tasks/B.md", taskHash: nil, attempt: 1), "a colliding id blocked another task")
        #expect(first.runID != second.runID)
        // A real active run still blocks a second claim of the same task.
        #expect(try runs.claim(taskPath: "Tasks/A.md", taskHash: nil, attempt: 1) == nil)
    }
}

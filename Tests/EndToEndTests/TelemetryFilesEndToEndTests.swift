import AgentOS
import Foundation
import TestSupport
import Testing

/// Files touched, end to end with the real watcher: the fixture codex and opencode print the
/// file-change output the real CLIs print (Codex `file_change` items, OpenCode `write`/`edit` tool
/// parts), and a fixture that writes notes into the vault without saying so is caught by the
/// watcher. The result note (`files` as links), the telemetry row and the JSON line list the same
/// files; every cost carries its source, and the ledger holds exactly the cost telemetry shows.
@Suite(.serialized) struct TelemetryFilesEndToEndTests {
    /// The JSON line of a task's run.
    static func line(_ env: WatchedVault, task: String) -> JSON? {
        env.telemetryLines().last { $0["task"]?.stringValue == task }
    }

    @Test func reportedAndWatchedFilesReachTheResultRowAndLine() throws {
        let env = try WatchedVault()
        try env.write("Memory/Shared.md", "---\ntype: note\n---\n# Shared\n\nA note an agent appends to.\n")
        try env.start()
        try env.writeInPlace("Tasks/Patch auth.md", "---\ntype: task\nagent: codex\n---\nPatch the auth module. FIXTURE_MODE=file-change\n")
        #expect(WatcherEndToEndTests.waitForTerminal(env, "Tasks/Patch auth.md") == "done", "\(env.allLogs)")
        try env.writeInPlace("Tasks/Plan it.md", "---\ntype: task\nagent: opencode\n---\nWrite the plan. FIXTURE_MODE=file-change\n")
        #expect(WatcherEndToEndTests.waitForTerminal(env, "Tasks/Plan it.md") == "done", "\(env.allLogs)")
        try env.writeInPlace("Tasks/Quiet writer.md", "---\ntype: task\nagent: codex\n---\nTidy memory. FIXTURE_MODE=write-vault FIXTURE_TARGET=Memory/Shared.md\n")
        #expect(WatcherEndToEndTests.waitForTerminal(env, "Tasks/Quiet writer.md") == "done", "\(env.allLogs)")

        // Codex: the completed patch's three files, by their paths in the run's folder; the failed one is not listed.
        let codexResult = try #require(env.linked(env.note("Tasks/Patch auth.md")?.text("result")))
        let codexFiles = codexResult.note.texts("files")
        #expect(codexFiles.count == 3, "\(codexFiles)")
        #expect(codexFiles.contains { $0.hasSuffix("/src/auth.swift") } && codexFiles.contains { $0.hasSuffix("/tests/AuthTests.swift") } && codexFiles.contains { $0.hasSuffix("/old.txt") })
        #expect(!codexFiles.contains { $0.hasSuffix("never.swift") })
        let codexLine = try #require(Self.line(env, task: "Tasks/Patch auth.md"))
        let codexJSONFiles = codexLine["files"]?.arrayValue ?? []
        #expect(Set(codexJSONFiles.compactMap { $0["path"]?.stringValue }) == Set(codexFiles))
        #expect(codexJSONFiles.first { $0["path"]?.stringValue?.hasSuffix("/tests/AuthTests.swift") == true }?["change"]?.stringValue == "created")
        #expect(codexJSONFiles.first { $0["path"]?.stringValue?.hasSuffix("/old.txt") == true }?["change"]?.stringValue == "deleted")
        #expect(codexJSONFiles.allSatisfy { $0["by"]?.stringValue == "reported" })
        // Codex prices no run: tokens × the note's prices, said so everywhere.
        #expect(codexLine["cost_source"]?.stringValue == "estimated")
        #expect(codexResult.note.text("cost_source") == "estimated")
        #expect(env.note("Tasks/Patch auth.md")?.text("cost_source") == "estimated")
        #expect(codexResult.note.properties.contains { $0.key == "verdict" })

        // OpenCode: the write (created) and the edit; not the edit that failed.
        let openResult = try #require(env.linked(env.note("Tasks/Plan it.md")?.text("result")))
        let openFiles = openResult.note.texts("files")
        #expect(openFiles.count == 2 && openFiles.contains { $0.hasSuffix("/notes/plan.md") } && openFiles.contains { $0.hasSuffix("/src/main.ts") }, "\(openFiles)")
        let openLine = try #require(Self.line(env, task: "Tasks/Plan it.md"))
        #expect(openLine["files"]?.arrayValue?.first { $0["path"]?.stringValue?.hasSuffix("/notes/plan.md") == true }?["change"]?.stringValue == "created")
        #expect(openLine["cost_source"]?.stringValue == "reported")

        // The agent that said nothing: the watcher saw it create one note and change another.
        let quietResult = try #require(env.linked(env.note("Tasks/Quiet writer.md")?.text("result")))
        let quietFiles = quietResult.note.texts("files")
        #expect(quietFiles.contains("[[Memory/Agent wrote this]]") && quietFiles.contains("[[Memory/Shared]]"), "\(quietFiles)\n\(env.allLogs)")
        #expect(!quietFiles.contains { $0.contains("Tasks/Quiet writer") || $0.contains("Telemetry/") || $0.contains("Results/") })
        let quietLine = try #require(Self.line(env, task: "Tasks/Quiet writer.md"))
        let quietJSON = quietLine["files"]?.arrayValue ?? []
        #expect(quietJSON.first { $0["path"]?.stringValue == "Memory/Agent wrote this.md" }?["change"]?.stringValue == "created")
        #expect(quietJSON.first { $0["path"]?.stringValue == "Memory/Shared.md" }?["change"]?.stringValue == "changed")
        #expect(quietJSON.allSatisfy { $0["by"]?.stringValue == "watched" })

        // The telemetry row lists the same files and the cost with its source; the note keeps a totals line.
        let day = TelemetryWriter.notePath(Date())
        #expect(eventually(within: 20, every: 0.05) { env.text(day)?.contains("[[Memory/Agent wrote this]]") == true })
        let rows = try #require(env.text(day))
        let quietRow = try #require(rows.split(separator: "\n").first { $0.contains("[[Tasks/Quiet writer]]") })
        #expect(quietRow.contains("[[Memory/Agent wrote this]]") && quietRow.contains("[[Memory/Shared]]"))
        #expect(quietRow.contains(" estimated |"))
        let codexRow = try #require(rows.split(separator: "\n").first { $0.contains("[[Tasks/Patch auth]]") })
        #expect(codexRow.contains("/src/auth.swift"))
        #expect(rows.contains("**Totals:** 3 runs"), "\(rows)")

        // The ledger settled each paid run on exactly the figure telemetry shows.
        let ledger = try BudgetLedger(vault: env.vault)
        for task in ["Tasks/Patch auth.md", "Tasks/Plan it.md", "Tasks/Quiet writer.md"] {
            let line = try #require(Self.line(env, task: task))
            let runID = try #require(line["run_id"]?.stringValue)
            let settled = try ledger.settledUSD(runID: runID)
            #expect(settled.map { ($0 * 1_000_000).rounded() } == line["cost_usd"]?.doubleValue.map { ($0 * 1_000_000).rounded() }, "\(task): ledger \(String(describing: settled)) vs \(line)")
        }
        try env.stop(SIGINT)
    }
    /// Attack: a public cloud run's result note and telemetry row were read by later cloud agents,
    /// and listed every note that changed while it ran, private ones too (a person saving a private
    /// note meanwhile, another run's private task). They name none now.
    @Test func aPublicRunsFilesNameNoPrivateNoteThatChangedWhileItRan() throws {
        let env = try WatchedVault()
        try env.write("Private/DiaryPRIVMARK.md", "# Diary\n\nPRIVMARK text.\n")
        try env.write("Memory/HealthPRIVTAG.md", "---\ntags: [private]\n---\n# Health\n\nPRIVTAG text.\n")
        try env.start()
        for (name, target) in [("Tidy diary", "Private/DiaryPRIVMARK.md"), ("Tidy health", "Memory/HealthPRIVTAG.md")] {
            // The agent goes for the private note on its own: a task naming it would be private.
            let hex = target.utf8.map { String(format: "%02x", $0) }.joined()
            try env.writeInPlace("Tasks/\(name).md", "---\ntype: task\nagent: codex\n---\nTidy memory. FIXTURE_MODE=write-vault FIXTURE_TARGET_HEX=\(hex)\n")
            #expect(WatcherEndToEndTests.waitForTerminal(env, "Tasks/\(name).md") == "done", "\(env.allLogs)")
            let result = try #require(env.linked(env.note("Tasks/\(name).md")?.text("result")))
            #expect(result.note.text("privacy") == nil, "a public run")
            let files = result.note.texts("files")
            // The public note it wrote is still listed: only the private one is left out.
            #expect(files.contains("[[Memory/Agent wrote this]]"), "\(files)\n\(env.allLogs)")
            #expect(!files.contains { $0.contains("PRIV") }, "\(files)")
            let line = try #require(Self.line(env, task: "Tasks/\(name).md"))
            #expect(!(line["files"]?.arrayValue ?? []).contains { $0["path"]?.stringValue?.contains("PRIV") == true })
        }
        let day = TelemetryWriter.notePath(Date())
        #expect(eventually(within: 20, every: 0.05) { env.text(day)?.contains("[[Tasks/Tidy health]]") == true })
        #expect(env.text(day)?.contains("PRIV") == false, "\(env.text(day) ?? "")")
        // Said as it is (round 148: "private or deleted" on runs that touched no private note).
        #expect(env.allLogs.contains("1 private note left out of the files it shows"), "\(env.allLogs)")
        #expect(!env.allLogs.contains("deleted note"), "\(env.allLogs)")
        try env.stop(SIGINT)
    }
}

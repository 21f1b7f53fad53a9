import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// Costs with their source, files touched from the agents' own output, the report's totals against
/// an independent sum over the JSON lines, its SVG charts, the totals line and the verdict guard.
@Suite struct TelemetryReportTests {
    // MARK: Parsers

    @Test func codexTokensAreTurnDifferencesOfItsRunningTotals() {
        // Two turns: the second turn.completed repeats the first's total plus its own.
        let output = """
        {"type":"thread.started","thread_id":"t1"}
        {"type":"turn.started"}
        {"type":"turn.completed","usage":{"input_tokens":1000,"cached_input_tokens":0,"output_tokens":100}}
        {"type":"turn.started"}
        {"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"done"}}
        {"type":"turn.completed","usage":{"input_tokens":2500,"cached_input_tokens":900,"output_tokens":160}}
        """
        let outcome = AgentOutputParser.parseCodex(output)
        #expect(outcome.tokensIn == 2500 && outcome.tokensOut == 160)
    }

    @Test func codexAndOpenCodeFileChangesAreRead() {
        let codex = AgentOutputParser.parseCodex("""
        {"type":"item.completed","item":{"id":"item_3","type":"file_change","changes":[{"path":"/w/a.swift","kind":"update"},{"path":"/w/b.swift","kind":"add"},{"path":"/w/c.txt","kind":"delete"}],"status":"completed"}}
        {"type":"item.completed","item":{"id":"item_4","type":"file_change","changes":[{"path":"/w/failed.swift","kind":"add"}],"status":"failed"}}
        {"type":"turn.completed","usage":{"input_tokens":1,"cached_input_tokens":0,"output_tokens":1}}
        """)
        #expect(codex.files.map(\.path) == ["/w/a.swift", "/w/b.swift", "/w/c.txt"])
        #expect(codex.files.map(\.change) == [.changed, .created, .deleted])
        let opencode = AgentOutputParser.parseOpencode("""
        {"type":"tool_use","sessionID":"s","part":{"type":"tool","tool":"write","state":{"status":"completed","input":{"filePath":"/w/new.md"},"metadata":{"exists":false}}}}
        {"type":"tool_use","sessionID":"s","part":{"type":"tool","tool":"apply_patch","state":{"status":"completed","input":{"patchText":"*** Begin Patch\\n*** Update File: src/x.ts\\n@@\\n*** Delete File: src/y.ts\\n*** End Patch"}}}}
        {"type":"tool_use","sessionID":"s","part":{"type":"tool","tool":"edit","state":{"status":"error","input":{"filePath":"/w/nope.md"}}}}
        {"type":"tool_use","sessionID":"s","part":{"type":"tool","tool":"read","state":{"status":"completed","input":{"filePath":"/w/read.md"}}}}
        {"type":"step_finish","sessionID":"s","part":{"type":"step-finish","cost":0.01,"tokens":{"input":1,"output":1,"reasoning":0,"cache":{"read":0,"write":0}}}}
        """)
        #expect(opencode.files.map(\.path) == ["/w/new.md", "src/x.ts", "src/y.ts"])
        #expect(opencode.files.map(\.change) == [.created, .changed, .deleted])
    }

    @Test func aTextAgentWithoutTokensIsEstimatedFromCharacters() throws {
        let folder = TemporaryFolder("fbt-chars")
        let note = try Note.parse(bytes: Array("---\ntype: agent\nname: printer\nlane: local\ncommand: [/bin/echo, \"{prompt}\"]\noutput: text\nprice_in_per_mtok: 1\nprice_out_per_mtok: 2\n---\n".utf8))
        let agent = try AgentDefinition.parse(note)
        let prompt = String(repeating: "abcd", count: 100)
        let result = AgentRunner.run(agent, prompt: prompt, model: nil, approved: false, workingDirectory: folder.path, timeout: 10, cancel: nil)
        #expect(result.tokensEstimated && result.outcome.tokensIn == 100 && result.outcome.tokensOut == 100)
        #expect(result.costSource == .estimated)
        #expect(abs((result.costUSD ?? 0) - (100.0 * 1 + 100.0 * 2) / 1_000_000) < 1e-12)
    }

    // MARK: Report

    /// A vault whose journal holds `count` generated runs across lanes, agents, days and cost
    /// sources, in the live file and a month file.
    static func generatedVault(count: Int) throws -> (EngineTestVault, [String]) {
        let env = try EngineTestVault()
        try FileSystem.makeDirectories(env.vault.stateDirectory)
        let lanes = ["local", "premium", "tool", "local"], agents = ["ollama", "claude", "opencode", "llm"]
        let now = Date()
        var random = SystemRandomNumberGenerator()
        var month: [String] = [], live: [String] = []
        for i in 0..<count {
            var r = TelemetryRecord(time: now.addingTimeInterval(-Double(i % 6) * 86_400 - Double(i)), runID: "run-\(i)", taskPath: "Tasks/T\(i % 17).md",
                                    agent: agents[i % 4], model: i % 3 == 0 ? "m1" : nil, lane: lanes[i % 4], rule: "r", reason: nil,
                                    costUSD: i % 5 == 0 ? nil : Double(Int.random(in: 0...90_000, using: &random)) / 1_000_000,
                                    tokensIn: i % 7 == 0 ? nil : Int.random(in: 10...5000, using: &random), tokensOut: i % 7 == 0 ? nil : Int.random(in: 1...900, using: &random),
                                    durationSeconds: Double(i % 9), outcome: i % 8 == 0 ? "failed" : "done", resultPath: nil, error: i % 8 == 0 ? "exit status 3: boom" : nil)
            r.costSource = r.costUSD == nil ? nil : [CostSource.reported, .estimated, .reserved][i % 3]
            r.files = i % 4 == 0 ? [TouchedFile(path: "Memory/M\(i % 3).md", change: .changed, attribution: .watched, inVault: true)] : []
            if i % 2 == 0 { month.append(r.json.compact) } else { live.append(r.json.compact) }
        }
        // A duplicate of a run in both files is counted once; a line cut short is skipped.
        live.append(month[0])
        let written = month + live
        try (month.joined(separator: "\n") + "\n").replacingFile(env.vault.stateDirectory + "/telemetry-2026-01.jsonl")
        try (live.joined(separator: "\n") + "\n{\"run_id\":\"cut").replacingFile(env.vault.stateDirectory + "/telemetry.jsonl")
        return (env, written)
    }

    @Test func reportTotalsEqualAnIndependentSumOverTheJSONLines() throws {
        let (env, lines) = try Self.generatedVault(count: 300)
        // The independent sum: straight from the JSON text, each run id once, within the period.
        let since = Date().addingTimeInterval(-10 * 86_400)
        var seen = Set<String>()
        var cost = 0.0, tokensIn = 0, tokensOut = 0, runs = 0
        var laneCost: [String: Double] = [:]
        for line in lines {
            let json = try JSON.parse(line)
            guard seen.insert(json["run_id"]!.stringValue!).inserted else { continue }
            runs += 1
            cost += json["cost_usd"]?.doubleValue ?? 0
            tokensIn += json["tokens_in"]?.intValue ?? 0
            tokensOut += json["tokens_out"]?.intValue ?? 0
            laneCost[json["lane"]!.stringValue!, default: 0] += json["cost_usd"]?.doubleValue ?? 0
        }
        let report = TelemetryReport.make(vault: env.vault, since: since)
        #expect(report.total.runs == runs && runs == 300)
        #expect(abs(report.total.costUSD - cost) < 1e-9)
        #expect(report.total.tokensIn == tokensIn && report.total.tokensOut == tokensOut)
        for lane in report.byLane { #expect(abs(lane.costUSD - laneCost[lane.key]!) < 1e-9) }
        #expect(report.byDay.map(\.runs).reduce(0, +) == runs)

        // Savings as documented: non-premium runs with tokens, priced with the premium agent's note, minus their cost.
        let premium = try #require(report.premiumAgent)
        var savings = 0.0
        seen.removeAll()
        for line in lines {
            let json = try JSON.parse(line)
            guard seen.insert(json["run_id"]!.stringValue!).inserted, json["lane"]?.stringValue != "premium",
                  let i = json["tokens_in"]?.intValue, let o = json["tokens_out"]?.intValue else { continue }
            savings += Double(i) * (premium.priceInPerMillionTokens ?? 0) / 1_000_000 + Double(o) * (premium.priceOutPerMillionTokens ?? 0) / 1_000_000 - (json["cost_usd"]?.doubleValue ?? 0)
        }
        #expect(abs(report.total.savingsUSD - savings) < 1e-9)
        #expect(savings != 0)

        // The note embeds both charts, which are valid XML.
        let written = try report.write(vault: env.vault)
        let note = try env.text(written[0])
        #expect(note.contains("![[\(written[1])]]") && note.contains("![[\(written[2])]]"))
        #expect(note.contains("## By lane") && note.contains("## Savings") && note.contains("## Files most touched"))
        for svg in written.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: env.vault.root + "/" + svg))
            let parser = XMLParser(data: data)
            #expect(parser.parse(), "\(svg) is not valid XML: \(String(describing: parser.parserError))")
            #expect(String(decoding: data, as: UTF8.self).contains("<rect") )
        }
    }

    @Test(.enabled(if: ExternalTool.canRun("rsvg-convert"), "rsvg-convert (librsvg2-bin) is not installed"))
    func aChartRendersToAPictureThatIsNotBlank() throws {
        let (env, _) = try Self.generatedVault(count: 60)
        let report = TelemetryReport.make(vault: env.vault, since: Date().addingTimeInterval(-10 * 86_400))
        let written = try report.write(vault: env.vault)
        let png = env.vault.root + "/chart.png"
        let rendered = try ChildProcess.run(try #require(ExternalTool.path("rsvg-convert")), ["-o", png, env.vault.root + "/" + written[1]])
        #expect(rendered.code == 0, "\(rendered.stderr)")
        // Decodes the PNG (zlib in python3) and counts pixels that are not white: the bars.
        let script = """
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
        pos, idat, width, height, channels = 8, b'', 0, 0, 4
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + n]
            if kind == b'IHDR':
                width, height, depth, color = struct.unpack('>IIBB', body[:10])
                channels = {6: 4, 2: 3, 0: 1, 4: 2}[color]
            if kind == b'IDAT': idat += body
            pos += 12 + n
        raw = zlib.decompress(idat)
        stride, prev, colored = width * channels, bytearray(width * channels), 0
        for y in range(height):
            f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            for x in range(stride):
                a = line[x - channels] if x >= channels else 0
                b = prev[x]
                c = prev[x - channels] if x >= channels else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            for x in range(0, stride, channels):
                if min(line[x:x + min(3, channels)]) < 200: colored += 1
            prev = line
        print(width, height, colored)
        """
        let decoded = try ChildProcess.run("/usr/bin/env", ["python3", "-c", script, png])
        #expect(decoded.code == 0, "\(decoded.stderr)")
        let numbers = decoded.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(numbers.count == 3)
        #expect(numbers[0] == 720 && numbers[1] == 320)
        // Bars, axes and text: well over 1 % of the picture is not white.
        #expect(numbers[2] > numbers[0] * numbers[1] / 100, "\(decoded.stdout)")
    }

    @Test func verdictsAreCountedByLaneFromResultNotes() throws {
        let env = try EngineTestVault()
        try FileSystem.makeDirectories(env.vault.stateDirectory)
        var lines: [String] = []
        for (i, verdict) in ["good", "good", "redo", "wrong", "nonsense"].enumerated() {
            let result = "Results/R\(i).md"
            _ = try env.store.create("---\ntype: result\nverdict: \(verdict)\n---\n# R\n", at: result)
            let r = TelemetryRecord(time: Date(), runID: "v\(i)", taskPath: "Tasks/T.md", agent: "ollama", model: nil, lane: "local", rule: nil, reason: nil,
                                    costUSD: 0, tokensIn: 1, tokensOut: 1, durationSeconds: 1, outcome: "done", resultPath: result, error: nil)
            lines.append(r.json.compact)
        }
        try (lines.joined(separator: "\n") + "\n").replacingFile(env.vault.stateDirectory + "/telemetry.jsonl")
        let local = try #require(TelemetryReport.make(vault: env.vault, since: Date().addingTimeInterval(-3600)).byLane.first)
        #expect(local.verdicts == [.good: 2, .redo: 1, .wrong: 1])
        #expect(TelemetryReport.verdictCell(local) == "50 % good (2 good, 1 redo, 1 wrong)")
    }

    /// Attack: a private task's run, journaled without saying it was private (every watcher run
    /// before this, and `run`), put the task's title and link into the report's "Most expensive
    /// tasks" table — a public note cloud agents read and search.
    @Test func theReportNamesNoPrivateTaskWhateverItsJournalLineSays() throws {
        let env = try EngineTestVault()
        try FileSystem.makeDirectories(env.vault.stateDirectory)
        _ = try env.store.create("---\ntype: task\nagent: ollama\nprivacy: private\n---\nDraft a letter.\n", at: "Tasks/My divorce lawyer PRIVMARK.md")
        _ = try env.store.create("---\ntype: task\ntags: [personal]\n---\nSummarise [[Private/Med]].\n", at: "Tasks/Tagged PRIVTAG.md")
        _ = try env.store.create("---\ntype: task\n---\nPlain work.\n", at: "Tasks/Plain work.md")
        var lines: [String] = []
        for (i, task) in ["Tasks/My divorce lawyer PRIVMARK.md", "Tasks/Tagged PRIVTAG.md", "Tasks/Plain work.md", "Tasks/Gone PRIVGONE.md"].enumerated() {
            let r = TelemetryRecord(time: Date(), runID: "p\(i)", taskPath: task, agent: "ollama", model: nil, lane: "local", rule: nil, reason: nil,
                                    costUSD: 0.5 + Double(i), tokensIn: 1, tokensOut: 1, durationSeconds: 1, outcome: "done", resultPath: nil, error: nil)
            #expect(r.isPrivate == nil)
            lines.append(r.json.compact)
        }
        // A task that is gone and was under Private/: judged by its path.
        lines[3] = lines[3].replacingOccurrences(of: "Tasks/Gone PRIVGONE.md", with: "Private/Gone PRIVGONE.md")
        try (lines.joined(separator: "\n") + "\n").replacingFile(env.vault.stateDirectory + "/telemetry.jsonl")
        let paths = try TelemetryReport.make(vault: env.vault, since: Date().addingTimeInterval(-3600)).write(vault: env.vault)
        let report = try env.text(try #require(paths.first { $0.hasSuffix(".md") }))
        #expect(!report.contains("PRIV"), "\(report)")
        #expect(report.contains("[[Tasks/Plain work]]") && report.contains("private run p0") && report.contains("private run p1"))
    }

    @Test func aRunCannotSetAVerdict() throws {
        let env = try EngineTestVault()
        _ = try env.store.create("---\ntype: result\nverdict:\n---\n# R\n", at: "Results/R.md")
        let (console, captured) = Console.capturing()
        let code = CLI.run(["note", "set", "Results/R.md", "verdict=good", "--vault", env.vault.root], console: console,
                           environment: ["FBT_RUN_ID": "20261203-070000-abcdef"], executablePath: "fuckbigtech")
        #expect(code == 1)
        // Results/ is the OS's record, closed to runs as a whole.
        #expect(captured.stderr.contains("refused from within run") && captured.stderr.contains("Results/"), "\(captured.stderr)")
        #expect(try env.text("Results/R.md") == "---\ntype: result\nverdict:\n---\n# R\n")
        // A result note kept elsewhere: the verdict itself is refused.
        _ = try env.store.create("---\ntype: result\nverdict:\n---\n# R\n", at: "Memory/R.md")
        let (console1, captured1) = Console.capturing()
        #expect(CLI.run(["note", "set", "Memory/R.md", "verdict=good", "--vault", env.vault.root], console: console1,
                        environment: ["FBT_RUN_ID": "20261203-070000-abcdef"], executablePath: "fuckbigtech") == 1)
        #expect(captured1.stderr.contains("only a person judges a run's result"), "\(captured1.stderr)")
        // A person (no run id) may.
        let (console2, _) = Console.capturing()
        #expect(CLI.run(["note", "set", "Results/R.md", "verdict=good", "--vault", env.vault.root], console: console2, environment: [:], executablePath: "fuckbigtech") == 0)
        #expect(try env.text("Results/R.md").contains("verdict: good"))
    }

    @Test func theTotalsLineFollowsTheRows() throws {
        let env = try EngineTestVault()
        let writer = TelemetryWriter(store: env.store)
        func record(_ id: String, _ cost: Double?, _ source: CostSource?, _ outcome: String) -> TelemetryRecord {
            var r = TelemetryRecord(time: Date(), runID: id, taskPath: "Tasks/\(id).md", agent: "a", model: nil, lane: "local", rule: nil, reason: nil,
                                    costUSD: cost, tokensIn: 10, tokensOut: 5, durationSeconds: 1, outcome: outcome, resultPath: nil, error: nil)
            r.costSource = source
            r.isPrivate = false
            return r
        }
        try writer.appendToNotes([record("a1", 0.1, .reserved, "done"), record("a2", 0.02, .reported, "failed")])
        try writer.appendToNotes([record("a3", 0.003, .estimated, "done"), record("a4", nil, nil, "review")])
        let text = try env.text(TelemetryWriter.notePath(Date()))
        let totals = text.split(separator: "\n").filter { $0.hasSuffix(TelemetryTotals.marker) }
        #expect(totals.count == 1)
        #expect(totals.first == "**Totals:** 4 runs · $0.1230 (reported $0.0200 · estimated $0.0030 · reserved $0.1000) · tokens 40 in / 20 out · 2 done, 1 failed, 1 review <!-- totals -->")
        #expect(text.contains("| 0.1000 reserved |"))
    }

    // MARK: Retention

    /// A local date in a given month (the 10th, noon).
    static func date(_ month: String, day: Int = 10) -> Date { TelemetryRecord.localDate("\(month)-\(String(format: "%02d", day))T12:00:00")! }

    @Test func rotationMovesEarlierMonthsOutAndACrashBetweenStepsLosesNothing() throws {
        let env = try EngineTestVault()
        let writer = TelemetryWriter(store: env.store)
        let months = ["2026-10", "2026-10", "2026-10", "2026-11", "2026-11", "2026-12", "2026-12"]
        var records: [TelemetryRecord] = []
        for (i, month) in months.enumerated() {
            var r = TelemetryRecord(time: Self.date(month, day: 10 + i), runID: "rot-\(i)", taskPath: "Tasks/R\(i).md", agent: "ollama", model: nil, lane: "local", rule: nil, reason: nil,
                                    costUSD: 0.001 * Double(i + 1), tokensIn: 1, tokensOut: 1, durationSeconds: 1, outcome: "done", resultPath: nil, error: nil)
            r.costSource = .reported
            r.isPrivate = false
            records.append(r)
            try writer.appendJSONLine(r)
        }
        try writer.appendToNotes(Array(records.prefix(4))) // the last three lost their batch to a "crash"
        let now = Self.date("2026-12", day: 20)
        func ids() -> [String] { TelemetryJournal.records(vault: env.vault).map(\.runID).sorted() }
        let all = records.map(\.runID).sorted()

        // A crash after the month files were written: every run is still read, once.
        #expect(throws: TelemetryWriter.SimulatedCrash.self) { try writer.rotateIfDue(now: now, crashAfter: .monthFilesWritten) }
        #expect(ids() == all)
        // Again, and a crash after the live journal was replaced (the checkpoint still old).
        #expect(throws: TelemetryWriter.SimulatedCrash.self) { try writer.rotateIfDue(now: now, crashAfter: .liveJournalReplaced) }
        #expect(ids() == all)
        // The next start rebuilds what the crash cut, exactly once, and finishes the rotation.
        try writer.rebuildFromJournal()
        #expect(try writer.rotateIfDue(now: now) == 0)
        #expect(ids() == all)
        func lines(_ name: String) throws -> [String] {
            try String(contentsOfFile: env.vault.stateDirectory + "/" + name, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        #expect(try lines("telemetry-2026-10.jsonl").count == 3)
        #expect(try lines("telemetry-2026-11.jsonl").count == 2)
        #expect(try lines("telemetry.jsonl").map { try JSON.parse($0)["run_id"]!.stringValue! } == ["rot-5", "rot-6"])
        for r in records {
            let note = try env.text(TelemetryWriter.notePath(r.time))
            #expect(note.components(separatedBy: TelemetryWriter.marker(r.runID)).count == 2, "\(r.runID) not exactly once")
        }
        // An append after rotation goes to the live journal, and the report reads across the files.
        var later = records[6]
        later.runID = "rot-7"
        try writer.appendJSONLine(later)
        let report = TelemetryReport.make(vault: env.vault, since: Self.date("2026-10", day: 1), until: now)
        #expect(report.total.runs == 8)
        #expect(abs(report.total.costUSD - (records.compactMap(\.costUSD).reduce(0, +) + 0.007)) < 1e-12)
    }

    // MARK: Files seen by the OS

    @Test func watchedChangesAreTheRunsAloneOrDuringWhenRunsOverlapAndMCPWritesAreExact() throws {
        let env = try EngineTestVault()
        try FileSystem.makeDirectories(env.vault.stateDirectory)
        let touches = RunTouches(vault: env.vault)
        touches.begin(runID: "A", taskPath: "Tasks/A.md")
        touches.saw([("Memory/One.md", .created), ("Tasks/A.md", .changed)])
        touches.begin(runID: "B", taskPath: "Tasks/B.md")
        touches.saw([("Memory/Two.md", .changed), ("Memory/One.md", .changed)])
        // The MCP server of run B logged a write with its run id (and a refusal, which wrote nothing).
        let log = [
            #"{"time":"t","tool":"write_note","path":"Memory/Exact.md","hash":null,"outcome":"written","agent":"claude","run_id":"B"}"#,
            #"{"time":"t","tool":"write_note","path":"Memory/Refused.md","hash":null,"outcome":"refused","agent":"claude","run_id":"B"}"#,
            #"{"time":"t","tool":"write_note","path":"Memory/Other.md","hash":null,"outcome":"written","agent":"claude","run_id":"C"}"#,
        ].joined(separator: "\n") + "\n"
        try FileSystem.append(Array(log.utf8), to: MCPWriteLog.path(env.vault), sync: false)
        let a = touches.end(runID: "A")
        #expect(a == [TouchedFile(path: "Memory/One.md", change: .created, attribution: .watched, inVault: true),
                      TouchedFile(path: "Memory/Two.md", change: .changed, attribution: .during, inVault: true)])
        touches.saw([("Memory/Three.md", .deleted)])
        let b = touches.end(runID: "B")
        #expect(b == [TouchedFile(path: "Memory/Exact.md", change: .changed, attribution: .mcp, inVault: true),
                      TouchedFile(path: "Memory/One.md", change: .changed, attribution: .during, inVault: true),
                      TouchedFile(path: "Memory/Three.md", change: .deleted, attribution: .watched, inVault: true),
                      TouchedFile(path: "Memory/Two.md", change: .changed, attribution: .during, inVault: true)])
        #expect(!touches.isWatching)
        // A file made and gone within a run left nothing: an editor's temporary renamed over the
        // task (`sed -i`), a note created then deleted. A note that was there and is deleted stays.
        touches.begin(runID: "D", taskPath: "Tasks/D.md")
        touches.saw([("Tasks/sedAb12Cd", .changed), ("Memory/Scratch.md", .created), ("Memory/Old.md", .changed)])
        touches.saw([("Tasks/sedAb12Cd", .deleted), ("Tasks/D.md", .created), ("Memory/Scratch.md", .deleted), ("Memory/Old.md", .deleted)])
        #expect(touches.end(runID: "D") == [TouchedFile(path: "Memory/Old.md", change: .deleted, attribution: .watched, inVault: true)])
        #expect(!RunTouches.mayBeAgentWrite("Telemetry/2026-12-03.md") && !RunTouches.mayBeAgentWrite("Private/Daily/2026-12-03.md") && RunTouches.mayBeAgentWrite("Memory/x.md"))
    }
}

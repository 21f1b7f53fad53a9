import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The thirty-ninth outside attack on the release binary (`/work/attack76-report.md`), each
/// finding written as the attack it was.
@Suite struct ThirtyNinthAttackTests {
    /// Attack (low–medium): the OS wrote `status: failed` and `error:` into a task whose frontmatter
    /// did not parse at column 0, which broke an indented YAML block or a JSON one; the person fixed
    /// exactly the line the error named and the task still failed, on the OS's own lines, with a
    /// second pair stacked at every save. The lines are written as the block is.
    @Test func aBrokenIndentedOrJSONFrontmatterRunsOnceFixed() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let cases: [(name: String, broken: String, fixed: String)] = [
            ("Indented", "---\n  type: task\n  agent: claude\n  ref: *x\n---\nSummarise the plan.\n", "  ref: x"),
            ("JSON", "---\n{\"type\": \"task\", \"agent\": \"claude\", \"tags\": [1,}\n---\nSummarise the plan again.\n", ""),
            ("JSONStatus", "---\n{\"type\": \"task\", \"status\": \"new\", \"agent\": \"claude\", \"tags\": [1,}\n---\nSummarise it once more.\n", ""),
            ("IndentedComment", "---\n# made by hand\n    type: task\n    agent: claude\n    ref: *y\n---\nSummarise the notes.\n", "    ref: y"),
        ]
        for item in cases {
            let path = "Tasks/\(item.name).md"
            try env.writeAsAnotherProgram(item.broken, to: path)
            _ = engine.consider(path: path, wait: true)
            let rejected = try env.text(path)
            #expect(rejected.contains("error:") || rejected.contains("\"error\""), "\(item.name): no error written:\n\(rejected)")
            // The person fixes their own line, and only it.
            var lines = rejected.components(separatedBy: "\n")
            let broken = try #require(lines.firstIndex { line in
                let text = line.trimmingCharacters(in: .whitespaces)
                return text.hasPrefix("ref:") || text.hasPrefix("{")
            }, "\(item.name):\n\(rejected)")
            let brokenLine = lines[broken]
            if brokenLine.hasPrefix(" ") {
                lines[broken] = item.fixed
            } else {
                // The JSON line now starts with the OS's members (whose error quotes the mistake):
                // only the person's own member is fixed, at the end.
                let mistake = try #require(brokenLine.range(of: "[1,}", options: .backwards))
                lines[broken] = brokenLine.replacingCharacters(in: mistake, with: "[1]}")
            }
            try env.writeAsAnotherProgram(lines.joined(separator: "\n"), to: path)
            _ = engine.consider(path: path, wait: true)
            engine.waitUntilIdle()
            let after = try env.text(path)
            #expect(try env.note(path).text("status") == "done", "\(item.name): the fixed task did not run:\n\(after)\n\(env.loggedEvents.map(\.message).suffix(3))")
        }
    }

    /// Attack (low): values past their range in the OS's own state files (a cooldown until 1e300,
    /// a heartbeat's pid of 2^32, a telemetry checkpoint of -1) stopped `status`, `agent list` and
    /// the watcher at every start.
    @Test func outOfRangeStateIsReadSafely() throws {
        #expect(!LocalTime.day(Date(timeIntervalSince1970: 1e300)).isEmpty)
        #expect(!LocalTime.dateTime(Date(timeIntervalSince1970: -1e300)).isEmpty)
        let temp = try MCPServerTests.InitVault()
        try FileManager.default.createDirectory(atPath: temp.vault.stateDirectory, withIntermediateDirectories: true)
        try "{\"pid\": 4294967296, \"started_epoch\": 1, \"updated_epoch\": 1e30}".replacingFile(WatcherHeartbeat.path(for: temp.vault))
        #expect(WatcherHeartbeat.read(from: temp.vault) == nil)
        // A checkpoint below 0: the journal is read from its start (its lines go in once).
        let telemetry = TelemetryWriter(store: NoteStore(vault: temp.vault))
        try "-1".replacingFile(temp.vault.stateDirectory + "/telemetry.checkpoint")
        _ = try telemetry.rebuildFromJournal()
        #expect(TelemetryWriter.readJournal(temp.vault.stateDirectory + "/nothing", from: -1).isEmpty)
        let (console, captured) = Console.capturing()
        #expect(CLI.run(["status", "--vault", temp.vault.root], console: console, environment: ["HOME": temp.folder.path], executablePath: "/opt/fbt/fuckbigtech") == 0, "\(captured.stderr)")
    }

    /// Attack (low): `task new --lane bogus` wrote the task and exited 0; the watcher then blocked it.
    @Test func anUnknownLaneIsRefusedAtOnce() throws {
        let temp = try MCPServerTests.InitVault()
        var task = NewTask(prompt: "lane test")
        task.lane = "bogus"
        #expect(throws: NewTaskError.noSuchLane("bogus")) { try task.write(vault: temp.vault, environment: [:]) }
        task.lane = " Local "
        #expect(try task.write(vault: temp.vault, environment: [:]) == "Tasks/lane test.md")
    }
}

/// The fortieth outside attack on the release binary (`/work/attack77-report.md`).
@Suite struct FortiethAttackTests {
    /// Attack (medium): a task saved broken twice had two `status`/`error` pairs; its `error` read
    /// the lower, older one, so the person's fix was not seen as one and the task never ran, without
    /// a word. Each error written replaces the OS's earlier ones.
    @Test func aTaskSavedBrokenTwiceRunsOnceFixed() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let cases: [(name: String, first: String, second: (String) -> String, fix: (String) -> String)] = [
            ("Twice", "---\ntype: task\nagent: claude\nref: *x\n---\nSummarise A.\n",
             { $0.replacingOccurrences(of: "ref: *x\n", with: "ref: *y\n") }, { $0.replacingOccurrences(of: "ref: *y\n", with: "ref: y\n") }),
            ("TwiceIndented", "---\n  type: task\n  agent: claude\n  ref: *x\n---\nSummarise B.\n",
             { $0.replacingOccurrences(of: "  ref: *x\n", with: "  ref: *y\n") }, { $0.replacingOccurrences(of: "  ref: *y\n", with: "  ref: y\n") }),
            ("TwiceJSON", "---\n{\"type\": \"task\", \"agent\": \"claude\", \"tags\": [1,}\n---\nSummarise C.\n",
             { text in
                 let at = text.range(of: "[1,}", options: .backwards)!
                 return text.replacingCharacters(in: at, with: "[2,}")
             }, { text in
                 let at = text.range(of: "[2,}", options: .backwards)!
                 return text.replacingCharacters(in: at, with: "[2]}")
             }),
        ]
        for item in cases {
            let path = "Tasks/\(item.name).md"
            try env.writeAsAnotherProgram(item.first, to: path)
            _ = engine.consider(path: path, wait: true)
            try env.writeAsAnotherProgram(item.second(try env.text(path)), to: path)
            _ = engine.consider(path: path, wait: true)
            let twice = try env.text(path)
            #expect(twice.components(separatedBy: "failed").count == 2, "\(item.name): the pairs piled up, or the error quotes the OS's own:\n\(twice)")
            try env.writeAsAnotherProgram(item.fix(twice), to: path)
            _ = engine.consider(path: path, wait: true)
            engine.waitUntilIdle()
            let text = try env.text(path)
            #expect(try env.note(path).text("status") == "done", "\(item.name): the fixed task did not run:\n\(text)")
        }
    }

    /// Attack (low): with the opening `---` never closed, the OS took a body line beginning with `{`
    /// for a JSON block and wrote its members into the person's text.
    @Test func anUnclosedBlockNeverHasItsBodyRewritten() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let body = "# Config for the run\n{\"retries\": 3, \"model\": \"big\"}\n    indented example\nThis note explains the config above.\n"
        try env.writeAsAnotherProgram("---\n" + body, to: "Tasks/Unclosed.md")
        _ = engine.consider(path: "Tasks/Unclosed.md", wait: true)
        let text = try env.text("Tasks/Unclosed.md")
        #expect(text.hasSuffix(body), "the body was changed:\n\(text)")
        #expect(text.contains("error:"), "\(text)")
        #expect(TaskEngine.firstLine(ofBlockIn: Array("a: 1\n---   \nb".utf8), from: 0) == .yaml(indent: 0))
    }

    /// Attack (low): a cooldown row with `strikes` of Int64.max overflowed at the agent's next
    /// usage-limit failure and stopped the watcher at every start for an hour.
    @Test func endlessStrikesDoNotOverflow() throws {
        let env = try EngineTestVault()
        let runs = try RunStore(vault: env.vault)
        let now = Date()
        _ = try runs.coolDown(agent: "limw", failure: .usageLimit, reason: "x", resetAt: nil, now: now)
        try runs.withDatabase { try $0.run("UPDATE cooldowns SET strikes = 9223372036854775807, until = ? WHERE agent = 'limw'", [.double(now.timeIntervalSince1970 - 10)]) }
        let again = try runs.coolDown(agent: "limw", failure: .usageLimit, reason: "x", resetAt: nil, now: now)
        #expect(again.until.timeIntervalSince(now) <= RunStore.maxBackOff + 1)
    }

    /// Attack (low): a CRLF note's frontmatter error quoted no line ("\r\n" is one Character).
    @Test func aCRLFNotesErrorQuotesTheLine() throws {
        let bytes = Array("---\r\ntype: task\r\nref: *x\r\n---\r\nx\r\n".utf8)
        let error = FrontmatterError(line: 3, column: 6, message: "aliases are not supported")
        #expect(TaskEngine.describe(error, in: bytes, shiftedBy: 2).contains("(the line reads: ref: *x)"))
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The eleventh outside attack on the release binary (`/work/attack43-report.md`), each finding
/// written as the attack it was.
@Suite struct EleventhAttackTests {
    typealias InitVault = MCPServerTests.InitVault

    static let racy = "---\ntags: [private]\n---\n# Race\n\nSECRETX my diagnosis details zanzibarword\n"

    /// Attack: a search hit's snippet comes from the index, and the note was judged on a read of the
    /// file — which, while a person saves it in place, is empty for a moment, and an empty note is
    /// public. The hit went out with the private snippet. Frozen here in that moment: the index
    /// holds the private note, the file is empty.
    @Test func aHitIsListedOnlyWhenTheNoteJudgedIsTheNoteIndexed() throws {
        let temp = try InitVault()
        let path = temp.folder.path + "/Memory/Race.md"
        try Self.racy.replacingFile(path)
        try "# Open\n\nzanzibarword in public.\n".replacingFile(temp.folder.path + "/Memory/Open.md")
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        // Truncated in place, not yet written again (the index is not told).
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.close()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        let answer = "\(tools.call("search", arguments: .object([("query", .string("zanzibarword"))])))"
        #expect(!answer.contains("Race") && !answer.contains("SECRETX") && answer.contains("Memory/Open.md"), "\(answer)")
        let (console, captured) = Console.capturing()
        let runID = try PrivacyTaintTests.run(of: "Tasks/Cloud.md", lane: "premium", in: temp.vault)
        for arguments in [["search", "zanzibarword"], ["backlinks", "Open"], ["related", "zanzibarword diagnosis"]] {
            _ = CLI.run(arguments + ["--vault", temp.folder.path], console: console, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech")
        }
        #expect(!captured.stdout.contains("SECRETX") && !captured.stdout.contains("Race"), "\(captured.stdout)")
        // Once the save is whole and indexed, it is withheld as the private note it is; a public
        // note saved and indexed is listed as before.
        try Self.racy.replacingFile(path)
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        #expect(!"\(tools.call("search", arguments: .object([("query", .string("zanzibarword"))])))".contains("Race"))
    }

    /// Attack: `read_note` and `note show` judged the note on one read and returned a second: polled
    /// while a person saved a private note in place, 8 of 58,213 calls returned its text. Now the
    /// bytes returned are the bytes judged. And (twelfth attack) a note saved in two writes leaves a
    /// whole, public-looking prefix on disk between them when its `#private` comes at the end (746
    /// of 4,567 reads leaked): a note changed less than a second ago is not shown until it settles.
    /// (A race: the old code leaked only now and then, the new one never may.)
    @Test(arguments: ["one write, tag in the frontmatter", "two writes, tag at the end"])
    func aNoteSavedInPlaceWhileItIsReadIsNeverShownPrivate(_ how: String) throws {
        let temp = try InitVault()
        let path = temp.folder.path + "/Memory/Race.md"
        let parts = how.hasPrefix("one") ? [Self.racy] : ["# Race\n\nSECRETX my diagnosis details zanzibarword\n", "\n#private\n"]
        try parts.joined().replacingFile(path)
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        let stop = Locked(false)
        let saves = Locked(0)
        let writer = Thread {
            while !stop.withLock({ $0 }) {
                let fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC)
                if fd >= 0 {
                    for (i, part) in parts.enumerated() {
                        if i > 0 { usleep(2_000) }
                        _ = Array(part.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    }
                    close(fd)
                    saves.withLock { $0 += 1 }
                }
                usleep(5_000)
            }
        }
        writer.start()
        defer { stop.withLock { $0 = true } }
        var leaked = 0, answered = 0
        let until = Date().addingTimeInterval(2.5)
        while Date() < until {
            let answer = "\(tools.call("read_note", arguments: .object([("path", .string("Memory/Race.md"))])))"
            if answer.contains("SECRETX") { leaked += 1 }
            answered += 1
        }
        stop.withLock { $0 = true }
        #expect(leaked == 0, "\(how): \(leaked) of \(answered) reads during \(saves.withLock { $0 }) saves returned the private text")
        #expect(answered >= 1 && saves.withLock { $0 } > 10, "the race did not run: \(answered) reads, \(saves.withLock { $0 }) saves")
        // Settled, it is the private note it is; a public note settled is shown.
        Thread.sleep(forTimeInterval: 0.1)
        #expect("\(tools.call("read_note", arguments: .object([("path", .string("Memory/Race.md"))])))".contains("no such note, or a private one"))
        try "# Open\n\nopenword\n".replacingFile(temp.folder.path + "/Memory/Open.md")
        #expect("\(tools.call("read_note", arguments: .object([("path", .string("Memory/Open.md"))])))".contains("openword"), "a fresh public note is shown once it settles")
        // A modification time in the future (synced from a machine whose clock is ahead) does not
        // withhold a public note.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(86_400)], ofItemAtPath: temp.folder.path + "/Memory/Open.md")
        #expect("\(tools.call("read_note", arguments: .object([("path", .string("Memory/Open.md"))])))".contains("openword"), "a note dated tomorrow is shown")
    }

    /// Attack: a private note's line "see [[Tapir]] for the mongoosecode plan" made the public Tapir
    /// note a retrieval hit for "mongoosecode" (anchors: what notes say around their links). A cloud
    /// agent made tasks of guessed words and saw, by Tapir coming or not, what the private note says.
    @Test func aPrivateNotesLinkLineDoesNotDecideWhatAPlainTaskRetrieves() throws {
        func memory(_ word: String, privateLine: Bool) throws -> [String] {
            let v = RouteTestVault()
            v.write("Memory/Tapir.md", "# Tapir\n\nPublic facts about tapirs.\n")
            v.write("Memory/Zoo.md", "# Zoo\n\nOpening hours of the zoo.\n")
            if privateLine { v.write("Memory/Oncology.md", "---\ntags: [personal]\n---\nMy visits: see [[Tapir]] for the mongoosecode plan.\n") }
            v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\n\(word)\n")
            _ = try MemoryIndex(vault: v.vault).reconcile()
            let (plan, packet) = try PrivacyTaintTests.plan(v.vault, "Tasks/Ask.md")
            #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
            #expect(!plan.prompt.contains("mongoosecode plan"))
            // `related` in a cloud run too.
            let runID = try PrivacyTaintTests.run(of: "Tasks/Cloud.md", lane: "premium", in: v.vault)
            let (console, captured) = Console.capturing()
            _ = CLI.run(["related", word, "--vault", v.root], console: console, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech")
            #expect(!captured.stdout.contains("Tapir"), "related in a cloud run: \(captured.stdout)")
            return packet.pieces.filter { $0.kind == .memory }.map(\.path)
        }
        #expect(try memory("mongoosecode", privateLine: true) == [])
        #expect(try memory("mongoosecode", privateLine: false) == [])
        // A public note's link line still reaches its target (what anchors are for).
        let v = RouteTestVault()
        v.write("Memory/Tapir.md", "# Tapir\n\nPublic facts about tapirs.\n")
        v.write("Memory/Guide.md", "# Guide\n\nSee [[Tapir]] for the mongoosecode plan.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let hits = try MemoryIndex(vault: v.vault).related(to: "mongoosecode", anchorsFrom: { _ in true })
        #expect(hits.map(\.path).contains("Memory/Tapir.md"), "\(hits)")
        // And a person's `related` counts every note's lines.
        let p = RouteTestVault()
        p.write("Memory/Tapir.md", "# Tapir\n\nPublic facts about tapirs.\n")
        p.write("Memory/Oncology.md", "---\ntags: [personal]\n---\nMy visits: see [[Tapir]] for the mongoosecode plan.\n")
        _ = try MemoryIndex(vault: p.vault).reconcile()
        #expect(try MemoryIndex(vault: p.vault).related(to: "mongoosecode").map(\.path).contains("Memory/Tapir.md"))
    }
    /// Attack: an MCP server loaded the guardrails and its agent's lane once, at its start, and lives
    /// as long as the agent's session. Notes a person made private since (a new private tag or
    /// folder) were served in full, and a local agent moved to a cloud lane still read private notes.
    @Test func aRunningServerFollowsTheRulesAsTheyAreNow() throws {
        let temp = try InitVault()
        try "# Pub\n\nhhhword #zork\n".replacingFile(temp.folder.path + "/Memory/Pub.md")
        try FileManager.default.createDirectory(atPath: temp.folder.path + "/Clinic", withIntermediateDirectories: true)
        try "# Plans\n\njjjword plans\n".replacingFile(temp.folder.path + "/Clinic/Plans.md")
        try "# Bank\n\nquokka7731\n".replacingFile(temp.folder.path + "/Private/Bank.md")
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        let cloud = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        let local = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "echo", environment: [:]))
        func call(_ tools: MCPTools, _ tool: String, _ args: [(String, JSON)]) -> String { "\(tools.call(tool, arguments: .object(args)))" }
        #expect(call(cloud, "search", [("query", .string("hhhword"))]).contains("Memory/Pub.md"))
        #expect(call(cloud, "read_note", [("path", .string("Clinic/Plans.md"))]).contains("jjjword"))
        #expect(call(local, "read_note", [("path", .string("Private/Bank.md"))]).contains("quokka7731"))
        // The person adds a private tag and a private folder, and moves the local agent to a cloud lane.
        let guardrails = temp.folder.path + "/Rules/Guardrails.md"
        let text = try String(contentsOfFile: guardrails, encoding: .utf8)
        try text.replacingOccurrences(of: "private_tags: [private, secret, personal]", with: "private_tags: [private, secret, personal, zork]")
            .replacingOccurrences(of: "private_folders: [Private]", with: "private_folders: [Private, Clinic]").replacingFile(guardrails)
        let echo = temp.folder.path + "/Rules/Agents/echo.md"
        try (try String(contentsOfFile: echo, encoding: .utf8)).replacingOccurrences(of: "lane: local", with: "lane: premium").replacingFile(echo)
        #expect(!call(cloud, "search", [("query", .string("hhhword"))]).contains("Memory/Pub.md"))
        #expect(call(cloud, "read_note", [("path", .string("Memory/Pub.md"))]).contains("no such note, or a private one"))
        #expect(call(cloud, "read_note", [("path", .string("Clinic/Plans.md"))]).contains("no such note, or a private one"))
        #expect(call(local, "read_note", [("path", .string("Private/Bank.md"))]).contains("no such note, or a private one"))
    }
    /// Attack: inside a run, `handoff --task` answered "is not the task of run …" for a private note
    /// and "no such task note" for a missing one; and a handoff whose `context` named a private note
    /// came back "blocked: private" where one naming a missing note was routed. Both confirmed
    /// guessed names. One answer for both, and nothing written.
    @Test func aHandoffTellsNoPrivateNoteFromAMissingOne() throws {
        let temp = try InitVault()
        try "---\ntags: [personal]\n---\nPRIVMARK\n".replacingFile(temp.folder.path + "/Memory/Diary.md")
        try "---\ntype: task\nagent: claude\n---\nSummarise the changelog.\n".replacingFile(temp.folder.path + "/Tasks/Cloud.md")
        let runID = try PrivacyTaintTests.run(of: "Tasks/Cloud.md", lane: "premium", in: temp.vault)
        func cli(_ arguments: [String]) -> (Int32, String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(arguments + ["--vault", temp.folder.path], console: console, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech")
            return (code, captured.stdout + captured.stderr)
        }
        func handoffs() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: temp.folder.path + "/Handoffs")) ?? []).filter { $0 != "README.md" } }
        for (hidden, missing) in [("Memory/Diary.md", "Memory/DiaryZZ.md"), ("Memory/Diary", "Memory/DiaryZZ"), ("Diary", "DiaryZZ")] {
            let task = cli(["handoff", "go on", "--from", "claude", "--to", "claude", "--task", hidden])
            #expect(task.0 != 0 && task.1 == cli(["handoff", "go on", "--from", "claude", "--to", "claude", "--task", missing]).1.replacingOccurrences(of: missing, with: hidden), "\(hidden): \(task.1)")
            let context = cli(["handoff", "go on", "--from", "claude", "--to", "claude", "--context", hidden])
            #expect(context.0 != 0 && context == cli(["handoff", "go on", "--from", "claude", "--to", "claude", "--context", missing]), "\(hidden): \(context.1)")
            #expect(!context.1.contains("PRIVMARK") && !context.1.contains("blocked"), "\(context.1)")
        }
        #expect(handoffs().isEmpty, "\(handoffs())")
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        func mcp(_ note: String) -> String {
            "\(tools.call("handoff", arguments: .object([("from", .string("claude")), ("to", .string("claude")), ("message", .string("go on")), ("context", .array([.string(note)]))])))"
        }
        #expect(mcp("Memory/Diary.md") == mcp("Memory/DiaryZZ.md"), "\(mcp("Memory/Diary.md"))")
        #expect(handoffs().isEmpty, "\(handoffs())")
        // A context note the caller may see is handed on as before.
        try "# Changelog\n\nv2.\n".replacingFile(temp.folder.path + "/Memory/Changelog.md")
        #expect(cli(["handoff", "go on", "--from", "claude", "--to", "claude", "--context", "Memory/Changelog.md"]).0 == 0)
        #expect(handoffs().count == 1)
    }
}

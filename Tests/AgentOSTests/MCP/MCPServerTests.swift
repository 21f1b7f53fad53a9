@testable import AgentOS
import Foundation
import TestSupport
import Testing

/// The protocol and the tools in process: version negotiation in both eras, the scope an agent
/// name gives, the tool list, and guarded writes.
@Suite struct MCPServerTests {
    /// A vault made by `init` (its rules, agents and folders), removed with the value.
    final class InitVault {
        let folder = TemporaryFolder("fbt-mcp")
        var vault: Vault { Vault(root: folder.path) }
        init() throws { _ = try VaultInit.run(vault: Vault(root: folder.path), withMemory: false) }
    }

    static func server(_ vault: Vault, agent: String? = nil, environment: [String: String] = [:]) -> MCPServer {
        MCPServer(tools: MCPTools(vault: vault, scope: MCPScope(vault: vault, agent: agent, environment: environment)), log: { _ in })
    }

    static func request(_ id: Int, _ method: String, _ params: JSON) -> JSON {
        .object([("jsonrpc", .string("2.0")), ("id", .int(id)), ("method", .string(method)), ("params", params)])
    }

    static let modern: (String, JSON) = ("_meta", .object([("io.modelcontextprotocol/protocolVersion", .string("2026-07-28")),
                                                           ("io.modelcontextprotocol/clientCapabilities", .object([]))]))

    @Test func theHandshakeEchoesAServedVersionAndOffersTheNewestOtherwise() throws {
        let temp = try InitVault()
        let server = Self.server(temp.vault)
        for (asked, offered) in [("2025-06-18", "2025-06-18"), ("2024-11-05", "2024-11-05"), ("2099-01-01", "2025-11-25"), ("2026-07-28", "2025-11-25")] {
            let answer = server.respond(to: Self.request(1, "initialize", .object([("protocolVersion", .string(asked)), ("capabilities", .object([]))])))
            #expect(answer?["result"]?["protocolVersion"]?.stringValue == offered, "asked \(asked)")
            #expect(answer?["result"]?["resultType"] == nil, "a handshake result carries no resultType")
        }
        let missing = server.respond(to: Self.request(2, "initialize", .object([])))
        #expect(missing?["error"]?["code"]?.intValue == -32602)
    }

    @Test func statelessRequestsAreServedAtTheirVersionAndOthersRefusedWithTheSupportedList() throws {
        let temp = try InitVault()
        let server = Self.server(temp.vault)
        let discover = server.respond(to: Self.request(1, "server/discover", .object([Self.modern])))?["result"]
        #expect(discover?["supportedVersions"]?.arrayValue?.compactMap(\.stringValue) == MCPServer.supportedVersions)
        #expect(discover?["resultType"]?.stringValue == "complete")
        #expect(discover?["ttlMs"]?.intValue == 0 && discover?["cacheScope"]?.stringValue == "private")
        let list = server.respond(to: Self.request(2, "tools/list", .object([Self.modern])))?["result"]
        #expect(list?["resultType"]?.stringValue == "complete" && list?["tools"]?.arrayValue?.count == 11)
        let unsupported = server.respond(to: Self.request(3, "tools/list", .object([("_meta", .object([("io.modelcontextprotocol/protocolVersion", .string("2025-11-25"))]))])))
        #expect(unsupported?["error"]?["code"]?.intValue == -32022)
        #expect(unsupported?["error"]?["data"]?["requested"]?.stringValue == "2025-11-25")
        #expect(unsupported?["error"]?["data"]?["supported"]?.arrayValue?.count == MCPServer.supportedVersions.count)
        // server/discover belongs to the stateless revision: without its version it is a bad request.
        #expect(server.respond(to: Self.request(4, "server/discover", .object([])))?["error"]?["code"]?.intValue == -32602)
    }

    @Test func everyToolDeclaresASchemaAndAnnotationsInAStableOrder() throws {
        let temp = try InitVault()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: nil, environment: [:]))
        let names = tools.definitions.compactMap { $0["name"]?.stringValue }
        #expect(names == ["search", "read_note", "write_note", "set_properties", "create_task", "handoff", "route", "context", "status", "backlinks", "recent"])
        for tool in tools.definitions {
            #expect(tool["inputSchema"]?["type"]?.stringValue == "object")
            let annotations = tool["annotations"]
            #expect(annotations?["readOnlyHint"]?.boolValue != nil && annotations?["destructiveHint"]?.boolValue != nil && annotations?["idempotentHint"]?.boolValue != nil)
        }
        #expect(tools.definitions == MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: nil, environment: [:])).definitions)
    }

    @Test func aCloudAgentOrAnUnknownOneIsDeniedPrivateNotesAndALocalOneIsNot() throws {
        let temp = try InitVault()
        #expect(MCPScope(vault: temp.vault, agent: nil, environment: [:]).hidesPrivateBecause == nil)
        #expect(MCPScope(vault: temp.vault, agent: "echo", environment: [:]).hidesPrivateBecause == nil)
        #expect(MCPScope(vault: temp.vault, agent: "claude", environment: [:]).hidesPrivateBecause?.contains("premium lane") == true)
        #expect(MCPScope(vault: temp.vault, agent: "nobody", environment: [:]).hidesPrivateBecause?.contains("does not know") == true)
        // A run the vault has no record of: fail closed, whatever agent was named.
        #expect(MCPScope(vault: temp.vault, agent: "echo", environment: ["FBT_RUN_ID": "r-404"]).hidesPrivateBecause != nil)
    }

    /// Every tool that takes a path reaches notes only: the index file (every note's text, private
    /// ones too), the journal, git's config, an Obsidian plugin, a file that is not a note; and no
    /// write goes to the skill, templates or the OS's records. Private text never comes back.
    @Test func noToolReachesTheOSsStateOrFilesThatAreNotNotes() throws {
        let temp = try InitVault()
        try "Dear diary: PRIVMARK-42\n".replacingFile(temp.folder.path + "/Private/Diary.md")
        try "[core]\n".replacingFile(temp.folder.path + "/.git-config-stand-in")
        try FileManager.default.createDirectory(atPath: temp.folder.path + "/.git", withIntermediateDirectories: true)
        try "[core]\n".replacingFile(temp.folder.path + "/.git/config")
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        for agent in ["claude", "echo"] {
            let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: agent, environment: [:]))
            func error(_ name: String, _ args: [(String, JSON)]) -> String? {
                let answer = tools.call(name, arguments: .object(args))
                guard answer.first(where: { $0.0 == "isError" })?.1 == .bool(true) else { return nil }
                return "\(answer)"
            }
            for path in [".agentos/index.sqlite", ".agentos/index.sqlite-wal", ".agentos/telemetry.jsonl", ".git/config", "Memory/../.git/config", ".git-config-stand-in"] {
                for tool in ["read_note", "context", "route"] {
                    let refused = error(tool, [("path", .string(path))])
                    #expect(refused != nil, "\(agent) \(tool) \(path) was answered")
                    #expect(refused?.contains("PRIVMARK") != true)
                }
            }
            for path in [".git/config", ".obsidian/plugins/evil/main.js", ".obsidian/community-plugins.json", ".agentos/evil.md",
                         "Skills/fuckbigtech/SKILL.md", "Templates/Task.md", "Results/Forged.md", "Daily/2026-12-04.md", "Telemetry/2026-12-04.md"] {
                let before = try? String(contentsOfFile: temp.folder.path + "/" + path, encoding: .utf8)
                #expect(error("write_note", [("path", .string(path)), ("text", .string("poisoned\n")), ("create", .bool(true))]) != nil, "\(agent) created \(path)")
                let hash = before.map { ContentHash(of: Array($0.utf8)).hex } ?? "0000000000000000"
                #expect(error("set_properties", [("path", .string(path)), ("set", .object([("x", .int(1))])), ("expect_hash", .string(hash))]) != nil, "\(agent) set \(path)")
                #expect((try? String(contentsOfFile: temp.folder.path + "/" + path, encoding: .utf8)) == before, "\(path) changed")
            }
            // `route` names no private note to a server that withholds them.
            let routed = "\(tools.call("route", arguments: .object([("text", .string("summarise [[Diary]]"))])))"
            #expect(routed.contains("Diary") == (agent == "echo"), "\(agent): \(routed)")
            #expect(error("write_note", [("path", .string("Memory/\(agent).md")), ("text", .string("fine\n")), ("create", .bool(true))]) == nil)
            #expect(error("read_note", [("path", .string("Memory/\(agent).md"))]) == nil)
        }
    }

    /// Attack: a cloud agent's `search` said "1 private hit withheld" when a private note matched,
    /// and prefix queries then spelled out every word of the note (1,739 calls recovered a
    /// password). Now a private note changes nothing in any answer: not a line, not the list's length.
    @Test func searchIsNoOracleForPrivateWords() throws {
        let temp = try InitVault()
        try "# Bank\n\nmy online banking login word is quokka7731 do not share\n".replacingFile(temp.folder.path + "/Private/Bank.md")
        try "---\ntags: [private]\n---\n# Note\n\nzebra zebra zebra quokka7731\n".replacingFile(temp.folder.path + "/Memory/Tagged.md")
        for i in 0..<12 { try "---\nprivacy: private\n---\n# Z\(i)\n\nzebra zebra zebra zebra \(i)\n".replacingFile(temp.folder.path + "/Memory/Hidden \(i).md") }
        for i in 0..<3 { try "# Open \(i)\n\nA zebra crossed the banking street, among many other words of the town \(i).\n".replacingFile(temp.folder.path + "/Memory/Open \(i).md") }
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        func answer(_ query: String, limit: Int = 3) -> String {
            "\(tools.call("search", arguments: .object([("query", .string(query)), ("limit", .int(limit))])))"
        }
        for (present, absent) in [("quokka7*", "quokka8*"), ("quokka7731", "quokka7732"), ("banking quokka*", "banking qzz*"), ("quokka*", "qzzzz*")] {
            let shown = answer(present)
            #expect(shown == answer(absent).replacingOccurrences(of: absent, with: present), "\(present): \(shown)")
            #expect(!shown.contains("withheld") && !shown.contains("private") && !shown.contains("Bank"), "\(shown)")
        }
        // Twelve private notes rank above the three public ones: the list is as long as without them.
        let zebra = tools.call("search", arguments: .object([("query", .string("zebra")), ("limit", .int(3))]))
        let paths = zebra.first { $0.0 == "structuredContent" }?.1["hits"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        #expect(Set(paths) == ["Memory/Open 0.md", "Memory/Open 1.md", "Memory/Open 2.md"], "\(zebra)")
        // `recent` too: the three public notes of the folder, though twelve private ones are newer or as new.
        let recent = tools.call("recent", arguments: .object([("limit", .int(3)), ("folder", .string("Memory"))]))
        let recentPaths = recent.first { $0.0 == "structuredContent" }?.1["notes"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        #expect(recentPaths.count == 3 && recentPaths.allSatisfy { $0.hasPrefix("Memory/Open") }, "\(recent)")
        // The person's own client (no agent) sees everything.
        let own = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: nil, environment: [:]))
        #expect("\(own.call("search", arguments: .object([("query", .string("quokka7*"))])))".contains("Private/Bank.md"))
    }

    /// Attack (round 10): a task of the agent's own words, and its packet asked for: `context` said
    /// "left out 1 retrieved piece: 1 private" exactly when a private note held the words, and so
    /// did the route verdicts written on the task. A password was confirmed so, one guess a call.
    @Test func contextAndRouteVerdictsAreNoOracleForPrivateWords() throws {
        let temp = try InitVault()
        try "# Bank\n\nmy online banking login word is quokka7731 do not share\n".replacingFile(temp.folder.path + "/Private/Bank.md")
        try "---\ntags: [personal]\n---\n# Health\n\nchemo on friday\n".replacingFile(temp.folder.path + "/Memory/Health.md")
        for word in ["quokka7731", "quokka7732", "chemo", "chemx"] {
            try "---\ntype: task\nagent: claude\nstatus: draft\n---\n\(word)\n".replacingFile(temp.folder.path + "/Tasks/\(word).md")
        }
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        func context(_ word: String, _ tools: MCPTools) -> String {
            "\(tools.call("context", arguments: .object([("path", .string("Tasks/\(word).md"))])))"
        }
        let routing = try VaultRouting(vault: temp.vault)
        for (held, unheld) in [("quokka7731", "quokka7732"), ("chemo", "chemx")] {
            let shown = context(held, tools)
            #expect(!shown.contains("string(\"private\")") && !shown.contains("quokka7731 do not"), "\(shown)")
            #expect(shown == context(unheld, tools).replacingOccurrences(of: unheld, with: held), "\(held): \(shown)")
            // The verdicts the OS writes on the task, which the agents that run it read.
            let store = NoteStore(vault: temp.vault)
            let verdicts = try [held, unheld].map { word -> [String] in
                let snapshot = try #require(try store.readIfPresent("Tasks/\(word).md"))
                let task = TaskNote(path: "Tasks/\(word).md", snapshot: snapshot, note: try Note.parse(bytes: snapshot.bytes), kind: .task)
                let plan = routing.plan(task, runID: "r-\(word)")
                return plan.extraProperties.filter { $0.key == "route_verdicts" }.flatMap { property -> [String] in
                    if case .list(let items) = property.value { return items.compactMap(\.text) }
                    return []
                }
            }
            #expect(!verdicts[0].joined().contains("left out"), "\(verdicts[0])")
            #expect(verdicts[0] == verdicts[1].map { $0.replacingOccurrences(of: unheld, with: held) }, "\(verdicts)")
        }
        // The person's own client is told what was left out, and why.
        let own = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: nil, environment: [:]))
        #expect(context("quokka7731", own).contains("string(\"private\")"), "\(context("quokka7731", own))")
    }

    /// Attack (round 10): a server registered for a cloud agent (no run) handed off a person's draft
    /// task and one waiting for review; the watcher ran both at once on the agent, and the OS wrote
    /// `handoffs:` into the person's notes. Outside a run an agent hands on only the tasks it made.
    @Test func anAgentOutsideARunHandsOnOnlyTheTasksItMade() throws {
        let temp = try InitVault()
        let draft = "---\ntype: task\nstatus: draft\nagent: claude\n---\nA person's draft.\n"
        let review = "---\ntype: task\nstatus: review\neffects: [delete]\n---\nDelete the old backups.\n"
        try draft.replacingFile(temp.folder.path + "/Tasks/Draft.md")
        try review.replacingFile(temp.folder.path + "/Tasks/Review.md")
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        func call(_ tool: String, _ args: [(String, JSON)]) -> [(String, JSON)] { tools.call(tool, arguments: .object(args)) }
        func isError(_ answer: [(String, JSON)]) -> Bool { answer.first { $0.0 == "isError" }?.1 == .bool(true) }
        func handoffs() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: temp.folder.path + "/Handoffs")) ?? []).filter { $0 != "README.md" } }
        for task in ["Tasks/Draft.md", "Tasks/Review", "Tasks/Nowhere.md", temp.folder.path + "/Tasks/Draft.md", temp.folder.path + "/Tasks/Review"] {
            let answer = call("handoff", [("from", .string("claude")), ("to", .string("claude")), ("message", .string("take over")), ("task", .string(task))])
            #expect(isError(answer), "\(task): \(answer)")
        }
        #expect(handoffs().isEmpty, "\(handoffs())")
        #expect(try String(contentsOfFile: temp.folder.path + "/Tasks/Draft.md", encoding: .utf8) == draft)
        #expect(try String(contentsOfFile: temp.folder.path + "/Tasks/Review.md", encoding: .utf8) == review)
        // A task it made itself, it may hand on; another agent's it may not.
        let made = call("create_task", [("prompt", .string("Summarise the backups")), ("title", .string("Mine"))])
        #expect(!isError(made), "\(made)")
        let other = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "codex", environment: [:]))
        let refused = other.call("handoff", arguments: .object([("from", .string("codex")), ("to", .string("codex")), ("message", .string("mine now")), ("task", .string("Tasks/Mine.md"))]))
        #expect(isError(refused), "\(refused)")
        let handed = call("handoff", [("from", .string("claude")), ("to", .string("claude")), ("message", .string("go on")), ("task", .string("Tasks/Mine.md"))])
        #expect(!isError(handed), "\(handed)")
        #expect(handoffs().count == 1)
        // The person's own client names any task.
        let own = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: nil, environment: [:]))
        let person = own.call("handoff", arguments: .object([("from", .string("me")), ("to", .string("claude")), ("message", .string("please")), ("task", .string("Tasks/Draft.md"))]))
        #expect(!isError(person), "\(person)")
    }

    /// Attack: `read_note` said "is private" for a private note and "no such note" for a missing
    /// one, and `route` said "private" for a text linking a private note and "public" for a link to
    /// none: a cloud agent could test guessed names. One answer for both now.
    @Test func aPrivateNoteAndAMissingOneGetTheSameAnswer() throws {
        let temp = try InitVault()
        try "# Bank\n\nPRIVMARK\n".replacingFile(temp.folder.path + "/Private/Bank.md")
        try "---\ntags: [private]\n---\n# Divorce\n\nPRIVMARK\n".replacingFile(temp.folder.path + "/Memory/Divorce.md")
        try "# Open\n\nPublic.\n".replacingFile(temp.folder.path + "/Memory/Open.md")
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        func answer(_ tool: String, _ args: [(String, JSON)]) -> String { "\(tools.call(tool, arguments: .object(args)))" }
        for (hidden, missing) in [("Private/Bank.md", "Private/Bonk.md"), ("Memory/Divorce.md", "Memory/Divorcee.md")] {
            for tool in ["read_note", "context", "route"] {
                let refused = answer(tool, [("path", .string(hidden))])
                #expect(refused.contains("no such note, or a private one"), "\(refused)")
                #expect(!refused.contains("PRIVMARK") && !refused.contains("is private"), "\(refused)")
                #expect(refused == answer(tool, [("path", .string(missing))]).replacingOccurrences(of: missing, with: hidden), "\(tool) \(hidden): \(refused)")
            }
            // `backlinks` too (a second attack: "no notes link to" for a private note, an error for none).
            let asked = String(hidden.dropLast(3)), absent = String(missing.dropLast(3))
            let backlinks = answer("backlinks", [("note", .string(asked))])
            #expect(backlinks == answer("backlinks", [("note", .string(absent))]).replacingOccurrences(of: absent, with: asked), "\(backlinks)")
            let title = NoteScanner.title(ofPath: hidden), other = NoteScanner.title(ofPath: missing)
            let routed = answer("route", [("text", .string("summarise [[\(title)]]"))])
            #expect(routed == answer("route", [("text", .string("summarise [[\(other)]]"))]), "\(routed)")
            #expect(!routed.contains(title), "\(routed)")
        }
        #expect(!answer("read_note", [("path", .string("Memory/Open.md"))]).contains("no such note"))
    }

    /// An argument a tool does not take is named, with the ones it does take (a tour: `write_note`
    /// given `body`, as `read_note` answers, said only "'text' is required"); nothing is written.
    @Test func anUnknownArgumentIsNamed() throws {
        let temp = try InitVault()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "echo", environment: [:]))
        let reply = tools.call("write_note", arguments: .object([("path", .string("Memory/Body.md")), ("body", .string("hello\n")), ("create", .bool(true))]))
        #expect(reply.first { $0.0 == "isError" }?.1 == .bool(true))
        let line = reply.first { $0.0 == "structuredContent" }?.1["error"]?.stringValue ?? ""
        #expect(line.hasPrefix("write_note takes no argument 'body'; its arguments are path, text, expect_hash, create") && line.contains("goes in 'text'"), "\(line)")
        #expect(!FileManager.default.fileExists(atPath: temp.folder.path + "/Memory/Body.md"))
        let meta = tools.call("read_note", arguments: .object([("path", .string("Memory/Body.md")), ("_meta", .object([]))]))
        #expect(meta.first { $0.0 == "structuredContent" }?.1["error"]?.stringValue?.contains("takes no argument") == false)
    }

    @Test func aWriteOnAStaleHashKeepsTheNoteAndAConflictNote() throws {
        let temp = try InitVault()
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "echo", environment: [:]))
        let created = tools.call("write_note", arguments: .object([("path", .string("Memory/Note.md")), ("text", .string("first\n")), ("create", .bool(true))]))
        #expect(created.first { $0.0 == "isError" }?.1 == .bool(false))
        let stale = tools.call("write_note", arguments: .object([("path", .string("Memory/Note.md")), ("text", .string("second\n")), ("expect_hash", .string("0000000000000000"))]))
        #expect(stale.first { $0.0 == "isError" }?.1 == .bool(true))
        #expect(try String(contentsOfFile: temp.folder.path + "/Memory/Note.md", encoding: .utf8) == "first\n")
        let conflicts = try FileManager.default.contentsOfDirectory(atPath: temp.folder.path + "/Memory/Conflicts")
        #expect(conflicts.count == 1)
        // Both writes are in the record, with the agent.
        let log = try String(contentsOfFile: MCPWriteLog.path(temp.vault), encoding: .utf8)
        #expect(log.split(separator: "\n").count == 2 && log.contains("\"agent\":\"echo\""))
    }

    @Test func cancelledRequestsAreNotRunOrNotAnswered() throws {
        let temp = try InitVault()
        let server = Self.server(temp.vault)
        let input = Pipe(), output = Pipe()
        // Request 1 is held as it starts until the test has cancelled it and request 2 (queued).
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        server.beforeRequest = { message in
            if message["id"] == .int(1) { started.signal(); release.wait() }
        }
        let done = DispatchSemaphore(value: 0)
        let status = Locked<Int32?>(nil)
        // The server is handed to one thread, which serves; the test touches only its locked state.
        nonisolated(unsafe) let serving = server
        Thread {
            let code = serving.serve(input: input.fileHandleForReading.fileDescriptor, output: output.fileHandleForWriting.fileDescriptor)
            status.withLock { $0 = code }
            try? output.fileHandleForWriting.close()
            done.signal()
        }.start()
        func send(_ text: String) { input.fileHandleForWriting.write(Data((text + "\n").utf8)) }
        send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        #expect(started.wait(timeout: .now() + 30) == .success)
        send(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        send(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"changed my mind"}}"#)
        send(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#)
        // A cancellation of a request that was never sent is ignored.
        send(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":77}}"#)
        send(#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#)
        #expect(eventually(within: 30) { server.isCancelled(.int(1)) && server.isCancelled(.int(2)) })
        #expect(!server.isCancelled(.int(77)))
        release.signal()
        try input.fileHandleForWriting.close()
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(status.withLock { $0 } == 0)
        let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        let ids = try lines.map { try JSON.parse(String($0))["id"] }
        #expect(ids == [.int(3)], "only the ping is answered: \(lines)")
    }
}

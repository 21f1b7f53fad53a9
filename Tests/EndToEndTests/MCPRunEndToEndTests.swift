import AgentOS
import Foundation
import TestSupport
import Testing

/// Runs the real watcher starts get this vault's MCP server when their agent note says `mcp: true`:
/// the fixture claude is handed `--mcp-config FILE` (a file in the run's own folder, outside the
/// vault, gone after the run), and the server that file names, started as the CLI would start it,
/// serves with the run's lane — a private note is withheld from a premium run.
@Suite(.serialized) struct MCPRunEndToEndTests {
    @Test func aRunOfAnMCPAgentIsHandedAServerScopedToTheRun() throws {
        let env = try WatchedVault()
        // The shipped claude note carries mcp_args; the user turns it on.
        _ = try env.store.updateProperties("Rules/Agents/claude.md", set: [Property("mcp", .bool(true))])
        try env.write("Memory/Diary.md", "---\nprivacy: private\n---\n# Diary\n\nThe marmalade recipe is a family secret.\n")
        try env.start()
        try env.writeInPlace("Tasks/With tools.md", "---\ntype: task\nagent: claude\n---\nLook up the marmalade notes.\n")
        try env.writeInPlace("Tasks/Without.md", "---\ntype: task\nagent: codex\n---\nList the files.\n")
        #expect(WatcherEndToEndTests.waitForTerminal(env, "Tasks/With tools.md") == "done", "\(env.text("Tasks/With tools.md") ?? "")\n\(env.allLogs)")
        #expect(WatcherEndToEndTests.waitForTerminal(env, "Tasks/Without.md") == "done")
        let runID = try #require(env.note("Tasks/With tools.md")?.text("run_id"))

        // The claude run got --mcp-config FILE, FILE in its own working folder, outside the vault.
        let runs = env.fixtureRuns()
        let claude = try #require(runs.first { $0["tool"]?.stringValue == "claude" })
        let argv = claude["argv"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let at = try #require(argv.firstIndex(of: "--mcp-config"), "\(argv)")
        let configPath = argv[at + 1]
        let cwd = try #require(claude["cwd"]?.stringValue)
        #expect(configPath == cwd + "/" + RunMCPServer.configFileName)
        #expect(!configPath.hasPrefix(env.root + "/"))
        #expect(argv.contains("--strict-mcp-config"))
        // The fixture refuses a missing file as Claude Code does, so the run being done shows the
        // file was there during the run; after it, the file and the run's folder are gone.
        #expect(!FileManager.default.fileExists(atPath: configPath))
        #expect(!FileManager.default.fileExists(atPath: cwd))
        // The codex agent has mcp: false: no server handed to it.
        let codex = try #require(runs.first { $0["tool"]?.stringValue == "codex" })
        #expect(!(codex["argv"]?.arrayValue?.compactMap(\.stringValue) ?? []).contains { $0.contains("mcp_servers") })

        // The file (as the fixture copied it during the run) names this binary, the vault, the agent, the run.
        let config = try JSON.parse(try String(contentsOfFile: env.fixtureLog + ".mcp-config", encoding: .utf8))
        let server = try #require(config["mcpServers"]?["fuckbigtech"])
        let command = try #require(server["command"]?.stringValue)
        let arguments = server["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        // The watcher names itself by /proc/self/exe: the built binary with symlinks resolved.
        #expect(command == URL(fileURLWithPath: try BuiltBinary.path()).resolvingSymlinksInPath().path)
        #expect(arguments == ["mcp", "--vault", env.root, "--agent", "claude"])
        #expect(server["env"]?["FBT_RUN_ID"]?.stringValue == runID)

        // Start that server as the CLI would and ask it for a private note: withheld (a premium run).
        var input = ""
        input += #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"# + "\n"
        input += #"{"jsonrpc":"2.0","method":"notifications/initialized"}"# + "\n"
        input += #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"# + "\n"
        input += #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read_note","arguments":{"path":"Memory/Diary.md"}}}"# + "\n"
        var environment = ["PATH": "/usr/bin:/bin", "HOME": env.sandbox.home, "NO_COLOR": "1"]
        if case .object(let pairs)? = server["env"] { for (name, value) in pairs { environment[name] = value.stringValue } }
        let served = try ChildProcess.run(command, arguments, environment: environment, input: .text(input), timeout: 60)
        #expect(served.code == 0, "\(served.stderr.suffix(500))")
        let responses = MCPFuzzTests.responses(served.stdout)
        let tools = (responses.first { ($0["id"] as? Int) == 2 }?["result"] as? [String: Any])?["tools"] as? [[String: Any]] ?? []
        #expect(tools.contains { $0["name"] as? String == "read_note" })
        let read = try #require(responses.first { ($0["id"] as? Int) == 3 }?["result"] as? [String: Any])
        let text = ((read["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        #expect(read["isError"] as? Bool == true)
        #expect(text.contains("private") && text.contains("premium lane"), "\(text)")
        #expect(!served.stdout.contains("family secret"))
    }
}

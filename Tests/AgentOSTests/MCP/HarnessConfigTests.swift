import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// `mcp install|uninstall claude|codex|opencode` in temporary homes holding real-looking configurations:
/// what it writes is read back by Python's own `json` and `tomllib`, every other entry stays, a second
/// install changes nothing, uninstall gives the original bytes back, and a broken file is never touched.
@Suite struct HarnessConfigTests {
    static let binary = "/opt/fbt bin/fuckbigtech"

    /// A home with one existing configuration per harness, and a vault.
    struct Home {
        let root: String
        var home: String { root + "/home" }
        var vault: String { root + "/vault" }
        var environment: [String: String] { ["HOME": home, "PATH": "/usr/bin:/bin"] }

        init() throws {
            root = TemporaryFolder.make("fbt-harness")
            _ = try VaultInit.run(vault: Vault(root: root + "/vault"))
            for folder in ["/home/.codex", "/home/.config/opencode"] {
                try FileManager.default.createDirectory(atPath: root + folder, withIntermediateDirectories: true)
            }
        }

        func path(_ harness: Harness) -> String { harness.configPath(environment: environment) }

        func write(_ harness: Harness, _ text: String) throws {
            try text.replacingFile(path(harness))
        }

        func read(_ harness: Harness) throws -> String { try String(contentsOfFile: path(harness), encoding: .utf8) }

        func run(_ arguments: [String]) -> (code: Int32, out: String, err: String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(["mcp"] + arguments + ["--vault", vault], console: console, environment: environment, executablePath: HarnessConfigTests.binary)
            return (code, captured.stdout, captured.stderr)
        }
    }

    /// Claude Code writes `~/.claude.json` as `JSON.stringify(…, null, 2)`; ours has other servers and keys.
    static let claude = """
    {
      "numStartups": 12,
      "theme": "dark",
      "mcpServers": {
        "github": {
          "type": "stdio",
          "command": "npx",
          "args": [
            "-y",
            "@modelcontextprotocol/server-github"
          ],
          "env": {
            "GITHUB_TOKEN": "x\\"y"
          }
        }
      },
      "projects": {
        "/home/ann/code": {
          "allowedTools": [],
          "mcpServers": {}
        }
      },
      "tipsHistory": {
        "résumé": 1.5
      }
    }

    """

    static let codex = """
    # Codex settings, kept by hand
    model = "gpt-5"   # the default
    approval_policy = "on-request"

    [mcp_servers.docs]
    command = "npx"
    args = [
      "-y",   # comment inside an array
      "docs-mcp",
    ]
    env = { "API_KEY" = "k" }

    [mcp_servers.docs.tools]
    note = \"\"\"
    [mcp_servers.fuckbigtech]
    a multi-line string that only looks like our table
    \"\"\"

    [profiles.fast]
    model = 'o4-mini'

    """

    static let opencode = """
    {
      "$schema": "https://opencode.ai/config.json",
      "theme": "opencode",
      "mcp": {
        "jira": {
          "type": "remote",
          "url": "https://jira.example.com/mcp",
          "enabled": false
        }
      },
      "provider": {}
    }

    """

    /// Runs Python on `path` and returns what it printed (the parsed file as JSON).
    static func python(_ harness: Harness, _ path: String) throws -> JSON {
        let loader = harness == .codex ? "import tomllib; d = tomllib.load(open(sys.argv[1], 'rb'))" : "d = json.load(open(sys.argv[1]))"
        let result = try ChildProcess.run(try ExternalTool.require("python3"), ["-c", "import sys, json\n\(loader)\nprint(json.dumps(d))", path], environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.code == 0 && !result.timedOut, "python cannot read \(path): \(result.stderr)")
        return try JSON.parse(result.stdout)
    }

    /// `value` without the object key at `path` (the parsed configuration minus our entry).
    static func removing(_ path: [String], from value: JSON) -> JSON {
        guard case .object(let pairs) = value, let first = path.first else { return value }
        if path.count == 1 { return .object(pairs.filter { $0.0 != first }) }
        return .object(pairs.map { $0.0 == first ? ($0.0, removing(Array(path.dropFirst()), from: $0.1)) : $0 })
    }

    static func original(_ harness: Harness) -> String {
        switch harness {
        case .claude: return claude
        case .codex: return codex
        case .opencode: return opencode
        }
    }

    static func ourPath(_ harness: Harness) -> [String] {
        switch harness {
        case .claude: return ["mcpServers", "fuckbigtech"]
        case .codex: return ["mcp_servers", "fuckbigtech"]
        case .opencode: return ["mcp", "fuckbigtech"]
        }
    }

    @Test(arguments: Harness.allCases)
    func installKeepsEveryOtherEntryIsANoOpTheSecondTimeAndUninstallGivesTheBytesBack(_ harness: Harness) throws {
        let home = try Home()
        defer { TemporaryFolder.remove(home.root) }
        try home.write(harness, Self.original(harness))
        let before = try Self.python(harness, home.path(harness))

        let first = home.run(["install", harness.rawValue])
        #expect(first.code == 0 && first.out.contains("registered the MCP server 'fuckbigtech'"), "\(first.err)")
        let installed = try home.read(harness)
        let after = try Self.python(harness, home.path(harness))
        #expect(Self.removing(Self.ourPath(harness), from: after) == before, "every other entry is as it was")
        let argv: [JSON] = [.string(Self.binary), .string("mcp"), .string("--vault"), .string(home.vault), .string("--agent"), .string(harness.rawValue)]
        switch harness {
        case .claude:
            #expect(after["mcpServers"]?["fuckbigtech"] == .object([("type", .string("stdio")), ("command", argv[0]), ("args", .array(Array(argv.dropFirst())))]))
        case .codex:
            #expect(after["mcp_servers"]?["fuckbigtech"] == .object([("command", argv[0]), ("args", .array(Array(argv.dropFirst())))]))
            // Text outside our table is byte for byte what it was: our table came after it.
            #expect(installed.hasPrefix(Self.codex))
        case .opencode:
            #expect(after["mcp"]?["fuckbigtech"] == .object([("type", .string("local")), ("command", .array(argv)), ("enabled", .bool(true))]))
        }
        #expect(try MCPRegistration.registered(at: home.path(harness), harness: harness) == argv.compactMap(\.stringValue))

        let second = home.run(["install", harness.rawValue])
        #expect(second.code == 0 && second.out.contains("nothing changed"), "\(second.out)")
        #expect(try home.read(harness) == installed)

        let removed = home.run(["uninstall", harness.rawValue])
        #expect(removed.code == 0 && removed.out.contains("removed the MCP server"), "\(removed.err)")
        #expect(try home.read(harness) == Self.original(harness), "uninstall gives the original bytes back")
        #expect(try MCPRegistration.registered(at: home.path(harness), harness: harness) == nil)
        let again = home.run(["uninstall", harness.rawValue])
        #expect(again.code == 0 && again.out.contains("does not register"))
    }

    @Test(arguments: Harness.allCases)
    func aConfigurationThatDoesNotParseIsLeftUntouchedWithOneLine(_ harness: Harness) throws {
        let home = try Home()
        defer { TemporaryFolder.remove(home.root) }
        let broken = harness == .codex ? "model = \"gpt-5\"\n[mcp_servers.docs\ncommand = \"npx\"\n" : "{\n  \"mcpServers\": {\n    \"a\": {},\n  }\n}\n"
        try home.write(harness, broken)
        for action in ["install", "uninstall"] {
            let result = home.run([action, harness.rawValue])
            #expect(result.code == 1 && result.out.isEmpty)
            #expect(result.err.split(separator: "\n").count == 1 && result.err.contains(home.path(harness)) && result.err.contains("nothing was changed"), "\(result.err)")
            #expect(try home.read(harness) == broken)
        }
    }

    /// Tour 59 (low): a `~/.claude.json` without `mcpServers` and without a last newline (as Claude
    /// Code writes it) came back from install and uninstall with `"mcpServers": {}` and a newline;
    /// and `mcp uninstall claude` without `--vault` failed on a missing ~/AgentOS, entry left.
    @Test func aRoundTripGivesBackAFileWithoutAServerListAndUninstallNeedsNoVault() throws {
        let home = try Home()
        defer { TemporaryFolder.remove(home.root) }
        let original = "{\n  \"numStartups\": 3,\n  \"theme\": \"dark\"\n}"
        try home.write(.claude, original)
        #expect(home.run(["install", "claude"]).code == 0)
        #expect(try home.read(.claude).contains("\"fuckbigtech\""))
        #expect(try home.read(.claude).hasSuffix("}"))
        let (console, captured) = Console.capturing()
        let code = CLI.run(["mcp", "uninstall", "claude"], console: console, environment: home.environment, executablePath: HarnessConfigTests.binary)
        #expect(code == 0, "\(captured.stderr)")
        #expect(try home.read(.claude) == original)
        // A list that holds other servers stays, without ours.
        try home.write(.claude, Self.claude)
        #expect(home.run(["install", "claude"]).code == 0)
        #expect(home.run(["uninstall", "claude"]).code == 0)
        #expect(try home.read(.claude) == Self.claude)
    }

    @Test func printShowsTheFileAndWritesNothing() throws {
        let home = try Home()
        defer { TemporaryFolder.remove(home.root) }
        try home.write(.codex, Self.codex)
        let shown = home.run(["install", "codex", "--print"])
        #expect(shown.code == 0)
        #expect(shown.out.contains("[mcp_servers.fuckbigtech]\ncommand = \"/opt/fbt bin/fuckbigtech\"\nargs = [\"mcp\", \"--vault\", \"\(home.vault)\", \"--agent\", \"codex\"]"))
        #expect(try home.read(.codex) == Self.codex)
        // A harness with no configuration yet: nothing is created by --print; install creates it.
        #expect(home.run(["install", "opencode", "--print"]).out.contains("\"$schema\": \"https://opencode.ai/config.json\""))
        #expect(!FileManager.default.fileExists(atPath: home.path(.opencode)))
        #expect(home.run(["install", "claude"]).code == 0)
        let created = try Self.python(.claude, home.path(.claude))
        #expect(created["mcpServers"]?["fuckbigtech"]?["command"] == .string(Self.binary))
    }

    @Test func aStaleEntryIsReplacedWhereItStandsAndTheTablesAfterItStay() throws {
        let home = try Home()
        defer { TemporaryFolder.remove(home.root) }
        let stale = "[mcp_servers.fuckbigtech]\ncommand = \"/old/fuckbigtech\"\nargs = [\"mcp\", \"--vault\", \"/old\"]\n\n[mcp_servers.fuckbigtech.env]\nX = \"1\"\n\n# the next table\n[profiles.fast]\nmodel = \"x\"\n"
        try home.write(.codex, stale)
        #expect(home.run(["install", "codex"]).code == 0)
        let text = try home.read(.codex)
        #expect(text.hasPrefix("[mcp_servers.fuckbigtech]\ncommand = \"/opt/fbt bin/fuckbigtech\"\n"))
        #expect(text.hasSuffix("\n\n# the next table\n[profiles.fast]\nmodel = \"x\"\n"))
        let parsed = try Self.python(.codex, home.path(.codex))
        #expect(parsed["mcp_servers"]?["fuckbigtech"]?["env"] == nil, "our sub-tables are ours and replaced with the rest")
        #expect(parsed["profiles"]?["fast"]?["model"] == .string("x"))
    }

    @Test func openCodeTwoLayoutGetsOurServerUnderServers() throws {
        let home = try Home()
        defer { TemporaryFolder.remove(home.root) }
        try home.write(.opencode, "{\n  \"mcp\": {\n    \"servers\": {\n      \"x\": {\n        \"type\": \"local\",\n        \"command\": [\n          \"x\"\n        ]\n      }\n    }\n  }\n}\n")
        #expect(home.run(["install", "opencode"]).code == 0)
        let parsed = try Self.python(.opencode, home.path(.opencode))
        #expect(parsed["mcp"]?["servers"]?["fuckbigtech"]?["type"] == .string("local"))
        #expect(parsed["mcp"]?["servers"]?["x"] != nil && parsed["mcp"]?["fuckbigtech"] == nil)
    }

    @Test func aSymlinkedConfigurationStaysALinkAndKeepsItsMode() throws {
        let home = try Home()
        defer { TemporaryFolder.remove(home.root) }
        let dotfiles = home.root + "/dotfiles.toml"
        try Self.codex.replacingFile(dotfiles)
        chmod(dotfiles, 0o600)
        try FileManager.default.createSymbolicLink(atPath: home.path(.codex), withDestinationPath: dotfiles)
        #expect(home.run(["install", "codex"]).code == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: home.path(.codex)) == dotfiles)
        #expect(try String(contentsOfFile: dotfiles, encoding: .utf8).contains("[mcp_servers.fuckbigtech]"))
        let mode = try #require(try FileSystem.status(dotfiles)).mode & 0o777
        #expect(mode == 0o600)
    }

    @Test func anUnknownHarnessIsAUsageError() throws {
        let home = try Home()
        defer { TemporaryFolder.remove(home.root) }
        let result = home.run(["install", "codx"])
        #expect(result.code == 64 && result.err == "fuckbigtech mcp: unknown harness 'codx'; did you mean 'codex'? use claude, codex or opencode\n")
        #expect(home.run(["install"]).code == 64)
    }
}

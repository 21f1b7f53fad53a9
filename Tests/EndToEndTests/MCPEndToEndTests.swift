import AgentOS
import Foundation
import TestSupport
import Testing

/// `fuckbigtech mcp` driven by the official MCP Python SDK's stdio client (both the 1.x handshake
/// release and the 2.x one that speaks 2026-07-28), and by a fuzzer writing raw bytes to it.
@Suite struct MCPEndToEndTests {
    /// The client script (Fixtures/mcp_client.py) run with one SDK's Python; its JSON report.
    static func drive(python: String, vault: String, scenario: String, extra: [String] = []) throws -> [String: Any] {
        let python = try requireSDK(python)
        let outcome = try ChildProcess.run(python, [RepositoryPaths.endToEndFixtures + "/mcp_client.py", try BuiltBinary.path(), vault, scenario] + extra,
                                           environment: ["PATH": "/usr/bin:/bin", "HOME": vault + "/.."], timeout: 120)
        guard outcome.code == 0, let line = outcome.stdout.split(separator: "\n").last,
              let report = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw TestSupportError("the MCP client failed (exit \(outcome.code)): \(outcome.stderr.suffix(2000))")
        }
        return report
    }

    static func requireSDK(_ python: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestSupportError("\(python) is missing; .ci/run makes the MCP SDK venvs (/tmp/fbt-mcp1: mcp<2, /tmp/fbt-mcp: mcp)")
        }
        return python
    }

    static func sdkPresent(_ python: String) -> Bool { ExternalTool.isCI || FileManager.default.isExecutableFile(atPath: python) }

    /// A vault made by the real `init`.
    static func vault(_ sandbox: EndToEndTests.Sandbox) throws -> String {
        let made = try EndToEndTests.run(["init", sandbox.vault], in: sandbox)
        guard made.code == 0 else { throw TestSupportError("init failed: \(made.stderr)") }
        return sandbox.vault
    }

    static func call(_ report: [String: Any], _ name: String) -> (isError: Bool, text: String, structured: [String: Any]) {
        let calls = report["calls"] as? [String: Any] ?? [:]
        let call = calls[name] as? [String: Any] ?? [:]
        return (call["is_error"] as? Bool ?? true, call["text"] as? String ?? "<no call \(name)>", call["structured"] as? [String: Any] ?? [:])
    }

    @Test(arguments: [(ExternalTool.mcpHandshakePython, "2025-11-25"), (ExternalTool.mcpStatelessPython, "2026-07-28")])
    func theSDKListsAndCallsEveryToolAndTheGuardrailsHold(python: String, revision: String) throws {
        try #require(Self.sdkPresent(python), "needs the MCP SDK venv \(python) (.ci/run makes it)")
        let sandbox = try EndToEndTests.Sandbox()
        let vault = try Self.vault(sandbox)
        let report = try Self.drive(python: python, vault: vault, scenario: "tools")
        #expect(report["protocol_version"] as? String == revision)

        let tools = (report["tools"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(tools == ["search", "read_note", "write_note", "set_properties", "create_task", "handoff", "route", "context", "status", "backlinks", "recent"])
        let readOnly = (report["tools"] as? [[String: Any]] ?? []).filter { $0["read_only"] as? Bool == true }.compactMap { $0["name"] as? String }
        #expect(readOnly == ["search", "read_note", "route", "context", "status", "backlinks", "recent"])

        // Every tool answers without an error where none is due.
        for name in ["create_task", "write_note", "search", "read_note", "set_properties", "handoff", "route", "context", "status", "backlinks", "recent"] {
            let result = Self.call(report, name)
            #expect(!result.isError, "\(name): \(result.text)")
        }
        // A clean write is found by search at once (no watcher runs here).
        let hits = Self.call(report, "search").structured["hits"] as? [[String: Any]] ?? []
        #expect(hits.first?["path"] as? String == "Memory/Plan.md")
        // The note as written, then with the property merged in.
        let plan = try String(contentsOfFile: vault + "/Memory/Plan.md", encoding: .utf8)
        #expect(plan == "---\nowner: ops\n---\n# Plan\n\nThe zeppelin launch is on Friday.\n")

        // The stale write is refused, the note untouched, the refused text kept in a conflict note.
        let stale = Self.call(report, "stale_write")
        #expect(stale.isError && stale.text.contains("changed since it was read"))
        let conflicts = try FileManager.default.contentsOfDirectory(atPath: vault + "/Memory/Conflicts")
        #expect(conflicts.count == 1)
        let kept = try String(contentsOfFile: vault + "/Memory/Conflicts/" + conflicts[0], encoding: .utf8)
        #expect(kept.contains("Overwritten."))

        // No approval, no status change, no secret, no path out of the vault.
        let approve = Self.call(report, "approve")
        #expect(approve.isError && approve.text.contains("'approved'"))
        let statusChange = Self.call(report, "status_change")
        #expect(statusChange.isError && statusChange.text.contains("'status'"), "\(statusChange.text)")
        // A property edit without the hash read is refused: it could overwrite a person's edit made since.
        let blind = Self.call(report, "blind_set")
        #expect(blind.isError && blind.text.contains("expect_hash"), "\(blind.text)")
        #expect(try String(contentsOfFile: vault + "/Memory/Plan.md", encoding: .utf8) == plan)
        let task = try String(contentsOfFile: vault + "/Tasks/Summarise notes.md", encoding: .utf8)
        #expect(!task.contains("approved") && task.contains("status: new"))
        let secret = Self.call(report, "secret")
        #expect(secret.isError && secret.text.contains("GitHub token") && !secret.text.contains("ghp_"))
        #expect(!FileManager.default.fileExists(atPath: vault + "/Memory/Keys.md"))
        #expect(Self.call(report, "escape").isError)

        // Every write is recorded with the tool and path.
        let log = try String(contentsOfFile: vault + "/.agentos/mcp-writes.jsonl", encoding: .utf8)
        #expect(log.contains("\"tool\":\"write_note\",\"path\":\"Memory/Plan.md\""))
        #expect(log.contains("\"tool\":\"create_task\""))
    }

    @Test(arguments: [ExternalTool.mcpHandshakePython, ExternalTool.mcpStatelessPython])
    func aServerForACloudAgentNeverReturnsAPrivateNote(python: String) throws {
        try #require(Self.sdkPresent(python), "needs the MCP SDK venv \(python) (.ci/run makes it)")
        let sandbox = try EndToEndTests.Sandbox()
        let vault = try Self.vault(sandbox)
        try "---\nprivacy: private\n---\n# Diary\n\nThe marmalade recipe is a family secret.\n".replacingFile(vault + "/Memory/Diary.md")
        try "# Public\n\nWe sell marmalade at the market.\n".replacingFile(vault + "/Memory/Public.md")
        let report = try Self.drive(python: python, vault: vault, scenario: "private", extra: ["--agent", "claude"])

        let read = Self.call(report, "read_private")
        #expect(read.isError && read.text.contains("private") && read.text.contains("premium lane"), "\(read.text)")
        #expect(!read.text.contains("family secret"))
        let search = Self.call(report, "search_private")
        #expect(!search.isError)
        #expect(search.text.contains("Memory/Public.md") && !search.text.contains("Diary") && !search.text.contains("family secret"))
        // Not even counted: a count of withheld hits answered "does a private note hold this word?".
        #expect(search.structured["withheld"] == nil && !search.text.contains("withheld"), "\(search.text)")
        #expect(!Self.call(report, "read_public").isError)
    }
}

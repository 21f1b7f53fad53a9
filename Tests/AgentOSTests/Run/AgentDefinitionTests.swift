import Foundation
import Testing
@testable import AgentOS

@Suite struct AgentDefinitionTests {
    static let claudeNote = """
    ---
    type: agent
    name: claude
    lane: premium
    command: ["claude", "-p", "--output-format", "json", "--", "{prompt}"]
    model_args: ["--model", "{model}"]
    readonly_args: ["--permission-mode", "plan"]
    approved_args: ["--permission-mode", "acceptEdits"]
    output: claude-json
    price_in_per_mtok: 3
    price_out_per_mtok: 15
    max_cost_usd: 0.5
    timeout: 600
    env: [ANTHROPIC_API_KEY]
    context_tokens: 8000
    ---
    Claude Code, headless.
    """

    func definition(_ text: String) throws -> AgentDefinition {
        try AgentDefinition.parse(try Note.parse(text), path: "Rules/Agents/x.md")
    }

    func error(_ text: String) -> String? {
        do {
            _ = try definition(text)
            return nil
        } catch let error as AgentDefinitionError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func parsesEveryField() throws {
        let d = try definition(AgentDefinitionTests.claudeNote)
        #expect(d.name == "claude" && d.lane == .premium && d.output == .claudeJSON)
        #expect(d.command == ["claude", "-p", "--output-format", "json", "--", "{prompt}"])
        #expect(d.modelArguments == ["--model", "{model}"])
        #expect(d.readonlyArguments == ["--permission-mode", "plan"])
        #expect(d.approvedArguments == ["--permission-mode", "acceptEdits"])
        #expect(d.priceInPerMillionTokens == 3 && d.priceOutPerMillionTokens == 15 && d.maxCostUSD == 0.5)
        #expect(d.timeout == 600 && d.environmentNames == ["ANTHROPIC_API_KEY"] && d.contextTokens == 8000)
        #expect(d.model == nil && d.sourcePath == "Rules/Agents/x.md")
    }

    @Test func ollamaNeedsNoCommandAndDefaultsItsEndpoint() throws {
        let d = try definition("---\ntype: agent\nname: ollama\nlane: local\noutput: ollama\nmodel: llama3.2\n---\n")
        #expect(d.endpoint == "http://localhost:11434" && d.command.isEmpty && d.model == "llama3.2")
    }

    @Test func problemsAreOneClearLineEach() {
        let cases: [(String, String)] = [
            ("---\ntype: agent\nlane: local\noutput: text\ncommand: [x]\n---\n", "Rules/Agents/x.md: missing 'name'"),
            ("---\ntype: agent\nname: a\nlane: cloud\noutput: text\ncommand: [x]\n---\n", "Rules/Agents/x.md: lane 'cloud' is not one of premium, local, tool, human"),
            ("---\ntype: agent\nname: a\nlane: local\noutput: yaml\ncommand: [x]\n---\n", "Rules/Agents/x.md: output 'yaml' is not one of claude-json, codex-jsonl, opencode-jsonl, ollama, text, browser, hermes, openclaw-json, openai-chat"),
            ("---\ntype: agent\nname: a\nlane: local\noutput: text\ncommand: llm -m echo {prompt}\n---\n", "Rules/Agents/x.md: 'command' must be a list of arguments, e.g. [\"claude\", \"-p\", \"{prompt}\"], never a shell string"),
            ("---\ntype: agent\nname: a\nlane: local\noutput: text\n---\n", "Rules/Agents/x.md: missing 'command' (an argv list such as [\"llm\", \"-m\", \"{model}\", \"--\", \"{prompt}\"])"),
            ("---\ntype: agent\nname: a\nlane: local\noutput: text\ncommand: [x]\ntimeout: soon\n---\n", "Rules/Agents/x.md: 'timeout' must be a non-negative number"),
            ("---\ntype: agent\nname: a\nlane: local\noutput: ollama\nendpoint: localhost\n---\n", "Rules/Agents/x.md: endpoint 'localhost' is not an http(s) URL"),
            ("---\ntype: rule\nname: a\n---\n", "Rules/Agents/x.md: type is 'rule', expected 'agent'"),
            ("---\ntype: agent\nname: a\nlane: local\noutput: text\ncommand: [\"{prompt}\"]\n---\n", "Rules/Agents/x.md: the program name in 'command' cannot be a placeholder"),
        ]
        for (text, expected) in cases {
            #expect(error(text) == expected)
        }
    }

    @Test func argvInsertsModelAndModeArgumentsBeforeThePrompt() throws {
        let d = try definition(AgentDefinitionTests.claudeNote)
        let readonly = try d.argv(prompt: "- [ ] fix {model}", model: "opus", approved: false, workingDirectory: "/w")
        #expect(readonly.arguments == ["claude", "-p", "--output-format", "json", "--model", "opus", "--permission-mode", "plan", "--", "- [ ] fix {model}"])
        #expect(!readonly.promptOnStdin)
        let approved = try d.argv(prompt: "p", model: nil, approved: true, workingDirectory: "/w")
        #expect(approved.arguments == ["claude", "-p", "--output-format", "json", "--permission-mode", "acceptEdits", "--", "p"])
    }

    @Test func withoutAPromptPlaceholderThePromptGoesToStdin() throws {
        let d = AgentDefinition(name: "c", lane: .premium, command: ["codex", "exec", "--json", "-C", "{cwd}"],
                                modelArguments: ["-m", "{model}"], readonlyArguments: ["--sandbox", "read-only"], output: .codexJSONL, model: "gpt-5")
        let built = try d.argv(prompt: "hello", model: nil, approved: false, workingDirectory: "/work/dir")
        #expect(built.arguments == ["codex", "exec", "--json", "-C", "/work/dir", "-m", "gpt-5", "--sandbox", "read-only"])
        #expect(built.promptOnStdin)
    }

    @Test func modelPlaceholderWithoutAModelAndHugePromptsAreRefused() throws {
        let d = AgentDefinition(name: "llm", lane: .local, command: ["llm", "-m", "{model}", "--", "{prompt}"], output: .text, sourcePath: "Rules/Agents/llm.md")
        #expect(throws: AgentDefinitionError(source: "Rules/Agents/llm.md", message: "'command' uses {model} but neither the task nor the agent sets a model")) {
            try d.argv(prompt: "x", model: nil, approved: false, workingDirectory: "/")
        }
        let huge = String(repeating: "a", count: 200_000)
        #expect(throws: AgentDefinitionError.self) { try d.argv(prompt: huge, model: "echo", approved: false, workingDirectory: "/") }
    }

    /// The shipped notes for Claude Code and Codex carry their CLI's way of taking an MCP server
    /// (`mcp_args`), off by default; with a run's server the placeholders become its file or values.
    @Test func mcpArgumentsAreTheNotesOwnAndOnlyGivenToRunsWithAServer() throws {
        func shipped(_ name: String) throws -> AgentDefinition {
            let file = try #require(VaultTemplate.files.first { $0.path == "Rules/Agents/\(name).md" })
            return try AgentDefinition.parse(try Note.parse(file.contents))
        }
        let server = RunMCPServer(executable: "/opt/fbt/fuckbigtech", vault: "/home/a/My Vault", agent: "codex", runID: "r-1", folder: "/tmp/fbt-run-r-1")
        let claude = try shipped("claude")
        #expect(!claude.usesMCP)
        #expect(!(try claude.argv(prompt: "hi", model: nil, approved: false, workingDirectory: "/tmp").arguments.contains("--mcp-config")))
        let handed = try claude.argv(prompt: "hi", model: nil, approved: false, workingDirectory: "/tmp", mcp: server).arguments
        #expect(Array(handed.suffix(5)) == ["--mcp-config", "/tmp/fbt-run-r-1/fbt-mcp-config.json", "--strict-mcp-config", "--", "hi"])

        let codex = try shipped("codex")
        #expect(!codex.usesMCP)
        let overrides = try codex.argv(prompt: "hi", model: nil, approved: false, workingDirectory: "/tmp", mcp: server).arguments
        #expect(overrides.contains(#"mcp_servers.fuckbigtech.command="/opt/fbt/fuckbigtech""#))
        #expect(overrides.contains(#"mcp_servers.fuckbigtech.args=["mcp", "--vault", "/home/a/My Vault", "--agent", "codex"]"#))
        #expect(overrides.contains(#"mcp_servers.fuckbigtech.env={"FBT_RUN_ID" = "r-1"}"#))

        // The configuration file is Claude Code's layout, with the run id in the server's environment.
        let config = try JSON.parse(server.configJSON)
        #expect(config["mcpServers"]?["fuckbigtech"]?["env"]?["FBT_RUN_ID"]?.stringValue == "r-1")
        #expect(config["mcpServers"]?["fuckbigtech"]?["args"] == .array(["mcp", "--vault", "/home/a/My Vault", "--agent", "codex"].map { .string($0) }))
    }

    /// `mcp: true` where the CLI has no way to take a server (no `mcp_args`), a misspelt flag, or
    /// the placeholders outside `mcp_args` are one-line problems naming the note.
    @Test func mcpMistakesAreRefused() throws {
        func problem(_ extra: String) -> String? {
            let text = "---\ntype: agent\nname: o\nlane: tool\ncommand: [opencode, run, \"{prompt}\"]\noutput: text\n\(extra)\n---\n"
            do { _ = try AgentDefinition.parse(try Note.parse(text), path: "Rules/Agents/o.md"); return nil } catch { return String(describing: error) }
        }
        #expect(problem("mcp: true")?.contains("'mcp: true' needs 'mcp_args'") == true)
        #expect(problem("mcp: yes please")?.contains("'mcp' is true or false") == true)
        #expect(problem("mcp_args: [--mcp-config, config.json]")?.contains("must hold one of") == true)
        #expect(problem("model_args: [--cfg, \"{mcp_config}\"]")?.contains("belong in 'mcp_args' only") == true)
        #expect(problem("mcp: false") == nil)
        #expect(problem("mcp: true\nmcp_args: [--mcp, \"{mcp_config}\"]") == nil)
    }
}

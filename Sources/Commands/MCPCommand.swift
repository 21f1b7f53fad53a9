import AgentOS
import Foundation

/// `fuckbigtech mcp`: serves the vault to an agent over the Model Context Protocol on stdin/stdout;
/// `mcp install|uninstall HARNESS` registers that server with a harness (`MCPInstallCommand`).
enum MCPCommand {
    /// The command's name, help and options.
    static let spec = CommandSpec(
        name: "mcp",
        summary: "serve the vault to an agent over MCP (stdio), or register it with Claude Code, Codex or OpenCode",
        forms: [
            CommandForm(max: 0),
            CommandForm(["install"], arguments: "claude|codex|opencode", max: 1),
            CommandForm(["uninstall"], arguments: "claude|codex|opencode", max: 1),
        ],
        options: [
            .option("--agent", "NAME", "the agent this server is for: a non-local one (claude, codex, …) never gets a private note's text", actions: [""]),
            .flag("--print", "show the configuration file as it would be, write nothing", actions: ["install", "uninstall"]),
            .option("--project", "DIR", "the project's configuration in DIR (.mcp.json, .codex/config.toml,\nopencode.json) instead of the user's", actions: ["install", "uninstall"]),
        ],
        description: """
        Speaks the Model Context Protocol (newline-delimited JSON-RPC 2.0) on stdin and stdout until
        stdin closes; logs go to stderr. Serves protocol revisions 2024-11-05 to 2025-11-25 (the
        initialize handshake) and 2026-07-28 (server/discover, the version in each request's _meta).
        Tools: search, read_note, write_note, set_properties, create_task, handoff, route, context,
        status, backlinks, recent. Writes land only on the version the agent read (else they are kept
        in a conflict note), never approve or change a status, never hold a secret, and are recorded
        in .agentos/mcp-writes.jsonl. Started inside a run (FBT_RUN_ID) it takes that run's lane.
        Register it with your agent as: fuckbigtech mcp --vault VAULT --agent NAME (see docs/mcp.md).

        install    adds the server 'fuckbigtech' (this binary, 'mcp --vault VAULT --agent HARNESS') to the harness's
                   MCP servers: Claude Code ~/.claude.json (what 'claude mcp add --scope user' writes),
                   Codex ~/.codex/config.toml [mcp_servers.fuckbigtech] ($CODEX_HOME is honoured),
                   OpenCode ~/.config/opencode/opencode.json "mcp". Installing again changes nothing.
                   Every other entry stays as it was; a file that does not parse is left untouched.
        uninstall  removes that entry, and only that one
        """,
        run: run
    )

    /// Serves until stdin closes, or registers/unregisters the server with a harness.
    static func run(_ context: CommandContext) throws -> Int32 {
        if let action = context.arguments.positionals.first, ["install", "uninstall"].contains(action) {
            return try MCPInstallCommand.run(context)
        }
        let scope = MCPScope(vault: context.vault, agent: context.arguments.value("--agent"), environment: context.environment)
        let console = context.console
        console.error("fuckbigtech mcp: serving \(context.vault.root)" + (scope.hidesPrivateBecause.map { "; private notes withheld (\($0))" } ?? ""))
        let server = MCPServer(tools: MCPTools(vault: context.vault, scope: scope), log: { console.error($0) })
        return server.serve(input: STDIN_FILENO, output: STDOUT_FILENO)
    }
}

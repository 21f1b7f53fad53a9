import AgentOS
import Foundation

/// `fuckbigtech mcp install|uninstall claude|codex|opencode`: registers this binary's MCP server in a
/// harness's configuration, or removes it. (The server itself, `mcp` without an action, is declared
/// beside it in `MCPCommand.swift`.)
enum MCPInstallCommand {
    /// The command's name, help and options.
    static let spec = CommandSpec(
        name: "mcp",
        summary: "register the MCP server with Claude Code, Codex or OpenCode",
        forms: [CommandForm(["install"], arguments: "claude|codex|opencode", max: 1), CommandForm(["uninstall"], arguments: "claude|codex|opencode", max: 1)],
        options: [
            .flag("--print", "show the configuration file as it would be, write nothing"),
            .option("--project", "DIR", "the project's configuration in DIR (.mcp.json, .codex/config.toml,\nopencode.json) instead of the user's"),
        ],
        description: """
        install    adds the server 'fuckbigtech' (this binary, 'mcp --vault VAULT') to the harness's
                   MCP servers: Claude Code ~/.claude.json (what 'claude mcp add --scope user' writes),
                   Codex ~/.codex/config.toml [mcp_servers.fuckbigtech] ($CODEX_HOME is honoured),
                   OpenCode ~/.config/opencode/opencode.json "mcp". Installing again changes nothing.
                   Every other entry stays as it was; a file that does not parse is left untouched.
        uninstall  removes that entry, and only that one
        """,
        run: run
    )

    /// Runs `mcp install|uninstall HARNESS`.
    static func run(_ context: CommandContext) throws -> Int32 {
        let args = context.arguments.positionals
        let action = args[0] // an action: `CommandSpec.check` made sure it is one
        guard args.count == 2 else { throw CLIError.usage("say which harness: 'fuckbigtech mcp \(action) claude|codex|opencode'") }
        guard let harness = Harness(rawValue: args[1]) else {
            let hint = Suggestion.closest(to: args[1], among: Harness.allCases.map(\.rawValue)).map { "did you mean '\($0)'? " } ?? ""
            throw CLIError.usage("unknown harness '\(args[1])'; \(hint)use claude, codex or opencode")
        }
        guard context.executablePath.hasPrefix("/") else { throw CLIError.failure("cannot tell where this fuckbigtech binary is (\(context.executablePath)); run it by its absolute path") }
        let project = context.arguments.value("--project").map { ($0 as NSString).standardizingPath }.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        let path = harness.configPath(environment: context.environment, project: project)
        let registration = MCPRegistration(harness: harness, executable: context.executablePath, vault: context.vault.root)
        let dryRun = context.arguments.has("--print")
        let install = action == "install"
        let (outcome, text) = try registration.apply(install: install, at: path, dryRun: dryRun)
        if dryRun {
            context.console.print("# \(path)" + (outcome == .unchanged ? " (already so; nothing would change)" : ""))
            context.console.print(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            return 0
        }
        switch (install, outcome) {
        case (true, .written): context.console.print("registered the MCP server '\(MCPRegistration.serverName)' in \(path): \(registration.argv.map(ShellQuote.ifNeeded).joined(separator: " "))")
        case (true, .unchanged): context.console.print("\(path) already registers '\(MCPRegistration.serverName)'; nothing changed")
        case (false, .written): context.console.print("removed the MCP server '\(MCPRegistration.serverName)' from \(path)")
        case (false, .unchanged): context.console.print("\(path) does not register '\(MCPRegistration.serverName)'; nothing changed")
        }
        return 0
    }
}

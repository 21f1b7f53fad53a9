import AgentOS
import Foundation

/// `fuckbigtech mcp install|uninstall claude|codex|opencode`: registers this binary's MCP server in a
/// harness's configuration, or removes it. Declared with the server itself, `mcp` without an action,
/// in `MCPCommand.spec`.
enum MCPInstallCommand {
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

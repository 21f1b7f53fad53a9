import AgentOS
import Foundation

/// Everything a command needs: its arguments, the vault, where to print, and the environment.
public struct CommandContext: Sendable {
    /// The parsed command line, after the command's name.
    public let arguments: ParsedArguments
    /// The vault it works on.
    public let vault: Vault
    /// Where it prints.
    public let console: Console
    /// The process environment (`FBT_RUN_ID` says an agent's run is calling).
    public let environment: [String: String]
    /// Where the vault came from (`--vault`, `$FBT_VAULT`, the current folder, or the `~/AgentOS` default).
    public var vaultSource: Vault.Source = .option
    /// The path of the running `fuckbigtech` binary (for commands that start copies of it).
    public let executablePath: String

    /// Whether `--json` was given.
    public var json: Bool { arguments.has("--json") }

    /// Refuses a command that reads every note of the vault and prints what it found (its paths,
    /// titles, words: `bench`, `memory-test`, `doctor`) when an agent off this machine runs it: it
    /// would print private notes' names and secrets no packet of its lane may hold.
    static func refuseOffMachine(_ command: String, _ context: CommandContext) throws {
        if let why = Privacy.hidesPrivateNotes(environment: context.environment, vault: context.vault) {
            throw CLIError.failure("\(command) reads every note of the vault and is not run when \(why)")
        }
    }
}

/// What a command needs of its vault.
public enum VaultUse: Sendable {
    /// An existing vault: a path that is not one is an error, and nothing is written there.
    case existing
    /// Creates the vault (`init`).
    case creates
    /// An existing vault, or the default `~/AgentOS`, which it creates on first use (`watch`).
    case createsDefault
    /// No vault of its own (`bench` works on a temporary copy).
    case none
}

/// The command line: finds the subcommand, parses its options, picks the vault and runs it.
public enum CLI {
    /// Every subcommand, in the order `--help` lists them.
    public static let commands: [CommandSpec] = [
        InitCommand.spec,
        DoctorCommand.spec,
        WatchCommand.spec,
        ServiceCommand.spec,
        SkillsCommand.spec,
        RunCommand.spec,
        StatusCommand.spec,
        ReportCommand.spec,
        TaskCommand.spec,
        HandoffCommand.spec,
        AgentCommand.spec,
        BudgetCommand.spec,
        ContextCommand.spec,
        RouteCommand.spec,
        IndexCommand.spec,
        SearchCommand.spec,
        RelatedCommand.spec,
        BacklinksCommand.spec,
        NoteCommand.spec,
        BenchCommand.spec,
        MemoryTestCommand.spec,
        MCPCommand.spec,
        CompletionCommand.spec,
    ]

    /// The options every command takes (a command may redefine one, as `bench` does `--vault`).
    static let commonOptions: [OptionSpec] = [
        .option("--vault", "PATH", "the vault (else $FBT_VAULT, else the vault around the current folder, else ~/AgentOS)"),
        .flag("--no-color", "no colour in the output (colour is only used on a terminal, without NO_COLOR)"),
        .flag("--help", "this help", short: "-h"),
    ]

    /// Runs the command line and returns the exit code (0 ok, 1 failure, 64 usage).
    public static func run(_ arguments: [String], console: Console, environment: [String: String], executablePath: String) -> Int32 {
        guard let first = arguments.first else {
            console.error(overview)
            return 64
        }
        if first == "--help" || first == "-h" || first == "help" {
            guard arguments.count > 1 else {
                console.print(overview)
                return 0
            }
            guard let spec = commands.first(where: { $0.name == arguments[1] }) else {
                let hint = Suggestion.closest(to: arguments[1], among: commands.map(\.name)).map { "did you mean '\($0)'? " } ?? ""
                console.error("fuckbigtech help: no command '\(arguments[1])'; \(hint)run 'fuckbigtech --help' for the list")
                return 64
            }
            console.print(spec.help)
            return 0
        }
        if first == "--version" {
            guard arguments.count == 1 else {
                console.error("fuckbigtech --version: takes no argument, got '\(arguments[1])'")
                return 64
            }
            console.print("fuckbigtech \(AgentOSVersion.current)")
            return 0
        }
        guard let spec = commands.first(where: { $0.name == first }) else {
            // `--vault PATH status`: the options come after the command.
            if first.hasPrefix("-"), let command = arguments.dropFirst().first(where: { name in commands.contains { $0.name == name } }) {
                console.error("fuckbigtech: '\(first)' comes after the command: fuckbigtech \(command) \(first) …")
                return 64
            }
            let hint = Suggestion.closest(to: first, among: commands.map(\.name)).map { "did you mean '\($0)'? " } ?? ""
            console.error("fuckbigtech: unknown command '\(first)'; \(hint)run 'fuckbigtech --help' for the list")
            return 64
        }
        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            console.print(spec.help)
            return 0
        }
        do {
            let parsed = try ParsedArguments.parse(rest, flags: spec.flags, options: spec.options, aliases: spec.aliases)
            try spec.check(parsed)
            if let runID = RunWriteGuard.runID(in: environment), let why = personOnly(spec.name, action: parsed.positionals.first) {
                throw CLIError.failure("refused from within run \(runID): \(why); ask a person")
            }
            let console = parsed.has("--no-color") ? console.withoutColor() : console
            let (vault, source) = Vault.locateWithSource(explicit: parsed.value("--vault"), environment: environment, currentDirectory: FileManager.default.currentDirectoryPath)
            // Removing our MCP entry needs no vault: it removes the entry whatever vault it names
            // (asked for one, `mcp uninstall claude` failed on a missing ~/AgentOS and left it).
            if !(spec.name == "mcp" && parsed.positionals.first == "uninstall") {
                try checkVault(vault, source: source, for: spec)
            }
            let context = CommandContext(arguments: parsed, vault: vault, console: console, environment: environment, vaultSource: source, executablePath: executablePath)
            return try spec.run(context)
        } catch let error as CLIError {
            console.error("fuckbigtech \(spec.name): \(error.description)")
            return error.exitCode
        } catch {
            // The library's own errors (typed, each with a one-line description) are failures.
            console.error("fuckbigtech \(spec.name): \(ErrorText.oneLine(error))")
            return 1
        }
    }

    /// The path the person ran this binary by, when it is the binary `running` (the file the
    /// process runs): `argv[0]` made absolute, or found on `PATH` as the shell did. A symlink there
    /// (`~/bin/fuckbigtech` → a versioned build, Homebrew's links) is kept, so what `service install`
    /// and `mcp install` write follows the link when it is moved to a new version (a tour: they wrote
    /// the link's target, and an upgrade was silently not used). Anything else: `running`.
    public static func invokedPath(_ argv0: String, running: String, environment: [String: String]) -> String {
        var candidates: [String] = []
        if argv0.contains("/") {
            candidates.append(argv0.hasPrefix("/") ? argv0 : FileManager.default.currentDirectoryPath + "/" + argv0)
        } else {
            for folder in (environment["PATH"] ?? "").split(separator: ":") where !folder.isEmpty {
                candidates.append(String(folder) + "/" + argv0)
            }
        }
        let target = URL(fileURLWithPath: running).resolvingSymlinksInPath().path
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            guard URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path == target else { return running }
            return candidate
        }
        return running
    }

    /// Why a command (and action) is a person's to run, never an agent's from within its run
    /// (`FBT_RUN_ID`): each sets up or changes what routes, runs or limits agents. `nil`: a run may.
    /// (`run` is refused by `ForegroundRun` itself.) Before, a run called `init`, which put back the
    /// agent notes and routing rules a person had deleted to keep code work off the cloud (an
    /// outside attack): a run may not change `Rules/`, and `init` writes there.
    static func personOnly(_ command: String, action: String?) -> String? {
        switch (command, action) {
        case ("init", _): return "init writes the vault's rules and agent notes, and a run may not change Rules/"
        case ("watch", _): return "a run may not start a watcher"
        case ("service", "install"?), ("service", "uninstall"?): return "a run may not install or remove the watcher's service"
        case ("mcp", "install"?), ("mcp", "uninstall"?): return "a run may not change an agent harness's MCP settings"
        case ("skills", "sync"?): return "a run may not change the agents' skill folders"
        case ("agent", "reset"?): return "a run may not end an agent's cooldown"
        // An agent that reported an absurd cost would otherwise clear it from its own run.
        case ("budget", _): return "a run may not change what the budget ledger counts"
        // The spend report is a note under `Telemetry/`, which no run writes (round 54).
        case ("report", _): return "report writes the spend report under Telemetry/, which a run may not change"
        default: return nil
        }
    }

    /// Refuses to run a command on a path that is not a vault (unless the command creates vaults):
    /// a mistyped `--vault` or a missing `~/AgentOS` must not become a new, empty vault.
    static func checkVault(_ vault: Vault, source: Vault.Source, for spec: CommandSpec) throws(CLIError) {
        switch spec.vaultUse {
        case .creates, .none: return
        case .createsDefault where source == .defaultHome: return
        case .existing, .createsDefault: break
        }
        guard let why = vault.notAVaultReason else { return }
        let given: String
        switch source {
        case .option: given = "--vault"
        case .environment: given = "$FBT_VAULT"
        case .currentDirectory: given = "the current folder"
        case .defaultHome: given = "the default vault"
        }
        let fix = source == .defaultHome
            ? "run 'fuckbigtech init' (or 'fuckbigtech watch') to create it, or pass --vault PATH"
            : "check the path, or run 'fuckbigtech init \(vault.root)' to make it a vault"
        throw .failure("\(vault.root) (\(given)) is not a vault: \(why); \(fix)")
    }

    static var overview: String {
        var lines = ["fuckbigtech — a local-first agent OS over an Obsidian vault", "", "Usage: fuckbigtech COMMAND [options]", "", "Commands:"]
        let width = (commands.map(\.name.count).max() ?? 8) + 2
        for spec in commands {
            lines.append("  " + spec.name.padding(toLength: width, withPad: " ", startingAt: 0) + spec.summary)
        }
        lines.append("")
        lines.append("Run 'fuckbigtech COMMAND --help' for a command's options. Exit codes: 0 ok, 1 failure, 64 usage.")
        return lines.joined(separator: "\n")
    }
}

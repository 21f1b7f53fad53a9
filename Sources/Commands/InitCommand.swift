import AgentOS
import Foundation

/// `fuckbigtech init [PATH] [--with-memory]`: creates a vault, or adds what is missing to one.
enum InitCommand {
    /// The command's name, help and options.
    static let spec = CommandSpec(
        name: "init",
        summary: "create a vault, or add what is missing to an existing one",
        forms: [CommandForm(arguments: "[PATH]", max: 1)],
        options: [
            .flag("--with-memory", "also create .agentos/ and the full-text index database"),
            .json("print what was created as JSON"),
        ],
        description: """
        Creates the vault layout (Tasks/ Handoffs/ Results/ Telemetry/ Daily/ Memory/ Rules/ Private/
        Templates/ and .obsidian/), the Task and Handoff templates, the Tasks base, and the default
        guardrails, agent and routing notes in Rules/. An existing folder or Obsidian vault is adopted:
        only missing files are added and no existing file is ever changed, so running it again is safe.

        PATH is the vault folder (default: --vault, else $FBT_VAULT, else the vault around the current
        folder, else ~/AgentOS).
        """,
        vaultUse: .creates,
        run: run
    )

    /// Runs `init` and prints what it created.
    static func run(_ context: CommandContext) throws -> Int32 {
        let chosen = context.arguments.positionals.first.map { Vault(root: $0) } ?? context.vault
        // A vault folder that is itself a symlink (~/AgentOS → a synced disk) is the user's choice;
        // work in its target, since nothing inside a vault is ever reached through a symlink.
        let vault = Vault(root: URL(fileURLWithPath: chosen.root).resolvingSymlinksInPath().path)
        let report = try VaultInit.run(vault: vault, withMemory: context.arguments.has("--with-memory"))
        for warning in report.warnings { context.console.error("fuckbigtech init: \(warning)") }
        let lanes = LaneReadiness.lanes(of: vault, environment: context.environment)
        if context.json {
            context.console.print(JSON.object([
                ("vault", .string(report.root)),
                ("created_vault", .bool(report.createdRoot)),
                ("created_folders", .array(report.createdFolders.map { .string($0) })),
                ("created_files", .array(report.createdFiles.map { .string($0) })),
                ("indexed_notes", .int(report.indexedNotes)),
                ("kept_files", .array(report.keptFiles.map { .string($0) })),
                ("warnings", .array(report.warnings.map { .string($0) })),
                ("adopted_work", .array(report.adoptedWork.map { .string($0) })),
                ("lanes", .array(lanes.map { .object([("lane", .string($0.lane)), ("agent", $0.agent.map { .string($0) } ?? .null), ("usable", .bool($0.problem == nil)), ("problem", $0.problem.map { .string($0) } ?? .null), ("default", .bool($0.isDefault))]) })),
            ]).pretty)
            return 0
        }
        let console = context.console
        if let line = InitCommand.adoptedLine(report.adoptedWork) { console.error("fuckbigtech init: \(line)") }
        guard report.changedAnything else {
            console.print("nothing to do: \(report.root) already has everything init adds")
            return 0
        }
        console.print(report.createdRoot ? "Created a vault at \(report.root)" : "Added to the vault at \(report.root)")
        for folder in report.createdFolders { console.print("  + " + console.color(folder + "/", .green)) }
        for file in report.createdFiles { console.print("  + " + console.color(file, .green)) }
        if report.indexedNotes > 0 { console.print("Indexed \(report.indexedNotes) notes into the memory index.") }
        if !report.keptFiles.isEmpty {
            let noun = report.keptFiles.count == 1 ? "file" : "files"
            console.print("Kept \(report.keptFiles.count) existing \(noun) exactly as they were.")
        }
        console.print("Lanes on this machine:")
        for line in LaneReadiness.describe(lanes) { console.print("  " + line) }
        console.print("Next: fuckbigtech doctor --vault \(ShellQuote.ifNeeded(report.root))")
        return 0
    }

    /// What `init` and `watch` say about the notes of an adopted vault that look like work.
    static func adoptedLine(_ paths: [String]) -> String? {
        guard !paths.isEmpty else { return nil }
        let shown = paths.prefix(5).joined(separator: ", ") + (paths.count > 5 ? ", …" : "")
        let noun = paths.count == 1 ? "note here already looks like a task or handoff" : "notes here already look like tasks or handoffs"
        return "\(paths.count) \(noun) (\(shown)); the watcher leaves them exactly as they are until you edit one, which then runs ('fuckbigtech run PATH' runs one now)"
    }
}

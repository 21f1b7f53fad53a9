import AgentOS
import Foundation

/// `fuckbigtech service install|uninstall|status`: keeps the watcher running as a systemd user unit
/// (Linux) or a launchd agent (macOS).
enum ServiceCommand {
    /// The command's name, help and options.
    static let spec = CommandSpec(
        name: "service",
        summary: "run the watcher as a service (systemd user unit, launchd agent)",
        forms: [CommandForm(["install"], max: 0), CommandForm(["uninstall"], max: 0), CommandForm(["status"], max: 0)],
        options: [
            .flag("--print", "print the unit instead of writing it", actions: ["install"]),
            .flag("--no-start", "write the unit but do not enable or start it", actions: ["install"]),
            .json("print the status as JSON", actions: ["status"]),
        ],
        description: """
        install    writes a unit that runs 'fuckbigtech watch' on this vault, restarts it when it
                   fails, and logs to the journal (systemd: ~/.config/systemd/user/NAME.service,
                   then 'systemctl --user enable --now NAME'; macOS: ~/Library/LaunchAgents/NAME.plist,
                   then 'launchctl load'). The unit carries this shell's PATH, so the agents the
                   watcher starts (claude, codex, ollama, …) are found. Installing again rewrites it.
        uninstall  stops the service and removes its unit file
        status     whether the unit is installed and the watcher runs

        On a machine where nobody is logged in (a server), systemd stops user services at logout
        unless lingering is on: 'loginctl enable-linger $USER'.
        """,
        run: run
    )

    /// Runs `service install|uninstall|status`.
    static func run(_ context: CommandContext) throws -> Int32 {
        let args = context.arguments.positionals
        let action = args[0] // an action: `CommandSpec.check` made sure it is one
        #if os(macOS)
        let manager = ServiceUnit.Manager.launchd
        #else
        let manager = ServiceUnit.Manager.systemd
        #endif
        let home = context.environment["HOME"] ?? NSHomeDirectory()
        var path = context.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let binaryFolder = (context.executablePath as NSString).deletingLastPathComponent
        if context.executablePath.hasPrefix("/"), !path.split(separator: ":").contains(Substring(binaryFolder)) { path = binaryFolder + ":" + path }
        // Each folder once, in the order the shell searches them (a shell's set-up often adds one twice).
        var seen = Set<Substring>()
        path = path.split(separator: ":", omittingEmptySubsequences: true).filter { seen.insert($0).inserted }.joined(separator: ":")
        let unit = ServiceUnit(executable: context.executablePath, vault: context.vault.root, path: path, home: home)
        let file = unit.filePath(for: manager, environment: context.environment)
        let console = context.console

        switch action {
        case "install":
            guard context.executablePath.hasPrefix("/") else { throw CLIError.failure("cannot tell where this fuckbigtech binary is (\(context.executablePath)); run it by its absolute path") }
            let text = unit.render(for: manager)
            if context.arguments.has("--print") {
                console.print(text)
                return 0
            }
            let existing = try? String(contentsOfFile: file, encoding: .utf8)
            if existing != text {
                try FileSystem.makeDirectories((file as NSString).deletingLastPathComponent)
                do { try FileSystem.replaceDurably(file, bytes: Array(text.utf8)) } catch {
                    throw CLIError.failure("cannot write \(file): \(error)")
                }
                console.print("wrote \(file)")
            } else {
                console.print("\(file) is already up to date")
            }
            if context.arguments.has("--no-start") {
                console.print("not started (--no-start); start it with: " + startCommands(manager, unit: unit, file: file).joined(separator: " && "))
                return 0
            }
            for command in startArgv(manager, unit: unit, file: file) {
                if let failure = runTool(command, environment: context.environment) {
                    console.error("fuckbigtech service: the unit is written, but '\(command.joined(separator: " "))' failed: \(failure)")
                    console.error("start it by hand: " + startCommands(manager, unit: unit, file: file).joined(separator: " && "))
                    if manager == .systemd { console.error("on a machine where nobody is logged in, first: loginctl enable-linger $USER") }
                    return 1
                }
            }
            console.print("started \(unit.name); it restarts on failure and logs to " + (manager == .systemd ? "the journal: journalctl --user -u \(unit.name) -f" : "~/Library/Logs/\(unit.name).log"))
            if manager == .systemd { console.print("on a machine where nobody is logged in, keep it running after logout: loginctl enable-linger $USER") }
            return 0
        case "uninstall":
            guard (try? FileSystem.status(file)) ?? nil != nil else {
                console.print("no service for \(context.vault.root) is installed (\(file) does not exist)")
                return 0
            }
            for command in stopArgv(manager, unit: unit, file: file) {
                if let failure = runTool(command, environment: context.environment) {
                    console.error("warning: '\(command.joined(separator: " "))' failed: \(failure)")
                }
            }
            do { try FileSystem.remove(file) } catch { throw CLIError.failure("cannot remove \(file): \(error)") }
            if manager == .systemd { _ = runTool(["systemctl", "--user", "daemon-reload"], environment: context.environment) }
            console.print("removed \(file)")
            return 0
        case "status":
            let installed = (try? FileSystem.status(file)) ?? nil != nil
            let watcher = WatcherHeartbeat.liveness(of: context.vault)
            if context.json {
                var running = false
                if case .running = watcher { running = true }
                console.print(JSON.object([("name", .string(unit.name)), ("file", .string(file)), ("installed", .bool(installed)), ("watcher_running", .bool(running))]).compact)
            } else {
                console.print("service: \(unit.name) " + (installed ? "installed (\(file))" : "not installed (run 'fuckbigtech service install')"))
                console.print("watcher: " + WatcherHeartbeat.describe(watcher))
            }
            return 0
        default:
            preconditionFailure("CommandSpec.check admits only the declared actions")
        }
    }

    static func startArgv(_ manager: ServiceUnit.Manager, unit: ServiceUnit, file: String) -> [[String]] {
        switch manager {
        case .systemd: return [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", unit.name + ".service"]]
        case .launchd: return [["launchctl", "load", "-w", file]]
        }
    }

    static func stopArgv(_ manager: ServiceUnit.Manager, unit: ServiceUnit, file: String) -> [[String]] {
        switch manager {
        case .systemd: return [["systemctl", "--user", "disable", "--now", unit.name + ".service"]]
        case .launchd: return [["launchctl", "unload", "-w", file]]
        }
    }

    static func startCommands(_ manager: ServiceUnit.Manager, unit: ServiceUnit, file: String) -> [String] {
        startArgv(manager, unit: unit, file: file).map { $0.joined(separator: " ") }
    }

    /// Runs a service-manager command; `nil` when it succeeded, else why not, in one line.
    static func runTool(_ argv: [String], environment: [String: String]) -> String? {
        do {
            let executable = try Spawn.resolveExecutable(argv[0], searchPath: environment["PATH"] ?? "/usr/bin:/bin")
            let result = try Spawn.run(Spawn.Options(executable: executable, arguments: Array(argv.dropFirst()), environment: environment, timeout: 30))
            if result.exitCode == 0 { return nil }
            let said = String(decoding: result.stderrTail, as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            return "exit \(result.exitCode.map(String.init) ?? "by a signal")" + (said.isEmpty ? "" : ": \(said)")
        } catch {
            return String(describing: error)
        }
    }
}

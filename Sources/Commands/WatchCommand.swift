import AgentOS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum WatchCommand {
    static let spec = CommandSpec(
        name: "watch",
        summary: "watch the vault: index every change, run task and handoff notes",
        forms: [CommandForm(max: 0)],
        options: [
            .option("--poll", "SECONDS", "poll for changes every SECONDS instead of using inotify"),
            .option("--debounce", "MS", "wait MS milliseconds for a write still open (no close yet) to settle (default 20); a closed or renamed-in write is taken at once"),
            .option("--machine", "NAME", "this machine's name (default: FBT_MACHINE, else the host name); see Rules/Machines/"),
        ],
        description: """
        Creates the vault from the template if it does not exist yet, catches up with everything that
        changed while no watcher ran, then follows changes with inotify (or polling with --poll).
        Task notes in Tasks/ (or typed task) move new → routed → running → done|failed; results land in
        Results/, telemetry in Telemetry/ and Daily/. With several machines on one synced vault, each
        runs only the lanes its Rules/Machines/<name>.md note serves and writes
        Telemetry/Machines/<name>.md for 'status' (docs/sync.md). Ctrl-C stops cleanly (running agents get a few
        seconds to finish); a second Ctrl-C stops at once.
        """,
        vaultUse: .createsDefault,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        var options = Daemon.Options()
        if let poll = context.arguments.value("--poll") {
            guard let seconds = Double(poll), seconds > 0, seconds <= 3_600 else { throw CLIError.usage("--poll expects seconds (more than 0, at most 3600), got '\(poll)'") }
            options.pollInterval = seconds
        }
        if let debounce = context.arguments.value("--debounce") {
            guard let ms = Double(debounce), ms >= 0, ms <= 60_000 else { throw CLIError.usage("--debounce expects milliseconds (0 to 60000), got '\(debounce)'") }
            options.debounce = ms / 1000
        }
        if let machine = context.arguments.value("--machine") {
            if let why = Machine.invalidNameReason(machine) { throw CLIError.usage("--machine: '\(machine)' \(why)") }
            options.machine = machine
        }
        if (try? FileSystem.status(context.vault.root)) ?? nil == nil || (try? FileSystem.status(context.vault.stateDirectory)) ?? nil == nil {
            context.console.print("No vault at \(context.vault.root) yet: creating it from the template.")
            let report = try VaultInit.run(vault: context.vault, withMemory: true)
            context.console.print("Created \(report.createdFolders.count) folders and \(report.createdFiles.count) notes; open \(context.vault.root) in Obsidian to follow along.")
            for warning in report.warnings { context.console.error("warning: \(warning)") }
            if let line = InitCommand.adoptedLine(report.adoptedWork) { context.console.error("warning: \(line)") }
        }
        // A vault another command made `.agentos/` in (`search`, `status`) is adopted here all the same.
        else if let adopted = try AdoptedNotes.adoptIfNew(vault: context.vault), let line = InitCommand.adoptedLine(adopted) {
            context.console.error("warning: \(line)")
        }
        // The watcher runs for days on a thread per run: one arena per core is enough.
        ProcessMemory.limitArenas(to: ProcessInfo.processInfo.activeProcessorCount)
        let daemon = Daemon(vault: context.vault, options: options, log: logLine(context.console))
        let signals = SignalStopper(daemon: daemon, console: context.console)
        defer { withExtendedLifetime(signals) {} }
        return try daemon.run()
    }

    /// Prints each watcher event as one timestamped line: information and warnings on stdout,
    /// errors on stderr.
    static func logLine(_ console: Console) -> @Sendable (EngineEvent) -> Void {
        { event in
            let stamp = LocalTime.time(Date())
            // File names may hold newlines and escape sequences: one event is always one log line.
            let message = EngineEvent.printable(event.message)
            switch event.level {
            case .info: console.print("\(stamp) \(message)")
            case .warning: console.print("\(stamp) " + console.color("warning: ", .yellow) + message)
            case .error: console.error("\(stamp) " + console.color("error: ", .red) + message)
            }
        }
    }
}

/// Turns SIGINT, SIGTERM, SIGHUP (the terminal closed: round 158) and SIGQUIT into a clean stop; a
/// second signal exits at once.
final class SignalStopper: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let count = Locked(0)

    init(daemon: Daemon, console: Console) {
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                let n = count.withLock { $0 += 1; return $0 }
                if n == 1 {
                    daemon.stop()
                } else {
                    console.error("stopping at once")
                    // The agents it started stop too; the next start recovers their runs.
                    Spawn.stopAllAtOnce()
                    exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}

import AgentOS

/// `fuckbigtech doctor [--json]`: checks the vault, the rules and the machine, with a fix for each problem.
enum DoctorCommand {
    /// The command's name, help and options.
    static let spec = CommandSpec(
        name: "doctor",
        summary: "check the vault, the rule notes and the machine, and say how to fix what is wrong",
        forms: [CommandForm(max: 0)],
        options: [.json("print the findings as JSON")],
        description: """
        Checks, each reported as ok, warn or fail with a one-line finding and a fix:
          vault      the vault exists and has the layout init creates
          state      .agentos/ (machine state) is a writable folder
          rules      every note in Rules/ parses; agent, rule and guardrails notes are complete
          index      the index database opens, has this build's schema version and matches the notes
          watcher    a watcher serves the vault (a failure when notes wait to run and none does)
          inotify    the kernel allows more inotify watches than the vault has folders
          agent-cli  claude, codex, opencode, hermes, openclaw, ollama, llm and qmd on PATH, with versions
          ollama     the Ollama server answers on localhost:11434
          lanes      one line per lane and one for the browser; a failure when work is routed to an
                     agent that cannot run here (its tasks would wait in review)
          harness    Claude Code, Codex and OpenCode: the MCP server registered, skills in sync
          skills     an invalid skill in Skills/ (a warning)
          disk       free space on the vault's disk

        Missing agent CLIs and a missing Ollama server are warnings, not failures.
        Exit status: 0 when nothing failed, 1 otherwise.
        """,
        run: run
    )

    /// Runs every check and prints the findings.
    static func run(_ context: CommandContext) throws -> Int32 {
        try CommandContext.refuseOffMachine("doctor", context)
        let report = Doctor.run(DoctorContext(vault: context.vault, environment: context.environment))
        let console = context.console
        if context.json {
            console.print(report.json.pretty)
            return report.exitCode
        }
        let width = (report.findings.map(\.check.count).max() ?? 6) + 2
        for finding in report.findings {
            let status: String
            switch finding.status {
            case .ok: status = console.color("ok  ", .green)
            case .warn: status = console.color("warn", .yellow)
            case .fail: status = console.color("fail", .red)
            }
            console.print(status + "  " + finding.check.padding(toLength: width, withPad: " ", startingAt: 0) + finding.finding)
            if let fix = finding.fix, finding.status != .ok {
                console.print(String(repeating: " ", count: 6 + width) + console.color("fix: " + fix, .dim))
            }
        }
        console.print("")
        console.print("doctor: \(report.count(.ok)) ok, \(report.count(.warn)) warn, \(report.count(.fail)) fail (vault \(report.vault.root))")
        if report.hasFailures {
            let failed = report.count(.fail)
            console.error("fuckbigtech doctor: \(failed) \(failed == 1 ? "check" : "checks") failed; see the fixes above")
        }
        return report.exitCode
    }
}

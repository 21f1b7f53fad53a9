import AgentOS
import Foundation

/// `memory-test quick|full [--json]`: checks memory, retrieval, routing and handoffs on a scratch
/// copy of the vault and compares with the last run.
enum MemoryTestCommand {
    /// The command's name, help and options.
    static let spec = CommandSpec(
        name: "memory-test",
        summary: "check index, retrieval, routing and handoffs on a scratch copy; compare with the last run",
        forms: [CommandForm(["quick", "full"], max: 0)],
        options: [
            .option("--seed", "N", "seed of the note sample (default 20261126)"),
            .flag("--reset-baseline", "save this run's figures as the baseline even if they are worse"),
            .flag("--keep", "keep the scratch copy and print its path"),
            .json("the report as JSON"),
        ],
        description: """
        Copies the vault's notes to a temporary folder, indexes the copy, and measures:
          index           every note has an index row with its content hash; the vault's own index
                          is present and readable (drift since the last index is a warning)
          skills          each Skills/<name>/SKILL.md is valid (else a failure); the harness folders
                          link them (else a warning)
          retrieval       known-item queries made from the notes (titles, unique headings, the rarest
                          words of a sentence): recall@5 and MRR per kind; search latency p50/p95
          task retrieval  tasks in plain words (the rows of type: memory-cases notes in Rules/, and
                          generated ones) retrieved for as a context packet does: hit@3 and MRR
          engines         with qmd set in Rules/Guardrails.md and on PATH: the same cases asked of
                          our index, of qmd and of both merged (skipped otherwise)
          routing         every case of the Rules/ cases note (type: rule-cases) gets its lane
          handoff         a handoff note with a context link runs through the echo agent; the result
                          links back to the handoff and the task and lists the context note in sources
        quick samples 100 notes (seconds on a 2,000-note vault); full uses every note.

        Writes a report note to Telemetry/ and compares with the previous run's figures
        (.agentos/memory-test-baseline.json). Worse means: recall@5 down more than 2 points, MRR
        down more than 0.02, or p95 latency over twice the baseline and over 5 ms. A worse run
        does not replace the baseline. Exit 0 when everything held, 1 when a check failed or a
        figure got worse (each named), 64 on a usage error. The vault itself is never changed
        otherwise.
        """,
        run: run
    )

    /// Runs the memory test and prints the report.
    static func run(_ context: CommandContext) throws -> Int32 {
        try CommandContext.refuseOffMachine("memory-test", context)
        let words = context.arguments.positionals
        // An action: `CommandSpec.check` made sure it is quick or full.
        guard let mode = MemoryTestMode(rawValue: words[0]) else { preconditionFailure("CommandSpec.check admits only the declared actions") }
        var options = MemoryTest.Options()
        if let seed = context.arguments.value("--seed") {
            guard let value = UInt64(seed) else { throw CLIError.usage("--seed expects a whole number") }
            options.seed = value
        }
        options.resetsBaseline = context.arguments.has("--reset-baseline")
        options.keepsCopy = context.arguments.has("--keep")
        options.skillFolders = SkillFolder.standard(environment: context.environment)
        let console = context.console
        // A library error exits 1 with its one-line description (printing it clears the progress line).
        let report = try MemoryTest.run(vault: context.vault, mode: mode, options: options) { line in
            if line.hasPrefix("kept ") { console.error(line) } else { console.progress(line) }
        }
        console.clearProgress()
        if context.json {
            console.print(report.json.pretty)
        } else {
            console.print(report.table)
        }
        if !report.passed {
            // The report goes to stdout for tools; the reason also goes to stderr, in one line.
            console.error("fuckbigtech memory-test: \(report.failures.first ?? "failed")")
        }
        return report.passed ? 0 : 1
    }
}

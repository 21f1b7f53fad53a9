import AgentOS
import Foundation

/// `fuckbigtech bench`: measures the OS on a generated vault or on a copy of a real one.
enum BenchCommand {
    static let spec = CommandSpec(
        name: "bench",
        summary: "measure indexing, search and updates on a generated or copied vault",
        forms: [CommandForm(max: 0)],
        options: [
            .option("--notes", "N", "notes to generate (default 20000; ignored with --vault)"),
            .option("--vault", "PATH", "benchmark a copy of this vault instead"),
            .option("--runs", "R", "full-index runs to take the median of (default 3)"),
            .option("--sections", "LIST", "sections to run, comma-separated: index, retrieval, watch (default all)"),
            .option("--cases", "FILE", "retrieval cases (split<TAB>task text<TAB>Note.md per line; default: 100 made from the vault)"),
            .option("--only", "LIST", "the same as --sections"),
            .option("--burst", "N", "task notes in the watch section's burst (default 1000)"),
            .flag("--keep", "keep the temporary vault and print its path"),
            .json("print the figures as JSON"),
        ],
        description: """
        Generates a vault of N notes (default 20,000: frontmatter, headings, links, some German,
        French, Russian, Japanese, Chinese and Korean) in a temporary folder, or copies the vault
        given with --vault there first (the original is never touched), and reports: full index
        time and notes/s, re-scan time with nothing changed, search p50/p95 per query shape (rare
        word, common word, two words, phrase, prefix, title) in-process and as a whole command,
        single-note update time, the title-first rate (per top-level folder for a real vault),
        database size and peak memory. Each index figure stands next to a baseline from the same run,
        with the ratio: the full index next to walking and reading every note, each search shape next
        to a plain FTS5 table (title + text, unicode61, bm25), the whole command next to
        'rg -l -i -F' on the same vault (when rg is on PATH). The retrieval section turns each case (a task in plain words
        and the note that answers it) into a task note, builds its context packet, and reports
        packet hit@3 (the answer among the first three memory pieces) next to a plain FTS5 porter
        bm25 table built in the same run, and packet build p50/p95, then lists the cases the packet missed
        (with the notes it took instead) under the table. The watch section starts the real 'fuckbigtech watch' on the
        vault, with inotify and with polling, and reports write→pick-up and saved→searchable latency,
        a burst of task notes through the echo agent (tasks/s, each done exactly once) and the
        watcher's peak memory. Build with 'swift build -c release' for real figures.
        """,
        vaultUse: .none,
        run: run
    )

    static func run(_ context: CommandContext) throws -> Int32 {
        try CommandContext.refuseOffMachine("bench", context)
        let console = context.console
        let notes = try context.arguments.int("--notes", default: 20_000)
        let runs = try context.arguments.int("--runs", default: 3)
        guard notes > 0, runs > 0 else { throw CLIError.usage("--notes and --runs expect positive numbers") }
        let sections = try selectedSections(context)
        let temp = NSTemporaryDirectory() + "fuckbigtech-bench-\(getpid())-\(Int(Date().timeIntervalSince1970))"
        let root = temp + "/vault"
        let source = context.arguments.value("--vault")
        defer {
            if context.arguments.has("--keep") {
                console.error("kept the bench vault at \(root)")
            } else {
                try? FileManager.default.removeItem(atPath: temp)
            }
        }
        let count: Int
        if let source {
            let original = Vault(root: source)
            guard let status = try? FileSystem.status(original.root), status.kind == .directory else {
                throw CLIError.failure("no folder at \(original.root) to benchmark")
            }
            console.progress("copying \(original.root)")
            try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: original.root, toPath: root)
            // The copy must start without the original's index.
            try? FileManager.default.removeItem(atPath: root + "/" + Vault.Layout.state)
            count = VaultWalker.walk(Vault(root: root)).files.count
        } else {
            console.progress("generating \(notes) notes")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            count = try VaultGenerator.generate(count: notes, into: root).notes
        }
        let benchContext = BenchContext(vault: Vault(root: root), noteCount: count, isRealVault: source != nil, executablePath: context.executablePath, runs: runs, progress: { console.progress($0) })
        var figures: [BenchFigure] = []
        for section in sections {
            figures += try section.run(benchContext)
        }
        console.clearProgress()
        let label = source.map { "copy of \(Vault(root: $0).root)" } ?? "generated"
        if context.json {
            console.print(Bench.json(figures, vault: label, notes: count).pretty)
        } else {
            console.print("bench: \(count) notes (\(label))")
            console.print(Bench.table(figures))
        }
        return 0
    }

    /// `Bench.sections`, narrowed by `--sections`/`--only` and with `--burst` applied.
    static func selectedSections(_ context: CommandContext) throws -> [BenchSection] {
        var sections = Bench.sections
        if let burst = context.arguments.value("--burst") {
            guard let n = Int(burst), n > 0, n <= 1_000_000 else { throw CLIError.usage("--burst expects a number of tasks from 1 to 1000000, got '\(burst)'") }
            sections = sections.map { section in
                guard var watch = section as? WatchBenchSection else { return section }
                watch.burst = n
                return watch
            }
        }
        if let file = context.arguments.value("--cases") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError.failure("cannot read the retrieval cases at \(file)") }
            let cases = try RetrievalCase.parse(text)
            sections = sections.map { section in
                guard section is RetrievalBenchSection else { return section }
                return RetrievalBenchSection(cases: cases)
            }
        }
        guard let list = context.arguments.value("--sections") ?? context.arguments.value("--only") else { return sections }
        let names = list.split(separator: ",").map { $0.trimmingWhitespaces() }.filter { !$0.isEmpty }
        let known = sections.map(\.name)
        if let unknown = names.first(where: { !known.contains($0) }) {
            throw CLIError.usage("no bench section '\(unknown)'; there are: \(known.joined(separator: ", "))")
        }
        return sections.filter { names.contains($0.name) }
    }
}

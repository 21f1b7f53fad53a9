import Foundation

/// `memory-test`: whether memory, retrieval, routing and handoffs still work as well as last time.
///
/// Everything runs on a scratch copy of the vault's notes with a fresh index. The real vault is only
/// read — its index through `IndexHealth` — and gets exactly two writes at the end: the report note
/// (`Telemetry/memory-test DATE TIME.md`) and the baseline (`.agentos/memory-test-baseline.json`).
public enum MemoryTest {
    /// What a run should do besides measuring.
    public struct Options: Sendable {
        /// Seeds the note sample and every random choice (same vault + same seed = same queries).
        public var seed: UInt64 = 20_261_126
        /// Write the report note into the vault's `Telemetry/`.
        public var writesReportNote = true
        /// Read, compare and update the baseline file.
        public var usesBaseline = true
        /// Replace the baseline with this run's figures even if they are worse.
        public var resetsBaseline = false
        /// Keep the scratch copy (its path goes to `progress`).
        public var keepsCopy = false
        /// The harness folders the vault's skills should be linked into (`SkillFolder.standard`);
        /// empty: only the skills' validity is checked.
        public var skillFolders: [SkillFolder] = []

        /// The defaults: seeded, report note and baseline on.
        public init() {}
    }

    /// Runs the memory test on `vault`. `progress` gets short status lines.
    public static func run(vault: Vault, mode: MemoryTestMode, options: Options = Options(), progress: (String) -> Void = { _ in }) throws -> MemoryTestReport {
        let clock = ContinuousClock()
        let started = clock.now
        let startDate = Date()
        guard let status = try? FileSystem.status(vault.root), status.kind == .directory else { throw MemoryTestError.noVault(vault.root) }
        // Read before anything is written, so a bad baseline file stops the run early.
        let baselinePath = MemoryTestBaseline.path(for: vault)
        var baseline = options.usesBaseline ? try MemoryTestBaseline.load(path: baselinePath) : MemoryTestBaseline()

        progress("checking the vault's index")
        let vaultIndexCheck = IndexIntegrity.checkVault(vault)

        progress("copying the notes to a scratch folder")
        var phases: [(name: String, seconds: Double)] = []
        var phaseStart = clock.now
        func endPhase(_ name: String) {
            phases.append((name, seconds(clock.now - phaseStart)))
            phaseStart = clock.now
        }
        let scratch = try ScratchVault.copy(of: vault)
        endPhase("copy")
        // Nothing to measure is a failure, not a pass: an empty vault says nothing about memory.
        if scratch.notes == 0 {
            scratch.remove()
            throw MemoryTestError.empty(vault.root)
        }
        defer {
            if options.keepsCopy { progress("kept the scratch copy at \(scratch.vault.root)") } else { scratch.remove() }
        }
        var report = MemoryTestReport(mode: mode, vaultRoot: vault.root, notes: scratch.notes)

        progress("indexing \(scratch.notes) notes")
        let index = try MemoryIndex(vault: scratch.vault)
        let summary = try index.reconcile()
        report.checks.append(try IndexIntegrity.checkCopy(index: index, summary: summary, originalNotes: scratch.notes))
        report.checks.append(vaultIndexCheck)
        report.checks.append(SkillCheck.check(vault: vault, folders: options.skillFolders))
        endPhase("index")

        progress("making known-item queries")
        let queries = try KnownItemQueries.make(index: index, seed: options.seed, sampleSize: mode.sampleSize)
        progress("running \(queries.count) queries")
        let evaluation = KnownItemQueries.evaluate(queries, index: index)
        report.retrieval = evaluation.figures
        report.misses = Array(evaluation.misses.prefix(20))
        report.latencySamples = evaluation.milliseconds.count
        report.latencyP50 = BenchClock.percentile(evaluation.milliseconds, 0.5)
        report.latencyP95 = BenchClock.percentile(evaluation.milliseconds, 0.95)
        endPhase("queries")

        progress("retrieving for the task cases")
        let taskCases = TaskRetrievalCases.load(vault: scratch.vault)
        let generated = try TaskRetrievalCases.generate(index: index, seed: options.seed, sampleSize: mode.sampleSize,
                                                      excludedFolders: RuleBook.load(vault: scratch.vault).guardrails.memoryExclude)
        let taskFigures = TaskRetrievalCases.evaluate(taskCases.cases + generated, vault: scratch.vault, index: index)
        report.taskRetrieval = taskFigures
        report.checks.append(TaskRetrievalCases.check(taskFigures, problems: taskCases.problems, notes: taskCases.notes))
        report.checks.append(QMDComparison.check(cases: taskCases.cases + generated, vault: scratch.vault, index: index))
        endPhase("task retrieval")

        progress("routing the rule cases")
        report.checks.append(RoutingCases.check(vault: scratch.vault))
        endPhase("routing")

        progress("handoff round trip through the echo agent")
        let context = queries.first { isPlainMemory($0.target) }?.target
        report.checks.append(HandoffProbe.check(vault: scratch.vault, contextNote: context, seed: options.seed))
        endPhase("handoff")
        report.phases = phases

        // The baseline: compare, then keep this run's figures unless they are worse.
        let current = report.figures
        if options.usesBaseline {
            if options.resetsBaseline {
                report.baselineStatus = "reset"
            } else if let previous = baseline.entries[mode.rawValue] {
                report.baselineTime = previous.time
                report.baselineFigures = previous.figures
                report.degradations = MemoryTestBaseline.degradations(current: current, baseline: previous.figures)
                report.baselineStatus = report.degradations.isEmpty ? "compared" : "kept"
            }
            if report.degradations.isEmpty {
                baseline.entries[mode.rawValue] = MemoryTestBaseline.Entry(time: LocalTime.dateTime(startDate), notes: scratch.notes, figures: current)
            }
        }
        report.seconds = seconds(clock.now - started)

        if options.writesReportNote {
            report.reportNotePath = try writeReportNote(report, vault: vault, date: startDate)
        }
        if options.usesBaseline && report.degradations.isEmpty {
            try baseline.save(path: baselinePath)
        }
        return report
    }

    /// Notes whose text is the user's memory (not the OS's own bookkeeping), for the packet probe.
    static func isPlainMemory(_ path: String) -> Bool {
        let machinery = [Vault.Layout.tasks, Vault.Layout.handoffs, Vault.Layout.results, Vault.Layout.telemetry, Vault.Layout.rules, Vault.Layout.privateFolder, Vault.Layout.templates, Vault.Layout.skills]
        return !machinery.contains { path.hasPrefix($0 + "/") }
    }

    /// Writes `Telemetry/memory-test YYYY-MM-DD HHMMSS.md` (a suffix when that name is taken).
    static func writeReportNote(_ report: MemoryTestReport, vault: Vault, date: Date) throws -> String {
        let stamp = LocalTime.dateTime(date).replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: ":", with: "")
        let store = NoteStore(vault: vault)
        for attempt in 1...20 {
            let path = Vault.Layout.telemetry + "/memory-test \(stamp)" + (attempt == 1 ? "" : " \(attempt)") + ".md"
            var withPath = report
            withPath.reportNotePath = path
            do {
                _ = try store.create(withPath.noteText(date: date), at: path)
                return path
            } catch {
                if (try? store.readIfPresent(path)) ?? nil != nil { continue }
                throw error
            }
        }
        throw MemoryTestError.report("no free name for the report note in \(Vault.Layout.telemetry)/")
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

@Suite struct WatchBenchTests {
    @Test func percentilesUseTheNearestRank() {
        let samples = (1...100).map(Double.init).shuffled()
        #expect(BenchClock.percentile(samples, 0.5) == 50)
        #expect(BenchClock.percentile(samples, 0.99) == 99)
        #expect(BenchClock.percentile(samples, 1) == 100)
        #expect(BenchClock.percentile(samples, 0) == 1)
        // With fewer than 100 samples the 99th percentile is the largest one.
        let ten = [7.0, 1, 9, 3, 5, 2, 8, 4, 6, 10]
        #expect(BenchClock.percentile(ten, 0.5) == 5)
        #expect(BenchClock.percentile(ten, 0.99) == 10)
        #expect(BenchClock.percentile([4.5], 0.5) == 4.5)
        #expect(BenchClock.percentile([], 0.5).isNaN)
    }

    @Test func latencySummaryOfSamples() {
        let summary = LatencySummary([3, 1, 2, 100])
        #expect(summary.count == 4 && summary.p50 == 2 && summary.p99 == 100 && summary.max == 100)
        let empty = LatencySummary([])
        #expect(empty.count == 0)
        #expect(empty.p50.isNaN && empty.p99.isNaN && empty.max.isNaN)
    }

    @Test func sectionsAreChosenByName() throws {
        func sections(_ arguments: [String]) throws -> [String] {
            let parsed = try ParsedArguments.parse(arguments, flags: ["--keep", "--json"], options: ["--notes", "--runs", "--sections", "--only", "--burst", "--vault", "--cases"], aliases: [:])
            let context = CommandContext(arguments: parsed, vault: Vault(root: "/nonexistent"), console: Console.capturing().0, environment: [:], executablePath: "/nonexistent")
            return try BenchCommand.selectedSections(context).map(\.name)
        }
        #expect(try sections([]) == ["index", "retrieval", "watch"])
        #expect(try sections(["--sections", "watch"]) == ["watch"])
        #expect(try sections(["--only", "index,watch"]) == ["index", "watch"])
        #expect(throws: CLIError.self) { try sections(["--sections", "nope"]) }
        #expect(throws: CLIError.self) { try sections(["--burst", "0"]) }
    }

    @Test func withoutTheBinaryTheSectionSaysItSkipped() throws {
        let context = BenchContext(vault: Vault(root: "/nonexistent"), noteCount: 0, isRealVault: false, executablePath: "/nonexistent/fuckbigtech", runs: 1, progress: { _ in })
        let figures = try WatchBenchSection(burst: 1, samples: 1).run(context)
        #expect(figures.map(\.name) == ["skipped"])
        #expect(figures[0].note?.contains("/nonexistent/fuckbigtech") == true)
    }

    /// Runs the watch section on a tiny generated vault with the real binary: every figure is there,
    /// the latencies are positive and finite, and every burst task ran exactly once.
    @Test(.timeLimit(.minutes(5))) func watchSectionOnATinyVault() throws {
        let binary = try BuiltBinary.path()
        let root = TemporaryFolder.make("fbt-watch-bench")
        defer { TemporaryFolder.remove(root) }
        let notes = try VaultGenerator.generate(count: 50, into: root).notes
        let context = BenchContext(vault: Vault(root: root), noteCount: notes, isRealVault: false, executablePath: binary, runs: 1, progress: { _ in })
        let figures = try WatchBenchSection(burst: 20, samples: 5).run(context)
        let byName = Dictionary(figures.map { ($0.section + "/" + $0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for mode in ["inotify", "poll"] {
            for name in ["startup", "pickup_p50", "pickup_p99", "searchable_p50", "searchable_p99", "burst_rate", "burst_pickup_p99", "rss_after_startup", "rss_after_burst"] {
                let figure = try #require(byName["watch:\(mode)/\(name)"], "missing \(mode) \(name)")
                #expect(figure.value.isFinite && figure.value > 0, "\(mode) \(name) = \(figure.value)")
            }
            #expect(byName["watch:\(mode)/burst_exactly_once"]?.value == 20, "\(byName["watch:\(mode)/burst_exactly_once"]?.note ?? "")")
            let p50 = byName["watch:\(mode)/pickup_p50"]!.value
            #expect(byName["watch:\(mode)/pickup_p99"]!.value >= p50)
            #expect(byName["watch:\(mode)/rss_after_burst"]!.value >= byName["watch:\(mode)/rss_after_startup"]!.value)
        }
        // The machine's load and the baselines first, then side by side: inotify's figure, then
        // polling's, for each measure.
        #expect(figures.prefix(5).map(\.name) == ["load_average", "baseline_spawn_true", "baseline_write_rename", "baseline_durable_write_rename", "baseline_watcher_empty_vault_rss"])
        for baseline in figures.dropFirst().prefix(4) { #expect(baseline.value.isFinite && baseline.value > 0, "\(baseline.name) = \(baseline.value)") }
        #expect(figures.dropFirst(5).prefix(2).map(\.section) == ["watch:inotify", "watch:poll"])
        // Figures bounded by a plain operation carry it, measured in this run, and the ratio to it.
        for name in ["burst_rate", "agent_run_p50", "claim_to_running_p50", "burst_ms_per_task", "rss_after_startup", "rss_after_burst", "rescan_unchanged"] {
            let figure = try #require(byName["watch:inotify/\(name)"])
            #expect(figure.baseline != nil && figure.ratio.map { $0.isFinite && $0 > 0 } == true, "\(name): \(String(describing: figure.baseline)) ratio \(String(describing: figure.ratio))")
        }
        #expect(Bench.table(figures).contains("/bin/true spawn"))
        // Generated tasks that said `status: new` were settled, so no run but the bench's happened.
        let runs = try Database(path: root + "/.agentos/runs.sqlite", readOnly: true)
        #expect(try runs.scalarInt("SELECT count(*) FROM runs WHERE task_path NOT LIKE 'Tasks/Bench %'") == 0)
        #expect(try runs.scalarInt("SELECT count(*) FROM runs") == 2 * (5 + 20))
    }
}

import Foundation

/// Percentiles of a set of latency samples, as the watcher bench reports them.
public struct LatencySummary: Sendable, Equatable {
    /// Number of samples.
    public var count: Int
    /// Median (nearest rank).
    public var p50: Double
    /// 99th percentile (nearest rank; with fewer than 100 samples this is the maximum).
    public var p99: Double
    /// The largest sample.
    public var max: Double

    /// Summarises `samples`; every figure is NaN when there are none.
    public init(_ samples: [Double]) {
        count = samples.count
        p50 = BenchClock.percentile(samples, 0.5)
        p99 = BenchClock.percentile(samples, 0.99)
        max = samples.max() ?? .nan
    }
}

/// The watcher's figures, measured on the real `fuckbigtech watch` process, once with inotify and once
/// with polling, side by side:
///
/// - start-up (spawn to "watching", with a full index reconcile of the vault) and peak RSS after it;
/// - write → pick-up: a task note is written (and closed), and the pick-up time is the run store's
///   claim time (`runs.created_at`, stamped by the watcher) minus the write time (a closed write is
///   not debounced, so nothing is subtracted); one task at a time on an idle watcher;
/// - saved → searchable: a unique word is appended to a note, and the read-only index is polled until
///   a search finds it (the debounce is included: it is what a person waits);
/// - a burst of task notes written at once through the `echo` agent (lane local): tasks/s from the first
///   write until the last run finished, and a check that every task ran exactly once (one run in the
///   run store, one result note, task status `done`);
/// - peak RSS (`VmHWM`) after the burst;
/// - the re-scan with nothing changed, as the watcher runs it (`rescanUnchanged`);
/// - next to the figures they bound, baselines measured in the same run (`BenchBaselines`): `/bin/true`
///   spawns, plain and durable write+rename loops, the same watcher's peak RSS on an empty vault, an
///   `lstat` of every note, with the ratio.
public struct WatchBenchSection: BenchSection {
    public var name: String { "watch" }

    /// Task notes in the burst.
    public var burst: Int
    /// Pick-up and searchable samples per watcher kind.
    public var samples: Int
    /// The polling watcher's interval in seconds (`watch --poll`).
    public var pollInterval: Double
    /// The inotify watcher's debounce in milliseconds (`watch --debounce`).
    public var debounceMS: Double

    /// The default figures: a burst of 1,000 tasks, 100 samples each, polling every 0.1 s, 20 ms debounce.
    public init(burst: Int = 1000, samples: Int = 100, pollInterval: Double = 0.1, debounceMS: Double = 20) {
        self.burst = burst
        self.samples = samples
        self.pollInterval = pollInterval
        self.debounceMS = debounceMS
    }

    /// A watcher kind the section measures.
    struct Mode {
        var label: String
        var arguments: [String]
    }

    public func run(_ context: BenchContext) throws -> [BenchFigure] {
        // The figures are about the whole watcher process; without the binary (a library caller
        // such as a test) there is nothing to measure, which the report says instead of failing.
        guard FileManager.default.isExecutableFile(atPath: context.executablePath) else {
            return [BenchFigure(section: name, name: "skipped", value: .nan, unit: "", note: "no fuckbigtech binary at \(context.executablePath)")]
        }
        try WatchBenchVault.prepare(context.vault)
        // Latency outliers mean little without knowing how busy the machine was.
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).flatMap { $0.split(separator: " ").first.flatMap { Double($0) } } ?? .nan
        let machine = BenchFigure(section: "watch", name: "load_average", value: load, unit: "", note: "1-minute load before the watch section, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        // A closed write is not debounced (only a write still open is), so nothing is subtracted.
        let modes = [
            Mode(label: "inotify", arguments: ["--debounce", Bench.format(debounceMS)], ),
            Mode(label: "poll", arguments: ["--poll", String(pollInterval)]),
        ]
        context.progress("watch: baselines (/bin/true spawns, plain and durable write+rename)")
        let baselines = try BenchBaselines.measure(in: context.vault.stateDirectory + "/bench-baselines", samples: 2 * samples)
        context.progress("watch: baseline (the watcher on a new, empty vault)")
        let emptyWatcher = try emptyVaultWatcherPeakMB(context)
        var perMode: [[BenchFigure]] = []
        for mode in modes {
            perMode.append(try measure(mode, context, baselines: baselines, emptyWatcherMB: emptyWatcher))
        }
        // Side by side: each measure for inotify, then for polling.
        var figures: [BenchFigure] = [
            machine,
            BenchFigure(section: "watch", name: "baseline_spawn_true", value: baselines.spawn.p50, unit: "ms", note: "/bin/true started and waited for, p50 of \(baselines.spawn.count); \(Bench.format(baselines.spawnsPerSecond)) per second one at a time"),
            BenchFigure(section: "watch", name: "baseline_write_rename", value: baselines.writeRename.p50, unit: "ms", note: "temp file written, renamed over a note, no fsync; p50 of \(baselines.writeRename.count)"),
            BenchFigure(section: "watch", name: "baseline_durable_write_rename", value: baselines.durableWriteRename.p50, unit: "ms", note: "the same with fsync of the file and of its folder (what NoteStore adds)"),
            BenchFigure(section: "watch", name: "baseline_watcher_empty_vault_rss", value: emptyWatcher, unit: "MB", note: "VmHWM of the same watcher on a new vault (init's notes only): the runtime's own floor"),
        ]
        for i in 0..<(perMode.map(\.count).max() ?? 0) {
            for list in perMode where i < list.count { figures.append(list[i]) }
        }
        return figures
    }

    /// `VmHWM` of `fuckbigtech watch` on a vault made by `init` and nothing else, once it is watching:
    /// what the process needs before any note of the bench's vault (Swift runtime, Foundation, SQLite).
    private func emptyVaultWatcherPeakMB(_ context: BenchContext) throws -> Double {
        // Inside the bench vault's state folder, which the bench's own watchers never look into.
        let root = context.vault.stateDirectory + "/bench-empty-vault"
        try? FileManager.default.removeItem(atPath: root)
        try FileSystem.makeDirectories(root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let empty = Vault(root: root)
        do { _ = try VaultInit.run(vault: empty) } catch { throw BenchError("the watch bench could not set up an empty vault: \(error)") }
        let watcher = try WatcherProcess(executable: context.executablePath, vault: empty, arguments: ["--debounce", Bench.format(debounceMS)])
        defer { watcher.stop() }
        _ = try watcher.waitUntilWatching(timeout: 60)
        return watcher.peakResidentMB()
    }

    private func measure(_ mode: Mode, _ context: BenchContext, baselines: BenchBaselines, emptyWatcherMB: Double) throws -> [BenchFigure] {
        let vault = context.vault
        let section = "watch:" + mode.label
        var figures: [BenchFigure] = []
        func add(_ name: String, _ value: Double, _ unit: String, target: String? = nil, meets: Bool? = nil, note: String? = nil, baseline: BenchBaseline? = nil) {
            figures.append(BenchFigure(section: section, name: name, value: value, unit: unit, target: target, meetsTarget: target == nil ? nil : meets, note: note, baseline: baseline))
        }
        let spawnTrue = BenchBaseline(name: "/bin/true spawn", value: baselines.spawn.p50)
        let durableWrite = BenchBaseline(name: "write+fsync+rename", value: baselines.durableWriteRename.p50)
        let plainWrite = BenchBaseline(name: "plain write+rename", value: baselines.writeRename.p50)
        // Each watcher starts from an empty index, so that start-up includes the full reconcile.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: vault.databasePath + suffix) }
        let pickupFolder = "Tasks/Bench pickup \(mode.label)"
        let burstFolder = "Tasks/Bench burst \(mode.label)"
        for folder in [pickupFolder, burstFolder] {
            try FileManager.default.createDirectory(atPath: vault.root + "/" + folder, withIntermediateDirectories: true)
        }

        context.progress("watch (\(mode.label)): starting the watcher on \(context.noteCount) notes")
        let watcher = try WatcherProcess(executable: context.executablePath, vault: vault, arguments: mode.arguments)
        defer { watcher.stop() }
        let startup = try watcher.waitUntilWatching(timeout: 600)
        let rssStartup = watcher.peakResidentMB()
        add("startup", startup, "s", note: "spawn → watching, full index")
        let emptyWatcher = BenchBaseline(name: "watcher, empty vault", value: emptyWatcherMB)
        add("rss_after_startup", rssStartup, "MB", target: "≤ 30 MB", meets: rssStartup <= 30, note: "VmHWM of the watcher", baseline: emptyWatcher)

        let runs = try RunStoreReader(vault: vault)

        // Write → pick-up, one task at a time on an idle watcher.
        var pickup: [Double] = []
        var claimToRunning: [Double] = []
        var runningToFinished: [Double] = []
        var missed = 0
        for i in 0..<samples {
            context.progress("watch (\(mode.label)): pick-up \(i + 1) of \(samples)")
            let path = pickupFolder + "/pickup-\(i).md"
            let written = try WatchBenchVault.writeTask(vault, path: path, prompt: "bench pick-up \(i)")
            guard let run = runs.waitForTerminalRun(taskPath: path, timeout: 10) else {
                missed += 1
                continue
            }
            pickup.append((run.createdAt - written) * 1000)
            if let started = run.startedAt {
                claimToRunning.append((started - run.createdAt) * 1000)
                if let finished = run.finishedAt { runningToFinished.append((finished - started) * 1000) }
            }
            // The watcher is another process: its telemetry writes for this run end with no signal to us.
            Thread.sleep(forTimeInterval: 0.03) // let the telemetry writes of this run settle
        }
        let pick = LatencySummary(pickup)
        let beyond = mode.label == "inotify" ? "debounce included; a closed write is not debounced" : "raw; polls every \(Bench.format(pollInterval * 1000)) ms"
        let missedNote = missed > 0 ? ", \(missed) not picked up in 10 s" : ""
        let isInotify = mode.label == "inotify"
        add("pickup_p50", pick.p50, "ms", target: isInotify ? "≤ 5 ms" : nil, meets: pick.p50 <= 5, note: "write→claim, \(beyond), n=\(pick.count)\(missedNote)")
        add("pickup_p99", pick.p99, "ms", target: isInotify ? "≤ 25 ms" : nil, meets: pick.p99 <= 25, note: "max \(Bench.format(pick.max)) ms")
        add("claim_to_running_p50", LatencySummary(claimToRunning).p50, "ms", note: "route, then route + status running in one durable write", baseline: durableWrite)
        add("agent_run_p50", LatencySummary(runningToFinished).p50, "ms", note: "spawn printf, read its output, result note, task done", baseline: spawnTrue)

        // Saved → searchable.
        var searchable: [Double] = []
        var notFound = 0
        if let reader = try MemoryIndex.openForReading(vault: vault) {
            let paths = try reader.database.query("SELECT path FROM notes WHERE path NOT LIKE 'Tasks/%' AND path NOT LIKE 'Rules/%' ORDER BY id LIMIT ? OFFSET ?", [.int(Int64(samples)), .int(mode.label == "poll" ? Int64(samples) : 0)]) { $0.text(0) }
            for (i, path) in paths.enumerated() {
                context.progress("watch (\(mode.label)): saved → searchable \(i + 1) of \(paths.count)")
                let marker = "zqwatch\(mode.label)\(i)x"
                let absolute = vault.root + "/" + path
                guard var data = FileManager.default.contents(atPath: absolute) else { continue }
                data.append(Data("\n\nSaved during the bench: \(marker)\n".utf8))
                try data.write(to: URL(fileURLWithPath: absolute))
                let written = Date().timeIntervalSince1970
                var found: Double?
                while Date().timeIntervalSince1970 - written < 5 {
                    if (try? reader.search(marker, limit: 1).first?.path) == path {
                        found = Date().timeIntervalSince1970
                        break
                    }
                    // Polling the watcher's index (another process) is what this figure measures.
                    usleep(500)
                }
                if let found { searchable.append((found - written) * 1000) } else { notFound += 1 }
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        let search = LatencySummary(searchable)
        let searchNote = (mode.label == "inotify" ? "debounce included" : "poll interval included") + ", n=\(search.count)" + (notFound > 0 ? ", \(notFound) not found in 5 s" : "")
        add("searchable_p50", search.p50, "ms", target: "≤ 50 ms", meets: search.p50 <= 50, note: searchNote)
        add("searchable_p99", search.p99, "ms", target: "≤ 50 ms", meets: search.p99 <= 50, note: "max \(Bench.format(search.max)) ms")

        // A burst of task notes written at once.
        context.progress("watch (\(mode.label)): burst of \(burst) tasks")
        let burstStart = Date().timeIntervalSince1970
        var burstPaths: [String] = []
        var burstWritten: [String: Double] = [:]
        for i in 0..<burst {
            let path = burstFolder + "/" + WatchBenchVault.burstName(mode.label, i) + ".md"
            burstWritten[path] = try WatchBenchVault.writeTask(vault, path: path, prompt: "bench burst \(i)")
            burstPaths.append(path)
        }
        let writeSeconds = Date().timeIntervalSince1970 - burstStart
        let finished = runs.waitForBurst(folder: burstFolder, count: burst, stallTimeout: 30) { done in
            context.progress("watch (\(mode.label)): burst \(done) of \(burst) finished")
        }
        // The watcher is another process: its last telemetry and index writes give no signal to us.
        Thread.sleep(forTimeInterval: 0.3)
        let check = try BurstCheck.verify(vault: vault, runs: runs, folder: burstFolder, paths: burstPaths, written: burstWritten)
        let lastFinish = check.lastFinished ?? Date().timeIntervalSince1970
        let rate = finished ? Double(burst) / (lastFinish - burstStart) : .nan
        add("burst_rate", rate, "tasks/s", target: "≥ 250 tasks/s", meets: rate >= 250, note: "\(burst) tasks, first write → last finish; writes took \(Bench.format(writeSeconds)) s",
            baseline: BenchBaseline(name: "/bin/true spawns/s one at a time", value: baselines.spawnsPerSecond))
        add("burst_ms_per_task", 1000 / rate, "ms", note: "wall time per task in the burst", baseline: plainWrite)
        add("burst_exactly_once", Double(check.exactlyOnce), "tasks", target: "= \(burst)", meets: check.exactlyOnce == burst, note: check.summary)
        let burstPickup = LatencySummary(check.pickup)
        add("burst_pickup_p99", burstPickup.p99, "ms", target: isInotify ? "≤ 50 ms" : nil, meets: burstPickup.p99 <= 50,
            note: "write→claim of each burst task while the burst runs; p50 \(Bench.format(burstPickup.p50)) ms, max \(Bench.format(burstPickup.max)) ms")
        add("burst_claim_to_running_p50", LatencySummary(check.claimToRunning).p50, "ms", note: "queueing included; p99 \(Bench.format(LatencySummary(check.claimToRunning).p99)) ms")
        add("burst_agent_run_p50", LatencySummary(check.agentRun).p50, "ms", note: "running→finished; runs at once as the echo agent's concurrency allows", baseline: spawnTrue)
        let rssBurst = watcher.peakResidentMB()
        add("rss_after_burst", rssBurst, "MB", target: "≤ 30 MB", meets: rssBurst <= 30, note: "VmHWM", baseline: emptyWatcher)
        let memory = watcher.memoryMB()
        add("rss_now_private", memory.anon, "MB", note: "RssAnon: heap, stacks, SQLite caches")
        add("rss_now_shared_files", memory.file, "MB", note: "RssFile: mapped libraries (Swift runtime, Foundation, ICU, SQLite)")
        watcher.stop()

        // What the watcher thread does after every run besides the task itself: re-index the OS's own
        // day notes, which grow by a row per run. Timed in-process, on the stopped watcher's index.
        let index = try MemoryIndex(vault: vault)
        for path in [TelemetryWriter.notePath(Date()), TelemetryWriter.dailyPath(Date())] {
            let absolute = vault.root + "/" + path
            guard var data = FileManager.default.contents(atPath: absolute) else { continue }
            var times: [Double] = []
            for _ in 0..<5 {
                data.append(Data("\n".utf8))
                try data.write(to: URL(fileURLWithPath: absolute))
                times.append(try BenchClock.seconds { _ = try index.update(path: path) } * 1000)
            }
            let name = path.hasPrefix(Vault.Layout.telemetry) ? "reindex_telemetry_note" : "reindex_daily_note"
            add(name, LatencySummary(times).p50, "ms", note: "\(path), \(data.count / 1024) KB; what one re-index of it costs; the watcher indexes these when quiet, or spaced out under a stream")
        }
        if mode.label == "inotify" {
            figures.append(try rescanUnchanged(index: index, context, section: section))
        }
        if mode.label == "poll" {
            // One polling pass over the vault (what `--poll` does every interval).
            let walk = try BenchClock.seconds {
                let poller = PollingWatcher(root: vault.root, interval: 3600)
                try poller.start()
                poller.stop()
            } * 1000
            add("poll_walk", walk, "ms", note: "one polling pass over \(context.noteCount) notes")
        }
        return figures
    }
}

extension WatchBenchSection {
    /// The re-scan with nothing changed: `MemoryIndex.reconcile`, the call the watcher makes at
    /// start-up and after an event queue overflow, on the vault the watcher has just left; next to
    /// the plainest look at every note, an `lstat` of each by its full path.
    func rescanUnchanged(index: MemoryIndex, _ context: BenchContext, section: String) throws -> BenchFigure {
        context.progress("watch: re-scan with nothing changed")
        // Catch up with what the stopped watcher left (its batched own writes). The burst changed
        // folders a moment ago, and a folder changed within `FolderStamp.settleNanoseconds` of its
        // listing is listed again: wait that out and list them once more, so that what is timed is
        // the re-scan of a vault in which nothing changed.
        _ = try index.reconcile()
        Thread.sleep(forTimeInterval: Double(FolderStamp.settleNanoseconds) / 1e9 + 0.1)
        _ = try index.reconcile()
        var times: [Double] = []
        var last = ReconcileSummary()
        for _ in 0..<9 { times.append(try BenchClock.seconds { last = try index.reconcile() } * 1000) }
        let paths = VaultWalker.walk(context.vault).files.map { context.vault.root + "/" + $0.path }
        var plain: [Double] = []
        for _ in 0..<9 {
            plain.append(BenchClock.seconds {
                for path in paths { _ = try? FileSystem.status(path) }
            } * 1000)
        }
        let value = BenchClock.percentile(times, 0.5)
        let folders = last.foldersListed + last.foldersFromRecord
        return BenchFigure(section: section, name: "rescan_unchanged", value: value, unit: "ms", target: "≤ 30 ms", meetsTarget: value <= 30,
                           note: "reconcile as the watcher runs it, \(last.unchanged) notes, \(last.foldersListed) of \(folders) folders listed; p50 of 9",
                           baseline: BenchBaseline(name: "lstat of every note", value: BenchClock.percentile(plain, 0.5)))
    }
}

/// Files the watcher bench writes into its vault.
enum WatchBenchVault {
    /// Makes the vault a working one (Rules/ with the `echo` agent, the folders) and settles the
    /// generated task notes that say `status: new`, so that the watcher's start-up runs none of them.
    static func prepare(_ vault: Vault) throws {
        do { _ = try VaultInit.run(vault: vault) } catch { throw BenchError("the watch bench could not set up the vault: \(error)") }
        for path in VaultWalker.markdownFiles(in: vault, under: Vault.Layout.tasks) {
            let absolute = vault.root + "/" + path
            guard let text = try? String(contentsOfFile: absolute, encoding: .utf8), text.contains("\nstatus: new\n") else { continue }
            try Data(text.replacingOccurrences(of: "\nstatus: new\n", with: "\nstatus: done\n").utf8).write(to: URL(fileURLWithPath: absolute))
        }
    }

    /// Writes a task for the `echo` agent in place (as most editors save) and returns the time the
    /// write began (seconds since 1970, the run store's clock).
    static func writeTask(_ vault: Vault, path: String, prompt: String) throws -> Double {
        let text = "---\ntype: task\nagent: echo\nstatus: new\n---\n\(prompt)\n"
        // Read before the write: read after it, this process may be descheduled between the close
        // and the clock while the watcher claims the task, and the latency comes out negative.
        let started = Date().timeIntervalSince1970
        try Data(text.utf8).write(to: URL(fileURLWithPath: vault.root + "/" + path))
        return started
    }

    /// The file name (without `.md`) of burst task `i`: `burst-inotify-00042`.
    static func burstName(_ label: String, _ i: Int) -> String {
        "burst-\(label)-" + String(repeating: "0", count: max(0, 5 - String(i).count)) + String(i)
    }
}

/// Reads the watcher's run store (`.agentos/runs.sqlite`) read-only while the watcher writes it.
final class RunStoreReader {
    /// One run's state and times (seconds since 1970).
    struct Run {
        var state: String
        var createdAt: Double
        var startedAt: Double?
        var finishedAt: Double?
    }

    /// The read-only connection.
    let database: Database
    /// States in which a run is over.
    static let terminal = ["done", "failed", "blocked", "review", "cancelled"]

    /// Opens the vault's run store read-only, waiting briefly for the watcher to create it.
    init(vault: Vault) throws {
        let path = vault.stateDirectory + "/runs.sqlite"
        var database: Database?
        // The watcher creates the store at start-up; it exists once the watcher says it is watching.
        for _ in 0..<200 {
            if let status = try? FileSystem.status(path), status.kind == .file {
                database = try Database(path: path, readOnly: true)
                break
            }
            // The watcher (another process) creates the file; it says nothing when it has.
            Thread.sleep(forTimeInterval: 0.01)
        }
        guard let database else { throw BenchError("the watcher created no run store at \(path)") }
        self.database = database
    }

    /// The task's latest run once it is over; `nil` after `timeout` seconds.
    func waitForTerminalRun(taskPath: String, timeout: Double) -> Run? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let rows = (try? database.query("SELECT state, created_at, started_at, finished_at FROM runs WHERE task_path = ? ORDER BY created_at DESC LIMIT 1", [.text(taskPath)]) {
                Run(state: $0.text(0), createdAt: $0.double(1), startedAt: $0.isNull(2) ? nil : $0.double(2), finishedAt: $0.isNull(3) ? nil : $0.double(3))
            }) ?? []
            if let run = rows.first, RunStoreReader.terminal.contains(run.state) { return run }
            // The run store is written by another process (the watcher): poll it, 1 ms apart.
            usleep(1000)
        }
        return nil
    }

    /// Waits until `count` runs under `folder` are over; gives up when none finishes for `stallTimeout` s.
    func waitForBurst(folder: String, count: Int, stallTimeout: Double, progress: (Int) -> Void) -> Bool {
        var last = -1
        var lastChange = Date()
        let states = RunStoreReader.terminal.map { "'\($0)'" }.joined(separator: ",")
        while true {
            let done = Int((try? database.scalarInt("SELECT count(DISTINCT task_path) FROM runs WHERE task_path LIKE ? AND state IN (\(states))", [.text(folder + "/%")])) ?? 0)
            if done >= count { return true }
            if done != last {
                last = done
                lastChange = Date()
                progress(done)
            } else if Date().timeIntervalSince(lastChange) > stallTimeout {
                return false
            }
            // As above: another process's run store, polled.
            usleep(10_000)
        }
    }
}

/// Whether every task of a burst ran exactly once.
struct BurstCheck {
    /// Tasks with exactly one run (state done), exactly one result note, and `status: done`.
    var exactlyOnce = 0
    /// Tasks the run store has no run for.
    var withoutRun = 0
    /// Tasks with more than one run.
    var withSeveralRuns = 0
    /// Tasks whose note does not say `status: done`.
    var notDone = 0
    /// Tasks without exactly one result note.
    var resultNotesOff = 0
    /// When the last run finished.
    var lastFinished: Double?
    /// Per run, in ms: note written → claimed (pick-up), claim → status running (routing,
    /// queueing), and running → agent finished.
    var pickup: [Double] = []
    var claimToRunning: [Double] = []
    var agentRun: [Double] = []

    /// The counts, in one line.
    var summary: String {
        "1 run + 1 result + done; no run \(withoutRun), >1 run \(withSeveralRuns), not done \(notDone), results≠1 \(resultNotesOff)"
    }

    /// Checks the tasks at `paths` against the run store, `Results/` and their own notes.
    /// `written`: when each task was about to be written (seconds since 1970).
    static func verify(vault: Vault, runs: RunStoreReader, folder: String, paths: [String], written: [String: Double] = [:]) throws -> BurstCheck {
        var check = BurstCheck()
        var runsByTask: [String: [(String, Double?)]] = [:]
        for (path, state, created, started, finished) in try runs.database.query("SELECT task_path, state, created_at, started_at, finished_at FROM runs WHERE task_path LIKE ?", [.text(folder + "/%")], row: { ($0.text(0), $0.text(1), $0.double(2), $0.isNull(3) ? nil : $0.double(3), $0.isNull(4) ? nil : $0.double(4)) }) {
            if runsByTask[path] == nil, let at = written[path] { check.pickup.append((created - at) * 1000) }
            runsByTask[path, default: []].append((state, finished))
            if let finished { check.lastFinished = max(check.lastFinished ?? finished, finished) }
            if let started {
                check.claimToRunning.append((started - created) * 1000)
                if let finished { check.agentRun.append((finished - started) * 1000) }
            }
        }
        // Result notes are named "<task title> <run id>.md".
        var resultsByTitle: [String: Int] = [:]
        let resultFolder = vault.root + "/" + Vault.Layout.results
        for name in (try? FileManager.default.contentsOfDirectory(atPath: resultFolder)) ?? [] where name.hasPrefix("burst-") {
            if let space = name.firstIndex(of: " ") { resultsByTitle[String(name[..<space]), default: 0] += 1 }
        }
        for path in paths {
            let title = TaskNote.title(of: path)
            let taskRuns = runsByTask[path] ?? []
            let note = (try? String(contentsOfFile: vault.root + "/" + path, encoding: .utf8)).flatMap { try? Note.parse($0) }
            let isDone = note?.text("status") == "done"
            let results = resultsByTitle[title] ?? 0
            if taskRuns.isEmpty { check.withoutRun += 1 }
            if taskRuns.count > 1 { check.withSeveralRuns += 1 }
            if !isDone { check.notDone += 1 }
            if results != 1 { check.resultNotesOff += 1 }
            if taskRuns.count == 1 && taskRuns[0].0 == "done" && isDone && results == 1 { check.exactlyOnce += 1 }
        }
        return check
    }
}

/// A `fuckbigtech watch` child process with its output in a log file.
final class WatcherProcess {
    /// The child.
    let child: Spawn.Child
    /// Where its stdout and stderr go (in the vault's `.agentos/`).
    let logPath: String
    /// When it was spawned (seconds since 1970).
    let started: Double
    /// What the log has shown so far, set by the thread that copies the child's output into it.
    private struct Progress {
        var watching = false
        var outputEnded = false
        var lastLine = ""
    }
    private let progress = NSCondition()
    private let seen = Locked(Progress())
    private var stopped = false

    /// Spawns `executable watch --vault ROOT arguments…`.
    init(executable: String, vault: Vault, arguments: [String]) throws {
        logPath = vault.stateDirectory + "/bench-watch-\(UUID().uuidString.prefix(8)).log"
        try FileSystem.makeDirectories(vault.stateDirectory)
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else { throw BenchError("cannot create the watcher's log \(logPath)") }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        started = Date().timeIntervalSince1970
        child = try Spawn.start(Spawn.Options(executable: executable, arguments: ["watch", "--vault", vault.root] + arguments,
                                              environment: ProcessInfo.processInfo.environment))
        // The watcher's output comes through a pipe: copying it to the log, this thread sees the
        // "watching" line the moment it is written, and the end of the output when the watcher exits.
        let reader = Thread { [child, progress, seen] in
            var pending = ""
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
            defer { buffer.deallocate() }
            while case .bytes(let n)? = try? Descriptor.read(child.output, into: buffer) {
                let chunk = Data(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                log.write(chunk)
                pending += String(decoding: chunk, as: UTF8.self)
                let lines = pending.split(separator: "\n", omittingEmptySubsequences: false)
                pending = String(lines.last ?? "")
                guard let last = lines.dropLast().last(where: { !$0.isEmpty }) else { continue }
                progress.lock()
                seen.withLock { state in
                    state.lastLine = String(last)
                    if lines.dropLast().contains(where: { $0.contains(" watching ") }) { state.watching = true }
                }
                progress.broadcast()
                progress.unlock()
            }
            try? log.close()
            Descriptor.close(child.output)
            progress.lock()
            seen.withLock { state in
                if !pending.isEmpty { state.lastLine = pending }
                state.outputEnded = true
            }
            progress.broadcast()
            progress.unlock()
        }
        reader.start()
    }

    /// Seconds from the spawn until the watcher logged that it is watching.
    func waitUntilWatching(timeout: Double) throws -> Double {
        let deadline = Date(timeIntervalSinceNow: timeout)
        progress.lock()
        defer { progress.unlock() }
        while true {
            let state = seen.withLock { $0 }
            if state.watching { return Date().timeIntervalSince1970 - started }
            if state.outputEnded {
                throw BenchError("the watcher exited during start-up: " + (state.lastLine.isEmpty ? "no output" : state.lastLine))
            }
            if !progress.wait(until: deadline) { break }
        }
        throw BenchError("the watcher did not start watching within \(Int(timeout)) s")
    }

    /// `VmHWM` (peak resident memory) of the watcher in MB.
    func peakResidentMB() -> Double { statusField("VmHWM:") }
    /// Resident memory now in MB: anonymous (the process's own) and file-backed (mapped libraries).
    func memoryMB() -> (anon: Double, file: Double) { (statusField("RssAnon:"), statusField("RssFile:")) }

    private func statusField(_ field: String) -> Double {
        guard child.termination == nil, let status = try? String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8) else { return .nan }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            return (line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? .nan) / 1024
        }
        return .nan
    }

    /// Stops the watcher with SIGTERM (a clean stop), and at once with a second one after 10 s.
    func stop() {
        guard !stopped else { return }
        stopped = true
        guard child.termination == nil else { return }
        child.send(SIGTERM)
        if child.waitForExit(timeout: 10) == nil {
            child.send(SIGTERM)
            _ = child.waitForExit(timeout: 5)
        }
    }
}

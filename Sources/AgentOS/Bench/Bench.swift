import Foundation

/// One measured figure of the benchmark.
public struct BenchFigure: Sendable {
    /// The section it belongs to (`index`, `search`, …).
    public var section: String
    /// What was measured, as a short key (`full_index_seconds`).
    public var name: String
    /// The value.
    public var value: Double
    /// Its unit (`s`, `ms`, `notes/s`, `MB`, `%`).
    public var unit: String
    /// The target from DESIGN.md, as text (`≤ 0.5 s`), if there is one.
    public var target: String?
    /// Whether the value meets the target (`nil` without a target).
    public var meetsTarget: Bool?
    /// Extra words shown after the value.
    public var note: String?
    /// The same kind of work done the plainest way in the same run (`BenchBaselines`), if any.
    public var baseline: BenchBaseline?
    /// Lines that explain the value, shown under the table (the retrieval cases a packet missed).
    public var details: [String]

    public init(section: String, name: String, value: Double, unit: String, target: String? = nil, meetsTarget: Bool? = nil, note: String? = nil, baseline: BenchBaseline? = nil, details: [String] = []) {
        self.section = section
        self.name = name
        self.value = value
        self.unit = unit
        self.target = target
        self.meetsTarget = meetsTarget
        self.note = note
        self.baseline = baseline
        self.details = details
    }

    /// The value divided by its baseline's (`nil` without one).
    public var ratio: Double? {
        guard let baseline, baseline.value != 0, baseline.value.isFinite, value.isFinite else { return nil }
        return value / baseline.value
    }
}

/// What every bench section gets: the vault copy to work in, the binary, and where to report progress.
public struct BenchContext {
    /// The temporary vault (a generated one or a copy; never the user's original).
    public var vault: Vault
    /// Notes in it.
    public var noteCount: Int
    /// Whether the vault is a copy of a real one (figures are then given per top-level folder too).
    public var isRealVault: Bool
    /// The `fuckbigtech` binary, for whole-process timings.
    public var executablePath: String
    /// How many full-index runs to take the median of.
    public var runs: Int
    /// Progress messages (a line on a terminal).
    public var progress: (String) -> Void

    /// A context with every field given.
    public init(vault: Vault, noteCount: Int, isRealVault: Bool, executablePath: String, runs: Int, progress: @escaping (String) -> Void) {
        self.vault = vault
        self.noteCount = noteCount
        self.isRealVault = isRealVault
        self.executablePath = executablePath
        self.runs = runs
        self.progress = progress
    }
}

/// A part of the benchmark: index (here), retrieval (`RetrievalBench.swift`), watch (`WatchBench.swift`).
public protocol BenchSection {
    /// The section's name in the report.
    var name: String { get }
    /// Runs the measurements and returns the figures.
    func run(_ context: BenchContext) throws -> [BenchFigure]
}

/// Timing helpers shared by bench sections.
public enum BenchClock {
    /// Seconds taken by `body`.
    public static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// CPU time the calling thread has used, in seconds (`CLOCK_THREAD_CPUTIME_ID`).
    public static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// The value at quantile `q` (0…1) of `samples` (nearest rank).
    public static func percentile(_ samples: [Double], _ q: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// Peak resident memory of this process in MB (`VmHWM`, the same figure as `ru_maxrss`).
    public static func peakResidentMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? .nan
            return digits / 1024
        }
        return .nan
    }
}

/// The benchmark: prepares a vault, runs each section, and renders the report.
public enum Bench {
    /// The sections run by `fuckbigtech bench`, in order.
    public static var sections: [BenchSection] { [IndexBenchSection(), RetrievalBenchSection(), WatchBenchSection()] }

    /// Renders figures as an aligned table.
    public static func table(_ figures: [BenchFigure]) -> String {
        // The note goes last: it is long, and the columns before it stay aligned.
        var rows: [[String]] = [["section", "measure", "value", "baseline (same run)", "ratio", "target", "", "note"]]
        for f in figures {
            let value = format(f.value) + " " + f.unit
            let verdict = f.meetsTarget.map { $0 ? "ok" : "MISSED" } ?? ""
            let baseline = f.baseline.map { format($0.value) + " " + f.unit + " " + $0.name } ?? ""
            let ratio = f.ratio.map { "× " + format($0) } ?? ""
            rows.append([f.section, f.name, value, baseline, ratio, f.target ?? "", verdict, f.note ?? ""])
        }
        let widths = (0..<8).map { column in rows.map { $0[column].count }.max() ?? 0 }
        let table = rows.map { row in
            row.enumerated().map { column, cell in cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingWhitespaces()
        }.joined(separator: "\n")
        // Each figure's details under the table, headed by the figure they explain.
        let details = figures.filter { !$0.details.isEmpty }.map { f in
            "\n\(f.section) \(f.name):\n" + f.details.map { "  " + $0 }.joined(separator: "\n")
        }
        return table + details.joined()
    }

    /// Figures as JSON.
    public static func json(_ figures: [BenchFigure], vault: String, notes: Int) -> JSON {
        .object([
            ("vault", .string(vault)),
            ("notes", .int(notes)),
            ("figures", .array(figures.map { f in
                JSON.object([
                    ("section", .string(f.section)),
                    ("name", .string(f.name)),
                    ("value", f.value.isFinite ? .double((f.value * 10000).rounded() / 10000) : .null),
                    ("unit", .string(f.unit)),
                    ("target", f.target.map { .string($0) } ?? .null),
                    ("meets_target", f.meetsTarget.map { .bool($0) } ?? .null),
                    ("note", f.note.map { .string($0) } ?? .null),
                    ("baseline", f.baseline.map { JSON.object([("name", .string($0.name)), ("value", $0.value.isFinite ? .double(($0.value * 10000).rounded() / 10000) : .null)]) } ?? .null),
                    ("ratio", f.ratio.map { .double(($0 * 10000).rounded() / 10000) } ?? .null),
                    ("details", .array(f.details.map { .string($0) })),
                ])
            })),
        ])
    }

    static func format(_ value: Double) -> String {
        if !value.isFinite { return "n/a" }
        if value >= 1000 { return String(format: "%.0f", value) }
        if value >= 10 { return String(format: "%.1f", value) }
        if value >= 0.1 { return String(format: "%.2f", value) }
        return String(format: "%.3f", value)
    }
}

/// Index and search figures: full index, no-change re-scan, search latency per query shape, the
/// whole `search` command, single-note updates, database size, peak memory and the title-first rate.
public struct IndexBenchSection: BenchSection {
    public var name: String { "index" }

    public init() {}

    public func run(_ context: BenchContext) throws -> [BenchFigure] {
        var figures: [BenchFigure] = []
        let vault = context.vault
        let n = context.noteCount

        // Full index, from an empty database each time.
        var fullTimes: [Double] = []
        var index: MemoryIndex!
        for run in 1...max(1, context.runs) {
            context.progress("full index, run \(run) of \(context.runs)")
            index = nil
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: vault.databasePath + suffix) }
            var summary = ReconcileSummary()
            let seconds = try BenchClock.seconds {
                let fresh = try MemoryIndex(vault: vault)
                summary = try fresh.reconcile()
                index = fresh
            }
            if summary.indexed == 0 { throw BenchError("the full index indexed no notes; is the vault empty?") }
            fullTimes.append(seconds)
        }
        let full = BenchClock.percentile(fullTimes, 0.5)
        let rate = Double(n) / full
        // The floor: the same notes only walked and read, as many times, in this run.
        context.progress("baseline: walk and read every note")
        let reads = (0..<fullTimes.count).map { _ in SearchBaselines.readVault(vault) }
        let read = BenchBaseline(name: SearchBaselines.readName, value: BenchClock.percentile(reads, 0.5))
        let isCorpusSized = n <= 5000
        figures.append(BenchFigure(section: name, name: "full_index", value: full, unit: "s", target: isCorpusSized ? "≤ 0.4 s (obsidian-help)" : nil, meetsTarget: isCorpusSized ? full <= 0.4 : nil, note: "median of \(fullTimes.count)", baseline: read))
        figures.append(BenchFigure(section: name, name: "full_index_rate", value: rate, unit: "notes/s", target: "≥ 3000 notes/s", meetsTarget: rate >= 3000))

        // Re-scan with nothing changed.
        context.progress("re-scan with nothing changed")
        var rescans: [Double] = []
        for _ in 0..<7 { rescans.append(try BenchClock.seconds { _ = try index.reconcile() }) }
        let rescan = BenchClock.percentile(rescans, 0.5) * 1000
        figures.append(BenchFigure(section: name, name: "rescan_unchanged", value: rescan, unit: "ms", target: "≤ 30 ms (20,000 notes)", meetsTarget: rescan <= 30))

        // Search, in process, per query shape; each shape's queries also on a plain FTS5 table.
        context.progress("search latency")
        let shapes = try QueryShapes.make(index: index, seed: 7)
        var plainTable: PlainFTS5Table?
        let plainBuild = try BenchClock.seconds { plainTable = try PlainFTS5Table(vault: vault, index: index) }
        let plain = plainTable!
        // The floor of any full-text index of these notes: one plain table, each note tokenized once.
        figures.append(BenchFigure(section: name, name: "plain_fts5_build", value: plainBuild, unit: "s",
                                   note: "one FTS5 table (title + text, unicode61) of the same notes, temp schema; the full index tokenizes each note twice (exact and stemmed) and adds sections and link lines: × \(String(format: "%.1f", full / plainBuild)) of this"))
        var allSamples: [Double] = []
        var allPlainSamples: [Double] = []
        for (shape, queries) in shapes.ordered where !queries.isEmpty {
            var samples: [Double] = []
            var plainSamples: [Double] = []
            for query in queries { _ = try index.search(query, limit: 10); try plain.search(query) } // warm the page cache
            for _ in 0..<5 {
                for query in queries {
                    samples.append(try BenchClock.seconds { _ = try index.search(query, limit: 10) } * 1000)
                    plainSamples.append(try BenchClock.seconds { try plain.search(query) } * 1000)
                }
            }
            allSamples += samples
            allPlainSamples += plainSamples
            let p50 = BenchClock.percentile(samples, 0.5)
            let p95 = BenchClock.percentile(samples, 0.95)
            let baseline = BenchBaseline(name: SearchBaselines.plainFTS5Name, value: BenchClock.percentile(plainSamples, 0.5))
            // The issue's target for titles is at 20,000 notes; the other shapes keep DESIGN.md's.
            let limit = shape == "title" ? 3.0 : 1.0
            figures.append(BenchFigure(section: "search", name: "\(shape)_p50", value: p50, unit: "ms", target: shape == "title" ? "≤ 3 ms (20,000 notes)" : "≤ 1 ms", meetsTarget: p50 <= limit, note: "e.g. \(queries[0])", baseline: baseline))
            figures.append(BenchFigure(section: "search", name: "\(shape)_p95", value: p95, unit: "ms", target: "≤ 5 ms", meetsTarget: p95 <= 5))
        }
        let allP50 = BenchClock.percentile(allSamples, 0.5)
        let allP95 = BenchClock.percentile(allSamples, 0.95)
        let allPlain = BenchBaseline(name: SearchBaselines.plainFTS5Name, value: BenchClock.percentile(allPlainSamples, 0.5))
        figures.append(BenchFigure(section: "search", name: "all_shapes_p50", value: allP50, unit: "ms", target: "≤ 1 ms", meetsTarget: allP50 <= 1, note: "plain FTS5: one row per note, title + text, unicode61, bm25, top 10 with a snippet", baseline: allPlain))
        figures.append(BenchFigure(section: "search", name: "all_shapes_p95", value: allP95, unit: "ms", target: "≤ 5 ms", meetsTarget: allP95 <= 5))

        // The whole `search` command, as a user or agent runs it, next to `rg` over the same vault:
        // each query run by both, one after the other, so both see the same machine.
        context.progress("search command (whole process) and rg")
        let commandQueries = shapes.ordered.flatMap { $0.1.prefix(4) }
        var commandSamples: [Double] = []
        var ripgrepSamples: [Double] = []
        let environment = ProcessInfo.processInfo.environment
        let ripgrep = SearchBaselines.ripgrep(environment: environment)
        if FileManager.default.isExecutableFile(atPath: context.executablePath) {
            for round in 0..<2 {
                for query in commandQueries {
                    let seconds = try BenchClock.seconds { try runSearchCommand(context.executablePath, query: query, vault: vault.root) }
                    var rgSeconds = Double.nan
                    if let ripgrep { rgSeconds = try BenchClock.seconds { try SearchBaselines.runRipgrep(ripgrep, query: query, vault: vault, environment: environment) } }
                    // The first round only warms the page cache (and rg's and our binary's pages).
                    if round > 0 || commandQueries.count < 4 {
                        commandSamples.append(seconds * 1000)
                        ripgrepSamples.append(rgSeconds * 1000)
                    }
                }
            }
            let p50 = BenchClock.percentile(commandSamples, 0.5)
            if ripgrep != nil {
                let baseline = BenchBaseline(name: SearchBaselines.ripgrepName, value: BenchClock.percentile(ripgrepSamples, 0.5))
                let ratio = p50 / baseline.value
                figures.append(BenchFigure(section: "search", name: "command_p50", value: p50, unit: "ms", target: "≤ 0.25 × rg", meetsTarget: ratio <= 0.25, note: "fuckbigtech search, whole process; rg on the same queries, same vault", baseline: baseline))
            } else {
                figures.append(BenchFigure(section: "search", name: "command_p50", value: p50, unit: "ms", target: "≤ 0.25 × rg", note: "fuckbigtech search, whole process; no rg on PATH, so no baseline (install ripgrep)"))
            }
        }

        // Single-note update: edit a note, then update(path:) — and check the edit is findable.
        context.progress("single-note updates")
        let paths = try index.database.query("SELECT path FROM notes ORDER BY id LIMIT 40") { $0.text(0) }
        var updateSamples: [Double] = []
        var findable = 0
        for (i, path) in paths.enumerated() {
            let absolute = vault.root + "/" + path
            guard var data = FileManager.default.contents(atPath: absolute) else { continue }
            let marker = "zqbenchedit\(i)x"
            data.append(Data("\n\nEdited by the bench: \(marker)\n".utf8))
            try data.write(to: URL(fileURLWithPath: absolute))
            updateSamples.append(try BenchClock.seconds { _ = try index.update(path: path) } * 1000)
            if try index.search(marker, limit: 1).first?.path == path { findable += 1 }
        }
        let update = BenchClock.percentile(updateSamples, 0.5)
        figures.append(BenchFigure(section: name, name: "single_note_update_p50", value: update, unit: "ms", target: "≤ 5 ms", meetsTarget: update <= 5, note: "\(findable)/\(updateSamples.count) edits found right after"))

        // What the watcher does when quiet after such writes: their small segments merged.
        let segmentsBefore = try index.segmentCounts().values.reduce(0, +)
        let mergeSeconds = try BenchClock.seconds { try index.mergeSmallSegments(stepsPerTable: .max) }
        figures.append(BenchFigure(section: name, name: "segment_merge_after_updates", value: mergeSeconds * 1000, unit: "ms",
                                   note: "the watcher's merge when quiet: full-text segments \(segmentsBefore) → \(try index.segmentCounts().values.reduce(0, +))"))

        // Title-first: a note's exact title finds it first.
        context.progress("title-first rate")
        figures += try TitleFirst.measure(index: index, perFolder: context.isRealVault, sectionName: "titles")

        index.database.resetAllStatements()
        try index.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        var size = 0.0
        for suffix in ["", "-wal"] {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: vault.databasePath + suffix), let bytes = attributes[.size] as? NSNumber {
                size += bytes.doubleValue
            }
        }
        figures.append(BenchFigure(section: name, name: "database_size", value: size / 1_048_576, unit: "MB"))
        figures.append(BenchFigure(section: name, name: "peak_rss", value: BenchClock.peakResidentMB(), unit: "MB", note: "whole bench process"))
        return figures
    }

    private func runSearchCommand(_ executable: String, query: String, vault: String) throws {
        // Without a timeout or a cancel token, Spawn waits for the exit itself, so the figure holds
        // no polling tick.
        _ = try Spawn.run(Spawn.Options(executable: executable, arguments: ["search", query, "--vault", vault, "-n", "10"],
                                        environment: ProcessInfo.processInfo.environment, stdoutLimit: 0, stderrLimit: 0))
    }
}

/// Queries of each shape, drawn from the index's own vocabulary so they work on any vault.
struct QueryShapes {
    var ordered: [(String, [String])]

    static func make(index: MemoryIndex, seed: UInt64) throws -> QueryShapes {
        let db = index.database
        var random = SeededRandom(seed: seed)
        try db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_vocabulary USING fts5vocab(main, 'sections', 'row')")
        let notes = try db.scalarInt("SELECT count(*) FROM notes") ?? 1
        let sections = try db.scalarInt("SELECT count(*) FROM sections") ?? 1
        func isPlainWord(_ w: String) -> Bool { w.count >= 4 && w.unicodeScalars.allSatisfy { $0.properties.isAlphabetic } }
        let vocabulary = try db.query("SELECT term, doc FROM temp.bench_vocabulary WHERE doc >= 1 ORDER BY doc DESC") { ($0.text(0), $0.int(1)) }.filter { isPlainWord($0.0) }
        let commonWords = Array(vocabulary.prefix(20).map(\.0))
        let rare = vocabulary.filter { $0.1 <= 3 }.map(\.0)
        let middle = vocabulary.filter { $0.1 >= 10 && Int64($0.1) <= max(20, sections / 50) }.map(\.0)
        func pick(_ list: [String], _ k: Int) -> [String] {
            guard !list.isEmpty else { return [] }
            return (0..<k).map { _ in list[random.below(list.count)] }
        }
        let twoWords = (0..<20).compactMap { _ -> String? in
            let a = pick(middle.isEmpty ? commonWords : middle, 1)
            let b = pick(commonWords, 1)
            guard let a = a.first, let b = b.first else { return nil }
            return a + " " + b
        }
        // Phrases: two neighbouring words from real section text.
        var phrases: [String] = []
        var attempts = 0
        while phrases.count < 20 && attempts < 400 {
            attempts += 1
            let noteID = Int64(1 + random.below(Int(notes)))
            let bodies = try db.query("SELECT body FROM sections WHERE rowid BETWEEN ? AND ? LIMIT 3", [.int(noteID << 20), .int((noteID << 20) + 1000)]) { $0.text(0) }
            guard let body = bodies.randomElement(using: &random) else { continue }
            let words = body.split(whereSeparator: { !$0.isLetter }).map(String.init).filter { $0.count >= 3 && $0.unicodeScalars.allSatisfy { $0.value < 0x2E80 } }
            guard words.count >= 2 else { continue }
            let i = random.below(words.count - 1)
            phrases.append("\"\(words[i]) \(words[i + 1])\"")
        }
        let prefixes = pick(middle.filter { $0.count >= 6 }, 20).map { String($0.prefix(4)) + "*" }
        let titles = try db.query("SELECT title FROM notes ORDER BY id") { $0.text(0) }
        return QueryShapes(ordered: [
            ("rare_word", pick(rare, 20)),
            ("common_word", pick(commonWords, 20)),
            ("two_words", twoWords),
            ("phrase", phrases),
            ("prefix", prefixes),
            ("title", pick(titles, 20)),
        ])
    }
}

/// The share of notes whose exact title, searched, returns that note first.
enum TitleFirst {
    struct Tally {
        var sampled = 0
        /// The first hit is the note itself.
        var exact = 0
        /// The first hit has the same title (the note itself or a namesake: 32 notes of the corpus are
        /// called "SEO", and a query cannot tell them apart).
        var sameTitle = 0
        /// Notes whose title no other note has.
        var unique = 0
        var uniqueExact = 0
    }

    static func tally(index: MemoryIndex, sample limit: Int = 2000) throws -> (all: Tally, byFolder: [String: Tally]) {
        let notes = try index.database.query("SELECT path, title, (SELECT count(*) FROM notes m WHERE m.name_key = n.name_key) FROM notes n ORDER BY path") { ($0.text(0), $0.text(1), $0.int(2)) }
        let stride = max(1, notes.count / limit)
        var all = Tally()
        var byFolder: [String: Tally] = [:]
        for i in Swift.stride(from: 0, to: notes.count, by: stride) {
            let (path, title, namesakes) = notes[i]
            let folder = path.contains("/") ? String(path.prefix { $0 != "/" }) : "(root)"
            var first: SearchHit?
            do { first = try index.search(title, limit: 1).first } catch {}
            let isExact = first?.path == path
            let isSame = isExact || (first.map { NoteScanner.titleKey($0.title) == NoteScanner.titleKey(title) } ?? false)
            func count(_ t: inout Tally) {
                t.sampled += 1
                if isExact { t.exact += 1 }
                if isSame { t.sameTitle += 1 }
                if namesakes == 1 {
                    t.unique += 1
                    if isExact { t.uniqueExact += 1 }
                }
            }
            count(&all)
            count(&byFolder[folder, default: Tally()])
        }
        return (all, byFolder)
    }

    static func measure(index: MemoryIndex, perFolder: Bool, sectionName: String) throws -> [BenchFigure] {
        let (all, byFolder) = try tally(index: index)
        func percent(_ a: Int, _ b: Int) -> Double { b == 0 ? .nan : Double(a) * 100 / Double(b) }
        var figures: [BenchFigure] = [
            BenchFigure(section: sectionName, name: "title_first", value: percent(all.sameTitle, all.sampled), unit: "%", target: "≥ 95 %", meetsTarget: percent(all.sameTitle, all.sampled) >= 95, note: "\(all.sampled) notes; first hit has that title"),
            BenchFigure(section: sectionName, name: "title_first_unique_titles", value: percent(all.uniqueExact, all.unique), unit: "%", target: "≥ 95 %", meetsTarget: percent(all.uniqueExact, all.unique) >= 95, note: "\(all.unique) notes with a title of their own; first hit is the note"),
            BenchFigure(section: sectionName, name: "title_first_same_note", value: percent(all.exact, all.sampled), unit: "%", note: "first hit is that very note, namesakes included"),
        ]
        if perFolder {
            for folder in byFolder.keys.sorted() {
                let t = byFolder[folder]!
                let value = percent(t.sameTitle, t.sampled)
                figures.append(BenchFigure(section: sectionName, name: "title_first[\(folder)]", value: value, unit: "%", target: "≥ 95 %", meetsTarget: value >= 95, note: "\(t.sampled) notes, unique titles \(t.uniqueExact)/\(t.unique) first"))
            }
        }
        return figures
    }
}


import Foundation

/// The figures of the last good run, per mode, kept in `.agentos/memory-test-baseline.json` of the
/// real vault. A run is compared with it; it is replaced only by a run that is not worse.
public struct MemoryTestBaseline: Sendable, Equatable {
    /// One mode's figures and when they were taken.
    public struct Entry: Sendable, Equatable {
        /// Local time of the run (`2026-11-26T09:12:00`).
        public var time: String
        /// Notes in the vault then.
        public var notes: Int
        /// Figure key → value (see `MemoryTestReport.figures`).
        public var figures: [String: Double]

        /// An entry.
        public init(time: String, notes: Int, figures: [String: Double]) {
            self.time = time
            self.notes = notes
            self.figures = figures
        }
    }

    /// Entries by mode (`quick`, `full`): the two sample different notes, so they are not compared.
    public var entries: [String: Entry] = [:]

    /// An empty baseline.
    public init(entries: [String: Entry] = [:]) { self.entries = entries }

    /// Where the baseline of `vault` lives.
    public static func path(for vault: Vault) -> String { vault.stateDirectory + "/memory-test-baseline.json" }

    // MARK: Thresholds (documented in docs/memory-test.md)

    /// recall@5 (and task retrieval's hit@3) may drop this many percentage points before it counts as worse.
    public static let recallDropPoints = 2.0
    /// MRR (of known items and of task retrieval) may drop this much before it counts as worse.
    public static let mrrDrop = 0.02
    /// p95 search latency counts as worse only when it is more than this many times the baseline …
    public static let latencyFactor = 2.0
    /// … and above this many milliseconds (sub-millisecond noise is no regression).
    public static let latencyFloorMilliseconds = 5.0

    /// The figures of `current` that are worse than `baseline` beyond their thresholds. Figures
    /// missing on either side are not compared (a kind with no queries, a first run).
    public static func degradations(current: [String: Double], baseline: [String: Double]) -> [Degradation] {
        var found: [Degradation] = []
        for key in current.keys.sorted() {
            guard let now = current[key], let before = baseline[key], now.isFinite, before.isFinite else { continue }
            if key.hasPrefix("recall_at_5") || key == "task_hit_at_3", before - now > recallDropPoints + 1e-9 {
                found.append(Degradation(figure: key, baseline: before, current: now, threshold: String(format: "-%.1f points; allowed: %.0f", before - now, recallDropPoints)))
            } else if key.hasPrefix("mrr") || key == "task_mrr", before - now > mrrDrop + 1e-9 {
                found.append(Degradation(figure: key, baseline: before, current: now, threshold: String(format: "-%.3f; allowed: %.2f", before - now, mrrDrop)))
            } else if key == "latency_p95_ms", now > before * latencyFactor, now > latencyFloorMilliseconds {
                found.append(Degradation(figure: key, baseline: before, current: now, threshold: String(format: "%.1f× slower; allowed: %.0f× or under %.0f ms", before > 0 ? now / before : .infinity, latencyFactor, latencyFloorMilliseconds)))
            }
        }
        return found
    }

    // MARK: File

    /// Reads the baseline file; an absent file gives an empty baseline.
    public static func load(path: String) throws -> MemoryTestBaseline {
        guard FileManager.default.fileExists(atPath: path) else { return MemoryTestBaseline() }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw MemoryTestError.baseline("\(path) cannot be read (\(error.localizedDescription)); delete it to start a new baseline")
        }
        let json: JSON
        do { json = try JSON.parse(text) } catch {
            throw MemoryTestError.baseline("\(path) is not valid JSON (\(error)); delete it to start a new baseline")
        }
        var baseline = MemoryTestBaseline()
        guard case .object(let modes) = json["modes"] ?? .null else { return baseline }
        for (mode, value) in modes {
            var figures: [String: Double] = [:]
            if case .object(let pairs) = value["figures"] ?? .null {
                for (key, number) in pairs { if let d = number.doubleValue { figures[key] = d } }
            }
            baseline.entries[mode] = Entry(time: value["time"]?.stringValue ?? "", notes: value["notes"]?.intValue ?? 0, figures: figures)
        }
        return baseline
    }

    /// The baseline as JSON (`{"version": 1, "modes": {"quick": {...}}}`).
    public var json: JSON {
        .object([
            ("version", .int(1)),
            ("modes", .object(entries.keys.sorted().map { mode in
                let entry = entries[mode]!
                return (mode, JSON.object([
                    ("time", .string(entry.time)),
                    ("notes", .int(entry.notes)),
                    ("figures", .object(entry.figures.keys.sorted().map { ($0, .double(entry.figures[$0]!)) })),
                ]))
            })),
        ])
    }

    /// Writes the baseline file (through a temporary file and a rename, so a crash leaves the old one).
    public func save(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileSystem.makeDirectories(directory)
        do {
            try FileSystem.replaceDurably(path, bytes: Array((json.pretty + "\n").utf8))
        } catch {
            throw MemoryTestError.baseline("cannot write \(path): \(error)")
        }
    }
}

/// Errors that stop a memory test before it can report.
public enum MemoryTestError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The vault folder is missing.
    case noVault(String)
    /// The baseline file is unreadable or malformed.
    case baseline(String)
    /// The scratch copy could not be made.
    case copy(String)
    /// The report note could not be written.
    case report(String)
    /// The vault holds no notes, so there is nothing to measure.
    case empty(String)

    /// One line for the user.
    public var description: String {
        switch self {
        case .noVault(let root): return "no vault at \(root); give one with --vault or run 'fuckbigtech init'"
        case .baseline(let why): return "baseline: \(why)"
        case .copy(let why): return "cannot make the scratch copy: \(why)"
        case .report(let why): return "cannot write the report note: \(why)"
        case .empty(let root): return "\(root) holds no notes: there is nothing to measure; add notes or run 'fuckbigtech init --with-memory'"
        }
    }
}

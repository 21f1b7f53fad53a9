import Foundation

/// Retention of the telemetry journal: `.agentos/telemetry.jsonl` holds the current month's runs;
/// lines of earlier months move to `telemetry-YYYY-MM.jsonl` beside it (`report` reads them all).
///
/// Nothing is lost at any step, and a crash between steps only leaves a run in two files, which
/// readers count once (by run id) and the next rotation merges away:
/// 1. under the journal's lock (appends wait), every line gets its rows and daily line first;
/// 2. each month file is replaced whole (temp + fsync + rename) by itself plus the lines it lacks;
/// 3. the live journal is replaced whole by the current month's lines;
/// 4. the checkpoint moves past them (a crash before it makes the next start read the shorter
///    journal from the beginning, and the run markers keep rows from being written twice).
extension TelemetryWriter {
    /// The steps after which a test can make rotation stop as a crash would.
    enum RotationStep: Sendable { case monthFilesWritten, liveJournalReplaced }

    /// Thrown instead of finishing, where a test asked for a crash.
    struct SimulatedCrash: Error {}

    /// `.agentos/telemetry-YYYY-MM.jsonl`.
    func monthJournalPath(_ month: String) -> String { store.vault.stateDirectory + "/telemetry-\(month).jsonl" }

    /// The lock appends and rotation share (`flock` on `.agentos/telemetry.lock`).
    var journalLockPath: String { store.vault.stateDirectory + "/telemetry.lock" }

    /// Moves lines of months before `now`'s out of the live journal, if its first line is from one.
    /// Returns how many lines moved. `crashAfter` is for tests.
    @discardableResult
    func rotateIfDue(now: Date = Date(), crashAfter: RotationStep? = nil) throws -> Int {
        let current = LocalTime.month(now)
        guard let first = firstJournalMonth(), first < current else { return 0 }
        let lock = try FileLock(waitingFor: journalLockPath)
        defer { withExtendedLifetime(lock) {} }
        // 1. Rows and daily lines of every line, before any line leaves the file they are rebuilt from.
        try rebuildFromJournal()
        let bytes = TelemetryWriter.readJournal(journalPath, from: 0)
        guard let lastNewline = bytes.lastIndex(of: 0x0A) else { return 0 }
        var past: [String: [ArraySlice<UInt8>]] = [:]
        var kept: [UInt8] = []
        for line in bytes[...lastNewline].split(separator: 0x0A) {
            if let month = TelemetryWriter.month(of: line), month < current {
                past[month, default: []].append(line)
            } else {
                kept += line + [0x0A]
            }
        }
        guard !past.isEmpty else { return 0 }
        // 2. Each month file: what it had, plus the lines it lacks (by run id).
        var moved = 0
        for (month, lines) in past.sorted(by: { $0.key < $1.key }) {
            let path = monthJournalPath(month)
            var out = TelemetryWriter.readJournal(path, from: 0)
            if let last = out.last, last != 0x0A { out.append(0x0A) }
            var ids = Set(out.split(separator: 0x0A).compactMap(TelemetryWriter.runID(of:)))
            for line in lines where TelemetryWriter.runID(of: line).map({ ids.insert($0).inserted }) ?? true {
                out += line + [0x0A]
            }
            try FileSystem.replaceDurably(path, bytes: out, mode: 0o600)
            moved += lines.count
        }
        if crashAfter == .monthFilesWritten { throw SimulatedCrash() }
        // 3. The live journal keeps this month's lines (a line cut short by a crash stays at the end).
        try FileSystem.replaceDurably(journalPath, bytes: kept + bytes[(lastNewline + 1)...], mode: 0o600)
        if crashAfter == .liveJournalReplaced { throw SimulatedCrash() }
        // 4. Every kept line had its rows written in step 1.
        try writeCheckpoint(kept.count)
        return moved
    }

    /// The month (`YYYY-MM`) of the live journal's first line, read from its first bytes.
    func firstJournalMonth() -> String? {
        guard let handle = FileHandle(forReadingAtPath: journalPath) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 4096), let end = data.firstIndex(of: 0x0A) else { return nil }
        return TelemetryWriter.month(of: [UInt8](data[data.startIndex..<end])[...])
    }

    /// The month of a journal line's `time` (`nil` for a line that is not one).
    static func month(of line: ArraySlice<UInt8>) -> String? {
        guard let time = (try? JSON.parse(String(decoding: line, as: UTF8.self)))?["time"]?.stringValue, time.count >= 7 else { return nil }
        return String(time.prefix(7))
    }

    /// The run id of a journal line.
    static func runID(of line: ArraySlice<UInt8>) -> String? {
        (try? JSON.parse(String(decoding: line, as: UTF8.self)))?["run_id"]?.stringValue
    }
}

import Foundation

/// The telemetry of finished runs as the task engine writes it: the JSON line at once, fsynced (the
/// journal); the rows of `Telemetry/<day>.md` and the lines of the daily note in batches, so a burst
/// of runs does not rewrite and fsync those growing notes once per run. A batch is written 100 ms
/// after its first entry, or, when the last batch took longer than 10 ms (the notes grow all day),
/// ten times what it took (at most 2 s): a burst spends at most about a tenth of a core on them.
/// A crash that cuts a batch loses nothing: the next start rebuilds the missing rows and lines from
/// the journal (`rebuild`). A run already in the journal is not recorded again (recovery paths may
/// see a run twice).
final class TelemetryBatcher: Sendable {
    /// Writes the journal line, the rows and the daily lines.
    let telemetry: TelemetryWriter
    /// Where failures are reported.
    let log: @Sendable (EngineEvent) -> Void
    /// Told of every note a batch wrote, with its hash (the engine then knows the write as its own).
    let wrote: @Sendable (String, ContentHash) -> Void

    /// The run ids known to be in the journal, and how far the journal was read for them.
    private struct Journal {
        var runIDs = Set<String>()
        var scanned = 0
    }

    /// Entries waiting for their rows and daily lines, and whether a flush is scheduled.
    private struct Pending {
        var entries: [TelemetryRecord] = []
        var scheduled = false
        /// The month the journal was last checked for rotation in.
        var rotationChecked: String?
        /// Seconds the last batch took to write.
        var lastFlushSeconds = 0.0
    }

    private let journal = Locked(Journal())
    private let pending = Locked(Pending())
    private let queue = DispatchQueue(label: "fbt.telemetry")

    /// A batcher writing through `telemetry`.
    init(telemetry: TelemetryWriter, log: @escaping @Sendable (EngineEvent) -> Void, wrote: @escaping @Sendable (String, ContentHash) -> Void) {
        self.telemetry = telemetry
        self.log = log
        self.wrote = wrote
    }

    /// Records a finished run: its journal line now, its rows and daily lines with the next batch.
    func record(_ record: RunRecord, duration: Double, time: Date, execution: AgentExecution? = nil) {
        if let entry = journal(record, duration: duration, time: time, execution: execution) { queueNotes(entry) }
    }

    /// Appends the run's journal line unless the journal has it already; returns the entry written.
    /// `contextTruncation` says the run's packet was cut to its agent's budget; `execution` (when an
    /// agent ran) gives the cost's source, the files touched and whether the tokens were guessed.
    /// `isPrivate` is true for a run routing judged private (a public one is judged again where its
    /// record is shown, from its task and result as they are then).
    func journal(_ record: RunRecord, duration: Double, time: Date, contextTruncation: ContextTruncation? = nil, execution: AgentExecution? = nil, isPrivate: Bool? = nil) -> TelemetryRecord? {
        var entry = TelemetryRecord(time: time, runID: record.runID, taskPath: record.taskPath, kind: record.kind, agent: record.agent ?? "", model: record.model, lane: record.lane ?? "", rule: record.rule, reason: record.reason, costUSD: record.costUSD, tokensIn: record.tokensIn, tokensOut: record.tokensOut, durationSeconds: duration, outcome: record.state.rawValue, resultPath: record.resultPath, error: record.error)
        entry.contextTruncation = contextTruncation
        entry.isPrivate = isPrivate
        if let execution {
            entry.costSource = record.costUSD == nil ? nil : execution.costSource
            entry.files = execution.files
            entry.tokensEstimated = execution.tokensEstimated
        }
        entry.failure = record.failure
        // Held across the look and the append, so two threads recording one run write one line.
        return journal.withLock { known -> TelemetryRecord? in
            if isJournaled(record.runID, in: &known) { return nil }
            do { try telemetry.appendJSONLine(entry) } catch {
                log(EngineEvent(level: .error, message: "telemetry: \(error)"))
                return nil
            }
            known.runIDs.insert(record.runID)
            return entry
        }
    }

    /// Whether the journal holds a line for this run (reading any lines appended since the last look,
    /// also by other processes).
    func isJournaled(_ runID: String) -> Bool { journal.withLock { isJournaled(runID, in: &$0) } }

    private func isJournaled(_ runID: String, in known: inout Journal) -> Bool {
        if known.runIDs.contains(runID) { return true }
        // Rotation rewrote the journal shorter: read it again from the start (ids already known stay known).
        if Int((try? FileSystem.status(telemetry.journalPath))??.size ?? 0) < known.scanned { known.scanned = 0 }
        let (ids, end) = TelemetryWriter.journalRunIDs(path: telemetry.journalPath, from: known.scanned)
        known.scanned = end
        known.runIDs.formUnion(ids)
        return known.runIDs.contains(runID)
    }

    /// Queues an entry's rows and daily lines for the next batch.
    func queueNotes(_ entry: TelemetryRecord) {
        let delay: Double? = pending.withLock {
            $0.entries.append(entry)
            if $0.scheduled { return nil }
            $0.scheduled = true
            return min(2, max(0.1, 10 * $0.lastFlushSeconds))
        }
        if let delay {
            queue.asyncAfter(deadline: .now() + delay) { [self] in flushNow() }
        }
    }

    /// Writes the pending rows and daily lines (call on `queue`).
    private func flushNow() {
        let batch: [TelemetryRecord] = pending.withLock { waiting in
            waiting.scheduled = false
            defer { waiting.entries.removeAll() }
            return waiting.entries
        }
        guard !batch.isEmpty else { return }
        let started = Date()
        do {
            noteWritten(try telemetry.appendToNotes(batch))
        } catch {
            // A person's process holding the note open (an outside attack: "changed on disk since
            // it was read; re-read it and try again", said to nobody, of a note nobody changed).
            if case .conflict(let path, _, _)? = error as? NoteWriteError, telemetry.store.hasWriters(path) {
                log(EngineEvent(level: .error, message: "telemetry: \(path): another process keeps it open for writing; \(batch.count) run line(s) not added now (the next start adds them from the journal)"))
            } else {
                log(EngineEvent(level: .error, message: "telemetry: \(error)"))
            }
        }
        let took = Date().timeIntervalSince(started)
        pending.withLock { $0.lastFlushSeconds = took }
        // Once a month, a watcher that runs across its start moves last month's lines out.
        let month = LocalTime.month(Date())
        if pending.withLock({ state in
            defer { state.rotationChecked = month }
            return state.rotationChecked != month
        }) { rotate() }
    }

    /// Moves earlier months' journal lines to their month files (see `TelemetryWriter.rotateIfDue`).
    func rotate() {
        do {
            let moved = try telemetry.rotateIfDue()
            if moved > 0 { log(EngineEvent(level: .info, message: "telemetry: moved \(moved) line(s) of earlier months to their month files")) }
        } catch {
            log(EngineEvent(level: .error, message: "telemetry: cannot rotate the journal: \(error)"))
        }
    }

    /// Writes pending rows and daily lines now (at shutdown, and when a caller waits for the engine).
    func flush() {
        queue.sync { flushNow() }
    }

    /// Writes the rows and daily lines of journal lines that lack them (after a crash), exactly once.
    func rebuild() {
        do {
            let (ids, notes) = try telemetry.rebuildFromJournal()
            noteWritten(notes)
            rotate()
            if !notes.isEmpty {
                log(EngineEvent(level: .warning, message: "telemetry: rebuilt missing rows and daily lines from the journal (\(ids.count) run(s) checked)"))
            }
        } catch {
            log(EngineEvent(level: .error, message: "telemetry: cannot rebuild from the journal: \(error)"))
        }
    }

    private func noteWritten(_ paths: [String]) {
        for path in paths {
            if let hash = try? telemetry.store.read(path).hash { wrote(path, hash) }
        }
    }
}

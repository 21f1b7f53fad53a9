import Foundation

/// One finished run, as recorded in telemetry.
public struct TelemetryRecord: Sendable {
    public var time: Date
    public var runID: String
    public var taskPath: String
    public var kind: String
    public var agent: String
    public var model: String?
    public var lane: String
    public var rule: String?
    public var reason: String?
    public var costUSD: Double?
    public var tokensIn: Int?
    public var tokensOut: Int?
    public var durationSeconds: Double
    public var outcome: String
    public var resultPath: String?
    public var error: String?
    /// Whether the run's input was private; `nil` when the caller does not know, and then the writer
    /// judges it from the task and result notes (`TelemetryWriter.isPrivate`).
    public var isPrivate: Bool?
    /// Set when the run's context packet was cut to its agent's budget (`truncate: allow`).
    public var contextTruncation: ContextTruncation?
    /// Where `costUSD` comes from (`nil` when there is no cost).
    public var costSource: CostSource?
    /// The files the run created, changed or deleted, and how the OS knows.
    public var files: [TouchedFile] = []
    /// The token counts were guessed from text (characters ÷ 4).
    public var tokensEstimated = false
    /// The failure class of a failed run (`usage_limit`, `rate_limited`, …), when it has one.
    public var failure: String?

    public init(time: Date, runID: String, taskPath: String, kind: String = "task", agent: String, model: String?, lane: String, rule: String?, reason: String?, costUSD: Double?, tokensIn: Int?, tokensOut: Int?, durationSeconds: Double, outcome: String, resultPath: String?, error: String?) {
        self.time = time
        self.runID = runID
        self.taskPath = taskPath
        self.kind = kind
        self.agent = agent
        self.model = model
        self.lane = lane
        self.rule = rule
        self.reason = reason
        self.costUSD = costUSD
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.durationSeconds = durationSeconds
        self.outcome = outcome
        self.resultPath = resultPath
        self.error = error
    }

    /// The JSON line written to `.agentos/telemetry.jsonl`.
    public var json: JSON {
        var pairs: [(String, JSON)] = [
            ("time", .string(LocalTime.dateTime(time))),
            ("run_id", .string(runID)),
            ("task", .string(taskPath)),
            ("kind", .string(kind)),
            ("harness", .string(agent)),
            ("model", model.map { .string($0) } ?? .null),
            ("lane", .string(lane)),
            ("rule", rule.map { .string($0) } ?? .null),
            ("reason", reason.map { .string($0) } ?? .null),
            ("cost_usd", costUSD.map { .double($0) } ?? .null),
            ("tokens_in", tokensIn.map { .int($0) } ?? .null),
            ("tokens_out", tokensOut.map { .int($0) } ?? .null),
            ("duration_s", .double((durationSeconds * 1000).rounded() / 1000)),
            ("outcome", .string(outcome)),
        ]
        if let resultPath { pairs.append(("result", .string(resultPath))) }
        if let error { pairs.append(("error", .string(error))) }
        if let failure { pairs.append(("failure", .string(failure))) }
        if let isPrivate { pairs.append(("private", .bool(isPrivate))) }
        if let cut = contextTruncation {
            pairs += [("context_truncated", .bool(true)), ("context_tokens_sent", .int(cut.tokensSent)), ("context_tokens_left_out", .int(cut.tokensLeftOut))]
        }
        if let costSource { pairs.append(("cost_source", .string(costSource.rawValue))) }
        if tokensEstimated { pairs.append(("tokens_estimated", .bool(true))) }
        if !files.isEmpty { pairs.append(("files", .array(files.map(\.json)))) }
        return .object(pairs)
    }
}

extension TelemetryRecord {
    /// Reads a record back from its journal line (`nil` for a line that is not one, e.g. cut short).
    public init?(journalLine line: String) {
        guard let json = try? JSON.parse(line), let runID = json["run_id"]?.stringValue, let task = json["task"]?.stringValue,
              let timeText = json["time"]?.stringValue, let time = TelemetryRecord.localDate(timeText) else { return nil }
        self.init(time: time, runID: runID, taskPath: task, kind: json["kind"]?.stringValue ?? "task", agent: json["harness"]?.stringValue ?? "",
                  model: json["model"]?.stringValue, lane: json["lane"]?.stringValue ?? "", rule: json["rule"]?.stringValue,
                  reason: json["reason"]?.stringValue, costUSD: json["cost_usd"]?.doubleValue, tokensIn: json["tokens_in"]?.intValue,
                  tokensOut: json["tokens_out"]?.intValue, durationSeconds: json["duration_s"]?.doubleValue ?? 0,
                  outcome: json["outcome"]?.stringValue ?? "", resultPath: json["result"]?.stringValue, error: json["error"]?.stringValue)
        // A rebuilt row of a private run stays as private as the row the run wrote.
        isPrivate = json["private"]?.boolValue
        costSource = json["cost_source"]?.stringValue.flatMap(CostSource.init(rawValue:))
        tokensEstimated = json["tokens_estimated"]?.boolValue ?? false
        files = (json["files"]?.arrayValue ?? []).compactMap(TouchedFile.init(json:))
        failure = json["failure"]?.stringValue
        if json["context_truncated"]?.boolValue == true {
            contextTruncation = ContextTruncation(tokensSent: json["context_tokens_sent"]?.intValue ?? 0, tokensLeftOut: json["context_tokens_left_out"]?.intValue ?? 0, ownTextCut: true)
        }
    }

    /// Parses `LocalTime.dateTime` text (`2026-11-26T07:45:12`, local time) back into a date.
    public static func localDate(_ text: String) -> Date? {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == "T" || $0 == ":" }).compactMap { Int32($0) }
        guard parts.count == 6 else { return nil }
        var t = tm()
        t.tm_year = parts[0] - 1900; t.tm_mon = parts[1] - 1; t.tm_mday = parts[2]
        t.tm_hour = parts[3]; t.tm_min = parts[4]; t.tm_sec = parts[5]; t.tm_isdst = -1
        let seconds = mktime(&t)
        return seconds == -1 ? nil : Date(timeIntervalSince1970: Double(seconds))
    }
}

/// Writes telemetry: a table row in `Telemetry/YYYY-MM-DD.md`, a JSON line in `.agentos/telemetry.jsonl`
/// (earlier months' lines move to `telemetry-YYYY-MM.jsonl`, see `rotateIfDue`), and a line in the
/// daily note `Daily/YYYY-MM-DD.md`.
public struct TelemetryWriter: Sendable {
    public let store: NoteStore

    public init(store: NoteStore) { self.store = store }

    /// The telemetry note path for a day.
    public static func notePath(_ date: Date) -> String { Vault.Layout.telemetry + "/" + LocalTime.day(date) + ".md" }
    /// The daily note path for a day.
    public static func dailyPath(_ date: Date) -> String { Vault.Layout.daily + "/" + LocalTime.day(date) + ".md" }

    static let tableHeader = "| time | task | harness | model | lane | cost_usd | tokens_in | tokens_out | duration_s | outcome | files |\n|---|---|---|---|---|---|---|---|---|---|---|\n"

    /// Records one finished run everywhere.
    public func record(_ record: TelemetryRecord) throws {
        try appendJSONLine(record)
        try appendToNotes([record])
    }

    /// The machine-readable line in `.agentos/telemetry.jsonl` (one `O_APPEND` write, fsynced before
    /// it returns): the journal from which the rows and daily lines are rebuilt after a crash.
    public func appendJSONLine(_ record: TelemetryRecord) throws {
        // The first line a journal-aware writer adds starts the checkpoint: older lines (written before
        // rows and daily lines carried run markers) were flushed by the version that wrote them.
        if (try? FileSystem.status(checkpointPath)) ?? nil == nil {
            try writeCheckpoint(Int((try? FileSystem.status(journalPath))??.size ?? 0))
        }
        // Rotation replaces the journal under this lock: an append waits rather than land in the old file.
        let lock = try FileLock(waitingFor: journalLockPath)
        defer { withExtendedLifetime(lock) {} }
        try FileSystem.append(Array((record.json.compact + "\n").utf8), to: journalPath, sync: true)
    }

    /// `.agentos/telemetry.jsonl`.
    public var journalPath: String { store.vault.stateDirectory + "/telemetry.jsonl" }

    /// `.agentos/telemetry.checkpoint`: the journal offset up to which every line is known to have its
    /// row and daily line, so a rebuild reads only what came after (and a line a person deleted from
    /// an older daily note is not put back).
    var checkpointPath: String { store.vault.stateDirectory + "/telemetry.checkpoint" }

    /// The marker that ties a row or a daily line to its run, so that each is written exactly once
    /// (an HTML comment: Obsidian and other Markdown renderers do not show it).
    public static func marker(_ runID: String) -> String { markerPrefix + runID + " -->" }
    /// How every run marker starts.
    public static let markerPrefix = "<!-- run:"

    /// The table rows and daily-log lines of several runs, one compare-and-swap write per note.
    /// Returns the notes written.
    @discardableResult
    public func appendToNotes(_ records: [TelemetryRecord]) throws -> [String] {
        var written: [String] = []
        // The rules are read only when some record does not say whether its run was private.
        var judge: PrivateRunJudge?
        func judged(_ record: TelemetryRecord) -> Bool {
            if let known = record.isPrivate { return known }
            if judge == nil { judge = PrivateRunJudge(store: store) }
            return judge!.isPrivate(record)
        }
        for (day, group) in Dictionary(grouping: records, by: { LocalTime.day($0.time) }).sorted(by: { $0.key < $1.key }) {
            let first = group[0].time
            // Taint follows the data: a private run's public row and daily line say only
            // `private run <id>`; the full ones go to the private companion notes. Each row and line
            // carries its run's marker; one already there is not written again (a rebuild after a
            // crash, or two processes recording the same run).
            let marked = group.map { ($0, judged($0)) }
            let isPrivate = Dictionary(marked.map { ($0.0.runID, $0.1) }, uniquingKeysWith: { a, b in a || b })
            if try appendOnce(group, to: TelemetryWriter.notePath(first), header: TelemetryWriter.noteHeader(first), totals: true, render: {
                TelemetryWriter.row($0, isPrivate: isPrivate[$0.runID] ?? true).dropLast() + " " + TelemetryWriter.marker($0.runID) + "\n"
            }) { written.append(TelemetryWriter.notePath(first)) }
            let dailyHeader = "---\ntype: daily\ndate: \(day)\n---\n# \(day)\n\n## Agent runs\n\n"
            if try appendOnce(group, to: TelemetryWriter.dailyPath(first), header: dailyHeader, render: {
                TelemetryWriter.dailyLine($0, isPrivate: isPrivate[$0.runID] ?? true) + " " + TelemetryWriter.marker($0.runID) + "\n"
            }) { written.append(TelemetryWriter.dailyPath(first)) }
            let privateRuns = marked.filter(\.1).map(\.0)
            if !privateRuns.isEmpty {
                if try appendOnce(privateRuns, to: TelemetryWriter.privateNotePath(first), header: TelemetryWriter.privateNoteHeader(first), totals: true, render: {
                    TelemetryWriter.row($0).dropLast() + " " + TelemetryWriter.marker($0.runID) + "\n"
                }) { written.append(TelemetryWriter.privateNotePath(first)) }
                if try appendOnce(privateRuns, to: TelemetryWriter.privateDailyPath(first), header: TelemetryWriter.privateDailyHeader(first), render: {
                    TelemetryWriter.dailyLine($0) + " " + TelemetryWriter.marker($0.runID) + "\n"
                }) { written.append(TelemetryWriter.privateDailyPath(first)) }
            }
        }
        return written
    }

    /// Appends the rendering of each record whose marker the note does not hold yet, by `update`
    /// (a lost race re-reads the note and looks at the markers again). With `totals`, the note's
    /// totals line is worked out again in the same write. Returns whether anything was written.
    private func appendOnce(_ records: [TelemetryRecord], to path: String, header: String, totals: Bool = false, render: (TelemetryRecord) -> String) throws -> Bool {
        let outcome = try store.update(path) { existing in
            var seen = TelemetryWriter.markedRunIDs(in: existing?.text ?? "")
            let missing = records.filter { seen.insert($0.runID).inserted }
            if missing.isEmpty { return .keep }
            // In the note's own line endings (a CRLF note got LF lines, and its totals line, ending
            // in CR, was not found and was written again beside the stale one: round 46).
            let appended = NoteStore.appending(Array(missing.map(render).joined().utf8), to: existing?.bytes ?? Array(header.utf8))
            guard totals else { return .write(appended) }
            return .write(TelemetryTotals.refresh(bytes: appended))
        }
        if case .written = outcome { return true }
        return false
    }

    /// The run ids of every marker in a note (one pass, so a rebuild of thousands of runs stays linear).
    static func markedRunIDs(in text: String) -> Set<String> {
        // A byte scan: Foundation's `range(of:)` on a long note bridges it to UTF-16 on every call,
        // which made each batch quadratic in the day's rows (the watcher's hottest path in a burst).
        var ids = Set<String>()
        let open = Array("<!-- run:".utf8), close = Array(" -->".utf8)
        var text = text
        text.withUTF8 { bytes in
            var i = 0
            while let start = TelemetryWriter.find(open, in: bytes, from: i) {
                let idStart = start + open.count
                guard let end = TelemetryWriter.find(close, in: bytes, from: idStart) else { break }
                ids.insert(String(decoding: UnsafeBufferPointer(rebasing: bytes[idStart..<end]), as: UTF8.self))
                i = end + close.count
            }
        }
        return ids
    }

    /// The first index at or after `from` where `needle` occurs in `bytes`.
    static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var i = from
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// Rebuilds the rows and daily lines of every journal line since the checkpoint that lacks them
    /// (a crash cut the batch that would have written them), then moves the checkpoint. Safe to
    /// crash at any point: each append is atomic and skips runs whose marker is already there.
    /// Returns the run ids rebuilt and the notes written.
    @discardableResult
    public func rebuildFromJournal() throws -> (runIDs: [String], notes: [String]) {
        guard (try? FileSystem.status(checkpointPath)) ?? nil != nil else {
            // A journal from before checkpoints: its lines were flushed by the version that wrote them.
            try writeCheckpoint(Int((try? FileSystem.status(journalPath))??.size ?? 0))
            return ([], [])
        }
        let start = Int((try? FileSystem.read(checkpointPath))
            .flatMap { Int(String(decoding: $0.bytes, as: UTF8.self).trimmingWhitespacesAndNewlines()) } ?? 0)
        let size = Int((try? FileSystem.status(journalPath))??.size ?? 0)
        // A journal shorter than the checkpoint was replaced: read it all again; so is one whose
        // checkpoint is below 0 (`-1` stopped the watcher at every start: an outside attack).
        let from = (0...max(0, size)).contains(start) ? start : 0
        let bytes = TelemetryWriter.readJournal(journalPath, from: from)
        // Only whole lines: a line still being appended by another process is left for next time.
        guard let lastNewline = bytes.lastIndex(of: 0x0A) else { return ([], []) }
        var records: [TelemetryRecord] = []
        for line in bytes[...lastNewline].split(separator: 0x0A) {
            if let record = TelemetryRecord(journalLine: String(decoding: line, as: UTF8.self)) { records.append(record) }
        }
        let notes = try appendToNotes(records)
        try writeCheckpoint(from + lastNewline + 1)
        return (notes.isEmpty ? [] : records.map(\.runID), notes)
    }

    /// Replaces the checkpoint atomically.
    func writeCheckpoint(_ offset: Int) throws {
        try store.replace(Vault.Layout.state + "/telemetry.checkpoint", with: Array(String(offset).utf8))
    }

    /// Run ids in the journal from byte `offset` on, and the offset after the last whole line.
    static func journalRunIDs(path: String, from offset: Int) -> (ids: [String], end: Int) {
        let tail = readJournal(path, from: offset)
        guard let lastNewline = tail.lastIndex(of: 0x0A) else { return ([], offset) }
        var ids: [String] = []
        for line in tail[...lastNewline].split(separator: 0x0A) {
            if let id = (try? JSON.parse(String(decoding: line, as: UTF8.self)))?["run_id"]?.stringValue { ids.append(id) }
        }
        return (ids, offset + lastNewline + 1)
    }

    /// The journal's bytes from `offset` on (empty when it is shorter or missing).
    static func readJournal(_ path: String, from offset: Int) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        // A checkpoint file holding `-1` stopped the watcher at every start (an outside attack).
        guard offset >= 0, (try? handle.seek(toOffset: UInt64(offset))) != nil, let data = try? handle.readToEnd() else { return [] }
        return [UInt8](data)
    }

    /// Appends a line to the day's daily note, creating it when absent.
    public func appendDaily(_ line: String, at date: Date) throws {
        let day = LocalTime.day(date)
        try store.append(line + "\n", to: TelemetryWriter.dailyPath(date), header: "---\ntype: daily\ndate: \(day)\n---\n# \(day)\n\n## Agent runs\n\n")
    }

    /// The private companion of the day's telemetry note (full rows of private runs).
    public static func privateNotePath(_ date: Date) -> String { Vault.Layout.privateFolder + "/" + notePath(date) }
    /// The private companion of the day's daily note (full lines of private runs and handoffs).
    public static func privateDailyPath(_ date: Date) -> String { Vault.Layout.privateFolder + "/" + dailyPath(date) }

    /// Appends a line to the day's private daily note (under `Private/`, marked `privacy: private`).
    public func appendPrivateDaily(_ line: String, at date: Date) throws {
        try store.append(line + "\n", to: TelemetryWriter.privateDailyPath(date), header: TelemetryWriter.privateDailyHeader(date))
    }

    /// The first lines of a day's private daily note.
    static func privateDailyHeader(_ date: Date) -> String {
        let day = LocalTime.day(date)
        return "---\ntype: daily\ndate: \(day)\nprivacy: private\n---\n# \(day) (private)\n\n## Private agent runs\n\n"
    }

    static func privateNoteHeader(_ date: Date) -> String {
        let day = LocalTime.day(date)
        return "---\ntype: telemetry\ndate: \(day)\nprivacy: private\n---\n# Telemetry \(day) (private)\n\n" + tableHeader
    }

    static func noteHeader(_ date: Date) -> String {
        let day = LocalTime.day(date)
        return "---\ntype: telemetry\ndate: \(day)\n---\n# Telemetry \(day)\n\n" + tableHeader
    }

    /// A wikilink to a vault path, without the `.md` extension.
    public static func link(_ path: String) -> String {
        let stem = path.hasSuffix(".md") ? String(path.dropLast(3)) : path
        guard stem.unicodeScalars.contains(where: breaksWikilink) else { return "[[" + stem + "]]" }
        // A name a wikilink cannot hold (`a|b` would link `a`, `[[x]]` nests, a line break would
        // split the daily line and could forge one): a Markdown link, its path percent-encoded.
        // The shown text with brackets as parentheses: link scanners (ours too) do not honour `\[`.
        var text = ""
        for scalar in NoteScanner.title(ofPath: path).unicodeScalars {
            text.unicodeScalars.append(breaksLine(scalar) ? " " : scalar == "[" ? "(" : scalar == "]" ? ")" : scalar)
        }
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "()[]<>|#^%")
        return "[" + text + "](" + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path) + ")"
    }

    /// Characters a wikilink's target cannot hold as written: `|` (the display text), `#` and `^`
    /// (a heading, a block), brackets, and anything that breaks a line.
    private static func breaksWikilink(_ scalar: Unicode.Scalar) -> Bool {
        "|#^[]".unicodeScalars.contains(scalar) || breaksLine(scalar)
    }

    private static func breaksLine(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// `text` as one table cell: `|` escaped, and every character that ends a line (a control
    /// character, U+2028, U+2029) a space — a carriage return in a task's `model:` cut the row and
    /// forged a line of the day's table (an outside attack).
    static func cell(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { breaksLine($0) ? " " : $0 })).replacingOccurrences(of: "|", with: "\\|")
    }

    static func money(_ cost: Double?) -> String {
        guard let cost else { return "" }
        return String(format: "%.4f", cost)
    }

    /// The cost with its source (`0.1000 reserved`), so that no figure is shown without saying how it is known.
    static func money(_ cost: Double?, _ source: CostSource?) -> String {
        guard cost != nil else { return "" }
        return money(cost) + (source.map { " " + $0.rawValue } ?? "")
    }

    /// The files cell: links for a public run; only how many for a private one (their names are private too).
    static func filesCell(_ r: TelemetryRecord, isPrivate: Bool) -> String {
        guard !r.files.isEmpty else { return "" }
        if isPrivate { return r.files.count == 1 ? "1 file" : "\(r.files.count) files" }
        return r.files.map { $0.shown + ($0.attribution == .during ? " (during)" : "") }.joined(separator: ", ")
    }

    /// A table row; a private run's row names no task (`private run <run id>`), nor its token counts
    /// (for a local agent the OS's own measure of the private packet: how long each private prompt
    /// was, for any cloud agent reading the day's telemetry; round 54). The private companion row
    /// and the journal (which `report` sums) keep them.
    static func row(_ r: TelemetryRecord, isPrivate: Bool) -> String {
        guard isPrivate else { return row(r) }
        var shown = r
        shown.tokensIn = nil
        shown.tokensOut = nil
        shown.contextTruncation = r.contextTruncation.map { ContextTruncation(tokensSent: 0, tokensLeftOut: 0, ownTextCut: $0.ownTextCut) }
        return row(shown, task: "private run \(r.runID)", files: filesCell(r, isPrivate: true))
    }

    /// A private run's line in the public daily note: no title, no link.
    static func dailyLine(_ r: TelemetryRecord, isPrivate: Bool) -> String {
        guard isPrivate else { return dailyLine(r) }
        let time = String(LocalTime.time(r.time).prefix(5))
        var line = "- \(time) private run \(oneLineID(r.runID)) → \(r.agent) (\(r.lane)): \(outcomeWithFailure(r))"
        if let cost = r.costUSD, cost > 0 { line += String(format: ", $%.4f", cost) + (r.costSource.map { " " + $0.rawValue } ?? "") }
        return line
    }

    private static func oneLineID(_ id: String) -> String {
        String(id.map { $0.isNewline ? " " : $0 })
    }

    static func row(_ r: TelemetryRecord) -> String {
        row(r, task: link(r.taskPath), files: filesCell(r, isPrivate: false))
    }

    private static func row(_ r: TelemetryRecord, task: String, files: String) -> String {
        let cells = [
            LocalTime.time(r.time), task, r.agent, r.model ?? "", r.lane, money(r.costUSD, r.costSource),
            r.tokensIn.map(String.init) ?? "", r.tokensOut.map(String.init) ?? "", String(format: "%.2f", r.durationSeconds), outcomeCell(r), files,
        ].map(cell)
        return "| " + cells.joined(separator: " | ") + " |\n"
    }

    /// The outcome, with a cut context packet said in so many words (`done, context truncated: 70000 tokens left out`).
    static func outcomeCell(_ r: TelemetryRecord) -> String {
        guard let cut = r.contextTruncation else { return outcomeWithFailure(r) }
        guard cut.tokensLeftOut > 0 else { return outcomeWithFailure(r) + ", context truncated" }
        return outcomeWithFailure(r) + ", context truncated: \(cut.tokensLeftOut) tokens left out"
    }

    /// The outcome with the failure class of a failed run (`failed (usage_limit)`).
    static func outcomeWithFailure(_ r: TelemetryRecord) -> String {
        r.failure.map { "\(r.outcome) (\($0))" } ?? r.outcome
    }

    static func dailyLine(_ r: TelemetryRecord) -> String {
        let time = String(LocalTime.time(r.time).prefix(5))
        var line = "- \(time) \(link(r.taskPath)) → \(r.agent) (\(r.lane)): \(outcomeWithFailure(r))"
        if let cost = r.costUSD, cost > 0 { line += String(format: ", $%.4f", cost) + (r.costSource.map { " " + $0.rawValue } ?? "") }
        if let resultPath = r.resultPath { line += " — " + link(resultPath) }
        return line
    }
}

/// Decides whether a finished run was private when its record does not say: its task is private
/// (the note itself, or a private note it pulls in — `Privacy.reason(for:)`), its result note is
/// private, or the task note cannot be read to tell. Loads the rules once.
struct PrivateRunJudge {
    let store: NoteStore
    private let book: RuleBook
    private let links: LinkResolver

    init(store: NoteStore) {
        self.store = store
        book = RuleBook.load(vault: store.vault)
        links = LinkResolver(vault: store.vault)
    }

    func isPrivate(_ record: TelemetryRecord) -> Bool {
        let guardrails = book.guardrails
        if let resultPath = record.resultPath, Privacy.reason(ofNoteAt: resultPath, store: store, guardrails: guardrails) != nil { return true }
        if Privacy.privateFolder(containing: record.taskPath, guardrails: guardrails) != nil { return true }
        let snapshot: NoteSnapshot?
        do { snapshot = try store.readIfPresent(record.taskPath) } catch { return true }
        guard let snapshot else { return false } // gone: judged by its path and result note above
        guard let note = try? Note.parse(bytes: snapshot.bytes) else { return true }
        let facts = TaskFacts.from(note: note, path: record.taskPath, vault: store.vault, ruleBook: book, links: links)
        return Privacy.reason(for: facts, guardrails: guardrails) != nil
    }
}

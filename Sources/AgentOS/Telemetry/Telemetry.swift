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
        if let isPrivate { pairs.append(("private", .bool(isPrivate))) }
        return .object(pairs)
    }
}

/// Writes telemetry: a table row in `Telemetry/YYYY-MM-DD.md`, a JSON line in `.agentos/telemetry.jsonl`,
/// and a line in the daily note `Daily/YYYY-MM-DD.md`.
public struct TelemetryWriter: Sendable {
    public let store: NoteStore

    public init(store: NoteStore) { self.store = store }

    /// The telemetry note path for a day.
    public static func notePath(_ date: Date) -> String { Vault.Layout.telemetry + "/" + LocalTime.day(date) + ".md" }
    /// The daily note path for a day.
    public static func dailyPath(_ date: Date) -> String { Vault.Layout.daily + "/" + LocalTime.day(date) + ".md" }

    static let tableHeader = "| time | task | harness | model | lane | cost_usd | tokens_in | tokens_out | duration_s | outcome |\n|---|---|---|---|---|---|---|---|---|---|\n"

    /// Records one finished run everywhere.
    public func record(_ record: TelemetryRecord) throws {
        try appendJSONLine(record)
        try appendToNotes([record])
    }

    /// The machine-readable line in `.agentos/telemetry.jsonl` (one `O_APPEND` write, at once).
    public func appendJSONLine(_ record: TelemetryRecord) throws {
        try FileSystem.append(Array((record.json.compact + "\n").utf8), to: store.vault.stateDirectory + "/telemetry.jsonl")
    }

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
            // `private run <id>`; the full ones go to the private companion notes.
            let marked = group.map { ($0, judged($0)) }
            try store.append(marked.map { TelemetryWriter.row($0.0, isPrivate: $0.1) }.joined(), to: TelemetryWriter.notePath(first), header: TelemetryWriter.noteHeader(first))
            try appendDaily(marked.map { TelemetryWriter.dailyLine($0.0, isPrivate: $0.1) }.joined(separator: "\n"), at: first)
            written += [TelemetryWriter.notePath(first), TelemetryWriter.dailyPath(first)]
            let privateRuns = marked.filter(\.1).map(\.0)
            if !privateRuns.isEmpty {
                try store.append(privateRuns.map { TelemetryWriter.row($0) }.joined(), to: TelemetryWriter.privateNotePath(first), header: TelemetryWriter.privateNoteHeader(first))
                try appendPrivateDaily(privateRuns.map { TelemetryWriter.dailyLine($0) }.joined(separator: "\n"), at: first)
                written += [TelemetryWriter.privateNotePath(first), TelemetryWriter.privateDailyPath(first)]
            }
            _ = day
        }
        return written
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
        let day = LocalTime.day(date)
        try store.append(line + "\n", to: TelemetryWriter.privateDailyPath(date), header: "---\ntype: daily\ndate: \(day)\nprivacy: private\n---\n# \(day) (private)\n\n## Private agent runs\n\n")
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
        "[[" + (path.hasSuffix(".md") ? String(path.dropLast(3)) : path) + "]]"
    }

    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    static func money(_ cost: Double?) -> String {
        guard let cost else { return "" }
        return String(format: "%.4f", cost)
    }

    /// A table row; a private run's row names no task (`private run <run id>`).
    static func row(_ r: TelemetryRecord, isPrivate: Bool) -> String {
        row(r, task: isPrivate ? "private run \(r.runID)" : link(r.taskPath))
    }

    /// A private run's line in the public daily note: no title, no link.
    static func dailyLine(_ r: TelemetryRecord, isPrivate: Bool) -> String {
        guard isPrivate else { return dailyLine(r) }
        let time = String(LocalTime.time(r.time).prefix(5))
        var line = "- \(time) private run \(oneLineID(r.runID)) → \(r.agent) (\(r.lane)): \(r.outcome)"
        if let cost = r.costUSD, cost > 0 { line += String(format: ", $%.4f", cost) }
        return line
    }

    private static func oneLineID(_ id: String) -> String {
        String(id.map { $0.isNewline ? " " : $0 })
    }

    static func row(_ r: TelemetryRecord) -> String {
        row(r, task: link(r.taskPath))
    }

    private static func row(_ r: TelemetryRecord, task: String) -> String {
        let cells = [
            LocalTime.time(r.time), task, r.agent, r.model ?? "", r.lane, money(r.costUSD),
            r.tokensIn.map(String.init) ?? "", r.tokensOut.map(String.init) ?? "", String(format: "%.2f", r.durationSeconds), r.outcome,
        ].map(cell)
        return "| " + cells.joined(separator: " | ") + " |\n"
    }

    static func dailyLine(_ r: TelemetryRecord) -> String {
        let time = String(LocalTime.time(r.time).prefix(5))
        var line = "- \(time) \(link(r.taskPath)) → \(r.agent) (\(r.lane)): \(r.outcome)"
        if let cost = r.costUSD, cost > 0 { line += String(format: ", $%.4f", cost) }
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

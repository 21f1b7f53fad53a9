import Foundation

/// How much `memory-test` does: a fixed small sample, or every note.
public enum MemoryTestMode: String, Sendable, CaseIterable {
    /// A seeded sample of notes (a few hundred queries): seconds on a 2,000-note vault.
    case quick
    /// Known-item queries from every note.
    case full

    /// Notes whose text becomes queries (`nil`: all of them).
    public var sampleSize: Int? {
        switch self {
        case .quick: return 100
        case .full: return nil
        }
    }
}

/// The verdict of one check.
public enum CheckStatus: String, Sendable {
    /// The check held.
    case ok
    /// Something is off but memory still works (shown, never fails the run).
    case warn
    /// The check failed: the run exits non-zero.
    case fail
    /// The check could not apply to this vault (e.g. no rule-cases note).
    case skip
}

/// One pass/fail check of the memory test (index integrity, routing, the handoff round trip).
public struct MemoryTestCheck: Sendable {
    /// A short name (`index (copy)`, `routing`, …).
    public var name: String
    /// The verdict.
    public var status: CheckStatus
    /// One line saying what was found.
    public var detail: String
    /// Each problem found, one line each (failing routing cases, mismatching notes, …).
    public var problems: [String]

    /// A check result.
    public init(name: String, status: CheckStatus, detail: String, problems: [String] = []) {
        self.name = name
        self.status = status
        self.detail = detail
        self.problems = problems
    }
}

/// Retrieval quality for one kind of known-item query.
public struct RetrievalFigures: Sendable, Equatable {
    /// `title`, `heading`, `phrase`, or `all`.
    public var kind: String
    /// Queries asked.
    public var queries: Int
    /// Queries whose note came in the first five hits.
    public var foundInTopFive: Int
    /// Sum of 1/rank over the queries (0 when the note is not in the first ten).
    public var reciprocalRankSum: Double

    /// recall@5 in percent (`nan` without queries).
    public var recallAtFive: Double { queries == 0 ? .nan : Double(foundInTopFive) * 100 / Double(queries) }
    /// Mean reciprocal rank over the first ten hits (`nan` without queries).
    public var meanReciprocalRank: Double { queries == 0 ? .nan : reciprocalRankSum / Double(queries) }
}

/// A figure that got worse than the baseline by more than its threshold.
public struct Degradation: Sendable, Equatable {
    /// The figure's key (`recall_at_5[title]`, `mrr`, `latency_p95_ms`).
    public var figure: String
    /// Its value in the baseline.
    public var baseline: Double
    /// Its value now.
    public var current: Double
    /// The threshold that was crossed, in words.
    public var threshold: String

    /// One line: `recall_at_5[title]: 98.0 → 91.0 (-7.0 points; allowed: 2 points)`.
    public var description: String {
        "\(figure): \(MemoryTestReport.format(baseline)) → \(MemoryTestReport.format(current)) (\(threshold))"
    }
}

/// Everything one `memory-test` run found.
public struct MemoryTestReport: Sendable {
    /// `quick` or `full`.
    public var mode: MemoryTestMode
    /// The vault tested (the real one; the work ran on a copy).
    public var vaultRoot: String
    /// Notes in the copy.
    public var notes: Int
    /// Wall time of the whole run in seconds.
    public var seconds: Double = 0
    /// Integrity, routing and round-trip checks.
    public var checks: [MemoryTestCheck] = []
    /// recall@5 and MRR per query kind, then `all`.
    public var retrieval: [RetrievalFigures] = []
    /// Queries whose note was not among the first five hits (the first 20), with the rank it had.
    public var misses: [(query: KnownItemQuery, rank: Int?)] = []
    /// Task retrieval: hit@3 and MRR of the packet's memory retrieval over the task cases.
    public var taskRetrieval: TaskRetrievalCases.Figures?
    /// Median search time in milliseconds.
    public var latencyP50: Double = .nan
    /// 95th-percentile search time in milliseconds.
    public var latencyP95: Double = .nan
    /// Searches timed for the latency figures.
    public var latencySamples = 0
    /// Wall time of each step in seconds (`copy`, `index`, `queries`, `routing`, `handoff`), in order.
    public var phases: [(name: String, seconds: Double)] = []
    /// Figures worse than the baseline beyond their threshold.
    public var degradations: [Degradation] = []
    /// What happened with the baseline: `set` (first run), `compared`, `reset`, `kept` (not updated
    /// because figures got worse).
    public var baselineStatus = "set"
    /// When the baseline compared against was taken (`nil` on a first run).
    public var baselineTime: String?
    /// The baseline's figures (empty on a first run).
    public var baselineFigures: [String: Double] = [:]
    /// The report note written into the vault, if one was.
    public var reportNotePath: String?

    /// A report for a run over `notes` notes.
    public init(mode: MemoryTestMode, vaultRoot: String, notes: Int) {
        self.mode = mode
        self.vaultRoot = vaultRoot
        self.notes = notes
    }

    /// Whether no check failed and no figure degraded.
    public var passed: Bool { !checks.contains { $0.status == .fail } && degradations.isEmpty }

    /// The figures kept in the baseline and compared: `recall_at_5`, `mrr` (overall and `[kind]`),
    /// `task_hit_at_3`, `task_mrr`, `latency_p50_ms`, `latency_p95_ms`.
    public var figures: [String: Double] {
        var result: [String: Double] = [:]
        for r in retrieval where r.queries > 0 {
            let suffix = r.kind == "all" ? "" : "[\(r.kind)]"
            result["recall_at_5" + suffix] = r.recallAtFive
            result["mrr" + suffix] = r.meanReciprocalRank
        }
        if let task = taskRetrieval, task.cases > 0 {
            result["task_hit_at_3"] = task.hitAtThree
            result["task_mrr"] = task.meanReciprocalRank
        }
        if latencyP50.isFinite { result["latency_p50_ms"] = latencyP50 }
        if latencyP95.isFinite { result["latency_p95_ms"] = latencyP95 }
        return result
    }

    /// Every problem that makes the run fail, one line each (failed checks, then degradations).
    public var failures: [String] {
        var lines: [String] = []
        for check in checks where check.status == .fail {
            if check.problems.isEmpty {
                lines.append("\(check.name): \(check.detail)")
            } else {
                lines += check.problems.map { "\(check.name): \($0)" }
            }
        }
        lines += degradations.map { "worse than the baseline: \($0.description)" }
        return lines
    }

    // MARK: Rendering

    /// The report as aligned plain-text tables.
    public var table: String {
        var out: [String] = []
        out.append("memory-test \(mode.rawValue): \(notes) notes (a scratch copy of \(vaultRoot)), \(String(format: "%.1f", seconds)) s")
        out.append("")
        var checkRows: [[String]] = [["check", "result", "detail"]]
        for check in checks {
            checkRows.append([check.name, check.status == .ok ? "ok" : check.status.rawValue.uppercased(), check.detail])
            for problem in check.problems.prefix(20) { checkRows.append(["", "", "  " + problem]) }
            if check.problems.count > 20 { checkRows.append(["", "", "  … and \(check.problems.count - 20) more"]) }
        }
        out.append(MemoryTestReport.align(checkRows))
        out.append("")
        var rows: [[String]] = [["retrieval", "queries", "recall@5", "MRR", "baseline recall@5", "baseline MRR"]]
        for r in retrieval {
            let suffix = r.kind == "all" ? "" : "[\(r.kind)]"
            rows.append([r.kind, String(r.queries), MemoryTestReport.format(r.recallAtFive) + " %", MemoryTestReport.format(r.meanReciprocalRank, digits: 3),
                         baselineFigures["recall_at_5" + suffix].map { MemoryTestReport.format($0) + " %" } ?? "-",
                         baselineFigures["mrr" + suffix].map { MemoryTestReport.format($0, digits: 3) } ?? "-"])
        }
        out.append(MemoryTestReport.align(rows))
        if !misses.isEmpty {
            out.append("not in the first five (first \(min(5, misses.count))):")
            for miss in misses.prefix(5) { out.append("  " + MemoryTestReport.describe(miss)) }
        }
        out.append("")
        let p95Base = baselineFigures["latency_p95_ms"].map { " (baseline \(MemoryTestReport.format($0)) ms)" } ?? ""
        if !phases.isEmpty {
            out.append("time: " + phases.map { "\($0.name) \(String(format: "%.2f", $0.seconds)) s" }.joined(separator: ", "))
        }
        out.append("search latency: p50 \(MemoryTestReport.format(latencyP50)) ms, p95 \(MemoryTestReport.format(latencyP95)) ms\(p95Base) over \(latencySamples) searches")
        switch baselineStatus {
        case "set": out.append("baseline: none yet; this run's figures are now the baseline")
        case "reset": out.append("baseline: replaced by this run's figures")
        case "kept": out.append("baseline: kept from \(baselineTime ?? "an earlier run") (this run is worse; not saved)")
        default: out.append("baseline: compared with \(baselineTime ?? "the previous run"), now updated")
        }
        if !degradations.isEmpty {
            out.append("worse than the baseline:")
            for d in degradations { out.append("  " + d.description) }
        }
        if let reportNotePath { out.append("report: \(reportNotePath)") }
        out.append(passed ? "memory-test: passed" : "memory-test: FAILED — \(failures.first ?? "")" + (failures.count > 1 ? " (and \(failures.count - 1) more)" : ""))
        return out.joined(separator: "\n")
    }

    /// The report as one JSON object.
    public var json: JSON {
        func number(_ value: Double, digits: Double = 10000) -> JSON { value.isFinite ? .double((value * digits).rounded() / digits) : .null }
        // Each part built with its type spelled out: as one literal the expression took seconds to
        // type-check (the slowest in a release build, `-warn-long-expression-type-checking`).
        let phaseFigures: [(String, JSON)] = phases.map { ($0.name, number($0.seconds, digits: 1000)) }
        let checkList: [JSON] = checks.map { (c) -> JSON in
            let problems: [JSON] = c.problems.map { JSON.string($0) }
            return JSON.object([("name", JSON.string(c.name)), ("status", JSON.string(c.status.rawValue)), ("detail", JSON.string(c.detail)), ("problems", JSON.array(problems))])
        }
        let retrievalList: [JSON] = retrieval.map { (r) -> JSON in
            JSON.object([("kind", JSON.string(r.kind)), ("queries", JSON.int(r.queries)), ("recall_at_5", number(r.recallAtFive)), ("mrr", number(r.meanReciprocalRank))])
        }
        let missList: [JSON] = misses.map { (m) -> JSON in
            let rank: JSON = m.rank.map { JSON.int($0) } ?? JSON.null
            return JSON.object([("kind", JSON.string(m.query.kind)), ("query", JSON.string(m.query.text)), ("note", JSON.string(m.query.target)), ("rank", rank)])
        }
        let latency: JSON = .object([("p50_ms", number(latencyP50)), ("p95_ms", number(latencyP95)), ("searches", JSON.int(latencySamples))])
        let baselineKeys: [String] = baselineFigures.keys.sorted()
        let baselineValues: [(String, JSON)] = baselineKeys.map { ($0, number(baselineFigures[$0] ?? .nan)) }
        let baseline: JSON = .object([
            ("status", JSON.string(baselineStatus)),
            ("time", baselineTime.map { JSON.string($0) } ?? JSON.null),
            ("figures", JSON.object(baselineValues)),
        ])
        let degradationList: [JSON] = degradations.map { (d) -> JSON in
            JSON.object([("figure", JSON.string(d.figure)), ("baseline", number(d.baseline)), ("current", number(d.current)), ("threshold", JSON.string(d.threshold))])
        }
        let failureList: [JSON] = failures.map { JSON.string($0) }
        let reportNote: JSON = reportNotePath.map { JSON.string($0) } ?? JSON.null
        let fields: [(String, JSON)] = [
            ("mode", JSON.string(mode.rawValue)),
            ("vault", JSON.string(vaultRoot)),
            ("notes", JSON.int(notes)),
            ("seconds", number(seconds, digits: 1000)),
            ("passed", JSON.bool(passed)),
            ("phases", JSON.object(phaseFigures)),
            ("checks", JSON.array(checkList)),
            ("retrieval", JSON.array(retrievalList)),
            ("misses", JSON.array(missList)),
            ("latency", latency),
            ("baseline", baseline),
            ("degradations", JSON.array(degradationList)),
            ("failures", JSON.array(failureList)),
            ("report_note", reportNote),
        ]
        return .object(fields)
    }

    /// The report note's text: properties with the headline figures, the tables as the body.
    public func noteText(date: Date) -> String {
        var props: [Property] = [
            Property("type", .string("memory-test")),
            Property("mode", .string(mode.rawValue)),
            Property("status", .string(passed ? "passed" : "failed")),
            // One type per property name across the vault (Obsidian keeps one): `date` is a day
            // everywhere the OS writes it, the moment is `created`.
            Property("date", .date(LocalTime.day(date))),
            Property("created", .datetime(LocalTime.dateTime(date))),
            Property("notes", .int(notes)),
            Property("duration_s", .double((seconds * 100).rounded() / 100)),
        ]
        let all = retrieval.first { $0.kind == "all" }
        if let all, all.queries > 0 {
            props.append(Property("queries", .int(all.queries)))
            props.append(Property("recall_at_5", .double((all.recallAtFive * 10).rounded() / 10)))
            props.append(Property("mrr", .double((all.meanReciprocalRank * 1000).rounded() / 1000)))
        }
        if latencyP50.isFinite { props.append(Property("latency_p50_ms", .double((latencyP50 * 1000).rounded() / 1000))) }
        if latencyP95.isFinite { props.append(Property("latency_p95_ms", .double((latencyP95 * 1000).rounded() / 1000))) }
        props.append(Property("failures", .list(failures.map { .string($0) })))
        var text = String(decoding: (try? FrontmatterEditor.apply(set: props, to: [UInt8]())) ?? [], as: UTF8.self)
        text += "# Memory test \(LocalTime.dateTime(date).replacingOccurrences(of: "T", with: " "))\n\n"
        text += "```text\n" + table.replacingOccurrences(of: "```", with: "ˋˋˋ") + "\n```\n"
        return text
    }

    /// One miss: `phrase "ferry hotel fortnight" → Memory/Budget.md: rank 7`.
    static func describe(_ miss: (query: KnownItemQuery, rank: Int?)) -> String {
        "\(miss.query.kind) \"\(miss.query.text)\" → \(miss.query.target): " + (miss.rank.map { "rank \($0)" } ?? "not in the first \(KnownItemQueries.depth)")
    }

    /// A number for people: one decimal above 10, else three significant places; `-` when not a number.
    static func format(_ value: Double, digits: Int? = nil) -> String {
        if !value.isFinite { return "-" }
        if let digits { return String(format: "%.\(digits)f", value) }
        if abs(value) >= 10 { return String(format: "%.1f", value) }
        if abs(value) >= 0.1 { return String(format: "%.2f", value) }
        return String(format: "%.3f", value)
    }

    /// Rows as columns padded to their widest cell (the last column is not padded).
    static func align(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }
}

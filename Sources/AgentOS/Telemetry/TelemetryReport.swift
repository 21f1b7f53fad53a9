import Foundation

/// The telemetry journal as a whole: `.agentos/telemetry.jsonl` and any month files
/// (`telemetry-YYYY-MM.jsonl`) beside it, read as one list of runs.
public enum TelemetryJournal {
    /// The journal files of a vault, oldest month first, the current file last.
    public static func files(vault: Vault) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: vault.stateDirectory)) ?? []
        let months = names.filter { $0.hasPrefix("telemetry-") && $0.hasSuffix(".jsonl") }.sorted()
        return (months + (names.contains("telemetry.jsonl") ? ["telemetry.jsonl"] : [])).map { vault.stateDirectory + "/" + $0 }
    }

    /// Every run recorded, once each (a run id seen twice is counted the first time), in file order.
    /// Lines that do not parse (a line cut short by a crash) are skipped. A run whose cost a person
    /// corrected in the budget ledger (`fuckbigtech budget correct`) carries the corrected figure.
    public static func records(vault: Vault) -> [TelemetryRecord] {
        var seen = Set<String>()
        var records: [TelemetryRecord] = []
        for file in files(vault: vault) {
            let bytes = TelemetryWriter.readJournal(file, from: 0)
            for line in bytes.split(separator: 0x0A) {
                guard let record = TelemetryRecord(journalLine: String(decoding: line, as: UTF8.self)), seen.insert(record.runID).inserted else { continue }
                records.append(record)
            }
        }
        let corrected = corrections(vault: vault)
        for i in records.indices {
            guard let cost = corrected[records[i].runID] else { continue }
            records[i].costUSD = cost
            records[i].costSource = .corrected
        }
        return records
    }

    /// The costs people corrected, by run, from the ledger when the vault has one (reading the
    /// journal never creates it).
    static func corrections(vault: Vault) -> [String: Double] {
        guard FileManager.default.fileExists(atPath: BudgetLedger.path(for: vault)) else { return [:] }
        return (try? BudgetLedger(vault: vault).corrections()) ?? [:]
    }

    /// Spend by cost source today and this month, from the journal (what `status` shows beside the ledger).
    public static func spendBySource(vault: Vault, at date: Date = Date()) -> (day: [CostSource: Double], month: [CostSource: Double]) {
        let day = LocalTime.day(date), month = LocalTime.month(date)
        var byDay: [CostSource: Double] = [:], byMonth: [CostSource: Double] = [:]
        for record in records(vault: vault) {
            guard let cost = record.costUSD, let source = record.costSource, LocalTime.month(record.time) == month else { continue }
            byMonth[source, default: 0] += cost
            if LocalTime.day(record.time) == day { byDay[source, default: 0] += cost }
        }
        return (byDay, byMonth)
    }
}

/// `fuckbigtech report`: runs, outcomes, cost, tokens and time by lane, agent, model and day; the
/// most expensive tasks; failure reasons; review waits; the files most touched; people's verdicts;
/// and what keeping work off the premium lane saved. Written as `Telemetry/Report YYYY-MM-DD.md`
/// with two SVG charts beside it, embedded in the note.
public struct TelemetryReport: Sendable {
    /// One row of a breakdown (a lane, an agent, a model or a day).
    public struct Group: Sendable {
        public var key: String
        public var runs = 0
        public var outcomes: [String: Int] = [:]
        public var costUSD = 0.0
        public var costBySource: [CostSource: Double] = [:]
        public var tokensIn = 0
        public var tokensOut = 0
        public var seconds = 0.0
        public var verdicts: [ResultVerdict: Int] = [:]
        /// What the same runs would have cost on the premium agent, minus what they cost (priced runs only).
        public var savingsUSD = 0.0

        mutating func add(_ r: TelemetryRecord, verdict: ResultVerdict?, saving: Double?) {
            runs += 1
            outcomes[r.outcome, default: 0] += 1
            if let cost = r.costUSD {
                costUSD += cost
                if let source = r.costSource { costBySource[source, default: 0] += cost }
            }
            tokensIn += r.tokensIn ?? 0
            tokensOut += r.tokensOut ?? 0
            seconds += r.durationSeconds
            if let verdict { verdicts[verdict, default: 0] += 1 }
            savingsUSD += saving ?? 0
        }
    }

    /// The first day counted (local midnight).
    public let since: Date
    /// When the report was made.
    public let until: Date
    /// The runs counted, in journal order.
    public let records: [TelemetryRecord]
    /// The agent savings are priced with (`nil`: no premium agent note has prices).
    public let premiumAgent: AgentDefinition?
    /// Verdicts read from the runs' result notes, by run id.
    public let verdicts: [String: ResultVerdict]

    /// Everything in one group.
    public var total: Group { group(\.all).first ?? Group(key: "all") }
    /// By lane, agent, model and day.
    public var byLane: [Group] { group { $0.lane.isEmpty ? "(none)" : $0.lane } }
    public var byAgent: [Group] { group { $0.agent.isEmpty ? "(none)" : $0.agent } }
    public var byModel: [Group] { group { $0.model ?? "(default)" } }
    public var byDay: [Group] { group { LocalTime.day($0.time) } }

    /// Reads the journal and the result notes of `vault` for runs at or after `since`.
    public static func make(vault: Vault, since: Date, until: Date = Date()) -> TelemetryReport {
        let book = RuleBook.load(vault: vault)
        var records = TelemetryJournal.records(vault: vault).filter { $0.time >= since && $0.time <= until.addingTimeInterval(1) }
        let store = NoteStore(vault: vault)
        // The report is a public note: a run whose record does not say whether it was private is
        // judged from its task and result as the telemetry notes judge it, so that a private task's
        // title never lands in "Most expensive tasks" (taint follows the data).
        if records.contains(where: { $0.isPrivate == nil }) {
            let judge = PrivateRunJudge(store: store)
            for i in records.indices where records[i].isPrivate == nil { records[i].isPrivate = judge.isPrivate(records[i]) }
        }
        var verdicts: [String: ResultVerdict] = [:]
        for record in records {
            guard let path = record.resultPath, let snapshot = (try? store.readIfPresent(path)) ?? nil,
                  let note = try? Note.parse(bytes: snapshot.bytes), let verdict = ResultVerdict(property: note.text(ResultVerdict.property)) else { continue }
            verdicts[record.runID] = verdict
        }
        return TelemetryReport(since: since, until: until, records: records, premiumAgent: premiumAgent(book), verdicts: verdicts)
    }

    /// The premium lane's agent as routing would pick it (`RuleBook.defaultAgent`), if it has prices;
    /// else the premium agent note with the highest output price.
    static func premiumAgent(_ book: RuleBook) -> AgentDefinition? {
        func priced(_ a: AgentDefinition) -> Bool { a.priceInPerMillionTokens != nil || a.priceOutPerMillionTokens != nil }
        if let chosen = book.defaultAgent(for: .premium), priced(chosen) { return chosen }
        return book.agents.filter { $0.lane == .premium && priced($0) }.max { ($0.priceOutPerMillionTokens ?? 0, $1.name) < ($1.priceOutPerMillionTokens ?? 0, $0.name) }
    }

    /// What one run saved: its tokens priced with the premium agent's note, minus what it cost.
    /// `nil` for premium-lane runs (nothing kept off), runs without tokens or cost, or with no premium prices.
    public func saving(_ r: TelemetryRecord) -> Double? {
        guard r.lane != Lane.premium.rawValue, let premium = premiumAgent, let tokensIn = r.tokensIn, let tokensOut = r.tokensOut,
              let premiumCost = premium.cost(tokensIn: tokensIn, tokensOut: tokensOut) else { return nil }
        return premiumCost - (r.costUSD ?? 0)
    }

    private func group(_ key: (TelemetryRecord) -> String) -> [Group] {
        var groups: [String: Group] = [:]
        for r in records {
            let k = key(r)
            groups[k, default: Group(key: k)].add(r, verdict: verdicts[r.runID], saving: saving(r))
        }
        return groups.values.sorted { $0.key < $1.key }
    }

    /// The most expensive runs, dearest first.
    public func mostExpensive(_ n: Int = 10) -> [TelemetryRecord] {
        Array(records.filter { ($0.costUSD ?? 0) > 0 }.sorted { ($0.costUSD ?? 0, $1.runID) > ($1.costUSD ?? 0, $0.runID) }.prefix(n))
    }

    /// Why runs failed or were blocked, most common first (the error's text before its first colon or
    /// semicolon). A private run's reason is not given: it names what made the run private (a private
    /// note, resolved from an alias too), and the report is a public note. Its full record is in
    /// `Private/Telemetry/`.
    public var failureReasons: [(reason: String, count: Int)] {
        var counts: [String: Int] = [:]
        for r in records where r.outcome == "failed" || r.outcome == "blocked" || r.outcome == "interrupted" {
            let text = r.isPrivate == true ? "private run \(r.outcome) (its reason is in \(Vault.Layout.privateFolder)/\(Vault.Layout.telemetry)/)" : (r.error ?? r.outcome)
            let head = text.split(whereSeparator: { $0 == ";" || $0 == ":" }).first.map { String($0).trimmingWhitespaces() } ?? text
            counts[String(head.prefix(120)), default: 0] += 1
        }
        return counts.map { ($0.key, $0.value) }.sorted { ($0.count, $1.reason) > ($1.count, $0.reason) }
    }

    /// Seconds each task waited in review: from the run that sent it to review to the task's next run.
    public var reviewWaits: [Double] {
        var waits: [Double] = []
        var pending: [String: Date] = [:]
        for r in records.sorted(by: { $0.time < $1.time }) {
            if let sent = pending.removeValue(forKey: r.taskPath) { waits.append(r.time.timeIntervalSince(sent)) }
            if r.outcome == "review" { pending[r.taskPath] = r.time }
        }
        return waits
    }

    /// Vault notes and files touched by the most runs (private runs' files are left out).
    public func filesMostTouched(_ n: Int = 10) -> [(path: String, runs: Int)] {
        var counts: [String: Int] = [:]
        for r in records where r.isPrivate != true {
            for file in Set(r.files.map(\.path)) { counts[file, default: 0] += 1 }
        }
        return Array(counts.map { ($0.key, $0.value) }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }.prefix(n))
    }

    // MARK: Writing

    /// Where the report for `day` goes.
    public static func notePath(_ day: Date) -> String { Vault.Layout.telemetry + "/Report " + LocalTime.day(day) + ".md" }

    /// The chart files beside the note.
    public static func chartPaths(_ day: Date) -> (runs: String, cost: String) {
        let base = Vault.Layout.telemetry + "/Report " + LocalTime.day(day)
        return (base + " runs by lane.svg", base + " cost over time.svg")
    }

    /// Writes the note and its two charts (each replaced whole); returns their vault paths.
    @discardableResult
    public func write(vault: Vault) throws -> [String] {
        let store = NoteStore(vault: vault)
        let charts = TelemetryReport.chartPaths(until)
        _ = try store.replace(charts.runs, with: Array(runsChart.utf8))
        _ = try store.replace(charts.cost, with: Array(costChart.utf8))
        let path = TelemetryReport.notePath(until)
        _ = try store.replace(path, with: Array(markdown(charts: charts).utf8))
        return [path, charts.runs, charts.cost]
    }

    /// Runs per day, stacked by lane.
    public var runsChart: String {
        let lanes = byLane.map(\.key)
        let bars = days.map { day in
            SVGChart.Bar(label: String(day.dropFirst(5)), values: Dictionary(records.filter { LocalTime.day($0.time) == day }.map { ($0.lane.isEmpty ? "(none)" : $0.lane, 1.0) }, uniquingKeysWith: +))
        }
        return SVGChart.stackedBars(title: "Runs by lane and day", bars: bars, series: lanes, unit: "runs")
    }

    /// Cumulative cost by day.
    public var costChart: String {
        var running = 0.0
        let points = days.map { day -> (label: String, value: Double) in
            running += records.filter { LocalTime.day($0.time) == day }.compactMap(\.costUSD).reduce(0, +)
            return (String(day.dropFirst(5)), running)
        }
        return SVGChart.line(title: "Cost over time (cumulative, USD)", points: points, unit: "USD")
    }

    /// Every day from `since` to `until`, so quiet days show as gaps.
    var days: [String] {
        var out: [String] = []
        var d = since
        let last = LocalTime.day(until)
        while out.count < 400 {
            let day = LocalTime.day(d)
            out.append(day)
            if day >= last { break }
            d = d.addingTimeInterval(86_400)
        }
        return out
    }

    static func money(_ v: Double) -> String { "$" + String(format: "%.4f", v) }

    static func sources(_ g: Group) -> String {
        CostSource.allCases.compactMap { s in g.costBySource[s].map { "\(s.rawValue) " + money($0) } }.joined(separator: ", ")
    }

    static func verdictCell(_ g: Group) -> String {
        let judged = g.verdicts.values.reduce(0, +)
        guard judged > 0 else { return "" }
        let good = g.verdicts[.good] ?? 0
        return "\(Int((Double(good) / Double(judged) * 100).rounded())) % good (\(good) good, \(g.verdicts[.redo] ?? 0) redo, \(g.verdicts[.wrong] ?? 0) wrong)"
    }

    /// The report note's text; `charts` are embedded.
    public func markdown(charts: (runs: String, cost: String)) -> String {
        let t = total
        var s = "---\ntype: report\ndate: \(LocalTime.day(until))\nsince: \(LocalTime.day(since))\nruns: \(t.runs)\ncost_usd: \(String(format: "%.6f", t.costUSD))\nsavings_usd: \(String(format: "%.6f", t.savingsUSD))\n---\n"
        s += "# Report \(LocalTime.day(until))\n\n"
        s += "Runs from \(LocalTime.day(since)) to \(LocalTime.day(until)): **\(t.runs)**, cost **\(TelemetryReport.money(t.costUSD))**"
        if !t.costBySource.isEmpty { s += " (\(TelemetryReport.sources(t)))" }
        s += ", tokens \(t.tokensIn) in / \(t.tokensOut) out.\n\n"
        s += "## Savings\n\n"
        if let premium = premiumAgent {
            let priced = records.filter { saving($0) != nil }.count
            let offPremium = records.filter { $0.lane != Lane.premium.rawValue }.count
            // Work off the premium lane can cost more than the premium agent would have (an agent
            // that reported what a cloud model cost): said so, not as a negative saving (round 152).
            let saved = t.savingsUSD < 0 ? "cost **\(TelemetryReport.money(-t.savingsUSD))** more than the premium lane would have" : "saved **\(TelemetryReport.money(t.savingsUSD))**"
            s += "Keeping work off the premium lane \(saved): the \(priced) run(s) outside it that recorded tokens, priced with [[\(premium.sourcePath.map { String($0.dropLast($0.hasSuffix(".md") ? 3 : 0)) } ?? premium.name)|\(premium.name)]]'s prices ($\(premium.priceInPerMillionTokens ?? 0) in / $\(premium.priceOutPerMillionTokens ?? 0) out per million tokens), minus what they cost."
            if offPremium > priced { s += " \(offPremium - priced) run(s) outside the premium lane recorded no tokens and are not priced." }
            s += "\n\n"
        } else {
            s += "No premium agent note has prices, so savings are not worked out.\n\n"
        }
        s += "![[\(charts.runs)]]\n\n![[\(charts.cost)]]\n\n"
        func table(_ title: String, _ groups: [Group]) {
            s += "## By \(title)\n\n| \(title) | runs | done | failed | cost | cost by source | tokens in | tokens out | time (s) | saved | verdicts |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
            for g in groups {
                let cells = [g.key, String(g.runs), String(g.outcomes["done"] ?? 0), String(g.outcomes["failed"] ?? 0), TelemetryReport.money(g.costUSD), TelemetryReport.sources(g),
                             String(g.tokensIn), String(g.tokensOut), String(format: "%.1f", g.seconds), TelemetryReport.money(g.savingsUSD), TelemetryReport.verdictCell(g)]
                s += "| " + cells.map(TelemetryWriter.cell).joined(separator: " | ") + " |\n"
            }
            s += "\n"
        }
        table("lane", byLane)
        table("agent", byAgent)
        table("model", byModel)
        table("day", byDay)
        s += "## Most expensive tasks\n\n| task | agent | lane | cost | source | outcome |\n|---|---|---|---|---|---|\n"
        for r in mostExpensive() {
            let task = r.isPrivate == true ? "private run \(r.runID)" : TelemetryWriter.link(r.taskPath)
            s += "| " + [task, r.agent, r.lane, TelemetryReport.money(r.costUSD ?? 0), r.costSource?.rawValue ?? "", r.outcome].map(TelemetryWriter.cell).joined(separator: " | ") + " |\n"
        }
        s += "\n## Failure reasons\n\n"
        let reasons = failureReasons
        if reasons.isEmpty { s += "None.\n" }
        for (reason, count) in reasons.prefix(15) { s += "- \(count) × \(reason)\n" }
        s += "\n## Review waits\n\n"
        let waits = reviewWaits.sorted()
        if waits.isEmpty { s += "No task went through review and ran again in this period.\n" } else {
            s += "\(waits.count) review(s): median \(TelemetryReport.duration(waits[waits.count / 2])), longest \(TelemetryReport.duration(waits.last!)).\n"
        }
        s += "\n## Files most touched\n\n"
        let files = filesMostTouched()
        if files.isEmpty { s += "No run recorded a file it touched.\n" }
        for (path, runs) in files {
            let shown = path.hasPrefix("/") || !path.contains("/") && !path.hasSuffix(".md") ? "`\(path)`" : TelemetryWriter.link(path)
            s += "- \(shown): \(runs) run(s)\n"
        }
        return s
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 120 { return String(format: "%.0f s", seconds) }
        if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }

    /// The report as JSON (`report --json`).
    public var json: JSON {
        // Each field is its own typed statement: as one literal, the nested closures and `.map`s
        // took the type checker about 7 s of a release build.
        func groupJSON(_ g: Group) -> JSON {
            let outcomes: [(String, JSON)] = g.outcomes.sorted { $0.key < $1.key }.map { ($0.key, JSON.int($0.value)) }
            var bySource: [(String, JSON)] = []
            for source in CostSource.allCases {
                if let cost = g.costBySource[source] { bySource.append((source.rawValue, JSON.double(TelemetryReport.rounded(cost)))) }
            }
            let verdicts: [(String, JSON)] = ResultVerdict.allCases.map { ($0.rawValue, JSON.int(g.verdicts[$0] ?? 0)) }
            var fields: [(String, JSON)] = [("key", .string(g.key)), ("runs", .int(g.runs))]
            fields.append(("outcomes", .object(outcomes)))
            fields.append(("cost_usd", .double(TelemetryReport.rounded(g.costUSD))))
            fields.append(("cost_by_source", .object(bySource)))
            fields.append(("tokens_in", .int(g.tokensIn)))
            fields.append(("tokens_out", .int(g.tokensOut)))
            fields.append(("duration_s", .double((g.seconds * 1000).rounded() / 1000)))
            fields.append(("savings_usd", .double(TelemetryReport.rounded(g.savingsUSD))))
            fields.append(("verdicts", .object(verdicts)))
            return .object(fields)
        }
        let premium: JSON = premiumAgent.map { JSON.string($0.name) } ?? .null
        let reasons: [JSON] = failureReasons.map { JSON.object([("reason", .string($0.reason)), ("count", .int($0.count))]) }
        let waits: [JSON] = reviewWaits.map { JSON.double(($0 * 10).rounded() / 10) }
        let touched: [JSON] = filesMostTouched().map { JSON.object([("path", .string($0.path)), ("runs", .int($0.runs))]) }
        var fields: [(String, JSON)] = [("since", .string(LocalTime.day(since))), ("until", .string(LocalTime.dateTime(until)))]
        fields.append(("premium_agent", premium))
        fields.append(("total", groupJSON(total)))
        fields.append(("by_lane", .array(byLane.map(groupJSON))))
        fields.append(("by_agent", .array(byAgent.map(groupJSON))))
        fields.append(("by_model", .array(byModel.map(groupJSON))))
        fields.append(("by_day", .array(byDay.map(groupJSON))))
        fields.append(("most_expensive", .array(mostExpensive().map(TelemetryReport.expensiveJSON))))
        fields.append(("failure_reasons", .array(reasons)))
        fields.append(("review_waits_s", .array(waits)))
        fields.append(("files_most_touched", .array(touched)))
        return .object(fields)
    }

    static func expensiveJSON(_ r: TelemetryRecord) -> JSON {
        let task: String = r.isPrivate == true ? "private run \(r.runID)" : r.taskPath
        let source: JSON = r.costSource.map { JSON.string($0.rawValue) } ?? JSON.null
        return .object([("run_id", .string(r.runID)), ("task", .string(task)), ("cost_usd", .double(r.costUSD ?? 0)), ("cost_source", source)])
    }

    static func rounded(_ v: Double) -> Double { (v * 1_000_000).rounded() / 1_000_000 }
}

private extension TelemetryRecord {
    /// The key that puts every run in one group.
    var all: String { "all" }
}

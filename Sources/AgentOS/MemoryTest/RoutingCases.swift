import Foundation

/// One row of a rule-cases note: a prompt and the lane the rules must give it.
public struct RoutingCase: Sendable, Equatable {
    /// The prompt, routed as a task with no properties.
    public var prompt: String
    /// The lane expected.
    public var lane: Lane
    /// The cases note it comes from.
    public var source: String
    /// Its 1-based line there.
    public var line: Int
}

/// Routing regression: every case of the vault's rule-cases notes (`type: rule-cases` in `Rules/`)
/// must still route to its lane.
public enum RoutingCases {
    /// Every case in the rule-cases notes under `Rules/`, and the rows that could not be read.
    public static func load(vault: Vault) -> (cases: [RoutingCase], problems: [String], notes: [String]) {
        var cases: [RoutingCase] = []
        var problems: [String] = []
        var notes: [String] = []
        let store = NoteStore(vault: vault)
        for path in VaultWalker.markdownFiles(in: vault, under: Vault.Layout.rules) {
            guard let snapshot = try? store.read(path) else { continue }
            guard let note = try? Note.parse(bytes: snapshot.bytes) else {
                // A cases note with broken frontmatter would silently drop every case: name it.
                if String(decoding: snapshot.bytes.prefix(400), as: UTF8.self).contains("rule-cases") {
                    problems.append("\(path): bad frontmatter; its cases cannot be read")
                }
                continue
            }
            guard note.text("type")?.lowercased() == "rule-cases" else { continue }
            notes.append(path)
            let parsed = parse(table: note.body, source: path, firstLine: note.bodyStartLine)
            cases += parsed.cases
            problems += parsed.problems
        }
        return (cases, problems, notes)
    }

    /// The cases of a Markdown table: `| prompt | lane |` rows; the header row and the `---` row are
    /// skipped. A row whose lane is no lane is a problem (a typo there would hide a case).
    static func parse(table body: String, source: String, firstLine: Int) -> (cases: [RoutingCase], problems: [String]) {
        var cases: [RoutingCase] = []
        var problems: [String] = []
        for row in MarkdownTable.rows(body, firstLine: firstLine) {
            guard row.cells.count >= 2, !row.cells[0].isEmpty else {
                problems.append("\(source):\(row.line): a case needs a prompt and a lane")
                continue
            }
            guard let lane = Lane(rawValue: row.cells[1].lowercased()) else {
                problems.append("\(source):\(row.line): '\(row.cells[1])' is not a lane (\(Lane.allCases.map(\.rawValue).joined(separator: ", ")))")
                continue
            }
            cases.append(RoutingCase(prompt: row.cells[0], lane: lane, source: source, line: row.line))
        }
        return (cases, problems)
    }

    /// Routes every case with the vault's rules and reports the ones that no longer get their lane.
    /// Rule notes that cannot be used (bad frontmatter, unknown keys) fail the check too: they are
    /// skipped by routing, which is how a broken rule changes lanes.
    public static func check(vault: Vault) -> MemoryTestCheck {
        let (cases, caseProblems, notes) = load(vault: vault)
        let book = RuleBook.load(vault: vault)
        var problems = caseProblems
        problems += book.problems.map { "rule note skipped: \($0.description)" }
        guard !cases.isEmpty else {
            if problems.isEmpty {
                return MemoryTestCheck(name: "routing", status: .skip, detail: notes.isEmpty ? "no rule-cases note in \(Vault.Layout.rules)/ (type: rule-cases)" : "the rule-cases notes hold no cases")
            }
            return MemoryTestCheck(name: "routing", status: .fail, detail: "no case could be checked", problems: problems)
        }
        let router = Router(book: book)
        var held = 0
        for item in cases {
            let facts = TaskFacts.from(text: item.prompt, vault: vault, ruleBook: book)
            let decision = router.decide(facts, prompt: facts.body, spend: nil)
            if decision.lane == item.lane {
                held += 1
            } else {
                problems.append("case \"\(item.prompt)\" (\(item.source):\(item.line)) → \(decision.lane.rawValue) by \(decision.rule), expected \(item.lane.rawValue)")
            }
        }
        let detail = "\(held)/\(cases.count) cases hold (\(notes.joined(separator: ", ")))"
        return MemoryTestCheck(name: "routing", status: problems.isEmpty ? .ok : .fail, detail: detail, problems: problems)
    }
}

/// The body rows of the Markdown tables in a cases note (rule cases, memory cases).
enum MarkdownTable {
    /// Each row's trimmed cells and 1-based line; each table's header row and `---` row are skipped,
    /// tables inside code blocks too, and `\|` is a pipe inside a cell.
    static func rows(_ body: String, firstLine: Int) -> [(cells: [String], line: Int)] {
        var rows: [(cells: [String], line: Int)] = []
        var rowInTable = 0
        var inFence = false
        for (offset, rawLine) in body.components(separatedBy: "\n").enumerated() {
            let line = rawLine.trimmingWhitespaces()
            // A table inside a code block is an example, not cases.
            if line.hasPrefix("```") || line.hasPrefix("~~~") { inFence.toggle() }
            guard !inFence, line.hasPrefix("|") else {
                rowInTable = 0
                continue
            }
            rowInTable += 1
            let cells = line.replacingOccurrences(of: "\\|", with: "\u{1}").split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.replacingOccurrences(of: "\u{1}", with: "|").trimmingWhitespaces() }
                .dropFirst().dropLast(line.hasSuffix("|") ? 1 : 0)
            let row = Array(cells)
            if rowInTable == 1 || row.allSatisfy({ $0.allSatisfy { "-: ".contains($0) } }) { continue }
            rows.append((row, firstLine + offset))
        }
        return rows
    }
}

import Foundation

/// A task written in plain words and the note that answers it.
public struct TaskRetrievalCase: Sendable, Equatable {
    /// The task text, retrieved for as a task's title and body are.
    public var text: String
    /// The vault-relative path of the note that must be among the packet's memory pieces.
    public var target: String
    /// Where the case comes from: `Rules/Memory Cases.md:12`, or `generated` (a heading's paragraph).
    public var source: String
}

/// Task retrieval: whether the packet's memory retrieval (`ContextPacketBuilder.retrieve`, the one
/// function packets use) puts the note that answers a task among the first three memory pieces.
/// Cases come from `type: memory-cases` notes in `Rules/` (a table `| Task | Note |`, the note as a
/// `[[link]]` or path) and from the vault: a heading's first paragraph with the heading's and the
/// note's title words removed, as a task that describes the note without naming it.
public enum TaskRetrievalCases {
    /// Memory pieces counted for hit@3.
    public static let hitDepth = 3
    /// Memory pieces looked at for MRR.
    public static let rankDepth = 10
    /// Words of a generated case.
    static let generatedWords = 30

    /// What the cases gave.
    public struct Figures: Sendable, Equatable {
        /// Cases run: from the cases notes, and generated.
        public var fromNotes = 0
        public var generated = 0
        /// Cases whose note was among the first `hitDepth` memory pieces.
        public var hits = 0
        /// Sum of 1/rank of the note among the first `rankDepth` pieces (0 when not there).
        public var reciprocalRankSum = 0.0
        /// Cases whose note was not among the first three pieces, with its rank (`nil`: not in ten).
        public var misses: [(item: TaskRetrievalCase, rank: Int?)] = []

        /// All cases run.
        public var cases: Int { fromNotes + generated }
        /// Percent of cases with their note among the first three pieces.
        public var hitAtThree: Double { cases == 0 ? .nan : 100 * Double(hits) / Double(cases) }
        /// Mean reciprocal rank over the cases.
        public var meanReciprocalRank: Double { cases == 0 ? .nan : reciprocalRankSum / Double(cases) }

        public static func == (a: Figures, b: Figures) -> Bool {
            a.fromNotes == b.fromNotes && a.generated == b.generated && a.hits == b.hits && a.reciprocalRankSum == b.reciprocalRankSum
        }
    }

    /// The cases of every `type: memory-cases` note under `Rules/`, rows that could not be used, and
    /// the notes read. A row whose note no link resolves to is a problem (a typo would hide a case).
    public static func load(vault: Vault) -> (cases: [TaskRetrievalCase], problems: [String], notes: [String]) {
        var cases: [TaskRetrievalCase] = []
        var problems: [String] = []
        var notes: [String] = []
        let store = NoteStore(vault: vault)
        let links = LinkResolver(vault: vault)
        for path in VaultWalker.markdownFiles(in: vault, under: Vault.Layout.rules) {
            guard let snapshot = try? store.read(path) else { continue }
            guard let note = try? Note.parse(bytes: snapshot.bytes) else {
                if String(decoding: snapshot.bytes.prefix(400), as: UTF8.self).contains("memory-cases") {
                    problems.append("\(path): bad frontmatter; its cases cannot be read")
                }
                continue
            }
            guard note.text("type")?.lowercased() == "memory-cases" else { continue }
            notes.append(path)
            for row in MarkdownTable.rows(note.body, firstLine: note.bodyStartLine) {
                guard row.cells.count >= 2, !row.cells[0].isEmpty, !row.cells[1].isEmpty else {
                    problems.append("\(path):\(row.line): a case needs a task and a note")
                    continue
                }
                let named = row.cells[1]
                guard let link = WikiLink.parse(named), let target = links.resolve(link, from: path).path else {
                    problems.append("\(path):\(row.line): '\(named)' is no note of this vault")
                    continue
                }
                cases.append(TaskRetrievalCase(text: row.cells[0], target: target, source: "\(path):\(row.line)"))
            }
        }
        return (cases, problems, notes)
    }

    /// Cases made from the vault: for sampled notes (the seeded order `KnownItemQueries` uses), one
    /// heading no other note has, and the first paragraph under it of eight words or more, without
    /// the words of the heading and the note's title. Only notes retrieval may return count (none in
    /// `excludedFolders`, the guardrails' `memory_exclude`).
    public static func generate(index: MemoryIndex, seed: UInt64, sampleSize: Int?, excludedFolders: [String] = Guardrails.osFolders) throws -> [TaskRetrievalCase] {
        let scope = RelatedScope(excludedFolders: excludedFolders)
        let db = index.database
        let sections = try db.query("SELECT path, heading, start_line, end_line FROM sections WHERE heading != ''") {
            ($0.text(0), $0.text(1), Int($0.int64(2)), Int($0.int64(3)))
        }
        var owners: [String: Int] = [:]
        for section in sections { owners[section.1.lowercased(), default: 0] += 1 }
        var byNote: [String: [(heading: String, start: Int, end: Int)]] = [:]
        for (path, heading, start, end) in sections where owners[heading.lowercased()] == 1 && MemoryTest.isPlainMemory(path) && !scope.excludes(path) {
            byNote[path, default: []].append((heading, start, end))
        }
        let ordered = byNote.keys.sorted { KnownItemQueries.sampleKey($0, seed: seed) < KnownItemQueries.sampleKey($1, seed: seed) }
        var cases: [TaskRetrievalCase] = []
        // No private note: a private note answers no plain task (a packet leaves it out), and the
        // cases are written into the report, a public note.
        let store = NoteStore(vault: index.vault)
        let guardrails = RuleBook.load(vault: index.vault).guardrails
        let links = LinkResolver(vault: index.vault)
        for path in ordered {
            if let sampleSize, cases.count >= sampleSize { break }
            if Privacy.reason(ofNoteAt: path, store: store, guardrails: guardrails, links: links) != nil { continue }
            guard let bytes = try? FileSystem.read(index.vault.root + "/" + path, limit: MemoryIndex.maxNoteBytes).bytes else { continue }
            let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
            let title = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            for section in byNote[path] ?? [] {
                let drop = Set(words(section.heading) + words(title))
                guard let paragraph = firstParagraph(lines, from: section.start, to: section.end) else { continue }
                let kept = words(paragraph).filter { !drop.contains($0) }
                guard kept.count >= 8 else { continue }
                cases.append(TaskRetrievalCase(text: kept.prefix(generatedWords).joined(separator: " "), target: path, source: "generated"))
                break
            }
        }
        return cases
    }

    /// Retrieves for every case with `ContextPacketBuilder.retrieve` and ranks the target among the
    /// memory pieces, in the order a packet takes them.
    public static func evaluate(_ cases: [TaskRetrievalCase], vault: Vault, index: MemoryIndex) -> Figures {
        let guardrails = RuleBook.load(vault: vault).guardrails
        let builder = ContextPacketBuilder(vault: vault, guardrails: guardrails)
        let store = NoteStore(vault: vault)
        let links = LinkResolver(vault: vault)
        // As a packet for a task that is not private takes them: a private note is left out (a
        // case answered by one counted as a hit, though no packet of that task would hold it: a tour).
        func admitted(_ hit: RelatedHit) -> Bool { Privacy.reason(ofNoteAt: hit.path, store: store, guardrails: guardrails, links: links) == nil }
        var figures = Figures()
        for item in cases {
            if item.source == "generated" { figures.generated += 1 } else { figures.fromNotes += 1 }
            let hits = builder.retrieve(text: item.text, index: index, admit: admitted).prefix(rankDepth)
            let rank = hits.firstIndex { $0.path == item.target }.map { $0 - hits.startIndex + 1 }
            if let rank {
                if rank <= hitDepth { figures.hits += 1 }
                figures.reciprocalRankSum += 1 / Double(rank)
            }
            if rank.map({ $0 > hitDepth }) ?? true { figures.misses.append((item, rank)) }
        }
        return figures
    }

    /// The check line of the report; `fail` when a cases note has unusable rows.
    public static func check(_ figures: Figures, problems: [String], notes: [String]) -> MemoryTestCheck {
        guard figures.cases > 0 else {
            return MemoryTestCheck(name: "task retrieval", status: problems.isEmpty ? .skip : .fail,
                                   detail: "no case: no memory-cases note in \(Vault.Layout.rules)/ and no heading to make one from", problems: problems)
        }
        let source = notes.isEmpty ? "no memory-cases note" : notes.joined(separator: ", ")
        let detail = String(format: "hit@3 %.1f %%, MRR %.3f over %d cases (%d from %@, %d generated)",
                            figures.hitAtThree, figures.meanReciprocalRank, figures.cases, figures.fromNotes, source, figures.generated)
        let missed = figures.misses.filter { $0.item.source != "generated" }.prefix(10).map {
            "missed: \"\($0.item.text)\" (\($0.item.source)) → \($0.item.target) " + ($0.rank.map { "at \($0)" } ?? "not in the first \(rankDepth)")
        }
        // Your own cases that miss are listed whether or not the run passes: they are what the
        // note is for ("add a row when a task once got the wrong notes"), and a passing run said
        // nothing of them (a tour: hit@3 50 % over three cases, no word of which missed).
        return MemoryTestCheck(name: "task retrieval", status: problems.isEmpty ? .ok : .fail, detail: detail, problems: problems + missed)
    }

    /// Lower-cased words of letters and digits.
    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map { $0.lowercased() }
    }

    /// The first paragraph of prose in lines `from`…`to` (1-based, the heading line first): plain
    /// lines, no code, tables, headings or HTML.
    static func firstParagraph(_ lines: [String], from: Int, to: Int) -> String? {
        var paragraph: [String] = []
        var inFence = false
        var index = from
        while index < min(to, lines.count) {
            let line = lines[index].trimmingWhitespaces()
            index += 1
            if line.hasPrefix("```") || line.hasPrefix("~~~") { inFence.toggle(); continue }
            if inFence || line.hasPrefix("#") || line.hasPrefix("|") || line.hasPrefix("<") || line.hasPrefix("---") { if !paragraph.isEmpty { break }; continue }
            if line.isEmpty { if !paragraph.isEmpty { break }; continue }
            paragraph.append(line)
        }
        let text = paragraph.joined(separator: " ")
        return words(text).count >= 8 ? text : nil
    }
}

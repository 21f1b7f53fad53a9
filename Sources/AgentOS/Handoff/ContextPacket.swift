import Foundation

/// One labelled piece of a context packet.
public struct ContextPiece: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case task = "Task"
        case handoff = "Handoff"
        case linked = "Linked note"
        case memory = "From memory"
        case daily = "Daily log"
    }

    public var kind: Kind
    /// Vault-relative path of the note the text comes from.
    public var path: String
    /// 1-based line the text starts at, when it is a part of the note.
    public var line: Int?
    /// The heading the text sits under, for memory matches.
    public var heading: String?
    public var text: String
    /// Whether the source note is private.
    public var isPrivate: Bool

    /// The label printed above the piece: its kind and source (`path:line › heading`).
    public var label: String {
        var source = path
        if let line { source += ":\(line)" }
        if let heading, !heading.isEmpty { source += " › " + heading }
        return "\(kind.rawValue) — \(source)"
    }
}

/// What an agent is given: the note's own text, the notes it links or lists in `context`, the best
/// full-text matches from memory, and the recent daily log — each piece labelled with its source,
/// deduplicated, most relevant first, cut to a token budget.
public struct ContextPacket: Sendable {
    public var notePath: String
    public var pieces: [ContextPiece]
    /// Pieces left out because the budget was spent (their paths).
    public var omitted: [String]
    public var budgetTokens: Int

    /// Every source path used, the note itself excluded (the result note's `sources`).
    public var sources: [String] {
        var seen = Set<String>()
        return pieces.map(\.path).filter { $0 != notePath && seen.insert($0).inserted }
    }

    /// Sources that are private (they make the whole packet private).
    public var privateSources: [String] {
        var seen = Set<String>()
        return pieces.filter(\.isPrivate).map(\.path).filter { seen.insert($0).inserted }
    }

    /// Rough token count (4 characters a token, the usual estimate for English prose).
    public static func estimateTokens(_ text: String) -> Int { (text.utf8.count + 3) / 4 }

    /// The prompt sent to the agent. A note with nothing around it goes as its own text alone.
    public var text: String {
        if pieces.count == 1, let only = pieces.first, only.path == notePath { return only.text }
        var out = "# Context packet for \(notePath)\n\nEach piece below is labelled with the vault note it comes from.\n"
        for piece in pieces {
            out += "\n## \(piece.label)\n\n" + piece.text.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        }
        if !omitted.isEmpty {
            out += "\n(Left out to stay within \(budgetTokens) tokens: \(omitted.joined(separator: ", ")).)\n"
        }
        return out
    }

    public var json: JSON {
        .object([
            ("note", .string(notePath)),
            ("budget_tokens", .int(budgetTokens)),
            ("tokens", .int(ContextPacket.estimateTokens(text))),
            ("private", .bool(!privateSources.isEmpty)),
            ("sources", .array(sources.map { .string($0) })),
            ("pieces", .array(pieces.map { piece in
                .object([
                    ("kind", .string(piece.kind.rawValue)), ("path", .string(piece.path)),
                    ("line", piece.line.map { .int($0) } ?? .null), ("heading", piece.heading.map { .string($0) } ?? .null),
                    ("private", .bool(piece.isPrivate)), ("tokens", .int(ContextPacket.estimateTokens(piece.text))),
                ])
            })),
            ("omitted", .array(omitted.map { .string($0) })),
            ("text", .string(text)),
        ])
    }
}

/// Builds context packets from the vault and its memory index.
public struct ContextPacketBuilder: Sendable {
    public let vault: Vault
    public let guardrails: Guardrails
    /// The token budget when the agent note sets none.
    public static let defaultBudget = 4000
    /// Memory matches asked of the index.
    public var memoryMatches = 6
    /// Daily-log lines taken from each of today's and yesterday's notes.
    public var dailyLines = 10

    public init(vault: Vault, guardrails: Guardrails) {
        self.vault = vault
        self.guardrails = guardrails
    }

    /// Builds the packet for a task or handoff note. Its linked notes are exactly `facts.contextPaths`,
    /// the links routing resolved and privacy judged (`TaskFacts.from(note:…)`): the packet never
    /// resolves a link of the task itself. `links` is the resolver that made them (privacy reads the
    /// notes a memory match or daily line names through it). `index` may be `nil` (no memory matches then).
    public func build(for task: TaskNote, facts: TaskFacts, links: LinkResolver, budgetTokens: Int, index: MemoryIndex?, now: Date = Date()) -> ContextPacket {
        let store = NoteStore(vault: vault)
        var candidates: [ContextPiece] = []
        let ownPrivate = Privacy.reason(note: task.note, path: task.path, guardrails: guardrails) != nil
        candidates.append(ContextPiece(kind: task.kind == .handoff ? .handoff : .task, path: task.path, line: task.note.bodyStartLine, heading: nil, text: handoffHeader(task) + task.prompt, isPrivate: ownPrivate))

        // The original task of a handoff, then every linked or listed note, as routing resolved them.
        for path in facts.contextPaths where path != task.path {
            guard var piece = linkedPiece(path, store: store, links: links) else { continue }
            if facts.privateSources.contains(path) { piece.isPrivate = true }
            candidates.append(piece)
        }

        // The best full-text matches for the note's own words. Retrieval never pulls a private note
        // into a task that is not private itself (a link does, and then the task is private).
        let alreadyPrivate = ownPrivate || candidates.contains(where: \.isPrivate)
        if let index, let query = ContextPacketBuilder.query(from: task.title + "\n" + task.prompt) {
            let hits = (try? index.search(query, limit: memoryMatches * 3)) ?? []
            var taken = 0
            for hit in hits where taken < memoryMatches {
                guard hit.path != task.path, !ContextPacketBuilder.isMachineOutput(hit.path),
                      let piece = memoryPiece(hit, store: store, links: links) else { continue }
                if piece.isPrivate && !alreadyPrivate { continue }
                candidates.append(piece)
                taken += 1
            }
        }

        // Recent runs and handoffs from the daily log. For a task that is not private, a daily note
        // private as a whole is skipped and each private line (a private tag, a link to a private
        // note) is left out — they never taint the task, they are simply not sent.
        for day in [now, now.addingTimeInterval(-86_400)] {
            let path = TelemetryWriter.dailyPath(day)
            guard let piece = dailyPiece(path, store: store, links: links, keepPrivate: alreadyPrivate) else { continue }
            candidates.append(piece)
        }

        return ContextPacketBuilder.fit(candidates, notePath: task.path, budgetTokens: budgetTokens)
    }

    /// Deduplicates (by path and section, then by identical text) and keeps pieces in order until
    /// the budget is spent; the note's own piece always stays, cut if it alone is too long.
    static func fit(_ candidates: [ContextPiece], notePath: String, budgetTokens: Int) -> ContextPacket {
        var kept: [ContextPiece] = []
        var omitted: [String] = []
        var seenKeys = Set<String>()
        var seenTexts = Set<String>()
        var remaining = budgetTokens
        for (i, var piece) in candidates.enumerated() {
            let key = piece.path + "#" + (piece.line.map(String.init) ?? "")
            let normalizedText = piece.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if i > 0 && (seenKeys.contains(key) || seenKeys.contains(piece.path + "#") || seenTexts.contains(normalizedText) || normalizedText.isEmpty) { continue }
            let cost = ContextPacket.estimateTokens(piece.text) + 12
            if cost > remaining {
                if i == 0 || remaining > 200 {
                    piece.text = cut(piece.text, toTokens: max(remaining - 12, i == 0 ? budgetTokens / 2 : 0))
                    piece.text += "\n…"
                } else {
                    omitted.append(piece.path)
                    continue
                }
            }
            remaining -= ContextPacket.estimateTokens(piece.text) + 12
            seenKeys.insert(key)
            if piece.kind == .linked { seenKeys.insert(piece.path + "#") }
            seenTexts.insert(normalizedText)
            kept.append(piece)
        }
        return ContextPacket(notePath: notePath, pieces: kept, omitted: omitted, budgetTokens: budgetTokens)
    }

    /// The first `tokens` worth of text, cut at a line break when one is near.
    static func cut(_ text: String, toTokens tokens: Int) -> String {
        let limit = max(0, tokens * 4)
        guard text.utf8.count > limit else { return text }
        var prefix = String(decoding: text.utf8.prefix(limit), as: UTF8.self)
        if let newline = prefix.lastIndex(of: "\n"), prefix.distance(from: newline, to: prefix.endIndex) < 400 {
            prefix = String(prefix[..<newline])
        }
        return prefix
    }

    private func handoffHeader(_ task: TaskNote) -> String {
        guard task.kind == .handoff else { return "" }
        var lines: [String] = []
        if let from = task.note.text("from") { lines.append("From: \(from)") }
        if let to = task.note.text("to") { lines.append("To: \(to)") }
        if let link = task.note.text("task") { lines.append("Task: \(link)") }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n\n"
    }

    /// The last `dailyLines` log lines of a daily note, as one piece. With `keepPrivate` false (the
    /// task is not private) a note private as a whole gives nothing and private lines are dropped;
    /// with it true they stay and mark the piece private. `nil` when nothing is left.
    func dailyPiece(_ path: String, store: NoteStore, links: LinkResolver, keepPrivate: Bool) -> ContextPiece? {
        guard let snapshot = try? store.readIfPresent(path) else { return nil }
        // Only the end matters, and a busy day's note is long: a long one is read from its last
        // 16 KB (past any frontmatter); a short one without its frontmatter.
        let tail: String
        let header: Note?
        if snapshot.bytes.count > 16_384 {
            tail = String(String(decoding: snapshot.bytes.suffix(16_384), as: UTF8.self).drop { $0 != "\n" })
            header = ContextPacketBuilder.frontmatterOnly(snapshot.bytes)
        } else {
            header = try? Note.parse(bytes: snapshot.bytes)
            tail = header?.body ?? ""
        }
        // The note as a whole: its properties (`privacy`, `private`, `tags`) and its path. Inline tags
        // are judged line by line instead, so one `#private` line does not hide the whole log.
        let wholeReason: String?
        if let header {
            let tags = header.texts("tags") + header.texts("tag")
            wholeReason = Privacy.reason(path: path, privacy: Privacy.declaredPrivacy(of: header), tags: tags, guardrails: guardrails)
        } else {
            wholeReason = "frontmatter cannot be parsed to check its privacy"
        }
        if wholeReason != nil && !keepPrivate { return nil }
        var anyPrivate = wholeReason != nil
        // Judging a line may read the notes it links; only the last few candidates are judged.
        let candidates = tail.split(separator: "\n").filter { $0.hasPrefix("- ") }.suffix(dailyLines * 4)
        var kept: [Substring] = []
        for line in candidates.reversed() where kept.count < dailyLines {
            if Privacy.reason(line: String(line), from: path, store: store, guardrails: guardrails, links: links) != nil {
                guard keepPrivate else { continue }
                anyPrivate = true
            }
            kept.append(line)
        }
        guard !kept.isEmpty else { return nil }
        return ContextPiece(kind: .daily, path: path, line: nil, heading: nil, text: kept.reversed().joined(separator: "\n"), isPrivate: anyPrivate)
    }

    /// The frontmatter of a note as a note with an empty body (for long notes read only in part);
    /// `nil` when it does not parse, and a note without properties when there is no frontmatter.
    static func frontmatterOnly(_ bytes: [UInt8]) -> Note? {
        let head = Array(bytes.prefix(65_536))
        let text = String(decoding: head, as: UTF8.self)
        guard text.hasPrefix("---") else { return try? Note.parse(bytes: []) }
        var offset = text.startIndex
        var first = true
        while offset < text.endIndex {
            let lineEnd = text[offset...].firstIndex(of: "\n") ?? text.endIndex
            let line = text[offset..<lineEnd].trimmingCharacters(in: .whitespaces)
            if !first && (line == "---" || line == "...") {
                let end = lineEnd < text.endIndex ? text.index(after: lineEnd) : lineEnd
                return try? Note.parse(bytes: Array(text[..<end].utf8))
            }
            first = false
            offset = lineEnd < text.endIndex ? text.index(after: lineEnd) : lineEnd
        }
        return nil
    }

    private func linkedPiece(_ path: String, store: NoteStore, links: LinkResolver) -> ContextPiece? {
        guard path.hasSuffix(".md"), let snapshot = try? store.readIfPresent(path) else { return nil }
        let note = try? Note.parse(bytes: snapshot.bytes)
        let isPrivate = Privacy.isPrivate(linkedNote: path, store: store, guardrails: guardrails, links: links)
        let body = note?.body ?? snapshot.text
        return ContextPiece(kind: .linked, path: path, line: note?.bodyStartLine ?? 1, heading: nil, text: body, isPrivate: isPrivate)
    }

    private func memoryPiece(_ hit: SearchHit, store: NoteStore, links: LinkResolver) -> ContextPiece? {
        guard let snapshot = try? store.readIfPresent(hit.path) else { return nil }
        let lines = snapshot.text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = max(1, hit.line)
        let end = min(lines.count, max(start, hit.endLine))
        guard start <= lines.count else { return nil }
        var text = lines[(start - 1)..<end].joined(separator: "\n")
        if text.utf8.count > 2400 { text = ContextPacketBuilder.cut(text, toTokens: 600) + "\n…" }
        let isPrivate = Privacy.isPrivate(linkedNote: hit.path, store: store, guardrails: guardrails, links: links)
        return ContextPiece(kind: .memory, path: hit.path, line: start, heading: hit.heading.isEmpty ? nil : hit.heading, text: text, isPrivate: isPrivate)
    }

    /// Notes the OS writes about runs (they would echo earlier prompts back) and the vault's own
    /// scaffolding (templates, rules, skills): retrieval skips them.
    static func isMachineOutput(_ path: String) -> Bool {
        // Folder READMEs explain the vault layout; they answer no question an agent is asked.
        if Vault.Layout.folders.contains(where: { path == $0 + "/README.md" }) { return true }
        return path.hasPrefix(Vault.Layout.telemetry + "/") || path.hasPrefix(Vault.Layout.daily + "/") || path.hasPrefix(Vault.Layout.results + "/")
            || path.hasPrefix(Vault.Layout.templates + "/") || path.hasPrefix(Vault.Layout.rules + "/") || path.hasPrefix(Vault.Layout.skills + "/")
    }

    /// A search for the distinctive words of a text: the 6 longest words of four letters or more that
    /// are not common function words (longer words are rarer, and each common word makes the search
    /// rank many more sections), joined with OR (the search syntax, never raw FTS).
    static func query(from text: String) -> String? {
        var words: [String] = []
        var seen = Set<String>()
        var current = ""
        func flush() {
            defer { current = "" }
            let lowered = current.lowercased()
            guard lowered.count >= 4, !stopWords.contains(lowered), !lowered.allSatisfy(\.isNumber), seen.insert(lowered).inserted else { return }
            words.append(lowered)
        }
        for character in text {
            if character.isLetter || character.isNumber { current.append(character) } else { flush() }
            if words.count >= 24 { break }
        }
        flush()
        guard !words.isEmpty else { return nil }
        let longest = words.enumerated().sorted { ($0.element.count, -$0.offset) > ($1.element.count, -$1.offset) }.prefix(6)
        return longest.sorted { $0.offset < $1.offset }.map(\.element).joined(separator: " OR ")
    }

    static let stopWords: Set<String> = [
        "this", "that", "with", "from", "have", "what", "when", "where", "which", "will", "would", "should", "could", "there",
        "their", "about", "into", "than", "then", "them", "they", "these", "those", "your", "some", "more", "most", "been",
        "were", "just", "also", "only", "over", "such", "very", "like", "make", "does", "done", "left", "each", "please",
        "task", "note", "notes", "type", "status", "fixture_mode",
    ]
}

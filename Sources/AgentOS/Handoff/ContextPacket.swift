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
    /// Daily-log lines about the task and its chain taken from each of today's and yesterday's notes.
    public var dailyLines = 10
    /// Daily-log lines taken from the end of today's note when no line concerns the task: recent
    /// runs tell what the vault is busy with, and a set number of them bound the piece.
    public var recentDailyLines = 3

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

        // The notes memory holds about the task's words (`memoryHits`). Retrieval never pulls a
        // private note into a task that is not private itself (a link does, and then the task is private).
        let alreadyPrivate = ownPrivate || candidates.contains(where: \.isPrivate)
        if let index {
            var taken = 0
            for hit in memoryHits(for: task, facts: facts, index: index) where taken < memoryMatches {
                guard let piece = memoryPiece(hit, store: store, links: links) else { continue }
                if piece.isPrivate && !alreadyPrivate { continue }
                candidates.append(piece)
                taken += 1
            }
        }

        // The daily log, bounded: the lines about this task and its chain, else the last few lines.
        // For a task that is not private, a daily note private as a whole is skipped and each private
        // line (a private tag, a link to a private note) is left out — they never taint the task,
        // they are simply not sent.
        let chain = ContextPacketBuilder.chainKeys(task: task, facts: facts)
        var daily: [ContextPiece] = []
        for day in [now, now.addingTimeInterval(-86_400)] {
            let path = TelemetryWriter.dailyPath(day)
            guard let piece = dailyPiece(path, store: store, links: links, keepPrivate: alreadyPrivate, concerning: chain) else { continue }
            daily.append(piece)
        }
        if daily.isEmpty, let piece = dailyPiece(TelemetryWriter.dailyPath(now), store: store, links: links, keepPrivate: alreadyPrivate, concerning: nil) {
            daily.append(piece)
        }
        candidates += daily

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

    /// Log lines of a daily note, as one piece: with `concerning`, the last `dailyLines` lines that
    /// link one of those notes (`chainKeys`); without, the last `recentDailyLines` lines. With
    /// `keepPrivate` false (the task is not private) a note private as a whole gives nothing and
    /// private lines are dropped; with it true they stay and mark the piece private. `nil` when
    /// nothing is left.
    func dailyPiece(_ path: String, store: NoteStore, links: LinkResolver, keepPrivate: Bool, concerning: Set<String>?) -> ContextPiece? {
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
        let wanted = concerning == nil ? recentDailyLines : dailyLines
        var lines = tail.split(separator: "\n").filter { $0.hasPrefix("- ") }
        if let concerning { lines = lines.filter { ContextPacketBuilder.line($0, links: concerning) } }
        let candidates = lines.suffix(wanted * 4)
        var kept: [Substring] = []
        for line in candidates.reversed() where kept.count < wanted {
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

    /// The notes retrieval gives the packet for `task`, before privacy is judged: `MemoryIndex.related`
    /// over the task's title and text, leaving out the task itself, the notes it links or lists (they
    /// are in the packet already), and the folders of the guardrails' `memory_exclude` (the OS's own
    /// notes by default). What `fuckbigtech related NOTE` prints.
    public func memoryHits(for task: TaskNote, facts: TaskFacts, index: MemoryIndex) -> [RelatedHit] {
        let scope = RelatedScope(excludedFolders: guardrails.memoryExclude, skippedPaths: Set([task.path] + facts.contextPaths))
        return (try? index.related(to: task.title + "\n" + task.prompt, scope: scope, limit: memoryMatches * 2)) ?? []
    }

    private func memoryPiece(_ hit: RelatedHit, store: NoteStore, links: LinkResolver) -> ContextPiece? {
        guard let snapshot = try? store.readIfPresent(hit.path) else { return nil }
        let lines = snapshot.text.split(separator: "\n", omittingEmptySubsequences: false)
        // The part before the first heading starts at line 1, frontmatter included: the properties
        // are the note's bookkeeping, not what it says, and are never sent.
        let bodyStart = (try? Note.parse(bytes: snapshot.bytes))?.bodyStartLine ?? 1
        let start = max(1, hit.line, hit.heading.isEmpty ? bodyStart : 1)
        let end = min(lines.count, max(start, hit.endLine))
        guard start <= lines.count else { return nil }
        var text = lines[(start - 1)..<end].joined(separator: "\n")
        if text.utf8.count > 2400 { text = ContextPacketBuilder.cut(text, toTokens: 600) + "\n…" }
        let isPrivate = Privacy.isPrivate(linkedNote: hit.path, store: store, guardrails: guardrails, links: links)
        return ContextPiece(kind: .memory, path: hit.path, line: start, heading: hit.heading.isEmpty ? nil : hit.heading, text: text, isPrivate: isPrivate)
    }

    /// Link keys of the task and its chain (the notes it links under `Tasks/`, `Handoffs/` and
    /// `Results/`: the original task, earlier handoffs, their results): the daily lines about them.
    static func chainKeys(task: TaskNote, facts: TaskFacts) -> Set<String> {
        let chainFolders = [Vault.Layout.tasks, Vault.Layout.handoffs, Vault.Layout.results].map { $0 + "/" }
        let paths = [task.path] + facts.contextPaths.filter { path in chainFolders.contains { path.hasPrefix($0) } }
        var keys = Set<String>()
        for path in paths {
            let stem = path.hasSuffix(".md") ? String(path.dropLast(3)) : path
            keys.insert(LinkResolver.key(stem))
            keys.insert(LinkResolver.key(NoteScanner.title(ofPath: path)))
        }
        return keys
    }

    /// Whether a daily line links one of `keys` (by path or by name, with or without `.md`).
    static func line(_ line: Substring, links keys: Set<String>) -> Bool {
        WikiLink.links(in: String(line)).contains { link in
            var target = link.target
            if target.hasSuffix(".md") { target.removeLast(3) }
            return keys.contains(LinkResolver.key(target))
        }
    }
}

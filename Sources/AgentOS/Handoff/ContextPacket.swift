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

/// A retrieved piece (a memory match or a daily-log line) the packet left out, and why — never its
/// text or path: a verdict that names them must not leak what they hold.
public struct LeftOutPiece: Sendable, Equatable {
    /// Why a piece was left out.
    public enum Reason: Sendable, Equatable {
        /// It is private and the task is not.
        case privateNote
        /// It holds secrets of these kinds (`SecretFinding.kind`) and the packet may leave this machine.
        case secret([String])
    }

    public var kind: ContextPiece.Kind
    public var reason: Reason

    /// Whether it was left out for being private. Such pieces are counted only to a caller that may
    /// read private notes (`ContextPacket.withoutPrivateLeftOut`): to any other, "1 private" answered
    /// whether some private note holds a word it chose.
    public var isPrivate: Bool { reason == .privateNote }

    /// One line for the route verdicts: "left out 2 retrieved pieces: 1 holding a secret (GitHub
    /// token), 1 private"; `nil` when nothing was left out. Pass only what the reader may know of
    /// (`isPrivate`).
    public static func describe(_ pieces: [LeftOutPiece]) -> String? {
        guard !pieces.isEmpty else { return nil }
        var kinds: [String] = []
        var secretCount = 0
        var privateCount = 0
        for piece in pieces {
            switch piece.reason {
            case .privateNote: privateCount += 1
            case .secret(let found):
                secretCount += 1
                for kind in found where !kinds.contains(kind) { kinds.append(kind) }
            }
        }
        var parts: [String] = []
        if secretCount > 0 { parts.append("\(secretCount) holding \(secretCount == 1 ? "a secret" : "secrets") (\(kinds.joined(separator: ", ")))") }
        if privateCount > 0 { parts.append("\(privateCount) private") }
        return "left out \(pieces.count) retrieved \(pieces.count == 1 ? "piece" : "pieces"): " + parts.joined(separator: ", ")
            + "; they are not sent and do not block the task"
    }
}

/// What of the text the task names (its own text, its linked notes) did not fit the packet's budget.
public struct ContextTruncation: Sendable, Equatable {
    /// Estimated tokens of the whole packet as sent.
    public var tokensSent: Int
    /// Estimated tokens of the task's own text and linked notes that were cut or left out.
    public var tokensLeftOut: Int
    /// Whether the task's own text (not only a linked note) was cut.
    public var ownTextCut: Bool

    /// The task properties that record it (`vault-template/.obsidian/types.json` declares them).
    public static let propertyNames = ["context_truncated", "context_tokens_sent", "context_tokens_left_out"]

    /// The properties written on the task and its result note.
    public var properties: [Property] {
        [Property("context_truncated", .bool(true)), Property("context_tokens_sent", .int(tokensSent)), Property("context_tokens_left_out", .int(tokensLeftOut))]
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
    /// Retrieved pieces left out because they are private or hold a secret (counts and reasons only).
    public var leftOut: [LeftOutPiece] = []

    /// The packet as a caller that may not read private notes is shown it: without the private
    /// pieces it left out. An agent may write a task of any words and ask for its packet (or read
    /// its route verdicts), so a count of private pieces told it whether some private note holds
    /// them (an outside attack confirmed a password so).
    public func withoutPrivateLeftOut() -> ContextPacket {
        var shown = self
        shown.leftOut.removeAll(where: \.isPrivate)
        return shown
    }
    /// Set when text the task names was cut or left out to fit the budget.
    public var truncation: ContextTruncation?

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
    public var text: String { rendered().text }

    /// The prompt and where each piece (its label line and text) lies in it, in UTF-16 offsets.
    func rendered() -> (text: String, ranges: [NSRange]) {
        if pieces.count == 1, let only = pieces.first, only.path == notePath { return (only.text, [NSRange(location: 0, length: only.text.utf16.count)]) }
        var out = ContextPacket.preamble(notePath)
        var ranges: [NSRange] = []
        for piece in pieces {
            let start = out.utf16.count
            out += ContextPacket.heading(piece) + piece.text.trimmingWhitespacesAndNewlines() + "\n"
            ranges.append(NSRange(location: start, length: out.utf16.count - start))
        }
        if !omitted.isEmpty {
            // The names when they fit in the budget, else their number, else nothing: the line is a
            // courtesy, the budget a limit.
            let named = "\n(Left out to stay within \(budgetTokens) tokens: \(omitted.joined(separator: ", ")).)\n"
            let counted = "\n(Left out to stay within \(budgetTokens) tokens: \(omitted.count) more \(omitted.count == 1 ? "piece" : "pieces").)\n"
            let used = ContextPacket.estimateTokens(out)
            if let line = [named, counted].first(where: { used + ContextPacket.estimateTokens($0) <= budgetTokens }) { out += line }
        }
        return (out, ranges)
    }

    /// The packet's first lines.
    static func preamble(_ notePath: String) -> String {
        "# Context packet for \(notePath)\n\nEach piece below is labelled with the vault note it comes from.\n"
    }

    /// The line above a piece.
    static func heading(_ piece: ContextPiece) -> String { "\n## \(piece.label)\n\n" }

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
            ("left_out", .array(leftOut.map { piece in
                switch piece.reason {
                case .privateNote: return .object([("kind", .string(piece.kind.rawValue)), ("reason", .string("private"))])
                case .secret(let kinds): return .object([("kind", .string(piece.kind.rawValue)), ("reason", .string("secret")), ("secrets", .array(kinds.map { .string($0) }))])
                }
            })),
            ("truncated", .bool(truncation != nil)),
            ("tokens_left_out", .int(truncation?.tokensLeftOut ?? 0)),
            ("text", .string(text)),
        ])
    }
}

/// Builds context packets from the vault and its memory index.
public struct ContextPacketBuilder: Sendable {
    public let vault: Vault
    public let guardrails: Guardrails
    /// Judges retrieved pieces for secrets (the router's own scanner when routing builds the packet).
    public let scanner: SecretScanner
    /// The token budget when the agent note sets none.
    public static let defaultBudget = 4000
    /// Memory matches asked of the index.
    public var memoryMatches = 6
    /// Daily-log lines about the task and its chain taken from each of today's and yesterday's notes.
    public var dailyLines = 10
    /// Daily-log lines taken from the end of today's note when no line concerns the task: recent
    /// runs tell what the vault is busy with, and a set number of them bound the piece.
    public var recentDailyLines = 3
    /// The second memory engine retrieval merges in (`qmd:` in the guardrails, `qmd` on PATH), or `nil`.
    public var qmd: QMDEngine?

    /// A builder; `scanner` defaults to one with the guardrails' `secret_patterns`.
    public init(vault: Vault, guardrails: Guardrails, scanner: SecretScanner? = nil) {
        self.vault = vault
        self.guardrails = guardrails
        self.scanner = scanner ?? SecretScanner(extraPatterns: guardrails.secretPatterns)
        self.qmd = QMDEngine.configured(guardrails)
    }

    /// Builds the packet for a task or handoff note. Its linked notes are exactly `facts.contextPaths`,
    /// the links routing resolved and privacy judged (`TaskFacts.from(note:…)`): the packet never
    /// resolves a link of the task itself. `links` is the resolver that made them (privacy reads the
    /// notes a memory match or daily line names through it). `index` may be `nil` (no memory matches then).
    ///
    /// Pieces the task names keep their text whatever it holds (the router blocks or redacts secrets
    /// in them, and privacy taints the task). Retrieved pieces — memory matches and daily lines — are
    /// judged here, when the packet is built: a private one is left out of a task that is not private,
    /// and with `offMachine` (the packet may go to a non-local lane) one holding a secret is left out.
    /// Either is counted in `leftOut`, never sent and never blocks the task.
    public func build(for task: TaskNote, facts: TaskFacts, links: LinkResolver, budgetTokens: Int, index: MemoryIndex?, offMachine: Bool = true, now: Date = Date()) -> ContextPacket {
        let store = NoteStore(vault: vault)
        var candidates: [ContextPiece] = []
        var leftOut: [LeftOutPiece] = []
        let ownPrivate = Privacy.reason(note: task.note, path: task.path, guardrails: guardrails) != nil
        candidates.append(ContextPiece(kind: task.kind == .handoff ? .handoff : .task, path: task.path, line: task.note.bodyStartLine, heading: nil, text: handoffHeader(task) + task.prompt, isPrivate: ownPrivate))

        // The original task of a handoff, then every linked or listed note, as routing resolved them.
        for path in facts.contextPaths where path != task.path {
            // Nor the day's log as a linked note: it grows after the review as it does unlinked.
            if task.isApproved && Privacy.isDailyLog(path) { continue }
            guard var piece = linkedPiece(path, store: store, links: links) else { continue }
            if facts.privateSources.contains(path) { piece.isPrivate = true }
            candidates.append(piece)
        }
        let named = candidates.count

        // The notes memory holds about the task's words (`memoryHits`). Retrieval never pulls a
        // private note into a task that is not private itself (a link does, and then the task is private).
        let alreadyPrivate = ownPrivate || candidates.contains(where: \.isPrivate)
        // A public note's links to private notes go as `(a private note)`: their targets, headings
        // and aliases name the private note (`PrivateLinks`). For a local agent too: what it
        // writes from a task that is not private is public, and it wrote a private note's name
        // into a handoff to a cloud agent as plain text, which no link form reads (an outside
        // attack, round 144). Verdicts kept per path.
        var reasonOf: [String: String?] = [:]
        func noteReason(_ path: String) -> String? {
            if let known = reasonOf[path] { return known }
            let why = Privacy.reason(ofNoteAt: path, store: store, guardrails: guardrails, links: links)
            reasonOf[path] = .some(why)
            return why
        }
        func withoutPrivateLinks(_ piece: ContextPiece) -> ContextPiece {
            guard !alreadyPrivate else { return piece }
            var piece = piece
            piece.text = PrivateLinks.redacting(piece.text, in: piece.path, candidates: { found in
                // From the index when there is one (a walk of the vault per packet, while a burst
                // changes `Tasks/`, cost ten times the rest of the packet), and by the resolver for
                // what the index knows no note for; else by the resolver.
                if let index { return PrivateLinks.candidates(found, from: piece.path, index: index, resolver: links) }
                return found.map { links.resolve($0, from: piece.path).judged }
            }) { noteReason($0) != nil }.text
            return piece
        }
        for i in 1..<named { candidates[i] = withoutPrivateLinks(candidates[i]) }
        // A retrieved piece that names a private note or folder by its path on disk
        // (`~/Notes/Private/Salary`, `/vault/Work/Sha*/*`), which no link form reads, is left out:
        // the agent could open it, or pass the name on (a task naming it is private; TaskFacts
        // reads it the same way).
        var diskJudge: DiskPathJudge?
        func namesPrivatePath(_ text: String) -> Bool {
            guard !alreadyPrivate, text.holdsByte("/") || text.holdsByte("~") || text.holdsByte("$") else { return false }
            let judge = diskJudge ?? DiskPathJudge(vault: vault, guardrails: guardrails, links: links, path: task.path)
            diskJudge = judge
            return !judge.privateNotes(namedIn: text, isPrivate: { noteReason($0) != nil }).isEmpty
        }
        // Whether a day-log item, judged with its continuation lines and headings, points at a private
        // note in a form only `PrivateLinks` reads: off this machine, such an item is left out.
        func pointsAtPrivate(_ judged: String, in log: String) -> Bool {
            withoutPrivateLinks(ContextPiece(kind: .daily, path: log, line: nil, heading: nil, text: judged, isPrivate: false)).text != judged
                || namesPrivatePath(judged)
        }
        // Each hit is judged once, on the text that would be sent, as retrieval asks (so a note left
        // out never sets the relevance floor for the others), or here for a hit qmd brought in.
        if let index {
            var admitted: [String: ContextPiece] = [:]
            var refused = Set<String>()
            func admit(_ hit: RelatedHit) -> Bool {
                let key = hit.path + "\u{0}" + String(hit.line)
                if admitted[key] != nil { return true }
                if refused.contains(key) { return false }
                // Cut after its links to private notes are hidden: cut first, a link straddling
                // the cut was no longer one, and `[[Cancer diagnosis` went out (an outside attack).
                // (Cut first to what a link starting in the kept part can reach: a whole section
                // of megabytes was judged link by link for 2,400 bytes of it.)
                guard let piece = memoryPiece(hit, store: store, links: links).map({ whole -> ContextPiece in
                    let (rough, split) = ContextPacketBuilder.roughlyShortened(whole)
                    var judged = withoutPrivateLinks(rough)
                    // A rough cut inside a line may split a link, which is then not judged: that
                    // tail goes (an outside attack: a long private link before it, shrunk to the
                    // placeholder, brought the split one under the last cut).
                    if split { judged.text = ContextPacketBuilder.droppingUnjudgedTail(judged.text, scanner: scanner) }
                    return ContextPacketBuilder.shortened(judged, scanner: scanner)
                }) else {
                    refused.insert(key)
                    return false
                }
                if (piece.isPrivate && !alreadyPrivate) || namesPrivatePath(piece.label + "\n" + piece.text) {
                    leftOut.append(LeftOutPiece(kind: .memory, reason: .privateNote))
                    refused.insert(key)
                    return false
                }
                if offMachine {
                    // The label goes out with the text: a secret in a note's name or heading counts too.
                    let found = scanner.scan(piece.label + "\n" + piece.text)
                    if !found.isEmpty {
                        leftOut.append(LeftOutPiece(kind: .memory, reason: .secret(found.map(\.kind))))
                        refused.insert(key)
                        return false
                    }
                }
                admitted[key] = piece
                return true
            }
            // A line a private note writes next to a link is private text: it may not decide which
            // public notes a task that is not private gets. (Judged as the pieces' links are, with
            // their verdicts: the notes linking a hit are often the notes a piece links.)
            let anchorsFrom: ((String) -> Bool)? = alreadyPrivate ? nil : { noteReason($0) == nil }
            let hits = memoryHits(for: task, facts: facts, index: index, limit: memoryMatches, anchorsFrom: anchorsFrom, admit: admit)
            var taken = 0
            for hit in hits where taken < memoryMatches && admit(hit) {
                guard let piece = admitted[hit.path + "\u{0}" + String(hit.line)] else { continue }
                candidates.append(piece)
                taken += 1
            }
        }

        // The daily log, bounded: the lines about this task and its chain, else the last few lines.
        // For a task that is not private, a daily note private as a whole is skipped and each private
        // line (a private tag, a link to a private note) is left out — they never taint the task,
        // they are simply not sent.
        // A task a person approved gets no day-log lines: the approval answers for what the packet is
        // made from, which the person could read, and the day's log grows after the review with lines
        // any run writes (an outside attack put "NOTE FROM THE OWNER: …" there for an approved run).
        let chain = ContextPacketBuilder.chainKeys(task: task, facts: facts)
        let today = task.isApproved ? nil : DailyLog.read(TelemetryWriter.dailyPath(now), store: store)
        let yesterday = task.isApproved ? nil : DailyLog.read(TelemetryWriter.dailyPath(now.addingTimeInterval(-86_400)), store: store)
        var daily: [ContextPiece] = []
        for log in [today, yesterday] {
            guard let log, let piece = dailyPiece(log, store: store, links: links, keepPrivate: alreadyPrivate, offMachine: offMachine, concerning: chain,
                                                  pointsAtPrivate: pointsAtPrivate, noteReason: noteReason, leftOut: &leftOut) else { continue }
            daily.append(piece)
        }
        if daily.isEmpty, let today, let piece = dailyPiece(today, store: store, links: links, keepPrivate: alreadyPrivate, offMachine: offMachine, concerning: nil,
                                                           pointsAtPrivate: pointsAtPrivate, noteReason: noteReason, leftOut: &leftOut) {
            daily.append(piece)
        }
        // Items pointing at a private note in a form only `PrivateLinks` reads were left out whole by
        // `dailyPiece` (`pointsAtPrivate`): what is left is sent as it is.
        candidates += daily

        var packet = ContextPacketBuilder.fit(candidates, notePath: task.path, budgetTokens: budgetTokens, named: named, scanner: scanner)
        // Pieces side by side can hold what neither holds alone (a code span's end in one, a word in
        // the next: "password assignment" — two notes of the Obsidian Help vault blocked a task that
        // way, an outside attack). The packet is judged whole as the router will judge it; a retrieved
        // piece a finding touches is left out, and the packet is fitted again.
        if offMachine {
            for _ in 0..<8 {
                let (text, ranges) = packet.rendered()
                guard !scanner.scan(text).isEmpty else { break }
                var culprits: [(piece: ContextPiece, kinds: [String])] = []
                for (found, span) in scanner.located(in: text) {
                    for (piece, range) in zip(packet.pieces, ranges) where (piece.kind == .memory || piece.kind == .daily) && NSIntersectionRange(range, span).length > 0 {
                        if let at = culprits.firstIndex(where: { $0.piece == piece }) {
                            if !culprits[at].kinds.contains(found.kind) { culprits[at].kinds.append(found.kind) }
                        } else {
                            culprits.append((piece, [found.kind]))
                        }
                    }
                }
                guard !culprits.isEmpty else { break }
                for culprit in culprits {
                    leftOut.append(LeftOutPiece(kind: culprit.piece.kind, reason: .secret(culprit.kinds)))
                    candidates.removeAll { $0.kind == culprit.piece.kind && $0.path == culprit.piece.path && $0.line == culprit.piece.line }
                }
                packet = ContextPacketBuilder.fit(candidates, notePath: task.path, budgetTokens: budgetTokens, named: named, scanner: scanner)
            }
        }
        packet.leftOut = leftOut
        return packet
    }

    /// Deduplicates (by path and section, then by identical text) and keeps pieces in order until
    /// the budget is spent. The first `named` pieces are what the task names (its own text first,
    /// then its linked notes): the note's own piece always stays, cut if it alone is too long, and
    /// whatever of them is cut or left out is recorded in `truncation`.
    static func fit(_ candidates: [ContextPiece], notePath: String, budgetTokens: Int, named: Int = 1, scanner: SecretScanner? = nil) -> ContextPacket {
        var kept: [ContextPiece] = []
        var omitted: [String] = []
        var seenKeys = Set<String>()
        var seenTexts = Set<String>()
        // Everything the prompt holds is charged: its first lines and each piece's heading (a packet
        // of 2,000 tokens came to 2,055: a new user's check, round 50); the line naming what was
        // left out goes only where it fits (`rendered`).
        var remaining = budgetTokens - ContextPacket.estimateTokens(ContextPacket.preamble(notePath))
        var namedLeftOut = 0
        var ownTextCut = false
        for (i, var piece) in candidates.enumerated() {
            let key = piece.path + "#" + (piece.line.map(String.init) ?? "")
            let normalizedText = piece.text.trimmingWhitespacesAndNewlines()
            if i > 0 && (seenKeys.contains(key) || seenKeys.contains(piece.path + "#") || seenTexts.contains(normalizedText) || normalizedText.isEmpty) { continue }
            let heading = ContextPacket.estimateTokens(ContextPacket.heading(piece)) + 1
            let cost = ContextPacket.estimateTokens(piece.text) + heading
            // The task's text that fits the budget by itself goes whole and alone (a packet of one
            // piece has no headings): it was cut for want of room for headings (round 51).
            if i == 0, cost > remaining, ContextPacket.estimateTokens(piece.text) <= budgetTokens {
                let rest = candidates.dropFirst()
                let leftOut = rest.prefix(max(0, named - 1)).reduce(0) { $0 + ContextPacket.estimateTokens($1.text) }
                var alone = ContextPacket(notePath: notePath, pieces: [piece], omitted: rest.map(\.path), budgetTokens: budgetTokens)
                if leftOut > 0 { alone.truncation = ContextTruncation(tokensSent: ContextPacket.estimateTokens(alone.text), tokensLeftOut: leftOut, ownTextCut: false) }
                return alone
            }
            if cost > remaining {
                if i == 0 || remaining > 200 {
                    let whole = ContextPacket.estimateTokens(piece.text)
                    piece.text = cut(piece.text, toTokens: max(remaining - heading - 1, 1), scanner: scanner)
                    piece.text += "\n…"
                    if i < named { namedLeftOut += max(0, whole - ContextPacket.estimateTokens(piece.text)) }
                    if i == 0 { ownTextCut = true }
                } else {
                    if i < named { namedLeftOut += ContextPacket.estimateTokens(piece.text) }
                    omitted.append(piece.path)
                    continue
                }
            }
            remaining -= ContextPacket.estimateTokens(piece.text) + heading
            seenKeys.insert(key)
            if piece.kind == .linked { seenKeys.insert(piece.path + "#") }
            seenTexts.insert(normalizedText)
            kept.append(piece)
        }
        var packet = ContextPacket(notePath: notePath, pieces: kept, omitted: omitted, budgetTokens: budgetTokens)
        if namedLeftOut > 0 || ownTextCut {
            packet.truncation = ContextTruncation(tokensSent: ContextPacket.estimateTokens(packet.text), tokensLeftOut: namedLeftOut, ownTextCut: ownTextCut)
        }
        return packet
    }

    /// A memory piece no longer than 600 tokens (2,400 bytes), marked `…` when cut; a wikilink the
    /// cut leaves open is left out from its `[[` (its alias may run past the rough cut below).
    static func shortened(_ piece: ContextPiece, scanner: SecretScanner? = nil) -> ContextPiece {
        guard piece.text.utf8.count > 2400 else { return piece }
        var piece = piece
        piece.text = withoutOpenLink(cut(piece.text, toTokens: 600, scanner: scanner)) + "\n…"
        return piece
    }

    /// A cut text without the link the cut left open: from the first `[[` no `]]` closes (an alias
    /// may hold `[[` itself), and an Obsidian URL that runs into the cut.
    static func withoutOpenLink(_ cutText: String) -> String {
        var text = cutText
        let closed = text.range(of: "]]", options: .backwards)?.upperBound ?? text.startIndex
        if let open = text[closed...].range(of: "[[") { text = String(text[..<open.lowerBound]) }
        if let url = text.range(of: "obsidian:", options: [.backwards, .caseInsensitive]), !text[url.upperBound...].contains(where: \.isWhitespace) {
            text = String(text[..<url.lowerBound])
        }
        return text
    }

    /// A judged piece without the last 12,300 bytes of what the rough cut kept: a link split by that
    /// cut was not read as one, and no link that starts before it is longer (4,096 units of a path).
    static func droppingUnjudgedTail(_ text: String, scanner: SecretScanner? = nil) -> String {
        let keep = text.utf8.count - 12_300
        guard keep > 0 else { return "" }
        return withoutOpenLink(cut(text, toBytes: keep, scanner: scanner))
    }

    /// A memory piece cut to 16,000 bytes, before its links are judged: a link that starts in the
    /// first 2,400 (what `shortened` keeps) ends within it, as no link to a note is longer than a
    /// path can be (4,096 units).
    /// Cut at the end of a line when one ends in the last 12,300 bytes (no link runs across lines
    /// but a Markdown destination or an HTML tag, whose part before the cut names nothing); else
    /// inside the line, and `split` says so.
    static func roughlyShortened(_ piece: ContextPiece) -> (piece: ContextPiece, split: Bool) {
        guard piece.text.utf8.count > 16_000 else { return (piece, false) }
        var piece = piece
        let bytes = Array(piece.text.utf8.prefix(16_000))
        if let newline = bytes.lastIndex(of: 0x0A), newline >= 16_000 - 12_300 {
            piece.text = String(decoding: bytes[..<newline], as: UTF8.self)
            return (piece, false)
        }
        piece.text = String(decoding: bytes, as: UTF8.self)
        return (piece, true)
    }

    /// The first `tokens` worth of text, cut at a line break when one is near (within 400 bytes).
    /// Never inside a word, nor after the first part of a word that goes on past the cut or on the
    /// next line: a secret cut short is no secret the scanner knows, yet most of one (a GitHub token
    /// cut one character short is one of 62, the rest being a checksum: an outside attack). A word
    /// (printable ASCII up to a space, a quote, a bracket, `,`, `;` or `|`) that goes on past the
    /// cut is left out whole, so a token is sent whole (and scanned) or not at all.
    static func cut(_ text: String, toTokens tokens: Int, scanner: SecretScanner? = nil) -> String {
        cut(text, toBytes: max(0, tokens) * 4, scanner: scanner)
    }

    /// The printable ASCII marks that end a word for `cut`.
    static let wordEnds = Set("\"'`()[]{}<>,;|".utf8)

    /// `cut(_:toTokens:)` to at most `limit` bytes. With `scanner`, the text around the cut is
    /// scanned too, and a secret found across it (as the scanner reads one: split by an invisible
    /// character, `<wbr>`, or wrapped onto a quoted or indented line — an outside attack) moves the
    /// cut before it.
    static func cut(_ text: String, toBytes limit: Int, scanner: SecretScanner? = nil) -> String {
        let limit = max(0, limit)
        guard text.utf8.count > limit else { return text }
        // The bytes up to the limit, and those after it the window scanned around the cut needs.
        let bytes = Array(text.utf8.prefix(limit + ContextPacketBuilder.cutWindow))
        var end = limit
        if let newline = bytes[..<limit].lastIndex(of: 0x0A), limit - newline < 400 { end = newline }
        // A word is a run of printable ASCII without the marks no key or token holds (quotes,
        // brackets, `,`, `;`, `|`): `[x](` repeated is many words, a base64 key one.
        func isWordByte(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F && !ContextPacketBuilder.wordEnds.contains(byte) }
        // Whether a word goes on at `at`: at once, or after one line break (a token broken over lines).
        func goesOn(_ at: Int) -> Bool {
            var next = at
            if next < bytes.count, bytes[next] == 0x0D { next += 1 }
            if next < bytes.count, bytes[next] == 0x0A { next += 1 }
            return next < bytes.count && isWordByte(bytes[next])
        }
        var last = end
        if last > 0, bytes[last - 1] == 0x0D { last -= 1 }
        if last > 0, isWordByte(bytes[last - 1]), goesOn(end) {
            end = last
            while end > 0, isWordByte(bytes[end - 1]) { end -= 1 }
        }
        // Not inside a character's bytes.
        while end > 0, end < bytes.count, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        if let scanner { end = ContextPacketBuilder.beforeSecrets(bytes, cutAt: end, scanner: scanner) }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// How far before and after a cut the text is scanned for a secret across it (bytes).
    static let cutWindow = 1_024

    /// `end`, or the start of the first secret (`scanner`) that begins before it and ends after it,
    /// in a window of `cutWindow` bytes on either side; repeated while the new end is inside another.
    static func beforeSecrets(_ bytes: [UInt8], cutAt end: Int, scanner: SecretScanner) -> Int {
        var start = max(0, end - cutWindow)
        while start > 0, start < bytes.count, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        let window = String(decoding: bytes[start..<min(bytes.count, end + cutWindow)], as: UTF8.self)
        // Byte offsets (in `bytes`) of each secret found.
        let utf16 = window.utf16
        let spans: [Range<Int>] = scanner.spans(in: window).compactMap { range in
            guard let lower = utf16.index(utf16.startIndex, offsetBy: range.location, limitedBy: utf16.endIndex),
                  let upper = utf16.index(lower, offsetBy: range.length, limitedBy: utf16.endIndex) else { return nil }
            return (start + window.utf8.distance(from: window.utf8.startIndex, to: lower))..<(start + window.utf8.distance(from: window.utf8.startIndex, to: upper))
        }
        var end = end
        var moved = true
        while moved {
            moved = false
            for span in spans where span.lowerBound < end && span.upperBound > end {
                end = span.lowerBound
                moved = true
            }
        }
        return end
    }

    /// Whether a day-log item is one of the OS's run lines: it ends with a run marker, as the OS
    /// writes them (a person's words typed after the marker of an OS line, or a marker quoted in a
    /// line of their own, went to claude: an outside attack). An OS line a person edited before
    /// its marker counts as the OS's.
    /// Read by bytes (every packet reads each line of the day's last 16 KB so, and Foundation's
    /// search for the marker was 3 % of the watcher's time in a burst); an id holding a space, `<`
    /// or `>` byte is none.
    static func isRunLine(_ item: DailyLog.Item) -> Bool {
        var line = item.text.trimmingWhitespaces()
        return line.withUTF8 { bytes in
            let end = bytes.count - runLineEnd.count
            guard end >= runMarker.count, bytes[end...].elementsEqual(runLineEnd) else { return false }
            // The last marker: the id runs from it to the line's ` -->`.
            var start = end - runMarker.count
            while start >= 0, !bytes[start..<(start + runMarker.count)].elementsEqual(runMarker) { start -= 1 }
            guard start >= 0 else { return false }
            let id = bytes[(start + runMarker.count)..<end]
            return !id.isEmpty && !id.contains { $0 == 0x20 || $0 == 0x3C || $0 == 0x3E }
        }
    }

    private static let runMarker = Array(TelemetryWriter.markerPrefix.utf8)
    private static let runLineEnd = Array(" -->".utf8)

    /// Whether `value` is a plain name (an agent's, `claude (usage limit)`), at most 200 characters,
    /// holding none of the marks a link, a path, an entity or a URL needs (`[ ] / \ < > % : & | # ^`)
    /// nor `.md`.
    static func isPlainName(_ value: String) -> Bool {
        value.count <= 200 && !value.isEmpty && !value.lowercased().contains(".md")
            && !value.unicodeScalars.contains { "[]/\\<>%:&|#^\n".unicodeScalars.contains($0) }
    }

    private func handoffHeader(_ task: TaskNote) -> String {
        guard task.kind == .handoff else { return "" }
        var lines: [String] = []
        // `from` and `to` name agents: a value that is no plain name (`[[Private/Bank]]`, a path) is
        // not sent — privacy judges a handoff's task, context and body, not these (an outside attack).
        if let from = task.note.text("from"), ContextPacketBuilder.isPlainName(from) { lines.append("From: \(from)") }
        if let to = task.note.text("to"), ContextPacketBuilder.isPlainName(to) { lines.append("To: \(to)") }
        if let link = task.note.text("task") { lines.append("Task: \(link)") }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n\n"
    }

    /// Log lines of a daily note, as one piece: with `concerning`, the last `dailyLines` lines that
    /// link one of those notes (`chainKeys`); without, the last `recentDailyLines` of the OS's own
    /// run lines (a person's own entries are not about this task). With
    /// `keepPrivate` false (the task is not private) a note private as a whole gives nothing and
    /// private lines are dropped; with it true they stay and mark the piece private. With `offMachine`
    /// a line holding a secret is dropped too. What is dropped is counted in `leftOut`. `nil` when
    /// nothing is left.
    func dailyPiece(_ log: DailyLog, store: NoteStore, links: LinkResolver, keepPrivate: Bool, offMachine: Bool = false, concerning: Set<String>?,
                    pointsAtPrivate: (_ judged: String, _ log: String) -> Bool = { _, _ in false }, noteReason: ((String) -> String?)? = nil,
                    leftOut: inout [LeftOutPiece]) -> ContextPiece? {
        let path = log.path
        // The note as a whole: its properties (`privacy`, `private`, `tags`) and its path. Inline tags
        // are judged line by line instead, so one `#private` line does not hide the whole log.
        let wholeReason = Privacy.reason(ofLog: log.header, at: path, guardrails: guardrails)
        if wholeReason != nil && !keepPrivate {
            leftOut.append(LeftOutPiece(kind: .daily, reason: .privateNote))
            return nil
        }
        var anyPrivate = wholeReason != nil
        // Judging a line may read the notes it links; only the last few candidates are judged.
        let wanted = concerning == nil ? recentDailyLines : dailyLines
        let parsed = log.parsed()
        var items = parsed.items
        if let concerning {
            let named = ContextPacketBuilder.nameFilter(concerning)
            items = items.filter { (named?($0.text) ?? true) && ContextPacketBuilder.line($0.text, links: concerning) }
        } else {
            // The last lines of the day are the OS's own run lines only: `init` makes `Daily/`
            // Obsidian's daily notes, and a person's own entry there ("Call with Dr. Weber: …") went
            // to a cloud agent with an unrelated task (an outside tour). A person's line about the
            // task or its chain (it links one of them) is still sent, above.
            items = items.filter(ContextPacketBuilder.isRunLine)
        }
        let candidates = Array(items.suffix(wanted * 4).reversed())
        // Each candidate's privacy, judged once (it may read the notes the line links).
        var privateAt: [Int: Bool] = [:]
        func judge(_ judged: String) -> Bool {
            Privacy.reason(line: judged, from: path, store: store, guardrails: guardrails, links: links, noteReason: noteReason) != nil
                || pointsAtPrivate(judged, path)
        }
        // The lines of text the items sit under, judged once for all the items under the same ones.
        var titlesPrivate: [Range<Int>: Bool] = [:]
        func titlesArePrivate(_ range: Range<Int>) -> Bool {
            guard !range.isEmpty else { return false }
            if let known = titlesPrivate[range] { return known }
            let lines = parsed.titles[range]
            let verdict = range.count > DailyLog.mostTitles || lines.reduce(0, { $0 + $1.utf8.count + 1 }) > DailyLog.mostTitleBytes
                || judge(lines.joined(separator: "\n"))
            titlesPrivate[range] = verdict
            return verdict
        }
        func isPrivate(_ i: Int) -> Bool {
            if let known = privateAt[i] { return known }
            // Judged with its continuation lines and its heading (`DailyLog.items`); the item's own line is what is sent.
            // …and any other form of link to a private note there (an Obsidian URL, a bare path, an
            // `<a href>`) on the item, a line continuing it, or a heading above it (`PrivateLinks`).
            let item = candidates[i]
            let verdict = item.unknownAbove || judge(item.judged) || titlesArePrivate(item.titles)
            privateAt[i] = verdict
            return verdict
        }
        // The newest `wanted` lines a packet may carry, each line scanned for secrets when `scanLines`.
        func choose(scanLines: Bool) -> (kept: [Substring], leftOut: [LeftOutPiece], anyPrivate: Bool) {
            var kept: [Substring] = []
            var dropped: [LeftOutPiece] = []
            var anyPrivate = false
            for i in candidates.indices where kept.count < wanted {
                if isPrivate(i) {
                    guard keepPrivate else {
                        dropped.append(LeftOutPiece(kind: .daily, reason: .privateNote))
                        continue
                    }
                    anyPrivate = true
                }
                if scanLines {
                    let found = scanner.scan(String(candidates[i].text))
                    if !found.isEmpty {
                        dropped.append(LeftOutPiece(kind: .daily, reason: .secret(found.map(\.kind))))
                        continue
                    }
                }
                // Obsidian comments are never sent (a daily line's `%% my real opinion %%` too).
                kept.append(candidates[i].text.contains("%%") ? Substring(TaskNote.removingComments(String(candidates[i].text))) : candidates[i].text)
            }
            return (kept, dropped, anyPrivate)
        }
        // Off this machine every line is scanned; the lines together first: a secret in any one of
        // them is a secret in all of them, so when they are clean no line needs its own scan (one
        // scan a packet instead of four). Otherwise line by line, leaving out those that hold one.
        var chosen = choose(scanLines: false)
        var text = chosen.kept.reversed().joined(separator: "\n")
        if offMachine, !chosen.kept.isEmpty, !scanner.scan(text).isEmpty {
            chosen = choose(scanLines: true)
            text = chosen.kept.reversed().joined(separator: "\n")
            // A secret wrapped over several lines is found only in the lines together: then none are sent.
            if !chosen.kept.isEmpty, case let found = scanner.scan(text), !found.isEmpty {
                leftOut += chosen.leftOut
                leftOut.append(LeftOutPiece(kind: .daily, reason: .secret(found.map(\.kind))))
                return nil
            }
        }
        leftOut += chosen.leftOut
        anyPrivate = anyPrivate || chosen.anyPrivate
        guard !chosen.kept.isEmpty else { return nil }
        return ContextPiece(kind: .daily, path: path, line: nil, heading: nil, text: text, isPrivate: anyPrivate)
    }


    private func linkedPiece(_ path: String, store: NoteStore, links: LinkResolver) -> ContextPiece? {
        guard path.hasSuffix(".md"), let snapshot = try? store.readIfPresent(path) else { return nil }
        let note = try? Note.parse(bytes: snapshot.bytes)
        let isPrivate = Privacy.isPrivate(linkedNote: path, store: store, guardrails: guardrails, links: links)
        // Obsidian comments are never sent, in a linked note as in the task.
        let body = TaskNote.removingComments(note?.body ?? snapshot.text)
        return ContextPiece(kind: .linked, path: path, line: note?.bodyStartLine ?? 1, heading: nil, text: body, isPrivate: isPrivate)
    }

    /// The memory matches retrieval finds for a task, best first: the one retrieval the packet uses
    /// (and `related` and `memory-test` show). The task's own note, the notes it links (they come as
    /// linked pieces) and the guardrails' `memory_exclude` folders are never among them; `admit` (the
    /// packet's judge of privacy and secrets, on the text it takes) sets the relevance floor.
    public func memoryHits(for task: TaskNote, facts: TaskFacts, index: MemoryIndex, limit: Int? = nil, anchorsFrom: ((String) -> Bool)? = nil, admit: (RelatedHit) -> Bool = { _ in true }) -> [RelatedHit] {
        retrieve(text: retrievalText(for: task, facts: facts), excluding: [task.path] + facts.contextPaths, index: index, limit: limit, anchorsFrom: anchorsFrom, admit: admit)
    }

    /// What memory is searched for: the note's title and text; for a handoff, its original task's
    /// too — and for a failover handoff, whose text is the OS's account of why an agent stopped,
    /// only the task's and what the agent produced (a tour: codex's packet was retrieved from
    /// "usage limit reached … 2 days 17 hours … API key" and held "Upgrade your plan" and "Date
    /// arithmetic", and nothing about the task).
    /// The original task was read with the handoff's facts (`TaskFacts.originalTaskText`).
    func retrievalText(for task: TaskNote, facts: TaskFacts) -> String {
        let own = task.title + "\n" + task.prompt
        guard task.kind == .handoff, let carried = facts.originalTaskText else { return own }
        guard task.note["failover_of"] != nil else { return carried + "\n" + own }
        return carried + "\n" + TaskEngine.producedPart(of: task.prompt)
    }

    /// The memory matches for a text, best first, leaving out the notes in `excluding` and the
    /// guardrails' `memory_exclude` folders.
    /// `admit` judges our hits as `MemoryIndex.related` says (the floor is the best admitted hit's
    /// share); qmd's hits are merged in unjudged.
    /// `anchorsFrom`: whose link lines may count (`MemoryIndex.related`).
    public func retrieve(text: String, excluding: [String] = [], index: MemoryIndex, limit: Int? = nil, anchorsFrom: ((String) -> Bool)? = nil, admit: (RelatedHit) -> Bool = { _ in true }) -> [RelatedHit] {
        let scope = RelatedScope(excludedFolders: guardrails.memoryExclude, skippedPaths: Set(excluding))
        let limit = limit ?? memoryMatches * 2
        let ours = (try? index.related(to: text, scope: scope, limit: limit, pool: memoryMatches * 4, anchorsFrom: anchorsFrom, admit: admit)) ?? []
        // The optional second engine (`qmd:` in the guardrails): its hits merged with ours, same scope.
        // (A packet asks for its `memoryMatches` of ours; the fused list stays as long as before, for
        // qmd's hits the packet then refuses.)
        return QMDEngine.merged(ours, engine: qmd, text: text, scope: scope, limit: max(limit, memoryMatches * 2), vault: vault)
    }

    private func memoryPiece(_ hit: RelatedHit, store: NoteStore, links: LinkResolver) -> ContextPiece? {
        guard let snapshot = try? store.readIfPresent(hit.path) else { return nil }
        // The part before the first heading starts at line 1, frontmatter included: the properties
        // are the note's bookkeeping, not what it says, and are never sent.
        let note = try? Note.parse(bytes: snapshot.bytes)
        let bodyStart = note?.bodyStartLine ?? 1
        let start = max(1, hit.line, hit.heading.isEmpty ? bodyStart : 1)
        guard var text = ContextPacketBuilder.lines(of: snapshot.bytes, from: start, through: max(start, hit.endLine)) else { return nil }
        // Obsidian comments are never sent: the body read without them, line for line (a comment
        // may open in an earlier section), and the same lines cut from it. Only notes holding `%%`
        // (as bytes, as Obsidian reads it: `String.contains` was a fiftieth of a burst's work).
        if let note, ByteSearch.contains(snapshot.bytes, "%%"), note.body.holdsBytes("%%") {
            let visible = Array(ObsidianComments.removing(from: note.body, keepingLines: true).utf8)
            let offset = bodyStart - 1
            text = ContextPacketBuilder.lines(of: visible, from: max(1, start - offset), through: max(start, hit.endLine) - offset) ?? ""
        }
        // Judged on the bytes just read (one read: what is judged is what is sent); a note whose
        // frontmatter does not parse cannot be judged, and counts as private.
        let isPrivate = Privacy.sharedFile(snapshot.status) != nil
            || note.map { Privacy.reason(ofParsed: $0, at: hit.path, store: store, guardrails: guardrails, links: links) != nil } ?? true
        return ContextPiece(kind: .memory, path: hit.path, line: start, heading: hit.heading.isEmpty ? nil : hit.heading, text: text, isPrivate: isPrivate)
    }

    /// Lines `start` through `end` (1-based, cut at each "\n" byte as the index's scanner counts
    /// them; the last line when the note is shorter), or nil when the note has fewer than `start`
    /// lines. Only the bytes of those lines are decoded: a piece is a few lines of a note that may be long.
    static func lines(of bytes: [UInt8], from start: Int, through end: Int) -> String? {
        var line = 1
        var from: Int? = start <= 1 ? 0 : nil
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            if line >= end, let from { return String(decoding: bytes[from..<index], as: UTF8.self) }
            line += 1
            if line == start { from = index + 1 }
        }
        guard let from else { return nil }
        return String(decoding: bytes[from...], as: UTF8.self)
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

    /// A cheap first test for `line(_:links:)`, over bytes: a line can link a note of `keys` only if
    /// it holds the note's name in some case, or a `%` (a percent-encoded link). `nil` (no first
    /// test) when a name is not ASCII, whose other cases are not bytes apart. A busy day's log has
    /// a hundred lines in its last 16 KB, and parsing the links of each, for every task, was a
    /// tenth of a burst's time.
    static func nameFilter(_ keys: Set<String>) -> ((Substring) -> Bool)? {
        let names = Set(keys.map { key in Array((key.split(separator: "/").last.map(String.init) ?? key).utf8) }).filter { !$0.isEmpty }
        guard !names.isEmpty, names.allSatisfy({ $0.allSatisfy { $0 < 0x80 } }) else { return nil }
        // The names are keys, so lowercase already; a line's bytes are lowered as they are compared
        // (no copy of the line: this runs on every line of the log's tail, for every task).
        let wanted = Array(names)
        return { line in
            var line = line
            return line.withUTF8 { bytes in
                if bytes.contains(UInt8(ascii: "%")) { return true }
                for name in wanted where bytes.count >= name.count {
                    let first = name[0]
                    for start in 0...(bytes.count - name.count) {
                        let byte = bytes[start]
                        guard (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == first else { continue }
                        var at = 1
                        while at < name.count {
                            let byte = bytes[start + at]
                            if (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) != name[at] { break }
                            at += 1
                        }
                        if at == name.count { return true }
                    }
                }
                return false
            }
        }
    }
}

/// A day's log as a packet reads it: its properties and its last lines. Only the end of the day
/// matters, but what the last lines sit under (a heading marked `#private` written in the morning,
/// a code block or a comment still open) may be anywhere above them: a log up to `wholeBytes` is
/// read whole and its lines read in order; a longer one is read from its first 64 KB (the
/// properties) and its last 16 KB, and what its last lines sit under is unknown.
struct DailyLog {
    /// The note's vault path.
    var path: String
    /// Its frontmatter as a note with an empty body; `nil` when it does not parse.
    var header: Note?
    /// Its last lines: the last 16 KB from the first line that starts there, or the whole body of a
    /// short note.
    var tail: String
    /// The body before `tail`, whose lines set what `tail`'s first line sits under.
    var before: Substring = ""
    /// Whether the part before `tail` was not read (the log is longer than `wholeBytes`): every item
    /// of `tail` then counts as private (`Item.unknownAbove`).
    var isCut = false

    static let tailBytes = 16_384
    /// The longest log read whole: a day of 20,000 runs.
    static let wholeBytes = 4 << 20
    /// The most lines of text (`Item.titles`) an item is judged under, and their most bytes: past
    /// either, the item counts as private (judging a day of prose for every item is not done).
    static let mostTitles = 256
    static let mostTitleBytes = 32_768

    /// The log's items (lines starting "- "), each with its 1-based line number in `tail`. Cut at
    /// each "\n" byte, as `WikiLink.links` numbers lines (a split by characters costs more).
    /// An item is judged (see `Item`) with the lines that continue it (up to the next item or
    /// heading, or a line after a blank line that is not indented: `(details are #private)` on the
    /// next line covers it, and so does an indented line after a blank one), the headings it sits
    /// under, every level (`## Journal #private` covers its `### Monday` too), and the lines of text
    /// between the nearest heading and it (a bold line, a callout's title and body, a paragraph: a
    /// `#private` in any of them covers the items below, until the next heading).
    /// A heading is what Markdown renders as one: `#` to `######` after up to three spaces, then a
    /// space, a tab or the line's end, or a paragraph line underlined with `===` or `---` (not a
    /// line continuing an item or a quote) — an outside attack put items under `Health #private`
    /// over `===`, `   ## Therapy #private` and `##<tab>Clinic #private`, and they were sent.
    /// Inside a fenced code block, a raw HTML block (`<pre>`, `<script>`, `<style>`, `<textarea>`),
    /// an Obsidian comment (`%% … %%`, never opened inside a code span) or an HTML comment, no line
    /// is a heading (a `# start the pump` in a shell block ended a private section: an outside
    /// attack), a title or an item.
    var items: [Item] { parsed().items }

    /// `items`, and the lines of text their `titles` index: read once (a packet asks for today's
    /// log's lines about the task, then for its last run lines).
    func parsed() -> (items: [Item], titles: [Substring]) {
        memo.read.withLock { read in
            if let read { return read }
            let parsed = readLines()
            read = parsed
            return parsed
        }
    }

    /// What `parsed` read, kept for the copies of this log — across packets too (`read` hands out
    /// the same log while its bytes are the same), so read by one thread at a time.
    private final class Memo: Sendable {
        let read = Locked<(items: [Item], titles: [Substring])?>(nil)
    }
    private let memo = Memo()

    /// The logs read last, by path, with the bytes they were read from: a burst's packets read the
    /// same day between two telemetry batches, and parsing it again for each was a quarter of the
    /// watcher's time (the day grows by a line a run). A log is handed out again only for the very
    /// same bytes.
    private static let lastRead = Locked<[String: (bytes: [UInt8], log: DailyLog)]>([:])

    private func readLines() -> (items: [Item], titles: [Substring]) {
        var reader = Reader()
        for line in DailyLog.lines(of: before) { reader.feed(line, number: nil) }
        var number = 1
        for line in DailyLog.lines(of: Substring(tail)) {
            // After `before`, the tail's first line is the empty one its leading "\n" makes (counted,
            // as `WikiLink` numbers the tail's lines, but no blank line of the note).
            if number > 1 || before.isEmpty || !line.isEmpty { reader.feed(line, number: number) }
            number += 1
        }
        if isCut { for i in reader.found.indices { reader.found[i].unknownAbove = true } }
        return (reader.found, reader.titles)
    }

    /// `text` cut at each "\n" byte (the last line may be empty).
    static func lines(of text: Substring) -> [Substring] {
        text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { Substring($0) }
    }

    /// Reads a log's lines in order: what each line sits under, and the items.
    private struct Reader {
        var found: [Item] = []
        /// Every line of text that is no item's, in order; `titleStart` is the first since the last heading.
        var titles: [Substring] = []
        var titleStart = 0
        /// The headings the current line sits under, outermost first (one per level), and those
        /// lines as one text, made again only when they change (not for every item).
        var headings: [(level: Int, line: Substring)] = []
        var above: String?
        /// The item the next lines may continue: its index in `found`, or -1 for one above `tail`.
        var open: Int?
        var afterBlank = false
        /// The line above when it was text a setext underline (`===`, `---`) makes a heading of.
        var previous: Substring?
        /// The fence of the code block the line is in (its mark and length), and whether it is inside
        /// an Obsidian or an HTML comment.
        var fence: (mark: UInt8, length: Int)?
        var inObsidianComment = false
        var inHTMLComment = false
        /// The tag of the raw HTML block (`pre`, `script`, `style`, `textarea`) the line is in.
        var rawBlock: String?

        /// Reads one line; `number` is its line number in `tail` (`nil` above it: nothing is kept).
        mutating func feed(_ line: Substring, number: Int?) {
            if let open = fence {
                if DailyLog.fence(line).map({ $0.mark == open.mark && $0.length >= open.length && $0.closes }) == true { fence = nil }
                continues(line)
                return
            }
            if inObsidianComment || inHTMLComment {
                continues(line)
                comments(in: line)
                return
            }
            // An HTML block of raw text (`<pre>`, `<script>`, `<style>`, `<textarea>`), read as a
            // code block up to its closing tag: a `# …` in it is no heading (an outside attack).
            if let tag = rawBlock {
                if line.lowercased().contains("</" + tag) { rawBlock = nil }
                continues(line)
                return
            }
            if let tag = DailyLog.rawBlockTag(line) {
                if !line.lowercased().contains("</" + tag) { rawBlock = tag }
                continues(line)
                return
            }
            if line.utf8.starts(with: "- ".utf8) {
                if let number {
                    if above == nil { above = headings.map { "\n" + $0.line }.joined() }
                    found.append(Item(number: number, text: line, above: above ?? "", titles: titleStart..<titles.count))
                    open = found.count - 1
                } else {
                    // An item above `tail`: its lines continue it, but nothing of it is kept.
                    open = -1
                }
                afterBlank = false
                previous = nil
            } else if let level = DailyLog.atxLevel(line) {
                heading(level, line)
            } else if let level = DailyLog.setextLevel(line), let text = previous {
                // The line above, underlined, is a heading (`Health #private` over `===`).
                heading(level, text)
            } else if let opened = DailyLog.fence(line) {
                fence = (opened.mark, opened.length)
                continues(line)
                return
            } else if DailyLog.isBlank(line) {
                // A blank line does not end an item: an indented line after it still belongs to
                // it, as Markdown and Obsidian read a list (`  details are #private`).
                if open != nil { afterBlank = true }
                previous = nil
            } else if open != nil, !afterBlank || line.first == " " || line.first == "\t" {
                // A line continuing an item is no paragraph a `---` under it makes a heading of:
                // Markdown renders a rule there (and the items below stay under the heading above).
                continues(line)
            } else {
                titles.append(line)
                open = nil
                // Nor is a quoted line (`> …`): the underline cannot continue a quote lazily.
                previous = line.drop(while: { $0 == " " }).first == ">" ? nil : line
            }
            comments(in: line)
        }

        /// A line that continues the open item, when it may (and above `tail`, where none is open, nothing).
        private mutating func continues(_ line: Substring) {
            if let item = open, item >= 0, !afterBlank || line.first == " " || line.first == "\t" || fence != nil || inObsidianComment || inHTMLComment {
                found[item].continuation.append(line)
            }
            previous = nil
        }

        private mutating func heading(_ level: Int, _ line: Substring) {
            headings.removeAll { $0.level >= level }
            headings.append((level, line))
            titleStart = titles.count
            above = nil
            open = nil
            previous = nil
        }

        /// Opens or closes the comments `line` does (`%%` toggles; `<!--` opens until `-->`).
        private mutating func comments(in line: Substring) {
            guard inHTMLComment || line.utf8.contains(0x25) || line.utf8.contains(0x3C) else { return }
            var line = line
            line.withUTF8 { bytes in
                var i = 0
                while i + 1 < bytes.count {
                    // A code span (`` `%%` ``) shows its text as it is: no comment opens or closes in it.
                    if !inHTMLComment, !inObsidianComment, bytes[i] == 0x60 {
                        var run = 0
                        while i + run < bytes.count, bytes[i + run] == 0x60 { run += 1 }
                        var j = i + run
                        var closed: Int?
                        while j < bytes.count {
                            if bytes[j] == 0x60 {
                                var other = 0
                                while j + other < bytes.count, bytes[j + other] == 0x60 { other += 1 }
                                if other == run { closed = j + other; break }
                                j += other
                            } else {
                                j += 1
                            }
                        }
                        i = closed ?? (i + run)
                        continue
                    }
                    if inHTMLComment {
                        if i + 2 < bytes.count, bytes[i] == 0x2D, bytes[i + 1] == 0x2D, bytes[i + 2] == 0x3E { inHTMLComment = false; i += 3; continue }
                    } else if bytes[i] == 0x25, bytes[i + 1] == 0x25 {
                        inObsidianComment.toggle()
                        i += 2
                        continue
                    } else if !inObsidianComment, i + 3 < bytes.count, bytes[i] == 0x3C, bytes[i + 1] == 0x21, bytes[i + 2] == 0x2D, bytes[i + 3] == 0x2D {
                        inHTMLComment = true
                        i += 4
                        continue
                    }
                    i += 1
                }
            }
        }
    }

    /// One item of the log (see `items`). What it is judged on is put together only when asked:
    /// a packet judges the last few items of a tail of a hundred.
    struct Item {
        /// Its 1-based line number in `tail`.
        var number: Int
        /// Its own line, which is what a packet sends.
        var text: Substring
        /// The headings it sits under, each after a "\n".
        var above: String
        /// The lines of text between the nearest heading and it, in `parsed().titles`.
        var titles: Range<Int> = 0..<0
        /// The lines that continue it.
        var continuation: [Substring] = []
        /// Whether what it sits under is unknown (`isCut`): it counts as private.
        var unknownAbove = false

        /// The item, the headings above it, then the lines continuing it, one a line (its titles
        /// are judged apart, once for all the items under them).
        var judged: String {
            var judged = String(text) + above
            for line in continuation { judged += "\n" + line }
            return judged
        }
    }

    /// The tag of a raw-text HTML block `line` opens (`<pre`, `<script`, `<style`, `<textarea`, after
    /// up to three spaces, in any case), or `nil`.
    static func rawBlockTag(_ line: Substring) -> String? {
        // Bytes, not characters: this runs for every line of the day (counting a line's characters
        // was a fifth of the watcher's time in a 1,000-task burst, the log growing by a line a run).
        let spaces = line.utf8.prefix(while: { $0 == UInt8(ascii: " ") }).count
        guard spaces <= 3, line.utf8.dropFirst(spaces).first == UInt8(ascii: "<") else { return nil }
        let start = line.dropFirst(spaces)
        let lowered = start.dropFirst().prefix(9).lowercased()
        for tag in ["pre", "script", "style", "textarea"] where lowered.hasPrefix(tag) {
            let after = lowered.dropFirst(tag.count).first
            if after == nil || after == ">" || after == " " || after == "\t" { return tag }
        }
        return nil
    }

    /// Whether a line holds only white space (`Character.isWhitespace`), read by bytes while they
    /// are ASCII (a line of text is told apart at its first letter, not after a walk of its characters).
    static func isBlank(_ line: Substring) -> Bool {
        for byte in line.utf8 {
            if byte >= 0x80 { return line.allSatisfy(\.isWhitespace) }
            guard byte == 0x20 || (0x09...0x0D).contains(byte) else { return false }
        }
        return true
    }

    /// The level of an ATX heading (`## Done`): up to three spaces, one to six `#`, then a space, a
    /// tab or the line's end, as Markdown reads it; `nil` for any other line (`#tag` is a tag).
    static func atxLevel(_ line: Substring) -> Int? {
        let bytes = line.utf8
        var index = bytes.startIndex
        var spaces = 0
        while index != bytes.endIndex, bytes[index] == UInt8(ascii: " "), spaces < 3 { spaces += 1; index = bytes.index(after: index) }
        var level = 0
        while index != bytes.endIndex, bytes[index] == UInt8(ascii: "#"), level < 7 { level += 1; index = bytes.index(after: index) }
        guard (1...6).contains(level) else { return nil }
        guard index != bytes.endIndex else { return level }
        let next = bytes[index]
        return next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\r") ? level : nil
    }

    /// The level a setext underline gives the line of text above it: 1 for `===`, 2 for `---`
    /// (up to three spaces before, spaces or tabs after); `nil` for any other line.
    static func setextLevel(_ line: Substring) -> Int? {
        let trimmed = line.utf8.reversed().drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
        let marks = trimmed.reversed().drop { $0 == UInt8(ascii: " ") }
        guard line.utf8.prefix(while: { $0 == UInt8(ascii: " ") }).count <= 3, let mark = marks.first,
              mark == UInt8(ascii: "=") || mark == UInt8(ascii: "-"), marks.allSatisfy({ $0 == mark }) else { return nil }
        return mark == UInt8(ascii: "=") ? 1 : 2
    }

    /// A code fence on `line` (up to three spaces, then three or more backticks or tildes): its
    /// mark, its length, and whether it could close a block (nothing after the marks but spaces).
    static func fence(_ line: Substring) -> (mark: UInt8, length: Int, closes: Bool)? {
        let bytes = line.utf8
        var index = bytes.startIndex
        var spaces = 0
        while index != bytes.endIndex, bytes[index] == UInt8(ascii: " "), spaces < 3 { spaces += 1; index = bytes.index(after: index) }
        guard index != bytes.endIndex, bytes[index] == UInt8(ascii: "`") || bytes[index] == UInt8(ascii: "~") else { return nil }
        let mark = bytes[index]
        var length = 0
        while index != bytes.endIndex, bytes[index] == mark { length += 1; index = bytes.index(after: index) }
        guard length >= 3 else { return nil }
        let rest = bytes[index...]
        // A backtick fence's info string holds no backtick (else the line is inline code).
        if mark == UInt8(ascii: "`"), rest.contains(mark) { return nil }
        return (mark, length, rest.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") })
    }

    /// The log at `path`, or `nil` when there is none (or it cannot be read).
    static func read(_ path: String, store: NoteStore) -> DailyLog? {
        guard let ends = try? store.readEnds(path, head: wholeBytes, tail: tailBytes) else { return nil }
        if ends.tail.isEmpty, let known = lastRead.withLock({ $0[path] }), known.bytes == ends.head { return known.log }
        guard let log = parse(ends, path: path) else { return nil }
        // Kept while at most 1 MB (a day of some 5,000 runs): the watcher's memory stays bounded.
        if ends.tail.isEmpty, ends.head.count <= 1 << 20 {
            lastRead.withLock { logs in
                // Today's and yesterday's, public and private: a few at most.
                if logs.count >= 8 { logs.removeAll() }
                logs[path] = (ends.head, log)
            }
        }
        return log
    }

    /// The log read from `ends` (`NoteStore.readEnds`).
    private static func parse(_ ends: (head: [UInt8], tail: [UInt8]), path: String) -> DailyLog? {
        guard ends.tail.isEmpty else {
            // Longer than can be read whole: the properties from the top, the last lines from the end.
            let last = String(decoding: ends.tail, as: UTF8.self)
            return DailyLog(path: path, header: Privacy.frontmatterOnly(ends.head), tail: String(last.drop { $0 != "\n" }), isCut: true)
        }
        let note = try? Note.parse(bytes: ends.head)
        let body = note?.body ?? String(decoding: ends.head, as: UTF8.self)
        guard body.utf8.count > tailBytes else { return DailyLog(path: path, header: note, tail: body) }
        // The last 16 KB from the first line that starts there (its "\n" kept, as before).
        let utf8 = body.utf8
        var cut = utf8.index(utf8.endIndex, offsetBy: -tailBytes)
        while cut != utf8.endIndex, utf8[cut] != 0x0A { cut = utf8.index(after: cut) }
        return DailyLog(path: path, header: note, tail: String(Substring(utf8[cut...])), before: Substring(utf8[..<cut]))
    }
}

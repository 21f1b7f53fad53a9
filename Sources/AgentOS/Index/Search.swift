import CSQLite
import Foundation

/// Narrows a search to notes with given properties. `nil` means no condition.
public struct SearchFilters: Equatable, Sendable {
    /// The note's `type` (notes under `Tasks/` count as `task`).
    public var type: String?
    /// A tag from the `tags` property or the body; `project` also matches `project/alpha`.
    public var tag: String?
    /// A folder, relative to the vault; notes at any depth below it match.
    public var folder: String?
    /// The note's `status`.
    public var status: String?

    public init(type: String? = nil, tag: String? = nil, folder: String? = nil, status: String? = nil) {
        self.type = type
        self.tag = tag
        self.folder = folder
        self.status = status
    }

    var isEmpty: Bool { type == nil && tag == nil && folder == nil && status == nil }

    /// A `folder` as it is matched: without leading `./` and `/` and trailing `/` (empty: the whole vault).
    public static func trimmed(folder: String) -> String {
        var f = Substring(folder)
        while f.hasPrefix("./") { f = f.dropFirst(2) }
        while f.hasPrefix("/") { f = f.dropFirst() }
        while f.hasSuffix("/") { f = f.dropLast() }
        return String(f)
    }
}

/// One ranked answer: the note, the section the match sits in, and a snippet.
public struct SearchHit: Equatable, Sendable {
    /// Marks the start of a matched word in `snippet`.
    public static let highlightStart = "\u{2}"
    /// Marks the end of a matched word in `snippet`.
    public static let highlightEnd = "\u{3}"

    /// The note's vault-relative path.
    public var path: String
    /// The 1-based line of the first match in the section (the heading line when only the title or
    /// heading matched).
    public var line: Int
    /// The section's last line.
    public var endLine: Int
    /// The note's title (its file name without `.md`).
    public var title: String
    /// The heading the hit sits under (empty before the first heading).
    public var heading: String
    /// Text around the match on one line, matches wrapped in `highlightStart`/`highlightEnd`.
    public var snippet: String
    /// Relevance: higher is better (the negated, weighted bm25).
    public var score: Double
    /// Whether the query equals the note's title, `title` property or an alias (such notes come first).
    public var isTitleMatch: Bool

    /// The snippet with the highlight markers replaced.
    public func snippet(open: String, close: String) -> String {
        // Scalar by scalar: Foundation's replacingOccurrences went through NSString, a measurable
        // share of a whole `search` command.
        var out = ""
        out.reserveCapacity(snippet.utf8.count + 8 * (open.utf8.count + close.utf8.count))
        for scalar in snippet.unicodeScalars {
            if scalar == "\u{2}" {
                out += open
            } else if scalar == "\u{3}" {
                out += close
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// A link from another note to the note asked about.
public struct Backlink: Equatable, Sendable {
    /// The linking note.
    public var sourcePath: String
    /// Its title.
    public var sourceTitle: String
    /// The line of the link.
    public var line: Int
    /// The link target as written.
    public var target: String
    /// The heading or block part, if any.
    public var heading: String?
    /// The shown text, if any.
    public var alias: String?
    /// Whether it is an embed (`![[…]]`).
    public var isEmbed: Bool
}

/// An outgoing link and the note it resolves to (`nil`: unresolved, kept as written).
public struct ResolvedLink: Equatable, Sendable {
    /// The link as found.
    public var link: WikiLink
    /// The path of the note it points to, if any note matches.
    public var resolvedPath: String?
}

/// Errors of the memory index that a user sees.
public enum IndexError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No note in the index matches the name given.
    case noSuchNote(String)
    /// Several notes share the name given; a path is needed.
    case ambiguous(String, count: Int)

    public var description: String {
        switch self {
        case .noSuchNote(let name): return "no note '\(name)' in the index; check the name or run 'fuckbigtech index'"
        case .ambiguous(let name, let count): return "\(count) notes are called '\(name)'; give its path (Folder/\(name))"
        }
    }
}

extension MemoryIndex {
    // MARK: Search

    /// Searches the index. One hit per note (its best section): notes whose title equals the query
    /// first, then notes matching in their title or headings, then in their text only; each group
    /// by weighted bm25 (title ×10, headings ×4, body ×1).
    ///
    /// With `evenWords`, every word weighs the same (an IDF of 1) instead of by how many sections
    /// of the whole vault hold it: the ranking of a caller that may not see every note (`NoteVisibility`)
    /// then owes nothing to the words of the notes it cannot see.
    public func search(_ text: String, limit: Int = 10, filters: SearchFilters = SearchFilters(), evenWords: Bool = false) throws -> [SearchHit] {
        // Statements left on a row would pin this connection to an old snapshot of the index.
        defer { database.resetAllStatements() }
        let query = try SearchQuery(text)
        let expression = query.matchExpression
        guard limit > 0 else { return [] }
        let (filterSQL, filterArguments) = filterClause(filters)
        // What `fbt_bm25` takes per phrase: its IDF, or the key its row count is kept under.
        func weights(under columnFilter: String) -> [SQLValue] {
            evenWords ? query.phrases.map { _ in .double(1) } : SectionScore.keys(of: query, under: columnFilter)
        }

        var picked: [(rowid: Int64, rank: Double, isTitleMatch: Bool)] = []

        // Notes whose title equals the query go first: by file name, then `title` property, then alias
        // (translated notes often carry the original title as an alias).
        var exactKinds: [Int64: Int] = [:]
        if let key = query.titleKey {
            for (id, kind) in try database.query("SELECT note_id, min(kind) FROM title_keys WHERE key = ? GROUP BY note_id", [.text(key)], row: { ($0.int64(0), $0.int(1)) }) {
                if !filters.isEmpty {
                    let passes = try database.scalarInt("SELECT count(*) FROM notes n WHERE n.id = ?" + filterSQL, [.int(id)] + filterArguments) ?? 0
                    if passes == 0 { continue }
                }
                exactKinds[id] = kind
            }
        }
        // Then the best sections, one per note. Sections of one note can crowd the top, so fetch more
        // rows than hits and widen the window if too few distinct notes came back.
        let join = filters.isEmpty ? "" : " JOIN notes n ON n.id = (sections.rowid >> \(NoteScanner.sectionBits))"
        let score = SectionScore.expression(phrases: query.phrases.count)
        let sql = "SELECT sections.rowid, \(score) AS score FROM sections" + join + " WHERE sections MATCH ?" + filterSQL + " ORDER BY score LIMIT ?"
        // A note that mentions an excluded term in any section is left out.
        var exclusionCache: [Int64: Bool] = [:]
        func isExcluded(_ note: Int64) throws -> Bool {
            guard let exclusion = query.exclusionExpression else { return false }
            if let known = exclusionCache[note] { return known }
            let first = note << NoteScanner.sectionBits
            let found = try database.scalarInt("SELECT count(*) FROM (SELECT 1 FROM sections WHERE sections MATCH ? AND rowid BETWEEN ? AND ? LIMIT 1)", [.text(exclusion), .int(first), .int(first + Int64(NoteScanner.maxSections))]) ?? 0
            exclusionCache[note] = found > 0
            return found > 0
        }
        for id in Array(exactKinds.keys) where try isExcluded(id) { exactKinds[id] = nil }

        // Two tiers: sections whose title or headings match come before matches in the text alone.
        // The first tier is small, so a common word is ranked over hundreds of rows, not tens of
        // thousands; the text tier only runs when the first leaves room.
        var ranked: [(rowid: Int64, rank: Double)] = []
        var exactFound: [Int64: (rowid: Int64, rank: Double)] = [:]
        var taken = Set<Int64>()
        let titleColumns = "{title headings}"
        let tiers = [(titleColumns + " : (" + expression + ")", titleColumns), (expression, "")]
        for (tierExpression, columnFilter) in tiers where ranked.count < limit {
            // Every matching row is scored whatever the LIMIT (bm25 needs each), so a wide first
            // window costs only a longer bounded sort, while a second pass would count each
            // phrase's rows in the whole table again.
            var window = max(limit * 32, 320)
            let keptCount = ranked.count
            let keptTaken = taken
            while true {
                ranked.removeSubrange(keptCount...)
                taken = keptTaken
                var notes = Set<Int64>()
                let statement = try database.prepare(sql)
                try statement.bind(weights(under: columnFilter) + [.text(tierExpression)] + filterArguments + [.int(Int64(window))])
                var rows = 0
                while try statement.step() {
                    rows += 1
                    let rowid = statement.int64(0)
                    let note = rowid >> NoteScanner.sectionBits
                    guard notes.insert(note).inserted, !taken.contains(note) else { continue }
                    if try isExcluded(note) { continue }
                    if exactKinds[note] != nil {
                        if exactFound[note] == nil { exactFound[note] = (rowid, statement.double(1)) }
                    } else if ranked.count < limit {
                        ranked.append((rowid, statement.double(1)))
                        taken.insert(note)
                    }
                    if ranked.count >= limit && exactFound.count == exactKinds.count { break }
                }
                statement.reset()
                if rows < window || ranked.count >= limit { break }
                window *= 8
            }
        }
        // Title matches outside the window (rare: the title weighs ten times the body) get their own query.
        for id in exactKinds.keys where exactFound[id] == nil {
            let first = id << NoteScanner.sectionBits
            let best = try database.query("SELECT rowid, \(score) AS score FROM sections WHERE sections MATCH ? AND rowid BETWEEN ? AND ? ORDER BY score LIMIT 1", weights(under: "") + [.text(expression), .int(first), .int(first + Int64(NoteScanner.maxSections))]) { ($0.int64(0), $0.double(1)) }
            if let best = best.first { exactFound[id] = (best.0, best.1) }
        }
        // Among titles equal to the query, the file named exactly as typed first ("Mobile app" is
        // en/…/Mobile app.md before de/…/Mobile App.md; "Sandbox-Vault" the German note before
        // "Sandbox vault"): an outside test found 9 of 2,323 file names second or third behind a
        // translation whose name differs only in case or punctuation.
        let typed = text.trimmingWhitespaces()
        var asTyped = Set<Int64>()
        if exactFound.count > 1 {
            for id in exactFound.keys {
                let path = try database.query("SELECT path FROM notes WHERE id = ?", [.int(id)]) { $0.text(0) }.first
                if let path, RuleBook.name(of: path) == typed { asTyped.insert(id) }
            }
        }
        let exact = exactFound.sorted { a, b in
            let ka = exactKinds[a.key] ?? 9
            let kb = exactKinds[b.key] ?? 9
            if ka != kb { return ka < kb }
            let ta = asTyped.contains(a.key), tb = asTyped.contains(b.key)
            return ta != tb ? ta : a.value.rank < b.value.rank
        }
        for entry in exact.prefix(limit) { picked.append((entry.value.rowid, entry.value.rank, true)) }
        for entry in ranked where picked.count < limit { picked.append((entry.rowid, entry.rank, false)) }

        // Snippets and lines for the few hits only: auxiliary functions are costly per row.
        let detail = try database.prepare("""
            SELECT sections.path, sections.heading, sections.start_line, sections.end_line, n.title,
                   snippet(sections, 6, char(2), char(3), '…', 14), highlight(sections, 6, char(2), char(3))
            FROM sections JOIN notes n ON n.id = ? WHERE sections MATCH ? AND sections.rowid = ?
            """)
        var hits: [SearchHit] = []
        func show(_ rowid: Int64) throws -> Bool {
            detail.reset()
            try detail.bind([.int(rowid >> NoteScanner.sectionBits), .text(expression), .int(rowid)])
            return try detail.step()
        }
        for entry in picked {
            guard try show(entry.rowid) else { continue }
            // A note found by its title, whose best section holds none of the words in its text
            // (every section carries the title; the shortest wins): shown from its top, not from
            // an empty heading deep down (an outside test: `search canvas` gave Canvas.md:203).
            let first = (entry.rowid >> NoteScanner.sectionBits) << NoteScanner.sectionBits
            if entry.isTitleMatch, entry.rowid != first, MemoryIndex.lineOfFirstMarker(detail.bytes(6)) == nil, try !show(first) {
                guard try show(entry.rowid) else { continue }
            }
            let heading = detail.text(1)
            let startLine = detail.int(2)
            var line = startLine
            let marked = detail.bytes(6)
            if let markerLine = MemoryIndex.lineOfFirstMarker(marked) {
                let bodyStart = (heading.isEmpty && startLine == 1) ? startLine : startLine + 1
                line = bodyStart + markerLine
            }
            var snippet = TextSegmenter.removeSeparators(detail.text(5))
            snippet = MemoryIndex.oneLine(snippet)
            hits.append(SearchHit(path: detail.text(0), line: line, endLine: detail.int(3), title: detail.text(4), heading: heading, snippet: snippet, score: -entry.rank, isTitleMatch: entry.isTitleMatch))
        }
        detail.reset()
        return hits
    }

    private func filterClause(_ filters: SearchFilters) -> (String, [SQLValue]) {
        var sql = ""
        var arguments: [SQLValue] = []
        if let type = filters.type {
            sql += " AND n.type = ?"
            arguments.append(.text(type.lowercased()))
        }
        if let status = filters.status {
            sql += " AND n.status = ?"
            arguments.append(.text(status.lowercased()))
        }
        if let tag = filters.tag {
            var t = tag.lowercased()
            if t.hasPrefix("#") { t.removeFirst() }
            sql += " AND (instr(n.tags, ' ' || ? || ' ') > 0 OR instr(n.tags, ' ' || ? || '/') > 0)"
            arguments.append(.text(t))
            arguments.append(.text(t))
        }
        if let folder = filters.folder {
            let f = SearchFilters.trimmed(folder: folder)
            if !f.isEmpty {
                let prefix = f + "/"
                sql += " AND substr(n.path, 1, ?) = ?"
                arguments.append(.int(Int64(prefix.utf8.count)))
                arguments.append(.text(prefix))
            }
        }
        return (sql, arguments)
    }

    /// The 0-based line (within the text) of the first highlight marker, if any.
    static func lineOfFirstMarker(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var newlines = 0
        for b in bytes {
            if b == 0x02 { return newlines }
            if b == 0x0A { newlines += 1 }
        }
        return nil
    }

    static func oneLine(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var lastWasSpace = false
        for ch in text.unicodeScalars {
            if ch == "\n" || ch == "\r" || ch == "\t" || ch == " " {
                if !lastWasSpace { out.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(ch)
                lastWasSpace = false
            }
        }
        return out.trimmingSpaces
    }

    // MARK: Links

    /// The note a link target written in `sourcePath` resolves to, by the one set of rules
    /// (`LinkResolver`) over the index's tables. `nil`: unresolved, the link is kept as written.
    func resolvedPath(_ target: String, from sourcePath: String?) throws -> String? {
        try LinkResolver.resolve(target, from: sourcePath, in: IndexLinkTable(index: self)).path
    }

    /// The notes linking to `note` (a path, a path without `.md`, a file name or an alias). With
    /// `visible` (a caller that may not see every note), a note it may not see is answered as one
    /// that does not exist, and only the notes it may see count towards "several notes have that name".
    public func backlinks(to note: String, visible: ((String) -> Bool)? = nil) throws -> [Backlink] {
        // Statements left on a row would pin this connection to an old snapshot of the index.
        defer { database.resetAllStatements() }
        guard let notePath = try resolvedPath(note, from: nil) else {
            var same = try database.query("SELECT path FROM notes WHERE name_key = ?", [.text(LinkResolver.key(note))]) { $0.text(0) }
            if let visible { same = same.filter(visible) }
            throw same.count > 1 ? IndexError.ambiguous(note, count: same.count) : IndexError.noSuchNote(note)
        }
        if let visible, !visible(notePath) { throw IndexError.noSuchNote(note) }
        guard let (id, row) = try database.query("SELECT id, path_key FROM notes WHERE path = ?", [.text(notePath)], row: { ($0.int64(0), $0.text(1)) }).first else { throw IndexError.noSuchNote(note) }
        // Every key a link could use for this note: the path and each of its endings, and its aliases.
        var keys: Set<String> = [row]
        var rest = Substring(row)
        while let slash = rest.firstIndex(of: "/") {
            rest = rest[rest.index(after: slash)...]
            keys.insert(String(rest))
        }
        for alias in try database.query("SELECT key FROM aliases WHERE note_id = ?", [.int(id)], row: { $0.text(0) }) { keys.insert(alias) }

        var resolved: [String: Bool] = [:]
        var result: [Backlink] = []
        for key in keys.sorted() {
            let ambiguousName = try (database.scalarInt("SELECT count(*) FROM notes WHERE name_key = ?", [.text(key)]) ?? 0) > 1
            let links = try database.query("""
                SELECT n.path, n.title, l.line, l.target, l.heading, l.alias, l.embed
                FROM links l JOIN notes n ON n.id = l.source_id WHERE l.target_key = ?
                """, [.text(key)]) { s in
                Backlink(sourcePath: s.text(0), sourceTitle: s.text(1), line: s.int(2), target: s.text(3), heading: s.optionalText(4), alias: s.optionalText(5), isEmbed: s.int(6) != 0)
            }
            for link in links {
                // With several notes of that name the answer depends on where the link is written.
                let folder = ambiguousName ? String(link.sourcePath.split(separator: "/").dropLast().joined(separator: "/")) : ""
                let cacheKey = key + "\u{0}" + folder
                if resolved[cacheKey] == nil { resolved[cacheKey] = try resolvedPath(key, from: link.sourcePath) == notePath }
                if resolved[cacheKey] == true { result.append(link) }
            }
        }
        result.sort { ($0.sourcePath, $0.line) < ($1.sourcePath, $1.line) }
        return result
    }

    /// Every note whose `aliases` hold `key` (a `LinkResolver.key`), byte for byte.
    func notes(withAlias key: String) throws -> [String] {
        defer { database.resetAllStatements() }
        return try database.query("SELECT DISTINCT n.path FROM aliases a JOIN notes n ON n.id = a.note_id WHERE a.key = ?", [.text(key)]) { $0.text(0) }
    }

    /// The aliases keyed exactly (byte for byte) as one of `keys`, each with its row and the path
    /// of its note, in the order they were indexed.
    func aliases(keyedAs keys: [String]) throws -> [IndexedAlias] {
        defer { database.resetAllStatements() }
        var rows: [IndexedAlias] = []
        for key in keys {
            rows += try database.query("SELECT a.rowid, a.key, n.path FROM aliases a JOIN notes n ON n.id = a.note_id WHERE a.key = ? ORDER BY a.rowid", [.text(key)]) {
                IndexedAlias(row: $0.int64(0), key: $0.text(1), path: $0.text(2))
            }
        }
        return rows
    }

    /// Every alias whose key is canonically equal to `aliasKey` (Swift's `==`: Obsidian reads an
    /// alias typed with its accents composed or not as one name), oldest row first: the rows keyed
    /// as its bytes, its NFC or its NFD, and those `beyondASCII` gives (`aliasesBeyondASCII`, which
    /// a caller may keep) that are equal to it, when it may equal a key beyond ASCII.
    func aliases(equalTo aliasKey: String, beyondASCII: () throws -> [IndexedAlias]) throws -> [IndexedAlias] {
        var forms: [String] = []
        for form in [aliasKey, aliasKey.precomposedStringWithCanonicalMapping, aliasKey.decomposedStringWithCanonicalMapping]
        where !forms.contains(where: { $0.utf8.elementsEqual(form.utf8) }) { forms.append(form) }
        var rows = try aliases(keyedAs: forms)
        if IndexedAlias.mayEqualBeyondASCII(aliasKey) { rows += try beyondASCII().filter { $0.key == aliasKey } }
        var seen = Set<Int64>()
        return rows.sorted { $0.row < $1.row }.filter { seen.insert($0.row).inserted }
    }

    /// Every alias whose key is not plain ASCII (fewer characters than bytes), as `aliases(keyedAs:)`:
    /// the only keys that can be canonically equal to another key without being its bytes, NFC or NFD
    /// (an alias written with its marks in another order: `x` + acute + dot below).
    func aliasesBeyondASCII() throws -> [IndexedAlias] {
        defer { database.resetAllStatements() }
        return try database.query("SELECT a.rowid, a.key, n.path FROM aliases a JOIN notes n ON n.id = a.note_id WHERE length(a.key) <> length(CAST(a.key AS BLOB)) ORDER BY a.rowid") {
            IndexedAlias(row: $0.int64(0), key: $0.text(1), path: $0.text(2))
        }
    }

    /// The links written in the note at `path`, each with the note it resolves to.
    public func links(from path: String) throws -> [ResolvedLink] {
        // Statements left on a row would pin this connection to an old snapshot of the index.
        defer { database.resetAllStatements() }
        let rows = try database.query("""
            SELECT l.target, l.heading, l.alias, l.embed, l.line
            FROM links l JOIN notes n ON n.id = l.source_id WHERE n.path = ? ORDER BY l.rowid
            """, [.text(path)]) { s in
            WikiLink(target: s.text(0), anchor: s.optionalText(1), display: s.optionalText(2), isEmbed: s.int(3) != 0, line: s.int(4))
        }
        return try rows.map { ResolvedLink(link: $0, resolvedPath: try resolvedPath($0.target, from: path)) }
    }
}

extension MemoryIndex {
    /// The links of the vault that open a note now and would open another, or none, once a note is
    /// made at `path` (a file name or path ending they name too, resolved by `LinkResolver`'s rules:
    /// the new note nearer, or as near): `[[Plan]]` in `Tasks/Use.md` opens `Memory/Plan.md`, and a
    /// new `Notes/plan.md` leaves it opening neither (round 126). With `visible`, only links
    /// between notes the caller may see count: a private note, or a link to one, is not told.
    public func linksTaken(byNewNoteAt path: String, visible: ((String) -> Bool)? = nil) throws -> [(source: String, target: String, opens: String)] {
        defer { database.resetAllStatements() }
        // Every key a link could name the new note by: its path and each ending of it.
        var keys = [LinkResolver.key(path)]
        var rest = Substring(keys[0])
        while let slash = rest.firstIndex(of: "/") {
            rest = rest[rest.index(after: slash)...]
            keys.append(String(rest))
        }
        let table = IndexLinkTable(index: self)
        let after = IndexLinkTable(index: self, adding: path)
        let vaultFiles = LinkResolver(vault: vault)
        var taken: [(source: String, target: String, opens: String)] = []
        var seen = Set<String>()
        // A link is kept as typed: its accents composed or not (macOS writes names decomposed), so
        // each key is asked for in both forms (round 130: an NFD `Notes/Café.md` took `[[Café]]`).
        // (Told apart by their bytes: Swift's `==` takes the two forms for one.)
        var forms: [String] = []
        for form in keys.flatMap({ [$0.precomposedStringWithCanonicalMapping, $0.decomposedStringWithCanonicalMapping] })
        where !forms.contains(where: { $0.utf8.elementsEqual(form.utf8) }) { forms.append(form) }
        for key in forms {
            let rows = try database.query("SELECT n.path, l.target FROM links l JOIN notes n ON n.id = l.source_id WHERE l.target_key = ? LIMIT 500", [.text(key)]) { ($0.text(0), $0.text(1)) }
            for (source, target) in rows where seen.insert(source + "\u{0}" + target).inserted {
                // The index holds notes only: a link that opens an attachment (`![[Photo.png]]`) is
                // looked up in the vault, which a note named after it (`Photo.png.md`, tried first)
                // would take (round 130).
                let indexed = try LinkResolver.resolve(target, from: source, in: table).path
                guard let now = indexed ?? (LinkResolver.hasOtherExtension(target) ? vaultFiles.resolve(target, from: source).path : nil), now != path else { continue }
                if let visible, !visible(source) || !visible(now) { continue }
                if try LinkResolver.resolve(target, from: source, in: after).path != now { taken.append((source, target, now)) }
            }
        }
        return taken
    }
}

/// The index's tables as `LinkResolver` looks names up in them (notes only: the index holds no other files).
private struct IndexLinkTable: LinkTable {
    let index: MemoryIndex
    /// A note taken to be there too (`linksTaken`).
    var adding: String?
    /// The aliases beyond ASCII, read once a table (`MemoryIndex.aliases(equalTo:beyondASCII:)`).
    private let beyondASCII = Locked<[IndexedAlias]?>(nil)

    init(index: MemoryIndex, adding: String? = nil) {
        self.index = index
        self.adding = adding
    }

    func file(lowercasedPath: String) throws -> String? {
        guard lowercasedPath.hasSuffix(".md") else { return nil }
        if let adding, adding.lowercased() == lowercasedPath { return adding }
        return try index.database.query("SELECT path FROM notes WHERE path_key = ? LIMIT 1", [.text(LinkResolver.key(lowercasedPath))]) { $0.text(0) }.first
    }

    func files(lowercasedName: String) throws -> [String] {
        guard lowercasedName.hasSuffix(".md") else { return [] }
        let found = try index.database.query("SELECT path FROM notes WHERE name_key = ?", [.text(LinkResolver.key(lowercasedName))]) { $0.text(0) }
        guard let adding, adding.split(separator: "/").last.map({ $0.lowercased() }) == lowercasedName, !found.contains(adding) else { return found }
        return found + [adding]
    }

    /// The notes with an alias canonically equal to `aliasKey` (at most two: one resolves the link,
    /// more leave it unresolved), as the vault walk's resolver finds them: by bytes alone, a link
    /// typed with its accents decomposed missed the alias in `backlinks` and `linksTaken`.
    func notes(aliasKey: String) throws -> [String] {
        let rows = try index.aliases(equalTo: aliasKey) {
            if let known = beyondASCII.withLock({ $0 }) { return known }
            let read = try index.aliasesBeyondASCII()
            beyondASCII.withLock { $0 = read }
            return read
        }
        var paths: [String] = []
        for alias in rows where !paths.contains(alias.path) {
            paths.append(alias.path)
            if paths.count == 2 { break }
        }
        return paths
    }
}

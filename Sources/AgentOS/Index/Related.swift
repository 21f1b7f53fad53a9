import Foundation

/// A note a context packet would retrieve for a text: the note, the section its piece is cut from,
/// and the relevance that put it there.
public struct RelatedHit: Equatable, Sendable {
    /// The note's vault-relative path.
    public var path: String
    /// The note's title (its file name without `.md`).
    public var title: String
    /// The heading of the section the piece is cut from (empty before the first heading).
    public var heading: String
    /// The section's first line (1-based; the heading line, or line 1 for the part before any heading).
    public var line: Int
    /// The section's last line.
    public var endLine: Int
    /// Relevance: whole note × (0.6 + 0.4 × best section) + 0.2 × anchors, each a share of the best
    /// candidate's (`MemoryIndex.relatedWeights`); 1 at most for the notes and sections part. Higher is better.
    public var score: Double
}

/// Which notes retrieval may return. The default leaves out nothing but the layout folders' READMEs;
/// a packet passes the guardrails' `memory_exclude` folders and the notes it already holds.
public struct RelatedScope: Equatable, Sendable {
    /// Folders (vault-relative) whose notes are never returned, at any depth below them.
    public var excludedFolders: [String] { didSet { prefixes = RelatedScope.prefixes(excludedFolders) } }
    /// Paths never returned (the task itself and the notes it links: they are in the packet already).
    public var skippedPaths: Set<String>
    /// `excludedFolders` lower-cased, without surrounding slashes, each ending in "/" (computed once:
    /// `excludes` runs for every candidate of every packet).
    private var prefixes: [String]

    /// A scope leaving out `excludedFolders` and `skippedPaths`.
    public init(excludedFolders: [String] = [], skippedPaths: Set<String> = []) {
        self.excludedFolders = excludedFolders
        self.skippedPaths = skippedPaths
        prefixes = RelatedScope.prefixes(excludedFolders)
    }

    private static func prefixes(_ folders: [String]) -> [String] {
        folders.compactMap { folder in
            let trimmed = folder.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            return trimmed.isEmpty ? nil : trimmed + "/"
        }
    }

    /// An SQL condition on a path `column` that leaves out the notes of `excludedFolders`, and its
    /// arguments: `column NOT LIKE 'tasks/%' ESCAPE '\'`, one per folder, joined with AND (`LIKE`
    /// ignores ASCII case, as `excludes` does; a folder with other letters is caught by `excludes`
    /// after). `nil` when no folder is left out. Retrieval filters in the query, so that the notes of
    /// those folders are never scored: in a burst, every earlier task and result shares the new
    /// task's words, and scoring them all was most of a packet's time.
    func folderCondition(_ column: String) -> (sql: String, arguments: [SQLValue])? {
        guard !prefixes.isEmpty else { return nil }
        return (prefixes.map { _ in "\(column) NOT LIKE ? ESCAPE '\\'" }.joined(separator: " AND "), prefixes.map { .text(RelatedScope.likePattern($0)) })
    }

    /// The `LIKE` pattern (escaped with `\`) of the paths under a folder `prefix` that ends in "/".
    static func likePattern(_ prefix: String) -> String {
        var pattern = ""
        for character in prefix {
            if character == "%" || character == "_" || character == "\\" { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern + "%"
    }

    /// Whether every folder of `RetrievalTables.os` is left out: then retrieval need not read those
    /// tables at all.
    var leavesOutOSFolders: Bool {
        RetrievalTables.osPrefixes.allSatisfy { folder in prefixes.contains { folder.hasPrefix($0) } }
    }

    /// The tables retrieval reads for this scope: the notes of the OS's own folders only when some
    /// of those folders are not left out.
    var tables: [RetrievalTables] { leavesOutOSFolders ? [.user] : [.user, .os] }

    /// Whether a path is outside what retrieval may return.
    public func excludes(_ path: String) -> Bool {
        if skippedPaths.contains(path) { return true }
        // The READMEs `init` writes explain the vault's layout; they answer no question a task asks.
        if path.hasSuffix("/README.md"), Vault.Layout.folders.contains(where: { path == $0 + "/README.md" }) { return true }
        let lowered = path.lowercased()
        return prefixes.contains { lowered.hasPrefix($0) }
    }
}

/// Where the index keeps a note's whole-note row (`memory`) and the lines it links others with
/// (`anchors`): the notes of the OS's own folders (`Guardrails.osFolders`: tasks, results,
/// telemetry, daily logs…) in tables of their own. Retrieval leaves those folders out by default
/// (`memory_exclude`), and a query walks every row holding one of its words, scored or not: with
/// them in one table, each earlier task and result sharing a new task's words made its packet
/// slower, and a burst of like tasks slower with every task.
struct RetrievalTables: Equatable, Sendable {
    var memory: String
    var anchors: String

    static let user = RetrievalTables(memory: "memory", anchors: "anchors")
    static let os = RetrievalTables(memory: "os_memory", anchors: "os_anchors")

    /// `Guardrails.osFolders`, ASCII lower-cased, each ending in "/".
    static let osPrefixes: [String] = Guardrails.osFolders.map { asciiLowercased($0) + "/" }

    /// The tables of the note at `path`: ASCII letters of any case, as SQL's `LIKE` compares them
    /// (`osCondition`), so the index's rows and a migration's agree.
    static func of(path: String) -> RetrievalTables {
        let lowered = asciiLowercased(path)
        return osPrefixes.contains { lowered.hasPrefix($0) } ? .os : .user
    }

    /// An SQL condition true for a path `column` in one of the OS's folders, and its arguments.
    static func osCondition(_ column: String) -> (sql: String, arguments: [SQLValue]) {
        ("(" + osPrefixes.map { _ in "\(column) LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")",
         osPrefixes.map { .text(RelatedScope.likePattern($0)) })
    }

    private static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

/// How task text becomes a retrieval query: its meaningful words (stop words left out), each a
/// quoted term, joined with OR, so every word can contribute and none is required.
public enum RelatedQuery {
    /// The most words a query keeps (a long task body would otherwise rank every note of the vault).
    public static let maxWords = 32

    /// The meaningful words of a text, lower-cased, in order, each once: letters and digits runs of two
    /// characters or more that are not stop words or bare numbers. A run of characters of a script
    /// written without spaces (Chinese, Japanese, Korean, Thai…: `TextSegmenter`) becomes its
    /// overlapping pairs of characters, each searched as a two-character phrase: a task in Chinese
    /// is one run, and searched whole it matched only a note holding that exact sentence (an outside
    /// test: "使用无头同步" found nothing, "无头同步 使用" the note).
    public static func words(from text: String) -> [String] {
        var words: [String] = []
        var seen = Set<String>()
        var current = ""
        let stops = stopWords(for: text)
        func add(_ lowered: String) {
            guard words.count < maxWords, lowered.count >= 2, !stops.contains(lowered), !lowered.allSatisfy(\.isNumber), seen.insert(lowered).inserted else { return }
            words.append(lowered)
        }
        func flush() {
            defer { current = "" }
            let lowered = current.lowercased()
            guard lowered.unicodeScalars.contains(where: { TextSegmenter.isSegmented($0.value) }) else { return add(lowered) }
            for piece in unspacedPieces(lowered) { add(piece) }
        }
        for character in text {
            if words.count >= maxWords { break }
            // "don't" splits into "don" and "t": both are left out (a stop word, a single letter).
            if character.isLetter || character.isNumber { current.append(character) } else { flush() }
        }
        flush()
        return Array(words.prefix(maxWords))
    }

    /// The stop words for `text`: `stopWords`, and the ambiguous ones of each language two or more of
    /// whose plain function words its first 2,000 characters hold ("comment" is a stop word in
    /// "comment je colore les notes", a word in "add a comment to the note").
    static func stopWords(for text: String) -> Set<String> {
        var counts = [Int](repeating: 0, count: otherLanguages.count)
        var current = ""
        func flush() {
            defer { current = "" }
            guard current.count >= 2 else { return }
            let lowered = current.lowercased()
            for (i, language) in otherLanguages.enumerated() where language.plain.contains(lowered) && !englishStopWords.contains(lowered) { counts[i] += 1 }
        }
        for character in text.prefix(2_000) {
            if character.isLetter { current.append(character) } else { flush() }
        }
        flush()
        var stops = stopWords
        for (i, language) in otherLanguages.enumerated() where counts[i] >= 2 { stops.formUnion(language.ambiguous) }
        return stops
    }

    /// A run mixing scripts, cut where the script changes: each part in other scripts whole, each
    /// part written without spaces as its overlapping pairs of characters (itself when it has two).
    static func unspacedPieces(_ run: String) -> [String] {
        var pieces: [String] = []
        var part: [Character] = []
        var partIsUnspaced = false
        func close() {
            defer { part = [] }
            guard !part.isEmpty else { return }
            if partIsUnspaced, part.count > 2 {
                for i in 0..<(part.count - 1) { pieces.append(String(part[i...i + 1])) }
            } else {
                pieces.append(String(part))
            }
        }
        for character in run {
            let unspaced = character.unicodeScalars.first.map { TextSegmenter.isSegmented($0.value) } ?? false
            if unspaced != partIsUnspaced { close() }
            partIsUnspaced = unspaced
            part.append(character)
        }
        close()
        return pieces
    }

    /// Other English spellings of `word`, most likely first: the American spelling of a British one
    /// (`colour` → `color`, `favourite` → `favorite`, `organise` → `organize`, `analyse` →
    /// `analyze`, `centre` → `center`, `catalogue` → `catalog`, `licence` → `license`,
    /// `cancelled` → `canceled`) and back. ASCII words only: the rules are English. The caller keeps
    /// the first some note holds, so a rule that makes a word no note has costs nothing.
    public static func spellings(of word: String) -> [String] {
        guard word.count >= 4, word.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return [] }
        var readings: [String] = []
        func add(_ spelled: String) {
            if spelled != word, !stopWords.contains(spelled), !readings.contains(spelled) { readings.append(spelled) }
        }
        // Suffix rules, British → American and back; each (from, to) replaces an ending.
        let endings: [(String, String)] = [
            ("isation", "ization"), ("isations", "izations"), ("ise", "ize"), ("ises", "izes"), ("ised", "ized"), ("ising", "izing"), ("iser", "izer"), ("isers", "izers"),
            ("yse", "yze"), ("yses", "yzes"), ("ysed", "yzed"), ("ysing", "yzing"),
            ("ogue", "og"), ("ogues", "ogs"),
            ("tre", "ter"), ("tres", "ters"),
            ("ence", "ense"), ("ences", "enses"),
            ("elled", "eled"), ("elling", "eling"), ("eller", "eler"), ("ellers", "elers"),
        ]
        for (british, american) in endings {
            if word.hasSuffix(british) { add(String(word.dropLast(british.count)) + american) }
            if word.hasSuffix(american) { add(String(word.dropLast(american.count)) + british) }
        }
        // "our" inside a word (colour, favourite, behaviours, flavoured), after three letters or more.
        if let range = word.range(of: "our"), word.distance(from: word.startIndex, to: range.lowerBound) >= 3 {
            add(word.replacingCharacters(in: range, with: "or"))
        } else if let range = word.range(of: "or", options: .backwards), word.distance(from: word.startIndex, to: range.lowerBound) >= 3 {
            add(word.replacingCharacters(in: range, with: "our"))
        }
        if word == "grey" || word == "greys" { add("gray" + word.dropFirst(4)) }
        if word == "gray" || word == "grays" { add("grey" + word.dropFirst(4)) }
        return readings
    }

    /// The FTS5 expression for `words`: every word a quoted term (no user text is read as syntax), OR.
    static func expression(_ words: [String]) -> String {
        words.map { SearchQuery.quoted(SearchQuery.Term(text: $0, isPhrase: false, isPrefix: false)) }.joined(separator: " OR ")
    }

    /// Stop words: function words, and the words every request is made of ("how", "want",
    /// "please"), in English and in the languages of Europe most vaults are written in (German,
    /// French, Spanish, Italian, Portuguese, Dutch). A word of another language that is also an
    /// English word or abbreviation ("comment", "todo", "plus", "ai", "os", "mit") is a stop word
    /// only in a text of that language (`stopWords(for:)`), and some never are ("die", "man",
    /// "war"): English comes first. Stemming stays English only (`porter`).
    public static let stopWords: Set<String> = otherLanguages.reduce(englishStopWords) { $0.union($1.plain) }

    static let englishStopWords: Set<String> = [
        "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
        "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
        "does", "doing", "done", "down", "during", "each", "else", "etc", "even", "ever", "every", "few", "for", "from",
        "further", "get", "gets", "getting", "got", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
        "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "let", "like", "me",
        "might", "mine", "more", "most", "much", "must", "my", "myself", "need", "needs", "no", "nor", "not", "now", "of",
        "off", "on", "once", "one", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "please",
        "same", "shall", "she", "should", "so", "some", "something", "such", "than", "that", "the", "their", "theirs",
        "them", "themselves", "then", "there", "these", "they", "thing", "things", "this", "those", "through", "to", "too",
        "under", "until", "up", "us", "use", "using", "very", "want", "wants", "was", "way", "we", "were", "what", "when",
        "where", "whether", "which", "while", "who", "whom", "why", "will", "with", "without", "would", "yet", "you",
        "your", "yours", "yourself", "yourselves", "don", "doesn", "didn", "isn", "aren", "wasn", "weren", "won", "ll",
        "ve", "re", "able", "really", "still", "make", "makes", "made", "task",
        // What a task asks done with the answer, not what it is about ("Review the advice on backing
        // up your vault and suggest improvements" found "request features" and "review process":
        // a new user's check, round 50).
        "review", "reviews", "suggest", "suggests", "suggestion", "suggestions", "improve", "improves", "improvement",
        "improvements", "advice", "advise", "explain", "explains", "explanation", "describe", "summarize", "summarise",
        "summary", "rewrite", "beginner", "beginners", "briefly", "detail", "detailed", "short",
    ]

    /// The function words of the languages of Europe most vaults are written in: `plain`, always left
    /// out; `ambiguous`, English words or abbreviations too ("comment", "plus", "mit", "os"), left out
    /// only from a text in that language (`otherLanguages`).
    static let otherLanguages: [(language: String, plain: Set<String>, ambiguous: Set<String>)] = [
        ("German", [
            "aber", "alle", "allem", "allen", "aller", "alles", "als", "andere", "anderen", "anderer", "anderes",
            "auch", "auf", "aus", "bei", "beim", "bis", "bist", "bitte", "da", "dabei", "damit", "dann", "darf",
            "das", "dass", "daß", "dazu", "dein", "deine", "deinem", "deinen", "deiner", "dem", "den", "denn",
            "der", "dich", "doch", "dort", "durch", "eigentlich", "ein", "eine", "einem", "einen", "einer",
            "eines", "einfach", "er", "es", "etwas", "euch", "euer", "eure", "für", "ganz", "gerne", "gibt",
            "habe", "haben", "hast", "hatte", "hier", "ich", "ihm", "ihn", "ihnen", "ihr", "ihre", "immer", "ist",
            "jede", "jedem", "jeden", "jeder", "jedes", "jetzt", "kann", "kannst", "kein", "keine", "keinen",
            "können", "könnte", "mal", "mein", "meine", "meinem", "meinen", "meiner", "meines", "mich", "mir",
            "möchte", "möchten", "muss", "müssen", "nach", "nicht", "nichts", "noch", "nur", "ob", "oder", "ohne",
            "schon", "sehr", "sein", "seine", "sich", "sie", "sind", "soll", "sollte", "um", "und", "uns", "unser",
            "unsere", "unter", "viel", "vom", "von", "vor", "wann", "warum", "weil", "welche", "welchem",
            "welchen", "welcher", "welches", "wenn", "wer", "werde", "werden", "wie", "wieder", "wieso", "wir",
            "wird", "wo", "wurde", "würde", "zu", "zum", "zur", "über",
        ], [
            "mit", "im", "du", "des", "dir",
        ]),
        ("French", [
            "aie", "alors", "au", "aussi", "autre", "autres", "aux", "avec", "avez", "avoir", "ça", "ce", "ceci",
            "cela", "ces", "cet", "cette", "chaque", "comme", "dans", "de", "dois", "doit", "donc", "elle",
            "elles", "en", "est", "et", "être", "eux", "faire", "fait", "il", "ils", "je", "la", "le", "les",
            "leur", "leurs", "lui", "ma", "mais", "même", "mes", "moi", "ne", "nos", "notre", "nous", "où", "ou",
            "pas", "peut", "peux", "pourquoi", "pouvez", "puis", "qu", "quand", "que", "quel", "quelle", "quelles",
            "quels", "qui", "sa", "se", "ses", "si", "sont", "suis", "sur", "ta", "te", "tes", "toi", "tous",
            "tout", "toute", "toutes", "très", "tu", "un", "une", "veux", "voudrais", "vos", "votre", "vous",
        ], [
            "comment", "pour", "plus", "par", "sans", "mon", "du", "des", "ton", "ai",
        ]),
        ("Spanish", [
            "al", "alguna", "algunas", "alguno", "algunos", "algún", "cada", "como", "cómo", "cual", "cuál",
            "cuando", "cuándo", "desde", "donde", "dónde", "el", "él", "ella", "ellas", "ellos", "entre", "esa",
            "ese", "eso", "esta", "está", "están", "estas", "este", "esto", "estos", "hace", "hacer", "hay", "las",
            "lo", "los", "más", "me", "mi", "mí", "mis", "mucho", "muy", "ni", "nos", "nosotros", "otra", "otras",
            "otro", "otros", "para", "pero", "por", "porque", "puede", "pueden", "puedo", "qué", "quiero",
            "quisiera", "ser", "sí", "sobre", "sus", "también", "tengo", "tiene", "tu", "tú", "una", "uno", "unos",
            "unas", "ya", "yo",
        ], [
            "todo", "todos", "con", "sin", "algo", "del", "su", "dos",
        ]),
        ("Italian", [
            "alla", "alle", "anche", "che", "chi", "cosa", "dei", "della", "delle", "dello", "devo", "gli", "il",
            "loro", "mia", "mie", "miei", "mio", "nel", "nella", "nelle", "non", "perché", "però", "posso",
            "quale", "quando", "questa", "questo", "sono", "sul", "sulla", "tutti", "tutto", "voglio",
        ], [
            "io", "col",
        ]),
        ("Portuguese", [
            "ao", "aos", "com", "da", "das", "do", "ele", "eles", "essa", "esse", "isso", "mais", "mas", "meu",
            "meus", "minha", "minhas", "na", "não", "no", "nos", "numa", "posso", "quero", "seu", "sua", "são",
            "também", "tem", "um", "uma", "umas", "uns", "você",
        ], [
            "os", "eu", "nas", "dos", "num",
        ]),
        ("Dutch", [
            "bij", "deze", "dit", "een", "heb", "hebben", "het", "hoe", "ik", "je", "jij", "kan", "kunnen", "maar",
            "mijn", "naar", "niet", "nog", "ook", "om", "onze", "te", "uit", "voor", "waar", "wat", "wil", "wij",
            "worden", "zijn",
        ], [
            "op", "met", "dat", "van",
        ]),
    ]
}

extension MemoryIndex {
    /// A hit is kept only if its score is at least this share of the best hit's: weaker matches share
    /// a word or two with the task by chance, and would fill the packet's budget with noise.
    public static let relatedFloor = 0.4

    /// How the three signals of `related` make a score, each first divided by its best value among
    /// the candidates: `whole note × (0.6 + 0.4 × best section) + 0.2 × anchors`. Whole-note bm25
    /// (stemmed, `memory`) carries the score: it is what a plain BM25 baseline does, and alone it is a
    /// fair retriever. The best section (exact words, `sections`) lifts a note one part of which is
    /// about the task, by up to 40 %, but never makes a note relevant by itself (the first section
    /// holds the frontmatter as text, and bookkeeping must not count). The anchors (what other notes
    /// say around their links to it) reach a note whose own words differ from the task's.
    public static let relatedWeights = (note: 0.6, section: 0.4, anchors: 0.2)

    /// A note whose anchors score at least this share of the best anchors is kept under the floor:
    /// other notes describe it with the task's words, though its own words differ.
    public static let relatedAnchorKeep = 0.5

    /// The most notes the gate words may match together, counting each word's notes: words are
    /// taken rarest first until this budget is spent (at least two are taken), and only notes holding
    /// one of them are scored (by every word). Scoring a note is what a query costs: in a vault of
    /// 20,000 notes, "project" or "note" match thousands each, and scoring every note they match is
    /// what made a packet slow. A vault of a few hundred notes never reaches the budget.
    public static let relatedPostingBudget = 1_000

    /// The notes a context packet retrieves for `text`, best first, one hit per note, each with the
    /// section its piece is cut from. The text's meaningful words (`RelatedQuery`) are matched with
    /// OR, among the notes holding one of the rarest of them (`relatedPostingBudget`); candidates are
    /// the best whole notes by bm25 (title ×2, headings ×2, body ×1, property values ×0.2, stemmed)
    /// and the notes whose incoming links' lines match best;
    /// each candidate's best section is then found by exact words, and the three scores combined as
    /// `relatedWeights` says. Hits under `relatedFloor` of the best are left out, unless their anchors
    /// reach `relatedAnchorKeep`.
    ///
    /// `admit` judges hits best first, only as many as are needed (a context packet reads the note
    /// and judges its privacy and secrets there): a hit it refuses is left out, and the floor is the
    /// share of the best hit it admits. A note a packet may not carry therefore never sets the bar
    /// for those it may: a strong private match neither empties a plain task's packet nor shows, by
    /// what is missing, that it exists.
    ///
    /// `pool` is how many whole notes are ranked as candidates (twice `limit` unless given): a
    /// packet asks for few hits, judged one by one, from the pool a longer list would have had.
    ///
    /// `anchorsFrom` says whose lines may count as anchors (`nil`: every note's). A packet for a task
    /// that is not private passes its judge of privacy: a private note's line "see [[Tapir]] for the
    /// mongoosecode plan" made the public Tapir note a hit for "mongoosecode", which told a cloud
    /// agent, by that note's coming or not, what the private note says (an outside attack).
    public func related(to text: String, scope: RelatedScope = RelatedScope(), limit: Int = 6, pool: Int? = nil, anchorsFrom: ((String) -> Bool)? = nil, admit: (RelatedHit) -> Bool = { _ in true }) throws -> [RelatedHit] {
        // Statements left on a row would pin this connection to an old snapshot of the index.
        defer { database.resetAllStatements() }
        guard limit > 0 else { return [] }
        let pool = max(pool ?? limit * 2, limit)
        // The OS's own notes have tables of their own, read only when the scope keeps some of them.
        let tables = scope.tables
        let query = try relatedQuery(RelatedQuery.words(from: text), tables: tables)
        guard !query.all.isEmpty else { return [] }
        let expression = query.expression
        // Read from two tables, a word's IDF is that of both together (its count in each, added up,
        // and every note): the scores of the two are then one ranking.
        let rows: [SQLValue] = tables.count > 1 ? [.int(Int64(query.notes))] : []

        // The left-out folders are filtered in the queries (their notes are never scored), and
        // `scope.excludes` judges every row again (the task itself, folders of other letters).
        let folders = scope.folderCondition("n.path")

        // Whole notes, best first.
        var notes: [(id: Int64, path: String, title: String, score: Double, phrases: UInt64)] = []
        for table in tables.map(\.memory) {
            var found: [(id: Int64, path: String, title: String, score: Double, phrases: UInt64)] = []
            var window = max(pool * 2, 32)
            while true {
                found.removeAll()
                let statement = try database.prepare("SELECT \(table).rowid, n.path, fbt_bm25(\(table), \(IndexSchema.memoryColumnWeights)\(query.countParameters)\(rows.isEmpty ? "" : ", ?")) AS score, n.title, fbt_phrases(\(table)) FROM \(table) JOIN notes n ON n.id = \(table).rowid WHERE \(table) MATCH ?\(folders.map { " AND " + $0.sql } ?? "") ORDER BY score LIMIT ?")
                try statement.bind(query.phraseArguments(scoredBy: query.all.map { .int(Int64(query.counts[$0] ?? 0)) }) + rows + [.text(expression)] + (folders?.arguments ?? []) + [.int(Int64(window))])
                var read = 0
                while try statement.step() {
                    read += 1
                    let path = statement.text(1)
                    guard !scope.excludes(path) else { continue }
                    found.append((statement.int64(0), path, statement.text(3), -statement.double(2), UInt64(bitPattern: statement.int64(4))))
                    if found.count >= pool { break }
                }
                statement.reset()
                if found.count >= pool || read < window { break }
                window *= 8
            }
            notes += found
        }
        if tables.count > 1 {
            notes = Array(notes.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }.prefix(pool).map(\.element))
        }

        // Anchors: a note's score is that of the best line linking it.
        var anchorScores: [Int64: Double] = [:]
        var anchorNotes: [AnchorTarget.Note] = []
        // One statement a table: FTS5 counts the anchors of each word once (NULL), as bm25() would. A
        // line written in a left-out folder (a result linking its task) is not memory, and not scored.
        // An anchor's rowid holds its note's id in the bits above `NoteScanner.sectionBits`.
        // The linking note's path is read with each line: a name several notes share means the one
        // nearest it, as the resolver reads links.
        let sources = scope.folderCondition("s.path")
        var anchorRows: [(key: String, score: Double, source: String)] = []
        for table in tables.map(\.anchors) {
            anchorRows += try database.query("SELECT target_key, fbt_bm25(\(table), 0, 1\(query.countParameters)) AS score, s.path FROM \(table) JOIN notes s ON s.id = (\(table).rowid >> \(NoteScanner.sectionBits)) WHERE \(table) MATCH ?" + (sources.map { " AND " + $0.sql } ?? "") + " ORDER BY score LIMIT 48",
                                             query.phraseArguments(scoredBy: query.all.map { _ in .null }) + [.text(expression)] + (sources?.arguments ?? [])) { ($0.text(0), -$0.double(1), $0.text(2)) }
        }
        if tables.count > 1 {
            anchorRows = Array(anchorRows.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }.prefix(48).map(\.element))
        }
        let targets = try anchorTargets(anchorRows.map(\.key))
        // Best line first. A target's score is its best line's, so a later line of a target already
        // scored changes nothing; and only the best notes' anchors and the first four targets (the
        // best line of all among them, which every anchor score is divided by) are used below. Only
        // the lines that may count are judged by `anchorsFrom` (a read of the linking note each).
        let bestNotes = Set(notes.map(\.id))
        var judged: [String: Bool] = [:]
        func mayCount(_ source: String) -> Bool {
            guard let anchorsFrom else { return true }
            if let known = judged[source] { return known }
            let may = anchorsFrom(source)
            judged[source] = may
            return may
        }
        for (key, score, source) in anchorRows.enumerated().sorted(by: { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }).map(\.element) {
            guard let target = targets[key]?.note(linkedFrom: source), !scope.excludes(target.path), anchorScores[target.id] == nil else { continue }
            guard bestNotes.contains(target.id) || anchorNotes.count < 4, mayCount(source) else { continue }
            anchorNotes.append(target)
            anchorScores[target.id] = score
        }

        // Candidates: the best notes, then up to four notes only their anchors found.
        // A note's sections can hold a word exactly only if the note holds its stem: its best
        // section is looked for with those words only (`fbt_phrases`); an anchors-only note with all.
        var candidates = notes.map { (id: $0.id, path: $0.path, title: $0.title, words: query.words(matching: $0.phrases)) }
        var known = Set(candidates.map(\.id))
        for note in anchorNotes.prefix(4) where known.insert(note.id).inserted { candidates.append((note.id, note.path, note.title, query.all)) }
        let noteScores = Dictionary(notes.map { ($0.id, $0.score) }, uniquingKeysWith: max)

        let sections = try bestSections(of: candidates.map { ($0.id, $0.words) })
        var hits: [RelatedHit] = []
        var sectionScores: [Double] = []
        for (candidate, section) in zip(candidates, sections) {
            hits.append(RelatedHit(path: candidate.path, title: candidate.title, heading: section.heading, line: section.line, endLine: section.endLine, score: 0))
            sectionScores.append(section.score)
        }
        let bestNote = noteScores.values.max() ?? 0
        let bestSection = sectionScores.max() ?? 0
        let bestAnchor = anchorScores.values.max() ?? 0
        func share(_ value: Double?, of best: Double) -> Double { best > 0 ? max(0, value ?? 0) / best : 0 }
        let weights = MemoryIndex.relatedWeights
        for i in hits.indices {
            let id = candidates[i].id
            hits[i].score = share(noteScores[id], of: bestNote) * (weights.note + weights.section * share(sectionScores[i], of: bestSection)) + weights.anchors * share(anchorScores[id], of: bestAnchor)
        }
        // Stable: equal scores keep the whole-note order.
        hits = hits.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }.map(\.element)
        guard let top = hits.first?.score, top > 0 else { return [] }
        let paths = Dictionary(candidates.map { ($0.path, $0.id) }, uniquingKeysWith: { first, _ in first })
        var kept: [RelatedHit] = []
        var best: Double?
        for hit in hits where kept.count < limit && hit.score > 0 {
            // Judged before `admit` reads anything: under the floor of the best admitted hit, and not
            // kept by its anchors.
            if let best, hit.score < best * MemoryIndex.relatedFloor,
               share(paths[hit.path].flatMap { anchorScores[$0] }, of: bestAnchor) < MemoryIndex.relatedAnchorKeep { continue }
            guard admit(hit) else { continue }
            if best == nil { best = hit.score }
            kept.append(hit)
        }
        return kept
    }

    /// The words of a query worth ranking by: words no note holds are dropped, and the rest are kept
    /// rarest first until the notes they match, added up, would pass `budget`
    /// (`relatedPostingBudget`; the two rarest are always kept), in their original order. Document
    /// counts are cached per index file (`RelatedWordCounts`).
    func relatedWords(_ words: [String], budget: Int = MemoryIndex.relatedPostingBudget, tables: [RetrievalTables] = [.user]) throws -> [String] {
        try relatedQuery(words, budget: budget, tables: tables).gate
    }

    /// The query `related` runs for `words` in `tables`: the words any of their notes holds, their
    /// note counts (in all of `tables`), and the rarest of them within `budget` (the gate).
    func relatedQuery(_ words: [String], budget: Int = MemoryIndex.relatedPostingBudget, tables: [RetrievalTables] = [.user]) throws -> RelatedQueryPlan {
        guard !words.isEmpty else { return RelatedQueryPlan(all: [], gate: [], counts: [:]) }
        let notes = try RelatedWordCounts.shared.noteCount(database)
        func count(_ word: String) throws -> Int {
            var count = 0
            for table in tables { count += try RelatedWordCounts.shared.count(of: word, in: table.memory, of: database) }
            return count
        }
        var counted: [(word: String, count: Int, position: Int)] = []
        var taken = Set(words)
        for (position, word) in words.enumerated() {
            let found = try count(word)
            if found > 0 { counted.append((word, found, position)) }
            // The vault may spell the word otherwise: American for British ("favourite" →
            // "favorite") or back. The first other spelling some note holds joins the query whether
            // or not the word as written is held too: that must not decide it, or a private note
            // holding the word would show, by the spelling missing from a cloud caller's hits, that
            // it exists (an outside attack). Splitting a compound no note holds ("slideshow" →
            // "slide show") was tried: three more answers in 294 cases when decided by that, and
            // six fewer when every compound was split (docs/memory.md).
            for spelled in RelatedQuery.spellings(of: word) where !taken.contains(spelled) {
                let spelledCount = try count(spelled)
                guard spelledCount > 0 else { continue }
                taken.insert(spelled)
                counted.append((spelled, spelledCount, position))
                break
            }
        }
        let all = counted.map(\.word)
        counted.sort { $0.count != $1.count ? $0.count < $1.count : $0.position < $1.position }
        var kept: [(word: String, count: Int, position: Int)] = []
        var spent = 0
        for entry in counted where kept.count < 2 || spent + entry.count <= budget {
            kept.append(entry)
            spent += entry.count
        }
        let gate = kept.sorted { $0.position < $1.position }.map(\.word)
        return RelatedQueryPlan(all: all, gate: gate, counts: Dictionary(counted.map { ($0.word, $0.count) }, uniquingKeysWith: max), notes: notes)
    }

    /// The notes link keys name, as retrieval counts them, by the resolver's rules (`LinkResolver`)
    /// on the index's notes: the note of that path; else the notes of that name, those whose path
    /// ends with the key first (`[[Sub/A]]`), and of these the one nearest the linking note, then
    /// the shortest path (`AnchorTarget.note(linkedFrom:)`; a ranking signal, so a tie still names
    /// one). A key that names no note is absent. Two statements for all the keys (an anchors query
    /// names up to 48), not one or two per key.
    func anchorTargets(_ keys: [String]) throws -> [String: AnchorTarget] {
        var found: [String: AnchorTarget] = [:]
        guard !keys.isEmpty else { return found }
        var unique: [String] = []
        var seen = Set<String>()
        for key in keys where seen.insert(key).inserted { unique.append(key) }
        func list(_ values: [String]) -> SQLValue { .text(JSON.array(values.map { .string($0) }).compact) }
        // By path (`path_key` is `LinkResolver.key` of the path, as a link key is): of notes with
        // the same key, the first made.
        let byPath = try database.query("SELECT path_key, id, path, title FROM notes WHERE path_key IN (SELECT value FROM json_each(?)) ORDER BY path_key, id",
                                        [list(unique)]) { ($0.text(0), AnchorTarget.Note(id: $0.int64(1), path: $0.text(2), title: $0.text(3))) }
        for (key, note) in byPath where found[key] == nil { found[key] = AnchorTarget(exact: note, named: []) }
        var byName: [String: [String]] = [:]
        for key in unique where found[key] == nil {
            byName[key.split(separator: "/").last.map(String.init) ?? key, default: []].append(key)
        }
        guard !byName.isEmpty else { return found }
        let named = try database.query("SELECT name_key, id, path, title, path_key FROM notes WHERE name_key IN (SELECT value FROM json_each(?)) ORDER BY name_key, length(path), path",
                                       [list(Array(byName.keys))]) { ($0.text(0), AnchorTarget.Note(id: $0.int64(1), path: $0.text(2), title: $0.text(3)), $0.text(4)) }
        var notesByName: [String: [(note: AnchorTarget.Note, pathKey: String)]] = [:]
        for (name, note, pathKey) in named { notesByName[name, default: []].append((note, pathKey)) }
        for (name, keysOfName) in byName {
            guard let notes = notesByName[name] else { continue }
            for key in keysOfName {
                // `[[Sub/A]]`: the notes whose path ends so, when any does.
                let ending = key.contains("/") ? notes.filter { $0.pathKey.hasSuffix("/" + key) } : []
                found[key] = AnchorTarget(exact: nil, named: (ending.isEmpty ? notes : ending).map(\.note))
            }
        }
        return found
    }

    /// Each candidate's best section for its words: by exact words in `sections` (title ×5,
    /// headings ×3, body ×1, the search weights' order); when no section holds a word exactly (the
    /// note matched on a stem only), the first section, scored 0. Ranked by `fbt_bm25` with each
    /// word named by a key, so its section count is made once per connection and index version, not
    /// again for every candidate as `bm25()` would.
    private func bestSections(of candidates: [(id: Int64, words: [String])]) throws -> [(heading: String, line: Int, endLine: Int, score: Double)] {
        let top = try database.prepare("SELECT heading, start_line, end_line FROM sections WHERE rowid = ?")
        return try candidates.map { candidate in
            let first = candidate.id << NoteScanner.sectionBits
            defer { top.reset() }
            if !candidate.words.isEmpty {
                let best = try database.prepare("""
                    SELECT heading, start_line, end_line, fbt_bm25(sections, 0, 0, 0, 0, 5.0, 3.0, 1.0\(String(repeating: ", ?", count: candidate.words.count))) AS score
                    FROM sections WHERE sections MATCH ? AND rowid BETWEEN ? AND ? ORDER BY score LIMIT 1
                    """)
                defer { best.reset() }
                let keys = candidate.words.map { SQLValue.text("related\u{1}" + $0) }
                try best.bind(keys + [.text(RelatedQuery.expression(candidate.words)), .int(first), .int(first + Int64(NoteScanner.maxSections))])
                if try best.step() { return (best.text(0), best.int(1), best.int(2), -best.double(3)) }
            }
            try top.bind([.int(first)])
            if try top.step() { return (top.text(0), top.int(1), top.int(2), 0) }
            return ("", 1, 1, 0)
        }
    }
}

/// The notes a link key may name (`MemoryIndex.anchorTargets`).
struct AnchorTarget {
    struct Note: Equatable {
        var id: Int64
        var path: String
        var title: String
    }

    /// The note whose path the key is.
    var exact: Note?
    /// Otherwise the notes of its name (or path ending), shortest path first.
    var named: [Note]

    /// The note a line in `source` links with this key: the exact one, else the named one nearest
    /// `source` (`LinkResolver.nearest`: most leading folders in common), then the shortest path.
    func note(linkedFrom source: String) -> Note? {
        if let exact { return exact }
        guard named.count > 1 else { return named.first }
        let nearest = LinkResolver.nearest(named.map(\.path), to: source)
        return named.first { $0.path == nearest.first }
    }
}

/// What `related` searches with: the task's words any note holds (`all`, in the task's order), the
/// rarest of them within the posting budget (`gate`), and each word's note count.
struct RelatedQueryPlan {
    /// The words some note holds, in the task's order.
    var all: [String]
    /// The rarest words, within `MemoryIndex.relatedPostingBudget` (all of them in a small vault).
    var gate: [String]
    /// Notes each word matches.
    var counts: [String: Int]
    /// Notes in the index (of every table), as `RelatedWordCounts` last counted them.
    var notes: Int = 0

    /// The FTS5 expression: every word with OR; when the budget left words out of the gate, a note
    /// must hold a gate word, and is then ranked by all words — `(gate) AND (all)`. Only the notes
    /// the gate lets through are scored (scoring is what costs), and each by every word of the task.
    var expression: String {
        if !isGated { return RelatedQuery.expression(all) }
        return "(" + RelatedQuery.expression(gate) + ") AND (" + RelatedQuery.expression(all) + ")"
    }

    /// `fbt_bm25`'s arguments after the weights, one per phrase of `expression` in its order: the
    /// gate's phrases get -1 (they choose the rows; only the second group scores them, so every word
    /// counts once), then `scored`, one per word of `all`.
    func phraseArguments(scoredBy scored: [SQLValue]) -> [SQLValue] {
        (isGated ? gate.map { _ in .int(-1) } : []) + scored
    }

    /// Whether the budget left words out of the gate (the expression then has two groups).
    var isGated: Bool { gate.count != all.count }

    /// The words of `all` whose phrases `fbt_phrases` set in `bits` (bit 63 stands for every phrase
    /// from 63 on).
    func words(matching bits: UInt64) -> [String] {
        let offset = isGated ? gate.count : 0
        return all.enumerated().filter { i, _ in bits & (1 << UInt64(min(offset + i, 63))) != 0 }.map(\.element)
    }

    /// `, ?` once for each of `phraseArguments`.
    var countParameters: String { String(repeating: ", ?", count: (isGated ? gate.count : 0) + all.count) }
}

/// How many notes each query word matches in `memory` (or `os_memory`), remembered per index file:
/// counting a common word walks its whole doclist, and the same words come back task after task.
/// Only large counts are remembered (a small one costs little to count again, and a word new to the
/// vault must be found at once); a remembered count is an estimate used only to choose words,
/// forgotten when the file's note count has moved by more than a twentieth, or after ten minutes.
/// The note count itself is taken again at most once a second (it walks the notes table: in a burst
/// of tasks, once a packet was 3 % of the watcher's time).
final class RelatedWordCounts: Sendable {
    static let shared = RelatedWordCounts()
    /// The smallest count remembered.
    static let rememberedFrom = 256

    private struct Entry {
        var notes: Int
        var stamp: Date
        var counted: Date
        var counts: [String: Int]
    }

    private let entries = Locked<[String: Entry]>([:])

    /// The notes in the index (cached with the counts, for a second).
    func noteCount(_ database: Database) throws -> Int {
        let now = Date()
        if let known = entries.withLock({ entries in entries[database.path].flatMap { now.timeIntervalSince($0.counted) < 1 ? $0.notes : nil } }) {
            return known
        }
        let notes = Int(try database.scalarInt("SELECT count(*) FROM notes") ?? 0)
        entries.withLock { entries in
            if var entry = entries[database.path], abs(entry.notes - notes) * 20 <= max(entry.notes, 20), now.timeIntervalSince(entry.stamp) < 600 {
                entry.counted = now
                entries[database.path] = entry
                return
            }
            entries[database.path] = Entry(notes: notes, stamp: now, counted: now, counts: [:])
        }
        return notes
    }

    /// The notes of `table` that `word` matches (as a quoted FTS5 term).
    func count(of word: String, in table: String, of database: Database) throws -> Int {
        let key = table + "\u{1}" + word
        if let known = entries.withLock({ $0[database.path]?.counts[key] }) { return known }
        let expression = SearchQuery.quoted(SearchQuery.Term(text: word, isPhrase: false, isPrefix: false))
        let count = Int(try database.scalarInt("SELECT count(*) FROM \(table) WHERE \(table) MATCH ?", [.text(expression)]) ?? 0)
        guard count >= RelatedWordCounts.rememberedFrom else { return count }
        entries.withLock { entries in
            guard var entry = entries[database.path] else { return }
            if entry.counts.count > 50_000 { entry.counts.removeAll() }
            entry.counts[key] = count
            entries[database.path] = entry
        }
        return count
    }
}

import CSQLite
import Foundation

/// The index's own bm25: the FTS5 auxiliary function `fbt_bm25(table, weight of each column…, one
/// argument per phrase…)`, with FTS5's formula, but with each phrase's row count — what bm25 needs
/// for its IDF, and what FTS5's `bm25()` counts by walking every row holding the phrase, every time a
/// statement runs — given or kept instead of counted again. A phrase's argument is
///
/// - a text key: its count is kept per connection under that key while the index is unchanged
///   (`search`: a title-shaped query is made of common words, "The", "of", "will", and counting
///   their rows was most of its time);
/// - an integer: its count, as the caller knows it (`related`: retrieval has counted its words to
///   choose them, and runs one statement per candidate note);
/// - a real number: the phrase's IDF itself, counted from nothing (`search` for a caller that may not
///   see every note: word counts over all notes would tell it, by the order of its hits, whether a
///   note it cannot see holds a word);
/// - a negative number: the phrase only filters rows and adds nothing to the score (`related`'s gate);
/// - NULL: counted by FTS5, as `bm25()` does.
///
/// After the phrases, one more number may follow: the rows the IDF is taken over, when the counts
/// given are of this table and another read with it (`related` over `memory` and `os_memory`);
/// the average row length stays this table's.
///
/// With the same counts the scores are the built-in bm25's to the last bit (`SectionScoreTests`,
/// `RankFunctionTests`). `fbt_phrases(table)` says which phrases the current row holds.
enum SectionScore {
    /// The SQL function's name (an FTS5 auxiliary function, registered on each index connection).
    static let functionName = "fbt_bm25"

    /// The score of a `sections` row, as SQL with one `?` per phrase of the `MATCH`, to be bound to
    /// `keys(of:under:)` (before the statement's other arguments: the score comes first in its text).
    /// Weights are `IndexSchema.sectionWeights`.
    static func expression(phrases: Int) -> String {
        "\(functionName)(sections, \(IndexSchema.sectionWeights)" + String(repeating: ", ?", count: phrases) + ")"
    }

    /// The keys naming a query's phrases under a column filter (`""` for none): what a phrase's
    /// row count is kept under.
    static func keys(of query: SearchQuery, under columnFilter: String) -> [SQLValue] {
        query.phrases.map { .text(columnFilter + "\u{1}" + $0) }
    }

    /// Registers `fbt_bm25` and `fbt_phrases` on `database` (each index connection, when it is
    /// opened). The kept row counts live as long as the connection.
    static func register(on database: Database) throws {
        var api: UnsafeMutablePointer<fts5_api>?
        let statement = try database.prepare("SELECT fts5(?1)")
        defer { statement.reset() }
        let rc = withUnsafeMutablePointer(to: &api) { pointer in
            sqlite3_bind_pointer(statement.handle, 1, pointer, "fts5_api_ptr", nil)
        }
        guard rc == SQLITE_OK else { throw DatabaseError(code: rc, message: "cannot ask for the FTS5 API", sql: "SELECT fts5(?1)") }
        _ = try statement.step()
        guard let api, api.pointee.iVersion >= 2, let create = api.pointee.xCreateFunction else {
            throw DatabaseError(code: SQLITE_ERROR, message: "this SQLite has no FTS5 extension API", sql: "SELECT fts5(?1)")
        }
        let counts = Unmanaged.passRetained(PhraseCounts(database: database.handle)).toOpaque()
        let created = create(api, functionName, counts, sectionScore, { context in
            if let context { Unmanaged<PhraseCounts>.fromOpaque(context).release() }
        })
        guard created == SQLITE_OK else {
            Unmanaged<PhraseCounts>.fromOpaque(counts).release()
            throw DatabaseError(code: created, message: "cannot register \(functionName)", sql: "")
        }
        let phrases = create(api, "fbt_phrases", nil, phrasesHeld, nil)
        guard phrases == SQLITE_OK else { throw DatabaseError(code: phrases, message: "cannot register fbt_phrases", sql: "") }
    }
}

/// The row counts of phrases in `sections`, valid for one version of the database file.
private final class PhraseCounts {
    /// The connection the function is registered on (not owned: the counts die with it).
    let database: OpaquePointer
    /// The data version the counts hold for (`SQLITE_FCNTL_DATA_VERSION`: changes with every
    /// commit, by this connection or another).
    var version: UInt32 = 0
    var counts: [String: Int64] = [:]

    init(database: OpaquePointer) {
        self.database = database
    }

    /// Forgets the counts when the database changed since they were taken.
    func checkVersion() {
        var current: UInt32 = 0
        guard sqlite3_file_control(database, "main", SQLITE_FCNTL_DATA_VERSION, &current) == SQLITE_OK else {
            counts.removeAll()
            return
        }
        if current != version || counts.count > 50_000 {
            counts.removeAll(keepingCapacity: true)
            version = current
        }
    }
}

/// What one statement computes once: per phrase its IDF (NaN for a phrase that only filters), then
/// room for its frequency in a row. Laid out in one `malloc` block so FTS5 can free it with the
/// cursor: `[avgdl, idf…, freq…]`.
private func statementData(_ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer, _ values: UnsafeMutablePointer<OpaquePointer?>?, _ count: Int) -> UnsafeMutablePointer<Double>? {
    if let existing = api.pointee.xGetAuxdata!(fts, 0) { return existing.assumingMemoryBound(to: Double.self) }
    let counts = api.pointee.xUserData!(fts).map { Unmanaged<PhraseCounts>.fromOpaque($0).takeUnretainedValue() }
    let phrases = Int(api.pointee.xPhraseCount!(fts))
    let columns = Int(api.pointee.xColumnCount!(fts))
    guard let block = malloc(MemoryLayout<Double>.stride * (1 + 2 * phrases))?.assumingMemoryBound(to: Double.self) else { return nil }
    var rows: Int64 = 0
    var tokens: Int64 = 0
    guard api.pointee.xRowCount!(fts, &rows) == SQLITE_OK, api.pointee.xColumnTotalSize!(fts, -1, &tokens) == SQLITE_OK, rows > 0 else {
        free(block)
        return nil
    }
    block[0] = Double(tokens) / Double(rows)
    counts?.checkVersion()
    // The arguments name the phrases only if there is one per phrase; otherwise every count is taken.
    let named = count == columns + phrases || count == columns + phrases + 1
    // One more argument: the rows the IDF is taken over (the given counts are of several tables).
    if named, count == columns + phrases + 1, let total = values?[columns + phrases], sqlite3_value_type(total) == SQLITE_INTEGER {
        rows = max(rows, sqlite3_value_int64(total))
    }
    for i in 0..<phrases {
        let argument: OpaquePointer? = named ? values?[columns + i] : nil
        var key: String?
        var hits: Int64 = -1
        switch argument.map({ sqlite3_value_type($0) }) ?? SQLITE_NULL {
        case SQLITE_FLOAT:
            let given = sqlite3_value_double(argument)
            block[1 + i] = given < 0 ? .nan : max(given, 1e-6)
            continue
        case SQLITE_INTEGER:
            hits = sqlite3_value_int64(argument)
            if hits < 0 {
                block[1 + i] = .nan
                continue
            }
        case SQLITE_TEXT:
            key = sqlite3_value_text(argument).map { String(cString: $0) }
            if let key, let known = counts?.counts[key] { hits = known }
        default:
            break
        }
        if hits < 0 {
            hits = 0
            let rc = api.pointee.xQueryPhrase!(fts, Int32(i), &hits) { _, _, user in
                user?.assumingMemoryBound(to: Int64.self).pointee += 1
                return SQLITE_OK
            }
            if rc != SQLITE_OK {
                free(block)
                return nil
            }
            if let key { counts?.counts[key] = hits }
        }
        // The standard bm25 IDF, floored just above zero as FTS5's own bm25 does.
        let idf = log((Double(rows) - Double(hits) + 0.5) / (Double(hits) + 0.5))
        block[1 + i] = idf <= 0 ? 1e-6 : idf
    }
    guard api.pointee.xSetAuxdata!(fts, block, free) == SQLITE_OK else { return nil }
    return block
}

/// The first instance of phrase `phrase` in the current row (`xPhraseFirst`): the iterator for the
/// next ones and the instance's column, -1 when the row does not hold the phrase; nil on an FTS5 error.
private func firstInstance(_ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer, _ phrase: Int) -> (iterator: Fts5PhraseIter, column: Int32)? {
    var iterator = Fts5PhraseIter()
    var column: Int32 = -1
    var offset: Int32 = 0
    guard api.pointee.xPhraseFirst!(fts, Int32(phrase), &iterator, &column, &offset) == SQLITE_OK else { return nil }
    return (iterator, column)
}

/// `fbt_bm25`: bm25 of the current row (negated, so smaller is better, as FTS5's).
private let sectionScore: fts5_extension_function = { api, fts, context, count, values in
    guard let api, let fts else { return }
    let columns = Int(api.pointee.xColumnCount!(fts))
    guard Int(count) >= columns, let values else {
        sqlite3_result_error(context, "fbt_bm25: give one weight per column, then one count or key per phrase", -1)
        return
    }
    guard let data = statementData(api, fts, values, Int(count)) else {
        sqlite3_result_error_code(context, SQLITE_ERROR)
        return
    }
    let phrases = Int(api.pointee.xPhraseCount!(fts))
    let avgdl = data[0]
    let frequency = data + 1 + phrases
    // Each phrase's own instances (xPhraseFirst), not xInst: xInst first merges every phrase's
    // positions into one sorted list; a phrase that only filters is not read at all.
    for i in 0..<phrases {
        frequency[i] = 0
        if data[1 + i].isNaN { continue }
        guard var (iterator, column) = firstInstance(api, fts, i) else {
            sqlite3_result_error_code(context, SQLITE_ERROR)
            return
        }
        var offset: Int32 = 0
        while column >= 0 {
            if Int(column) < columns { frequency[i] += sqlite3_value_double(values[Int(column)]) }
            api.pointee.xPhraseNext!(fts, &iterator, &column, &offset)
        }
    }
    var rowTokens: Int32 = 0
    _ = api.pointee.xColumnSize!(fts, -1, &rowTokens)
    let k1 = 1.2
    let b = 0.75
    let length = Double(rowTokens)
    var score = 0.0
    for i in 0..<phrases where !data[1 + i].isNaN {
        let f = frequency[i]
        score += data[1 + i] * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * length / avgdl)))
    }
    sqlite3_result_double(context, -1.0 * score)
}

/// `fbt_phrases`: which phrases of the query the current row holds, as bits (bit p for phrase p
/// below 63; bit 63 for any phrase from 63 on). `related` looks for these words only in the row's
/// sections.
private let phrasesHeld: fts5_extension_function = { api, fts, context, _, _ in
    guard let api, let fts else { return }
    var bits: UInt64 = 0
    for i in 0..<Int(api.pointee.xPhraseCount!(fts)) {
        guard let (_, column) = firstInstance(api, fts, i) else {
            sqlite3_result_error_code(context, SQLITE_ERROR)
            return
        }
        if column >= 0 { bits |= 1 << UInt64(min(i, 63)) }
    }
    sqlite3_result_int64(context, Int64(bitPattern: bits))
}

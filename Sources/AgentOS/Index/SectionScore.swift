import CSQLite
import Foundation

/// The score `search` orders sections by: FTS5's bm25 with the `sections` weights, computed by the
/// same formula, but with each phrase's row count — what bm25 needs for its IDF, and what it counts
/// by walking every row holding the phrase — kept per connection while the index is unchanged.
///
/// A title-shaped query is made of common words ("The", "of", "will"): counting their rows was
/// most of its time, once for each statement, although the counts only change when the index does.
/// The scores are the built-in bm25's to the last bit (`SectionScoreTests` compares them).
enum SectionScore {
    /// The SQL function's name (an FTS5 auxiliary function, registered on each index connection).
    static let functionName = "fbt_section_score"

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

    /// The number of weight arguments (one per column of `sections`); the phrase keys follow them.
    static let weightCount = IndexSchema.sectionWeights.split(separator: ",").count

    /// Registers the function on `database` (each index connection, when it is opened). The row
    /// counts live as long as the connection.
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

/// What one statement computes once: per phrase its IDF, then room for its frequency in a row.
/// Laid out in one `malloc` block so FTS5 can free it with the cursor: `[avgdl, idf…, freq…]`.
private func statementData(_ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer, _ values: UnsafeMutablePointer<OpaquePointer?>?, _ count: Int) -> UnsafeMutablePointer<Double>? {
    if let existing = api.pointee.xGetAuxdata!(fts, 0) { return existing.assumingMemoryBound(to: Double.self) }
    let counts = api.pointee.xUserData!(fts).map { Unmanaged<PhraseCounts>.fromOpaque($0).takeUnretainedValue() }
    let phrases = Int(api.pointee.xPhraseCount!(fts))
    var keys: [String]?
    if count > SectionScore.weightCount, let values {
        keys = (SectionScore.weightCount..<count).map { i in sqlite3_value_text(values[i]).map { String(cString: $0) } ?? "" }
    }
    guard let block = malloc(MemoryLayout<Double>.stride * (1 + 2 * phrases))?.assumingMemoryBound(to: Double.self) else { return nil }
    var rows: Int64 = 0
    var tokens: Int64 = 0
    guard api.pointee.xRowCount!(fts, &rows) == SQLITE_OK, api.pointee.xColumnTotalSize!(fts, -1, &tokens) == SQLITE_OK, rows > 0 else {
        free(block)
        return nil
    }
    block[0] = Double(tokens) / Double(rows)
    // The keys name the phrases only if there is one per phrase; otherwise every count is taken.
    let usable = keys.flatMap { $0.count == phrases ? $0 : nil }
    counts?.checkVersion()
    for i in 0..<phrases {
        var hits: Int64 = -1
        if let usable, let known = counts?.counts[usable[i]] { hits = known }
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
            if let usable { counts?.counts[usable[i]] = hits }
        }
        // The standard bm25 IDF, floored just above zero as FTS5's own bm25 does.
        let idf = log((Double(rows) - Double(hits) + 0.5) / (Double(hits) + 0.5))
        block[1 + i] = idf <= 0 ? 1e-6 : idf
    }
    guard api.pointee.xSetAuxdata!(fts, block, free) == SQLITE_OK else { return nil }
    return block
}

/// The auxiliary function: bm25 of the current row (negated, so smaller is better, as FTS5's).
private let sectionScore: fts5_extension_function = { api, fts, context, count, values in
    guard let api, let fts else { return }
    let weights = min(Int(count), SectionScore.weightCount)
    guard let data = statementData(api, fts, values, Int(count)) else {
        sqlite3_result_error_code(context, SQLITE_ERROR)
        return
    }
    let phrases = Int(api.pointee.xPhraseCount!(fts))
    let avgdl = data[0]
    let frequency = data + 1 + phrases
    for i in 0..<phrases { frequency[i] = 0 }
    var instances: Int32 = 0
    guard api.pointee.xInstCount!(fts, &instances) == SQLITE_OK else {
        sqlite3_result_error_code(context, SQLITE_ERROR)
        return
    }
    for n in 0..<instances {
        var phrase: Int32 = 0
        var column: Int32 = 0
        var offset: Int32 = 0
        guard api.pointee.xInst!(fts, n, &phrase, &column, &offset) == SQLITE_OK else { continue }
        let weight = Int(column) < weights ? sqlite3_value_double(values![Int(column)]) : 1.0
        frequency[Int(phrase)] += weight
    }
    var rowTokens: Int32 = 0
    _ = api.pointee.xColumnSize!(fts, -1, &rowTokens)
    let k1 = 1.2
    let b = 0.75
    let length = Double(rowTokens)
    var score = 0.0
    for i in 0..<phrases {
        let f = frequency[i]
        score += data[1 + i] * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * length / avgdl)))
    }
    sqlite3_result_double(context, -1.0 * score)
}

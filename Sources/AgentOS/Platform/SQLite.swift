import CSQLite
import Foundation

/// `SQLITE_TRANSIENT`: tells SQLite to copy bound text. Kept out of `main.swift` (Swift 6 isolates its globals).
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// An SQLite failure: the extended result code, SQLite's message and the statement that failed.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String

    public var description: String {
        sql.isEmpty ? "sqlite error \(code): \(message)" : "sqlite error \(code): \(message) (in: \(sql.prefix(120)))"
    }

    /// Whether the file is not a database or is damaged (the index is then rebuilt).
    public var isCorruption: Bool {
        let primary = code & 0xff
        return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
    }
}

/// One open SQLite connection. The sole owner of its `sqlite3*`; closed in `deinit`.
///
/// Not `Sendable`: the connection is opened `NOMUTEX` and caches its prepared statements, so it
/// belongs to one thread at a time. An owner shared between threads keeps it in a `Locked`.
public final class Database {
    let handle: OpaquePointer
    public let path: String
    private var statementCache: [String: Statement] = [:]

    /// Opens (creating if needed) a database with WAL, `synchronous=NORMAL`, a busy timeout and foreign keys.
    public init(path: String, readOnly: Bool = false) throws(DatabaseError) {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close(db) }
            throw DatabaseError(code: rc, message: message, sql: "open \(path)")
        }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
        handle = db
        self.path = path
        if !readOnly {
            // Switching a new file to WAL needs a moment of exclusive access, and SQLite does not
            // wait on the busy handler for it: when several processes open a new file at once (the
            // watcher and a command on a new vault), the others back off and try again.
            var attempt = 0
            while true {
                do {
                    try execute("PRAGMA journal_mode=WAL")
                    break
                } catch {
                    guard error.code & 0xff == SQLITE_BUSY, attempt < 200 else { throw error }
                    attempt += 1
                    usleep(25_000)
                }
            }
            try execute("PRAGMA synchronous=NORMAL")
        }
        try execute("PRAGMA foreign_keys=ON")
        try execute("PRAGMA temp_store=MEMORY")
    }

    deinit {
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(DatabaseError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw DatabaseError(code: sqlite3_extended_errcode(handle), message: message, sql: sql)
        }
    }

    /// A prepared statement, cached by its SQL text (reset and cleared before it is handed out).
    public func prepare(_ sql: String) throws(DatabaseError) -> Statement {
        if let cached = statementCache[sql] {
            cached.reset()
            return cached
        }
        let statement = try Statement(database: self, sql: sql)
        statementCache[sql] = statement
        return statement
    }

    /// Adds a column to a table made by an older version, unless it is there already. Two processes
    /// opening the same older file at once both see the column missing and both add it; the one that
    /// comes second is told "duplicate column name", which means the column is there: not an error.
    public func addColumnIfMissing(_ table: String, _ column: String, _ type: String) throws {
        let columns = try query("PRAGMA table_info(\(table))") { $0.text(1) }
        guard !columns.contains(column) else { return }
        if let error = Database.failure(of: { () throws(DatabaseError) in try execute("ALTER TABLE \(table) ADD COLUMN \(column) \(type)") }),
           !error.message.hasPrefix("duplicate column name") {
            throw error
        }
    }

    /// The error `body` throws, or `nil`.
    private static func failure(of body: () throws(DatabaseError) -> Void) -> DatabaseError? {
        do { try body() } catch { return error }
        return nil
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The rowid of the last insert on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }
    /// Rows changed by every statement since the connection opened (FTS5 commands count what they write).
    public var totalChanges: Int { Int(sqlite3_total_changes(handle)) }

    func error(_ sql: String) -> DatabaseError {
        DatabaseError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Convenience: runs a statement with arguments and returns all rows mapped by `row`.
    public func query<T>(_ sql: String, _ arguments: [SQLValue] = [], row: (Statement) throws -> T) throws -> [T] {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        defer { statement.reset() }
        var rows: [T] = []
        while try statement.step() { rows.append(try row(statement)) }
        return rows
    }

    /// Convenience: runs a statement with arguments that returns no rows.
    public func run(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) {
        let statement = try prepare(sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        while try statement.step() {}
    }

    /// Convenience: the first column of the first row as an integer.
    public func scalarInt(_ sql: String, _ arguments: [SQLValue] = []) throws(DatabaseError) -> Int64? {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        // Reset after reading: a statement left on a row keeps its read transaction (and its old
        // snapshot) open, which makes a later BEGIN IMMEDIATE fail with SQLITE_BUSY_SNAPSHOT.
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int64(0)
    }
}

/// A value to bind to a statement parameter.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(_ text: String?) { self = text.map { .text($0) } ?? .null }
    public init(_ int: Int) { self = .int(Int64(int)) }
}

/// A prepared statement. The sole owner of its `sqlite3_stmt*`; finalized in `deinit`.
public final class Statement {
    let handle: OpaquePointer
    unowned let database: Database
    let sql: String

    init(database: Database, sql: String) throws(DatabaseError) {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw database.error(sql) }
        handle = statement
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds parameters 1…n.
    public func bind(_ values: [SQLValue]) throws(DatabaseError) {
        for (i, value) in values.enumerated() {
            try bind(value, at: Int32(i + 1))
        }
    }

    public func bind(_ value: SQLValue, at index: Int32) throws(DatabaseError) {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(handle, index)
        case .int(let i): rc = sqlite3_bind_int64(handle, index, i)
        case .double(let d): rc = sqlite3_bind_double(handle, index, d)
        case .text(let s): rc = sqlite3_bind_text(handle, index, s, -1, sqliteTransient)
        case .blob(let b):
            rc = b.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
        }
        if rc != SQLITE_OK { throw database.error(sql) }
    }

    /// Advances to the next row; `false` when done.
    public func step() throws(DatabaseError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let error = database.error(sql)
        sqlite3_reset(handle)
        throw error
    }

    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    public func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        let n = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    public func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }
}

import CSQLite
import Foundation

/// The tables of the memory index (`.agentos/index.sqlite`) and how an older file is brought up to date.
///
/// The index holds only data derived from the notes, so a version it cannot migrate step by step is
/// dropped and rebuilt from the vault: nothing is lost.
public enum IndexSchema {
    /// The schema version this build writes, kept in `PRAGMA user_version`.
    public static let version: Int = 4

    /// The bm25 column weights of `sections`: the title counts ten times the body, the headings four
    /// times. Order follows the columns of `sections`.
    static let sectionWeights = "0.0, 0.0, 0.0, 0.0, 10.0, 4.0, 1.0"

    /// The table's rank function (`ORDER BY rank`), with `sectionWeights`.
    static let rankFunction = "bm25(\(sectionWeights))"

    /// The bm25 column weights of `memory` (whole notes, what a context packet retrieves): title ×2,
    /// headings ×2, body ×1, property values ×0.2 (a property value is mostly bookkeeping, not what
    /// a note is about). Title weight stays low because a vault has notes named after one common word
    /// ("Name", "Set"), which a high title weight lets win on that word alone. Order follows the
    /// columns of `memory`.
    static let memoryRankFunction = "bm25(\(memoryColumnWeights))"
    /// The weights of `memory`'s columns (path, title, headings, body, property values), for
    /// `bm25` and `fbt_bm25`.
    static let memoryColumnWeights = "0.0, 2.0, 2.0, 1.0, 0.2"

    /// The step from version `from` to `from + 1`; `nil` means: drop everything and re-create.
    static func migration(from: Int) -> ((Database) throws -> Void)? {
        switch from {
        // Version 2 added the `memory` table, version 3 made it one row per note and added `anchors`;
        // filling them needs every note read again, which is what a rebuild does, so neither has a
        // step.
        case 3: return moveOSRows
        default: return nil
        }
    }

    /// The re-scan's folder records (`FolderRecord`): what each folder held when it was last listed.
    static let foldersTable = """
    CREATE TABLE IF NOT EXISTS folders (
        path TEXT PRIMARY KEY,
        device INTEGER NOT NULL,
        inode INTEGER NOT NULL,
        mtime INTEGER NOT NULL,
        ctime INTEGER NOT NULL,
        listed_at INTEGER NOT NULL,
        subfolders TEXT NOT NULL,
        others TEXT NOT NULL
    );
    """

    static let createStatements = """
    CREATE TABLE IF NOT EXISTS notes (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        path_key TEXT NOT NULL,
        name_key TEXT NOT NULL,
        mtime INTEGER NOT NULL,
        size INTEGER NOT NULL,
        hash INTEGER NOT NULL,
        title TEXT NOT NULL,
        type TEXT,
        status TEXT,
        tags TEXT NOT NULL DEFAULT '',
        aliases TEXT NOT NULL DEFAULT '',
        privacy TEXT,
        section_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS notes_path_key ON notes(path_key);
    CREATE INDEX IF NOT EXISTS notes_name_key ON notes(name_key);
    CREATE TABLE IF NOT EXISTS title_keys (
        key TEXT NOT NULL,
        note_id INTEGER NOT NULL,
        kind INTEGER NOT NULL -- 0 file name, 1 `title` property, 2 alias: the order they win in
    );
    CREATE INDEX IF NOT EXISTS title_keys_key ON title_keys(key);
    CREATE INDEX IF NOT EXISTS title_keys_note ON title_keys(note_id);
    CREATE TABLE IF NOT EXISTS aliases (
        key TEXT NOT NULL,
        note_id INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS aliases_key ON aliases(key);
    CREATE INDEX IF NOT EXISTS aliases_note ON aliases(note_id);
    CREATE TABLE IF NOT EXISTS links (
        source_id INTEGER NOT NULL,
        target TEXT NOT NULL,
        target_key TEXT NOT NULL,
        heading TEXT,
        alias TEXT,
        embed INTEGER NOT NULL,
        line INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS links_source ON links(source_id);
    CREATE INDEX IF NOT EXISTS links_target ON links(target_key);
    \(foldersTable)
    CREATE VIRTUAL TABLE IF NOT EXISTS sections USING fts5(
        path UNINDEXED, heading UNINDEXED, start_line UNINDEXED, end_line UNINDEXED,
        title, headings, body,
        tokenize = "unicode61 remove_diacritics 2"
    );
    \(retrievalTables(.user))
    \(osTables)
    """

    /// A pair of retrieval tables: whole notes, stemmed (`memory`), and the lines notes link others
    /// with (`anchors`).
    static func retrievalTables(_ names: RetrievalTables) -> String {
        """
        CREATE VIRTUAL TABLE IF NOT EXISTS \(names.memory) USING fts5(
            path UNINDEXED, title, headings, body, properties,
            tokenize = "porter unicode61 remove_diacritics 2"
        );
        CREATE VIRTUAL TABLE IF NOT EXISTS \(names.anchors) USING fts5(
            target_key UNINDEXED, text,
            tokenize = "porter unicode61 remove_diacritics 2"
        );
        """
    }

    /// `memory` and `anchors` for the notes of the OS's own folders (`RetrievalTables.os`): the same
    /// columns, apart, so that retrieval, which leaves those folders out by default, never walks
    /// their rows. Every task and result shares the words of the next task like it.
    static let osTables = retrievalTables(.os)

    /// Version 3 to 4: the OS's own notes' rows move from `memory` and `anchors` to `os_memory` and
    /// `os_anchors` (an anchor goes with the note that holds the link).
    private static func moveOSRows(_ database: Database) throws {
        try database.execute(osTables)
        try database.execute("INSERT INTO os_memory(os_memory, rank) VALUES('rank', '\(memoryRankFunction)')")
        let os = RetrievalTables.osCondition("path")
        try database.run("INSERT INTO os_memory(rowid, path, title, headings, body, properties) SELECT rowid, path, title, headings, body, properties FROM memory WHERE \(os.sql)", os.arguments)
        try database.run("DELETE FROM memory WHERE \(os.sql)", os.arguments)
        let source = RetrievalTables.osCondition("n.path")
        let moved = "SELECT a.rowid FROM anchors a JOIN notes n ON n.id = (a.rowid >> \(NoteScanner.sectionBits)) WHERE \(source.sql)"
        try database.run("INSERT INTO os_anchors(rowid, target_key, text) SELECT rowid, target_key, text FROM anchors WHERE rowid IN (\(moved))", source.arguments)
        try database.run("DELETE FROM anchors WHERE rowid IN (\(moved))", source.arguments)
    }

    /// Creates (or opens) the index database at `path` with every table at the current version.
    @discardableResult
    public static func create(at path: String) throws -> Database {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileSystem.makeDirectories(directory) }
        let database = try Database(path: path)
        try prepare(database)
        try SectionScore.register(on: database)
        return database
    }

    /// Brings an open database to the current version: creates it when empty, migrates step by step
    /// when older, and rebuilds it (empty, ready to be re-filled) when no step path exists.
    static func prepare(_ database: Database) throws {
        let found = Int(try database.scalarInt("PRAGMA user_version") ?? 0)
        if found == version {
            return
        }
        if found == 0, (try database.scalarInt("SELECT count(*) FROM sqlite_master")) == 0 {
            // Only an optimisation: if another process is creating the file too, keep the default.
            try? usePageSize(16384, database)
        }
        try database.transaction {
            var current = found
            if current == 0 {
                let tables = try database.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'notes'") ?? 0
                if tables == 0 {
                    try createTables(database)
                    return
                }
            }
            while current < version, let step = migration(from: current) {
                try step(database)
                current += 1
            }
            if current != version {
                try dropAll(database)
                try createTables(database)
            }
            try database.execute("PRAGMA user_version = \(version)")
        }
    }

    /// Sets the page size of a still-empty database. Larger pages mean a quarter of the write calls
    /// for a full index (FTS5 writes its segments page by page). The page size of a WAL database is
    /// fixed, so the file leaves WAL for a moment while it is empty.
    private static func usePageSize(_ size: Int, _ database: Database) throws {
        let current = try database.scalarInt("PRAGMA page_size") ?? 0
        let pages = try database.scalarInt("PRAGMA page_count") ?? 0
        guard current != Int64(size), pages <= 1 else { return }
        try database.execute("PRAGMA journal_mode=DELETE; PRAGMA page_size=\(size); VACUUM; PRAGMA journal_mode=WAL")
    }

    static func createTables(_ database: Database) throws {
        try database.execute(createStatements)
        try database.execute("INSERT INTO sections(sections, rank) VALUES('rank', '\(rankFunction)')")
        try database.execute("INSERT INTO memory(memory, rank) VALUES('rank', '\(memoryRankFunction)')")
        try database.execute("INSERT INTO os_memory(os_memory, rank) VALUES('rank', '\(memoryRankFunction)')")
        try database.execute("PRAGMA user_version = \(version)")
    }

    /// Removes every table of the index (for `--rebuild` and for versions with no migration step).
    static func dropAll(_ database: Database) throws {
        // DROP TABLE fails while any statement on the connection is mid-way ("table is locked").
        database.resetAllStatements()
        // The full-text tables first: dropping one drops its shadow tables (`memory_data`, …), which
        // cannot be told from a table by name alone (`os_memory` starts like `os_memory_data`).
        let master = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
        for virtual in [true, false] {
            let names = try database.query(master + " AND (sql LIKE 'CREATE VIRTUAL TABLE%') = ?", [.int(virtual ? 1 : 0)]) { $0.text(0) }
            for name in names {
                try database.execute("DROP TABLE IF EXISTS \"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"")
            }
        }
    }
}

extension Database {
    /// How long a statement waits for another connection's lock before failing with `SQLITE_BUSY`.
    func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(handle, milliseconds)
    }

    /// Resets every prepared statement of this connection, releasing their read locks.
    func resetAllStatements() {
        var statement = sqlite3_next_stmt(handle, nil)
        while let current = statement {
            sqlite3_reset(current)
            statement = sqlite3_next_stmt(handle, current)
        }
    }
}

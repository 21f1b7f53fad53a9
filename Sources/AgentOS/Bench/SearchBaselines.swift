import Foundation

/// The plain ways of doing what the index section measures, run in the same bench run so that each
/// index and search figure has a baseline next to it: reading the vault, a plain FTS5 table, and `rg`.
public enum SearchBaselines {
    /// The baseline name of `readVault`.
    public static let readName = "walk + read every .md"
    /// The baseline name of `PlainFTS5Table`'s queries.
    public static let plainFTS5Name = "plain FTS5"
    /// The baseline name of `ripgrep`'s runs.
    public static let ripgrepName = "rg -l -i -F"

    /// Seconds to walk the vault and read every note into memory, nothing else (the floor of a
    /// full index, which must at least read each note once).
    public static func readVault(_ vault: Vault) -> Double {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var total = 0
        let seconds = BenchClock.seconds {
            for file in VaultWalker.walk(vault).files where file.path.hasSuffix(".md") {
                let fd = open(vault.root + "/" + file.path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { continue }
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    total += n
                }
                close(fd)
            }
        }
        // Keeps the reads from being optimised away.
        return total >= 0 ? seconds : .nan
    }

    /// The `rg` on `PATH`, or `nil` when ripgrep is not installed.
    public static func ripgrep(environment: [String: String]) -> String? {
        try? Spawn.resolveExecutable("rg", searchPath: environment["PATH"] ?? "/usr/bin:/bin")
    }

    /// The text `rg -F` looks for in place of a search query: the query's words without our syntax
    /// (quotes, a prefix's `*`), so that rg scans for the same words rather than for a `*`.
    public static func ripgrepPattern(_ query: String) -> String {
        String(query.filter { $0 != "\"" && $0 != "*" }).trimmingWhitespaces()
    }

    /// Runs `rg -l -i -F PATTERN VAULT` once, as a whole process, and waits for it.
    public static func runRipgrep(_ executable: String, query: String, vault: Vault, environment: [String: String]) throws {
        _ = try Spawn.run(Spawn.Options(executable: executable, arguments: ["-l", "-i", "-F", "--", ripgrepPattern(query), vault.root],
                                        environment: environment, stdoutLimit: 0, stderrLimit: 0))
    }
}

/// A plain FTS5 table in the index connection's temp schema: one row per note, its title (the file
/// name) and its whole text, `unicode61` as the index's `sections`, ranked by plain `bm25()` — what a
/// search over the vault looks like with nothing of ours around it.
public struct PlainFTS5Table {
    let database: Database

    /// Builds the table from every note of `vault`, in `index`'s connection (temp schema; gone when
    /// the connection closes).
    public init(vault: Vault, index: MemoryIndex) throws {
        database = index.database
        try database.execute("DROP TABLE IF EXISTS temp.search_baseline")
        try database.execute("CREATE VIRTUAL TABLE temp.search_baseline USING fts5(path UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2')")
        try database.transaction {
            for file in VaultWalker.walk(vault).files where file.path.hasSuffix(".md") {
                guard let data = FileManager.default.contents(atPath: vault.root + "/" + file.path) else { continue }
                try database.run("INSERT INTO temp.search_baseline(path, title, body) VALUES(?, ?, ?)",
                                 [.text(file.path), .text(NoteScanner.title(ofPath: file.path)), .text(String(decoding: data, as: UTF8.self))])
            }
        }
    }

    /// The first ten notes for `query` (parsed as `search` parses it), each with a snippet, as paths.
    /// A query that does not parse finds nothing.
    @discardableResult
    public func search(_ query: String) throws -> [String] {
        guard let parsed = try? SearchQuery(query) else { return [] }
        defer { database.resetAllStatements() }
        return try database.query("SELECT path, snippet(search_baseline, 2, char(2), char(3), '…', 14) FROM temp.search_baseline WHERE search_baseline MATCH ? ORDER BY bm25(search_baseline) LIMIT 10",
                                  [.text(parsed.matchExpression)]) { $0.text(0) }
    }
}

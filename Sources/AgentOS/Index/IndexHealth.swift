/// How far the index is from the vault, for `doctor`: files on disk against rows in the index.
public struct IndexHealth: Equatable, Sendable {
    /// `.md` notes found on disk (skipped ones included).
    public var notesOnDisk: Int
    /// Notes in the index.
    public var rowsInIndex: Int
    /// Notes on disk with no row that the index would take.
    public var missingFromIndex: Int
    /// Notes on disk the index leaves out on purpose (binary content, over `MemoryIndex.maxNoteBytes`):
    /// no `index` run changes them, so they are no drift (an outside test: doctor warned about them
    /// for ever, with "run 'fuckbigtech index'" as the fix).
    public var skippedByIndex = 0
    /// Notes whose modification time or size differs from the row (likely changed since indexing).
    public var staleInIndex: Int
    /// Rows whose note is gone from disk.
    public var orphanedInIndex: Int
    /// The index's schema version (0 when there is no index).
    public var schemaVersion: Int
    /// Why the index could not be read, if it could not (missing, damaged, other version).
    public var problem: String?
    /// `.md` files whose names are not UTF-8 (shown with U+FFFD): nothing can open them.
    public var lossyNames: [String] = []

    /// Every kind of drift added up; 0 means the index matches the vault.
    public var drift: Int { missingFromIndex + staleInIndex + orphanedInIndex }

    /// Compares the vault with its index without changing either (the index is opened read-only).
    public static func check(vault: Vault) -> IndexHealth {
        let walk = VaultWalker.walk(vault)
        var health = IndexHealth(notesOnDisk: walk.files.count + walk.skipped.count, rowsInIndex: 0, missingFromIndex: walk.files.count, staleInIndex: 0, orphanedInIndex: 0, schemaVersion: 0, problem: nil)
        health.lossyNames = walk.skipped.filter { $0.reason == .nameNotUTF8 }.map(\.path).sorted()
        guard let status = try? FileSystem.status(vault.databasePath), status.kind == .file else {
            health.problem = "no index yet; run 'fuckbigtech index'"
            return health
        }
        do {
            let database = try Database(path: vault.databasePath, readOnly: true)
            health.schemaVersion = Int(try database.scalarInt("PRAGMA user_version") ?? 0)
            guard health.schemaVersion == IndexSchema.version else {
                health.problem = "index schema version \(health.schemaVersion), this build uses \(IndexSchema.version); run 'fuckbigtech index --rebuild'"
                return health
            }
            var rows: [String: (Int64, Int64)] = [:]
            let statement = try database.prepare("SELECT path, mtime, size FROM notes")
            while try statement.step() { rows[statement.text(0)] = (statement.int64(1), statement.int64(2)) }
            health.rowsInIndex = rows.count
            health.missingFromIndex = 0
            for file in walk.files {
                if let row = rows.removeValue(forKey: file.path) {
                    if row.0 != file.status.mtimeNanoseconds || row.1 != file.status.size { health.staleInIndex += 1 }
                } else if file.status.size > Int64(MemoryIndex.maxNoteBytes)
                            || ((try? FileSystem.read(vault.root + "/" + file.path, limit: 8000))?.bytes).map(NoteScanner.looksBinary) == true {
                    health.skippedByIndex += 1
                } else {
                    health.missingFromIndex += 1
                }
            }
            health.orphanedInIndex = rows.count
        } catch {
            health.problem = "the index cannot be read (\(error)); run 'fuckbigtech index --rebuild'"
        }
        return health
    }
}

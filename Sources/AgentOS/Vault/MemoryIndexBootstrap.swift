/// A stand-in for the index schema until `IndexSchema.create(at:)` lands: it creates the index
/// database file and stamps its schema version, so `init --with-memory` and `doctor` have
/// something real to create and check.
// TODO(merge): replace the body of `create(at:)` with `IndexSchema.create(at:)` and
// `schemaVersion` with the index's own version constant.
public enum MemoryIndexBootstrap {
    /// The schema version `init --with-memory` writes and `doctor` expects (`PRAGMA user_version`).
    public static let schemaVersion: Int64 = 1

    /// Creates (or opens) the index database at `path` and sets its schema version.
    public static func create(at path: String) throws(DatabaseError) {
        let database = try Database(path: path)
        try database.execute("PRAGMA user_version = \(schemaVersion)")
    }

    /// The schema version stored in an existing index database.
    public static func storedVersion(at path: String) throws(DatabaseError) -> Int64 {
        let database = try Database(path: path, readOnly: true)
        return try database.scalarInt("PRAGMA user_version") ?? 0
    }
}

import Foundation

/// The notes that already looked like work when the OS adopted an existing vault. The first `init`
/// or `watch` on a vault without a list finds the notes with `type: task` or `type: handoff`, and
/// every note under `Tasks/` and `Handoffs/`, that the OS has not written into (no `run_id`, no
/// `route_*`), and lists them in `.agentos/adopted` by the hash of their bytes. The watcher leaves
/// such a note exactly as it is — no status, route or error written, nothing run — until a person
/// edits it. Many vaults keep `type: task` / `status: todo` notes of their own (a Dataview or Tasks
/// convention, whose words may be the OS's too: `new`, `running`, `done`), or a `Tasks/` folder of
/// checklists: the first `watch` rewrote them (a `status: todo` became `status: failed`) and sent
/// one to a cloud agent without anyone asking (an outside test).
///
/// The list is made once per vault: the file, even empty (a new vault), says adoption happened.
/// Whether it happened is read from the list alone — not from `.agentos/` existing (`search` or
/// `status` make that folder), nor from the run store (one `run` of a note made it look adopted):
/// both let the first `watch` rewrite a person's notes (outside attacks).
public enum AdoptedNotes {
    /// The list's file name in `.agentos/`: a header line, then one line per note, `HASH<TAB>PATH`.
    static let fileName = "adopted"
    static let header = "# notes that looked like work when the OS adopted this vault: HASH<TAB>PATH"

    /// Adopts `vault` if it never was (it has no list): lists its work-looking notes and returns
    /// their paths (sorted; empty when there are none). `nil` when adoption is not due.
    @discardableResult
    public static func adoptIfNew(vault: Vault) throws -> [String]? {
        guard isDue(vault) else { return nil }
        let found = workLookingNotes(in: vault)
        try write(found, vault: vault)
        return found.map(\.path).sorted()
    }

    /// Whether `vault` was never adopted (it has no list).
    static func isDue(_ vault: Vault) -> Bool {
        (try? FileSystem.status(listPath(vault))) ?? nil == nil
    }

    static func listPath(_ vault: Vault) -> String { vault.stateDirectory + "/" + fileName }

    /// Writes the list (the header alone when `found` is empty: adoption happened).
    static func write(_ found: [(path: String, hash: ContentHash)], vault: Vault) throws {
        try FileSystem.makeDirectories(vault.stateDirectory)
        let text = ([header] + found.map { "\($0.hash.hex)\t\($0.path)" }).joined(separator: "\n") + "\n"
        try FileSystem.replaceDurably(listPath(vault), bytes: Array(text.utf8))
    }

    /// The notes that look like work but are not the OS's: a type of work or a work folder, and
    /// nothing the OS writes when it takes a note on (`run_id`, `route_*`).
    public static func workLookingNotes(in vault: Vault) -> [(path: String, hash: ContentHash)] {
        let store = NoteStore(vault: vault)
        var found: [(path: String, hash: ContentHash)] = []
        for path in VaultWalker.markdownFiles(in: vault) {
            let inWorkFolder = TaskNote.isInWorkFolder(path)
            guard let snapshot = try? store.readIfPresent(path) else { continue }
            // Outside the work folders only a note with frontmatter can be typed: the rest of a vault
            // (most of it) is not parsed.
            if !inWorkFolder && snapshot.bytes.firstRange(of: Array("---".utf8)) == nil { continue }
            let note = try? Note.parse(bytes: snapshot.bytes)
            if !inWorkFolder {
                guard let note, TaskNote.kind(of: note, path: path) != nil else { continue }
            } else if let note, TaskNote.kind(of: note, path: path) == nil {
                continue // a folder README, or another type
            }
            if let note, note["run_id"] != nil || note.properties.contains(where: { $0.key.lowercased().hasPrefix("route_") }) { continue }
            found.append((path, snapshot.hash))
        }
        return found
    }

    /// The adopted notes' hashes, and a path each was found at; empty when the vault has no list.
    public static func load(vault: Vault) -> [ContentHash: String] {
        guard let read = try? FileSystem.read(listPath(vault)) else { return [:] }
        var hashes: [ContentHash: String] = [:]
        for line in String(decoding: read.bytes, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2, let hash = ContentHash(hex: String(parts[0])) else { continue }
            hashes[hash] = String(parts[1])
        }
        return hashes
    }
}

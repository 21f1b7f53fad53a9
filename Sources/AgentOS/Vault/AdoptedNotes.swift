import Foundation

/// The notes that already looked like work when the OS adopted an existing vault: `init` (or
/// `watch` on a folder the OS never ran on) finds notes with `type: task` or `type: handoff`, and
/// every note under `Tasks/` and `Handoffs/`, and lists them in `.agentos/adopted` by the hash of
/// their bytes. The watcher leaves such a note exactly as it is — it writes no status, no route and
/// no error into it and runs nothing — until a person edits it. Many vaults keep `type: task` /
/// `status: todo` notes of their own (a Dataview or Tasks convention), or a `Tasks/` folder of
/// checklists: the first `watch` rewrote them (a user's `status: todo` became `status: failed`)
/// and sent one to a cloud agent without anyone asking (an outside test).
public enum AdoptedNotes {
    /// The list's file name in `.agentos/`: one line per note, `HASH<TAB>PATH`.
    static let fileName = "adopted"

    /// Lists the work-looking notes of `vault` before the OS adopts it, when there are any; returns
    /// their paths (sorted). Writes nothing when there are none.
    @discardableResult
    public static func record(vault: Vault) throws -> [String] {
        let store = NoteStore(vault: vault)
        var found: [(path: String, hash: ContentHash)] = []
        for path in VaultWalker.markdownFiles(in: vault) {
            let inWorkFolder = TaskNote.isInWorkFolder(path)
            guard let snapshot = try? store.readIfPresent(path) else { continue }
            // Only a note whose bytes name a type is parsed: most of a vault is not.
            if !inWorkFolder {
                guard snapshot.bytes.starts(with: Array("---".utf8)) || snapshot.bytes.starts(with: [0xEF, 0xBB, 0xBF]),
                      let note = try? Note.parse(bytes: snapshot.bytes), TaskNote.kind(of: note, path: path) != nil else { continue }
            } else if path.hasSuffix("/README.md"), let note = try? Note.parse(bytes: snapshot.bytes), TaskNote.kind(of: note, path: path) == nil {
                continue
            }
            found.append((path, snapshot.hash))
        }
        guard !found.isEmpty else { return [] }
        try FileSystem.makeDirectories(vault.stateDirectory)
        let text = found.map { "\($0.hash.hex)\t\($0.path)\n" }.joined()
        try FileSystem.replaceDurably(vault.stateDirectory + "/" + fileName, bytes: Array(text.utf8))
        return found.map(\.path).sorted()
    }

    /// The adopted notes' hashes, and a path each was found at; empty when the vault has no list.
    public static func load(vault: Vault) -> [ContentHash: String] {
        guard let read = try? FileSystem.read(vault.stateDirectory + "/" + fileName) else { return [:] }
        var hashes: [ContentHash: String] = [:]
        for line in String(decoding: read.bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2, let hash = ContentHash(hex: String(parts[0])) else { continue }
            hashes[hash] = String(parts[1])
        }
        return hashes
    }
}

import Foundation

extension TaskNote {
    /// Work notes that are ready to run (status new, with a prompt) and that no run has claimed:
    /// what a watcher would pick up now. Looks at no more than `limit` notes.
    public static func waiting(in vault: Vault, runs: RunStore?, limit: Int = 10_000) -> [String] {
        let store = NoteStore(vault: vault)
        var waiting: [String] = []
        var looked = 0
        for folder in [Vault.Layout.tasks, Vault.Layout.handoffs] {
            for path in VaultWalker.markdownFiles(in: vault, under: folder) {
                looked += 1
                if looked > limit { return waiting }
                guard let snapshot = (try? store.readIfPresent(path)) ?? nil, snapshot.bytes.count < 1 << 20,
                      let note = try? Note.parse(bytes: snapshot.bytes), let kind = TaskNote.kind(of: note, path: path) else { continue }
                let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: kind)
                guard task.status == .new, task.notReadyReason == nil, ((try? runs?.activeRun(taskPath: path)) ?? nil) == nil else { continue }
                waiting.append(path)
            }
        }
        return waiting
    }
}

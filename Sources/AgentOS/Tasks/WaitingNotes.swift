import Foundation

extension TaskNote {
    /// Work notes that are ready to run (status new, with a prompt) and that no run has claimed:
    /// what a watcher would pick up now. Looks at no more than `limit` notes.
    public static func waiting(in vault: Vault, runs: RunStore?, limit: Int = 10_000) -> [String] {
        survey(in: vault, runs: runs, limit: limit).waiting
    }

    /// What a look at the work folders finds: the notes a watcher would pick up now (`waiting`), and
    /// those it never runs as they stand, each with why in one line (`notRun`): not text (binary
    /// data, invalid UTF-8, a NUL byte), too large, or there before the OS adopted the vault and not
    /// edited since (`AdoptedNotes`). Listed apart, a note the watcher refuses is not "waiting for
    /// a watcher" (an outside test: `doctor` failed on it, with a fix that could not help).
    public static func survey(in vault: Vault, runs: RunStore?, limit: Int = 10_000) -> (waiting: [String], notRun: [(path: String, reason: String)]) {
        let store = NoteStore(vault: vault)
        let adopted = AdoptedNotes.load(vault: vault)
        var waiting: [String] = []
        var notRun: [(path: String, reason: String)] = []
        var looked = 0
        for folder in [Vault.Layout.tasks, Vault.Layout.handoffs] {
            for file in VaultWalker.walk(vault, under: folder).files.sorted(by: { $0.path < $1.path }) {
                let path = file.path
                looked += 1
                if looked > limit { return (waiting, notRun) }
                if file.status.size > TaskEngine.maxTaskBytes {
                    notRun.append((path, "too large for a task note (\(TaskEngine.megabytes(file.status.size)); the limit is \(TaskEngine.megabytes(TaskEngine.maxTaskBytes)))"))
                    continue
                }
                guard let snapshot = (try? store.readIfPresent(path)) ?? nil else { continue }
                if !TaskEngine.isText(snapshot.bytes) {
                    notRun.append((path, "not a text note (binary data, invalid UTF-8 or a NUL byte); save it as UTF-8 text"))
                    continue
                }
                if adopted[snapshot.hash] != nil {
                    notRun.append((path, "there before the OS adopted the vault; edit it (or 'fuckbigtech run' it) to run it"))
                    continue
                }
                guard snapshot.bytes.count < 1 << 20, let note = try? Note.parse(bytes: snapshot.bytes), let kind = TaskNote.kind(of: note, path: path) else { continue }
                let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: kind)
                guard task.status == .new, task.notReadyReason == nil, ((try? runs?.activeRun(taskPath: path)) ?? nil) == nil else { continue }
                // A `timeout` or `retries` it cannot use keeps it from running: said, not queued.
                if let problem = task.propertyProblem {
                    notRun.append((path, problem))
                    continue
                }
                waiting.append(path)
            }
        }
        return (waiting, notRun)
    }
}

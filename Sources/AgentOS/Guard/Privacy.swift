import Foundation

/// The privacy guardrail's tests: which notes and tasks are private. Private work never reaches a
/// non-local lane; when in doubt (a note that cannot be read or parsed) a note counts as private.
public enum Privacy {
    /// Why a note is private, or `nil` when it is not: its `privacy` says so (any value but `public`),
    /// `private: true`, a private tag (or a tag nested under one), or a path under a private folder.
    public static func reason(path: String?, privacy: String?, tags: [String], guardrails: Guardrails) -> String? {
        if let privacy, privacy.lowercased() != "public" { return "privacy: \(privacy)" }
        for tag in tags.map(TaskFacts.normalizeTag) {
            for privateTag in guardrails.privateTags where tag == privateTag || tag.hasPrefix(privateTag + "/") {
                return "tagged #\(tag)"
            }
        }
        if let path, let folder = privateFolder(containing: path, guardrails: guardrails) {
            return "under \(folder)/"
        }
        return nil
    }

    /// Why a parsed note is private, or `nil` (see `reason(path:privacy:tags:guardrails:)`).
    /// Use this for notes pulled into a context packet by other means (search, retrieved memory).
    public static func reason(note: Note, path: String, guardrails: Guardrails) -> String? {
        var privacy = note.text("privacy")
        if note["private"]?.bool == true { privacy = "private" }
        let tags = note.texts("tags") + note.texts("tag") + TaskFacts.inlineTags(in: note.body)
        return reason(path: path, privacy: privacy, tags: tags, guardrails: guardrails)
    }

    /// The private folder a path lies under, if any (compared case-insensitively, so `private/x.md`
    /// on a case-insensitive disk is caught too).
    public static func privateFolder(containing path: String, guardrails: Guardrails) -> String? {
        let lowered = TaskFacts.normalizeFolder(path).lowercased()
        return guardrails.privateFolders.first { lowered.hasPrefix($0.lowercased() + "/") }
    }

    /// Whether a note a task pulls in is private. Reads it through `store`; a note that exists but
    /// cannot be read or parsed counts as private, because its privacy cannot be checked.
    public static func isPrivate(linkedNote path: String, store: NoteStore, guardrails: Guardrails) -> Bool {
        if privateFolder(containing: path, guardrails: guardrails) != nil { return true }
        guard path.lowercased().hasSuffix(".md") else { return false }
        let snapshot: NoteSnapshot?
        do { snapshot = try store.readIfPresent(path) } catch {
            if case .path = error { return false } // the link leaves the vault: nothing is read from it
            return true
        }
        guard let snapshot else { return false }
        guard let note = try? Note.parse(bytes: snapshot.bytes) else { return true }
        return reason(note: note, path: path, guardrails: guardrails) != nil
    }

    /// Why a task is private, or `nil`: its own note (see `reason`), or any private note it pulls in.
    public static func reason(for facts: TaskFacts, guardrails: Guardrails) -> String? {
        if let own = reason(path: facts.path, privacy: facts.privacy, tags: facts.tags, guardrails: guardrails) {
            return own
        }
        if !facts.privateSources.isEmpty {
            let shown = facts.privateSources.prefix(3).joined(separator: ", ")
            let more = facts.privateSources.count > 3 ? " and \(facts.privateSources.count - 3) more" : ""
            return "pulls in private \(facts.privateSources.count == 1 ? "note" : "notes") \(shown)\(more)"
        }
        return nil
    }
}

import Foundation

/// Runs whose agent read a private note through the OS's own tools (`note show`, `search`,
/// `context`, the MCP server's reads). A local agent may read private notes for a task that is not
/// private; what it then makes — a note, a task, a handoff — may carry that text, so such a run
/// counts as private from then on, as a private task's run does (`Privacy.reason(ofRun:vault:)`).
/// Kept as one line per run id in `.agentos/private-reads`, appended and never rewritten. (An agent
/// that reads the files straight from disk is not seen: that wall is its sandbox, docs/security.md.)
public enum RunTaint {
    static func path(_ vault: Vault) -> String { vault.stateDirectory + "/private-reads" }

    /// Records that run `runID` was shown private text. Failing to record fails the read: the text
    /// must not go out unrecorded. The run's `project:` folder, when it works in one, is private
    /// from then on too (`ProjectTaint`): its agent may write what it read there.
    public static func record(_ runID: String, vault: Vault) throws {
        guard !runID.hasPrefix("mcp:"), !isTainted(runID, vault: vault) else { return }
        try FileSystem.makeDirectories(vault.stateDirectory)
        try FileSystem.append(Array((runID + "\n").utf8), to: path(vault), sync: true)
        if let record = RunStore.known(runID, vault: vault), let named = RunWorkspace.projectProperty(taskPath: record.taskPath, vault: vault),
           let real = RunWorkspace.realPath(RunWorkspace.expandHome(named, home: ProcessInfo.processInfo.environment["HOME"])) {
            try ProjectTaint.record(real, vault: vault)
        }
    }

    /// Records run `runID` (when there is one) if any of the notes at `paths`, shown to it, is private.
    public static func recordIfPrivate(_ paths: [String], runID: String?, vault: Vault) throws {
        guard let runID, !runID.hasPrefix("mcp:"), !paths.isEmpty, !isTainted(runID, vault: vault) else { return }
        let store = NoteStore(vault: vault)
        let guardrails = RuleBook.load(vault: vault).guardrails
        let links = LinkResolver(vault: vault)
        if paths.contains(where: { Privacy.reason(ofNoteAt: $0, store: store, guardrails: guardrails, links: links) != nil }) {
            try record(runID, vault: vault)
        }
    }

    /// Whether run `runID` was shown private text through the OS's tools.
    public static func isTainted(_ runID: String, vault: Vault) -> Bool {
        guard let data = FileManager.default.contents(atPath: path(vault)) else { return false }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").contains { $0 == runID }
    }
}

/// `project:` folders a private run's agent worked in. A local agent may write what it read —
/// the private packet, its answer — into its working folder; a later run of a cloud agent there
/// would start with those files in front of it (an outside attack). So a folder a private run
/// worked in is private from then on: a task whose `project:` is that folder, lies in it or holds
/// it runs only on the local lane (`TaskFacts.privateProject`), until a person who has checked the
/// folder removes its line. Kept as one real path per line in `.agentos/private-projects`, appended.
public enum ProjectTaint {
    static func path(_ vault: Vault) -> String { vault.stateDirectory + "/private-projects" }

    /// A recorded folder: its real path when recorded, and its device and inode (a folder renamed
    /// or moved keeps them: an outside attack renamed the project folder a private run had written
    /// the private packet into, and claude then started there as in any public folder).
    struct Folder: Equatable {
        var path: String
        var device: UInt64?
        var inode: UInt64?
    }

    /// Records that a private run works in the folder at `realPath`. Failing to record fails the
    /// run: its agent must not write there unrecorded.
    public static func record(_ realPath: String, vault: Vault) throws {
        let identity = ProjectTaint.identity(realPath)
        // A line of the same path and identity is there already (one of an older format, without
        // an identity, gets a line with it).
        guard !folders(vault).contains(where: { $0.path == realPath && $0.inode == identity?.inode && $0.device == identity?.device }) else { return }
        let line = realPath + (identity.map { "\t\($0.device):\($0.inode)" } ?? "") + "\n"
        try FileSystem.makeDirectories(vault.stateDirectory)
        try FileSystem.append(Array(line.utf8), to: path(vault), sync: true)
    }

    /// Before an agent starts in the project folder at `realPath`: a private run records it
    /// (failing to record refuses the run); a cloud agent (`local` false) is refused in a folder
    /// recorded since its task was routed (a task queued while a private run worked there: an
    /// outside attack). Returns the refusal, or `nil`.
    static func guardFolder(_ realPath: String, runID: String, local: Bool, vault: Vault) -> String? {
        if !local, let folder = folder(overlapping: realPath, vault: vault) {
            return "project folder \(realPath) is private now: a private run worked in \(folder) (remove its line from .agentos/private-projects once you have checked it); set status: new to route the task again"
        }
        if Privacy.reason(ofRun: runID, vault: vault) != nil {
            do { try record(realPath, vault: vault) } catch { return "cannot record that private run \(runID) works in \(realPath): \(error)" }
        }
        return nil
    }

    /// The most folders looked at below a project folder for a recorded folder moved into it.
    static let maxFoldersSearched = 4_096

    /// The recorded folder that is `realPath`, holds it or lies in it, if any — by path, or by
    /// device and inode wherever it was moved: `realPath` or a folder above it is the recorded
    /// folder, or a recorded folder no longer at its path is found below `realPath` (up to
    /// `maxFoldersSearched` folders, hidden ones included). A copy is another folder, and is not
    /// followed. Said as its path now, with the path it was recorded at.
    public static func folder(overlapping realPath: String, vault: Vault) -> String? {
        let recorded = folders(vault)
        if let hit = recorded.first(where: { RunWorkspace.isWithin(realPath, $0.path) || RunWorkspace.isWithin($0.path, realPath) }) { return hit.path }
        let known = recorded.filter { $0.inode != nil }
        guard !known.isEmpty else { return nil }
        func recordedFolder(at path: String) -> Folder? {
            guard let id = identity(path) else { return nil }
            return known.first { $0.device == id.device && $0.inode == id.inode }
        }
        // The folder itself, or one above it (renamed, or reached through a bind mount).
        for above in ProjectTaint.selfAndAbove(realPath) {
            if let hit = recordedFolder(at: above) { return moved(hit, to: above) }
        }
        let away = known.filter { folder in identity(folder.path).map { $0.device != folder.device || $0.inode != folder.inode } ?? true }
        // A recorded folder still at its path, below this one reached by another path (a bind
        // mount of a folder above it: an outside attack).
        if let mine = identity(realPath) {
            for folder in known where !away.contains(folder) {
                if ProjectTaint.selfAndAbove(folder.path).dropFirst().contains(where: { identity($0).map { $0 == mine } ?? false }) { return folder.path }
            }
        }
        // A recorded folder moved in below it: only those no longer at their path are looked for,
        // nearest first (breadth first, so a folder moved in near the top is found before a deep
        // tree such as `node_modules` spends the budget).
        guard !away.isEmpty else { return nil }
        var pending = [realPath]
        var next = 0
        while next < pending.count, next < maxFoldersSearched {
            let folder = pending[next]
            next += 1
            guard let entries = try? FileSystem.list(folder) else { continue }
            for entry in entries where entry.kind == .directory || entry.kind == nil {
                let path = folder == "/" ? "/" + entry.name : folder + "/" + entry.name
                if let id = identity(path), let hit = away.first(where: { $0.device == id.device && $0.inode == id.inode }) { return moved(hit, to: path) }
                pending.append(path)
            }
        }
        return nil
    }

    /// `path` and each folder above it, up to `/`.
    static func selfAndAbove(_ path: String) -> [String] {
        var folders = [path]
        var above = path
        while above != "/", let slash = above.lastIndex(of: "/") {
            above = slash == above.startIndex ? "/" : String(above[..<slash])
            folders.append(above)
        }
        return folders
    }

    private static func moved(_ folder: Folder, to path: String) -> String {
        folder.path == path ? path : "\(path) (recorded at \(folder.path), since moved)"
    }

    /// A folder's device and inode (not following a final symlink: a real path has none).
    static func identity(_ path: String) -> (device: UInt64, inode: UInt64)? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// The folders recorded (a line is a real path, then a tab and `device:inode` when known).
    static func folders(_ vault: Vault) -> [Folder] {
        guard let data = FileManager.default.contents(atPath: path(vault)) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line -> Folder? in
            guard line.hasPrefix("/") else { return nil }
            // The identity follows the last tab (a folder's name may hold one); a line without one
            // that parses is a path alone (as lines were written before identities were kept).
            if let tab = line.lastIndex(of: "\t") {
                let numbers = line[line.index(after: tab)...].split(separator: ":", omittingEmptySubsequences: false).map { UInt64($0) }
                if numbers.count == 2, let device = numbers[0], let inode = numbers[1] {
                    return Folder(path: String(line[..<tab]), device: device, inode: inode)
                }
            }
            return Folder(path: String(line))
        }
    }

    /// The recorded folder a note's `project:` overlaps, if any (`nil` when it names no existing folder).
    static func folder(of note: Note, vault: Vault, home: String? = ProcessInfo.processInfo.environment["HOME"]) -> String? {
        guard let named = RunWorkspace.projectProperty(of: note),
              FileManager.default.fileExists(atPath: path(vault)),
              let real = RunWorkspace.realPath(RunWorkspace.expandHome(named, home: home)) else { return nil }
        return folder(overlapping: real, vault: vault)
    }
}

import Foundation

/// Where an agent process runs: never the vault. Agents reach notes through the context packet and
/// the CLI (`FBT_VAULT`, `FBT_TASK`, `FBT_RUN_ID`), which apply the guardrails; a working directory
/// inside the vault would let a coding agent read `Private/` with its own file tools.
///
/// A run works in a fresh folder of its own, `fbt-run-<run id>` (mode 0700) under `$XDG_RUNTIME_DIR`
/// or else the system temp folder, removed after the run when the agent left nothing in it (kept
/// otherwise, so files an agent wrote are not lost). A task may instead name a `project:` folder; it
/// must be an existing folder under one of the `project_roots` of `Rules/Guardrails.md`, and must not
/// be the vault, lie inside it, or contain it.
public enum RunWorkspace {
    /// A working directory that cannot be used, with what to fix.
    public struct Refusal: Error, CustomStringConvertible, Sendable, Equatable {
        /// One line for the task's `error` property.
        public let description: String
    }

    /// The working directory chosen for one run.
    public struct Workspace: Sendable, Equatable {
        /// The absolute folder the agent starts in.
        public let path: String
        /// Whether the folder was made for this run (and may be removed after it).
        public let isScratch: Bool
    }

    /// The real, absolute form of a path (symlinks resolved); `nil` when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    /// `realPath` of the longest part of `path` that exists, with the rest appended as written
    /// (`/vault-link/Private/Bank` → `/real/vault/Private/Bank` though no `Bank` is there).
    /// Foundation's `resolvingSymlinksInPath` leaves a relative link target unresolved on Linux.
    static func realForm(_ path: String) -> String {
        // From the root down, an absolute path: the parts that exist are few, and a path of
        // thousands of parts that do not (`/a/a/a/…`) was walked up one part at a time, each step
        // resolving and measuring the whole of what was left (a 32 KB task routed for minutes: an
        // outside attack). A part that does not resolve ends the walk: nothing under it can.
        if path.hasPrefix("/") {
            let parts = path.split(separator: "/", omittingEmptySubsequences: true)
            var real: String?
            var resolved = 0
            var prefix = ""
            for part in parts {
                prefix += "/" + part
                guard let next = realPath(prefix) else { break }
                real = next
                resolved += 1
            }
            guard let real else { return path }
            let rest = parts.dropFirst(resolved)
            return rest.isEmpty ? real : (real == "/" ? "" : real) + "/" + rest.joined(separator: "/")
        }
        var head = path
        var rest: [String] = []
        while head.count > 1 {
            if let real = realPath(head) { return ([real] + rest.reversed()).joined(separator: "/") }
            rest.append((head as NSString).lastPathComponent)
            head = (head as NSString).deletingLastPathComponent
        }
        return path
    }

    /// `~` and `~/x` expanded from `home` (`$HOME`).
    static func expandHome(_ path: String, home: String?) -> String {
        let trimmed = path.trimmingWhitespaces()
        guard let home, !home.isEmpty else { return trimmed }
        if trimmed == "~" { return home }
        if trimmed.hasPrefix("~/") { return home + String(trimmed.dropFirst(1)) }
        return trimmed
    }

    /// Whether `inner` is `outer` or lies under it (both real, absolute paths).
    static func isWithin(_ inner: String, _ outer: String) -> Bool {
        outer == "/" || inner == outer || inner.hasPrefix(outer + "/")
    }

    /// Checks a task's `project:` folder: it must exist, be a folder under one of `roots` (after `~`
    /// and symlinks are resolved), and neither be, lie in, nor contain the vault. Returns its real path.
    public static func project(_ raw: String, vault: Vault, roots: [String], home: String? = ProcessInfo.processInfo.environment["HOME"]) -> Result<String, Refusal> {
        let expanded = expandHome(raw, home: home)
        guard expanded.hasPrefix("/") else {
            return .failure(Refusal(description: "project '\(raw)' must be an absolute path (or start with ~/)"))
        }
        guard !roots.isEmpty else {
            return .failure(Refusal(description: "project '\(raw)' is not allowed: Rules/Guardrails.md lists no project_roots"))
        }
        guard let real = realPath(expanded), let status = try? FileSystem.status(real), status.kind == .directory else {
            return .failure(Refusal(description: "project '\(raw)' is not an existing folder"))
        }
        let vaultRoot = realPath(vault.root) ?? vault.root
        if isWithin(real, vaultRoot) {
            return .failure(Refusal(description: "project '\(raw)' is inside the vault; agents never run in the vault"))
        }
        if isWithin(vaultRoot, real) {
            return .failure(Refusal(description: "project '\(raw)' contains the vault; agents never run in a folder that holds the vault"))
        }
        let realRoots = roots.compactMap { realPath(expandHome($0, home: home)) }
        guard realRoots.contains(where: { isWithin(real, $0) }) else {
            return .failure(Refusal(description: "project '\(raw)' is outside the project_roots of Rules/Guardrails.md (\(roots.joined(separator: ", ")))"))
        }
        return .success(real)
    }

    /// The folder per-run working directories are made in: `$XDG_RUNTIME_DIR` when it is a writable
    /// folder, else `$TMPDIR`, else `/tmp` — never one inside the vault.
    static func scratchBase(vault: Vault, environment: [String: String]) -> String {
        let vaultRoot = realPath(vault.root) ?? vault.root
        for candidate in [environment["XDG_RUNTIME_DIR"], environment["TMPDIR"], "/tmp"].compactMap({ $0 }) where candidate.hasPrefix("/") {
            guard let real = realPath(candidate), FileSystem.isWritableDirectory(real) else { continue }
            // A fresh empty folder next to the vault is fine; one inside it is not.
            if isWithin(real, vaultRoot) { continue }
            return real
        }
        return "/tmp"
    }

    /// Makes a fresh, empty 0700 folder `fbt-run-<run id>` for one run (a numbered one if that name
    /// is taken, so an earlier run's files are never shared).
    public static func makeScratch(runID: String, vault: Vault, environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<Workspace, Refusal> {
        let base = scratchBase(vault: vault, environment: environment)
        for attempt in 0..<100 {
            let path = scratchPath(base: base, runID: runID, attempt: attempt)
            if mkdir(path, 0o700) == 0 {
                // mkdir honours the umask; the folder must be this user's alone whatever the umask.
                _ = chmod(path, 0o700)
                return .success(Workspace(path: path, isScratch: true))
            }
            if errno != EEXIST { break }
        }
        return .failure(Refusal(description: "cannot make a working folder for the run under \(base): \(String(cString: strerror(errno)))"))
    }

    /// `base/fbt-run-<run id>`, numbered after the first attempt; the id with anything but letters,
    /// digits, `-` and `_` made `-`.
    static func scratchPath(base: String, runID: String, attempt: Int) -> String {
        let safeID = String(runID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }.prefix(100))
        return base + "/fbt-run-" + safeID + (attempt == 0 ? "" : "-\(attempt)")
    }

    /// After a crash: removes the scratch folders a cut-off run left empty (its own, and those of
    /// its MCP server and browser); a folder holding anything stays, as `finish` keeps it. Only
    /// `rmdir` is used, which removes nothing but an empty folder. Returns the folders removed.
    @discardableResult
    public static func removeLeftScratch(runID: String, vault: Vault, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let base = scratchBase(vault: vault, environment: environment)
        var removed: [String] = []
        for id in [runID, runID + "-mcp", runID + "-browser"] {
            for attempt in 0..<100 {
                let path = scratchPath(base: base, runID: id, attempt: attempt)
                guard (try? FileSystem.status(path)) ?? nil != nil else { break }
                if rmdir(path) == 0 { removed.append(path) }
            }
        }
        return removed
    }

    /// Removes a run's scratch folder if the agent left nothing in it; a folder with files stays
    /// (its path is in the watcher log) so nothing an agent wrote is lost.
    @discardableResult
    public static func finish(_ workspace: Workspace) -> Bool {
        guard workspace.isScratch else { return false }
        guard let entries = try? FileSystem.list(workspace.path), entries.isEmpty else { return false }
        return rmdir(workspace.path) == 0
    }

    /// The working directory for a run of the task at `taskPath`: its `project:` folder when it names
    /// one (checked against `project_roots`), else a fresh scratch folder.
    public static func forRun(runID: String, taskPath: String?, vault: Vault, environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<Workspace, Refusal> {
        if let taskPath, let named = projectProperty(taskPath: taskPath, vault: vault) {
            let roots = RuleBook.load(vault: vault).guardrails.projectRoots
            return project(named, vault: vault, roots: roots, home: environment["HOME"]).map { Workspace(path: $0, isScratch: false) }
        }
        return makeScratch(runID: runID, vault: vault, environment: environment)
    }

    /// The `project` property of a task or handoff note, if it sets one.
    public static func projectProperty(taskPath: String, vault: Vault) -> String? {
        guard let snapshot = try? NoteStore(vault: vault).readIfPresent(taskPath), let note = try? Note.parse(bytes: snapshot.bytes) else { return nil }
        return projectProperty(of: note)
    }

    /// The `project` property of a parsed note, if it sets one.
    public static func projectProperty(of note: Note) -> String? {
        note.text("project")
    }
}

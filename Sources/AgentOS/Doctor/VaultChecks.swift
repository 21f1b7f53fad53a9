/// Checks of the vault on disk: its layout, the machine-state folder, the index database.
enum VaultChecks {
    /// The `vault` check: the folder exists and has every layout folder.
    static func layout(_ context: DoctorContext) -> [DoctorFinding] {
        let root = context.vault.root
        let fixInit = "run 'fuckbigtech init \(ShellQuote.ifNeeded(root))' (it adds only what is missing)"
        guard let status = try? FileSystem.status(root) else {
            return [DoctorFinding(check: "vault", status: .fail, finding: "no vault at \(root)", fix: fixInit)]
        }
        if status.kind == .file || status.kind == .other {
            return [DoctorFinding(check: "vault", status: .fail, finding: "\(root) is not a folder", fix: "give a folder with --vault PATH")]
        }
        var missing: [String] = []
        var blocked: [String] = []
        for folder in Vault.Layout.folders + [Vault.Layout.obsidian] {
            switch (try? FileSystem.status(root + "/" + folder)) ?? nil {
            case .none: missing.append(folder + "/")
            case .some(let st) where st.kind == .directory: break
            case .some(let st) where st.kind == .symlink: blocked.append(folder + " (a symlink, which the OS never follows)")
            case .some: blocked.append(folder + " (a file, not a folder)")
            }
        }
        var findings: [DoctorFinding] = []
        if !blocked.isEmpty {
            findings.append(DoctorFinding(check: "vault", status: .fail, finding: "not usable as vault folders: " + blocked.joined(separator: ", "), fix: "move them aside, then " + fixInit))
        }
        if !missing.isEmpty {
            findings.append(DoctorFinding(check: "vault", status: .warn, finding: "\(root) lacks " + missing.joined(separator: " "), fix: fixInit))
        }
        if findings.isEmpty {
            findings.append(DoctorFinding(check: "vault", status: .ok, finding: "\(root) has the vault layout"))
        }
        return findings
    }

    /// The `state` check: `.agentos/` is a writable folder (or not there yet).
    static func stateFolder(_ context: DoctorContext) -> [DoctorFinding] {
        let path = context.vault.stateDirectory
        switch (try? FileSystem.status(path)) ?? nil {
        case .none:
            return [DoctorFinding(check: "state", status: .warn, finding: "no \(Vault.Layout.state)/ yet (machine state: index, run ledger, logs)", fix: "run 'fuckbigtech init --with-memory'; the OS also creates it on first use")]
        case .some(let st) where st.kind == .directory:
            if FileSystem.isWritableDirectory(path) {
                return [DoctorFinding(check: "state", status: .ok, finding: "\(Vault.Layout.state)/ is writable")]
            }
            return [DoctorFinding(check: "state", status: .fail, finding: "\(Vault.Layout.state)/ is not writable, so nothing can be indexed, run or logged", fix: "make \(path) writable for this user (or mount the vault read-write)")]
        case .some(let st) where st.kind == .symlink:
            return [DoctorFinding(check: "state", status: .fail, finding: "\(Vault.Layout.state) is a symlink, which the OS never follows", fix: "replace it with a real folder: move it aside and run 'fuckbigtech init --with-memory'")]
        case .some:
            return [DoctorFinding(check: "state", status: .fail, finding: "\(Vault.Layout.state) is a file, not a folder, so nothing can be indexed, run or logged", fix: "move \(path) aside and run 'fuckbigtech init --with-memory'")]
        }
    }

    /// The `watcher` check: whether a watcher serves the vault; a failure when notes wait to run and
    /// none does (they would wait forever), a warning when its heartbeat is stale.
    static func watcher(_ context: DoctorContext) -> [DoctorFinding] {
        let liveness = WatcherHeartbeat.liveness(of: context.vault)
        let line = "watcher " + WatcherHeartbeat.describe(liveness)
        switch liveness {
        case .running(_, let age):
            if let age, age > WatcherHeartbeat.staleAfter {
                return [DoctorFinding(check: "watcher", status: .warn, finding: line, fix: "the watcher holds the lock but has not written its heartbeat for \(Int(bounded: age)) s; look at its log, restart it if it is stuck")]
            }
            return [DoctorFinding(check: "watcher", status: .ok, finding: line)]
        case .stopped:
            // Only read the run store if it exists: doctor changes nothing.
            let hasRuns = (try? FileSystem.status(context.vault.stateDirectory + "/runs.sqlite")) ?? nil != nil
            let runs = hasRuns ? try? RunStore(vault: context.vault) : nil
            let waiting = TaskNote.waiting(in: context.vault, runs: runs)
            if waiting.isEmpty {
                return [DoctorFinding(check: "watcher", status: .warn, finding: line + "; no note is waiting", fix: "start 'fuckbigtech watch' (or 'fuckbigtech service install') so new task notes run")]
            }
            // Inside an agent's run a private task is counted, not named (`NoteVisibility.listsTask`).
            let visibility = NoteVisibility(vault: context.vault, environment: context.environment)
            let named = waiting.filter(visibility.listsTask)
            let shown = named.prefix(3).joined(separator: ", ") + (waiting.count > named.prefix(3).count ? "\(named.isEmpty ? "" : " and ")\(waiting.count - named.prefix(3).count) more" : "")
            return [DoctorFinding(check: "watcher", status: .fail, finding: line + "; \(waiting.count) note(s) wait to run: \(shown)", fix: "start 'fuckbigtech watch' (or 'fuckbigtech service install'), or run one now with 'fuckbigtech run NOTE'")]
        }
    }

    /// The `index` check: the index database opens, has this build's schema version, and matches
    /// the notes on disk (drift counted: notes missing from it, changed since, or gone).
    static func index(_ context: DoctorContext) -> [DoctorFinding] {
        let path = context.vault.databasePath
        let relative = Vault.Layout.state + "/index.sqlite"
        let rebuild = "run 'fuckbigtech index --rebuild'; the index is rebuilt from the notes, nothing is lost"
        switch (try? FileSystem.status(path)) ?? nil {
        case .none:
            return [DoctorFinding(check: "index", status: .warn, finding: "no index yet (\(relative))", fix: "run 'fuckbigtech index' (or 'fuckbigtech watch', which keeps it current)")]
        case .some(let st) where st.kind != .file:
            return [DoctorFinding(check: "index", status: .fail, finding: "\(relative) is not a regular file", fix: "move \(path) aside, then " + rebuild)]
        case .some:
            do {
                let database = try Database(path: path, readOnly: true)
                let version = Int(try database.scalarInt("PRAGMA user_version") ?? 0)
                guard version == IndexSchema.version else {
                    return [DoctorFinding(check: "index", status: .fail, finding: "\(relative) has schema version \(version), this build expects \(IndexSchema.version)", fix: rebuild)]
                }
            } catch {
                let what = error.isCorruption ? "is not a readable SQLite database" : "cannot be opened (\(error.message))"
                return [DoctorFinding(check: "index", status: .fail, finding: "\(relative) \(what)", fix: rebuild)]
            }
            let health = IndexHealth.check(vault: context.vault)
            return indexFindings(health, relative: relative, rebuild: rebuild) + lossyNameFindings(health)
        }
    }

    /// Notes whose file names are not UTF-8: they never run and are never indexed, which nothing
    /// else says (an outside attack: a Latin-1 `Tasks/café.md` was silently never run).
    static func lossyNameFindings(_ health: IndexHealth) -> [DoctorFinding] {
        guard let first = health.lossyNames.first else { return [] }
        let more = health.lossyNames.count > 1 ? " and \(health.lossyNames.count - 1) more" : ""
        return [DoctorFinding(check: "index", status: .warn, finding: "\(EngineEvent.printable(first))\(more): \(SkipReason.nameNotUTF8)",
                              fix: "rename the file to a UTF-8 name (the OS can neither run nor index it until then)")]
    }

    private static func indexFindings(_ health: IndexHealth, relative: String, rebuild: String) -> [DoctorFinding] {
        if let problem = health.problem {
            return [DoctorFinding(check: "index", status: .fail, finding: problem, fix: rebuild)]
        }
        if health.drift > 0 {
            return [DoctorFinding(check: "index", status: .warn, finding: "\(health.rowsInIndex) notes indexed, \(health.notesOnDisk) on disk: \(health.missingFromIndex) missing, \(health.staleInIndex) changed since, \(health.orphanedInIndex) gone", fix: "run 'fuckbigtech index' (a running watcher catches up by itself)")]
        }
        let skipped = health.skippedByIndex == 0 ? "" : " (\(health.skippedByIndex) left out: binary or over \(MemoryIndex.maxNoteBytes / 1_048_576) MB)"
        return [DoctorFinding(check: "index", status: .ok, finding: "\(relative) schema \(health.schemaVersion), \(health.rowsInIndex) notes indexed, no drift\(skipped)")]
    }
}

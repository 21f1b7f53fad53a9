import Foundation

/// The files each active run touched, as the OS itself sees them: notes the watcher saw change while
/// the run's agent was running, and notes the run's MCP server wrote (logged with the run's id in
/// `.agentos/mcp-writes.jsonl`). The agent's own report is added by `TaskEngine.complete`.
final class RunTouches: Sendable {
    /// One run being watched.
    private struct Active {
        /// The run's task note (its own status writes are the OS's, not the agent's).
        var taskPath: String
        /// Where the MCP write log ended when the run started (only later lines can be the run's).
        var mcpLogOffset: Int
        /// What the watcher saw, by path.
        var seen: [String: TouchedFile] = [:]
    }

    private let active = Locked([String: Active]())
    let vault: Vault

    /// Touches of runs in `vault`.
    init(vault: Vault) { self.vault = vault }

    /// Starts watching for a run whose agent is about to start.
    func begin(runID: String, taskPath: String) {
        let offset = Int((try? FileSystem.status(MCPWriteLog.path(vault)))??.size ?? 0)
        active.withLock { $0[runID] = Active(taskPath: taskPath, mcpLogOffset: offset) }
    }

    /// Whether any run is being watched (the watcher skips the work otherwise).
    var isWatching: Bool { active.withLock { !$0.isEmpty } }

    /// Records changes the watcher saw (the OS's own writes already left out). A change while one
    /// run is active is attributed to it (`watched`); while several are, to each of them as
    /// `during` (the OS cannot tell whose).
    func saw(_ candidates: [(path: String, change: TouchedFile.Change)]) {
        guard !candidates.isEmpty else { return }
        active.withLock { runs in
            let attribution: TouchedFile.Attribution = runs.count == 1 ? .watched : .during
            for id in Array(runs.keys) {
                for (path, change) in candidates where path != runs[id]!.taskPath {
                    if let known = runs[id]!.seen[path] {
                        // Created then changed is still created (and seen alone stays the run's own);
                        // anything then deleted is deleted — but a file made and gone within the
                        // run left nothing: a note created then deleted, or a file that is not a
                        // note written then renamed away (an editor's or `sed -i`'s temporary,
                        // `Tasks/sedXXXX`, was listed as touched and linked from the result: a tour).
                        if change == .deleted {
                            if known.change == .created || (known.change == .changed && !path.lowercased().hasSuffix(".md")) {
                                runs[id]!.seen[path] = nil
                            } else {
                                runs[id]!.seen[path]?.change = .deleted
                            }
                        }
                        continue
                    }
                    runs[id]!.seen[path] = TouchedFile(path: path, change: change, attribution: attribution, inVault: true)
                }
            }
        }
    }

    /// Stops watching a run and returns what it touched: its MCP writes (exact) and what the watcher saw.
    func end(runID: String) -> [TouchedFile] {
        guard let run = active.withLock({ $0.removeValue(forKey: runID) }) else { return [] }
        return TouchedFile.merged(mcpWrites(runID: runID, from: run.mcpLogOffset), Array(run.seen.values))
    }

    /// Notes the run's MCP server created or wrote, from the log's lines since `offset`.
    func mcpWrites(runID: String, from offset: Int) -> [TouchedFile] {
        let bytes = TelemetryWriter.readJournal(MCPWriteLog.path(vault), from: offset)
        var files: [TouchedFile] = []
        for line in bytes.split(separator: 0x0A) {
            guard let json = try? JSON.parse(String(decoding: line, as: UTF8.self)), json["run_id"]?.stringValue == runID,
                  let path = json["path"]?.stringValue, let outcome = json["outcome"]?.stringValue else { continue }
            // Refusals and conflicts wrote nothing of the agent's (a conflict note is the OS's).
            let change: TouchedFile.Change
            switch outcome {
            case "created", "blocked": change = .created // a blocked handoff's note is written all the same
            case "written", "merged": change = .changed
            default: continue
            }
            files.append(TouchedFile(path: path, change: change, attribution: .mcp, inVault: true))
        }
        return files
    }

    /// Whether a changed path can be a run's work: not the OS's own records (telemetry, daily
    /// notes, their private companions), its state folder or Obsidian's settings.
    static func mayBeAgentWrite(_ path: String) -> Bool {
        let osFolders = [Vault.Layout.telemetry, Vault.Layout.daily, Vault.Layout.privateFolder + "/" + Vault.Layout.telemetry,
                         Vault.Layout.privateFolder + "/" + Vault.Layout.daily, Vault.Layout.state, Vault.Layout.obsidian]
        return !path.isEmpty && !osFolders.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// What a public run's result note and telemetry may name of what it touched: every file but the
    /// private notes. The watcher attributes to a run whatever changed while it ran — a person saving
    /// a private note meanwhile, another run's private task — and a public run's result and
    /// telemetry row are read by agents off this machine: a private note's name is private text.
    /// A note seen deleted by the watcher cannot be judged any more (unless by its folder) and is left
    /// out too; what the agent itself reported or wrote through its MCP server it knows already.
    /// Returns the files kept and how many private and deleted notes were left out.
    static func shareable(_ files: [TouchedFile], vault: Vault) -> (files: [TouchedFile], privateNotes: Int, deletedNotes: Int) {
        guard files.contains(where: \.inVault) else { return (files, 0, 0) }
        let guardrails = RuleBook.load(vault: vault).guardrails
        let store = NoteStore(vault: vault)
        let links = LinkResolver(vault: vault)
        var (privateNotes, deletedNotes) = (0, 0)
        let kept = files.filter { file in
            guard file.inVault else { return true }
            let seenByWatcher = file.attribution == .watched || file.attribution == .during
            if seenByWatcher && file.change == .deleted && file.path.lowercased().hasSuffix(".md") {
                deletedNotes += 1
                return false
            }
            if Privacy.reason(ofNoteAt: file.path, store: store, guardrails: guardrails, links: links) != nil {
                privateNotes += 1
                return false
            }
            return true
        }
        return (kept, privateNotes, deletedNotes)
    }

    /// The agent's own report turned into vault paths where they point into the vault (an agent
    /// whose `project:` is the vault's folder, or that names absolute paths).
    static func reported(_ files: [TouchedFile], vault: Vault, workingDirectory: String?) -> [TouchedFile] {
        files.map { file in
            var file = file
            let absolute = file.path.hasPrefix("/") ? file.path : (workingDirectory.map { $0 + "/" + file.path } ?? file.path)
            let root = vault.root.hasSuffix("/") ? vault.root : vault.root + "/"
            if absolute.hasPrefix(root) {
                file.path = String(absolute.dropFirst(root.count))
                file.inVault = true
            }
            return file
        }
    }
}

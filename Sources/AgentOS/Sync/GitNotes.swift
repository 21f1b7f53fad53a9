import Foundation

/// With `sync: git`, the notes the OS wrote travel through the remote too: each round of the lease
/// thread commits them (only them, by explicit path, and only while they still hold exactly the
/// bytes the OS wrote), merges what the other machines pushed, and pushes (docs/sync.md).
///
/// Merging, not rebasing: `git merge` refuses to start when a change a person has not committed is
/// in a file the merge would touch, and leaves every other uncommitted change alone, so nothing of a
/// person's is stashed, rewritten or committed. Telemetry day notes and daily notes, which every
/// machine appends to, are merged line by line (`unionMerge`) when git reports a conflict in them;
/// a conflict in any other note stops the merge (`git merge --abort`) and is left to a person.
struct GitNotes {
    /// The git plumbing (environment, identity, the one-at-a-time lock).
    let git: GitClaims
    /// Called (in tests) in `commitExactly` after the commit is made, before the index takes it.
    var afterCommitTree: (() -> Void)? = nil

    /// Notes every machine appends to: a day's telemetry note and daily note (public or private).
    static func isAppendOnly(_ path: String) -> Bool { Vault.Layout.isDayNote(path) }

    /// What one round did, for the log.
    struct Round {
        /// Notes committed.
        var committed = 0
        /// Whether the branch was pushed.
        var pushed = false
        /// Why the round stopped early (one line), if it did.
        var problem: String?
        /// Whether the paths it was given are committed (or had nothing to commit); when not, they
        /// are handed to the next round.
        var pathsSettled = true
    }

    /// Keeps `.agentos/` (each machine's own databases, locks and journals) out of git for this
    /// clone, whatever the vault's `.gitignore` says.
    func excludeState() { GitNotes.excludeState(vaultRoot: git.vault.root) }

    /// `excludeState` for the vault at `vaultRoot` when it is the top of a git work tree (its own
    /// `.git` folder): also without `sync: git`, a person's `git add -A` took the live databases
    /// (attack123 F7: once it failed, "confused by unstable object source data"). Nothing is done
    /// for a vault without its own `.git` folder.
    static func excludeState(vaultRoot: String) {
        guard ((try? FileSystem.status(vaultRoot + "/.git")) ?? nil)?.kind == .directory else { return }
        let exclude = vaultRoot + "/.git/info/exclude"
        let text = (try? String(contentsOfFile: exclude, encoding: .utf8)) ?? ""
        guard !text.split(separator: "\n").contains(where: { $0 == "/.agentos/" }) else { return }
        try? FileManager.default.createDirectory(atPath: vaultRoot + "/.git/info", withIntermediateDirectories: true)
        // Not Foundation's atomic write: it leaves an empty `TemporaryDirectory.*` folder in /tmp each time.
        try? FileSystem.replaceDurably(exclude, bytes: Array((text + (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "/.agentos/\n").utf8))
    }

    /// Whether git tracks the note at `path` of the vault at `root`: a person's git may then delete
    /// it and write it again (`restore`, `checkout`, `stash`, `reset`). Git is asked (`ls-files`)
    /// only when the vault's folder, or one above it, holds `.git` (a folder, or the file of a
    /// worktree or submodule); a repository that ignores the vault, or has not taken the note,
    /// cannot put it back (round 126: a dotfiles repository in the home folder made an editor's old
    /// copy look like git's work). When git cannot say — not on the watcher's `PATH`, failing, or
    /// slower than `answerWithin` seconds (it runs on the engine's queue: a hung git held every
    /// task for its whole timeout, round 127) — the `.git` found decides: tracked, so that the note
    /// is left as git may have put it and the person's `stash pop` is not blocked.
    static let answerWithin = 2.0

    static func tracks(_ path: String, vaultRoot root: String, environment inherited: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        var folder = root
        var found = false
        while !folder.isEmpty, !found {
            found = ((try? FileSystem.status(folder + "/.git")) ?? nil) != nil
            guard let slash = folder.lastIndex(of: "/") else { break }
            folder = String(folder[..<slash])
        }
        guard found else { return false }
        // Git's own words, whatever the person's language (the answer is read below).
        // Nor a repository the environment names: `GIT_DIR` (which a git hook sets) overrides
        // `-C`, and a committed task was "not tracked" by another repository (round 128).
        var environment = inherited.filter { !$0.key.hasPrefix("GIT_") }
        environment["LC_ALL"] = "C"
        environment["LANGUAGE"] = nil
        var options = Spawn.Options(executable: "git", arguments: ["-C", root, "ls-files", "--error-unmatch", "--", path], environment: environment,
                                    input: .none, timeout: answerWithin)
        options.terminationGrace = 0.2
        guard let result = try? Spawn.run(options), !result.timedOut, let code = result.exitCode else { return true }
        // 1: git answered that it does not track the path; anything else is git failing.
        if code == 1, String(decoding: result.stderrTail, as: UTF8.self).contains("did not match any file") { return false }
        return true
    }

    /// Commits `notes` (the OS's own notes, each with exactly the bytes a round read and found to be
    /// the OS's: `commitExactly`), merges the remote's branch and pushes; a refused push is merged
    /// again and retried, three times, waiting a little longer each time.
    func round(notes: [String: [UInt8]], remote: String, log: (EngineEvent) -> Void) -> Round {
        GitClaims.oneAtATime.withLock { _ in
            var round = Round()
            guard case .success(let branch) = git.git(["symbolic-ref", "--quiet", "--short", "HEAD"]) else {
                // Handed to the next round: written while a person looks at an old commit, they
                // are committed once a branch is checked out again (round 62: they stayed
                // untracked for good, and the other machines never got the run's result).
                round.problem = "the vault's git work tree is not on a branch (a detached HEAD): the OS's notes wait, uncommitted, until a branch is checked out again"
                round.pathsSettled = false
                return round
            }
            // A merge under way (a person's pull that conflicted, or the OS's own, left by a watcher
            // that was stopped in it): nothing is staged or committed meanwhile — git makes no
            // partial commit then, and staging a conflicted note marks it resolved with its
            // markers in it (round 62: a person then committed them to every machine).
            var notes = notes
            if let problem = settleMergeUnderWay(log: log, merged: { day in
                // A day note the OS merged line by line just now: what it holds now is the OS's.
                if notes[day] != nil, let bytes = FileManager.default.contents(atPath: git.vault.root + "/" + day) { notes[day] = Array(bytes) }
            }) {
                round.problem = problem
                round.pathsSettled = false
                return round
            }
            var paths = notes.keys.sorted()
            if !paths.isEmpty, let out = git.gitPaths(["check-ignore", "-z", "--stdin"], input: Array(paths.joined(separator: "\0").utf8) + [0], exiting: [0, 1]) {
                // Notes the person's `.gitignore` keeps out of git stay out (exit 1: none is ignored).
                // Read unquoted (`-z`): git quotes a name that is not ASCII, and a `Café` result
                // under an ignored `Results/` then failed every `add` for good (round 62).
                let ignored = Set(out)
                paths.removeAll { ignored.contains($0) }
            }
            if !paths.isEmpty {
                // A person's git command holding the index lock for a moment fails these: the paths
                // then go to the next round, never dropped.
                switch commitExactly(paths.map { ($0, notes[$0] ?? []) }) {
                case .committed: round.committed = paths.count
                case .nothingToCommit: break
                case .failed(let why):
                    round.problem = "cannot commit the OS's notes: \(GitNotes.explained(why))"
                    round.pathsSettled = false
                    return round
                }
            }
            for attempt in 0..<4 {
                if attempt > 0 { usleep(UInt32(200_000 * attempt)) }
                let fetch = git.gitStatus(["fetch", "--quiet", "--no-tags", remote, "+refs/heads/\(branch):refs/remotes/\(remote)/\(branch)"])
                let upstream = "refs/remotes/\(remote)/\(branch)"
                let remoteHasBranch = fetch.code == 0
                if remoteHasBranch, let problem = merge(upstream, log: log) {
                    round.problem = problem
                    return round
                }
                if remoteHasBranch, case .success(let ahead) = git.git(["rev-list", "--count", upstream + "..HEAD"]), ahead == "0" {
                    return round
                }
                let push = git.gitStatus(["push", "--quiet", remote, "HEAD:refs/heads/" + branch])
                if push.code == 0 {
                    round.pushed = true
                    return round
                }
                round.problem = "push refused: \(push.error)"
            }
            return round
        }
    }

    /// What `commitExactly` came to.
    enum ExactCommit: Equatable {
        case committed
        /// The branch already holds these bytes at these paths.
        case nothingToCommit
        case failed(String)
    }

    /// Commits `notes` — exactly these bytes at these paths, whatever the files hold by now — and
    /// nothing else a person staged or changed. `git add` and `git commit -- paths` read the files
    /// again when they run: a person's save in place between the round's read and git's (a few git
    /// processes later) was committed and pushed under the OS's name, a task just made private
    /// with its secret too (round 136: 5 of 6 result notes, 3 of 4 task notes). So the bytes are
    /// written as blobs (`hash-object -w`, with the clean filters `git add` would apply when the
    /// repository has any for the path), set in a temporary index made from `HEAD`, and committed
    /// from its tree (`commit-tree`); the real index takes the same entries, then the branch moves
    /// to the commit only if it has not moved meanwhile (`update-ref` with the old value). A file
    /// changed since the read is left as it is: its change shows as the person's, uncommitted.
    func commitExactly(_ notes: [(path: String, bytes: [UInt8])]) -> ExactCommit {
        guard case .success(let gitDirectory) = git.git(["rev-parse", "--absolute-git-dir"]) else { return .failed("git cannot find the repository") }
        let work = gitDirectory + "/fbt-commit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard (try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false)) != nil else { return .failed("cannot make \(work)") }
        defer { try? FileManager.default.removeItem(atPath: work) }

        // The blobs. A path with a filter, text or eol attribute, or any path when `core.autocrlf`
        // converts, is hashed as `git add` would (`--path`, one process each); the rest at once.
        let converts = ["true", "input"].contains((try? git.git(["config", "--get", "core.autocrlf"]).get())?.lowercased() ?? "")
        var filtered = Set<String>()
        if converts {
            filtered = Set(notes.map(\.path))
        } else if let out = git.gitBytes(["check-attr", "-z", "--stdin", "filter", "text", "eol", "crlf", "ident", "working-tree-encoding"],
                                         input: Array(notes.map(\.path).joined(separator: "\0").utf8) + [0]) {
            // `path NUL attribute NUL value NUL`, read as bytes (a name may begin with a space).
            let fields = out.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            var at = 0
            while at + 2 < fields.count {
                if fields[at + 2] != "unspecified" { filtered.insert(fields[at]) }
                at += 3
            }
        } else {
            filtered = Set(notes.map(\.path))
        }
        var blobs: [String: String] = [:]
        let plain = notes.filter { !filtered.contains($0.path) }
        if !plain.isEmpty {
            var files: [String] = []
            for (i, note) in plain.enumerated() {
                let file = work + "/\(i)"
                guard FileManager.default.createFile(atPath: file, contents: Data(note.bytes)) else { return .failed("cannot write \(file)") }
                files.append(file)
            }
            switch git.git(["hash-object", "-w", "--no-filters", "--stdin-paths"], input: Array((files.joined(separator: "\n") + "\n").utf8)) {
            case .success(let out):
                let ids = out.split(separator: "\n").map(String.init)
                guard ids.count == plain.count else { return .failed("git hash-object answered \(ids.count) ids for \(plain.count) notes") }
                for (note, id) in zip(plain, ids) { blobs[note.path] = id }
            case .failure(let why): return .failed(why.text)
            }
        }
        for note in notes where filtered.contains(note.path) {
            switch git.git(["hash-object", "-w", "--stdin", "--path=" + note.path], input: note.bytes) {
            case .success(let id): blobs[note.path] = id
            case .failure(let why): return .failed(why.text)
            }
        }
        // Each path keeps its executable mode in the index (a note made executable stays so).
        // (A file's modes only: the note is a file; a symlink's mode would make its bytes a link.)
        let staged = stagedEntries(notes.map(\.path))
        var modes: [String: String] = [:]
        for (path, entry) in staged where entry.hasPrefix("100755 ") { modes[path] = "100755" }
        // `--index-info` names paths from the top of the work tree, which may hold the vault in a
        // folder of its own (the others here are read from the vault's folder).
        let prefix = vaultFolder()
        func entries(_ paths: [String]) -> [UInt8] {
            Array((paths.map { "\(modes[$0] ?? "100644") \(blobs[$0] ?? "")\t\(prefix)\($0)" }.joined(separator: "\0") + "\0").utf8)
        }
        // The real index takes the OS's entries only where nothing is staged (it holds what the
        // old `HEAD` holds): a person's `git add` of the note stays staged (round 137: it was put
        // back to the OS's bytes, 6 of 6, and their next commit took nothing of it; round 138: a
        // check against the index as the round began missed an add made before that).
        func notStaged(since head: String?) -> [String] {
            let paths = notes.map(\.path)
            var committed: [String: String] = [:]
            if let head, case .success(let out) = git.git(["ls-tree", "-z", head, "--"] + paths) {
                for entry in out.split(separator: "\0") {
                    let fields = entry.split(separator: "\t", maxSplits: 1)
                    let parts = fields.first?.split(separator: " ") ?? []
                    guard fields.count == 2, parts.count == 3 else { continue }
                    committed[String(fields[1])] = parts[0] + " " + parts[2]
                }
            }
            let index = stagedEntries(paths).mapValues { $0.split(separator: " ").prefix(2).joined(separator: " ") }
            return paths.filter { index[$0] == committed[$0] }
        }
        let head = try? git.git(["rev-parse", "--verify", "--quiet", "HEAD"]).get()
        let index = ["GIT_INDEX_FILE": work + "/index"]
        if case .failure(let why) = git.git(head == nil ? ["read-tree", "--empty"] : ["read-tree", "HEAD"], also: index) { return .failed(why.text) }
        if case .failure(let why) = git.git(["update-index", "-z", "--index-info"], input: entries(notes.map(\.path)), also: index) { return .failed(why.text) }
        let tree: String
        switch git.git(["write-tree"], also: index) {
        case .success(let out): tree = out
        case .failure(let why): return .failed(why.text)
        }
        if let head, case .success(let headTree) = git.git(["rev-parse", head + "^{tree}"]), headTree == tree {
            // Committed already (by an earlier round or a person): the index is left as it is.
            return .nothingToCommit
        }
        let message = "fuckbigtech on \(git.machine): \(notes.count) note\(notes.count == 1 ? "" : "s")"
        let commit: String
        switch git.git(["commit-tree", tree] + (head.map { ["-p", $0] } ?? []) + ["-m", message]) {
        case .success(let out): commit = out
        case .failure(let why): return .failed(why.text)
        }
        // The index first: a branch moved while the index still held the old copies would show
        // them staged, and a person's next commit would undo the OS's.
        afterCommitTree?()
        let keep = notStaged(since: head)
        if !keep.isEmpty, case .failure(let why) = git.git(["update-index", "-z", "--index-info"], input: entries(keep)) { return .failed(why.text) }
        let moved = git.git(["update-ref", "-m", message, "HEAD", commit, head ?? ""])
        if case .failure(let why) = moved {
            // The branch moved meanwhile (a person's commit): the index goes back to it for these
            // paths, and the notes go to the next round.
            _ = git.gitStatus(["reset", "--quiet", "--"] + keep)
            return .failed(why.text)
        }
        return .committed
    }

    /// The index's entries (`mode blob stage`) for `paths`, by vault path; a path not in the index is absent.
    private func stagedEntries(_ paths: [String]) -> [String: String] {
        guard !paths.isEmpty, case .success(let out) = git.git(["ls-files", "-s", "-z", "--"] + paths) else { return [:] }
        var found: [String: String] = [:]
        for entry in out.split(separator: "\0") {
            guard let tab = entry.firstIndex(of: "\t") else { continue }
            found[String(entry[entry.index(after: tab)...])] = String(entry[..<tab])
        }
        return found
    }

    /// Merges `upstream` into the branch; `nil` when the branch now contains it, else why not.
    private func merge(_ upstream: String, log: (EngineEvent) -> Void) -> String? {
        // While it goes on, markers git writes into a note are the OS's own, gone when it is
        // concluded or undone: no conflict note is written for them (`SyncConflict.surfaceMarkers`;
        // round 136: an undone merge left a note saying a task held markers it no longer held).
        GitNotes.merging.withLock { _ = $0.insert(git.vault.root) }
        defer { GitNotes.merging.withLock { _ = $0.remove(git.vault.root) } }
        var removed: [(path: String, bytes: Data)] = []
        let problem = attemptMerge(upstream, removed: &removed, log: log)
        // Not merged: an untracked note removed for it (its bytes were the merge's) is written
        // back, or it was gone for good (round 139: the merge was undone over another note).
        if problem != nil {
            for (path, bytes) in removed {
                guard let absolute = try? git.vault.resolve(path), TaskEngine.isGone(absolute) else { continue }
                _ = FileManager.default.createFile(atPath: absolute, contents: bytes)
            }
        }
        return problem
    }

    /// `merge`, telling which untracked notes it removed (`clearIdenticalUntracked`).
    private func attemptMerge(_ upstream: String, removed: inout [(path: String, bytes: Data)], log: (EngineEvent) -> Void) -> String? {
        // Its own message says the merge is the OS's: a watcher stopped in it (kill -9, a crash)
        // knows it at its next start by git's MERGE_MSG, which only this merge wrote (a mark file
        // of the OS's own outlived it and took a person's later merge for one: round 63).
        let message = GitNotes.ownMergePrefix + git.machine + ": merge " + upstream
        var merge = git.gitStatus(["merge", "--quiet", "--no-edit", "--no-verify", "-m", message, upstream])
        if merge.code != 0 {
            removed = clearIdenticalUntracked(upstream: upstream, log: log)
            if !removed.isEmpty { merge = git.gitStatus(["merge", "--quiet", "--no-edit", "--no-verify", "-m", message, upstream]) }
        }
        if merge.code == 0 { return nil }
        let found = conflictedPaths()
        let conflicted = found.inVault
        if conflicted.isEmpty && found.elsewhere.isEmpty {
            // Refused before it began (a person's uncommitted change in a file it would touch, or a
            // staged change): nothing was changed.
            if GitNotes.explained(merge.error) != merge.error { return "cannot merge \(upstream): \(GitNotes.explained(merge.error))" }
            return "cannot merge \(upstream): \(merge.error); commit or undo the change git names (a person's uncommitted change, or anything staged) and the OS merges at its next round"
        }
        let others = conflicted.filter { !GitNotes.isAppendOnly($0) } + found.elsewhere
        if !others.isEmpty {
            abortMerge()
            return "merging \(upstream) conflicts in \(others.joined(separator: ", ")), which the OS does not merge; merge by hand (the OS pushes again after)"
        }
        if let problem = mergeLineByLine(conflicted) {
            abortMerge()
            return problem
        }
        let add = git.gitStatus(["add", "--"] + conflicted)
        let commit = git.gitStatus(["commit", "--quiet", "--no-edit", "--no-verify"])
        if add.code != 0 || commit.code != 0 {
            abortMerge()
            return "cannot finish the merge: \(add.code != 0 ? add.error : commit.error)"
        }
        log(EngineEvent(level: .info, message: "git: merged \(conflicted.joined(separator: ", ")) line by line (every machine appends to them)"))
        return nil
    }

    /// Writes each conflicted day note as the union of both sides and what it holds now (without
    /// markers); `nil` when all are written, else why not.
    private func mergeLineByLine(_ conflicted: [String]) -> String? {
        let store = NoteStore(vault: git.vault)
        for path in conflicted {
            let ours = (try? git.git(["show", ":2:./" + path]).get()) ?? ""
            let theirs = (try? git.git(["show", ":3:./" + path]).get()) ?? ""
            do {
                // Through the one write path: a line the telemetry batch appends meanwhile is kept.
                try store.update(path) { snapshot in
                    let now = snapshot.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
                    var merged = GitNotes.unionMerge(GitNotes.unionMerge(ours, theirs), GitNotes.withoutMarkers(now))
                    if path.contains(Vault.Layout.telemetry + "/") { merged = TelemetryTotals.refresh(GitNotes.oneTotalsLine(merged)) }
                    return .write(Array((merged.hasSuffix("\n") ? merged : merged + "\n").utf8))
                }
            } catch {
                return "cannot merge \(path): \(error)"
            }
        }
        return nil
    }

    /// The notes git reports in conflict: those in the vault, by their vault paths, and those
    /// elsewhere in the work tree (a vault in a folder of its repository), by their paths from its
    /// top. Read from the top, a person's `Daily/…` beside the vault was taken for the vault's day
    /// note and merged into it — a line the person threw away went out in the OS's commit — and the
    /// vault's own `vault/Daily/…` was no day note, so two machines stopped merging (round 138).
    /// (Read from the index's unmerged entries, `ls-files -u`, which no `diff.relative` setting of
    /// the person's changes — with it, `git diff` named every conflict from the vault's folder, one
    /// beside the vault was missed, and the OS concluded its merge with a person's staged file in
    /// it: round 139 — and as bytes: a folder's name may begin with a space.)
    private func conflictedPaths() -> (inVault: [String], elsewhere: [String]) {
        func unmerged(_ arguments: [String]) -> [String] {
            var seen = Set<String>()
            return (git.gitPaths(["ls-files", "-u", "-z"] + arguments) ?? []).compactMap { entry in
                guard let tab = entry.firstIndex(of: "\t") else { return nil }
                let path = String(entry[entry.index(after: tab)...])
                return seen.insert(path).inserted ? path : nil
            }
        }
        let inVault = unmerged([])
        let prefix = vaultFolder()
        return (inVault, prefix.isEmpty ? [] : unmerged(["--full-name", "--", ":/"]).filter { !$0.hasPrefix(prefix) })
    }

    /// The vault's folder in the work tree, ending in `/` (`""` at its top). Read as bytes: a
    /// folder's name may begin with a space, which trimming would take.
    private func vaultFolder() -> String {
        var bytes = git.gitBytes(["rev-parse", "--show-prefix"]) ?? []
        if bytes.last == 0x0A { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The vaults (roots) whose OS's own merge is under way in this process.
    static let merging = Locked<Set<String>>([])

    /// Whether this process's own merge is under way in the vault at `root`.
    static func isMerging(_ root: String) -> Bool { merging.withLock { $0.contains(root) } }

    /// How the OS's own merge commits begin (`fuckbigtech on <machine>: merge …`).
    static let ownMergePrefix = "fuckbigtech on "

    /// What a round finds under way when it starts: conflicts a person's git left (a pull or
    /// merge, a cherry-pick, a revert, a stash pop), or the OS's own merge left by a watcher
    /// stopped in it. `nil` when the round may go on, else why it waits. Day notes in conflict are
    /// merged line by line, as the OS merges its own, and staged (never with their markers). The
    /// OS's own merge is then concluded (or undone, when another note conflicts); a person's
    /// operation is never concluded nor undone for them — the line says what to run — and nothing of
    /// the OS's is staged or committed around it (git makes no partial commit then, and staging a
    /// conflicted note marks it resolved with its markers in it: rounds 62 and 63).
    /// `merged` is told each day note merged line by line.
    private func settleMergeUnderWay(log: (EngineEvent) -> Void, merged: (String) -> Void) -> String? {
        let operations = [("MERGE_HEAD", "merge", "git commit", "git merge --abort"),
                          ("CHERRY_PICK_HEAD", "cherry-pick", "git cherry-pick --continue", "git cherry-pick --abort"),
                          ("REVERT_HEAD", "revert", "git revert --continue", "git revert --abort")]
        let underWay = operations.first { git.gitStatus(["rev-parse", "--quiet", "--verify", $0.0]).code == 0 }
        let found = conflictedPaths()
        guard underWay != nil || !found.inVault.isEmpty || !found.elsewhere.isEmpty else { return nil }
        let days = found.inVault.filter(GitNotes.isAppendOnly)
        let others = found.inVault.filter { !GitNotes.isAppendOnly($0) } + found.elsewhere
        let gitDirectory = (try? git.git(["rev-parse", "--absolute-git-dir"]).get()) ?? (git.vault.root + "/.git")
        let ownMerge = underWay?.0 == "MERGE_HEAD"
            && ((try? String(contentsOfFile: gitDirectory + "/MERGE_MSG", encoding: .utf8))?.hasPrefix(GitNotes.ownMergePrefix + git.machine + ":") ?? false)
        if ownMerge && !others.isEmpty {
            abortMerge()
            log(EngineEvent(level: .info, message: "git: undid the merge a stopped watcher had left under way; merging again"))
            return nil
        }
        if !days.isEmpty {
            if let problem = mergeLineByLine(days) { return problem }
            days.forEach(merged)
            let add = git.gitStatus(["add", "--"] + days)
            if add.code != 0 { return "cannot stage the day notes it merged line by line: \(GitNotes.explained(add.error))" }
        }
        let mergedDays = days.isEmpty ? "" : " (the OS merged \(days.joined(separator: ", ")) line by line)"
        if ownMerge {
            let commit = git.gitStatus(["commit", "--quiet", "--no-edit", "--no-verify"])
            if commit.code != 0 { return "cannot conclude the merge a stopped watcher left under way\(mergedDays): \(GitNotes.explained(commit.error))" }
            log(EngineEvent(level: .info, message: "git: concluded the merge a stopped watcher had left under way\(mergedDays)"))
            return nil
        }
        if let (_, name, go, undo) = underWay {
            let conflicts = others.isEmpty ? "its conflicts resolved" : "conflicts in \(others.joined(separator: ", "))"
            return "a \(name) is under way with \(conflicts)\(mergedDays): \(others.isEmpty ? "" : "resolve them and ")run `\(go)`, or `\(undo)`; the OS commits and pushes its notes after"
        }
        if !others.isEmpty {
            return "git left conflicts in \(others.joined(separator: ", "))\(mergedDays) (a stash pop?): resolve them and `git add` them; the OS commits and pushes its notes after"
        }
        if !days.isEmpty { log(EngineEvent(level: .info, message: "git: conflicts a person's git left in \(days.joined(separator: ", ")) merged line by line")) }
        return nil
    }

    /// A git error line with what a person can do about it when git's own line does not say.
    static func explained(_ error: String) -> String {
        guard error.contains("index.lock") || error.contains("remove the file manually") else { return error }
        return error + " (.git/index.lock: another git command is running, or one that stopped left the file; remove it if none runs)"
    }

    /// Undoes the merge this round began. A person's git command holding the index lock at that
    /// moment makes `merge --abort` fail, and a merge left begun would hold every later round back
    /// (git makes no partial commit during a merge): it is tried again for up to about two seconds.
    private func abortMerge() {
        for attempt in 0..<20 {
            if attempt > 0 { usleep(100_000) }
            if git.gitStatus(["merge", "--abort"]).code == 0 { return }
            // Nothing to undo any more (no merge is under way).
            if git.gitStatus(["rev-parse", "--quiet", "--verify", "MERGE_HEAD"]).code != 0 { return }
        }
    }

    /// A merge git refuses because untracked files are in the way ("untracked working tree files
    /// would be overwritten by merge"): each untracked file `upstream` adds whose bytes are exactly
    /// those `upstream` brings is removed (the merge writes it back), so two machines never stop
    /// merging for good over copies of the same note (an aborted merge can leave the files it had
    /// written). A file that differs in any byte is left alone, and the merge stays refused.
    /// The notes removed, with their bytes (`merge` writes them back when it does not merge).
    private func clearIdenticalUntracked(upstream: String, log: (EngineEvent) -> Void) -> [(path: String, bytes: Data)] {
        guard let untrackedList = git.gitPaths(["ls-files", "--others", "--exclude-standard", "-z"]),
              let addedList = git.gitPaths(["diff", "--name-only", "--relative", "--no-renames", "-z", "--diff-filter=A", "HEAD", upstream]) else { return [] }
        let untracked = Set(untrackedList)
        var removed: [(path: String, bytes: Data)] = []
        for path in addedList where untracked.contains(path) {
            // Compared byte for byte (git's answer untrimmed).
            guard let theirs = git.gitBytes(["show", upstream + ":./" + path]),
                  let absolute = try? git.vault.resolve(path),
                  let ours = FileManager.default.contents(atPath: absolute), ours == Data(theirs) else { continue }
            if (try? FileSystem.remove(absolute)) != nil { removed.append((path, ours)) }
        }
        if !removed.isEmpty {
            log(EngineEvent(level: .info, message: "git: \(removed.count) untracked note(s) identical to those of \(upstream) were in the merge's way; merging again"))
        }
        return removed
    }

    /// `base` with every line of `other` it lacks, each put after the line it follows in `other` and
    /// after `base`'s own lines there (or at the end): the union of two appends to one note, in
    /// order, each line once.
    static func unionMerge(_ base: String, _ other: String) -> String {
        var lines = base.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var present = Set(lines)
        let otherLines = other.components(separatedBy: "\n")
        let inOther = Set(otherLines)
        var at = 0
        for line in otherLines where !(line.isEmpty && at >= lines.count) {
            if present.contains(line) {
                if let found = lines[at...].firstIndex(of: line) ?? lines.firstIndex(of: line) { at = found + 1 }
                continue
            }
            // Past what only `base` appended here: its lines first, then the other machine's.
            while at < lines.count && !inOther.contains(lines[at]) { at += 1 }
            lines.insert(line, at: at)
            present.insert(line)
            at += 1
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` without git's conflict marker lines.
    static func withoutMarkers(_ text: String) -> String {
        text.components(separatedBy: "\n").filter { !SyncConflict.isMarkerLine($0) }.joined(separator: "\n")
    }

    /// `text` with only its first totals line (a union keeps both sides' totals; `refresh` then
    /// works the one left out again from the rows).
    static func oneTotalsLine(_ text: String) -> String {
        var seen = false
        return text.components(separatedBy: "\n").filter { line in
            guard line.hasSuffix(TelemetryTotals.marker) else { return true }
            defer { seen = true }
            return !seen
        }.joined(separator: "\n")
    }
}

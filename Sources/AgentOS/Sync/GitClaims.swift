import Foundation

/// Claims shared between machines through a git remote: the compare-and-swap is git's own refusal of
/// a push that is not a fast-forward.
///
/// A claim is a commit with an empty tree whose message names the machine, the run, the task and the
/// attempt, pushed to `refs/fbt-claims/<task key>-<attempt>` on the remote. Creating a ref that does
/// not exist succeeds for exactly one pusher; every other push of a different commit to it is
/// rejected, so its machine has lost and leaves the task. Nothing in the vault's working tree, index
/// or branches is touched (a person's uncommitted edits stay as they are).
///
/// A claim ref is a chain of such commits, each a child of the last: a run's end (`state: finished`),
/// a restarted holder letting go (`state: released`) and another machine taking over a claim whose
/// lease expired (`state: claimed` by the rescuer) are pushed as fast-forwards of the commit they
/// saw, so of two machines moving one claim only the first push lands (see `GitLeases`).
///
/// Turned on by a `Rules/Sync.md` note (`type: sync`, `sync: git`, optional `remote:`, default
/// `origin`, optional `lease:`).
public struct GitClaims: Sendable {
    /// The vault (a git work tree).
    public let vault: Vault
    /// The remote claims are pushed to.
    public let remote: String
    /// This machine's name (written into each claim).
    public let machine: String
    /// The environment git runs with (PATH and HOME from ours, a fixed identity for claim commits).
    let environment: [String: String]

    /// What a claim came to.
    public enum Outcome: Sendable, Equatable {
        /// This machine holds the claim.
        case won
        /// Another machine does: its claim message, one line.
        case lost(String)
        /// The remote could not be asked (no git, no remote, no network): the task is not run.
        case failed(String)
    }

    /// Claims for `vault` pushed to `remote` as `machine`.
    public init(vault: Vault, remote: String, machine: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.vault = vault
        self.remote = remote
        self.machine = machine
        var env = Spawn.environment(allowing: ["PATH", "HOME", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "LANG"], from: environment)
        if env["PATH"] == nil { env["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        for role in ["AUTHOR", "COMMITTER"] {
            env["GIT_\(role)_NAME"] = "fuckbigtech on \(machine)"
            env["GIT_\(role)_EMAIL"] = "fuckbigtech@\(machine)"
        }
        self.environment = env
    }

    /// This watcher process's session: written into its claims and its lease, so that another machine
    /// tells a claim of a machine that restarted (a new session) from one it still runs.
    public static let session: String = {
        var bytes = [UInt8](repeating: 0, count: 6)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }()

    /// Where each machine's lease lives on the remote: `refs/fbt-leases/<machine>`, a commit its
    /// watcher replaces every third of the lease while it runs.
    public static let leasePrefix = "refs/fbt-leases/"
    /// Where the claims live on the remote.
    public static let claimPrefix = "refs/fbt-claims/"

    /// The ref a task's attempt is claimed under (the same on every machine).
    public static func ref(taskPath: String, attempt: Int) -> String {
        "refs/fbt-claims/" + ContentHash(of: Array(taskPath.utf8)).hex + "-\(attempt)"
    }

    /// One claim at a time in this process: two git commands updating the same repository's refs at
    /// once can trip over git's lock files and fail a claim for nothing.
    static let oneAtATime = Locked(())

    /// Claims attempt `attempt` of the task at `taskPath` for run `runID`.
    public func claim(taskPath: String, attempt: Int, runID: String) -> Outcome {
        claimHeld(taskPath: taskPath, attempt: attempt, runID: runID).0
    }

    /// `claim`, and the claim as the remote holds it: when won, this run's (its commit, for later
    /// moves); when lost, the holder's.
    func claimHeld(taskPath: String, attempt: Int, runID: String) -> (Outcome, GitClaim?) {
        GitClaims.oneAtATime.withLock { _ in claimNow(taskPath: taskPath, attempt: attempt, runID: runID) }
    }

    private func claimNow(taskPath: String, attempt: Int, runID: String) -> (Outcome, GitClaim?) {
        let ref = GitClaims.ref(taskPath: taskPath, attempt: attempt)
        var mine = GitClaim(ref: ref, commit: "", machine: machine, runID: runID, session: GitClaims.session, task: taskPath, attempt: attempt, state: .claimed)
        switch makeCommit(mine.message, parent: nil) {
        case .success(let out): mine.commit = out
        case .failure(let why): return (.failed(why.text), nil)
        }
        if case .success = git(["push", "--quiet", remote, mine.commit + ":" + ref]) { return (.won, mine) }
        // Rejected (another machine's claim is there) or unreachable: read what the remote holds.
        switch git(["fetch", "--quiet", "--no-tags", remote, "+" + ref + ":" + ref]) {
        case .failure(let why): return (.failed("push refused and the claim cannot be read: \(why.text)"), nil)
        case .success: break
        }
        switch git(["log", "-1", "--format=%H%n%B", ref]) {
        case .success(let out):
            let lines = out.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            guard let held = GitClaim.parse(ref: ref, commit: String(lines[0]), message: lines.count > 1 ? String(lines[1]) : "") else {
                return (.lost("claimed by another machine through git"), nil)
            }
            if held.machine == machine && held.runID == runID { return (.won, held) }
            return (.lost("claimed by \(held.machine) (run \(held.runID)) through git"), held)
        case .failure(let why): return (.failed(why.text), nil)
        }
    }

    /// A commit with the empty tree, `message` and `parent` (written to the repository's objects).
    func makeCommit(_ message: String, parent: String?) -> Result<String, GitFailure> {
        // The empty tree is written once per vault and process (one process less per claim).
        let known = GitClaims.emptyTrees.withLock { $0[vault.root] }
        let tree: String
        if let known {
            tree = known
        } else {
            switch git(["hash-object", "-t", "tree", "-w", "--stdin"], input: []) {
            case .success(let out): tree = out
            case .failure(let why): return .failure(why)
            }
            GitClaims.emptyTrees.withLock { $0[vault.root] = tree }
        }
        return git(["commit-tree", tree] + (parent.map { ["-p", $0] } ?? []) + ["-m", message])
    }

    /// The empty tree's id per vault, once written.
    private static let emptyTrees = Locked([String: String]())

    /// Runs git in the vault (`also`: more environment), within `timeout` seconds.
    private func spawn(_ arguments: [String], input: [UInt8]?, also: [String: String] = [:], timeout: Double = 60) throws -> Spawn.Result {
        try Spawn.run(Spawn.Options(executable: "git", arguments: ["-C", vault.root] + arguments, environment: also.isEmpty ? environment : environment.merging(also) { $1 },
                                    input: input.map { .bytes($0) } ?? .none, timeout: timeout))
    }

    /// The last line of a run's stderr, after `git <command>: <termination>`.
    private static func failure(_ arguments: [String], _ result: Spawn.Result) -> String {
        let err = String(decoding: result.stderrTail, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        return "git \(arguments.first ?? ""): \(result.termination)" + (err.isEmpty ? "" : ": " + err)
    }

    /// Runs git in the vault; the trimmed stdout, or why it failed (one line).
    func git(_ arguments: [String], input: [UInt8]? = nil, also: [String: String] = [:]) -> Result<String, GitFailure> {
        do {
            let result = try spawn(arguments, input: input, also: also)
            guard result.exitCode == 0 else { return .failure(GitFailure(text: GitClaims.failure(arguments, result))) }
            return .success(String(decoding: result.stdout, as: UTF8.self).trimmingWhitespacesAndNewlines())
        } catch {
            return .failure(GitFailure(text: "git: \(error)"))
        }
    }

    /// Runs git in the vault; its stdout as bytes (not trimmed: a file's content), or `nil` when it failed.
    /// `exiting` lists the exit codes that are answers (`check-ignore` exits 1 when none is ignored).
    func gitBytes(_ arguments: [String], input: [UInt8]? = nil, exiting: Set<Int32> = [0]) -> [UInt8]? {
        guard let result = try? spawn(arguments, input: input), let code = result.exitCode, exiting.contains(code) else { return nil }
        return result.stdout
    }

    /// The paths git lists for `arguments` (`-z`: each ended by NUL), exactly as written (a name
    /// may begin or end with a space, which `git(_:)`'s trimming would take); `nil` when it failed.
    func gitPaths(_ arguments: [String], input: [UInt8]? = nil, exiting: Set<Int32> = [0]) -> [String]? {
        gitBytes(arguments, input: input, exiting: exiting).map { bytes in
            bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Runs git in the vault and returns its exit code (-1 when it did not exit), stdout, and its
    /// last line of stderr, whatever the code (for `push --porcelain`, whose refusals are on stdout).
    func gitStatus(_ arguments: [String]) -> (code: Int32, stdout: String, error: String) {
        guard let result = try? spawn(arguments, input: nil, timeout: 120) else { return (-1, "", "git could not be started") }
        return (result.exitCode ?? -1, String(decoding: result.stdout, as: UTF8.self), GitClaims.failure(arguments, result))
    }

    /// Why a git call failed, one line.
    public struct GitFailure: Error, CustomStringConvertible {
        /// The line.
        public let text: String
        /// The line.
        public var description: String { text }
    }
}

/// `Rules/Sync.md`: how machines sharing the vault agree on who runs a task.
public struct SyncSettings: Sendable, Equatable {
    /// `git`: claims through the remote (`GitClaims`). `files`: claim files carried by file sync
    /// (`FileClaims`). Anything else: no shared claims.
    public var mode: String
    /// The git remote (default `origin`).
    public var remote: String
    /// How long a claim outlives its machine's last lease renewal before another machine takes it
    /// over, in seconds (`lease: 10m`; default 10 minutes).
    public var lease: Double = SyncSettings.defaultLease

    /// With `sync: files`: how long a machine waits after writing its claim file before it reads
    /// every machine's claim file for the attempt and decides who runs it (`claim_wait: 10s`) — the
    /// time file sync needs to carry a file between machines.
    public var claimWait: Double = SyncSettings.defaultClaimWait

    /// The lease when `Rules/Sync.md` names none.
    public static let defaultLease: Double = 600
    /// The settle window when `Rules/Sync.md` names none.
    public static let defaultClaimWait: Double = 10

    /// Seconds from `90`, `90s`, `10m`, `2h`; `nil` for anything else.
    static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingWhitespaces().lowercased()
        let units: [(String, Double)] = [("h", 3600), ("m", 60), ("s", 1)]
        // At most a week: `claim_wait: 1e30` passed, and stopped every process that read it (an
        // outside attack); no claim is held that long.
        func within(_ seconds: Double) -> Double? { seconds > 0 && seconds <= longest ? seconds : nil }
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            return Double(trimmed.dropLast()).flatMap { within($0 * factor) }
        }
        return Double(trimmed).flatMap(within)
    }

    /// The longest `lease` or `claim_wait` a sync note may set: a week.
    static let longest = 7 * 86_400.0

    /// Reads a `type: sync` note.
    static func parse(_ note: Note, path: String) -> Result<SyncSettings, RuleProblem> {
        let mode = (note.text("sync") ?? "").lowercased()
        guard mode == "git" || mode == "files" || mode == "none" else {
            return .failure(RuleProblem(path: path, message: "sync: '\(note.text("sync") ?? "")' is not git, files or none; no shared claims are made"))
        }
        let remote = note.text("remote") ?? "origin"
        guard !remote.hasPrefix("-"), !remote.isEmpty else {
            return .failure(RuleProblem(path: path, message: "remote: '\(remote)' is not a remote name; no shared claims are made"))
        }
        var settings = SyncSettings(mode: mode, remote: remote)
        if let text = note.text("lease") ?? note["lease"]?.number.map({ String($0) }) {
            guard let seconds = seconds(text) else {
                return .failure(RuleProblem(path: path, message: "lease: '\(text)' is not a duration such as 90s, 10m or 1h; no shared claims are made"))
            }
            settings.lease = seconds
        }
        if let text = note.text("claim_wait") ?? note["claim_wait"]?.number.map({ String($0) }) {
            guard let seconds = seconds(text) else {
                return .failure(RuleProblem(path: path, message: "claim_wait: '\(text)' is not a duration such as 10s or 1m; no shared claims are made"))
            }
            settings.claimWait = seconds
        }
        // A claim file still settling must never look expired to another machine.
        if mode == "files" && settings.claimWait * 2 > settings.lease {
            return .failure(RuleProblem(path: path, message: "claim_wait: \(Int(bounded: settings.claimWait)) s is more than half the lease (\(Int(bounded: settings.lease)) s); no shared claims are made"))
        }
        return .success(settings)
    }
}

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
/// Turned on by a `Rules/Sync.md` note (`type: sync`, `sync: git`, optional `remote:`, default
/// `origin`). Not built: leases (a claim outlives a machine that died) and committing results.
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

    /// The ref a task's attempt is claimed under (the same on every machine).
    public static func ref(taskPath: String, attempt: Int) -> String {
        "refs/fbt-claims/" + ContentHash(of: Array(taskPath.utf8)).hex + "-\(attempt)"
    }

    /// One claim at a time in this process: two git commands updating the same repository's refs at
    /// once can trip over git's lock files and fail a claim for nothing.
    private static let oneAtATime = Locked(())

    /// Claims attempt `attempt` of the task at `taskPath` for run `runID`.
    public func claim(taskPath: String, attempt: Int, runID: String) -> Outcome {
        GitClaims.oneAtATime.withLock { _ in claimNow(taskPath: taskPath, attempt: attempt, runID: runID) }
    }

    private func claimNow(taskPath: String, attempt: Int, runID: String) -> Outcome {
        let ref = GitClaims.ref(taskPath: taskPath, attempt: attempt)
        let message = "claimed_by: \(machine)\nrun_id: \(runID)\ntask: \(taskPath)\nattempt: \(attempt)\n"
        let tree: String
        let commit: String
        switch git(["hash-object", "-t", "tree", "-w", "--stdin"], input: []) {
        case .success(let out): tree = out
        case .failure(let why): return .failed(why.text)
        }
        switch git(["commit-tree", tree, "-m", message]) {
        case .success(let out): commit = out
        case .failure(let why): return .failed(why.text)
        }
        if case .success = git(["push", "--quiet", remote, commit + ":" + ref]) { return .won }
        // Rejected (another machine's claim is there) or unreachable: read what the remote holds.
        switch git(["fetch", "--quiet", "--no-tags", remote, "+" + ref + ":" + ref]) {
        case .failure(let why): return .failed("push refused and the claim cannot be read: \(why.text)")
        case .success: break
        }
        switch git(["log", "-1", "--format=%B", ref]) {
        case .success(let body):
            let holder = body.split(separator: "\n").first { $0.hasPrefix("claimed_by: ") }.map { String($0.dropFirst(12)) } ?? "another machine"
            let run = body.split(separator: "\n").first { $0.hasPrefix("run_id: ") }.map { String($0.dropFirst(8)) } ?? "?"
            if holder == machine && run == runID { return .won }
            return .lost("claimed by \(holder) (run \(run)) through git")
        case .failure(let why): return .failed(why.text)
        }
    }

    /// Runs git in the vault; the trimmed stdout, or why it failed (one line).
    private func git(_ arguments: [String], input: [UInt8]? = nil) -> Result<String, GitFailure> {
        let options = Spawn.Options(executable: "git", arguments: ["-C", vault.root] + arguments, environment: environment,
                                    input: input.map { .bytes($0) } ?? .none, timeout: 60)
        do {
            let result = try Spawn.run(options)
            let out = String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard result.exitCode == 0 else {
                let err = String(decoding: result.stderrTail, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
                return .failure(GitFailure(text: "git \(arguments.first ?? ""): \(result.termination)" + (err.isEmpty ? "" : ": " + err)))
            }
            return .success(out)
        } catch {
            return .failure(GitFailure(text: "git: \(error)"))
        }
    }

    /// Why a git call failed, one line.
    struct GitFailure: Error, CustomStringConvertible {
        let text: String
        var description: String { text }
    }
}

/// `Rules/Sync.md`: how machines sharing the vault agree on who runs a task.
public struct SyncSettings: Sendable, Equatable {
    /// `git`: claims through the remote (`GitClaims`). Anything else: no shared claims.
    public var mode: String
    /// The git remote (default `origin`).
    public var remote: String

    /// Reads a `type: sync` note.
    static func parse(_ note: Note, path: String) -> Result<SyncSettings, RuleProblem> {
        let mode = (note.text("sync") ?? "").lowercased()
        guard mode == "git" || mode == "none" else {
            return .failure(RuleProblem(path: path, message: "sync: '\(note.text("sync") ?? "")' is not git or none; no shared claims are made"))
        }
        let remote = note.text("remote") ?? "origin"
        guard !remote.hasPrefix("-"), !remote.isEmpty else {
            return .failure(RuleProblem(path: path, message: "remote: '\(remote)' is not a remote name; no shared claims are made"))
        }
        return .success(SyncSettings(mode: mode, remote: remote))
    }
}

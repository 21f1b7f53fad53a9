import Foundation

/// One claim as the remote holds it: the commit at the tip of its `refs/fbt-claims/…` ref.
public struct GitClaim: Sendable, Equatable {
    /// What the claim says now.
    public enum State: String, Sendable {
        /// A run holds it (its machine's lease keeps it).
        case claimed
        /// The run ended (any outcome): nobody takes it over.
        case finished
        /// Its holder restarted and let it go (its own recovery decides about the task).
        case released
    }

    /// The ref (`refs/fbt-claims/<task key>-<attempt>`).
    public var ref: String
    /// The commit at its tip (what a move of the claim must be a child of).
    public var commit: String
    /// The machine that holds (or held) it.
    public var machine: String
    /// The run of that machine.
    public var runID: String
    /// The watcher session (`GitClaims.session`) that made the run.
    public var session: String
    /// The task's vault path.
    public var task: String
    /// The attempt claimed.
    public var attempt: Int
    /// What the claim says now.
    public var state: State
    /// For a claim taken over: whose claim it was (`machine (run ID)`).
    public var takenOverFrom: String?
    /// For a finished claim: the run's outcome (`done`, `failed`, `review`, …).
    public var outcome: String?

    /// The commit message that records it.
    var message: String {
        var text = "claimed_by: \(machine)\nrun_id: \(runID)\ntask: \(task)\nattempt: \(attempt)\nsession: \(session)\nstate: \(state.rawValue)\n"
        if let takenOverFrom { text += "taken_over_from: \(takenOverFrom)\n" }
        if let outcome { text += "outcome: \(outcome)\n" }
        return text
    }

    /// Reads a claim commit's message; `nil` when it is not one. A claim made before leases existed
    /// (no `state:`) counts as `claimed` with an unknown session.
    static func parse(ref: String, commit: String, message: String) -> GitClaim? {
        var fields: [String: String] = [:]
        for line in message.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingWhitespaces()
        }
        guard let machine = fields["claimed_by"], let task = fields["task"] else { return nil }
        return GitClaim(ref: ref, commit: commit, machine: machine, runID: fields["run_id"] ?? "?", session: fields["session"] ?? "",
                        task: task, attempt: fields["attempt"].flatMap { Int($0) } ?? 1,
                        state: fields["state"].flatMap(State.init(rawValue:)) ?? .claimed,
                        takenOverFrom: fields["taken_over_from"], outcome: fields["outcome"])
    }
}

/// A machine's lease as the remote holds it: `refs/fbt-leases/<machine>`.
public struct GitLease: Sendable, Equatable {
    /// The machine.
    public var machine: String
    /// The commit at its tip (a new one at every renewal).
    public var commit: String
    /// The watcher session that renews it.
    public var session: String
}

extension GitClaims {
    /// Moves `claim` to `next` on the remote: a child commit of the tip this machine saw, pushed as
    /// a fast-forward, so it lands only if nobody moved the claim since (compare-and-swap). Returns
    /// the outcome and, when won, the claim as the remote now holds it.
    public func move(_ claim: GitClaim, to next: GitClaim) -> (Outcome, GitClaim?) {
        GitClaims.oneAtATime.withLock { _ in
            var moved = next
            switch makeCommit(next.message, parent: claim.commit) {
            case .success(let commit): moved.commit = commit
            case .failure(let why): return (.failed(why.text), nil)
            }
            if case .success = git(["push", "--quiet", remote, moved.commit + ":" + claim.ref]) { return (.won, moved) }
            switch readRemote(claim.ref) {
            case .success(let now?): return (.lost("\(now.state == .claimed ? "claimed" : now.state.rawValue) by \(now.machine) (run \(now.runID)) through git"), nil)
            case .success(nil): return (.failed("the claim \(claim.ref) is gone from the remote"), nil)
            case .failure(let why): return (.failed(why.text), nil)
            }
        }
    }

    /// The claim of `taskPath`'s attempt as the remote holds it now (`nil`: no such claim).
    public func current(taskPath: String, attempt: Int) -> Result<GitClaim?, GitFailure> {
        GitClaims.oneAtATime.withLock { _ in readRemote(GitClaims.ref(taskPath: taskPath, attempt: attempt)) }
    }

    /// Fetches one claim ref and reads it.
    private func readRemote(_ ref: String) -> Result<GitClaim?, GitFailure> {
        switch git(["ls-remote", remote, ref]) {
        case .failure(let why): return .failure(why)
        case .success(let out) where out.isEmpty: return .success(nil)
        case .success: break
        }
        if case .failure(let why) = git(["fetch", "--quiet", "--no-tags", remote, "+" + ref + ":" + ref]) { return .failure(why) }
        switch git(["log", "-1", "--format=%H%n%B", ref]) {
        case .failure(let why): return .failure(why)
        case .success(let out):
            let lines = out.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            return .success(GitClaim.parse(ref: ref, commit: String(lines[0]), message: lines.count > 1 ? String(lines[1]) : ""))
        }
    }

    /// Pushes this machine's lease (a new commit naming its session, replacing the last; unless not
    /// `renewing`) and every
    /// claim in `finished` moved to `finished`, in one push. Returns the claims whose move the remote
    /// refused (another machine took them over meanwhile) and, when the push failed for another
    /// reason, why.
    public func renew(lease seconds: Double, renewing: Bool = true, finishing finished: [(claim: GitClaim, outcome: String)]) -> (refused: [GitClaim], error: String?) {
        GitClaims.oneAtATime.withLock { _ in
            var refspecs: [String] = []
            let leaseMessage = "machine: \(machine)\nsession: \(GitClaims.session)\nlease_s: \(Int(bounded: seconds))\nrenewed: \(LocalTime.dateTime(Date()))\n"
            if renewing {
                switch makeCommit(leaseMessage, parent: nil) {
                case .success(let commit): refspecs.append("+" + commit + ":" + GitClaims.leasePrefix + machine)
                case .failure(let why): return ([], why.text)
                }
            }
            var byRef: [String: GitClaim] = [:]
            for (claim, outcome) in finished {
                var next = claim
                next.state = .finished
                next.outcome = outcome
                next.takenOverFrom = nil
                guard case .success(let commit) = makeCommit(next.message, parent: claim.commit) else { continue }
                refspecs.append(commit + ":" + claim.ref)
                byRef[claim.ref] = claim
            }
            let outcome = gitStatus(["push", "--porcelain", remote] + refspecs)
            var refused: [GitClaim] = []
            // `--porcelain`: one `<flag>\t<from>:<to>\t<summary>` line per ref; `!` is a refusal.
            for line in outcome.stdout.split(separator: "\n") where line.hasPrefix("!") {
                let fields = line.split(separator: "\t")
                guard fields.count >= 2, let to = fields[1].split(separator: ":").last, let claim = byRef[String(to)] else { continue }
                refused.append(claim)
            }
            let pushed = outcome.code == 0 || outcome.stdout.contains("\t")
            return (refused, pushed ? nil : outcome.error)
        }
    }

    /// Every claim and lease on the remote, fetched into this repository's own refs (which mirror
    /// the remote's: `--prune`).
    public func scan() -> Result<(claims: [GitClaim], leases: [String: GitLease]), GitFailure> {
        GitClaims.oneAtATime.withLock { _ in
            if case .failure(let why) = git(["fetch", "--quiet", "--no-tags", "--prune", remote,
                                             "+" + GitClaims.claimPrefix + "*:" + GitClaims.claimPrefix + "*",
                                             "+" + GitClaims.leasePrefix + "*:" + GitClaims.leasePrefix + "*"]) {
                return .failure(why)
            }
            switch git(["for-each-ref", "--format=%(refname)%1f%(objectname)%1f%(contents)%1e", "refs/fbt-claims/", "refs/fbt-leases/"]) {
            case .failure(let why): return .failure(why)
            case .success(let out):
                var claims: [GitClaim] = []
                var leases: [String: GitLease] = [:]
                for record in out.split(separator: "\u{1e}") {
                    let fields = record.split(separator: "\u{1f}", maxSplits: 2, omittingEmptySubsequences: false)
                    guard fields.count == 3 else { continue }
                    let ref = fields[0].trimmingWhitespacesAndNewlines()
                    if ref.hasPrefix(GitClaims.leasePrefix) {
                        let machine = String(ref.dropFirst(GitClaims.leasePrefix.count))
                        let session = fields[2].split(separator: "\n").first { $0.hasPrefix("session: ") }.map { String($0.dropFirst(9)) } ?? ""
                        leases[machine] = GitLease(machine: machine, commit: String(fields[1]), session: session)
                    } else if let claim = GitClaim.parse(ref: ref, commit: String(fields[1]), message: String(fields[2])) {
                        claims.append(claim)
                    }
                }
                return .success((claims, leases))
            }
        }
    }
}

/// Keeps this machine's lease on the remote and takes over the claims of machines whose lease
/// expired, with `sync: git` (docs/sync.md).
///
/// Every tick (a quarter of the lease, at most 5 s apart) the watcher's lease thread pushes its lease
/// when a third of the lease has passed since the last renewal, together with the claims of runs
/// that ended, then fetches every claim and lease. A claim still `claimed` by another machine is
/// expired when that machine's lease names another session (its watcher restarted) or when this
/// machine has seen neither its lease nor the claim change for the whole lease, by its own clock
/// (so the machines' clocks need not agree). Such a claim is taken over (`TaskEngine.takeOver`).
public final class GitLeases: Sendable {
    /// The engine whose runs hold the claims.
    let engine: TaskEngine
    /// This machine.
    let machine: String
    /// Where events go.
    let log: @Sendable (EngineEvent) -> Void

    struct Seen {
        /// Per lease or claim ref: the commit seen and since when (this machine's clock).
        var since: [String: (commit: String, at: Double)] = [:]
        /// When the lease was last renewed.
        var renewed = 0.0
        /// Claims whose task note is not in this copy yet (said once).
        var noteMissing = Set<String>()
        /// Refs taken over or given up on, not to be looked at again.
        var done = Set<String>()
        /// When the claims were last fetched.
        var scanned = 0.0
        /// The last problem a notes round reported (said once, until it changes).
        var notesProblem: String?
    }

    private let seen = Locked(Seen())
    private let stopToken = CancelToken()
    private let wake = DispatchSemaphore(value: 0)
    private let ended = DispatchSemaphore(value: 0)

    /// The lease thread of `engine`'s watcher on `machine`.
    public init(engine: TaskEngine, machine: String, log: @escaping @Sendable (EngineEvent) -> Void) {
        self.engine = engine
        self.machine = machine
        self.log = log
    }

    /// Starts the thread (it does nothing while the rule book says no `sync: git`).
    public func start() {
        if let sync = engine.routing.sync, sync.mode == "git" {
            GitNotes(git: GitClaims(vault: engine.vault, remote: sync.remote, machine: machine)).excludeState()
        }
        engine.state.withLock { $0.claimEndedHook = { [wake] in wake.signal() } }
        let thread = Thread { [self] in
            while !stopToken.isCancelled {
                let lease = engine.routing.sync.flatMap { $0.mode == "git" ? $0.lease : nil }
                let every = min(5, max(0.25, (lease ?? 20) / 4))
                if let lease {
                    // Woken by a run's end: its claim is marked finished now; the fetch keeps its pace.
                    if Date().timeIntervalSince1970 - seen.withLock({ $0.scanned }) >= every {
                        tick(lease: lease)
                    } else if let sync = engine.routing.sync {
                        renew(sync, force: false)
                    }
                }
                _ = wake.wait(timeout: .now() + every)
            }
            ended.signal()
        }
        thread.name = "fbt.leases"
        thread.start()
    }

    /// Stops the thread, then pushes the claims of runs that ended meanwhile (the watcher's last act).
    public func stop() {
        stopToken.cancel()
        wake.signal()
        ended.wait()
        if let sync = engine.routing.sync, sync.mode == "git" {
            renew(sync, force: true)
            syncNotes(sync)
        }
    }

    /// Commits the notes the OS wrote that still hold its bytes (and this machine's heartbeat note),
    /// merges the other machines' work and pushes (`GitNotes`).
    func syncNotes(_ sync: SyncSettings) {
        let store = engine.store
        // A note holding none of the OS's bytes (a person's change) waits a few rounds for them to
        // come back (`GitWrites`), then is theirs to commit.
        // The notes are read outside the lock every write of the OS records under.
        // The bytes read are the bytes committed (`GitNotes.commitExactly`): a person's save after
        // the read stays theirs, uncommitted.
        let waiting = engine.gitWritten.withLock { Array($0.entries.keys) }
        var current: [String: ContentHash?] = [:]
        var read: [String: [UInt8]] = [:]
        for path in waiting {
            let snapshot = (try? store.readIfPresent(path)) ?? nil
            current[path] = .some(snapshot?.hash)
            if let snapshot { read[path] = snapshot.bytes }
        }
        let written = engine.gitWritten.withLock { $0.takeMatching(current: current) }
        var notes: [String: [UInt8]] = [:]
        for path in written.keys { notes[path] = read[path] }
        // The heartbeat note only the OS writes: as it is now.
        let heartbeat = MachineHeartbeat.path(for: machine)
        if notes[heartbeat] == nil, let bytes = FileManager.default.contents(atPath: engine.vault.root + "/" + heartbeat) { notes[heartbeat] = Array(bytes) }
        let git = GitNotes(git: GitClaims(vault: engine.vault, remote: sync.remote, machine: machine))
        let round = git.round(notes: notes, remote: sync.remote, log: log)
        if !round.pathsSettled {
            // Not committed: tried again next round (unless the OS wrote the note again meanwhile).
            engine.gitWritten.withLock { $0.putBack(written) }
        }
        let said = seen.withLock { seen -> Bool in
            defer { seen.notesProblem = round.problem }
            return seen.notesProblem == round.problem
        }
        if let problem = round.problem, !said { log(EngineEvent(level: .warning, message: "git: \(problem)")) }
    }

    /// Pushes the lease when due (or `force`) and the claims of runs that ended.
    private func renew(_ sync: SyncSettings, force: Bool) {
        let now = Date().timeIntervalSince1970
        let finishing = engine.takeEndedClaims()
        let due = force || now - seen.withLock { $0.renewed } >= sync.lease / 3
        guard due || !finishing.isEmpty else { return }
        let claims = GitClaims(vault: engine.vault, remote: sync.remote, machine: machine)
        let (refused, error) = claims.renew(lease: sync.lease, renewing: due, finishing: finishing)
        if let error {
            log(EngineEvent(level: .warning, message: "git lease: cannot push to \(sync.remote): \(error); tried again shortly"))
            engine.returnEndedClaims(finishing)
            return
        }
        if due { seen.withLock { $0.renewed = now } }
        for claim in refused {
            log(EngineEvent(level: .warning, message: "\(claim.task): run \(claim.runID) ended, but another machine took its claim over meanwhile (this machine's lease had expired for it): the task ran on both"))
        }
    }

    /// One round: renew, fetch, take over what expired.
    func tick(lease: Double) {
        guard let sync = engine.routing.sync else { return }
        renew(sync, force: false)
        seen.withLock { $0.scanned = Date().timeIntervalSince1970 }
        syncNotes(sync)
        let claims = GitClaims(vault: engine.vault, remote: sync.remote, machine: machine)
        let scanned: (claims: [GitClaim], leases: [String: GitLease])
        switch claims.scan() {
        case .success(let found): scanned = found
        case .failure(let why):
            log(EngineEvent(level: .warning, message: "git lease: cannot read the claims on \(sync.remote): \(why)"))
            return
        }
        let now = Date().timeIntervalSince1970
        let expired: [GitClaim] = seen.withLock { seen in
            var live = Set<String>()
            func unchangedFor(_ key: String, _ commit: String) -> Double {
                live.insert(key)
                if let was = seen.since[key], was.commit == commit { return now - was.at }
                seen.since[key] = (commit, now)
                return 0
            }
            for lease in scanned.leases.values { _ = unchangedFor(GitClaims.leasePrefix + lease.machine, lease.commit) }
            var out: [GitClaim] = []
            for claim in scanned.claims {
                let claimAge = unchangedFor(claim.ref, claim.commit)
                guard claim.state == .claimed, claim.machine.lowercased() != machine.lowercased(), !seen.done.contains(claim.ref + claim.commit) else { continue }
                let lease = scanned.leases[claim.machine]
                let restarted = lease.map { !claim.session.isEmpty && $0.session != claim.session } ?? false
                let leaseAge = lease.map { unchangedFor(GitClaims.leasePrefix + $0.machine, $0.commit) } ?? claimAge
                if restarted || min(leaseAge, claimAge) >= sync.lease { out.append(claim) }
            }
            seen.since = seen.since.filter { live.contains($0.key) }
            return out
        }
        for claim in expired {
            switch engine.takeOver(claim) {
            case .started:
                _ = seen.withLock { $0.done.insert(claim.ref + claim.commit) }
            case .ignored where !FileManager.default.fileExists(atPath: engine.vault.root + "/" + claim.task):
                if seen.withLock({ $0.noteMissing.insert(claim.ref).inserted }) {
                    log(EngineEvent(level: .info, message: "\(claim.task): its claim by \(claim.machine) expired, but the note is not in this copy yet; taken over once it is"))
                }
            default:
                break
            }
        }
    }
}

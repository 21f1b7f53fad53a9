import Foundation

/// Keeps this machine's claim files alive and takes over the claim files of machines that stopped,
/// with `sync: files` (docs/sync.md).
///
/// Every tick (a quarter of the lease, at most 5 s apart) the thread rewrites, every third of the
/// lease, the claim file of each run this machine holds (a new `renewed` count), then reads every claim
/// file. Another machine's claim still `claiming` or `claimed` whose file this machine has seen
/// unchanged for the whole lease, by its own clock (the machines' clocks need not agree), is taken
/// over (`TaskEngine.takeOver`), with the effects rule of git takeovers (`TaskEngine.takeoverPlan`).
/// This machine's own `finished` claim files are deleted a day after their run ended.
public final class FileLeases: Sendable {
    /// The engine whose runs hold the claims.
    let engine: TaskEngine
    /// This machine.
    let machine: String
    /// Where events go.
    let log: @Sendable (EngineEvent) -> Void

    struct Seen {
        /// Per claim file: what it said (state, run, renewal) and since when (this machine's clock).
        var since: [String: (signature: String, at: Double)] = [:]
        /// When this machine's claims were last renewed.
        var renewed = 0.0
        /// Claim files taken over or given up on (with what they said), not to be looked at again.
        var done = Set<String>()
        /// Claims whose task note is not in this copy yet (said once).
        var noteMissing = Set<String>()
        /// Conflicting copies of claim files already reported.
        var conflicts = Set<String>()
    }

    private let seen = Locked(Seen())
    private let stopToken = CancelToken()
    private let wake = DispatchSemaphore(value: 0)
    private let ended = DispatchSemaphore(value: 0)

    /// How long a finished claim file is kept: long after any copy of its task note can still be
    /// behind (a copy that still says the attempt is new would otherwise run it again).
    public static let keepFinished: Double = 24 * 3600

    /// The lease thread of `engine`'s watcher on `machine`.
    public init(engine: TaskEngine, machine: String, log: @escaping @Sendable (EngineEvent) -> Void) {
        self.engine = engine
        self.machine = machine
        self.log = log
    }

    /// Starts the thread (it does nothing while the rule book says no `sync: files`).
    public func start() {
        let thread = Thread { [self] in
            while !stopToken.isCancelled {
                let sync = engine.routing.sync.flatMap { $0.mode == "files" ? $0 : nil }
                if let sync { tick(sync) }
                _ = wake.wait(timeout: .now() + min(5, max(0.25, (sync?.lease ?? 20) / 4)))
            }
            ended.signal()
        }
        thread.name = "fbt.file-leases"
        thread.start()
    }

    /// Stops the thread.
    public func stop() {
        stopToken.cancel()
        wake.signal()
        ended.wait()
    }

    /// One round: renew, read every claim file, take over what expired, clean up.
    func tick(_ sync: SyncSettings) {
        let claims = FileClaims(vault: engine.vault, machine: machine)
        let now = Date().timeIntervalSince1970
        if now - seen.withLock({ $0.renewed }) >= sync.lease / 3 {
            for claim in engine.heldFileClaims() {
                if let error = engine.renewFileClaim(claim, claims: claims) {
                    log(EngineEvent(level: .warning, message: "\(claim.task): the claim file could not be renewed (\(error)); tried again shortly"))
                }
            }
            seen.withLock { $0.renewed = now }
        }
        let files = claims.all()
        for (name, _) in files where FileClaims.isConflictCopy(name) && seen.withLock({ $0.conflicts.insert(name).inserted }) {
            log(EngineEvent(level: .warning, message: "\(FileClaims.folder)/\(name): a sync tool's conflicting copy of a claim file: two hosts write claims as one machine name; give each its own (watch --machine NAME)"))
        }
        let expired: [(name: String, claim: FileClaim)] = seen.withLock { seen in
            var live = Set<String>()
            var out: [(name: String, claim: FileClaim)] = []
            for (name, claim) in files {
                live.insert(name)
                let signature = "\(claim.state.rawValue) \(claim.runID) \(claim.renewed)"
                let age: Double
                if let was = seen.since[name], was.signature == signature { age = now - was.at } else {
                    seen.since[name] = (signature, now)
                    age = 0
                }
                guard claim.state != .finished, claim.machine.lowercased() != machine.lowercased(),
                      !seen.done.contains(name + " " + signature), age >= sync.lease else { continue }
                out.append((name, claim))
            }
            seen.since = seen.since.filter { live.contains($0.key) }
            return out
        }
        for (name, claim) in expired {
            switch engine.takeOver(claim) {
            case .started:
                _ = seen.withLock { $0.done.insert(name + " \(claim.state.rawValue) \(claim.runID) \(claim.renewed)") }
            case .ignored where !FileManager.default.fileExists(atPath: engine.vault.root + "/" + claim.task):
                if seen.withLock({ $0.noteMissing.insert(name).inserted }) {
                    log(EngineEvent(level: .info, message: "\(claim.task): the claim file of \(claim.machine) expired, but the note is not in this copy yet; taken over once it is"))
                }
            default:
                break
            }
        }
        FileLeases.cleanUp(claims: claims, files: files, now: now)
    }

    /// Deletes this machine's claim files of runs that finished more than `keepFinished` ago (by its
    /// own clock, which wrote `finished_at`). Other machines' files are theirs to delete.
    static func cleanUp(claims: FileClaims, files: [(name: String, claim: FileClaim)], now: Double) {
        for (name, claim) in files where claim.machine.lowercased() == claims.machine.lowercased() && claim.state == .finished
            && !FileClaims.isConflictCopy(name) && now - (claim.finishedAt ?? now) > keepFinished {
            FileClaims.oneAtATime.withLock { _ in
                try? FileSystem.remove(claims.folderPath + "/" + name)
            }
        }
    }
}

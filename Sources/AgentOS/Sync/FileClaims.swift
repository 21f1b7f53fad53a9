import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A claim another machine held, as the run that takes it over sees it (a git claim or a claim file).
public protocol TakenOverClaim: Sendable {
    /// The machine that held it.
    var machine: String { get }
    /// Its run there.
    var runID: String { get }
    /// Whether that machine may have started the task's agent (then the effects rule applies).
    var agentMayHaveStarted: Bool { get }
    /// The task's vault path.
    var task: String { get }
    /// The attempt claimed.
    var attempt: Int { get }
}

extension GitClaim: TakenOverClaim {
    /// A git claim is pushed before anything is written: its holder may have started.
    public var agentMayHaveStarted: Bool { true }
}

/// One machine's claim file for one attempt of a task (`sync: files`, docs/sync.md):
/// `.fbt-claims/<task key>-<attempt>.<machine>.claim`, written only by that machine.
public struct FileClaim: Sendable, Equatable, TakenOverClaim {
    /// What the claim says now.
    public enum State: String, Sendable {
        /// Written, waiting for the settle window: its machine has not decided yet and started nothing.
        case claiming
        /// Its machine won and runs the task (it rewrites the file every third of the lease).
        case claimed
        /// The run ended (any outcome): nobody takes it over.
        case finished
    }

    /// The machine that wrote it.
    public var machine: String
    /// The run of that machine.
    public var runID: String
    /// The watcher session (`GitClaims.session`) that wrote it.
    public var session: String
    /// The task's vault path.
    public var task: String
    /// The attempt claimed.
    public var attempt: Int
    /// What the claim says now.
    public var state: State
    /// When it was first written, by its machine's clock (seconds since 1970): the earliest claim wins.
    public var claimedAt: Double
    /// Bumped at every renewal: another machine sees the file change while its machine lives.
    public var renewed: Int = 0
    /// For a claim that takes another over: whose claim it was (`machine (run ID)`).
    public var takenOverFrom: String?
    /// For a finished claim: the run's outcome, and when it finished (its machine's clock).
    public var outcome: String?
    /// For a finished claim: when the run ended, by its machine's clock (for the clean-up).
    public var finishedAt: Double?

    /// A claim file's holder may have started the agent once it won (`claimed`, `finished`).
    public var agentMayHaveStarted: Bool { state != .claiming }

    /// `machine (run ID)`, as `taken_over_from` names a claim.
    var holder: String { "\(machine) (run \(runID))" }

    /// The file's text: one `key: value` line each, as a git claim's commit message.
    var text: String {
        var text = "claimed_by: \(machine)\nrun_id: \(runID)\ntask: \(task)\nattempt: \(attempt)\nsession: \(session)\nstate: \(state.rawValue)\n"
        text += "claimed_at: \(String(format: "%.3f", claimedAt))\nrenewed: \(renewed)\n"
        if let takenOverFrom { text += "taken_over_from: \(takenOverFrom)\n" }
        if let outcome { text += "outcome: \(outcome)\n" }
        if let finishedAt { text += "finished_at: \(String(format: "%.3f", finishedAt))\n" }
        return text
    }

    /// Reads a claim file's text; `nil` when it is not one (a partial copy, another file).
    static func parse(_ text: String) -> FileClaim? {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingWhitespaces()
        }
        guard let machine = fields["claimed_by"], let runID = fields["run_id"], let task = fields["task"],
              let attempt = fields["attempt"].flatMap({ Int($0) }), let state = fields["state"].flatMap(State.init(rawValue:)),
              let claimedAt = fields["claimed_at"].flatMap({ Double($0) }) else { return nil }
        return FileClaim(machine: machine, runID: runID, session: fields["session"] ?? "", task: task, attempt: attempt, state: state,
                         claimedAt: claimedAt, renewed: fields["renewed"].flatMap { Int($0) } ?? 0,
                         takenOverFrom: fields["taken_over_from"], outcome: fields["outcome"],
                         finishedAt: fields["finished_at"].flatMap { Double($0) })
    }

    /// Whether `self` goes before `other` when both are still settling: the earlier claim time, then
    /// the machine name, then the run id (the same order on every machine that reads both files).
    func precedes(_ other: FileClaim) -> Bool {
        if claimedAt != other.claimedAt { return claimedAt < other.claimedAt }
        if machine.lowercased() != other.machine.lowercased() { return machine.lowercased() < other.machine.lowercased() }
        return runID < other.runID
    }

}

/// Claims shared between machines through file sync (Syncthing, Dropbox): one claim file per task
/// attempt per machine in the vault's `.fbt-claims/` folder, which the sync tool carries to the other
/// copies (docs/sync.md).
///
/// File sync has no compare-and-swap, so a machine writes its own file (`claiming`), waits the settle
/// window (`claim_wait`), reads every machine's file for the attempt and runs the task only if no
/// other machine holds it (`claimed`, `finished`) and no other settling claim goes first (`precedes`).
/// Every machine that reads the same files decides the same way; the claim holds when sync delivers
/// each racing machine's file to the others within the window. Each machine writes and deletes only
/// its own files, so the sync tool never sees two writers of one file. The folder starts with a dot:
/// the watcher, the index and the task scanner never look in it.
public struct FileClaims: Sendable {
    /// The vault.
    public let vault: Vault
    /// This machine's name (written into and naming each of its claim files).
    public let machine: String

    /// The claim folder, relative to the vault.
    public static let folder = ".fbt-claims"

    /// Claims of `vault` written as `machine`.
    public init(vault: Vault, machine: String) {
        self.vault = vault
        self.machine = machine
    }

    /// The absolute path of the claim folder.
    var folderPath: String { vault.root + "/" + FileClaims.folder }

    /// What every claim file of a task's attempt is named from (the same on every machine).
    public static func prefix(taskPath: String, attempt: Int) -> String {
        ContentHash(of: Array(taskPath.utf8)).hex + "-\(attempt)."
    }

    /// The file name of `machine`'s claim of the attempt.
    public static func fileName(taskPath: String, attempt: Int, machine: String) -> String {
        prefix(taskPath: taskPath, attempt: attempt) + machine + ".claim"
    }

    /// Every claim file in the folder, read (`name`: its file name). Names starting with a dot are
    /// temp files being written (ours or the sync tool's); a file that does not parse is skipped.
    func all(prefix: String = "") -> [(name: String, claim: FileClaim)] {
        guard let entries = try? FileSystem.list(folderPath) else { return [] }
        return entries.compactMap { entry -> (name: String, claim: FileClaim)? in
            guard entry.kind != .directory, !entry.name.hasPrefix("."), entry.name.hasPrefix(prefix), entry.name.hasSuffix(".claim"),
                  let read = try? FileSystem.read(folderPath + "/" + entry.name, limit: 64 * 1024),
                  let claim = FileClaim.parse(String(decoding: read.bytes, as: UTF8.self)) else { return nil }
            return (entry.name, claim)
        }
    }

    /// Every machine's claim of the attempt, this machine's included.
    public func claims(taskPath: String, attempt: Int) -> [FileClaim] {
        all(prefix: FileClaims.prefix(taskPath: taskPath, attempt: attempt)).map(\.claim).filter { $0.task == taskPath && $0.attempt == attempt }
    }

    /// Writes this machine's claim file (replacing its last version: temp, fsync, rename).
    public func write(_ claim: FileClaim) -> String? {
        let path = folderPath + "/" + FileClaims.fileName(taskPath: claim.task, attempt: claim.attempt, machine: machine)
        do {
            try FileSystem.makeDirectories(folderPath)
            try FileSystem.replaceDurably(path, bytes: Array(claim.text.utf8))
            return nil
        } catch {
            return "\(FileClaims.folder)/\((path as NSString).lastPathComponent): \(error)"
        }
    }

    /// Deletes this machine's claim file of the attempt (the sync tool carries the deletion).
    public func remove(taskPath: String, attempt: Int) {
        try? FileSystem.remove(folderPath + "/" + FileClaims.fileName(taskPath: taskPath, attempt: attempt, machine: machine))
    }

    /// One file write at a time in this process: a renewal never rewrites a claim its run just
    /// marked finished.
    static let oneAtATime = Locked(())

    /// The claim that keeps `mine` from running, among every claim file of its attempt; `nil`: `mine`
    /// runs. Another machine's claim that `mine` takes over does not count. Any other claim that won
    /// (`claimed`) or finished holds the attempt; among claims still settling, the one that
    /// `precedes` the others goes first.
    public static func holder(against mine: FileClaim, among all: [FileClaim]) -> FileClaim? {
        let others = others(than: mine, among: all)
        if let held = others.filter({ $0.state != .claiming }).min(by: { $0.precedes($1) }) { return held }
        return others.filter { $0.precedes(mine) }.min { $0.precedes($1) }
    }

    /// The claims among `all` but `mine` (its machine and run) and the one `mine` takes over. This
    /// machine's own file of another run of the attempt counts (that run held it).
    public static func others(than mine: FileClaim, among all: [FileClaim]) -> [FileClaim] {
        all.filter { !($0.machine.lowercased() == mine.machine.lowercased() && $0.runID == mine.runID) && $0.holder != mine.takenOverFrom }
    }

    /// Whether a file name is a sync tool's conflicting copy of a claim file (two hosts write
    /// claims under one machine name).
    static func isConflictCopy(_ name: String) -> Bool {
        SyncConflict.pathFragments.contains { name.lowercased().contains($0) }
    }
}

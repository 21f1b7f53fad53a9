import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a running watcher says about itself in `.agentos/watcher.json`, refreshed every few seconds
/// even while idle, so `status`, `doctor`, `task new` and `handoff` can tell whether anyone will pick
/// a note up, and how fresh that word is.
public struct WatcherHeartbeat: Sendable, Equatable {
    /// The watcher's process id.
    public var pid: Int32
    /// The binary's version.
    public var version: String
    /// `inotify` or `polling`.
    public var mode: String
    /// When the watcher started (seconds since 1970).
    public var started: Double
    /// When this heartbeat was written.
    public var updated: Double
    /// When the watcher last handled a change (nil until the first one).
    public var lastEvent: Double?
    /// The note that change was about.
    public var lastEventPath: String?
    /// Runs queued or in flight.
    public var queue: Int

    /// How often a running watcher rewrites the file.
    public static let interval: Double = 2
    /// A heartbeat older than this, from a process that is gone or holds no lock, is a dead watcher's.
    public static let staleAfter: Double = 15

    /// The file's path in a vault.
    public static func path(for vault: Vault) -> String { vault.stateDirectory + "/" + fileName }

    /// The heartbeat's file name in `.agentos/`.
    static let fileName = "watcher.json"

    /// The heartbeat as JSON.
    public var json: JSON {
        .object([
            ("pid", .int(Int(pid))), ("version", .string(version)), ("mode", .string(mode)),
            ("started", .string(LocalTime.dateTime(Date(timeIntervalSince1970: started)))), ("started_epoch", .double(started)),
            ("updated_epoch", .double(updated)),
            ("last_event", lastEvent.map { .string(LocalTime.dateTime(Date(timeIntervalSince1970: $0))) } ?? .null),
            ("last_event_epoch", lastEvent.map { .double($0) } ?? .null),
            ("last_event_path", lastEventPath.map { .string($0) } ?? .null),
            ("queue", .int(queue)),
        ])
    }

    /// Writes the file atomically through `NoteStore` (a reader never sees half of it).
    public func write(to vault: Vault) throws {
        try NoteStore(vault: vault).replace(Vault.Layout.state + "/" + WatcherHeartbeat.fileName, with: Array((json.compact + "\n").utf8))
    }

    /// Reads the file; `nil` when it is absent or not a heartbeat.
    public static func read(from vault: Vault) -> WatcherHeartbeat? {
        guard let (bytes, _) = try? FileSystem.read(path(for: vault), limit: 64 * 1024),
              let json = try? JSON.parse(String(decoding: bytes, as: UTF8.self)),
              let pid = json["pid"]?.intValue.flatMap({ Int32(exactly: $0) }), let started = json["started_epoch"]?.doubleValue,
              let updated = json["updated_epoch"]?.doubleValue else { return nil }
        let lastEvent = json["last_event_epoch"]?.doubleValue
        return WatcherHeartbeat(pid: pid, version: json["version"]?.stringValue ?? "?", mode: json["mode"]?.stringValue ?? "?",
                                started: started, updated: updated, lastEvent: lastEvent,
                                lastEventPath: json["last_event_path"]?.stringValue, queue: json["queue"]?.intValue ?? 0)
    }

    /// Whether a watcher serves the vault now, and what it last said.
    public enum Liveness: Sendable, Equatable {
        /// A watcher holds the vault's lock; its heartbeat (if written yet) is attached.
        case running(WatcherHeartbeat?, ageSeconds: Double?)
        /// No watcher holds the lock; the last heartbeat (if any) says when one last ran.
        case stopped(last: WatcherHeartbeat?)
    }

    /// The vault's watcher: the lock on `.agentos/watch.lock` is the truth (held by a live watcher,
    /// released by the kernel when it dies), the heartbeat says how fresh.
    public static func liveness(of vault: Vault, now: Date = Date()) -> Liveness {
        let beat = read(from: vault)
        let lockPath = vault.stateDirectory + "/watch.lock"
        guard (try? FileSystem.status(lockPath)) ?? nil != nil else { return .stopped(last: beat) }
        guard FileLock.isHeld(path: lockPath) else { return .stopped(last: beat) }
        return .running(beat, ageSeconds: beat.map { now.timeIntervalSince1970 - $0.updated })
    }

    /// One line for people: "running (pid 123, inotify, since 10:02:11; heartbeat 1 s ago, 0 queued)"
    /// or "not running (last seen 2026-12-02T10:02:11)".
    /// `countingQueue: false` leaves the count out (a caller that is not shown private tasks would
    /// learn from it that some are queued or running).
    public static func describe(_ liveness: Liveness, countingQueue: Bool = true) -> String {
        switch liveness {
        case .running(let beat, let age):
            guard let beat else { return "running (no heartbeat yet)" }
            var text = "running (pid \(beat.pid), \(beat.mode), since \(LocalTime.dateTime(Date(timeIntervalSince1970: beat.started)))"
            if let age { text += "; heartbeat \(Int(bounded: max(0, age).rounded())) s ago" }
            if age.map({ $0 > staleAfter }) == true { text += " — stale: the watcher may be stuck" }
            if countingQueue { text += ", \(beat.queue) queued or running" }
            if let last = beat.lastEvent { text += ", last change \(LocalTime.dateTime(Date(timeIntervalSince1970: last)))" }
            return text + ")"
        case .stopped(let last):
            return "not running" + (last.map { " (last seen \(LocalTime.dateTime(Date(timeIntervalSince1970: $0.updated))))" } ?? "")
        }
    }
}

import Foundation

/// The OS's recent writes, path → the hash it wrote, so that the watcher recognises the events its
/// own writes cause (`TaskEngine.isOwnWrite`).
///
/// A write is recognised for as long as the note still holds those bytes, by every event that reads
/// them, within `window` of the write: one run writes its task note twice in a few milliseconds
/// (routed and running, then done), and the events of both are often read after the second write,
/// so both find its bytes. (Forgetting a write at its first match left the second event
/// unrecognised: on a burst of 1,000 echo tasks, every task note was parsed again and indexed in a
/// commit of its own, about 30 index pages each.) Entries older than `window` are dropped as new ones
/// come (`record`), so the table holds what a window's writes left, not a path for every result
/// note the watcher ever wrote. An event read after the window only costs a second look at the note.
struct OwnWrites {
    /// How long a write is recognised (nanoseconds of the monotonic clock).
    static let window: UInt64 = 30_000_000_000

    private var entries: [String: (hash: ContentHash, at: UInt64)] = [:]
    /// Entries are looked at for expiry once the table reaches this size, which then doubles what is left.
    private var sweepAt = OwnWrites.smallest
    private static let smallest = 256

    /// How many writes are remembered.
    var count: Int { entries.count }

    /// Remembers that the OS wrote `hash` at `path` (`now`: monotonic nanoseconds).
    mutating func record(_ path: String, _ hash: ContentHash, now: UInt64 = DispatchTime.now().uptimeNanoseconds) {
        entries[path] = (hash, now)
        guard entries.count >= sweepAt else { return }
        entries = entries.filter { now &- $0.value.at < OwnWrites.window }
        sweepAt = max(OwnWrites.smallest, entries.count * 2)
    }

    /// Whether `hash` is what the OS last wrote at `path`, within the window.
    func holds(_ path: String, _ hash: ContentHash, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Bool {
        guard let entry = entries[path] else { return false }
        return entry.hash == hash && now &- entry.at < OwnWrites.window
    }

    /// The hash the OS last wrote at `path`, within the window.
    func hash(at path: String, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> ContentHash? {
        guard let entry = entries[path], now &- entry.at < OwnWrites.window else { return nil }
        return entry.hash
    }

    /// Forgets the write at `path`: its next event is looked at like anyone's.
    mutating func forget(_ path: String) {
        entries.removeValue(forKey: path)
    }
}

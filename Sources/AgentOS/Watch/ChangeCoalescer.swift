import Foundation

/// Coalesces raw per-path events into changes, pairs nothing itself, and rate-limits overflow.
///
/// A path whose last event says the write is over (`complete`: the writer closed the file, or it was
/// renamed into place) is due at once; one whose last event is a write still open (`IN_MODIFY` with no
/// close yet, a create) waits for the debounce, so a writer that pauses between writes is read once.
/// Pure state plus explicit times, so its rules are tested without sleeping.
struct ChangeCoalescer {
    struct Pending {
        var kind: FileChange.Kind
        var first: Double
        var last: Double
        var order: Int
        /// The last event said the write is over: report it without waiting for the debounce.
        var complete = false
        /// A removal of the path was merged in (`FileChange.wasRemoved`).
        var removed = false

        /// When the change is reported.
        func due(debounce: Double, maximumDelay: Double) -> Double {
            complete ? last : min(last + debounce, first + maximumDelay)
        }
    }

    /// Quiet time after a path's last open-write event before it is reported.
    var debounce: Double
    /// A path that keeps changing is reported at least this often.
    var maximumDelay: Double
    /// The first overflow is reported at once; later ones wait this long, doubling up to `overflowBackoffLimit`.
    var overflowBackoff: Double
    var overflowBackoffLimit: Double
    /// After this long without an overflow the back-off starts again from `overflowBackoff`.
    var overflowQuietReset: Double

    private(set) var pending: [String: Pending] = [:]
    private var counter = 0
    private(set) var overflowPending = false
    private var overflowNotBefore = -Double.infinity
    private var currentBackoff: Double
    private var lastOverflow = -Double.infinity

    init(debounce: Double, overflowBackoff: Double = 1, overflowBackoffLimit: Double = 60, overflowQuietReset: Double = 120) {
        self.debounce = debounce
        self.maximumDelay = max(debounce * 10, 0.2)
        self.overflowBackoff = overflowBackoff
        self.overflowBackoffLimit = overflowBackoffLimit
        self.overflowQuietReset = overflowQuietReset
        self.currentBackoff = overflowBackoff
    }

    /// Records an event for `path`, merging with what is pending for it. `complete` says the event ends
    /// a write (a close after writing, a rename into place); any other event of the path starts the
    /// debounce again (the writer opened it once more).
    mutating func add(_ path: String, _ kind: FileChange.Kind, now: Double, complete: Bool = false) {
        counter += 1
        guard var entry = pending[path] else {
            pending[path] = Pending(kind: kind, first: now, last: now, order: counter, complete: complete, removed: kind == .removed)
            return
        }
        entry.last = now
        entry.complete = complete
        if kind == .removed { entry.removed = true }
        switch (entry.kind, kind) {
        case (.renamed, .changed), (.directoryAdded, .changed):
            break // the rename (or new directory) already tells the caller to look at this path
        case (.renamed(let from), .removed):
            entry.kind = .removed
            if pending[from] == nil { pending[from] = Pending(kind: .removed, first: now, last: now, order: counter) }
        default:
            entry.kind = kind
        }
        pending[path] = entry
    }

    /// Forgets whatever is pending for `path` (its file moved away and the move is reported instead).
    mutating func discard(_ path: String) {
        pending[path] = nil
    }

    /// Moves what is pending for `path` to `newPath` (its directory was renamed), keeping its place.
    mutating func move(_ path: String, to newPath: String) {
        guard let entry = pending.removeValue(forKey: path) else { return }
        pending[newPath] = entry
    }

    /// Records a queue overflow: everything must be reconciled, at most once per back-off period.
    mutating func addOverflow(now: Double) {
        if now - lastOverflow > overflowQuietReset { currentBackoff = overflowBackoff }
        lastOverflow = now
        overflowPending = true
    }

    /// The earliest time something becomes due (`nil`: nothing pending).
    var nextDeadline: Double? {
        var deadline: Double? = overflowPending ? overflowNotBefore : nil
        for entry in pending.values {
            let due = entry.due(debounce: debounce, maximumDelay: maximumDelay)
            deadline = min(deadline ?? due, due)
        }
        return deadline
    }

    /// Takes the changes that are due at `now`, oldest first; an overflow comes last.
    mutating func takeDue(now: Double) -> [FileChange] {
        var due: [(Int, FileChange)] = []
        for (path, entry) in pending where now >= entry.due(debounce: debounce, maximumDelay: maximumDelay) {
            var change = FileChange(path, entry.kind)
            change.wasRemoved = entry.removed && entry.kind == .changed
            due.append((entry.order, change))
        }
        for (_, change) in due { pending[change.path] = nil }
        var changes = due.sorted { $0.0 < $1.0 }.map(\.1)
        if overflowPending && now >= overflowNotBefore {
            overflowPending = false
            overflowNotBefore = now + currentBackoff
            currentBackoff = min(currentBackoff * 2, overflowBackoffLimit)
            changes.append(FileChange("", .overflow))
        }
        return changes
    }
}

/// Joins two relative paths ("" is the root).
@inline(__always)
func joinRelative(_ directory: String, _ name: String) -> String {
    directory.isEmpty ? name : directory + "/" + name
}

/// Whether a relative path has a prefix directory `directory` (or is it).
@inline(__always)
func isInside(_ path: String, _ directory: String) -> Bool {
    directory.isEmpty || path == directory || path.hasPrefix(directory + "/")
}

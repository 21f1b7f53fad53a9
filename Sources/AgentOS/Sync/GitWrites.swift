/// The notes the OS wrote that wait for `GitNotes` to commit them, each with every hash the OS
/// wrote it with since (most recent last, at most `kept`). A round commits a note whose bytes are
/// any of them: a person's pull can put an older copy of a task back for a moment, the OS then
/// writes the run's end into it again, and the note may end holding an earlier write of the OS's.
/// Keyed by the last hash alone, such a note was dropped as "a person's change" and never
/// committed, and every later merge that touched it was refused: two machines stopped converging
/// (a clean CI run of the 500-task two-machine test, twice). A note holding none of them waits
/// `patience` rounds for one to come back, and is then the person's to commit.
struct GitWrites: Sendable {
    struct Entry: Sendable, Equatable {
        var hashes: [ContentHash]
        /// Rounds in a row the note held none of `hashes`.
        var misses: Int = 0
    }

    static let kept = 8
    static let patience = 12
    private(set) var entries: [String: Entry] = [:]

    var isEmpty: Bool { entries.isEmpty }

    /// Records that the OS wrote `path` with `hash`.
    mutating func record(_ path: String, _ hash: ContentHash) {
        var entry = entries[path] ?? Entry(hashes: [])
        entry.hashes.removeAll { $0 == hash }
        entry.hashes.append(hash)
        if entry.hashes.count > GitWrites.kept { entry.hashes.removeFirst(entry.hashes.count - GitWrites.kept) }
        entry.misses = 0
        entries[path] = entry
    }

    mutating func removeAll() { entries.removeAll() }

    /// The notes a round may commit — those whose hash in `current` (read before, outside the lock
    /// the writers record under; `nil`: gone) is one the OS wrote — taken out; the others read stay,
    /// one miss more (dropped after `patience`, or at once when gone); a note not read is left alone.
    mutating func takeMatching(current: [String: ContentHash?]) -> [String: Entry] {
        var taken: [String: Entry] = [:]
        for (path, entry) in entries {
            guard let read = current[path] else { continue }
            guard let now = read else {
                entries[path] = nil
                continue
            }
            if entry.hashes.contains(now) {
                taken[path] = entry
                entries[path] = nil
            } else if entry.misses + 1 >= GitWrites.patience {
                entries[path] = nil
            } else {
                entries[path]?.misses += 1
            }
        }
        return taken
    }

    /// Puts back what a round took and did not settle (unless the OS wrote the note again meanwhile).
    mutating func putBack(_ taken: [String: Entry]) {
        for (path, entry) in taken where entries[path] == nil { entries[path] = entry }
    }
}

import Foundation

/// The portable watcher: walks the tree every `interval` seconds and compares each file's
/// (kind, modification time, size, inode) with the previous walk. A file gone from one path and
/// found at another with the same inode, size and modification time (a rename keeps all three) is
/// reported as `.renamed(from:)`, as inotify reports a move: a running task renamed in Obsidian is
/// followed (an outside attack: under `--poll` its run was stopped and the task marked failed). A
/// folder renamed still shows as its removal and new files. Never reports `.overflow`. Same ignore
/// rules as `InotifyWatcher`.
public final class PollingWatcher: FileWatcher, @unchecked Sendable {
    struct Entry: Hashable {
        var isDirectory: Bool
        var mtime: Int64
        var size: Int64
        /// 0 when not known (never paired as a rename).
        var inode: UInt64 = 0
    }

    public let root: String
    private let interval: Double
    private var snapshot: [String: Entry] = [:]
    private var lastWalk = -Double.infinity
    /// Guards `stopped` and wakes a waiting `next` when `stop()` sets it.
    private let condition = NSCondition()
    private var stopped = false
    private var warnings: [String] = []

    /// Watches `root` (absolute), walking it every `interval` seconds.
    public init(root: String, interval: Double = 1.0) {
        var path = root
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.root = path
        self.interval = interval
    }

    public func start() throws {
        guard let st = try FileSystem.status(root), st.kind == .directory else {
            throw SystemError(call: "watch", subject: root, code: ENOTDIR)
        }
        snapshot = walk()
        lastWalk = Descriptor.monotonicSeconds()
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    public func takeWarnings() -> [String] {
        defer { warnings.removeAll() }
        return warnings
    }

    public func next(timeout: Double) -> [FileChange] {
        let deadline = Descriptor.monotonicSeconds() + max(0, timeout)
        while true {
            condition.lock()
            if stopped { condition.unlock(); return [] }
            let current = Descriptor.monotonicSeconds()
            let due = lastWalk + interval
            if current < due {
                if current >= deadline { condition.unlock(); return [] }
                _ = condition.wait(until: Date(timeIntervalSinceNow: min(due, deadline) - current))
                condition.unlock()
                continue
            }
            condition.unlock()
            let fresh = walk()
            lastWalk = Descriptor.monotonicSeconds()
            let changes = PollingWatcher.diff(old: snapshot, new: fresh)
            snapshot = fresh
            if !changes.isEmpty { return changes }
            if Descriptor.monotonicSeconds() >= deadline { return [] }
        }
    }

    /// The changes from `old` to `new`: removals first, then additions and changes, each in path
    /// order. Only the changes are sorted, not every path of the vault: a pass that finds nothing
    /// sorted 20,000 paths twice.
    static func diff(old: [String: Entry], new: [String: Entry]) -> [FileChange] {
        var removed: [String] = []
        for path in old.keys where new[path] == nil {
            // A path under a removed directory is covered by the directory's own removal.
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty, old[parent] != nil, new[parent] == nil { continue }
            removed.append(path)
        }
        // Files that left their path — removed, or replaced by another file (a new note saved at
        // once under a renamed one's name) — by what a rename keeps; one seen twice (two files
        // alike) pairs with nothing.
        var movable: [Entry: String] = [:]
        var ambiguous = Set<Entry>()
        func leftItsPath(_ path: String, _ entry: Entry) {
            guard !entry.isDirectory, entry.inode != 0 else { return }
            if movable.updateValue(path, forKey: entry) != nil { ambiguous.insert(entry) }
        }
        for path in removed { if let entry = old[path] { leftItsPath(path, entry) } }
        for (path, entry) in old where !entry.isDirectory && entry.inode != 0 {
            if let now = new[path], now.inode != entry.inode { leftItsPath(path, entry) }
        }
        var renamedFrom = Set<String>()
        var changed: [(path: String, kind: FileChange.Kind)] = []
        for (path, entry) in new {
            if let before = old[path] {
                if before.isDirectory != entry.isDirectory {
                    changed.append((path, entry.isDirectory ? .directoryAdded : .changed))
                } else if !entry.isDirectory && before != entry {
                    changed.append((path, .changed))
                }
            } else if !entry.isDirectory, !ambiguous.contains(entry), let from = movable[entry], renamedFrom.insert(from).inserted {
                changed.append((path, .renamed(from: from)))
            } else {
                changed.append((path, entry.isDirectory ? .directoryAdded : .changed))
            }
        }
        return removed.filter { !renamedFrom.contains($0) }.sorted().map { FileChange($0, .removed) } + changed.sorted { $0.path < $1.path }.map { FileChange($0.path, $0.kind) }
    }

    private func walk() -> [String: Entry] {
        var result: [String: Entry] = [:]
        result.reserveCapacity(snapshot.count)
        var stack = [""]
        while let directory = stack.popLast() {
            let absolute = directory.isEmpty ? root : root + "/" + directory
            guard let entries = try? FileSystem.list(absolute) else { continue }
            for entry in entries where !entry.name.hasPrefix(".") {
                let child = joinRelative(directory, entry.name)
                guard let st = (try? FileSystem.status(absolute + "/" + entry.name)) ?? nil else { continue }
                switch st.kind {
                case .directory:
                    result[child] = Entry(isDirectory: true, mtime: 0, size: 0)
                    stack.append(child)
                case .file:
                    result[child] = Entry(isDirectory: false, mtime: st.mtimeNanoseconds, size: st.size, inode: st.inode)
                default:
                    break
                }
            }
        }
        return result
    }
}

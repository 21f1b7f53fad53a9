import Foundation

/// The portable watcher: walks the tree every `interval` seconds and compares each file's
/// (kind, modification time, size) with the previous walk. It cannot see renames (they appear as
/// `.removed` + `.changed`) and never reports `.overflow`. Same ignore rules as `InotifyWatcher`.
public final class PollingWatcher: FileWatcher, @unchecked Sendable {
    struct Entry: Equatable {
        var isDirectory: Bool
        var mtime: Int64
        var size: Int64
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
        var changed: [(path: String, kind: FileChange.Kind)] = []
        for (path, entry) in new {
            if let before = old[path] {
                if before.isDirectory != entry.isDirectory {
                    changed.append((path, entry.isDirectory ? .directoryAdded : .changed))
                } else if !entry.isDirectory && before != entry {
                    changed.append((path, .changed))
                }
            } else {
                changed.append((path, entry.isDirectory ? .directoryAdded : .changed))
            }
        }
        return removed.sorted().map { FileChange($0, .removed) } + changed.sorted { $0.path < $1.path }.map { FileChange($0.path, $0.kind) }
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
                    result[child] = Entry(isDirectory: false, mtime: st.mtimeNanoseconds, size: st.size)
                default:
                    break
                }
            }
        }
        return result
    }
}

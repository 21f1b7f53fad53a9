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

    static func diff(old: [String: Entry], new: [String: Entry]) -> [FileChange] {
        var changes: [FileChange] = []
        for path in old.keys.sorted() where new[path] == nil {
            // A path under a removed directory is covered by the directory's own removal.
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty, old[parent] != nil, new[parent] == nil { continue }
            changes.append(FileChange(path, .removed))
        }
        for path in new.keys.sorted() {
            let entry = new[path]!
            if let before = old[path] {
                if before.isDirectory != entry.isDirectory {
                    changes.append(FileChange(path, entry.isDirectory ? .directoryAdded : .changed))
                } else if !entry.isDirectory && before != entry {
                    changes.append(FileChange(path, .changed))
                }
            } else {
                changes.append(FileChange(path, entry.isDirectory ? .directoryAdded : .changed))
            }
        }
        return changes
    }

    private func walk() -> [String: Entry] {
        var result: [String: Entry] = [:]
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

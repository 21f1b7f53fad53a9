#if canImport(Glibc)
import Foundation
import Glibc

/// The Linux watcher: one inotify watch per directory (never per file), added recursively.
///
/// - A new or moved-in directory gets its watch first and is listed afterwards, emitting `.changed` for
///   the files found (a file created in between may be reported twice; that is fine).
/// - `IN_MOVED_FROM`/`IN_MOVED_TO` are paired by cookie. A paired file move is `.renamed(from:)`; a
///   paired directory move is `.removed(old)` + `.directoryAdded(new)` + its files; an unpaired
///   `MOVED_FROM` (moved out of the tree, or to an ignored name) is `.removed` after the debounce; an
///   unpaired `MOVED_TO` (moved in, or from an ignored name such as a temp file) is `.changed`.
/// - `IN_Q_OVERFLOW` gives `.overflow` — at once the first time, then at most once per back-off period
///   (1 s doubling to 60 s), so an overflow storm cannot become a reconcile storm. Before an overflow is
///   reported, directories are walked again so that any watch lost with the events is added back.
/// - A write that says it is over — `IN_CLOSE_WRITE`, or a file renamed into place (`IN_MOVED_TO`) —
///   is reported at once; only a write still open (`IN_MODIFY` with no close yet, `IN_CREATE`) waits
///   for the per-path debounce (20 ms by default), which folds the several events of one save into one
///   change. Obsidian saves in place (open with truncate, write, close), so its saves end in a close.
/// - Removed or moved-out directories lose their watches.
public final class InotifyWatcher: FileWatcher, @unchecked Sendable {
    public let root: String
    private let debounce: Double
    private var fd: Int32 = -1
    /// The read end of the pipe `stop()` writes to, so that a waiting `next` wakes at once.
    private var wakeRead: Int32 = -1
    /// What `stop()` (any thread) shares with the watching thread: the flag, and the pipe's write end.
    private struct Control {
        var stopped = false
        var wakeWrite: Int32 = -1
    }
    private let control = Locked(Control())
    private var started = false
    private var coalescer: ChangeCoalescer
    /// watch descriptor → directory relative to root ("" for the root).
    private var directories: [Int32: String] = [:]
    private var watchOf: [String: Int32] = [:]
    /// MOVED_FROM waiting for its MOVED_TO: cookie → (path, isDirectory, time).
    private var moves: [UInt32: (path: String, isDirectory: Bool, time: Double)] = [:]
    private var warnings: [String] = []
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)
    /// The clock; tests replace it.
    var now: () -> Double = Descriptor.monotonicSeconds

    /// Watches `root` (absolute) with a per-path debounce of `debounce` seconds.
    public init(root: String, debounce: Double = 0.020) {
        var path = root
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.root = path
        self.debounce = debounce
        self.coalescer = ChangeCoalescer(debounce: debounce)
    }

    deinit {
        closeAll()
        buffer.deallocate()
    }

    public func start() throws {
        guard !started else { return }
        fd = try Inotify.makeInstance()
        do {
            let wakePipe = try Descriptor.makePipe()
            wakeRead = wakePipe.read
            control.withLock { $0.wakeWrite = wakePipe.write }
            try Descriptor.setNonBlocking(wakePipe.read)
            try Descriptor.setNonBlocking(wakePipe.write)
        } catch {
            closeAll()
            throw error
        }
        started = true
        do {
            try watchTree("", report: false)
        } catch {
            closeAll()
            throw error
        }
    }

    public func stop() {
        // The byte is written under the lock that `closeAll` takes, so it can never land in a
        // descriptor number that was closed and reused meanwhile.
        control.withLock { control in
            if !control.stopped && control.wakeWrite >= 0 {
                var byte: UInt8 = 1
                _ = withUnsafeBytes(of: &byte) { try? Descriptor.write(control.wakeWrite, from: $0) }
            }
            control.stopped = true
        }
    }

    private var isStopped: Bool { control.withLock { $0.stopped } }

    public func takeWarnings() -> [String] {
        defer { warnings.removeAll() }
        return warnings
    }

    public func next(timeout: Double) -> [FileChange] {
        guard started else { return [] }
        let deadline = now() + max(0, timeout)
        // A timeout of 0 still reads what the kernel holds (once, without waiting): the watcher asks
        // so between chunks of its start-up sweep, and must see a task written meanwhile.
        var looked = false
        while true {
            if isStopped { closeAll(); return [] }
            let current = now()
            expireMoves(now: current)
            let batch = takeDue(now: current)
            if !batch.isEmpty { return batch }
            var wait = deadline - current
            if let due = nextDeadline() { wait = min(wait, due - current) }
            if current >= deadline && (nextDeadline() ?? .infinity) > current {
                if looked { return [] }
                wait = 0
            }
            looked = true
            let ready = (try? Descriptor.poll([(fd, .readable), (wakeRead, .readable)], timeout: max(0, wait))) ?? []
            if ready.count == 2 && !ready[1].isEmpty { closeAll(); return [] }
            if ready.first.map({ !$0.isEmpty }) == true {
                do {
                    let events = try Inotify.readEvents(fd, buffer: buffer)
                    ingest(events, now: now())
                } catch {
                    warnings.append("inotify: \(error)")
                }
            }
        }
    }

    private func nextDeadline() -> Double? {
        var deadline = coalescer.nextDeadline
        for move in moves.values {
            let due = move.time + debounce
            deadline = min(deadline ?? due, due)
        }
        return deadline
    }

    private func takeDue(now: Double) -> [FileChange] {
        if coalescer.overflowPending && coalescer.nextDeadline.map({ $0 <= now }) == true {
            // Re-add watches lost with the dropped events before the caller starts reconciling.
            try? watchTree("", report: false)
        }
        // A symlink (or fifo, socket) at a changed path is not followed or reported, as the walk does.
        return coalescer.takeDue(now: now).filter { change in
            switch change.kind {
            case .changed, .renamed:
                guard let status = (try? FileSystem.status(root + "/" + change.path)) ?? nil else { return true }
                return status.kind == .file
            default:
                return true
            }
        }
    }

    /// Feeds decoded events through the watcher's rules (the real path and the tests' injection point).
    func ingest(_ events: [Inotify.Event], now: Double) {
        for event in events {
            if event.mask.contains(.queueOverflow) {
                coalescer.addOverflow(now: now)
                continue
            }
            guard let directory = directories[event.watch] else { continue }
            if event.mask.contains(.ignored) {
                forget(watch: event.watch)
                continue
            }
            if event.name.isEmpty {
                // About the watched directory itself; its parent reports the deletion or move. Only the
                // root has no parent here: losing it means everything must be looked at again.
                if directory.isEmpty && (event.mask.contains(.deleteSelf) || event.mask.contains(.moveSelf) || event.mask.contains(.unmount)) {
                    coalescer.addOverflow(now: now)
                }
                continue
            }
            let path = joinRelative(directory, event.name)
            let ignored = event.name.hasPrefix(".")
            let isDirectory = event.mask.contains(.isDirectory)

            if event.mask.contains(.movedFrom) {
                if !ignored { moves[event.cookie] = (path, isDirectory, now) }
                continue
            }
            if event.mask.contains(.movedTo) {
                let source = moves.removeValue(forKey: event.cookie)
                if ignored {
                    if let source { movedAway(source.path, isDirectory: source.isDirectory, now: now) }
                    continue
                }
                if let source {
                    if isDirectory {
                        renameDirectory(from: source.path, to: path, now: now)
                    } else {
                        coalescer.discard(source.path)
                        coalescer.add(path, .renamed(from: source.path), now: now, complete: true)
                    }
                } else if isDirectory {
                    directoryAppeared(path, now: now)
                } else {
                    coalescer.add(path, .changed, now: now, complete: true)
                }
                continue
            }
            if ignored { continue }
            if event.mask.contains(.create) {
                if isDirectory { directoryAppeared(path, now: now) } else { coalescer.add(path, .changed, now: now) }
            } else if event.mask.contains(.delete) {
                if isDirectory { dropWatches(under: path) }
                coalescer.add(path, .removed, now: now)
            } else if event.mask.contains(.closeWrite) {
                if !isDirectory { coalescer.add(path, .changed, now: now, complete: true) }
            } else if event.mask.contains(.modify) {
                if !isDirectory { coalescer.add(path, .changed, now: now) }
            }
        }
    }

    private func expireMoves(now: Double) {
        for (cookie, move) in moves where now >= move.time + debounce {
            moves[cookie] = nil
            movedAway(move.path, isDirectory: move.isDirectory, now: now)
        }
    }

    private func movedAway(_ path: String, isDirectory: Bool, now: Double) {
        if isDirectory { dropWatches(under: path) }
        // A file swapped with a temp file (`renameat2(RENAME_EXCHANGE)`, how `NoteStore` replaces a
        // note) moves "away" to the temp name while the new version takes its place: it changed.
        if !isDirectory, let st = (try? FileSystem.status(root + "/" + path)) ?? nil, st.kind == .file {
            coalescer.add(path, .changed, now: now, complete: true)
            return
        }
        coalescer.add(path, .removed, now: now)
    }

    private func renameDirectory(from old: String, to new: String, now: Double) {
        // The kernel's watches follow the moved directories; only our names for them change.
        for (wd, dir) in directories where isInside(dir, old) {
            let renamed = new + dir.dropFirst(old.count)
            directories[wd] = renamed
            watchOf[dir] = nil
            watchOf[renamed] = wd
        }
        for (path, entry) in coalescer.pending where isInside(path, old) {
            // A file renamed into the directory just before it moved: keep "its source is gone" under the
            // new name; anything else under the old name is covered by removing `old` and scanning `new`.
            if case .renamed(let from) = entry.kind, !isInside(from, old) {
                coalescer.move(path, to: new + path.dropFirst(old.count))
            } else {
                coalescer.discard(path)
            }
        }
        coalescer.add(old, .removed, now: now)
        // Each file in it is reported as renamed from its old path, as a file moved alone is: a task
        // running in a folder moved out of `Tasks/` (a project archived) is followed, not cancelled
        // as deleted with its note left `running` (an outside attack).
        directoryAppeared(new, now: now, movedFrom: old)
    }

    private func directoryAppeared(_ path: String, now: Double, movedFrom: String? = nil) {
        coalescer.add(path, .directoryAdded, now: now)
        do {
            try watchTree(path, report: true, movedFrom: movedFrom)
        } catch {
            warnings.append(String(describing: error))
        }
    }

    /// Adds watches to `relative` and every directory below it (watch first, then list), reporting the
    /// files found as `.changed` when `report` is set — or, with `movedFrom` (the directory's path
    /// before it was renamed to `relative`), as renamed from their paths under it.
    /// A directory found already watched under another name was moved here from it, its move's
    /// second half unseen (it went into a directory made just before, not yet watched: an archive
    /// folder made and a project moved into it at once): its files are reported as renamed too.
    private func watchTree(_ relative: String, report: Bool, movedFrom: String? = nil) throws {
        var stack: [(directory: String, movedFrom: String?)] = [(relative, movedFrom)]
        while let (directory, given) = stack.popLast() {
            let absolute = directory.isEmpty ? root : root + "/" + directory
            let wd: Int32
            do {
                wd = try Inotify.addWatch(fd, path: absolute)
            } catch {
                if directory.isEmpty { throw error }
                if case .system(let system) = error, system.isNotFound || system.code == ELOOP {
                    continue // gone already, or a symlink: nothing to watch
                }
                warnings.append(error.description)
                continue
            }
            var from = given
            if let known = directories[wd], known != directory {
                watchOf[known] = nil
                if report, from == nil { from = known }
            }
            directories[wd] = directory
            watchOf[directory] = wd
            guard let entries = try? FileSystem.list(absolute) else { continue }
            for entry in entries where !entry.name.hasPrefix(".") {
                let child = joinRelative(directory, entry.name)
                var kind = entry.kind
                if kind == nil { kind = (try? FileSystem.status(absolute + "/" + entry.name))??.kind }
                switch kind {
                case .directory?:
                    if report && watchOf[child] == nil { coalescer.add(child, .directoryAdded, now: now()) }
                    stack.append((child, from.map { $0 + "/" + entry.name }))
                case .file?:
                    if report, let from {
                        // A file renamed into the directory just before it moved keeps its own source.
                        if case .renamed? = coalescer.pending[child]?.kind { continue }
                        coalescer.add(child, .renamed(from: from + "/" + entry.name), now: now(), complete: true)
                    } else if report {
                        coalescer.add(child, .changed, now: now())
                    }
                default:
                    break // symlinks and special files are not followed or reported
                }
            }
        }
    }

    private func dropWatches(under path: String) {
        for (wd, dir) in directories where isInside(dir, path) {
            Inotify.removeWatch(fd, watch: wd)
            forget(watch: wd)
        }
    }

    private func forget(watch wd: Int32) {
        if let dir = directories.removeValue(forKey: wd), watchOf[dir] == wd { watchOf[dir] = nil }
    }

    /// For tests: forget a directory's watch as if its events had been lost in an overflow.
    func simulateLostWatch(_ relative: String) {
        if let wd = watchOf[relative] {
            Inotify.removeWatch(fd, watch: wd)
            forget(watch: wd)
        }
    }

    /// Number of directories watched (for tests and `doctor`).
    public var watchCount: Int { directories.count }

    private func closeAll() {
        control.withLock { control in
            for d in [fd, wakeRead, control.wakeWrite] { Descriptor.close(d) }
            fd = -1
            wakeRead = -1
            control.wakeWrite = -1
            control.stopped = true
        }
        directories.removeAll()
        watchOf.removeAll()
    }
}
#endif

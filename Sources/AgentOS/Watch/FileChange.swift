import Foundation

/// One thing that changed under the watched root, as a path relative to it.
///
/// Treat every change as "re-check this path": the file on disk (and its hash) is the truth; the kind
/// is a hint. Changes caused by our own writes are reported too — the caller recognises them by
/// comparing the file's content hash with the hash it wrote (see `FileWatcher`).
public struct FileChange: Hashable, Sendable, CustomStringConvertible {
    /// What happened.
    public enum Kind: Hashable, Sendable {
        /// The file was created or written (or moved in from outside the tree or from an ignored name,
        /// such as an editor's temp file).
        case changed
        /// The file or directory is gone; for a directory, everything under it is gone.
        case removed
        /// A file moved inside the tree: `from` is gone and `path` holds its content.
        case renamed(from: String)
        /// A directory appeared (created or moved in). Its files are reported as `.changed` as well.
        case directoryAdded
        /// Events were lost: reconcile everything under the root. `path` is empty.
        case overflow
    }

    /// The path relative to the watched root ("Tasks/Fix login.md"); empty for `.overflow`.
    public var path: String
    /// What happened to it.
    public var kind: Kind
    /// For `.changed`: the path was removed first, within the same batch of events (deleted and
    /// made again at once, `rm` then `task new`): what is there is a new file, not a save of the old.
    public var wasRemoved = false

    /// A change of `kind` at `path` (relative to the watched root).
    public init(_ path: String, _ kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// One line for logs: "renamed A.md -> B.md".
    public var description: String {
        switch kind {
        case .changed: return "changed \(path)"
        case .removed: return "removed \(path)"
        case .renamed(let from): return "renamed \(from) -> \(path)"
        case .directoryAdded: return "directory added \(path)"
        case .overflow: return "overflow"
        }
    }
}

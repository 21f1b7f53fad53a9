import Foundation

/// Watches a folder tree and hands out batches of changes; pull-style, for one watcher thread.
///
/// Use: `try watcher.start()`, then reconcile everything once (changes made before `start()` are not
/// reported), then loop `let batch = watcher.next(timeout: 1)` and handle each batch. `stop()` may be
/// called from any thread: it wakes a waiting `next` (which returns `[]`) and releases the resources.
/// `next` must be called from one thread at a time.
///
/// Self-writes: the watcher reports every change, ours included. The caller keeps the hash of what it
/// wrote for each path and ignores a change whose file now has that hash — simpler and more exact than
/// a suppression window in the watcher, which would swallow a person's edit made right after ours.
///
/// Ignored: any path with a component starting with "." (dot-folders such as `.obsidian`, `.agentos`,
/// `.trash`, and our `.fbt-` temp files). Symlinks are never followed.
public protocol FileWatcher: AnyObject, Sendable {
    /// The absolute root being watched.
    var root: String { get }
    /// Begins watching; throws when the root cannot be watched (for inotify: with the fix for `ENOSPC`).
    func start() throws
    /// Waits up to `timeout` seconds for changes and returns the next batch (`[]` when none, or stopped).
    func next(timeout: Double) -> [FileChange]
    /// Stops watching; safe from any thread, idempotent.
    func stop()
    /// Problems met while running that did not stop the watcher (e.g. the watch limit reached for a new
    /// folder), one clear line each; reading them clears the list. Call it from the thread that calls `next`.
    func takeWarnings() -> [String]
}

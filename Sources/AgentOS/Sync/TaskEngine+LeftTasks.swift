import Foundation

/// Tasks this machine left for another (`sync: git` or `sync: files`): their claim was another
/// machine's. A shared claim is keyed by the task's path, the same on every machine; a person who
/// renamed such a task here before the other machine's `status` arrived made it a new path, and its
/// claim a new one: the task ran on both machines (an outside attack). What was left is kept by
/// path, follows the watcher's renames, and a status-less note with its text at a new name, whose
/// old name is gone, is taken for it: its claim is looked up under the old name.
extension TaskEngine {
    /// A task left for another machine: the path its claim is keyed by, the attempt, its prompt and
    /// when it was left.
    struct LeftTask: Sendable {
        var key: String
        var attempt: Int
        var prompt: PromptMark
        var at: Double
    }

    /// How many left tasks are kept (the oldest go first).
    static let leftTasksKept = 1024

    /// Remembers that `task`'s attempt `attempt` was left for another machine.
    func rememberLeft(_ task: TaskNote, attempt: Int, key: String? = nil) {
        let left = LeftTask(key: key ?? task.path, attempt: attempt, prompt: PromptMark(task.prompt), at: Date().timeIntervalSince1970)
        state.withLock { state in
            state.leftTasks[task.path] = left
            if state.leftTasks.count > TaskEngine.leftTasksKept, let oldest = state.leftTasks.min(by: { $0.value.at < $1.value.at })?.key {
                state.leftTasks[oldest] = nil
            }
        }
    }

    /// A left task renamed from `old` to `new` (the watcher saw the rename): it is the same task.
    func followLeft(from old: String, to new: String) {
        state.withLock { state in
            if old != new, let left = state.leftTasks.removeValue(forKey: old) { state.leftTasks[new] = left }
        }
    }

    /// The task left for another machine that `task` (about to claim attempt `attempt`) is, under
    /// another name: renamed while the watcher saw it, or a status-less note whose text begins with
    /// the left task's prompt while no note is at the left task's name any more. `nil` when `task`
    /// is itself at the name its claim is keyed by, or is new work: it carries the OS's `status` or
    /// `run_id`, a `created` after the task was left, or came over `oldCopyWindow` later (a task
    /// written again every morning).
    func renamedLeftTask(_ task: TaskNote, attempt: Int) -> (from: String, left: LeftTask)? {
        guard TaskEngine.mayBeOldCopy(task.note) else { return nil }
        let now = Date().timeIntervalSince1970
        let created = TaskEngine.createdTime(task.note)
        func matches(_ left: LeftTask) -> Bool {
            left.attempt == attempt && now - left.at < TaskEngine.oldCopyWindow && left.prompt.begins(task.prompt)
                && (created.map { $0 <= left.at.rounded(.down) } ?? true)
        }
        let entries = state.withLock { $0.leftTasks }
        if let left = entries[task.path] {
            return left.key != task.path && matches(left) ? (left.key, left) : nil
        }
        for (path, left) in entries where path != task.path && matches(left) {
            guard let absolute = try? vault.resolve(path), TaskEngine.isGone(absolute) else { continue }
            state.withLock { state in
                state.leftTasks[path] = nil
                state.leftTasks[task.path] = left
            }
            return (path, left)
        }
        return nil
    }

    /// Whether nothing is at `absolute` (a folder that cannot be read is not taken for nothing).
    static func isGone(_ absolute: String) -> Bool {
        do { return try FileSystem.status(absolute) == nil } catch { return false }
    }

    /// `task`, a note without the OS's `status` and `run_id`, whose shared claim this machine's own
    /// run `runID` of the same path and attempt holds, and which ended: the note is an old copy of
    /// that run's task, and the run's end is written back (`setBack`). Such a note can never run
    /// as that attempt (its claim is taken); a person runs it again with `status: new`. `false`
    /// when it is not one.
    func setBackOwnRun(_ task: TaskNote, runID: String) -> Bool {
        guard TaskEngine.mayBeOldCopy(task.note), let record = (try? runs.run(id: runID)) ?? nil,
              record.taskPath == task.path, !record.state.isActive else { return false }
        _ = setBack(task, to: record, runID: runID, movedTo: nil)
        return true
    }
}

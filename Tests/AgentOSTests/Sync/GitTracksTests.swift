import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// Round 127: whether git tracks a task decides which put-back rule applies (`GitNotes.tracks`).
/// Git is asked on the engine's queue, so a git that hangs must not hold the watcher, and a
/// machine without git must not bring back round 125's blocked `stash pop`.
@Suite struct GitTracksTests {
    func repository() throws -> String {
        let root = TemporaryFolder.make("fbt-git-tracks")
        try GitNotesMergeTests.git(["init", "--quiet"], in: root)
        try FileManager.default.createDirectory(atPath: root + "/Tasks", withIntermediateDirectories: true)
        try "task\n".replacingFile(root + "/Tasks/Tracked.md")
        try "task\n".replacingFile(root + "/Tasks/Untracked.md")
        try GitNotesMergeTests.git(["add", "Tasks/Tracked.md"], in: root)
        return root
    }

    @Test func gitIsAskedAndAnswersForTrackedAndUntrackedNotes() throws {
        let root = try repository()
        let environment = ["PATH": "/usr/bin:/bin", "HOME": root, "LANG": "de_DE.UTF-8"]
        #expect(GitNotes.tracks("Tasks/Tracked.md", vaultRoot: root, environment: environment))
        #expect(!GitNotes.tracks("Tasks/Untracked.md", vaultRoot: root, environment: environment))
        // A repository the environment names (a git hook sets `GIT_DIR`) is not the one asked (round 128).
        let other = try repository()
        try "task\n".replacingFile(root + "/Tasks/OnlyHere.md")
        try GitNotesMergeTests.git(["add", "Tasks/OnlyHere.md"], in: root)
        #expect(GitNotes.tracks("Tasks/OnlyHere.md", vaultRoot: root, environment: environment.merging(["GIT_DIR": other + "/.git", "GIT_WORK_TREE": other]) { $1 }))
        #expect(GitNotes.tracks("Tasks/OnlyHere.md", vaultRoot: root, environment: environment.merging(["GIT_DIR": other + "/.git"]) { $1 }))
        // No `.git` in the vault's folder or above: git is not asked.
        let plain = TemporaryFolder.make("fbt-git-none")
        #expect(!GitNotes.tracks("Tasks/Tracked.md", vaultRoot: plain, environment: environment))
    }

    @Test func aGitThatCannotAnswerCountsTheNoteAsTracked() throws {
        let root = try repository()
        // No git on the PATH.
        #expect(GitNotes.tracks("Tasks/Untracked.md", vaultRoot: root, environment: ["PATH": "/nonexistent", "HOME": root]))
        // A git that hangs: stopped, not waited for (its mark after the sleep is never written).
        let bin = TemporaryFolder.make("fbt-git-slow")
        let mark = bin + "/finished"
        try "#!/bin/sh\nsleep 20\ntouch \(mark)\nexit 1\n".replacingFile(bin + "/git")
        #expect(chmod(bin + "/git", 0o755) == 0)
        #expect(GitNotes.tracks("Tasks/Untracked.md", vaultRoot: root, environment: ["PATH": bin + ":/usr/bin:/bin", "HOME": root]))
        #expect(!FileManager.default.fileExists(atPath: mark))
    }
}

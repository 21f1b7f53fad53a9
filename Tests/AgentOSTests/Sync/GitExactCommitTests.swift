import Foundation
import Testing
import TestSupport
@testable import AgentOS

extension GitNotes {
    /// `round(notes:)` with the bytes each of `paths` holds now, as a round reads them.
    func round(paths: [String], remote: String, log: (EngineEvent) -> Void) -> Round {
        var notes: [String: [UInt8]] = [:]
        for path in paths {
            if let bytes = FileManager.default.contents(atPath: git.vault.root + "/" + path) { notes[path] = Array(bytes) }
        }
        return round(notes: notes, remote: remote, log: log)
    }
}

/// Round 136 F1: a round read a note, found the OS's bytes in it, and then `git add` (and
/// `git commit -- paths`) read the file again a few git processes later: a person's save in place
/// in between was committed under the OS's name and pushed — a result note with the person's line
/// (5 of 6), a task note the person had just made private, with its secret (3 of 4). A round now
/// commits exactly the bytes it read (`GitNotes.commitExactly`); what the file holds later is the
/// person's, left uncommitted.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git"), "needs git"))
struct GitExactCommitTests {
    typealias G = GitRoundRecoveryTests

    @Test func aPersonsSaveAfterTheRoundReadTheNoteIsNeitherCommittedNorPushed() throws {
        let root = try G.clones()
        let a = root + "/a"
        try FileManager.default.createDirectory(atPath: a + "/Tasks", withIntermediateDirectories: true)
        let os = "---\ntype: task\nstatus: done\nagent: echo\n---\nSummarize the week.\n"
        // What the round read (the OS's write) …
        try os.replacingFile(a + "/Tasks/T.md")
        // … and what the person saved in place right after: private now, with a secret.
        let person = "---\nprivacy: private\ntype: task\nstatus: done\nagent: echo\n---\nSummarize the week.\nMY-BANK-PIN 4711\n"
        let handle = try #require(FileHandle(forUpdatingAtPath: a + "/Tasks/T.md"))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(person.utf8))
        try handle.close()

        let round = G.notes(root, "a").round(notes: ["Tasks/T.md": Array(os.utf8)], remote: "origin", log: { _ in })
        #expect(round.problem == nil, "\(round.problem ?? "")")
        #expect(round.committed == 1 && round.pushed)
        // The commit and the remote hold the OS's bytes; the file the person's, uncommitted.
        #expect(G.output(["show", "HEAD:Tasks/T.md"], in: a) == os)
        #expect(G.output(["--git-dir", root + "/remote.git", "show", "main:Tasks/T.md"], in: root) == os)
        #expect(!G.output(["--git-dir", root + "/remote.git", "log", "-p", "main"], in: root).contains("MY-BANK-PIN"))
        #expect(G.read(a + "/Tasks/T.md") == person)
        #expect(G.output(["status", "--porcelain", "--", "Tasks/T.md"], in: a) == " M Tasks/T.md\n")
        // The commit is the OS's, with HEAD as its parent, and took nothing else.
        #expect(G.output(["log", "-1", "--format=%an|%s", "HEAD"], in: a) == "fuckbigtech on a|fuckbigtech on a: 1 note\n")
        #expect(G.output(["show", "--name-only", "--format=", "HEAD"], in: a) == "Tasks/T.md\n")
    }

    /// Round 137 F2: a person who edits the note and `git add`s it while the round commits keeps
    /// it staged (the index took the OS's bytes over it, 6 of 6, and their next commit took
    /// nothing of it).
    @Test func aPersonsGitAddDuringTheRoundStaysStaged() throws {
        let root = try G.clones()
        let a = root + "/a"
        try FileManager.default.createDirectory(atPath: a + "/Results", withIntermediateDirectories: true)
        let os = "---\ntype: result\n---\nanswer\n"
        try os.replacingFile(a + "/Results/R.md")
        var notes = G.notes(root, "a")
        notes.afterCommitTree = {
            try? (os + "PERSON-STAGED\n").replacingFile(a + "/Results/R.md")
            try? G.git(["add", "Results/R.md"], in: a)
        }
        let round = notes.round(notes: ["Results/R.md": Array(os.utf8)], remote: "origin", log: { _ in })
        #expect(round.problem == nil && round.committed == 1, "\(round)")
        #expect(G.output(["show", "HEAD:Results/R.md"], in: a) == os)
        #expect(G.output(["show", ":Results/R.md"], in: a) == os + "PERSON-STAGED\n")
        #expect(G.output(["status", "--porcelain", "--", "Results"], in: a) == "M  Results/R.md\n")
    }

    /// Round 138: the person's `git add` landed before the round looked at the index (after it
    /// read the note): it was taken for the index as the round began, and put back to the OS's bytes.
    @Test func aPersonsGitAddBeforeTheRoundLooksAtTheIndexStaysStaged() throws {
        let root = try G.clones()
        let a = root + "/a"
        try FileManager.default.createDirectory(atPath: a + "/Results", withIntermediateDirectories: true)
        let os = "---\ntype: result\n---\nanswer\n"
        // The round read the OS's bytes; then the person edited the note and staged it.
        try (os + "PERSON-STAGED\n").replacingFile(a + "/Results/R.md")
        try G.git(["add", "Results/R.md"], in: a)
        let round = G.notes(root, "a").round(notes: ["Results/R.md": Array(os.utf8)], remote: "origin", log: { _ in })
        #expect(round.problem == nil && round.committed == 1, "\(round)")
        #expect(G.output(["show", "HEAD:Results/R.md"], in: a) == os)
        #expect(G.output(["show", ":Results/R.md"], in: a) == os + "PERSON-STAGED\n")
        #expect(G.output(["status", "--porcelain", "--", "Results"], in: a) == "M  Results/R.md\n")
    }

    /// Two clones of a repository whose vault is its folder `v/` (a person's own `Daily/` beside
    /// it), each with the vault's day note committed.
    /// (`folder` is the vault's folder; `relative` sets the person's `diff.relative`.)
    static func subfolderClones(_ folder: String = "v", relative: Bool = false) throws -> String {
        let root = TemporaryFolder.make("fbt-git-subday")
        try G.git(["init", "--quiet", "--bare", "-b", "main", root + "/remote.git"], in: root)
        for name in ["a", "b"] {
            try G.git(["clone", "--quiet", root + "/remote.git", root + "/" + name], in: root)
            try G.git(["checkout", "--quiet", "-B", "main"], in: root + "/" + name)
        }
        let a = root + "/a"
        try FileManager.default.createDirectory(atPath: a + "/\(folder)/Daily", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: a + "/Daily", withIntermediateDirectories: true)
        try "# 2026-12-06\n\n- 09:00 first\n".replacingFile(a + "/\(folder)/" + G.day)
        try "My diary.\n".replacingFile(a + "/" + G.day)
        try G.git(["add", "-A"], in: a)
        try G.git(["commit", "--quiet", "-m", "seed"], in: a)
        try G.git(["push", "--quiet", "origin", "main"], in: a)
        try G.git(["pull", "--quiet", "origin", "main"], in: root + "/b")
        if relative { for name in ["a", "b"] { try G.git(["config", "diff.relative", "true"], in: root + "/" + name) } }
        return root
    }

    static func subfolderNotes(_ root: String, _ name: String, _ folder: String = "v") -> GitNotes {
        GitNotes(git: GitClaims(vault: Vault(root: root + "/" + name + "/" + folder), remote: "origin", machine: name))
    }

    /// The vault folders and settings the two tests below run with: round 139 found `diff.relative`
    /// and a folder name beginning with a space each undoing round 138's fix.
    static let layouts: [(String, Bool)] = [("v", false), ("v", true), (" v", false)]

    /// Round 138 F2: both machines appended to the vault's day note (`v/Daily/…`); git named the
    /// conflict from the top of the work tree, the OS did not see a day note in it, undid the merge
    /// and stopped converging. It is merged line by line.
    @Test(arguments: layouts) func dayNotesOfAVaultInAFolderAreMergedLineByLine(folder: String, relative: Bool) throws {
        let root = try Self.subfolderClones(folder, relative: relative)
        defer { TemporaryFolder.remove(root) }
        let b = root + "/b"
        try (G.read(b + "/\(folder)/" + G.day) + "- 10:00 on b\n").replacingFile(b + "/\(folder)/" + G.day)
        try G.git(["commit", "--quiet", "-am", "b"], in: b)
        try G.git(["push", "--quiet", "origin", "main"], in: b)
        let a = root + "/a"
        let line = G.read(a + "/\(folder)/" + G.day) + "- 10:00 on a\n"
        try line.replacingFile(a + "/\(folder)/" + G.day)
        let round = Self.subfolderNotes(root, "a", folder).round(notes: [G.day: Array(line.utf8)], remote: "origin", log: { _ in })
        #expect(round.problem == nil && round.pushed, "\(round)")
        let merged = G.read(a + "/\(folder)/" + G.day)
        #expect(merged.contains("- 10:00 on a") && merged.contains("- 10:00 on b") && !SyncConflict.hasMergeMarkers(Array(merged.utf8)), "\(merged)")
        #expect(G.output(["status", "--porcelain"], in: a).isEmpty)
    }

    /// Round 138 F1: a person's stash pop conflicted in their own `Daily/…` beside the vault; the OS
    /// took it for its day note, merged both sides (the line the person then threw away too) into
    /// the vault's and committed that. A conflict outside the vault is the person's: nothing of it
    /// is merged, and the OS's notes wait.
    @Test(arguments: layouts) func aConflictInThePersonsOwnDayNoteBesideTheVaultIsLeftToThem(folder: String, relative: Bool) throws {
        let root = try Self.subfolderClones(folder, relative: relative)
        defer { TemporaryFolder.remove(root) }
        let (a, b) = (root + "/a", root + "/b")
        try "My diary.\nFrom b.\n".replacingFile(b + "/" + G.day)
        try G.git(["commit", "--quiet", "-am", "b"], in: b)
        try G.git(["push", "--quiet", "origin", "main"], in: b)
        try "My diary.\nSECRET-STASHED-LINE\n".replacingFile(a + "/" + G.day)
        try G.git(["stash", "--quiet"], in: a)
        try G.git(["pull", "--quiet", "--no-rebase", "origin", "main"], in: a)
        _ = G.output(["stash", "pop"], in: a)
        #expect(SyncConflict.hasMergeMarkers(Array(G.read(a + "/" + G.day).utf8)), "the pop conflicted")
        let line = G.read(a + "/\(folder)/" + G.day) + "- 11:00 on a\n"
        try line.replacingFile(a + "/\(folder)/" + G.day)
        let round = Self.subfolderNotes(root, "a", folder).round(notes: [G.day: Array(line.utf8)], remote: "origin", log: { _ in })
        #expect(round.problem?.contains(G.day) == true && !round.pathsSettled, "\(round)")
        #expect(!G.read(a + "/\(folder)/" + G.day).contains("SECRET-STASHED-LINE"))
        #expect(!G.output(["log", "-p", "--all"], in: a).contains("+SECRET-STASHED-LINE"))
    }

    /// Round 139 F4: an untracked note identical to one the merge brings is removed for it; the
    /// merge was then undone over a conflict in another note, and the note was gone from the disk.
    /// It is written back.
    @Test func anUntrackedNoteRemovedForAMergeThatIsUndoneIsWrittenBack() throws {
        let root = try G.clones()
        let (a, b) = (root + "/a", root + "/b")
        let copy = "---\ntype: note\n---\nThe same on both machines.\n"
        try copy.replacingFile(b + "/Copy.md")
        try "seed, as b has it\n".replacingFile(b + "/seed.md")
        try G.git(["add", "-A"], in: b)
        try G.git(["commit", "--quiet", "-m", "b"], in: b)
        try G.git(["push", "--quiet", "origin", "main"], in: b)
        try copy.replacingFile(a + "/Copy.md")
        try "seed, as a has it\n".replacingFile(a + "/seed.md")
        try G.git(["commit", "--quiet", "-am", "a"], in: a)
        let round = G.notes(root, "a").round(notes: [:], remote: "origin", log: { _ in })
        #expect(round.problem?.contains("seed.md") == true, "\(round)")
        #expect(G.read(a + "/Copy.md") == copy)
        #expect(G.output(["status", "--porcelain", "--", "Copy.md"], in: a) == "?? Copy.md\n")
    }

    /// Only the OS's paths: a change a person staged, or made, in another note stays as it was.
    @Test func whatAPersonStagedElsewhereStaysStagedAndUncommitted() throws {
        let root = try G.clones()
        let a = root + "/a"
        try "seed, edited by the person\n".replacingFile(a + "/seed.md")
        try G.git(["add", "seed.md"], in: a)
        try "a new note of the person's\n".replacingFile(a + "/Mine.md")
        let line = G.read(a + "/" + G.day) + "- 10:00 [[Results/R]]\n"
        try line.replacingFile(a + "/" + G.day)
        let round = G.notes(root, "a").round(notes: [G.day: Array(line.utf8)], remote: "origin", log: { _ in })
        #expect(round.problem == nil && round.committed == 1, "\(round)")
        #expect(G.output(["show", "--name-only", "--format=", "HEAD"], in: a) == G.day + "\n")
        #expect(G.output(["status", "--porcelain"], in: a) == "M  seed.md\n?? Mine.md\n")
        // Committed already: a second round has nothing to commit and settles.
        let again = G.notes(root, "a").round(notes: [G.day: Array(line.utf8)], remote: "origin", log: { _ in })
        #expect(again.problem == nil && again.committed == 0 && again.pathsSettled, "\(again)")
    }

    /// A repository that converts line endings on `git add` (`core.autocrlf`, a `text`/`eol`
    /// attribute) gets the bytes converted as `git add` would, so the note shows unchanged after.
    @Test func aRepositoryThatConvertsLineEndingsGetsTheBytesAsGitAddWould() throws {
        let root = try G.clones()
        let a = root + "/a"
        try "*.md text eol=lf\n".replacingFile(a + "/.gitattributes")
        try G.git(["add", ".gitattributes"], in: a)
        try G.git(["commit", "--quiet", "-m", "attributes"], in: a)
        try FileManager.default.createDirectory(atPath: a + "/Results", withIntermediateDirectories: true)
        let crlf = "---\r\ntype: result\r\n---\r\nanswer\r\n"
        try crlf.replacingFile(a + "/Results/R.md")
        let round = G.notes(root, "a").round(notes: ["Results/R.md": Array(crlf.utf8)], remote: "origin", log: { _ in })
        #expect(round.problem == nil && round.committed == 1, "\(round)")
        #expect(G.output(["show", "HEAD:Results/R.md"], in: a) == "---\ntype: result\n---\nanswer\n")
        #expect(G.output(["status", "--porcelain", "--", "Results"], in: a).isEmpty)
    }

    /// A vault in a folder of the work tree (`~/repo/vault`): the notes are committed at their
    /// place in it, as `git add` run in the vault's folder puts them.
    @Test func aVaultInAFolderOfTheWorkTreeHasItsNotesCommittedInThatFolder() throws {
        let root = TemporaryFolder.make("fbt-git-sub")
        defer { TemporaryFolder.remove(root) }
        try G.git(["init", "--quiet", "--bare", "-b", "main", root + "/remote.git"], in: root)
        try G.git(["clone", "--quiet", root + "/remote.git", root + "/repo"], in: root)
        try G.git(["checkout", "--quiet", "-B", "main"], in: root + "/repo")
        try FileManager.default.createDirectory(atPath: root + "/repo/vault/Tasks", withIntermediateDirectories: true)
        try "seed\n".replacingFile(root + "/repo/README.md")
        try G.git(["add", "-A"], in: root + "/repo")
        try G.git(["commit", "--quiet", "-m", "seed"], in: root + "/repo")
        let text = "---\ntype: task\nstatus: done\n---\nx\n"
        try text.replacingFile(root + "/repo/vault/Tasks/T.md")
        let notes = GitNotes(git: GitClaims(vault: Vault(root: root + "/repo/vault"), remote: "origin", machine: "a"))
        let round = notes.round(notes: ["Tasks/T.md": Array(text.utf8)], remote: "origin", log: { _ in })
        #expect(round.problem == nil && round.committed == 1 && round.pushed, "\(round)")
        #expect(G.output(["show", "--name-only", "--format=", "HEAD"], in: root + "/repo") == "vault/Tasks/T.md\n")
        #expect(G.output(["status", "--porcelain"], in: root + "/repo").isEmpty)
    }

    /// A person's git command holding the index: nothing is committed, the note goes to the next
    /// round, which commits it.
    @Test func anIndexLockHeldByAPersonsGitLeavesTheNoteForTheNextRound() throws {
        let root = try G.clones()
        let a = root + "/a"
        try FileManager.default.createDirectory(atPath: a + "/Results", withIntermediateDirectories: true)
        try "R\n".replacingFile(a + "/Results/R.md")
        try "".replacingFile(a + "/.git/index.lock")
        let locked = G.notes(root, "a").round(notes: ["Results/R.md": Array("R\n".utf8)], remote: "origin", log: { _ in })
        #expect(!locked.pathsSettled && locked.problem?.contains(".git/index.lock") == true, "\(locked)")
        #expect(G.output(["log", "--format=%s"], in: a) == "seed\n", "nothing committed while the index was locked")
        try FileManager.default.removeItem(atPath: a + "/.git/index.lock")
        let round = G.notes(root, "a").round(notes: ["Results/R.md": Array("R\n".utf8)], remote: "origin", log: { _ in })
        #expect(round.problem == nil && round.committed == 1 && round.pushed, "\(round)")
        #expect(G.output(["status", "--porcelain"], in: a).isEmpty)
    }
}

/// Round 136 F2: what a killed machine puts back as committed when another machine took its run
/// over — only a copy that differs by what the run and its agent write, never a person's word.
@Suite struct TakenOverTaskRestoreTests {
    static func note(_ text: String) throws -> Note { try Note.parse(bytes: Array(text.utf8)) }

    @Test func onlyWhatARunWritesIsTakenBack() throws {
        let committed = try Self.note("---\ntype: task\nagent: echo\n---\nSummarize the week.\n")
        let running = try Self.note("---\ntype: task\nagent: echo\nrun_id: 20261207-1\nstatus: running\nroute_lane: local\nmachine: a\napproved: true\napproved_by: alice\nverdict: pass\n---\nSummarize the week.\n")
        #expect(TaskEngine.differsOnlyByARun(running, from: committed))
        // A person's edits on this machine stay theirs: the text, a routing key, a status of theirs.
        let edited = try Self.note("---\ntype: task\nagent: echo\nstatus: running\n---\nSummarize the week and the month.\n")
        let moved = try Self.note("---\ntype: task\nagent: claude\nstatus: running\n---\nSummarize the week.\n")
        let cancelled = try Self.note("---\ntype: task\nagent: echo\nrun_id: 20261207-1\nstatus: cancelled\n---\nSummarize the week.\n")
        let private_ = try Self.note("---\ntype: task\nagent: echo\nprivacy: private\nstatus: running\n---\nSummarize the week.\n")
        for copy in [edited, moved, cancelled, private_] { #expect(!TaskEngine.differsOnlyByARun(copy, from: committed), "\(copy.properties)") }
    }
}

@testable import AgentOS
import Foundation
import TestSupport
import Testing

/// The pieces of claim files (`sync: files`) that need no second machine: the settings, the file's
/// round trip, who holds an attempt, the effects rule on a takeover, and the clean-up.
@Suite struct FileClaimsTests {
    @Test func syncFilesTakesAClaimWaitShorterThanHalfTheLease() {
        let book = RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: files\nlease: 2m\nclaim_wait: 15s\n---\n")])
        #expect(book.sync?.mode == "files" && book.sync?.lease == 120 && book.sync?.claimWait == 15)
        #expect(RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: files\n---\n")]).sync?.claimWait == SyncSettings.defaultClaimWait)
        let long = RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: files\nlease: 20s\nclaim_wait: 15s\n---\n")])
        #expect(long.sync == nil && long.problems.contains { $0.message.contains("more than half the lease") })
        let bad = RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: files\nclaim_wait: later\n---\n")])
        #expect(bad.sync == nil && bad.problems.contains { $0.message.contains("claim_wait: 'later' is not a duration") })
        let unknown = RuleBook.parse(notes: [("Rules/Sync.md", "---\ntype: sync\nsync: syncthing\n---\n")])
        #expect(unknown.sync == nil && unknown.problems.contains { $0.message.contains("is not git, files or none") })
    }

    static func claim(_ machine: String, at: Double, _ state: FileClaim.State = .claiming, run: String? = nil, over: String? = nil) -> FileClaim {
        FileClaim(machine: machine, runID: run ?? "run-" + machine, session: "s", task: "Tasks/T.md", attempt: 1, state: state, claimedAt: at, takenOverFrom: over)
    }

    @Test func aClaimFileReadsBackAsWritten() throws {
        var claim = Self.claim("laptop", at: 1_780_000_000.125, .finished, over: "desk (run R9)")
        claim.renewed = 3
        claim.outcome = "done"
        claim.finishedAt = 1_780_000_100.5
        #expect(FileClaim.parse(claim.text) == claim)
        #expect(FileClaim.parse("claimed_by: x\n") == nil)
        // A claim time in milliseconds reads back as the same number (the engine writes no finer).
        for _ in 0..<1000 {
            let at = (Double.random(in: 1_700_000_000...1_900_000_000) * 1000).rounded() / 1000
            #expect(FileClaim.parse(Self.claim("a", at: at).text)?.claimedAt == at)
        }
        #expect(FileClaims.fileName(taskPath: "Tasks/T.md", attempt: 2, machine: "desk").hasSuffix("-2.desk.claim"))
    }

    @Test func theEarliestSettlingClaimRunsAndEveryMachineAgrees() {
        let alpha = Self.claim("alpha", at: 100.5)
        let beta = Self.claim("beta", at: 100.2)
        let all = [alpha, beta]
        // Both machines read both files and name the same holder: beta, the earlier claim.
        #expect(FileClaims.holder(against: alpha, among: all) == beta)
        #expect(FileClaims.holder(against: beta, among: all) == nil)
        // A tie in time: the machine name decides, on both.
        let tieA = Self.claim("alpha", at: 7), tieB = Self.claim("beta", at: 7)
        #expect(FileClaims.holder(against: tieA, among: [tieA, tieB]) == nil)
        #expect(FileClaims.holder(against: tieB, among: [tieA, tieB]) == tieA)
        // A claim that already won (or finished) holds the attempt whatever its time.
        let late = Self.claim("gamma", at: 500, .claimed)
        #expect(FileClaims.holder(against: beta, among: all + [late]) == late)
        let done = Self.claim("gamma", at: 500, .finished)
        #expect(FileClaims.holder(against: beta, among: all + [done]) == done)
        // A claim this machine takes over does not hold it; a rival rescuer settling earlier does.
        let dead = Self.claim("gamma", at: 1, .claimed)
        let rescuer = Self.claim("alpha", at: 200, over: dead.holder)
        #expect(FileClaims.holder(against: rescuer, among: [dead, rescuer]) == nil)
        let rival = Self.claim("beta", at: 199, over: dead.holder)
        #expect(FileClaims.holder(against: rescuer, among: [dead, rescuer, rival]) == rival)
        // This machine's own file of an earlier run of the attempt holds it too.
        let earlier = Self.claim("alpha", at: 50, .finished, run: "R-old")
        #expect(FileClaims.holder(against: alpha, among: [earlier, alpha]) == earlier)
    }

    @Test func aTakenOverClaimFileFollowsTheGitEffectsRule() throws {
        let (declared, folder) = try GitSyncTests.task("---\ntype: task\neffects: [write]\n---\nSummarize the notes.\n")
        withExtendedLifetime(folder) {}
        // Its machine won and may have started the agent: review, as for a git takeover.
        let started = TaskEngine.takeoverPlan(GitSyncTests.plan, task: declared, from: Self.claim("alpha", at: 1, .claimed))
        guard case .review(let why) = started.action else { Issue.record("not review: \(started.action)"); return }
        #expect(why.contains("taken over from alpha (run run-alpha)"))
        // Its machine stopped while still settling: nothing ran there, the task runs.
        #expect(TaskEngine.takeoverPlan(GitSyncTests.plan, task: declared, from: Self.claim("alpha", at: 1)).action == .run)
    }

    @Test func finishedClaimFilesOfThisMachineAreDeletedADayLater() throws {
        let folder = TemporaryFolder()
        let vault = Vault(root: folder.path)
        let mine = FileClaims(vault: vault, machine: "alpha")
        let theirs = FileClaims(vault: vault, machine: "beta")
        var old = Self.claim("alpha", at: 10, .finished)
        old.finishedAt = 1_000
        var recent = FileClaim(machine: "alpha", runID: "R2", session: "s", task: "Tasks/U.md", attempt: 1, state: .finished, claimedAt: 10)
        recent.finishedAt = 1_000 + FileLeases.keepFinished
        var other = Self.claim("beta", at: 10, .finished)
        other.finishedAt = 1_000
        #expect(mine.write(old) == nil && mine.write(recent) == nil && theirs.write(other) == nil)
        FileLeases.cleanUp(claims: mine, files: mine.all(), now: 1_000 + FileLeases.keepFinished + 1)
        #expect(mine.claims(taskPath: "Tasks/T.md", attempt: 1).map(\.machine) == ["beta"])
        #expect(mine.claims(taskPath: "Tasks/U.md", attempt: 1).count == 1)
    }
}

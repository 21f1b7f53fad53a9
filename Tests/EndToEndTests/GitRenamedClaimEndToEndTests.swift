import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Shared claims are keyed by a task's path (docs/sync.md). Written as the outside attacks that
/// broke them, with the real binary, two clones of one bare repository and `sync: git`:
/// a task left for another machine and renamed here before that machine's status arrived ran on
/// both machines (attack119 F4); a task note put back to its text from before its run (a person's
/// `git rebase --abort`) lost the OS's status for good, logged as left for another machine
/// (attack121 N4).
@Suite(.serialized) struct GitRenamedClaimEndToEndTests {
    static func events(_ env: WatchedVault) -> [String] {
        GitLeasesEndToEndTests.events(env).filter { $0.event == "start" }.map(\.task)
    }

    /// Alpha runs `Tasks/S.md` (its agent pauses); beta gets the same note and leaves it to alpha.
    static func leftOnBeta() throws -> (WatchedVault, WatchedVault) {
        let (alpha, beta) = try GitLeasesEndToEndTests.twoClones(lease: "30s")
        try "8".replacingFile(alpha.sandbox.root + "/pause")
        try alpha.start(extraArguments: ["--machine", "alpha"])
        try beta.start(extraArguments: ["--machine", "beta"])
        try alpha.writeViaRename("Tasks/S.md", GitLeasesEndToEndTests.task(1, sleep: 8))
        #expect(eventually(within: 30) { events(alpha).contains("LEASE-1") }, "alpha did not start the task:\n\(alpha.log)")
        try beta.writeViaRename("Tasks/S.md", GitLeasesEndToEndTests.task(1, sleep: 8))
        #expect(eventually(within: 30) { beta.log.contains("Tasks/S.md: left for another machine: claimed by alpha") }, "\(beta.log)")
        return (alpha, beta)
    }

    @Test func aLeftTaskRenamedOnTheOtherMachineIsNotRunThere() throws {
        let (alpha, beta) = try Self.leftOnBeta()
        // The person on beta renames the note (git mv is a rename), before alpha's status arrives.
        #expect(rename(beta.root + "/Tasks/S.md", beta.root + "/Tasks/S2.md") == 0)
        // An editor that held the note open saves its buffer back at the old name.
        try beta.writeInPlace("Tasks/S.md", GitLeasesEndToEndTests.task(1, sleep: 8))
        #expect(eventually(within: 20) { beta.log.contains("Tasks/S2.md: left for another machine: renamed from Tasks/S.md, which alpha claimed") },
                "beta did not leave the renamed task:\n\(beta.log)")
        // Another task, new text, written on beta meanwhile runs there: claims still work.
        try beta.writeViaRename("Tasks/Other.md", GitLeasesEndToEndTests.task(2, sleep: 0))
        #expect(eventually(within: 30) { beta.status("Tasks/Other.md") == "done" }, "\(beta.log)")
        _ = eventually(within: 2) { false }
        #expect(!Self.events(beta).contains("LEASE-1"), "the renamed task ran on beta too:\n\(beta.log)")
        #expect(beta.note("Tasks/S2.md")?.text("status") == nil, "\(beta.text("Tasks/S2.md") ?? "")")
        #expect(eventually(within: 30) { alpha.status("Tasks/S.md") == "done" }, "\(alpha.log)")
        _ = try alpha.stop(SIGTERM)
        _ = try beta.stop(SIGTERM)
    }

    @Test func aLeftTaskDeletedAndWrittenAgainUnderAnotherNameIsNotRunThere() throws {
        let (alpha, beta) = try Self.leftOnBeta()
        // A pull of the other machine's rename (or a checkout) deletes one file and writes the other.
        #expect(unlink(beta.root + "/Tasks/S.md") == 0)
        _ = eventually(within: 1) { false }
        try beta.writeInPlace("Tasks/Moved S.md", GitLeasesEndToEndTests.task(1, sleep: 8))
        #expect(eventually(within: 20) { beta.log.contains("Tasks/Moved S.md: left for another machine: renamed from Tasks/S.md, which alpha claimed") },
                "beta did not leave the moved task:\n\(beta.log)")
        // The same text beside a note that is still there is another task: it runs (with a claim of its own).
        try beta.writeViaRename("Tasks/Copy.md", GitLeasesEndToEndTests.task(3, sleep: 0))
        #expect(eventually(within: 30) { beta.status("Tasks/Copy.md") == "done" }, "\(beta.log)")
        _ = eventually(within: 2) { false }
        #expect(!Self.events(beta).contains("LEASE-1"), "the moved task ran on beta too:\n\(beta.log)")
        _ = try alpha.stop(SIGTERM)
        _ = try beta.stop(SIGTERM)
    }

    @Test func aTaskPutBackToItsTextFromBeforeItsRunGetsItsStatusBack() throws {
        let (alpha, beta) = try GitLeasesEndToEndTests.twoClones(lease: "30s")
        _ = beta
        try alpha.start(extraArguments: ["--machine", "alpha"])
        let original = GitLeasesEndToEndTests.task(4, sleep: 0)
        try alpha.writeViaRename("Tasks/K.md", original)
        #expect(eventually(within: 30) { alpha.status("Tasks/K.md") == "done" }, "\(alpha.log)")
        let runID = try #require(alpha.note("Tasks/K.md")?.text("run_id"))
        let result = alpha.note("Tasks/K.md")?.text("result")
        _ = try alpha.stop(SIGTERM)
        // `git rebase --abort` (or a checkout) deletes the note and writes its text from before the
        // run, with the watcher stopped or running.
        #expect(unlink(alpha.root + "/Tasks/K.md") == 0)
        try alpha.writeInPlace("Tasks/K.md", original)
        try alpha.start(extraArguments: ["--machine", "alpha"])
        #expect(eventually(within: 30) { alpha.status("Tasks/K.md") == "done" }, "the status was not written back:\n\(alpha.log)\n\(alpha.text("Tasks/K.md") ?? "")")
        #expect(alpha.note("Tasks/K.md")?.text("run_id") == runID)
        #expect(alpha.note("Tasks/K.md")?.text("result") == result)
        #expect(!alpha.log.contains("Tasks/K.md: left for another machine"), "\(alpha.log)")
        #expect(Self.events(alpha).filter { $0 == "LEASE-4" }.count == 1, "\(alpha.log)")
        // Put back with a line an editor added, after a restart: not the text the run was claimed
        // from, yet this attempt's claim is this machine's own run: its end is written back.
        _ = try alpha.stop(SIGTERM)
        #expect(unlink(alpha.root + "/Tasks/K.md") == 0)
        try alpha.writeInPlace("Tasks/K.md", original + "A line more.\n")
        try alpha.start(extraArguments: ["--machine", "alpha"])
        #expect(eventually(within: 30) { alpha.status("Tasks/K.md") == "done" }, "the status was not written back:\n\(alpha.log)\n\(alpha.text("Tasks/K.md") ?? "")")
        #expect(alpha.note("Tasks/K.md")?.text("run_id") == runID && alpha.text("Tasks/K.md")?.contains("A line more.") == true)
        #expect(!alpha.log.contains("Tasks/K.md: left for another machine"), "\(alpha.log)")
        #expect(Self.events(alpha).filter { $0 == "LEASE-4" }.count == 1, "\(alpha.log)")
        _ = try alpha.stop(SIGTERM)
    }
}

import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A stand-in for Syncthing between two vault copies: it carries the claim folder (`.fbt-claims/`)
/// both ways, each change (a new, rewritten or deleted file) arriving `delay` seconds after the copier
/// first saw it. Like Syncthing it keeps the last version both sides agreed on per file, so it knows
/// which side changed; a file changed on both sides since is counted as a conflict (each machine
/// writes only its own files, so there must be none).
final class ClaimCopier: @unchecked Sendable {
    private let a: String
    private let b: String
    private let delay: Double
    private struct Pending { var toB: Bool; var content: [UInt8]?; var since: Date }
    private struct State {
        var agreed: [String: [UInt8]] = [:]
        var pending: [String: Pending] = [:]
        var conflicts: [String] = []
        var carried = 0
    }
    private let state = Locked(State())
    private let stopToken = CancelToken()
    private let ended = DispatchSemaphore(value: 0)

    /// A copier between the claim folders of `a` and `b` (vault roots).
    init(_ a: String, _ b: String, delay: Double) {
        self.a = a + "/" + FileClaims.folder
        self.b = b + "/" + FileClaims.folder
        self.delay = delay
        for folder in [self.a, self.b] { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let thread = Thread { [self] in
            while !stopToken.isCancelled {
                round()
                usleep(50_000)
            }
            ended.signal()
        }
        thread.start()
    }

    /// Stops carrying files.
    func stop() {
        stopToken.cancel()
        ended.wait()
    }

    /// Files changed on both sides before the copier carried either.
    var conflicts: [String] { state.withLock { $0.conflicts } }
    /// Changes carried so far.
    var carried: Int { state.withLock { $0.carried } }

    private static func files(_ folder: String) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !name.hasPrefix(".") {
            if let data = FileManager.default.contents(atPath: folder + "/" + name) { out[name] = Array(data) }
        }
        return out
    }

    private func round() {
        let left = ClaimCopier.files(a)
        let right = ClaimCopier.files(b)
        let now = Date()
        state.withLock { state in
            for name in Set(left.keys).union(right.keys).union(state.agreed.keys) {
                let l = left[name], r = right[name], known = state.agreed[name]
                if l == r {
                    state.agreed[name] = l
                    state.pending[name] = nil
                    continue
                }
                let toB: Bool
                if r == known { toB = true } else if l == known { toB = false } else {
                    state.conflicts.append(name)
                    state.agreed[name] = l
                    continue
                }
                let content = toB ? l : r
                if var pending = state.pending[name], pending.toB == toB {
                    // A newer version waiting: it still arrives `delay` after the first one was seen.
                    pending.content = content
                    state.pending[name] = pending
                } else {
                    state.pending[name] = Pending(toB: toB, content: content, since: now)
                }
                guard let pending = state.pending[name], now.timeIntervalSince(pending.since) >= delay else { continue }
                let target = (pending.toB ? b : a) + "/" + name
                if let content = pending.content {
                    let temp = (pending.toB ? b : a) + "/.copier-" + name
                    _ = FileManager.default.createFile(atPath: temp, contents: Data(content))
                    rename(temp, target)
                } else {
                    unlink(target)
                }
                state.agreed[name] = pending.content
                state.pending[name] = nil
                state.carried += 1
            }
        }
    }
}

/// Claim files for file sync without git (docs/sync.md), with the real binary: two vault copies whose
/// claim folders a copier carries both ways after a delay, two watchers with different machine names
/// serving the same lane, and the logging agent of the git lease tests.
@Suite(.serialized) struct FileClaimsEndToEndTests {
    /// Two watched vaults with `Rules/Sync.md` (`sync: files`, `lease`, `claim_wait`), the logging
    /// agent `leaser` (lane local, shared script) and a rule that lets it write (`effectful` tasks).
    static func twoCopies(lease: String, claimWait: String) throws -> (WatchedVault, WatchedVault) {
        let a = try WatchedVault()
        let b = try WatchedVault()
        let script = a.sandbox.root + "/leaser"
        try GitLeasesEndToEndTests.agentScript.replacingFile(script)
        chmod(script, 0o755)
        for env in [a, b] {
            try env.write("Rules/Sync.md", "---\ntype: sync\nsync: files\nlease: \(lease)\nclaim_wait: \(claimWait)\n---\nClaim files carried by file sync.\n")
            try env.write("Rules/Agents/leaser.md", """
                ---
                type: agent
                name: leaser
                lane: local
                command: [\(JSON.string(script).compact), "{prompt}"]
                output: text
                timeout: 60
                env: [FBT_FIXTURE_LOG]
                ---
                Logs its start and end, sleeps in between.

                """)
            try env.write("Rules/Routing/Effectful.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [effectful]\nagent: leaser\nallow_effects: [write]\n---\nWrites by the leaser.\n")
        }
        return (a, b)
    }

    /// The task ids whose agent completed (logged its end) in `env`.
    static func completed(_ env: WatchedVault) -> [String] {
        GitLeasesEndToEndTests.events(env).filter { $0.event == "end" }.map(\.task)
    }

    @Test func fiftyTasksInBothCopiesRunExactlyOnceAcrossTwoMachines() throws {
        let (alpha, beta) = try Self.twoCopies(lease: "20s", claimWait: "2s")
        let copier = ClaimCopier(alpha.root, beta.root, delay: 0.5)
        defer { copier.stop() }
        try alpha.start(extraArguments: ["--machine", "alpha"])
        try beta.start(extraArguments: ["--machine", "beta"])
        let count = 50
        let ids = (0..<count).map { "LEASE-\($0)" }
        // Each task lands in both copies at once, as when sync delivers it to both machines.
        for i in 0..<count {
            let text = GitLeasesEndToEndTests.task(i, sleep: 0)
            try alpha.writeViaRename("Tasks/Once \(i).md", text)
            try beta.writeViaRename("Tasks/Once \(i).md", text)
        }
        let all = eventually(within: 120, every: 0.25) {
            let done = Set(Self.completed(alpha) + Self.completed(beta))
            return ids.allSatisfy(done.contains)
        }
        #expect(all, "not every task ran:\nalpha:\n\(alpha.log)\nbeta:\n\(beta.log)")
        // Longer than a window and a copy: a second run would have started by now.
        _ = eventually(within: 4) { false }
        let ran = Self.completed(alpha) + Self.completed(beta)
        for id in ids {
            #expect(ran.filter { $0 == id }.count == 1, "\(id) ran \(ran.filter { $0 == id }.count) times")
        }
        // Each task that one machine ran, the other left, saying who held it.
        let left = (alpha.log + beta.log).components(separatedBy: "left for another machine: ").count - 1
        #expect(left == count, "\(left) tasks left to the other machine:\nalpha:\n\(alpha.log)\nbeta:\n\(beta.log)")
        #expect(copier.conflicts.isEmpty, "two writers of one claim file: \(copier.conflicts)")
        // Every claim file left says finished (the losers deleted theirs).
        let claims = FileClaims(vault: alpha.vault, machine: "alpha")
        for i in 0..<count {
            let held = claims.claims(taskPath: "Tasks/Once \(i).md", attempt: 1)
            #expect(held.count == 1 && held.first?.state == .finished, "Tasks/Once \(i).md: \(held)")
        }
        // The claim folder is never indexed: no note under it.
        #expect(!VaultWalker.markdownFiles(in: alpha.vault, under: "").contains { $0.hasPrefix(FileClaims.folder) })
        try alpha.stop(SIGTERM)
        try beta.stop(SIGTERM)
    }

    @Test func aKilledMachinesClaimFilesAreTakenOverAfterTheLeaseAndEffectsGoToReview() throws {
        let (alpha, beta) = try Self.twoCopies(lease: "4s", claimWait: "1s")
        let copier = ClaimCopier(alpha.root, beta.root, delay: 0.3)
        defer { copier.stop() }
        // Alpha's runs last until the kill.
        let pause = alpha.sandbox.root + "/pause"
        try "60".replacingFile(pause)
        try alpha.start(extraArguments: ["--machine", "alpha"])
        try beta.start(extraArguments: ["--machine", "beta"])
        let readOnly = (0..<3).map { ("Tasks/Lease \($0).md", GitLeasesEndToEndTests.task($0, sleep: 4)) }
        let effectful = ("Tasks/Lease 9.md", "---\ntype: task\neffects: [write]\n---\nLEASE-9 effectful: write the file.\n")
        let tasks = readOnly + [effectful]
        // The effectful task first, until its agent runs on alpha; then the others (the local lane
        // runs two at a time: one more starts, the rest wait, claimed).
        try alpha.writeViaRename(effectful.0, effectful.1)
        #expect(eventually(within: 30) { GitLeasesEndToEndTests.events(alpha).contains { $0.event == "start" && $0.task == "LEASE-9" } }, "the effectful task did not start on alpha:\n\(alpha.log)")
        for (path, text) in readOnly { try alpha.writeViaRename(path, text) }
        #expect(eventually(within: 30) { GitLeasesEndToEndTests.events(alpha).filter { $0.event == "start" }.count >= 2 }, "alpha started nothing else:\n\(alpha.log)")
        #expect(eventually(within: 30) { tasks.allSatisfy { alpha.note($0.0)?.text("run_id") != nil } }, "alpha did not claim every task:\n\(alpha.log)")
        // The same notes reach beta, which finds them claimed (the copier carried alpha's files).
        for (path, text) in tasks { try beta.writeViaRename(path, text) }
        #expect(eventually(within: 30) { tasks.allSatisfy { beta.log.contains("\($0.0): left for another machine: claimed by alpha") } }, "beta did not leave the tasks to alpha:\n\(beta.log)")

        try alpha.stop(SIGKILL)
        let killedRuns = GitLeasesEndToEndTests.events(alpha).filter { $0.event == "start" }
        for run in killedRuns where run.pid > 0 { kill(-run.pid, SIGKILL) }
        try "0.3".replacingFile(pause)

        // After the lease, beta takes over: the read-only tasks run there, the effectful one goes to review.
        for (path, _) in readOnly {
            #expect(eventually(within: 60, every: 0.25) { beta.status(path) == "done" }, "\(path) on beta:\n\(beta.log)")
            #expect(beta.note(path)?.text("machine") == "beta")
        }
        #expect(eventually(within: 30) { beta.status(effectful.0) == "review" }, "\(effectful.0) on beta:\n\(beta.text(effectful.0) ?? "")\n\(beta.log)")
        #expect(beta.note(effectful.0)?.text("route_reason")?.contains("taken over from alpha") == true)
        #expect(!GitLeasesEndToEndTests.events(beta).contains { $0.task == "LEASE-9" }, "beta ran the task with effects again")
        #expect(beta.log.contains("took over the claim of alpha"), "\(beta.log)")
        _ = eventually(within: 3) { false }
        let completed = Self.completed(alpha) + Self.completed(beta)
        for (i, _) in readOnly.enumerated() {
            #expect(completed.filter { $0 == "LEASE-\(i)" }.count == 1, "LEASE-\(i) completed \(completed.filter { $0 == "LEASE-\(i)" }.count) times")
        }

        // Alpha comes back: its recovery finds its claims taken over and runs nothing again.
        let before = GitLeasesEndToEndTests.events(alpha).count
        let notesBefore = tasks.map { alpha.text($0.0) }
        try alpha.start(extraArguments: ["--machine", "alpha"])
        _ = eventually(within: 4) { false }
        #expect(GitLeasesEndToEndTests.events(alpha).count == before, "alpha ran something again:\n\(alpha.log)")
        for run in killedRuns {
            let path = run.task == "LEASE-9" ? effectful.0 : "Tasks/Lease \(run.task.dropFirst(6)).md"
            #expect(alpha.log.contains("\(path): run ") && alpha.log.contains("is not run again here: taken over by beta"), "\(alpha.log)")
        }
        #expect(tasks.map { alpha.text($0.0) } == notesBefore, "alpha's recovery rewrote task notes:\n\(alpha.log)")
        // Its claim files of the killed runs are gone; beta's say finished, taken over from alpha.
        let claims = FileClaims(vault: alpha.vault, machine: "alpha")
        for (path, _) in tasks {
            let held = claims.claims(taskPath: path, attempt: 1)
            #expect(held.count == 1 && held.allSatisfy { $0.machine == "beta" && $0.state == .finished && $0.takenOverFrom?.hasPrefix("alpha (run ") == true },
                    "\(path): \(held)")
        }
        #expect(copier.conflicts.isEmpty, "two writers of one claim file: \(copier.conflicts)")
        try alpha.stop(SIGTERM)
        try beta.stop(SIGTERM)
    }

    @Test func aTaskCancelledWhileItsClaimSettlesGivesTheClaimUpAtOnce() throws {
        let (alpha, _) = try Self.twoCopies(lease: "60s", claimWait: "20s")
        try alpha.start(extraArguments: ["--machine", "alpha"])
        let path = "Tasks/Cancel me.md"
        try alpha.writeViaRename(path, GitLeasesEndToEndTests.task(1, sleep: 0))
        let claims = FileClaims(vault: alpha.vault, machine: "alpha")
        #expect(eventually(within: 10) { claims.claims(taskPath: path, attempt: 1).first?.state == .claiming }, "no claim file:\n\(alpha.log)")
        try alpha.writeViaRename(path, "---\ntype: task\nagent: leaser\nstatus: cancelled\n---\nLEASE-1 SLEEP=0\n")
        // Long before the 20 s window ends: the claim is given up, its file deleted, nothing run.
        #expect(eventually(within: 10) { alpha.log.contains("\(path): claim file given up before its window ended (the run was cancelled)") }, "\(alpha.log)")
        #expect(claims.claims(taskPath: path, attempt: 1).isEmpty)
        #expect(GitLeasesEndToEndTests.events(alpha).isEmpty && alpha.status(path) == "cancelled")
        try alpha.stop(SIGTERM)
    }

    @Test func whenSyncTakesLongerThanTheWindowBothMachinesRunTheTask() throws {
        // The documented limit: file sync has no compare-and-swap. A claim file that arrives after the
        // other machine's window ended is seen too late, and both machines run the task.
        let (alpha, beta) = try Self.twoCopies(lease: "20s", claimWait: "1s")
        let copier = ClaimCopier(alpha.root, beta.root, delay: 6)
        defer { copier.stop() }
        try alpha.start(extraArguments: ["--machine", "alpha"])
        try beta.start(extraArguments: ["--machine", "beta"])
        let ids = (0..<3).map { "LEASE-\($0)" }
        for i in 0..<3 {
            let text = GitLeasesEndToEndTests.task(i, sleep: 0)
            try alpha.writeViaRename("Tasks/Twice \(i).md", text)
            try beta.writeViaRename("Tasks/Twice \(i).md", text)
        }
        let both = eventually(within: 60, every: 0.25) {
            let a = Self.completed(alpha), b = Self.completed(beta)
            return ids.allSatisfy { a.contains($0) && b.contains($0) }
        }
        #expect(both, "a task did not run on both machines:\nalpha:\n\(alpha.log)\nbeta:\n\(beta.log)")
        #expect(!(alpha.log + beta.log).contains("left for another machine"))
        // Once sync catches up, each copy holds both machines' finished claims: it shows.
        let claims = FileClaims(vault: alpha.vault, machine: "alpha")
        #expect(eventually(within: 30) { claims.claims(taskPath: "Tasks/Twice 0.md", attempt: 1).filter { $0.state == .finished }.count == 2 })
        try alpha.stop(SIGTERM)
        try beta.stop(SIGTERM)
    }
}

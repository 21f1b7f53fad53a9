import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Leases on git claims (docs/sync.md), with the real binary: two vault copies (two clones of one bare
/// repository), two watchers; one is killed with SIGKILL mid-run and the other takes its claimed tasks
/// over once the lease expires.
@Suite(.serialized) struct GitLeasesEndToEndTests {
    /// An agent that logs its start and its end (with the task's id and its pid) and sleeps between:
    /// as many seconds as the file `pause` beside it says (the test changes it), else `SLEEP=` in the prompt.
    static let agentScript = """
        #!/usr/bin/env bash
        set -u
        prompt="$*"
        id=$(printf '%s' "$prompt" | grep -o 'LEASE-[0-9]*' | head -1)
        pause=$(cat "$(dirname "$0")/pause" 2>/dev/null || printf '%s' "$prompt" | grep -o 'SLEEP=[0-9.]*' | head -1 | cut -d= -f2)
        printf '{"event":"start","task":"%s","pid":%d}\\n' "$id" "$$" >> "$FBT_FIXTURE_LOG"
        sleep "${pause:-0}"
        printf '{"event":"end","task":"%s","pid":%d}\\n' "$id" "$$" >> "$FBT_FIXTURE_LOG"
        printf 'lease answer: %s\\n' "$id"
        """

    /// Two watched vaults, clones of one bare repository, with `Rules/Sync.md` (`sync: git`,
    /// `lease`) and the logging agent `leaser` (lane local) in both.
    static func twoClones(lease: String) throws -> (WatchedVault, WatchedVault) {
        let a = try WatchedVault()
        let b = try WatchedVault()
        let bare = a.sandbox.root + "/remote.git"
        try GitClaimsEndToEndTests.git(["init", "--quiet", "--bare", bare], in: a.sandbox.root)
        let script = a.sandbox.root + "/leaser"
        try agentScript.replacingFile(script)
        chmod(script, 0o755)
        for env in [a, b] {
            try GitClaimsEndToEndTests.git(["init", "--quiet"], in: env.root)
            try GitClaimsEndToEndTests.git(["remote", "add", "origin", bare], in: env.root)
            try env.write("Rules/Sync.md", "---\ntype: sync\nsync: git\nlease: \(lease)\n---\nClaims go through the shared remote.\n")
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
        }
        return (a, b)
    }

    /// The task note for `id`.
    static func task(_ id: Int, sleep: Double, extra: String = "") -> String {
        "---\ntype: task\nagent: leaser\n\(extra)---\nLEASE-\(id) SLEEP=\(sleep)\n"
    }

    /// The agent's events in `env`'s fixture log: (event, task id, pid).
    static func events(_ env: WatchedVault) -> [(event: String, task: String, pid: Int32)] {
        env.fixtureRuns().compactMap { line -> (event: String, task: String, pid: Int32)? in
            guard let event = line["event"]?.stringValue, let task = line["task"]?.stringValue else { return nil }
            return (event, task, Int32(line["pid"]?.intValue ?? 0))
        }
    }

    @Test func aKilledMachinesClaimsAreTakenOverAfterTheLeaseExactlyOnce() throws {
        let (alpha, beta) = try Self.twoClones(lease: "3s")
        // Alpha's runs last until the kill (a run that ended before it would be alpha's to finish;
        // a kill between an agent's end and its claim's `finished` push is the documented double run).
        let pause = alpha.sandbox.root + "/pause"
        try "60".replacingFile(pause)
        let count = 6
        let ids = (0..<count).map { "LEASE-\($0)" }
        let paths = (0..<count).map { "Tasks/Lease \($0).md" }
        try alpha.start(extraArguments: ["--machine", "alpha"])
        try beta.start(extraArguments: ["--machine", "beta"])
        // The tasks reach alpha first; alpha claims them all (the local lane runs two at a time).
        for (i, path) in paths.enumerated() { try alpha.writeViaRename(path, Self.task(i, sleep: 4)) }
        #expect(eventually(within: 30) { Self.events(alpha).filter { $0.event == "start" }.count >= 2 }, "alpha started nothing:\n\(alpha.log)")
        #expect(eventually(within: 30) { paths.allSatisfy { alpha.note($0)?.text("run_id") != nil } }, "alpha did not claim every task:\n\(alpha.log)")
        // The same notes reach beta, which finds them claimed and leaves them.
        for (i, path) in paths.enumerated() { try beta.writeViaRename(path, Self.task(i, sleep: 4)) }
        #expect(eventually(within: 30) { paths.allSatisfy { beta.log.contains("\($0): left for another machine: claimed by alpha") } }, "beta did not leave the tasks to alpha:\n\(beta.log)")

        // Alpha dies mid-run: its watcher and its agents' process groups are killed.
        try alpha.stop(SIGKILL)
        let killedRuns = Self.events(alpha).filter { $0.event == "start" }
        for run in killedRuns where run.pid > 0 { kill(-run.pid, SIGKILL) }
        // Beta's runs are short.
        try "0.5".replacingFile(pause)
        let startedOnAlpha = Set(killedRuns.map(\.task))
        #expect(!startedOnAlpha.isEmpty)

        // After the lease, beta takes over every task alpha claimed and did not finish.
        let allDone = eventually(within: 90, every: 0.25) {
            let ended = Self.events(alpha).filter { $0.event == "end" }.map(\.task) + Self.events(beta).filter { $0.event == "end" }.map(\.task)
            return ids.allSatisfy(ended.contains)
        }
        #expect(allDone, "not every task completed:\nalpha:\n\(alpha.log)\nbeta:\n\(beta.log)")
        _ = eventually(within: 3) { false }
        let completed = Self.events(alpha).filter { $0.event == "end" }.map(\.task) + Self.events(beta).filter { $0.event == "end" }.map(\.task)
        for id in ids {
            #expect(completed.filter { $0 == id }.count == 1, "\(id) completed \(completed.filter { $0 == id }.count) times")
        }
        // Every run alpha started and did not complete was killed, and is run again by beta.
        let alphaEnded = Set(Self.events(alpha).filter { $0.event == "end" }.map(\.task))
        let killed = startedOnAlpha.subtracting(alphaEnded)
        #expect(killed == startedOnAlpha, "alpha completed \(alphaEnded) after all")
        for id in killed { #expect(Self.events(beta).contains { $0.event == "start" && $0.task == id }, "\(id) was not re-run by beta") }
        #expect(beta.log.contains("took over the claim of alpha"), "\(beta.log)")
        for (i, path) in paths.enumerated() where !alphaEnded.contains(ids[i]) {
            #expect(eventually(within: 10) { beta.status(path) == "done" }, "\(path) on beta: \(beta.text(path) ?? "")")
            #expect(beta.note(path)?.text("machine") == "beta")
        }

        // Alpha comes back: its recovery finds its claims taken over, runs nothing again, and leaves
        // the task notes to beta.
        let before = Self.events(alpha).count
        let notesBefore = paths.map { alpha.text($0) }
        try alpha.start(extraArguments: ["--machine", "alpha"])
        _ = eventually(within: 4) { false }
        #expect(Self.events(alpha).count == before, "alpha ran something again:\n\(alpha.log)")
        for id in killed {
            let path = "Tasks/Lease \(id.dropFirst(6)).md"
            #expect(alpha.log.contains("\(path): run ") && alpha.log.contains("is not run again here: taken over by beta"), "\(alpha.log)")
        }
        #expect(paths.map { alpha.text($0) } == notesBefore, "alpha's recovery rewrote task notes:\n\(alpha.log)")
        // The killed runs are accounted for: each is a failed, interrupted line in alpha's journal.
        let interrupted = alpha.telemetryLines().filter {
            $0["outcome"]?.stringValue == "failed" && $0["error"]?.stringValue?.hasPrefix("interrupted; left to the fleet: taken over by beta") == true
        }
        #expect(interrupted.count == killed.count, "\(alpha.telemetryLines())")
        try alpha.stop(SIGTERM)
        try beta.stop(SIGTERM)
    }
}

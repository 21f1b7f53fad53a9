import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Telemetry survives a crash: the real watcher is SIGKILLed at seeded random moments while bursts of
/// tasks run; after a clean restart every finished run has its JSON line, its telemetry row and its
/// daily line exactly once, no run is counted twice, and no temp file of the OS is left.
///
/// CI runs 4 rounds of 40 tasks; the issue's full run is `FBT_KILL_ROUNDS=20 FBT_KILL_TASKS=300`
/// (`FBT_KILL_SEED` picks other kill moments).
@Suite(.serialized) struct CrashTelemetryEndToEndTests {
    /// An integer from the environment, or `fallback`.
    static func setting(_ name: String, _ fallback: Int) -> Int {
        Int(ProcessInfo.processInfo.environment[name] ?? "") ?? fallback
    }

    /// Every Markdown file's text under a vault folder, joined.
    static func texts(under folder: String) -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".md") }.sorted().compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }.joined(separator: "\n")
    }

    /// Whether nobody holds the watcher's lock file (a non-blocking `flock` succeeds).
    static func lockIsFree(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return true }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        flock(fd, LOCK_UN)
        return true
    }

    /// How often each run's marker occurs in `text`, by run id (one pass over the text).
    static func markerCounts(in text: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for piece in text.components(separatedBy: "<!-- run:").dropFirst() {
            if let end = piece.range(of: " -->") { counts[String(piece[..<end.lowerBound]), default: 0] += 1 }
        }
        return counts
    }

    /// How often `needle` occurs in `text`.
    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The issue's SIGKILL test (see the suite's comment for sizes).
    @Test func sigkillAtRandomMomentsLosesAndDoublesNoTelemetry() throws {
        let rounds = Self.setting("FBT_KILL_ROUNDS", 4)
        let perRound = Self.setting("FBT_KILL_TASKS", 40)
        var random = SeededRandom(seed: UInt64(Self.setting("FBT_KILL_SEED", 9)))
        let env = try WatchedVault()
        // Every third task goes to a paid agent that reports no cost, so each of its runs whose agent
        // started is charged its $0.01 reservation; caps high enough never to refuse one.
        try env.write("Rules/Agents/paid.md", """
            ---
            type: agent
            name: paid
            lane: premium
            command: [printf, "%s\\n", "{prompt}"]
            output: text
            max_cost_usd: 0.01
            timeout: 30
            ---
            A paid stand-in: answers at once, reports no cost.

            """)
        for key in ["budget_task_usd", "budget_day_usd", "budget_month_usd", "budget_premium_day_usd", "budget_premium_month_usd"] {
            _ = try env.store.updateProperties("Rules/Guardrails.md", set: [Property(key, .double(100_000))])
        }
        var paths: [String] = []
        var kills = 0
        var lockWaits = 0
        for round in 0..<rounds {
            try env.start(timeout: 300)
            for i in 0..<perRound {
                let path = String(format: "Tasks/Round %02d task %03d.md", round, i)
                paths.append(path)
                try env.writeViaRename(path, String(format: "---\ntype: task\nagent: %@\n---\nRound %02d, task %03d.\n", i % 3 == 0 ? "paid" : "echo", round, i))
            }
            // Kill somewhere in the burst: while tasks are claimed, running, and being recorded.
            let delay = Double.random(in: 0.05...1.5, using: &random)
            usleep(useconds_t(delay * 1_000_000))
            if try env.stop(SIGKILL).reason == .uncaughtSignal { kills += 1 }
            if !Self.lockIsFree(env.vault.stateDirectory + "/watch.lock") {
                lockWaits += 1
                #expect(eventually(within: 30, every: 0.05) { Self.lockIsFree(env.vault.stateDirectory + "/watch.lock") }, "the watcher lock stayed held after the kill")
            }
        }
        // An agent started just before the kill may hold the lock for a moment (between its fork and
        // its exec); reported, not failed.
        if lockWaits > 0 { print("note: the watcher lock was still held right after \(lockWaits) of \(rounds) kills") }
        #expect(kills == rounds)

        try env.start(timeout: 300)
        let terminal: Set<String> = ["done", "failed", "blocked", "review", "cancelled"]
        let settled = eventually(within: Double(max(180, rounds * perRound / 5)), every: 0.05) { paths.allSatisfy { env.status($0).map(terminal.contains) ?? false } }
        #expect(settled, "not every task settled:\n\(paths.filter { !(env.status($0).map(terminal.contains) ?? false) }.prefix(10))\n\(env.allLogs.suffix(4000))")
        #expect(try env.stop(SIGINT).status == 0)

        // The runs that record telemetry: every finished one except those re-queued before their agent
        // started (nothing ran, and they run again under a new run id).
        let runs = try RunStore(vault: env.vault)
        let finished = try runs.runs(in: [.done, .failed, .blocked, .review, .cancelled], limit: 1_000_000)
            .filter { $0.error != "stopped before its agent started; re-queued" }
        #expect(finished.count >= paths.count)
        #expect(try runs.runs(in: [.claimed, .running], limit: 10).isEmpty)

        let journal = env.telemetryLines().compactMap { $0["run_id"]?.stringValue }
        let journalCounts = Dictionary(journal.map { ($0, 1) }, uniquingKeysWith: +)
        let rows = Self.texts(under: env.root + "/" + Vault.Layout.telemetry)
        let daily = Self.texts(under: env.root + "/" + Vault.Layout.daily)
        let rowCounts = Self.markerCounts(in: rows), dailyCounts = Self.markerCounts(in: daily)
        var problems: [String] = []
        for run in finished {
            let counts = (journalCounts[run.runID] ?? 0, rowCounts[run.runID] ?? 0, dailyCounts[run.runID] ?? 0)
            if counts != (1, 1, 1) { problems.append("\(run.runID) (\(run.taskPath), \(run.state.rawValue)): journal \(counts.0), rows \(counts.1), daily \(counts.2)") }
        }
        #expect(problems.isEmpty, "\(problems.count) of \(finished.count) runs: \(problems.prefix(10))")
        // Nothing recorded that did not finish, and nothing twice.
        #expect(Set(journal) == Set(finished.map(\.runID)))
        #expect(journal.count == finished.count)
        #expect(Self.count("<!-- run:", in: rows) == finished.count)
        #expect(Self.count("<!-- run:", in: daily) == finished.count)
        // The ledger equals the sum of charged runs: no reservation left open, every paid run whose
        // agent started charged once at its reservation (it reported no cost), none released, and a
        // run re-queued before its agent started never charged.
        let ledger = try runs.withDatabase { try $0.query("SELECT run_id, state, reserved_micros, actual_micros FROM budget_ledger") { row in
            (runID: row.text(0), state: row.text(1), reserved: row.int64(2), actual: row.isNull(3) ? nil : row.int64(3))
        } }
        let paidRuns = Set(finished.filter { $0.lane == "premium" }.map(\.runID))
        #expect(!paidRuns.isEmpty)
        #expect(ledger.filter { $0.state == "open" }.isEmpty, "reservations left open: \(ledger.filter { $0.state == "open" }.prefix(5))")
        let charged = ledger.filter { $0.state == "settled" }
        #expect(Set(charged.map(\.runID)) == paidRuns, "charged \(charged.count), paid runs finished \(paidRuns.count)")
        #expect(charged.allSatisfy { $0.actual == $0.reserved && $0.reserved == 10_000 }, "\(charged.filter { $0.actual != $0.reserved }.prefix(5))")
        let released = Set(ledger.filter { $0.state == "released" }.map(\.runID))
        #expect(released.isDisjoint(with: paidRuns), "finished paid runs released: \(released.intersection(paidRuns).prefix(5))")
        let spent = try BudgetLedger(vault: env.vault).spend(caps: BudgetCaps())
        #expect(abs(spent.monthSpentUSD - Double(paidRuns.count) * 0.01) < 1e-9, "ledger \(spent.monthSpentUSD), charged runs \(paidRuns.count) × $0.01")

        // No temp file of the OS is left anywhere in the vault or its state folder.
        var leftovers: [String] = []
        let walker = FileManager.default.enumerator(atPath: env.root)
        while let path = walker?.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            if name.hasPrefix(NoteStore.tempPrefix) && name.hasSuffix(".tmp") { leftovers.append(path) }
        }
        #expect(leftovers.isEmpty, "temp files left: \(leftovers.prefix(10))")
    }
}

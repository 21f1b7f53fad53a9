import Foundation
import TestSupport
import Testing
@testable import AgentOS

@Suite struct BudgetLedgerTests {

    let utc = TimeZone(identifier: "UTC")!
    let noon = Date(timeIntervalSince1970: 1_795_000_000) // 2026-11-18, mid-day UTC

    /// The watcher and a command opening a new vault's ledger at the same moment both saw the `basis`
    /// column missing and both added it; the second died of "duplicate column name" (a watcher that
    /// never started, seen in the README tour). Many openers at once must all succeed.
    @Test func manyProcessesOpeningANewLedgerAtOnceAllSucceed() throws {
        for round in 0..<5 {
            let folder = TemporaryFolder("fbt-ledger-race")
            let path = folder.path + "/runs-\(round).sqlite"
            let failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                do { _ = try BudgetLedger(path: path) } catch { failures.withLock { $0.append("\(error)") } }
            }
            #expect(failures.withLock { $0 }.isEmpty, "round \(round): \(failures.withLock { $0 })")
            let columns = try Database(path: path).query("PRAGMA table_info(budget_ledger)") { $0.text(1) }
            #expect(columns.filter { $0 == "basis" }.count == 1)
        }
    }

    @Test func addingAColumnAnotherConnectionAddedIsNotAnError() throws {
        let folder = TemporaryFolder("fbt-ledger-column")
        let first = try Database(path: folder.path + "/t.sqlite")
        let second = try Database(path: folder.path + "/t.sqlite")
        try first.execute("CREATE TABLE t(a TEXT)")
        try first.addColumnIfMissing("t", "b", "TEXT")
        try second.addColumnIfMissing("t", "b", "TEXT")
        #expect(throws: DatabaseError.self) { try second.execute("ALTER TABLE t ADD COLUMN b TEXT") }
        #expect(try first.query("PRAGMA table_info(t)") { $0.text(1) } == ["a", "b"])
    }

    @Test func reserveSettleReleaseAndSpend() throws {
        let folder = TemporaryFolder("fbt-ledger")
        let ledger = try BudgetLedger(path: folder.database, timeZone: utc)
        let caps = BudgetCaps(taskUSD: 1, dayUSD: 2, monthUSD: 10)
        let first = try #require(try ledger.reserve(runID: "r1", lane: .premium, amount: 0.75, caps: caps, task: "Tasks/a.md", at: noon))
        #expect(first.day == "2026-11-18")
        #expect(first.month == "2026-11")
        // The same open run asks again (a retry): the same reservation, nothing added.
        #expect(try ledger.reserve(runID: "r1", lane: .premium, amount: 0.75, caps: caps, task: "Tasks/a.md", at: noon) == first)
        _ = try #require(try ledger.reserve(runID: "r2", lane: .premium, amount: 0.75, caps: caps, task: "Tasks/b.md", at: noon))
        // 1.50 committed: another 0.75 crosses the $2 day cap.
        guard case .refused(let refusal) = try ledger.tryReserve(runID: "r3", lane: .premium, amount: 0.75, caps: caps, at: noon) else {
            Issue.record("expected a refusal"); return
        }
        #expect(refusal.cap == "daily cap")
        #expect(refusal.committedUSD == 1.5)
        #expect(refusal.description.contains("$2.00"))

        // Settling at the real (lower) cost frees room; releasing frees all of it.
        #expect(try ledger.settle(runID: "r1", actualUSD: 0.10, at: noon))
        #expect(try ledger.release(runID: "r2", at: noon))
        #expect(try !ledger.release(runID: "r2", at: noon))
        #expect(try ledger.reserve(runID: "r3", lane: .premium, amount: 0.75, caps: caps, at: noon) != nil)
        let spend = try ledger.spend(caps: caps, at: noon)
        #expect(spend.daySpentUSD == 0.10)
        #expect(spend.dayReservedUSD == 0.75)
        #expect(spend.lanes[.premium]?.daySpentUSD == 0.10)
        #expect(spend.lines.first == "today (2026-11-18): $0.10 spent + $0.75 reserved of $2.00")
        #expect(try ledger.openReservations().map(\.runID) == ["r3"])
        #expect(throws: BudgetLedgerError.self) { try ledger.reserve(runID: "r1", lane: .premium, amount: 0.1, caps: caps, at: noon) }
    }

    @Test func taskLaneAndMonthCapsAreEachEnforced() throws {
        let folder = TemporaryFolder("fbt-ledger")
        let ledger = try BudgetLedger(path: folder.database, timeZone: utc)
        let caps = BudgetCaps(taskUSD: 1, dayUSD: 100, monthUSD: 3, laneDayUSD: [.premium: 1.5])
        // Task cap counts every run of the same task.
        #expect(try ledger.reserve(runID: "a1", lane: .tool, amount: 0.6, caps: caps, task: "Tasks/a.md", at: noon) != nil)
        guard case .refused(let task) = try ledger.tryReserve(runID: "a2", lane: .tool, amount: 0.6, caps: caps, task: "Tasks/a.md", at: noon) else { Issue.record("task cap"); return }
        #expect(task.cap == "task cap")
        // Lane cap: premium has $1.50 a day; the tool lane's spend does not count against it.
        #expect(try ledger.reserve(runID: "p1", lane: .premium, amount: 0.8, caps: caps, at: noon) != nil)
        guard case .refused(let lane) = try ledger.tryReserve(runID: "p2", lane: .premium, amount: 0.8, caps: caps, at: noon) else { Issue.record("lane cap"); return }
        #expect(lane.cap == "premium lane's daily cap")
        // Month cap: spend from earlier days of the month counts; last month's does not.
        let earlier = noon.addingTimeInterval(-5 * 86_400)
        let lastMonth = noon.addingTimeInterval(-40 * 86_400)
        #expect(try ledger.reserve(runID: "old", lane: .tool, amount: 0.9, caps: caps, at: lastMonth) != nil)
        #expect(try ledger.reserve(runID: "m1", lane: .tool, amount: 0.9, caps: caps, at: earlier) != nil)
        guard case .refused(let month) = try ledger.tryReserve(runID: "m2", lane: .tool, amount: 0.9, caps: caps, at: noon) else { Issue.record("month cap"); return }
        #expect(month.cap == "monthly cap")
        let spend = try ledger.spend(caps: caps, at: noon)
        #expect(abs(spend.monthReservedUSD - 2.3) < 1e-9)
        #expect(abs(spend.dayReservedUSD - 1.4) < 1e-9)
    }

    @Test func settlingAboveTheReservationRecordsTheTruth() throws {
        let folder = TemporaryFolder("fbt-ledger")
        let ledger = try BudgetLedger(path: folder.database, timeZone: utc)
        let caps = BudgetCaps(dayUSD: 1)
        _ = try ledger.reserve(runID: "r", lane: .premium, amount: 0.5, caps: caps, at: noon)
        try ledger.settle(runID: "r", actualUSD: 0.7, at: noon)
        #expect(try ledger.spend(caps: caps, at: noon).daySpentUSD == 0.7)
        #expect(try ledger.reserve(runID: "s", lane: .premium, amount: 0.5, caps: caps, at: noon) == nil)
        #expect(try ledger.reserve(runID: "t", lane: .premium, amount: 0.3, caps: caps, at: noon) != nil)
    }

    /// The attack: a tool reports a cost of 1e300 or infinity (the conversion to micro-dollars trapped
    /// on 1e300, killing the watcher; infinity was recorded as nothing). Each is kept as the largest
    /// amount, past every cap: no further paid run is let through. NaN is nothing.
    @Test func anAbsurdReportedCostIsKeptAsTheLargestAndStopsPaidRuns() throws {
        for (reported, spent) in [(1e300, BudgetLedger.largestDollars), (Double.infinity, BudgetLedger.largestDollars), (Double.nan, 0), (-1e300, 0)] {
            let folder = TemporaryFolder("fbt-ledger")
            let ledger = try BudgetLedger(path: folder.database, timeZone: utc)
            let caps = BudgetCaps(dayUSD: 1)
            _ = try ledger.reserve(runID: "r", lane: .premium, amount: 0.5, caps: caps, at: noon)
            try ledger.settle(runID: "r", actualUSD: reported, at: noon)
            #expect(try ledger.spend(caps: caps, at: noon).daySpentUSD == spent, "\(reported)")
            #expect((try ledger.reserve(runID: "s", lane: .premium, amount: 0.1, caps: caps, at: noon) == nil) == (spent > 0), "\(reported)")
            // A thousand of them still add up.
            for i in 0..<1000 where spent > 0 { try ledger.settle(runID: "x\(i)", actualUSD: reported, at: noon) }
            _ = try ledger.spend(caps: caps, at: noon)
        }
        #expect(AgentDefinition.budgetText(1e300) == "1000000000")
        // Token counts near Int.max, added up as the parsers add them, do not trap either.
        let claude = AgentOutputParser.parseClaude(#"{"type":"result","subtype":"success","result":"ok","total_cost_usd":1e300,"usage":{"input_tokens":9000000000000000000,"cache_creation_input_tokens":9000000000000000000,"cache_read_input_tokens":9000000000000000000,"output_tokens":-5}}"#)
        #expect(claude.tokensIn == AgentOutcome.largestTokens)
        #expect(claude.answer == "ok")
    }

    /// 50 threads, each with its own connection (as separate processes would have), race to reserve.
    @Test func parallelReservationsNeverExceedTheDailyCap() throws {
        let folder = TemporaryFolder("fbt-ledger")
        _ = try BudgetLedger(path: folder.database, timeZone: utc) // create the schema once
        let caps = BudgetCaps(taskUSD: 5, dayUSD: 5, monthUSD: 100, laneDayUSD: [.premium: 5])
        let granted = Counter()
        let failures = Counter()
        runConcurrently(50) { i in
            do {
                let ledger = try BudgetLedger(path: folder.database, timeZone: utc)
                if try ledger.reserve(runID: "run-\(i)", lane: .premium, amount: 0.3, caps: caps, task: "Tasks/t\(i).md", at: noon) != nil {
                    granted.add()
                }
            } catch {
                failures.add()
            }
        }
        #expect(failures.value == 0)
        // floor(5 / 0.3) = 16 runs fit; every other one must have been refused.
        #expect(granted.value == 16)
        let spend = try BudgetLedger(path: folder.database, timeZone: utc).spend(caps: caps, at: noon)
        #expect(spend.dayReservedUSD <= 5)
        #expect(abs(spend.dayReservedUSD - 4.8) < 1e-9)
    }

    /// Two real processes (copies of this test binary, each running `reserveBatch` below with 30
    /// threads) race for the same daily cap in one database file.
    @Test func reservationsFromTwoProcessesNeverExceedTheCap() throws {
        let folder = TemporaryFolder("fbt-ledger")
        _ = try BudgetLedger(path: folder.database, timeZone: utc)
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var children: [ChildProcess] = []
        for name in ["A", "B"] {
            var environment = ProcessInfo.processInfo.environment
            environment["FBT_LEDGER_DB"] = folder.database
            environment["FBT_LEDGER_PREFIX"] = name
            children.append(try ChildProcess(executable, ["--testing-library", "swift-testing", "--filter", "BudgetLedgerTests/reserveBatch"], environment: environment))
        }
        for child in children {
            let outcome = child.finish(timeout: 600)
            let output = outcome.stdout + outcome.stderr
            #expect(outcome.code == 0 && !outcome.signalled && !outcome.timedOut, "child failed: \(output.suffix(2000))")
            #expect(output.contains("reserveBatch"), "the child did not run the batch: \(output.suffix(500))")
        }
        let ledger = try BudgetLedger(path: folder.database, timeZone: utc)
        let spend = try ledger.spend(caps: Self.batchCaps, at: noon)
        // 60 attempts at $0.30 against $5.00: exactly 16 fit, whichever process got them.
        #expect(try ledger.openReservations().count == 16)
        #expect(abs(spend.dayReservedUSD - 4.8) < 1e-9)
    }

    static let batchCaps = BudgetCaps(dayUSD: 5)

    /// 30 threads reserve $0.30 each against a $5 day cap. Alone it uses a fresh database; as a child
    /// of the test above it shares that test's database (`FBT_LEDGER_DB`).
    @Test func reserveBatch() throws {
        let environment = ProcessInfo.processInfo.environment
        let folder = TemporaryFolder("fbt-ledger")
        let database = environment["FBT_LEDGER_DB"] ?? folder.database
        let prefix = environment["FBT_LEDGER_PREFIX"] ?? "solo"
        _ = try BudgetLedger(path: database, timeZone: utc)
        let failures = Counter()
        let granted = Counter()
        runConcurrently(30) { i in
            do {
                let ledger = try BudgetLedger(path: database, timeZone: utc)
                if try ledger.reserve(runID: "\(prefix)-\(i)", lane: .premium, amount: 0.3, caps: Self.batchCaps, at: noon) != nil { granted.add() }
            } catch {
                failures.add()
            }
        }
        #expect(failures.value == 0)
        let spend = try BudgetLedger(path: database, timeZone: utc).spend(caps: Self.batchCaps, at: noon)
        #expect(spend.dayReservedUSD <= 5)
        if environment["FBT_LEDGER_DB"] == nil { #expect(granted.value == 16) }
    }

    /// The same race through one shared ledger object (the watcher's case): its lock and the
    /// transaction together still hold the cap.
    @Test func parallelReservationsThroughOneLedgerNeverExceedTheCap() throws {
        let folder = TemporaryFolder("fbt-ledger")
        let ledger = try BudgetLedger(path: folder.database, timeZone: utc)
        let caps = BudgetCaps(dayUSD: 2)
        let granted = Counter()
        runConcurrently(50) { i in
            if (try? ledger.reserve(runID: "run-\(i)", lane: .premium, amount: 0.25, caps: caps, at: noon)) ?? nil != nil {
                granted.add()
            }
            if i % 5 == 0 { _ = try? ledger.spend(caps: caps, at: noon) }
        }
        #expect(granted.value == 8)
        #expect(try ledger.spend(caps: caps, at: noon).dayReservedUSD == 2)
    }

    @Test func ledgerLivesInTheVaultStateFolder() throws {
        let folder = TemporaryFolder("fbt-ledger")
        let vault = Vault(root: folder.path)
        let ledger = try BudgetLedger(vault: vault)
        _ = try ledger.reserve(runID: "x", lane: .premium, amount: 0.01, caps: BudgetCaps(), at: noon)
        #expect(FileManager.default.fileExists(atPath: folder.path + "/.agentos/runs.sqlite"))
    }

    /// Runs `body` on `count` real threads released at the same moment (2 cores would let a thread
    /// pool run only two at a time).
    func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let ready = DispatchGroup()
        let done = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for i in 0..<count {
            ready.enter()
            done.enter()
            let thread = Thread {
                ready.leave()
                start.wait()
                body(i)
                done.leave()
            }
            thread.start()
        }
        ready.wait()
        for _ in 0..<count { start.signal() }
        done.wait()
    }

    /// Twenty-fourth attack (info): `budget_task_usd: 0.025` was shown as "the task cap of $0.03"
    /// (and what was spent likewise): above what the cap allows. A sum keeps the places it needs.
    @Test func aCapIsShownWithThePlacesItHas() {
        #expect(BudgetLedger.dollars(0.025) == "$0.025")
        #expect(BudgetLedger.dollars(1.25) == "$1.25")
        #expect(BudgetLedger.dollars(2) == "$2.00")
        #expect(BudgetLedger.dollars(0.0042) == "$0.0042")
        // Round 151: a millionth, the least the ledger keeps, was "$0.0000".
        #expect(BudgetLedger.dollars(0.000001) == "$0.000001")
        #expect(BudgetLedger.dollars(0.00012) == "$0.00012")
        #expect(BudgetLedger.dollars(10.12345) == "$10.1235")
        let refusal = BudgetRefusal(cap: "task cap", capUSD: 0.025, committedUSD: 0.025, requestedUSD: 0.01)
        #expect(refusal.description.hasPrefix("the task cap of $0.025 is used up ($0.025 spent or reserved)"), "\(refusal.description)")
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}

extension TemporaryFolder {
    /// The ledger database the budget tests keep in the folder.
    var database: String { path + "/runs.sqlite" }
}

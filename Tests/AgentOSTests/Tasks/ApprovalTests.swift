import Foundation
import Testing
@testable import AgentOS
@testable import Commands

/// Only a person approves: `approved: true` counts only as a change made after the OS showed the
/// task in review, and an approval is spent by the run it approved.
@Suite struct ApprovalTests {
    /// A person's approval: a later change that sets `approved: true` (as Obsidian or `note set` does).
    func approve(_ path: String, _ env: EngineTestVault) throws -> FileStatus {
        try env.store.updateProperties(path, set: [Property("approved", .bool(true))])
        return try env.store.read(path).status
    }

    @Test func aTaskBornApprovedWithDeployAndPaymentWaitsForReviewThenRunsOnAPersonsApproval() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Ship and pay", properties: "type: task\nagent: claude\nstatus: new\napproved: true\napproved_by: mallory\neffects: [deploy, payment]", body: "Deploy the site and pay the invoice.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        var task = try env.note(path)
        #expect(task.text("status") == "review")
        #expect(task["approved"]?.bool == false)
        #expect(task["approved_by"] == nil, "a name written before review is not who approved")
        #expect(task.text("route_reason")?.contains("approved: true is not counted") == true)
        #expect(env.fixturePrompts().isEmpty, "the agent ran on an approval written before review")

        let approvedAt = try approve(path, env)
        guard case .started = engine.consider(path: path, wait: true) else {
            Issue.record("a person's approval after review did not start the task")
            return
        }
        engine.waitUntilIdle()
        task = try env.note(path)
        #expect(task.text("status") == "done")
        #expect(task.text("approved_by") == FileSystem.userName(approvedAt.ownerUID))
        #expect(task.text("approved_at") == LocalTime.dateTime(Date(timeIntervalSince1970: Double(approvedAt.mtimeNanoseconds) / 1e9)))
        let argvs = env.fixtureArgvs
        #expect(argvs.count == 1)
        #expect(argvs.first?.contains("acceptEdits") == true, "an approved run gets the agent's approved_args")
    }

    @Test func reviewAndApprovedWrittenTogetherInABrandNewNoteIsReviewedNotRun() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Born in review", properties: "type: task\nagent: claude\nstatus: review\napproved: true\neffects: [deploy, payment]", body: "Deploy and pay now.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let task = try env.note(path)
        #expect(task.text("status") == "review")
        #expect(task["approved"]?.bool == false)
        #expect(task.text("route_reason")?.contains("never in review") == true)
        #expect(env.fixturePrompts().isEmpty)
        // The OS's own review write changes nothing further, however many events it causes.
        #expect(engine.consider(path: path, wait: true) == .ownWrite)
        #expect(engine.consider(path: path, wait: true) == .ownWrite)
        #expect(env.fixturePrompts().isEmpty)
    }

    @Test func aBornApprovedTaskThatNeedsNoReviewRunsReadOnly() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Summarise", properties: "type: task\nagent: claude\nstatus: review\napproved: true", body: "Summarise the notes.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let task = try env.note(path)
        #expect(task.text("status") == "done")
        #expect(task["approved"]?.bool == false)
        let argvs = env.fixtureArgvs
        #expect(argvs.count == 1)
        #expect(argvs.first?.contains("plan") == true)
        #expect(argvs.first?.contains("acceptEdits") == false, "a note born approved must not get write permissions")
    }

    @Test func aBornApprovedTaskInTheHumanLaneWaitsForAPerson() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("By hand", properties: "type: task\nlane: human\napproved: true", body: "Sign the contract.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "review")
        #expect(env.fixturePrompts().isEmpty)
    }

    @Test func aHandoffBornApprovedWaitsForReviewThenRunsOnAPersonsApproval() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = "Handoffs/Take over.md"
        try env.store.write("---\ntype: handoff\nfrom: codex\nto: claude\nstatus: new\napproved: true\neffects: [deploy, payment]\n---\nDeploy it and pay the bill.\n", to: path, expecting: .absent)
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        var handoff = try env.note(path)
        #expect(handoff.text("status") == "review")
        #expect(handoff["approved"]?.bool == false)
        #expect(env.fixturePrompts().isEmpty)

        let approvedAt = try approve(path, env)
        guard case .started = engine.consider(path: path, wait: true) else {
            Issue.record("approving the handoff did not start it")
            return
        }
        engine.waitUntilIdle()
        handoff = try env.note(path)
        #expect(handoff.text("status") == "done")
        #expect(handoff.text("approved_by") == FileSystem.userName(approvedAt.ownerUID))
        #expect(handoff["approved_at"] != nil)
        #expect(env.fixtureArgvs.first?.contains("acceptEdits") == true)
    }

    @Test func aRerunAfterDoneDoesNotReuseTheEarlierApproval() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        // The local echo agent: no budget cap gets in the way of running the same task again.
        let runs = try RunStore(vault: env.vault)
        func doneRuns() -> Int { ((try? runs.runs(in: [.done], limit: 100)) ?? []).count }
        let path = try env.writeTask("Deploy", properties: "type: task\nagent: echo\neffects: [deploy, payment]", body: "Deploy and pay.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "review")
        _ = try approve(path, env)
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "done")
        #expect(doneRuns() == 1)

        // A person asks for it again; the note still says approved: true from the first run.
        try env.store.updateProperties(path, set: [Property("status", .string("new"))])
        #expect(try env.note(path)["approved"]?.bool == true)
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        var task = try env.note(path)
        #expect(task.text("status") == "review", "the earlier approval was reused")
        #expect(task["approved"]?.bool == false)
        #expect(doneRuns() == 1)

        // So does a `status: review` put back by hand with the old approval still in place.
        try env.store.updateProperties(path, set: [Property("status", .string("done"))])
        try env.store.updateProperties(path, set: [Property("status", .string("review")), Property("approved", .bool(true))])
        let latest = try #require(try runs.latestRun(taskPath: path))
        #expect(latest.state == .review)
        // Its newest review is still open, so this is a real approval of it and runs once...
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        task = try env.note(path)
        #expect(task.text("status") == "done", "\((try? env.text(path)) ?? "")")
        #expect(doneRuns() == 2)
        // ...and once only: the same approval again is spent.
        try env.store.updateProperties(path, set: [Property("status", .string("review"))])
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        task = try env.note(path)
        #expect(task.text("status") == "review")
        #expect(task["approved"]?.bool == false)
        #expect(doneRuns() == 2)
    }

    @Test func theReviewRecordsTheHashOfTheNoteTheOSShowed() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Quick", properties: "type: task\nagent: claude\neffects: [deploy]", body: "Deploy quickly.")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "review")
        let runs = try RunStore(vault: env.vault)
        let review = try #require(try runs.latestRun(taskPath: path))
        #expect(try runs.reviewHash(runID: review.runID) == (try env.store.read(path).hash))
        #expect(try runs.reviewHash(runID: review.runID) != nil)
    }

    @Test func routeShowsWhetherTheApprovalCounts() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Pay", properties: "type: task\nagent: claude\nstatus: review\napproved: true\neffects: [payment]", body: "Pay the invoice.")
        let (console, captured) = Console.capturing()
        let code = CLI.run(["route", path, "--vault", env.vault.root], console: console, environment: [:], executablePath: "fuckbigtech")
        #expect(code == 0)
        #expect(captured.stdout.contains("approval: approved: true is not counted: the task was never in review"))
        #expect(captured.stdout.contains("action:   review"))
        #expect(captured.stdout.contains("need a person's approval"))

        let (jsonConsole, json) = Console.capturing()
        _ = CLI.run(["route", path, "--json", "--vault", env.vault.root], console: jsonConsole, environment: [:], executablePath: "fuckbigtech")
        let decision = try JSON.parse(json.stdout)
        #expect(decision["approved"]?.boolValue == false)
        #expect(decision["approval_not_counted"]?.stringValue?.contains("never in review") == true)
    }
}

import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The README's five-minute tour on a fresh HOME, command by command, as written there (no --vault:
/// everything lands in ~/AgentOS), checking what the README says each command shows.
@Suite(.serialized) struct ReadmeTourTests {
    /// The README's code blocks hold these commands; the test fails if the README stops showing them.
    static let readme: String = (try? String(contentsOfFile: RepositoryPaths.file("README.md"), encoding: .utf8)) ?? ""

    @Test func theTourRunsAsWrittenOnAFreshHome() throws {
        let sandbox = try EndToEndTests.Sandbox()
        let vault = sandbox.home + "/AgentOS"
        func tour(_ arguments: [String]) throws -> ProcessOutcome {
            let line = "fuckbigtech " + arguments.map { $0.contains(" ") || $0.contains("'") ? "\"\($0)\"" : $0 }.joined(separator: " ")
            #expect(Self.readme.contains(line) || arguments.first == "context", "the README no longer shows: \(line)")
            return try EndToEndTests.run(arguments, in: sandbox)
        }

        let initialized = try tour(["init", "--with-memory"])
        #expect(initialized.code == 0 && initialized.stdout.contains("Created a vault at \(vault)"), "\(initialized.stderr)")
        #expect(initialized.stdout.contains("Lanes on this machine:") && initialized.stdout.contains("Indexed "))

        // "ok / warn / fail per check, with a fix for each problem"
        let doctor = try tour(["doctor"])
        let findings = doctor.stdout.split(separator: "\n").filter { $0.hasPrefix("ok ") || $0.hasPrefix("warn ") || $0.hasPrefix("fail ") }
        #expect(findings.count >= 10, "\(doctor.stdout)")
        for (index, line) in doctor.stdout.split(separator: "\n").enumerated() where line.hasPrefix("warn ") || line.hasPrefix("fail ") {
            let next = doctor.stdout.split(separator: "\n").dropFirst(index + 1).first ?? ""
            #expect(next.contains("fix: "), "no fix under: \(line)")
        }

        // "which lane and agent, which rule, every guardrail"
        let route = try tour(["route", "summarize today's handoff"])
        #expect(route.code == 0)
        for part in ["lane:     local", "agent:    ollama", "rule:     Rules/Routing/Local for routine work.md", "privacy", "secrets", "effects", "budget"] {
            #expect(route.stdout.contains(part), "route shows no \(part):\n\(route.stdout)")
        }

        // fuckbigtech watch &
        let watcher = try ChildProcess(try BuiltBinary.path(), ["watch"], environment: ["PATH": "/usr/bin:/bin", "HOME": sandbox.home, "NO_COLOR": "1"], directory: sandbox.root)
        defer { if watcher.isRunning { watcher.signal(SIGTERM); _ = watcher.finish(timeout: 30) } }
        #expect(eventually(within: 30, every: 0.05) { try EndToEndTests.run(["status"], in: sandbox).stdout.contains("Watcher: running") })

        let created = try tour(["task", "new", "Say hello in three languages", "--agent", "echo"])
        #expect(created.code == 0 && created.stdout == "Tasks/Say hello in three languages.md\n", "\(created.stdout)\(created.stderr)")
        let task = vault + "/Tasks/Say hello in three languages.md"
        // "Within moments its status goes routed → running → done, route_* says which rule chose the
        // lane, result links the answer in Results/, a row lands in Telemetry/<today>.md and a line in
        // Daily/<today>.md."
        #expect(eventually(within: 30, every: 0.05) { try String(contentsOfFile: task, encoding: .utf8).contains("status: done") },
                "the task did not finish; watcher running: \(watcher.isRunning)\n\(watcher.stdout)\(watcher.stderr)")
        let note = try String(contentsOfFile: task, encoding: .utf8)
        #expect(note.contains("route_lane: local") && note.contains("route_rule:") && note.contains("result: \"[[Results/Say hello in three languages "))
        let status = try tour(["status"])
        #expect(status.stdout.contains("Watcher: running") && status.stdout.contains("Tasks/Say hello in three languages.md") && status.stdout.contains("Budget"), "\(status.stdout)")
        let day = LocalTime.day(Date())
        #expect(eventually(within: 30, every: 0.05) { try String(contentsOfFile: vault + "/Telemetry/\(day).md", encoding: .utf8).contains("[[Tasks/Say hello in three languages]]") })
        #expect(eventually(within: 30, every: 0.05) { try String(contentsOfFile: vault + "/Daily/\(day).md", encoding: .utf8).contains("[[Tasks/Say hello in three languages]] → echo (local): done") })

        // What the runs cost, saved and touched; which agents rest after a limit.
        let report = try tour(["report", "--days", "7"])
        #expect(report.code == 0 && report.stdout.contains("Wrote Telemetry/Report \(day).md"), "\(report.stdout)\(report.stderr)")
        #expect(FileManager.default.fileExists(atPath: vault + "/Telemetry/Report \(day).md"))
        let agents = try tour(["agent", "list"])
        #expect(agents.code == 0 && agents.stdout.contains("echo"), "\(agents.stdout)\(agents.stderr)")

        // Switch harnesses without restarting.
        let handoff = try tour(["handoff", "--from", "echo", "--to", "codex", "--task", "Tasks/Say hello in three languages.md", "Said hello; left: add Welsh"])
        #expect(handoff.code == 0, "\(handoff.stderr)")
        let handoffPath = handoff.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(handoffPath.hasPrefix("Handoffs/") && handoffPath.hasSuffix(".md"))
        let context = try tour(["context", handoffPath])
        #expect(context.code == 0 && context.stdout.contains("Handoff — \(handoffPath)") && context.stdout.contains("Linked note — Tasks/Say hello in three languages.md"), "\(context.stdout)")
        #expect(Self.readme.contains("fuckbigtech context \"Handoffs/"))

        // Memory is the vault itself, indexed.
        #expect(eventually(within: 30, every: 0.05) { try EndToEndTests.run(["search", "hello languages", "-n", "5"], in: sandbox).stdout.contains("Tasks/Say hello in three languages.md:") })
        _ = try tour(["search", "hello languages", "-n", "5"])
        let backlinks = try tour(["backlinks", "Tasks/Say hello in three languages"])
        #expect(backlinks.stdout.contains("Results/Say hello in three languages ") && backlinks.stdout.contains(handoffPath), "\(backlinks.stdout)")
        let shown = try tour(["note", "show", "Tasks/Say hello in three languages.md", "--json"])
        let json = try JSON.parse(shown.stdout)
        #expect(json["hash"]?.stringValue?.count == 16 && json["properties"]?["status"] == .string("done"))
        let memory = try tour(["memory-test", "quick"])
        #expect(memory.code == 0, "\(memory.stdout)\(memory.stderr)")
        // `bench` runs for minutes on its 20,000 notes; the same command on 300 notes shows it works.
        #expect(Self.readme.contains("fuckbigtech bench "))
        let bench = try EndToEndTests.run(["bench", "--notes", "300", "--sections", "index", "--runs", "1"], in: sandbox)
        #expect(bench.code == 0 && bench.stdout.contains("full_index ") && bench.stdout.contains("300 notes"), "\(bench.stdout)\(bench.stderr)")
    }
}

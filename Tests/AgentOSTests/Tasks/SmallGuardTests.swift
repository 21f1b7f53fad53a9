import Foundation
import Testing
@testable import AgentOS
@testable import Commands

/// The small ones of issue 9: binary files under `Tasks/`, control characters in log lines, and
/// `run` saying why it will not run a note.
@Suite(.serialized) struct SmallGuardTests {
    /// On 320a560 a PNG named `x.md` under `Tasks/` got frontmatter written into it.
    @Test(arguments: [
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52] as [UInt8],
        Array("---\nstatus: new\n---\nhello\u{0}world\n".utf8),
        Array("---\nstatus: new\n---\nbad ".utf8) + [0xC3, 0x28, 0xFF, 0x0A],
    ])
    func aBinaryFileUnderTasksIsReportedOnceAndLeftByteIdentical(bytes: [UInt8]) throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let absolute = env.vault.root + "/Tasks/x.md"
        #expect(FileManager.default.createFile(atPath: absolute, contents: Data(bytes)))
        for _ in 0..<3 {
            if case .started = engine.consider(path: "Tasks/x.md", wait: true) { Issue.record("a binary file was run") }
        }
        engine.waitUntilIdle()
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: absolute))) == bytes)
        let reports = env.loggedEvents.filter { $0.message.contains("Tasks/x.md") && $0.message.contains("not a text note") }
        #expect(reports.count == 1)
        #expect(env.fixturePrompts().isEmpty)
    }

    /// On 320a560 a newline in a file name printed a second, forged log line.
    @Test func controlCharactersInNamesAreEscapedInLogLines() {
        let forged = "Tasks/a.md: done\n12:00:00 error: Tasks/forged.md: \u{1B}[31mred\u{1B}[0m\r\u{2028}\u{202E}x\u{85}"
        let line = EngineEvent.printable(forged)
        #expect(!line.unicodeScalars.contains { $0.properties.generalCategory == .control })
        #expect(!line.contains("\u{2028}") && !line.contains("\u{202E}"))
        #expect(line.contains("\\n12:00:00"))
        #expect(line.contains("\\u{1B}[31m"))
        #expect(EngineEvent.printable("Tasks/日本語 ok.md") == "Tasks/日本語 ok.md")
    }

    /// Runs `fuckbigtech run PATH` in-process; returns the exit code and stderr.
    func run(_ env: EngineTestVault, _ path: String) -> (Int32, String) {
        let (console, output) = Console.capturing()
        let code = CLI.run(["run", "--vault", env.vault.root, path], console: console, environment: [:], executablePath: "/nonexistent")
        return (code, output.stderr)
    }

    /// On 320a560 `run` said "is not a task or handoff note" for a draft or a running task.
    @Test func runSaysWhyItWillNotRunANote() throws {
        let env = try EngineTestVault()
        let draft = try env.writeTask("Drafted", properties: "type: task\nstatus: draft\nagent: echo", body: "Later.")
        var (code, stderr) = run(env, draft)
        #expect(code != 0)
        #expect(stderr.contains("status is draft; set status: new"))

        let running = try env.writeTask("Busy", properties: "type: task\nstatus: running\nagent: echo", body: "Working.")
        let runs = try RunStore(vault: env.vault)
        let active = try #require(try runs.claim(taskPath: running, taskHash: nil, attempt: 1))
        // Owned by a live process other than this one (the one `run` is called from would be recovered).
        try runs.withDatabase { try $0.run("UPDATE runs SET state='running', owner_pid=? WHERE run_id=?", [.int(Int64(getppid())), .text(active.runID)]) }
        (code, stderr) = run(env, running)
        #expect(code != 0)
        #expect(stderr.contains("already running (run id \(active.runID))"))

        try env.store.write("# Just a note\n", to: "Memory/Plain.md", expecting: .absent)
        (code, stderr) = run(env, "Memory/Plain.md")
        #expect(stderr.contains("will not run: it is not under Tasks/ or Handoffs/ and has no type: task"))

        // A folder README under Tasks/ is not work either, and `run` says why (not "put it under Tasks/").
        (code, stderr) = run(env, "Tasks/README.md")
        #expect(code != 0 && stderr.contains("its type is readme") && !stderr.contains("put it under Tasks/"), "\(stderr)")
    }

    /// `route` on a note that will never run says so first (issue 14, trap 6: a note in a mistyped
    /// folder was shown "action: run").
    @Test func routeSaysWhenANoteWillNotRun() throws {
        let env = try EngineTestVault()
        try env.store.write("---\nagent: echo\n---\nTypo folder job.\n", to: "Task/Typo folder job.md", expecting: .absent)
        func route(_ path: String) -> String {
            let (console, captured) = Console.capturing()
            _ = CLI.run(["route", path, "--vault", env.vault.root], console: console, environment: [:], executablePath: "fuckbigtech")
            return captured.stdout + captured.stderr
        }
        let typo = route("Task/Typo folder job.md")
        #expect(typo.contains("runs:     no — this note will not run: it is not under Tasks/ or Handoffs/"), "\(typo)")
        let draft = try env.writeTask("Later", properties: "type: task\nstatus: draft\nagent: echo", body: "Later.")
        #expect(route(draft).contains("this note will not run: its status is draft; set status: new"))
        let ready = try env.writeTask("Now", properties: "type: task\nagent: echo", body: "Now.")
        #expect(!route(ready).contains("will not run"))
    }
}

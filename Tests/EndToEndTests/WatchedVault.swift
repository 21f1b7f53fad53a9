import AgentOS
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A temp vault made by the real `fuckbigtech init`, with the real `fuckbigtech watch` running on it
/// as a child process. The claude, codex and opencode agent notes point at the fixture agents (which
/// print exactly what the real tools print); `slow` is a local agent that takes a moment.
final class WatchedVault: @unchecked Sendable {
    /// `Fixtures/slow-agent`: sleeps `SLEEP=<seconds>` (from the prompt), then echoes the prompt.
    static let slowAgent = RepositoryPaths.endToEndFixtures + "/slow-agent"

    /// Writes the agent note of `slowAgent` under `name`, in `lane`, one run at a time (`extra`:
    /// more frontmatter lines).
    func writeSlowAgent(_ name: String, lane: String, extra: String = "") throws {
        try write("Rules/Agents/\(name).md", """
            ---
            type: agent
            name: \(name)
            lane: \(lane)
            \(extra)concurrency: 1
            command: [\(JSON.string(WatchedVault.slowAgent).compact), "{prompt}"]
            output: text
            timeout: 60
            env: [FBT_FIXTURE_LOG]
            ---
            A stand-in that takes a moment, one run at a time.

            """)
    }

    /// The folder holding the real `llm` (with the llm-echo plugin), put first on the watcher's PATH:
    /// `.ci/run` installs it into /tmp/fbt-venv; nil when it is not installed.
    static let llmFolder: String? = ExternalTool.path("llm").map { ($0 as NSString).deletingLastPathComponent }

    /// The temp folder (home, vault, logs); removed when this object goes.
    let sandbox: EndToEndTests.Sandbox
    /// The vault under test (`sandbox/vault`).
    let vault: Vault
    /// Used for setup writes only; the behaviour under test sees plain file writes.
    let store: NoteStore
    /// Where the fixture agents record each run (one JSON line: tool, argv, prompt).
    let fixtureLog: String
    /// `LLM_USER_PATH`: llm's keys and logs stay in the sandbox.
    let llmHome: String

    /// The process id of the latest watcher started (still known after it exited).
    private(set) var lastPID: Int32 = 0
    /// The running watcher, nil once stopped.
    private var process: ChildProcess?
    /// Every watcher started, oldest first (their output stays readable).
    private var starts: [ChildProcess] = []

    /// The vault's absolute path.
    var root: String { vault.root }

    /// Runs the real `init --with-memory` and points the agent notes at the fixtures.
    init() throws {
        sandbox = try EndToEndTests.Sandbox()
        let created = try EndToEndTests.run(["init", "--with-memory", sandbox.vault], in: sandbox)
        try #require(created.code == 0, "init failed: \(created.stderr)")
        vault = Vault(root: sandbox.vault)
        store = NoteStore(vault: vault)
        fixtureLog = sandbox.root + "/fixture-log.jsonl"
        llmHome = sandbox.root + "/llm"
        try FileManager.default.createDirectory(atPath: llmHome, withIntermediateDirectories: true)
        for tool in ["claude", "codex", "opencode"] {
            let path = "Rules/Agents/\(tool).md"
            let note = try Note.parse(bytes: try store.read(path).bytes)
            var command = note.texts("command")
            command[0] = RepositoryPaths.fixtureAgents + "/" + tool
            _ = try store.updateProperties(path, set: [
                Property("command", .list(command.map { .string($0) })),
                Property("env", .list(["FBT_FIXTURE_LOG", "FBT_BIN"].map { .string($0) })),
            ])
        }
        try write("Rules/Agents/slow.md", """
            ---
            type: agent
            name: slow
            lane: local
            command: [\(JSON.string(Self.slowAgent).compact), "{prompt}"]
            output: text
            timeout: 60
            env: [FBT_FIXTURE_LOG]
            ---
            A local stand-in agent that takes a moment (the end-to-end tests' Fixtures/slow-agent).

            """)
    }

    // MARK: The watcher process

    /// Starts `fuckbigtech watch --vault V` and waits until its log says it is watching.
    /// `timeout` bounds the wait for start-up (recovery and the index catch-up of a big vault take longer).
    /// `environment` adds variables to the watcher's (a test hook such as `FBT_TEST_HOLD_BEFORE_HANDOFF`).
    func start(extraArguments: [String] = [], environment extra: [String: String] = [:], timeout: Double = 20) throws {
        let binary = try BuiltBinary.path()
        let process = try ChildProcess(binary, ["watch", "--vault", vault.root] + extraArguments, environment: [
            "PATH": (Self.llmFolder.map { $0 + ":" } ?? "") + "/usr/local/bin:/usr/bin:/bin",
            "HOME": sandbox.home,
            "FBT_FIXTURE_LOG": fixtureLog,
            // The binary under test, for fixture agents that call back into the OS.
            "FBT_BIN": binary,
            "LLM_USER_PATH": llmHome,
            "NO_COLOR": "1",
            "TERM": "dumb",
        ].merging(extra) { $1 }, directory: sandbox.root)
        self.process = process
        starts.append(process)
        lastPID = process.pid
        let watching = eventually(within: timeout, every: 0.05) { self.log.contains(" watching \(self.vault.root) (") || !process.isRunning }
        try #require(watching && process.isRunning, "the watcher did not start watching:\n\(log)\n\(errorLog)")
    }

    /// Sends `signal` to the watcher and waits for it to exit; returns how it ended.
    @discardableResult
    func stop(_ signal: Int32) throws -> (status: Int32, reason: Process.TerminationReason) {
        let process = try #require(process, "the watcher is not running")
        process.signal(signal)
        if !process.wait(seconds: 30) {
            Issue.record("the watcher did not exit within 30 s of signal \(signal); killing it\n\(log)")
            process.signal(SIGKILL)
            _ = process.wait(seconds: 10)
        }
        // The exit is only reaped once the handler ran; the status is final now.
        self.process = nil
        return (process.terminationStatus, process.terminationReason)
    }

    /// Waits up to `seconds` for the watcher to exit on its own; its exit status, or `nil` if it runs on.
    func waitForExit(seconds: Double) -> Int32? {
        guard let process, process.wait(seconds: seconds) else { return nil }
        self.process = nil
        return process.terminationStatus
    }

    /// Whether the latest watcher started is still running.
    var isRunning: Bool { process?.isRunning ?? false }

    /// Standard output of the watcher's latest start.
    var log: String { starts.last?.stdout ?? "" }
    /// Standard error of the watcher's latest start.
    var errorLog: String { starts.last?.stderr ?? "" }
    /// Everything every start printed, for failure messages.
    var allLogs: String {
        starts.enumerated().map { i, start in
            "--- watcher start \(i + 1) stdout:\n\(start.stdout)--- stderr:\n\(start.stderr)"
        }.joined(separator: "\n")
    }

    // MARK: Writing notes the ways editors do

    /// Writes a note in place: open (create, truncate), two writes, close — as Obsidian saves.
    func writeInPlace(_ path: String, _ text: String) throws {
        let absolute = vault.root + "/" + path
        let fd = open(absolute, O_WRONLY | O_CLOEXEC | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0, "cannot open \(absolute): errno \(errno)")
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let half = bytes.count / 2
        for part in [bytes[..<half], bytes[half...]] {
            let written = part.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            try #require(written == part.count, "short write to \(absolute)")
        }
    }

    /// Writes a note to a hidden temp name in the same folder, then renames it into place — as vim,
    /// VS Code and most sync tools save.
    func writeViaRename(_ path: String, _ text: String) throws {
        let absolute = vault.root + "/" + path
        let folder = (absolute as NSString).deletingLastPathComponent
        let temp = folder + "/." + (absolute as NSString).lastPathComponent + ".tmp"
        try text.write(toFile: temp, atomically: false, encoding: .utf8)
        try #require(rename(temp, absolute) == 0, "cannot rename \(temp) to \(absolute): errno \(errno)")
    }

    /// Writes a note (setup only, before or outside the behaviour under test).
    func write(_ path: String, _ text: String) throws {
        try writeViaRename(path, text)
    }

    // MARK: Reading the vault back

    /// The text of a vault note, or nil when it is missing.
    func text(_ path: String) -> String? {
        try? String(contentsOfFile: vault.root + "/" + path, encoding: .utf8)
    }

    /// The note at `path`, or nil while it is missing or does not parse.
    func note(_ path: String) -> Note? {
        text(path).flatMap { try? Note.parse($0) }
    }

    /// A note's `status` property.
    func status(_ path: String) -> String? {
        note(path)?.text("status")
    }

    /// The note a `[[link]]` property points at.
    func linked(_ link: String?) -> (path: String, note: Note)? {
        guard let link, link.hasPrefix("[["), link.hasSuffix("]]") else { return nil }
        let path = String(link.dropFirst(2).dropLast(2)) + ".md"
        return note(path).map { (path, $0) }
    }

    /// Result notes whose `task` property links `taskPath`.
    func resultNotes(for taskPath: String) -> [(path: String, note: Note)] {
        let link = "[[" + String(taskPath.dropLast(3)) + "]]"
        return VaultWalker.markdownFiles(in: vault, under: "Results").compactMap { path in
            guard let note = note(path), note.text("type") == "result", note.text("task") == link else { return nil }
            return (path, note)
        }
    }

    /// Lines of `.agentos/telemetry.jsonl`, parsed.
    func telemetryLines() -> [JSON] {
        let text = (try? String(contentsOfFile: vault.stateDirectory + "/telemetry.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
    }

    /// Runs the fixture agents recorded, parsed.
    func fixtureRuns() -> [JSON] {
        let text = (try? String(contentsOfFile: fixtureLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
    }

    /// The days a note written around now may be named after (the test may cross midnight).
    static func days(around start: Date) -> Set<String> {
        [LocalTime.day(start), LocalTime.day(Date())]
    }
}

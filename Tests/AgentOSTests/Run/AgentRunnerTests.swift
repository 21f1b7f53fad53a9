import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// The runner against the fixture agents (real processes that print what the real tools print).
@Suite struct AgentRunnerTests {
    static let claude = AgentDefinition(
        name: "claude", lane: .premium, command: ["claude", "-p", "--output-format", "json", "--", "{prompt}"],
        modelArguments: ["--model", "{model}"], readonlyArguments: ["--permission-mode", "plan"],
        approvedArguments: ["--permission-mode", "acceptEdits"], output: .claudeJSON, timeout: 30,
        environmentNames: ["FBT_FIXTURE_LOG"], sourcePath: "Rules/Agents/claude.md")
    static let codex = AgentDefinition(
        name: "codex", lane: .premium, command: ["codex", "exec", "--json", "--skip-git-repo-check"],
        modelArguments: ["-m", "{model}"], readonlyArguments: ["--sandbox", "read-only"], output: .codexJSONL,
        model: "gpt-5", priceInPerMillionTokens: 1.25, priceOutPerMillionTokens: 10, environmentNames: ["FBT_FIXTURE_LOG"])
    static let opencode = AgentDefinition(
        name: "opencode", lane: .premium, command: ["opencode", "run", "--format", "json", "--", "{prompt}"],
        modelArguments: ["-m", "{model}"], output: .opencodeJSONL, environmentNames: ["FBT_FIXTURE_LOG"])

    /// A scratch folder with a fixture log, and an environment whose PATH starts at the fixtures.
    struct Scratch {
        let directory = TemporaryFolder.make("fbt-run")
        var log: String { directory + "/fixture.log" }
        var environment: [String: String] {
            var env = ProcessInfo.processInfo.environment
            env["PATH"] = RepositoryPaths.fixtureAgents + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            env["FBT_FIXTURE_LOG"] = log
            env["FBT_NOT_ALLOWED"] = "leak"
            return env
        }
        /// The runs the fixtures recorded.
        func records() -> [JSON] {
            (PlatformTestSupport.read(log) ?? "").split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
        }
    }

    func run(_ definition: AgentDefinition, _ prompt: String, in scratch: Scratch, model: String? = nil, approved: Bool = false,
             timeout: Double? = nil, cancel: CancelToken? = nil, extras: [String: String] = [:]) -> AgentRunResult {
        AgentRunner.run(definition, prompt: prompt, model: model, approved: approved, workingDirectory: scratch.directory,
                        timeout: timeout, cancel: cancel, environment: scratch.environment, extraEnvironment: extras,
                        terminationGrace: 0.5)
    }

    @Test func claudeSuccessWithWhatTheAgentReceived() throws {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let prompt = "- [ ] Summarise \"notes\"\nsecond line"
        let r = run(AgentRunnerTests.claude, prompt, in: s, model: "claude-opus-4-1", extras: ["FBT_RUN_ID": "r1"])
        #expect(r.isSuccess && r.failure == nil)
        #expect(r.outcome.answer == "claude fixture answer: " + prompt)
        #expect(r.costUSD == 0.0123405 && !r.isCostEstimated)
        #expect(r.outcome.tokensIn == 17127 && r.outcome.tokensOut == 42)
        #expect(r.model == "claude-opus-4-1" && r.exitCode == 0)
        let record = try #require(s.records().first)
        #expect(record["prompt"]?.stringValue == prompt)
        #expect(record["cwd"]?.stringValue == s.directory)
        let argv = (record["argv"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(argv == ["-p", "--output-format", "json", "--model", "claude-opus-4-1", "--permission-mode", "plan", "--", prompt])
        let names = Set((record["env"]?.arrayValue ?? []).compactMap(\.stringValue))
        #expect(names.isSuperset(of: ["PATH", "HOME", "FBT_FIXTURE_LOG", "FBT_RUN_ID"]))
        // Only bash's own variables besides the allow-list and extras; nothing else leaked through.
        #expect(names.subtracting(["PATH", "HOME", "FBT_FIXTURE_LOG", "FBT_RUN_ID", "PWD", "SHLVL", "OLDPWD", "_"]).isEmpty)
    }

    @Test func claudeIsErrorWithExitZeroIsAFailure() {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let r = run(AgentRunnerTests.claude, "FIXTURE_MODE=error please", in: s)
        #expect(r.exitCode == 0)
        #expect(r.failure?.code == "tool_error")
        #expect(r.errorMessage?.hasPrefix("API Error: 529 Overloaded.") == true)
        let exit1 = run(AgentRunnerTests.claude, "FIXTURE_MODE=error-exit", in: s)
        #expect(exit1.exitCode == 1 && exit1.failure?.code == "tool_error")
        #expect(exit1.errorMessage?.hasPrefix("No conversation found with session ID") == true)
    }

    @Test func codexGetsThePromptOnStdinAndCostFromPrices() throws {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let r = run(AgentRunnerTests.codex, "fix the login", in: s, approved: true)
        #expect(r.isSuccess)
        #expect(r.outcome.answer == "codex fixture answer: fix the login")
        #expect(r.outcome.sessionID == "0199a213-81c0-7800-8aa1-bbab2a035a53")
        #expect(r.isCostEstimated)
        #expect(abs((r.costUSD ?? 0) - (24763 * 1.25 + 122 * 10) / 1_000_000) < 1e-12)
        #expect(r.stderrTail == "Reading prompt from stdin...\n")
        let argv = (try #require(s.records().first)["argv"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(argv == ["exec", "--json", "--skip-git-repo-check", "-m", "gpt-5"])
    }

    @Test func codexFailuresTrustTheEvents() {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let failed = run(AgentRunnerTests.codex, "FIXTURE_MODE=error", in: s)
        #expect(failed.failure == .toolError("unexpected status 401 Unauthorized: Missing bearer or basic authentication in header"))
        let reconnected = run(AgentRunnerTests.codex, "FIXTURE_MODE=reconnect", in: s)
        #expect(reconnected.isSuccess)
    }

    @Test func opencodeSuccessAndError() {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let r = run(AgentRunnerTests.opencode, "what is 2+2", in: s, model: "anthropic/claude-sonnet-4-5")
        #expect(r.isSuccess)
        #expect(r.outcome.answer == "opencode fixture answer: what is 2+2")
        #expect(abs((r.costUSD ?? 0) - 0.0032) < 1e-12 && r.outcome.tokensIn == 7952 + 7752 + 1024 && r.outcome.tokensOut == 35 + 24 + 11 + 46)
        #expect(r.outcome.sessionID == "ses_3b11bfdcdffeITCXse4fCuIRnU")
        let e = run(AgentRunnerTests.opencode, "FIXTURE_MODE=error", in: s)
        #expect(e.failure == .toolError("Unauthorized: invalid x-api-key") && e.exitCode == 1)
    }

    @Test func hangIsStoppedAtTheTimeout() {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let r = run(AgentRunnerTests.claude, "FIXTURE_MODE=hang", in: s, timeout: 0.5)
        #expect(r.failure == .timedOut(seconds: 0.5))
        #expect(r.errorMessage == "the agent did not finish within 0.5 s and was stopped")
        let stubborn = run(AgentRunnerTests.codex, "FIXTURE_MODE=hang-ignore-term", in: s, timeout: 0.3)
        #expect(stubborn.failure?.code == "timeout" && stubborn.signal == SIGKILL)
    }

    @Test func floodEndsAsAClearFailure() {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let r = run(AgentRunnerTests.opencode, "FIXTURE_MODE=flood", in: s)
        #expect(r.failure == .outputFlood(totalBytes: 104_857_600, keptBytes: 16 << 20))
        #expect(r.errorMessage == "the agent printed 100 MB on stdout; only the first 16 MB were kept, so its answer cannot be trusted")
    }

    @Test func deathBySignalAndPlainExitStatus() {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let r = run(AgentRunnerTests.claude, "FIXTURE_MODE=signal", in: s)
        #expect(r.failure?.code == "tool_error" || r.failure?.code == "signal")
        #expect(r.signal == SIGSEGV && r.stderrTail.contains("about to crash"))
        let text = AgentDefinition(name: "t", lane: .tool, command: ["claude", "{prompt}"], output: .text)
        let killed = run(text, "FIXTURE_MODE=signal", in: s)
        #expect(killed.failure == .signaled(signal: SIGSEGV))
        #expect(killed.errorMessage == "the agent was killed by SIGSEGV")
        let status = run(text, "FIXTURE_MODE=exit-status", in: s)
        #expect(status.failure == .exitStatus(3) && status.stderrTail == "fatal: something went wrong\n")
    }

    @Test func missingBinaryNamesTheAgentAndTheFix() {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let d = AgentDefinition(name: "ghost", lane: .local, command: ["fbt-ghost-agent", "{prompt}"], output: .text, sourcePath: "Rules/Agents/ghost.md")
        let r = run(d, "hi", in: s)
        #expect(r.failure?.code == "missing_binary")
        #expect(r.errorMessage?.hasPrefix("agent ghost: fbt-ghost-agent: not found on PATH (") == true)
        #expect(r.errorMessage?.hasSuffix("install it or fix 'command' in Rules/Agents/ghost.md") == true)
    }

    @Test func cancelStopsARunningAgent() {
        let s = Scratch()
        defer { TemporaryFolder.remove(s.directory) }
        let token = CancelToken()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { token.cancel() }
        let r = run(AgentRunnerTests.claude, "FIXTURE_MODE=hang", in: s, cancel: token)
        #expect(r.failure == .cancelled)
    }

    /// The environment the real `llm` runs in here: found on `PATH`, its keys and logs in `home`.
    static func realLLMEnvironment(home: String) throws -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        let llmFolder = (try ExternalTool.require("llm") as NSString).deletingLastPathComponent
        environment["PATH"] = llmFolder + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["LLM_USER_PATH"] = home
        return environment
    }

    /// The real `llm` CLI with the `llm-echo` plugin: a third-party agent with no network.
    @Test(.enabled(if: ExternalTool.canRun("llm"), "needs the real llm with llm-echo (.ci/run installs it: python3 -m venv /tmp/fbt-venv && /tmp/fbt-venv/bin/pip install llm llm-echo)"))
    func realLLMEchoModelAnswersWithThePrompt() throws {
        let home = TemporaryFolder.make("fbt-llm-home")
        defer { TemporaryFolder.remove(home) }
        let environment = try Self.realLLMEnvironment(home: home)
        let d = AgentDefinition(name: "llm", lane: .local, command: ["llm", "-m", "{model}", "--no-log", "--", "{prompt}"],
                                output: .text, model: "echo", environmentNames: ["LLM_USER_PATH"])
        let prompt = "- [ ] Reply with the word banana"
        let r = AgentRunner.run(d, prompt: prompt, model: nil, approved: false, workingDirectory: home, timeout: 60, cancel: nil, environment: environment)
        #expect(r.isSuccess, "llm failed: \(r.errorMessage ?? "") \(r.stderrTail)")
        #expect(r.outcome.answer.contains(prompt))
        #expect(r.model == "echo")
    }

    /// The real `llm` asked for a model whose key is not set: its "No key found - add one using
    /// 'llm keys set openai'" is a key failure (`auth`: fails over and cools down), not a crash (a
    /// tour). No network is touched: llm stops before any call.
    @Test(.enabled(if: ExternalTool.canRun("llm"), "needs the real llm (.ci/run installs it: python3 -m venv /tmp/fbt-venv && /tmp/fbt-venv/bin/pip install llm llm-echo)"))
    func realLLMWithoutAKeyIsAKeyFailure() throws {
        let home = TemporaryFolder.make("fbt-llm-home")
        defer { TemporaryFolder.remove(home) }
        var environment = try Self.realLLMEnvironment(home: home)
        environment["OPENAI_API_KEY"] = nil
        let d = AgentDefinition(name: "llm", lane: .premium, command: ["llm", "-m", "{model}", "--no-log", "--", "{prompt}"],
                                output: .text, model: "gpt-4o-mini", environmentNames: ["LLM_USER_PATH"])
        let r = AgentRunner.run(d, prompt: "hello", model: nil, approved: false, workingDirectory: home, timeout: 60, cancel: nil, environment: environment)
        #expect(!r.isSuccess)
        #expect(r.stderrTail.contains("No key found"), "\(r.stderrTail)")
        let report = FailureClassifier.classify(r.failure ?? .exitStatus(1), message: r.errorMessage, stderr: r.stderrTail)
        #expect(report.failureClass == .auth, "\(report.failureClass) for \(r.errorMessage ?? "") \(r.stderrTail)")
    }
}

/// A tiny Ollama stand-in: python3's http.server on a random loopback port, answering /api/generate
/// with the JSON shape Ollama uses. It stops when its stdin closes.
final class OllamaStandIn: @unchecked Sendable {
    static let script = #"""
    import http.server, json, sys, threading
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/api/generate" or body.get("stream") is not False:
                code, out = 400, {"error": "bad request"}
            elif body["model"] == "missing":
                code, out = 404, {"error": 'model "missing" not found, try pulling it first'}
            else:
                code, out = 200, {"model": body["model"], "created_at": "2026-11-26T08:00:00.000000Z",
                    "response": "ollama stand-in answer: " + body["prompt"], "done": True, "done_reason": "stop",
                    "context": [1, 2, 3], "total_duration": 5043500667, "load_duration": 5025959,
                    "prompt_eval_count": 26, "prompt_eval_duration": 325953000, "eval_count": 290, "eval_duration": 4709213000}
            data = json.dumps(out).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    """#

    let process: ChildProcess
    /// The port it listens on (127.0.0.1).
    let port: Int

    /// Starts the stand-in and waits for it to print its port.
    init() throws {
        process = try ChildProcess(try ExternalTool.require("python3"), ["-c", OllamaStandIn.script], input: .pipe)
        let line = try process.firstLine(within: 30)
        guard let port = Int(line) else { throw TestSupportError("the Ollama stand-in printed no port: \(line) \(process.stderr)") }
        self.port = port
    }

    /// Closes its stdin, so it stops, and waits for it.
    func stop() {
        process.closeInput()
        _ = process.finish(timeout: 30)
    }
}

@Suite struct OllamaRunnerTests {
    @Test func answersThroughHTTPWithCountsFromTheAnswer() throws {
        let server = try OllamaStandIn()
        defer { server.stop() }
        let d = AgentDefinition(name: "ollama", lane: .local, command: [], output: .ollama, endpoint: "http://127.0.0.1:\(server.port)", model: "llama3.2")
        let r = AgentRunner.run(d, prompt: "Why is the sky blue?", model: nil, approved: false, workingDirectory: "/", timeout: 10, cancel: nil)
        #expect(r.isSuccess)
        #expect(r.outcome.answer == "ollama stand-in answer: Why is the sky blue?")
        #expect(r.costUSD == 0 && r.outcome.tokensIn == 26 && r.outcome.tokensOut == 290 && r.model == "llama3.2")
        let missing = AgentRunner.run(d, prompt: "x", model: "missing", approved: false, workingDirectory: "/", timeout: 10, cancel: nil)
        #expect(missing.failure == .toolError("ollama: model \"missing\" not found, try pulling it first"))
    }

    @Test func connectionRefusedIsAClearError() {
        // Port 9 (discard) has no listener here; the connection is refused at once.
        let d = AgentDefinition(name: "ollama", lane: .local, command: [], output: .ollama, endpoint: "http://127.0.0.1:9", model: "llama3.2")
        let r = AgentRunner.run(d, prompt: "hi", model: nil, approved: false, workingDirectory: "/", timeout: 10, cancel: nil)
        #expect(r.failure == .unreachable("cannot reach ollama at http://127.0.0.1:9 (connection refused); is `ollama serve` running?"))
        #expect(r.failure?.code == "unreachable")
    }

    @Test func aModelIsRequired() {
        let d = AgentDefinition(name: "ollama", lane: .local, command: [], output: .ollama, sourcePath: "Rules/Agents/ollama.md")
        let r = AgentRunner.run(d, prompt: "hi", model: nil, approved: false, workingDirectory: "/", timeout: 1, cancel: nil)
        #expect(r.failure == .invalidDefinition("Rules/Agents/ollama.md: ollama needs a model; set 'model' on the agent or the task"))
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import AgentOS
@testable import Commands

/// A note made from the Task or Handoff template waits for the person, and never runs the template's
/// own instructions as a prompt.
@Suite(.serialized) struct TemplateTaskTests {
    /// What Obsidian's Templates plugin leaves in a note: the template with its variables filled.
    static func filled(_ template: String) throws -> String {
        let text = try #require(VaultTemplateFiles.all.first { $0.path == template }?.contents)
        return text.replacingOccurrences(of: "{{date:YYYY-MM-DD}}", with: "2026-12-02").replacingOccurrences(of: "{{time:HH:mm}}", with: "22:50")
    }

    @Test func aTaskFromTheTemplateWaitsAsADraftUntilThePersonSaysNew() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        // Obsidian first creates an empty note, then inserts the template: neither may run.
        try env.store.write("", to: "Tasks/From template.md", expecting: .absent)
        #expect(engine.consider(path: "Tasks/From template.md", wait: true) == .ignored)
        let template = try Self.filled("Templates/Task.md")
        let hash = try env.store.read("Tasks/From template.md").hash
        try env.store.write(template, to: "Tasks/From template.md", expecting: .hash(hash))
        #expect(engine.consider(path: "Tasks/From template.md", wait: true) == .ignored)
        let note = try env.note("Tasks/From template.md")
        #expect(note.text("status") == "draft")
        #expect(note["created"] == .string("2026-12-02T22:50"))

        // The person sets status: new without writing a prompt: still nothing to run.
        try env.store.updateProperties("Tasks/From template.md", set: [Property("status", .string("new")), Property("agent", .string("echo"))])
        #expect(engine.consider(path: "Tasks/From template.md", wait: true) == .ignored)
        #expect(try TaskNote(path: "Tasks/From template.md", snapshot: env.store.read("Tasks/From template.md"), note: env.note("Tasks/From template.md"), kind: .task).notReadyReason == "no prompt yet")

        // Then writes one: it runs, and the template's comment is not part of what the agent got.
        let current = try env.store.read("Tasks/From template.md")
        try env.store.write(current.text + "Say hello in Welsh.\n", to: "Tasks/From template.md", expecting: .hash(current.hash))
        guard case .started = engine.consider(path: "Tasks/From template.md", wait: true) else {
            Issue.record("the finished task did not start")
            return
        }
        engine.waitUntilIdle()
        let done = try env.note("Tasks/From template.md")
        #expect(done.text("status") == "done")
        let result = try env.text(try #require(done.text("result")).replacingOccurrences(of: "[[", with: "").replacingOccurrences(of: "]]", with: "") + ".md")
        #expect(result.contains("Say hello in Welsh."))
        #expect(!result.contains("Write the prompt below"))
    }

    @Test func aHandoffFromTheTemplateWithEmptySectionsDoesNotRun() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        var text = try Self.filled("Templates/Handoff.md")
        text = text.replacingOccurrences(of: "status: draft", with: "status: new").replacingOccurrences(of: "to:\n", with: "to: echo\n")
        try env.store.write(text, to: "Handoffs/Empty.md", expecting: .absent)
        #expect(engine.consider(path: "Handoffs/Empty.md", wait: true) == .ignored)
        let note = try env.note("Handoffs/Empty.md")
        #expect(TaskNote(path: "Handoffs/Empty.md", snapshot: try env.store.read("Handoffs/Empty.md"), note: note, kind: .handoff).notReadyReason == "no prompt yet (only empty headings)")
    }

    @Test func commentsAreRemovedAndHeadingsAreToldFromTags() {
        #expect(TaskNote.removingComments("a %% hidden %% b") == "a  b")
        #expect(TaskNote.removingComments("a %% never closed\nb") == "a ")
        #expect(TaskNote.removingComments("100% sure") == "100% sure")
        // Obsidian shows `%%` in code as it is: in a fenced block (an outside attack's task lost
        // `printf("%%d items, %%s user\n")` to it) and in an inline span.
        let code = "Fix this:\n```c\nprintf(\"%%d items, %%s user\\n\", n, u);\n```\nand `a %% b` too %% hidden %% end"
        #expect(TaskNote.removingComments(code) == "Fix this:\n```c\nprintf(\"%%d items, %%s user\\n\", n, u);\n```\nand `a %% b` too  end")
        // A comment over several lines; with the lines kept, line numbers stay.
        #expect(TaskNote.removingComments("a %% one\ntwo\nthree %% b\nc") == "a  b\nc")
        #expect(ObsidianComments.removing(from: "a %% one\ntwo\nthree %% b\nc", keepingLines: true) == "a \n\n b\nc")
        // A fence inside a comment is the comment's; `~~~` fences and longer closing runs count.
        #expect(TaskNote.removingComments("%% ```\nhidden\n``` %% shown") == " shown")
        #expect(TaskNote.removingComments("~~~~\n%% not a comment\n~~~\n~~~~\n%% hidden %%x") == "~~~~\n%% not a comment\n~~~\n~~~~\nx")
        #expect(TaskNote.isHeading("## Done"))
        #expect(!TaskNote.isHeading("#todo fix this"))
        #expect(!TaskNote.isHeading("####### seven"))
    }
}

/// Defaults that work on the machine (issue 14, trap 5): a lane whose agent cannot run here sends its
/// tasks to review with the fix, instead of failing each; a task that names the agent gets its error.
@Suite(.serialized) struct UnusableLaneTests {
    /// Points the shipped Ollama agent at a port nothing listens on.
    static func withoutOllama(_ env: EngineTestVault) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)
        close(listener) // a port that was free a moment ago: connections are refused
        try env.store.updateProperties("Rules/Agents/ollama.md", set: [Property("endpoint", .string("http://127.0.0.1:\(port)"))])
    }

    @Test func aTaskForALaneThatCannotRunHereWaitsInReviewWithTheFix() throws {
        let env = try EngineTestVault()
        try Self.withoutOllama(env)
        let engine = try env.engine()
        let path = try env.writeTask("Summarize", properties: "type: task", body: "Summarize the logs of last night.")
        guard case .started = engine.consider(path: path, wait: true) else {
            Issue.record("the task did not start")
            return
        }
        engine.waitUntilIdle()
        let note = try env.note(path)
        #expect(note.text("status") == "review")
        let reason = note.text("route_reason") ?? ""
        #expect(reason.contains("the local lane cannot run here") && reason.contains("Ollama") && reason.contains("set status: new"), "\(reason)")
        #expect(env.fixturePrompts().isEmpty)

        // Naming the agent asks for exactly that one: the run fails with its real error.
        let named = try env.writeTask("Named", properties: "type: task\nagent: ollama", body: "Summarize the logs.")
        _ = engine.consider(path: named, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(named).text("status") == "failed")
    }

    @Test func availabilityFindsProgramsAndServers() throws {
        let checker = AgentAvailability(environment: ["PATH": "/usr/bin:/bin"])
        #expect(checker.unavailableReason(AgentDefinition(name: "echo", lane: .local, command: ["printf", "%s", "{prompt}"], output: .text)) == nil)
        let missing = checker.unavailableReason(AgentDefinition(name: "ghost", lane: .premium, command: ["no-such-agent-cli"], output: .text))
        #expect(missing?.contains("'no-such-agent-cli' is not installed") == true)
        let server = checker.unavailableReason(AgentDefinition(name: "ollama", lane: .local, command: [], output: .ollama, endpoint: "http://127.0.0.1:9"))
        #expect(server?.contains("no Ollama server answers at http://127.0.0.1:9") == true)
    }

    @Test func doctorFailsWhenTheDefaultLaneCannotRunAndInitSaysWhichLanesCan() throws {
        let env = try EngineTestVault()
        try Self.withoutOllama(env)
        let report = Doctor.run(DoctorContext(vault: env.vault, environment: ["PATH": "/usr/bin:/bin"]))
        let lanes = report.findings.filter { $0.check == "lanes" }
        #expect(lanes.contains { $0.status == .fail && $0.finding.hasPrefix("local — ") && $0.finding.contains("tasks no rule matches waits in review") })
        // With a local agent that runs here as the default and in the local rules, the local line passes.
        try env.store.updateProperties("Rules/Guardrails.md", set: [Property("default_agent", .string("echo"))])
        for rule in ["Default to local", "Local for routine work", "Private stays local"] {
            try env.store.updateProperties("Rules/Routing/\(rule).md", set: [Property("agent", .string("echo"))])
        }
        let fixed = Doctor.run(DoctorContext(vault: env.vault, environment: ["PATH": "/usr/bin:/bin"]))
        #expect(fixed.findings.contains { $0.check == "lanes" && $0.status == .ok && $0.finding.hasPrefix("local — ") })
        #expect(!fixed.findings.contains { $0.check == "lanes" && $0.status == .fail && $0.finding.hasPrefix("local — ") })

        let (console, captured) = Console.capturing()
        #expect(CLI.run(["init", env.root + "/fresh"], console: console, environment: ["PATH": "/usr/bin:/bin", "HOME": env.root], executablePath: "fuckbigtech") == 0)
        #expect(captured.stdout.contains("Lanes on this machine:") && captured.stdout.contains("local (the default lane): agent ollama"))
    }
}

import Foundation

/// The handoff round trip: a work note that names a context note is run by the task engine through
/// the built-in `echo` agent (which answers with the prompt it got), and the result is checked: the
/// run finished, the prompt arrived, the result note links back, and — where the engine builds a
/// context packet — the packet carried the context note and `sources` lists it.
public enum HandoffProbe {
    /// The kind of note the round trip writes: a handoff note (`type: handoff`, `to: echo`) for a
    /// task, so the packet and `sources` checks are mandatory. (`.task` runs a task note instead.)
    public static let noteKind: WorkKind = .handoff

    /// Whether a missing context packet fails the check (it is a warning while packets are not built).
    static var requiresPacket: Bool { noteKind == .handoff }

    /// Runs the round trip in `vault` (a scratch copy: it writes notes, a run store and telemetry).
    /// `contextNote` is a note whose path the packet should carry (`nil` in an empty vault).
    public static func check(vault: Vault, contextNote: String?, seed: UInt64) -> MemoryTestCheck {
        let name = "handoff round trip"
        do {
            return try run(vault: vault, contextNote: contextNote, seed: seed)
        } catch {
            return MemoryTestCheck(name: name, status: .fail, detail: "the round trip could not run: \(ErrorText.oneLine(error))")
        }
    }

    private static func run(vault: Vault, contextNote: String?, seed: UInt64) throws -> MemoryTestCheck {
        let name = "handoff round trip"
        let store = NoteStore(vault: vault)
        // The echo agent must be known to routing; a vault whose Rules/ does not define it gets one
        // in the copy (the built-in runner then has a note to route to).
        if RuleBook.load(vault: vault).agent(named: "echo") == nil {
            _ = try store.replace(Vault.Layout.rules + "/Agents/memory-test echo.md", with: Array(echoAgentNote.utf8))
        }
        let marker = "memorytestprobe\(seed % 100_000)"
        let contextLinks: [PropertyValue] = contextNote.map { [.string(TelemetryWriter.link($0))] } ?? []
        let taskPath = Vault.Layout.tasks + "/memory-test probe.md"
        let body = "Memory test probe \(marker): what was done is the index check, what is left is this round trip.\n"
        var probePath = taskPath
        switch noteKind {
        case .task:
            let props = [Property("type", .string("task")), Property("agent", .string("echo")), Property("context", .list(contextLinks))]
            _ = try store.replace(taskPath, with: Array(noteText(props, body: body).utf8))
        case .handoff:
            let task = [Property("type", .string("task")), Property("status", .string("done"))]
            _ = try store.replace(taskPath, with: Array(noteText(task, body: "The task the probe hands off.\n").utf8))
            probePath = Vault.Layout.handoffs + "/memory-test probe.md"
            let props = [Property("type", .string("handoff")), Property("from", .string("memory-test")), Property("to", .string("echo")),
                         Property("task", .string(TelemetryWriter.link(taskPath))), Property("status", .string("new")), Property("context", .list(contextLinks))]
            _ = try store.replace(probePath, with: Array(noteText(props, body: body).utf8))
        }

        let runs = try RunStore(vault: vault)
        let routing = try VaultRouting(vault: vault)
        // The engine logs from its own threads.
        let events = Locked<[EngineEvent]>([])
        let engine = TaskEngine(vault: vault, runs: runs, routing: routing, executor: routing.agents) { event in events.withLock { $0.append(event) } }
        var errors: [String] { events.withLock { $0.filter { $0.level == .error }.map(\.message) } }
        let outcome = engine.consider(path: probePath, wait: true, force: true)
        guard case .started(let runID) = outcome else {
            return MemoryTestCheck(name: name, status: .fail, detail: "the engine did not start \(probePath): \(outcome)", problems: errors)
        }
        engine.waitUntilIdle()
        guard let record = try runs.run(id: runID) else {
            return MemoryTestCheck(name: name, status: .fail, detail: "run \(runID) is missing from the run store")
        }
        var problems: [String] = []
        var warnings: [String] = []
        if record.state != .done {
            problems.append("the run ended \(record.state.rawValue)" + ((record.error ?? record.reason).map { ": \($0)" } ?? ""))
        }
        guard let resultPath = record.resultPath, let snapshot = try store.readIfPresent(resultPath), let result = try? Note.parse(bytes: snapshot.bytes) else {
            problems.append("no result note was written")
            return MemoryTestCheck(name: name, status: .fail, detail: "\(probePath) → no result", problems: problems + errors)
        }
        let backLink = noteKind == .handoff ? "handoff" : "task"
        if result.text(backLink) != TelemetryWriter.link(probePath) {
            problems.append("\(resultPath): '\(backLink)' is \(result.text(backLink).map { "'\($0)'" } ?? "missing"), expected '\(TelemetryWriter.link(probePath))'")
        }
        if noteKind == .handoff, result.text("task") != TelemetryWriter.link(taskPath) {
            problems.append("\(resultPath): 'task' does not link the original task \(TelemetryWriter.link(taskPath))")
        }
        if !result.body.contains(marker) { problems.append("the agent's answer does not hold the prompt (\(marker))") }
        // The packet: the echo answer is the prompt the agent received, so it shows what the packet held.
        let sources = result.texts("sources")
        let hasPacket = !sources.isEmpty || (contextNote.map { result.body.contains($0) } ?? false)
        if let contextNote {
            if hasPacket {
                if !result.body.contains(contextNote) { problems.append("the context packet does not name \(contextNote)") }
                if !sources.contains(TelemetryWriter.link(contextNote)) && !sources.contains(contextNote) {
                    problems.append("\(resultPath): 'sources' does not list \(contextNote)")
                }
            } else if requiresPacket {
                problems.append("no context packet: the prompt holds no context and 'sources' is empty")
            } else {
                warnings.append("no context packet was built (this build sends the prompt alone); 'sources' is empty")
            }
        }
        let detail = "\(probePath) → \(record.agent ?? "?") → \(resultPath)" + (hasPacket ? ", packet with \(sources.count) sources" : "")
        if !problems.isEmpty { return MemoryTestCheck(name: name, status: .fail, detail: detail, problems: problems) }
        if !warnings.isEmpty { return MemoryTestCheck(name: name, status: .warn, detail: detail, problems: warnings) }
        return MemoryTestCheck(name: name, status: .ok, detail: detail)
    }

    private static func noteText(_ props: [Property], body: String) -> String {
        String(decoding: (try? FrontmatterEditor.apply(set: props, to: [UInt8]())) ?? [], as: UTF8.self) + body
    }

    /// The shipped `echo` agent note (the same text `init` writes), for a copy whose `Rules/` lacks it.
    private static var echoAgentNote: String {
        VaultTemplate.files.first { $0.path == Vault.Layout.rules + "/Agents/echo.md" }?.contents ?? ""
    }

}

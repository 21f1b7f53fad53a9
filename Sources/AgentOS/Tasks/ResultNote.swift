import Foundation

/// The result note of a run: where it goes and what it says.
extension TaskEngine {
    /// `Results/<task title> <run id>.md`.
    public static func resultPath(for task: TaskNote, runID: String) -> String {
        Vault.Layout.results + "/" + resultPath(forTitle: task.title, runID: runID)
    }

    static func resultPath(forTitle taskTitle: String, runID: String) -> String {
        let forbidden = Set("[]#^|\\/:*?\"<>")
        let suffix = " " + runID + ".md"
        // A file name holds at most 255 bytes (NAME_MAX): the title is cut to what fits beside the
        // run id, in bytes, at a character boundary (never inside a character or a grapheme).
        let budget = max(0, 255 - suffix.utf8.count)
        var title = ""
        var bytes = 0
        for character in taskTitle.prefix(80) {
            let isControl = character.unicodeScalars.contains { $0.properties.generalCategory == .control }
            let kept: Character = forbidden.contains(character) || isControl ? "-" : character
            let size = String(kept).utf8.count
            if bytes + size > budget { break }
            title.append(kept)
            bytes += size
        }
        return title + suffix
    }

    static func oneLine(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespaces() }.filter { !$0.isEmpty }.joined(separator: " ")
        return line.count > 400 ? String(line.prefix(400)) + "…" : line
    }

    static func resultNote(task: TaskNote, record: RunRecord, plan: RoutePlan, outcome: AgentExecution, status: TaskStatus, started: Date, finished: Date) -> String {
        var props: [Property] = [
            Property("type", .string("result")),
            Property(task.kind == .handoff ? "handoff" : "task", .string(TelemetryWriter.link(task.path))),
        ]
        if task.kind == .handoff, let original = task.note.text("task") {
            props.append(Property("task", .string(original)))
        }
        props += [
            Property("run_id", .string(record.runID)),
            Property("agent", .string(plan.agent)),
            Property("model", record.model.map { .string($0) } ?? .null),
            Property("lane", .string(plan.lane)),
            Property("rule", .string(plan.rule)),
            Property("status", .string(status.rawValue)),
            Property("started", .datetime(LocalTime.dateTime(started))),
            Property("finished", .datetime(LocalTime.dateTime(finished))),
            Property("duration_s", .double((finished.timeIntervalSince(started) * 1000).rounded() / 1000)),
            Property("cost_usd", outcome.costUSD.map { .double($0) } ?? .null),
            Property("cost_source", outcome.costUSD == nil ? .null : (outcome.costSource.map { .string($0.rawValue) } ?? .null)),
            Property("tokens_in", outcome.tokensIn.map { .int($0) } ?? .null),
            Property("tokens_out", outcome.tokensOut.map { .int($0) } ?? .null),
            Property("exit_code", outcome.exitCode.map { .int($0) } ?? .null),
        ]
        if let failure = record.failure { props.append(Property("failure", .string(failure))) }
        if let next = record.failoverTo { props.append(Property("failover_to", .string(next))) }
        props += [
            Property("sources", .list(plan.sources.map { .string(TelemetryWriter.link($0)) })),
            // What the run created, changed or deleted: vault notes as links, the agent's own files as paths.
            Property("files", .list(outcome.files.map { .string($0.inVault ? TelemetryWriter.link($0.path) : $0.path) })),
            // Left empty for a person: good, redo or wrong (`report` counts them by lane and agent).
            Property(ResultVerdict.property, .null),
        ] + (plan.contextTruncation?.properties ?? [])
        // Taint follows the data: the answer to private input is private, so it may list its private
        // sources but never reaches a cloud agent. The task's own note is judged again with the
        // built-in rules in case the plan came from a router that did not say.
        if plan.privacy != nil || Privacy.reason(note: task.note, path: task.path, guardrails: Guardrails()) != nil {
            props.insert(Property("privacy", .string("private")), at: 1)
        }
        var text = String(decoding: (try? FrontmatterEditor.apply(set: props, to: [UInt8]())) ?? [], as: UTF8.self)
        text += "# \(task.title)\n\n"
        if let cut = plan.contextTruncation {
            text += "> [!warning] Context truncated\n> The agent got \(cut.tokensSent) tokens; \(cut.tokensLeftOut) tokens of the task's text and linked notes were left out to fit its budget.\n\n"
        }
        if outcome.succeeded {
            text += outcome.answer.hasSuffix("\n") ? outcome.answer : outcome.answer + "\n"
        } else {
            text += "**\(status == .cancelled ? "Cancelled" : "Failed"):** \(oneLine(outcome.error ?? "the agent failed"))\n"
            if !outcome.answer.isEmpty {
                text += "\n## Partial answer\n\n" + outcome.answer + (outcome.answer.hasSuffix("\n") ? "" : "\n")
            }
            let tail = outcome.stderrTail.trimmingWhitespacesAndNewlines()
            if !tail.isEmpty {
                text += "\n## stderr (tail)\n\n```text\n" + tail.replacingOccurrences(of: "```", with: "ˋˋˋ") + "\n```\n"
            }
        }
        return text
    }
}

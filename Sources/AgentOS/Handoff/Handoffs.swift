import Foundation

/// Handoff notes: one agent (or person) passes a job to another with what was done and what is left.
public enum Handoffs {
    /// Creates `Handoffs/<date> <from> to <to> — <task title>.md` from the Handoff template's fields,
    /// records it on the original task's `handoffs` list, and logs it in the daily note.
    /// Returns the new note's path.
    public static func create(vault: Vault, from: String, to: String, taskPath: String?, message: String, context: [String], now: Date = Date()) throws -> String {
        let store = NoteStore(vault: vault)
        var props: [Property] = [
            Property("type", .string("handoff")),
            Property("from", .string(from)),
            Property("to", .string(to)),
        ]
        if let taskPath { props.append(Property("task", .string(TelemetryWriter.link(taskPath)))) }
        props.append(Property("status", .string("new")))
        props.append(Property("context", .list(context.map { .string($0.hasPrefix("[[") ? $0 : TelemetryWriter.link($0)) })))
        props.append(Property("created", .datetime(LocalTime.dateTime(now))))
        let body = message.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        let text = try FrontmatterEditor.apply(set: props, to: "") + body

        let subject = taskPath.map { " — " + TaskNote.title(of: $0) } ?? ""
        let stamp = LocalTime.dateTime(now).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "T", with: " ")
        let base = TaskCommand.sanitize("\(stamp) \(from) to \(to)\(subject)")
        var path = Vault.Layout.handoffs + "/" + base + ".md"
        var n = 2
        while true {
            do {
                try store.write(text, to: path, expecting: .absent)
                break
            } catch {
                guard case .conflict = error else { throw error }
                path = Vault.Layout.handoffs + "/" + base + " \(n).md"
                n += 1
            }
        }
        if let taskPath { try recordOnTask(vault: vault, taskPath: taskPath, handoffPath: path) }
        try TelemetryWriter(store: store).appendDaily("- \(String(LocalTime.time(now).prefix(5))) handoff \(TelemetryWriter.link(path)): \(from) → \(to)" + (taskPath.map { " for \(TelemetryWriter.link($0))" } ?? ""), at: now)
        return path
    }

    /// Adds a handoff to the task's `handoffs` list (once), by compare-and-swap.
    public static func recordOnTask(vault: Vault, taskPath: String, handoffPath: String) throws {
        let store = NoteStore(vault: vault)
        let link = TelemetryWriter.link(handoffPath)
        for _ in 0..<8 {
            guard let snapshot = try store.readIfPresent(taskPath) else { return }
            let note = try Note.parse(bytes: snapshot.bytes)
            var chain = note.texts("handoffs")
            if chain.contains(link) { return }
            chain.append(link)
            let bytes = try FrontmatterEditor.apply(set: [Property("handoffs", .list(chain.map { .string($0) }))], to: snapshot.bytes)
            do {
                try store.write(bytes, to: taskPath, expecting: .hash(snapshot.hash))
                return
            } catch {
                guard case .conflict = error else { throw error }
            }
        }
    }

    /// The vault path of a handoff's original task, from its `task` link.
    public static func taskPath(of handoff: Note, vault: Vault, from path: String) -> String? {
        guard let link = handoff.text("task") else { return nil }
        let target = ContextPacketBuilder.linkTarget(link)
        return LinkResolver(vault: vault).resolve(target, from: path) ?? LinkResolver.literalPath(target, from: path)
    }
}

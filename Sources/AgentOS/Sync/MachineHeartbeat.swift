import Foundation

/// What a machine's watcher tells the other machines through the synced vault: a note
/// `Telemetry/Machines/<name>.md` rewritten at most once a minute (and when it stops), saying what
/// the machine serves and which tasks it runs. `status` lists every such note as the fleet.
///
/// Each machine writes only its own note, so file sync never sees two writers of one file.
public struct MachineHeartbeat: Sendable, Equatable {
    /// The machine's name.
    public var machine: String
    /// `watching` or `stopped`.
    public var state: String
    /// When the note was written (seconds since 1970).
    public var updated: Double
    /// What the machine serves, in words ("everything", "lanes local; agents ollama").
    public var serves: String
    /// The tasks it runs now: `Tasks/x.md (local/ollama)`; a private task is not named.
    public var running: [String]
    /// The binary's version.
    public var version: String

    /// The folder the notes live in.
    public static let folder = Vault.Layout.telemetry + "/Machines"
    /// How often a watching machine rewrites its note at most (synced vaults should not churn).
    public static let interval: Double = 60
    /// A `watching` note older than this is a machine that is gone (or not syncing).
    public static let staleAfter: Double = 3 * interval

    /// The note's path for `machine`.
    public static func path(for machine: String) -> String { folder + "/" + machine + ".md" }

    /// The note's text.
    public var text: String {
        let properties = [
            Property("type", .string("machine-heartbeat")),
            Property("machine", .string(machine)),
            Property("state", .string(state)),
            Property("updated", .datetime(LocalTime.dateTime(Date(timeIntervalSince1970: updated)))),
            Property("updated_epoch", .double(updated.rounded())),
            Property("serves", .string(serves)),
            Property("running", .list(running.map { PropertyValue.string($0) })),
            Property("version", .string(version)),
        ]
        let body = "# Machine \(machine)\n\nWritten by this machine's watcher at most once a minute; `fuckbigtech status` lists the fleet from these notes.\n"
        return (try? FrontmatterEditor.apply(set: properties, to: body)) ?? body
    }

    /// Replaces this machine's note (only its own watcher writes it).
    public func write(store: NoteStore) throws {
        try store.replace(MachineHeartbeat.path(for: machine), with: Array(text.utf8))
    }

    /// The heartbeat of this machine now: what `book` says it serves and its runs in flight.
    public static func current(machine: String, state: String, book: RuleBook, runs: RunStore, store: NoteStore, now: Date = Date()) -> MachineHeartbeat {
        let serves: String
        if book.machines.isEmpty {
            serves = "everything (no notes in \(MachineNote.folder)/)"
        } else if let mine = Machine.note(for: machine, in: book.machines) {
            serves = mine.servesText
        } else {
            serves = "lanes no machine note claims (no note of its own)"
        }
        let active = (try? runs.runs(in: [.claimed, .running], limit: 200)) ?? []
        let running = state == "watching" ? active.map { run -> String in
            // Private work is not named in a note every synced machine reads (taint follows the data).
            let named = Privacy.reason(ofNoteAt: run.taskPath, store: store, guardrails: book.guardrails) == nil ? run.taskPath : "a private task"
            return named + " (\(run.lane ?? "routing")/\(run.agent ?? "…"))"
        } : []
        return MachineHeartbeat(machine: machine, state: state, updated: now.timeIntervalSince1970, serves: serves, running: running, version: AgentOSVersion.current)
    }

    /// Every machine note in the vault, by name; a note that does not parse is skipped.
    public static func readAll(vault: Vault) -> [MachineHeartbeat] {
        let store = NoteStore(vault: vault)
        return VaultWalker.markdownFiles(in: vault, under: folder).sorted().compactMap { path in
            guard let snapshot = (try? store.readIfPresent(path)) ?? nil, let note = try? Note.parse(bytes: snapshot.bytes),
                  note.text("type") == "machine-heartbeat", let machine = note.text("machine") else { return nil }
            return MachineHeartbeat(machine: machine, state: note.text("state") ?? "watching", updated: note["updated_epoch"]?.number ?? 0,
                                    serves: note.text("serves") ?? "", running: note.texts("running"), version: note.text("version") ?? "")
        }
    }

    /// One line for `status`: name, state and age, what it serves, what it runs.
    public func describe(now: Date = Date()) -> String {
        let age = max(0, now.timeIntervalSince1970 - updated)
        let ago = age < 90 ? "\(Int(bounded: age)) s ago" : age < 5400 ? "\(Int(bounded: age / 60)) min ago" : "\(Int(bounded: age / 3600)) h ago"
        let shown = state == "watching" && age > MachineHeartbeat.staleAfter ? "silent" : state
        let runs = running.isEmpty ? "runs nothing" : "runs " + running.joined(separator: ", ")
        return "\(machine)  \(shown), seen \(ago)  serves \(serves)  \(runs)"
    }
}

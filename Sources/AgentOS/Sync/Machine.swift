import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A machine note: `Rules/Machines/<name>.md` (or any `type: machine` note in `Rules/`), saying
/// which lanes and agents the watcher of that machine serves:
///
/// ```
/// ---
/// type: machine
/// lanes: [local]
/// agents: [ollama]
/// ---
/// ```
///
/// An empty or missing list serves every lane (or agent).
public struct MachineNote: Sendable, Equatable {
    /// The note's vault-relative path.
    public let path: String
    /// The machine's name (`machine:` in the note, else the file name without `.md`).
    public let name: String
    /// The lanes it serves, lower-cased (empty: every lane).
    public let lanes: [String]
    /// The agents it serves, lower-cased (empty: every agent).
    public let agents: [String]

    /// The folder machine notes conventionally live in.
    public static let folder = Vault.Layout.rules + "/Machines"

    /// A machine note from its parts (lanes and agents are lower-cased).
    public init(path: String, name: String, lanes: [String], agents: [String]) {
        self.path = path
        self.name = name
        self.lanes = lanes.map { $0.lowercased() }
        self.agents = agents.map { $0.lowercased() }
    }

    /// Whether `note` at `path` is a machine note (`type: machine`, or untyped under `Rules/Machines/`).
    static func isMachineNote(_ note: Note, path: String) -> Bool {
        if let type = note.text("type") { return type.lowercased() == "machine" }
        return path.hasPrefix(folder + "/")
    }

    /// Reads a machine note; a bad name is a problem and the note is skipped.
    static func parse(_ note: Note, path: String) -> Result<MachineNote, RuleProblem> {
        let stem = StaleMemoryGuard.title(of: path)
        let name = note.text("machine") ?? stem
        if let why = Machine.invalidNameReason(name) {
            return .failure(RuleProblem(path: path, message: "machine name '\(name)' \(why); the note is skipped"))
        }
        return .success(MachineNote(path: path, name: name, lanes: note.texts("lanes"), agents: note.texts("agents")))
    }

    /// Whether this machine takes a task routed to `lane` and `agent`.
    public func serves(lane: String, agent: String) -> Bool {
        (lanes.isEmpty || lanes.contains(lane.lowercased())) && (agents.isEmpty || agents.contains(agent.lowercased()))
    }

    /// What it serves, in words: "lanes local; agents ollama", or "everything".
    public var servesText: String {
        let parts = (lanes.isEmpty ? [] : ["lanes " + lanes.joined(separator: ", ")]) + (agents.isEmpty ? [] : ["agents " + agents.joined(separator: ", ")])
        return parts.isEmpty ? "everything" : parts.joined(separator: "; ")
    }
}

/// Which machine may take which task, from the machine notes in `Rules/`.
///
/// - No machine notes at all: every machine serves everything (one machine, or machines that all do
///   the same work).
/// - A machine with a note serves exactly what the note lists.
/// - A machine without a note serves the lanes and agents no note lists: a lane one note claims is
///   that machine's alone.
/// - The `human` lane is served everywhere: no agent runs there, a person decides.
public enum Machine {
    /// The name of this machine: `FBT_MACHINE` when set, else the host name.
    public static func currentName(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let name = environment["FBT_MACHINE"]?.trimmingWhitespaces(), !name.isEmpty { return name }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // `laptop.lan` is `laptop`: the domain changes with the network.
        let short = host.split(separator: ".").first.map(String.init) ?? host
        return short.isEmpty ? "localhost" : short
    }

    /// Why `name` cannot name a machine (it names a note file), or `nil` when it can.
    public static func invalidNameReason(_ name: String) -> String? {
        if name.trimmingWhitespaces().isEmpty { return "is empty" }
        if name.contains("/") || name.contains("\\") { return "contains a slash" }
        if name.hasPrefix(".") { return "starts with a dot" }
        if name.utf8.count > 100 { return "is longer than 100 bytes" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "contains a control character" }
        return nil
    }

    /// Why `machine` does not take a task routed to `lane`/`agent` (a line for the watcher's log),
    /// or `nil` when it does.
    public static func refusal(machine: String, lane: String, agent: String, machines: [MachineNote]) -> String? {
        if lane.lowercased() == Lane.human.rawValue || machines.isEmpty { return nil }
        let others = candidates(lane: lane, agent: agent, machines: machines)
        let elsewhere = others.isEmpty ? "no machine serves it (add it to a note in \(MachineNote.folder)/)" : "left for " + others.joined(separator: ", ")
        if let mine = note(for: machine, in: machines) {
            if mine.serves(lane: lane, agent: agent) { return nil }
            return "routed to lane \(lane), agent \(agent); machine \(machine) serves \(mine.servesText) (\(mine.path)); \(elsewhere); status untouched"
        }
        guard let claimant = claimant(lane: lane, agent: agent, machines: machines) else { return nil }
        return "routed to lane \(lane), agent \(agent), which \(claimant.path) claims; machine \(machine) has no note in \(MachineNote.folder)/; \(elsewhere); status untouched"
    }

    /// The machines that could take a task routed to `lane`/`agent`: the names of notes that serve
    /// it, and "any machine without a note" when such a machine would.
    public static func candidates(lane: String, agent: String, machines: [MachineNote]) -> [String] {
        if machines.isEmpty { return ["any machine (no notes in \(MachineNote.folder)/)"] }
        var names = machines.filter { $0.serves(lane: lane, agent: agent) || lane.lowercased() == Lane.human.rawValue }.map(\.name)
        if lane.lowercased() == Lane.human.rawValue || claimant(lane: lane, agent: agent, machines: machines) == nil {
            names.append("any machine without a note")
        }
        return names
    }

    /// This machine's note (names compare case-insensitively).
    public static func note(for machine: String, in machines: [MachineNote]) -> MachineNote? {
        machines.first { $0.name.lowercased() == machine.lowercased() }
    }

    /// A note that lists `lane` or `agent` explicitly (so machines without a note leave it alone).
    static func claimant(lane: String, agent: String, machines: [MachineNote]) -> MachineNote? {
        machines.first { $0.lanes.contains(lane.lowercased()) || $0.agents.contains(agent.lowercased()) }
    }
}

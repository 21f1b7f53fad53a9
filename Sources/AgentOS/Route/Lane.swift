import Foundation

/// Where a task runs: a paid cloud model, a model on this machine, a tool-driving agent, or a person.
public enum Lane: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Paid, cloud models (Claude Code, Codex, …): used deliberately, under a budget.
    case premium
    /// Models and commands on this machine (Ollama, `llm` with a local model): free and private.
    case local
    /// Agents that drive UIs, browsers or screenshots.
    case tool
    /// A person: the task waits in `review`.
    case human

    /// The lane's name as notes write it.
    public var description: String { rawValue }

    /// Whether work in this lane stays on this machine (private notes may go there).
    public var keepsWorkLocal: Bool { self == .local || self == .human }

    /// Parses a lane name as written in a note (case-insensitive, surrounding spaces ignored).
    public init?(note text: String?) {
        guard let text else { return nil }
        self.init(rawValue: text.trimmingWhitespaces().lowercased())
    }

    /// The lane names, for messages: "premium, local, tool or human".
    static var spelledOut: String { "premium, local, tool or human" }
}

/// A side effect a task may have (DESIGN.md); anything beyond `read` needs a rule or a person's approval.
public enum SideEffect {
    /// The effect that never needs review.
    public static let read = "read"
    /// Every effect the notes know about.
    public static let all = ["read", "write", "shell", "network", "deploy", "payment", "delete"]
}

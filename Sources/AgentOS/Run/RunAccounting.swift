import Foundation

/// Where a run's recorded cost comes from. The same figure is settled in the budget ledger and shown
/// in telemetry, the result note and the task; the source says how much to trust it.
public enum CostSource: String, Sendable, Equatable, CaseIterable {
    /// The agent's own figure (Claude Code's `total_cost_usd`, OpenCode's `step_finish` costs, Ollama's 0).
    case reported
    /// Worked out by the OS: tokens × the agent note's prices, or characters ÷ 4 as tokens when the
    /// agent reports no tokens; an agent note without prices or a cost cap is free (0).
    case estimated
    /// Nothing was known: the run's budget reservation was kept as its cost.
    case reserved
    /// A person corrected the run's settled cost (`fuckbigtech budget correct`); the ledger holds it.
    case corrected
}

/// One file a run created, changed or deleted, and how the OS knows.
public struct TouchedFile: Sendable, Equatable, Hashable {
    /// What happened to the file.
    public enum Change: String, Sendable, Equatable, Hashable {
        case created, changed, deleted
    }

    /// How the file came to be attributed to the run.
    public enum Attribution: String, Sendable, Equatable, Hashable {
        /// The agent said so in its own output (Codex `file_change` items, OpenCode `write`/`edit` tool parts).
        case reported
        /// Written through the MCP server of this run (the server carries the run id): exact.
        case mcp
        /// Seen by the watcher while this run, and no other, was active.
        case watched
        /// Seen by the watcher while this run and others were active: changed during it, author unknown.
        case during
    }

    /// The vault path of a note, or the path as the agent reported it (in its own folder).
    public var path: String
    /// What happened to it.
    public var change: Change
    /// How the OS knows.
    public var attribution: Attribution
    /// Whether `path` is a vault path (then the result note links it).
    public var inVault: Bool

    /// A touched file; see the properties.
    public init(path: String, change: Change, attribution: Attribution, inVault: Bool) {
        self.path = path
        self.change = change
        self.attribution = attribution
        self.inVault = inVault
    }

    /// The object written to the JSON line.
    public var json: JSON {
        .object([("path", .string(path)), ("change", .string(change.rawValue)), ("by", .string(attribution.rawValue)), ("vault", .bool(inVault))])
    }

    /// Reads one back from its JSON object.
    public init?(json: JSON) {
        guard let path = json["path"]?.stringValue, let change = json["change"]?.stringValue.flatMap(Change.init(rawValue:)),
              let by = json["by"]?.stringValue.flatMap(Attribution.init(rawValue:)) else { return nil }
        self.init(path: path, change: change, attribution: by, inVault: json["vault"]?.boolValue ?? false)
    }

    /// How the file is shown in a note: a wikilink for a vault note, the path in code for a file
    /// in the agent's own folder.
    public var shown: String {
        inVault ? TelemetryWriter.link(path) : "`" + path.replacingOccurrences(of: "`", with: "'") + "`"
    }

    /// Several lists merged: one entry per path, the surest attribution winning
    /// (reported, then MCP, then watched, then during), then sorted by path.
    public static func merged(_ lists: [TouchedFile]...) -> [TouchedFile] {
        let rank: [Attribution: Int] = [.reported: 0, .mcp: 1, .watched: 2, .during: 3]
        var best: [String: TouchedFile] = [:]
        for file in lists.joined() {
            if let known = best[file.path], rank[known.attribution]! <= rank[file.attribution]! {
                // A later deletion of the same file is what the run left behind.
                if file.change == .deleted && known.attribution == file.attribution { best[file.path]?.change = .deleted }
                continue
            }
            best[file.path] = file
        }
        return best.values.sorted { $0.path < $1.path }
    }
}

/// Token counts guessed from text when an agent reports none: characters ÷ 4.
public enum TokenEstimate {
    /// Tokens for a text, at four characters a token (rounded up).
    public static func tokens(_ text: String) -> Int { (text.count + 3) / 4 }
}

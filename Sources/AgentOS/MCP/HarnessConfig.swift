import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An agent harness that speaks MCP and reads skills from a folder: Claude Code, Codex CLI, OpenCode.
public enum Harness: String, CaseIterable, Sendable {
    case claude, codex, opencode

    /// The configuration file that lists its MCP servers: the user's own (Claude Code's
    /// `~/.claude.json`, what `claude mcp add --scope user` writes; Codex's `$CODEX_HOME/config.toml`;
    /// OpenCode's global `opencode.json`), or the project's when `project` is a folder (`.mcp.json`,
    /// `.codex/config.toml`, `opencode.json` in it).
    public func configPath(environment: [String: String], project: String? = nil) -> String {
        let home = environment["HOME"] ?? NSHomeDirectory()
        if let project {
            switch self {
            case .claude: return project + "/.mcp.json"
            case .codex: return project + "/.codex/config.toml"
            case .opencode: return project + "/opencode.json"
            }
        }
        switch self {
        case .claude: return (environment["CLAUDE_CONFIG_DIR"].map { $0 + "/.claude.json" }) ?? home + "/.claude.json"
        case .codex: return (environment["CODEX_HOME"] ?? home + "/.codex") + "/config.toml"
        case .opencode: return (environment["XDG_CONFIG_HOME"] ?? home + "/.config") + "/opencode/opencode.json"
        }
    }
}

/// Why a harness configuration could not be read or changed; the file is left as it was.
public struct HarnessConfigError: Error, CustomStringConvertible, Sendable {
    /// The one-line reason.
    public let description: String
}

/// Our MCP server's entry in one harness's configuration: `<binary> mcp --vault <vault>` under the
/// name `fuckbigtech`. Every edit is to that entry alone — JSON configurations are parsed and written
/// back with their keys in order; a TOML configuration is edited as text, in our own table only, so
/// every other byte (comments included) stays.
public struct MCPRegistration: Sendable {
    /// The server's name in every harness's list.
    public static let serverName = "fuckbigtech"

    /// The harness.
    public let harness: Harness
    /// The argv that starts the server (absolute binary, `mcp`, `--vault`, the vault, `--agent`, the
    /// harness): every harness is a cloud agent's, so its server never returns a private note's text.
    public let argv: [String]

    /// The entry for `executable` serving `vault`.
    public init(harness: Harness, executable: String, vault: String) {
        self.harness = harness
        self.argv = [executable, "mcp", "--vault", vault, "--agent", harness.rawValue]
    }

    /// The configuration text with our entry in it; `existing` is `nil` for a file that does not exist.
    /// Returns `existing` unchanged when our entry is already exactly there.
    public func installed(into existing: String?) throws(HarnessConfigError) -> String {
        switch harness {
        case .claude, .opencode: return try editJSON(existing) { servers, v2 in
                Self.setting(servers, Self.serverName, entry(v2: v2))
            }
        case .codex: return try TOMLTable.replacing(in: existing ?? "", table: ["mcp_servers", Self.serverName], with: tomlBlock)
        }
    }

    /// The configuration text without our entry (and unchanged when it was not there).
    public func uninstalled(from existing: String) throws(HarnessConfigError) -> String {
        switch harness {
        case .claude, .opencode: return try editJSON(existing) { servers, _ in
                servers.filter { $0.0 != Self.serverName }
            }
        case .codex: return try TOMLTable.replacing(in: existing, table: ["mcp_servers", Self.serverName], with: nil)
        }
    }

    /// What the configuration says about our server: the argv registered under our name, or `nil`
    /// when there is no such entry.
    public static func registeredArgv(in text: String, harness: Harness) throws(HarnessConfigError) -> [String]? {
        switch harness {
        case .claude, .opencode:
            let root = try parseObject(text)
            guard let entry = servers(of: root, harness: harness).servers.first(where: { $0.0 == serverName })?.1 else { return nil }
            let strings: (JSON?) -> [String] = { $0?.arrayValue?.compactMap(\.stringValue) ?? [] }
            if harness == .claude { return (entry["command"]?.stringValue.map { [$0] } ?? []) + strings(entry["args"]) }
            return strings(entry["command"])
        case .codex:
            guard let block = try TOMLTable.block(in: text, table: ["mcp_servers", serverName]) else { return nil }
            // Our own block is simple `key = value` lines; read back what we wrote.
            var command: [String] = []
            var args: [String] = []
            for line in block.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespaces() }
                guard parts.count == 2 else { continue }
                if parts[0] == "command", case .string(let s)? = try? JSON.parse(parts[1]) { command = [s] }
                if parts[0] == "args", let list = (try? JSON.parse(parts[1]))?.arrayValue { args = list.compactMap(\.stringValue) }
            }
            return command + args
        }
    }

    /// The JSON entry: Claude Code's `type`/`command`/`args`; OpenCode's `type: local` with the whole
    /// argv as `command` (`enabled` in the 1.x layout; 2.x, with `mcp.servers`, enables by default).
    func entry(v2: Bool) -> JSON {
        switch harness {
        case .claude:
            return .object([("type", .string("stdio")), ("command", .string(argv[0])), ("args", .array(argv.dropFirst().map { .string($0) }))])
        default:
            var pairs: [(String, JSON)] = [("type", .string("local")), ("command", .array(argv.map { .string($0) }))]
            if !v2 { pairs.append(("enabled", .bool(true))) }
            return .object(pairs)
        }
    }

    /// Our Codex table, as text (TOML basic strings escape like JSON strings for what we write).
    var tomlBlock: String {
        "[mcp_servers.\(Self.serverName)]\n"
            + "command = \(JSON.string(argv[0]).compact)\n"
            + "args = [\(argv.dropFirst().map { JSON.string($0).compact }.joined(separator: ", "))]\n"
    }

    /// Parses `existing` (an empty object when absent), hands the server list to `change`, and
    /// returns the new text — or `existing` itself when nothing changed.
    func editJSON(_ existing: String?, _ change: ([(String, JSON)], Bool) -> [(String, JSON)]) throws(HarnessConfigError) -> String {
        let root: [(String, JSON)]
        if let existing {
            root = try Self.parseObject(existing)
        } else {
            root = harness == .opencode ? [("$schema", .string("https://opencode.ai/config.json"))] : []
        }
        let (servers, path) = Self.servers(of: root, harness: harness)
        let changed = change(servers, path.count == 2)
        if let existing, JSON.object(changed) == JSON.object(servers) { return existing }
        // A server list our uninstall empties goes with our entry: install made it (a file without
        // one came back from install and uninstall with `"mcpServers": {}`, an outside tour).
        let newRoot = changed.isEmpty && !servers.isEmpty ? Self.removing(path: path, from: root) : Self.setting(path: path, in: root, to: .object(changed))
        // The file's last line ends as it did (Claude Code writes ~/.claude.json without a newline).
        let ends = existing.map { $0.hasSuffix("\n") || $0.isEmpty } ?? true
        return JSON.object(newRoot).pretty + (ends ? "\n" : "")
    }

    /// `root` without the key at `path`, and without the objects on the way that it leaves empty.
    static func removing(path: [String], from root: [(String, JSON)]) -> [(String, JSON)] {
        guard let first = path.first else { return root }
        if path.count == 1 { return root.filter { $0.0 != first } }
        guard case .object(let inner)? = JSON.object(root)[first] else { return root }
        let left = removing(path: Array(path.dropFirst()), from: inner)
        return left.isEmpty ? root.filter { $0.0 != first } : setting(root, first, .object(left))
    }

    /// The top-level object of a JSON configuration, or a one-line error.
    static func parseObject(_ text: String) throws(HarnessConfigError) -> [(String, JSON)] {
        let parsed: JSON
        do { parsed = try JSON.parse(text) } catch { throw HarnessConfigError(description: "not valid JSON (\(error)); fix it or move it away, nothing was changed") }
        guard case .object(let pairs) = parsed else { throw HarnessConfigError(description: "its top level is not a JSON object; nothing was changed") }
        return pairs
    }

    /// The server list and where it sits: `mcpServers` (Claude Code), `mcp` (OpenCode 1.x), or
    /// `mcp.servers` when the file already uses OpenCode 2.x's layout.
    static func servers(of root: [(String, JSON)], harness: Harness) -> (servers: [(String, JSON)], path: [String]) {
        let top = harness == .claude ? "mcpServers" : "mcp"
        guard case .object(let list)? = JSON.object(root)[top] else { return ([], [top]) }
        if harness == .opencode, case .object(let v2)? = JSON.object(list)["servers"] { return (v2, [top, "servers"]) }
        return (list, [top])
    }

    /// `pairs` with `key` set to `value`: replaced where it is, else appended.
    static func setting(_ pairs: [(String, JSON)], _ key: String, _ value: JSON) -> [(String, JSON)] {
        if pairs.contains(where: { $0.0 == key }) { return pairs.map { $0.0 == key ? (key, value) : $0 } }
        return pairs + [(key, value)]
    }

    /// `root` with the object at `path` set to `value`, creating the objects on the way.
    static func setting(path: [String], in root: [(String, JSON)], to value: JSON) -> [(String, JSON)] {
        guard let first = path.first else { return root }
        if path.count == 1 { return setting(root, first, value) }
        var inner: [(String, JSON)] = []
        if case .object(let existing)? = JSON.object(root)[first] { inner = existing }
        return setting(root, first, .object(setting(path: Array(path.dropFirst()), in: inner, to: value)))
    }
}

/// Finds and replaces one table of a TOML file as text, leaving every other byte alone. It knows
/// enough TOML to find table headers: comments, basic and literal strings (also multi-line), and
/// values that span lines inside brackets or braces.
enum TOMLTable {
    /// A top-level line: where it starts and ends (after its newline) and what it is.
    struct Line {
        var start: String.Index
        var end: String.Index
        /// The table it opens (`[a.b]` → `["a", "b"]`), `nil` for a key, comment or blank line.
        var header: [String]?
        /// Whether it holds anything but blanks and a comment.
        var hasContent: Bool
    }

    /// The text of `table` (header through its last content line), or `nil` when it is not there.
    static func block(in text: String, table: [String]) throws(HarnessConfigError) -> String? {
        guard let range = try range(of: table, in: text) else { return nil }
        return String(text[range])
    }

    /// `text` with `table` (and its sub-tables) replaced by `block`, removed when `block` is `nil`,
    /// or appended after a blank line when it is not there yet.
    static func replacing(in text: String, table: [String], with block: String?) throws(HarnessConfigError) -> String {
        if let range = try range(of: table, in: text) {
            guard let block else {
                var before = String(text[..<range.lowerBound])
                var after = String(text[range.upperBound...])
                // Take away the blank line install put before it, so install + uninstall gives the bytes back.
                if after.allSatisfy(\.isWhitespace) {
                    if before.hasSuffix("\n\n") { before.removeLast() }
                } else if before.hasSuffix("\n\n"), after.hasPrefix("\n") {
                    after.removeFirst()
                }
                return before + after
            }
            if text[range] == block { return text }
            var result = text
            result.replaceSubrange(range, with: block)
            return result
        }
        guard let block else { return text }
        if text.isEmpty { return block }
        return text + (text.hasSuffix("\n") ? "\n" : "\n\n") + block
    }

    /// Where `table` and its sub-tables are: from its header to the end of its last line with content.
    static func range(of table: [String], in text: String) throws(HarnessConfigError) -> Range<String.Index>? {
        let lines = try scan(text)
        let headers = lines.filter { $0.header != nil }
        if headers.filter({ $0.header == table }).count > 1 { throw HarnessConfigError(description: "the table [\(table.joined(separator: "."))] appears twice; that is not valid TOML, nothing was changed") }
        guard let startIndex = lines.firstIndex(where: { $0.header == table }) else {
            // Our entry written another way (dotted keys, an inline table) is not ours to edit.
            if text.contains(table.joined(separator: ".") + ".") || text.range(of: #"(?m)^\s*\#(table[0])\s*="#, options: .regularExpression) != nil && text.contains(table[1]) {
                throw HarnessConfigError(description: "\(table.joined(separator: ".")) is set in a form other than its own [\(table.joined(separator: "."))] table; edit it by hand, nothing was changed")
            }
            return nil
        }
        var last = startIndex
        var index = startIndex + 1
        while index < lines.count {
            if let header = lines[index].header, !(header.count > table.count && Array(header.prefix(table.count)) == table) { break }
            if lines[index].hasContent { last = index }
            index += 1
        }
        return lines[startIndex].start..<lines[last].end
    }

    /// The top-level lines of `text` (continuation lines of a multi-line value are part of the line
    /// that started it). Throws on what cannot be TOML: an unterminated string or bracket, or a line
    /// that is neither a header, a `key = value`, a comment nor blank.
    static func scan(_ text: String) throws(HarnessConfigError) -> [Line] {
        var lines: [Line] = []
        var index = text.startIndex
        var lineNumber = 1
        while index < text.endIndex {
            let start = index
            let startLine = lineNumber
            var depth = 0
            var content = ""
            var inComment = false
            var string: String? = nil // the delimiter of the string we are in
            while index < text.endIndex {
                let c = text[index]
                if c == "\n" { lineNumber += 1 }
                if let delimiter = string {
                    if c == "\\", delimiter.first == "\"" {
                        index = text.index(after: index)
                        if index < text.endIndex { content.append(" "); index = text.index(after: index) }
                        continue
                    }
                    if text[index...].hasPrefix(delimiter) {
                        index = text.index(index, offsetBy: delimiter.count)
                        string = nil
                        content.append("\"")
                        continue
                    }
                    if c == "\n", delimiter.count == 1 { throw HarnessConfigError(description: "line \(startLine): a string is not closed; not valid TOML, nothing was changed") }
                    index = text.index(after: index)
                    continue
                }
                if c == "\n" {
                    index = text.index(after: index)
                    inComment = false
                    if depth == 0 { break }
                    continue
                }
                if inComment { index = text.index(after: index); continue }
                if c == "#" { inComment = true; index = text.index(after: index); continue }
                if c == "\"" || c == "'" {
                    let triple = String(repeating: c, count: 3)
                    string = text[index...].hasPrefix(triple) ? triple : String(c)
                    index = text.index(index, offsetBy: string!.count)
                    content.append("\"")
                    continue
                }
                // A header's own brackets are not a value's: count depth only after the `=`.
                if content.contains("=") {
                    if c == "[" || c == "{" { depth += 1 }
                    if c == "]" || c == "}" { depth -= 1 }
                }
                content.append(c)
                index = text.index(after: index)
            }
            if string != nil || depth > 0 { throw HarnessConfigError(description: "line \(startLine): a value is not closed; not valid TOML, nothing was changed") }
            let trimmed = content.trimmingWhitespaces()
            var header: [String]? = nil
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]") else { throw HarnessConfigError(description: "line \(startLine): a table header is not closed; not valid TOML, nothing was changed") }
                header = headerName(in: text[start..<index])
            } else if !trimmed.isEmpty, !trimmed.contains("=") {
                throw HarnessConfigError(description: "line \(startLine): '\(trimmed.prefix(40))' is neither a table, a key = value nor a comment; not valid TOML, nothing was changed")
            }
            lines.append(Line(start: start, end: index, header: header, hasContent: !trimmed.isEmpty))
        }
        return lines
    }

    /// The dotted name of a header line (`[ mcp_servers."fuckbigtech" ]` → `["mcp_servers", "fuckbigtech"]`).
    static func headerName(in line: Substring) -> [String] {
        var body = line.trimmingWhitespacesAndNewlines()
        if let hash = body.range(of: "]", options: .backwards) { body = String(body[..<hash.upperBound]) }
        body = body.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var parts: [String] = []
        var current = ""
        var quote: Character? = nil
        for c in body {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "." {
                parts.append(current.trimmingWhitespaces())
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current.trimmingWhitespaces())
        return parts
    }
}

/// Reads and writes a harness's configuration file: symlinks followed (a dotfiles repository's link
/// stays a link), the replacement atomic and durable (`FileSystem.replaceDurably`) with the file's mode kept.
public enum HarnessConfigFile {
    /// The file's text, or `nil` when it does not exist.
    public static func read(_ path: String) throws(HarnessConfigError) -> String? {
        let real = resolved(path)
        do {
            guard try FileSystem.status(real) != nil else { return nil }
            let (bytes, _) = try FileSystem.read(real, limit: 64 << 20)
            guard let text = String(validating: bytes, as: UTF8.self) else { throw HarnessConfigError(description: "\(path) is not UTF-8 text; nothing was changed") }
            return text
        } catch let error as HarnessConfigError {
            throw error
        } catch {
            throw HarnessConfigError(description: "cannot read \(path): \(error)")
        }
    }

    /// The file `path` names, its symlinks followed: a relative link is read from the link's own
    /// folder (`~/.codex/config.toml -> ../dotfiles/config.toml`, as GNU stow makes them), at most
    /// 40 links deep; the folder it ends in with its own links resolved when it exists.
    static func resolved(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { break }
            current = target.hasPrefix("/") ? target : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
        }
        let folder = (current as NSString).deletingLastPathComponent
        guard let real = realpath(folder, nil) else { return current }
        defer { free(real) }
        return String(cString: real) + "/" + (current as NSString).lastPathComponent
    }

    /// Replaces the file's text (creating its folder and the file, mode 0600, when missing).
    public static func write(_ path: String, text: String) throws(HarnessConfigError) {
        let real = resolved(path)
        do {
            let mode = try FileSystem.status(real).map { mode_t($0.mode & 0o7777) } ?? 0o600
            try FileSystem.makeDirectories((real as NSString).deletingLastPathComponent)
            try FileSystem.replaceDurably(real, bytes: Array(text.utf8), mode: mode)
        } catch {
            throw HarnessConfigError(description: "cannot write \(path): \(error)")
        }
    }
}

extension MCPRegistration {
    /// What `install` or `uninstall` did to the file.
    public enum Outcome: Sendable, Equatable {
        /// The file already said so; nothing was written.
        case unchanged
        /// The file was written.
        case written
    }

    /// Installs (or, with `install: false`, removes) our entry in the file at `path`; with
    /// `dryRun`, only computes the new text. Returns the outcome and the file's text after it.
    public func apply(install: Bool, at path: String, dryRun: Bool = false) throws(HarnessConfigError) -> (outcome: Outcome, text: String) {
        let existing = try HarnessConfigFile.read(path)
        let text: String
        do {
            if install {
                text = try installed(into: existing)
            } else {
                guard let existing else { return (.unchanged, "") }
                text = try uninstalled(from: existing)
            }
        } catch {
            throw HarnessConfigError(description: "\(path): \(error.description)")
        }
        if text == existing { return (.unchanged, text) }
        if !dryRun { try HarnessConfigFile.write(path, text: text) }
        return (.written, text)
    }

    /// Whether the file at `path` registers our server, and with which argv (`nil`: not registered).
    public static func registered(at path: String, harness: Harness) throws(HarnessConfigError) -> [String]? {
        guard let text = try HarnessConfigFile.read(path) else { return nil }
        do { return try registeredArgv(in: text, harness: harness) } catch { throw HarnessConfigError(description: "\(path): \(error.description)") }
    }
}

import Foundation

/// Checks every note in `Rules/`: it must parse, and agent, rule and guardrails notes must carry
/// their required fields with the right kinds of values (docs/notes.md lists them).
enum RuleNoteChecks {
    /// The lanes a task can run in.
    static let lanes: Set<String> = ["premium", "local", "tool", "human"]
    /// The answer formats the runner can read.
    static let outputs: Set<String> = ["claude-json", "codex-jsonl", "opencode-jsonl", "ollama", "text"]
    /// The side effects a task can declare.
    static let effects: Set<String> = ["read", "write", "shell", "network", "deploy", "payment", "delete"]
    /// Programs that would turn an argv back into a shell command line, which agent notes must not do.
    static let shells: Set<String> = ["sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "csh", "tcsh", "busybox", "pwsh"]

    /// The `rules` check: every note in `Rules/` parses and the typed ones are complete.
    static func run(_ context: DoctorContext) -> [DoctorFinding] {
        let rulesPath = context.vault.root + "/" + Vault.Layout.rules
        guard let status = (try? FileSystem.status(rulesPath)) ?? nil, status.kind == .directory else {
            return [DoctorFinding(check: "rules", status: .warn, finding: "no \(Vault.Layout.rules)/ folder, so the built-in defaults apply and no agent is defined", fix: "run 'fuckbigtech init' to add the default rules and agents")]
        }
        var findings: [DoctorFinding] = []
        var agents: [(path: String, name: String)] = []
        var agentReferences: [(path: String, name: String)] = []
        var counts: [String: Int] = [:]
        let notes = DoctorFiles.markdownFiles(under: rulesPath)
        for relative in notes {
            let path = Vault.Layout.rules + "/" + relative
            let note: Note
            do {
                let bytes = try FileSystem.read(rulesPath + "/" + relative, limit: 1 << 20).bytes
                note = try Note.parse(bytes: bytes)
            } catch let error as FrontmatterError {
                findings.append(DoctorFinding(check: "rules", status: .fail, finding: "\(path): bad \(error.description)", fix: "correct the frontmatter of \(path) at line \(error.line) (Obsidian's source mode shows the raw YAML)"))
                continue
            } catch {
                findings.append(DoctorFinding(check: "rules", status: .fail, finding: "\(path): cannot be read: \(error)", fix: "make it a readable Markdown note under 1 MB"))
                continue
            }
            let type = note.text("type")
            counts[type ?? "untyped", default: 0] += 1
            var problems: [String] = []
            switch type {
            case "agent":
                problems = agentProblems(note)
                if let name = note.text("name") { agents.append((path, name)) }
            case "rule":
                problems = ruleProblems(note)
                if let agent = note.text("agent") { agentReferences.append((path, agent)) }
            case "guardrails":
                problems = guardrailsProblems(note)
                if let agent = note.text("default_agent") { agentReferences.append((path, agent)) }
            case nil:
                findings.append(DoctorFinding(check: "rules", status: .warn, finding: "\(path) has no type, so the OS ignores it", fix: "add 'type: agent', 'type: rule' or 'type: guardrails' to its properties"))
            default:
                break // rule-cases, readme and notes of other kinds are welcome here and not checked
            }
            if !problems.isEmpty {
                findings.append(DoctorFinding(check: "rules", status: .fail, finding: "\(path): " + problems.joined(separator: "; "), fix: "edit \(path); docs/notes.md lists each field"))
            }
        }

        var seen: [String: String] = [:]
        for agent in agents {
            if let first = seen[agent.name] {
                findings.append(DoctorFinding(check: "rules", status: .fail, finding: "two agents are named '\(agent.name)': \(first) and \(agent.path)", fix: "rename or delete one of them"))
            } else {
                seen[agent.name] = agent.path
            }
        }
        for reference in agentReferences where seen[reference.name] == nil {
            findings.append(DoctorFinding(check: "rules", status: .warn, finding: "\(reference.path) names agent '\(reference.name)', which no agent note defines", fix: "add Rules/Agents/\(reference.name).md or change the name"))
        }
        let guardrails = counts["guardrails"] ?? 0
        if guardrails == 0 {
            findings.append(DoctorFinding(check: "rules", status: .warn, finding: "no guardrails note, so no budget caps are set", fix: "run 'fuckbigtech init' to add Rules/Guardrails.md"))
        } else if guardrails > 1 {
            findings.append(DoctorFinding(check: "rules", status: .fail, finding: "\(guardrails) guardrails notes; there must be one", fix: "merge them into Rules/Guardrails.md"))
        }
        if !findings.contains(where: { $0.status == .fail }) {
            let summary = "\(notes.count) notes parse: \(counts["agent"] ?? 0) agents, \(counts["rule"] ?? 0) rules, \(guardrails) guardrails"
            findings.insert(DoctorFinding(check: "rules", status: .ok, finding: summary), at: 0)
        }
        return findings
    }

    // MARK: - Field checks (each returns what is wrong, in words a person can act on)

    /// What is wrong with an agent note (empty when nothing is).
    static func agentProblems(_ note: Note) -> [String] {
        var problems: [String] = []
        if note.text("name") == nil { problems.append("name is missing") }
        problems += oneOf("lane", lanes, in: note, required: true)
        problems += oneOf("output", outputs, in: note, required: true)
        if note.text("output") == "ollama" {
            if let endpoint = note.text("endpoint") {
                if !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
                    problems.append("endpoint must be an http:// URL, got '\(endpoint)'")
                }
            } else if note["command"] == nil || note["command"] == .null {
                problems.append("endpoint is missing (an ollama agent needs http://localhost:11434 or similar)")
            }
        }
        switch note["command"] {
        case .none, .some(.null):
            if note.text("output") != "ollama" { problems.append("command is missing (an argv list such as [my-agent, \"{prompt}\"])") }
        case .some(.list(let items)):
            let words = items.compactMap(\.text)
            if words.isEmpty || words.count != items.count {
                problems.append("command must be a non-empty list of words")
            } else if let program = words.first.map({ ($0 as NSString).lastPathComponent }), shells.contains(program) {
                problems.append("command starts a shell (\(program)); give the program's own argv, never a shell")
            }
        case .some:
            problems.append("command is a single string; give an argv list such as [claude, -p, \"{prompt}\"], never a shell command")
        }
        for key in ["model_args", "readonly_args", "approved_args", "env"] { problems += list(key, in: note) }
        for key in ["price_in_per_mtok", "price_out_per_mtok", "max_cost_usd", "timeout", "context_tokens"] {
            problems += number(key, in: note)
        }
        return problems
    }

    /// What is wrong with a rule note (empty when nothing is).
    static func ruleProblems(_ note: Note) -> [String] {
        var problems: [String] = []
        switch note["priority"] {
        case .none, .some(.null): problems.append("priority is missing (a number; lower is checked first)")
        default: problems += number("priority", in: note, allowNegative: true)
        }
        if note.text("lane") == nil && note.text("agent") == nil {
            problems.append("neither lane nor agent is set, so the rule decides nothing")
        }
        problems += oneOf("lane", lanes, in: note, required: false)
        problems += oneOf("fallback", lanes, in: note, required: false)
        problems += oneOf("when_privacy", ["private", "public"], in: note, required: false)
        for key in ["when_type", "when_tags", "when_folder", "when_keywords"] { problems += list(key, in: note) }
        for key in ["when_effects", "allow_effects"] { problems += effectList(key, in: note) }
        for key in ["when_max_chars", "when_min_chars"] { problems += number(key, in: note) }
        return problems
    }

    /// What is wrong with the guardrails note (empty when nothing is).
    static func guardrailsProblems(_ note: Note) -> [String] {
        var problems: [String] = []
        for property in note.properties where property.key.hasPrefix("budget_") {
            problems += number(property.key, in: note)
        }
        problems += oneOf("secret_action", ["block", "redact"], in: note, required: false)
        problems += oneOf("default_lane", lanes, in: note, required: false)
        for key in ["private_tags", "private_folders", "secret_patterns"] { problems += list(key, in: note) }
        problems += effectList("review_effects", in: note)
        for pattern in note.texts("secret_patterns") where (try? NSRegularExpression(pattern: pattern)) == nil {
            problems.append("secret_patterns has an invalid regular expression: \(pattern)")
        }
        return problems
    }

    /// `key` must be one of `allowed` (when present, or always when `required`).
    static func oneOf(_ key: String, _ allowed: Set<String>, in note: Note, required: Bool) -> [String] {
        guard let value = note.text(key) else {
            if let raw = note[key], raw != .null { return ["\(key) must be one of \(allowed.sorted().joined(separator: ", "))"] }
            return required ? ["\(key) is missing (one of \(allowed.sorted().joined(separator: ", ")))"] : []
        }
        return allowed.contains(value) ? [] : ["\(key) is '\(value)', expected one of \(allowed.sorted().joined(separator: ", "))"]
    }

    /// `key`, when present, must be a number (and not negative unless allowed).
    static func number(_ key: String, in note: Note, allowNegative: Bool = false) -> [String] {
        guard let value = note[key], value != .null else { return [] }
        switch value {
        case .int, .double:
            if !allowNegative, let n = value.number, n < 0 { return ["\(key) must not be negative"] }
            return []
        default:
            return ["\(key) must be a number, got '\(value.text ?? "a list")'"]
        }
    }

    /// `key`, when present, must be a list or a single value, never a nested map.
    static func list(_ key: String, in note: Note) -> [String] {
        switch note[key] {
        case .none, .some(.null), .some(.list): return []
        case .some(.map): return ["\(key) must be a list, not a nested map"]
        default: return [] // a single value counts as a one-item list
        }
    }

    /// `key`, when present, must list known effects only.
    static func effectList(_ key: String, in note: Note) -> [String] {
        let problems = list(key, in: note)
        if !problems.isEmpty { return problems }
        let unknown = note.texts(key).filter { !effects.contains($0) }
        return unknown.isEmpty ? [] : ["\(key) has unknown effects \(unknown.joined(separator: ", ")) (known: \(effects.sorted().joined(separator: ", ")))"]
    }
}

/// Finding files for the checks without following symlinks or entering dot-folders.
enum DoctorFiles {
    /// Markdown files under `root`, relative to it, sorted.
    static func markdownFiles(under root: String) -> [String] {
        var found: [String] = []
        walk(root, relative: "") { relative, kind in
            if kind == .file && relative.lowercased().hasSuffix(".md") { found.append(relative) }
        }
        return found.sorted()
    }

    /// How many folders `root` holds, itself included, leaving out dot-folders (the watcher's count).
    static func folderCount(under root: String) -> Int {
        var count = 1
        walk(root, relative: "") { _, kind in if kind == .directory { count += 1 } }
        return count
    }

    private static func walk(_ root: String, relative: String, visit: (String, FileStatus.Kind) -> Void) {
        let folder = relative.isEmpty ? root : root + "/" + relative
        guard let entries = try? FileSystem.list(folder) else { return }
        for entry in entries where !entry.name.hasPrefix(".") {
            let child = relative.isEmpty ? entry.name : relative + "/" + entry.name
            guard let kind = entry.kind ?? ((try? FileSystem.status(root + "/" + child)) ?? nil)?.kind else { continue }
            visit(child, kind)
            if kind == .directory { walk(root, relative: child, visit: visit) }
        }
    }
}

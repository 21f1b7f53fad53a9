import Foundation

/// What routing knows about a task: its text, its declared properties, and which notes it pulls in.
///
/// Built from a task note by `from(note:path:vault:ruleBook:links:)`, from a bare prompt by
/// `from(text:vault:ruleBook:links:)`, or field by field in tests.
public struct TaskFacts: Sendable, Equatable {
    /// The note's vault-relative path; `nil` for a bare prompt (`route "text"`).
    public var path: String?
    /// The `title` property, else the note's file name, else the prompt's first line.
    public var title: String
    /// The prompt: the note's body.
    public var body: String
    /// The `type` property, lower-cased (`task` for notes under `Tasks/` and for bare prompts).
    public var type: String?
    /// Tags from `tags`/`tag` and `#inline` tags in the body, without `#`, lower-cased.
    public var tags: [String]
    /// The folder the note is in (`""` for the vault root, `nil` for a bare prompt).
    public var folder: String?
    /// The `privacy` property, lower-cased (`private`, `public`, …).
    public var privacy: String?
    /// The `effects` property, lower-cased.
    public var effects: [String]
    /// The task's explicit `lane`, if it names one (as written).
    public var lane: String?
    /// The task's explicit `agent`, if it names one.
    public var agent: String?
    /// The task's explicit `model`, if it names one.
    public var model: String?
    /// Whether a person approved the task after the OS showed it in review (`ApprovalCheck`). Never
    /// read from the note itself: `from(note:…)` leaves it false and the caller sets it from the
    /// verified approval, so a note born `approved: true` gets no approval.
    public var approved: Bool
    /// The task's own `budget_usd`, if set.
    public var budgetUSD: Double?
    /// Why the task's `budget_usd` does not parse (`0,10`, `ten`, a negative number): a paid run is
    /// then blocked with it rather than run without the limit the task asked for.
    public var budgetError: String?
    /// Notes the task pulls in: `context` links and wikilinks/Markdown links in the body, resolved to
    /// vault paths where the note exists (else the link's own path).
    public var contextPaths: [String]
    /// Which of `contextPaths` are private (by `privacy`, a private tag, or a private folder), or
    /// could not be checked (unreadable or bad frontmatter: treated as private).
    public var privateSources: [String]

    /// Facts given field by field (`folder` defaults to the path's folder).
    public init(path: String? = nil, title: String = "", body: String = "", type: String? = "task", tags: [String] = [], folder: String? = nil, privacy: String? = nil, effects: [String] = [], lane: String? = nil, agent: String? = nil, model: String? = nil, approved: Bool = false, budgetUSD: Double? = nil, contextPaths: [String] = [], privateSources: [String] = []) {
        self.path = path
        self.title = title
        self.body = body
        self.type = type
        self.tags = tags
        self.folder = folder ?? path.map(TaskFacts.folder(of:))
        self.privacy = privacy
        self.effects = effects
        self.lane = lane
        self.agent = agent
        self.model = model
        self.approved = approved
        self.budgetUSD = budgetUSD
        self.contextPaths = contextPaths
        self.privateSources = privateSources
    }

    /// Facts for a task note. Reads the notes it links to (through `NoteStore`) to find private ones.
    ///
    /// `links` resolves bare wikilinks (`[[Name]]`) by file name; pass a shared one to avoid
    /// re-walking the vault for every task (a fresh one is made when `nil`).
    public static func from(note: Note, path: String, vault: Vault, ruleBook: RuleBook, links: LinkResolver? = nil) -> TaskFacts {
        let normalized = (try? Vault.normalize(path)) ?? path
        var facts = TaskFacts(path: normalized)
        facts.title = note.text("title") ?? RuleBook.name(of: normalized)
        facts.body = note.body
        let underTasks = normalized.hasPrefix(Vault.Layout.tasks + "/")
        facts.type = note.text("type")?.lowercased() ?? (underTasks ? "task" : nil)
        facts.tags = unique((note.texts("tags") + note.texts("tag")).map(normalizeTag) + inlineTags(in: note.body))
        // The same reading of `privacy`/`private` as every other privacy test (`Privacy.declaredPrivacy`).
        facts.privacy = (Privacy.declaredPrivacy(of: note) ?? note.text("privacy"))?.lowercased()
        facts.effects = unique(note.texts("effects").map { $0.lowercased().trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        facts.lane = note.text("lane")
        facts.agent = note.text("agent")
        facts.model = note.text("model")
        // A note's own `approved: true` is a claim anyone could have written; see `approved`.
        facts.approved = false
        if let value = note["budget_usd"], value != .null {
            facts.budgetUSD = Money.dollars(value)
            if facts.budgetUSD == nil { facts.budgetError = Money.problem(key: "budget_usd", value: value) + " in the task; fix it to run a paid agent" }
        }
        let targets = note.texts("context").map(linkTarget) + linkTargets(in: note.body)
        facts.resolveContext(targets, vault: vault, guardrails: ruleBook.guardrails, links: links ?? LinkResolver(vault: vault))
        return facts
    }

    /// Facts for a bare prompt (`route "summarize today's handoff"`); links in the text are followed too.
    public static func from(text: String, vault: Vault, ruleBook: RuleBook, links: LinkResolver? = nil) -> TaskFacts {
        var facts = TaskFacts(title: String(text.split(separator: "\n").first ?? "").trimmingCharacters(in: .whitespaces), body: text)
        facts.tags = inlineTags(in: text)
        facts.resolveContext(linkTargets(in: text), vault: vault, guardrails: ruleBook.guardrails, links: links ?? LinkResolver(vault: vault))
        return facts
    }

    private mutating func resolveContext(_ targets: [String], vault: Vault, guardrails: Guardrails, links: LinkResolver) {
        let store = NoteStore(vault: vault)
        var paths: [String] = []
        var privates: [String] = []
        for target in targets {
            guard let path = links.resolve(target, from: self.path) ?? LinkResolver.literalPath(target, from: self.path), !paths.contains(path), path != self.path else { continue }
            paths.append(path)
            if Privacy.isPrivate(linkedNote: path, store: store, guardrails: guardrails, links: links) { privates.append(path) }
        }
        contextPaths = paths
        privateSources = privates
    }

    // MARK: Text helpers

    /// A tag as compared: without `#`, trimmed, lower-cased.
    static func normalizeTag(_ tag: String) -> String {
        var t = tag.trimmingCharacters(in: .whitespaces)
        while t.hasPrefix("#") { t.removeFirst() }
        return t.lowercased()
    }

    /// A folder as compared: no leading `./` or `/`, no trailing `/`.
    static func normalizeFolder(_ folder: String) -> String {
        var f = folder.trimmingCharacters(in: .whitespaces)
        while f.hasPrefix("./") { f.removeFirst(2) }
        while f.hasPrefix("/") { f.removeFirst() }
        while f.hasSuffix("/") { f.removeLast() }
        return f
    }

    /// The folder part of a vault path (`""` at the root).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    private static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    private static let inlineTagPattern = try! NSRegularExpression(pattern: #"(?<![\p{L}\p{N}_/#&])#([\p{L}\p{N}_/-]*[\p{L}_/-][\p{L}\p{N}_/-]*)"#)
    private static let wikilinkPattern = try! NSRegularExpression(pattern: #"\[\[([^\[\]\n]+?)\]\]"#)
    // `[text](path.md)`, or `[text](<path with spaces.md>)` as Obsidian writes a path with spaces.
    private static let markdownLinkPattern = try! NSRegularExpression(pattern: #"\[[^\]\n]*\]\((?:<([^<>\n]+)>|([^)<>\s]+))(?:\s+"[^"]*")?\)"#)

    /// `#tags` written in the body (Obsidian counts them as the note's tags).
    ///
    /// The same as `inlineTagPattern` (a test holds them equal), scanned in Swift: privacy judges the
    /// tags of every note a packet or a daily line touches, and bridging long result notes to
    /// `NSString` for the regular expression was the packet's hottest cost.
    static func inlineTags(in text: String) -> [String] {
        guard text.utf8.contains(UInt8(ascii: "#")) else { return [] }
        var tags: [String] = []
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            defer { i += 1 }
            guard scalars[i] == "#" else { continue }
            if i > 0 {
                let before = scalars[i - 1]
                if isLetter(before) || isNumber(before) || before == "_" || before == "/" || before == "#" || before == "&" { continue }
            }
            var j = i + 1
            var hasNonDigit = false
            while j < scalars.count, isLetter(scalars[j]) || isNumber(scalars[j]) || scalars[j] == "_" || scalars[j] == "/" || scalars[j] == "-" {
                if !isNumber(scalars[j]) { hasNonDigit = true }
                j += 1
            }
            guard j > i + 1 else { continue }
            if !hasNonDigit { continue }
            var tag = String.UnicodeScalarView()
            tag.append(contentsOf: scalars[(i + 1)..<j])
            tags.append(String(tag).lowercased())
            i = j - 1
        }
        return tags
    }

    /// `\p{L}`: a letter, as ICU's regular expressions class it.
    private static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// `\p{N}`: a number.
    private static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// The regular expression `inlineTags` implements (kept for the equivalence test).
    static func inlineTagsByPattern(in text: String) -> [String] {
        let ns = text as NSString
        return inlineTagPattern.matches(in: text, range: NSRange(location: 0, length: ns.length)).map {
            ns.substring(with: $0.range(at: 1)).lowercased()
        }
    }

    /// Link targets in a body: `[[target|alias]]`, `![[embed]]`, and `[text](relative/path.md)`.
    static func linkTargets(in text: String) -> [String] {
        let ns = text as NSString
        let whole = NSRange(location: 0, length: ns.length)
        var targets = wikilinkPattern.matches(in: text, range: whole).map { linkTarget(ns.substring(with: $0.range(at: 1))) }
        for match in markdownLinkPattern.matches(in: text, range: whole) {
            let group = match.range(at: 1).location != NSNotFound ? 1 : 2
            let raw = ns.substring(with: match.range(at: group))
            if raw.contains("://") || raw.hasPrefix("#") || raw.lowercased().hasPrefix("mailto:") { continue }
            targets.append(linkTarget(raw.removingPercentEncoding ?? raw))
        }
        return targets.filter { !$0.isEmpty }
    }

    /// The path part of a link as written in a property or a body: strips `[[ ]]`, `|alias`, `#heading`, `^block`.
    static func linkTarget(_ raw: String) -> String {
        var t = raw.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("!") { t.removeFirst() }
        if t.hasPrefix("[["), t.hasSuffix("]]") { t = String(t.dropFirst(2).dropLast(2)) }
        if let bar = t.firstIndex(of: "|") { t = String(t[..<bar]) }
        if let hash = t.firstIndex(of: "#") { t = String(t[..<hash]) }
        if let caret = t.firstIndex(of: "^") { t = String(t[..<caret]) }
        return t.trimmingCharacters(in: .whitespaces)
    }
}

/// Resolves link targets to vault paths the way Obsidian does: an exact path first, then a path
/// relative to the linking note, then any note with that file name (the shortest path wins).
///
/// By default the name index is built on first use by walking the vault once. A long-lived resolver
/// must be told when notes appear or move (`invalidate()`), or be given `findByName` backed by a live
/// index — otherwise a link to a note created later would not be found, and its privacy not checked.
/// Thread-safe.
public final class LinkResolver: @unchecked Sendable {
    /// The vault whose notes links point into.
    public let vault: Vault
    private let lock = NSLock()
    private var namesIndex: [String: [String]]?
    private let findByName: (@Sendable (String) -> [String])?

    /// A resolver over `vault`. `findByName`, if given, returns the vault paths of files with a given
    /// lower-cased file name (`diary.md`), shortest path first; else the vault is walked once.
    public init(vault: Vault, findByName: (@Sendable (String) -> [String])? = nil) {
        self.vault = vault
        self.findByName = findByName
    }

    /// Forgets the name index so the next bare-name lookup walks the vault again (call after a
    /// note is created, renamed or deleted).
    public func invalidate() {
        lock.withLock { namesIndex = nil }
    }

    /// The vault path a link points to, or `nil` when no such file exists (or the link leaves the vault).
    public func resolve(_ target: String, from source: String?) -> String? {
        guard !target.isEmpty else { return nil }
        let hasExtension = (target.split(separator: "/").last ?? "").contains(".")
        let candidates = hasExtension ? [target] : [target + ".md", target]
        let folder = source.map(TaskFacts.folder(of:)) ?? ""
        // Obsidian reads `a/b` from the vault root first, a bare name next to the linking note first;
        // `./` and `../` are always relative to the linking note.
        let isRelative = target.hasPrefix("./") || target.hasPrefix("../")
        var bases = isRelative ? [folder] : (target.contains("/") ? ["", folder] : [folder, ""])
        if bases.count == 2 && bases[0] == bases[1] { bases.removeLast() }
        for base in bases {
            for candidate in candidates {
                if let path = LinkResolver.join(base, candidate), exists(path) { return path }
            }
        }
        guard !target.contains("/") else { return nil }
        let key = (hasExtension ? target : target + ".md").lowercased()
        if let findByName { return findByName(key).first }
        return names()[key]?.first
    }

    /// A link's own path when it does not resolve (so a link into `Private/` is private even if absent).
    static func literalPath(_ target: String, from source: String?) -> String? {
        let relative = target.hasPrefix("./") || target.hasPrefix("../")
        guard let path = LinkResolver.join(relative ? (source.map(TaskFacts.folder(of:)) ?? "") : "", target) else { return nil }
        return path.split(separator: "/").last?.contains(".") == true ? path : path + ".md"
    }

    /// Joins a vault folder and a relative path, resolving `.` and `..` lexically; `nil` if the result
    /// would leave the vault or is empty.
    static func join(_ folder: String, _ target: String) -> String? {
        guard !target.hasPrefix("/"), !target.contains("\0") else { return nil }
        var parts = folder.split(separator: "/").map(String.init)
        for part in target.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if parts.isEmpty { return nil }
                parts.removeLast()
            } else {
                parts.append(String(part))
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    private func exists(_ path: String) -> Bool {
        guard let absolute = try? vault.resolve(path), let status = try? FileSystem.status(absolute) else { return false }
        return status.kind == .file
    }

    private func names() -> [String: [String]] {
        lock.lock()
        defer { lock.unlock() }
        if let namesIndex { return namesIndex }
        var index: [String: [String]] = [:]
        walk(vault.root, relative: "", depth: 0, into: &index)
        for key in index.keys {
            index[key]!.sort { ($0.split(separator: "/").count, $0) < ($1.split(separator: "/").count, $1) }
        }
        namesIndex = index
        return index
    }

    private func walk(_ absolute: String, relative: String, depth: Int, into index: inout [String: [String]]) {
        guard depth < 64, let entries = try? FileSystem.list(absolute) else { return }
        for entry in entries where !entry.name.hasPrefix(".") {
            let childAbsolute = absolute + "/" + entry.name
            let childRelative = relative.isEmpty ? entry.name : relative + "/" + entry.name
            switch entry.kind ?? (try? FileSystem.status(childAbsolute))??.kind {
            case .directory: walk(childAbsolute, relative: childRelative, depth: depth + 1, into: &index)
            case .file: index[entry.name.lowercased(), default: []].append(childRelative)
            default: continue
            }
        }
    }
}

import Foundation

/// What the caller of a vault command may read. A person, or an agent run on a local lane, sees
/// every note; inside the run of an agent off this machine (see `Privacy.hidesPrivateNotes`),
/// private notes are held back: not listed, not shown, not even named by their titles. Nor is a
/// secret shown to it: a note holding one is not shown, a search snippet holding one is redacted,
/// and a note whose name holds one is not listed — what a packet for its lane may hold.
public struct NoteVisibility {
    /// Why private notes are held back ("called from agent run … on the premium lane"), or `nil`
    /// when the caller sees everything.
    public let hiddenBecause: String?
    private let store: NoteStore
    private let guardrails: Guardrails
    private let links: LinkResolver?
    /// The guardrails' secret scanner, for a caller off this machine.
    private let scanner: SecretScanner?

    /// Whether the caller is an agent (inside a run, or an MCP client serving one): see `listsTask`.
    private let isAgent: Bool

    /// The visibility for a command run with `environment` (its `FBT_RUN_ID`) on `vault`.
    public init(vault: Vault, environment: [String: String]) {
        self.init(vault: vault, hiddenBecause: Privacy.hidesPrivateNotes(environment: environment, vault: vault),
                  isAgent: RunWriteGuard.runID(in: environment) != nil)
    }

    /// The visibility for a caller that `hiddenBecause` (non-nil) says may not read private notes,
    /// decided by the caller (an MCP server started for a cloud agent). `isAgent`: the caller is an
    /// agent, even one that may read private notes (`listsTask`).
    public init(vault: Vault, hiddenBecause: String?, isAgent: Bool = false) {
        self.hiddenBecause = hiddenBecause
        self.isAgent = isAgent || hiddenBecause != nil
        store = NoteStore(vault: vault)
        // Rules and links are only read when something has to be judged.
        guardrails = self.isAgent ? RuleBook.load(vault: vault).guardrails : Guardrails()
        links = self.isAgent ? LinkResolver(vault: vault) : nil
        scanner = hiddenBecause == nil ? nil : SecretScanner(extraPatterns: guardrails.secretPatterns)
    }

    /// Whether a task note at `path` is listed to this caller (`status`, `doctor`). An agent is told
    /// of no private task, not even one that may read private notes (a local run): it asked for a
    /// list, not for the note, and a title listed would go into what it writes without marking the
    /// run private (`RunTaint` marks the runs shown a private note they asked for).
    public func listsTask(_ path: String) -> Bool {
        if hiddenBecause != nil { return shows(path) }
        guard isAgent else { return true }
        return Privacy.reason(ofNoteAt: path, store: store, guardrails: guardrails, links: links) == nil
    }

    /// For a caller off this machine, why `text` (a note it asked for) is not shown: the kinds and
    /// lines of the secrets it holds, never the secrets. `nil` when it holds none, or for any other caller.
    public func secrets(in text: String) -> String? {
        guard let scanner, case let found = scanner.scan(text), !found.isEmpty else { return nil }
        return SecretScanner.describe(found)
    }

    /// `text` with its secrets redacted for a caller off this machine (a search snippet); as it is
    /// for any other caller.
    public func redactingSecrets(_ text: String) -> String {
        guard let scanner else { return text }
        return scanner.redact(text).text
    }

    /// Whether a hit on the note at `path` whose text comes from the index (a search snippet, a
    /// heading) may be listed to this caller: it may see the note as it is on disk, that is what the
    /// index holds (`indexedHash`; a note saved since — or being saved in place, empty for a moment —
    /// may have been private in the version the snippet is cut from), and, off this machine, it
    /// holds no secret (a snippet cut from it could start just past the word that tells a secret
    /// from other text, and show it unredacted).
    public func showsHit(_ path: String, indexedHash: ContentHash?) -> Bool {
        guard hiddenBecause != nil else { return true }
        guard let snapshot = shown(path), snapshot.hash == indexedHash else { return false }
        return scanner.map { $0.scan(snapshot.text).isEmpty } ?? true
    }

    /// The note at `path` as this caller may be shown it: read once, and judged on those very bytes.
    /// For a caller off this machine, `nil` when it is missing, withheld (private, or its name holds
    /// a secret), or changed while it was read (tried three times). Judging one read and showing
    /// another gave a private note away while a person saved it in place: an in-place save empties
    /// the file for a moment, and an empty note is public. Any other caller gets the note as it is.
    ///
    /// A note changed less than `NoteVisibility.settle` ago is read once it has been unchanged that
    /// long (waiting `maximumWait` at most, else it is withheld): an editor that saves in several
    /// writes (nano's 4 KiB blocks, a script) leaves a prefix on disk between them — a whole, public
    /// note that lacks the `#private` still to come at its end.
    public func shown(_ path: String) -> NoteSnapshot? {
        guard hiddenBecause != nil else { return (try? store.readIfPresent(path)) ?? nil }
        if let scanner, !scanner.scan(path).isEmpty { return nil }
        let deadline = FileSystem.realtimeNanoseconds() + NoteVisibility.maximumWait
        for _ in 0..<6 {
            let readAt = FileSystem.realtimeNanoseconds()
            guard let snapshot = (try? store.readIfPresent(path)) ?? nil else { return nil }
            // The file as it was while it was read: else a write was under way, and the bytes may be
            // a part of it.
            guard let after = (try? store.status(path)) ?? nil, after == snapshot.status else { continue }
            // By the change time, which every write moves and no call sets (a modification time from
            // another machine, or `touch -d`, may lie in the future and would withhold a note for ever).
            let settledAt = after.ctimeNanoseconds + NoteVisibility.settle
            if settledAt > readAt {
                guard settledAt <= deadline else { return nil }
                Thread.sleep(forTimeInterval: Double(settledAt - readAt) / 1e9)
                continue
            }
            if Privacy.reason(ofSnapshot: snapshot, at: path, store: store, guardrails: guardrails, links: links, readAt: readAt) != nil { return nil }
            return snapshot
        }
        return nil
    }

    /// How long a note must have been unchanged to be shown to a caller that may not see private
    /// notes (`shown`), in nanoseconds.
    public static let settle: Int64 = 1_000_000_000

    /// The longest `shown` waits for a note to settle, in nanoseconds.
    static let maximumWait: Int64 = 2_000_000_000

    /// The line a caller off this machine gets for a note holding a secret.
    public func secretRefusal(_ path: String, text: String) -> String? {
        guard let kinds = secrets(in: text), let why = hiddenBecause else { return nil }
        return "\(path) holds a secret (\(kinds)); a note holding one is not shown when \(why)"
    }

    /// Why the note at `path` is withheld from this caller, or `nil` when it may be shown.
    public func withholding(_ path: String) -> String? {
        guard hiddenBecause != nil, let reason = Privacy.reason(ofNoteAt: path, store: store, guardrails: guardrails, links: links) else { return nil }
        // Worded for the caller it is withheld from: the name of the private note it pulls in is
        // private text too, so it is not given.
        return reason.hasPrefix(Privacy.derivedReasonPrefix) ? "made from or pulls in a private note" : reason
    }

    /// For a caller that may not see private notes: a function that replaces the names of the private
    /// notes in `paths` (path, path without `.md`, title) with "(a private note)" in text shown to it
    /// (`route` names the notes that make a task private); for any other caller, the text as it is.
    public func withholdingNames(of paths: [String]) -> @Sendable (String) -> String {
        guard hiddenBecause != nil, !paths.isEmpty else { return { $0 } }
        var names = Set<String>()
        for path in paths {
            names.insert(path)
            if path.hasSuffix(".md") { names.insert(String(path.dropLast(3))) }
            let title = NoteScanner.title(ofPath: path)
            if title.count >= 3 { names.insert(title) }
        }
        // Longest first: a path before the title inside it.
        let ordered = names.sorted { $0.count > $1.count }
        return { text in ordered.reduce(text) { $0.replacingOccurrences(of: $1, with: "(a private note)") } }
    }

    /// For a caller that may not see private notes, the one answer for a note it cannot have: one
    /// that is private and one that does not exist get the same line, since two answers would
    /// confirm a guessed name ("Private/Bank.md", "Memory/Divorce.md") and a private note's name is
    /// private text. `nil` when the note exists and may be shown, or the caller sees everything.
    public func unseen(_ path: String) -> String? {
        guard let why = hiddenBecause else { return nil }
        if shown(path) != nil { return nil }
        return NoteVisibility.unseenLine(path, why)
    }

    /// For a caller that may not see private notes, the line a change of the note at `path` is
    /// refused with when the note is private or missing — the same for both (a different answer
    /// confirmed guessed names). Nothing of the note is shown, so a note being saved is judged as
    /// it is, without waiting for it to settle (`shown`): the write itself is judged again.
    public func unchangeable(_ path: String) -> String? {
        guard let why = hiddenBecause else { return nil }
        if withholding(path) == nil, (try? store.readIfPresent(path)) ?? nil != nil { return nil }
        return NoteVisibility.unseenLine(path, why)
    }

    /// The line `unseen` answers with.
    static func unseenLine(_ path: String, _ why: String) -> String {
        "\(path): no such note, or a private one (private notes are withheld when \(why))"
    }

    /// The refusal when `shown(path)` gave nothing: `unseen`'s line to a caller that may not see
    /// private notes, else "no such note".
    public func notShown(_ path: String) -> String {
        hiddenBecause.map { NoteVisibility.unseenLine(path, $0) } ?? "\(path): no such note"
    }

    /// For a caller that may not see private notes: the one answer for a text (routed as a task) that
    /// links a note the caller cannot have — private or missing alike, for the reason `unseen` gives
    /// (that "private" and "public" would tell a guessed name apart). Names no note: an ambiguous
    /// link's private candidates are not what the caller wrote. `nil` when every link is to a note
    /// it may see, or the caller sees everything.
    public func unseenLink(in facts: TaskFacts) -> String? {
        guard let why = hiddenBecause else { return nil }
        // (Asked first: the answer is the same whatever else the text names.)
        if namesByGlob(facts.body) {
            return "the text names notes of the vault by a glob on disk; name them one by one (a glob is not taken when \(why): it could spell out private notes' names)"
        }
        let missing = facts.contextPaths.contains { (try? store.readIfPresent($0)) ?? nil == nil }
        guard missing || !facts.privateSources.isEmpty else { return nil }
        return "the text links or names a note that does not exist or is private (private notes are withheld when \(why))"
    }

    /// Whether `text` names notes by a glob on disk into the vault (`DiskPathJudge.namesByGlob`).
    func namesByGlob(_ text: String) -> Bool {
        guard let links, text.contains("/") else { return false }
        return DiskPathJudge(vault: store.vault, guardrails: guardrails, links: links, path: nil).namesByGlob(text)
    }

    /// For a caller that may not see private notes: the one answer for a note it asks to route or
    /// build a packet for (`route PATH`, `context PATH`) that links or lists a note that does not
    /// exist or is private. A note the caller wrote itself, linking a guessed name, was answered
    /// "the packet holds private notes" or routed privately when the name was a private note's, and
    /// shown as any other when it was none (an outside attack). `nil` when it names only notes it
    /// may see, or the caller sees everything.
    public func unseenLink(ofNote note: Note, at path: String) -> String? {
        guard hiddenBecause != nil, let links else { return nil }
        return unseenLink(in: TaskFacts.from(note: note, path: path, vault: store.vault, ruleBook: RuleBook.load(vault: store.vault), links: links))
    }

    /// For a caller that may not see private notes: the one answer for a handoff whose `context`
    /// names a note that does not exist or is private — before anything is written (a handoff
    /// "blocked: private" for one and routed for the other told a guessed name apart). `nil` when
    /// every entry names a note it may see, or the caller sees everything.
    public func unseenContext(_ entries: [String]) -> String? {
        guard let why = hiddenBecause, let links else { return nil }
        for entry in entries {
            var target = entry.trimmingWhitespaces()
            if target.hasPrefix("[["), target.hasSuffix("]]") { target = String(target.dropFirst(2).dropLast(2)) }
            let link = WikiLink.parse("[[" + target + "]]") ?? WikiLink(target: target)
            let resolved = links.resolve(link, from: nil)
            guard let path = resolved.path, shown(path) != nil,
                  resolved.judged.allSatisfy({ withholding($0) == nil }) else {
                return "a context note does not exist or is private (private notes are withheld when \(why))"
            }
        }
        return nil
    }

    /// For a caller that may not see private notes: the one answer for work it makes (`task new`,
    /// `create_task`, `handoff`) whose `context` or text names a note that does not exist or is private, before
    /// anything is written — `unseenContext`, then `unseenLink` on its title and text. The task was
    /// private, so unreadable to its maker, exactly when the note named existed and was private: a
    /// guessed name told apart (an outside attack). `nil` when it names only notes it may see.
    public func unseenInWork(text: String, title: String?, context: [String]) -> String? {
        guard hiddenBecause != nil, let links else { return nil }
        if let line = unseenContext(context) { return line }
        let text = (title.map { $0 + "\n" } ?? "") + text
        return unseenLink(in: TaskFacts.from(text: text, vault: store.vault, ruleBook: RuleBook.load(vault: store.vault), links: links))
    }

    /// The first `limit` items this caller may see, from a ranked list `fetch(n)` returns the first `n`
    /// of: asked for more and more until `limit` are visible or the list ends. The answer is then
    /// exactly what it would be without the private notes — never shorter for the private hits above
    /// the cut, and saying nothing of how many there were (a count of withheld hits, or a short list,
    /// answers "does some private note hold this word?", and prefix queries spell out its words).
    public func visible<Item>(limit: Int, path: (Item) -> String, shows: ((String) -> Bool)? = nil, _ fetch: (Int) throws -> [Item]) rethrows -> [Item] {
        guard hiddenBecause != nil else { return try fetch(limit) }
        let admits = shows ?? self.shows
        var window = max(limit * 2, 16)
        while true {
            let items = try fetch(window)
            let shown = items.filter { admits(path($0)) }
            if shown.count >= limit || items.count < window { return Array(shown.prefix(limit)) }
            window *= 4
        }
    }

    /// A search of `index` as this caller may have it: the hits it may see (`showsHit`), as many as
    /// there would be without the others (`visible`), ranked, for a caller that may not see every
    /// note, with every word weighing the same: weighed by how many notes hold it, the order of two
    /// of its own notes would tell it whether a note it cannot see holds a word (and prefix queries
    /// spell such words out, a secret's too).
    public func search(_ text: String, in index: MemoryIndex, limit: Int, filters: SearchFilters = SearchFilters()) throws -> [SearchHit] {
        try visible(limit: limit, path: \.path, shows: { showsHit($0, indexedHash: try? index.indexedHash(of: $0)) }) {
            try index.search(text, limit: $0, filters: filters, evenWords: hiddenBecause != nil)
        }
    }

    /// Whether the note at `path` may be listed or shown to this caller.
    public func shows(_ path: String) -> Bool {
        if let scanner, !scanner.scan(path).isEmpty { return false }
        return withholding(path) == nil
    }
}

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
    /// Notes the task pulls in (`pulledLinks`), resolved once by `LinkResolver` to vault paths where
    /// a file exists (else the link's own path), in order, each once. The context packet reads its
    /// linked pieces from exactly this list, so what privacy judged is what the agent receives.
    public var contextPaths: [String]
    /// Which notes the task's links could mean are private (by `privacy`, a private tag, a private
    /// folder, or what they are made from), or could not be checked (unreadable or bad frontmatter:
    /// treated as private): `contextPaths`, and also every note an ambiguous link could mean and a
    /// link's literal path (`LinkResolution.judged`).
    public var privateSources: [String]
    /// The `project:` folder (or one holding it or in it) where a private run's agent worked
    /// (`ProjectTaint`): files it left there may hold private text, so the task is private.
    public var privateProject: String?
    /// For a handoff: its original task's title and text (comments out), as retrieval searches
    /// them (`ContextPacketBuilder.retrievalText`); read here once, with the task's links.
    public var originalTaskText: String?

    /// Facts given field by field (`folder` defaults to the path's folder).
    public init(path: String? = nil, title: String = "", body: String = "", type: String? = "task", tags: [String] = [], folder: String? = nil, privacy: String? = nil, effects: [String] = [], lane: String? = nil, agent: String? = nil, model: String? = nil, approved: Bool = false, budgetUSD: Double? = nil, contextPaths: [String] = [], privateSources: [String] = []) {
        self.path = path
        self.title = title
        self.body = body
        self.type = type
        self.tags = tags
        self.folder = folder ?? path.map(LinkResolver.folder(of:))
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
    /// `links` resolves the links; pass a shared one to avoid re-walking the vault for every task
    /// (a fresh one is made when `nil`).
    /// `readingNames: false` judges the note's links alone, not the notes its text names otherwise
    /// (`from(text:readingNames:)`).
    public static func from(note: Note, path: String, vault: Vault, ruleBook: RuleBook, links: LinkResolver? = nil, readingNames: Bool = true) -> TaskFacts {
        let normalized = (try? Vault.normalize(path)) ?? path
        var facts = TaskFacts(path: normalized)
        facts.title = note.text("title") ?? RuleBook.name(of: normalized)
        facts.body = note.body
        let underTasks = normalized.hasPrefix(Vault.Layout.tasks + "/")
        facts.type = note.text("type")?.lowercased() ?? (underTasks ? "task" : nil)
        // Read as privacy reads them (`Privacy.tags`): `Tags` in any case, a text of several.
        facts.tags = unique(Privacy.tags(of: note).map(normalizeTag).filter { !$0.isEmpty } + inlineTags(in: note.body))
        // The same reading of `privacy`/`private` as every other privacy test (`Privacy.declaredPrivacy`).
        facts.privacy = (Privacy.declaredPrivacy(of: note) ?? note.text("privacy"))?.lowercased()
        facts.effects = unique(note.texts("effects").map { $0.lowercased().trimmingWhitespaces() }.filter { !$0.isEmpty })
        facts.lane = note.text("lane")
        facts.agent = note.text("agent")
        facts.model = note.text("model")
        // A note's own `approved: true` is a claim anyone could have written; see `approved`.
        facts.approved = false
        if let value = note["budget_usd"], value != .null {
            facts.budgetUSD = Money.dollars(value)
            if facts.budgetUSD == nil { facts.budgetError = Money.problem(key: "budget_usd", value: value) + " in the task; fix it to run a paid agent" }
        }
        let resolver = links ?? LinkResolver(vault: vault)
        var pulled = pulledLinks(of: note, path: normalized).map { (link: $0, from: normalized) }
        // A handoff carries on its original task: the notes that task links go with it, read from
        // the task's own folder (a tour: after a failover, codex's packet lacked the
        // `[[Project Falcon]]` claude's had).
        if TaskNote.kind(of: note, path: normalized) == .handoff, let original = originalTask(of: note, at: normalized, vault: vault, links: resolver) {
            pulled += pulledLinks(of: original.note, path: original.path).map { (link: $0, from: original.path) }
            facts.originalTaskText = TaskNote.title(of: original.path) + "\n" + TaskNote.removingComments(original.note.body)
        }
        // The spending limit of every task above this one holds for it: a handoff's task, the task
        // whose run made it, and theirs in turn (round 55: `task new` from a run of a $0.05 task
        // reserved $0.40; round 56: a grandchild, a handoff of a spawned task, a task a handoff's
        // run made, each still did).
        let above = TaskFacts.limitingNotes(of: note, at: normalized, vault: vault, links: resolver)
        for (limiting, named) in above.notes { facts.holdToLimit(of: limiting, named: named) }
        if above.cutOff, facts.budgetError == nil {
            facts.budgetError = "the chain of tasks above it is deeper than \(TaskFacts.deepestChain): their budget_usd cannot all be read; a paid agent does not run it"
        }
        var texts = [(text: note.body, from: Optional(normalized))]
        if TaskNote.kind(of: note, path: normalized) == .handoff, let original = originalTask(of: note, at: normalized, vault: vault, links: resolver) {
            texts.append((original.note.body, original.path))
        }
        facts.resolveContext(pulled, texts: readingNames ? texts : [], vault: vault, guardrails: ruleBook.guardrails, links: resolver)
        facts.privateProject = ProjectTaint.folder(of: note, vault: vault)
        return facts
    }

    /// Holds the budget to `limiting`'s own `budget_usd` when that is lower; a `budget_usd` there
    /// that does not parse stops paid runs as it stops that note's (round 55: a handoff of a task
    /// with `budget_usd: "0,05"` ran at the full reservation).
    mutating func holdToLimit(of limiting: Note, named: String) {
        guard let value = limiting["budget_usd"], value != .null else { return }
        guard let own = Money.dollars(value) else {
            if budgetError == nil { budgetError = Money.problem(key: "budget_usd", value: value) + " in \(named); fix it to run a paid agent" }
            return
        }
        budgetUSD = min(budgetUSD ?? own, own)
    }

    /// The note of the task (or handoff) run `runID` ran, and its path, when the run store knows it.
    static func parentTask(ofRun runID: String, vault: Vault) -> (path: String, note: Note)? {
        guard let record = RunStore.known(runID, vault: vault), let snapshot = (try? NoteStore(vault: vault).readIfPresent(record.taskPath)) ?? nil,
              let note = try? Note.parse(bytes: snapshot.bytes) else { return nil }
        return (record.taskPath, note)
    }

    /// The most work notes above a note that are read for their limits.
    static let deepestChain = 64

    /// The work notes above `note` whose limits hold for it, nearest first: a handoff's original
    /// task, the work whose run made a note (`created_by_run`), and so on up, each once, at most
    /// `deepestChain`; `cutOff` when there were more (round 57: cut at twelve, the thirteenth
    /// level down reserved the whole cap).
    static func limitingNotes(of note: Note, at path: String, vault: Vault, links: LinkResolver) -> (notes: [(note: Note, named: String)], cutOff: Bool) {
        var found: [(note: Note, named: String)] = []
        var seen: Set<String> = [path]
        var current = (path: path, note: note)
        while true {
            let next: (path: String, note: Note)?
            let named: String
            // A handoff's `task` may name another handoff, written by hand: its limits hold too, and
            // the walk goes on to its task (round 58: each such handoff reserved $1.00 under a $0.05 task).
            if TaskNote.kind(of: current.note, path: current.path) == .handoff,
               let original = originalTask(of: current.note, at: current.path, vault: vault, links: links, kinds: [.task, .handoff]) {
                next = original
                named = "its task \(original.path)"
            } else if let runID = current.note.text("created_by_run"), let parent = parentTask(ofRun: runID, vault: vault) {
                next = parent
                named = "\(parent.path), whose run made it"
            } else {
                next = nil
                named = ""
            }
            guard let next, seen.insert(next.path).inserted else { break }
            guard found.count < deepestChain else { return (found, true) }
            found.append((next.note, named))
            current = next
        }
        return (found, false)
    }

    /// Facts for a bare prompt (`route "summarize today's handoff"`); links in the text are followed too.
    /// `readingNames: false` judges the text's links alone, not the notes it names otherwise (a bare
    /// `Name.md`, a path, a path on disk: `resolveContext`'s `texts`).
    public static func from(text: String, vault: Vault, ruleBook: RuleBook, links: LinkResolver? = nil, readingNames: Bool = true) -> TaskFacts {
        var facts = TaskFacts(title: String(text.split(separator: "\n").first ?? "").trimmingWhitespaces(), body: text)
        facts.tags = inlineTags(in: text)
        facts.resolveContext(WikiLink.links(in: text).map { (link: $0, from: nil) }, texts: readingNames ? [(text, nil)] : [], vault: vault, guardrails: ruleBook.guardrails, links: links ?? LinkResolver(vault: vault))
        return facts
    }

    /// The task a handoff note carries on (its `task` link), read: `nil` when it names none, or
    /// none that is a task note here.
    static func originalTask(of handoff: Note, at path: String, vault: Vault, links: LinkResolver, kinds: Set<WorkKind> = [.task]) -> (path: String, note: Note)? {
        guard let link = handoff.text("task").flatMap(WikiLink.parse), let target = links.resolve(link, from: path).path, target != path,
              let snapshot = (try? NoteStore(vault: vault).readIfPresent(target)) ?? nil,
              let note = try? Note.parse(bytes: snapshot.bytes), let kind = TaskNote.kind(of: note, path: target), kinds.contains(kind) else { return nil }
        return (target, note)
    }

    /// The links a work note pulls in, as written: a handoff's original `task`, its `context` list,
    /// then every link in its body (code included: a link is followed however it is written).
    public static func pulledLinks(of note: Note, path: String) -> [WikiLink] {
        var links: [WikiLink] = []
        if TaskNote.kind(of: note, path: path) == .handoff, let task = note.text("task"), let link = WikiLink.parse(task) { links.append(link) }
        links += note.texts("context").compactMap(WikiLink.parse)
        return links + WikiLink.links(in: note.body)
    }

    /// Resolves the task's links once: `contextPaths` (what the packet reads) and `privateSources`
    /// (every private path among those the links could mean).
    /// Each link is read from the note it is written in (`from`). `texts` (the task's own, and a
    /// handoff's original task's) are read as a packet reads a note it carries (`PrivateLinks`): a
    /// private note named by an Obsidian URL, an HTML link, a link inside another link or a bare
    /// path makes the task private too — those forms went to claude as written (round 50) — when
    /// the note it opens exists and is private.
    private mutating func resolveContext(_ pulled: [(link: WikiLink, from: String?)], texts: [(text: String, from: String?)] = [], vault: Vault, guardrails: Guardrails, links: LinkResolver) {
        let store = NoteStore(vault: vault)
        // In order, each once; the sets beside them keep a note of 100,000 links linear (an array's
        // `contains` per link took 29 s to route one: round 46).
        var paths: [String] = []
        var judged: [String] = []
        var seenPaths = Set<String>()
        var seenJudged = Set<String>()
        for (link, from) in pulled {
            let resolution = links.resolve(link, from: from)
            if let read = resolution.path ?? LinkResolver.literalPath(link.target, from: from), read != path, seenPaths.insert(read).inserted { paths.append(read) }
            for candidate in resolution.judged where candidate != path && seenJudged.insert(candidate).inserted { judged.append(candidate) }
        }
        contextPaths = paths
        var verdicts: [String: Bool] = [:]
        func isPrivate(_ candidate: String) -> Bool {
            if let known = verdicts[candidate] { return known }
            let verdict = Privacy.isPrivate(linkedNote: candidate, store: store, guardrails: guardrails, links: links)
            verdicts[candidate] = verdict
            return verdict
        }
        privateSources = judged.filter(isPrivate)
        // Here each form counts for the note it opens in Obsidian, which exists: every note a bare
        // name could mean made "Fix the typo in README.md" private (`init` ships a
        // `Private/README.md`), and a repository's `docs/private/setup.md` too (round 51).
        var seenPrivate = Set(privateSources)
        // The paths on disk the texts name, with the budgets the whole task shares.
        let disk = DiskPathJudge(vault: vault, guardrails: guardrails, links: links, path: path)
        for (text, from) in texts {
            // What Obsidian would open; an absolute path or a `file:` URL into the vault is read
            // as the vault path it names (round 52: a task holding one went to claude).
            _ = PrivateLinks.redacting(text, in: from ?? "", candidates: { found in found.map { written in
                var link = written
                link.target = TaskFacts.vaultPath(of: link.target, in: vault) ?? link.target
                // A name several notes share equally near (`Salary.md` in `Private/` and `Work/`)
                // counts for each of them, as `[[Salary]]` does: which one Obsidian opens is not
                // for the task's writer to know (round 52: the bare name went to claude).
                let resolution = links.resolve(link, from: from)
                let candidates = resolution.path.map { [$0] } ?? resolution.judged
                // A bare `README.md` is no folder note of the OS's (round 54); a path to one is.
                return link.target.contains("/") ? candidates : candidates.filter { !TaskFacts.isFolderNote($0, store: store) }
            } }) { candidate in
                guard candidate != path, isPrivate(candidate), TaskFacts.isThere(candidate, in: vault) else { return false }
                if seenPrivate.insert(candidate).inserted { privateSources.append(candidate) }
                return true
            }
            // A path on disk into the vault written without `.md` (`~/Notes/Private/Bank`) names
            // the note as a shell would open it: no link form reads it (round 53).
            for found in disk.privateNotes(namedIn: text, isPrivate: isPrivate) where seenPrivate.insert(found).inserted {
                privateSources.append(found)
            }
        }
    }

    /// A path on disk a text holds, as a shell would read it: from `/`, `~/`, `$HOME/`, `${HOME}/` or
    /// `file:` at a word's start; what is attached to its end left off (emphasis, `:12`, `#Q3`,
    /// `?x=1`, `@HEAD`, `’s`, closing marks); a last part holding a glob (`*`, `?`, `[`, `{`) read as
    /// its folder (`isGlob`). Each path is read alone and with up to four words after it (`My Bank`,
    /// `My\ Bank`: a name with spaces), and a quoted one to its closing quote.
    static func pathsOnDisk(in text: String, roots: [String] = [], reachesVault: (String) -> Bool = { _ in true }) -> [DiskPath] {
        var readings = pathsOnDisk(reading: text, roots: roots, reachesVault: reachesVault)
        // Quotes a shell takes out inside a word (`~/Obsidian' 'Vault/Private`, `Pri''vate`,
        // `Priv"ate"`): the text read again without them, a space they held kept as `\ ` (round 58).
        if text.holdsByte("'") || text.holdsByte("\""), text.holdsByte("/") {
            let unquoted = NSMutableString(string: text)
            for match in quoted.matches(in: text, range: NSRange(location: 0, length: unquoted.length)).reversed() {
                let inner = (text as NSString).substring(with: match.range(at: 2)).replacingOccurrences(of: " ", with: "\\ ")
                unquoted.replaceCharacters(in: match.range, with: inner)
            }
            let seen = Set(readings)
            readings += pathsOnDisk(reading: unquoted as String, roots: roots, reachesVault: reachesVault).filter { !seen.contains($0) }
        }
        return readings
    }

    private static let quoted = try! NSRegularExpression(pattern: #"(['"])([^'"\n]{0,512})\1"#)

    private static func pathsOnDisk(reading text: String, roots: [String], reachesVault: (String) -> Bool) -> [DiskPath] {
        let source = text as NSString
        var readings: [DiskPath] = []
        var seen = Set<String>()
        func add(_ written: String) {
            // As cleaned, and as written but for the marks that close a sentence or a quote: a
            // name may hold what is cut for the first reading (`Anna’s Bank`, `C# notes`,
            // `Loan (2024)`, `Q3…draft`, `Ideas~`).
            var plain = written.replacingOccurrences(of: "\\ ", with: " ")
            plain = plain.removingPercentEncoding ?? plain
            TaskFacts.trimSentenceEnd(&plain, marks: ".,;:!?\"“”«»„’‘」』")
            for reading in [cleanedPath(written), plain.isEmpty ? nil : DiskPath(path: plain, isGlob: false)].compactMap({ $0 })
            where seen.insert(reading.path + (reading.isGlob ? "*" + (reading.pattern ?? "") : "")).inserted { readings.append(reading) }
        }
        let whole = NSRange(location: 0, length: source.length)
        var ranges = text.holdsByte("/") ? pathOnDisk.matches(in: text, range: whole).map(\.range) : []
        // The vault's own path where it holds a space (`~/Obsidian Vault`, iCloud's `Mobile
        // Documents`), written with `\ ` or in quotes: read from its start (round 58: the path
        // reader stopped at the space, and `~/Obsidian\ Vault/Private/Salary.md` was public).
        if let spaced = rootPattern(roots) { ranges += spaced.matches(in: text, range: whole).map(\.range) }
        // A path in quotes, spaces and all (`"/Users/anna/./Obsidian Vault/Private"`).
        if text.holdsByte("\"") || text.holdsByte("'") { ranges += quotedPath.matches(in: text, range: whole).map { $0.range(at: 2) } }
        // `~` and `$HOME` alone name the home folder where a command takes it (`grep -r IBAN ~`,
        // `cd ~`, `ls $HOME`); in prose (`~ two days`, `X ~ N(0, 1)`, `echo $HOME`) they do not.
        if text.holdsByte("~") || text.holdsBytes("HOME"), !seen.contains("~/") {
            // (More than 256 of them are not judged one by one: the home folder, as if named.)
            for (i, match) in homeAlone.matches(in: text, range: whole).enumerated() {
                guard i >= 256 || Self.isCommandArgument(at: match.range.location, in: source) else { continue }
                seen.insert("~/")
                readings.append(DiskPath(path: "~/", isGlob: false))
                break
            }
        }
        for range in ranges {
            var base = source.substring(with: range)
            // Emphasis around it (`**/x/Bank**`, `_/x/Bank_`) closes as it opened: no glob.
            var opened = 0
            while range.location - opened > 0, case let unit = source.character(at: range.location - opened - 1), unit == 0x2A || unit == 0x5F { opened += 1 }
            if opened > 0, base.count > opened, base.suffix(opened).allSatisfy({ $0 == "*" || $0 == "_" }) { base.removeLast(opened) }
            add(base)
            // A list of paths (`PATH=/usr/bin:/vault/Private/Bank`, `scp host:/…`): each one.
            // (`-v /vault/Private:/data`, `src=/vault/Private,target=/data`: the first one too.)
            if base.contains(":/") || base.contains(":~/") || base.contains(",") {
                for part in base.split(whereSeparator: { $0 == ":" || $0 == "," }) where part.hasPrefix("/") || part.hasPrefix("~/") { add(String(part)) }
            }
            // The words after it on the same line: a name with spaces in it — for a path into the
            // vault only (a task of 12,000 system paths read each five times over).
            guard reachesVault(base.replacingOccurrences(of: "\\ ", with: " ")) else { continue }
            // A glob is read as its folder already: the words after it name nothing more, and
            // reading each of 2,500 globs five times took seconds (an outside attack).
            if cleanedPath(base)?.isGlob == true { continue }
            // (A window after it, not the rest of the text: a task of 12,000 paths took 24 s.)
            let after = NSMaxRange(range)
            var rest = source.substring(with: NSRange(location: after, length: min(4 * 66, source.length - after)))
            var extended = base
            for _ in 0..<4 {
                // (A word ends at a space or at the end of its line: the last word of a line was lost.)
                let word = rest.dropFirst().prefix { $0 != " " && $0 != "\n" && $0 != "\r" }
                guard rest.hasPrefix(" "), !word.isEmpty, word.count <= 64 else { break }
                extended += " " + word
                add(extended)
                rest = String(rest.dropFirst(1 + word.count))
            }
        }
        return readings
    }

    /// `written` without what is attached to a path's end, `\ ` read as a space, and whether its last
    /// part is a glob (then its folder is returned); `nil` when nothing is left.
    static func cleanedPath(_ written: String) -> DiskPath? {
        var path = written.replacingOccurrences(of: "\\ ", with: " ")
        path = path.removingPercentEncoding ?? path
        // What follows a name, never part of it here: a fragment, a query, a revision, a line number,
        // a possessive with a typographic apostrophe, and the marks that close a sentence in other scripts.
        for mark in ["#", "@", "\u{2019}", "\u{2026}", "\u{3002}", "\u{FF0C}", "\u{3001}", "\u{201A}"] {
            if let cut = path.range(of: mark) { path = String(path[..<cut.lowerBound]) }
        }
        if let line = path.range(of: #":\d"#, options: .regularExpression) { path = String(path[..<line.lowerBound]) }
        // The sentence's own end first: `…/C?` asks about `C`, `…/Sal*` and `…/Salar?x` are globs.
        trimSentenceEnd(&path, marks: ".,;:!?")
        // A glob names the folder above its first part holding a glob mark (`/v/Private/*`,
        // `/v/Work/Shared/**/*.md`), and keeps its parts from there (`Sha*/*`).
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if let globbed = components.firstIndex(where: { $0.contains(where: { "*?[{".contains($0) }) }) {
            let folder = components[..<globbed].joined(separator: "/") + "/"
            return folder.count > 1 ? DiskPath(path: folder, isGlob: true, pattern: components[globbed...].joined(separator: "/")) : nil
        }
        if let query = path.range(of: "?") { path = String(path[..<query.lowerBound]) }
        trimSentenceEnd(&path, marks: ".,;:!*_~}{)]>'`\"“”«»„’‘」』")
        return path.isEmpty ? nil : DiskPath(path: path, isGlob: false)
    }

    /// Takes the marks that end a sentence off the end of `path`, but not a last part `.` or `..`
    /// (`~/Notes/Projects/..` names the vault: round 58).
    static func trimSentenceEnd(_ path: inout String, marks: String) {
        while let last = path.last, marks.contains(last), !path.hasSuffix("/.."), !path.hasSuffix("/.") { path.removeLast() }
    }

    /// A path on disk read from a task's text: a path, or a glob's folder (`isGlob`) with the
    /// glob's parts from there (`pattern`: `Sha*/*`, `**/*.md`).
    struct DiskPath: Hashable {
        var path: String
        var isGlob: Bool
        var pattern: String?
    }

    private static let homeAlone = try! NSRegularExpression(pattern: #"(?<![\p{L}\p{N}/.~$\\+-])(?:~|\$HOME|\$\{HOME\})/?(?=$|[\n"'`)\];&|]|[,.!?:](?:$|\s)|[ \t]++(?!\p{N}))"#)

    /// The ways a task may write the vault's own path when it holds a space: as it is, through
    /// its real path, and from `~`, `$HOME` or `${HOME}` when it is under the home folder.
    static func writtenRoots(of vault: Vault) -> [String] {
        let home = homeFolder.map(lexicallyNormalized) ?? ""
        var forms: [String] = []
        for root in Set([vault.root, lexicallyNormalized(vault.root), RunWorkspace.realForm(vault.root)]) where root.contains(" ") {
            // The folders on the way too, from the first that holds a space (iCloud's
            // `~/Library/Mobile Documents/…`: each holds the vault).
            let parts = root.split(separator: "/", omittingEmptySubsequences: false)
            guard let first = parts.firstIndex(where: { $0.contains(" ") }) else { continue }
            for end in first..<parts.count {
                let folder = parts[...end].joined(separator: "/")
                forms.append(folder)
                if home.count > 1, folder.hasPrefix(home + "/") {
                    let rest = folder.dropFirst(home.count)
                    forms += ["~" + rest, "$HOME" + rest, "${HOME}" + rest]
                }
            }
        }
        return forms
    }

    /// One expression for `roots` (each space also as `\ `), with what follows up to a space.
    static func rootPattern(_ roots: [String]) -> NSRegularExpression? {
        guard !roots.isEmpty else { return nil }
        let alternatives = roots.sorted { $0.count > $1.count }.map { NSRegularExpression.escapedPattern(for: $0).replacingOccurrences(of: " ", with: #"(?:\\ | )"#) }
        return try? NSRegularExpression(pattern: #"(?<![\p{L}\p{N}/.~$-])(?:"# + alternatives.joined(separator: "|") + #")(?:(?:\\ )?[^\s"'<>()\[\]`|])*"#)
    }

    /// `reading` as the vault it reaches (one of its `roots`: as written, normalised and real) when
    /// it names no vault path but a folder that holds the vault (`~`, `/home/anna`: the vault's
    /// root), or a glob whose parts match the way down to it (`~/Note*`, `~/{Notes,code}/Private/*`:
    /// the rest of the glob, under the root); `nil` otherwise. `/` alone counts for nothing.
    static func reachedRoot(_ reading: DiskPath, roots: Set<String>, budget: inout Int) -> DiskPath? {
        guard let start = absolutePath(of: reading.path) else { return nil }
        let folder = lexicallyNormalized(start)
        guard folder != "/" else { return nil }
        for root in roots where root.hasPrefix(folder + "/") {
            let below = root.dropFirst(folder.count + 1).split(separator: "/").map(String.init)
            guard reading.isGlob, let pattern = reading.pattern else { return DiskPath(path: root, isGlob: false) }
            var parts = pattern.split(separator: "/").map(String.init)
            var matched = 0
            while matched < below.count, let part = parts.first {
                // `**` may stand for any folders on the way: it reaches the vault.
                if part == "**" { return DiskPath(path: root + "/", isGlob: true, pattern: "**") }
                budget -= 1
                guard globMatches(name: below[matched], part: part) else { break }
                parts.removeFirst()
                matched += 1
            }
            // The glob ends at a folder on the way (`~/Library/*`): one that holds the vault.
            if parts.isEmpty { return DiskPath(path: root, isGlob: false) }
            if matched == below.count { return DiskPath(path: root + "/", isGlob: true, pattern: parts.joined(separator: "/")) }
        }
        return nil
    }

    /// Whether one name matches one part of a glob as a shell's does (`*`, `?`, `[…]`, and `{a,b}`
    /// expanded), in any case (the vault reads names in any case).
    static func globMatches(name: String, part: String) -> Bool {
        // Braces multiply (`{,,,,,,,,,}` eight times is a hundred million names): past 64, the
        // part is read as matching anything (round 58: one such task routed for 91 s).
        var alternatives = 1
        for group in part.split(separator: "{", omittingEmptySubsequences: false).dropFirst() { alternatives *= (group.prefix { $0 != "}" }.filter { $0 == "," }.count + 1); if alternatives > 64 { return true } }
        if let open = part.firstIndex(of: "{"), let close = part[open...].firstIndex(of: "}") {
            let head = part[..<open], tail = part[part.index(after: close)...]
            return part[part.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false)
                .contains { globMatches(name: name, part: String(head) + $0 + tail) }
        }
        // FNM_CASEFOLD (a GNU extension Swift's Glibc does not name).
        return fnmatch(part, name, 1 << 4) == 0
    }

    /// The vault folder the symlink at vault path `path` leads to, when it leads to one.
    static func linkedFolder(_ path: String, in vault: Vault) -> String? {
        guard ((try? FileSystem.status(vault.root + "/" + path)) ?? nil)?.kind == .symlink else { return nil }
        let real = RunWorkspace.realForm(vault.root + "/" + path)
        for root in Set([vault.root, RunWorkspace.realForm(vault.root)]) where real.hasPrefix(root + "/") {
            let target = String(real.dropFirst(root.count + 1))
            guard ((try? vault.resolveWithStatus(target))?.status?.kind) == .directory else { return nil }
            return target
        }
        return nil
    }

    /// The vault paths a glob's parts (`Sha*/*`, `**`) match under vault folder `folder`, as a
    /// shell expands it: `files` (notes, attachments and symlinks, never followed) and `folders`;
    /// a folder matched whole brings everything under it (`grep -r x Work/*`). `nil` when more than
    /// `limit` entries would have to be judged.
    static func globMatches(_ pattern: String, under folder: String, in vault: Vault, limit: Int = 5000) -> (files: [String], folders: [String])? {
        var listings = GlobListings()
        var budget = limit
        return globMatches(pattern, under: folder, in: vault, limit: limit, listings: &listings, budget: &budget)
    }

    /// The folders the globs of one task listed, kept for its other globs.
    struct GlobListings {
        var kept: [String: (files: [String], subfolders: [String])?] = [:]
        mutating func entries(of vault: Vault, folder: String) -> (files: [String], subfolders: [String])? {
            if let known = kept[folder] { return known }
            let listed = VaultWalker.entries(of: vault, folder: folder)
            kept[folder] = listed
            return listed
        }
    }

    /// `globMatches(_:under:in:limit:)` with the listings and the budget of names to look at shared
    /// by all the globs of a task: a task of 2,000 globs over a folder of 4,900 notes routed for
    /// 68 s (round 58). Over the budget: `nil`, as over the limit.
    static func globMatches(_ pattern: String, under folder: String, in vault: Vault, limit: Int, listings: inout GlobListings, budget: inout Int) -> (files: [String], folders: [String])? {
        var files: [String] = []
        var folders: [String] = []
        var seen = 0
        func spend(_ names: Int) -> Bool {
            seen += names
            budget -= names
            return seen <= limit && budget >= 0
        }
        // Everything under `start`, `start` too.
        func everything(under start: String) -> Bool {
            var pending = [start]
            var visited = Set(folders)
            while let next = pending.popLast() {
                guard visited.insert(next).inserted else { continue }
                folders.append(next)
                guard let listed = listings.entries(of: vault, folder: next) else { continue }
                guard spend(listed.files.count + listed.subfolders.count) else { return false }
                files += listed.files
                pending += listed.subfolders
                // Through a symlink to a folder of the vault too (`grep -r`'s `-R`, `**` in some shells).
                pending += listed.files.compactMap { linkedFolder($0, in: vault) }
            }
            return true
        }
        let parts = pattern.split(separator: "/").map(String.init)
        var frontier = [folder]
        for (i, part) in parts.enumerated() {
            let last = i == parts.count - 1
            if part == "**" {
                for start in frontier { guard everything(under: start) else { return nil } }
                return (files, folders)
            }
            var next: [String] = []
            for at in frontier {
                guard let listed = listings.entries(of: vault, folder: at) else { continue }
                guard spend(listed.files.count + listed.subfolders.count) else { return nil }
                var subfolders = listed.subfolders.filter { globMatches(name: ($0 as NSString).lastPathComponent, part: part) }
                for file in listed.files where globMatches(name: (file as NSString).lastPathComponent, part: part) {
                    files.append(file)
                    // A symlink to a folder of the vault is gone through, as a shell does (`Work/P*/*`
                    // over `Work/PersLink` → `Personal`); the symlink itself is judged too.
                    if let folder = linkedFolder(file, in: vault), !folders.contains(folder) { subfolders.append(folder) }
                }
                for sub in subfolders {
                    if last { guard everything(under: sub) else { return nil } } else { next.append(sub) }
                }
            }
            frontier = next
        }
        return (files, folders)
    }

    /// A path on disk: from `/`, `~/`, `$HOME/`, `${HOME}/` or `file:`, up to a space, a quote, a
    /// bracket or a bar; `\ ` (an escaped space) and `[…]` (a glob's class) are part of it.
    private static let pathOnDisk = try! NSRegularExpression(pattern: #"(?<![\p{L}\p{N}/.~$-])(?:(?i:file):/*|~/|\$HOME/|\$\{HOME\}/|/)(?:\\ |[^\s"'<>()`|])+"#)

    /// A path in quotes, spaces and all.
    private static let quotedPath = try! NSRegularExpression(pattern: #"(["'])((?:(?i:file):/*|~/|\$HOME/|\$\{HOME\}/|/)[^"'\n]{1,512})\1"#)

    /// Whether what stands at `location` is an argument of a command: its clause (the line, `\`
    /// continuations joined, from the last `;`, `&&`, `|`, `(` or backtick) holds a command that
    /// takes a folder or an option before it (`grep -r 'my bank account' ~`), opens with a verb that
    /// does (`Search ~ for IBAN`, `Copy ~ to the server`), or assigns it (`H=~`).
    static func isCommandArgument(at location: Int, in source: NSString) -> Bool {
        // What stands before it on its clause, up to 512 characters back, read unit by unit: reading
        // all the text before each `~` made a note of `it takes ~ 3 days` lines quadratic (an
        // outside attack).
        var start = location
        while start > 0, location - start < 512 {
            let unit = source.character(at: start - 1)
            // `\` and a line break: the line goes on.
            if unit == 0x0A, start >= 2, source.character(at: start - 2) == 0x5C { start -= 2; continue }
            if unit == 0x0A || unit == 0x3B || unit == 0x7C || unit == 0x28 || unit == 0x60 || unit == 0x26 { break }
            start -= 1
        }
        let clause = source.substring(with: NSRange(location: start, length: location - start))
        if clause.hasSuffix("=") { return true }
        // Words, a quoted run counting as one (`'my bank account number is'`).
        var words: [String] = []
        var word = ""
        var quote: Character?
        for ch in clause {
            if let open = quote {
                if ch == open { quote = nil }
                continue
            }
            if ch == "'" || ch == "\"" { quote = ch; word += "x"; continue }
            if ch.isWhitespace || ch == "\\" {
                if !word.isEmpty { words.append(word.lowercased()) }
                word = ""
            } else if ch != "$" {
                word.append(ch)
            }
        }
        if !word.isEmpty { words.append(word.lowercased()) }
        guard let first = words.first else { return false }
        return foldersVerbs.contains(first) || words.contains { $0.hasPrefix("-") || commandsTakingFolders.contains($0) }
    }

    /// Verbs that, opening a sentence, take what follows as a folder to work on.
    static let foldersVerbs: Set<String> = ["search", "scan", "copy", "upload", "back", "backup", "archive", "index", "crawl", "walk", "list", "read", "summarize",
        "summarise", "analyze", "analyse", "explore", "inspect", "audit", "sync", "mirror", "encrypt", "delete", "remove", "clean", "move", "compress", "grep",
        "send", "share", "export", "import", "zip", "tar", "check", "look", "browse", "open", "review", "durchsuche", "kopiere", "lies", "cherche", "copie", "busca", "copia"]

    /// Commands that take a folder (the home folder, written `~` or `$HOME` alone, among them).
    static let commandsTakingFolders: Set<String> = ["cd", "ls", "ll", "la", "dir", "tree", "grep", "egrep", "rg", "ag", "ack", "find", "fd", "du", "df", "tar", "zip",
        "7z", "rsync", "cp", "mv", "rm", "scp", "sftp", "chmod", "chown", "chgrp", "stat", "open", "xdg-open", "code", "cursor", "vim", "nvim", "nano", "emacs", "subl",
        "pushd", "git", "docker", "podman", "borg", "restic", "rclone", "zstd", "gzip", "bzip2", "xz", "ncdu", "dust", "exa", "eza", "lsd", "sync", "watch", "inotifywait",
        "fswatch", "entr", "cat", "less", "head", "tail", "wc", "sha256sum", "md5sum", "shred", "srm", "wipe", "sudo", "xargs", "aws", "gsutil", "s3cmd"]

    /// Whether `inVault`, which a private folder's name covers, names that folder or a path in it,
    /// rather than a note of the same name (`Notes/private` is `Notes/private.md` when there is no
    /// such folder: round 56).
    static func namesFolder(_ inVault: String, in vault: Vault, guardrails: Guardrails) -> Bool {
        let parent = (inVault as NSString).deletingLastPathComponent
        if !parent.isEmpty, Privacy.privateFolder(containing: parent + "/", guardrails: guardrails) != nil { return true }
        if let status = (try? FileSystem.status(vault.root + "/" + inVault)) ?? nil, status.kind != .file { return true }
        return ((try? FileSystem.status(vault.root + "/" + inVault + ".md")) ?? nil) == nil
    }

    /// A private folder at or under vault folder `folder` ("" for the root), when there is one:
    /// one the guardrails name, or a `Private` folder right in it.
    static func privateFolder(under folder: String, in vault: Vault, guardrails: Guardrails) -> String? {
        let prefix = folder.isEmpty ? "" : folder + "/"
        if let named = guardrails.privateFolders.first(where: { prefix.isEmpty || DiskName.fold($0).hasPrefix(DiskName.fold(prefix)) }),
           ((try? FileSystem.status(vault.root + "/" + named)) ?? nil) != nil { return named }
        let builtIn = prefix + Vault.Layout.privateFolder
        return ((try? FileSystem.status(vault.root + "/" + builtIn)) ?? nil) != nil ? builtIn : nil
    }

    /// Whether the note at `path` is one of the folder notes the OS writes (`type: readme`: the
    /// `README.md` `init` puts in each folder, `Private/` too). Named by a bare `README.md` in a
    /// task about a repository, it is none of the person's notes (round 54: every task outside
    /// `Tasks/` that said `README.md` became private).
    static func isFolderNote(_ path: String, store: NoteStore) -> Bool {
        guard path.lowercased().hasSuffix("readme.md"), let snapshot = try? store.readIfPresent(path),
              let note = try? Note.parse(bytes: snapshot.bytes) else { return false }
        return note.text("type")?.lowercased() == "readme"
    }

    /// Whether something is at vault path `path` (a note, or a symlink, judged by where it leads).
    static func isThere(_ path: String, in vault: Vault) -> Bool {
        do { return try vault.resolveWithStatus(path).status != nil } catch {
            // Through a symlink: where it leads, and whether anything is there, is for privacy to judge: a dangling
            // symlink or a loop cannot be followed, so it counts — round 56.)
            if case .symlink = error { return true }
            return false
        }
    }

    /// The vault path an absolute path or `file:` URL names, when it lies in the vault: through
    /// `~`, `$HOME`, `.`/`..`, doubled slashes, `file://localhost` and symlinks to the vault (round
    /// 53: each of these left a task naming a private note public); `nil` otherwise.
    static func vaultPath(of written: String, in vault: Vault) -> String? {
        guard let target = absolutePath(of: written) else { return nil }
        // As written first, `.`, `..` and `//` taken out by their words alone: Foundation's
        // `standardizingPath` follows symlinks on Linux, and a path through a symlink in the vault
        // that leads out of it looked like no vault path (round 56). Then through the symlinks, for
        // a vault reached through one (`~/Notes` → the vault).
        let standard = lexicallyNormalized(target)
        let resolved = RunWorkspace.realForm(standard)
        for candidate in [standard, resolved] {
            for root in Set([vault.root, lexicallyNormalized(vault.root), RunWorkspace.realForm(vault.root)]) where candidate == root || candidate.hasPrefix(root + "/") {
                return candidate == root ? "" : String(candidate.dropFirst(root.count + 1))
            }
        }
        return nil
    }

    /// `HOME`, read with `getenv`: `ProcessInfo`'s environment is a new dictionary of all of it
    /// each time, and a task of 12,000 paths asked for it for each (a quarter of its routing).
    static var homeFolder: String? { getenv("HOME").map { String(cString: $0) } }

    /// The absolute path `written` names as a shell reads it — through `file:` (`file:///x`,
    /// `file:/x`, `file://localhost/x`), `~/`, `$HOME/` and `${HOME}/` — or `nil` for a relative one.
    static func absolutePath(of written: String) -> String? {
        var target = written
        let lowered = target.lowercased()
        if lowered.hasPrefix("file://localhost/") { target = String(target.dropFirst(16)) } else if lowered.hasPrefix("file:/") {
            target = "/" + target.dropFirst(5).drop { $0 == "/" }
        }
        if let home = homeFolder, !home.isEmpty {
            for prefix in ["~/", "$HOME/", "${HOME}/"] where target.hasPrefix(prefix) {
                target = home + "/" + target.dropFirst(prefix.count)
                break
            }
        }
        return target.hasPrefix("/") ? target : nil
    }

    /// An absolute path with `.` and empty components left out and each `..` taking the one before
    /// it, by the words alone (no symlink followed).
    static func lexicallyNormalized(_ path: String) -> String {
        var kept: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { _ = kept.popLast(); continue }
            kept.append(component)
        }
        return "/" + kept.joined(separator: "/")
    }

    // MARK: Text helpers

    /// A tag as compared: without `#`, trimmed, lower-cased.
    static func normalizeTag(_ tag: String) -> String {
        var t = tag.trimmingWhitespaces()
        while t.hasPrefix("#") { t.removeFirst() }
        return t.lowercased()
    }

    /// A folder as compared: no leading `./` or `/`, no trailing `/`.
    static func normalizeFolder(_ folder: String) -> String {
        var f = folder.trimmingWhitespaces()
        while f.hasPrefix("./") { f.removeFirst(2) }
        while f.hasPrefix("/") { f.removeFirst() }
        while f.hasSuffix("/") { f.removeLast() }
        return f
    }

    private static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// A combining mark is part of a tag (`#Sante` + U+0301 is `#Santé` written decomposed, as macOS
    /// and some keyboards write it; read up to the mark, it missed `private_tags: [Santé]`).
    private static let inlineTagPattern = try! NSRegularExpression(pattern: #"(?<![\p{L}\p{N}\p{M}_/#&])#([\p{L}\p{N}\p{M}_/-]*[\p{L}_/-][\p{L}\p{N}\p{M}_/-]*)"#)
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
                if isLetter(before) || isNumber(before) || isMark(before) || before == "_" || before == "/" || before == "#" || before == "&" { continue }
            }
            var j = i + 1
            var hasNonDigit = false
            while j < scalars.count, isLetter(scalars[j]) || isNumber(scalars[j]) || isMark(scalars[j]) || scalars[j] == "_" || scalars[j] == "/" || scalars[j] == "-" {
                if !isNumber(scalars[j]) && !isMark(scalars[j]) { hasNonDigit = true }
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

    /// A tag holding combining marks read without them, and up to the first one; none when it has none.
    static func readingsWithoutMarks(_ tag: String) -> [String] {
        guard tag.unicodeScalars.contains(where: isMark) else { return [] }
        var without = String.UnicodeScalarView()
        without.append(contentsOf: tag.unicodeScalars.filter { !isMark($0) })
        var prefix = String.UnicodeScalarView()
        prefix.append(contentsOf: tag.unicodeScalars.prefix { !isMark($0) })
        // And composed first, so a mark that makes a letter (`e` + U+0301: `é`) stays in it.
        var composed = String.UnicodeScalarView()
        composed.append(contentsOf: tag.precomposedStringWithCanonicalMapping.unicodeScalars.filter { !isMark($0) })
        return [String(without), String(prefix), String(composed)]
    }

    /// `\p{M}`: a combining mark.
    private static func isMark(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
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
}

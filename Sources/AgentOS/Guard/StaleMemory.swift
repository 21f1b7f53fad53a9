import Foundation

/// The stale-memory guardrail: a write made for an agent (or by the OS) lands only on the version of
/// the note the writer read. When the note changed in between, the write never lands on it; the
/// refused version goes to a conflict note in `Memory/Conflicts/` instead, so nobody's edit is lost.
///
/// Whole-text writes are always refused on a changed note (a text merge could silently drop a
/// person's edit). Property edits are re-applied over the newer note only when the properties being
/// changed were not themselves changed by the other writer, a merge that cannot lose anything.
///
/// `write(_:to:expecting:base:store:now:guardrails:runID:)` is one `NoteStore.update`: the change is a
/// transform that decides, for the version on disk, whether it lands, is merged or is refused.
public enum StaleMemoryGuard {
    /// What a writer wants done to a note.
    public enum Change: Sendable, Equatable {
        /// Replace the whole note with this text.
        case text(String)
        /// Set and remove properties, leaving every other byte as it is.
        case properties(set: [Property], unset: [String])
    }

    /// The outcome of a guarded write.
    public enum WriteVerdict: Sendable, Equatable {
        /// The change landed. `merged` is true when it was re-applied over another writer's change.
        case written(hash: ContentHash, merged: Bool)
        /// The note already held exactly the requested content; nothing was written.
        /// `changedSinceRead`: it is not the version the writer read (its expected hash): another
        /// writer changed it since, and the writer must read it again before writing it whole.
        case unchanged(hash: ContentHash, changedSinceRead: Bool = false)
        /// The write was refused: the note is untouched and the refused version is in a conflict note.
        case conflict(Conflict)
    }

    /// A refused write and where its refused version was kept.
    public struct Conflict: Sendable, Equatable, CustomStringConvertible {
        /// The note the write was meant for.
        public let path: String
        /// The conflict note holding the refused version.
        public let conflictNotePath: String
        /// What the writer expected to find (the hash it read, or `.absent` for a new note).
        public let expected: WriteExpectation
        /// The hash on disk when the write was refused (`nil`: the note was deleted).
        public let found: ContentHash?
        /// Why the write could not land, as a phrase (`changed since it was read`, …).
        public let reason: String

        /// One line for a user or an agent: what happened and where the refused version is.
        public var description: String {
            "\(path): \(reason); not written, the refused version is in \(conflictNotePath)"
        }
    }

    /// The folder conflict notes go to.
    public static let conflictFolder = Vault.Layout.memory + "/Conflicts"

    /// Where versions read by `note show` are remembered (content-addressed by hash), so that a later
    /// `note set --expect HASH` from another process can see what changed since and merge safely.
    static let readVersionsFolder = Vault.Layout.state + "/read-versions"

    /// How long a remembered read version is kept.
    static let readVersionLifetime: TimeInterval = 7 * 24 * 3600

    /// Writes `change` to the note at `path` only if it still is what the writer read.
    ///
    /// - Parameters:
    ///   - expectation: `.hash(h)` with the hash the writer read; `.absent` to create a note that must
    ///     not exist yet; `.any` writes unguarded (only for files the OS alone owns).
    ///   - base: the bytes the writer read, when the caller kept them. Without them,
    ///     a version remembered by `remember(_:store:)` is used. Only property merges need it.
    ///   - guardrails: used to mark a conflict note private when the note it copies is private; loaded
    ///     from the vault's rules when `nil` and a conflict note is written.
    ///   - runID: the run the writer belongs to (`FBT_RUN_ID`), if any: then `RunWriteGuard` refuses,
    ///     before anything is written, a change to `approved*` or `status`, to `Rules/`, or to a note
    ///     waiting in review (checked against exactly the version on disk the write replaces).
    /// - Throws: `NoteWriteError` for a bad path or a failed disk operation, `FrontmatterError` when the
    ///   new text or the note on disk has malformed frontmatter, `RunWriteGuard.Refusal` for a change a
    ///   run may not make. A lost race is not an error: it is the `.conflict` verdict.
    /// `unread`: the refusal of a change to an existing note made without an expectation (`.any`),
    /// thrown once every other check passed — an agent's edit lands only on the version it read.
    public static func write(_ change: Change, to path: String, expecting expectation: WriteExpectation, base: [UInt8]? = nil, store: NoteStore, now: Date = Date(), guardrails: Guardrails? = nil, runID: String? = nil, hidingPrivate: String? = nil, unread: String? = nil) throws -> WriteVerdict {
        let normalized: String
        do { normalized = try Vault.normalize(path) } catch { throw NoteWriteError.path(error) }
        // Taint follows the data: what the agent of a private run writes is private. (A run the vault
        // does not know is shown no private note, so it has none to pass on; an MCP server outside
        // any run writes as `mcp:<agent>`, no run.)
        // The run's record, read once for both questions below.
        let run = runID.flatMap { id in id.hasPrefix("mcp:") ? nil : id }
        let record = run.flatMap { RunStore.known($0, vault: store.vault) }
        let madeInPrivateRun = record.map { Privacy.reason(ofRun: $0, vault: store.vault) != nil } ?? false
        var recording = ConflictRecording(expected: expectation, now: now, guardrails: guardrails)
        recording.fromPrivateRun = madeInPrivateRun
        let transform: (NoteSnapshot?) throws -> NoteChange
        var attempts = 8
        switch change {
        case .text(let text):
            transform = textChange(Array(text.utf8), expectation: expectation)
        case .properties(let updates, let removals):
            recording.properties = (updates, removals)
            transform = propertyChange(set: updates, unset: removals, base: base, expectation: expectation, path: normalized, store: store)
            attempts = 5
        }
        // A run that may not read private notes (an agent off this machine, or a run the vault does
        // not know) may not write one either: not a property, not a whole new text over its hash.
        let hidesPrivate = run.flatMap { Privacy.hidesPrivateNotes(run: $0, record: record) }
        var rules = guardrails
        // A new note beside a twin of its name (`Memory/PLAN.md` beside `Memory/Plan.md`) is refused:
        // to a caller private notes are withheld from, as a write to a private note is when the
        // twin is private (the answer does not tell it from a missing note).
        // So is one under a file (`Memory/Diary.md/x.md`): the answer named the file and the
        // vault's place on disk, and told a cloud agent a private note was there (round 126).
        // Judged after a run's own refusals, so that a write a run may not make is refused as such.
        func refuseTwin() throws {
            guard expectation == .absent, let obstacle = store.twin(of: normalized) else { return }
            if let why = hidesPrivate ?? hidingPrivate {
                if rules == nil { rules = RuleBook.load(vault: store.vault).guardrails }
                // Judged by what is on disk: a file met on the way is a note, whatever its depth.
                let isFolder = ((try? store.vault.resolveWithStatus(obstacle.path)).map { $0.1?.kind == .directory }) ?? false
                if Privacy.privateFolder(containing: normalized, guardrails: rules!) != nil || Privacy.privateFolder(containing: obstacle.path, guardrails: rules!) != nil
                    || (!isFolder && Privacy.reason(ofNoteAt: obstacle.path, store: store, guardrails: rules!) != nil) {
                    throw RunWriteGuard.Refusal(description: NoteVisibility.unseenLine(normalized, why))
                }
            }
            throw NoteTwinError(path: normalized, twin: obstacle.path, isFileOnTheWay: obstacle.isFileOnTheWay)
        }
        // A new note from an agent whose name links already open elsewhere is refused: `[[Plan]]` in
        // a person's task opens `Memory/Plan.md`, and an agent's `Notes/plan.md` left it opening
        // neither, its packet then carrying the agent's note as memory (round 126); one nearer
        // (`Tasks/Plan.md`) would open itself. The person's links are not an agent's to take. Only
        // links between notes the caller may see count: one to or from a private note is not told.
        func refuseTakingLinks() throws {
            guard expectation == .absent, let index = (try? MemoryIndex.openForReading(vault: store.vault)) ?? nil else { return }
            let visibility = (hidesPrivate ?? hidingPrivate).map { NoteVisibility(vault: store.vault, hiddenBecause: $0, isAgent: true) }
            let visible: ((String) -> Bool)? = visibility.map { seen in { seen.shows($0) } }
            guard let taken = try? index.linksTaken(byNewNoteAt: normalized, visible: visible), let first = taken.first else { return }
            let more = taken.count > 1 ? " (and \(taken.count - 1) more such \(taken.count == 2 ? "link" : "links"))" : ""
            throw RunWriteGuard.Refusal(description: "\(normalized): refused: \(first.source) links [[\(first.target)]], which opens \(first.opens)\(more); a new note of this name would change what it opens: choose another name")
        }
        // An edit without an expectation retries and then fails like any other update; one with an
        // expectation that keeps losing the race ends in a conflict note.
        let outcome = try store.update(normalized, attempts: attempts, conflicts: expectation == .any ? nil : recording) { current in
            // Checked against exactly the version the write replaces (the compare-and-swap sees to it).
            guard let runID else {
                try refuseTwin()
                return try transform(current)
            }
            try refuseFromRun(change, path: normalized, runID: runID, current: current?.bytes)
            // Another's work is not a run's to change: a task or handoff other than the run's own and
            // those it made (a cloud run rewrote a person's queued page check to name a local address).
            if let current, RunWriteGuard.isWork(current.bytes, path: normalized), !(record.map { Vault.samePath($0.taskPath, normalized) } ?? false),
               (try? Note.parse(bytes: current.bytes))?.text("created_by_run") != runID {
                throw RunWriteGuard.Refusal(description: "\(normalized): refused from within run \(runID): a run changes only its own task and the tasks and handoffs it made; this is other work")
            }
            // A note with another name on disk (a hard link) is private whatever it says, and a write
            // (a new file renamed over this name) would part it from the other name, leaving the text
            // here as a public note: no run writes one.
            if let current, let shared = Privacy.sharedFile(current.status) {
                throw RunWriteGuard.Refusal(description: hidesPrivate.map { NoteVisibility.unseenLine(normalized, $0) }
                    ?? "\(normalized): refused from within run \(runID): \(shared); a write would part it from that name and leave its text here")
            }
            if rules == nil { rules = RuleBook.load(vault: store.vault).guardrails }
            if let why = hidesPrivate, Privacy.privateFolder(containing: normalized, guardrails: rules!) != nil
                || current.map({ snapshot in (try? Note.parse(bytes: snapshot.bytes)).map { Privacy.reason(ofParsed: $0, at: normalized, store: store, guardrails: rules!) != nil } ?? true }) == true {
                // The answer a read gets: it tells a private note from a missing one no more than a read does.
                throw RunWriteGuard.Refusal(description: NoteVisibility.unseenLine(normalized, why))
            }
            try refuseTwin()
            try refuseTakingLinks()
            var result = try transform(current)
            guard case .write(var bytes) = result else {
                // An edit that changes nothing needs the hash as well: answered "wrote" with the
                // note's hash, a blind edit was told the opposite of the rule (round 124).
                if let unread, expectation == .any, current != nil { throw RunWriteGuard.Refusal(description: unread) }
                return result
            }
            if madeInPrivateRun, (try? Note.parse(bytes: bytes)).map({ Privacy.reason(note: $0, path: normalized, guardrails: rules!) }) ?? nil == nil {
                bytes = try FrontmatterEditor.apply(set: [Property("privacy", .string("private"))], to: bytes)
                result = .write(bytes)
            }
            try RunWriteGuard.checkStaysPrivate(bytes, replacing: current?.bytes, path: normalized, runID: runID, guardrails: rules!)
            // A work note pulls in what it links: a link to a private note would make it private,
            // and unreadable to this writer, exactly when that note exists and is private (it
            // linked a guessed name from its own task, then read the task back: an outside attack).
            // A link or context entry it adds must name a note it may see, private or missing alike.
            if let why = hidesPrivate ?? hidingPrivate, RunWriteGuard.isWork(bytes, path: normalized),
               let line = StaleMemoryGuard.addedUnseen(bytes, replacing: current?.bytes, vault: store.vault, hiddenBecause: why) {
                throw RunWriteGuard.Refusal(description: "\(normalized): refused from within run \(runID): \(line)")
            }
            // So does what a note says it is made from (`task`, `handoff`, `sources`), on any note:
            // naming a private note makes it private, and unreadable to this writer, exactly when
            // the name it guessed is a private note's (round 129: `sources: [divorce.md]`).
            if let why = hidesPrivate ?? hidingPrivate,
               let line = StaleMemoryGuard.addedUnseenSource(bytes, replacing: current?.bytes, vault: store.vault, hiddenBecause: why) {
                throw RunWriteGuard.Refusal(description: "\(normalized): refused: \(line)")
            }
            if let unread, expectation == .any, current != nil { throw RunWriteGuard.Refusal(description: unread) }
            return result
        }
        switch outcome {
        case .written(let hash, let replaced):
            if case .hash(let expected) = expectation { return .written(hash: hash, merged: replaced != expected) }
            return .written(hash: hash, merged: false)
        case .unchanged(let hash):
            // A property edit without an expectation reports the hash it found, as a write.
            if expectation == .any, let hash { return .written(hash: hash, merged: false) }
            // Already so on a version the writer did not read: said, with the hash (an agent given
            // the new hash without a word then wrote its whole old text over a person's new line).
            if case .hash(let expected) = expectation, let hash, hash != expected { return .unchanged(hash: hash, changedSinceRead: true) }
            return .unchanged(hash: hash ?? ContentHash(of: [UInt8]()))
        case .conflict(let conflict):
            return .conflict(conflict)
        }
    }

    /// What a caller that may not see private notes would add to a work note (`bytes` over
    /// `current`) that names a note it may not see: the links and `context` entries that are new,
    /// judged as work it makes is (`NoteVisibility.unseenInWork`). `nil` when it adds none.
    static func addedUnseen(_ bytes: [UInt8], replacing current: [UInt8]?, vault: Vault, hiddenBecause: String) -> String? {
        guard let note = try? Note.parse(bytes: bytes) else { return nil }
        let old = current.flatMap { try? Note.parse(bytes: $0) }
        let known = Set(old.map { WikiLink.links(in: $0.body).map(\.target) } ?? [])
        let added = WikiLink.links(in: note.body).map(\.target).filter { !known.contains($0) }
        let listed = Set(old?.texts("context") ?? [])
        let context = note.texts("context").filter { !listed.contains($0) }
        guard !added.isEmpty || !context.isEmpty else { return nil }
        let visibility = NoteVisibility(vault: vault, hiddenBecause: hiddenBecause, isAgent: true)
        return visibility.unseenInWork(text: added.map { "[[\($0)]]" }.joined(separator: " "), title: nil, context: context)
    }

    /// For a writer private notes are withheld from: the refusal of a note whose `task`, `handoff` or
    /// `sources` gains an entry naming a note it may not see — private or missing alike, as
    /// `addedUnseen` judges a work note's links. A web address names no note, and is let through.
    /// `nil` when it adds none.
    static func addedUnseenSource(_ bytes: [UInt8], replacing current: [UInt8]?, vault: Vault, hiddenBecause: String) -> String? {
        guard let note = try? Note.parse(bytes: bytes) else { return nil }
        let known = Set(current.flatMap { try? Note.parse(bytes: $0) }.map(Privacy.derivationLinks(of:)) ?? [])
        // Read as privacy reads them (`NoteJudgement`): a link, a Markdown link, or a bare name. A
        // web address, and a name with `:` (`doi:…`, `mailto:…`: no note Obsidian makes has one),
        // name no note.
        let added = Privacy.derivationLinks(of: note).filter { !known.contains($0) }.compactMap(WikiLink.parse).filter { !$0.target.contains(":") }
        guard !added.isEmpty else { return nil }
        let visibility = NoteVisibility(vault: vault, hiddenBecause: hiddenBecause, isAgent: true)
        let links = LinkResolver(vault: vault)
        for link in added {
            let resolution = links.resolve(link, from: nil)
            if let path = resolution.path, visibility.shown(path) != nil, resolution.judged.allSatisfy({ visibility.withholding($0) == nil }) { continue }
            return "a note named in its task, handoff or sources does not exist or is private (private notes are withheld when \(hiddenBecause))"
        }
        return nil
    }

    /// The run-write hook: what a write from within a run may not do to the note `current` (see `RunWriteGuard`).
    static func refuseFromRun(_ change: Change, path: String, runID: String, current: [UInt8]?) throws {
        try RunWriteGuard.checkPath(path, runID: runID)
        switch change {
        case .text(let text):
            try RunWriteGuard.checkText(Array(text.utf8), replacing: current, path: path, runID: runID)
        case .properties(let updates, let removals):
            try RunWriteGuard.checkProperties(set: updates, unset: removals, path: path, runID: runID)
            if let current { try RunWriteGuard.checkNotInReview(current, path: path, runID: runID) }
            // And by what the edit would leave on disk, as the OS will read it back: no key spelling
            // or quoting may turn into `approved`/`status`.
            if let edited = try? FrontmatterEditor.apply(set: updates, unset: removals, to: current ?? []) {
                try RunWriteGuard.checkText(edited, replacing: current, path: path, runID: runID)
            }
        }
    }

    /// Remembers a version of a note that was shown to a reader (an agent running `note show`), so a
    /// later property edit that names its hash can be merged safely. Failures are ignored: remembering
    /// only makes more merges possible, it is never needed for safety.
    public static func remember(_ snapshot: NoteSnapshot, store: NoteStore, now: Date = Date()) {
        let relative = readVersionsFolder + "/" + snapshot.hash.hex
        if (try? store.readIfPresent(relative)) ?? nil == nil {
            _ = try? store.replace(relative, with: snapshot.bytes)
        }
        pruneReadVersions(store: store, now: now)
    }

    /// A remembered version with this hash, if one is kept (and really has that hash).
    static func recall(_ hash: ContentHash, store: NoteStore) -> [UInt8]? {
        guard let snapshot = (try? store.readIfPresent(readVersionsFolder + "/" + hash.hex)) ?? nil else { return nil }
        return snapshot.hash == hash ? snapshot.bytes : nil
    }

    /// Removes remembered read versions older than `readVersionLifetime`.
    static func pruneReadVersions(store: NoteStore, now: Date) {
        let folder = store.vault.root + "/" + readVersionsFolder
        guard let entries = try? FileSystem.list(folder) else { return }
        let cutoff = Int64((now.timeIntervalSince1970 - readVersionLifetime) * 1_000_000_000)
        for entry in entries where entry.kind == .file {
            let file = folder + "/" + entry.name
            if let status = (try? FileSystem.status(file)) ?? nil, status.mtimeNanoseconds < cutoff {
                try? FileSystem.remove(file)
            }
        }
    }

    // MARK: - Whole text

    /// A whole-text write: lands only on the expected version (or creates a note that must be absent);
    /// identical content loses nothing, whoever wrote it first.
    static func textChange(_ bytes: [UInt8], expectation: WriteExpectation) -> (NoteSnapshot?) throws -> NoteChange {
        { current in
            // Refuse malformed frontmatter before anything is written: an agent must not break a note.
            _ = try Note.parse(bytes: bytes)
            switch expectation {
            case .any:
                return .write(bytes)
            case .absent:
                guard let current else { return .write(bytes) }
                return current.bytes == bytes ? .keep : .conflict(reason: "already exists, so it was not created", refused: bytes)
            case .hash(let expected):
                if let current, current.bytes == bytes { return .keep }
                if let current, current.hash == expected { return .write(bytes) }
                return .conflict(reason: staleReason(current), refused: bytes)
            }
        }
    }

    // MARK: - Properties

    /// A property edit: lands on the expected version, or is re-applied over a newer one when the
    /// properties it changes were left alone.
    static func propertyChange(set updates: [Property], unset removals: [String], base givenBase: [UInt8]?, expectation: WriteExpectation, path: String, store: NoteStore) -> (NoteSnapshot?) throws -> NoteChange {
        switch expectation {
        case .absent:
            // A new note with just these properties: the same rules as creating it from text.
            return { current in try textChange(try FrontmatterEditor.apply(set: updates, unset: removals, to: [UInt8]()), expectation: .absent)(current) }
        case .any:
            return { current in
                // A missing note is an error here, the one `read` reports.
                guard let current else { return .write(try FrontmatterEditor.apply(set: updates, unset: removals, to: try store.read(path).bytes)) }
                let newBytes = try FrontmatterEditor.apply(set: updates, unset: removals, to: current.bytes)
                return newBytes == current.bytes ? .keep : .write(newBytes)
            }
        case .hash(let expected):
            var base = givenBase.flatMap { ContentHash(of: $0) == expected ? $0 : nil }
            let keys = updates.map(\.key) + removals
            return { current in
                guard let current else { return .conflict(reason: staleReason(nil), refused: nil) }
                let newBytes = try FrontmatterEditor.apply(set: updates, unset: removals, to: current.bytes)
                if current.hash != expected {
                    if base == nil { base = recall(expected, store: store) }
                    if let clash = clashingKey(keys, updates: updates, base: base, current: current.bytes) {
                        return .conflict(reason: clash, refused: newBytes)
                    }
                } else if base == nil {
                    // The version expected, read here: the base for the merge check should this write lose the race.
                    base = current.bytes
                }
                return newBytes == current.bytes ? .keep : .write(newBytes)
            }
        }
    }

    /// Why re-applying the edit over `current` could lose something, or `nil` when it cannot: every
    /// property being changed still has the value it had in `base`, or already has the new value.
    static func clashingKey(_ keys: [String], updates: [Property], base: [UInt8]?, current: [UInt8]) -> String? {
        guard let base else {
            return "changed since it was read, and the version read is unknown, so a merge could lose an edit"
        }
        guard let before = try? Note.parse(bytes: base), let after = try? Note.parse(bytes: current) else {
            return "changed since it was read, and its frontmatter cannot be compared"
        }
        let wanted = Dictionary(updates.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        for key in keys where before[key] != after[key] && after[key] != wanted[key] {
            return "changed since it was read, and the other writer also changed '\(key)'"
        }
        return nil
    }

    /// The reason phrase for a note that is no longer the version read.
    static func staleReason(_ current: NoteSnapshot?) -> String {
        current == nil ? "was deleted since it was read" : "changed since it was read"
    }

    // MARK: - Conflict notes

    /// Everything needed to write a conflict note for one guarded write.
    struct ConflictContext {
        let path: String
        let expectation: WriteExpectation
        let store: NoteStore
        let now: Date
        let guardrails: Guardrails?
        var fromPrivateRun = false

        /// Writes the conflict note (never over another one) and returns the conflict.
        func record(current: NoteSnapshot?, refused: [UInt8]?, change: (set: [Property], unset: [String])?, reason: String) throws -> Conflict {
            let found = current?.hash
            var isPrivate = fromPrivateRun
            let rules = guardrails ?? RuleBook.load(vault: store.vault).guardrails
            for candidate in [current?.bytes, refused].compactMap({ $0 }) {
                if let note = try? Note.parse(bytes: candidate), Privacy.reason(note: note, path: path, guardrails: rules) != nil { isPrivate = true }
            }
            if Privacy.privateFolder(containing: path, guardrails: rules) != nil { isPrivate = true }
            // Also private when the note is derived from private work (a private run's result or handoff).
            if !isPrivate, Privacy.reason(ofNoteAt: path, store: store, guardrails: rules) != nil { isPrivate = true }

            var properties = [
                Property("type", .string("conflict")),
                Property("note", .string("[[\(StaleMemoryGuard.linkTarget(path))]]")),
                Property("expected_hash", .string(expectedText)),
                Property("found_hash", found.map { .string($0.hex) } ?? .null),
                Property("created", .datetime(LocalTime.dateTime(now))),
                Property("status", .string("open")),
            ]
            // The copy must stay as private as the note it copies, wherever conflict notes live.
            if isPrivate { properties.append(Property("privacy", .string("private"))) }
            let body = StaleMemoryGuard.conflictBody(path: path, reason: reason, expected: expectedText, found: found,
                                                     current: current, refused: refused, change: change)
            let text = try FrontmatterEditor.apply(set: properties, to: body)

            // File names are limited to 255 bytes; a long title is cut so the refused version is never lost to that.
            var title = StaleMemoryGuard.title(of: path)
            while title.utf8.count > 150 { title.removeLast() }
            let stem = title + " " + LocalTime.day(now) + " " + LocalTime.time(now).replacingOccurrences(of: ":", with: "")
            var attempt = 1
            while true {
                let name = StaleMemoryGuard.conflictFolder + "/" + stem + (attempt == 1 ? "" : " \(attempt)") + ".md"
                do {
                    try store.create(text, at: name)
                    return Conflict(path: path, conflictNotePath: name, expected: expectation, found: found, reason: reason)
                } catch let error as NoteWriteError {
                    // Another conflict in the same second: take the next free name, never overwrite.
                    guard case .conflict = error, attempt < 10_000 else { throw error }
                    attempt += 1
                }
            }
        }

        /// The expectation as the conflict note's `expected_hash` shows it.
        var expectedText: String {
            switch expectation {
            case .hash(let h): return h.hex
            case .absent: return "absent"
            case .any: return "any"
            }
        }
    }

    /// The note's title as Obsidian shows it: the file name without `.md`.
    static func title(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return name.lowercased().hasSuffix(".md") ? String(name.dropLast(3)) : name
    }

    /// The path as a wikilink target (Obsidian links Markdown notes without `.md`).
    static func linkTarget(_ path: String) -> String {
        path.lowercased().hasSuffix(".md") ? String(path.dropLast(3)) : path
    }

    /// The conflict note's body: what happened, the hashes, the refused change, a diff and the refused version.
    static func conflictBody(path: String, reason: String, expected: String, found: ContentHash?, current: NoteSnapshot?, refused: [UInt8]?, change: (set: [Property], unset: [String])?) -> String {
        let link = "[[\(linkTarget(path))]]"
        var lines = [
            "# Conflict: \(path)",
            "",
            "A write to \(link) was refused: the note \(reason). The note was left exactly as it is; the refused version is kept here. Merge what should survive into \(link) by hand, then set `status: resolved`.",
            "",
            "- expected (the version the writer read): `\(expected)`",
            "- found (on disk when the write was refused): " + (found.map { "`\($0.hex)`" } ?? "nothing, the note was deleted"),
        ]
        if let change {
            let parts = change.set.map { "set `\(FrontmatterEditor.serializeKey($0.key)): \(FrontmatterEditor.flow($0.value))`" } + change.unset.map { "remove `\($0)`" }
            lines.append("- refused change: " + parts.joined(separator: ", "))
        }
        if let refused {
            let currentText = current.map(\.text) ?? ""
            let refusedText = String(decoding: refused, as: UTF8.self)
            let diff = LineDiff.unified(old: currentText, new: refusedText, oldLabel: current == nil ? "(deleted)" : path, newLabel: "refused version")
            let diffFence = fence(for: diff)
            lines += ["", "## Difference (current note → refused version)", "", diffFence + "diff", diff, diffFence]
            let refusedFence = fence(for: refusedText)
            lines += ["", "## Refused version", "", refusedFence + "markdown", refusedText.hasSuffix("\n") ? String(refusedText.dropLast()) : refusedText, refusedFence]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A backtick fence longer than any backtick run in `text`, so the text cannot close it early.
    static func fence(for text: String) -> String {
        var longest = 0
        var run = 0
        for character in text {
            if character == "`" { run += 1; longest = max(longest, run) } else { run = 0 }
        }
        return String(repeating: "`", count: max(3, longest + 1))
    }
}

/// A line diff in the unified format (`-` old, `+` new, three lines of context), for conflict notes.
enum LineDiff {
    /// One line of a diff: in both texts, only in the old one, or only in the new one.
    enum Operation: Equatable { case same(String), removed(String), added(String) }

    /// Largest middle section (old lines × new lines) diffed exactly; beyond it the changed middle is
    /// shown as all removed then all added, which is still a correct (if longer) diff.
    static let exactLimit = 4_000_000

    /// A text's lines, without a final empty line after a trailing newline.
    static func lines(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        var result = text.components(separatedBy: "\n")
        if result.last == "" { result.removeLast() }
        return result
    }

    /// The line operations turning `old` into `new`, minimal unless the changed middle is huge.
    static func operations(old: [String], new: [String]) -> [Operation] {
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        let a = Array(old[prefix..<(old.count - suffix)])
        let b = Array(new[prefix..<(new.count - suffix)])
        var middle: [Operation] = []
        if a.count * b.count > exactLimit || a.isEmpty || b.isEmpty {
            middle = a.map(Operation.removed) + b.map(Operation.added)
        } else {
            // Longest common subsequence table, filled from the end so the walk below goes forward.
            let width = b.count + 1
            var table = [Int32](repeating: 0, count: (a.count + 1) * width)
            for i in stride(from: a.count - 1, through: 0, by: -1) {
                for j in stride(from: b.count - 1, through: 0, by: -1) {
                    table[i * width + j] = a[i] == b[j] ? table[(i + 1) * width + j + 1] + 1 : max(table[(i + 1) * width + j], table[i * width + j + 1])
                }
            }
            var i = 0, j = 0
            while i < a.count || j < b.count {
                if i < a.count, j < b.count, a[i] == b[j] {
                    middle.append(.same(a[i])); i += 1; j += 1
                } else if i < a.count, j == b.count || table[(i + 1) * width + j] >= table[i * width + j + 1] {
                    // Removals first, as diff(1) prints them.
                    middle.append(.removed(a[i])); i += 1
                } else {
                    middle.append(.added(b[j])); j += 1
                }
            }
        }
        return old[..<prefix].map(Operation.same) + middle + old[(old.count - suffix)...].map(Operation.same)
    }

    /// The unified diff of two texts, with `---`/`+++` labels and `@@` hunk headers.
    static func unified(old: String, new: String, oldLabel: String, newLabel: String, context: Int = 3) -> String {
        let ops = operations(old: lines(old), new: lines(new))
        let changed = ops.indices.filter { if case .same = ops[$0] { return false } else { return true } }
        var out = ["--- \(oldLabel)", "+++ \(newLabel)"]
        guard !changed.isEmpty else { return (out + ["(no difference)"]).joined(separator: "\n") }
        // Group changes whose context windows touch into hunks.
        var hunks: [(Int, Int)] = []
        for index in changed {
            let start = max(0, index - context), end = min(ops.count, index + context + 1)
            if let last = hunks.last, start <= last.1 { hunks[hunks.count - 1].1 = end } else { hunks.append((start, end)) }
        }
        // Line numbers where each operation starts, in the old and the new text.
        var oldLine = [Int](repeating: 0, count: ops.count + 1), newLine = oldLine
        for (k, op) in ops.enumerated() {
            let (inOld, inNew): (Int, Int)
            switch op {
            case .same: (inOld, inNew) = (1, 1)
            case .removed: (inOld, inNew) = (1, 0)
            case .added: (inOld, inNew) = (0, 1)
            }
            oldLine[k + 1] = oldLine[k] + inOld
            newLine[k + 1] = newLine[k] + inNew
        }
        for (start, end) in hunks {
            let oldCount = oldLine[end] - oldLine[start], newCount = newLine[end] - newLine[start]
            out.append("@@ -\(oldLine[start] + (oldCount == 0 ? 0 : 1)),\(oldCount) +\(newLine[start] + (newCount == 0 ? 0 : 1)),\(newCount) @@")
            for op in ops[start..<end] {
                switch op {
                case .same(let t): out.append(" " + t)
                case .removed(let t): out.append("-" + t)
                case .added(let t): out.append("+" + t)
                }
            }
        }
        return out.joined(separator: "\n")
    }
}

extension LineDiff.Operation {
    /// The line itself.
    var text: String {
        switch self {
        case .same(let t), .removed(let t), .added(let t): return t
        }
    }
}

import Foundation

/// The privacy guardrail's tests: which notes, pieces and tasks are private. Private work never
/// reaches a non-local lane; when in doubt (a note that cannot be read or parsed) a note counts as private.
///
/// Every judgement goes through `reason(path:privacy:tags:guardrails:)`: routing (`reason(for:)`), the
/// context packet (`reason(ofNoteAt:store:guardrails:)`, `reason(line:from:store:guardrails:links:)`),
/// memory matches served to agents, and the telemetry and daily writers. The documented ways a note is
/// private:
/// - `privacy:` set to anything but `public`, or `private: true`;
/// - a private tag (`private_tags`, `private` always among them) in `tags`/`tag` or written inline as
///   `#tag`, or a tag nested under one (`#private/health`);
/// - a path under a private folder (`private_folders`, `Private` always among them), compared
///   case-insensitively;
/// - being derived from private work: a result or handoff note whose `task`, `handoff` or `sources`
///   names a private note (the OS also writes `privacy: private` into such notes itself), and a work
///   note (task or handoff) that pulls in a private note, exactly as routing judges that work.
public enum Privacy {
    /// Why a note is private, or `nil` when it is not: its `privacy` says so (any value but `public`),
    /// `private: true` (pass it as `privacy: "private"`), a private tag (or a tag nested under one),
    /// or a path under a private folder. The one rule every other test here applies.
    public static func reason(path: String?, privacy: String?, tags: [String], guardrails: Guardrails) -> String? {
        // The person's private tags and folders cannot be read: every note counts as private.
        if let unreadable = guardrails.privacyErrors.first { return unreadable }
        if let privacy, privacy.trimmingWhitespaces().lowercased() != "public" { return "privacy: \(privacy)" }
        let privateTags = guardrails.privateTags.flatMap(privateTagReadings)
        for tag in tags.map(TaskFacts.normalizeTag) {
            for reading in tagReadings(tag) {
                for privateTag in privateTags where reading == privateTag || reading.hasPrefix(privateTag + "/") {
                    return "tagged #\(tag)"
                }
            }
        }
        if let path, let folder = privateFolder(containing: path, guardrails: guardrails) {
            return under(folder)
        }
        return nil
    }

    /// A tag (normalized) as it is compared with the private tags: as written and, when it is not
    /// ASCII, as it shows — compatibility forms made plain (`ＰＲＩＶＡＴＥ`, `ſecret`), characters that
    /// show nothing left out (a zero-width space, a soft hyphen, a joiner, an emoji's variation
    /// selector: `pri\u{200B}vate` shows as `private`), cases folded, and without its combining marks.
    /// Obsidian shows such a tag as the private one; read as written, it made the note public to a
    /// cloud agent (an outside attack).
    static func tagReadings(_ tag: String) -> [String] {
        guard !tag.utf8.allSatisfy({ $0 < 0x80 }) else { return [tag] }
        var readings = [tag] + TaskFacts.readingsWithoutMarks(tag)
        // A letter and its mark composed into one (`ï`, which NFKC makes of `i` + U+0308) read
        // without the mark too, as the same tag written inline with the separate mark is: the
        // property `tags: [pri\u{308}vate]` was public where `#pri\u{308}vate` was private (round 124).
        func withoutComposedMarks(_ text: String) -> [String] {
            let decomposed = text.decomposedStringWithCanonicalMapping
            guard decomposed.unicodeScalars.count != text.unicodeScalars.count else { return [] }
            return TaskFacts.readingsWithoutMarks(decomposed).prefix(1).map { $0 }
        }
        readings += withoutComposedMarks(tag)
        for source in [tag] + (undoingOverride(tag).map { [$0] } ?? []) {
            let folded = fold(source)
            readings.append(folded)
            readings += TaskFacts.readingsWithoutMarks(folded) + withoutComposedMarks(folded)
            let skeleton = latinSkeleton(folded)
            if skeleton != folded { readings += [skeleton] + TaskFacts.readingsWithoutMarks(skeleton) }
        }
        return readings
    }

    /// A private tag as compared: as written, folded, and its Latin look-alike — never cut at a
    /// mark, as a note's tag is: in a script whose letters carry marks (Hindi `निजी`), that left
    /// its first letter, and every tag beginning with it was private (round 124).
    static func privateTagReadings(_ tag: String) -> [String] {
        guard !tag.utf8.allSatisfy({ $0 < 0x80 }) else { return [tag] }
        let folded = fold(tag)
        return [tag, folded, latinSkeleton(folded)]
    }

    /// `text` as it shows: compatibility forms made plain (NFKC), characters that show nothing left
    /// out, cases folded (lower, upper, lower: `ſ` → `s`).
    static func fold(_ text: String) -> String {
        visible(text.precomposedStringWithCompatibilityMapping).lowercased().uppercased().lowercased()
    }

    /// Letters of other scripts that look like Latin ones, as the Latin ones: Cyrillic `р`, `а`,
    /// `е`, Greek `α`, `ρ`, small capitals `ᴘʀɪᴠᴀᴛᴇ` (round 124: each made `private` public).
    static func latinSkeleton(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { lookAlikes[$0] ?? $0 }))
    }

    private static let lookAlikes: [Unicode.Scalar: Unicode.Scalar] = {
        let pairs: [(String, String)] = [
            ("аеорсухіјѕԁһԛԝкԍӏ", "aeopcyxijsdhqwkgl"),            // Cyrillic
            ("αοριυνκτεχγωϲϳ", "aopiuvktexywcj"),                   // Greek
            ("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnoprstuvwyz"), // small capitals
            ("ıɑɡɩʋ", "iagiv"),                                       // Latin look-alikes
            // Letters with a bar or stroke through them, which no decomposition takes apart (round
            // 126: `prɨvate`, `privaŧe`, `ᵽrivate` were public; a combining overlay was not).
            ("ⱥƀȼđɇǥħɨɉꝁłɍŧʉɏƶᵽøɵ", "abcdeghijklrtuyzpoo"),
        ]
        var map: [Unicode.Scalar: Unicode.Scalar] = [:]
        for (from, to) in pairs {
            for (a, b) in zip(from.unicodeScalars, to.unicodeScalars) { map[a] = b }
        }
        return map
    }()

    /// `text` as a right-to-left override shows it: what follows U+202E (to U+202C, or the end)
    /// reversed — `U+202E etavirp` shows as `private`; `nil` without one.
    static func undoingOverride(_ text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard let start = scalars.firstIndex(of: "\u{202E}") else { return nil }
        let end = scalars[(start + 1)...].firstIndex(of: "\u{202C}") ?? scalars.endIndex
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[..<start])
        out.append(contentsOf: scalars[(start + 1)..<end].reversed())
        if end < scalars.endIndex { out.append(contentsOf: scalars[(end + 1)...]) }
        return String(out)
    }

    /// `text` without the characters that show nothing (`showsNothing`).
    static func visible(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { !showsNothing($0) }))
    }

    /// The words of a `tags` value written as text (`[a, "b"]`, `a b`), as a privacy judgement reads them.
    private static func tagWords(_ text: Substring) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == "[" || $0 == "]" || $0 == "\"" || $0 == "'" || $0.isWhitespace }).map(String.init)
    }

    /// A character that shows nothing in a tag: a format character (`Cf`: zero-width space and
    /// joiners, soft hyphen, direction marks, the byte-order mark) or a variation selector.
    static func showsNothing(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        // Below U+0600 the one format character is the soft hyphen (the category's lookup, for
        // every letter of a note in Latin, Greek or Cyrillic script, was 7 % of a packet's time).
        case 0..<0x0600: return scalar.value == 0x00AD || scalar.value == 0x034F
        case 0xFE00...0xFE0F, 0xE0100...0xE01EF, 0x180B...0x180F, 0x115F, 0x1160, 0x3164: return true
        default: return scalar.properties.generalCategory == .format
        }
    }

    /// Why a parsed note is private by what it says about itself (properties, tags, inline tags, path),
    /// or `nil`. Also catches a note derived from private work whose `task`/`handoff`/`sources` names a
    /// path under a private folder; notes it names elsewhere are followed by `reason(ofNoteAt:store:guardrails:)`.
    public static func reason(note: Note, path: String, guardrails: Guardrails) -> String? {
        if let own = ownReason(note: note, path: path, guardrails: guardrails) { return own }
        for link in derivationLinks(of: note) {
            guard let target = WikiLink.parse(link).flatMap({ LinkResolver.literalPath($0.target, from: path) }) else { continue }
            if let folder = privateFolder(containing: target, guardrails: guardrails) {
                return "derived from private work (\(target) is under \(folder)/)"
            }
        }
        return nil
    }

    /// The note's own properties, tags and path, without following anything it names.
    static func ownReason(note: Note, path: String, guardrails: Guardrails, depth: Int = 0) -> String? {
        var inline = TaskFacts.inlineTags(in: note.body)
        // And as the text shows: a character that shows nothing ends a tag where none shows an
        // end (`#pri` + U+00AD + `vate` shows as `#private`).
        if !note.body.utf8.allSatisfy({ $0 < 0x80 }), note.body.unicodeScalars.contains(where: showsNothing) {
            inline += TaskFacts.inlineTags(in: visible(note.body))
            // A right-to-left override shows what follows it reversed (`#` + U+202E + `etavirp`).
            if let shown = undoingOverride(note.body) {
                inline += TaskFacts.inlineTags(in: visible(shown))
            }
        }
        // A tag holding combining marks counts as written and as read without them, or up to the
        // first: `#private` + U+FE0F (an emoji's variation selector) is still `#private` (a review:
        // read with its marks, it stopped being private), `#Sante` + U+0301 is `#Santé`.
        let tags = self.tags(of: note) + inline + inline.flatMap(TaskFacts.readingsWithoutMarks)
        if let own = reason(path: path, privacy: declaredPrivacy(of: note), tags: tags, guardrails: guardrails) { return own }
        // Properties after a blank line, or after the note's first block, are none to Obsidian, but
        // a note that says `privacy: private` there means it (round 58: one went to claude as a
        // memory match; round 122: a second block, after an empty one, went to claude).
        // After a first block too (an empty one Obsidian's "Add property" left, round 122).
        // A few blocks deep: a note of thousands of blocks is not read to its end, one stack frame each.
        if let block = lateBlock(of: note) {
            guard depth < 8 else { return "more properties blocks at its start than are read (taken for private)" }
            if let late = try? Note.parse(bytes: block), late.hasFrontmatter,
               let why = ownReason(note: late, path: path, guardrails: guardrails, depth: depth + 1) { return why }
            // Read line by line too: a block YAML reads otherwise, or not at all (an alias, a `...`
            // end, a tab) kept the note public where the first block made it private (round 124).
            return lineByLineReason(block, guardrails: guardrails)
        }
        return nil
    }

    /// The properties a note writes in a block at the start of its body — after blank lines when it
    /// has no frontmatter (`\n---\nprivacy: private\n---`), right after its frontmatter or after
    /// lines that show nothing when it has — read as frontmatter; `nil` when there are none.
    static func lateFrontmatter(of note: Note) -> Note? {
        guard let block = lateBlock(of: note), let late = try? Note.parse(bytes: block), late.hasFrontmatter else { return nil }
        return late
    }

    /// The bytes of the body from a properties block's `---` on, when the body begins with one after
    /// lines that show nothing: blank ones, ones of invisible characters or no-break spaces, and
    /// whole-line comments (`%% … %%`, `<!-- … -->`), which reading view hides. Without frontmatter,
    /// a block on the note's very first line is the frontmatter, so one such line must come first.
    static func lateBlock(of note: Note) -> [UInt8]? {
        let body = Array(note.body.utf8)
        guard !body.isEmpty else { return nil }
        var offset = 0
        var skipped = 0
        // Lines by their bytes (a Swift `Character` holds a CRLF whole, and a split at "\n" missed it).
        for line in body.split(separator: 0x0A, maxSplits: 64, omittingEmptySubsequences: false) {
            let bare = visible(String(decoding: line, as: UTF8.self)).trimmingCharacters(in: .whitespacesAndNewlines)
            if bare == "---" {
                guard note.hasFrontmatter || skipped > 0 else { return nil }
                return Array(body[offset...])
            }
            let isComment = (bare.hasPrefix("%%") && bare.hasSuffix("%%") && bare.count >= 4) || (bare.hasPrefix("<!--") && bare.hasSuffix("-->"))
            guard bare.isEmpty || isComment else { return nil }
            skipped += 1
            offset = min(body.count, offset + line.count + 1)
        }
        return nil
    }

    /// Why a properties block (from its opening `---` to a closing `---` or `...`, at most 200
    /// lines) makes a note private, read line by line: `privacy:` with any value but `public`,
    /// `private:` with any value but false, a private tag among the words of `tags:`/`tag:` and of
    /// the list lines under it. Keys and words as they show (`fold`).
    static func lineByLineReason(_ block: [UInt8], guardrails: Guardrails) -> String? {
        let lines = block.split(separator: 0x0A, omittingEmptySubsequences: false).dropFirst().prefix(200)
        var inTags = false
        var words: [String] = []
        for raw in lines {
            let bare = visible(String(decoding: raw, as: UTF8.self)).trimmingCharacters(in: .whitespacesAndNewlines)
            if bare == "---" || bare == "..." { break }
            if inTags, bare.hasPrefix("-") {
                words += tagWords(bare.dropFirst())
                continue
            }
            inTags = false
            // A flow map (`{privacy: private}`, `base: &b {privacy: private}`) gives its pairs too.
            let pairs = bare.contains("{") ? bare.split(whereSeparator: { $0 == "{" || $0 == "}" || $0 == "," }).map(String.init) : [bare]
            for pair in pairs {
                guard let colon = pair.firstIndex(of: ":") else { continue }
                let key = fold(String(pair[..<colon])).trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
                let value = pair[pair.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
                switch key {
                case "privacy":
                    if !value.isEmpty, fold(value) != "public" { return "privacy: \(value) (in a later properties block)" }
                case "private":
                    if !["", "false", "no", "off"].contains(fold(value)) { return "private: \(value) (in a later properties block)" }
                case "tags", "tag":
                    inTags = true
                    words += tagWords(Substring(value))
                default: break
                }
            }
        }
        return reason(path: nil, privacy: nil, tags: words, guardrails: guardrails).map { $0 + " (in a later properties block)" }
    }

    /// Every value a note gives for any of `keys`, however the key is written (`Tags`, `TAGS`,
    /// ` privacy`) and however often it is given: a privacy judgement errs towards private, so a
    /// second `privacy: public` does not undo the first `privacy: private`, and a key's case does
    /// not hide it (Obsidian reads `Tags` as the tags).
    /// A YAML merge key (`<<: {privacy: private}`, or a list of maps) gives its map's properties
    /// too, as YAML libraries read it; whether Obsidian does or not, it counts.
    static func values(of note: Note, _ keys: Set<String>) -> [PropertyValue] {
        func given(_ properties: [Property], depth: Int) -> [PropertyValue] {
            properties.flatMap { property -> [PropertyValue] in
                let key = property.key.trimmingWhitespaces()
                if key == "<<", depth < 8 {
                    switch property.value {
                    case .map(let merged): return given(merged, depth: depth + 1)
                    case .list(let items): return items.flatMap { item -> [PropertyValue] in
                        if case .map(let merged) = item { return given(merged, depth: depth + 1) }
                        return []
                    }
                    default: return []
                    }
                }
                // A key as it shows: `ｐｒｉｖａｃｙ`, or `priva` + U+200B + `cy`, is `privacy` to a
                // person reading the note (round 124: such keys kept a private note public).
                let shown = key.utf8.allSatisfy({ $0 < 0x80 }) ? key.lowercased() : fold(key).trimmingWhitespaces()
                return keys.contains(shown) ? [property.value] : []
            }
        }
        return given(note.properties, depth: 0)
    }

    /// A note's frontmatter tags as a privacy judgement reads them: `tags` and `tag` in any case,
    /// every occurrence, a list or a text (`tags: private, health` and `tags: health private`, the
    /// older way of writing several, split at commas and spaces). A value nested deeper (`- [private]`,
    /// `[[private]]`, `- private: yes`) gives every text in it, a map's keys too: Obsidian shows such a
    /// list as its texts, and a malformed value errs towards private, as `privacy:` does (an outside
    /// attack sent a note tagged `- [private]` whole to a cloud agent).
    static func tags(of note: Note) -> [String] {
        values(of: note, ["tags", "tag"]).flatMap { everyText(in: $0) }.flatMap { text in
            text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        }
    }

    /// Every scalar text in `value`, at any depth up to `depth` (a map's keys and values, a list's
    /// items), in order.
    static func everyText(in value: PropertyValue, depth: Int = 8) -> [String] {
        switch value {
        case .list(let items): return depth > 0 ? items.flatMap { everyText(in: $0, depth: depth - 1) } : []
        case .map(let properties): return depth > 0 ? properties.flatMap { [$0.key] + everyText(in: $0.value, depth: depth - 1) } : []
        default: return value.text.map { [$0] } ?? []
        }
    }

    /// What a note's `privacy` and `private` properties declare, as the `privacy` value the rule reads:
    /// `nil` when they say nothing (or `public`). A value that is not plain text (`privacy: [private]`,
    /// `private: 1`) counts as private rather than being ignored.
    public static func declaredPrivacy(of note: Note) -> String? {
        var declared: String?
        // Every `privacy` the note gives, in any case: the first that is not `public` counts.
        for value in values(of: note, ["privacy"]) where value != .null && declared == nil {
            var said: String?
            if let text = value.text?.trimmingWhitespaces() {
                if !text.isEmpty { said = text }
            } else {
                let items = value.texts.map { $0.trimmingWhitespaces() }.filter { !$0.isEmpty }
                if case .map = value { said = "private" } else { said = items.first { $0.lowercased() != "public" } ?? items.first }
            }
            if said?.lowercased() != "public" { declared = said }
        }
        for flag in values(of: note, ["private"]) where flag != .null && flag.bool != false {
            declared = declared ?? "private"
        }
        return declared
    }

    /// The links through which a note says what it was made from: the task or handoff a result or
    /// handoff note belongs to, and the sources a result note lists.
    static func derivationLinks(of note: Note) -> [String] {
        note.texts("task") + note.texts("handoff") + note.texts("sources")
    }

    /// The private folder a path lies under, if any (compared case-insensitively, so `private/x.md`
    /// on a case-insensitive disk is caught too).
    public static func privateFolder(containing path: String, guardrails: Guardrails) -> String? {
        // While the guardrails' folders cannot be read, any folder may be one of them.
        if !guardrails.privacyErrors.isEmpty { return unreadableFolder }
        // Compared as a case-insensitive disk compares names (`Perſonal/` opens `Personal/` there).
        let folded = DiskName.fold(TaskFacts.normalizeFolder(path))
        if let folder = guardrails.privateFolders.first(where: { folder in
            let name = DiskName.fold(folder)
            return folded.hasPrefix(name + "/") || folded == name
        }) { return folder }
        // A folder named `Private` at any depth (`Journal/Private/`, `Clients/Acme/Private/`) is
        // one too: a person who makes one means it (round 47: a diary there went to claude). The
        // folders `private_folders` adds are read from the vault's root, as written.
        let builtIn = DiskName.fold(Vault.Layout.privateFolder)
        if folded.contains("/" + builtIn + "/") || folded.hasSuffix("/" + builtIn) {
            let original = TaskFacts.normalizeFolder(path).split(separator: "/", omittingEmptySubsequences: false)
            let foldedParts = folded.split(separator: "/", omittingEmptySubsequences: false)
            if original.count == foldedParts.count, let at = foldedParts.firstIndex(where: { $0 == builtIn }) {
                return original[...at].joined(separator: "/")
            }
            return Vault.Layout.privateFolder
        }
        return nil
    }

    /// What `privateFolder` answers for every path while the guardrails' private folders cannot be
    /// read (`Guardrails.privacyErrors`).
    public static let unreadableFolder = "any folder (the guardrails note cannot be read)"

    /// The reason for a note under the private folder `folder`.
    static func under(_ folder: String) -> String {
        folder == unreadableFolder ? "every note counts as private while the guardrails note cannot be read" : "under \(folder)/"
    }

    /// How a reason starts when a note is private because of another note it is made from or
    /// pulls in; the path of that note follows.
    public static let derivedReasonPrefix = "made from or pulls in private "

    /// Why the note at a vault path is private, or `nil`: its path, its own properties and tags, and
    /// what it is made from, one level deep (by those notes' own properties and paths): the `task`,
    /// `handoff` and `sources` a result or handoff note names, and — for a work note (a task or
    /// handoff) — the notes it pulls in (`context` and body links), exactly as routing judges the
    /// work itself. A note that exists but cannot be read or parsed counts as private, because its
    /// privacy cannot be checked; a missing note is judged by its path alone. `links` resolves what it
    /// names (one is made when `nil`; pass a shared one when judging many notes).
    public static func reason(ofNoteAt path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver? = nil) -> String? {
        reason(ofNoteAt: path, store: store, guardrails: guardrails, links: links, followDerivation: true)
    }

    private static func reason(ofNoteAt path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver?, followDerivation: Bool) -> String? {
        if let folder = privateFolder(containing: path, guardrails: guardrails) { return under(folder) }
        // A symlink on the way, to an attachment or a folder too, is judged by where it leads
        // (round 54: `![[Bank.png]]`, a symlink to a private picture, was public).
        if !path.lowercased().hasSuffix(".md") {
            do { _ = try store.vault.resolveWithStatus(path) } catch {
                if case .symlink = error { return symlinkReason(path, store: store, guardrails: guardrails, links: links) }
            }
            return nil
        }
        let judged: NoteJudgement
        // A note judged before, whose file is as it was then, is not read again (a burst of packets
        // judges the same linked notes over and over).
        if let status = try? store.status(path), status.kind == .file, status.linkCount <= 1,
           let settled = NoteJudgement.settled(at: path, status: status, guardrails: guardrails) {
            judged = settled
        } else {
            let readAt = FileSystem.realtimeNanoseconds()
            let snapshot: NoteSnapshot?
            do { snapshot = try store.readIfPresent(path) } catch {
                // A symlink on the way is judged by where it leads: `Work/Link.md` → `Private/Bank.md`
                // named in a task left it public, and the agent could open the link (round 53).
                if case .path(.symlink) = error { return symlinkReason(path, store: store, guardrails: guardrails, links: links) }
                if case .path = error { return nil } // the link leaves the vault: nothing is read from it
                return "cannot be read to check its privacy"
            }
            guard let snapshot else { return nil }
            if let shared = sharedFile(snapshot.status) { return shared }
            judged = NoteJudgement.of(snapshot, at: path, guardrails: guardrails, readAt: readAt)
        }
        if let own = judged.own { return own }
        if let copy = conflictReason(path, store: store, guardrails: guardrails, links: links) { return copy }
        guard followDerivation else { return nil }
        return reason(following: judged.followed, from: path, store: store, guardrails: guardrails, links: links)
    }

    /// Why a path with a symlink on the way is private: what it leads to, when that is a file of
    /// this vault reached without another symlink, is judged as that note; anything else (out of
    /// the vault, a loop, a link to a link) cannot be judged, so it is.
    static func symlinkReason(_ path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver?) -> String? {
        let vault = store.vault
        guard let written = try? Vault.normalize(path) else { return "a symlink: what it leads to cannot be judged" }
        let real = RunWorkspace.realForm(vault.root + "/" + written)
        for root in Set([vault.root, RunWorkspace.realForm(vault.root)]) where real.hasPrefix(root + "/") {
            let target = String(real.dropFirst(root.count + 1))
            guard target != written, let kind = (try? vault.resolveWithStatus(target))?.status?.kind else {
                // Nothing there (a name under a symlinked folder that holds no such note): nothing
                // to read, unless the name lies in a private folder.
                return target == written ? "a symlink that cannot be followed" : privateFolder(containing: target, guardrails: guardrails).map { "a symlink into \($0)" }
            }
            if kind == .directory { return privateFolder(containing: target + "/", guardrails: guardrails).map { "a symlink to \(target), in \($0)" } }
            guard kind == .file else { break }
            return reason(ofNoteAt: target, store: store, guardrails: guardrails, links: links).map { "a symlink to \(target), which is private (\($0))" }
        }
        return "a symlink to \(real), outside the vault or not a note: what it leads to cannot be judged"
    }

    /// Why a sync tool's conflicting copy (`SyncConflict`) at `path` is private, or `nil`: its note
    /// is — the copy is often the older text, from before the note was marked private on one machine,
    /// and judged by its own bytes it went whole into a cloud agent's packet, and to its search and
    /// reads (an outside attack) — or its note is gone, and what the copy is a version of cannot be
    /// judged. The copy's conflict note is private on the same terms (`SyncConflict.record`).
    static func conflictReason(_ path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver?) -> String? {
        guard let conflict = SyncConflict.parse(path), conflict.original != path else { return nil }
        let original = conflict.original
        guard (try? store.status(original)) ?? nil != nil else {
            return "a sync tool's conflicting copy of \(original), which is gone: its privacy cannot be checked"
        }
        guard let why = reason(ofNoteAt: original, store: store, guardrails: guardrails, links: links, followDerivation: true) else { return nil }
        return "a sync tool's conflicting copy of \(original), which is private (\(why))"
    }

    /// `reason(ofNoteAt:)` for the note at `path` as `snapshot` holds it — the bytes a caller is
    /// about to be shown, judged themselves (read once: a second read may find other bytes).
    /// `readAt`: when the snapshot was about to be read (`FileSystem.realtimeNanoseconds`).
    public static func reason(ofSnapshot snapshot: NoteSnapshot, at path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver?, readAt: Int64) -> String? {
        if let folder = privateFolder(containing: path, guardrails: guardrails) { return under(folder) }
        if let shared = sharedFile(snapshot.status) { return shared }
        let judged = NoteJudgement.of(snapshot, at: path, guardrails: guardrails, readAt: readAt)
        if let own = judged.own { return own }
        if let copy = conflictReason(path, store: store, guardrails: guardrails, links: links) { return copy }
        return reason(following: judged.followed, from: path, store: store, guardrails: guardrails, links: links)
    }

    /// Why a vault file that is not a note (`.txt`, `.markdown`, a page's part) is private by what
    /// it says, or `nil`: each reading that could show it as text (`SkillFiles.readings`: the one
    /// `SkillFiles.text` picks, and every other, decoded leniently) is judged as a note would be
    /// (`ownReason`: its properties, tags and inline tags), and one whose frontmatter does not
    /// parse cannot be judged, and is. One guess was judged before: a NUL byte, UTF-16 without a
    /// byte-order mark, a UTF-8 head before UTF-16 text or a lone surrogate hid `privacy: private`
    /// from it while a browser showed the text (rounds 145, 146).
    /// `reason(ofTextFile:)`'s answer for a file whose frontmatter does not parse.
    static let unjudgeableText = "its frontmatter does not parse, so its privacy cannot be judged"

    /// With `everyReading` false, only the reading `SkillFiles.text` picks (none for bytes it reads
    /// as no text): for a file a browser shows as no text (an image, a font, served with its type).
    static func reason(ofTextFile bytes: [UInt8], at path: String, guardrails: Guardrails, everyReading: Bool = true) -> String? {
        let readings: AnySequence<String> = everyReading ? AnySequence(SkillFiles.readings(of: bytes)) : AnySequence(SkillFiles.text(of: bytes).map { [$0] } ?? [])
        for reading in readings {
            // NULs read as line ends, as a viewer shows them.
            let lines = reading.utf8.map { $0 == 0 ? 0x0A : $0 }
            guard let note = try? Note.parse(bytes: lines) else { return unjudgeableText }
            if let why = ownReason(note: note, path: path, guardrails: guardrails) { return why }
        }
        return nil
    }

    /// Why a note file with `status` counts as private whatever it says: it has another name on disk
    /// (a hard link), which may be a private note's (`ln Private/Bank.md Memory/x.md` shows the
    /// bank note's bytes under a public path). Finding the other names would mean searching the disk
    /// by inode, so such a note is judged private (fail closed); notes are never hard-linked by
    /// Obsidian, git or the OS.
    static func sharedFile(_ status: FileStatus) -> String? {
        status.kind == .file && status.linkCount > 1 ? "it has another name on disk (a hard link), which may be a private note's" : nil
    }

    /// `reason(ofNoteAt:)` for a note the caller has already read and parsed (a packet's memory
    /// piece): the same judgement without reading the file again.
    public static func reason(ofParsed note: Note, at path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver? = nil) -> String? {
        if let folder = privateFolder(containing: path, guardrails: guardrails) { return under(folder) }
        return reason(parsed: note, at: path, store: store, guardrails: guardrails, links: links, followDerivation: true)
    }

    private static func reason(parsed note: Note, at path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver?, followDerivation: Bool) -> String? {
        let judged = NoteJudgement(note: note, at: path, guardrails: guardrails)
        if let own = judged.own { return own }
        if let copy = conflictReason(path, store: store, guardrails: guardrails, links: links) { return copy }
        guard followDerivation else { return nil }
        return reason(following: judged.followed, from: path, store: store, guardrails: guardrails, links: links)
    }

    /// Why a note is private by what it is made from or pulls in (`followed`, from `NoteJudgement`),
    /// each of those judged by its own properties and path.
    private static func reason(following followed: [(link: WikiLink, madeFrom: Bool)], from path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver?) -> String? {
        guard !followed.isEmpty else { return nil }
        let resolver = links ?? LinkResolver(vault: store.vault)
        for (link, madeFrom) in followed {
            for candidate in resolver.resolve(link, from: path).judged where candidate != path {
                // A result names the day's log among its sources when its packet held daily lines;
                // those were judged line by line (a private line never reaches a plain task's packet,
                // and a private run's result says `privacy: private` itself), so the log counts here
                // as the packet judged it: by its properties and path, not by an inline #private on
                // some other line. That also spares reading the whole log for every line that links
                // a result (the log grows by a line a run).
                let why = madeFrom && isDailyLog(candidate)
                    ? reason(ofLogAt: candidate, store: store, guardrails: guardrails)
                    : reason(ofNoteAt: candidate, store: store, guardrails: guardrails, links: resolver, followDerivation: false)
                if why != nil { return derivedReasonPrefix + candidate }
            }
        }
        return nil
    }

    /// Whether a path is a day's log the OS appends to (`Daily/2026-12-03.md`, the name
    /// `TelemetryWriter.dailyPath` gives), whose lines a packet judges one by one. Another note under
    /// `Daily/` (a journal named otherwise) is judged as any note is.
    static func isDailyLog(_ path: String) -> Bool {
        let prefix = Vault.Layout.daily.lowercased() + "/"
        let lowered = path.lowercased()
        guard lowered.hasPrefix(prefix), lowered.hasSuffix(".md") else { return false }
        let name = Array(lowered.dropFirst(prefix.count).dropLast(3).utf8)
        guard name.count == 10 else { return false }
        return name.indices.allSatisfy { i in i == 4 || i == 7 ? name[i] == UInt8(ascii: "-") : (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(name[i]) }
    }

    /// Why a day's log is private as a whole, by its properties (`privacy`, `private`, `tags`) and
    /// its path; inline tags are for its lines (`reason(line:from:store:guardrails:links:)`). A log
    /// whose frontmatter does not parse (`header` nil) counts as private.
    static func reason(ofLog header: Note?, at path: String, guardrails: Guardrails) -> String? {
        guard let header else { return "frontmatter cannot be parsed to check its privacy" }
        return reason(path: path, privacy: declaredPrivacy(of: header), tags: tags(of: header), guardrails: guardrails)
    }

    /// `reason(ofLog:at:guardrails:)` for the log at `path`, reading only its frontmatter.
    static func reason(ofLogAt path: String, store: NoteStore, guardrails: Guardrails) -> String? {
        if let folder = privateFolder(containing: path, guardrails: guardrails) { return under(folder) }
        let ends: (head: [UInt8], tail: [UInt8])?
        do { ends = try store.readEnds(path, head: frontmatterBytes, tail: 0) } catch {
            if case .path = error { return nil }
            return "cannot be read to check its privacy"
        }
        guard let ends else { return nil }
        return reason(ofLog: frontmatterOnly(ends.head), at: path, guardrails: guardrails)
    }

    /// The most of a note's start read for its frontmatter alone.
    static let frontmatterBytes = 65_536

    /// The frontmatter at the start of `bytes` as a note with an empty body (for long notes read only
    /// in part); `nil` when it does not parse or does not end within `frontmatterBytes`, and a note
    /// without properties when there is no frontmatter.
    static func frontmatterOnly(_ bytes: [UInt8]) -> Note? {
        let head = bytes.prefix(frontmatterBytes)
        // After a byte-order mark, as `Note.parse` reads it (a long day saved by a Windows editor
        // counted as public whatever its properties said: an outside attack).
        let opening = head.starts(with: [0xEF, 0xBB, 0xBF]) ? head.startIndex + 3 : head.startIndex
        guard head[opening...].starts(with: "---".utf8) else { return try? Note.parse(bytes: []) }
        // The first line after the opening one that is "---" or "..." (spaces around allowed) closes it.
        var start = head[opening...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? head.endIndex
        while start < head.endIndex {
            let end = head[start...].firstIndex(of: UInt8(ascii: "\n")) ?? head.endIndex
            let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D }
            let line = head[start..<end].drop(while: isSpace)
            if (line.starts(with: "---".utf8) || line.starts(with: "...".utf8)) && line.dropFirst(3).allSatisfy(isSpace) {
                return try? Note.parse(bytes: Array(head[..<min(end + 1, head.endIndex)]))
            }
            start = end + 1
        }
        return nil
    }

    /// Whether a note a task pulls in is private (see `reason(ofNoteAt:store:guardrails:)`).
    public static func isPrivate(linkedNote path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver? = nil) -> Bool {
        reason(ofNoteAt: path, store: store, guardrails: guardrails, links: links) != nil
    }

    /// Why one line of a shared note (a daily-log line) is private, or `nil`: it holds a private tag
    /// (`#private`, `#secret/x`…), or it links a private note (a private task, a private run's result,
    /// anything under a private folder), judging every note the link could mean (`LinkResolution.judged`).
    /// `noteReason` judges a linked note in place of `reason(ofNoteAt:)` (a caller that judges many
    /// lines keeps the verdicts: a busy day's lines link the same notes).
    public static func reason(line: String, from path: String, store: NoteStore, guardrails: Guardrails, links: LinkResolver,
                              noteReason: ((String) -> String?)? = nil) -> String? {
        if let tagged = reason(path: nil, privacy: nil, tags: TaskFacts.inlineTags(in: line), guardrails: guardrails) { return tagged }
        for link in WikiLink.links(in: line) {
            for candidate in links.resolve(link, from: path).judged {
                let why = noteReason.map { $0(candidate) } ?? reason(ofNoteAt: candidate, store: store, guardrails: guardrails, links: links)
                if let why { return "links \(candidate) (\(why))" }
            }
        }
        return nil
    }

    /// Why a command must not show private notes to its caller, or `nil` when it may: the command
    /// runs inside an agent run (`FBT_RUN_ID` is set, as the runner sets it for every agent) whose
    /// lane is not local, or whose run cannot be found (then the lane is unknown: hidden too).
    /// A courtesy guard for agents that use the CLI as they are told; an agent with shell access as
    /// the same user can still read the vault's files unless its sandbox stops it (docs/security.md).
    public static func hidesPrivateNotes(environment: [String: String], vault: Vault) -> String? {
        guard let runID = environment["FBT_RUN_ID"], !runID.isEmpty else { return nil }
        return hidesPrivateNotes(run: runID, record: RunStore.known(runID, vault: vault))
    }

    /// `hidesPrivateNotes(environment:vault:)` for run `runID`, whose record (`nil`: unknown) the
    /// caller has read already.
    static func hidesPrivateNotes(run runID: String, record: RunRecord?) -> String? {
        guard let record, let lane = record.lane.flatMap({ Lane(note: $0) }) else {
            return "called from agent run \(runID), which this vault does not know"
        }
        return lane.keepsWorkLocal ? nil : "called from agent run \(runID) on the \(lane) lane"
    }

    /// Why what an agent makes through the OS's own tools inside run `runID` (a task, a handoff) is
    /// private: the run's task is private (itself, its folder, or a private note it pulls in), or its
    /// task cannot be read to tell, or the vault does not know the run (fail closed). `nil` for a
    /// public run. Taint follows the data: a private run's agent has read private text, and a task or
    /// handoff it writes must not carry that text to an agent off this machine. The reason names the
    /// run, never its task (a private task's title is private text).
    public static func reason(ofRun runID: String, vault: Vault) -> String? {
        guard let record = RunStore.known(runID, vault: vault) else { return "made in agent run \(runID), which this vault does not know" }
        return reason(ofRun: record, vault: vault)
    }

    /// `reason(ofRun:vault:)` for a run whose record the caller has read already.
    static func reason(ofRun record: RunRecord, vault: Vault) -> String? {
        let runID = record.runID
        let made = "made in private run \(runID)"
        // A run whose agent was shown a private note through the OS's tools counts as private.
        if RunTaint.isTainted(runID, vault: vault) { return made }
        let book = RuleBook.load(vault: vault)
        if privateFolder(containing: record.taskPath, guardrails: book.guardrails) != nil { return made }
        let store = NoteStore(vault: vault)
        let snapshot: NoteSnapshot?
        do { snapshot = try store.readIfPresent(record.taskPath) } catch { return made }
        // Gone while its run goes on (renamed or moved — into `Private/`, say — by a person while
        // `fuckbigtech run`, which follows no rename, runs it): its privacy cannot be judged.
        guard let snapshot else { return [.claimed, .running].contains(record.state) ? made : nil }
        guard let note = try? Note.parse(bytes: snapshot.bytes) else { return made }
        let facts = TaskFacts.from(note: note, path: record.taskPath, vault: vault, ruleBook: book, links: LinkResolver(vault: vault))
        return reason(for: facts, guardrails: book.guardrails) == nil ? nil : made
    }

    /// Why a task is private, or `nil`: its own note (see `reason`), or any private note it pulls in.
    public static func reason(for facts: TaskFacts, guardrails: Guardrails) -> String? {
        if let own = reason(path: facts.path, privacy: facts.privacy, tags: facts.tags, guardrails: guardrails) {
            return own
        }
        if let folder = facts.privateProject {
            return "works in project folder \(folder), where a private run worked (remove its line from .agentos/private-projects once you have checked the folder)"
        }
        if !facts.privateSources.isEmpty {
            let shown = facts.privateSources.prefix(3).joined(separator: ", ")
            let more = facts.privateSources.count > 3 ? " and \(facts.privateSources.count - 3) more" : ""
            return "pulls in private \(facts.privateSources.count == 1 ? "note" : "notes") \(shown)\(more)"
        }
        return nil
    }
}

/// What judging a note's privacy needs from its bytes: the reason it is private by itself
/// (`Privacy.reason(note:path:guardrails:)`, or that its frontmatter cannot be parsed), and the notes it
/// is made from or pulls in, to be judged in turn. Kept per path for the bytes and the guardrails'
/// private tags and folders it was made for (`of(_:at:guardrails:)`): a context packet judges the
/// notes its daily lines link, and consecutive packets judge mostly the same recent task and result
/// notes, each of which was parsed again for every packet (on a burst, a tenth of the watcher's time).
/// Any other bytes, or other private tags or folders, and the note is parsed and judged anew.
struct NoteJudgement: Sendable {
    /// Why the note is private by itself, or `nil`.
    let own: String?
    /// What it is made from (`task`, `handoff`, `sources`) and, for a work note, what it pulls in.
    let followed: [(link: WikiLink, madeFrom: Bool)]

    init(note: Note, at path: String, guardrails: Guardrails) {
        own = Privacy.reason(note: note, path: path, guardrails: guardrails)
        var followed = Privacy.derivationLinks(of: note).compactMap(WikiLink.parse).map { (link: $0, madeFrom: true) }
        if TaskNote.kind(of: note, path: path) != nil { followed += TaskFacts.pulledLinks(of: note, path: path).map { ($0, false) } }
        self.followed = followed
    }

    private init(unparsable: Void) {
        own = "frontmatter cannot be parsed to check its privacy"
        followed = []
    }

    /// The judgement of the note at `path` holding `snapshot`'s bytes: the one kept for exactly these
    /// bytes and private tags and folders, or a new one (kept, replacing any other for that path).
    /// `readAt` is when the bytes were about to be read (`FileSystem.realtimeNanoseconds`); without
    /// it the judgement is kept for those bytes only, never reused by status (`settled`).
    static func of(_ snapshot: NoteSnapshot, at path: String, guardrails: Guardrails, readAt: Int64? = nil) -> NoteJudgement {
        let key = Key(hash: snapshot.hash, size: snapshot.bytes.count, privateTags: guardrails.privateTags, privateFolders: guardrails.privateFolders)
        let now = readAt ?? 0
        if let found = kept.withLock({ kept -> NoteJudgement? in
            guard var entry = kept[path], entry.key == key else { return nil }
            // The same bytes read again: under a new status (a save that changed nothing) the entry
            // answers for that status from this read on; under the same one, this later read shows
            // the status had lasted until now.
            if entry.status != snapshot.status { (entry.status, entry.judgedAt) = (snapshot.status, now) } else { entry.judgedAt = max(entry.judgedAt, now) }
            kept[path] = entry
            return entry.judgement
        }) { return found }
        let judgement = (try? Note.parse(bytes: snapshot.bytes)).map { NoteJudgement(note: $0, at: path, guardrails: guardrails) } ?? NoteJudgement(unparsable: ())
        kept.withLock { kept in
            if kept.count >= keptLimit { kept.removeAll(keepingCapacity: true) }
            kept[path] = Kept(key: key, judgement: judgement, status: snapshot.status, judgedAt: now)
        }
        return judgement
    }

    /// The judgement kept for the note at `path`, without reading it, when its file has exactly the
    /// `status` (size, times, inode, links, mode) of the bytes judged, and that status was already
    /// `settleNanoseconds` old when they were read. A write since then changes the status: its
    /// change time (`ctime`, which no call sets back) is taken from the clock at the write, so it is
    /// later than the judged one by the margin at least — the margin covers a file system's coarse
    /// times (two seconds on FAT). A note changed within the margin before it was judged is read
    /// again each time until it has settled (as git treats a "racily clean" file).
    static func settled(at path: String, status: FileStatus, guardrails: Guardrails) -> NoteJudgement? {
        kept.withLock { kept in
            guard let entry = kept[path], entry.status == status,
                  entry.key.privateTags == guardrails.privateTags, entry.key.privateFolders == guardrails.privateFolders,
                  // Compared without subtracting a file time (one far in the past would overflow).
                  status.ctimeNanoseconds <= entry.judgedAt - settleNanoseconds,
                  status.mtimeNanoseconds <= entry.judgedAt - settleNanoseconds else { return nil }
            return entry.judgement
        }
    }

    /// How old a file's last change must have been when it was judged for the judgement to be
    /// reused by its status alone (`settled`).
    static let settleNanoseconds: Int64 = 3_000_000_000

    /// What a kept judgement was made for.
    private struct Key: Equatable {
        let hash: ContentHash
        let size: Int
        let privateTags: [String]
        let privateFolders: [String]
    }

    /// At most this many notes' judgements are kept; past it they are all dropped and kept anew.
    static let keptLimit = 512

    /// A judgement kept for a path: for which bytes and guardrails, the file's status when they were
    /// read, and when they were about to be read (nanoseconds since the epoch; 0 when not known).
    private struct Kept {
        var key: Key
        var judgement: NoteJudgement
        var status: FileStatus
        var judgedAt: Int64
    }

    private static let kept = Locked<[String: Kept]>([:])

    /// How many judgements are kept.
    static var keptCount: Int { kept.withLock { $0.count } }
}

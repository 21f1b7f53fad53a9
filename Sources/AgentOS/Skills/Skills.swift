import Foundation

/// One folder of the vault's `Skills/`: an Agent Skill (`SKILL.md` with `name` and `description` in
/// its frontmatter, optional `scripts/`, `references/`, `assets/`), and the rules it breaks.
public struct Skill: Sendable, Equatable {
    /// The folder's name (what the skill is linked as).
    public let name: String
    /// The folder's absolute path.
    public let path: String
    /// The Agent Skills rules it breaks, one line each; empty for a valid skill.
    public let problems: [String]

    /// Whether harnesses may be given it.
    public var isValid: Bool { problems.isEmpty }

    /// Checks the skill in `path` against the Agent Skills format, and its privacy by `guardrails`
    /// (the vault's own private tags, folders and secret patterns).
    /// With `vault`, a file that links a private note of it keeps the skill in the vault too.
    public static func check(folder path: String, guardrails: Guardrails = .shipped, vault: Vault? = nil) -> Skill {
        let name = (path as NSString).lastPathComponent
        // A link to a private note names it (`[[Cancer diagnosis]]`): cloud harnesses would load the
        // name as an instruction, as a packet never sends it (an outside attack).
        let links = vault.map(LinkResolver.init)
        let store = vault.map(NoteStore.init)
        func linksPrivateNote(_ text: String, _ relative: String) -> Bool {
            guard let links, let store else { return false }
            let at = Vault.Layout.skills + "/" + name + "/" + relative
            return PrivateLinks.redacting(text, in: at, candidates: { found in found.map { links.resolve($0, from: at).judged } }) {
                Privacy.reason(ofNoteAt: $0, store: store, guardrails: guardrails, links: links) != nil
            }.count > 0
        }
        var problems: [String] = []
        func rulesOfName(_ value: String, _ what: String) -> [String] {
            var broken: [String] = []
            if value.isEmpty || value.count > 64 { broken.append("\(what) must be 1 to 64 characters (is \(value.count))") }
            if value.range(of: "^[a-z0-9]+(-[a-z0-9]+)*$", options: .regularExpression) == nil {
                broken.append("\(what) '\(value)' must be lowercase letters, digits and single hyphens, not starting or ending with a hyphen")
            }
            return broken
        }
        let file = path + "/SKILL.md"
        guard let (bytes, status) = try? FileSystem.read(file, limit: 1 << 20) else {
            return Skill(name: name, path: path, problems: problems + ["SKILL.md is missing (or is not a readable file)"])
        }
        let note: Note
        do { note = try Note.parse(bytes: bytes) } catch {
            return Skill(name: name, path: path, problems: problems + ["SKILL.md's frontmatter does not parse: \(error)"])
        }
        guard note.hasFrontmatter, !note.isJSONFrontmatter else {
            return Skill(name: name, path: path, problems: problems + ["SKILL.md must start with YAML frontmatter (---) holding name and description"])
        }
        if let skillName = note.text("name") {
            problems += rulesOfName(skillName, "name")
            if skillName != name { problems.append("name '\(skillName)' must equal the folder name '\(name)'") }
        } else {
            problems.append("frontmatter has no name")
        }
        let description = note.text("description")?.trimmingWhitespacesAndNewlines() ?? ""
        if description.isEmpty { problems.append("frontmatter has no description (it must be non-empty)") }
        if description.count > 1024 { problems.append("description must be at most 1,024 characters (is \(description.count))") }
        if let compatibility = note.text("compatibility"), compatibility.count > 500 {
            problems.append("compatibility must be at most 500 characters (is \(compatibility.count))")
        }
        // A skill is linked into folders cloud harnesses load as instructions: a private one, or one
        // holding a secret, stays in the vault.
        if status.linkCount > 1 { problems.append("SKILL.md has another name on disk (a hard link), which may be a private note's; it is not linked") }
        // The vault's own private tags and secret patterns, not only the built-in ones.
        let scanner = SecretScanner(extraPatterns: guardrails.secretPatterns)
        if let why = Privacy.ownReason(note: note, path: Vault.Layout.skills + "/" + name + "/SKILL.md", guardrails: guardrails) {
            problems.append("SKILL.md is private (\(why)); cloud harnesses would load it, so it is not linked")
        }
        let secrets = scanner.scan(String(decoding: bytes, as: UTF8.self))
        if !secrets.isEmpty {
            problems.append("SKILL.md holds a secret (\(SecretScanner.describe(secrets))); cloud harnesses would load it, so it is not linked")
        } else if linksPrivateNote(String(decoding: bytes, as: UTF8.self), "SKILL.md") {
            problems.append("SKILL.md links a private note; cloud harnesses would load its name, so it is not linked")
        }
        // The whole folder is linked: every other file in it is judged too. What cannot be judged —
        // a symlink (it may lead to a private note), a hard link (the other name may be one), more
        // than 200 files, one over 1 MB, one that cannot be read — keeps the skill in the vault.
        if let walker = FileManager.default.enumerator(atPath: path) {
            var looked = 0
            while let relative = walker.nextObject() as? String {
                guard relative != "SKILL.md", let status = (try? FileSystem.status(path + "/" + relative)) ?? nil else { continue }
                if status.kind == .symlink {
                    problems.append("\(relative) is a symlink; what it leads to cannot be judged, so the skill is not linked")
                    continue
                }
                guard status.kind == .file else { continue }
                looked += 1
                if looked > 200 {
                    problems.append("more than 200 files: too many to judge, so the skill is not linked")
                    break
                }
                if status.linkCount > 1 {
                    problems.append("\(relative) has another name on disk (a hard link), which may be a private note's; the skill is not linked")
                    continue
                }
                guard let other = try? FileSystem.read(path + "/" + relative, limit: 1 << 20).bytes else {
                    problems.append("\(relative) cannot be read to judge it (over 1 MB, or unreadable); the skill is not linked")
                    continue
                }
                // Text in another encoding (UTF-16 as Windows tools write it, Latin-1) is read as
                // such: judged as UTF-8 only, `privacy: private` in UTF-16 was linked (round 50).
                let text = SkillFiles.text(of: other) ?? String(decoding: other, as: UTF8.self)
                if SkillFiles.readings(of: other).contains(where: { !scanner.scan($0).isEmpty }) {
                    problems.append("\(relative) holds a secret; cloud harnesses would load the folder, so it is not linked")
                } else if linksPrivateNote(text, relative) {
                    problems.append("\(relative) links a private note; cloud harnesses would load the folder, so it is not linked")
                } else if let why = Privacy.reason(ofTextFile: other, at: Vault.Layout.skills + "/" + name + "/" + relative, guardrails: guardrails) {
                    // Every file, not only `.md` (round 48: a `.markdown` saying `privacy: private`,
                    // a `.txt` with `#private`, were linked): the harnesses read them all, in every
                    // reading that could show them as text (rounds 145, 146). A file whose
                    // frontmatter does not parse cannot be judged, and counts as private, as
                    // everywhere else (an outside attack: `privacy: private` above a `ref: *x` was
                    // linked whole into the cloud harnesses' folders while MCP withheld the note).
                    problems.append(why == Privacy.unjudgeableText
                        ? "\(relative)'s frontmatter does not parse, so its privacy cannot be judged; the skill is not linked"
                        : "\(relative) is private (\(why)); cloud harnesses would load the folder, so it is not linked")
                }
            }
        }
        return Skill(name: name, path: path, problems: problems)
    }
}

/// A folder a harness reads skills from, and the harnesses that read it.
public struct SkillFolder: Sendable, Equatable {
    /// A short name (`claude`, `agents`).
    public let name: String
    /// The folder (`~/.claude/skills`, `~/.agents/skills`).
    public let path: String
    /// Who reads it.
    public let harnesses: [Harness]

    /// Claude Code's personal skills (`~/.claude/skills`, or `$CLAUDE_CONFIG_DIR/skills`), and the
    /// shared `~/.agents/skills` that Codex reads and OpenCode reads besides its own (OpenCode also
    /// reads `~/.claude/skills`, so it sees the skills once through each; both links point to the same folder).
    public static func standard(environment: [String: String]) -> [SkillFolder] {
        let home = environment["HOME"] ?? NSHomeDirectory()
        return [
            SkillFolder(name: "claude", path: (environment["CLAUDE_CONFIG_DIR"] ?? home + "/.claude") + "/skills", harnesses: [.claude]),
            SkillFolder(name: "agents", path: home + "/.agents/skills", harnesses: [.codex, .opencode]),
        ]
    }
}

/// What one entry of a harness's skills folder is, compared with the vault's skills.
public struct SkillLink: Sendable, Equatable {
    /// Its state.
    public enum State: String, Sendable {
        /// Our link to the vault's skill: in sync.
        case linked
        /// A valid skill with no entry yet (`sync` links it).
        case missing
        /// Our link, to a skill that is gone or no longer valid (`sync` removes it).
        case stale
        /// A link with the skill's name that points somewhere else: not ours, left alone.
        case foreign
        /// A real folder or file with the skill's name: not ours, left alone.
        case occupied
    }

    /// The skill's name (the entry's name in the folder).
    public let name: String
    /// The entry's path.
    public let path: String
    /// Its state.
    public let state: State
    /// What it points to, or why it is in that state.
    public let detail: String
}

/// `skills status|sync`: the vault's `Skills/<name>/SKILL.md` linked into the folders the harnesses
/// read. Only links into this vault's `Skills/` are ours; a folder, a file or a link to anywhere else
/// is reported and never changed.
public struct SkillSync: Sendable {
    /// The vault's folder of skills.
    public static let folder = Vault.Layout.skills

    /// The vault's skills, valid or not, sorted by name.
    public let skills: [Skill]
    /// Each harness folder and what is (or should be) in it.
    public let folders: [(folder: SkillFolder, links: [SkillLink])]

    /// Whether every valid skill is linked everywhere and no stale link of ours is left.
    public var inSync: Bool { folders.allSatisfy { $0.links.allSatisfy { $0.state == .linked } } }
    /// The skills that break a rule.
    public var invalid: [Skill] { skills.filter { !$0.isValid } }

    /// Looks (changing nothing) at the vault's skills and the harness folders.
    public static func status(vault: Vault, folders: [SkillFolder]) -> SkillSync {
        let root = vault.root + "/" + folder
        // `Skills/` itself a symlink leads anywhere — into `Private/`, out of the vault — while its
        // notes are judged by the path as written: nothing in it is linked (round 48: a private
        // note was, into every cloud harness's folder), one invalid entry says why, and the links
        // made before are stale like those of a skill that is gone (below).
        let symlinked = (try? FileSystem.status(root))??.kind == .symlink
        let names = symlinked ? [] : ((try? FileSystem.list(root)) ?? []).filter { !$0.name.hasPrefix(".") && $0.kind == .directory }.map(\.name).sorted()
        let guardrails = RuleBook.load(vault: vault).guardrails
        let skills = symlinked
            ? [Skill(name: folder, path: root, problems: ["\(folder)/ is a symlink; what it leads to cannot be judged (it may be a private folder), so no skill in it is linked: make \(folder)/ a real folder"])]
            : names.map { Skill.check(folder: root + "/" + $0, guardrails: guardrails, vault: vault) }
        let report = folders.map { target -> (folder: SkillFolder, links: [SkillLink]) in
            var links: [SkillLink] = []
            for skill in skills {
                let entry = target.path + "/" + skill.name
                switch inspect(entry, vaultSkills: root) {
                case .none: if skill.isValid { links.append(SkillLink(name: skill.name, path: entry, state: .missing, detail: "not linked")) }
                case .ours(let to):
                    links.append(skill.isValid && to == skill.name
                        ? SkillLink(name: skill.name, path: entry, state: .linked, detail: skill.path)
                        : SkillLink(name: skill.name, path: entry, state: .stale, detail: skill.isValid ? "points to the vault's skill '\(to)'" : "the skill is invalid"))
                case .foreign(let to): links.append(SkillLink(name: skill.name, path: entry, state: .foreign, detail: "a link to \(to), not ours; left alone"))
                case .occupied: links.append(SkillLink(name: skill.name, path: entry, state: .occupied, detail: "a real folder or file, not ours; left alone"))
                }
            }
            // Links of ours whose skill folder is gone.
            for other in (try? FileSystem.list(target.path)) ?? [] where !names.contains(other.name) {
                let entry = target.path + "/" + other.name
                if case .ours(let to) = inspect(entry, vaultSkills: root) {
                    links.append(SkillLink(name: other.name, path: entry, state: .stale, detail: "the vault's skill '\(to)' is gone"))
                }
            }
            return (target, links.sorted { $0.name < $1.name })
        }
        return SkillSync(skills: skills, folders: report)
    }

    /// Makes the harness folders match: links the missing, removes stale links of ours, and leaves
    /// everything else alone. Returns the state after it (entries it could not change keep their state).
    public static func sync(vault: Vault, folders: [SkillFolder]) throws(SkillSyncError) -> SkillSync {
        // Stale links of ours first (one may hold the name a skill is to be linked as), then the missing.
        for (_, links) in status(vault: vault, folders: folders).folders {
            for link in links where link.state == .stale {
                guard unlink(link.path) == 0 else { throw SkillSyncError(description: "cannot remove the stale link \(link.path): \(SystemError(call: "unlink", subject: link.path, code: errno))") }
            }
        }
        let current = status(vault: vault, folders: folders)
        for (target, links) in current.folders {
            for link in links where link.state == .missing {
                guard let skill = current.skills.first(where: { $0.name == link.name }) else { continue }
                do {
                    try FileSystem.makeDirectories(target.path)
                    guard symlink(skill.path, link.path) == 0 else { throw SystemError(call: "symlink", subject: link.path, code: errno) }
                } catch { throw SkillSyncError(description: "cannot link \(link.path): \(error)") }
            }
        }
        return status(vault: vault, folders: folders)
    }

    /// What is at `entry`.
    enum Entry: Equatable {
        case none
        /// A link into the vault's `Skills/`, to the skill folder of this name.
        case ours(String)
        case foreign(String)
        case occupied
    }

    static func inspect(_ entry: String, vaultSkills: String) -> Entry {
        guard let status = try? FileSystem.status(entry) else { return .none }
        guard status.kind == .symlink else { return .occupied }
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: entry) else { return .foreign("?") }
        let parent = (target as NSString).deletingLastPathComponent
        // Ours: a link whose target's folder is this vault's Skills/ (compared resolved, so a vault
        // reached through a symlinked path is still recognised).
        if parent == vaultSkills || (parent as NSString).resolvingSymlinksInPath == (vaultSkills as NSString).resolvingSymlinksInPath {
            return .ours((target as NSString).lastPathComponent)
        }
        return .foreign(target)
    }

    /// The report as JSON (`skills status --json`).
    public var json: JSON {
        .object([
            ("in_sync", .bool(inSync)),
            ("skills", .array(skills.map { .object([("name", .string($0.name)), ("path", .string($0.path)), ("valid", .bool($0.isValid)), ("problems", .array($0.problems.map { .string($0) }))]) })),
            ("folders", .array(folders.map { entry in
                .object([
                    ("name", .string(entry.folder.name)), ("path", .string(entry.folder.path)),
                    ("harnesses", .array(entry.folder.harnesses.map { .string($0.rawValue) })),
                    ("links", .array(entry.links.map { .object([("name", .string($0.name)), ("path", .string($0.path)), ("state", .string($0.state.rawValue)), ("detail", .string($0.detail))]) })),
                ])
            })),
        ])
    }
}

/// Why `skills sync` could not change a harness folder.
public struct SkillSyncError: Error, CustomStringConvertible, Sendable {
    /// The one-line reason.
    public let description: String
}

/// How a skill's files are read as text.
enum SkillFiles {
    /// Every reading of `bytes` a reader could show as text, each to be judged: the one `text(of:)`
    /// picks, then Latin-1, UTF-8, UTF-16 of either byte order at either byte alignment, and UTF-32
    /// of either order, each decoded leniently (a unit that does not decode becomes U+FFFD and the
    /// reading goes on). One guess was judged: a UTF-8 head with `privacy: private` followed by
    /// UTF-16 text was guessed UTF-16 and judged public, and a lone surrogate made every UTF-16
    /// reading fail while a browser still showed the text (round 146).
    static func readings(of bytes: [UInt8]) -> some Sequence<String> {
        // Made one at a time, as they are judged: eight readings of a 16 MB file at once, on each
        // of the page server's connections, would be gigabytes.
        func units16(from start: Int, bigEndian: Bool) -> [UInt16] {
            stride(from: start, to: bytes.count - 1, by: 2).map { (at: Int) -> UInt16 in
                let first = UInt16(bytes[at]), second = UInt16(bytes[at + 1])
                return bigEndian ? first << 8 | second : second << 8 | first
            }
        }
        func units32(bigEndian: Bool) -> [UInt32] {
            stride(from: 0, to: bytes.count - 3, by: 4).map { (at: Int) -> UInt32 in
                var value: UInt32 = 0
                for offset in 0..<4 {
                    let byte = UInt32(bytes[at + (bigEndian ? offset : 3 - offset)])
                    value = value << 8 | byte
                }
                return value
            }
        }
        var readers: [() -> String?] = [{ text(of: bytes) }, { String(decoding: bytes, as: UTF8.self) }, { String(data: Data(bytes), encoding: .isoLatin1) }]
        for start in 0..<2 where bytes.count - start >= 2 {
            readers += [{ String(decoding: units16(from: start, bigEndian: false), as: UTF16.self) },
                        { String(decoding: units16(from: start, bigEndian: true), as: UTF16.self) }]
        }
        if bytes.count >= 4 {
            readers += [{ String(decoding: units32(bigEndian: false), as: UTF32.self) }, { String(decoding: units32(bigEndian: true), as: UTF32.self) }]
        }
        return readers.lazy.compactMap { $0() }
    }

    /// `bytes` as text: UTF-8 (with or without a byte-order mark), UTF-32 with one, UTF-16 with one or
    /// as Windows tools write mostly-ASCII text (every other byte zero), else Latin-1 when no byte
    /// is zero; `nil` for what is not text (an image).
    static func text(of bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return String(validating: bytes.dropFirst(3), as: UTF8.self) ?? String(decoding: bytes.dropFirst(3), as: UTF8.self) }
        if bytes.starts(with: [0xFF, 0xFE, 0x00, 0x00]) { return String(data: Data(bytes.dropFirst(4)), encoding: .utf32LittleEndian) }
        if bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF]) { return String(data: Data(bytes.dropFirst(4)), encoding: .utf32BigEndian) }
        if bytes.starts(with: [0xFF, 0xFE]) { return String(data: Data(bytes.dropFirst(2)), encoding: .utf16LittleEndian) }
        if bytes.starts(with: [0xFE, 0xFF]) { return String(data: Data(bytes.dropFirst(2)), encoding: .utf16BigEndian) }
        if !bytes.contains(0) { return String(validating: bytes, as: UTF8.self) ?? String(data: Data(bytes), encoding: .isoLatin1) }
        // UTF-32 without a byte-order mark: three zero bytes in every four, the same three.
        if bytes.count % 4 == 0, bytes.count >= 4 {
            let quads = bytes.count / 4
            func zeros(_ at: Int) -> Int { stride(from: at, to: bytes.count, by: 4).filter { bytes[$0] == 0 }.count }
            if zeros(1) == quads, zeros(2) == quads, zeros(3) == quads { return String(data: Data(bytes), encoding: .utf32LittleEndian) }
            if zeros(0) == quads, zeros(1) == quads, zeros(2) == quads { return String(data: Data(bytes), encoding: .utf32BigEndian) }
        }
        guard bytes.count % 2 == 0, bytes.count >= 2 else { return nil }
        let pairs = bytes.count / 2
        let zeroOdd = stride(from: 1, to: bytes.count, by: 2).filter { bytes[$0] == 0 }.count
        let zeroEven = stride(from: 0, to: bytes.count, by: 2).filter { bytes[$0] == 0 }.count
        if zeroOdd * 10 >= pairs * 9 && zeroEven * 10 < pairs { return String(data: Data(bytes), encoding: .utf16LittleEndian) }
        if zeroEven * 10 >= pairs * 9 && zeroOdd * 10 < pairs { return String(data: Data(bytes), encoding: .utf16BigEndian) }
        return nil
    }
}

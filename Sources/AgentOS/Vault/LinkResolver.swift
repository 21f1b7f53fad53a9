import Foundation

/// Where a link leads, and what privacy must judge for it.
public struct LinkResolution: Equatable, Sendable {
    /// The vault path of the file the link resolves to; `nil` when no file matches, or when several
    /// match equally near (then none is read).
    public var path: String?
    /// Every vault path privacy judges for this link: `path`, every file an ambiguous link could
    /// mean, and the link's literal path (so `[[Private/Gone]]` is private though nothing is there).
    public var judged: [String]
}

/// Where names are looked up: the vault's files (`LinkResolver`) or the memory index's tables.
protocol LinkTable {
    /// The file whose vault path, lower-cased, is `lowercasedPath` (`notes/a.md`).
    func file(lowercasedPath: String) throws -> String?
    /// The files whose name, lower-cased, is `lowercasedName` (`a.md`).
    func files(lowercasedName: String) throws -> [String]
    /// The notes with a frontmatter alias whose key (`LinkResolver.key`) is `key`.
    func notes(aliasKey: String) throws -> [String]
}

/// Resolves links to vault paths, the one way for the whole OS (index, routing, privacy, the
/// context packet), by Obsidian's rules, case-insensitively:
///
/// 1. the exact vault-relative path (`[[Notes/A]]`, `[[Notes/A.md]]`); `./` and `../` are read
///    from the linking note's folder and go no further;
/// 2. the file name (or path ending, for `[[Sub/A]]`) when one file has it;
/// 3. when several do, the one nearest the linking note — the most leading folders in common;
///    if several are equally near the link stays unresolved (nothing is read) and privacy judges
///    every one of them;
/// 4. a frontmatter alias, when one note has it (several: unresolved, all judged).
///
/// Headings and blocks (`#Part`, `#^b1`) are anchors, never part of the name (`WikiLink`).
///
/// Names come from a walk of the vault, made on first need (every file, not only notes, so an
/// attachment under `Private/` is found) and shared by the resolvers of the process while no folder
/// changed (`VaultFiles`); aliases from the memory index when it exists, checked against the walk (an
/// alias of a note since moved resolves to nothing). A resolver keeps what it first looked up: a
/// long-lived one must be told when files appear or move (`invalidate()`); only a link that finds
/// nothing, or a file that is gone, while a folder has changed since the walk makes it walk again
/// (`walksAgain`). Thread-safe.
public final class LinkResolver: @unchecked Sendable {
    /// The vault whose files links point into.
    public let vault: Vault
    /// The walk links are looked up in, and how many times it was made again (`walkAgain`).
    private let walked = Locked<(table: ResolverTable?, again: Int)>((nil, 0))

    /// The most walks made again for links that found nothing or a file that is gone, over a
    /// resolver's life: each lists
    /// again only the folders changed since (`VaultFiles.current`), and a folder that changes all
    /// the time (`Tasks/` in a burst) is not walked without end.
    static let walksAgain = 6
    /// Called (in tests) after each walk a lookup made, with how many were made again before it.
    var afterWalk: (@Sendable (_ again: Int) -> Void)?

    /// A resolver over `vault`.
    public init(vault: Vault) {
        self.vault = vault
    }

    /// Forgets the walk so the next lookup walks the vault again (call after a file is created,
    /// renamed or deleted).
    public func invalidate() {
        walked.withLock { $0 = (nil, 0) }
    }

    /// Where a link written in the note at `source` (`nil`: a bare prompt, read from the vault root) leads.
    public func resolve(_ link: WikiLink, from source: String?) -> LinkResolution {
        resolve(link.target, from: source)
    }

    /// Where a link target (the path part of a link) written in the note at `source` leads.
    public func resolve(_ target: String, from source: String?) -> LinkResolution {
        // The common case, an exact path as written, needs no walk (but for a name with another
        // extension, whose file of that very name is judged too: `resolve(_:from:in:)`).
        if !LinkResolver.hasOtherExtension(target), let exact = LinkResolver.candidates(target, from: source) {
            for candidate in exact.0 where isFile(candidate) {
                return LinkResolution(path: candidate, judged: LinkResolver.merge([candidate], LinkResolver.literalPath(target, from: source)))
            }
        }
        let table = walked.withLock { walked in
            if let table = walked.table { return table }
            let fresh = ResolverTable(files: VaultFiles.current(vault), vault: vault)
            walked.table = fresh
            afterWalk?(0)
            return fresh
        }
        let found = (try? LinkResolver.resolve(target, from: source, in: table)) ?? LinkResolution(path: nil, judged: LinkResolver.literalPath(target, from: source).map { [$0] } ?? [])
        // A link that found no file while a folder of the walk has changed since it was listed: a
        // note moved from a folder not listed yet into one listed already lies in neither listing
        // (round 135: a private note moved every 10 ms was missed by 5 of 150 tasks linking it,
        // which went to a cloud agent as public). The folders changed since are listed again and
        // the link looked up there, until it finds a file or a walk has no folder changed since
        // (what it lists is then what was on disk), at most `walksAgain` times a resolver: one
        // walk again left 2 of 150 under that churn (a move during the second walk too).
        // A file the walk found that is gone now was moved (or deleted) since its folder was
        // listed: privacy then read nothing there and called the link public (3 of 150 still went
        // out so); it is looked up again the same way.
        var answer = found
        var last = table
        while answer.path.map({ !isFile($0) }) ?? true, let again = walkAgain(after: last) {
            answer = (try? LinkResolver.resolve(target, from: source, in: again)) ?? answer
            last = again
        }
        return answer
    }

    /// A new walk, when `table` is still this resolver's walk, fewer than `walksAgain` were made
    /// again, and a folder `table` listed has changed since; `nil` otherwise.
    private func walkAgain(after table: ResolverTable) -> ResolverTable? {
        walked.withLock { walked in
            guard walked.again < LinkResolver.walksAgain, walked.table === table, table.walkChangedSinceListed() else { return nil }
            let fresh = ResolverTable(files: VaultFiles.current(vault), vault: vault)
            walked = (fresh, walked.again + 1)
            afterWalk?(walked.again)
            return fresh
        }
    }

    private func isFile(_ path: String) -> Bool {
        guard let absolute = try? vault.resolve(path), let status = try? FileSystem.status(absolute) else { return false }
        return status.kind == .file
    }

    // MARK: The rules

    /// Resolves `target` written in the note at `source` against `table` (see the type's rules).
    static func resolve(_ target: String, from source: String?, in table: some LinkTable) throws -> LinkResolution {
        let literal = literalPath(target, from: source)
        func done(_ path: String?, also: [String] = []) -> LinkResolution {
            LinkResolution(path: path, judged: merge((path.map { [$0] } ?? []) + also, literal))
        }
        guard let (candidates, relative) = candidates(target, from: source).map({ ($0.0, $0.relative) }) else { return done(nil) }
        // The files whose name (or path ending, for `Sub/A`) is `candidate`'s.
        func named(_ candidate: String) throws -> [String] {
            let lowered = candidate.lowercased()
            let name = lowered.split(separator: "/").last.map(String.init) ?? lowered
            let matches = try table.files(lowercasedName: name)
            return lowered.contains("/") ? matches.filter { $0.lowercased().hasSuffix("/" + lowered) } : matches
        }
        // The files a name matches, by exact path or else by name.
        func matching(_ candidate: String) throws -> [String] {
            if let hit = try table.file(lowercasedPath: candidate.lowercased()) { return [hit] }
            return relative ? [] : try named(candidate)
        }
        // A note named after a file (`Notes/Xray.png.md` for `![[Xray.png]]`) is opened before the
        // file, as `.md` is tried first; the file of that very name is judged with it, so a note an
        // agent names so does not make a person's task about a private image public (round 132).
        func opened(_ hit: String) throws -> LinkResolution {
            guard candidates.count == 2, hasOtherExtension(target), hit.lowercased().hasSuffix(".md") else { return done(hit) }
            return done(hit, also: try matching(candidates[1]))
        }
        for candidate in candidates {
            if let hit = try table.file(lowercasedPath: candidate.lowercased()) { return try opened(hit) }
        }
        if relative { return done(nil) }
        for candidate in candidates {
            let matches = try named(candidate)
            if matches.isEmpty { continue }
            if matches.count == 1 { return try opened(matches[0]) }
            let nearest = LinkResolver.nearest(matches, to: source)
            if nearest.count == 1 { return try opened(nearest[0]) }
            // A bare date (`[[2026-12-06]]`, as Obsidian's daily notes link a day) among the OS's
            // own day notes is the day's daily note, which Obsidian opens (the shortest path): the
            // telemetry notes and the private copies the OS writes beside it made every task linking
            // the day private once a private run had happened that day (round 62).
            if nearest.allSatisfy(Vault.Layout.isDayNote),
               let daily = nearest.first(where: { ($0 as NSString).deletingLastPathComponent == Vault.Layout.daily }) {
                return done(daily)
            }
            return done(nil, also: matches)
        }
        let aliased = try table.notes(aliasKey: key(candidates[0]))
        if aliased.isEmpty, let through = try throughLinkedFolder(candidates[0], in: table) { return done(nil, also: through) }
        return aliased.count == 1 ? done(aliased[0]) : done(nil, also: aliased)
    }

    /// Whether the last part of `path` ends in an extension other than `.md`: up to 16 characters
    /// after its last dot, without a space (`.png`, `.excalidraw`, `.001`; a dotted date's `.05`
    /// too, which costs only a look for a file of that name; not `Dr. Who`).
    static func hasOtherExtension(_ path: String) -> Bool {
        let name = path.split(separator: "/").last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        let ext = name[name.index(after: dot)...]
        return (1...16).contains(ext.count) && !ext.contains(where: { $0.isWhitespace }) && ext.lowercased() != "md"
    }

    /// `Shared/Bank.md` read through a symlink named `Shared` anywhere in the vault (the walk lists
    /// a symlink, never what is behind it): nothing is read there, privacy judges where it leads
    /// (round 54: such a link was judged nowhere). `nil` when no symlink has the first part's name.
    private static func throughLinkedFolder(_ candidate: String, in table: some LinkTable) throws -> [String]? {
        let parts = candidate.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let first = parts.first else { return nil }
        let linked = try table.files(lowercasedName: first.lowercased()).filter { !$0.lowercased().hasSuffix(".md") }
        return linked.isEmpty ? nil : linked.map { $0 + "/" + parts[1] }
    }

    /// The vault paths a target may name exactly (with `.md` added first unless written), and whether
    /// it is relative to the linking note; `nil` when it is empty or leaves the vault. (`[[setup.sh]]`
    /// opens a person's `setup.sh.md` before a script of that name: round 131, when the file was
    /// tried first, moved such links off people's notes.)
    private static func candidates(_ target: String, from source: String?) -> ([String], relative: Bool)? {
        let written = target.trimmingWhitespaces()
        let relative = written.hasPrefix("./") || written.hasPrefix("../")
        var rest = Substring(written)
        while rest.hasPrefix("/") { rest = rest.dropFirst() }
        guard !rest.isEmpty, let joined = join(relative ? folder(of: source ?? "") : "", String(rest)) else { return nil }
        return (joined.lowercased().hasSuffix(".md") ? [joined] : [joined + ".md", joined], relative)
    }

    /// The notes among `paths` nearest `source`: those sharing the most leading folders with it.
    static func nearest(_ paths: [String], to source: String?) -> [String] {
        let from = (source ?? "").lowercased()
        let scored = paths.map { ($0, sharedFolderDepth(from, $0.lowercased())) }
        let best = scored.map(\.1).max() ?? 0
        return scored.filter { $0.1 == best }.map(\.0)
    }

    /// How many leading folders two paths share.
    static func sharedFolderDepth(_ a: String, _ b: String) -> Int {
        var depth = 0
        for (x, y) in zip(a.split(separator: "/").dropLast(), b.split(separator: "/").dropLast()) {
            if x != y { break }
            depth += 1
        }
        return depth
    }

    private static func merge(_ paths: [String], _ literal: String?) -> [String] {
        var out: [String] = []
        for path in paths + (literal.map { [$0] } ?? []) where !out.contains(path) { out.append(path) }
        return out
    }

    /// A link's own path, as if it resolved exactly (`.md` added unless the name has an extension):
    /// judged by privacy even when nothing is there, so a link into `Private/` is private.
    static func literalPath(_ target: String, from source: String?) -> String? {
        let written = target.trimmingWhitespaces()
        let relative = written.hasPrefix("./") || written.hasPrefix("../")
        var rest = Substring(written)
        while rest.hasPrefix("/") { rest = rest.dropFirst() }
        guard let path = join(relative ? folder(of: source ?? "") : "", String(rest)) else { return nil }
        return path.split(separator: "/").last?.contains(".") == true ? path : path + ".md"
    }

    /// How the index stores a name a link may use: lower-cased, without `.md` or a leading `/`.
    static func key(_ target: String) -> String {
        var t = Substring(target)
        if t.lowercased().hasSuffix(".md") { t = t.dropLast(3) }
        while t.hasPrefix("/") { t = t.dropFirst() }
        return t.lowercased()
    }

    /// The folder part of a vault path (`""` at the root).
    static func folder(of path: String) -> String {
        // By bytes: a "/" is one byte in UTF-8 and never part of another character (searching by
        // characters from the end was a tenth of a packet's name lookups in a burst).
        let utf8 = path.utf8
        guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return String(Substring(utf8[..<slash]))
    }

    /// Joins a vault folder and a relative path, resolving `.` and `..` lexically; `nil` if the result
    /// would leave the vault or is empty.
    static func join(_ folder: String, _ target: String) -> String? {
        guard !target.hasPrefix("/"), !target.utf8.contains(0) else { return nil }
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
}

/// The vault's files as a walk found them, by lower-cased path and by lower-cased name, shared by
/// every resolver of a process. A file created, deleted or renamed changes its folder's
/// status-change time (`ctime`, which no tool can set back, unlike the modification time `touch -d`
/// or `rsync -t` restore), so each use first compares every folder's inode and `ctime` with those
/// `lstat` gave just before the folder was listed, and lists again only the folders that differ
/// (and the folders new under them); the others keep their listing. A folder changed within
/// `racyMargin` of its listing may have changed again within the same tick of the file system's
/// clock: its listing is never reused. (Before, every packet and route made its own walk: on the
/// 20,000-note bench vault, 100 ms for each task whose links or daily lines name a note that is not
/// an exact path; then one walk was shared until any folder changed, and a burst that changes
/// `Tasks/` at every task walked all 22,000 files again for each packet.)
final class VaultFiles: Sendable {
    /// Every file of the folders as they were at the last full build, by lower-cased path and name.
    private let base: FileMaps
    /// The folders listed again since that build, each with its own maps: a folder that changes at
    /// every task (a burst's `Tasks/`, `Results/`) is listed again for each packet, and rebuilding
    /// the whole vault's maps from the last ones copied 22,000 entries each time — 44 % of the
    /// watcher's CPU in a 1,000-task burst on the 20,000-note bench vault.
    private let overlay: [String: FileMaps]
    /// `overlay`'s folders by their lower-cased path (a path is looked up lower-cased), in order.
    private let overlayByLowerFolder: [String: [String]]
    private let overlayOrder: [String]
    /// The folders whose files in `base` no longer count: listed again, or gone.
    private let shadowed: Set<String>
    /// Every folder walked (vault-relative, "" for the root) and what its listing found.
    private let folders: [String: Folder]
    private let root: String

    /// One folder as it was listed: its inode and `ctime` just before, its files and subfolders
    /// (vault-relative), and whether its time was old enough to prove anything.
    private struct Folder: Sendable {
        let inode: UInt64
        let ctime: Int64
        let files: [String]
        let subfolders: [String]
        let trusted: Bool
    }

    /// Files by lower-cased path and by lower-cased name.
    private final class FileMaps: Sendable {
        let byPath: [String: String]
        let byName: [String: [String]]

        init<Paths: Sequence<String>>(_ paths: Paths) {
            var byPath: [String: String] = [:]
            var byName: [String: [String]] = [:]
            for path in paths {
                byPath[path.lowercased()] = path
                byName[VaultFiles.name(of: path), default: []].append(path)
            }
            self.byPath = byPath
            self.byName = byName
        }

        private init(byPath: [String: String], byName: [String: [String]]) {
            self.byPath = byPath
            self.byName = byName
        }

        /// These maps (made for the files `old`) for the files `new`: only the files added and removed
        /// are looked at. Two files whose paths differ only in case (one key, the later one kept)
        /// among them, and the maps are made whole, as `init` makes them.
        func changed(from old: [String], to new: [String]) -> FileMaps {
            let before = Set(old), after = Set(new)
            var byPath = self.byPath
            var byName = self.byName
            for path in old where !after.contains(path) {
                let key = path.lowercased()
                guard byPath[key] == path else { return FileMaps(new) }
                byPath[key] = nil
                let name = VaultFiles.name(of: path)
                byName[name]?.removeAll { $0 == path }
                // A file left of the same path but for case held that key too.
                if byName[name]?.contains(where: { $0.lowercased() == key }) == true { return FileMaps(new) }
                if byName[name]?.isEmpty == true { byName[name] = nil }
            }
            for path in new where !before.contains(path) {
                let key = path.lowercased()
                guard byPath[key] == nil else { return FileMaps(new) }
                byPath[key] = path
                byName[VaultFiles.name(of: path), default: []].append(path)
            }
            return FileMaps(byPath: byPath, byName: byName)
        }
    }

    static let racyMargin: Int64 = 100_000_000
    /// The deepest folder listed: a guard against pathological nesting, not a limit anyone meets.
    static let maxDepth = 64
    /// The most folders kept in the overlay before the maps are built again whole (each name
    /// lookup asks every overlay folder).
    static let maxOverlayFolders = 64
    private static let walks = Locked<[String: VaultFiles]>([:])

    /// The current files of `vault`: the last walk, with the folders changed since listed again.
    static func current(_ vault: Vault) -> VaultFiles {
        let last = walks.withLock { $0[vault.root] }
        let fresh = VaultFiles(vault: vault, last: last)
        if fresh !== last { walks.withLock { $0[vault.root] = fresh } }
        return fresh
    }

    /// Folders listed so far, by vault root (tests read it to see listings reused).
    static let foldersListed = Locked<[String: Int]>([:])
    /// Full builds of the maps so far, by vault root (tests read it to see the overlay used).
    static let fullBuilds = Locked<[String: Int]>([:])

    private init(root: String, folders: [String: Folder], base: FileMaps, overlay: [String: FileMaps], shadowed: Set<String>) {
        self.root = root
        self.folders = folders
        self.base = base
        self.overlay = overlay
        self.shadowed = shadowed
        overlayOrder = overlay.keys.sorted()
        var byLower: [String: [String]] = [:]
        for folder in overlayOrder { byLower[folder.lowercased(), default: []].append(folder) }
        overlayByLowerFolder = byLower
    }

    /// Whether a folder this walk listed (or kept from the last) has another inode or `ctime` now,
    /// or is gone: a file was created, removed or renamed in it since.
    func changedSinceListed() -> Bool {
        folders.contains { relative, folder in
            guard let identity = FileSystem.identity(relative.isEmpty ? root : root + "/" + relative) else { return true }
            return identity.inode != folder.inode || identity.changeNanoseconds != folder.ctime
        }
    }

    /// The file whose lower-cased vault path is `lowercasedPath`.
    func file(lowercasedPath: String) -> String? {
        if !overlay.isEmpty {
            for folder in overlayByLowerFolder[LinkResolver.folder(of: lowercasedPath)] ?? [] {
                if let hit = overlay[folder]?.byPath[lowercasedPath] { return hit }
            }
        }
        guard let hit = base.byPath[lowercasedPath] else { return nil }
        return shadowed.isEmpty || !shadowed.contains(LinkResolver.folder(of: hit)) ? hit : nil
    }

    /// The files whose lower-cased name is `lowercasedName`.
    func files(lowercasedName: String) -> [String] {
        var found = base.byName[lowercasedName] ?? []
        if !shadowed.isEmpty { found.removeAll { shadowed.contains(LinkResolver.folder(of: $0)) } }
        for folder in overlayOrder { found += overlay[folder]?.byName[lowercasedName] ?? [] }
        return found
    }

    /// A walk of `vault` that lists only the folders whose inode or `ctime` differ from `last`'s
    /// (every folder when there is no `last`); `last` itself when nothing changed. The folders
    /// listed again join the overlay; the maps are built whole again only when the overlay holds
    /// more files than the base (or more than `maxOverlayFolders` folders), so a folder changing at
    /// every task costs its own listing, not the vault's: a whole build then costs at most about
    /// twice the listings that forced it, and the maps at most twice the vault's files. (At a
    /// quarter, a vault whose `Tasks/` and `Results/` held 2,600 notes each of 22,000 was built
    /// whole for nearly every packet of a burst: a quarter of the watcher's time, 17 tasks/s.)
    private convenience init(vault: Vault, last: VaultFiles?) {
        let root = vault.root
        let started = FileSystem.realtimeNanoseconds()
        var folders: [String: Folder] = [:]
        var relisted: [String] = []
        var pending: [(relative: String, depth: Int)] = [("", 0)]
        while let (relative, depth) = pending.popLast() {
            let absolute = relative.isEmpty ? root : root + "/" + relative
            guard let identity = FileSystem.identity(absolute) else { continue }
            let folder: Folder
            if let known = last?.folders[relative], known.trusted, known.inode == identity.inode, known.ctime == identity.changeNanoseconds {
                folder = known
            } else {
                folder = VaultFiles.list(vault, relative, inode: identity.inode, ctime: identity.changeNanoseconds, started: started)
                relisted.append(relative)
            }
            folders[relative] = folder
            if depth < VaultFiles.maxDepth { pending += folder.subfolders.map { ($0, depth + 1) } }
        }
        if let last, relisted.isEmpty, folders.count == last.folders.count {
            self.init(root: root, folders: last.folders, base: last.base, overlay: last.overlay, shadowed: last.shadowed)
            return
        }
        if let last {
            var overlay = last.overlay
            var shadowed = last.shadowed
            for relative in last.folders.keys where folders[relative] == nil {
                overlay[relative] = nil
                shadowed.insert(relative)
            }
            for relative in relisted {
                let files = folders[relative]?.files ?? []
                // Listed again with the same files (a note written by temp file and rename changes
                // its folder's time): the maps already made for them serve.
                if let previous = last.overlay[relative], let before = last.folders[relative]?.files {
                    // The maps made for its files before, with the files added and removed since: a
                    // burst's `Tasks/` and `Results/` gain a file a task, and making their maps whole
                    // again for every packet was a sixth of the watcher's time in a 1,000-task burst.
                    overlay[relative] = before == files ? previous : previous.changed(from: before, to: files)
                } else {
                    overlay[relative] = FileMaps(files)
                }
                shadowed.insert(relative)
            }
            let overlayFiles = overlay.values.reduce(0) { $0 + $1.byPath.count }
            if overlay.count <= VaultFiles.maxOverlayFolders, overlayFiles <= max(last.base.byPath.count, 4_096) {
                self.init(root: root, folders: folders, base: last.base, overlay: overlay, shadowed: shadowed)
                return
            }
        }
        VaultFiles.fullBuilds.withLock { $0[root, default: 0] += 1 }
        self.init(root: root, folders: folders, base: FileMaps(folders.keys.sorted().lazy.flatMap { folders[$0]?.files ?? [] }), overlay: [:], shadowed: [])
    }

    /// A file's name, lower-cased: what a link without a folder matches.
    fileprivate static func name(of path: String) -> String {
        (path.split(separator: "/").last.map(String.init) ?? path).lowercased()
    }

    /// One folder's files and subfolders (`VaultWalker.entries`), with the time it was listed by.
    private static func list(_ vault: Vault, _ relative: String, inode: UInt64, ctime: Int64, started: Int64) -> Folder {
        foldersListed.withLock { $0[vault.root, default: 0] += 1 }
        let entries = VaultWalker.entries(of: vault, folder: relative)
        // A folder that could not be listed is listed again next time (it may become readable).
        let trusted = entries != nil && ctime < started - racyMargin
        return Folder(inode: inode, ctime: ctime, files: entries?.files ?? [], subfolders: entries?.subfolders ?? [], trusted: trusted)
    }
}

/// What one resolver looks links up in: the shared walk of the vault's files, and the aliases of the
/// memory index, each alias read once per resolver (an alias can change without any folder changing).
private final class ResolverTable: LinkTable, @unchecked Sendable {
    private let files: VaultFiles
    private let vault: Vault
    /// The index, opened for the first alias asked (`.some(nil)`: there is none), its aliases whose
    /// keys are not plain ASCII (read once, when first needed), and each alias's notes.
    private let aliases = Locked<(index: MemoryIndex??, beyondASCII: [IndexedAlias]?, byKey: [String: [String]])>((nil, nil, [:]))

    init(files: VaultFiles, vault: Vault) {
        self.files = files
        self.vault = vault
    }

    func file(lowercasedPath: String) -> String? { files.file(lowercasedPath: lowercasedPath) }

    /// Whether a folder of the walk changed since it was listed (`VaultFiles.changedSinceListed`).
    func walkChangedSinceListed() -> Bool { files.changedSinceListed() }

    func files(lowercasedName: String) -> [String] { files.files(lowercasedName: lowercasedName) }

    /// The notes whose alias key is canonically `aliasKey` (Swift's `==`: `Café` typed composed or
    /// not, marks in any order), as the resolver has always matched them; the index compares bytes.
    func notes(aliasKey: String) -> [String] {
        aliases.withLock { aliases in
            if let known = aliases.byKey[aliasKey] { return known }
            // Asked only when a link names no file: most links never get here. The one alias, by the
            // index's key: every alias of the vault read at once cost a sixth of a packet when each
            // task of a burst made its own resolver (20,000-note bench vault).
            if aliases.index == nil { aliases.index = .some((try? MemoryIndex.openForReading(vault: vault)) ?? nil) }
            guard let index = aliases.index ?? nil else {
                aliases.byKey[aliasKey] = []
                return []
            }
            // A key equal to this one is its bytes, its NFC or its NFD when plain ASCII (an ASCII text
            // is both forms), or else among the keys beyond ASCII, compared here (round 133: asked by
            // bytes alone, `[[Café Plan]]` typed decomposed missed a private note's alias, and a task
            // about it went to a cloud agent).
            let rows = (try? index.aliases(equalTo: aliasKey) {
                if aliases.beyondASCII == nil { aliases.beyondASCII = (try? index.aliasesBeyondASCII()) ?? [] }
                return aliases.beyondASCII ?? []
            }) ?? []
            var found: [String] = []
            for alias in rows {
                if let file = files.file(lowercasedPath: alias.path.lowercased()) { found.append(file) }
            }
            aliases.byKey[aliasKey] = found
            return found
        }
    }
}

/// An alias of the memory index: its row, its key (`LinkResolver.key`) and its note's path.
struct IndexedAlias: Sendable {
    let row: Int64
    let key: String
    let path: String

    /// The characters whose canonical decomposition is plain ASCII (GREEK QUESTION MARK is `;`,
    /// GREEK VARIA is `` ` ``, KELVIN SIGN is `K`): a key beyond ASCII can equal an ASCII key only
    /// through them (`LinkResolverTests.everyCharacterThatIsCanonicallyASCIIIsATwin` checks every scalar).
    static let asciiTwins: Set<Character> = [";", "`", "K"]

    /// Whether a key canonically equal to `key` may hold a character beyond ASCII: `key` does, or
    /// holds a character with such a twin.
    static func mayEqualBeyondASCII(_ key: String) -> Bool {
        !key.utf8.allSatisfy { $0 < 0x80 } || key.contains(where: asciiTwins.contains)
    }
}

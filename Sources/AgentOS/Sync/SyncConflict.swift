import Foundation

/// A conflicting copy a file-sync tool left beside a note, and the conflict note that surfaces it.
///
/// File sync keeps both versions when two machines changed a note between syncs, under a name that
/// says so:
/// - Syncthing: `Note.sync-conflict-20261203-073000-ABCDEFG.md`
/// - Dropbox: `Note (conflicted copy).md`, `Note (Ana's conflicted copy 2026-12-03).md`
/// - Obsidian Sync, in its "create conflict file" mode: `Note (Conflicted copy …).md`
/// - Nextcloud and ownCloud (2.5 on): `Note (conflicted copy 2026-12-03 073000).md`; older
///   ownCloud clients: `Note_conflict-20261203-073000.md`
/// - Seafile: `Note (SFConflict ana@example.com 2026-12-03-07-30-00).md`
///
/// A tool whose names are not these (OneDrive's `Note-LAPTOP.md`, iCloud's `Note 2.md`) cannot be
/// told from a note a person named so; its rename of a running task is followed as the task
/// moving, and the other machine's version saved at the name is judged as an old copy of it
/// (`TaskEngine.oldCopy`).
///
/// The watcher writes one conflict note per copy in `Memory/Conflicts/` (where the stale-memory
/// guardrail keeps its conflict notes too) linking both versions, and never runs a copy as work.
public struct SyncConflict: Sendable, Equatable {
    /// The conflicting copy (vault-relative).
    public let copy: String
    /// The note it is a version of (vault-relative; it may be gone).
    public let original: String
    /// The tool whose naming the copy follows: `syncthing`, `dropbox`, `obsidian-sync`,
    /// `nextcloud` (ownCloud's names too) or `seafile`.
    public let tool: String

    /// The conflict a path names, or `nil` when it is not a sync tool's conflicting copy. Only
    /// Markdown notes count, and never a conflict note of ours (`Memory/Conflicts/`).
    public static func parse(_ path: String) -> SyncConflict? {
        guard path.lowercased().hasSuffix(".md"), !path.hasPrefix(StaleMemoryGuard.conflictFolder + "/") else { return nil }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = String(path[(slash.map { path.index(after: $0) } ?? path.startIndex)...].dropLast(3))
        // Syncthing: `<stem>.sync-conflict-YYYYMMDD-HHMMSS-<7 characters of the device id>`.
        if let range = name.range(of: ".sync-conflict-", options: .backwards) {
            let tail = name[range.upperBound...]
            let parts = tail.split(separator: "-", omittingEmptySubsequences: false)
            if parts.count == 3, parts[0].count == 8, parts[1].count == 6, parts[0].allSatisfy(\.isNumber), parts[1].allSatisfy(\.isNumber),
               !parts[2].isEmpty, range.lowerBound > name.startIndex {
                return SyncConflict(copy: path, original: folder + name[..<range.lowerBound] + ".md", tool: "syncthing")
            }
        }
        // Dropbox and Obsidian Sync: `<stem> (… conflicted copy …)` at the end of the name (Dropbox
        // may add ` (1)` inside it for a second copy of the same day).
        if name.hasSuffix(")"), let hit = name.range(of: "conflicted copy", options: [.caseInsensitive, .backwards]),
           let open = name[..<hit.lowerBound].range(of: " (", options: .backwards), open.lowerBound > name.startIndex,
           !name[open.upperBound..<hit.lowerBound].contains(")") {
            // Obsidian Sync writes "(Conflicted copy …"; Nextcloud "(conflicted copy 2026-12-03 073000)";
            // Dropbox "(conflicted copy" or "(Name's conflicted copy".
            let first = open.upperBound == hit.lowerBound
            let tool = first && name[hit].hasPrefix("C") ? "obsidian-sync" : first && SyncConflict.isStamp(name[hit.upperBound...].dropLast(), "0000-00-00 000000") ? "nextcloud" : "dropbox"
            return SyncConflict(copy: path, original: folder + name[..<open.lowerBound] + ".md", tool: tool)
        }
        // Seafile: `<stem> (SFConflict <author> YYYY-MM-DD-HH-MM-SS)`.
        if name.hasSuffix(")"), let open = name.range(of: " (SFConflict ", options: .backwards), open.lowerBound > name.startIndex,
           !name[open.upperBound...].dropLast().contains(")") {
            return SyncConflict(copy: path, original: folder + name[..<open.lowerBound] + ".md", tool: "seafile")
        }
        // ownCloud and older Nextcloud clients: `<stem>_conflict-YYYYMMDD-HHMMSS`.
        if let range = name.range(of: "_conflict-", options: .backwards), range.lowerBound > name.startIndex,
           SyncConflict.isStamp(name[range.upperBound...], "00000000-000000") {
            return SyncConflict(copy: path, original: folder + name[..<range.lowerBound] + ".md", tool: "nextcloud")
        }
        return nil
    }

    /// Whether `text` is `pattern` with each `0` a digit (after one leading space when the pattern
    /// begins with a digit and the text with a space).
    static func isStamp(_ text: Substring, _ pattern: String) -> Bool {
        let text = text.hasPrefix(" ") ? text.dropFirst() : text
        guard text.count == pattern.count else { return false }
        return zip(text, pattern).allSatisfy { $1 == "0" ? $0.isASCII && $0.isNumber : $0 == $1 }
    }

    /// The tool's name as people write it.
    public var toolName: String {
        switch tool {
        case "syncthing": return "Syncthing"
        case "dropbox": return "Dropbox"
        case "nextcloud": return "Nextcloud (or ownCloud)"
        case "seafile": return "Seafile"
        default: return "Obsidian Sync"
        }
    }

    /// Whether `path` is a sync tool's conflicting copy (never work, whatever it says).
    public static func isCopy(_ path: String) -> Bool { parse(path) != nil }

    /// The conflict note for this copy: one per copy, named from the copy's path so every machine
    /// (and every restart) finds the same one instead of writing another.
    public var notePath: String {
        var title = StaleMemoryGuard.title(of: original)
        // File names are limited to 255 bytes.
        while title.utf8.count > 150 { title.removeLast() }
        let id = String(ContentHash(of: Array(copy.utf8)).hex.prefix(8))
        return StaleMemoryGuard.conflictFolder + "/" + title + " sync conflict " + id + ".md"
    }

    /// Writes the conflict note unless it exists; returns its path when this call wrote it.
    /// The note is private when either version is (it names both).
    @discardableResult
    public func record(store: NoteStore, guardrails: Guardrails, now: Date = Date()) throws -> String? {
        if try store.readIfPresent(notePath) != nil { return nil }
        let isPrivate = [copy, original].contains { Privacy.reason(ofNoteAt: $0, store: store, guardrails: guardrails) != nil }
        let originalLink = "[[\(StaleMemoryGuard.linkTarget(original))]]"
        let copyLink = "[[\(StaleMemoryGuard.linkTarget(copy))]]"
        var properties = [
            Property("type", .string("conflict")),
            Property("note", .string(originalLink)),
            Property("copy", .string(copyLink)),
            Property("sync_tool", .string(tool)),
            Property("created", .datetime(LocalTime.dateTime(now))),
            Property("status", .string("open")),
        ]
        if isPrivate { properties.append(Property("privacy", .string("private"))) }
        let exists = (try? store.readIfPresent(original)) ?? nil != nil
        let body = """
        # Sync conflict: \(StaleMemoryGuard.title(of: original))

        \(toolName) kept two versions of \(originalLink)\(exists ? "" : " (the note itself is gone)"): the note and the conflicting copy \(copyLink).
        Compare them, keep what you want in the note, then delete the copy and set `status: resolved` here.

        The OS never runs a task or handoff from a conflicting copy.

        """
        let text = try FrontmatterEditor.apply(set: properties, to: Array(body.utf8))
        do {
            _ = try store.create(text, at: notePath)
        } catch let error as NoteWriteError {
            // Another watcher (or a synced machine) wrote it first: nothing to add.
            if case .conflict = error { return nil }
            throw error
        }
        return notePath
    }
}

extension SyncConflict {
    /// Fragments every conflicting copy's path contains, lower-cased (to find them in the index).
    static let pathFragments = [".sync-conflict-", "conflicted copy", "(sfconflict ", "_conflict-"]

    /// Writes the conflict note for `path` when it is a conflicting copy without one, and says so in
    /// `log`. Returns whether `path` is a copy. Never throws: a failure is a warning, the copy stays.
    @discardableResult
    public static func surface(_ path: String, store: NoteStore, guardrails: @autoclosure () -> Guardrails, log: (EngineEvent) -> Void) -> Bool {
        guard let conflict = parse(path) else { return false }
        do {
            if let note = try conflict.record(store: store, guardrails: guardrails()) {
                log(EngineEvent(level: .warning, message: "\(path): a \(conflict.toolName) conflicting copy of \(conflict.original); it never runs; compare them in \(note)"))
            }
        } catch {
            log(EngineEvent(level: .warning, message: "\(path): a \(conflict.toolName) conflicting copy; cannot write its conflict note: \(error)"))
        }
        return true
    }

    /// Surfaces every conflicting copy the index knows (the watcher's start, after reconciling).
    public static func surfaceAll(index: MemoryIndex, store: NoteStore, guardrails: Guardrails, log: (EngineEvent) -> Void) {
        for path in ((try? index.paths(containingAny: pathFragments)) ?? []).sorted() {
            surface(path, store: store, guardrails: guardrails, log: log)
        }
    }
}

/// Merge-conflict markers a `git merge` (or `pull`) left in a note: such a note holds two versions
/// at once, so a task or handoff in that state is never run; it gets a conflict note instead.
extension SyncConflict {
    /// Whether `line` is one of git's conflict markers (`<<<<<<< `, `=======`, `>>>>>>> `, and the
    /// diff3 base marker `||||||| `) at the start of a line.
    static func isMarkerLine(_ line: some StringProtocol) -> Bool {
        line.hasPrefix("<<<<<<< ") || line.hasPrefix(">>>>>>> ") || line.hasPrefix("||||||| ") || line == "======="
            || line == "<<<<<<<" || line == ">>>>>>>"
    }

    /// Whether `bytes` hold a whole conflict: an opening, a separator and a closing marker line.
    public static func hasMergeMarkers(_ bytes: [UInt8]) -> Bool {
        // Cheap first: most notes hold no "<<<<<<<" at all.
        guard bytes.count >= 7, String(decoding: bytes, as: UTF8.self).contains("<<<<<<<") else { return false }
        var open = false, separated = false
        // "\r\n" is one Character in Swift: lines are split on the bytes.
        for bytesOfLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let line = String(decoding: bytesOfLine.last == UInt8(ascii: "\r") ? bytesOfLine.dropLast() : bytesOfLine, as: UTF8.self)
            if line.hasPrefix("<<<<<<<") && isMarkerLine(line) { open = true; separated = false }
            else if open && line == "=======" { separated = true }
            else if open && separated && line.hasPrefix(">>>>>>>") && isMarkerLine(line) { return true }
        }
        return false
    }

    /// The conflict note for merge-conflict markers in `path` (one per note; a second merge conflict
    /// in the same note after the first was resolved reuses it).
    static func markersNotePath(_ path: String) -> String {
        var title = StaleMemoryGuard.title(of: path)
        while title.utf8.count > 150 { title.removeLast() }
        return StaleMemoryGuard.conflictFolder + "/" + title + " merge conflict " + String(ContentHash(of: Array(path.utf8)).hex.prefix(8)) + ".md"
    }

    /// Writes a conflict note for the merge-conflict markers in `path` unless an open one exists, and
    /// says so in `log`: a note the watcher acts on — a task or handoff (in a work folder, or typed so
    /// elsewhere), or a note under `Rules/`. Returns whether `path` is such a note and holds markers.
    /// Never throws.
    @discardableResult
    public static func surfaceMarkers(_ path: String, store: NoteStore, guardrails: @autoclosure () -> Guardrails, log: (EngineEvent) -> Void) -> Bool {
        guard path.hasSuffix(".md"), let snapshot = (try? store.readIfPresent(path)) ?? nil, hasMergeMarkers(snapshot.bytes) else { return false }
        // The OS's own merge under way wrote them: it concludes or undoes it before its round ends,
        // and the note is looked at again then. It does not run meanwhile.
        if GitNotes.isMerging(store.vault.root) { return true }
        let isRule = path.hasPrefix(Vault.Layout.rules + "/")
        guard isRule || TaskNote.isInWorkFolder(path)
              || (try? Note.parse(bytes: snapshot.bytes)).flatMap({ TaskNote.kind(of: $0, path: path) }) != nil else { return false }
        let notePath = markersNotePath(path)
        if let existing = (try? store.readIfPresent(notePath)) ?? nil, (try? Note.parse(bytes: existing.bytes))?.text("status") == "open" { return true }
        let link = "[[\(StaleMemoryGuard.linkTarget(path))]]"
        let effect = isRule ? "the rule book reads it as it stands" : "it does not run"
        var properties = [
            Property("type", .string("conflict")),
            Property("note", .string(link)),
            Property("sync_tool", .string("git")),
            Property("created", .datetime(LocalTime.dateTime(Date()))),
            Property("status", .string("open")),
        ]
        if Privacy.reason(ofNoteAt: path, store: store, guardrails: guardrails()) != nil { properties.append(Property("privacy", .string("private"))) }
        let body = """
        # Merge conflict: \(StaleMemoryGuard.title(of: path))

        A git merge left conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`) in \(link): it holds two versions at once.
        Keep what you want, remove the markers, then set `status: resolved` here.

        \(isRule ? "The OS reads this rule note as it stands, markers and all, until they are gone: check what it says now." : "The OS does not run a task or handoff while it holds conflict markers.")

        """
        do {
            let text = try FrontmatterEditor.apply(set: properties, to: Array(body.utf8))
            _ = try store.update(notePath) { _ in .write(text) }
            log(EngineEvent(level: .warning, message: "\(path): holds git merge-conflict markers; \(effect); see \(notePath)"))
        } catch {
            log(EngineEvent(level: .warning, message: "\(path): holds git merge-conflict markers; \(effect); cannot write its conflict note: \(error)"))
        }
        return true
    }
}

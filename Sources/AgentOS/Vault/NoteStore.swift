import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a writer expects to find on disk when it replaces a note (compare-and-swap).
public enum WriteExpectation: Equatable, Sendable {
    /// The note must not exist yet.
    case absent
    /// The note must still have the content hash the writer read.
    case hash(ContentHash)
    /// Anything goes (only for files the OS alone owns, such as new telemetry notes).
    case any
}

/// Why a safe write was refused.
public enum NoteWriteError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The note changed on disk since it was read (or appeared when it was expected absent).
    case conflict(path: String, expected: WriteExpectation, found: ContentHash?)
    /// The path would leave the vault.
    case path(Vault.PathError)
    /// The file system refused (permissions, full disk, ...).
    case system(SystemError)

    /// One line saying what happened and what to do.
    public var description: String {
        switch self {
        case .conflict(let path, let expected, let found):
            switch expected {
            case .absent: return "\(path): already exists; refusing to overwrite it"
            case .hash(let hash) where found == hash:
                // Nothing changed: the note was not swapped while another process wrote into it.
                return "\(path): another program keeps it open for writing; try again once it has closed it"
            default:
                return found == nil
                    ? "\(path): was deleted since it was read; re-read it and try again"
                    : "\(path): changed on disk since it was read; re-read it and try again"
            }
        case .path(let e): return e.description
        case .system(let e): return e.description
        }
    }
}

/// Why a new note was not made: a file or folder of its name, but for what a case-insensitive disk
/// ignores, exists (`NoteStore.twin(of:)`).
public struct NoteTwinError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The path asked for.
    public let path: String
    /// The file or folder in its way.
    public let twin: String
    /// Whether `twin` is a note where the path needs a folder (`Memory/Diary.md/x.md`).
    public var isFileOnTheWay = false

    public var description: String {
        if isFileOnTheWay { return "\(path): not created: \(twin) is a \(twin.lowercased().hasSuffix(".md") ? "note" : "file"), not a folder; choose another name" }
        return "\(path): not created: \(twin) exists, and a name that differs from it only in case, in how accents are encoded, by characters that show nothing or by a trailing dot or space is the same name to links, to Obsidian or to the disks of macOS and Windows; write to \(twin) instead, or choose another name"
    }
}

/// A note's bytes as read from disk, with the hash a later write must match.
public struct NoteSnapshot: Sendable {
    /// The normalized vault-relative path.
    public let relativePath: String
    /// The note's bytes as read.
    public let bytes: [UInt8]
    /// The hash a compare-and-swap write must find on disk.
    public let hash: ContentHash
    /// What `fstat` said when the note was read.
    public let status: FileStatus

    /// The bytes as text (invalid UTF-8 replaced).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// What an update's transform wants done with the version of the note it was shown.
public enum NoteChange: Sendable, Equatable {
    /// Write these bytes over the version shown (or create the note when none was shown).
    case write([UInt8])
    /// Leave the note as it is (it already says what the writer wants, or there is nothing to do).
    case keep
    /// The change cannot be applied to the version shown: the note is left alone and `refused` (the
    /// version the writer wanted, when there is one) is kept in a conflict note under
    /// `Memory/Conflicts/`, which says `reason` (a phrase: "changed since it was read", …).
    case conflict(reason: String, refused: [UInt8]?)
}

/// What `NoteStore.update` did.
public enum NoteUpdate: Sendable, Equatable {
    /// The note was written; `replaced` is the hash of the version the transform was shown and the
    /// write replaced (`nil`: the note was created).
    case written(ContentHash, replaced: ContentHash?)
    /// Nothing was written; the hash of the note as it is (`nil`: there is no note).
    case unchanged(ContentHash?)
    /// Nothing was written; the refused version is in the conflict note named here.
    case conflict(StaleMemoryGuard.Conflict)

    /// The hash of the note after the update (`nil`: no note, or a conflict).
    public var hash: ContentHash? {
        switch self {
        case .written(let hash, _): return hash
        case .unchanged(let hash): return hash
        case .conflict: return nil
        }
    }
}

/// How an update that cannot land records its conflict note (see `StaleMemoryGuard.Conflict`).
public struct ConflictRecording: Sendable {
    /// What the writer expected to find (the conflict note's `expected_hash`).
    public var expected: WriteExpectation
    /// When the conflict happened (names the conflict note).
    public var now: Date
    /// Marks the conflict note private when the note it copies is; read from the vault when `nil`.
    public var guardrails: Guardrails?
    /// The property edit that was refused, listed in the conflict note (`nil` for a whole-text write).
    public var properties: (set: [Property], unset: [String])?
    /// The writer is a private run: what it wanted to write is private, and so is the conflict note
    /// that keeps it.
    public var fromPrivateRun = false

    /// A recording of conflicts for a writer that expected `expected`.
    public init(expected: WriteExpectation, now: Date = Date(), guardrails: Guardrails? = nil, properties: (set: [Property], unset: [String])? = nil) {
        self.expected = expected
        self.now = now
        self.guardrails = guardrails
        self.properties = properties
    }
}

/// The one place notes are read and written.
///
/// Every note (and every file the OS keeps in `.agentos/`) is written by `update`: read the note,
/// let the caller's transform say what it should become, and replace it by compare-and-swap against
/// exactly the version the transform saw, re-reading and re-applying when another writer won the
/// race. The replacing write goes to a temp file in the same folder, is fsynced, renamed over the
/// note, and the folder is fsynced, so a crash leaves either the old or the new note, never a
/// half-written one.
public struct NoteStore: Sendable {
    /// The vault whose notes this store reads and writes.
    public let vault: Vault

    /// Runs in `update` between the transform and the write, with the attempt number (from 0);
    /// tests use it to change the note at exactly that moment. `nil` outside tests.
    var beforeConditionalWrite: (@Sendable (_ attempt: Int) -> Void)?

    /// Runs in `write` between the compare-and-swap check and the replacing rename, under the folder
    /// lock; tests use it to save the note as an editor would at exactly that moment. `nil` outside tests.
    var betweenCheckAndReplace: (@Sendable () -> Void)?

    /// Runs in `write` when a save found in the window was put back, with the path of the file that
    /// holds what was taken out (the OS's version, which a writer may still write into); tests use
    /// it to write there at exactly that moment. `nil` outside tests.
    var afterPutBack: (@Sendable (_ takenPath: String) -> Void)?

    /// Runs in `write` once the note holds the new bytes, before the folder is synced (the moment a
    /// watcher may already read them), with the note's vault path. `nil` outside tests.
    var afterReplace: (@Sendable (_ relativePath: String) -> Void)?

    /// Runs in `read` once the note's bytes are read, with its vault path; tests use it to finish a
    /// writer's save at exactly that moment. `nil` outside tests.
    var afterRead: (@Sendable (_ relativePath: String) -> Void)?

    /// A store over `vault`.
    public init(vault: Vault) { self.vault = vault }

    /// Prefix of the OS's temp files; the watcher and the indexer ignore them (they are dot-files).
    public static let tempPrefix = ".fbt-"

    /// Reads a note by vault-relative path.
    public func read(_ relativePath: String) throws(NoteWriteError) -> NoteSnapshot {
        let normalized: String
        let absolute: String
        do {
            normalized = try Vault.normalize(relativePath)
            absolute = try vault.resolve(normalized)
        } catch { throw .path(error) }
        do {
            let (bytes, status) = try FileSystem.read(absolute)
            afterRead?(normalized)
            return NoteSnapshot(relativePath: normalized, bytes: bytes, hash: ContentHash(of: bytes), status: status)
        } catch { throw .system(error) }
    }

    /// The first `head` and last `tail` bytes of a note (`FileSystem.readEnds`: a note of
    /// `head + tail` bytes or fewer comes whole in `head`), or `nil` when it does not exist. Nothing
    /// is hashed: what is read this way is never written back.
    public func readEnds(_ relativePath: String, head: Int, tail: Int) throws(NoteWriteError) -> (head: [UInt8], tail: [UInt8])? {
        let absolute: String
        do { absolute = try vault.resolve(try Vault.normalize(relativePath)) } catch { throw .path(error) }
        do {
            let read = try FileSystem.readEnds(absolute, head: head, tail: tail)
            return (read.head, read.tail)
        } catch {
            if error.isNotFound { return nil }
            throw .system(error)
        }
    }

    /// What `lstat` says of a note's file, or `nil` when nothing is there; the path is resolved as
    /// `read` resolves it (a symlink on the way is refused).
    public func status(_ relativePath: String) throws(NoteWriteError) -> FileStatus? {
        do { return try vault.resolveWithStatus(try Vault.normalize(relativePath)).status } catch { throw .path(error) }
    }

    /// Whether a process has the note open for writing now (a read lease is refused then);
    /// `false` where leases cannot tell.
    public func hasWriters(_ relativePath: String) -> Bool {
        guard let absolute = try? vault.resolve(try Vault.normalize(relativePath)) else { return false }
        return FileSystem.waitUntilNoWriters(absolute, timeout: 0) == false
    }

    /// `readIfPresent` once no process has the note open for writing (waiting up to 2 s): an editor
    /// saving in place (Obsidian: open with truncate, then write) is not caught between its truncate
    /// and its write, when the note reads empty (round 46: a run's end read a task so, took it for
    /// another note, and its `changed_during_run` was never written).
    public func readSettled(_ relativePath: String, waiting timeout: Double = 2) throws(NoteWriteError) -> NoteSnapshot? {
        if let absolute = try? vault.resolve(try Vault.normalize(relativePath)) { _ = FileSystem.waitUntilNoWriters(absolute, timeout: timeout) }
        return try readIfPresent(relativePath)
    }

    /// Reads a note, or returns `nil` if it does not exist.
    public func readIfPresent(_ relativePath: String) throws(NoteWriteError) -> NoteSnapshot? {
        do { return try read(relativePath) } catch {
            if case .system(let e) = error, e.isNotFound { return nil }
            throw error
        }
    }

    /// Reads the note, asks `transform` what it should become, and writes that by compare-and-swap
    /// against exactly the version the transform was shown (`nil`: the note must still be absent).
    ///
    /// When another writer replaced the note in between, the note is read again and the transform
    /// runs again on the newer version, up to `attempts` times; a transform that cannot be re-applied
    /// says so with `.conflict`, and the refused version goes to a conflict note. After `attempts`
    /// lost races the last conflict is thrown, or, with `conflicts`, recorded in a conflict note.
    /// A process that keeps the note open for writing is waited for up to `patience` seconds in all.
    /// Whatever the transform throws is rethrown before anything is written.
    ///
    /// Creates parent folders when needed; keeps the note's permissions.
    @discardableResult
    public func update(_ relativePath: String, attempts: Int = 8, conflicts: ConflictRecording? = nil, waitingForWriters patience: Double = 2, _ transform: (NoteSnapshot?) throws -> NoteChange) throws -> NoteUpdate {
        let normalized: String
        do { normalized = try Vault.normalize(relativePath) } catch { throw NoteWriteError.path(error) }
        var lastConflict: NoteWriteError?
        var lastRefused: [UInt8]?
        // One wait for a process that keeps the note open for writing, for all attempts together:
        // each waiting its own 2 s (to read, then to write) made `note set` on a note held open
        // take 20 s and then say it had changed (an outside attack). The watcher's own lifecycle
        // writes pass a longer `patience`: nobody waits on them, and giving up leaves a task's
        // status behind.
        let deadline = Date().addingTimeInterval(patience)
        var heldOpen = false
        attempting: for attempt in 0..<max(1, attempts) {
            let current = try readSettled(normalized, waiting: max(0, deadline.timeIntervalSinceNow))
            switch try transform(current) {
            case .keep:
                return .unchanged(current?.hash)
            case .conflict(let reason, let refused):
                return .conflict(try recordConflict(normalized, conflicts, current: current, refused: refused, reason: reason))
            case .write(let bytes):
                beforeConditionalWrite?(attempt)
                do {
                    let hash = try write(bytes, to: normalized, expecting: current.map { .hash($0.hash) } ?? .absent, writerWait: max(0, deadline.timeIntervalSinceNow))
                    return .written(hash, replaced: current?.hash)
                } catch {
                    guard case .conflict(_, let expected, let found) = error else { throw error }
                    lastConflict = error
                    lastRefused = bytes
                    // Held open past the wait: trying again cannot help.
                    heldOpen = false
                    if case .hash(let hash) = expected, found == hash {
                        heldOpen = true
                        if deadline.timeIntervalSinceNow <= 0 { break attempting }
                    }
                }
            }
        }
        guard conflicts != nil else { throw lastConflict ?? NoteWriteError.conflict(path: normalized, expected: .any, found: nil) }
        return .conflict(try recordConflict(normalized, conflicts, current: try readIfPresent(normalized), refused: lastRefused,
                                            reason: heldOpen ? "was kept open for writing by another program while the edit was retried" : "kept changing while the edit was retried"))
    }

    /// Creates a note that must not exist yet; throws `NoteWriteError.conflict` when it does.
    @discardableResult
    public func create(_ text: String, at relativePath: String, refusingTwins: Bool = false) throws -> ContentHash {
        try create(Array(text.utf8), at: relativePath, refusingTwins: refusingTwins)
    }

    /// A name as links, Obsidian and case-insensitive disks compare it: composed (NFC, as macOS
    /// compares), without the characters that show nothing (`Privacy.showsNothing`: zero-width and
    /// direction marks, soft hyphens, variation selectors, fillers), in small letters, without a
    /// trailing dot or space (Windows drops them). Not folded further: `H₂O`, `Plan²`, `Maße` and
    /// fullwidth letters are names of their own to every disk and to links (round 126: NFKC and
    /// full case folding refused them).
    /// A no-break space (also narrow) counts as a space; final sigma as sigma (`ΛΟΓΟΣ`, `λογος`:
    /// one file on macOS and Windows), and so the micro sign as mu and the long s as s; blank fillers (halfwidth Hangul, Braille, Khmer) as nothing
    /// (round 127). Joiners, variation selectors and tag characters that shape what comes before
    /// them (`shapes`: a flag, `❤️`, a Persian or Hindi spelling, a kanji variant) are kept: they
    /// make names of their own; elsewhere they show nothing.
    static func twinKey(_ name: String) -> String {
        var kept = String.UnicodeScalarView()
        var previous: Unicode.Scalar?
        for scalar in name.precomposedStringWithCanonicalMapping.unicodeScalars {
            let value = scalar.value
            if value == 0x00A0 || value == 0x202F {
                kept.append(" ")
                previous = " "
                continue
            }
            if let previous, NoteStore.shapes(scalar, after: previous) {
                kept.append(scalar)
                continue
            }
            if Privacy.showsNothing(scalar) || value == 0xFFA0 || value == 0x2800 || value == 0x17B4 || value == 0x17B5 { continue }
            kept.append(scalar)
            previous = scalar
        }
        // The small letters case folding takes for others, as macOS and Windows compare names: final
        // sigma, the micro sign (`µg`, `μg`) and the long s (`Noteſ`, `Notes`; round 128).
        var key = String(kept).lowercased().replacingOccurrences(of: "\u{03C2}", with: "\u{03C3}")
            .replacingOccurrences(of: "\u{00B5}", with: "\u{03BC}").replacingOccurrences(of: "\u{017F}", with: "s")
        while let last = key.last, last == " " || last == "." { key.removeLast() }
        return key
    }

    /// Whether `scalar`, a character that shows nothing on its own, changes how `previous` shows:
    /// a variation selector after an emoji (`❤️`, `©️`, `1️⃣`) or an ideograph (a kanji variant), a
    /// tag character in a flag (after 🏴 or another tag character), a zero-width joiner in an emoji
    /// sequence, and a joiner or non-joiner between letters of the scripts that join or conjoin them
    /// (Arabic, Syriac, the Indic scripts). Anywhere else it shows nothing (round 128: after `’`,
    /// a dash, `ệ`, kana or an emoji without a sequence, it made look-alike names).
    static func shapes(_ scalar: Unicode.Scalar, after previous: Unicode.Scalar) -> Bool {
        let value = scalar.value, before = previous.value
        let joiningScript = (0x0600...0x074F).contains(before) || (0x0750...0x077F).contains(before) || (0x08A0...0x08FF).contains(before)
            || (0x0900...0x0DFF).contains(before) || (0xFB50...0xFDFF).contains(before) || (0xFE70...0xFEFF).contains(before)
        let emoji = previous.properties.isEmojiPresentation || (previous.properties.isEmoji && before >= 0x2000) || before == 0xFE0F
        switch value {
        case 0xFE00...0xFE0F: return previous.properties.isEmoji || previous.properties.isIdeographic
        case 0xE0100...0xE01EF: return previous.properties.isIdeographic
        case 0xE0020...0xE007F: return before == 0x1F3F4 || (0xE0020...0xE007F).contains(before)
        case 0x200D: return emoji || joiningScript
        case 0x200C: return joiningScript
        default: return false
        }
    }

    /// The file or folder that exists where `relativePath` would be made, under a name that differs
    /// from the one asked for only as links and case-insensitive disks ignore (`twinKey`: case, the
    /// Unicode form of accents, characters that show nothing, a trailing dot or space): `Memory/PLAN.md`,
    /// `Memory/Plan.MD` or an NFD `Café.md` beside `Memory/Plan.md` and an NFC `Café.md`, or
    /// `memory/Plan.md` beside the folder `Memory/`. Its vault path (the first such name on the way),
    /// or `nil` when the path exists as written or nothing is in its way.
    /// Links, Obsidian and the disks of macOS and Windows take such names for one: a twin an agent
    /// made beside a person's note took the person's links and went into their packets in its
    /// place (an outside attack, round 124).
    /// A file met where a folder of the path must be (`Memory/Diary.md/x.md`) is in the way too
    /// (`isFileOnTheWay`).
    public func twin(of relativePath: String) -> (path: String, isFileOnTheWay: Bool)? {
        guard let normalized = try? Vault.normalize(relativePath) else { return nil }
        var folder = vault.root
        var prefix = ""
        let names = normalized.split(separator: "/").map(String.init)
        for (i, name) in names.enumerated() {
            let exact = folder + "/" + name
            if let found = (try? FileSystem.status(exact)) ?? nil {
                if i < names.count - 1, found.kind != .directory { return (prefix + name, true) }
                folder = exact
                prefix += name + "/"
                continue
            }
            // Not there as written: everything below it is new, unless a twin stands in its place.
            guard let entries = try? FileSystem.list(folder) else { return nil }
            let key = NoteStore.twinKey(name)
            // Compared by bytes: Swift's `==` takes an NFD name for the NFC one.
            return entries.first { !$0.name.utf8.elementsEqual(name.utf8) && NoteStore.twinKey($0.name) == key }.map { (prefix + $0.name, false) }
        }
        return nil
    }

    /// Creates a note that must not exist yet from bytes. See `create(_:at:)`. With `refusingTwins`
    /// (a name a person or an agent chose: `task new`, `create_task`, a handoff), a twin of the name
    /// (`twin(of:)`) counts as the name taken: the caller goes on to its next free name.
    @discardableResult
    public func create(_ bytes: [UInt8], at relativePath: String, refusingTwins: Bool = false) throws -> ContentHash {
        if refusingTwins, twin(of: relativePath) != nil { throw NoteWriteError.conflict(path: relativePath, expected: .absent, found: nil) }
        let outcome = try update(relativePath) { current in
            if let current { throw NoteWriteError.conflict(path: current.relativePath, expected: .absent, found: current.hash) }
            return .write(bytes)
        }
        return outcome.hash ?? ContentHash(of: bytes)
    }

    /// Replaces a file whatever it holds now (for files only the OS writes, such as those in `.agentos/`).
    @discardableResult
    public func replace(_ relativePath: String, with bytes: [UInt8]) throws -> ContentHash {
        try update(relativePath) { _ in .write(bytes) }.hash ?? ContentHash(of: bytes)
    }

    /// Writes a conflict note for an update of `path` that could not land.
    private func recordConflict(_ path: String, _ recording: ConflictRecording?, current: NoteSnapshot?, refused: [UInt8]?, reason: String) throws -> StaleMemoryGuard.Conflict {
        let recording = recording ?? ConflictRecording(expected: .any)
        let context = StaleMemoryGuard.ConflictContext(path: path, expectation: recording.expected, store: self, now: recording.now, guardrails: recording.guardrails,
                                                       fromPrivateRun: recording.fromPrivateRun)
        return try context.record(current: current, refused: refused, change: recording.properties, reason: reason)
    }

    /// The compare-and-swap step of `update`: writes `text` only if the note is what `expectation`
    /// says. No other code writes notes with it; tests call it to exercise the step alone.
    @discardableResult
    func write(_ text: String, to relativePath: String, expecting expectation: WriteExpectation) throws(NoteWriteError) -> ContentHash {
        try write(Array(text.utf8), to: relativePath, expecting: expectation)
    }

    /// The compare-and-swap step of `update`, over bytes. See `write(_:to:expecting:)`.
    @discardableResult
    func write(_ bytes: [UInt8], to relativePath: String, expecting expectation: WriteExpectation, writerWait: Double = 2) throws(NoteWriteError) -> ContentHash {
        let normalized: String
        let absolute: String
        do {
            normalized = try Vault.normalize(relativePath)
            absolute = try vault.resolve(normalized)
        } catch { throw .path(error) }
        // `resolve` returns the root plus at least one component, so there is always a slash.
        guard let slash = absolute.lastIndex(of: "/") else { throw .path(.notInVault(relativePath)) }
        let folder = String(absolute[..<slash])
        let name = String(absolute[absolute.index(after: slash)...])
        do {
            try FileSystem.makeDirectories(folder)
        } catch { throw .system(error) }

        // Keep the existing note's permissions.
        var mode: mode_t = 0o644
        if let st = try? FileSystem.status(absolute), st.kind == .file { mode = mode_t(st.mode) }

        let temp = NoteStore.tempPath(folder: folder, name: name)
        do { try FileSystem.createDurably(temp, bytes: bytes, mode: mode) } catch { throw .system(error) }

        // Compare as late as possible, right before the rename, and hold the folder's lock across both
        // so that no other writer of ours can slip its rename in between (a lost update otherwise).
        // An editor is no party to that lock: `replace` finds a save of its that landed in between.
        var failure: NoteWriteError?
        var displaced: DisplacedSave?
        // A process holding the note open for writing is waited for here, before the folder's lock
        // is taken: waited for under it, one held note made every other write in its folder wait
        // 2 s a try (an outside attack: six echo tasks took 7 s instead of 0.2 s).
        if case .hash = expectation { _ = FileSystem.waitUntilNoWriters(absolute, timeout: writerWait) }
        do throws(SystemError) {
            let lock = try DirectoryLock(folder)
            failure = check(expectation, at: absolute, relativePath: normalized)
            if failure == nil {
                betweenCheckAndReplace?()
                switch expectation {
                case .any:
                    try FileSystem.rename(temp, to: absolute)
                case .absent:
                    // `link` never replaces: a note someone created since the check is a conflict, not lost.
                    do {
                        try FileSystem.link(temp, to: absolute)
                        try? FileSystem.remove(temp)
                    } catch {
                        if error.code == EEXIST {
                            failure = .conflict(path: normalized, expected: expectation, found: (try? FileSystem.read(absolute)).map { ContentHash(of: $0.bytes) })
                            try? FileSystem.remove(temp)
                        } else if NoteStore.noHardLinks(error) {
                            // A file system without hard links (exFAT, some FUSE mounts): the checked rename.
                            try FileSystem.rename(temp, to: absolute)
                        } else {
                            throw error
                        }
                    }
                case .hash(let expected):
                    (failure, displaced) = try replace(absolute, with: temp, folder: folder, ours: bytes, expected: expected, relativePath: normalized)
                }
            }
            withExtendedLifetime(lock) {}
        } catch {
            try? FileSystem.remove(temp)
            throw .system(error)
        }
        if let displaced {
            // Two saves raced one write: the one that could not be put back is kept in a conflict note.
            let context = StaleMemoryGuard.ConflictContext(path: normalized, expectation: expectation, store: self, now: Date(), guardrails: nil)
            _ = try? context.record(current: try? readIfPresent(normalized), refused: displaced.bytes, change: nil,
                                    reason: "was saved by another program while the OS replaced it (the save shown here was displaced)")
        }
        if let failure {
            try? FileSystem.remove(temp)
            throw failure
        }
        afterReplace?(normalized)
        do { try FileSystem.syncDirectory(folder) } catch { throw .system(error) }
        return ContentHash(of: bytes)
    }

    /// A save by someone else that a write displaced and could not put back.
    struct DisplacedSave { let bytes: [UInt8] }

    /// Replaces the note at `absolute` with the written temp file and proves that what it replaced is
    /// the version the writer read. An editor that saves between the check and the swap (by rename, or
    /// in place into the old file) is no party to the folder lock; its save must not vanish.
    ///
    /// With `RENAME_EXCHANGE` the temp path holds exactly the replaced file afterwards: it is compared
    /// once no process has it open for writing any more (an in-place writer that opened it before the
    /// swap finishes first), and a save found there is swapped back and reported as a conflict, so the
    /// caller re-reads and merges. Without exchange a hard link keeps the file about to be replaced
    /// (a rename-save between the link and the rename is then not seen); without hard links either,
    /// only the checked rename remains.
    private func replace(_ absolute: String, with temp: String, folder: String, ours: [UInt8], expected: ContentHash, relativePath: String) throws(SystemError) -> (NoteWriteError?, DisplacedSave?) {
        // A process has the note open for writing: it is not swapped away now, to be put back after
        // (the person's file sat under a temp name meanwhile, and a crash then lost what they wrote:
        // an outside attack). A conflict: the caller reads again, and gives up in a while. (The
        // wait for the writer to close it came before the folder's lock: `write`.)
        if FileSystem.waitUntilNoWriters(absolute, timeout: 0) == false {
            try? FileSystem.remove(temp)
            return (.conflict(path: relativePath, expected: .hash(expected), found: (try? FileSystem.read(absolute)).map { ContentHash(of: $0.bytes) }), nil)
        }
        var holder = temp
        if try !FileSystem.exchange(temp, absolute) {
            holder = NoteStore.tempPath(folder: folder, name: relativePath)
            do { try FileSystem.link(absolute, to: holder) } catch {
                if NoteStore.noHardLinks(error) {
                    // Neither exchange nor hard links: the checked rename is all there is.
                    try FileSystem.rename(temp, to: absolute)
                    return (nil, nil)
                }
                try? FileSystem.remove(temp)
                // Deleted since the check: a conflict like any other.
                if error.isNotFound { return (.conflict(path: relativePath, expected: .hash(expected), found: nil), nil) }
                throw error
            }
            try FileSystem.rename(temp, to: absolute)
        }
        defer { try? FileSystem.remove(holder) }
        // An in-place writer that opened the old file before the swap writes into it now (or is between
        // its truncate and its write): wait until nobody has it open for writing, then compare. Where
        // leases are not allowed, compare twice, the second time after the folder's fsync.
        let before = FileSystem.identity(holder)
        let settled = FileSystem.waitUntilNoWriters(holder, timeout: 2)
        var replaced = (try? FileSystem.read(holder))?.bytes
        if settled != true, replaced.map({ ContentHash(of: $0) }) == expected {
            try? FileSystem.syncDirectory(folder)
            if let before, let after = FileSystem.identity(holder), after.changeNanoseconds != before.changeNanoseconds || after.size != before.size {
                replaced = (try? FileSystem.read(holder))?.bytes
            }
        }
        // A writer that still has the replaced file open after the wait writes into it after the
        // swap, and its bytes would go with the holder (an outside attack: a script pausing 3 s
        // mid-write lost the rest of its note): the file goes back, as for a save that landed.
        let writerStillOpen = settled == false
        guard let replacedBytes = replaced, writerStillOpen || ContentHash(of: replacedBytes) != expected else { return (nil, nil) }

        // A save landed in the window: put it back, and take out whatever is at the note now (our
        // version, or yet another save, which then goes to a conflict note).
        let back = NoteStore.tempPath(folder: folder, name: relativePath)
        var putBack = false
        if (try? FileSystem.exchange(holder, absolute)) == true {
            putBack = true
        } else if (try? FileSystem.link(absolute, to: back)) != nil, (try? FileSystem.rename(holder, to: absolute)) != nil {
            try? FileSystem.rename(back, to: holder)
            putBack = true
        }
        try? FileSystem.remove(back)
        let conflict = NoteWriteError.conflict(path: relativePath, expected: .hash(expected), found: ContentHash(of: replacedBytes))
        guard putBack else { return (conflict, DisplacedSave(bytes: replacedBytes)) }
        // What was taken out may be written into still: a writer that opened the note while our
        // version stood there appends to it now. Read once it is done — read at once, a line
        // appended a moment later went with the file (round 52: an appender every 1 ms lost one).
        afterPutBack?(holder)
        _ = FileSystem.waitUntilNoWriters(holder, timeout: 2)
        if let taken = (try? FileSystem.read(holder))?.bytes, taken != ours {
            return (conflict, DisplacedSave(bytes: taken))
        }
        return (conflict, nil)
    }

    /// Whether an error means the file system has no hard links.
    static func noHardLinks(_ error: SystemError) -> Bool {
        error.code == EPERM || error.code == ENOTSUP || error.code == EOPNOTSUPP || error.code == EMLINK || error.code == ENOSYS
    }

    /// A temp file name for a note in `folder`: short whatever the note's name (a name of 255 bytes
    /// plus a prefix would exceed `NAME_MAX`), unique per process and write, and starting with
    /// `tempPrefix` so the watcher and the indexer ignore it.
    static func tempPath(folder: String, name: String) -> String {
        let digest = String(ContentHash(of: Array(name.utf8)).value, radix: 16)
        return folder + "/" + NoteStore.tempPrefix + digest + "." + String(getpid()) + "." + String(NoteStore.nextTempCounter()) + ".tmp"
    }

    private func check(_ expectation: WriteExpectation, at absolute: String, relativePath: String) -> NoteWriteError? {
        switch expectation {
        case .any:
            return nil
        case .absent:
            if (try? FileSystem.status(absolute)) ?? nil != nil {
                let found = (try? FileSystem.read(absolute)).map { ContentHash(of: $0.bytes) }
                return .conflict(path: relativePath, expected: expectation, found: found)
            }
            return nil
        case .hash(let expected):
            guard let current = try? FileSystem.read(absolute) else {
                return .conflict(path: relativePath, expected: expectation, found: nil)
            }
            let found = ContentHash(of: current.bytes)
            return found == expected ? nil : .conflict(path: relativePath, expected: expectation, found: found)
        }
    }

    /// A process-wide counter for unique temp names.
    private static let counter = Locked(0)
    static func nextTempCounter() -> Int { counter.withLock { $0 += 1; return $0 } }
}


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

/// The one place notes are read and written.
///
/// Writes go to a temp file in the same folder, are fsynced, renamed over the note, and the folder is
/// fsynced, so a crash leaves either the old or the new note, never a half-written one. Each write
/// compares the hash on disk with the one the writer read and refuses on mismatch.
public struct NoteStore: Sendable {
    /// The vault whose notes this store reads and writes.
    public let vault: Vault

    /// Runs in `updateProperties` between reading a note and writing it back, with the attempt number;
    /// tests use it to change the note at exactly that moment. `nil` outside tests.
    var beforeConditionalWrite: (@Sendable (_ attempt: Int) -> Void)?

    /// Runs in `write` between the compare-and-swap check and the replacing rename, under the folder
    /// lock; tests use it to save the note as an editor would at exactly that moment. `nil` outside tests.
    var betweenCheckAndReplace: (@Sendable () -> Void)?

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
            return NoteSnapshot(relativePath: normalized, bytes: bytes, hash: ContentHash(of: bytes), status: status)
        } catch { throw .system(error) }
    }

    /// Reads a note, or returns `nil` if it does not exist.
    public func readIfPresent(_ relativePath: String) throws(NoteWriteError) -> NoteSnapshot? {
        do { return try read(relativePath) } catch {
            if case .system(let e) = error, e.isNotFound { return nil }
            throw error
        }
    }

    /// Writes `text` to a note with compare-and-swap. Creates parent folders when needed.
    /// Returns the hash of what was written.
    @discardableResult
    public func write(_ text: String, to relativePath: String, expecting expectation: WriteExpectation) throws(NoteWriteError) -> ContentHash {
        try write(Array(text.utf8), to: relativePath, expecting: expectation)
    }

    /// Writes bytes to a note with compare-and-swap. See `write(_:to:expecting:)`.
    @discardableResult
    public func write(_ bytes: [UInt8], to relativePath: String, expecting expectation: WriteExpectation) throws(NoteWriteError) -> ContentHash {
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
        guard let replacedBytes = replaced, ContentHash(of: replacedBytes) != expected else { return (nil, nil) }

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

    private static let counter = AtomicCounter()
    static func nextTempCounter() -> Int { counter.next() }
}

/// A process-wide counter for unique temp names.
final class AtomicCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value
    }
}


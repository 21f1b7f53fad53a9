import Foundation

/// Lists the notes of a vault: `*.md` regular files, never through a symlink, never in a dot-folder.
/// Every part of the OS that walks the vault goes through here.
public enum VaultWalker {
    /// One note file found on disk.
    public struct File: Sendable {
        /// Vault-relative path of the note.
        public var path: String
        /// Its status as the walk found it (size, modification time).
        public var status: FileStatus
    }

    /// Vault-relative paths of the notes under `folder` (the whole vault when empty), sorted.
    public static func markdownFiles(in vault: Vault, under folder: String = "") -> [String] {
        walk(vault, under: folder).files.map(\.path).sorted()
    }

    /// Every note under `folder` (the whole vault when empty), and the `.md` paths that were skipped and why.
    public static func walk(_ vault: Vault, under folder: String = "") -> (files: [File], skipped: [(path: String, reason: SkipReason)]) {
        var files: [File] = []
        var skipped: [(String, SkipReason)] = []
        var pending: [String] = [folder]
        while let relative = pending.popLast() {
            let listing = list(vault, folder: relative)
            files += listing.files
            skipped += listing.skipped
            pending += listing.subfolders
        }
        return (files, skipped)
    }

    /// What one folder holds, as `list(_:folder:)` found it.
    public struct Listing: Sendable {
        /// The notes directly in the folder (regular `*.md` files), with their status.
        public var files: [File] = []
        /// Vault-relative paths of its subfolders (never a symlink, never a dot-folder).
        public var subfolders: [String] = []
        /// `.md` entries that are not notes (a symlink, a FIFO), or that could not be looked at, and
        /// why; the folder itself when it could not be listed (never the vault's root).
        public var skipped: [(path: String, reason: SkipReason)] = []
        /// Whether the folder could be listed.
        public var isReadable = true
    }

    /// One folder of the walk (`relative` is vault-relative, "" for the root): its notes, each with an
    /// `lstat`, its subfolders, and the `.md` entries skipped. The walk is this, folder after folder;
    /// the index's re-scan calls it for the folders it cannot skip.
    public static func list(_ vault: Vault, folder relative: String) -> Listing {
        var listing = Listing()
        let absolute = relative.isEmpty ? vault.root : vault.root + "/" + relative
        let entries: [(name: String, kind: FileStatus.Kind?)]
        do {
            entries = try FileSystem.list(absolute)
        } catch {
            if !relative.isEmpty { listing.skipped.append((relative, .unreadable(error.description))) }
            listing.isReadable = false
            return listing
        }
        for entry in entries {
            if entry.name.hasPrefix(".") { continue }
            let path = relative.isEmpty ? entry.name : relative + "/" + entry.name
            var kind = entry.kind
            let isNote = entry.name.hasSuffix(".md")
            if kind == .directory {
                listing.subfolders.append(path)
                continue
            }
            if !isNote && kind != nil { continue }
            let status: FileStatus?
            do {
                status = try FileSystem.status(vault.root + "/" + path)
            } catch {
                if isNote { listing.skipped.append((path, .unreadable(error.description))) }
                continue
            }
            guard let status else {
                if isNote { listing.skipped.append((path, FileSystem.isLossyName(entry.name) ? .nameNotUTF8 : .vanished)) }
                continue
            }
            kind = status.kind
            if kind == .directory {
                listing.subfolders.append(path)
                continue
            }
            guard isNote else { continue }
            if kind == .file {
                listing.files.append(File(path: path, status: status))
            } else {
                listing.skipped.append((path, .notRegularFile))
            }
        }
        return listing
    }

    /// The regular files (notes and attachments alike) and the subfolders directly in one folder
    /// (`relative` is vault-relative, "" for the root; a symlink counts as a file, never followed),
    /// never a dot-entry: what link
    /// resolution needs to find `[[image.png]]` too (`VaultFiles` lists the vault with it, folder by
    /// folder). Reads the kind the directory listing gives and asks the file system only when it
    /// gives none; `nil` when the folder cannot be listed.
    public static func entries(of vault: Vault, folder relative: String) -> (files: [String], subfolders: [String])? {
        let absolute = relative.isEmpty ? vault.root : vault.root + "/" + relative
        guard let listed = try? FileSystem.list(absolute) else { return nil }
        var files: [String] = []
        var subfolders: [String] = []
        for entry in listed where !entry.name.hasPrefix(".") {
            let path = relative.isEmpty ? entry.name : relative + "/" + entry.name
            switch entry.kind ?? (try? FileSystem.status(vault.root + "/" + path))??.kind {
            case .directory: subfolders.append(path)
            // A symlink is listed as a file (never followed): `[[Link]]` then means it, and privacy
            // judges where it leads (round 54: a symlink to a private note named by its bare name
            // resolved to nothing, so nothing was judged).
            case .file, .symlink: files.append(path)
            default: continue
            }
        }
        return (files, subfolders)
    }
}

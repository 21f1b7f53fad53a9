import Foundation

/// One file that `init` puts into a vault: its vault-relative path and its exact contents.
public struct TemplateFile: Sendable, Equatable {
    /// Where the file goes, relative to the vault root (`Rules/Agents/claude.md`).
    public let path: String
    /// The file's bytes, as UTF-8 text.
    public let contents: String

    /// A template file at `path` with `contents`.
    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}

/// The files `init` adds: `vault-template/` as it is, and `rules/` under `Rules/`.
///
/// They are compiled into the binary (see `VaultTemplateFiles.swift`) so that `fuckbigtech init`
/// works from any folder, without the source checkout next to it.
public enum VaultTemplate {
    /// Every template file, in a stable order (vault-template first, then the default rules).
    public static var files: [TemplateFile] { VaultTemplateFiles.all }

    /// The folder of the repository that holds the vault template.
    public static let templateFolder = "vault-template"
    /// The folder of the repository that holds the default rule notes, copied into `Rules/`.
    public static let rulesFolder = "rules"

    /// Maps a path inside the repository (`rules/Guardrails.md`, `vault-template/Tasks/README.md`)
    /// to where `init` puts it in a vault; `nil` for paths outside both folders.
    public static func vaultPath(forRepositoryPath path: String) -> String? {
        if path.hasPrefix(templateFolder + "/") { return String(path.dropFirst(templateFolder.count + 1)) }
        if path.hasPrefix(rulesFolder + "/") { return Vault.Layout.rules + "/" + path.dropFirst(rulesFolder.count + 1) }
        return nil
    }
}

/// What `init` did: what it created, what it found already there and left alone.
public struct VaultInitReport: Sendable, Equatable {
    /// The vault root.
    /// The vault root.
    public var root: String
    /// Whether the vault folder itself had to be created.
    public var createdRoot = false
    /// Folders created, vault-relative, in creation order.
    public var createdFolders: [String] = []
    /// Files created, vault-relative, in creation order.
    public var createdFiles: [String] = []
    /// Template files that already existed and were left exactly as they were.
    public var keptFiles: [String] = []
    /// Notes indexed into a newly created index (`--with-memory`).
    public var indexedNotes = 0
    /// Things `init` refused to touch (a symlink or a file where a folder belongs), one line each.
    public var warnings: [String] = []
    /// Notes of an adopted vault that already looked like work (`AdoptedNotes`): left alone until
    /// a person edits them.
    public var adoptedWork: [String] = []

    /// An empty report for the vault at `root`.
    public init(root: String) { self.root = root }

    /// Whether this run changed anything on disk.
    public var changedAnything: Bool { createdRoot || !createdFolders.isEmpty || !createdFiles.isEmpty }
}

/// Errors `init` cannot work around.
public enum VaultInitError: Error, CustomStringConvertible, Equatable {
    /// The vault path exists but is not a folder.
    case notAFolder(String)
    /// The vault folder could not be created or written.
    case system(String)
    /// The index database could not be created.
    case index(String)

    public var description: String {
        switch self {
        case .notAFolder(let path): return "\(path) exists and is not a folder; give a folder for the vault"
        case .system(let message): return message
        case .index(let message): return "could not create the index database: \(message)"
        }
    }
}

/// Creates a vault, or adopts an existing folder (an Obsidian vault or not), adding only what is
/// missing. It never changes or replaces a file that is already there, so running it twice is safe
/// and the second run changes nothing.
public enum VaultInit {
    /// Where a shipped template goes when the vault has its own under the same name.
    static let besideOwnTemplate = [
        Vault.Layout.templates + "/Task.md": Vault.Layout.templates + "/Agent task.md",
        Vault.Layout.templates + "/Handoff.md": Vault.Layout.templates + "/Agent handoff.md",
    ]

    /// Runs `init` on `vault`. With `withMemory`, also creates `.agentos/` and the index database.
    public static func run(vault: Vault, withMemory: Bool = false, files: [TemplateFile] = VaultTemplate.files) throws(VaultInitError) -> VaultInitReport {
        var report = VaultInitReport(root: vault.root)
        // The root may be a symlink the user made on purpose (~/AgentOS → a synced disk): follow it
        // here, and only here; nothing inside the vault is ever followed.
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: vault.root, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .notAFolder(vault.root) }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: vault.root, withIntermediateDirectories: true)
            } catch {
                throw .system("cannot create \(vault.root): \(error.localizedDescription)")
            }
            report.createdRoot = true
        }
        // A folder the OS never ran a task in: what already looks like work is the person's, not a
        // queue for the watcher (`AdoptedNotes`), found before any template file is added and listed
        // in `.agentos/adopted` at the end. A new vault is adopted too, with nothing listed, so a
        // later `watch` does not take the person's first notes for old ones.
        let adoption = AdoptedNotes.isDue(vault) ? AdoptedNotes.workLookingNotes(in: vault) : nil

        // Folders first, so that each layout folder exists even when all its files are kept.
        var folders = Vault.Layout.folders + [Vault.Layout.obsidian]
        for file in files {
            var parts = file.path.split(separator: "/").dropLast()
            while !parts.isEmpty {
                let folder = parts.joined(separator: "/")
                if !folders.contains(folder) { folders.append(folder) }
                parts.removeLast()
            }
        }
        folders.sort { $0.split(separator: "/").count < $1.split(separator: "/").count }
        var blockedFolders: [String] = []
        for folder in folders {
            if blockedFolders.contains(where: { folder.hasPrefix($0 + "/") }) { continue }
            switch ensureFolder(folder, in: vault) {
            case .existed: break
            case .created: report.createdFolders.append(folder)
            case .blocked(let why):
                report.warnings.append(why)
                blockedFolders.append(folder)
            }
        }

        let store = NoteStore(vault: vault)
        // A guardrails note of the person's own under another name (`Rules/My guardrails.md`) keeps
        // the guardrails: the shipped one, sorting first, would take over from it (its private tags,
        // private folders and caps would stop applying) although no file was replaced.
        let ownGuardrails = existingGuardrailsNote(in: vault)
        for file in files {
            if blockedFolders.contains(where: { file.path.hasPrefix($0 + "/") }) { continue }
            if let own = ownGuardrails, file.path == Vault.Layout.rules + "/Guardrails.md", own != file.path {
                report.warnings.append("\(file.path): not added; \(own) holds this vault's guardrails")
                continue
            }
            let absolute: String
            do { absolute = try vault.resolve(file.path) } catch {
                report.warnings.append("\(file.path): skipped, \(error.description)")
                continue
            }
            if (try? FileSystem.status(absolute)) ?? nil != nil {
                report.keptFiles.append(file.path)
                // A template of the person's own under our name stays theirs; ours, which starts a
                // note as `status: draft`, goes beside it, and init says so (kept silently, the
                // README's "start from the Task template" led to a note that ran at each save).
                // (One that starts notes as drafts already, an older one of ours say, is enough.)
                if let beside = VaultInit.besideOwnTemplate[file.path], let own = try? store.read(file.path), own.bytes != Array(file.contents.utf8),
                   (try? Note.parse(bytes: own.bytes))?.text("status")?.lowercased() != "draft",
                   (try? store.readIfPresent(beside)) ?? nil == nil, (try? store.create(file.contents, at: beside)) != nil {
                    report.createdFiles.append(beside)
                    report.warnings.append("\(file.path) is your own and is kept; the OS's template, which starts a note as status: draft, is \(beside)")
                }
                continue
            }
            do {
                try store.create(file.contents, at: file.path)
                report.createdFiles.append(file.path)
            } catch {
                // Someone created it between our look and our write: theirs wins.
                if case .conflict? = error as? NoteWriteError { report.keptFiles.append(file.path); continue }
                throw .system(String(describing: error))
            }
        }

        if withMemory || adoption != nil {
            switch ensureFolder(Vault.Layout.state, in: vault) {
            case .existed: break
            case .created: report.createdFolders.append(Vault.Layout.state)
            case .blocked(let why): throw .system(why)
            }
        }
        if let adoption {
            do { try AdoptedNotes.write(adoption, vault: vault) } catch {
                throw .system("cannot record the notes that look like tasks in \(vault.stateDirectory): \(error)")
            }
            report.createdFiles.append(Vault.Layout.state + "/" + AdoptedNotes.fileName)
            report.adoptedWork = adoption.map(\.path).sorted()
        }
        if withMemory {
            if (try? FileSystem.status(vault.databasePath)) ?? nil == nil {
                do {
                    _ = try IndexSchema.create(at: vault.databasePath)
                    // A new index starts filled: memory is searchable as soon as init returns.
                    report.indexedNotes = try MemoryIndex(vault: vault).reconcile(progress: nil).indexed
                } catch {
                    throw .index(String(describing: error))
                }
                report.createdFiles.append(Vault.Layout.state + "/index.sqlite")
            }
        }
        return report
    }

    /// The vault path of a guardrails note already under `Rules/` (by `type: guardrails` or its
    /// name), if any: a note of the person's own, whatever they called it.
    static func existingGuardrailsNote(in vault: Vault) -> String? {
        let rules = vault.root + "/" + Vault.Layout.rules
        guard let walker = FileManager.default.enumerator(atPath: rules) else { return nil }
        var looked = 0
        while let relative = walker.nextObject() as? String, looked < 2_000 {
            looked += 1
            guard relative.lowercased().hasSuffix(".md"), !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }),
                  let status = (try? FileSystem.status(rules + "/" + relative)) ?? nil, status.kind == .file,
                  let bytes = try? FileSystem.read(rules + "/" + relative, limit: 1 << 20).bytes else { continue }
            let path = Vault.Layout.rules + "/" + relative
            if RuleBook.looksLikeGuardrails(path: path, text: String(decoding: bytes, as: UTF8.self)) { return path }
        }
        return nil
    }

    /// What became of a folder init needs.
    enum FolderOutcome { case existed, created, blocked(String) }

    /// Creates a vault folder unless it exists; refuses symlinks and files in its place.
    static func ensureFolder(_ relative: String, in vault: Vault) -> FolderOutcome {
        let absolute = vault.root + "/" + relative
        switch (try? FileSystem.status(absolute)) ?? nil {
        case .some(let st) where st.kind == .directory: return .existed
        case .some(let st) where st.kind == .symlink: return .blocked("\(relative): is a symlink, which init never follows; left it alone")
        case .some: return .blocked("\(relative): is a file where init expects a folder; left it alone")
        case .none:
            // Parents come first (init sorts folders by depth) and were checked above, so a plain
            // mkdir of the last component cannot pass through a symlink inside the vault.
            do {
                try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: false)
                return .created
            } catch {
                return .blocked("\(relative): cannot create it: \(error.localizedDescription)")
            }
        }
    }
}

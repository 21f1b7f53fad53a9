import Foundation

/// A vault: a folder of Markdown notes that Obsidian opens and the OS works in.
///
/// Every path from note content or the command line goes through `resolve(_:)`, which confines it to
/// the vault: no absolute paths, no `..`, and no symlink anywhere along the way.
public struct Vault: Sendable {
    /// The vault's absolute, standardized root path (no trailing slash).
    public let root: String

    /// A vault at `root` (relative paths are taken from the current directory).
    public init(root: String) {
        var path = root
        if !path.hasPrefix("/") {
            path = FileManager.default.currentDirectoryPath + "/" + path
        }
        path = URL(fileURLWithPath: path).standardizedFileURL.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        // A vault folder that is itself a symlink (or lies under one) is taken at its real place, so
        // the no-symlinks rule applies only inside the vault.
        if let real = realpath(path, nil) {
            path = String(cString: real)
            free(real)
        }
        self.root = path
    }

    /// The folder for machine state (index, ledger, logs); never holds notes.
    public var stateDirectory: String { root + "/" + Layout.state }
    /// The index database path.
    public var databasePath: String { stateDirectory + "/index.sqlite" }

    /// Folder names of the vault layout (DESIGN.md).
    public enum Layout {
        public static let state = ".agentos"
        public static let obsidian = ".obsidian"
        public static let tasks = "Tasks"
        public static let handoffs = "Handoffs"
        public static let results = "Results"
        public static let telemetry = "Telemetry"
        public static let daily = "Daily"
        public static let memory = "Memory"
        public static let rules = "Rules"
        public static let privateFolder = "Private"
        public static let templates = "Templates"
        /// Agent Skills (`Skills/<name>/SKILL.md`), linked into the harnesses by `skills sync`: instructions
        /// for agents, not memory, so retrieval for a packet skips them (`search` still finds them).
        public static let skills = "Skills"
        /// The folders `init` creates, each with a README note.
        public static let folders = [tasks, handoffs, results, telemetry, daily, memory, rules, privateFolder, templates]

        /// Whether `path` is one of the OS's day notes, which every run appends to: a day's
        /// telemetry note or daily note, public or private (`Telemetry/2026-12-06.md`,
        /// `Private/Daily/2026-12-06.md`).
        public static func isDayNote(_ path: String) -> Bool {
            let name = (path as NSString).lastPathComponent
            let day = Array(name.utf8.prefix(10))
            guard name.utf8.count == 13, name.hasSuffix(".md"), day[4] == UInt8(ascii: "-"), day[7] == UInt8(ascii: "-"),
                  day.enumerated().allSatisfy({ $0.offset == 4 || $0.offset == 7 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0.element) }) else { return false }
            let folder = (path as NSString).deletingLastPathComponent
            return [telemetry, daily, privateFolder + "/" + telemetry, privateFolder + "/" + daily].contains(folder)
        }
    }

    /// Errors about paths that would leave the vault.
    public enum PathError: Error, CustomStringConvertible, Equatable, Sendable {
        /// No path, or a path with a NUL byte.
        case empty
        /// An absolute (or `~`) path where a vault-relative one is required.
        case absolute(String)
        /// A `..` component.
        case parentReference(String)
        /// An existing symlink along the path.
        case symlink(String)
        /// An absolute path outside the vault.
        case notInVault(String)

        /// One line saying what is wrong with the path.
        public var description: String {
            switch self {
            case .empty: return "empty path"
            case .absolute(let p): return "\(p): absolute paths are not allowed here; give a path inside the vault"
            case .parentReference(let p): return "\(p): '..' would leave the vault"
            case .symlink(let p): return "\(p): passes through a symlink, which the OS never follows"
            case .notInVault(let p): return "\(p): not inside the vault"
            }
        }
    }

    /// Turns a vault-relative path (from a note or a user) into an absolute path inside the vault.
    ///
    /// Refuses absolute paths, `..`, NUL bytes, and any existing symlink along the path.
    public func resolve(_ relative: String) throws(PathError) -> String {
        try resolveWithStatus(relative).path
    }

    /// `resolve`, with what `lstat` found at the last component (`nil`: nothing is there), which
    /// `resolve` reads anyway.
    public func resolveWithStatus(_ relative: String) throws(PathError) -> (path: String, status: FileStatus?) {
        let cleaned = try Vault.normalize(relative)
        var current = root
        var status: FileStatus?
        var missing = false
        for component in cleaned.split(separator: "/") {
            current += "/" + component
            // Under a component that is not there, nothing is (nor a symlink): not asked again.
            // Asked for every component, a 2 MB "path" (`/.md` repeated in a note, read as a
            // bare path by privacy) made half a million calls, each copying the path so far.
            guard !missing else { continue }
            status = try? FileSystem.status(current)
            if status == nil { missing = true }
            if let status, status.kind == .symlink { throw .symlink(relative) }
        }
        return (current, status)
    }

    /// Whether two vault paths name the same file: byte for byte, as the file system compares
    /// names. Swift's `==` on strings is canonical equivalence, under which `café.md` written
    /// composed (NFC) and decomposed (NFD) are equal, though on Linux they are two notes (a run took
    /// a person's NFD twin of its task for its own, an outside attack).
    public static func samePath(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    /// Normalizes a vault-relative path: strips `./` and duplicate slashes; refuses `..` and absolute paths.
    public static func normalize(_ relative: String) throws(PathError) -> String {
        if relative.isEmpty || relative.utf8.contains(0) { throw .empty }
        if relative.hasPrefix("/") || relative.hasPrefix("~") { throw .absolute(relative) }
        var parts: [Substring] = []
        for part in relative.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { throw .parentReference(relative) }
            parts.append(part)
        }
        if parts.isEmpty { throw .empty }
        return parts.joined(separator: "/")
    }

    /// Accepts a path given on the command line: absolute paths must lie inside the vault; relative ones
    /// are taken relative to the vault root, or to the current directory when that is inside the vault.
    public func resolveUserPath(_ given: String) throws(PathError) -> (absolute: String, relative: String) {
        var candidate = given
        if !candidate.hasPrefix("/") {
            let cwd = FileManager.default.currentDirectoryPath
            let fromCwd = URL(fileURLWithPath: cwd + "/" + given).standardizedFileURL.path
            if cwd.hasPrefix(root + "/") || cwd == root, fromCwd.hasPrefix(root + "/") {
                candidate = fromCwd
            } else {
                let rel = try Vault.normalize(given)
                return (try resolve(rel), rel)
            }
        }
        let standardized = URL(fileURLWithPath: candidate).standardizedFileURL.path
        guard standardized.hasPrefix(root + "/") else { throw .notInVault(given) }
        let rel = String(standardized.dropFirst(root.count + 1))
        return (try resolve(rel), rel)
    }

    /// The vault-relative form of an absolute path inside the vault.
    public func relativePath(_ absolute: String) -> String? {
        guard absolute.hasPrefix(root + "/") else { return nil }
        return String(absolute.dropFirst(root.count + 1))
    }

    /// Whether a vault-relative path is one the OS ignores: a dot-folder or dot-file anywhere along it,
    /// or one of the OS's own temp files.
    public static func isIgnored(_ relative: String) -> Bool {
        for part in relative.split(separator: "/") where part.hasPrefix(".") { return true }
        return false
    }

    /// Where a command's vault came from.
    public enum Source: String, Sendable {
        /// `--vault PATH`.
        case option
        /// `$FBT_VAULT`.
        case environment
        /// The folder around the current directory that holds `.agentos/` or `.obsidian/`.
        case currentDirectory
        /// Nothing named one: `~/AgentOS`.
        case defaultHome
    }

    /// Finds the vault for a command: `--vault`, else `$FBT_VAULT`, else the vault around the current
    /// directory (a folder holding `.agentos/` or `.obsidian/`), else `~/AgentOS`.
    public static func locate(explicit: String?, environment: [String: String], currentDirectory: String) -> Vault {
        locateWithSource(explicit: explicit, environment: environment, currentDirectory: currentDirectory).vault
    }

    /// `locate(explicit:environment:currentDirectory:)`, also saying which of the four places it came from.
    public static func locateWithSource(explicit: String?, environment: [String: String], currentDirectory: String) -> (vault: Vault, source: Source) {
        if let explicit, !explicit.isEmpty { return (Vault(root: explicit), .option) }
        if let env = environment["FBT_VAULT"], !env.isEmpty { return (Vault(root: env), .environment) }
        var dir = URL(fileURLWithPath: currentDirectory).standardizedFileURL.path
        while true {
            for marker in [Layout.state, Layout.obsidian] {
                if let st = try? FileSystem.status(dir + "/" + marker), st.kind == .directory {
                    return (Vault(root: dir), .currentDirectory)
                }
            }
            if dir == "/" || dir.isEmpty { break }
            dir = (dir as NSString).deletingLastPathComponent
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return (Vault(root: home + "/AgentOS"), .defaultHome)
    }

    /// Why this folder is not a vault a command may work in, or `nil` when it is one: it exists and
    /// holds `.agentos/`, `.obsidian/`, or at least one Markdown note (Obsidian opens any folder of
    /// notes). Only `init` (and `watch` on the default `~/AgentOS`) create vaults, so that a mistyped
    /// path never becomes an empty vault no watcher serves.
    public var notAVaultReason: String? {
        guard let status = (try? FileSystem.status(root)) ?? nil else { return "no such folder" }
        guard status.kind == .directory else { return "not a folder" }
        for marker in [Layout.state, Layout.obsidian] {
            if let st = (try? FileSystem.status(root + "/" + marker)) ?? nil, st.kind == .directory { return nil }
        }
        var budget = 5_000
        return Vault.holdsNote(root, depth: 0, budget: &budget) ? nil : "no .obsidian/ or .agentos/ folder and no Markdown note in it"
    }

    /// Whether a folder holds a `.md` file within a few levels (a bounded look, not a full walk).
    private static func holdsNote(_ folder: String, depth: Int, budget: inout Int) -> Bool {
        guard depth < 4, budget > 0, let entries = try? FileSystem.list(folder) else { return false }
        var subfolders: [String] = []
        for entry in entries where !entry.name.hasPrefix(".") {
            budget -= 1
            if budget <= 0 { return false }
            let path = folder + "/" + entry.name
            switch entry.kind ?? (try? FileSystem.status(path))??.kind {
            case .file where entry.name.lowercased().hasSuffix(".md"): return true
            case .directory: subfolders.append(path)
            default: continue
            }
        }
        return subfolders.contains { holdsNote($0, depth: depth + 1, budget: &budget) }
    }
}

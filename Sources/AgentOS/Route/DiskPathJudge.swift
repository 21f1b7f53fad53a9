import Foundation

/// Judges the paths on disk a text names (`TaskFacts.pathsOnDisk`) for the private notes and
/// folders of the vault they open, as a shell would: read as the vault reads a name (case folded),
/// with what is attached to it left off (`**…**`, `:12`, `#Q3`), a glob as what it matches, and with
/// the words after it (a name with spaces). One judge serves one task's texts, or one packet's
/// retrieved pieces, with the budgets they share: 50,000 names the globs may look at, 5,000 vault
/// paths judged (past either, what is named is taken as private, never judged in part).
final class DiskPathJudge {
    let vault: Vault
    let guardrails: Guardrails
    let links: LinkResolver
    /// The note whose text is judged (a task never names itself as a private source).
    let path: String?
    /// The names the globs may still look at, all told (`globMatches`).
    var globBudget = 50_000
    /// The vault paths judged so far.
    var judgedPaths = 0
    private var inVaultOf: [String: String?] = [:]
    private let roots: Set<String>
    private let writtenRoots: [String]
    private var listings = TaskFacts.GlobListings()
    private var globResults: [String: (files: [String], folders: [String])?] = [:]

    init(vault: Vault, guardrails: Guardrails, links: LinkResolver, path: String?) {
        self.vault = vault
        self.guardrails = guardrails
        self.links = links
        self.path = path
        roots = Set([vault.root, TaskFacts.lexicallyNormalized(vault.root), RunWorkspace.realForm(vault.root)])
        writtenRoots = TaskFacts.writtenRoots(of: vault)
    }

    private func vaultPath(_ written: String) -> String? {
        if let known = inVaultOf[written] { return known }
        let found = TaskFacts.vaultPath(of: written, in: vault)
        inVaultOf[written] = found
        return found
    }

    /// The words after a path are read with it when it leads into the vault, or part of the way
    /// to a vault whose own path holds a space (`~/./Obsidian Vault/…`).
    private func reaches(_ base: String) -> Bool {
        if vaultPath(base) != nil { return true }
        guard let absolute = TaskFacts.absolutePath(of: base) else { return false }
        let normal = TaskFacts.lexicallyNormalized(absolute)
        return normal.count > 1 && roots.contains { $0.contains(" ") && $0.hasPrefix(normal) }
    }

    /// Whether `text` names notes of the vault by a glob on disk (`<vault>/Journal/*/*/Div*`, or one
    /// from a folder above it, `~/No*/Journal/Div*`), whatever it matches. For a caller that may
    /// not see private notes such a text is refused: a glob refused when it matched a private note
    /// and routed when it matched nothing spelled a private note's folders and name out, a
    /// character at a time (round 127).
    func namesByGlob(_ text: String) -> Bool {
        for reading in TaskFacts.pathsOnDisk(in: text, roots: writtenRoots, reachesVault: reaches) {
            var reading = reading
            if vaultPath(reading.path) == nil, let reached = TaskFacts.reachedRoot(reading, roots: roots, budget: &globBudget) {
                reading = reached
            }
            if reading.isGlob, vaultPath(reading.path) != nil { return true }
        }
        return false
    }

    /// The private notes and folders `text` names by paths on disk, in order (a name may repeat).
    /// `isPrivate` judges one vault path.
    func privateNotes(namedIn text: String, isPrivate: (String) -> Bool) -> [String] {
        var found: [String] = []
        for reading in TaskFacts.pathsOnDisk(in: text, roots: writtenRoots, reachesVault: reaches) {
            // A path into the vault, or one that holds it (`~`, `/home/anna`, `~/Note*`, `~/*`):
            // that names the vault whole, or a glob's parts below its root (round 58).
            var reading = reading
            if vaultPath(reading.path) == nil, let reached = TaskFacts.reachedRoot(reading, roots: roots, budget: &globBudget) {
                reading = reached
            }
            guard let inVault = vaultPath(reading.path) else { continue }
            // More vault paths than can be judged (each is resolved and looked for): private,
            // as a glob over too many names is (an outside attack: 20,000 paths under 1 MB).
            judgedPaths += 1
            if judgedPaths > 5_000 {
                found.append(inVault)
                break
            }
            // A path in a private folder (or the folder itself, in any case) names private
            // work, whatever is there.
            if !inVault.isEmpty, Privacy.privateFolder(containing: inVault + "/", guardrails: guardrails) != nil,
               TaskFacts.namesFolder(inVault, in: vault, guardrails: guardrails) {
                found.append(inVault)
                continue
            }
            // A glob over a folder that holds a private one names its notes too (`/vault/**/*.md`),
            // and so does the vault itself (`cd ~/Notes`, `-v ~/Notes:/notes`: round 57).
            if reading.isGlob || inVault.isEmpty, let inside = TaskFacts.privateFolder(under: inVault, in: vault, guardrails: guardrails) {
                found.append(inside)
                continue
            }
            var candidates: [String] = []
            if reading.isGlob {
                // What the glob matches, as a shell expands it: a symlink to a private note or
                // folder, or a `private: true` note, among them names it (round 58:
                // `Work/Sha*/*` and `Personal/*` were public). Too many to judge: private.
                let key = inVault + "\u{0}" + (reading.pattern ?? "*")
                if globResults[key] == nil {
                    globResults[key] = .some(TaskFacts.globMatches(reading.pattern ?? "*", under: inVault, in: vault, limit: 5000, listings: &listings, budget: &globBudget))
                }
                guard let matched = globResults[key] ?? nil else {
                    found.append(inVault)
                    continue
                }
                if let folder = matched.folders.first(where: { Privacy.privateFolder(containing: $0 + "/", guardrails: guardrails) != nil }) {
                    found.append(folder)
                    continue
                }
                candidates = [inVault] + matched.files
            } else if !inVault.isEmpty {
                let resolution = links.resolve(WikiLink(target: inVault), from: nil)
                candidates = (resolution.path.map { [$0] } ?? resolution.judged) + [inVault + ".md", inVault]
            }
            for candidate in candidates where candidate != path && TaskFacts.isThere(candidate, in: vault) && isPrivate(candidate) {
                found.append(candidate)
            }
        }
        return found
    }
}

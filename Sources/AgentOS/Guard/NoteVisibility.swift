import Foundation

/// What the caller of a vault command may read. A person, or an agent run on a local lane, sees
/// every note; inside the run of an agent off this machine (see `Privacy.hidesPrivateNotes`),
/// private notes are held back: not listed, not shown, not even named by their titles.
public struct NoteVisibility {
    /// Why private notes are held back ("called from agent run … on the premium lane"), or `nil`
    /// when the caller sees everything.
    public let hiddenBecause: String?
    private let store: NoteStore
    private let guardrails: Guardrails
    private let links: LinkResolver?

    /// The visibility for a command run with `environment` (its `FBT_RUN_ID`) on `vault`.
    public init(vault: Vault, environment: [String: String]) {
        hiddenBecause = Privacy.hidesPrivateNotes(environment: environment, vault: vault)
        store = NoteStore(vault: vault)
        // Rules and links are only read when something has to be judged.
        guardrails = hiddenBecause == nil ? Guardrails() : RuleBook.load(vault: vault).guardrails
        links = hiddenBecause == nil ? nil : LinkResolver(vault: vault)
    }

    /// The visibility for a caller that `hiddenBecause` (non-nil) says may not read private notes,
    /// decided by the caller (an MCP server started for a cloud agent).
    public init(vault: Vault, hiddenBecause: String?) {
        self.hiddenBecause = hiddenBecause
        store = NoteStore(vault: vault)
        guardrails = hiddenBecause == nil ? Guardrails() : RuleBook.load(vault: vault).guardrails
        links = hiddenBecause == nil ? nil : LinkResolver(vault: vault)
    }

    /// Why the note at `path` is withheld from this caller, or `nil` when it may be shown.
    public func withholding(_ path: String) -> String? {
        guard hiddenBecause != nil, let reason = Privacy.reason(ofNoteAt: path, store: store, guardrails: guardrails, links: links) else { return nil }
        // Worded for the caller it is withheld from: the name of the private note it pulls in is
        // private text too, so it is not given.
        return reason.hasPrefix(Privacy.derivedReasonPrefix) ? "made from or pulls in a private note" : reason
    }

    /// For a caller that may not see private notes: a function that replaces the names of the private
    /// notes in `paths` (path, path without `.md`, title) with "(a private note)" in text shown to it
    /// (`route` names the notes that make a task private); for any other caller, the text as it is.
    public func withholdingNames(of paths: [String]) -> @Sendable (String) -> String {
        guard hiddenBecause != nil, !paths.isEmpty else { return { $0 } }
        var names = Set<String>()
        for path in paths {
            names.insert(path)
            if path.hasSuffix(".md") { names.insert(String(path.dropLast(3))) }
            let title = NoteScanner.title(ofPath: path)
            if title.count >= 3 { names.insert(title) }
        }
        // Longest first: a path before the title inside it.
        let ordered = names.sorted { $0.count > $1.count }
        return { text in ordered.reduce(text) { $0.replacingOccurrences(of: $1, with: "(a private note)") } }
    }

    /// Whether the note at `path` may be listed or shown to this caller.
    public func shows(_ path: String) -> Bool {
        withholding(path) == nil
    }
}

import Foundation

/// Runs agents by name from the definitions in `Rules/` (agent notes), with built-in definitions
/// for the agents routing falls back to when `Rules/` has none.
public final class VaultAgents: AgentExecuting, @unchecked Sendable {
    public let vault: Vault
    /// Agents never start in the vault: each run gets its own folder outside it, or the `project:`
    /// folder its task names (see `RunWorkspace`). Kept for callers that read it; always `nil`.
    public let workingDirectory: String? = nil
    /// Variables set for every agent on top of its allow-list.
    public var extraEnvironment: [String: String] = [:]

    private let lock = NSLock()
    /// Agent notes by lower-cased name, read on first use and again after `reload()`.
    private var cache: [String: Result<AgentDefinition, AgentDefinitionError>]?

    public init(vault: Vault) {
        self.vault = vault
    }

    /// Forgets the cached definitions (the watcher calls this when a note in `Rules/` changes).
    public func reload() {
        lock.withLock { cache = nil }
    }

    private func definitions() -> [String: Result<AgentDefinition, AgentDefinitionError>] {
        if let cached = lock.withLock({ cache }) { return cached }
        var found: [String: Result<AgentDefinition, AgentDefinitionError>] = [:]
        let store = NoteStore(vault: vault)
        for path in VaultWalker.markdownFiles(in: vault, under: Vault.Layout.rules) {
            guard let snapshot = try? store.read(path), let note = try? Note.parse(bytes: snapshot.bytes),
                  note.text("type")?.lowercased() == "agent" else { continue }
            let name = (note.text("name") ?? TaskNote.title(of: path)).lowercased()
            if found[name] != nil { continue } // the first note of a name wins, as in the rule book
            do { found[name] = .success(try AgentDefinition.parse(note, path: path)) } catch { found[name] = .failure(error) }
        }
        lock.withLock { cache = found }
        return found
    }

    /// Definitions used when no agent note of that name exists.
    public static let builtIn: [String: AgentDefinition] = [
        "ollama": AgentDefinition(name: "ollama", lane: "local", command: [], output: .ollama, endpoint: "http://localhost:11434", model: "llama3.2", timeout: 600),
        "claude": {
            var claude = AgentDefinition(name: "claude", lane: "premium", command: ["claude", "-p", "--output-format", "json", "--", "{prompt}"],
                                         modelArguments: ["--model", "{model}"], readonlyArguments: ["--permission-mode", "plan"],
                                         approvedArguments: ["--permission-mode", "acceptEdits"], output: .claudeJSON,
                                         priceInPerMillionTokens: 3, priceOutPerMillionTokens: 15, maxCostUSD: 1, timeout: 900,
                                         environmentNames: ["ANTHROPIC_API_KEY"])
            // Claude Code stops itself once a print-mode run has spent this much (checked between turns).
            claude.budgetArguments = ["--max-budget-usd", "{budget}"]
            return claude
        }(),
        "echo": AgentDefinition(name: "echo", lane: "local", command: ["printf", "%s\\n", "{prompt}"], output: .text, timeout: 30),
    ]

    /// Finds the definition of an agent: an agent note in `Rules/` with that name, else a built-in one.
    public func definition(named name: String) throws -> AgentDefinition {
        let wanted = name.lowercased()
        if let defined = definitions()[wanted] { return try defined.get() }
        if let builtIn = VaultAgents.builtIn[wanted] { return builtIn }
        throw AgentDefinitionError(source: name, message: "no agent named '\(name)'; define it in Rules/Agents/\(name).md")
    }

    public func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        let definition: AgentDefinition
        do {
            definition = try self.definition(named: agent)
        } catch {
            return AgentExecution(succeeded: false, answer: "", error: String(describing: error))
        }
        // The agent's own file tools see its working directory: never the vault (private notes are
        // there), but a fresh folder for this run or the task's checked `project:` folder.
        let workspace: RunWorkspace.Workspace
        if definition.output == .ollama {
            workspace = RunWorkspace.Workspace(path: "/", isScratch: false) // an HTTP call: no process, no folder
        } else {
            let runID = runEnvironment["FBT_RUN_ID"] ?? "adhoc-\(UUID().uuidString.prefix(8).lowercased())"
            switch RunWorkspace.forRun(runID: runID, taskPath: runEnvironment["FBT_TASK"], vault: vault) {
            case .success(let chosen): workspace = chosen
            case .failure(let refusal): return AgentExecution(succeeded: false, answer: "", error: refusal.description)
            }
        }
        defer { RunWorkspace.finish(workspace) }
        let result = AgentRunner.run(definition, prompt: prompt, model: model, approved: approved, workingDirectory: workspace.path,
                                     timeout: timeout, cancel: cancel, extraEnvironment: extraEnvironment.merging(runEnvironment) { _, run in run }, onStart: onStart)
        return AgentExecution(
            succeeded: result.isSuccess,
            answer: result.outcome.answer,
            error: result.errorMessage,
            costUSD: result.costUSD,
            tokensIn: result.outcome.tokensIn,
            tokensOut: result.outcome.tokensOut,
            exitCode: result.exitCode.map(Int.init),
            stderrTail: result.stderrTail,
            model: result.model,
            cancelled: cancel.isCancelled
        )
    }
}

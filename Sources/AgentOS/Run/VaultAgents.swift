import Foundation

/// Runs agents by name, from the vault's agent catalogue: the agent notes in `Rules/` as
/// `RuleBook.load` reads them (or `AgentDefinition.builtIn` when there are none), so that
/// routing and running always see the same agents.
public final class VaultAgents: AgentExecuting, Sendable {
    /// The vault whose `Rules/` define the agents.
    public let vault: Vault
    /// Agents never start in the vault: each run gets its own folder outside it, or the `project:`
    /// folder its task names (see `RunWorkspace`). Kept for callers that read it; always `nil`.
    public let workingDirectory: String? = nil
    /// Variables set for every agent on top of its allow-list.
    public let extraEnvironment: [String: String]
    /// The binary a run's MCP server is (`mcp: true` agents): this process's own, normally.
    public let mcpExecutable: String?

    /// The catalogue, read on first use and replaced by `reload`.
    private let catalogue = Locked<[AgentDefinition]?>(nil)

    /// Agents of `vault`; `extraEnvironment` is given to every agent it runs; `mcpExecutable` is the
    /// `fuckbigtech` binary that serves MCP to runs of `mcp: true` agents (this process by default).
    public init(vault: Vault, extraEnvironment: [String: String] = [:], mcpExecutable: String? = RunMCPServer.currentExecutable) {
        self.vault = vault
        self.extraEnvironment = extraEnvironment
        self.mcpExecutable = mcpExecutable
    }

    /// Takes the agents of a freshly loaded rule book (the watcher's routing calls this when a note
    /// in `Rules/` changes, so the notes are read once), or forgets them to read them on next use.
    public func reload(_ book: RuleBook? = nil) {
        catalogue.withLock { $0 = book?.agents }
    }

    private func agents() -> [AgentDefinition] {
        if let cached = catalogue.withLock({ $0 }) { return cached }
        let loaded = RuleBook.load(vault: vault).agents
        catalogue.withLock { $0 = loaded }
        return loaded
    }

    /// Finds the definition of an agent by name (case-insensitive) in the catalogue.
    public func definition(named name: String) throws -> AgentDefinition {
        let wanted = name.lowercased()
        if let found = agents().first(where: { $0.name.lowercased() == wanted }) { return found }
        throw AgentDefinitionError(source: name, message: "no agent named '\(name)'; define it in Rules/Agents/\(name).md")
    }

    /// Runs `agent` on `prompt` in a folder of its own (see `RunWorkspace`) and reports what it did.
    public func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        let definition: AgentDefinition
        do {
            definition = try self.definition(named: agent)
        } catch {
            return AgentExecution(succeeded: false, answer: "", error: String(describing: error))
        }
        if definition.output == .browser {
            // Our own code drives the browser (no agent process reads a prompt): see `BrowserAgent`.
            return BrowserAgent.execute(definition, vault: vault, timeout: timeout, cancel: cancel, runEnvironment: runEnvironment, onStart: onStart)
        }
        // The agent's own file tools see its working directory: never the vault (private notes are
        // there), but a fresh folder for this run or the task's checked `project:` folder.
        let workspace: RunWorkspace.Workspace
        // The run in a `project:` folder, recorded again after its agent ended when it is private then.
        var projectRun: String?
        var mcp: RunMCPServer?
        var mcpFolder: RunWorkspace.Workspace?
        if definition.output.isHTTP {
            workspace = RunWorkspace.Workspace(path: "/", isScratch: false) // an HTTP call: no process, no folder
        } else {
            let runID = runEnvironment["FBT_RUN_ID"] ?? "adhoc-\(UUID().uuidString.prefix(8).lowercased())"
            switch RunWorkspace.forRun(runID: runID, taskPath: runEnvironment["FBT_TASK"], vault: vault) {
            case .success(let chosen): workspace = chosen
            case .failure(let refusal): return AgentExecution(succeeded: false, answer: "", error: refusal.description)
            }
            // A private run's agent may leave private text in a project folder: the folder is
            // recorded before it starts, so that no cloud agent is run there after it (`ProjectTaint`)
            // — and again after it, for a run that turned private while it ran (its agent read a
            // private note through the OS's tools: an outside attack).
            if !workspace.isScratch {
                if let refusal = ProjectTaint.guardFolder(workspace.path, runID: runID, local: definition.lane.keepsWorkLocal, vault: vault) {
                    return AgentExecution(succeeded: false, answer: "", error: refusal)
                }
                projectRun = runID
            }
            if definition.usesMCP {
                guard let executable = mcpExecutable else {
                    RunWorkspace.finish(workspace)
                    return AgentExecution(succeeded: false, answer: "", error: "agent \(definition.name) has 'mcp: true' but this process cannot tell where its fuckbigtech binary is")
                }
                // The configuration goes into the run's own 0700 folder; a `project:` folder is the
                // user's, so there it goes into a scratch folder of its own instead.
                if !workspace.isScratch {
                    switch RunWorkspace.makeScratch(runID: runID + "-mcp", vault: vault) {
                    case .success(let folder): mcpFolder = folder
                    case .failure(let refusal): return AgentExecution(succeeded: false, answer: "", error: refusal.description)
                    }
                }
                let server = RunMCPServer(executable: executable, vault: vault.root, agent: definition.name, runID: runID, folder: (mcpFolder ?? workspace).path)
                do {
                    try server.writeConfig()
                } catch {
                    RunWorkspace.finish(workspace)
                    if let mcpFolder { RunWorkspace.finish(mcpFolder) }
                    return AgentExecution(succeeded: false, answer: "", error: "cannot write the run's MCP configuration \(server.configPath): \(error.description)")
                }
                mcp = server
            }
        }
        defer {
            if let projectRun, Privacy.reason(ofRun: projectRun, vault: vault) != nil { try? ProjectTaint.record(workspace.path, vault: vault) }
            // The configuration goes first, so that a folder the agent left empty is removed as before.
            mcp?.removeConfig()
            if let mcpFolder { RunWorkspace.finish(mcpFolder) }
            RunWorkspace.finish(workspace)
        }
        // Kept on disk while the agent runs, for a start after a crash to read (`AgentOutputCopy`).
        let copy = !AgentOutputCopy.formats.contains(definition.output) ? nil : runEnvironment["FBT_RUN_ID"].flatMap { AgentOutputCopy.open(runID: $0, format: definition.output, vault: vault) }
        let result = AgentRunner.run(definition, prompt: prompt, model: model, approved: approved, workingDirectory: workspace.path,
                                     timeout: timeout, cancel: cancel, extraEnvironment: extraEnvironment.merging(runEnvironment) { _, run in run },
                                     mcp: mcp, outputCopy: copy?.fd ?? -1, onStart: onStart)
        if let copy {
            Descriptor.close(copy.fd)
            try? FileSystem.remove(copy.path)
        }
        var execution = AgentExecution(
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
        execution.costSource = result.costSource
        execution.tokensEstimated = result.tokensEstimated
        execution.files = result.outcome.files
        // Stopped after it printed its whole, successful answer (a CLI lingering on hooks or MCP
        // servers as the watcher stops): the answer stands (round 154).
        execution.answeredBeforeStop = cancel.isCancelled && result.outcome.isFinal && !result.outcome.isError
        if let failure = result.failure, !cancel.isCancelled {
            execution.failure = FailureClassifier.classify(failure, message: result.outcome.errorMessage, stderr: result.stderrTail, signal: result.signal)
        }
        return execution
    }
}

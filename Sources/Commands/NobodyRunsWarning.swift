import AgentOS

extension Console {
    /// Warns on stderr when no watcher serves the vault, so a note just written does not wait unseen.
    func warnIfNobodyRuns(_ path: String, vault: Vault) {
        guard case .stopped = WatcherHeartbeat.liveness(of: vault) else { return }
        error("warning: no watcher runs on \(vault.root), so nothing will pick up \(path); start 'fuckbigtech watch' (or 'fuckbigtech service install'), or run it now with 'fuckbigtech run \"\(path)\"'")
    }
}

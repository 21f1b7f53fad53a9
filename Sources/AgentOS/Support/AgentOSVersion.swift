/// The tool's version (printed by `--version`, written in the watcher's heartbeat).
public enum AgentOSVersion {
    /// The version as text.
    public static let current = "0.1.0"
}

/// Why the watcher cannot start on a vault.
public enum DaemonError: Error, CustomStringConvertible, Equatable {
    /// Another live process holds the vault's watcher lock (its pid, when the lock file names one).
    case alreadyRunning(vault: String, pid: Int32?)
    /// The machine name (`--machine`, `FBT_MACHINE` or the host name) cannot name a note, and why.
    case badMachineName(String, String)

    /// One line, as `watch` prints it.
    public var description: String {
        switch self {
        case .alreadyRunning(let vault, let pid):
            return "another watcher is already running on \(vault)\(pid.map { " (pid \($0))" } ?? ""); stop it first"
        case .badMachineName(let name, let why):
            return "machine name '\(name)' \(why); give another with --machine NAME or FBT_MACHINE"
        }
    }
}

import Foundation
import Glibc

/// What an engine run's agent prints on stdout, copied as it arrives to
/// `.agentos/output/<run id>.<output format>` (0600) and removed when the run's execution returns.
/// A file left there is the output of a run a crash, a `kill -9` or a second Ctrl-C cut off: the
/// next start reads it (`TaskEngine.recover`), so that what the agent reported spending is counted
/// even when nothing else kept it (round 154: a free agent's $4, printed before the watcher was
/// killed, was in no ledger and the task ran and paid again).
enum AgentOutputCopy {
    static func folder(_ vault: Vault) -> String { vault.stateDirectory + "/output" }

    /// The formats whose output says what a run cost or that it ended (plain text says neither, so
    /// it is not copied).
    static let formats: Set<AgentOutputFormat> = [.claudeJSON, .codexJSONL, .opencodeJSONL, .openclawJSON]

    /// Opens the copy of run `runID`'s stdout for writing; `nil` when it cannot be made (the run
    /// goes on without one).
    static func open(runID: String, format: AgentOutputFormat, vault: Vault) -> (fd: Int32, path: String)? {
        guard isRunID(runID) else { return nil }
        let folder = folder(vault)
        mkdir(folder, 0o700)
        let path = folder + "/" + runID + "." + format.rawValue
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        return fd >= 0 ? (fd, path) : nil
    }

    /// The copy a cut-off run `runID` left, with the format its agent printed in.
    static func left(runID: String, vault: Vault) -> (format: AgentOutputFormat, bytes: [UInt8], path: String)? {
        guard isRunID(runID), let entries = try? FileSystem.list(folder(vault)) else { return nil }
        for (name, _) in entries where name.hasPrefix(runID + ".") {
            guard let format = AgentOutputFormat(rawValue: String(name.dropFirst(runID.count + 1))) else { continue }
            let path = folder(vault) + "/" + name
            guard let bytes = try? FileSystem.read(path).bytes else { continue }
            return (format, bytes, path)
        }
        return nil
    }

    /// What the agent of run `runID` had printed, read from the copy it left: the cost it reported
    /// (taken within reason), whether it printed its run's end, and the whole outcome.
    static func reported(runID: String, vault: Vault) -> (cost: Double?, isFinal: Bool, outcome: AgentOutcome)? {
        guard let left = left(runID: runID, vault: vault) else { return nil }
        var outcome = AgentOutputParser.parse(left.format, output: left.bytes)
        AgentRunner.takeWithinReason(&outcome)
        return (outcome.costUSD, outcome.isFinal, outcome)
    }

    /// Removes the copies of runs not in `active` (a start after those were read).
    static func removeAll(except active: Set<String>, vault: Vault) {
        guard let entries = try? FileSystem.list(folder(vault)) else { return }
        for (name, _) in entries {
            let runID = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
            if !active.contains(runID) { try? FileSystem.remove(folder(vault) + "/" + name) }
        }
    }

    /// A run id the engine makes (letters, digits and `-`): never a path.
    static func isRunID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 128 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || $0 == 45 }
    }
}

import Foundation

/// `memory-test`'s skills check: did the shared skills degrade? A skill that breaks the Agent Skills
/// format fails the run (no harness can load it); a harness folder out of step with the vault's
/// `Skills/` is a warning (`skills sync` fixes it); a vault without skills skips the check.
enum SkillCheck {
    /// Checks the vault's skills, and their links in `folders`.
    static func check(vault: Vault, folders: [SkillFolder]) -> MemoryTestCheck {
        let report = SkillSync.status(vault: vault, folders: folders)
        if report.skills.isEmpty { return MemoryTestCheck(name: "skills", status: .skip, detail: "no skills in \(SkillSync.folder)/") }
        let invalid = report.invalid.map { "\($0.name): \($0.problems.joined(separator: "; "))" }
        let drift = report.folders.flatMap { entry in entry.links.filter { $0.state != .linked }.map { "\($0.path): \($0.state.rawValue) (\($0.detail))" } }
        let valid = report.skills.count - invalid.count
        if !invalid.isEmpty {
            return MemoryTestCheck(name: "skills", status: .fail, detail: "\(invalid.count) of \(report.skills.count) skills break the Agent Skills format", problems: invalid + drift)
        }
        if !drift.isEmpty {
            return MemoryTestCheck(name: "skills", status: .warn, detail: "\(valid) skills valid; \(drift.count) harness entries out of sync (run 'fuckbigtech skills sync')", problems: drift)
        }
        return MemoryTestCheck(name: "skills", status: .ok, detail: "\(valid) skills valid" + (folders.isEmpty ? "" : " and linked in \(folders.count) harness folders"))
    }
}

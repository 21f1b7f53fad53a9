import AgentOS
import Foundation

/// `fuckbigtech skills status|sync`: the vault's `Skills/` linked into the folders Claude Code, Codex
/// and OpenCode read skills from.
enum SkillsCommand {
    /// The command's name, help and options.
    static let spec = CommandSpec(
        name: "skills",
        summary: "link the vault's Skills/ into Claude Code, Codex and OpenCode",
        forms: [CommandForm(["status"], max: 0), CommandForm(["sync"], max: 0)],
        options: [.json("print the report as JSON")],
        description: """
        status  checks each Skills/<name>/SKILL.md against the Agent Skills format (name equal to the
                folder, lowercase letters, digits and single hyphens, at most 64 characters; a
                description of 1 to 1,024 characters) and compares the vault's skills with
                ~/.claude/skills (Claude Code) and ~/.agents/skills (Codex, OpenCode). Changes nothing.
        sync    links every valid skill into both folders and removes links of ours whose skill is
                gone or invalid. A real folder, a file or a link to anywhere else with a skill's name
                is reported and left alone: sync never deletes what it did not create.
        """,
        run: run
    )

    /// Runs `skills status|sync`.
    static func run(_ context: CommandContext) throws -> Int32 {
        let folders = SkillFolder.standard(environment: context.environment)
        let before = SkillSync.status(vault: context.vault, folders: folders)
        let report = context.arguments.positionals[0] == "sync" ? try SkillSync.sync(vault: context.vault, folders: folders) : before
        if context.json {
            context.console.print(report.json.pretty)
            return 0
        }
        let console = context.console
        if report.skills.isEmpty { console.print("no skills in \(context.vault.root)/\(SkillSync.folder)/ (a skill is a folder with a SKILL.md)") }
        for skill in report.skills {
            console.print(skill.isValid ? "skill \(skill.name): valid" : "skill \(skill.name): invalid, not linked")
            for problem in skill.problems { console.print("  - \(problem)") }
        }
        for (folder, links) in report.folders {
            let harnesses = folder.harnesses.map(\.rawValue).joined(separator: ", ")
            let changed = links.filter { link in before.folders.first { $0.folder == folder }?.links.contains(link) != true }
            console.print("\(folder.path) (\(harnesses)): " + (links.allSatisfy { $0.state == .linked } ? "in sync" : "out of sync"))
            for link in before.folders.first(where: { $0.folder == folder })?.links ?? [] where link.state == .stale && !links.contains(where: { $0.path == link.path }) {
                console.print("  \(link.name): removed our stale link (\(link.detail))")
            }
            for link in links where link.state != .linked || changed.contains(link) {
                let what = link.state == .linked ? "linked now" : link.state.rawValue
                console.print("  \(link.name): \(what) (\(link.detail))")
            }
        }
        if context.arguments.positionals[0] == "status", !report.inSync { console.print("run 'fuckbigtech skills sync' to link them") }
        return 0
    }
}

import Foundation

/// `doctor`'s view of each agent harness: whether its configuration registers our MCP server for this
/// vault (what `mcp install` writes) and whether the skills folder it reads matches the vault's `Skills/`
/// (what `skills sync` makes). A harness that is not installed is only reported, never warned about.
enum HarnessChecks {
    /// One finding per harness, then one per invalid skill.
    static func run(_ context: DoctorContext) -> [DoctorFinding] {
        let folders = SkillFolder.standard(environment: context.environment)
        let skills = SkillSync.status(vault: context.vault, folders: folders)
        var findings = Harness.allCases.map { finding(for: $0, skills: skills, context: context) }
        // With no guardrails note it can read, every note counts as private, skills too: the fix
        // is the guardrails note (said under "rules"), not the skill.
        let guardrailsClosed = !RuleBook.load(vault: context.vault).guardrails.privacyErrors.isEmpty
        for skill in skills.invalid {
            // Links are live: a skill that turned private (or took a secret) after it was linked is
            // read by the harnesses at once, until `skills sync` takes the link away.
            let stillLinked = skills.folders.filter { $0.links.contains { $0.name == skill.name && $0.state == .stale } }.map(\.folder.path)
            if stillLinked.isEmpty {
                findings.append(DoctorFinding(check: "skills", status: .warn, finding: "skill \(skill.name) is invalid and not linked: \(skill.problems.joined(separator: "; "))",
                                              fix: guardrailsClosed ? "fix the guardrails note in \(Vault.Layout.rules)/ (see the rules check); the skill is private until then" : "fix \(SkillSync.folder)/\(skill.name)/SKILL.md"))
            } else {
                findings.append(DoctorFinding(check: "skills", status: .fail, finding: "skill \(skill.name) is invalid and still linked in \(stillLinked.joined(separator: ", ")), where harnesses read it: \(skill.problems.joined(separator: "; "))",
                                              fix: "run 'fuckbigtech skills sync' to take the link away now, then fix \(SkillSync.folder)/\(skill.name)/"))
            }
        }
        return findings
    }

    static func finding(for harness: Harness, skills: SkillSync, context: DoctorContext) -> DoctorFinding {
        let installed = CommandProbe.find(harness.rawValue, path: context.environment["PATH"] ?? "") != nil
        var problems: [String] = []
        var fixes: [String] = []
        var said: [String] = []
        let path = harness.configPath(environment: context.environment)
        do {
            if let argv = try MCPRegistration.registered(at: path, harness: harness) {
                let expected = MCPRegistration(harness: harness, executable: argv.first ?? "", vault: context.vault.root).argv
                if argv == expected {
                    if FileManager.default.isExecutableFile(atPath: argv[0]) {
                        said.append("MCP server registered in \(path)")
                    } else {
                        problems.append("the MCP server registered in \(path) runs \(argv[0]), which is not an executable")
                        fixes.append("fuckbigtech mcp install \(harness.rawValue)")
                    }
                } else if argv.count > 1, argv[1] == "mcp", !argv.contains("--agent") {
                    // An entry from before install named the agent: its server treats the client as
                    // the vault's owner and would hand a cloud agent private notes' text.
                    problems.append("the MCP server registered in \(path) has no --agent, so \(harness.rawValue) could read private notes through it")
                    fixes.append("fuckbigtech mcp install \(harness.rawValue)")
                } else {
                    problems.append("the MCP server registered in \(path) is for another vault or command: \(argv.joined(separator: " "))")
                    fixes.append("fuckbigtech mcp install \(harness.rawValue)")
                }
            } else {
                if installed { problems.append("MCP server not registered in \(path)") } else { said.append("MCP server not registered in \(path)") }
                fixes.append("fuckbigtech mcp install \(harness.rawValue)")
            }
        } catch {
            problems.append(error.description)
        }
        if let (folder, links) = skills.folders.first(where: { $0.folder.harnesses.contains(harness) }) {
            let off = links.filter { $0.state != .linked }
            if off.isEmpty {
                said.append(links.isEmpty ? "no skills to link" : "skills in sync in \(folder.path) (\(links.count))")
            } else {
                let text = "skills out of sync in \(folder.path): " + off.map { "\($0.name) \($0.state.rawValue)" }.joined(separator: ", ")
                if installed { problems.append(text) } else { said.append(text) }
                if off.contains(where: { $0.state == .missing || $0.state == .stale }) { fixes.append("fuckbigtech skills sync") }
                for link in off where link.state == .foreign || link.state == .occupied {
                    fixes.append("move \(link.path) (not ours) aside, then fuckbigtech skills sync")
                }
            }
        }
        let prefix = harness.rawValue + (installed ? "" : " (not installed)") + ": "
        return DoctorFinding(check: "harness", status: problems.isEmpty ? .ok : .warn, finding: prefix + (problems + said).joined(separator: "; "), fix: problems.isEmpty ? nil : fixes.joined(separator: " && "))
    }
}

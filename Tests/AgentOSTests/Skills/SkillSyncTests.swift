import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// `skills status|sync` in temporary homes: valid skills are linked where each harness reads them,
/// an invalid skill is reported with the rule it breaks, and nothing we did not create is changed.
@Suite struct SkillSyncTests {
    struct Setup {
        let root: String
        var home: String { root + "/home" }
        var vault: Vault { Vault(root: root + "/vault") }
        var environment: [String: String] { ["HOME": home, "PATH": "/usr/bin:/bin"] }
        var folders: [SkillFolder] { SkillFolder.standard(environment: environment) }

        init() throws {
            root = TemporaryFolder.make("fbt-skills")
            _ = try VaultInit.run(vault: Vault(root: root + "/vault"))
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        }

        func skill(_ folder: String, _ text: String) throws {
            try FileManager.default.createDirectory(atPath: vault.root + "/Skills/" + folder, withIntermediateDirectories: true)
            try text.replacingFile(vault.root + "/Skills/" + folder + "/SKILL.md")
        }

        func run(_ arguments: [String]) -> (code: Int32, out: String, err: String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(["skills"] + arguments + ["--vault", vault.root], console: console, environment: environment, executablePath: "/opt/fbt/fuckbigtech")
            return (code, captured.stdout, captured.stderr)
        }

        func link(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }
    }

    @Test func theShippedSkillIsValidAndTeachesTheToolsAndTheLimits() throws {
        let setup = try Setup()
        defer { TemporaryFolder.remove(setup.root) }
        let skill = Skill.check(folder: setup.vault.root + "/Skills/fuckbigtech")
        #expect(skill.problems == [])
        let text = try String(contentsOfFile: skill.path + "/SKILL.md", encoding: .utf8)
        for tool in ["search", "read_note", "write_note", "set_properties", "create_task", "handoff", "route", "context", "status", "backlinks", "recent", "--expect", "approved", "Rules/", "Private/"] {
            #expect(text.contains(tool), "the skill mentions \(tool)")
        }
    }

    @Test func eachRuleOfTheFormatIsReportedByName() throws {
        let setup = try Setup()
        defer { TemporaryFolder.remove(setup.root) }
        try setup.skill("Upper", "---\nname: Upper\ndescription: d\n---\n")
        try setup.skill("a--b", "---\nname: a--b\ndescription: d\n---\n")
        try setup.skill("mismatch", "---\nname: other\ndescription: d\n---\n")
        try setup.skill("no-description", "---\nname: no-description\n---\nbody\n")
        try setup.skill("long-description", "---\nname: long-description\ndescription: \(String(repeating: "x", count: 1025))\n---\n")
        try setup.skill("no-frontmatter", "# just a heading\n")
        try setup.skill(String(repeating: "a", count: 65), "---\nname: \(String(repeating: "a", count: 65))\ndescription: d\n---\n")
        try FileManager.default.createDirectory(atPath: setup.vault.root + "/Skills/empty", withIntermediateDirectories: true)
        let report = SkillSync.status(vault: setup.vault, folders: setup.folders)
        let problems = Dictionary(report.skills.map { ($0.name, $0.problems.joined(separator: "; ")) }, uniquingKeysWith: { a, _ in a })
        #expect(problems["Upper"]?.contains("must be lowercase letters, digits and single hyphens") == true)
        #expect(problems["a--b"]?.contains("single hyphens") == true)
        #expect(problems["mismatch"] == "name 'other' must equal the folder name 'mismatch'")
        #expect(problems["no-description"] == "frontmatter has no description (it must be non-empty)")
        #expect(problems["long-description"] == "description must be at most 1,024 characters (is 1025)")
        #expect(problems["no-frontmatter"]?.contains("must start with YAML frontmatter") == true)
        #expect(problems[String(repeating: "a", count: 65)]?.contains("1 to 64 characters (is 65)") == true)
        #expect(problems["empty"]?.contains("SKILL.md is missing") == true)
        #expect(problems["fuckbigtech"] == "")
        // Invalid skills are never linked; status says which rule, in words.
        let status = setup.run(["status"])
        #expect(status.code == 0 && status.out.contains("skill mismatch: invalid, not linked\n  - name 'other' must equal the folder name 'mismatch'"))
        _ = try SkillSync.sync(vault: setup.vault, folders: setup.folders)
        for folder in setup.folders {
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["fuckbigtech"])
        }
    }

    @Test func syncLinksEveryValidSkillWhereEachHarnessReadsItAndStatusChangesNothing() throws {
        let setup = try Setup()
        defer { TemporaryFolder.remove(setup.root) }
        try setup.skill("release-notes", "---\nname: release-notes\ndescription: Write release notes from the merged changes.\n---\n")
        let status = setup.run(["status"])
        #expect(status.out.contains("out of sync") && status.out.contains("release-notes: missing"))
        #expect(!FileManager.default.fileExists(atPath: setup.home + "/.claude"), "status writes nothing")

        let sync = setup.run(["sync"])
        #expect(sync.code == 0, "\(sync.err)")
        for folder in [setup.home + "/.claude/skills", setup.home + "/.agents/skills"] {
            #expect(setup.link(folder + "/release-notes") == setup.vault.root + "/Skills/release-notes")
            #expect(setup.link(folder + "/fuckbigtech") == setup.vault.root + "/Skills/fuckbigtech")
            #expect(FileManager.default.fileExists(atPath: folder + "/release-notes/SKILL.md"), "the link reaches the skill")
        }
        let report = SkillSync.status(vault: setup.vault, folders: setup.folders)
        #expect(report.inSync)
        let again = setup.run(["sync"])
        #expect(again.out.contains("(claude): in sync\n") && !again.out.contains("linked now"))
        let json = try JSON.parse(setup.run(["status", "--json"]).out)
        #expect(json["in_sync"] == .bool(true))
        #expect(json["folders"]?.arrayValue?.map { $0["harnesses"] } == [.array([.string("claude")]), .array([.string("codex"), .string("opencode")])])
    }

    @Test func whatWeDidNotCreateIsReportedAndLeftAloneAndOurStaleLinksGo() throws {
        let setup = try Setup()
        defer { TemporaryFolder.remove(setup.root) }
        try setup.skill("mine", "---\nname: mine\ndescription: A skill of the vault.\n---\n")
        try setup.skill("theirs", "---\nname: theirs\ndescription: Another.\n---\n")
        let claude = setup.home + "/.claude/skills"
        let agents = setup.home + "/.agents/skills"
        // A real skill folder with the same name, a link to another place, and an unrelated skill.
        try FileManager.default.createDirectory(atPath: claude + "/mine", withIntermediateDirectories: true)
        try "---\nname: mine\ndescription: the user's own\n---\n".replacingFile(claude + "/mine/SKILL.md")
        try FileManager.default.createDirectory(atPath: agents, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: agents + "/theirs", withDestinationPath: setup.root + "/elsewhere/theirs")
        try FileManager.default.createSymbolicLink(atPath: agents + "/unrelated", withDestinationPath: setup.root + "/elsewhere/unrelated")

        let sync = setup.run(["sync"])
        #expect(sync.code == 0)
        #expect(sync.out.contains("  mine: occupied (a real folder or file, not ours; left alone)"))
        #expect(sync.out.contains("  theirs: foreign (a link to \(setup.root)/elsewhere/theirs, not ours; left alone)"))
        #expect(try String(contentsOfFile: claude + "/mine/SKILL.md", encoding: .utf8).contains("the user's own"))
        #expect(setup.link(agents + "/theirs") == setup.root + "/elsewhere/theirs")
        #expect(setup.link(agents + "/unrelated") == setup.root + "/elsewhere/unrelated")
        #expect(setup.link(agents + "/mine") == setup.vault.root + "/Skills/mine")
        #expect(!SkillSync.status(vault: setup.vault, folders: setup.folders).inSync)

        // The vault's skill goes: our link is stale and sync removes it; the others stay.
        try FileManager.default.removeItem(atPath: setup.vault.root + "/Skills/mine")
        #expect(setup.run(["status"]).out.contains("  mine: stale (the vault's skill 'mine' is gone)"))
        #expect(setup.link(agents + "/mine") != nil, "status changes nothing")
        let after = setup.run(["sync"])
        #expect(after.out.contains("  mine: removed our stale link"))
        #expect(setup.link(agents + "/mine") == nil)
        #expect(FileManager.default.fileExists(atPath: claude + "/mine/SKILL.md"), "the user's folder of that name stays")
        #expect(setup.link(agents + "/unrelated") != nil && setup.link(agents + "/theirs") != nil)
    }

    @Test func aSkillIsFoundBySearchButNeverPushedIntoATasksPacket() throws {
        let setup = try Setup()
        defer { TemporaryFolder.remove(setup.root) }
        func cli(_ arguments: [String]) -> String {
            let (console, captured) = Console.capturing()
            _ = CLI.run(arguments + ["--vault", setup.vault.root], console: console, environment: setup.environment, executablePath: "/opt/fbt/fuckbigtech")
            return captured.stdout + captured.stderr
        }
        _ = cli(["task", "new", "Find things before you write: read the note, keep its hash, write with the expected hash", "--title", "Hash"])
        _ = cli(["index"])
        #expect(cli(["search", "expected hash"]).contains("Skills/fuckbigtech/SKILL.md"), "the words do match the skill")
        let packet = cli(["context", "Tasks/Hash.md"])
        #expect(packet.contains("keep its hash") && packet.contains(" pieces, ~"), "\(packet)")
        #expect(!packet.contains("Skills/"), "skills are instructions for the harness, not memory for the packet: \(packet)")
    }
}

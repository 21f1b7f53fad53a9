import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Every entry under a folder: files with their bytes, folders and symlinks marked as such.
func treeSnapshot(_ root: String) -> [String: Data] {
    var snapshot: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        let path = root + "/" + relative
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        switch attributes?[.type] as? FileAttributeType {
        case .typeDirectory?: snapshot[relative] = Data("<folder>".utf8)
        case .typeSymbolicLink?: snapshot[relative] = Data("<symlink>".utf8)
        default: snapshot[relative] = FileManager.default.contents(atPath: path) ?? Data("<unreadable>".utf8)
        }
    }
    return snapshot
}

@Suite struct VaultInitTests {
    @Test func createsTheLayoutAndEveryTemplateFile() throws {
        let temp = TemporaryFolder()
        let vault = Vault(root: temp.path + "/vault")
        let report = try VaultInit.run(vault: vault)
        #expect(report.createdRoot)
        for folder in Vault.Layout.folders {
            #expect(FileManager.default.fileExists(atPath: vault.root + "/" + folder + "/README.md"), "\(folder)/README.md")
        }
        for file in VaultTemplate.files {
            let bytes = FileManager.default.contents(atPath: vault.root + "/" + file.path)
            #expect(bytes == Data(file.contents.utf8), "\(file.path) was not written as shipped")
        }
        #expect(Set(report.createdFiles) == Set(VaultTemplate.files.map(\.path) + [".agentos/adopted"]))
        #expect(report.keptFiles.isEmpty)
        // No temp files left behind by the atomic writes.
        #expect(!treeSnapshot(vault.root).keys.contains { $0.contains(NoteStore.tempPrefix) })
        // Machine state only with --with-memory, but the list of adopted notes (here none).
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.stateDirectory) == ["adopted"])
        #expect(report.adoptedWork.isEmpty)
    }

    @Test func secondRunChangesNothing() throws {
        let temp = TemporaryFolder()
        let vault = Vault(root: temp.path)
        _ = try VaultInit.run(vault: vault, withMemory: true)
        let before = treeSnapshot(vault.root)
        let second = try VaultInit.run(vault: vault, withMemory: true)
        #expect(!second.changedAnything)
        #expect(second.createdFiles.isEmpty && second.createdFolders.isEmpty)
        #expect(second.keptFiles.count == VaultTemplate.files.count)
        #expect(treeSnapshot(vault.root) == before)
    }

    // The corpus is a fixture (CI lays shared/ beside the clone): when it is missing the copy throws.
    @Test func adoptingTheHelpVaultLeavesEveryFileByteIdentical() throws {
        let temp = TemporaryFolder()
        let copy = temp.path + "/obsidian-help"
        try ObsidianHelpCorpus.copy(to: copy)
        let before = treeSnapshot(copy)
        #expect(before.count > 2000)
        let report = try VaultInit.run(vault: Vault(root: copy))
        let after = treeSnapshot(copy)
        for (path, bytes) in before {
            #expect(after[path] == bytes, "\(path) changed")
        }
        // Everything new is a template file or one of its folders.
        let added = Set(after.keys).subtracting(before.keys)
        let expected = Set(report.createdFiles + report.createdFolders)
        #expect(added == expected)
        #expect(!report.createdFiles.isEmpty)
    }

    @Test func keepsAPersonsFilesAndAddsTheRest() throws {
        let temp = TemporaryFolder()
        let root = temp.path
        try FileManager.default.createDirectory(atPath: root + "/.obsidian", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/Rules", withIntermediateDirectories: true)
        let mine = "---\ntype: guardrails\nbudget_day_usd: 0.5\n---\nMine.\n"
        try mine.write(toFile: root + "/Rules/Guardrails.md", atomically: false, encoding: .utf8)
        try "{\"types\": {\"status\": \"multitext\"}}".write(toFile: root + "/.obsidian/types.json", atomically: false, encoding: .utf8)

        let report = try VaultInit.run(vault: Vault(root: root))
        #expect(!report.createdRoot)
        #expect(Set(report.keptFiles) == ["Rules/Guardrails.md", ".obsidian/types.json"])
        #expect(try String(contentsOfFile: root + "/Rules/Guardrails.md", encoding: .utf8) == mine)
        #expect(try String(contentsOfFile: root + "/.obsidian/types.json", encoding: .utf8) == "{\"types\": {\"status\": \"multitext\"}}")
        #expect(FileManager.default.fileExists(atPath: root + "/Rules/Agents/claude.md"))
        #expect(!report.createdFolders.contains("Rules"))
    }

    /// Tour 59 (medium): a vault with a `Templates/Task.md` of its own kept it, silently, and the
    /// README's "start from the Task template (status: draft)" then made a note that ran as soon
    /// as it was saved. Ours goes beside it as `Agent task.md`, and init says so; a second run
    /// adds nothing, and a template equal to ours is simply kept.
    @Test func aTemplateOfThePersonsOwnIsKeptAndOursGoesBesideIt() throws {
        let temp = TemporaryFolder()
        let root = temp.path
        try FileManager.default.createDirectory(atPath: root + "/Templates", withIntermediateDirectories: true)
        let mine = "---\nmy: own task template\n---\n# {{title}}\n"
        try mine.write(toFile: root + "/Templates/Task.md", atomically: false, encoding: .utf8)
        let report = try VaultInit.run(vault: Vault(root: root))
        #expect(try String(contentsOfFile: root + "/Templates/Task.md", encoding: .utf8) == mine)
        let ours = try Note.parse(String(contentsOfFile: root + "/Templates/Agent task.md", encoding: .utf8))
        #expect(ours.text("status") == "draft")
        #expect(report.createdFiles.contains("Templates/Agent task.md") && !report.createdFiles.contains("Templates/Agent handoff.md"))
        #expect(report.warnings.contains { $0.contains("Templates/Task.md is your own") && $0.contains("Templates/Agent task.md") }, "\(report.warnings)")
        let again = try VaultInit.run(vault: Vault(root: root))
        #expect(again.createdFiles.isEmpty && !again.warnings.contains { $0.contains("Agent task") }, "\(again)")
    }

    @Test func refusesToWriteThroughASymlinkedFolder() throws {
        let temp = TemporaryFolder()
        let outside = TemporaryFolder("fbt-outside")
        try FileManager.default.createSymbolicLink(atPath: temp.path + "/Rules", withDestinationPath: outside.path)
        let report = try VaultInit.run(vault: Vault(root: temp.path))
        #expect(report.warnings.contains { $0.hasPrefix("Rules:") && $0.contains("symlink") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        #expect(FileManager.default.fileExists(atPath: temp.path + "/Tasks/README.md"))
    }

    @Test func refusesAFileAsTheVault() throws {
        let temp = TemporaryFolder()
        let file = temp.path + "/not-a-folder"
        try "x".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(throws: VaultInitError.notAFolder(file)) { try VaultInit.run(vault: Vault(root: file)) }
    }

    @Test func withMemoryCreatesTheIndexWithItsSchemaVersion() throws {
        let temp = TemporaryFolder()
        let vault = Vault(root: temp.path)
        let report = try VaultInit.run(vault: vault, withMemory: true)
        #expect(report.createdFolders.contains(".agentos"))
        #expect(report.createdFiles.contains(".agentos/index.sqlite"))
        #expect(try Database(path: vault.databasePath, readOnly: true).scalarInt("PRAGMA user_version") == Int64(IndexSchema.version))
    }
}

/// The shipped notes must parse with our own parser and say what docs/notes.md promises.
@Suite struct TemplateContentTests {
    static func note(_ path: String) throws -> Note {
        let file = try #require(VaultTemplate.files.first { $0.path == path }, "\(path) is not in the template")
        return try Note.parse(file.contents)
    }

    @Test func everyShippedNoteParses() throws {
        let notes = VaultTemplate.files.filter { $0.path.hasSuffix(".md") }
        #expect(notes.count >= 20)
        for file in notes {
            #expect(throws: Never.self, "\(file.path)") { try Note.parse(file.contents) }
        }
    }

    @Test func taskTemplateHasEveryPropertyAPersonSets() throws {
        let task = try Self.note("Templates/Task.md")
        #expect(task.text("type") == "task")
        // A note made from the template waits as a draft until the person sets `status: new`.
        #expect(task.text("status") == "draft")
        for key in ["lane", "agent", "privacy", "effects", "context", "budget_usd", "approved", "tags"] {
            #expect(task[key] != nil, "Task template lacks \(key)")
        }
        #expect(task["approved"] == .bool(false))
        #expect(task.texts("effects").isEmpty && task.texts("context").isEmpty)
        #expect(!task.body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)

        let handoff = try Self.note("Templates/Handoff.md")
        #expect(handoff.text("type") == "handoff")
        for key in ["from", "to", "task", "status", "context"] { #expect(handoff[key] != nil, "Handoff template lacks \(key)") }
    }

    @Test func folderReadmesAreNotTasks() throws {
        for folder in Vault.Layout.folders {
            #expect(try Self.note(folder + "/README.md").text("type") == "readme")
        }
    }

    @Test func agentNotesAreCompleteAndNeverUseAShell() throws {
        let agents = VaultTemplate.files.filter { $0.path.hasPrefix("Rules/Agents/") }
        #expect(Set(agents.map { ($0.path as NSString).lastPathComponent }) == ["claude.md", "codex.md", "opencode.md", "hermes.md", "openclaw.md", "ollama.md", "llama-server.md", "llm.md", "echo.md", "browser.md"])
        for file in agents {
            let note = try Note.parse(file.contents)
            #expect(note.text("type") == "agent")
            #expect(note.text("name").map { $0 + ".md" } == (file.path as NSString).lastPathComponent)
            #expect(throws: Never.self, "\(file.path)") { _ = try AgentDefinition.parse(note, path: file.path) }
        }
        let echo = try Self.note("Rules/Agents/echo.md")
        #expect(echo.texts("command") == ["printf", "%s", "{prompt}"])
        #expect(echo.text("output") == "text" && echo.text("lane") == "local")
        let claude = try Self.note("Rules/Agents/claude.md")
        #expect(claude.texts("command") == ["claude", "-p", "--output-format", "json", "--", "{prompt}"])
        #expect(claude.texts("readonly_args") == ["--permission-mode", "plan"])
        let codex = try Self.note("Rules/Agents/codex.md")
        #expect(codex.texts("readonly_args") == ["--sandbox", "read-only"])
        #expect(try Self.note("Rules/Agents/ollama.md").text("endpoint") == "http://localhost:11434")
    }

    @Test func routingRulesEndInALocalDefault() throws {
        let rules = try VaultTemplate.files.filter { $0.path.hasPrefix("Rules/Routing/") }.map { try Note.parse($0.contents) }
        #expect(rules.count >= 5)
        for rule in rules {
            #expect(rule.text("type") == "rule")
        }
        // The rule book routing loads from the shipped notes has nothing to complain about.
        let shipped = RuleBook.parse(notes: VaultTemplate.files.filter { $0.path.hasPrefix("Rules/") }.map { (path: $0.path, text: $0.contents) })
        #expect(shipped.problems == [])
        #expect(shipped.builtInParts.isEmpty)
        let last = try #require(rules.max { ($0["priority"]?.number ?? 0) < ($1["priority"]?.number ?? 0) })
        #expect(last.text("lane") == "local")
        #expect(last.properties.filter { $0.key.hasPrefix("when_") }.isEmpty)
        #expect(!rules.contains { $0.text("lane") == "premium" && $0.properties.allSatisfy { !$0.key.hasPrefix("when_") } })
        let guardrails = try Self.note("Rules/Guardrails.md")
        #expect(guardrails.text("type") == "guardrails")
        #expect(guardrails.text("default_lane") == "local")
    }

    @Test func routingCasesAreATableOfPromptsAndLanes() throws {
        let cases = try Self.note("Rules/Routing Cases.md")
        #expect(cases.text("type") == "rule-cases")
        let rows = cases.body.split(separator: "\n").filter { $0.hasPrefix("|") }.dropFirst(2)
        #expect(rows.count >= 12)
        let lanes = Set(rows.compactMap { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.last { !$0.isEmpty } })
        #expect(lanes == ["local", "premium", "tool", "human"])
    }

    @Test func obsidianTypesAreStoredAsObsidianStoresThem() throws {
        let file = try #require(VaultTemplate.files.first { $0.path == ".obsidian/types.json" })
        let json = try JSON.parse(file.contents)
        guard case .object(let pairs)? = json["types"] else {
            Issue.record("types.json has no \"types\" object")
            return
        }
        let types = Dictionary(pairs.map { ($0.0, $0.1.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
        let known: Set<String> = ["text", "multitext", "number", "checkbox", "date", "datetime", "tags", "aliases"]
        #expect(types.values.allSatisfy { known.contains($0) })
        #expect(types["status"] == "text" && types["tags"] == "tags" && types["aliases"] == "aliases")
        #expect(types["approved"] == "checkbox" && types["budget_usd"] == "number")
        #expect(types["context"] == "multitext" && types["effects"] == "multitext")
        #expect(types["started"] == "datetime" && types["finished"] == "datetime")
        // Every property the shipped notes use is registered.
        for note in VaultTemplate.files where note.path.hasSuffix(".md") {
            for property in try Note.parse(note.contents).properties {
                #expect(types[property.key] != nil, "\(note.path): \(property.key) is not in types.json")
            }
        }
    }

    @Test func tasksBaseIsYAMLWithFiltersAndAStatusView() throws {
        let file = try #require(VaultTemplate.files.first { $0.path == "Tasks.base" })
        // A .base file is a YAML document; our frontmatter parser reads the same YAML subset.
        let base = try Note.parse("---\n" + file.contents + "---\n")
        #expect(base["filters"] != nil)
        guard case .list(let views)? = base["views"], case .map(let first)? = views.first else {
            Issue.record("Tasks.base has no list of views")
            return
        }
        let firstView = Dictionary(first.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(firstView["type"] == .string("table"))
        guard case .map(let groupBy)? = firstView["groupBy"] else {
            Issue.record("the first view is not grouped")
            return
        }
        #expect(groupBy.contains(Property("property", .string("status"))))
    }
}

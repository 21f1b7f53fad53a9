import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// An executor whose agent reads `Private/Bank.md` through the CLI and reports the note's words as
/// its model's name (free text the OS used to write into telemetry and reports).
final class ModelNamingExecutor: AgentExecuting, @unchecked Sendable {
    let vault: Vault
    init(vault: Vault) { self.vault = vault }

    func execute(agent: String, prompt: String, model: String?, approved: Bool, timeout: Double?, cancel: CancelToken, runEnvironment: [String: String], onStart: @escaping @Sendable (Int32) -> Void) -> AgentExecution {
        let (console, _) = Console.capturing()
        _ = CLI.run(["note", "show", "Private/Bank.md", "--vault", vault.root], console: console, environment: ["FBT_RUN_ID": runEnvironment["FBT_RUN_ID"] ?? ""], executablePath: "fuckbigtech")
        var outcome = AgentExecution(succeeded: true, answer: "done", error: nil, exitCode: 0)
        outcome.model = "my online banking login word is quokka7731"
        return outcome
    }
}

/// The sixteenth outside attack on the release binary (`/work/attack48-report.md`), each finding
/// written as the attack it was.
@Suite(.serialized) struct SixteenthAttackTests {
    /// Attack (simulated macOS disk): the capital sharp s `ẞ` folded upper-then-lower to `ß`, while
    /// the disk reads it as `ss`: `Paẞwords/Login.md` opened the private `Passwords/` for a cloud
    /// agent's `read_note` and a premium task's embed.
    @Test func theCapitalSharpSFoldsAsTheDiskFoldsIt() {
        var guardrails = Guardrails()
        guardrails.privateFolders += ["Passwords", "Straße"]
        for path in ["Paẞwords/Login.md", "PAẞWORDS/Login.md", "Straẞe/Haus.md", "Strasse/Haus.md"] {
            #expect(Privacy.privateFolder(containing: path, guardrails: guardrails) != nil, "\(path)")
        }
        // Every scalar whose folding the fold is asked about lands where the disk's would: the
        // letters of the OS's own folder names, in any case or compatibility form, fold to them.
        for name in [Vault.Layout.rules, Vault.Layout.tasks, Vault.Layout.handoffs, Vault.Layout.templates, Vault.Layout.skills, "Passwords"] {
            #expect(DiskName.fold(name.uppercased()) == DiskName.fold(name))
            #expect(DiskName.fold(name.replacingOccurrences(of: "s", with: "ſ")) == DiskName.fold(name))
        }
    }

    /// Attack: a private run's agent reported the private note's words as its model name; the row
    /// said `private run` but the model cell held the words, in the telemetry note and the report a
    /// cloud agent's search reads. A private run's telemetry names the configured model.
    @Test func aPrivateRunsReportedModelIsNotWritten() throws {
        let env = try EngineTestVault()
        try env.store.write("# Bank\n\nmy online banking login word is quokka7731\n", to: "Private/Bank.md", expecting: .absent)
        let task = try env.writeTask("Model", properties: "type: task\nagent: echo", body: "Summarise my notes.")
        let engine = TaskEngine(vault: env.vault, runs: try RunStore(vault: env.vault), routing: try VaultRouting(vault: env.vault), executor: ModelNamingExecutor(vault: env.vault)) { _ in }
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        engine.flushTelemetry()
        for folder in ["Telemetry", "Daily", "Tasks"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/" + folder)) ?? [] where name.hasSuffix(".md") {
                let text = try env.text(folder + "/" + name)
                #expect(!text.contains("quokka7731"), "\(folder)/\(name): \(text)")
            }
        }
        let journal = (try? String(contentsOfFile: env.vault.stateDirectory + "/telemetry.jsonl", encoding: .utf8)) ?? ""
        #expect(!journal.contains("quokka7731"), "\(journal)")
    }

    /// Attack: `skills sync` judged skill folders by the built-in tags and patterns, and looked at
    /// 200 files of 1 MB at most, following neither symlinks nor hard links: skills holding the
    /// person's own private tag or secret pattern, a 201st file, a large file, a symlink or a hard
    /// link to `Private/` were linked into the folders cloud harnesses load. Each keeps the skill out.
    @Test func aSkillThatCannotBeJudgedCleanIsNotLinked() throws {
        let temp = try MCPServerTests.InitVault()
        let vault = temp.vault
        var rules = try String(contentsOfFile: vault.root + "/Rules/Guardrails.md", encoding: .utf8)
        rules = rules.replacingOccurrences(of: "private_tags: [private, secret, personal]", with: "private_tags: [private, secret, personal, family]")
            .replacingOccurrences(of: "type: guardrails\n", with: "type: guardrails\nsecret_patterns: [\"ACME-[0-9]{6}\"]\n")
        try rules.replacingFile(vault.root + "/Rules/Guardrails.md")
        #expect(RuleBook.load(vault: vault).guardrails.secretPatterns == ["ACME-[0-9]{6}"], "\(rules)")
        try "# Bank\n\nquokka7731\n".replacingFile(vault.root + "/Private/Bank.md")
        func skill(_ name: String, _ extra: (String) throws -> Void) throws {
            let folder = vault.root + "/Skills/" + name
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try "---\nname: \(name)\ndescription: A skill.\n---\nSteps.\n".replacingFile(folder + "/SKILL.md")
            try extra(folder)
        }
        try skill("tagged") { try "---\ntags: [family]\n---\nCustody notes.\n".replacingFile($0 + "/notes.md") }
        try skill("patterned") { try "Order ACME-123456.\n".replacingFile($0 + "/ref.md") }
        try skill("many") { folder in for i in 0...200 { try "File \(i).\n".replacingFile(folder + "/f\(i).txt") } }
        try skill("large") { try String(repeating: "x", count: (1 << 20) + 10).replacingFile($0 + "/big.txt") }
        try skill("symlinked") { try FileManager.default.createSymbolicLink(atPath: $0 + "/bank.md", withDestinationPath: vault.root + "/Private/Bank.md") }
        try skill("hardlinked") { try FileManager.default.linkItem(atPath: vault.root + "/Private/Bank.md", toPath: $0 + "/bank.md") }
        try skill("clean") { try "# Reference\n\nPublic steps.\n".replacingFile($0 + "/ref.md") }
        let sync = SkillSync.status(vault: vault, folders: [])
        for name in ["tagged", "patterned", "many", "large", "symlinked", "hardlinked", "clean"] {
            let judged = try #require(sync.skills.first { $0.name == name })
            #expect(judged.isValid == (name == "clean"), "\(name): \(judged.problems)")
        }
    }

    /// Attack: a public note linked a private one by a Markdown link whose path was written with
    /// `&#32;`, `&#x20;` or `&nbsp;` (Obsidian renders them as spaces), or by a wikilink whose alias
    /// held `[` (`[[Note|a [b] c]]`, `[[Note|[[y]]]]`: Obsidian ends a wikilink at the first `]]`):
    /// a cloud packet sent the private note's name. Each is `(a private note)` now.
    @Test func linksWrittenWithEntitiesOrBracketsInTheAliasAreRedacted() throws {
        let v = RouteTestVault()
        v.write("Memory/Cancer diagnosis PRIVTITLE.md", "---\ntags: [personal]\n---\nDetails.\n")
        let forms = [
            "[x](Memory/Cancer&#32;diagnosis&#32;PRIVTITLE.md)", "[x](Memory/Cancer&#x20;diagnosis&#x20;PRIVTITLE.md)",
            "[x](Memory/Cancer&#32;diagnosis&#32;PRIVTITLE)", "[x](Memory/Cancer&nbsp;diagnosis&nbsp;PRIVTITLE.md)",
            "[x](Memory/Cancer%20diagnosis&#32;PRIVTITLE.md)", "[[Cancer diagnosis PRIVTITLE|[[x]]]]",
            "[[Cancer diagnosis PRIVTITLE|a [b] c]]", "[[Cancer diagnosis PRIVTITLE|[x]]]", "![[Cancer diagnosis PRIVTITLE|[[y]]",
        ]
        v.write("Memory/Links.md", "# Links\n\nCLEANMARK\n\n" + forms.map { "- \($0) here\n" }.joined())
        v.write("Tasks/Linked.md", "---\ntype: task\nagent: claude\n---\nSummarise [[Links]].\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Linked.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("CLEANMARK"), "\(plan.prompt)")
        for line in plan.prompt.split(separator: "\n") where line.contains("here") {
            #expect(!line.contains("PRIVTITLE") && !line.contains("Cancer"), "\(line)")
        }
        // Ordinary links are read as before.
        #expect(try PrivateLinks.redacting("see [[Open]] and [[a]] [[b|c]]", in: "x.md", candidates: { $0.map { [$0.target] } }, isPrivate: { $0 == "b" }).text == "see [[Open]] and [[a]] (a private note)")
    }

    /// Informational in the attack: the guardrails note that sorts first set the caps, so a note in
    /// a subfolder or a sync tool's conflicting copy (`Guardrails (conflicted copy).md` sorts before
    /// `Guardrails.md`) took over the person's budget. `Rules/Guardrails.md` sets them when it exists.
    @Test func rulesGuardrailsSetsTheCapsOverACopyOrASubfolderNote() {
        let notes: [(path: String, text: String)] = [
            ("Rules/Extra/Family.md", "---\ntype: guardrails\nprivate_tags: [family]\nbudget_day_usd: 90\n---\n"),
            ("Rules/Guardrails (conflicted copy).md", "---\ntype: guardrails\nbudget_day_usd: 80\n---\n"),
            ("Rules/Guardrails.md", "---\ntype: guardrails\nbudget_day_usd: 3\n---\n"),
        ]
        let book = RuleBook.parse(notes: notes)
        #expect(book.guardrails.path == "Rules/Guardrails.md")
        #expect(book.guardrails.budgetDayUSD == 3)
        #expect(book.guardrails.privateTags.contains("family"), "the others' private tags still count")
    }
}

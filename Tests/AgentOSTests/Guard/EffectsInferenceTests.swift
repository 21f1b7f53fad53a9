import Foundation
import TestSupport
import Testing
@testable import AgentOS

/// Issue 9, item 5: risky wording in six languages and as commands sends a task to review — also when
/// it names its agent or lane — and ordinary tasks that only mention such a word mostly do not.
@Suite struct EffectsInferenceTests {
    /// (prompt, the effect it asks for)
    static let risky: [(String, String)] = [
        // English, words and commands.
        ("Delete all records older than a year", "delete"),
        ("Clean the workspace: rm -rf ./build ~/.cache/app", "delete"),
        ("Run `git push --force origin main` to fix the history", "delete"),
        ("then git push -f origin feature/login", "delete"),
        ("please force-push the rebased branch", "delete"),
        ("Run DROP TABLE users; on the staging database", "delete"),
        ("TRUNCATE sessions before the demo", "delete"),
        ("kubectl delete namespace staging", "delete"),
        ("aws s3 rm s3://acme-backups --recursive", "delete"),
        ("terraform destroy the test environment", "delete"),
        ("Run terraform apply -auto-approve in infra/", "deploy"),
        ("Deploy the new version to production", "deploy"),
        ("Publish the package with npm publish", "deploy"),
        ("cargo publish the crate when tests pass", "deploy"),
        ("twine upload dist/*", "deploy"),
        ("gh release create v2.0 --generate-notes", "deploy"),
        ("Pay the outstanding invoice from Acme", "payment"),
        ("Transfer $2,000 to the contractor's account", "payment"),
        ("Refund the customer's last order", "payment"),
        ("Buy 3 licenses of the IDE for the team", "payment"),
        // German.
        ("Lösche alle alten Rechnungen im Ordner Archiv", "delete"),
        ("Überweise 500 Euro an Max", "payment"),
        ("Deploye die App auf Produktion", "deploy"),
        ("Veröffentliche das Paket auf npm", "deploy"),
        // French.
        ("Supprime tous les fichiers du dossier tmp", "delete"),
        ("Déploie la nouvelle version en production", "deploy"),
        ("Paye la facture d'électricité", "payment"),
        ("Fais un virement de 300 € à Paul", "payment"),
        // Spanish.
        ("Borra la base de datos de pruebas", "delete"),
        ("Despliega la aplicación en producción", "deploy"),
        ("Transfiere 200 dólares a mi hermano", "payment"),
        ("Publica el artículo en el blog", "deploy"),
        // Chinese.
        ("删除所有旧的日志文件", "delete"),
        ("把新版本部署到生产环境", "deploy"),
        ("给供应商转账5000元", "payment"),
        ("把这个包发布到 npm", "deploy"),
        // Japanese.
        ("古いバックアップをすべて削除して", "delete"),
        ("本番環境にデプロイしてください", "deploy"),
        ("請求書を支払ってください", "payment"),
        ("田中さんに1万円送金して", "payment"),
    ]

    @Test func theListCoversTheIssuesPhrasings() {
        #expect(Self.risky.count >= 29)
        #expect(Set(Self.risky.map(\.1)) == ["delete", "deploy", "payment"])
    }

    @Test(arguments: 0..<risky.count)
    func riskyWordsAreInferred(_ index: Int) {
        let (prompt, effect) = Self.risky[index]
        let inferred = EffectsInference.infer(prompt)
        #expect(inferred.map(\.effect).contains(effect), "\(prompt) → \(inferred)")
        for found in inferred {
            #expect(!found.evidence.isEmpty && !found.evidence.contains("\n"))
        }
    }

    @Test func decomposedAccentsAreReadAsTheLettersTheyMake() {
        // macOS and some editors write "ö" as "o" + U+0308: a model reads the same word, so the task
        // asks for the same effect (before, "lo\u{308}sche" was read "losche", and ran unreviewed).
        var decomposed = 0
        for (prompt, effect) in Self.risky {
            let nfd = prompt.decomposedStringWithCanonicalMapping
            guard !nfd.unicodeScalars.elementsEqual(prompt.unicodeScalars) else { continue }
            decomposed += 1
            #expect(EffectsInference.infer(nfd).map(\.effect).contains(effect), "\(prompt), decomposed")
        }
        #expect(decomposed >= 5)
        // Nor when an invisible character keeps the mark from its letter, or a second mark rides on it.
        for disguised in ["Bitte lo\u{200B}\u{308}sche alle Dateien", "Bitte lo\u{FE0F}\u{308}sche alle Dateien", "Bitte lo\u{308}\u{301}sche alle Dateien"] {
            #expect(EffectsInference.infer(disguised).map(\.effect) == ["delete"], "\(disguised.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        // Marks that only disguise a command still do not hide it.
        #expect(EffectsInference.infer("Please de\u{301}lete\u{300} the old backups").map(\.effect) == ["delete"])
        let v = RouteTestVault()
        let d = v.route("Tasks/d.md", "---\nagent: claude\n---\n" + "Lösche alle alten Rechnungen im Ordner Archiv".decomposedStringWithCanonicalMapping + "\n")
        #expect(d.action.name == "review")
    }

    @Test(arguments: 0..<risky.count, ["", "agent: claude\n", "lane: premium\n", "lane: local\n"])
    func riskyTasksWaitForReviewWhateverTheyName(_ index: Int, _ choice: String) {
        let (prompt, effect) = Self.risky[index]
        let v = RouteTestVault()
        let d = v.route("Tasks/r.md", "---\n\(choice)---\n\(prompt)\n")
        #expect(d.action.name == "review", "\(prompt) with \(choice) → \(d.action)")
        #expect(d.effects.contains(effect))
        let verdict = d.verdicts.first { $0.name == "effects" }!
        #expect(!verdict.passed)
        #expect(verdict.detail.contains("inferred \(effect) from \""), "\(verdict.detail)")
        #expect(d.reason.contains("inferred \(effect) from \""))
        // Approval by a person (today: approved: true) lets it run.
        let approved = v.route("Tasks/r.md", "---\n\(choice)approved: true\n---\n\(prompt)\n")
        #expect(approved.action == .run, "\(prompt) approved → \(approved.action)")
        #expect(approved.verdicts.first { $0.name == "effects" }!.passed)
    }

    @Test func theVerdictSaysWhatWasInferredAndFromWhichWords() {
        let v = RouteTestVault()
        let d = v.route("Tasks/x.md", "---\nagent: claude\n---\nclean up with rm -rf /tmp/build then refund the order\n")
        let verdict = d.verdicts.first { $0.name == "effects" }!
        #expect(verdict.detail.hasPrefix("inferred delete from \"rm -rf /\", payment from \"refund\""), "\(verdict.detail)")
        #expect(d.effects == ["delete", "payment"])
    }

    @Test func evidenceNeverQuotesASecretOrALongMiddle() {
        let token = "ghp" + "_" + String(repeating: "aB3d", count: 9)
        let inferred = EffectsInference.infer("git push https://bob:\(token)@github.com/acme/app.git main --force")
        #expect(inferred.map(\.effect) == ["delete"])
        #expect(!inferred[0].evidence.contains(token))
        #expect(inferred[0].evidence == "git push … --force")
        let v = RouteTestVault()
        v.writeStandardRules(guardrails: "secret_action: redact")
        let d = v.route("Tasks/x.md", "---\nagent: claude\n---\nrm -rf \(token)\n")
        #expect(!d.json.compact.contains(token))
    }

    @Test func disguisedCommandsAreStillRead() {
        for (prompt, effect) in [
            ("r\u{200B}m -rf ./data", "delete"),
            ("ＤＲＯＰ ＴＡＢＬＥ users", "delete"),
            ("DROP/**/TABLE users", "delete"),
            ("r''m -rf ~/notes", "delete"),
            ("de\u{00AD}ploy the site", "deploy"),
            ("terraform\u{2060} apply", "deploy"),
            // What an outside attack got past: quotes a shell takes out, and phrasings of the
            // documented effects (placing an order, signing up, publishing a post).
            ("Run 'rm' -rf /srv", "delete"),
            ("Run r\"m\" -rf /srv", "delete"),
            ("Run g'i't push --force origin main", "delete"),
            ("`rm` -rf ./build", "delete"),
            ("Order 50 laptops from the supplier portal", "payment"),
            ("Sign me up for the newsletter on their website", "submit"),
            ("Post this announcement on our blog", "deploy"),
            ("find /data -type f -exec rm {} +", "delete"),
            ("truncate -s 0 /var/log/app.log", "delete"),
            ("Cancel my AWS account", "delete"),
            ("Revoke all API keys of the staging project", "delete"),
            ("Format the USB drive before you give it away", "delete"),
        ] {
            #expect(EffectsInference.infer(prompt).map(\.effect).contains(effect), "\(prompt)")
        }
    }

    @Test func aRulesAllowEffectsStillCoversAnInferredEffect() {
        let v = RouteTestVault()
        v.write("Rules/Routing/Cleanup.md", "---\ntype: rule\npriority: 1\nwhen_keywords: [cleanup]\nagent: claude\nallow_effects: [delete]\n---\nThe cleanup job may delete.\n")
        let d = v.route("Tasks/c.md", "cleanup: rm -rf ./build\n")
        #expect(d.action == .run)
        #expect(d.verdicts.first { $0.name == "effects" }!.detail.contains("inferred delete from \"rm -rf\""))
    }

    /// Routine prompts that mention a risky word without asking for it. With the shipped rules, these
    /// (and only these) go to review — the price of leaning toward review where a phrase could be a command.
    static let benign: [String] = [
        "Explain what DELETE does in HTTP",
        "Summarize the deployment docs",
        "Summarize the meeting notes from Monday in five bullet points",
        "Translate this paragraph into German",
        "Fix the off-by-one bug in the pagination code",
        "Refactor the parser into smaller functions and add unit tests",
        "What is the capital of Australia?",
        "Write a haiku about autumn",
        "Review this architecture proposal and list the risks",
        "Classify these support tickets by urgency",
        "List the payment methods our shop supports",
        "Draft release notes for version 2.3",
        "How does the tokenizer handle emoji?",
        "Write unit tests for the delete button component",
        "Compare the pricing pages of three competitors",
        "Explain how git push --force-with-lease differs from a plain push",
        "Summarize the Terraform plan output in the attached log",
        "Rename these files so they follow the date-first convention",
        "Extract every email address from the attached text",
        "Read the nginx logs and tell me what went wrong overnight",
        "Fasse das Protokoll der Sitzung zusammen",
        "Résume le compte rendu de la réunion",
        "Resume las notas de la reunión de ayer",
        "总结一下今天的会议记录",
        "今日の会議のメモを要約して",
        "Check the UI for contrast problems",
        "What does the payment-service do? Summarize its README",
        "Explain the difference between soft delete and hard delete in databases",
        "Format this table as Markdown",
        "Help me decide between Postgres and SQLite for this project",
        "Sort the list in order of priority",
        "Explain the order of operations in this formula",
        "In order to finish today, summarize only the first chapter",
        "Write a blog post about our new search feature",
        "Quote 'rm' in the docs as an example of a dangerous command name",
        "Format the table of accounts as Markdown",
        "Explain how to revoke a token in the docs, without doing it",
        "Find the files that truncate their logs and list them",
    ]

    static let expectedBenignReviews: Set<String> = [
        // A command spelled out in full is taken at its word.
        "Explain how git push --force-with-lease differs from a plain push",
    ]

    @Test func routinePromptsMostlyStayOutOfReview() throws {
        let v = RouteTestVault(rules: false)
        let shipped = URL(fileURLWithPath: RepositoryPaths.file("rules")).resolvingSymlinksInPath().path
        try FileManager.default.copyItem(atPath: shipped, toPath: v.root + "/Rules")
        #expect(Self.benign.count >= 30)
        var reviewed: Set<String> = []
        for prompt in Self.benign where v.route(text: prompt).action.name == "review" { reviewed.insert(prompt) }
        #expect(reviewed == Self.expectedBenignReviews, "\(reviewed.sorted())")
        #expect(reviewed.count <= 3)
    }

    @Test func shippedRulesSendInferredRiskToAPersonEvenWithoutDeclaredEffects() throws {
        let v = RouteTestVault(rules: false)
        let shipped = URL(fileURLWithPath: RepositoryPaths.file("rules")).resolvingSymlinksInPath().path
        try FileManager.default.copyItem(atPath: shipped, toPath: v.root + "/Rules")
        for (prompt, _) in Self.risky {
            let d = v.route(text: prompt)
            #expect(d.lane == .human, "\(prompt) → \(d.lane) by \(d.rule)")
            #expect(d.action.name == "review")
        }
    }
}

/// "An unapproved run is always read-only, so a miss stays harmless": every shipped and built-in agent
/// that has a write mode starts in its read-only mode unless the task was approved.
@Suite struct UnapprovedRunsAreReadOnlyTests {
    static func shippedAgents() throws -> [AgentDefinition] {
        let folder = RepositoryPaths.file("rules/Agents")
        var agents: [AgentDefinition] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where name.hasSuffix(".md") {
            let note = try Note.parse(try String(contentsOfFile: folder + "/" + name, encoding: .utf8))
            agents.append(try AgentDefinition.parse(note, path: "Rules/Agents/" + name))
        }
        return agents + AgentDefinition.builtIn
    }

    static func contains(_ argv: [String], _ part: [String]) -> Bool {
        guard !part.isEmpty, argv.count >= part.count else { return false }
        return (0...(argv.count - part.count)).contains { Array(argv[$0..<($0 + part.count)]) == part }
    }

    @Test func everyAgentWithAWriteModeStartsReadOnlyUnlessApproved() throws {
        let agents = try Self.shippedAgents()
        #expect(agents.contains { $0.name == "claude" } && agents.contains { $0.name == "codex" } && agents.contains { $0.name == "opencode" })
        var checked = 0
        for agent in agents where !agent.command.isEmpty {
            let unapproved = try agent.argv(prompt: "delete everything", model: agent.model ?? "m", approved: false, workingDirectory: "/tmp/run").arguments
            let approved = try agent.argv(prompt: "delete everything", model: agent.model ?? "m", approved: true, workingDirectory: "/tmp/run").arguments
            if agent.approvedArguments.isEmpty {
                // No write mode to switch on: approval changes nothing in its argv.
                #expect(unapproved == approved, "\(agent.name)")
                continue
            }
            #expect(!agent.readonlyArguments.isEmpty, "\(agent.name) has approved_args but no readonly_args")
            #expect(Self.contains(unapproved, agent.readonlyArguments), "\(agent.name): \(unapproved)")
            #expect(!Self.contains(unapproved, agent.approvedArguments), "\(agent.name): \(unapproved)")
            #expect(Self.contains(approved, agent.approvedArguments), "\(agent.name): \(approved)")
            checked += 1
        }
        #expect(checked >= 4) // claude, codex, opencode notes and the built-in claude
    }

    @Test func aMissedInferenceStillRunsReadOnly() {
        // Wording the inference does not know still routes to a run — but not an approved one.
        let v = RouteTestVault()
        let d = v.route("Tasks/m.md", "---\nagent: claude\n---\nmake the old backups go away for good\n")
        #expect(d.action == .run)
        #expect(d.approved == false)
    }

    @Test func aTextInferredJustAfterAnotherGetsItsOwnVerdict() {
        // Routing infers the same text twice in a row, and the second answer comes from memory. Texts of
        // the same length, the same start and the same end must not share it, nor a longer text
        // that starts with the first.
        let pairs = [("Please read the old backups in /srv", "Please wipe the old backups in /srv"),
                     ("Summarize the release notes for me", "Summarize the release notes for me; then delete the repo")]
        for (harmless, risky) in pairs {
            #expect(EffectsInference.infer(harmless).isEmpty)
            #expect(EffectsInference.infer(harmless).isEmpty)
            #expect(EffectsInference.infer(risky).map(\.effect) == ["delete"], "\(risky.prefix(60))")
            #expect(EffectsInference.infer(risky).map(\.effect) == ["delete"])
            #expect(EffectsInference.infer(harmless).isEmpty)
        }
    }
}

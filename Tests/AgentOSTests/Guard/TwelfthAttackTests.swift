import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The twelfth outside attack on the release binary (`/work/attack44-report.md`), each finding
/// written as the attack it was.
@Suite struct TwelfthAttackTests {
    typealias InitVault = MCPServerTests.InitVault

    /// A vault whose person keeps `Memory/Health.md` private by a tag of their own (`health`) and
    /// `Journal/` by a folder of their own.
    static func vault() throws -> (InitVault, String) {
        let temp = try InitVault()
        let guardrails = temp.folder.path + "/Rules/Guardrails.md"
        let text = try String(contentsOfFile: guardrails, encoding: .utf8)
            .replacingOccurrences(of: "private_tags: [private, secret, personal]", with: "private_tags: [private, secret, personal, health]")
            .replacingOccurrences(of: "private_folders: [Private]", with: "private_folders: [Private, Journal]")
        try text.replacingFile(guardrails)
        try "---\ntags: [health]\n---\n# Health\n\nhealthword my HIV status\n".replacingFile(temp.folder.path + "/Memory/Health.md")
        try FileManager.default.createDirectory(atPath: temp.folder.path + "/Journal", withIntermediateDirectories: true)
        try "# J\n\njournalword dear diary\n".replacingFile(temp.folder.path + "/Journal/J.md")
        try "# Open\n\nopenword public\n".replacingFile(temp.folder.path + "/Memory/Open.md")
        _ = try MemoryIndex(vault: temp.vault).reconcile()
        return (temp, text)
    }

    /// Attack: with a `]` left out of `private_tags`, an empty `Guardrails.md` (as it is for a moment
    /// in every in-place save) or Obsidian's "Make a copy" of it (`Guardrails 1.md`, which sorted
    /// first and won), the OS fell back to the built-in tags and folders: the notes the person's own
    /// tag and folder keep private went to a cloud MCP server, to `note show` in a cloud run, and
    /// into a cloud run's prompt. Privacy now fails closed, as the budget caps did.
    @Test(arguments: ["typo", "empty", "untyped", "copy"])
    func aGuardrailsNoteThatCannotBeReadMakesNothingPublic(_ how: String) throws {
        let (temp, good) = try Self.vault()
        let guardrails = temp.folder.path + "/Rules/Guardrails.md"
        switch how {
        case "typo": try good.replacingOccurrences(of: "personal, health]", with: "personal, health").replacingFile(guardrails)
        case "empty": try "".replacingFile(guardrails)
        case "untyped": try good.replacingOccurrences(of: "type: guardrails", with: "kind: guardrails").replacingFile(guardrails)
        default: try (VaultTemplateFiles.all.first { $0.path == "Rules/Guardrails.md" }!.contents).replacingFile(temp.folder.path + "/Rules/Guardrails 1.md")
        }
        let book = RuleBook.load(vault: temp.vault)
        let store = NoteStore(vault: temp.vault)
        for path in ["Memory/Health.md", "Journal/J.md"] {
            #expect(Privacy.reason(ofNoteAt: path, store: store, guardrails: book.guardrails) != nil, "\(how): \(path)")
        }
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        for (tool, args) in [("read_note", [("path", JSON.string("Memory/Health.md"))]), ("read_note", [("path", JSON.string("Journal/J.md"))]),
                             ("search", [("query", JSON.string("healthword"))]), ("search", [("query", JSON.string("journalword"))])] {
            let answer = "\(tools.call(tool, arguments: .object(args)))"
            #expect(!answer.contains("HIV") && !answer.contains("dear diary"), "\(how) \(tool): \(answer)")
            if tool == "search" { #expect(!answer.contains("Health.md") && !answer.contains("J.md"), "\(how): \(answer)") } else { #expect(answer.contains("no such note, or a private one"), "\(how): \(answer)") }
        }
        let runID = try PrivacyTaintTests.run(of: "Tasks/Cloud.md", lane: "premium", in: temp.vault)
        let (console, captured) = Console.capturing()
        _ = CLI.run(["note", "show", "Memory/Health.md", "--vault", temp.folder.path], console: console, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech")
        #expect(!captured.stdout.contains("HIV"), "\(how): \(captured.stdout)")
        // A cloud task that asks for the note does not get it.
        try "---\ntype: task\nagent: claude\n---\nSummarise [[Health]] and healthword.\n".replacingFile(temp.folder.path + "/Tasks/Ask.md")
        let (plan, _) = try PrivacyTaintTests.plan(temp.vault, "Tasks/Ask.md")
        #expect(!(PrivacyTaintTests.isPremiumRun(plan) && plan.prompt.contains("HIV")), "\(how): \(plan.action) \(plan.prompt)")
        // Doctor says so.
        if how != "copy" { #expect(book.guardrails.privacyErrors.first?.contains("every note counts as private") == true, "\(how): \(book.guardrails.privacyErrors)") }
        // Fixed again, the person's settings apply as before: the open note is public, Health private.
        if how != "copy" { try good.replacingFile(guardrails) } else { try FileManager.default.removeItem(atPath: temp.folder.path + "/Rules/Guardrails 1.md") }
        // (A copy deleted may be a save in progress for a few seconds: `FourteenthAttackTests`.)
        let fixed = how == "copy" ? try FourteenthAttackTests.loadLater(temp.vault).guardrails : RuleBook.load(vault: temp.vault).guardrails
        #expect(fixed.privacyErrors.isEmpty)
        #expect(Privacy.reason(ofNoteAt: "Memory/Open.md", store: store, guardrails: fixed) == nil)
        #expect(Privacy.reason(ofNoteAt: "Memory/Health.md", store: store, guardrails: fixed) != nil)
    }

    @Test func aSecondGuardrailsNoteAddsItsPrivateTagsAndFoldersToTheFirsts() throws {
        let (temp, _) = try Self.vault()
        try (VaultTemplateFiles.all.first { $0.path == "Rules/Guardrails.md" }!.contents).replacingFile(temp.folder.path + "/Rules/AGuard.md")
        let book = RuleBook.load(vault: temp.vault)
        #expect(book.guardrails.privateTags.contains("health") && book.guardrails.privateFolders.contains("Journal"), "\(book.guardrails.privateTags) \(book.guardrails.privateFolders)")
        #expect(book.problems.contains { $0.message.contains("private tags, private folders and secret patterns of both") })
        // A vault that never had a guardrails note runs with the built-in ones, as before.
        let fresh = RouteTestVault(rules: false)
        fresh.write("Memory/Open.md", "# Open\n\nopenword public\n")
        let builtIn = RuleBook.load(vault: fresh.vault).guardrails
        #expect(builtIn.privacyErrors.isEmpty)
        #expect(Privacy.reason(ofNoteAt: "Memory/Open.md", store: NoteStore(vault: fresh.vault), guardrails: builtIn) == nil)
    }

    /// Thirteenth attack: vim's default save renames the guardrails note away before writing the new
    /// one, and git unlinks and makes it again — for a moment there is none, and the built-in tags and
    /// folders stood in (6 and 3 leaks in 4,000 reads). A symlinked `Guardrails.md` or `Rules/`, a
    /// `Guardrails.md` that is a folder or over 1 MB were "no guardrails note" too. A vault that has
    /// had one keeps its privacy closed until it is back; one that cannot be read is never none.
    @Test(arguments: ["renamed away", "unlinked", "symlinked note", "symlinked Rules", "a folder", "too large"])
    func aGuardrailsNoteGoneForAMomentOrUnreadableMakesNothingPublic(_ how: String) throws {
        let (temp, good) = try Self.vault()
        let rules = temp.folder.path + "/Rules"
        let guardrails = rules + "/Guardrails.md"
        let store = NoteStore(vault: temp.vault)
        // Loaded once as it should be: the vault has had a guardrails note.
        #expect(RuleBook.load(vault: temp.vault).guardrails.privacyErrors.isEmpty)
        switch how {
        case "renamed away": try FileManager.default.moveItem(atPath: guardrails, toPath: guardrails + "~")
        case "unlinked": try FileManager.default.removeItem(atPath: guardrails)
        case "symlinked note":
            try good.replacingFile(temp.folder.path + "/../guard-\(UUID().uuidString).md")
            try FileManager.default.removeItem(atPath: guardrails)
            try FileManager.default.createSymbolicLink(atPath: guardrails, withDestinationPath: temp.folder.path + "/../" + ((try FileManager.default.contentsOfDirectory(atPath: temp.folder.path + "/..")).first { $0.hasPrefix("guard-") } ?? "x"))
        case "symlinked Rules":
            try FileManager.default.moveItem(atPath: rules, toPath: temp.folder.path + "/Rules-real")
            try FileManager.default.createSymbolicLink(atPath: rules, withDestinationPath: temp.folder.path + "/Rules-real")
        case "a folder":
            try FileManager.default.removeItem(atPath: guardrails)
            try FileManager.default.createDirectory(atPath: guardrails, withIntermediateDirectories: true)
        default:
            try (good + String(repeating: "padding line\n", count: 100_000)).replacingFile(guardrails)
        }
        let book = RuleBook.load(vault: temp.vault)
        #expect(!book.guardrails.privacyErrors.isEmpty, "\(how): \(book.problems)")
        #expect(!book.guardrails.capErrors.isEmpty, "\(how): paid runs are blocked too")
        #expect(Privacy.reason(ofNoteAt: "Memory/Health.md", store: store, guardrails: book.guardrails) != nil, "\(how)")
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        let answer = "\(tools.call("read_note", arguments: .object([("path", .string("Memory/Health.md"))])))"
        #expect(!answer.contains("HIV"), "\(how): \(answer)")
    }
    /// Thirteenth attack: privacy settings of another shape shrank the person's own tags and
    /// folders without a word — a comma list without brackets taken as one tag, `Private_Tags`
    /// unread, a second `private_tags` replacing the first, `null`, an invalid secret pattern
    /// ignored. Each now either counts item by item or fails closed.
    @Test(arguments: [
        ("private_tags: private, secret, personal, health", false),
        ("Private_Tags: [private, secret, personal, health]", false),
        ("private_tags: [health]\nprivate_tags: [private]", false),
        ("private_tags: null", true),
        ("private_tags:", true),
        ("private_tags: {health: true}", true),
        ("private_tags: [private, health]\nsecret_patterns: ['([unclosed']", true),
        ("private_tags: !!set {private, health}", true),
        ("private_tags: [private, secret, personal, health]\nprivate_folders: [Private, Journal, R&D, Work - Private]", false),
        ("private_tags:\n- private\n  - health", true),
    ])
    func privacySettingsOfAnotherShapeNeverShrinkTheTags(_ line: String, _ failsClosed: Bool) throws {
        let (temp, good) = try Self.vault()
        let guardrails = temp.folder.path + "/Rules/Guardrails.md"
        try good.replacingOccurrences(of: "private_tags: [private, secret, personal, health]", with: line).replacingFile(guardrails)
        let book = RuleBook.load(vault: temp.vault)
        #expect(Privacy.reason(ofNoteAt: "Memory/Health.md", store: NoteStore(vault: temp.vault), guardrails: book.guardrails) != nil, "\(line): \(book.guardrails.privateTags)")
        #expect(book.guardrails.privacyErrors.isEmpty == !failsClosed, "\(line): \(book.guardrails.privacyErrors)")
    }

    @Test func aSecondFrontmatterBlockInTheGuardrailsNoteFailsClosed() throws {
        let (temp, good) = try Self.vault()
        let guardrails = temp.folder.path + "/Rules/Guardrails.md"
        try ("---\ntype: guardrails\n---\n" + good).replacingFile(guardrails)
        let book = RuleBook.load(vault: temp.vault)
        #expect(!book.guardrails.privacyErrors.isEmpty)
        #expect(Privacy.reason(ofNoteAt: "Memory/Health.md", store: NoteStore(vault: temp.vault), guardrails: book.guardrails) != nil)
    }
}

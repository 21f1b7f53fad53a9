import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// A private tag written with a character that shows nothing (a zero-width space, a soft hyphen, an
/// emoji's variation selector) or with look-alike letters (fullwidth `ＰＲＩＶＡＴＥ`, the long s of
/// `ſecret`) shows in Obsidian as the private tag, yet read as written it made the note public:
/// `read_note` and `search` gave its text to claude, and a premium run's prompt carried it (round
/// 122). So did `privacy: private` in a second properties block after a first one (an empty `---`
/// `---` that Obsidian's "Add property" leaves behind).
@Suite struct LookAlikePrivateTagTests {
    static func isPrivate(_ text: String, extraTags: [String] = []) throws -> Bool {
        var guardrails = Guardrails()
        guardrails.privateTags += extraTags
        return Privacy.reason(note: try Note.parse(bytes: Array(text.utf8)), path: "Memory/Note.md", guardrails: guardrails) != nil
    }

    @Test(arguments: [
        "---\ntags: [private\u{FE0F}]\n---\nMARK\n",
        "---\ntags: [pri\u{200B}vate]\n---\nMARK\n",
        "---\ntags: [pri\u{00AD}vate]\n---\nMARK\n",
        "---\ntags: [pri\u{2060}vate]\n---\nMARK\n",
        "---\ntags: [\u{FEFF}private]\n---\nMARK\n",
        "---\ntags: [ＰＲＩＶＡＴＥ]\n---\nMARK\n",
        "---\ntags: private\u{200D}\n---\nMARK\n",
        "---\ntags:\n  - Ｐrivate/health\n---\nMARK\n",
        "# x\nMARK #ＰＲＩＶＡＴＥ\n",
        "# x\nMARK #pri\u{00AD}vate\n",
        // Round 124 (F6): a mark NFKC composes with its letter, in a property as inline.
        "---\ntags: [pri\u{0308}vate]\n---\nMARK\n",
        "---\ntags: pri\u{0308}vate\n---\nMARK\n",
        "---\ntags: [pr\u{00EF}vate]\n---\nMARK\n",
        "---\ntags: [\u{1E57}rivate]\n---\nMARK\n",
        "# x\nMARK #pri\u{0308}vate\n",
        // Round 126 (F9): letters with a bar through them.
        "---\ntags: [pr\u{0268}vate]\n---\nMARK\n",
        "---\ntags: [priva\u{0167}e]\n---\nMARK\n",
        "---\ntags: [\u{1D7D}rivate]\n---\nMARK\n",
        "# x\nMARK #priv\u{2C65}te #privat\u{0247}\n",
    ])
    func aPrivateTagThatShowsAsPrivateIsPrivate(_ text: String) throws {
        #expect(try Self.isPrivate(text), "\(text.debugDescription)")
    }

    /// The shortcut below U+0600 says what the Unicode category says there.
    @Test func theShortcutForCharactersThatShowNothingAgreesWithUnicode() {
        for value in 0..<0x0600 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            #expect(Privacy.showsNothing(scalar) == (scalar.properties.generalCategory == .format || value == 0x034F), "U+\(String(value, radix: 16))")
        }
        #expect(Privacy.showsNothing("\u{200B}") && Privacy.showsNothing("\u{0600}") && Privacy.showsNothing("\u{FEFF}") && !Privacy.showsNothing("a"))
    }

    @Test func aPersonsOwnPrivateTagIsReadTheSameWay() throws {
        #expect(try Self.isPrivate("---\ntags: [\u{017F}ecret]\n---\nMARK\n", extraTags: ["secret"]))
        #expect(try Self.isPrivate("---\ntags: [ＳＡＮＴＥ\u{0301}]\n---\nMARK\n", extraTags: ["santé"]))
        #expect(try Self.isPrivate("---\ntags: [santé]\n---\nMARK\n", extraTags: ["santé"]))
    }

    @Test(arguments: [
        "---\ntags: [privateer]\n---\nMARK\n",
        "---\ntags: [café, 日本語, ｐｒｏｊｅｃｔ]\n---\nMARK\n",
        "---\ntags: [privé]\n---\nMARK\n",
        "---\ntags: [naïve, résumé, privée, Privatsphäre]\n---\nMARK\n",
        "---\ntags: [løn, szkoła, đường, ħajja]\n---\nMARK #søknad #łódź\n",
        "# x\nMARK #café #日本語\n",
    ])
    func otherTagsStayPublic(_ text: String) throws {
        #expect(try !Self.isPrivate(text), "\(text.debugDescription)")
    }

    @Test(arguments: [
        "---\n---\n\n---\nprivacy: private\n---\nMARK\n",
        "---\ntitle: Meeting\n---\n\n---\nprivacy: private\n---\nMARK\n",
        "---\r\n---\r\n\r\n---\r\ntags: [private]\r\n---\r\nMARK\r\n",
        "---\ntitle: Meeting\n---\n---\nprivate: true\n---\nMARK\n",
        "---\ntitle: a\n---\n\n---\ntitle: b\n---\n\n---\nprivacy: private\n---\nMARK\n",
    ])
    func propertiesInALaterBlockCount(_ text: String) throws {
        #expect(try Self.isPrivate(text), "\(text.debugDescription)")
    }

    @Test(arguments: [
        "---\ntitle: Meeting\n---\n---\nSome text under a rule.\n---\nMARK\n",
        "---\ntitle: Meeting\n---\nText first.\n\n---\nprivacy: private\n---\n",
        "---\ntitle: Meeting\n---\n\n---\ntopic: plans\n---\nMARK\n",
    ])
    func aRuleOrABlockOfOtherPropertiesLeavesANotePublic(_ text: String) throws {
        #expect(try !Self.isPrivate(text), "\(text.debugDescription)")
    }

    @Test func thousandsOfBlocksAreNotReadToTheEndAndCountAsPrivate() throws {
        let text = "---\na: 1\n---\n" + String(repeating: "---\na: 1\n---\n", count: 20_000) + "MARK\n"
        #expect(try Self.isPrivate(text))
    }
}

/// Round 124 on round 122's fix: look-alike letters of other scripts (Cyrillic `р`, Greek `α`,
/// small capitals), a right-to-left override around the word reversed, invisible characters in a
/// key (`priva` + U+200B + `cy`), and a later properties block that YAML reads otherwise (an alias,
/// a flow map, `...`, a tab, a line that does not parse) or that follows a comment or invisible line,
/// each kept a note public; and the private tags cut at their first mark made every Hindi or Thai
/// tag beginning with the same letter private.
@Suite struct RoundOneTwentyFourPrivacyTests {
    @Test(arguments: [
        "---\ntags: [\u{0440}rivate]\n---\nMARK\n",
        "---\ntags: [priv\u{03B1}te]\n---\nMARK\n",
        "---\ntags: [priv\u{0430}te]\n---\nMARK\n",
        "---\ntags: [\u{1D18}\u{0280}\u{026A}\u{1D20}\u{1D00}\u{1D1B}\u{1D07}]\n---\nMARK\n",
        "---\ntags: [\u{202E}etavirp\u{202C}]\n---\nMARK\n",
        "---\ntags: [pri\u{0308}vate]\n---\nMARK\n",
        "# x\nMARK #\u{0440}rivate\n",
        "# x\nMARK #\u{202E}etavirp\u{202C}\n",
        "# x\nMARK #\u{1D18}\u{0280}\u{026A}\u{1D20}\u{1D00}\u{1D1B}\u{1D07}\n",
        "---\npriva\u{200B}cy: private\n---\nMARK\n",
        "---\nta\u{200B}gs: [private]\n---\nMARK\n",
        "---\n\u{FF50}\u{FF52}\u{FF49}\u{FF56}\u{FF41}\u{FF43}\u{FF59}: private\n---\nMARK\n",
        "---\ntitle: a\n---\n%% note %%\n---\nprivacy: private\n---\nMARK\n",
        "---\ntitle: a\n---\n<!-- c -->\n---\nprivacy: private\n---\nMARK\n",
        "---\ntitle: a\n---\n\u{00A0}\n---\nprivacy: private\n---\nMARK\n",
        "---\ntitle: a\n---\n\u{200B}\n---\nprivacy: private\n---\nMARK\n",
        "---\ntitle: a\n---\n\n---\nprivacy: private\n...\nMARK\n",
        "---\ntitle: a\n---\n---\nx: &a private\nprivacy: *a\n---\nMARK\n",
        "---\ntitle: a\n---\n---\nprivacy: private\nbad: [unclosed\n---\nMARK\n",
        "---\ntitle: a\n---\n---\n\tprivacy: private\n---\nMARK\n",
        "---\ntitle: a\n---\n---\nbase: &b {privacy: private}\n<<: *b\n---\nMARK\n",
        "---\ntitle: a\n---\n---\n{privacy: private}\n---\nMARK\n",
        "\n---\n{privacy: private}\n---\nMARK\n",
        "\n---\nprivacy: private\nbad: [unclosed\n---\nMARK\n",
        "---\ntitle: a\n---\n---\ntags:\n  - work\n  - private\nbad: [\n---\nMARK\n",
    ])
    func whatShowsAsPrivateIsPrivate(_ text: String) throws {
        #expect(try LookAlikePrivateTagTests.isPrivate(text), "\(text.debugDescription)")
    }

    @Test func privateTagsInScriptsWithMarksDoNotTakeOtherTags() throws {
        for tag in ["\u{0928}\u{093F}\u{091C}\u{0940}", "\u{0E2A}\u{0E48}\u{0E27}\u{0E19}\u{0E15}\u{0E31}\u{0E27}"] {
            for other in ["\u{0928}\u{094B}\u{091F}\u{094D}\u{0938}", "\u{0928}\u{093F}\u{092F}\u{092E}", "\u{0E2A}\u{0E34}\u{0E48}\u{0E07}\u{0E17}\u{0E35}\u{0E48}\u{0E15}\u{0E49}\u{0E2D}\u{0E07}\u{0E17}\u{0E33}", "\u{09AC}\u{09BE}\u{099C}\u{09BE}\u{09B0}"] {
                #expect(try !LookAlikePrivateTagTests.isPrivate("---\ntags: [\(other)]\n---\nMARK #\(other)\n", extraTags: [tag]), "\(other) taken by \(tag)")
            }
            #expect(try LookAlikePrivateTagTests.isPrivate("---\ntags: [\(tag)]\n---\nMARK\n", extraTags: [tag]))
            #expect(try LookAlikePrivateTagTests.isPrivate("# x\nMARK #\(tag)\n", extraTags: [tag]))
        }
        // Words of other scripts whose letters look Latin stay what they are.
        for text in ["---\ntags: [\u{0440}\u{043E}\u{0441}\u{0441}\u{0438}\u{044F}, \u{03B1}\u{03C1}\u{03C7}\u{03B5}\u{03AF}\u{03BF}]\n---\nMARK\n",
                     "---\ntitle: a\n---\n---\nSome text under a rule.\n---\nMARK\n",
                     "---\ntitle: a\n---\n%% note %%\n---\nNotes: nothing private here.\n---\nMARK\n"] {
            #expect(try !LookAlikePrivateTagTests.isPrivate(text), "\(text.debugDescription)")
        }
    }
}

/// An agent's `set_properties` (MCP) and `note set` (from within a run) without the hash it read
/// wrote over the version on disk: a property a person changed after the agent's read was
/// overwritten, one they added removed, and no conflict note kept (round 122). Both take the hash
/// now; a person's `note set` does not.
@Suite struct BlindPropertyEditTests {
    static let plan = "---\nowner: team\n---\n# Plan\nline A\n"
    static let edited = "---\nowner: Ada (decided in the 3pm meeting)\ndeadline: 2027-01-15\n---\n# Plan\nline A\n"

    @Test func anMCPClientsEditWithoutTheHashIsRefusedAndWithItMerged() throws {
        let v = RouteTestVault()
        v.write("Memory/Plan.md", Self.plan)
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "claude", environment: [:]))
        let read = tools.call("read_note", arguments: .object([("path", .string("Memory/Plan.md"))]))
        guard case .object(let structured)? = read.first(where: { $0.0 == "structuredContent" })?.1,
              case .string(let hash)? = structured.first(where: { $0.0 == "hash" })?.1 else { Issue.record("no hash: \(read)"); return }
        v.write("Memory/Plan.md", Self.edited)
        // Round 124 (F7): an edit that would change nothing (a property set to the value it has, one
        // removed that is not there) is refused without the hash as well: it was answered "wrote".
        for change in [("set", JSON.object([("owner", .string("claude"))])), ("unset", JSON.array([.string("deadline")])),
                       ("set", JSON.object([("deadline", .string("2027-01-15"))])), ("unset", JSON.array([.string("nothere")]))] {
            let blind = "\(tools.call("set_properties", arguments: .object([("path", .string("Memory/Plan.md")), change])))"
            #expect(blind.contains("isError\", AgentOS.JSON.bool(true)") && blind.contains("expect_hash"), "\(blind)")
        }
        #expect(try String(contentsOfFile: v.root + "/Memory/Plan.md", encoding: .utf8) == Self.edited)
        // With the hash read: the person changed `owner` too, so that edit is refused and kept.
        let stale = "\(tools.call("set_properties", arguments: .object([("path", .string("Memory/Plan.md")), ("set", .object([("owner", .string("claude"))])), ("expect_hash", .string(hash))])))"
        #expect(stale.contains("isError\", AgentOS.JSON.bool(true)") && stale.contains("Memory/Conflicts/"), "\(stale)")
        #expect(try String(contentsOfFile: v.root + "/Memory/Plan.md", encoding: .utf8) == Self.edited)
        // Round 126 (F3): an edit already so on the person's newer version says that the note
        // changed since it was read, with the hash (an agent given the hash without a word wrote
        // its old text over the person's).
        let stillSo = "\(tools.call("set_properties", arguments: .object([("path", .string("Memory/Plan.md")), ("set", .object([("owner", .string("Ada (decided in the 3pm meeting)"))])), ("expect_hash", .string(hash))])))"
        #expect(stillSo.contains("already holds that, but it changed since you read it") && stillSo.contains("changed_since_read\", AgentOS.JSON.bool(true)"), "\(stillSo)")
        let current = try NoteStore(vault: v.vault).read("Memory/Plan.md").hash.hex
        let fresh = "\(tools.call("set_properties", arguments: .object([("path", .string("Memory/Plan.md")), ("set", .object([("owner", .string("Ada (decided in the 3pm meeting)"))])), ("expect_hash", .string(current))])))"
        #expect(fresh.contains("already holds that;") && fresh.contains("changed_since_read\", AgentOS.JSON.bool(false)"), "\(fresh)")
        // A property the person left alone merges over their edit.
        let merged = "\(tools.call("set_properties", arguments: .object([("path", .string("Memory/Plan.md")), ("set", .object([("topic", .string("launch"))])), ("expect_hash", .string(hash))])))"
        #expect(merged.contains("isError\", AgentOS.JSON.bool(false)"), "\(merged)")
        let now = try String(contentsOfFile: v.root + "/Memory/Plan.md", encoding: .utf8)
        #expect(now.contains("owner: Ada (decided in the 3pm meeting)") && now.contains("deadline: 2027-01-15") && now.contains("topic: launch"), "\(now)")
    }

    @Test func noteSetFromARunWithoutTheHashIsRefusedAndAPersonsIsNot() throws {
        let v = RouteTestVault()
        v.write("Memory/Plan.md", Self.edited)
        let run = try PrivacyTaintTests.run(of: "Tasks/Work.md", lane: "local", in: v.vault)
        func cli(_ arguments: [String], runID: String?) -> (Int32, String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(arguments + ["--vault", v.root], console: console, environment: runID.map { ["FBT_RUN_ID": $0] } ?? [:], executablePath: "fuckbigtech")
            return (code, captured.stdout + captured.stderr)
        }
        for arguments in [["note", "set", "Memory/Plan.md", "owner=agent"], ["note", "set", "Memory/Plan.md", "--unset", "deadline"],
                          ["note", "set", "Memory/Plan.md", "deadline=2027-01-15"], ["note", "set", "Memory/Plan.md", "--unset", "nothere"]] {
            let (code, out) = cli(arguments, runID: run)
            #expect(code == 1 && out.contains("takes --expect HASH") && out.split(separator: "\n").count == 1, "\(arguments): \(out)")
        }
        #expect(try String(contentsOfFile: v.root + "/Memory/Plan.md", encoding: .utf8) == Self.edited)
        #expect(cli(["note", "set", "Memory/Plan.md", "owner=agent"] + expectingCurrent(v.root, "Memory/Plan.md"), runID: run).0 == 0)
        #expect(cli(["note", "set", "Memory/Plan.md", "owner=person"], runID: nil).0 == 0)
        #expect(try String(contentsOfFile: v.root + "/Memory/Plan.md", encoding: .utf8).contains("owner: person"))
    }
}

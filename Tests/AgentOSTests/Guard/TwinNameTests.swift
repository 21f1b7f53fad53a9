import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// Round 124 (F5, medium): an agent's `write_note {create: true}`, an in-run `note write --create`
/// and `create_task` made a note whose name differed from a person's only in case, in the Unicode
/// form of an accent or by an invisible character (`Memory/PLAN.md`, `memory/Plan.md`, `Plan.MD`, an
/// NFD `Café.md`). Links, Obsidian and the disks of macOS and Windows take those for one name: the
/// person's `[[Plan]]` stopped being one note, and the agent's text went into their packets.
@Suite struct TwinNameTests {
    static let nfcCafe = "Memory/Caf\u{E9}.md"
    static let nfdCafe = "Memory/Cafe\u{301}.md"

    func vault() throws -> MCPServerTests.InitVault {
        let temp = try MCPServerTests.InitVault()
        try "---\nowner: Ada\n---\n# Plan\nA PERSON'S PLAN\n".replacingFile(temp.vault.root + "/Memory/Plan.md")
        try "# Café\nA PERSON'S CAFE NOTE\n".replacingFile(temp.vault.root + "/" + TwinNameTests.nfcCafe)
        try "# Keep\n".replacingFile(temp.vault.root + "/Memory/Keep.md")
        try "# Kees\n".replacingFile(temp.vault.root + "/Memory/Kees.md")
        try "# Dose\n".replacingFile(temp.vault.root + "/Memory/5\u{03BC}g dose.md")
        try "# My plan\n".replacingFile(temp.vault.root + "/Memory/My plan.md")
        for name in ["Bob\u{2019}s plan", "Vi\u{1EC7}t", "\u{4F1A}\u{8B70}", "\u{1F4DA} Reading"] {
            try "# \(name)\n".replacingFile(temp.vault.root + "/Memory/\(name).md")
        }
        try "# λογος\n".replacingFile(temp.vault.root + "/Memory/\u{03BB}\u{03BF}\u{03B3}\u{03BF}\u{03C2}.md")
        return temp
    }

    /// The names in `folder`, as their bytes (Swift's `==` takes an NFD name for the NFC one).
    func names(_ root: String, _ folder: String) throws -> Set<[UInt8]> {
        Set(try FileSystem.list(root + "/" + folder).map { Array($0.name.utf8) })
    }

    @Test func anAgentCannotCreateATwinOfAPersonsNoteOverMCP() throws {
        let temp = try vault()
        let root = temp.vault.root
        let before = try names(root, "Memory")
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        func create(_ path: String) -> String {
            "\(tools.call("write_note", arguments: .object([("path", .string(path)), ("text", .string("AGENT TEXT\n")), ("create", .bool(true))])))"
        }
        let twins: [(path: String, twin: String)] = [
            ("Memory/PLAN.md", "Memory/Plan.md"),
            ("Memory/plan.md", "Memory/Plan.md"),
            ("Memory/Plan.MD", "Memory/Plan.md"),
            ("memory/Plan.md", "Memory"),
            ("MEMORY/New idea.md", "Memory"),
            (TwinNameTests.nfdCafe, TwinNameTests.nfcCafe),
            ("Memory/Pl\u{200B}an.md", "Memory/Plan.md"),
            // Round 126: characters that show nothing, beyond HFS's list.
            ("Memory/Pl\u{00AD}an.md", "Memory/Plan.md"),
            ("Memory/Plan\u{2066}.md", "Memory/Plan.md"),
            ("Memory/Pla\u{034F}n.md", "Memory/Plan.md"),
            ("Memory/Plan\u{FE0F}.md", "Memory/Plan.md"),
            ("Memory/Pl\u{3164}an.md", "Memory/Plan.md"),
            ("Memory/Pl\u{180E}an.md", "Memory/Plan.md"),
            ("Memory/\u{212A}eep.md", "Memory/Keep.md"),
            // Round 127: spaces that show as one, final sigma, blank fillers.
            ("Memory/My\u{00A0}plan.md", "Memory/My plan.md"),
            ("Memory/My\u{202F}plan.md", "Memory/My plan.md"),
            ("Memory/\u{039B}\u{039F}\u{0393}\u{039F}\u{03A3}.md", "Memory/\u{03BB}\u{03BF}\u{03B3}\u{03BF}\u{03C2}.md"),
            ("Memory/Pl\u{FFA0}an.md", "Memory/Plan.md"),
            ("Memory/Plan\u{2800}.md", "Memory/Plan.md"),
            ("Memory/Pl\u{200D}an.md", "Memory/Plan.md"),
            // Round 128: a joiner or selector after punctuation, a Latin letter with marks, kana, or
            // an emoji outside a sequence; a tag character outside a flag.
            ("Memory/Bob\u{2019}\u{200D}s plan.md", "Memory/Bob\u{2019}s plan.md"),
            ("Memory/Vi\u{1EC7}\u{200D}t.md", "Memory/Vi\u{1EC7}t.md"),
            ("Memory/\u{4F1A}\u{8B70}\u{200D}.md", "Memory/\u{4F1A}\u{8B70}.md"),
            ("Memory/\u{1F4DA}\u{E0020} Reading.md", "Memory/\u{1F4DA} Reading.md"),
            // Round 128 F3: letters case folding takes for others (the micro sign, the long s).
            ("Memory/5\u{00B5}g dose.md", "Memory/5\u{03BC}g dose.md"),
            ("Memory/Kee\u{017F}.md", "Memory/Kees.md"),
        ]
        for (path, twin) in twins {
            let answer = create(path)
            #expect(answer.contains("isError") && answer.hasSuffix("bool(true))]"), "\(path): \(answer)")
            #expect(answer.contains("not created: \(twin) exists"), "\(path): \(answer)")
        }
        // Nothing was made: no twin, no second folder, and the person's notes are as they were.
        #expect(try names(root, "Memory") == before)
        #expect(try FileSystem.list(root).map(\.name).filter { DiskName.fold($0) == "memory" } == ["Memory"])
        #expect(try String(contentsOfFile: root + "/Memory/Plan.md", encoding: .utf8).contains("A PERSON'S PLAN"))
        // Names of their own are made as before.
        for path in ["Memory/Plan 2.md", "Memory/Planning.md", "Memory/Cafe.md"] {
            let answer = create(path)
            #expect(answer.contains("wrote \(path)"), "\(path): \(answer)")
        }
        // The person's link still names one note.
        let links = LinkResolver(vault: temp.vault)
        let named = links.resolve(WikiLink(target: "Plan"), from: "Memory/Plan 2.md").judged
        #expect(named.contains("Memory/Plan.md") && !named.contains { $0.hasPrefix("Memory/") && $0 != "Memory/Plan.md" }, "\(named)")
    }

    /// Round 126 (F8): names that no disk and no link takes for another are made: folded further
    /// (compatibility forms, `ß` as `ss`), honest names were refused.
    @Test func namesOfTheirOwnAreNotTakenForTwins() throws {
        let temp = try vault()
        let root = temp.vault.root
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        // Round 127: joiners, variation selectors and tag characters that shape emoji and joined
        // scripts make names of their own (England's and Scotland's flags, ❤ and ❤️, a kanji
        // variant, a Persian spelling with a zero-width non-joiner).
        let england = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}", scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}"
        for (existing, new) in [("Masse", "Maße"), ("H2O", "H\u{2082}O"), ("Plan2", "Plan\u{00B2}"), ("XII", "\u{216B}"), ("kg", "\u{338F}"), ("Plan", "\u{FF30}lan"), ("file", "\u{FB01}le"),
                                (england, scotland), ("\u{2764}", "\u{2764}\u{FE0F}"), ("\u{00A9} notes", "\u{00A9}\u{FE0F} notes"), ("1\u{20E3}", "1\u{FE0F}\u{20E3}"),
                                ("\u{4F1A}\u{8B70} \u{30E1}\u{30E2}", "\u{4F1A}\u{8B70}\u{3000}\u{30E1}\u{30E2}"), ("\u{845B}", "\u{845B}\u{E0100}"), ("\u{0645}\u{06CC}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}", "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}")] {
            try FileManager.default.createDirectory(atPath: root + "/Notes", withIntermediateDirectories: true)
            try "# \(existing)\n".replacingFile(root + "/Notes/\(existing).md")
            let answer = "\(tools.call("write_note", arguments: .object([("path", .string("Notes/\(new).md")), ("text", .string("TEXT\n")), ("create", .bool(true))])))"
            #expect(answer.contains("wrote Notes/\(new).md"), "\(new) beside \(existing): \(answer)")
        }
    }

    /// From within a run, `note write --create` is refused the same way; a person's own create is
    /// refused too (a twin breaks their links as surely), with the name in its way.
    @Test func noteWriteCreateRefusesATwinFromARunAndFromAPerson() throws {
        let temp = try vault()
        let root = temp.vault.root
        let draft = TemporaryFolder.make("fbt-twin-draft") + "/draft.md"
        try "AGENT TEXT\n".replacingFile(draft)
        func cli(_ path: String, run: Bool) -> (Int32, String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(["note", "write", path, "--create", "--from", draft, "--vault", root], console: console,
                               environment: run ? ["FBT_RUN_ID": "20261202-120000-abcdef"] : [:], executablePath: "fuckbigtech")
            return (code, captured.stderr)
        }
        for run in [true, false] {
            for path in ["Memory/plan.md", "Memory/PLAN.MD", TwinNameTests.nfdCafe] {
                let (code, err) = cli(path, run: run)
                #expect(code == 1, "\(path) run=\(run): \(err)")
                #expect(err.contains("not created:") && err.split(separator: "\n").count == 1, "\(path) run=\(run): \(err)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/Memory/plan.md") && !FileManager.default.fileExists(atPath: root + "/Memory/PLAN.MD"))
        #expect(!(try names(root, "Memory")).contains(Array("Cafe\u{301}.md".utf8)))
        // A control: a name of its own.
        let (code, err) = cli("Memory/Fresh.md", run: false)
        #expect(code == 0, "\(err)")
    }

    /// `create_task` and `task new` take the next free name when a twin of the title's is there,
    /// as they do for the name itself.
    @Test func aTaskTitledAsATwinTakesTheNextFreeName() throws {
        let temp = try vault()
        let root = temp.vault.root
        try "---\ntype: task\nstatus: done\n---\nA PERSON'S TASK\n".replacingFile(root + "/Tasks/Weekly review.md")
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        let made = "\(tools.call("create_task", arguments: .object([("prompt", .string("AGENT TASK")), ("title", .string("weekly REVIEW"))])))"
        #expect(made.contains("created Tasks/weekly REVIEW 2.md"), "\(made)")
        var another = NewTask(prompt: "Another")
        another.title = "WEEKLY review"
        let task = try another.write(vault: temp.vault, environment: [:])
        #expect(task == "Tasks/WEEKLY review 3.md", "\(task)")
        let tasks = try names(root, "Tasks")
        #expect(!tasks.contains(Array("weekly REVIEW.md".utf8)) && !tasks.contains(Array("WEEKLY review.md".utf8)) && tasks.contains(Array("Weekly review.md".utf8)))
        #expect(try String(contentsOfFile: root + "/Tasks/Weekly review.md", encoding: .utf8).contains("A PERSON'S TASK"))
    }

    /// To a caller private notes are withheld from, a twin of a private note gets the answer a
    /// write to that note gets: it does not tell a private note from a missing one.
    @Test func aTwinOfAPrivateNoteIsAnsweredAsThePrivateNoteIs() throws {
        let temp = try vault()
        let root = temp.vault.root
        try "---\nprivacy: private\n---\n# Salary\nPRIVMARK\n".replacingFile(root + "/Memory/Salary.md")
        let tools = MCPTools(vault: temp.vault, scope: MCPScope(vault: temp.vault, agent: "claude", environment: [:]))
        func create(_ path: String) -> String {
            "\(tools.call("write_note", arguments: .object([("path", .string(path)), ("text", .string("AGENT TEXT\n")), ("create", .bool(true))])))"
        }
        let exact = create("Memory/Salary.md"), twin = create("Memory/SALARY.md")
        #expect(exact.contains("no such note, or a private one"), "\(exact)")
        #expect(twin.replacingOccurrences(of: "Memory/SALARY.md", with: "Memory/Salary.md") == exact, "\(twin)")
        #expect(!twin.contains("not created"))
        #expect(!FileManager.default.fileExists(atPath: root + "/Memory/SALARY.md"))
        // Round 126 (F1): the note, or its twin, used as a folder: the same answer, naming neither
        // the note nor the vault's place on disk.
        for path in ["Memory/Salary.md/x.md", "Memory/SALARY.md/x.md", "Memory/salary.md/Sub/x.md"] {
            let answer = create(path)
            #expect(answer.replacingOccurrences(of: path, with: "Memory/Salary.md") == exact, "\(path): \(answer)")
            #expect(!answer.contains(root), "\(answer)")
        }
        // A public note used as a folder is said to be one, without the vault's place on disk.
        let publicFile = create("Memory/Plan.md/x.md")
        #expect(publicFile.contains("Memory/Plan.md is a note, not a folder") && !publicFile.contains(root), "\(publicFile)")
        // An attachment is no note (round 127 F7: `photo.png` was called one).
        try "PNG".replacingFile(root + "/Memory/photo.png")
        let attachment = create("Memory/photo.png/x.md")
        #expect(attachment.contains("Memory/photo.png is a file, not a folder"), "\(attachment)")
    }
}

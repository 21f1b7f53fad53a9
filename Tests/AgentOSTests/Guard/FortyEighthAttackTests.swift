import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// Round 58 (attack112): a vault whose own path holds a space (`~/Obsidian Vault`, iCloud's
/// `Mobile Documents`) lost path privacy, as the path reader stopped at the space; the vault named
/// by `…/Projects/..`, by a folder that holds it (`~`, the home folder) or by a glob that matches
/// its way down (`~/Obs*`) was public; and a glob in a public folder matching a symlink to private
/// notes, or `private: true` notes, was public. Each is run as the attacker ran it: the real
/// binary's `route`, with `HOME` set to the folder the vault is in.
@Suite struct SpacedVaultPathTests {
    /// A home folder holding the vault `Obsidian Vault`, with a private folder, a `private: true`
    /// note, symlinks into both from a public folder, and public notes.
    static func home() throws -> (home: String, vault: String) {
        let home = TemporaryFolder.make("fbt-home")
        let vault = home + "/Obsidian Vault"
        let fm = FileManager.default
        for folder in [".obsidian", "Private", "Personal", "Work/Deep", "Projects", "Tasks"] {
            try fm.createDirectory(atPath: vault + "/" + folder, withIntermediateDirectories: true)
        }
        try "# Salary\nMy salary is 123456 ZORBLAT.\n".replacingFile(vault + "/Private/Salary.md")
        try "---\nprivate: true\n---\n# Plan\nZORBLAT plan.\n".replacingFile(vault + "/Personal/Plan.md")
        try "# App\nPublic.\n".replacingFile(vault + "/Projects/App.md")
        try "# Note\nPublic.\n".replacingFile(vault + "/Work/Note.md")
        try fm.createSymbolicLink(atPath: vault + "/Work/Shared", withDestinationPath: "../Private")
        try fm.createSymbolicLink(atPath: vault + "/Work/Deep/S.md", withDestinationPath: "../../Private/Salary.md")
        try fm.createSymbolicLink(atPath: vault + "/Work/PersLink", withDestinationPath: "../Personal")
        return (home, vault)
    }

    /// The privacy line of `route` for a claude task saying `line`, run by the built binary.
    static func privacy(_ line: String, home: String, vault: String) throws -> String {
        try "---\ntype: task\nagent: claude\nstatus: draft\n---\n\(line)\n".replacingFile(vault + "/Tasks/Ask.md")
        let outcome = try ChildProcess.run(try BuiltBinary.path(), ["route", "Tasks/Ask.md", "--vault", vault],
                                           environment: ["HOME": home, "PATH": "/usr/bin:/bin", "NO_COLOR": "1"])
        let row = outcome.stdout.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("privacy ") }
        return row.map(String.init) ?? "no privacy row: \(outcome.stdout) \(outcome.stderr)"
    }

    @Test func aVaultPathWithASpaceIsReadWhole() throws {
        let (home, vault) = try Self.home()
        defer { TemporaryFolder.remove(home) }
        let privateLines = [
            #"Summarize ~/Obsidian\ Vault/Private/Salary.md"#, #"Summarize "~/Obsidian Vault/Private""#, "Summarize ~/Obsidian Vault/Private/",
            #"ls "$HOME/Obsidian Vault/Private""#, #"cat "$HOME/Obsidian Vault/Private/"*.md"#, #"Summarize ~/Obsidian\ Vault"#,
            #"cd "\#(vault)" && git status"#, #"Summarize \#(vault.replacingOccurrences(of: " ", with: "\\ "))/Private/Salary.md"#,
            // The vault named by a folder that holds it, a glob down to it, or `..`.
            "grep -r IBAN ~", "grep -r IBAN ~/", "grep -r IBAN ~/*", "Summarize ~/Obs*", #"Summarize ~/Obsidian\ Vault/Projects/.."#,
            "Summarize \(home) please",
            // A glob in a public folder over a symlink to private notes, or over `private: true` notes.
            #"Summarize ~/Obsidian\ Vault/Work/Sha*/*"#, #"Summarize ~/Obsidian\ Vault/Work/*"#, #"Summarize ~/Obsidian\ Vault/Work/Deep/**"#,
            #"Summarize ~/Obsidian\ Vault/Work/P*/*"#, #"Summarize ~/Obsidian\ Vault/Personal/*"#, #"Summarize ~/Obsidian\ Vault/Personal/*.md"#,
            // attack114: a glob's class, a glob or braces over the spaced part, quotes a shell takes
            // out, a normalised path in quotes or with the space written plain, braces that multiply.
            #"grep -r IBAN ~/Obsidian\ Vault/Pr[i]vate"#, #"cat ~/Obsidian\ Vault/Work/[S]hared/Salary.md"#, #"ls ~/Obsidian\ V*/Private"#,
            #"ls ~/Obsidian{\ ,}Vault/Private"#, "cat ~/Obsidian' 'Vault/Private/Salary.md", #"cat "\#(home)/./Obsidian Vault/Private/Salary.md""#,
            "ls ~/./Obsidian Vault/Private", "cat ~/Obsidian\\ Vault/Pri''vate/Salary.md", "ls ~/" + String(repeating: "{,,,,,,,,,}", count: 8),
            // attack116: the home folder alone after a quoted pattern, a line continuation, an
            // assignment, or a verb opening the sentence.
            "grep -r 'my bank account number is' ~", "grep -r IBAN \\\n  ~", "H=~; grep -r IBAN $H", "Search ~ for IBAN numbers", "Copy ~ to the server.",
        ]
        for line in privateLines {
            let row = try Self.privacy(line, home: home, vault: vault)
            #expect(row.contains("STOP private"), "\(line) → \(row)")
        }
        // What names no private note stays public: a public note, a glob over public notes, a glob in
        // the home folder that does not match the vault, `~` as "about", other folders.
        for line in [#"Summarize ~/Obsidian\ Vault/Projects/App.md"#, #"Summarize ~/Obsidian\ Vault/Projects/*"#, "Summarize ~/*.txt",
                     "It takes ~ 5 minutes", "Summarize ~/Downloads/*.pdf", "go to ~/code now", "Split on / please",
                     "X ~ N(0, 1)", "Estimated effort: ~ two days.", "What does echo $HOME print?", "Press Ctrl+~ to open the console",
                     "check src/[a-z]*.ts and /usr/lib/[a-z]*.so",
                     // attack116: dotfiles in the home folder, a number after `~`, prose after "in".
                     "vim ~/.zshrc", "cat ~/.ssh/config", "cp ~/.bashrc ~/backup/", "The config lives in ~/.config/nvim/init.lua.",
                     "Latency is at ~ 200 ms.", "Files in ~ are backed up nightly", "In awk, $1 ~ /foo/ matches"] {
            let row = try Self.privacy(line, home: home, vault: vault)
            #expect(row.contains("ok") && !row.contains("STOP"), "\(line) → \(row)")
        }
    }

    /// iCloud keeps Obsidian's vaults under `~/Library/Mobile Documents/iCloud~md~obsidian/Documents`:
    /// each folder on the way holds the vault, the first one with a space in its name.
    @Test func aFolderOnTheWayToAnICloudVaultNamesIt() throws {
        let home = TemporaryFolder.make("fbt-home")
        defer { TemporaryFolder.remove(home) }
        let vault = home + "/Library/Mobile Documents/iCloud~md~obsidian/Documents/Notes"
        for folder in [".obsidian", "Private", "Tasks"] { try FileManager.default.createDirectory(atPath: vault + "/" + folder, withIntermediateDirectories: true) }
        try "# Salary\nZORBLAT\n".replacingFile(vault + "/Private/Salary.md")
        for line in [#"grep -r IBAN ~/Library/Mobile\ Documents/iCloud~md~obsidian/"#, #"grep -r IBAN ~/Library/Mobile\ Documents/iCloud~md~obsidian/Documents/"#,
                     #"ls "$HOME/Library/Mobile Documents""#, #"cat ~/Library/Mobile\ Documents/iCloud~md~obsidian/Documents/Notes/Private/Salary.md"#] {
            let row = try Self.privacy(line, home: home, vault: vault)
            #expect(row.contains("STOP private"), "\(line) → \(row)")
        }
        let row = try Self.privacy(#"ls ~/Library/Mobile\ Documents/com~apple~Numbers/"#, home: home, vault: vault)
        #expect(row.contains("ok") && !row.contains("STOP"), "\(row)")
    }

    @Test func aGlobIsMatchedAsAShellExpandsIt() throws {
        let (home, vault) = try Self.home()
        defer { TemporaryFolder.remove(home) }
        let v = Vault(root: vault)
        let work = try #require(TaskFacts.globMatches("Sha*/*", under: "Work", in: v))
        #expect(work.files.contains("Work/Shared"), "\(work)")
        let deep = try #require(TaskFacts.globMatches("*", under: "Work", in: v))
        #expect(Set(deep.files).isSuperset(of: ["Work/Note.md", "Work/Shared", "Work/PersLink", "Work/Deep/S.md"]), "\(deep)")
        // `**` goes through a symlink to a folder of the vault, as `grep -R` does.
        let all = try #require(TaskFacts.globMatches("**", under: "Work", in: v))
        #expect(all.files.contains("Personal/Plan.md") && all.files.contains("Private/Salary.md"), "\(all)")
        #expect(TaskFacts.globMatches(name: "Notes", part: "{code,N?tes}") && TaskFacts.globMatches(name: "NOTES", part: "notes"))
        #expect(!TaskFacts.globMatches(name: "Notes", part: "*.txt"))
        // More entries than can be judged: no answer (the caller counts the glob private).
        #expect(TaskFacts.globMatches("**", under: "", in: v, limit: 3) == nil)
        // Braces that multiply past 64 names match anything rather than be expanded.
        #expect(TaskFacts.globMatches(name: "Notes", part: String(repeating: "{a,b,c}", count: 5)))
        #expect(!TaskFacts.globMatches(name: "Notes", part: "{a,b,c}{d,e}"))
        // A single group counts too (attack116: its first group was skipped).
        #expect(TaskFacts.globMatches(name: "Notes", part: "{" + String(repeating: "a,", count: 70) + "b}"))
        // The globs of one task share a budget of names to look at: spent, no answer.
        var listings = TaskFacts.GlobListings()
        var budget = 10
        #expect(TaskFacts.globMatches("*", under: "Work", in: v, limit: 5000, listings: &listings, budget: &budget) != nil)
        #expect(TaskFacts.globMatches("*", under: "Work", in: v, limit: 5000, listings: &listings, budget: &budget) == nil)
    }
}

/// Round 58 (attack113): a note whose frontmatter comes after a blank line is no frontmatter to
/// Obsidian, but one that says `privacy: private` there went to claude as a memory match.
@Suite struct LateFrontmatterTests {
    @Test(arguments: ["\n---\nprivacy: private\n---\nQUOKKA ninth.\n", "\n\n---\nprivate: true\n---\nQUOKKA tenth.\n",
                      " \n---\ntags: [private]\n---\nQUOKKA eleventh.\n"])
    func aPrivateBlockAfterBlankLinesIsPrivate(_ text: String) throws {
        let v = RouteTestVault()
        v.write("Memory/Late.md", text)
        let store = NoteStore(vault: v.vault)
        #expect(Privacy.isPrivate(linkedNote: "Memory/Late.md", store: store, guardrails: v.book.guardrails))
        v.write("Memory/Plain.md", "\n---\ntitle: x\n---\nQUOKKA public.\n")
        #expect(!Privacy.isPrivate(linkedNote: "Memory/Plain.md", store: store, guardrails: v.book.guardrails))
    }
}

/// Round 58 (attack113): `report --days 10000000` counted no runs of a vault with 73 and wrote its
/// note anyway, and past 740,000 days the first day was printed as a year without its era.
@Suite struct ReportDaysTests {
    @Test func moreDaysThanAHundredYearsAreRefused() throws {
        let temp = try MCPServerTests.InitVault()
        for days in ["36526", "800000", "10000000", "1000000000"] {
            let (console, captured) = Console.capturing()
            let code = CLI.run(["report", "--days", days, "--vault", temp.vault.root], console: console, environment: ["HOME": temp.folder.path], executablePath: "/opt/fbt/fuckbigtech")
            #expect(code == 64 && captured.stderr.contains("from 1 to 36525"), "\(days): \(code) \(captured.stderr)")
        }
        let (console, captured) = Console.capturing()
        let code = CLI.run(["report", "--days", "36525", "--vault", temp.vault.root], console: console, environment: ["HOME": temp.folder.path], executablePath: "/opt/fbt/fuckbigtech")
        #expect(code == 0, "\(captured.stderr)")
    }
}

/// Round 58 (attack112): a handoff written by hand whose `task` names another handoff reserved
/// the default $1.00 under a task of `budget_usd: 0.05`: the chain walk stopped at the handoff.
@Suite struct HandoffOfAHandoffTests {
    @Test func theTasksBudgetHoldsDownAChainOfHandoffs() {
        let v = RouteTestVault()
        v.write("Tasks/Root.md", "---\ntype: task\nagent: claude\nbudget_usd: 0.05\n---\nWork.\n")
        v.write("Handoffs/H1.md", "---\ntype: handoff\nfrom: claude\nto: codex\ntask: \"[[Tasks/Root]]\"\n---\nGo on.\n")
        for i in 2...6 {
            let facts = v.facts("Handoffs/H\(i).md", "---\ntype: handoff\nfrom: codex\nto: claude\ntask: \"[[Handoffs/H\(i - 1)]]\"\n---\nGo on.\n")
            #expect(facts.budgetUSD == 0.05 && facts.budgetError == nil, "H\(i): \(String(describing: facts.budgetUSD))")
        }
        // A loop of handoffs ends the walk (no hang), and the task above still holds.
        v.write("Handoffs/L1.md", "---\ntype: handoff\nfrom: claude\nto: codex\ntask: \"[[Handoffs/L2]]\"\nbudget_usd: 0.02\n---\nGo on.\n")
        let loop = v.facts("Handoffs/L2.md", "---\ntype: handoff\nfrom: codex\nto: claude\ntask: \"[[Handoffs/L1]]\"\n---\nGo on.\n")
        #expect(loop.budgetUSD == 0.02, "\(String(describing: loop.budgetUSD))")
    }
}

/// Round 58 (found while timing the path reader): the expression that took SQL comments out of a
/// task read to the end of the text from every `/*` without a `*/` after it (a task of 12,000
/// globs, `~/code/x/*.ts`, took 20 s to route), and a glob's `/*` opened a "comment" that ate the
/// `DROP` of a `DROP/**/TABLE` after it. Each `*/` closes the nearest `/*` now.
@Suite struct BlockCommentTests {
    @Test(arguments: [("DROP/**/TABLE users", "DROP TABLE users"), ("a /* b */ c /* d", "a   c /* d"), ("no comment", "no comment"),
                      ("/* one */ /* two */", "   "), ("x/*y*/z/*", "x z/*"), ("*/ /* */", "*/  "), ("src/*.ts then DROP/**/TABLE", "src/*.ts then DROP TABLE")])
    func eachCloseTakesOutTheNearestOpen(_ text: String, _ expected: String) {
        #expect(EffectsInference.withoutBlockComments(text) == expected)
    }

    @Test func aTaskOfManyGlobsStillFindsTheDeleteAfterThem() {
        let text = (0..<12_000).map { "~/code/p\($0)/src/*.ts" }.joined(separator: " ") + " then DROP/**/TABLE users"
        #expect(EffectsInference.infer(text).contains { $0.effect == "delete" })
    }
}

/// Round 58 (attack113): a task note whose file name is not UTF-8 (a Latin-1 `café.md` from an old
/// sync or a zip) never ran, and nothing said so: the name read back (U+FFFD for its byte) names no
/// file. The walk says why it is left out, and `doctor` names it with the fix.
@Suite struct LossyNameTests {
    @Test func aNameThatIsNotUTF8IsSaidNotSilentlyDropped() throws {
        let v = RouteTestVault()
        try FileManager.default.createDirectory(atPath: v.root + "/Tasks", withIntermediateDirectories: true)
        // `café.md` in Latin-1: the é is one byte, 0xE9.
        var raw = Array((v.root + "/Tasks/caf").utf8)
        raw += [0xE9] + Array(".md".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer { buffer in buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { open($0, O_WRONLY | O_CLOEXEC | O_CREAT | O_EXCL, 0o644) } }
        #expect(fd >= 0)
        _ = "---\nagent: echo\n---\nhello\n".withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let walk = VaultWalker.walk(v.vault, under: "Tasks")
        #expect(walk.skipped.contains { $0.reason == .nameNotUTF8 && $0.path.hasPrefix("Tasks/caf") }, "\(walk.skipped)")
        _ = try MemoryIndex(vault: v.vault)
        let findings = VaultChecks.lossyNameFindings(IndexHealth.check(vault: v.vault))
        #expect(findings.count == 1 && findings[0].status == .warn && findings[0].finding.contains("not UTF-8"), "\(findings)")
        // A name that merely holds U+FFFD, and is there, is a note like any other.
        v.write("Tasks/odd \u{FFFD}.md", "---\nagent: echo\n---\nhello\n")
        #expect(VaultWalker.walk(v.vault, under: "Tasks").files.contains { $0.path == "Tasks/odd \u{FFFD}.md" })
    }
}

/// Round 59 (attack115): inputs that took quadratic time, and stalled the watcher's two routing
/// slots for minutes — a `context:` list of 2,000 quoted links (8 s; 20,000 never finished: each
/// quoted value copied the rest of the list) and one path word of thousands of parts that do not
/// exist (`/a/a/a/…`: each step up resolved and measured all that was left). No clock is read
/// here: before the fixes these inputs took minutes each.
@Suite struct QuadraticInputTests {
    @Test func aLongContextListOfQuotedLinksIsReadWhole() throws {
        let links = (0..<20_000).map { "\"[[Memory/N\($0)]]\"" }.joined(separator: ", ")
        let note = try Note.parse("---\ntype: task\ncontext: [\(links), 'it''s', \"a \\\"b\\\"\"]\n---\nhi\n")
        let values = note.texts("context")
        #expect(values.count == 20_002 && values.first == "[[Memory/N0]]" && values[19_999] == "[[Memory/N19999]]", "\(values.count)")
        #expect(values[20_000] == "it's" && values[20_001] == "a \"b\"", "\(values.suffix(2))")
    }

    /// attack117: what cannot be judged in bounded time counts as private: more than 5,000 vault
    /// paths in one task, and more than 256 `~` standing alone (each was read with all the text
    /// before it: a note of `it takes ~ 3 days` lines was quadratic).
    @Test func moreThanCanBeJudgedIsPrivate() throws {
        let v = FortySeventhAttackTests.vault()
        let many = (0...5_000).map { "\(v.root)/Memory/d\($0)/x.md" }.joined(separator: " ")
        #expect(!v.facts("Tasks/Many.md", "---\ntype: task\nagent: claude\n---\n\(many)\n").privateSources.isEmpty)
        let few = (0..<50).map { "\(v.root)/Memory/d\($0)/x.md" }.joined(separator: " ")
        #expect(v.facts("Tasks/Few.md", "---\ntype: task\nagent: claude\n---\n\(few)\n").privateSources.isEmpty)
        let (home, vault) = try SpacedVaultPathTests.home()
        defer { TemporaryFolder.remove(home) }
        let tildes = String(repeating: "it takes ~ three days\n", count: 300)
        #expect(try SpacedVaultPathTests.privacy(tildes, home: home, vault: vault).contains("STOP private"))
        let someTildes = String(repeating: "it takes ~ three days\n", count: 20)
        #expect(try !SpacedVaultPathTests.privacy(someTildes, home: home, vault: vault).contains("STOP"))
    }

    @Test func aPathOfManyPartsThatDoNotExistIsReadAsWritten() throws {
        let deep = "/" + Array(repeating: "a", count: 32_000).joined(separator: "/")
        #expect(RunWorkspace.realForm(deep) == deep)
        // What exists is resolved, symlinks and `..` included, and the rest kept as written.
        let root = TemporaryFolder.make("fbt-real")
        defer { TemporaryFolder.remove(root) }
        try FileManager.default.createDirectory(atPath: root + "/real/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "real")
        #expect(RunWorkspace.realForm(root + "/link/sub/../New/Bank.md") == root + "/real/New/Bank.md")
        #expect(RunWorkspace.realForm(root + "/link//sub/") == root + "/real/sub")
        let v = FortySeventhAttackTests.vault()
        // (Within claude's prompt budget: the text is routed, and public.)
        let parts = Array(repeating: "a", count: 2_000).joined(separator: "/")
        #expect(try FortySeventhAttackTests.routesToClaude(v, "Read /" + parts + " and \(v.root)/" + parts))
    }
}

/// Round 61 (CI): a polling watcher caught a burst task while the bench still had it open for
/// writing; the engine waits for the writer to close it, which inotify reports and polling cannot
/// (nothing of the file changes at the close), so the task never ran. A note held open is looked
/// at again shortly, until no writer holds it.
@Suite struct WriterRecheckTests {
    @Test func aTaskCaughtMidWriteRunsWithoutAnotherEvent() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = env.vault.root + "/Tasks/Polled.md"
        try Data().write(to: URL(fileURLWithPath: path))
        let writer = try openHeldWriter(path)
        try writer.write(contentsOf: Data("---\ntype: task\nagent: echo\nstatus: new\n---\nSay hello.\n".utf8))
        #expect(engine.consider(path: "Tasks/Polled.md") == .beingWritten)
        try writer.close()
        // No event follows the close here, as none does for a polling watcher.
        #expect(eventually(within: 20) { (try? env.note("Tasks/Polled.md").text("status")) == "done" }, "\((try? env.text("Tasks/Polled.md")) ?? "")")
        engine.waitUntilIdle()
    }
}

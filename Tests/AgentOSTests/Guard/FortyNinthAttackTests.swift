import Foundation
import Testing
import TestSupport
@testable import AgentOS

/// A retrieved piece (a memory match, a daily line) that names a private note or folder by its path
/// on disk, written without `.md` (`/home/anna/Notes/Private/Salary`), went to the cloud agent: only
/// link forms were judged in retrieved pieces, while a task naming the same path is private (round
/// 53). The agent could open the file it names. Off this machine such a piece is left out, counted
/// as private, and never makes the task private; a path to a public note keeps its piece.
@Suite struct RetrievedDiskPathTests {
    static let ask = "---\ntype: task\nagent: claude\n---\nExplain the wombat ledger reconciliation in one line.\n"

    static func vault() -> RouteTestVault {
        let v = RouteTestVault()
        v.write("Private/Salary.md", "# Salary\n\nPRIVATEMARK 91,000 a year.\n")
        v.write("Private/Bank Details.md", "# Bank\n\nIBAN PRIVATEMARK.\n")
        v.write("Notes/Plain.md", "# Plain\n\nNothing here.\n")
        v.write("Tasks/Ask.md", ask)
        return v
    }

    /// The task planned in `vault()` with a ledger note holding `line` (`ROOT` for the vault's
    /// path), and a plain note on the same words when `andCleanNote`.
    static func planWithLedger(_ line: String, andCleanNote: Bool) throws -> RoutePlan {
        let v = vault()
        v.write("Notes/Wombat ledger.md", "# Wombat ledger\n\n\(line.replacingOccurrences(of: "ROOT", with: v.root))\n")
        if andCleanNote { v.write("Notes/Wombat notes.md", "# Wombat notes\n\nThe wombat ledger reconciliation runs CLEANMARK every Friday.\n") }
        return try PacketGuardrailsTests.plan(v, "Tasks/Ask.md")
    }

    @Test(arguments: [
        "cat ROOT/Private/Salary before the wombat ledger reconciliation PATHMARK",
        "the wombat ledger reconciliation reads 'ROOT/Private/Bank Details' PATHMARK",
        "the wombat ledger reconciliation reads ROOT/Private/Bank\\ Details PATHMARK",
        "the wombat ledger reconciliation: ls ROOT/Priv*/ PATHMARK",
        "the wombat ledger reconciliation lives in ROOT/private/ PATHMARK",
    ])
    func aRetrievedNoteNamingAPrivatePathIsLeftOut(_ line: String) throws {
        let plan = try Self.planWithLedger(line, andCleanNote: true)
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.privacy == nil, "a retrieved piece does not taint the task")
        #expect(!plan.prompt.contains("PATHMARK"), "\(plan.prompt)")
        #expect(!plan.prompt.contains("PRIVATEMARK"))
        #expect(plan.prompt.contains("CLEANMARK"))
    }

    /// The near miss: paths to public notes, and words that merely look like paths, keep their piece.
    @Test(arguments: [
        "see ROOT/Notes/Plain for the wombat ledger reconciliation PATHMARK",
        "the wombat ledger reconciliation uses /usr/bin/env and ~/.config/ledger PATHMARK",
        "the wombat ledger reconciliation: 3/4 of rows, and/or ~5 minutes PATHMARK",
    ])
    func aRetrievedNoteNamingOnlyPublicPathsIsSent(_ line: String) throws {
        let plan = try Self.planWithLedger(line, andCleanNote: false)
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("PATHMARK"), "\(plan.prompt)")
    }

    /// The day's log: a line naming a private note by its path is left out, the others go.
    @Test func aDailyLineNamingAPrivatePathIsLeftOut() throws {
        let v = Self.vault()
        let day = LocalTime.day(Date())
        v.write("Daily/\(day).md", RunLines.marked("# \(day)\n\n- 09:00 [[Tasks/Other]] → claude (premium): done DAILYMARK\n- 09:05 copied \(v.root)/Private/Salary to the printer PATHMARK\n"))
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("DAILYMARK"))
        #expect(!plan.prompt.contains("PATHMARK"), "\(plan.prompt)")
    }

    /// A task that is private itself (it runs here) keeps the piece, as it keeps private notes.
    @Test func aPrivateTaskKeepsThePiece() throws {
        let v = Self.vault()
        v.write("Notes/Wombat ledger.md", "# Wombat ledger\n\ncat \(v.root)/Private/Salary before the wombat ledger reconciliation PATHMARK\n")
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: ollama\nprivate: true\n---\nExplain the wombat ledger reconciliation in one line.\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md")
        #expect(plan.action == .run && plan.lane == "local", "\(plan.action) \(plan.lane)")
        #expect(plan.prompt.contains("PATHMARK"), "\(plan.prompt)")
    }
}

/// Round 62 (attack118): passwords given to the tools that take them on their command line, a key
/// named by its service in prose, and the short words for a password mid-line went to claude, in a
/// task's text and in a retrieved note; ordinary login code was blocked as a secret.
@Suite struct CommandLinePasswordTests {
    static let secret = "Zq8vLp2mRtX9"
    static let random = "9dJk3Lm0Qp8Rt5Vw2Xy7Zb4Nc6Hf1Gs3"

    @Test(arguments: [
        "PGPASSWORD=SECRET pg_dump -h db.internal -U app appdb > dump.sql",
        "export DBPASSWORD=SECRET",
        "mysql -u root -pSECRET app < dump.sql",
        "mysqldump -uroot -p\"SECRET\" --all-databases",
        "docker login -u deploy -p SECRET registry.example.com",
        "podman login quay.io -u bot -p 'SECRET'",
        "sshpass -p 'SECRET' ssh admin@10.0.0.5",
        "redis-cli -a SECRET -h cache.internal",
        "ldapsearch -x -D cn=admin -w SECRET -b dc=x",
        "smbclient //nas/share -U anna%SECRET",
        "login: admin pass: SECRET",
        "Password - SECRET",
        "creds admin:SECRET",
        "pwd: SECRET",
        "PW=SECRET",
        "The OpenAI key is RANDOM, it fails on startup.",
        "The Stripe key: RANDOM",
    ])
    func isFound(_ line: String) {
        let text = line.replacingOccurrences(of: "SECRET", with: Self.secret).replacingOccurrences(of: "RANDOM", with: Self.random)
        let scanner = SecretScanner()
        #expect(!scanner.scan(text).isEmpty, "missed: \(text)")
        #expect(!scanner.redact(text).text.contains(line.contains("RANDOM") ? Self.random : Self.secret), "left after redaction: \(scanner.redact(text).text)")
    }

    @Test(arguments: [
        "password = request.form[\"password\"]",
        "const password = req.body.password;",
        "self.password = hashlib.sha256(raw).hexdigest()",
        "let password = try container.decode(String.self, forKey: .password)",
        "this.password = await bcrypt.hash(this.password, 10);",
        "user.password = form.cleaned_data[\"password\"]",
        "pw_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
        "db_password = settings.DATABASES[\"default\"][\"PASSWORD\"]",
        "mysql -u root -p mydb < dump.sql",
        "mysql -u root -p$MYSQL_PWD mydb",
        "mysql -u root -p\"$DB_PASS\" mydb",
        "docker login -u deploy -p \"$REGISTRY_TOKEN\" registry.example.com",
        "redis-cli -a $REDIS_PASSWORD ping",
        "sshpass -f ~/.pw ssh admin@host",
        "The public key is AAAAC3NzaC1lZDI1NTE5AAAAIGm8Zq8vLp2mRtX9Qm4rTz8wKx2Lv",
        "The primary key is user_id and the sort key is createdAt",
        "The key is to be consistent about naming.",
        "The cache key is user:42:profile",
        "Tests pass: 12/12 on linux",
        "PWD=/home/anna/project make",
        "creds file: ~/.aws/credentials",
        "credentials: admin:changeme",
        "password = getpass.getpass(\"Password: \")",
    ])
    func isLeftAlone(_ line: String) {
        #expect(SecretScanner().scan(line).isEmpty, "false alarm: \(line) → \(SecretScanner.describe(SecretScanner().scan(line)))")
    }

    /// The same password in a note retrieval finds is left out of a cloud packet, and the task runs.
    @Test func aRetrievedRunbookWithAPasswordOnACommandLineIsLeftOut() throws {
        let v = RouteTestVault()
        v.write("Memory/Walrus backup runbook.md", "# Walrus backup runbook\n\nThe walrus backup runs nightly:\n\n    PGPASSWORD=\(Self.secret) pg_dump -h db.internal -U app walrusdb\n")
        v.write("Memory/Walrus notes.md", "# Walrus notes\n\nThe walrus backup runbook design is reviewed CLEANMARK each quarter.\n")
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\nReview the design of the walrus backup runbook.\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(!plan.prompt.contains(Self.secret))
        #expect(plan.prompt.contains("CLEANMARK"))
        #expect(PacketGuardrailsTests.retrievalVerdict(plan)?.contains("secret") == true, "\(PacketGuardrailsTests.retrievalVerdict(plan) ?? "-")")
    }
}

/// Round 62 (attack118): `[[2026-12-06]]`, as Obsidian's daily notes link a day, made a task private
/// once any private run had happened that day: the OS's own private copies of the day's notes share
/// the name, and every note sharing it equally near was judged. Among the OS's day notes, a bare
/// date is the day's daily note, which Obsidian opens; without one, the private copies still count.
@Suite struct BareDateLinkTests {
    static func vault(daily: Bool) -> (RouteTestVault, String) {
        let v = RouteTestVault()
        let day = LocalTime.day(Date())
        v.write("Private/Daily/\(day).md", "# \(day)\n\n- 09:00 a private errand PRIVATEMARK\n")
        v.write("Private/Telemetry/\(day).md", "# \(day)\n\nPRIVATEMARK\n")
        v.write("Telemetry/\(day).md", "# \(day)\n")
        if daily { v.write("Daily/\(day).md", "# \(day)\n\n- 10:00 a plain run DAILYMARK\n") }
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\nReview the design work listed in [[\(day)]].\n")
        return (v, day)
    }

    @Test func aBareDateLinksTheDaysDailyNote() throws {
        let (v, day) = Self.vault(daily: true)
        let facts = TaskFacts.from(note: try Note.parse(bytes: Array((try String(contentsOfFile: v.root + "/Tasks/Ask.md", encoding: .utf8)).utf8)), path: "Tasks/Ask.md", vault: v.vault, ruleBook: v.book, links: LinkResolver(vault: v.vault))
        #expect(facts.privateSources.isEmpty, "\(facts.privateSources)")
        #expect(facts.contextPaths.contains("Daily/\(day).md"), "\(facts.contextPaths)")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md")
        #expect(PrivacyTaintTests.isPremiumRun(plan), "\(plan.action)")
        #expect(plan.prompt.contains("DAILYMARK"))
        #expect(!plan.prompt.contains("PRIVATEMARK"))
    }

    @Test func withoutADailyNoteThePrivateCopiesStillCount() throws {
        let (v, _) = Self.vault(daily: false)
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md")
        #expect(plan.privacy != nil)
        #expect({ if case .blocked = plan.action { return true }; return false }(), "a private task naming claude: \(plan.action)")
    }

    /// A person's own note of the same name, as near, keeps the name ambiguous: every one counts.
    @Test func aPersonsNoteOfTheSameNameKeepsEveryOneCounted() throws {
        let (v, day) = Self.vault(daily: true)
        v.write("Journal/\(day).md", "# \(day)\n\nA journal entry.\n")
        let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md")
        #expect(plan.privacy != nil, "Journal/\(day).md, Daily/ and the private copies are equally near")
    }
}

/// Round 62 (attack119): a person's ordinary git beside a `sync: git` watcher stopped it for good —
/// a non-ASCII note under an ignored folder, a detached HEAD, a pull that conflicted in the day
/// notes (whose markers the watcher then staged as resolved), a watcher killed in its own merge,
/// a stale `index.lock` named nowhere. `GitNotes.round` against real git, two clones of one remote.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git"), "needs git"))
struct GitRoundRecoveryTests {
    static func git(_ arguments: [String], in folder: String) throws { try GitNotesMergeTests.git(arguments, in: folder) }

    /// What git prints for `arguments` in `folder` (its exit code ignored).
    static func output(_ arguments: [String], in folder: String) -> String {
        let pipe = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", folder, "-c", "user.name=t", "-c", "user.email=t@t"] + arguments
        process.standardOutput = pipe
        process.standardError = pipe
        try? process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static let day = "Daily/2026-12-06.md"

    /// Two clones, `a` and `b`, of one remote holding `seed.md` and the day note.
    static func clones() throws -> String {
        let root = TemporaryFolder.make("fbt-git-round")
        try git(["init", "--quiet", "--bare", "-b", "main", root + "/remote.git"], in: root)
        for name in ["a", "b"] {
            try git(["clone", "--quiet", root + "/remote.git", root + "/" + name], in: root)
            try git(["checkout", "--quiet", "-B", "main"], in: root + "/" + name)
            try FileManager.default.createDirectory(atPath: root + "/" + name + "/.agentos", withIntermediateDirectories: true)
        }
        try "/.agentos/\n".replacingFile(root + "/a/.git/info/exclude")
        try "/.agentos/\n".replacingFile(root + "/b/.git/info/exclude")
        try FileManager.default.createDirectory(atPath: root + "/a/Daily", withIntermediateDirectories: true)
        try "# 2026-12-06\n\n- 09:00 first\n".replacingFile(root + "/a/" + day)
        try "seed\n".replacingFile(root + "/a/seed.md")
        try git(["add", "-A"], in: root + "/a")
        try git(["commit", "--quiet", "-m", "seed"], in: root + "/a")
        try git(["push", "--quiet", "origin", "main"], in: root + "/a")
        try git(["pull", "--quiet", "origin", "main"], in: root + "/b")
        return root
    }

    static func notes(_ root: String, _ name: String) -> GitNotes {
        GitNotes(git: GitClaims(vault: Vault(root: root + "/" + name), remote: "origin", machine: name))
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// A note the watcher wrote this round, as its heartbeat is in every round.
    static func heartbeat(_ root: String, _ name: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: root + "/" + name + "/Telemetry/Machines", withIntermediateDirectories: true)
        try "---\ntype: machine-heartbeat\nmachine: \(name)\n---\n".replacingFile(root + "/" + name + "/Telemetry/Machines/" + name + ".md")
        return ["Telemetry/Machines/" + name + ".md"]
    }

    /// Both clones add a line to the day note and `b` pushes; `a` then pulls, as a person does,
    /// and git stops with a conflict in it (and in `seed.md` too when `seed` is set).
    static func conflictingPull(_ root: String, seed: Bool) throws {
        for (name, line) in [("b", "- 10:00 on b"), ("a", "- 10:00 on a")] {
            try (read(root + "/" + name + "/" + day) + line + "\n").replacingFile(root + "/" + name + "/" + day)
            if seed { try "seed from \(name)\n".replacingFile(root + "/" + name + "/seed.md") }
            try git(["commit", "--quiet", "-am", "on \(name)"], in: root + "/" + name)
        }
        try git(["push", "--quiet", "origin", "main"], in: root + "/b")
        _ = output(["pull", "--quiet", "--no-rebase", "--no-edit", "origin", "main"], in: root + "/a")
        #expect(FileManager.default.fileExists(atPath: root + "/a/.git/MERGE_HEAD"), "the pull conflicted")
    }

    /// A person's pull that conflicted only in the day notes: merged line by line and staged (no
    /// markers), but the merge is the person's to conclude (round 63: concluding it also concluded
    /// a `merge --no-commit` a person meant to look at); once they commit, the OS pushes.
    @Test func aPullThatConflictedOnlyInTheDayNotesIsMergedLineByLineAndLeftToThePerson() throws {
        let root = try Self.clones()
        try Self.conflictingPull(root, seed: false)
        let notes = Self.notes(root, "a")
        let round = notes.round(paths: try Self.heartbeat(root, "a"), remote: "origin", log: { _ in })
        #expect(round.problem?.contains("git commit") == true, "\(round.problem ?? "")")
        #expect(FileManager.default.fileExists(atPath: root + "/a/.git/MERGE_HEAD"), "a person's merge is never concluded for them")
        let text = Self.read(root + "/a/" + Self.day)
        #expect(text.contains("- 10:00 on a") && text.contains("- 10:00 on b"), "\(text)")
        #expect(!SyncConflict.hasMergeMarkers(Array(text.utf8)), "\(text)")
        #expect(Self.output(["diff", "--name-only", "--diff-filter=U"], in: root + "/a").isEmpty, "the day note is resolved")
        #expect(!Self.output(["diff", "--cached", "--name-only"], in: root + "/a").contains("Telemetry/Machines"), "nothing of the OS's is staged")
        try Self.git(["commit", "--quiet", "--no-edit"], in: root + "/a")
        let after = notes.round(paths: try Self.heartbeat(root, "a"), remote: "origin", log: { _ in })
        #expect(after.problem == nil && after.pushed, "\(after)")
        #expect(!SyncConflict.hasMergeMarkers(Array(Self.read(root + "/a/" + Self.day).utf8)))
    }

    @Test func aPullThatConflictedInANoteIsThePersonsAndNothingOfTheOSIsStaged() throws {
        let root = try Self.clones()
        try Self.conflictingPull(root, seed: true)
        try FileManager.default.createDirectory(atPath: root + "/a/Results", withIntermediateDirectories: true)
        try "---\ntype: result\n---\nR\n".replacingFile(root + "/a/Results/R.md")
        // The person resolved seed.md by hand, not yet added: kept whatever the OS does.
        try "seed, merged by hand\n".replacingFile(root + "/a/seed.md")
        let round = Self.notes(root, "a").round(paths: ["Results/R.md"], remote: "origin", log: { _ in })
        #expect(round.problem?.contains("conflicts in seed.md") == true, "\(round.problem ?? "")")
        #expect(round.problem?.contains("git commit") == true)
        #expect(!round.pathsSettled, "the OS's notes wait for the next round")
        #expect(!Self.output(["diff", "--cached", "--name-only"], in: root + "/a").contains("Results/R.md"))
        // The day note is no longer conflicted, and holds no markers; seed.md is still the person's.
        #expect(!SyncConflict.hasMergeMarkers(Array(Self.read(root + "/a/" + Self.day).utf8)))
        #expect(Self.output(["diff", "--name-only", "--diff-filter=U"], in: root + "/a").trimmingCharacters(in: .whitespacesAndNewlines) == "seed.md")
        #expect(Self.read(root + "/a/seed.md") == "seed, merged by hand\n")
        #expect(FileManager.default.fileExists(atPath: root + "/a/.git/MERGE_HEAD"))
    }

    /// Both clones append to the day note, `b` pushes, and `a` merges as the OS merges (its own
    /// message), stopped before it merged the day note line by line.
    static func ownMergeLeftUnderWay(_ root: String) throws {
        for (name, line) in [("b", "- 10:00 on b"), ("a", "- 10:00 on a")] {
            try (Self.read(root + "/" + name + "/" + Self.day) + line + "\n").replacingFile(root + "/" + name + "/" + Self.day)
            try Self.git(["commit", "--quiet", "-am", "on \(name)"], in: root + "/" + name)
        }
        try Self.git(["push", "--quiet", "origin", "main"], in: root + "/b")
        try Self.git(["fetch", "--quiet", "origin"], in: root + "/a")
        _ = Self.output(["merge", "--no-edit", "-m", GitNotes.ownMergePrefix + "a: merge origin/main", "origin/main"], in: root + "/a")
        #expect(FileManager.default.fileExists(atPath: root + "/a/.git/MERGE_HEAD"))
    }

    @Test func aMergeAStoppedWatcherLeftUnderWayIsConcluded() throws {
        let root = try Self.clones()
        try Self.ownMergeLeftUnderWay(root)
        let round = Self.notes(root, "a").round(paths: try Self.heartbeat(root, "a"), remote: "origin", log: { _ in })
        #expect(round.problem == nil, "\(round.problem ?? "")")
        #expect(round.pushed)
        #expect(!FileManager.default.fileExists(atPath: root + "/a/.git/MERGE_HEAD"))
        let text = Self.read(root + "/a/" + Self.day)
        #expect(text.contains("- 10:00 on a") && text.contains("- 10:00 on b") && !SyncConflict.hasMergeMarkers(Array(text.utf8)), "\(text)")
    }

    /// A `git stash pop` that conflicts in the day note leaves no MERGE_HEAD: the watcher committed
    /// the markers and pushed them (round 63). The note is merged line by line first.
    @Test func aStashPopThatConflictedInTheDayNoteIsMergedBeforeAnythingIsCommitted() throws {
        let root = try Self.clones()
        try (Self.read(root + "/b/" + Self.day) + "- 10:00 on b\n").replacingFile(root + "/b/" + Self.day)
        try Self.git(["commit", "--quiet", "-am", "on b"], in: root + "/b")
        try Self.git(["push", "--quiet", "origin", "main"], in: root + "/b")
        try (Self.read(root + "/a/" + Self.day) + "- 10:00 on a\n").replacingFile(root + "/a/" + Self.day)
        try Self.git(["stash", "--quiet"], in: root + "/a")
        try Self.git(["pull", "--quiet", "--no-rebase", "origin", "main"], in: root + "/a")
        _ = Self.output(["stash", "pop"], in: root + "/a")
        #expect(SyncConflict.hasMergeMarkers(Array(Self.read(root + "/a/" + Self.day).utf8)), "the pop conflicted")
        let round = Self.notes(root, "a").round(paths: try Self.heartbeat(root, "a") + [Self.day], remote: "origin", log: { _ in })
        #expect(round.problem == nil, "\(round.problem ?? "")")
        let text = Self.read(root + "/a/" + Self.day)
        #expect(text.contains("- 10:00 on a") && text.contains("- 10:00 on b") && !SyncConflict.hasMergeMarkers(Array(text.utf8)), "\(text)")
        #expect(!Self.output(["show", "HEAD:" + Self.day], in: root + "/a").contains("<<<<<<<"))
    }

    /// A cherry-pick that conflicted in the day note: merged line by line, never committed around.
    @Test func aCherryPickThatConflictedInTheDayNoteWaitsForThePerson() throws {
        let root = try Self.clones()
        try (Self.read(root + "/b/" + Self.day) + "- 10:00 on b\n").replacingFile(root + "/b/" + Self.day)
        try Self.git(["commit", "--quiet", "-am", "on b"], in: root + "/b")
        try Self.git(["push", "--quiet", "origin", "main"], in: root + "/b")
        try (Self.read(root + "/a/" + Self.day) + "- 10:00 on a\n").replacingFile(root + "/a/" + Self.day)
        try Self.git(["commit", "--quiet", "-am", "on a"], in: root + "/a")
        try Self.git(["fetch", "--quiet", "origin"], in: root + "/a")
        _ = Self.output(["cherry-pick", "origin/main"], in: root + "/a")
        #expect(FileManager.default.fileExists(atPath: root + "/a/.git/CHERRY_PICK_HEAD"))
        let round = Self.notes(root, "a").round(paths: try Self.heartbeat(root, "a") + [Self.day], remote: "origin", log: { _ in })
        #expect(round.problem?.contains("cherry-pick --continue") == true, "\(round.problem ?? "")")
        #expect(!SyncConflict.hasMergeMarkers(Array(Self.read(root + "/a/" + Self.day).utf8)))
        #expect(!round.pathsSettled)
    }

    @Test func aNoteWithANonASCIINameUnderAnIgnoredFolderStaysOutAndTheRestIsCommitted() throws {
        let root = try Self.clones()
        try "/.agentos/\nResults/\n".replacingFile(root + "/a/.gitignore")
        try FileManager.default.createDirectory(atPath: root + "/a/Results", withIntermediateDirectories: true)
        try "---\ntype: result\n---\nR\n".replacingFile(root + "/a/Results/Café 1.md")
        try (Self.read(root + "/a/" + Self.day) + "- 11:00 [[Results/Café 1]]\n").replacingFile(root + "/a/" + Self.day)
        let round = Self.notes(root, "a").round(paths: ["Results/Café 1.md", Self.day], remote: "origin", log: { _ in })
        #expect(round.problem == nil, "\(round.problem ?? "")")
        #expect(round.committed == 1 && round.pushed)
        #expect(Self.output(["diff", "--cached", "--name-only"], in: root + "/a").isEmpty)
        #expect(Self.output(["ls-files", "Results"], in: root + "/a").isEmpty)
    }

    @Test func notesWrittenOnADetachedHeadWaitForABranch() throws {
        let root = try Self.clones()
        try Self.git(["checkout", "--quiet", "--detach"], in: root + "/a")
        try (Self.read(root + "/a/" + Self.day) + "- 12:00 detached\n").replacingFile(root + "/a/" + Self.day)
        let notes = Self.notes(root, "a")
        let detached = notes.round(paths: [Self.day], remote: "origin", log: { _ in })
        #expect(!detached.pathsSettled)
        #expect(detached.problem?.contains("detached HEAD") == true, "\(detached.problem ?? "")")
        try Self.git(["checkout", "--quiet", "main"], in: root + "/a")
        let back = notes.round(paths: [Self.day], remote: "origin", log: { _ in })
        #expect(back.problem == nil && back.committed == 1 && back.pushed, "\(back)")
    }

    @Test func aStaleIndexLockIsNamedWithWhatToDo() throws {
        let root = try Self.clones()
        try "".replacingFile(root + "/a/.git/index.lock")
        try (Self.read(root + "/a/" + Self.day) + "- 13:00 locked\n").replacingFile(root + "/a/" + Self.day)
        let round = Self.notes(root, "a").round(paths: [Self.day], remote: "origin", log: { _ in })
        #expect(round.problem?.contains(".git/index.lock") == true, "\(round.problem ?? "")")
        #expect(!round.pathsSettled)
    }
}

/// Round 63 (attack120): round 62's rules had near variants that still went to claude (a flag before
/// a password flag took it as its value; subscripts, setenv and more tools' command lines), and code
/// that reads a password from a variable or a call, test results and ids next to `key` were blocked.
@Suite struct RoundSixtyThreeScannerTests {
    static let secret = "Zq8vLp2mRtX9"
    static let random = "9dJk3Lm0Qp8Rt5Vw2Xy7Zb4Nc6Hf1Gs3"

    @Test(arguments: [
        "gpg --batch --passphrase SECRET -d f.gpg",
        "mysql --verbose --password SECRET app",
        "app --debug --api-key RANDOM",
        "os.environ[\"PGPASSWORD\"] = \"SECRET\"",
        "config[\"password\"] = \"SECRET\"",
        "os.Setenv(\"PGPASSWORD\", \"SECRET\")",
        "System.setProperty(\"db.password\", \"SECRET\");",
        "docker login -u deploy -pSECRET registry.example.com",
        "docker login -u deploy -p=SECRET registry.example.com",
        "docker -H tcp://build:2376 login -u deploy -p SECRET",
        "echo SECRET | docker login -u deploy --password-stdin registry.example.com",
        "SSHPASS=SECRET sshpass -e ssh admin@10.0.0.5",
        "ldapsearch -x -D cn=admin -wSECRET -b dc=ex",
        "smbclient //nas/share --user=alice%SECRET",
        "mycli -u root -pSECRET app",
        "requirepass SECRET",
        "redis-cli AUTH default SECRET",
        "docker run -d redis redis-server --requirepass SECRET",
        "ENV DB_PASSWORD SECRET",
        "db.internal:5432:*:app:SECRET",
        "\"root:SECRET@tcp(127.0.0.1:3306)/app\"",
        "mongosh -u admin -p SECRET --authenticationDatabase admin",
        "sqlcmd -S db -U sa -P SECRET -Q \"select 1\"",
        "xfreerdp /v:10.0.0.5 /u:alice /p:SECRET",
        "keytool -list -keystore ks.jks -storepass SECRET",
        "htpasswd -b .htpasswd admin SECRET",
        "echo 'alice:SECRET' | chpasswd",
        "echo SECRET | sudo -S apt-get update",
        "curl -uadmin:SECRET https://api.example.com",
        "lftp -u alice,SECRET ftp.example.com",
        "password SECRET",
        "the root pw is SECRET",
        "creds: admin / SECRET",
        "OpenAI's key is RANDOM",
        "The key for OpenAI is RANDOM",
        "Here's the OpenAI key RANDOM",
        "Der OpenAI-Schlüssel ist RANDOM",
        "La clé OpenAI est RANDOM",
    ])
    func isFound(_ line: String) {
        let text = line.replacingOccurrences(of: "SECRET", with: Self.secret).replacingOccurrences(of: "RANDOM", with: Self.random)
        #expect(!SecretScanner().scan(text).isEmpty, "missed: \(text)")
    }

    @Test(arguments: [
        "password=self.password,",
        "'password': make_password(raw),",
        "conn = pymysql.connect(host=\"localhost\", user=\"root\", password=pwd, db=\"app\")",
        "let password = passwordField.text ?? \"\"",
        "password = txtPassword.Text;",
        "var password = PasswordBox.Password;",
        "const password = e.target.value;",
        "user.password = hashedPassword;",
        "    password: newPassword,",
        "password=db_password,",
        "password=settings.DB_PASSWORD,",
        "password = base64.b64decode(secret.data[\"password\"]).decode()",
        "password = ssm.get_parameter(Name=\"/prod/db/password\", WithDecryption=True)[\"Parameter\"][\"Value\"]",
        "sshpass -p $(pass show ssh/host) ssh host",
        "mysql -u root -p`cat pw.txt` app",
        "docker login -u AWS -p $(aws ecr get-login-password) 123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "aws ecr get-login-password | docker login --username AWS --password-stdin 123.dkr.ecr.eu-west-1.amazonaws.com",
        "Server=localhost;Database=app;User Id=sa;Password=$(SA_PASSWORD);",
        "PASS=$(openssl rand -hex 16)",
        "amqp://guest:guest@localhost:5672/",
        "unit tests pass=128 fail=0 skipped=4",
        "pass_rate: 98.5%",
        "Pass: mutation-testing-v2",
        "build 2024.05.1 — pass: test_auth_2fa, fail: test_sso_v2",
        "pass: src/auth/login.test.ts",
        "creds alice:see-1password",
        "should reject login when password is empty",
        "Run redis-cli with -a only in local dev; in CI use REDISCLI_AUTH.",
        "With docker login -p the password ends up in shell history.",
        "The dedupe key is 9f86d081884c7d65",
        "The S3 key is uploads/a8F3kD92xQ7zLm.png",
        "The message key is 7f3e9a2c-41d8-4a7e-9b1c-2e5f6a7b8c9d",
        "The Kafka key is order-8f3e9a2c41d8",
        "The ed25519 key is AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        "The release signing key is 0x3AA5C34371567BD2",
        "The cursor key is eyJpZCI6NDJ9",
        "The trace key is 4bf92f3577b34da6a3ce929d0e0e4736",
        "the password version2 and the tokenizer",
        "7. Klicke auf **Dieses Passwort hinzufügen**.",
        "The password is required",
    ])
    func isLeftAlone(_ line: String) {
        #expect(SecretScanner().scan(line).isEmpty, "false alarm: \(line) → \(SecretScanner.describe(SecretScanner().scan(line)))")
    }
}

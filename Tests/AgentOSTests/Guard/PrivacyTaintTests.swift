import Foundation
import TestSupport
import Testing
@testable import AgentOS
@testable import Commands

/// The leaks issue 9 found, one test each: private text reaching cloud agents through what the OS
/// itself writes (daily log, telemetry, result and handoff notes, memory matches) and through the
/// agent's working directory.
@Suite struct PrivacyTaintTests {
    /// Plans a note the way the watcher does and releases any reservation, so tests never pay.
    static func plan(_ vault: Vault, _ path: String) throws -> (RoutePlan, ContextPacket) {
        let routing = try VaultRouting(vault: vault)
        let snapshot = try NoteStore(vault: vault).read(path)
        let note = try Note.parse(bytes: snapshot.bytes)
        let task = TaskNote(path: path, snapshot: snapshot, note: note, kind: TaskNote.kind(of: note, path: path) ?? .task)
        let plan = routing.plan(task, runID: RunStore.newRunID())
        routing.settle(plan, cost: nil)
        return (plan, routing.contextPacket(for: task))
    }

    static func isPremiumRun(_ plan: RoutePlan) -> Bool {
        plan.action == .run && !(Lane(note: plan.lane)?.keepsWorkLocal ?? false)
    }

    static var today: String { LocalTime.day(Date()) }

    // MARK: Daily log

    /// Daily notes private as a whole, and private lines in a public one, each holding the marker.
    static let privateDailies: [String] = [
        "---\ntype: daily\nprivacy: private\n---\n- 09:00 DAILYMARK dentist results\n",
        "---\ntype: daily\ntags: [private]\n---\n- 09:00 DAILYMARK dentist results\n",
        "---\ntype: daily\nprivate: true\n---\n- 09:00 DAILYMARK dentist results\n",
        "---\ntype: daily\ntags: [personal/health]\n---\n- 09:00 DAILYMARK dentist results\n",
        "---\ntype: daily\nTags: [private]\n---\n- 09:00 DAILYMARK dentist results\n",
        "---\ntype: daily\nprivacy: private\nprivacy: public\n---\n- 09:00 DAILYMARK dentist results\n",
        "---\ntype: daily\nprivacy: [private]\n---\n- 09:00 DAILYMARK dentist results\n",
        "---\ntype: daily\n---\n- 09:00 DAILYMARK dentist results #private\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n- 09:00 DAILYMARK dentist results #Private/health\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n- 09:00 DAILYMARK #personal\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n- 09:00 DAILYMARK see [[Journal/Day one]]\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n- 09:00 DAILYMARK see [[Day one|my day]]\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n- 09:00 DAILYMARK see [day](journal/Day%20one.md)\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n- 09:00 DAILYMARK ran [[Tasks/Therapy notes]]\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n- 09:00 DAILYMARK result [[Results/Old answer]]\n- 09:05 public standup notes\n",
        // A private heading covers its section; a private tag or link on the line after an item covers the item.
        "---\ntype: daily\n---\n## Journal #private\n- 15:40 DAILYMARK my doctor said\n- 15:41 DAILYMARK argued\n\n## Work\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n## Notes on [[Journal/Day one]]\n- 15:40 DAILYMARK my doctor said\n## Work\n- 09:05 public standup notes\n",
        // A private heading covers the subsections under it, not the next section of its level.
        "---\ntype: daily\n---\n## Journal #private\n### Monday\n- 15:40 DAILYMARK my doctor said\n## Work\n### Standup\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n- 15:41 argued with DAILYMARK\n  (details are #private)\n- 09:05 public standup notes\n",
        "---\ntype: daily\n---\n- 15:41 DAILYMARK, see\n  [[Journal/Day one]]\n- 09:05 public standup notes\n",
        // A day too long to read whole: the heading above the last items is not in the part read
        // from the end; a private heading in the part read from the top then covers them.
        "---\ntype: daily\n---\n## Journal #private\n" + String(repeating: "- 15:40 DAILYMARK my doctor said this and that, at length\n", count: 3_000),
    ]

    @Test(arguments: privateDailies)
    func privateDailyTextNeverReachesAPremiumPacket(_ daily: String) throws {
        let v = RouteTestVault()
        v.write("Journal/Day one.md", "A private day.\n")
        v.write("Tasks/Therapy notes.md", "---\ntype: task\nprivacy: private\nstatus: done\n---\nprivate\n")
        // A result note written before results were marked private: private by what it was made from.
        v.write("Results/Old answer.md", "---\ntype: result\ntask: \"[[Tasks/Therapy notes]]\"\nsources: [\"[[Journal/Day one]]\"]\n---\nanswer\n")
        v.write("Daily/\(Self.today).md", RunLines.marked(daily))
        v.write("Tasks/Public.md", "---\ntype: task\nagent: claude\n---\nRefactor the parser code.\n")

        let (plan, packet) = try Self.plan(v.vault, "Tasks/Public.md")
        #expect(Self.isPremiumRun(plan), "a public task still runs on claude: \(plan.action)")
        #expect(!plan.prompt.contains("DAILYMARK"))
        #expect(!packet.text.contains("DAILYMARK"))
        // `context --json` prints this: no piece with private text is labelled public.
        for piece in packet.pieces where piece.text.contains("DAILYMARK") { #expect(piece.isPrivate) }
        if daily.contains("public standup") {
            #expect(plan.prompt.contains("public standup notes"), "the public lines of the daily log are still sent")
        }
    }

    @Test func aPrivateTaskKeepsItsDailyLinesAndContextLabelsThemPrivate() throws {
        let v = RouteTestVault()
        v.write("Daily/\(Self.today).md", RunLines.marked("---\ntype: daily\n---\n- 09:00 DAILYMARK dentist #private\n- 09:05 public standup notes\n"))
        v.write("Tasks/Mine.md", "---\ntype: task\nprivacy: private\n---\nSummarize my week.\n")
        let (plan, packet) = try Self.plan(v.vault, "Tasks/Mine.md")
        #expect(!Self.isPremiumRun(plan))
        let daily = try #require(packet.pieces.first { $0.kind == .daily })
        #expect(daily.text.contains("DAILYMARK"))
        #expect(daily.isPrivate)
        let json = packet.json.compact
        #expect(json.contains("\"private\":true"))
    }

    // MARK: Runs of private work

    @Test func aPrivateRunLeavesNoTitleInPublicNotesAndItsResultIsPrivate() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let secretTask = try env.writeTask("Divorce lawyer TITLEMARK", properties: "type: task\nagent: echo\nprivacy: private", body: "Draft a letter. BODYMARK")
        #expect(engine.consider(path: secretTask, wait: true) != .ignored)
        engine.waitUntilIdle()

        let task = try env.note(secretTask)
        #expect(task.text("status") == "done")
        let resultLink = try #require(task.text("result"))
        let resultPath = String(resultLink.dropFirst(2).dropLast(2)) + ".md"
        let result = try env.note(resultPath)
        #expect(result.text("privacy") == "private", "the answer to private input is private")

        let day = Self.today
        let daily = try env.text("Daily/\(day).md")
        let telemetry = try env.text("Telemetry/\(day).md")
        #expect(!daily.contains("TITLEMARK") && !telemetry.contains("TITLEMARK"))
        #expect(daily.contains("private run "))
        // The full line is kept, privately.
        let privateDaily = try env.text("Private/Daily/\(day).md")
        #expect(privateDaily.contains("TITLEMARK"))
        #expect(try env.note("Private/Daily/\(day).md").text("privacy") == "private")

        // A public claude task gets the daily log: nothing of the private run is in it.
        let publicTask = try env.writeTask("Weekly review", properties: "type: task\nagent: claude", body: "Review the parser design.")
        #expect(engine.consider(path: publicTask, wait: true) != .ignored)
        engine.waitUntilIdle()
        let prompts = env.fixturePrompts()
        #expect(!prompts.isEmpty)
        for prompt in prompts { #expect(!prompt.contains("TITLEMARK") && !prompt.contains("BODYMARK")) }

        // A public task that links the private result is never sent to claude: blocked when it
        // names claude, kept local when it names no agent.
        let linking = try env.writeTask("Follow up", properties: "type: task\nagent: claude", body: "Polish [[\(resultPath.dropLast(3))]] please.")
        let (named, _) = try Self.plan(env.vault, linking)
        guard case .blocked = named.action else { Issue.record("linking a private result must block a claude task: \(named.action)"); return }
        let unnamed = try env.writeTask("Follow up two", properties: "type: task", body: "Polish this: ![[\(resultPath.dropLast(3))|the answer]]")
        let (rerouted, _) = try Self.plan(env.vault, unnamed)
        #expect(!Self.isPremiumRun(rerouted))
        #expect(env.fixturePrompts().count == prompts.count, "nothing more reached a cloud agent")
    }

    @Test func telemetryRowsOfPrivateRunsNameNoTask() throws {
        let v = RouteTestVault()
        let writer = TelemetryWriter(store: NoteStore(vault: v.vault))
        var record = TelemetryRecord(time: Date(), runID: "20260101-abc", taskPath: "Tasks/Secret ROWMARK.md", agent: "ollama", model: nil, lane: "local", rule: nil, reason: nil, costUSD: nil, tokensIn: nil, tokensOut: nil, durationSeconds: 1, outcome: "done", resultPath: "Results/Secret ROWMARK 20260101-abc.md", error: nil)
        record.isPrivate = true
        try writer.appendToNotes([record])
        let day = Self.today
        let telemetry = try String(contentsOfFile: v.root + "/Telemetry/\(day).md", encoding: .utf8)
        let daily = try String(contentsOfFile: v.root + "/Daily/\(day).md", encoding: .utf8)
        #expect(!telemetry.contains("ROWMARK") && !daily.contains("ROWMARK"))
        #expect(telemetry.contains("| private run 20260101-abc |"))
        #expect(daily.contains("private run 20260101-abc"))
        #expect(try String(contentsOfFile: v.root + "/Private/Telemetry/\(day).md", encoding: .utf8).contains("ROWMARK"))
        // Not told: the writer judges from the task note itself.
        v.write("Tasks/Own ROWMARK2.md", "---\ntype: task\ntags: [personal]\n---\nx\n")
        let unknown = TelemetryRecord(time: Date(), runID: "20260101-def", taskPath: "Tasks/Own ROWMARK2.md", agent: "ollama", model: nil, lane: "local", rule: nil, reason: nil, costUSD: nil, tokensIn: nil, tokensOut: nil, durationSeconds: 1, outcome: "done", resultPath: nil, error: nil)
        try writer.appendToNotes([unknown])
        #expect(!(try String(contentsOfFile: v.root + "/Daily/\(day).md", encoding: .utf8)).contains("ROWMARK2"))
    }

    // MARK: Handoffs and memory

    @Test func memorySearchNeverPullsAPrivateHandoffIntoAPremiumPacket() throws {
        let v = RouteTestVault()
        v.write("Tasks/Biopsy.md", "---\ntype: task\nprivacy: private\n---\nRead the biopsy letter.\n")
        let handoff = try Handoffs.create(vault: v.vault, from: "ollama", to: "ollama", taskPath: "Tasks/Biopsy.md",
                                          message: "Zebrafish histology HANDOFFMARK findings so far.", context: [])
        let written = try Note.parse(bytes: try NoteStore(vault: v.vault).read(handoff).bytes)
        #expect(written.text("privacy") == "private")
        #expect(!handoff.contains("Biopsy"), "a private handoff's file name carries no task title")
        let daily = try String(contentsOfFile: v.root + "/Daily/\(Self.today).md", encoding: .utf8)
        #expect(!daily.contains("Biopsy") && !daily.contains(handoff.dropLast(3)))
        // A handoff written before handoffs were marked: private by the task it belongs to.
        v.write("Handoffs/Old handoff.md", "---\ntype: handoff\nfrom: a\nto: b\ntask: \"[[Biopsy]]\"\nstatus: done\n---\nZebrafish histology OLDHANDOFFMARK notes.\n")
        v.write("Notes/Fish.md", "# Fish\n\nZebrafish histology public facts.\n")
        v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\nExplain zebrafish histology to me.\n")
        let index = try MemoryIndex(vault: v.vault)
        _ = try index.reconcile()

        let (plan, _) = try Self.plan(v.vault, "Tasks/Ask.md")
        #expect(Self.isPremiumRun(plan))
        #expect(plan.prompt.contains("Zebrafish histology public facts"), "retrieval works")
        #expect(!plan.prompt.contains("HANDOFFMARK"))
        #expect(!plan.prompt.contains("OLDHANDOFFMARK"))
    }

    // MARK: Working directory

    @Test func agentsNeverRunInTheVault() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = try env.writeTask("Look around", properties: "type: task\nagent: claude", body: "List the files you can see.")
        #expect(engine.consider(path: path, wait: true) != .ignored)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "done")
        let log = try #require(PlatformTestSupport.read(env.fixtureLog))
        let record = try JSON.parse(String(try #require(log.split(separator: "\n").last)))
        let cwd = try #require(record["cwd"]?.stringValue)
        let vaultRoot = env.vault.root
        #expect(cwd != vaultRoot && !cwd.hasPrefix(vaultRoot + "/"), "the agent ran in \(cwd)")
        #expect(cwd.contains("fbt-run-"))
        #expect((try? FileSystem.status(cwd)) ?? nil == nil, "an empty run folder is removed after the run")
    }

    @Test func aProjectFolderMustLieUnderProjectRootsAndOutsideTheVault() throws {
        let env = try EngineTestVault()
        let roots = env.root + "/code"
        try FileManager.default.createDirectory(atPath: roots + "/app", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: env.root + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: roots + "/sneaky", withDestinationPath: env.vault.root + "/Private")
        try FileManager.default.createSymbolicLink(atPath: roots + "/vaultlink", withDestinationPath: env.vault.root)
        let guardrails = try env.text("Rules/Guardrails.md")
        #expect(guardrails.contains("project_roots: []\n"), "the shipped guardrails allow no project folder")
        try env.store.write(guardrails.replacingOccurrences(of: "project_roots: []\n", with: "project_roots: [\"\(roots)\"]\n"), to: "Rules/Guardrails.md", expecting: .any)
        let roots1 = RuleBook.load(vault: env.vault).guardrails.projectRoots
        #expect(roots1 == [roots])

        for bad in [env.vault.root, env.vault.root + "/Private", env.root, env.root + "/elsewhere", roots + "/sneaky", roots + "/vaultlink", roots + "/missing", "code/app", "/"] {
            guard case .failure(let refusal) = RunWorkspace.project(bad, vault: env.vault, roots: roots1) else {
                Issue.record("\(bad) must be refused")
                continue
            }
            #expect(!refusal.description.isEmpty)
        }
        guard case .success(let good) = RunWorkspace.project(roots + "/app", vault: env.vault, roots: roots1) else {
            Issue.record("a folder under project_roots is allowed")
            return
        }
        // A root that contains the vault does not make the vault allowed.
        #expect(RunWorkspace.project(env.vault.root, vault: env.vault, roots: ["/"]) != .success(env.vault.root))

        let engine = try env.engine()
        let inProject = try env.writeTask("Build it", properties: "type: task\nagent: claude\nproject: \(roots)/app", body: "Read the code.")
        #expect(engine.consider(path: inProject, wait: true) != .ignored)
        engine.waitUntilIdle()
        let log = try #require(PlatformTestSupport.read(env.fixtureLog))
        let record = try JSON.parse(String(try #require(log.split(separator: "\n").last)))
        #expect(record["cwd"]?.stringValue == good)

        let inVault = try env.writeTask("Sneak in", properties: "type: task\nagent: claude\nproject: \(roots)/sneaky", body: "Read the notes.")
        #expect(engine.consider(path: inVault, wait: true) != .ignored)
        engine.waitUntilIdle()
        let refused = try env.note(inVault)
        #expect(refused.text("status") == "failed")
        #expect(refused.text("error")?.contains("inside the vault") == true)
        #expect(PlatformTestSupport.read(env.fixtureLog)?.split(separator: "\n").count == 1, "the refused task never ran")
    }

    @Test func scratchFoldersAreThisUsersAloneAndKeptWhenUsed() throws {
        let v = RouteTestVault()
        guard case .success(let workspace) = RunWorkspace.makeScratch(runID: "r/1 x", vault: v.vault, environment: ["TMPDIR": v.root + "/Private"]) else {
            Issue.record("a scratch folder can be made")
            return
        }
        #expect(!workspace.path.hasPrefix(v.vault.root + "/"), "a TMPDIR inside the vault is not used")
        let status = try #require(try FileSystem.status(workspace.path))
        #expect(status.mode & 0o777 == 0o700)
        try "x".replacingFile(workspace.path + "/out.txt")
        #expect(!RunWorkspace.finish(workspace), "a folder the agent wrote to is kept")
        try FileManager.default.removeItem(atPath: workspace.path + "/out.txt")
        #expect(RunWorkspace.finish(workspace))
    }

    // MARK: The CLI inside a run

    @Test func searchAndContextInsideACloudRunShowNoPrivateNote() throws {
        let v = RouteTestVault()
        v.write("Notes/Secret.md", "---\nprivacy: private\n---\nZebrafish SEARCHMARK diary.\n")
        v.write("Notes/Open.md", "Zebrafish open facts. [[Target]]\n")
        v.write("Notes/Target.md", "The target.\n")
        v.write("Notes/Diary link.md", "---\ntags: [private]\n---\nBACKLINKMARK [[Target]]\n")
        v.write("Tasks/Mine.md", "---\ntype: task\nprivacy: private\n---\nZebrafish CONTEXTMARK plan.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let runs = try RunStore(vault: v.vault)
        func run(lane: String) throws -> String {
            var record = try #require(try runs.claim(taskPath: "Tasks/T\(lane).md", taskHash: nil, attempt: 1))
            record.lane = lane
            try runs.update(record)
            return record.runID
        }
        let premium = try run(lane: "premium"), local = try run(lane: "local")
        // A finished run of the private task: its path (its title) is private text too.
        var mine = try #require(try runs.claim(taskPath: "Tasks/Mine.md", taskHash: nil, attempt: 1))
        mine.lane = "local"
        mine.state = .done
        mine.finishedAt = Date().timeIntervalSince1970
        try runs.update(mine)
        func cli(_ arguments: [String], _ environment: [String: String]) -> (Int32, String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(arguments + ["--vault", v.root], console: console, environment: environment, executablePath: "fuckbigtech")
            return (code, captured.stdout + captured.stderr)
        }
        #expect(cli(["search", "zebrafish"], [:]).1.contains("SEARCHMARK"), "a person sees everything")
        #expect(cli(["search", "zebrafish"], ["FBT_RUN_ID": local]).1.contains("SEARCHMARK"), "a local run may")
        for environment in [["FBT_RUN_ID": premium], ["FBT_RUN_ID": "no-such-run"]] {
            let (code, out) = cli(["search", "zebrafish", "--json"], environment)
            #expect(code == 0 && out.contains("Notes/Open.md") && !out.contains("SEARCHMARK"))
            let (contextCode, contextOut) = cli(["context", "Tasks/Mine.md", "--json"], environment)
            #expect(contextCode == 1 && !contextOut.contains("CONTEXTMARK"))
            // `note show` and `backlinks` hold back private notes the same way.
            let (showCode, showOut) = cli(["note", "show", "Notes/Secret.md", "--json"], environment)
            #expect(showCode == 1 && !showOut.contains("SEARCHMARK") && showOut.contains("no such note, or a private one"), "\(showOut)")
            // The same answer as for a note that does not exist: no guessed name is confirmed.
            let (missingCode, missingOut) = cli(["note", "show", "Notes/Nothing.md", "--json"], environment)
            #expect(missingCode == 1 && missingOut.replacingOccurrences(of: "Nothing", with: "Secret") == showOut, "\(missingOut)")
            #expect(cli(["note", "show", "Notes/Open.md"], environment).0 == 0)
            let (_, backlinksOut) = cli(["backlinks", "Notes/Target", "--json"], environment)
            #expect(backlinksOut.contains("Notes/Open.md") && !backlinksOut.contains("Diary link"), "\(backlinksOut)")
            let (statusCode, statusOut) = cli(["status", "--json"], environment)
            #expect(statusCode == 0 && !statusOut.contains("Tasks/Mine.md"), "\(statusOut)")
            // `related` neither lists a private note nor says what relates to one.
            let (relatedCode, relatedOut) = cli(["related", "zebrafish facts", "--json"], environment)
            #expect(relatedCode == 0 && relatedOut.contains("Notes/Open.md") && !relatedOut.contains("Notes/Secret.md"), "\(relatedOut)")
            // A private note's name is taken as a task's text, as a name no note has: the same answer.
            let (aboutCode, aboutOut) = cli(["related", "Notes/Secret.md", "--json"], environment)
            let (noneCode, noneOut) = cli(["related", "Notes/Nothing.md", "--json"], environment)
            #expect(aboutCode == 0 && noneCode == 0 && !aboutOut.contains("Notes/Secret.md\"") && !aboutOut.contains("SEARCHMARK"), "\(aboutOut)")
            for out in [aboutOut, noneOut] { #expect(try JSON.parse(out)["for"]?.stringValue == "text", "\(out)") }
            // `route` is no oracle for private notes' names (an outside attack asked it which notes
            // a text links are private, and which exist): a link to a private note and a link to no
            // note get one refusal, naming neither.
            let (routeNoneCode, routeNoneOut) = cli(["route", "read [[Nothing here]]"], environment)
            for arguments in [["route", "read [[Secret]] and [[Diary link]]"], ["route", "read [[Notes/Secret]]", "--json"], ["route", "read [[Secret]]"]] {
                let (routeCode, routeOut) = cli(arguments, environment)
                #expect(routeCode == 1 && routeOut == routeNoneOut && !routeOut.contains("Secret") && !routeOut.contains("Diary link"), "\(routeOut)")
            }
            #expect(routeNoneCode == 1 && routeNoneOut.contains("does not exist or is private"), "\(routeNoneOut)")
            #expect(cli(["route", "read [[Notes/Open]]"], environment).0 == 0, "a link to a note it may see routes")
            let (routeNoteCode, routeNoteOut) = cli(["route", "Notes/Secret.md"], environment)
            #expect(routeNoteCode == 1 && routeNoteOut.contains("no such note, or a private one") && !routeNoteOut.contains("SEARCHMARK"), "\(routeNoteOut)")
            #expect(cli(["route", "Notes/Nothing.md"], environment).1.replacingOccurrences(of: "Nothing", with: "Secret") == routeNoteOut)
        }
        #expect(cli(["route", "read [[Secret]]"], ["FBT_RUN_ID": local]).1.contains("Notes/Secret.md"), "a local run is told")
        #expect(cli(["related", "Notes/Secret.md"], ["FBT_RUN_ID": local]).0 == 0)
        #expect(cli(["context", "Tasks/Mine.md"], ["FBT_RUN_ID": local]).1.contains("CONTEXTMARK"))
        #expect(cli(["note", "show", "Notes/Secret.md"], ["FBT_RUN_ID": local]).1.contains("SEARCHMARK"))
        #expect(cli(["backlinks", "Notes/Target"], [:]).1.contains("Diary link"))
        #expect(cli(["status", "--json"], [:]).1.contains("Tasks/Mine.md"), "a person sees every task")
    }

    /// A run of `task` on `lane`, as the watcher records one before its agent starts; its id.
    static func run(of task: String, lane: String, in vault: Vault) throws -> String {
        // A run has a task note (a run in flight whose note is gone counts as private).
        let note = vault.root + "/" + task
        if !FileManager.default.fileExists(atPath: note) {
            try FileManager.default.createDirectory(atPath: (note as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try "---\ntype: task\nstatus: running\n---\nThe run's task.\n".replacingFile(note)
        }
        let runs = try RunStore(vault: vault)
        var record = try #require(try runs.claim(taskPath: task, taskHash: nil, attempt: 1))
        record.lane = lane
        try runs.update(record)
        return record.runID
    }

    /// A run of `task` on the local lane.
    static func localRun(of task: String, in vault: Vault) throws -> String { try run(of: task, lane: "local", in: vault) }

    /// Attack: inside a private run (its task tagged private), the agent ran `handoff --to claude`
    /// without `--task`, and `task new --agent claude`: both notes were public and ran on the cloud
    /// agent with what the private run had read. The MCP server of such a run offered the same.
    /// What a run makes through the OS's tools is private when the run is (taint follows the data).
    @Test func tasksAndHandoffsMadeInAPrivateRunArePrivate() throws {
        let v = RouteTestVault()
        v.write("Tasks/Journal.md", "---\ntype: task\ntags: [private]\n---\nSummarise my journal.\n")
        v.write("Tasks/Plain.md", "---\ntype: task\n---\nSummarise the changelog.\n")
        v.write("Tasks/Pulls.md", "---\ntype: task\n---\nSummarise [[Private/Med]].\n")
        v.write("Private/Med.md", "Medical.\n")
        func run(_ task: String) throws -> String { try Self.localRun(of: task, in: v.vault) }
        let privateRun = try run("Tasks/Journal.md"), plainRun = try run("Tasks/Plain.md"), pullingRun = try run("Tasks/Pulls.md")
        func cli(_ arguments: [String], _ runID: String) -> (Int32, String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(arguments + ["--vault", v.root], console: console, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech")
            return (code, captured.stdout + captured.stderr)
        }
        func privacy(_ path: String) throws -> String? { try Note.parse(bytes: NoteStore(vault: v.vault).read(path).bytes).text("privacy") }
        for (runID, isPrivate) in [(privateRun, true), (pullingRun, true), (plainRun, false), ("20261204-000000-ffffff", true)] {
            let (code, out) = cli(["task", "new", "--agent", "claude", "--title", "Made \(runID)", "Continue it PRIVMARK."], runID)
            #expect(code == 0, "\(out)")
            #expect(try privacy("Tasks/Made \(runID).md") == (isPrivate ? "private" : nil), "run \(runID)")
            let (handoffCode, handoffOut) = cli(["handoff", "--from", "ollama", "--to", "claude", "Summarise this for me PRIVMARK \(runID)", "--json"], runID)
            let path = try #require(try? JSON.parse(String(handoffOut.split(separator: "\n")[0]))["path"]?.stringValue, "\(handoffOut)")
            #expect(try privacy(path) == (isPrivate ? "private" : nil), "\(handoffOut)")
            // Private work to a cloud agent is blocked at once; public work waits for the watcher.
            #expect((handoffCode != 0) == isPrivate, "\(handoffOut)")
            // The MCP server of the same run: the same.
            let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "ollama", environment: ["FBT_RUN_ID": runID]))
            let created = tools.call("create_task", arguments: .object([("prompt", .string("More PRIVMARK")), ("title", .string("Tool \(runID)")), ("agent", .string("claude"))]))
            #expect(created.first { $0.0 == "isError" }?.1 == .bool(false), "\(created)")
            #expect(try privacy("Tasks/Tool \(runID).md") == (isPrivate ? "private" : nil))
            let handed = tools.call("handoff", arguments: .object([("from", .string("ollama")), ("to", .string("claude")), ("message", .string("Over to you \(runID)"))]))
            let handedPath = try #require(handed.first { $0.0 == "structuredContent" }?.1["path"]?.stringValue, "\(handed)")
            #expect(try privacy(handedPath) == (isPrivate ? "private" : nil), "\(handed)")
        }
        // A person (no run) makes public tasks as before.
        let (console, _) = Console.capturing()
        #expect(CLI.run(["task", "new", "--title", "Mine", "Plain work.", "--vault", v.root], console: console, environment: [:], executablePath: "fuckbigtech") == 0)
        #expect(try privacy("Tasks/Mine.md") == nil)
    }

    /// Attack: a public note holding a GitHub token and an AWS key was left out of cloud packets, but
    /// MCP read_note and search, and note show and search in a cloud run, returned both in clear.
    /// An agent off this machine is shown what a packet for its lane may hold: not the note, a
    /// redacted snippet, no hit for a note whose name holds one. A local run sees them.
    @Test func secretsInNotesAreNotShownToACloudAgent() throws {
        let v = RouteTestVault()
        let token = PacketGuardrailsTests.token()
        v.write("Memory/Deploy keys.md", "# Deploy keys\n\nThe wombat deploy uses \(token) and that is all.\n")
        v.write("Memory/Wombat \(token).md", "# Named\n\nwombat deploy notes.\n")
        v.write("Memory/Wombat plain.md", "# Plain\n\nwombat deploy without keys.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let cloudRun = try Self.run(of: "Tasks/Cloud.md", lane: "premium", in: v.vault)
        let local = try Self.localRun(of: "Tasks/Local.md", in: v.vault)
        func cli(_ arguments: [String], _ runID: String) -> (Int32, String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(arguments + ["--vault", v.root], console: console, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech")
            return (code, captured.stdout + captured.stderr)
        }
        let show = cli(["note", "show", "Memory/Deploy keys.md", "--json"], cloudRun)
        #expect(show.0 == 1 && !show.1.contains(token) && show.1.contains("holds a secret"), "\(show.1)")
        for arguments in [["search", "wombat deploy", "--json"], ["search", "wombat deploy"], ["related", "wombat deploy", "--json"]] {
            let (code, out) = cli(arguments, cloudRun)
            #expect(code == 0 && !out.contains(token) && out.contains("Memory/Wombat plain.md"), "\(arguments): \(out)")
            if arguments.first == "search" { #expect(!out.contains("\"score\""), "\(out)") }
        }
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "claude", environment: [:]))
        for (tool, args) in [("read_note", [("path", JSON.string("Memory/Deploy keys.md"))]), ("search", [("query", JSON.string("wombat deploy"))])] {
            let answer = "\(tools.call(tool, arguments: .object(args)))"
            #expect(!answer.contains(token), "\(tool): \(answer)")
        }
        // A local run, and a person, see the note as it is.
        #expect(cli(["note", "show", "Memory/Deploy keys.md"], local).1.contains(token))
        #expect(cli(["search", "wombat deploy"], local).1.contains(token))
    }

    /// Tenth attack: the write tools refused a private note with "no such note, or a private one"
    /// but a missing one with "no such note" (or "was deleted since it was read"): a cloud agent
    /// confirmed a guessed private note's name without creating anything. One answer for both now.
    @Test func aWriteToAPrivateNoteAndToAMissingOneGetTheSameAnswer() throws {
        let v = RouteTestVault()
        v.write("Memory/Cancer diagnosis.md", "---\ntags: [personal]\n---\nPRIVMARK\n")
        v.write("Memory/Open.md", "Public.\n")
        let cloudRun = try Self.run(of: "Tasks/Cloud.md", lane: "premium", in: v.vault)
        func cli(_ arguments: [String]) -> (Int32, String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(arguments + ["--vault", v.root], console: console, environment: ["FBT_RUN_ID": cloudRun], executablePath: "fuckbigtech")
            return (code, captured.stdout + captured.stderr)
        }
        let draft = v.root + "/../draft-\(UUID().uuidString).md"
        try "New text.\n".replacingFile(draft)
        defer { try? FileManager.default.removeItem(atPath: draft) }
        let hidden = "Memory/Cancer diagnosis.md", missing = "Memory/Cancer diagnosis 2.md"
        for arguments in [["note", "set", "PATH", "foo=1"], ["note", "write", "PATH", "--expect", "0123456789abcdef", "--from", draft], ["note", "write", "PATH", "--from", draft]] {
            func run(_ path: String) -> (Int32, String) { cli(arguments.map { $0 == "PATH" ? path : $0 }) }
            let (code, refused) = run(hidden)
            #expect(code != 0 && refused.contains("no such note, or a private one") && !refused.contains("PRIVMARK"), "\(arguments): \(refused)")
            #expect(refused == run(missing).1.replacingOccurrences(of: missing, with: hidden), "\(arguments): \(refused)")
        }
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "claude", environment: [:]))
        for (tool, extra) in [("set_properties", [("set", JSON.object([("foo", .int(1))])), ("expect_hash", .string(ContentHash(of: Array(try String(contentsOfFile: v.root + "/" + hidden, encoding: .utf8).utf8)).hex))]),
                              ("set_properties", [("set", JSON.object([("foo", .int(1))]))]),
                              ("write_note", [("text", JSON.string("x\n")), ("expect_hash", .string("0123456789abcdef"))]),
                              ("write_note", [("text", JSON.string("x\n"))])] {
            func answer(_ path: String) -> String { "\(tools.call(tool, arguments: .object([("path", .string(path))] + extra)))" }
            let refused = answer(hidden)
            #expect(refused.contains("no such note, or a private one"), "\(tool): \(refused)")
            #expect(refused == answer(missing).replacingOccurrences(of: missing, with: hidden), "\(tool): \(refused)")
        }
        // Nothing was written: no note, no conflict note.
        #expect(!FileManager.default.fileExists(atPath: v.root + "/" + missing))
        #expect(!FileManager.default.fileExists(atPath: v.root + "/Memory/Conflicts"))
        #expect(try String(contentsOfFile: v.root + "/" + hidden, encoding: .utf8).contains("PRIVMARK"))
        // A public note is written as before.
        #expect(cli(["note", "set", "Memory/Open.md", "foo=1"] + expectingCurrent(v.root, "Memory/Open.md")).0 == 0)
    }

    /// Third attack: a local agent on a public task read `Private/Bank.md` (local runs see every
    /// note), then wrote its text into a public note and handed it to the cloud — a cloud agent could
    /// even set this up with `task new` for the local agent. A run shown a private note through the
    /// OS's tools counts as private from then on: what it writes, makes and answers is private. Also:
    /// a private run's refused write made a public conflict note; a run rewrote `handoffs` or
    /// `created_by_run` to reset the limits counted from them; `handoff --task` named a note the run
    /// had just written to start a fresh cap; `bench`, `memory-test` and `doctor` in a cloud run
    /// printed private notes' names and secrets.
    @Test func aRunShownAPrivateNoteIsPrivateFromThenOn() throws {
        let v = RouteTestVault()
        v.write("Private/Bank.md", "# Bank\n\nlogin word quokka7731\n")
        v.write("Tasks/Public.md", "---\ntype: task\n---\nTidy my notes.\n")
        v.write("Tasks/Other.md", "---\ntype: task\n---\nOther work.\n")
        v.write("Memory/Open.md", "# Open\n\nPublic.\n")
        _ = try MemoryIndex(vault: v.vault).reconcile()
        let store = NoteStore(vault: v.vault)
        func note(_ path: String) throws -> Note { try Note.parse(bytes: store.read(path).bytes) }
        func cli(_ arguments: [String], _ runID: String) -> (Int32, String) {
            let (console, captured) = Console.capturing()
            let code = CLI.run(arguments + ["--vault", v.root], console: console, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech")
            return (code, captured.stdout + captured.stderr)
        }
        let run = try Self.localRun(of: "Tasks/Public.md", in: v.vault)
        // Before it reads anything private, what it makes is public.
        #expect(cli(["task", "new", "--title", "Before", "Summarise the changelog."], run).0 == 0)
        #expect(try note("Tasks/Before.md").text("privacy") == nil)
        #expect(cli(["note", "show", "Private/Bank.md"], run).1.contains("quokka7731"), "a local run may read it")
        #expect(cli(["task", "new", "--agent", "claude", "--title", "After", "FYI the login word is quokka7731"], run).0 == 0)
        #expect(try note("Tasks/After.md").text("privacy") == "private")
        let draft = v.root + "/../copy-\(run).md"
        try "# Copy\n\nquokka7731\n".replacingFile(draft)
        defer { try? FileManager.default.removeItem(atPath: draft) }
        #expect(cli(["note", "write", "Memory/Bank copy.md", "--create", "--from", draft], run).0 == 0)
        #expect(try note("Memory/Bank copy.md").text("privacy") == "private")
        // A refused write of it keeps its text in a conflict note: a private one.
        #expect(cli(["note", "write", "Memory/Open.md", "--expect", "0000000000000000", "--from", draft], run).0 == 1)
        let conflicts = try FileManager.default.contentsOfDirectory(atPath: v.root + "/" + StaleMemoryGuard.conflictFolder).filter { $0.hasSuffix(".md") }
        #expect(!conflicts.isEmpty && conflicts.allSatisfy { (try? note(StaleMemoryGuard.conflictFolder + "/" + $0).text("privacy")) == "private" }, "\(conflicts)")
        // Through the MCP server of a run too.
        let other = try Self.localRun(of: "Tasks/Other.md", in: v.vault)
        let tools = MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "ollama", environment: ["FBT_RUN_ID": other]))
        _ = tools.call("read_note", arguments: .object([("path", .string("Private/Bank.md"))]))
        _ = tools.call("create_task", arguments: .object([("prompt", .string("quokka7731")), ("title", .string("Via MCP")), ("agent", .string("claude"))]))
        #expect(try note("Tasks/Via MCP.md").text("privacy") == "private")
        // The limits' records are the OS's: no run rewrites them.
        for arguments in [["note", "set", "Tasks/Public.md", "--unset", "handoffs"], ["note", "set", "Tasks/After.md", "--unset", "created_by_run"],
                          ["note", "set", "Tasks/Public.md", "cost_usd=0"], ["note", "set", "Tasks/Public.md", "result=[[Results/Forged]]"]] {
            let (code, out) = cli(arguments, run)
            #expect(code == 1 && out.contains("the OS keeps it"), "\(arguments): \(out)")
        }
        // Inside a run, a handoff continues the run's task; naming another note is refused.
        let (handoffCode, handoffOut) = cli(["handoff", "--from", "ollama", "--to", "ollama", "--task", "Memory/Open.md", "go on"], run)
        #expect(handoffCode == 1 && handoffOut.contains("not the task of run"), "\(handoffOut)")
        #expect(cli(["handoff", "--from", "ollama", "--to", "ollama", "--task", "Tasks/Public.md", "go on"], run).0 == 0)
        // Commands that print what every note holds are not run in a cloud run.
        let cloudRun = try Self.run(of: "Tasks/Cloud.md", lane: "premium", in: v.vault)
        for command in [["bench", "--sections", "retrieval"], ["memory-test", "quick"], ["doctor"]] {
            let (code, out) = cli(command, cloudRun)
            #expect(code == 1 && out.contains("is not run when"), "\(command): \(out)")
        }
    }

    /// Third attack: `status` in a cloud run named a private task in its budget lines ("task cap of
    /// Tasks/Overrun my affair.md: over cap"). A person's `status` still names it.
    @Test func statusInACloudRunNamesNoPrivateTaskInItsBudgetLines() throws {
        let v = RouteTestVault()
        v.write("Tasks/Overrun my affair PRIVOVER.md", "---\ntype: task\nprivacy: private\n---\nx\n")
        let ledger = try BudgetLedger(vault: v.vault)
        #expect(try ledger.reserve(runID: "over-1", lane: .premium, amount: 0.01, caps: BudgetCaps(taskUSD: 100), task: "Tasks/Overrun my affair PRIVOVER.md") != nil)
        _ = try ledger.close(runID: "over-1", actualUSD: 3.0, agentStarted: true)
        let cloudRun = try Self.run(of: "Tasks/Cloud.md", lane: "premium", in: v.vault)
        for json in [false, true] {
            let (console, captured) = Console.capturing()
            _ = CLI.run(["status"] + (json ? ["--json"] : []) + ["--vault", v.root], console: console, environment: ["FBT_RUN_ID": cloudRun], executablePath: "fuckbigtech")
            #expect(!captured.stdout.contains("PRIVOVER") && !captured.stderr.contains("PRIVOVER"), "\(captured.stdout)")
            #expect(captured.stdout.contains("(a private task)"), "\(captured.stdout)")
        }
        let (console, captured) = Console.capturing()
        _ = CLI.run(["status", "--vault", v.root], console: console, environment: [:], executablePath: "fuckbigtech")
        #expect(captured.stdout.contains("PRIVOVER"), "a person sees it")
    }

    /// Attack: inside a cloud run `note show Private/Bank.md` was refused, but `note set` on it
    /// succeeded and printed the note's hash, and `note write --expect HASH` then replaced the
    /// banking note (a tag-private note too). A run that may not read a private note may not write it.
    @Test func aCloudRunCannotWriteAPrivateNoteItMayNotRead() throws {
        let v = RouteTestVault()
        v.write("Private/Bank.md", "# Bank\n\nPRIVMARK account.\n")
        v.write("Memory/Health.md", "---\ntags: [private]\n---\n# Health\n\nPRIVMARK.\n")
        v.write("Memory/Open.md", "# Open\n\nPublic.\n")
        let cloudRun = try Self.run(of: "Tasks/Cloud.md", lane: "premium", in: v.vault)
        let store = NoteStore(vault: v.vault)
        let draft = v.root + "/../overwrite-\(cloudRun).md"
        try "OVERWRITTEN BY CLOUD\n".replacingFile(draft)
        defer { try? FileManager.default.removeItem(atPath: draft) }
        for runID in [cloudRun, "20261204-000000-0f0f0f"] {
            for path in ["Private/Bank.md", "Memory/Health.md"] {
                let before = try store.read(path)
                for arguments in [["note", "set", path, "foo=x", "--json"], ["note", "set", path, "--unset", "tags"],
                                  ["note", "write", path, "--expect", before.hash.hex, "--from", draft], ["note", "write", path + "x.md", "--create", "--from", draft]] {
                    let (console, captured) = Console.capturing()
                    let code = CLI.run(arguments + ["--vault", v.root], console: console, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech")
                    if arguments.contains("--create") && !path.hasPrefix("Private/") { continue } // a new note elsewhere may be made
                    #expect(code == 1 && !captured.stdout.contains(before.hash.hex), "\(arguments): \(captured.stdout) \(captured.stderr)")
                }
                #expect(try store.read(path).bytes == before.bytes, "\(path) changed")
            }
            // A note it may read stays writable.
            let (console, captured) = Console.capturing()
            #expect(CLI.run(["note", "set", "Memory/Open.md", "topic=x", "--vault", v.root] + expectingCurrent(v.root, "Memory/Open.md"), console: console, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech") == 0, "\(captured.stderr)")
        }
    }

    /// What a private run's agent writes into notes through the OS's tools is private (a summary of
    /// private notes saved as `Memory/Summary.md` would otherwise be retrieved into the next cloud
    /// packet), and no run makes a private note public: only a person declassifies.
    @Test func notesAPrivateRunWritesArePrivateAndNoRunMakesAPrivateNotePublic() throws {
        let v = RouteTestVault()
        v.write("Tasks/Journal.md", "---\ntype: task\ntags: [private]\n---\nSummarise my journal.\n")
        v.write("Tasks/Plain.md", "---\ntype: task\n---\nSummarise the changelog.\n")
        v.write("Memory/Shared.md", "# Shared\n\nA public page.\n")
        v.write("Memory/Health.md", "---\nprivacy: private\n---\n# Health\n\nPRIVMARK.\n")
        v.write("Memory/Tagged.md", "---\ntags: [private, health]\n---\n# Tagged\n\nPRIVMARK.\n")
        func run(_ task: String) throws -> String { try Self.localRun(of: task, in: v.vault) }
        let privateRun = try run("Tasks/Journal.md"), plainRun = try run("Tasks/Plain.md")
        let store = NoteStore(vault: v.vault)
        func note(_ path: String) throws -> Note { try Note.parse(bytes: store.read(path).bytes) }
        func tools(_ runID: String) -> MCPTools { MCPTools(vault: v.vault, scope: MCPScope(vault: v.vault, agent: "ollama", environment: ["FBT_RUN_ID": runID])) }
        func failed(_ answer: [(String, JSON)]) -> Bool { answer.first { $0.0 == "isError" }?.1 == .bool(true) }
        // A private run: a new note, a rewrite of a public one, a property edit — each ends private.
        #expect(!failed(tools(privateRun).call("write_note", arguments: .object([("path", .string("Memory/Summary.md")), ("text", .string("# Summary\n\nPRIVMARK summary.\n")), ("create", .bool(true))]))))
        #expect(try note("Memory/Summary.md").text("privacy") == "private")
        let shared = try store.read("Memory/Shared.md")
        #expect(!failed(tools(privateRun).call("write_note", arguments: .object([("path", .string("Memory/Shared.md")), ("text", .string("# Shared\n\nPRIVMARK added.\n")), ("expect_hash", .string(shared.hash.hex))]))))
        #expect(try note("Memory/Shared.md").text("privacy") == "private")
        let (console, captured) = Console.capturing()
        v.write("Memory/Other.md", "# Other\n\nPublic.\n")
        #expect(CLI.run(["note", "set", "Memory/Other.md", "topic=PRIVMARK", "--vault", v.root] + expectingCurrent(v.root, "Memory/Other.md"), console: console, environment: ["FBT_RUN_ID": privateRun], executablePath: "fuckbigtech") == 0, "\(captured.stderr)")
        #expect(try note("Memory/Other.md").text("privacy") == "private")
        // A public run's notes stay as written.
        #expect(!failed(tools(plainRun).call("write_note", arguments: .object([("path", .string("Memory/Plain summary.md")), ("text", .string("# Plain\n")), ("create", .bool(true))]))))
        #expect(try note("Memory/Plain summary.md").text("privacy") == nil)
        // No run makes a private note public: not by a property, a rewrite, or dropping the tag.
        let health = try store.read("Memory/Health.md"), tagged = try store.read("Memory/Tagged.md")
        for runID in [plainRun] {
            #expect(failed(tools(runID).setProperties("Memory/Health.md", [("set", .object([("privacy", .string("public"))]))])))
            #expect(failed(tools(runID).setProperties("Memory/Health.md", [("unset", .array([.string("privacy")]))])))
            #expect(failed(tools(runID).call("write_note", arguments: .object([("path", .string("Memory/Health.md")), ("text", .string("# Health\n\nnow public\n")), ("expect_hash", .string(health.hash.hex))]))))
            #expect(failed(tools(runID).setProperties("Memory/Tagged.md", [("set", .object([("tags", .array([.string("health")]))]))])))
            let (c, out) = Console.capturing()
            #expect(CLI.run(["note", "set", "Memory/Health.md", "--unset", "privacy", "--vault", v.root], console: c, environment: ["FBT_RUN_ID": runID], executablePath: "fuckbigtech") == 1)
            #expect(out.stderr.contains("only a person"), "\(out.stderr)")
        }
        #expect(try store.read("Memory/Health.md").bytes == health.bytes && store.read("Memory/Tagged.md").bytes == tagged.bytes)
        // In a private run the same edits leave the notes private (what it writes is marked so).
        _ = tools(privateRun).setProperties("Memory/Health.md", [("set", .object([("privacy", .string("public"))]))])
        _ = tools(privateRun).setProperties("Memory/Tagged.md", [("set", .object([("tags", .array([.string("health")]))]))])
        for path in ["Memory/Health.md", "Memory/Tagged.md"] {
            #expect(Privacy.reason(note: try note(path), path: path, guardrails: RuleBook.load(vault: v.vault).guardrails) != nil, "\(path)")
        }
        // An edit that keeps it private is fine; a person may declassify.
        #expect(!failed(tools(plainRun).setProperties("Memory/Health.md", [("set", .object([("topic", .string("sleep"))]))])))
        let (c2, _) = Console.capturing()
        #expect(CLI.run(["note", "set", "Memory/Health.md", "privacy=public", "--vault", v.root], console: c2, environment: [:], executablePath: "fuckbigtech") == 0)
        #expect(try note("Memory/Health.md").text("privacy") == "public")
    }

    @Test func aConflictNoteAboutTheResultOfPrivateWorkIsPrivate() throws {
        let v = RouteTestVault()
        let store = NoteStore(vault: v.vault)
        v.write("Tasks/Therapy.md", "---\ntype: task\nprivacy: private\n---\nx\n")
        // A result written before results were marked private: only what it was made from says so.
        v.write("Results/Answer.md", "---\ntype: result\ntask: \"[[Therapy]]\"\n---\nCONFLICTMARK\n")
        let verdict = try StaleMemoryGuard.write(.text("---\ntype: result\ntask: \"[[Therapy]]\"\n---\nedited\n"), to: "Results/Answer.md",
                                                 expecting: .hash(ContentHash(of: "stale")), store: store)
        guard case .conflict(let conflict) = verdict else { Issue.record("\(verdict)"); return }
        let note = try Note.parse(bytes: try store.read(conflict.conflictNotePath).bytes)
        #expect(note.text("privacy") == "private")
    }

    // MARK: One judge

    @Test func everyDocumentedWayOfBeingPrivateIsJudgedAlikeEverywhere() throws {
        let v = RouteTestVault()
        let store = NoteStore(vault: v.vault)
        let guardrails = v.book.guardrails
        let cases: [(String, String, Bool)] = [
            ("Notes/a.md", "---\nprivacy: private\n---\nx\n", true),
            ("Notes/b.md", "---\nprivacy: Confidential\n---\nx\n", true),
            ("Notes/c.md", "---\nprivacy: public\n---\nx\n", false),
            ("Notes/d.md", "---\nprivate: true\n---\nx\n", true),
            ("Notes/e.md", "---\nprivate: yes\n---\nx\n", true),
            ("Notes/f.md", "---\nprivate: false\n---\nx\n", false),
            ("Notes/g.md", "---\ntags: [work, Personal/Health]\n---\nx\n", true),
            ("Notes/h.md", "---\ntag: private\n---\nx\n", true),
            ("Notes/i.md", "text #private/deep here\n", true),
            ("Notes/j.md", "text #privateer is another tag\n", false),
            ("JOURNAL/k.md", "x\n", true),
            ("private/l.md", "x\n", true),
            ("Notes/m.md", "---\nprivacy: [public, private]\n---\nx\n", true),
            ("Notes/n.md", "---\ntitle: [unclosed\n---\nx\n", true),
            ("Results/o.md", "---\ntype: result\nsources: [\"[[Private/x]]\"]\n---\nx\n", true),
            ("Results/p.md", "---\ntype: result\ntask: \"[[Notes/a]]\"\n---\nx\n", true),
            ("Results/q.md", "---\ntype: result\ntask: \"[[Notes/c]]\"\n---\nx\n", false),
            // Spellings an outside attack found reaching cloud agents: a key in other case, the key
            // given twice (the second one public), tags as a text of several.
            ("Notes/r.md", "---\nTags: [private]\n---\nx\n", true),
            ("Notes/s.md", "---\nTAGS: private\n---\nx\n", true),
            ("Notes/t.md", "---\nPrivacy: private\n---\nx\n", true),
            ("Notes/u.md", "---\nprivacy: private\nprivacy: public\n---\nx\n", true),
            ("Notes/v.md", "---\ntags: private, health\n---\nx\n", true),
            ("Notes/w.md", "---\ntags: health private\n---\nx\n", true),
            ("Notes/x.md", "---\nPrivate: true\n---\nx\n", true),
            ("Notes/y.md", "---\ntags: health\nTag: private\n---\nx\n", true),
            ("Notes/z.md", "---\ntags: privateer, health\nPrivacy: Public\n---\nx\n", false),
        ]
        for (path, text, _) in cases { v.write(path, text) }
        for (path, text, expected) in cases {
            #expect(Privacy.isPrivate(linkedNote: path, store: store, guardrails: guardrails) == expected, "\(path): \(text)")
            // Routing judges a task that links it the same way.
            let facts = v.facts("Tasks/Link \(path.replacingOccurrences(of: "/", with: "-")).md", "---\ntype: task\n---\nSee [[\(path.dropLast(3))]].\n")
            #expect((Privacy.reason(for: facts, guardrails: guardrails) != nil) == expected, "task linking \(path)")
        }
    }
}

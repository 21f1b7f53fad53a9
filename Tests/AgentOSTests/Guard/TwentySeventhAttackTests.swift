import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// The twenty-seventh outside attack on the release binary (`/work/attack63-report.md`), each
/// finding written as the attack it was.
@Suite struct TwentySeventhAttackTests {
    /// Attack (medium): a public note's links to private files were looked up only in the memory
    /// index, which holds no attachment, no note it skipped and no note made since it was last
    /// brought up to date: `![[Biopsy PRIVATT.pdf]]` under `Private/`, a private note with a NUL
    /// byte, and a private note written after the index went to claude as written — as a note the
    /// task links and as a memory match — though routing called each private.
    @Test func linksToPrivateFilesTheIndexDoesNotHoldAreHidden() throws {
        let v = RouteTestVault()
        v.write("Private/Biopsy PRIVATT.pdf", "%PDF-1.4 fake\n")
        v.write("Memory/Divorce lawyer PRIVNUL.md", "---\ntags: [private]\n---\n\u{0}binary-ish\nDivorce details\n")
        v.write("Memory/Zebrafruit plan.md", """
            # Zebrafruit plan

            The zebrafruit rollout plan CLEANMARK: ask [[Divorce lawyer PRIVNUL]], see ![[Biopsy PRIVATT.pdf]], [[Affair PRIVNEW|the affair]] and [[Zebrafruit rollout]].
            """)
        v.write("Memory/Zebrafruit rollout.md", "# Zebrafruit rollout\n\nPublic.\n")
        let summary = try MemoryIndex(vault: v.vault).reconcile()
        #expect(summary.skipped.contains { $0.path == "Memory/Divorce lawyer PRIVNUL.md" }, "the NUL note was indexed: \(summary.skipped)")
        // Made after the index: nothing brings the index up to date before the packet.
        v.write("Memory/Affair PRIVNEW.md", "---\ntags: [private]\n---\nAffair.\n")

        for task in ["Summarize [[Zebrafruit plan]].", "What is the zebrafruit rollout plan?"] {
            v.write("Tasks/Ask.md", "---\ntype: task\nagent: claude\n---\n\(task)\n")
            let plan = try PacketGuardrailsTests.plan(v, "Tasks/Ask.md", index: false)
            #expect(plan.action == .run, "\(plan.reason)")
            #expect(plan.prompt.contains("CLEANMARK"), "no piece of the public note\n\(plan.prompt)")
            for name in ["PRIVATT", "PRIVNUL", "PRIVNEW", "Biopsy", "Divorce", "Affair"] {
                #expect(!plan.prompt.contains(name), "\(task): \(name) went out\n\(plan.prompt)")
            }
            // A public link is still sent as written.
            #expect(plan.prompt.contains("[[Zebrafruit rollout]]"), "\(plan.prompt)")
        }
    }

    /// Attack (low-medium): a private task's local agent wrote the private packet into its
    /// `project:` folder; a later public task in that folder started claude there, with the file in
    /// front of it. The folder is private from then on: a task there (or in a folder holding it)
    /// runs only locally, and says why; a task in another project folder is not touched.
    @Test func aProjectFolderAPrivateRunWorkedInIsPrivateFromThenOn() throws {
        let env = try EngineTestVault()
        let roots = env.root + "/code"
        for folder in ["app", "other"] { try FileManager.default.createDirectory(atPath: roots + "/" + folder, withIntermediateDirectories: true) }
        let guardrails = try env.text("Rules/Guardrails.md")
        try env.store.write(guardrails.replacingOccurrences(of: "project_roots: []\n", with: "project_roots: [\"\(roots)\"]\n"), to: "Rules/Guardrails.md", expecting: .any)
        let script = env.root + "/localw.sh"
        try "#!/bin/sh\nprintf '%s\\n' \"$1\" > ./agent-notes.txt\necho wrote notes\n".replacingFile(script)
        #expect(chmod(script, 0o755) == 0)
        try env.store.write("---\ntype: agent\nname: localw\nlane: local\ncommand: [\"\(script)\", \"{prompt}\"]\noutput: text\ntimeout: 30\ncontext_tokens: 4000\n---\n", to: "Rules/Agents/localw.md", expecting: .absent)
        try env.store.write("---\ntags: [x]\n---\nBank account PRIVBANK 12345\n", to: "Private/Bank.md", expecting: .any)
        let engine = try env.engine()

        let privateTask = try env.writeTask("Private summary", properties: "type: task\nagent: localw\nproject: \(roots)/app", body: "Summarize [[Private/Bank]] for me.")
        #expect(engine.consider(path: privateTask, wait: true) != .ignored)
        engine.waitUntilIdle()
        #expect(try env.note(privateTask).text("status") == "done")
        #expect(PlatformTestSupport.read(roots + "/app/agent-notes.txt")?.contains("PRIVBANK") == true, "the local agent wrote the private packet into the project folder")

        for (name, project) in [("Review app", "\(roots)/app"), ("Review all", roots)] {
            let task = try env.writeTask(name, properties: "type: task\nagent: claude\nproject: \(project)", body: "Review the code in this folder.")
            #expect(engine.consider(path: task, wait: true) != .ignored)
            engine.waitUntilIdle()
            let note = try env.note(task)
            let said = [note.text("route_reason"), note.text("error")].compactMap { $0 }.joined(separator: " | ")
            #expect(said.contains("where a private run worked"), "\(name): \(note.text("status") ?? "none"): \(said)")
        }
        let cwds = (PlatformTestSupport.read(env.fixtureLog) ?? "").split(separator: "\n").compactMap { try? JSON.parse(String($0))["cwd"]?.stringValue }
        #expect(cwds.isEmpty, "claude ran in \(cwds)")

        // Another project folder is not private.
        let elsewhere = try env.writeTask("Review other", properties: "type: task\nagent: claude\nproject: \(roots)/other", body: "Review the code in this folder.")
        #expect(engine.consider(path: elsewhere, wait: true) != .ignored)
        engine.waitUntilIdle()
        #expect(try env.note(elsewhere).text("status") == "done")
        let last = (PlatformTestSupport.read(env.fixtureLog) ?? "").split(separator: "\n").compactMap { try? JSON.parse(String($0))["cwd"]?.stringValue }
        #expect(last == [RunWorkspace.realPath(roots + "/other")], "\(last)")
    }

    /// Attack (low): `skills sync` linked a skill whose `SKILL.md` links private notes
    /// (`[[Cancer diagnosis]]`, `[[Private/Bank]]`) into `~/.claude/skills`: cloud harnesses load
    /// those names as instructions. A skill with a file that links a private note stays in the
    /// vault, with the reason; one linking a public note is linked.
    @Test(arguments: [("SKILL.md", "For background read [[Cancer diagnosis PRIVTITLE]]."), ("SKILL.md", "See [bank](<Private/Bank.md>)."),
                      ("references/notes.md", "Also ![[Cancer diagnosis PRIVTITLE#Treatment]].")])
    func aSkillLinkingAPrivateNoteIsNotLinkedForCloudHarnesses(_ file: String, _ line: String) throws {
        let setup = try SkillSyncTests.Setup()
        defer { TemporaryFolder.remove(setup.root) }
        try "---\ntags: [private]\n---\n# Diagnosis\n".replacingFile(setup.vault.root + "/Memory/Cancer diagnosis PRIVTITLE.md")
        try "Account.\n".replacingFile(setup.vault.root + "/Private/Bank.md")
        try "# Wombats\n".replacingFile(setup.vault.root + "/Memory/Wombats.md")
        let body = "---\nname: demo\ndescription: A demo skill for testing things out\n---\n# Demo\n"
        try setup.skill("demo", body + (file == "SKILL.md" ? line + "\n" : "Read the references.\n"))
        if file != "SKILL.md" {
            try FileManager.default.createDirectory(atPath: setup.vault.root + "/Skills/demo/references", withIntermediateDirectories: true)
            try (line + "\n").replacingFile(setup.vault.root + "/Skills/demo/" + file)
        }
        try setup.skill("public", "---\nname: public\ndescription: A skill linking a public note\n---\nRead [[Wombats]].\n")
        let run = setup.run(["sync"])
        let demo = try #require(SkillSync.status(vault: setup.vault, folders: setup.folders).skills.first { $0.name == "demo" })
        #expect(demo.problems.contains { $0.contains("links a private note") }, "\(demo.problems)")
        for folder in setup.folders {
            #expect(setup.link(folder.path + "/demo") == nil, "demo was linked into \(folder.path): \(run.out) \(run.err)")
            #expect(setup.link(folder.path + "/public") != nil, "the public skill was not linked: \(run.out) \(run.err)")
        }
    }

    /// Tour (high): on SIGTERM the watcher waited for its running agents, and when one ended, the
    /// task queued behind it in its lane started — a new paid agent, stopped a moment later with
    /// the watcher and charged its whole reservation. A run that waited in its lane's queue does not
    /// start once the watcher is stopping; it runs at the next start.
    @Test func aStoppingWatcherStartsNoQueuedRun() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let width = engine.routing.concurrency(lane: "premium")
        // The first runs end a moment after the stop begins; the last waits in the queue behind them.
        let paths = try (0...width).map { i in
            try env.writeTask("Queued \(i)", properties: "type: task\nagent: claude", body: "Explain plan \(i).\(i < width ? " FIXTURE_MODE=slow" : "")")
        }
        for path in paths { #expect(engine.consider(path: path) != .ignored) }
        #expect(eventually(within: 30) { env.fixturePrompts().count == width }, "\(env.fixturePrompts())")
        engine.shutdown(grace: 10)
        let prompts = env.fixturePrompts()
        #expect(prompts.count == width && !prompts.contains { $0.contains("plan \(width).") }, "an agent started after the stop: \(prompts)")
        let last = try env.note(paths[width])
        #expect(last.text("status") != "running" && last.text("status") != "done" && last.text("status") != "cancelled", "\(last.text("status") ?? "none")")
        let run = try RunStore(vault: env.vault).latestRun(taskPath: paths[width])
        #expect(run?.state == .claimed, "\(String(describing: run?.state))")
    }

    /// Tour (medium): after claude hit its usage limit, codex's packet was retrieved from the
    /// failover's own words ("usage limit reached", "API key", "Upgrade") and held help pages about
    /// plans and dates, nothing about the task; and the `[[Project Falcon]]` note the task links,
    /// which claude's packet held, was missing. The next agent gets the task's links and memory
    /// about the task.
    @Test func aFailoverHandoffsPacketIsAboutTheTaskAndKeepsItsLinks() throws {
        let env = try EngineTestVault()
        try env.store.write("# Project Falcon\n\nFalcon moves the replicas to the new cluster. FALCONMARK\n", to: "Memory/Project Falcon.md", expecting: .absent)
        try env.store.write("# Lag monitor\n\nThe lag monitor compares replica lag with its threshold; its test fixtures live in lagmon/. LAGMARK\n", to: "Memory/Lag monitor.md", expecting: .absent)
        try env.store.write("# Upgrade your plan\n\nWhen a usage limit is reached, upgrade to Pro or add an API key; limits reset after hours or days. NOISEMARK\n", to: "Memory/Upgrade your plan.md", expecting: .absent)
        _ = try MemoryIndex(vault: env.vault).reconcile(progress: nil)
        let engine = try env.engine()
        let path = try env.writeTask("Fix lag monitor", properties: "type: task\nagent: claude", body: "Fix the failing test in the lag monitor code, see [[Project Falcon]]. FIXTURE_MODE_CLAUDE=usage-limit")
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        let handoff = try #require(try FileManager.default.contentsOfDirectory(atPath: env.vault.root + "/Handoffs").first { $0.hasPrefix("Failover") })
        _ = engine.consider(path: "Handoffs/" + handoff, wait: true)
        engine.waitUntilIdle()
        let prompts = env.fixturePrompts()
        #expect(prompts.count == 2, "\(prompts.count) runs")
        let first = try #require(prompts.first), next = try #require(prompts.last)
        #expect(first.contains("FALCONMARK") && first.contains("LAGMARK"), "claude's packet: \(first)")
        #expect(next.contains("FALCONMARK"), "the task's linked note is missing after the failover:\n\(next)")
        #expect(next.contains("LAGMARK"), "no memory about the task after the failover:\n\(next)")
        #expect(!next.contains("NOISEMARK"), "memory was retrieved from the failure's words:\n\(next)")
        #expect(try env.note(path).text("status") == "done")
    }

    /// The stopped agent's work is what a failover handoff adds to the search, not the OS's lines.
    @Test func theProducedPartOfAFailoverHandoffIsTheAgentsWorkOnly() {
        let text = "claude stopped on [[Tasks/A]]: usage limit (Claude AI usage limit reached). Continue the task.\n\n## What claude produced before it stopped\n\nHalf a migration plan.\n\nIts result note: [[Results/A 1]]\n"
        #expect(TaskEngine.producedPart(of: text) == "Half a migration plan.")
        #expect(TaskEngine.producedPart(of: "x stopped.\n\n## What x produced before it stopped\n\n\(TaskEngine.producedNothing)\n") == "")
        #expect(TaskEngine.producedPart(of: "A person's handoff: go on with the plan.") == "")
    }

    /// Tour (high): an editor holding a task open saved its buffer — the task's text and a line
    /// more, without the OS's `status` and `run_id` — during the run and after it; the first run's
    /// result was detached ("moved away while it ran?") and the paid task ran again each time. An
    /// old copy is the same task: the run's end is written into it, and after the run the OS's
    /// lines are written back; nothing runs twice. A note of other text saved there is a new task.
    @Test func anEditorsOldCopySavedOverATaskDoesNotRunItAgain() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let original = "---\ntype: task\nagent: claude\n---\nDecide on pglogical for the migration. FIXTURE_MODE=slow\n"
        try env.store.write(original, to: "Tasks/Decide.md", expecting: .absent)
        #expect(engine.consider(path: "Tasks/Decide.md") != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        // While claude runs: the editor's buffer, with a line added.
        try Data((original + "Edited in my editor.\n").utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Decide.md"))
        let during = engine.consider(path: "Tasks/Decide.md")
        #expect(during == .alreadyActive, "\(during)")
        engine.waitUntilIdle()
        var note = try env.note("Tasks/Decide.md")
        var text = try env.text("Tasks/Decide.md")
        #expect(note.text("status") == "done" && note.text("result") != nil && note.body.contains("Edited in my editor."), "\(text)")
        #expect(note.texts("changed_during_run").contains("text"), "\(text)")
        // The run's first lines, which the old copy took away, come back with its end (attack123
        // F6): `status: new` keeps the `run_id` to run it again.
        #expect(note.text("run_id") != nil && note.text("attempts") == "1" && note.text("started") != nil && note.text("route_agent") == "claude", "\(text)")
        let result = note.text("result")

        // After the run: the same buffer saved again.
        try Data((original + "Edited in my editor.\nAnd again.\n").utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Decide.md"))
        _ = engine.consider(path: "Tasks/Decide.md")
        engine.waitUntilIdle()
        note = try env.note("Tasks/Decide.md")
        text = try env.text("Tasks/Decide.md")
        #expect(note.text("status") == "done" && note.text("result") == result && note.body.contains("And again."), "\(text)")
        #expect(env.fixturePrompts().count == 1, "the task ran again: \(env.fixturePrompts().count) runs")

        // A note of other text saved at the path is a new task, and runs.
        try Data("---\ntype: task\nagent: claude\n---\nSomething else entirely.\n".utf8).write(to: URL(fileURLWithPath: env.vault.root + "/Tasks/Decide.md"))
        _ = engine.consider(path: "Tasks/Decide.md")
        engine.waitUntilIdle()
        let last = try env.note("Tasks/Decide.md")
        #expect(env.fixturePrompts().count == 2 && last.text("status") == "done")
    }

    /// Round 148 (high): the same editor's buffer, saved in place during the run with one of the
    /// task's lines edited (not only lines added), ran the agent a second time on its own; the
    /// first result was detached ("moved away while it ran?"). Saved from Obsidian, which has the
    /// OS's lines, the same edit ran once. Whatever is written into the running task's file is an
    /// edit of it, as in Obsidian; a new file renamed over it (round 149: gedit, VS Code and Emacs
    /// save so) is one when its words are mostly the task's. Its run's end is written into it,
    /// saying the text changed, and nothing runs again. A note deleted and made again there, one
    /// whose `created` is after the run began, or another task renamed over it (round 149: it got
    /// the old run's end and never ran) is new work and runs after it. So is another task saved at
    /// its name after a delete the watcher did not see (a polling one; round 151: ext4 gave the new
    /// file the deleted one's inode number, and it was taken for the task edited in place).
    @Test(arguments: ["edited in place", "edited, renamed over", "another task in place", "deleted and made again", "made anew (created)", "another task renamed over",
                      "another task after a delete not seen"])
    func aTaskSavedOverFromAnOldBufferWithAnEditedLineRunsOnce(_ how: String) throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = "Tasks/Stale.md"
        let original = "---\ntype: task\nagent: claude\n---\nAnswer the question. FIXTURE_MODE=slow\nPerson line.\n"
        try env.store.write(original, to: path, expecting: .absent)
        #expect(engine.consider(path: path) != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        let file = env.vault.root + "/" + path
        var buffer = original.replacingOccurrences(of: "Person line.", with: "Person line, edited.")
        switch how {
        case "edited in place":
            try Data(buffer.utf8).write(to: URL(fileURLWithPath: file))
        case "edited, renamed over":
            try Data(buffer.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        case "another task in place", "another task renamed over":
            buffer = "---\ntype: task\nagent: claude\nstatus: new\n---\nWrite a haiku about tapirs.\n"
            try Data(buffer.utf8).write(to: URL(fileURLWithPath: file), options: how.hasSuffix("renamed over") ? .atomic : [])
        case "deleted and made again":
            try FileManager.default.removeItem(atPath: file)
            engine.noteRemoved(path)
            try Data(buffer.utf8).write(to: URL(fileURLWithPath: file))
        case "another task after a delete not seen":
            // On ext4 the new file gets the freed inode number at once; its generation differs.
            // On ext4 a file made in the folder soon gets the freed inode number (`rm` then
            // `printf >` got it at once): files are made until one has it, which then takes the
            // task's name with the new text, as a polling watcher sees it. Its generation differs.
            let before = try #require(FileSystem.identity(file)?.inode)
            buffer = "---\ntype: task\nagent: claude\n---\nWrite a haiku about tapirs.\n"
            unlink(file)
            var reused = false
            for attempt in 0..<2_000 where !reused {
                let probe = file + ".probe\(attempt)"
                try Data(buffer.utf8).write(to: URL(fileURLWithPath: probe))
                if FileSystem.identity(probe)?.inode == before {
                    reused = rename(probe, file) == 0
                }
            }
            for attempt in 0..<2_000 { unlink(file + ".probe\(attempt)") }
            if !reused { try Data(buffer.utf8).write(to: URL(fileURLWithPath: file)) }
        default:
            let later = LocalTime.dateTime(Date().addingTimeInterval(1))
            buffer = buffer.replacingOccurrences(of: "type: task\n", with: "type: task\ncreated: \(later)\n")
            Thread.sleep(forTimeInterval: 1.2)
            try Data(buffer.utf8).write(to: URL(fileURLWithPath: file))
        }
        #expect(engine.consider(path: path) == .alreadyActive)
        engine.waitUntilIdle()
        // Looked at again, as the watcher would on a later event: nothing more runs.
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        let note = try env.note(path)
        let text = try env.text(path)
        #expect(note.body.contains(how.hasPrefix("another") ? "tapirs" : "Person line, edited."), "the person's text is kept: \(text)")
        #expect(note.text("status") == "done" && note.text("result") != nil, "\(text)")
        if how.hasPrefix("edited") || how == "another task in place" {
            #expect(env.fixturePrompts().count == 1, "ran \(env.fixturePrompts().count) times: \(env.loggedEvents.map(\.message))")
            #expect(note.texts("changed_during_run").contains("text"), "\(text)")
            #expect(!env.loggedEvents.contains { $0.message.contains("moved away") }, "\(env.loggedEvents.map(\.message))")
            let runID = try #require(note.text("run_id"))
            #expect(note.text("result")?.contains(runID) == true, "the task links the run that answered it: \(text)")
        } else {
            #expect(env.fixturePrompts().count == 2, "new work runs once the run ends: \(env.loggedEvents.map(\.message))")
            #expect(env.fixturePrompts().last?.contains(how.hasPrefix("another") ? "tapirs" : "Person line, edited.") == true, "\(env.fixturePrompts())")
        }
    }

    /// Round 151: a running task's note deleted (its run is cancelled) and put back with the same
    /// bytes a moment later (`git restore`, a copy back) was taken for git putting back a task that
    /// had run: left as it was, with no status, it never ran and said nothing. The cancelled run's
    /// end is written into it, and it runs again only when a person says so.
    @Test func aRunningTaskDeletedAndPutBackSaysItWasCancelled() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let path = "Tasks/Undo.md"
        let original = "---\ntype: task\nagent: claude\n---\nList the open questions of the design review. FIXTURE_MODE=slow\n"
        try env.store.write(original, to: path, expecting: .absent)
        #expect(engine.consider(path: path) != .ignored)
        #expect(eventually(within: 30) { env.fixturePrompts().count == 1 })
        let file = env.vault.root + "/" + path
        try FileManager.default.removeItem(atPath: file)
        // The watcher's event for the delete: the run is stopped.
        _ = engine.consider(path: path)
        let runs = try RunStore(vault: env.vault)
        #expect(eventually(within: 30) { (try? runs.latestRun(taskPath: path))??.state == .cancelled })
        try Data(original.utf8).write(to: URL(fileURLWithPath: file))
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        _ = engine.consider(path: path)
        engine.waitUntilIdle()
        let note = try env.note(path)
        let text = try env.text(path)
        #expect(note.text("status") == "cancelled" && note.text("error")?.contains("cancelled") == true && note.text("result") != nil, "\(text)")
        #expect(env.fixturePrompts().count == 1, "\(env.loggedEvents.map(\.message))")
        #expect(note.body.contains("List the open questions"), "\(text)")
    }

    /// Writes `text` as a task at `path` and runs it to `done` with an engine of its own; the run store.
    static func ranOnce(_ text: String, at path: String, _ env: EngineTestVault) throws -> RunStore {
        let engine = try env.engine()
        try env.store.write(text, to: path, expecting: .absent)
        _ = engine.consider(path: path, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(path).text("status") == "done")
        return try RunStore(vault: env.vault)
    }

    /// Moves the latest run of `path` `seconds` into the past (claim, start and end).
    static func age(_ path: String, by seconds: Double, _ runs: RunStore) throws {
        var record = try #require(try runs.latestRun(taskPath: path))
        record.createdAt -= seconds
        record.startedAt = record.startedAt.map { $0 - seconds }
        record.finishedAt = record.finishedAt.map { $0 - seconds }
        try runs.update(record)
    }

    /// Round 152: a task of every morning copied from a template with `cp -p` (or `rsync -a`, `tar
    /// x`) has the template's old modification time, from before yesterday's run: it was taken for
    /// git putting back yesterday's task, and never ran again. Its change time, which no copy sets
    /// back, says when it was written.
    @Test func aRecurringTaskCopiedWithItsOldTimesRunsAgain() throws {
        let env = try EngineTestVault()
        let path = "Tasks/Standup.md"
        let text = "---\ntype: task\nagent: claude\n---\nWrite the morning standup summary.\n"
        let runs = try Self.ranOnce(text, at: path, env)
        // The next morning: yesterday's run ended hours ago.
        try Self.age(path, by: 20 * 3_600, runs)
        let file = env.vault.root + "/" + path
        try FileManager.default.removeItem(atPath: file)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        // `cp -p` of a template last edited the day before yesterday.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-44 * 3_600)], ofItemAtPath: file)
        // As the watcher sees it (not `run`, which a person asks for).
        let next = try env.engine()
        _ = next.consider(path: path)
        next.waitUntilIdle()
        let now = try env.text(path)
        #expect(env.fixturePrompts().count == 2, "\(env.loggedEvents.map(\.message))")
        #expect(try env.note(path).text("status") == "done", "\(now)")
    }

    /// Round 154 F3: a note held as put back by git (its run's text, written again within the hour
    /// after the run) ran again when, past that hour, a `touch` or a save of the same bytes moved
    /// its modification time: the verdict was made again at every look. It is made once, for those
    /// bytes at that path, also across a restart and a save by rename (round 155); `status: new`
    /// runs it.
    @Test func aNoteHeldAsPutBackStaysHeldWhenItsTimeAloneMoves() throws {
        let env = try EngineTestVault()
        let path = "Tasks/Weekly.md"
        let text = "---\ntype: task\nagent: claude\n---\nSummarize the weekly status for the team.\n"
        let runs = try Self.ranOnce(text, at: path, env)
        func age(_ seconds: Double) throws { try Self.age(path, by: seconds, runs) }
        // Put back by git 59 minutes 50 s after the run, under a watcher started since.
        try age(3_590)
        let second = try env.engine()
        let file = env.vault.root + "/" + path
        try FileManager.default.removeItem(atPath: file)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        _ = second.consider(path: path)
        second.waitUntilIdle()
        #expect(env.fixturePrompts().count == 1)
        #expect(env.loggedEvents.contains { $0.message.contains("\(path): holds exactly the text run") }, "\(env.loggedEvents.map(\.message))")
        // Hours later: a `touch`, then a save that writes the same bytes in place.
        try age(5 * 3_600)
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: file)
        _ = second.consider(path: path)
        second.waitUntilIdle()
        #expect(env.fixturePrompts().count == 1, "ran again after a touch: \(env.loggedEvents.map(\.message))")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
        let restarted = try env.engine()
        restarted.recover()
        _ = restarted.consider(path: path)
        restarted.waitUntilIdle()
        #expect(env.fixturePrompts().count == 1, "ran again after a save of the same bytes: \(env.loggedEvents.map(\.message))")
        #expect(try env.text(path) == text)
        // Saved as vim, `sed -i` and many editors save: a new file renamed over it (round 155).
        let temporary = env.vault.root + "/Tasks/.Weekly.md.swp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        #expect(rename(temporary, file) == 0)
        _ = restarted.consider(path: path)
        restarted.waitUntilIdle()
        #expect(env.fixturePrompts().count == 1, "ran again after a save by rename: \(env.loggedEvents.map(\.message))")
        // `status: new` is a person asking: it runs.
        try env.store.updateProperties(path, set: [Property("status", .string("new"))])
        _ = restarted.consider(path: path)
        restarted.waitUntilIdle()
        #expect(env.fixturePrompts().count == 2, "\(env.loggedEvents.map(\.message))")
        #expect(try env.note(path).text("status") == "done")
    }

    /// Round 150: the words a renamed-over save is judged by. A CJK sentence has no spaces and an
    /// emoji is no letter: each such character counts, so one character edited keeps it mostly
    /// the same, and two texts of other emoji, or without words, are not.
    @Test func aSavedOverTextIsJudgedByItsWordsInEveryScript() {
        func mostly(_ a: String, _ b: String) -> Bool { TaskEngine.isMostly(TaskEngine.words(of: a), TaskEngine.words(of: b)) }
        #expect(mostly("请总结这份季度报告的要点。", "请总结这份年度报告的要点。"))
        #expect(mostly("Summarise the notes. Person line.", "Summarise the notes. Person line, edited."))
        #expect(!mostly("请总结这份季度报告的要点。", "写一首关于貘的俳句"))
        #expect(!mostly("🚀🔥", "🎉🍕"))
        #expect(!mostly("", ""))
        #expect(!mostly("Summarise the changelog.", "A new task of the person's."))
    }

    /// Round 151: only the first 4,096 words in text order were compared. A glossary of 5,000
    /// terms with 4,000 new words pasted above it (5,010 of 9,013 words in common: mostly the same)
    /// was taken for new work, and a save by rename ran it twice; and two long texts that begin
    /// alike but differ after are not mostly the same.
    @Test func longTextsAreJudgedByAllTheirWords() {
        func mostly(_ a: String, _ b: String) -> Bool { TaskEngine.isMostly(TaskEngine.words(of: a), TaskEngine.words(of: b)) }
        func words(_ prefix: String, _ range: Range<Int>) -> String { range.map { "\(prefix)\($0)" }.joined(separator: " ") }
        let head = "Kilo long task: check this glossary for typos.\n"
        let glossary = head + words("term", 0..<5_000)
        let pasted = mostly(glossary, head + "Appendix pasted first:\n" + words("extra", 0..<4_000) + "\n" + words("term", 0..<5_000))
        #expect(pasted, "5,010 of 9,013 words in common is mostly the same")
        // The same beginning, then mostly other words.
        let diverging = mostly(glossary, head + words("term", 0..<4_096) + " " + words("other", 0..<9_000))
        #expect(!diverging)
        // Exact while both are within the sketch: as many in common as apart is mostly the same.
        let even = mostly(words("w", 0..<1_000), words("w", 0..<1_000) + " " + words("x", 0..<1_000))
        let fewer = mostly(words("w", 0..<1_000), words("w", 0..<1_000) + " " + words("x", 0..<1_001))
        #expect(even && !fewer)
    }

    /// Tour: `status` told a person to "set approved: true to run it" for a task held by its spent
    /// task cap; the approval does not lift a cap, and the task stayed in review. It says to raise
    /// the cap (or wait for it to reset) first.
    @Test func statusSaysHowToReleaseATaskHeldByItsBudget() throws {
        let env = try EngineTestVault()
        let guardrails = try env.text("Rules/Guardrails.md")
        try env.store.write(guardrails.replacingOccurrences(of: "budget_task_usd: 2.0\n", with: "budget_task_usd: 0.01\n"), to: "Rules/Guardrails.md", expecting: .any)
        let engine = try env.engine()
        let held = try env.writeTask("Held", properties: "type: task\nagent: claude", body: "Review the plan.")
        let reviewed = try env.writeTask("Deploy", properties: "type: task\nagent: echo\neffects: [deploy]", body: "Deploy the site.")
        for path in [held, reviewed] { _ = engine.consider(path: path, wait: true) }
        engine.waitUntilIdle()
        // Its first run spent more than the cap; run again, it waits for review.
        try env.store.updateProperties(held, set: [Property("status", .string("new"))])
        _ = engine.consider(path: held, wait: true)
        engine.waitUntilIdle()
        let heldText = try env.text(held)
        #expect(try env.note(held).text("status") == "review" && env.fixturePrompts().count == 1, "\(heldText)")
        let (console, output) = Console.capturing()
        #expect(CLI.run(["status", "--vault", env.vault.root], console: console, environment: [:], executablePath: "") == 0)
        let lines = output.stdout.split(separator: "\n")
        let heldLine = try #require(lines.first { $0.contains("Tasks/Held.md") && $0.contains("budget") }, "\(output.stdout)")
        #expect(heldLine.contains("raise the cap") && !heldLine.contains("— set approved: true to run it"), "\(heldLine)")
        let deployLine = try #require(lines.first { $0.contains("Tasks/Deploy.md") }, "\(output.stdout)")
        #expect(deployLine.hasSuffix("— set approved: true to run it"), "\(deployLine)")
    }
}

import Foundation
import Testing
import TestSupport
@testable import AgentOS
@testable import Commands

/// Adopting an existing vault: notes that already look like work are the person's until edited.
@Suite struct AdoptedNotesTests {
    /// Writes each note (vault path → text) into a folder the OS never touched.
    static func write(_ notes: [String: String], into vault: Vault) throws {
        for (path, text) in notes {
            try FileManager.default.createDirectory(atPath: vault.root + "/" + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.replacingFile(vault.root + "/" + path)
        }
    }

    /// An outside test adopted a vault holding `type: task` notes of another convention and a
    /// `Tasks/` checklist: the first `watch` rewrote all three (a `status: todo` became `status:
    /// failed`) and routed one to a cloud agent. They are left byte for byte as they were until a
    /// person edits one; `run` still runs one asked for by name.
    @Test func notesThatLookedLikeWorkBeforeAdoptionAreLeftAloneUntilEdited() throws {
        let root = TemporaryFolder.make("fbt-adopt")
        defer { TemporaryFolder.remove(root) }
        let vault = Vault(root: root + "/vault")
        let notes = [
            "Projects/Passport.md": "---\ntype: task\nstatus: todo\ndue: 2026-12-10\n---\nRenew passport at the town hall\n",
            "Projects/Refactor.md": "---\ntype: task\nagent: echo\n---\n- [ ] refactor the payment code in ~/code/shop\n",
            "Tasks/Groceries.md": "- [ ] eggs\n- [ ] milk\n",
            "Notes/Plain.md": "---\ntags: [x]\n---\nNot work.\n",
        ]
        try Self.write(notes, into: vault)
        let report = try VaultInit.run(vault: vault, withMemory: true)
        #expect(report.adoptedWork == ["Projects/Passport.md", "Projects/Refactor.md", "Tasks/Groceries.md"])

        let events = Locked<[String]>([])
        let engine = TaskEngine(vault: vault, runs: try RunStore(vault: vault), routing: try VaultRouting(vault: vault), executor: VaultAgents(vault: vault)) { event in
            events.withLock { $0.append(event.message) }
        }
        for path in notes.keys.sorted() { #expect(engine.consider(path: path) == .ignored, "\(path)") }
        engine.waitUntilIdle()
        for (path, text) in notes {
            #expect(try String(contentsOfFile: vault.root + "/" + path, encoding: .utf8) == text, "\(path) was changed")
        }
        #expect(events.withLock { $0 }.contains { $0.contains("Tasks/Groceries.md: left alone: it was in the vault before the OS adopted it") })
        // A second init changes nothing and lists nothing again.
        #expect(try VaultInit.run(vault: vault).adoptedWork.isEmpty)

        // Edited by the person, a note is theirs to run; `run` runs one as it is.
        try "---\ntype: task\nagent: echo\n---\nSay hello in French.\n".replacingFile(vault.root + "/Tasks/Groceries.md")
        #expect(engine.consider(path: "Tasks/Groceries.md", wait: true) != .ignored)
        #expect(engine.consider(path: "Projects/Refactor.md", wait: true) != .ignored)
        engine.waitUntilIdle()
        for path in ["Tasks/Groceries.md", "Projects/Refactor.md"] {
            let note = try Note.parse(bytes: NoteStore(vault: vault).read(path).bytes)
            #expect(note.text("status") == "done", "\(path)")
        }
    }

    /// Rounds 20 and 21 of the outside attacks: `search` (or `status`, `index`…) run first made
    /// `.agentos/`, and one `run` of a note filled the run store; adoption, decided by either, was
    /// skipped and the first `watch` rewrote the person's notes and sent two to a cloud agent. It is
    /// decided by its own list. A person's own `status: new` is theirs too; a note the OS has written
    /// into (`run_id`, `route_*`: taken on by another machine of a synced vault) is work.
    @Test func aCommandRunFirstDoesNotSkipAdoptionAndOnlyTheOSsNotesStayWork() throws {
        let root = TemporaryFolder.make("fbt-adopt2")
        defer { TemporaryFolder.remove(root) }
        let vault = Vault(root: root + "/vault")
        let notes = [
            ".obsidian/app.json": "{}\n",
            "Projects/Refactor.md": "---\ntype: task\n---\n- [ ] refactor the payment code\n",
            "Projects/Mine.md": "---\ntype: task\nstatus: new\n---\n- [ ] my own new item\n",
            "Tasks/Synced.md": "---\ntype: task\nstatus: routed\nagent: echo\nroute_lane: local\nrun_id: 20261205-000000-abcdef\n---\nSay hello.\n",
            "Tasks/Once.md": "---\ntype: task\nagent: echo\n---\nSay hi.\n",
        ]
        try Self.write(notes, into: vault)
        let (console, _) = Console.capturing()
        _ = CLI.run(["search", "--vault", vault.root, "refactor"], console: console, environment: ["HOME": root], executablePath: "")
        _ = CLI.run(["run", "--vault", vault.root, "Tasks/Once.md"], console: console, environment: ["HOME": root], executablePath: "")
        #expect(FileManager.default.fileExists(atPath: vault.stateDirectory + "/runs.sqlite"), "run filled the run store")
        #expect(try VaultInit.run(vault: vault).adoptedWork == ["Projects/Mine.md", "Projects/Refactor.md"])
        #expect(try AdoptedNotes.adoptIfNew(vault: vault) == nil, "adopted once")
    }

    /// A status the OS does not know is the person's: the note gets an `error` saying which ones it
    /// knows, and keeps its `status` as written (it was overwritten with `failed`).
    @Test func anUnknownStatusIsKeptAndTheErrorSaysWhy() throws {
        let env = try EngineTestVault()
        let engine = try env.engine()
        let task = try env.writeTask("Todo", properties: "type: task\nstatus: todo\nagent: echo", body: "Say hello.")
        #expect(engine.consider(path: task) == .rejected("unknown status 'todo'; use new, draft, review (with approved: true) or cancelled"))
        engine.waitUntilIdle()
        let note = try env.note(task)
        #expect(note.text("status") == "todo")
        #expect(note.text("error")?.hasPrefix("unknown status 'todo'") == true)
        // Once set to new, it runs and the error goes.
        try env.store.updateProperties(task, set: [Property("status", .string("new"))])
        _ = engine.consider(path: task, wait: true)
        engine.waitUntilIdle()
        #expect(try env.note(task).text("status") == "done")
        #expect(try env.note(task).text("error") == nil)
    }
}

/// Work notes the watcher refuses are listed apart, with why, not as waiting for a watcher.
@Suite struct NotRunNotesTests {
    /// An outside test: a task with one Latin-1 byte, one with a NUL and a binary file were listed
    /// by `status` as "waiting for a watcher", and `doctor` failed on them with "start the watcher",
    /// which never runs them. They are listed as not run, each with its reason.
    @Test func notesTheWatcherRefusesAreListedWithWhyNotAsWaiting() throws {
        let env = try EngineTestVault()
        for (name, bytes) in [("Bad utf8", Array("---\ntype: task\nagent: echo\n---\nHello ".utf8) + [0xFF, 0xFE, 0x0A]),
                              ("Nul", Array("---\ntype: task\nagent: echo\n---\nNUL ".utf8) + [0x00, 0x0A])] {
            try FileManager.default.createDirectory(atPath: env.vault.root + "/Tasks", withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: env.vault.root + "/Tasks/\(name).md", contents: Data(bytes)))
        }
        _ = try env.writeTask("Fine", properties: "type: task\nagent: echo", body: "Say hello.")
        let survey = TaskNote.survey(in: env.vault, runs: nil)
        #expect(survey.waiting == ["Tasks/Fine.md"])
        #expect(survey.notRun.map(\.path) == ["Tasks/Bad utf8.md", "Tasks/Nul.md"])
        #expect(survey.notRun.allSatisfy { $0.reason.hasPrefix("not a text note") })
        let (console, output) = Console.capturing()
        #expect(CLI.run(["status", "--vault", env.vault.root], console: console, environment: [:], executablePath: "") == 0)
        #expect(output.stdout.contains("Not run as they stand (2)") && output.stdout.contains("Tasks/Nul.md  — not a text note"), "\(output.stdout)")
        let waitingPart = output.stdout.components(separatedBy: "Not run as they stand").first ?? ""
        #expect(!waitingPart.contains("Bad utf8"), "\(output.stdout)")
    }
}

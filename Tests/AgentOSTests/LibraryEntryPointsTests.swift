import Foundation
import Testing
@testable import AgentOS

/// The jobs the command line asks of the library, called without it (as the watcher or another
/// front end would): the same notes, the same guardrails, typed errors with the text users see.
@Suite(.serialized) struct LibraryEntryPointsTests {
    @Test func aHandoffOfPrivateWorkToACloudAgentIsWrittenBlocked() throws {
        let env = try EngineTestVault()
        _ = try env.writeTask("Fix login", properties: "type: task\nprivacy: private", body: "Fix the login timeout.")
        let submission = try HandoffRequest(from: "ollama", to: "claude", task: "Tasks/Fix login", message: "Continue the fix.").submit(vault: env.vault)
        let why = try #require(submission.blockedReason)
        #expect(why.contains("private"))
        let handoff = try env.note(submission.path)
        #expect(handoff.text("status") == "blocked")
        #expect(handoff.text("error") == why)
        #expect(try env.note("Tasks/Fix login.md").texts("handoffs") == [TelemetryWriter.link(submission.path)])
    }

    @Test func aHandoffForATaskThatDoesNotExistWritesNothing() throws {
        let env = try EngineTestVault()
        #expect(throws: HandoffError.noSuchTask("Tasks/Nothing.md")) {
            _ = try HandoffRequest(from: "a", to: "echo", task: "Tasks/Nothing", message: "m").submit(vault: env.vault)
        }
        #expect(VaultWalker.markdownFiles(in: env.vault, under: Vault.Layout.handoffs).filter { !$0.hasSuffix("README.md") }.isEmpty)
    }

    @Test func aForegroundRunEndsDoneAndIsSearchableAtOnce() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Greet", properties: "type: task\nagent: echo\nstatus: done", body: "Say hello zanzibarite.")
        let record = try ForegroundRun.run(path, vault: env.vault, environment: [:], warn: { _ in }, log: { _ in })
        #expect(record.state == .done)
        #expect(record.taskPath == path)
        let hits = try #require(try MemoryIndex.openForReading(vault: env.vault)).search("zanzibarite", limit: 10, filters: SearchFilters())
        #expect(hits.contains { $0.path == path })
        #expect(hits.contains { $0.path == record.resultPath })
    }

    @Test func aForegroundRunIsRefusedInsideAnAgentRun() throws {
        let env = try EngineTestVault()
        let path = try env.writeTask("Greet", properties: "type: task\nagent: echo", body: "Say hello.")
        #expect(throws: ForegroundRunError.insideRun("r-1")) {
            _ = try ForegroundRun.run(path, vault: env.vault, environment: ["FBT_RUN_ID": "r-1"], warn: { _ in }, log: { _ in })
        }
        #expect(try env.note(path).text("status") == nil)
    }

    /// A handoff naming its task by the whole prompt, where `task new` shortened the name, is told
    /// the note it made (a tour: the README's pattern gave "no such task note").
    @Test func aHandoffToATaskNamedInFullIsToldTheShortName() throws {
        // The prompt written out where `task new` shortened the name: the note it made is named.
        let close = try EngineTestVault()
        try close.store.write("---\ntype: task\n---\nReview.\n", to: "Tasks/Review the design of the retry logic in.md", expecting: .absent)
        #expect(throws: HandoffError.noSuchTaskButClose("Tasks/Review the design of the retry logic in the sync client.md", "Tasks/Review the design of the retry logic in.md")) {
            try HandoffRequest(from: "echo", to: "echo", task: "Tasks/Review the design of the retry logic in the sync client.md", message: "go on").submit(vault: close.vault)
        }
    }

    @Test func aNewTaskFromAnAgentSaysWhichRunMadeIt() throws {
        let env = try EngineTestVault()
        var task = NewTask(prompt: "  Compare: the two [drafts]  ")
        task.context = ["Memory/Login", "[[Memory/Refresh]]"]
        let path = try task.write(vault: env.vault, environment: ["FBT_RUN_ID": "r-7"])
        #expect(path == "Tasks/Compare the two drafts.md")
        let note = try env.note(path)
        #expect(note.text("status") == "new")
        #expect(note.text("created_by_run") == "r-7")
        #expect(note.texts("context") == ["[[Memory/Login]]", "[[Memory/Refresh]]"])
        #expect(note.body == "Compare: the two [drafts]\n")
        #expect(try task.write(vault: env.vault, environment: [:]) == "Tasks/Compare the two drafts 2.md")
    }

    @Test func noteNamesDropWhatLinksReserve() {
        #expect(NoteName.sanitize("a/b: c#d|e") == "a b c d e")
        // A run of spaces a link leaves is one (a tour: "see   Memory Zorblax" could not be typed back).
        #expect(NoteName.sanitize("Review the design, see [[Memory/Zorblax]]. Then\tgo") == "Review the design, see Memory Zorblax . Then go")
        #expect(NoteName.sanitize("...hidden") == "hidden")
        #expect(NoteName.sanitize("[]") == "Task")
    }

    @Test func aSecondWatcherOnTheVaultGetsATypedError() throws {
        let env = try EngineTestVault()
        try FileSystem.makeDirectories(env.vault.stateDirectory)
        let held = try #require(try FileLock(path: env.vault.stateDirectory + "/watch.lock"))
        defer { withExtendedLifetime(held) {} }
        let daemon = Daemon(vault: env.vault, options: Daemon.Options(), log: { _ in })
        #expect(throws: DaemonError.alreadyRunning(vault: env.vault.root, pid: getpid())) { _ = try daemon.run() }
    }

    @Test func aRoutePreviewDecidesAsTheWatcherWouldAndChangesNothing() throws {
        let env = try EngineTestVault()
        try env.store.create("---\nprivacy: private\n---\n# Plans\nsecret plans\n", at: "Memory/Diary.md")
        let path = try env.writeTask("Summarise", properties: "type: task\nagent: claude\ncontext: [\"[[Diary#Plans]]\"]", body: "Summarise my notes.")
        let before = try String(contentsOfFile: env.vault.root + "/" + path, encoding: .utf8)
        let preview = try RoutePreview.note(at: path, vault: env.vault)
        // A private note reached through an anchored link keeps the task off the cloud, as in the
        // watcher: the task insists on claude, so it is blocked rather than rerouted.
        #expect(preview.facts.privateSources == ["Memory/Diary.md"])
        #expect(preview.decision.action.name == "blocked")
        #expect(preview.decision.verdicts.contains { $0.name == "privacy" && !$0.passed })
        #expect(preview.wontRun == nil)
        #expect(try String(contentsOfFile: env.vault.root + "/" + path, encoding: .utf8) == before)
        // The same words as a bare prompt go where the rules send an unmarked task.
        #expect(RoutePreview.text("Summarise my notes.", vault: env.vault).facts.privateSources.isEmpty)
    }

    @Test func aRoutePreviewOfABrokenNoteSaysWhichLine() throws {
        let env = try EngineTestVault()
        try env.store.create("---\ntype: task\nagent: [unclosed\n---\nbody\n", at: "Tasks/Broken.md")
        #expect(throws: RoutePreviewError.self) { _ = try RoutePreview.note(at: "Tasks/Broken.md", vault: env.vault) }
        do { _ = try RoutePreview.note(at: "Tasks/Broken.md", vault: env.vault) } catch {
            #expect("\(error)".hasPrefix("Tasks/Broken.md: bad frontmatter at line 3:"))
        }
    }
}
